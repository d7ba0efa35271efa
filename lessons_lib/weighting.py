"""Inverse probability weighting (IPW): reweight the sample into a pseudo-population. See chapter 04.

Under conditional exchangeability (Y(t) independent of T given X), positivity
(0 < e(X) < 1) and consistency, the ATE is

    tau = E[ T Y / e(X) ] - E[ (1 - T) Y / (1 - e(X)) ],     e(X) = P(T = 1 | X).

Weighting each treated unit by 1 / e(X) and each control by 1 / (1 - e(X)) builds a
pseudo-population in which X no longer predicts T: it looks like a randomized
experiment. Two estimators follow (Horvitz and Thompson, 1952; Hajek, 1971):

    Horvitz-Thompson:  (1/n) sum T Y / e  -  (1/n) sum (1 - T) Y / (1 - e)
    Hajek (normalized): sum(w T Y) / sum(w T)  -  sum(w (1-T) Y) / sum(w (1-T))

The Hajek estimator divides by the weights' own sum instead of n. It is what a
weighted regression of Y on T gives, what DoWhy and What If report, and it is the more
stable of the two; it is the default here.

Standard errors come from M-estimation (the sandwich): the logistic propensity
model's score equations are stacked with the weighted means, so the uncertainty of the
estimated propensity is counted (Lunceford and Davidian, 2004). ``se="robust"``
instead treats the weights as known, the convention of a weighted regression with
robust (HC0) errors, which is what Hernan and Robins report; it is conservative for
the ATE.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy.special import expit

from lessons_lib._inference import fit_logistic
from lessons_lib._validate import (
    require_binary,
    require_columns,
    require_frame,
    require_level,
    require_min_group_size,
)
from lessons_lib.estimate import Estimate
from lessons_lib.propensity import check_overlap, estimate_propensity


def _covariates(data: pd.DataFrame, covariates: Sequence[str] | None) -> list[str]:
    if covariates is None or isinstance(covariates, str) or not len(covariates):
        raise ValueError("covariates must be a non-empty list of column names, e.g. ['age', 'income']")
    require_columns(data, list(covariates))
    return list(covariates)


def propensity_scores(
    data: pd.DataFrame,
    *,
    treatment: str,
    covariates: Sequence[str],
    propensity_model: object | None = None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Fitted propensities and, for the default logistic model, its design matrix.

    ``propensity_model=None`` fits logit e(x) = b0 + b'x by maximum likelihood (`fit_logistic`);
    any scikit-learn classifier may be passed instead (then the design is ``None``,
    because the sandwich cannot see inside an arbitrary model).
    """
    covariates = _covariates(data, covariates)
    t = require_binary(data, treatment)
    if propensity_model is not None:
        return estimate_propensity(data, treatment=treatment, covariates=covariates,
                                   propensity_model=propensity_model), None
    design = np.column_stack([np.ones(len(data)), data[covariates].to_numpy(dtype=float)])
    beta = fit_logistic(design, t)
    return expit(design @ beta), design


def ipw_weights(treatment: np.ndarray, propensity: np.ndarray, *,
                stabilized: bool = False) -> np.ndarray:
    """Inverse probability weights: 1/e(X) for treated, 1/(1 - e(X)) for control.

    ``stabilized=True`` multiplies by the marginal probability of the treatment received,
    P(T = 1) for treated and P(T = 0) for control (Robins, Hernan and Brumback, 2000;
    Cole and Hernan, 2008): stabilized weights average about 1, so the pseudo-population
    has the size of the sample. For the Hajek estimator they give the same ATE.

    >>> ipw_weights(np.array([1, 0]), np.array([0.25, 0.25])).tolist()
    [4.0, 1.3333333333333333]
    """
    t = np.asarray(treatment, dtype=float)
    e = np.asarray(propensity, dtype=float)
    if t.shape != e.shape or t.ndim != 1:
        raise ValueError("treatment and propensity must be 1-D arrays of the same length")
    if not np.isin(t, [0.0, 1.0]).all():
        raise ValueError("treatment must be 0/1")
    check_overlap(e)
    weights = t / e + (1 - t) / (1 - e)
    if stabilized:
        share = t.mean()
        weights = weights * np.where(t == 1, share, 1 - share)
    return weights


def effective_sample_size(weights: np.ndarray) -> float:
    """Kish's effective sample size (sum w)^2 / sum w^2: how many unweighted units the
    weighted sample is worth. A few huge weights make it collapse."""
    w = np.asarray(weights, dtype=float)
    if w.ndim != 1 or not len(w) or not np.isfinite(w).all() or (w < 0).any():
        raise ValueError("weights must be a non-empty 1-D array of finite, non-negative numbers")
    return float(w.sum() ** 2 / np.sum(w**2))


def m_estimation_covariance(estimating_functions: np.ndarray, jacobian: np.ndarray) -> np.ndarray:
    """The sandwich A^-1 B A^-T / n of an M-estimator.

    ``estimating_functions`` is n x p (each unit's psi at the estimate) and ``jacobian``
    is A = (1/n) sum d psi / d theta (p x p).
    """
    n = estimating_functions.shape[0]
    meat = estimating_functions.T @ estimating_functions / n
    bread = np.linalg.inv(jacobian)
    return bread @ meat @ bread.T / n


