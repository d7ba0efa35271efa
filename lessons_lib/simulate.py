"""The book's running examples, simulated with their true effects. See chapters 01 and 02.

Every generator is seeded (``seed=``) and returns a `Simulation`: the data an analyst
would see, the potential outcomes nobody sees in real life, and the true effects, so a
chapter can put an estimate beside the truth.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd


@dataclass(frozen=True, repr=False)
class Simulation:
    """Simulated data together with the truth behind it.

    Attributes
    ----------
    data : the observed table (covariates, treatment ``T``, outcome ``Y``).
    potential_outcomes : per unit ``Y0``, ``Y1`` and the individual effect ``effect``
        (``Y1 - Y0``), hidden in real life.
    truth : the true effects by name, e.g. ``{"ATE": 4.2, "ATT": ...}``.
    description : one paragraph on how the data were generated.
    """

    data: pd.DataFrame
    potential_outcomes: pd.DataFrame
    truth: dict = field(default_factory=dict)
    description: str = ""

    @property
    def ate(self) -> float:
        return self.truth["ATE"]

    @property
    def att(self) -> float:
        return self.truth["ATT"]

    def __repr__(self) -> str:
        effects = ", ".join(f"{k} = {v:.2f}" for k, v in self.truth.items())
        return f"Simulation(n = {len(self.data):,}; true {effects})"


def _require_n(n: int, minimum: int = 4) -> None:
    if not isinstance(n, (int, np.integer)) or n < minimum:
        raise ValueError(f"n must be a whole number of at least {minimum}; got {n!r}")


def six_shoppers() -> pd.DataFrame:
    """The six shoppers of chapter 01, with both potential outcomes (in dollars).

    Columns: ``name``, ``tier`` (spending tier: "high" or "low"), ``Y0`` (spending
    without the banner), ``Y1`` (with it), ``effect`` (``Y1 - Y0``), ``T`` (who saw the
    banner in the observed world: Alice, Dave and Eve), ``Y`` (the observed spending).

    True effects: ATE = 40 / 6 = $6.67, ATT = 40 / 3 = $13.33, CATE = $4.33 for the
    high tier and $9.00 for the low tier.

    >>> df = six_shoppers()
    >>> round(df["effect"].mean(), 2)
    6.67
    """
    table = pd.DataFrame(
        {
            "name": ["Alice", "Bob", "Carol", "Dave", "Eve", "Frank"],
            "tier": ["high", "low", "high", "low", "low", "high"],
            "Y0": [40, 20, 60, 10, 35, 50],
            "Y1": [55, 22, 58, 30, 40, 50],
            "T": [1, 0, 0, 1, 1, 0],
        }
    )
    table["effect"] = table["Y1"] - table["Y0"]
    table["Y"] = np.where(table["T"] == 1, table["Y1"], table["Y0"])
    return table[["name", "tier", "Y0", "Y1", "effect", "T", "Y"]]


# The banner shop's structural equations, kept as constants so the docstring, the
# simulation and the analytic truth cannot drift apart.
_BANNER_BASE_EFFECT = 5.0  # dollars, for a desktop shopper with average prior spending
_BANNER_SPEND_SLOPE = 0.08  # extra dollars of effect per dollar of prior spending above $50
_BANNER_MOBILE_PENALTY = 2.0  # the banner is smaller on phones
_MOBILE_SHARE = 0.4
BANNER_SHOP_ATE = _BANNER_BASE_EFFECT - _BANNER_MOBILE_PENALTY * _MOBILE_SHARE  # = 4.2


def banner_effect(prior_spend: np.ndarray, mobile: np.ndarray) -> np.ndarray:
    """The banner shop's true conditional effect tau(x) = 5 + 0.08 (prior_spend - 50) - 2 mobile."""
    return (
        _BANNER_BASE_EFFECT
        + _BANNER_SPEND_SLOPE * (np.asarray(prior_spend) - 50.0)
        - _BANNER_MOBILE_PENALTY * np.asarray(mobile)
    )


