"""Nearest-neighbour matching for the effect on the treated. See chapter 03.

Matching builds, for every treated unit, a comparison from the untreated units that look
most like it: the nearest in the propensity score e(X) = P(T = 1 | X) or in the
covariates themselves. If treatment is unconfounded given X (no unmeasured confounders)
and every treated unit has comparable controls (overlap), the matched controls' outcomes
stand in for the treated units' missing Y(0), and

    ATT = E[Y(1) - Y(0) | T = 1]  is estimated by  (1/N1) sum_{i: T_i = 1} (Y_i - Yhat_i(0)),

with Yhat_i(0) the mean outcome of unit i's matched controls.

Standard errors: the formula of Abadie and Imbens (2006), not the bootstrap, which
Abadie and Imbens (2008) showed to be invalid for nearest-neighbour matching with
replacement (a control reused many times makes the resampled estimator behave unlike the
real one). See `matching_att` for the formula and its one caveat.

Ties: every control as close as the M-th nearest is a match, each weighted 1 / #J_M(i)
(Abadie and Imbens 2006); the search lives in `lessons_lib.neighbors`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace as replace_field

import numpy as np
import pandas as pd

from lessons_lib._inference import ols
from lessons_lib._validate import (
    require_binary,
    require_columns,
    require_frame,
    require_level,
    require_min_group_size,
)
from lessons_lib.estimate import Estimate
from lessons_lib.neighbors import Matches, nearest_neighbors, same_arm_variance
from lessons_lib.propensity import (
    check_overlap,
    estimate_propensity,
    standardized_mean_differences,
)

__all__ = ["Matches", "balance_table", "common_support", "match", "matching_att",
           "nearest_neighbors"]


def _logit(propensity: np.ndarray) -> np.ndarray:
    return np.log(propensity / (1 - propensity))


def common_support(propensity: np.ndarray, treatment: np.ndarray) -> np.ndarray:
    """Which treated units lie on the region of common support, for the ATT.

    The min-max rule (Dehejia and Wahba 1999): a treated unit whose propensity is above the
    highest, or below the lowest, propensity of any control has no control like it, and
    any match it gets is an extrapolation. Returns a boolean array, one per row, True for
    controls and for treated units with min_control <= e(X_i) <= max_control. Dropping the
    others changes the estimand to the ATT on the region of common support. See chapter 03.

    >>> common_support(np.array([0.2, 0.99, 0.3, 0.9]), np.array([1, 1, 0, 0])).tolist()
    [False, False, True, True]
    """
    propensity = np.asarray(propensity, dtype=float)
    treatment = np.asarray(treatment)
    control = propensity[treatment == 0]
    if len(control) == 0:
        raise ValueError("common support needs at least one control unit")
    inside = (propensity >= control.min()) & (propensity <= control.max())
    return inside | (treatment != 1)


def match(
    data: pd.DataFrame,
    *,
    treatment: str,
    covariates: Sequence[str],
    on: str = "propensity",
    propensity: np.ndarray | None = None,
    propensity_model: object | None = None,
    scale: str = "logit",
    n_neighbors: int = 1,
    replace: bool = True,
    caliper: float | None = None,
    trim: bool = False,
) -> Matches:
    """Match treated units to controls on the estimated propensity score or on covariates.

    on="propensity" (the default): e(X) is estimated by
      `lessons_lib.propensity.estimate_propensity` (an unpenalized logistic regression of
      the treatment on ``covariates`` unless you pass any scikit-learn classifier as
      ``propensity_model``), or taken from ``propensity`` when you computed it yourself;
      units are matched on its logit (``scale="logit"``, which spreads out scores near 0
      and 1) or on e(X) itself (``scale="propensity"``).
    on="covariates": units are matched on the covariates divided by their standard
      deviations (Euclidean distance on standardized covariates, as in Abadie and Imbens).

    Ties: every control as close as the M-th nearest joins the match set (see
    `lessons_lib.neighbors.nearest_neighbors`), so the matches do not depend on row order.

    ``caliper`` is in standard deviations of the matching score (0.2 of the logit's SD is
    the common choice, Austin 2011); ``trim=True`` drops the treated units off the common
    support of the propensity score (`common_support`). Either leaves some treated units
    unmatched, which changes the estimand to the effect on the treated units kept.

    Raises ValueError for a non-binary treatment, missing covariates, propensities at 0 or
    1 (no overlap: those treated units have no comparable controls), or impossible
    settings. See chapter 03.
    """
    require_frame(data)
    t = require_binary(data, treatment)
    require_min_group_size(t, 1, column=treatment)
    if isinstance(covariates, str) or len(covariates) == 0:
        raise ValueError("covariates must be a non-empty list of column names, e.g. ['age', 'educ']")
    require_columns(data, list(covariates))
    if on not in ("propensity", "covariates"):
        raise ValueError(f"on must be 'propensity' or 'covariates'; got {on!r}")
    if on == "propensity" or trim:
        if scale not in ("logit", "propensity"):
            raise ValueError(f"scale must be 'logit' or 'propensity'; got {scale!r}")
        if propensity is None:
            propensity = estimate_propensity(data, treatment=treatment, covariates=covariates,
                                             propensity_model=propensity_model)
        propensity = np.asarray(propensity, dtype=float)
        if propensity.shape != (len(data),):
            raise ValueError(
                f"propensity must hold one score per row ({len(data)}); got shape {propensity.shape}"
            )
        check_overlap(propensity)
    if on == "propensity":
        score = _logit(propensity) if scale == "logit" else propensity
    else:
        x = data[list(covariates)].to_numpy(dtype=float)
        spread = x.std(axis=0, ddof=1)
        if (spread == 0).any():
            constant = [c for c, s in zip(covariates, spread, strict=True) if s == 0]
            raise ValueError(f"covariate(s) {constant} do not vary; drop them before matching")
        score = x / spread
    width = None
    if caliper is not None:
        if not (isinstance(caliper, (int, float)) and caliper > 0):
            raise ValueError(f"caliper must be a positive number of standard deviations; got {caliper!r}")
        spread = score.std(ddof=1) if score.ndim == 1 else 1.0
        width = caliper * spread
    off_support = np.zeros(len(t), dtype=bool)
    if trim:
        off_support = ~common_support(propensity, t)
        if off_support.sum() == (t == 1).sum():
            raise ValueError("no treated unit lies on the common support; matching has nothing to compare")
    coded = np.where(off_support, -1, t)  # off-support treated units join neither arm
    matches = nearest_neighbors(score, coded, n_neighbors=n_neighbors, replace=replace,
                                caliper=width)
    if off_support.any():
        unmatched = np.sort(np.r_[matches.unmatched, np.flatnonzero(off_support)])
        matches = replace_field(matches, unmatched=unmatched)
    return matches


def matching_att(
    data: pd.DataFrame,
    *,
    outcome: str,
    treatment: str,
    covariates: Sequence[str],
    on: str = "propensity",
    propensity: np.ndarray | None = None,
    propensity_model: object | None = None,
    scale: str = "logit",
    n_neighbors: int = 1,
    replace: bool = True,
    caliper: float | None = None,
    trim: bool = False,
    bias_correction: bool = False,
    level: float = 0.95,
) -> Estimate:
    """Nearest-neighbour matching estimate of the ATT, with the Abadie-Imbens standard error.

    Estimand: ATT = E[Y(1) - Y(0) | T = 1] (with a caliper or ``trim=True`` that drops
    treated units: the ATT over the treated units kept).

    Formula (Abadie and Imbens 2006): match each treated unit i to J_M(i), its
    M = ``n_neighbors`` nearest controls and every control tied with the M-th (see
    `match`), then

        tau_hat = (1/N1) sum_i (Y_i - Yhat_i(0)),   Yhat_i(0) = (1/#J_M(i)) sum_{j in J_M(i)} Y_j.

    Standard error (Abadie and Imbens 2006, Theorem 7, for the population ATT): with
    K_M(j) = sum_i 1{j in J_M(i)} / #J_M(i) the weight of control j in the matched sample,
    K'_M(j) = sum_i 1{j in J_M(i)} / #J_M(i)^2, and sigma_j^2 its outcome variance
    estimated from its own nearest fellow controls (with ties,
    `lessons_lib.neighbors.same_arm_variance`),

        V = (1/N1^2) [ sum_i (Y_i - Yhat_i(0) - tau_hat)^2 + sum_j (K_M(j)^2 - K'_M(j)) sigma_j^2 ].

    The first sum treats each treated unit's comparison as independent; the second adds
    the covariance created when controls are reused (it is zero without replacement).
    Without ties, K_M(j)^2 - K'_M(j) = K_j (K_j - 1) / M^2 with K_j the number of uses.
    The naive bootstrap is not used: it is invalid for nearest-neighbour matching (Abadie
    and Imbens 2008).

    Bias correction (``bias_correction=True``, Abadie and Imbens 2011): matches are never
    exact, and where controls are sparse the matched control differs systematically from
    its treated unit. Fit mu0(x), a linear regression of Y on the covariates among the
    matched controls (weighted by K_M(j)), and use Yhat_i(0) = sum_j [Y_j + mu0(X_i) -
    mu0(X_j)] / #J_M(i): each control's outcome is moved to its treated unit's covariates.

    Assumptions: no unmeasured confounding given the covariates, overlap (every treated
    unit has similar controls), and a correct propensity model when matching on it. The
    variance treats the matching score as known; Abadie and Imbens (2016) show that
    estimating the propensity changes the ATT's variance by a term of either sign (for the
    ATE it can only lower it), so the interval is approximate; its coverage is checked in
    simulation by the library's tests. See chapter 03.

    >>> from lessons_lib import simulate
    >>> sim = simulate.banner_shop(2_000, seed=23)
    >>> est = matching_att(sim.data, outcome="Y", treatment="T",
    ...                    covariates=["prior_spend", "visits", "mobile"], bias_correction=True)
    >>> est.covers(sim.att)
    True
    """
    require_frame(data)
    require_level(level)
    require_columns(data, [outcome])
    if outcome in covariates or treatment in covariates:
        raise ValueError("covariates must not include the treatment or the outcome column")
    matches = match(data, treatment=treatment, covariates=covariates, on=on,
                    propensity=propensity, propensity_model=propensity_model, scale=scale,
                    n_neighbors=n_neighbors, replace=replace, caliper=caliper, trim=trim)
    n_matched = len(matches.treated)
    if n_matched < 2:
        raise ValueError(
            f"only {n_matched} treated unit(s) found a control within the caliper; a standard "
            "error needs at least 2. Widen the caliper (or drop it)"
        )
    y = data[outcome].to_numpy(dtype=float)
    imputed = matches.mean_of_matches(y)
    if bias_correction:
        imputed = imputed + _regression_adjustment(data, covariates, y, matches)
    gaps = y[matches.treated] - imputed
    tau = float(gaps.mean())

    weight = matches.control_weights
    weight_squared = np.bincount(matches.controls, weights=matches.pair_weights**2,
                                 minlength=matches.n)
    used = np.flatnonzero(weight)
    covariance = weight[used] ** 2 - weight_squared[used]
    covariance_term = 0.0
    if np.any(covariance > 1e-12):
        controls = np.flatnonzero(data[treatment].to_numpy() == 0)
        if len(controls) < 2:
            raise ValueError("a standard error needs at least 2 control units")
        sigma2 = same_arm_variance(matches.points, y, controls, which=used)
        covariance_term = float(np.sum(covariance * sigma2))
    se = float(np.sqrt((np.sum((gaps - tau) ** 2) + covariance_term) / n_matched**2))
    if not se > 0:
        raise ValueError(
            f"outcome '{outcome}' gives a standard error of 0 (no variation in the matched "
            "differences); check the outcome column"
        )
    what = "propensity score" if on == "propensity" else "covariates"
    what += ", bias-corrected" if bias_correction else ""
    how = "with" if replace else "without"
    estimand = "ATT"
    if len(matches.unmatched):
        estimand = "ATT (common support)" if trim and caliper is None else "ATT (matched treated)"
    distinct = len(used)
    return Estimate.from_se(
        tau,
        se,
        n=n_matched + distinct,
        estimand=estimand,
        method=f"1:{n_neighbors} nearest-neighbour matching on the {what}, {how} replacement, "
               "ties averaged (Abadie-Imbens SE)",
        level=level,
        extra={
            "treated_matched": n_matched,
            "treated_unmatched": len(matches.unmatched),
            "distinct_controls": distinct,
            "treated_with_ties": int(np.count_nonzero(matches.set_sizes > n_neighbors)),
        },
    )


def _regression_adjustment(
    data: pd.DataFrame, covariates: Sequence[str], y: np.ndarray, matches: Matches
) -> np.ndarray:
    """sum_j [mu0(X_i) - mu0(X_j)] / #J_M(i) for each matched treated unit i (Abadie-Imbens
    2011), mu0 the least-squares fit of Y on the covariates among the matched controls,
    weighted by K_M(j)."""
    x = np.column_stack([np.ones(len(data)), data[list(covariates)].to_numpy(dtype=float)])
    weight = matches.control_weights
    used = np.flatnonzero(weight)
    fit = ols(y[used], x[used], weights=weight[used], cov_type="nonrobust",
              names=["const", *covariates],
              what=f"the bias-correction regression on the {len(used)} matched controls "
                   "(use fewer covariates or bias_correction=False)")
    coefficients = np.asarray(fit.params)
    fitted = x @ coefficients
    return fitted[matches.treated] - matches.mean_of_matches(fitted)


def balance_table(
    data: pd.DataFrame,
    *,
    treatment: str,
    covariates: Sequence[str],
    matches: Matches,
) -> pd.DataFrame:
    """Standardized mean differences of each covariate before and after matching.

    Uses `lessons_lib.propensity.standardized_mean_differences`; "after" weights the
    matched sample by `Matches.weights`, on the same (unmatched) pooled-SD scale, so the
    two columns are comparable. |SMD| below 0.1 is the usual mark of balance. See chapter 03.
    """
    before = standardized_mean_differences(data, treatment=treatment, covariates=covariates)
    after = standardized_mean_differences(data, treatment=treatment, covariates=covariates,
                                          weights=matches.weights)
    return pd.DataFrame({"before": before, "after": after})
