"""Propensity scores and covariate balance. See chapters 03 and 04.

The propensity score e(x) = P(T = 1 | X = x) is the probability of treatment given the
covariates. Rosenbaum and Rubin (1983) showed that when treatment is unconfounded given
X, it is also unconfounded given e(X) alone, which is why matching and weighting can
work on this one number instead of on every covariate.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.base import clone

from lessons_lib._inference import fit_logistic
from lessons_lib._validate import require_binary, require_columns, require_frame


def _covariate_matrix(data: pd.DataFrame, covariates: Sequence[str]) -> np.ndarray:
    if isinstance(covariates, str) or not len(covariates):
        raise ValueError("covariates must be a non-empty list of column names, e.g. ['age', 'income']")
    require_columns(data, list(covariates))
    return data[list(covariates)].to_numpy(dtype=float)


def estimate_propensity(
    data: pd.DataFrame,
    *,
    treatment: str,
    covariates: Sequence[str],
    propensity_model: object | None = None,
) -> np.ndarray:
    """Estimate e(x) = P(T = 1 | X = x) for every row.

    ``propensity_model`` is any scikit-learn classifier with ``predict_proba`` (cloned, so the one you
    pass is not changed). By default, the textbook propensity model: an unpenalized
    logistic regression fitted exactly by Newton's method (`logistic_propensity`), which
    equals statsmodels' ``Logit``; scikit-learn's first-order solvers can stop short of the
    maximum on covariates of very different scales (dollars next to 0/1 indicators).

    Raises a ValueError when the treatment is not 0/1 or covariates are missing or not
    numeric.

    >>> from lessons_lib import simulate
    >>> sim = simulate.banner_shop(2_000, seed=0)
    >>> e = estimate_propensity(sim.data, treatment="T", covariates=["prior_spend", "visits", "mobile"])
    >>> bool(((e > 0) & (e < 1)).all())
    True
    """
    if propensity_model is None:  # the textbook model, fitted exactly (Newton's method)
        return logistic_propensity(data, treatment=treatment, covariates=covariates)
    require_frame(data)
    t = require_binary(data, treatment)
    x = _covariate_matrix(data, covariates)
    fitted = clone(propensity_model)
    if not hasattr(fitted, "predict_proba"):
        raise ValueError(
            f"the propensity model must be a classifier with predict_proba; got {type(propensity_model).__name__}"
        )
    fitted.fit(x, t)
    return fitted.predict_proba(x)[:, 1]


def check_overlap(propensity: np.ndarray, *, low: float = 0.0, high: float = 1.0) -> None:
    """Raise a ValueError when a propensity is at (or beyond) ``low`` or ``high``.

    With ``low=0, high=1`` this catches exact 0s and 1s: units whose treatment the
    covariates determine, for whom no comparison exists (positivity fails).
    """
    propensity = np.asarray(propensity, dtype=float)
    if not np.isfinite(propensity).all():
        raise ValueError("propensity scores contain NaN or infinite values")
    outside = (propensity <= low) | (propensity >= high)
    if outside.any():
        raise ValueError(
            f"no overlap: {int(outside.sum())} unit(s) have a propensity score at or beyond "
            f"[{low}, {high}] (min {propensity.min():.3g}, max {propensity.max():.3g}); "
            "positivity fails for them. Trim those units, coarsen the covariates, or change "
            "the estimand (for example to the ATT)"
        )


def standardized_mean_differences(
    data: pd.DataFrame,
    *,
    treatment: str,
    covariates: Sequence[str],
    weights: np.ndarray | None = None,
) -> pd.Series:
    """Standardized mean difference of each covariate between treated and control.

    SMD = (mean_treated - mean_control) / sqrt((var_treated + var_control) / 2), with
    means (and, by the usual convention, the unweighted variances of the full groups in
    the denominator) so that weighted and unweighted SMDs share one scale
    (Austin, 2011). |SMD| < 0.1 is the common rule of thumb for balance.
    """
    require_frame(data)
    t = require_binary(data, treatment)
    x = _covariate_matrix(data, covariates)
    w = np.ones(len(data)) if weights is None else np.asarray(weights, dtype=float)
    if w.shape != (len(data),) or not np.isfinite(w).all() or (w < 0).any():
        raise ValueError("weights must be one finite, non-negative number per row")
    smd = {}
    for j, name in enumerate(covariates):
        xt, xc = x[t == 1, j], x[t == 0, j]
        mean_t = np.average(xt, weights=w[t == 1])
        mean_c = np.average(xc, weights=w[t == 0])
        pooled_sd = np.sqrt((xt.var(ddof=1) + xc.var(ddof=1)) / 2)
        smd[name] = (mean_t - mean_c) / pooled_sd if pooled_sd > 0 else 0.0
    return pd.Series(smd, name="SMD")


def logistic_propensity(
    data: pd.DataFrame,
    *,
    treatment: str,
    covariates: Sequence[str],
    max_iter: int = 100,
    tol: float = 1e-10,
) -> np.ndarray:
    """The unpenalized logistic-regression propensity, fitted by Newton-Raphson.

    e(x) = 1 / (1 + exp(-(b0 + x'b))), with (b0, b) the maximum-likelihood estimates: the
    same model as `estimate_propensity`'s default and as statsmodels' ``Logit``, but fitted
    with Newton's method on standardized covariates, which converges in a handful of steps
    where a first-order solver may need thousands (or stop short) on covariates of very
    different scales, such as earnings in dollars next to 0/1 indicators.

    Raises a ValueError when a covariate is constant (the model is not identified) or when
    the covariates (nearly) separate treated from untreated units, so that fitted
    propensities reach 0 or 1: positivity fails, and no comparison exists for those units.
    See chapters 03 and 04.

    >>> from lessons_lib import simulate
    >>> sim = simulate.banner_shop(2_000, seed=0)
    >>> e = logistic_propensity(sim.data, treatment="T", covariates=["prior_spend", "visits", "mobile"])
    >>> bool(abs(e - sim.potential_outcomes["propensity"]).mean() < 0.02)
    True
    """
    require_frame(data)
    t = require_binary(data, treatment).astype(float)
    x = _covariate_matrix(data, covariates)
    spread = x.std(axis=0)
    if (spread == 0).any():
        constant = [c for c, s in zip(covariates, spread, strict=True) if s == 0]
        raise ValueError(f"covariate(s) {constant} do not vary; drop them from the propensity model")
    design = np.column_stack([np.ones(len(x)), (x - x.mean(axis=0)) / spread])
    beta = fit_logistic(design, t, max_iter=max_iter, tol=tol)
    # Row by row, not with a BLAS product: identical covariates then get bit-identical
    # scores whatever the thread count, so exact ties in matching stay ties everywhere.
    linear = (design * beta).sum(axis=1)
    propensity = 1.0 / (1.0 + np.exp(-np.clip(linear, -700, 700)))
    check_overlap(propensity, low=1e-12, high=1 - 1e-12)
    return propensity