def banner_shop(n: int = 2_000, *, seed: int = 0, randomized: bool = False) -> Simulation:
    """The banner shop: does showing a promotional banner make shoppers spend more?

    Covariates (pre-treatment):
      ``prior_spend`` dollars spent in the last 90 days, Gamma(2, 25): mean $50;
      ``visits`` visits in the last 30 days, Poisson(1 + prior_spend / 25);
      ``mobile`` 1 if the shopper uses the phone app, Bernoulli(0.4).

    Treatment ``T`` (banner shown):
      randomized=True: a fair coin for everyone, e(X) = 0.5;
      randomized=False (the default): the shop's targeting shows it more to big spenders,
      frequent visitors and app users:
      e(X) = logistic(-0.5 + 0.03 (prior_spend - 50) + 0.2 (visits - 3) + 0.5 mobile).

    Outcome ``Y`` (dollars spent in the next 30 days):
      Y(0) = 20 + 0.5 prior_spend + 1.5 visits - 3 mobile + N(0, 8^2)
      Y(1) = Y(0) + tau(X), with tau(X) = 5 + 0.08 (prior_spend - 50) - 2 mobile.

    Truth: the population ATE is 5 - 2 x 0.4 = $4.20 (``truth["ATE"]``); ``truth["ATT"]``
    and ``truth["sample ATE"]`` are the averages of tau over this sample's treated units
    and over the whole sample. The true propensity is kept in
    ``potential_outcomes["propensity"]``, never in ``data``: analysts must estimate it.

    Because prior spending drives both the banner and the spending, the naive difference in
    means is far above the truth when ``randomized=False``.

    >>> sim = banner_shop(1_000, seed=1)
    >>> sim.ate
    4.2
    """
    _require_n(n)
    rng = np.random.default_rng(seed)
    prior_spend = rng.gamma(shape=2.0, scale=25.0, size=n)
    visits = rng.poisson(1.0 + prior_spend / 25.0)
    mobile = rng.binomial(1, _MOBILE_SHARE, size=n)
    if randomized:
        propensity = np.full(n, 0.5)
    else:
        logit = -0.5 + 0.03 * (prior_spend - 50.0) + 0.2 * (visits - 3.0) + 0.5 * mobile
        propensity = 1.0 / (1.0 + np.exp(-logit))
    treatment = rng.binomial(1, propensity)
    y0 = 20.0 + 0.5 * prior_spend + 1.5 * visits - 3.0 * mobile + rng.normal(0.0, 8.0, size=n)
    effect = banner_effect(prior_spend, mobile)
    y1 = y0 + effect
    observed = np.where(treatment == 1, y1, y0)

    data = pd.DataFrame(
        {
            "prior_spend": prior_spend.round(2),
            "visits": visits,
            "mobile": mobile,
            "T": treatment,
            "Y": observed,
        }
    )
    potential = pd.DataFrame({"Y0": y0, "Y1": y1, "effect": effect, "propensity": propensity})
    truth = {
        "ATE": BANNER_SHOP_ATE,
        "ATT": float(effect[treatment == 1].mean()) if treatment.any() else float("nan"),
        "sample ATE": float(effect.mean()),
    }
    how = "a fair coin" if randomized else "the shop's targeting of big spenders"
    return Simulation(
        data=data,
        potential_outcomes=potential,
        truth=truth,
        description=f"The banner shop: {n:,} shoppers, banner assigned by {how}.",
    )


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
    of ``potential_outcomes["effect"]`` within the cell). Two-way fixed effects is biased here, because later adopters
    are compared with earlier adopters whose effects are still growing.

    Columns: ``unit``, ``period``, ``first_treated`` (NaN if never), ``T``, ``Y``.

    >>> sim = staggered_rollout(seed=0)
    >>> round(sim.truth["ATT"], 2)
    3.19
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


# The loyalty cutoff of chapter 07: the banner is shown to shoppers whose loyalty score
# reaches 70. Constants kept here so the docstring, the simulation and the truth agree.
LOYALTY_CUTOFF = 70.0
LOYALTY_EFFECT_AT_CUTOFF = 10.0  # dollars