def ipw(
    data: pd.DataFrame,
    *,
    outcome: str,
    treatment: str,
    covariates: Sequence[str] | None = None,
    propensity: np.ndarray | None = None,
    propensity_model: object | None = None,
    normalized: bool = True,
    clip: float | None = None,
    trim: float | None = None,
    se: str = "sandwich",
    level: float = 0.95,
) -> Estimate:
    """The ATE by inverse probability weighting (Hajek by default, or Horvitz-Thompson).

    Estimand: the ATE E[Y(1) - Y(0)]; with ``trim`` the ATE among units whose propensity
    lies in [trim, 1 - trim] (Crump et al., 2009).

    Formula (w = T/e + (1-T)/(1-e)):
        Hajek (normalized=True):  sum(w T Y)/sum(w T) - sum(w (1-T) Y)/sum(w (1-T))
        Horvitz-Thompson:         mean(T Y / e) - mean((1-T) Y / (1-e))

    Assumptions: conditional exchangeability given ``covariates``, positivity
    (0 < e(X) < 1), consistency, and a correct propensity model.

    Options:
        propensity        known propensities (e.g. a design's); then no model is fitted.
        propensity_model  a scikit-learn classifier; default: logistic regression by
                          maximum likelihood on ``covariates``.
        clip              cap propensities to [clip, 1 - clip] (DoWhy uses 0.05): bias
                          traded for variance, estimand unchanged.
        trim              drop units with e outside [trim, 1 - trim]: estimand changes.
        se                "sandwich" (default): M-estimation that counts the estimation of
                          the default logistic model; "robust": weights treated as known
                          (weighted least squares with HC0 errors, as in What If).

    See chapter 04.

    Example
    -------
    >>> from lessons_lib import simulate
    >>> sim = simulate.banner_shop(4_000, seed=1)
    >>> est = ipw(sim.data, outcome="Y", treatment="T", covariates=["prior_spend", "visits", "mobile"])
    >>> est.covers(sim.ate)
    True
    """
    require_frame(data)
    require_level(level)
    require_columns(data, [outcome])
    t = require_binary(data, treatment)
    require_min_group_size(t, 2, column=treatment)
    if se not in ("sandwich", "robust"):
        raise ValueError(f"se must be 'sandwich' or 'robust'; got {se!r}")
    for name, value in (("clip", clip), ("trim", trim)):
        if value is not None and not (isinstance(value, (int, float)) and 0 < value < 0.5):
            raise ValueError(f"{name} must be a number between 0 and 0.5, such as 0.05; got {value!r}")
    y = data[outcome].to_numpy(dtype=float)
    n = len(y)

    design = None
    if propensity is not None:
        if propensity_model is not None:
            raise ValueError("give either propensity (known scores) or propensity_model, not both")
        raw = np.asarray(propensity, dtype=float)
        if raw.shape != (n,):
            raise ValueError(f"propensity must hold one number per row ({n}); got shape {raw.shape}")
    else:
        raw, design = propensity_scores(data, treatment=treatment, covariates=covariates,
                                        propensity_model=propensity_model)
    if se == "sandwich" and design is None:
        raise ValueError(
            "se='sandwich' counts the fitting of the default logistic propensity model; with "
            "known propensities or your own propensity_model use se='robust' (weights treated "
            "as known) or bootstrap the whole procedure"
        )

    e = np.clip(raw, clip, 1 - clip) if clip is not None else raw
    free = (e == raw).astype(float)  # clipped units do not move with the model
    keep = np.ones(n) if trim is None else ((raw >= trim) & (raw <= 1 - trim)).astype(float)
    if trim is not None:
        require_min_group_size(t[keep == 1], 2, column=f"{treatment} (after trimming)")
        e = np.where(keep == 1, e, 0.5)  # dropped units get weight 0 below
    else:
        check_overlap(e)

    treated, control = keep * t, keep * (1 - t)
    if normalized:
        w1, w0 = treated / e, control / (1 - e)
        mu1, mu0 = np.sum(w1 * y) / w1.sum(), np.sum(w0 * y) / w0.sum()
        value = mu1 - mu0
        psi = np.column_stack([w1 * (y - mu1), w0 * (y - mu0)])
        jac = np.diag([-w1.mean(), -w0.mean()])
        # d psi / d beta through e = expit(design beta): d(1/e) = -(1-e)/e, d(1/(1-e)) = e/(1-e)
        cross = [w1 * (y - mu1) * -(1 - e), w0 * (y - mu0) * e]
        gradient = np.array([1.0, -1.0])
        method = "IPW (Hajek, normalized weights)"
    else:
        contrast = treated * y / e - control * y / (1 - e)
        value = contrast.sum() / keep.sum()
        psi = (contrast - keep * value)[:, None]
        jac = np.array([[-keep.mean()]])
        cross = [treated * y * -(1 - e) / e - control * y * e / (1 - e)]
        gradient = np.array([1.0])
        method = "IPW (Horvitz-Thompson)"

    if se == "sandwich":
        score = design * (t - raw)[:, None]
        k = design.shape[1]
        p = psi.shape[1]
        full = np.zeros((k + p, k + p))
        full[:k, :k] = -(design * (raw * (1 - raw))[:, None]).T @ design / n
        for j, c in enumerate(cross):
            full[k + j, :k] = (design * (c * free)[:, None]).mean(axis=0)
        full[k:, k:] = jac
        cov = m_estimation_covariance(np.column_stack([score, psi]), full)[k:, k:]
        se_label = "sandwich incl. propensity model"
    else:
        cov = m_estimation_covariance(psi, jac)
        se_label = "robust, weights as known"
    std_error = float(np.sqrt(gradient @ cov @ gradient))

    weights = (treated / e + control / (1 - e))[keep == 1]
    estimand = "ATE" if trim is None else f"ATE (units with e in [{trim}, {1 - trim:g}])"
    return Estimate.from_se(
        value, std_error, n=int(keep.sum()), estimand=estimand,
        method=f"{method}; SE {se_label}", level=level,
        extra={"max_weight": float(weights.max()),
               "effective_sample_size": effective_sample_size(weights),
               "n_clipped": int(n - free.sum()) if clip is not None else 0,
               "n_trimmed": int(n - keep.sum())},
    )
