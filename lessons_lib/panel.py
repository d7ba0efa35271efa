"""Difference-in-differences on panels: 2x2, two-way fixed effects, event studies, staggered
adoption. See chapter 05.

The estimand throughout is the average effect on the treated (ATT): how much the treated
units' outcomes changed *because of* the treatment, E[Y(1) - Y(0) | treated, after].
The missing piece, E[Y(0) | treated, after], is imputed from the change the comparison
units went through over the same time, which is right under **parallel trends**: without
treatment, the treated units' average outcome would have moved in step with the
comparison units' average outcome,

    E[Y(0)_after - Y(0)_before | treated] = E[Y(0)_after - Y(0)_before | comparison].

Four estimators, from the simplest to the one that survives staggered adoption:

* `did_2x2`: two groups, two periods; the interaction in
  Y = a + b G + c P + tau (G x P) + e.
* `two_way_fixed_effects`: Y_it = alpha_i + lambda_t + tau D_it + e_it, the textbook
  panel regression, with standard errors clustered by unit.
* `event_study`: the same regression with one coefficient per period relative to
  adoption (leads test parallel trends before adoption; lags trace the effect over time).
* `group_time_effects` and `staggered_did`: Callaway and Sant'Anna's (2021) comparison of
  each adoption cohort with units not yet treated, aggregated to one ATT. Unlike two-way
  fixed effects, it never uses already-treated units as controls, so it stays right when
  effects differ across cohorts or grow over time.

Standard errors are cluster-robust by unit with statsmodels' small-sample factor
G/(G-1) x (N-1)/(N-K), where K counts every fixed effect (the same numbers as a dummy-
variable regression in statsmodels with ``cov_type="cluster"``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from lessons_lib._validate import (
    require_binary,
    require_columns,
    require_frame,
    require_level,
)
from lessons_lib.estimate import Estimate

__all__ = [
    "did_table",
    "did_2x2",
    "two_way_fixed_effects",
    "event_study",
    "group_time_effects",
    "staggered_did",
    "first_treatment_period",
]


# ---------------------------------------------------------------------------------------
# Small helpers: checks, weighted demeaning, least squares with clustered errors


def _require_distinct(names: dict[str, str]) -> None:
    seen: dict[str, str] = {}
    for role, column in names.items():
        if column in seen:
            raise ValueError(
                f"the {role} column and the {seen[column]} column are both '{column}'; "
                "each role needs its own column"
            )
        seen[column] = role


def _weights(data: pd.DataFrame, weights: str | None) -> np.ndarray:
    if weights is None:
        return np.ones(len(data))
    require_columns(data, [weights])
    w = data[weights].to_numpy(dtype=float)
    if (w <= 0).any():
        raise ValueError(
            f"weights column '{weights}' must be positive; found {int((w <= 0).sum())} "
            "zero or negative weight(s). Drop those rows first"
        )
    return w


def _codes(data: pd.DataFrame, column: str) -> tuple[np.ndarray, int]:
    if column not in data.columns:
        raise ValueError(
            f"column '{column}' not found in the data; available columns: {list(data.columns)}"
        )
    if data[column].isna().any():
        raise ValueError(
            f"column '{column}' has {int(data[column].isna().sum())} missing value(s); "
            "every row needs its unit and its period"
        )
    codes, uniques = pd.factorize(data[column], sort=True)
    return codes, len(uniques)


def _demean(matrix: np.ndarray, unit: np.ndarray, n_units: int, time: np.ndarray,
            n_times: int, w: np.ndarray, *, tol: float = 1e-11, max_iter: int = 10_000
            ) -> np.ndarray:
    """Remove weighted unit and time means by alternating projections.

    One sweep is exact for a balanced, unweighted panel; otherwise the sweeps repeat until
    nothing changes (the method of alternating projections converges to the residual of a
    regression on both sets of dummies).
    """
    out = np.array(matrix, dtype=float, copy=True)
    w_unit = np.bincount(unit, weights=w, minlength=n_units)
    w_time = np.bincount(time, weights=w, minlength=n_times)
    scale = np.maximum(np.abs(out).max(axis=0), 1.0)
    for _ in range(max_iter):
        biggest = 0.0
        for codes, totals, size in ((unit, w_unit, n_units), (time, w_time, n_times)):
            for j in range(out.shape[1]):
                means = np.bincount(codes, weights=w * out[:, j], minlength=size) / totals
                step = means[codes]
                out[:, j] -= step
                biggest = max(biggest, float(np.abs(step).max() / scale[j]))
        if biggest < tol:
            return out
    raise ValueError("the fixed-effects demeaning did not converge; is the panel connected?")


def _cluster_ols(x: np.ndarray, y: np.ndarray, w: np.ndarray, clusters: np.ndarray | None,
                 n_params: int) -> tuple[np.ndarray, np.ndarray]:
    """Weighted least squares with a cluster-robust (or HC1) covariance.

    ``n_params`` is K in the small-sample factor: the columns of ``x`` plus any fixed
    effects removed beforehand.
    """
    xw = x * w[:, None]
    xtx = x.T @ xw
    if np.linalg.matrix_rank(xtx) < x.shape[1]:
        raise ValueError(
            "the design is singular: a regressor is constant or a copy of others (after "
            "removing fixed effects). Drop the redundant column"
        )
    bread = np.linalg.inv(xtx)
    beta = bread @ (xw.T @ y)
    resid = y - x @ beta
    scores = xw * resid[:, None]
    n = len(y)
    if clusters is None:
        meat = scores.T @ scores
        factor = n / (n - n_params)
    else:
        codes, uniques = pd.factorize(clusters)
        n_clusters = len(uniques)
        if n_clusters < 2:
            raise ValueError("clustered standard errors need at least 2 clusters")
        summed = np.zeros((n_clusters, x.shape[1]))
        np.add.at(summed, codes, scores)
        meat = summed.T @ summed
        factor = n_clusters / (n_clusters - 1) * (n - 1) / (n - n_params)
    if n <= n_params:
        raise ValueError(f"{n} rows cannot fit {n_params} parameters; add data or drop terms")
    return beta, factor * bread @ meat @ bread


def _interval(value: float, se: float, level: float) -> tuple[float, float]:
    q = stats.norm.ppf(1 - (1 - level) / 2)
    return value - q * se, value + q * se


# ---------------------------------------------------------------------------------------
# Two groups, two periods


def did_table(
    data: pd.DataFrame,
    *,
    outcome: str,
    group: str,
    post: str,
) -> pd.DataFrame:
    """The 2x2 table of mean outcomes: rows are groups, columns before / after / change.

    The difference in differences is the last column's treated row minus its control row.

    >>> df = pd.DataFrame({"Y": [42, 56, 38, 46], "G": [1, 1, 0, 0], "P": [0, 1, 0, 1]})
    >>> did_table(df, outcome="Y", group="G", post="P")["change"].tolist()
    [8.0, 14.0]
    """
    require_frame(data)
    require_columns(data, [outcome])
    g = require_binary(data, group, role="group")
    p = require_binary(data, post, role="period")
    y = data[outcome].to_numpy(dtype=float)
    table = pd.DataFrame(index=pd.Index(["control (G=0)", "treated (G=1)"], name="group"),
                         columns=["before", "after"], dtype=float)
    for gi, label in enumerate(table.index):
        for pi, column in enumerate(table.columns):
            cell = (g == gi) & (p == pi)
            if not cell.any():
                raise ValueError(f"no rows with {group}={gi} and {post}={pi}: a 2x2 "
                                 "difference in differences needs all four cells")
            table.loc[label, column] = y[cell].mean()
    table["change"] = table["after"] - table["before"]
    return table


def did_2x2(
    data: pd.DataFrame,
    *,
    outcome: str,
    group: str,
    post: str,
    cluster: str | None = None,
    level: float = 0.95,
) -> Estimate:
    """Difference in differences for two groups and two periods.

    Estimand: the ATT in the after period, E[Y(1) - Y(0) | G=1, P=1].

    Formula: tau_hat = (mean Y[G=1,P=1] - mean Y[G=1,P=0]) - (mean Y[G=0,P=1] - mean Y[G=0,P=0]),
    which is the OLS coefficient on G x P in Y = a + b G + c P + tau G x P + e. The standard
    error is cluster-robust by ``cluster`` (use the unit id when the same units are seen
    in both periods) or, without it, heteroskedasticity-robust (HC1).

    Assumptions: parallel trends (the control group's change is the treated group's
    change without treatment), no anticipation (treatment does not move the outcome before
    it starts), and the groups' composition does not change between periods.

    Example
    -------
    >>> from lessons_lib import simulate
    >>> sim = simulate.banner_regions(seed=5)
    >>> two = sim.data[sim.data["month"].isin([-1, 0])]
    >>> est = did_2x2(two, outcome="Y", group="region_A", post="post", cluster="shopper")
    >>> est.covers(sim.truth["ATT"])
    True
    """
    require_frame(data)
    require_level(level)
    _require_distinct({"outcome": outcome, "group": group, "period": post})
    did_table(data, outcome=outcome, group=group, post=post)  # checks the columns and the four cells
    g = data[group].to_numpy(dtype=float)
    p = data[post].to_numpy(dtype=float)
    y = data[outcome].to_numpy(dtype=float)
    x = np.column_stack([np.ones(len(y)), g, p, g * p])
    clusters = None
    if cluster is not None:
        if cluster not in data.columns:
            raise ValueError(f"cluster column '{cluster}' not found; available columns: "
                             f"{list(data.columns)}")
        if data[cluster].isna().any():
            raise ValueError(f"cluster column '{cluster}' has missing values")
        clusters = data[cluster].to_numpy()
    beta, cov = _cluster_ols(x, y, np.ones(len(y)), clusters, n_params=4)
    value, se = float(beta[3]), float(np.sqrt(cov[3, 3]))
    return Estimate.from_se(value, se, n=len(y), estimand="ATT", level=level,
                            method="difference in differences (2x2)",
                            extra={"clustered_by": cluster or "none (HC1)"})


# ---------------------------------------------------------------------------------------
# Many periods: two-way fixed effects and the event study


def _panel_arrays(data: pd.DataFrame, outcome: str, unit: str, time: str,
                  weights: str | None) -> tuple:
    require_frame(data)
    require_columns(data, [outcome])
    unit_codes, n_units = _codes(data, unit)
    time_codes, n_times = _codes(data, time)
    if n_units < 2 or n_times < 2:
        raise ValueError(f"a panel needs at least 2 units and 2 periods; found {n_units} "
                         f"unit(s) in '{unit}' and {n_times} period(s) in '{time}'")
    w = _weights(data, weights)
    y = data[outcome].to_numpy(dtype=float)
    return y, unit_codes, n_units, time_codes, n_times, w


def _fe_regression(y: np.ndarray, regressors: np.ndarray, unit: np.ndarray, n_units: int,
                   time: np.ndarray, n_times: int, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    both = _demean(np.column_stack([y, regressors]), unit, n_units, time, n_times, w)
    y_tilde, x_tilde = both[:, 0], both[:, 1:]
    n_params = x_tilde.shape[1] + n_units + n_times - 1
    return _cluster_ols(x_tilde, y_tilde, w, unit, n_params)


def two_way_fixed_effects(
    data: pd.DataFrame,
    *,
    outcome: str,
    treatment: str,
    unit: str,
    time: str,
    covariates: Sequence[str] = (),
    weights: str | None = None,
    level: float = 0.95,
) -> Estimate:
    """The two-way fixed effects (TWFE) difference in differences.

    Model: Y_it = alpha_i + lambda_t + tau D_it + X_it' beta + e_it, fitted by (weighted)
    least squares after removing unit and period means (the within transformation), with
    standard errors clustered by unit.

    Estimand: with one adoption date for all treated units and an effect that is the same
    for every treated unit-period, tau is the ATT. With staggered adoption and effects
    that differ by cohort or grow over time, tau is a weighted average of the cohort-period
    effects whose weights can be negative (Goodman-Bacon, 2021): use `staggered_did`.

    Assumptions: parallel trends, no anticipation, and (for the standard errors) many
    independent units. ``time`` may be any second fixed effect, for example a
    region-by-year code, which compares each treated unit only with units of its region.

    Example
    -------
    >>> from lessons_lib import simulate
    >>> sim = simulate.banner_regions(seed=0)
    >>> est = two_way_fixed_effects(sim.data, outcome="Y", treatment="T", unit="shopper", time="month")
    >>> est.covers(sim.truth["ATT"])
    True
    """
    require_level(level)
    if isinstance(covariates, str):
        raise ValueError("covariates must be a list of column names, e.g. ['income']")
    _require_distinct({"outcome": outcome, "treatment": treatment, "unit": unit, "time": time})
    y, unit_codes, n_units, time_codes, n_times, w = _panel_arrays(data, outcome, unit, time,
                                                                   weights)
    d = require_binary(data, treatment)
    require_columns(data, list(covariates))
    x = np.column_stack([d] + [data[c].to_numpy(dtype=float) for c in covariates])
    d_tilde = _demean(d[:, None].astype(float), unit_codes, n_units, time_codes, n_times, w)
    if np.abs(d_tilde).max() < 1e-9:
        raise ValueError(
            f"treatment '{treatment}' has no variation left after removing unit and period "
            "fixed effects (for example, every unit switches at the same time and none stays "
            "untreated). A difference in differences needs a comparison group"
        )
    beta, cov = _fe_regression(y, x, unit_codes, n_units, time_codes, n_times, w)
    return Estimate.from_se(beta[0], np.sqrt(cov[0, 0]), n=len(y), estimand="ATT",
                            method="two-way fixed effects", level=level,
                            extra={"units": n_units, "periods": n_times,
                                   "clustered_by": unit})


def first_treatment_period(
    data: pd.DataFrame,
    *,
    treatment: str,
    unit: str,
    time: str,
) -> pd.Series:
    """Each row's first period of treatment (NaN for never-treated units).

    Treatment must be absorbing (once on, it stays on); otherwise a ValueError.
    """
    require_frame(data)
    d = require_binary(data, treatment)
    frame = pd.DataFrame({"unit": data[unit].to_numpy(), "time": data[time].to_numpy(), "d": d})
    first = frame[frame["d"] == 1].groupby("unit")["time"].min()
    start = frame["unit"].map(first)
    switched_off = (frame["d"] == 0) & (frame["time"] >= start)
    if switched_off.any():
        raise ValueError(
            f"treatment '{treatment}' switches off again for {frame.loc[switched_off, 'unit'].nunique()} "
            "unit(s); these designs need treatment that stays on once it starts"
        )
    return pd.Series(start.to_numpy(dtype=float), index=data.index, name="first_treated")


def _first_treated(data: pd.DataFrame, first_treated: str) -> np.ndarray:
    if first_treated not in data.columns:
        raise ValueError(f"column '{first_treated}' not found in the data; available columns: "
                         f"{list(data.columns)}")
    raw = data[first_treated]
    values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float, copy=True)
    if (np.isnan(values) & raw.notna().to_numpy()).any():
        raise ValueError(f"column '{first_treated}' must hold the first treated period as a "
                         "number (NaN for never-treated units)")
    return values


def event_study(
    data: pd.DataFrame,
    *,
    outcome: str,
    unit: str,
    time: str,
    first_treated: str,
    leads: int = 4,
    lags: int = 4,
    reference: int = -1,
    weights: str | None = None,
    level: float = 0.95,
) -> pd.DataFrame:
    """An event-study regression: one coefficient per period relative to adoption.

    Model: Y_it = alpha_i + lambda_t + sum_{e != reference} beta_e 1[t - G_i = e] + e_it,
    where G_i is unit i's first treated period (``first_treated``; NaN for units never
    treated). Event times before ``-leads`` are pooled into ``-leads`` and those after
    ``lags`` into ``lags``. Clustered by unit.

    Reading it: beta_e for e < 0 (the leads) should be near 0 if trends were parallel before
    adoption; beta_e for e >= 0 traces the effect e periods after adoption. With staggered
    adoption and effects that differ by cohort these coefficients can be contaminated by
    other periods' effects (Sun and Abraham, 2021).

    Returns a DataFrame with columns ``event_time``, ``estimate``, ``se``, ``ci_low``,
    ``ci_high`` (the reference period is a row of zeros).
    """
    require_level(level)
    if not (isinstance(leads, int) and isinstance(lags, int) and leads >= 1 and lags >= 0):
        raise ValueError("leads must be a whole number >= 1 and lags a whole number >= 0")
    if not -leads <= reference < 0:
        raise ValueError(f"reference must be a pre-treatment event time in [-{leads}, -1]; "
                         f"got {reference}")
    y, unit_codes, n_units, time_codes, n_times, w = _panel_arrays(data, outcome, unit, time,
                                                                   weights)
    start = _first_treated(data, first_treated)
    if np.isnan(start).all():
        raise ValueError(f"no unit is ever treated in '{first_treated}'")
    event = np.clip(data[time].to_numpy(dtype=float) - start, -leads, lags)
    times = [e for e in range(-leads, lags + 1) if e != reference]
    x = np.column_stack([(event == e).astype(float) for e in times])
    empty = [e for e, column in zip(times, x.T, strict=True) if column.sum() == 0]
    if empty:
        raise ValueError(f"no treated observations at event time(s) {empty}; use fewer "
                         "leads or lags")
    beta, cov = _fe_regression(y, x, unit_codes, n_units, time_codes, n_times, w)
    se = np.sqrt(np.diag(cov))
    rows = [(e, float(b), float(s), *_interval(b, s, level)) for e, b, s in
            zip(times, beta, se, strict=True)]
    rows.append((reference, 0.0, 0.0, 0.0, 0.0))
    table = pd.DataFrame(rows, columns=["event_time", "estimate", "se", "ci_low", "ci_high"])
    return table.sort_values("event_time").reset_index(drop=True)


# ---------------------------------------------------------------------------------------
# Staggered adoption: compare each cohort with the not-yet-treated


def _balanced_wide(data: pd.DataFrame, outcome: str, unit: str, time: str,
                   first_treated: str) -> tuple[pd.DataFrame, pd.Series]:
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
    return wide, cohorts


def group_time_effects(
    data: pd.DataFrame,
    *,
    outcome: str,
    unit: str,
    time: str,
    first_treated: str,
    control: str = "not_yet_treated",
    level: float = 0.95,
) -> pd.DataFrame:
    """Callaway and Sant'Anna's group-time effects ATT(g, t), without covariates.

    For the cohort g first treated in period g and any period t:

        ATT(g, t) = mean_{i in cohort g} (Y_it - Y_i,g-1) - mean_{j in C(g,t)} (Y_jt - Y_j,g-1)

    Both averages are changes from the same base period g - 1, the last period before
    the cohort's adoption. The comparison set C(g, t) holds the units not yet treated by
    period max(t, g-1) (``control="not_yet_treated"``, never-treated units included) or
    only the never-treated units (``control="never_treated"``). Cells with t >= g are
    effects; cells with t < g - 1 are placebo checks of parallel trends.

    Standard errors treat units as independent draws: each cell is a difference of two
    means of changes, so its SE is sqrt(var_g / n_g + var_C / n_C) (population variances,
    the HC0 convention of a regression of the change on a cohort dummy).

    Needs a balanced panel with ``first_treated`` constant within a unit (NaN if never
    treated). Returns a DataFrame with ``cohort``, ``time``, ``event_time``, ``att``,
    ``se``, ``ci_low``, ``ci_high``, ``n_treated``, ``n_control``.
    """
    cells, _ = _group_time(data, outcome, unit, time, first_treated, control)
    table = pd.DataFrame([c[:7] for c in cells],
                         columns=["cohort", "time", "event_time", "att", "se", "n_treated",
                                  "n_control"])
    require_level(level)
    low, high = _interval(table["att"].to_numpy(), table["se"].to_numpy(), level)
    table.insert(5, "ci_low", low)
    table.insert(6, "ci_high", high)
    return table


def _group_time(data, outcome, unit, time, first_treated, control):
    if control not in ("not_yet_treated", "never_treated"):
        raise ValueError(f"control must be 'not_yet_treated' or 'never_treated'; got {control!r}")
    wide, cohorts = _balanced_wide(data, outcome, unit, time, first_treated)
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
            mean_t, mean_c = change[treated].mean(), change[comparison].mean()
            n_t, n_c = int(treated.sum()), int(comparison.sum())
            influence = np.zeros(n_units)
            influence[treated] = (change[treated] - mean_t) / n_t
            influence[comparison] = -(change[comparison] - mean_c) / n_c
            se = float(np.sqrt(np.sum(influence**2)))
            cells.append((float(g), float(t), float(t - g), float(mean_t - mean_c), se,
                          n_t, n_c, influence))
    if not cells:
        raise ValueError("no cohort has both a before-period and comparison units; check "
                         f"'{first_treated}' and that some units are untreated")
    return cells, n_units


def staggered_did(
    data: pd.DataFrame,
    *,
    outcome: str,
    unit: str,
    time: str,
    first_treated: str,
    control: str = "not_yet_treated",
    level: float = 0.95,
) -> Estimate:
    """The ATT under staggered adoption: group-time effects averaged over treated cells.

    Estimand: the average effect over all treated unit-periods that have a comparison,
    theta = sum_{g, t >= g} n_g ATT(g, t) / sum_{g, t >= g} n_g (Callaway and Sant'Anna's
    "simple" aggregation), where ATT(g, t) comes from `group_time_effects`.

    Because every comparison is with units not (yet) treated, effects that differ across
    cohorts or grow with time do not leak into the estimate, which is where two-way fixed
    effects goes wrong.

    Standard error: from the sum of the cells' influence functions, unit by unit (a unit's
    changes enter several cells, and this accounts for it); the cohort sizes are treated as
    fixed by design.

    Assumptions: parallel trends between each cohort and its comparison units, no
    anticipation, treatment that stays on, and a balanced panel.

    Example
    -------
    >>> from lessons_lib import simulate
    >>> sim = simulate.staggered_rollout(seed=0)
    >>> est = staggered_did(sim.data, outcome="Y", unit="unit", time="period", first_treated="first_treated")
    >>> est.covers(sim.truth["ATT"])
    True
    """
    require_level(level)
    cells, _ = _group_time(data, outcome, unit, time, first_treated, control)
    post = [c for c in cells if c[1] >= c[0]]
    if not post:
        raise ValueError("no treated cohort-period has a comparison group")
    sizes = np.array([c[5] for c in post], dtype=float)
    weights = sizes / sizes.sum()
    value = float(np.sum(weights * np.array([c[3] for c in post])))
    influence = np.sum([wgt * c[7] for wgt, c in zip(weights, post, strict=True)], axis=0)
    se = float(np.sqrt(np.sum(influence**2)))
    label = "not-yet-treated" if control == "not_yet_treated" else "never-treated"
    return Estimate.from_se(value, se, n=len(data), estimand="ATT", level=level,
                            method=f"group-time DiD, {label} comparisons (Callaway-Sant'Anna)",
                            extra={"cells": len(post), "units": len(cells[0][7])})