def loyalty_effect(loyalty: np.ndarray) -> np.ndarray:
    """The loyalty banner's true effect tau(x) = 10 - 0.01 (x - 70)^2 dollars (chapter 07)."""
    return LOYALTY_EFFECT_AT_CUTOFF - 0.01 * (np.asarray(loyalty, dtype=float) - LOYALTY_CUTOFF) ** 2


def loyalty_cutoff(n: int = 3_000, *, seed: int = 0, design: str = "sharp",
                   manipulation: float = 0.0) -> Simulation:
    """The loyalty cutoff: a banner shown to shoppers with a loyalty score of 70 or more.

    Running variable ``loyalty`` ~ N(70, 15^2), a score the shop computes from past visits.

    Treatment ``T`` (banner shown):
      design="sharp": T = 1{loyalty >= 70}, exactly;
      design="fuzzy": P(T = 1) = 0.8 at or above 70 (some shoppers block banners) and 0.2
      below (some see it through another channel); the first-stage jump is 0.6.

    Outcome ``Y`` (dollars spent in the next 30 days):
      Y(0) = 0.5 loyalty + N(0, 5^2)
      Y(1) = Y(0) + tau(loyalty),  tau(x) = 10 - 0.01 (x - 70)^2,
    so the banner is worth $10 at the cutoff and less for the very loyal, who would have
    bought anyway. Spending rises with loyalty ($0.50 per point), which is why comparing
    raw means on the two sides of the cutoff is biased.

    manipulation: the share (0 to 1) of shoppers scoring within 4 points below 70 who
    push their score just over the line (to a point in [70, 72)) by an extra purchase.
    They are keener shoppers, with Y(0) higher by $5, so manipulation both piles units up
    above the cutoff and breaks the continuity the design relies on.

    Truth: ``truth["effect at the cutoff"]`` = tau(70) = $10, the same in both designs
    (in the fuzzy design it is also the compliers' effect at the cutoff, since the
    effect depends only on loyalty).

    >>> sim = loyalty_cutoff(3_000, seed=42)
    >>> sim.truth["effect at the cutoff"]
    10.0
    """
    _require_n(n)
    if design not in ("sharp", "fuzzy"):
        raise ValueError(f"design must be 'sharp' or 'fuzzy'; got {design!r}")
    if not (isinstance(manipulation, (int, float)) and 0 <= manipulation <= 1):
        raise ValueError(f"manipulation must be a share between 0 and 1; got {manipulation!r}")
    rng = np.random.default_rng(seed)
    loyalty = rng.normal(LOYALTY_CUTOFF, 15.0, size=n)
    just_below = (loyalty >= LOYALTY_CUTOFF - 4) & (loyalty < LOYALTY_CUTOFF)
    movers = just_below & (rng.uniform(size=n) < manipulation)
    loyalty = np.where(movers, LOYALTY_CUTOFF + rng.uniform(0.0, 2.0, size=n), loyalty)
    above = (loyalty >= LOYALTY_CUTOFF).astype(int)
    if design == "sharp":
        treatment = above
    else:
        treatment = rng.binomial(1, np.where(above == 1, 0.8, 0.2))
    y0 = 0.5 * loyalty + 5.0 * movers + rng.normal(0.0, 5.0, size=n)
    effect = loyalty_effect(loyalty)
    y1 = y0 + effect
    observed = np.where(treatment == 1, y1, y0)
    data = pd.DataFrame({"loyalty": loyalty, "T": treatment, "Y": observed})
    potential = pd.DataFrame({"Y0": y0, "Y1": y1, "effect": effect, "manipulated": movers})
    return Simulation(
        data=data,
        potential_outcomes=potential,
        truth={"effect at the cutoff": LOYALTY_EFFECT_AT_CUTOFF},
        description=(f"The loyalty cutoff: {n:,} shoppers, {design} design, "
                     f"{manipulation:.0%} manipulation just below 70."),
    )
