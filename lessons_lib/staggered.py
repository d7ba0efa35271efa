"""Staggered adoption: Callaway and Sant'Anna's group-time effects and their aggregations.
See chapter 05.

When units adopt a treatment at different times and its effect differs across cohorts or
grows with time, two-way fixed effects and its event study (`lessons_lib.panel`) compare
late adopters with early adopters whose effect is still unfolding, and their coefficients
mix effects of other periods and cohorts, sometimes with negative weights
(Goodman-Bacon, 2021; Sun and Abraham, 2021). Callaway and Sant'Anna (2021) never make
that comparison: each cohort g is compared, period by period, with units not yet (or
never) treated, from the base period g - 1.

* `group_time_effects`: every ATT(g, t), with its standard error.
* `staggered_did`: their average over treated cells (one ATT).
* `event_time_effects`: their average by event time e = t - g (the heterogeneity-robust
  event study: leads e < -1 are placebo checks of parallel trends, lags e >= 0 the
  effect's path).

Optional unit weights (for example state population) turn every mean into a weighted
mean and every cohort size into a cohort weight. Standard errors come from the influence
functions of those means, summed unit by unit, with the weights and the cohort shares
treated as fixed (the `did` R package also adds the estimation error of the cohort
shares to its aggregations, which makes its SEs slightly larger).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lessons_lib._validate import require_columns, require_frame, require_level
from lessons_lib.estimate import Estimate
from lessons_lib.panel import _codes, _first_treated, _interval

__all__ = ["group_time_effects", "staggered_did", "event_time_effects"]


def _balanced_wide(data: pd.DataFrame, outcome: str, unit: str, time: str,
                   first_treated: str, weights: str | None
                   ) -> tuple[pd.DataFrame, pd.Series, np.ndarray]:
    require_frame(data)
    require_columns(data, [outcome, time])
    _codes(data, unit)
    if data.duplicated([unit, time]).any():
        raise ValueError(f"some ({unit}, {time}) pairs appear more than once; a panel has one "
                         "row per unit and period")
    wide = data.pivot(index=unit, columns=time, values=outcome)
    if wide.isna().any().any():
        raise ValueError(f"the panel is unbalanced: {int(wide.isna().sum().sum())} "
                         "unit-period cells are missing. Keep units seen in every period")
    start = pd.Series(_first_treated(data, first_treated), index=data[unit].to_numpy())
    if (start.groupby(level=0).nunique(dropna=False) > 1).any():
        raise ValueError(f"'{first_treated}' must be the same in every row of a unit")
    cohorts = start.groupby(level=0).first().reindex(wide.index)
    periods = wide.columns.to_numpy(dtype=float)
    if (cohorts <= periods.min()).any():
        raise ValueError("some units are treated from the first period on, so they have no "
                         "before-period: drop them (they cannot be compared)")
    if weights is None:
        unit_weights = np.ones(len(wide))
    else:
        require_columns(data, [weights])
        per_unit = data.groupby(unit)[weights]
        if (per_unit.nunique() > 1).any():
            raise ValueError(f"weights '{weights}' must be constant within a unit (for example "
                             "the population in a base year)")
        unit_weights = per_unit.first().reindex(wide.index).to_numpy(dtype=float)
        if not (unit_weights > 0).all():
            raise ValueError(f"weights '{weights}' must be positive for every unit")
    return wide, cohorts, unit_weights


def _group_time(data, outcome, unit, time, first_treated, control, weights=None):
    if control not in ("not_yet_treated", "never_treated"):
        raise ValueError(f"control must be 'not_yet_treated' or 'never_treated'; got {control!r}")
    wide, cohorts, w = _balanced_wide(data, outcome, unit, time, first_treated, weights)
    periods = wide.columns.to_numpy(dtype=float)
    values = wide.to_numpy(dtype=float)
    g_all = cohorts.to_numpy(dtype=float)
    never = np.isnan(g_all)
    n_units = len(g_all)
    cells = []
    for g in np.unique(g_all[~never]):
        if g - 1 not in periods:
            continue
        base = int(np.flatnonzero(periods == g - 1)[0])
        treated = g_all == g
        for k, t in enumerate(periods):
            if t == g - 1:
                continue
            if control == "never_treated":
                comparison = never.copy()
            else:
                comparison = never | (g_all > max(t, g - 1))
            comparison &= ~treated
            if comparison.sum() < 2 or treated.sum() < 1:
                continue
            change = values[:, k] - values[:, base]
            w_t, w_c = w[treated].sum(), w[comparison].sum()
            mean_t = np.sum(w[treated] * change[treated]) / w_t
            mean_c = np.sum(w[comparison] * change[comparison]) / w_c
            influence = np.zeros(n_units)
            influence[treated] = w[treated] * (change[treated] - mean_t) / w_t
            influence[comparison] = -w[comparison] * (change[comparison] - mean_c) / w_c
            se = float(np.sqrt(np.sum(influence**2)))
            cells.append((float(g), float(t), float(t - g), float(mean_t - mean_c), se,
                          int(treated.sum()), int(comparison.sum()), influence, float(w_t)))
    if not cells:
        raise ValueError("no cohort has both a before-period and comparison units; check "
                         f"'{first_treated}' and that some units are untreated")
    return cells, n_units


def group_time_effects(
    data: pd.DataFrame,
    *,
    outcome: str,
    unit: str,
    time: str,
    first_treated: str,
    control: str = "not_yet_treated",
    weights: str | None = None,
    level: float = 0.95,
) -> pd.DataFrame:
    """Callaway and Sant'Anna's group-time effects ATT(g, t), without covariates.

    For the cohort g first treated in period g and any period t:

        ATT(g, t) = mean_{i in cohort g} (Y_it - Y_i,g-1) - mean_{j in C(g,t)} (Y_jt - Y_j,g-1)

    Both averages are changes from the same base period g - 1, the last period before
    the cohort's adoption (weighted means when ``weights`` names a column that is constant
    within a unit). The comparison set C(g, t) holds the units not yet treated by period
    max(t, g-1) (``control="not_yet_treated"``, never-treated units included) or only the
    never-treated units (``control="never_treated"``). Cells with t >= g are effects;
    cells with t < g - 1 are placebo checks of parallel trends (long differences against
    the same base period g - 1, the "universal" base of the `did` R package).

    Standard errors treat units as independent draws: each cell is a difference of two
    means of changes, so its SE is sqrt(var_g / n_g + var_C / n_C) (population variances,
    the HC0 convention of a regression of the change on a cohort dummy).

    Needs a balanced panel with ``first_treated`` constant within a unit (NaN if never
    treated). Returns a DataFrame with ``cohort``, ``time``, ``event_time``, ``att``,
    ``se``, ``ci_low``, ``ci_high``, ``n_treated``, ``n_control``. See chapter 05.

    >>> from lessons_lib import simulate
    >>> sim = simulate.staggered_rollout(seed=0)
    >>> cells = group_time_effects(sim.data, outcome="Y", unit="unit", time="period", first_treated="first_treated")
    >>> sorted(cells["cohort"].unique().tolist())
    [3.0, 7.0]
    """
    require_level(level)
    cells, _ = _group_time(data, outcome, unit, time, first_treated, control, weights)
    table = pd.DataFrame([c[:7] for c in cells],
                         columns=["cohort", "time", "event_time", "att", "se", "n_treated",
                                  "n_control"])
    low, high = _interval(table["att"].to_numpy(), table["se"].to_numpy(), level)
    table.insert(5, "ci_low", low)
    table.insert(6, "ci_high", high)
    return table


def _label(control: str) -> str:
    return "not-yet-treated" if control == "not_yet_treated" else "never-treated"


def staggered_did(
    data: pd.DataFrame,
    *,
    outcome: str,
    unit: str,
    time: str,
    first_treated: str,
    control: str = "not_yet_treated",
    weights: str | None = None,
    level: float = 0.95,
) -> Estimate:
    """The ATT under staggered adoption: group-time effects averaged over treated cells.

    Estimand: the average effect over all treated unit-periods that have a comparison,
    theta = sum_{g, t >= g} n_g ATT(g, t) / sum_{g, t >= g} n_g (Callaway and Sant'Anna's
    "simple" aggregation; n_g is the cohort's total weight when ``weights`` is given),
    where ATT(g, t) comes from `group_time_effects`.

    Because every comparison is with units not (yet) treated, effects that differ across
    cohorts or grow with time do not leak into the estimate, which is where two-way fixed
    effects goes wrong.

    Standard error: from the sum of the cells' influence functions, unit by unit (a unit's
    changes enter several cells, and this accounts for it); the cohort sizes are treated as
    fixed by design.

    Assumptions: parallel trends between each cohort and its comparison units, no
    anticipation, treatment that stays on, and a balanced panel. See chapter 05.

    Example
    -------
    >>> from lessons_lib import simulate
    >>> sim = simulate.staggered_rollout(seed=0)
    >>> est = staggered_did(sim.data, outcome="Y", unit="unit", time="period", first_treated="first_treated")
    >>> est.covers(sim.truth["ATT"])
    True
    """
    require_level(level)
    cells, _ = _group_time(data, outcome, unit, time, first_treated, control, weights)
    post = [c for c in cells if c[1] >= c[0]]
    if not post:
        raise ValueError("no treated cohort-period has a comparison group")
    sizes = np.array([c[8] for c in post], dtype=float)
    shares = sizes / sizes.sum()
    value = float(np.sum(shares * np.array([c[3] for c in post])))
    influence = np.sum([share * c[7] for share, c in zip(shares, post, strict=True)], axis=0)
    se = float(np.sqrt(np.sum(influence**2)))
    return Estimate.from_se(value, se, n=len(data), estimand="ATT", level=level,
                            method=f"group-time DiD, {_label(control)} comparisons "
                                   "(Callaway-Sant'Anna)",
                            extra={"cells": len(post), "units": len(cells[0][7]),
                                   "weights": weights or "none"})


def event_time_effects(
    data: pd.DataFrame,
    *,
    outcome: str,
    unit: str,
    time: str,
    first_treated: str,
    control: str = "not_yet_treated",
    weights: str | None = None,
    leads: int | None = None,
    lags: int | None = None,
    level: float = 0.95,
) -> pd.DataFrame:
    """A heterogeneity-robust event study: group-time effects averaged by event time.

    Estimand, for each event time e = t - g:

        theta(e) = sum_g n_g ATT(g, g + e) / sum_g n_g,

    over the cohorts g that have a cell at e (Callaway and Sant'Anna's "dynamic"
    aggregation; n_g is the cohort's size or total weight). Every ATT(g, t) compares the
    cohort with not-yet- (or never-) treated units from the base period g - 1, so, unlike
    the two-way fixed-effects event study, no theta(e) borrows already-treated units as
    controls or mixes in other event times' effects. e = -1 is the base (a row of zeros);
    theta(e) for e <= -2 are placebo leads (long differences to g - 1), which should be near
    zero under parallel trends and no anticipation; theta(e) for e >= 0 trace the effect.
    The set of cohorts changes with e (late cohorts have few lags, early ones few leads):
    read the path with that in mind.

    ``leads`` / ``lags`` (optional) keep only -leads <= e <= lags. The SE of theta(e)
    comes from the weighted sum of the cells' influence functions, unit by unit.

    Returns a DataFrame with ``event_time``, ``estimate``, ``se``, ``ci_low``, ``ci_high``,
    ``cohorts`` (how many cohorts enter). See chapter 05.

    >>> from lessons_lib import simulate
    >>> sim = simulate.staggered_rollout(seed=0)
    >>> path = event_time_effects(sim.data, outcome="Y", unit="unit", time="period", first_treated="first_treated")
    >>> float(path.loc[path["event_time"] == -1, "estimate"].iloc[0])
    0.0
    """
    require_level(level)
    for name, value in (("leads", leads), ("lags", lags)):
        if value is not None and not (isinstance(value, int) and value >= 0):
            raise ValueError(f"{name} must be a whole number >= 0 or None; got {value!r}")
    cells, _ = _group_time(data, outcome, unit, time, first_treated, control, weights)
    rows = []
    for e in sorted({c[2] for c in cells}):
        if (leads is not None and e < -leads) or (lags is not None and e > lags):
            continue
        at_e = [c for c in cells if c[2] == e]
        sizes = np.array([c[8] for c in at_e])
        shares = sizes / sizes.sum()
        value = float(np.sum(shares * np.array([c[3] for c in at_e])))
        influence = np.sum([s * c[7] for s, c in zip(shares, at_e, strict=True)], axis=0)
        se = float(np.sqrt(np.sum(influence**2)))
        rows.append((int(e), value, se, *_interval(value, se, level), len(at_e)))
    if leads is None or leads >= 1:
        rows.append((-1, 0.0, 0.0, 0.0, 0.0, 0))
    return pd.DataFrame(sorted(rows), columns=["event_time", "estimate", "se", "ci_low",
                                               "ci_high", "cohorts"])
