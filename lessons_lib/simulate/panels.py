"""Panels for difference in differences: two regions and a staggered rollout (chapter 05)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from lessons_lib.simulate._core import Simulation, _require_n

__all__ = ['banner_regions', 'staggered_rollout', 'BANNER_REGIONS_ATT']


# ---------------------------------------------------------------------------------------
# Chapter 05: difference in differences

# Mean spending (dollars) in December, the month before the launch, and the months' common
# shocks; January (month 0) is the launch month of the banner in region A.
_REGION_LEVEL = {"A": 42.0, "B": 38.0}
_MONTH_SHOCK = {-6: -4.0, -5: -3.0, -4: -3.0, -3: -2.0, -2: -1.0, -1: 0.0, 0: 8.0, 1: 5.0,
                2: 4.0}
BANNER_REGIONS_ATT = 6.0


def banner_regions(n_per_region: int = 400, *, seed: int = 0, trend_gap: float = 0.0,
                   months: tuple[int, int] = (-6, 2)) -> Simulation:
    """The banner launch in region A, with region B as the comparison. See chapter 05.

    A panel of shoppers observed monthly; ``month`` counts months from the launch
    (January = 0, December = -1). Region A's shoppers see the banner from month 0 on.

    Untreated spending (dollars):
      Y(0)_it = level_region + shopper_i + shock_month + trend_gap x (month + 1) x [region A]
                + N(0, 6^2),
    with level 42 in A and 38 in B, shopper_i ~ N(0, 12^2), and shocks common to both
    regions (0 in December, +8 in January). Y(1) = Y(0) + 6 in region A from month 0.

    With ``trend_gap=0`` trends are parallel and the expected 2x2 table is the chapter's:
    A $42 -> $56, B $38 -> $46, so DiD = 14 - 8 = $6 = ``truth["ATT"]``. A positive
    ``trend_gap`` makes region A's untreated spending grow that many dollars a month
    faster than B's: parallel trends fail and the December-January DiD is biased by
    ``trend_gap``.

    Columns: ``shopper``, ``region`` ("A"/"B"), ``region_A`` (1 for A), ``month``,
    ``post`` (month >= 0), ``T`` (region A and post), ``first_treated`` (0 for A's
    shoppers, NaN for B's), ``Y``.

    >>> sim = banner_regions(seed=1)
    >>> sim.truth["ATT"]
    6.0
    """
    _require_n(n_per_region, 2)
    first, last = months
    if not (first <= -1 and last >= 0 and first in _MONTH_SHOCK and last in _MONTH_SHOCK):
        raise ValueError("months must run from between -6 and -1 to between 0 and 2")
    rng = np.random.default_rng(seed)
    month_values = np.arange(first, last + 1)
    n = 2 * n_per_region
    region = np.repeat(np.array(["A", "B"]), n_per_region)
    shopper_effect = rng.normal(0.0, 12.0, size=n)
    rows = len(month_values)
    shopper = np.repeat(np.arange(n), rows)
    month = np.tile(month_values, n)
    region_rows = np.repeat(region, rows)
    in_a = (region_rows == "A").astype(int)
    level = np.where(in_a == 1, _REGION_LEVEL["A"], _REGION_LEVEL["B"])
    shock = np.array([_MONTH_SHOCK[m] for m in month])
    y0 = (level + np.repeat(shopper_effect, rows) + shock + trend_gap * (month + 1) * in_a
          + rng.normal(0.0, 6.0, size=n * rows))
    post = (month >= 0).astype(int)
    treated = in_a * post
    effect = BANNER_REGIONS_ATT * treated
    y1 = y0 + BANNER_REGIONS_ATT
    data = pd.DataFrame({
        "shopper": shopper,
        "region": region_rows,
        "region_A": in_a,
        "month": month,
        "post": post,
        "T": treated,
        "first_treated": np.where(in_a == 1, 0.0, np.nan),
        "Y": y0 + effect,
    })
    potential = pd.DataFrame({"Y0": y0, "Y1": y1, "effect": effect})
    return Simulation(
        data=data,
        potential_outcomes=potential,
        truth={"ATT": BANNER_REGIONS_ATT},
        description=(f"The banner launch: {n_per_region:,} shoppers per region, months "
                     f"{first} to {last}, trend gap ${trend_gap:.2f} a month."),
    )


def staggered_rollout(n_units: int = 300, *, seed: int = 0, periods: int = 10,
                      cohorts: dict | None = None, effect_start: float = 1.0,
                      effect_growth: float = 0.5, noise_sd: float = 1.0) -> Simulation:
    """Stores adopting a loyalty app at different times: staggered adoption. See chapter 05.

    Units are split deterministically into cohorts by the share given in ``cohorts``
    (first treated period -> share; the rest never adopt). Default: 40% adopt in period 3,
    30% in period 7, 30% never.

    Y(0)_it = unit_i + 0.3 t + N(0, noise_sd^2), unit_i ~ N(0, 1), for t = 1..``periods``.
    The effect of adoption grows with exposure and is larger for earlier adopters:
      tau_it = (effect_start + effect_growth x (t - g_i)) x (1 + 0.5 [g_i is the earliest cohort])
    for t >= g_i, the unit's first treated period.

    Truth: ``truth["ATT"]`` is the average of tau over all treated unit-periods, the
    estimand of `lessons_lib.panel.staggered_did` (each cohort-period's effect is the mean
    of ``potential_outcomes["effect"]`` within the cell). Two-way fixed effects is biased
    here, because later adopters are compared with earlier adopters whose effects are
    still growing.

    Columns: ``unit``, ``period``, ``first_treated`` (NaN if never), ``T``, ``Y``.

    >>> sim = staggered_rollout(seed=0)
    >>> round(sim.truth["ATT"], 2)
    3.48
    """
    _require_n(n_units, 10)
    shares = {3: 0.4, 7: 0.3} if cohorts is None else dict(cohorts)
    if sum(shares.values()) >= 1 or min(shares.values()) <= 0:
        raise ValueError("cohort shares must be positive and leave some units never treated")
    if min(shares) < 2 or max(shares) > periods:
        raise ValueError(f"cohort periods must be between 2 and {periods}")
    rng = np.random.default_rng(seed)
    sizes = {g: int(round(share * n_units)) for g, share in sorted(shares.items())}
    first = np.full(n_units, np.nan)
    position = 0
    for g, size in sizes.items():
        first[position:position + size] = g
        position += size
    earliest = min(sizes)
    period = np.tile(np.arange(1, periods + 1), n_units)
    unit = np.repeat(np.arange(n_units), periods)
    g_rows = np.repeat(first, periods)
    unit_effect = np.repeat(rng.normal(0.0, 1.0, size=n_units), periods)
    y0 = unit_effect + 0.3 * period + rng.normal(0.0, noise_sd, size=n_units * periods)
    treated = (~np.isnan(g_rows) & (period >= g_rows)).astype(int)
    exposure = np.where(treated == 1, period - np.nan_to_num(g_rows), 0.0)
    boost = np.where(g_rows == earliest, 1.5, 1.0)
    tau = (effect_start + effect_growth * exposure) * boost
    effect = np.where(treated == 1, tau, 0.0)
    data = pd.DataFrame({"unit": unit, "period": period, "first_treated": g_rows,
                         "T": treated, "Y": y0 + effect})
    potential = pd.DataFrame({"Y0": y0, "Y1": y0 + tau, "effect": effect})
    att = float(effect[treated == 1].mean())
    return Simulation(
        data=data,
        potential_outcomes=potential,
        truth={"ATT": att},
        description=(f"Staggered rollout: {n_units} units, {periods} periods, cohorts "
                     f"{sizes} and {n_units - sum(sizes.values())} never treated."),
    )
