"""Augmented inverse probability weighting (AIPW): the doubly robust estimator. See chapter 04.

AIPW starts from the outcome regression's prediction and corrects it with the
inverse-probability-weighted residuals (Robins, Rotnitzky and Zhao, 1994):

    phi_i = m_1(X_i) - m_0(X_i)
            + T_i (Y_i - m_1(X_i)) / e(X_i) - (1 - T_i)(Y_i - m_0(X_i)) / (1 - e(X_i))
    tau_hat = mean(phi_i)

If the outcome model is right, the residual terms average to zero whatever the
propensity model says; if the propensity model is right, the weighted residuals undo
whatever error the outcome model made. So the estimate is consistent when either model
is correct ("doubly robust", Bang and Robins, 2005), and wrong when both are
(Kang and Schafer, 2007).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from lessons_lib._validate import require_frame, require_level
from lessons_lib.estimate import Estimate
from lessons_lib.propensity import check_overlap
from lessons_lib.standardization import potential_outcome_predictions
from lessons_lib.weighting import propensity_scores


def aipw_scores(treatment: np.ndarray, outcome: np.ndarray, propensity: np.ndarray,
                m1: np.ndarray, m0: np.ndarray) -> np.ndarray:
    """Each unit's AIPW score phi_i (its mean is the estimate; see the module docstring)."""
    t, y = np.asarray(treatment, dtype=float), np.asarray(outcome, dtype=float)
    e = np.asarray(propensity, dtype=float)
    check_overlap(e)
    return m1 - m0 + t * (y - m1) / e - (1 - t) * (y - m0) / (1 - e)


def aipw(
    data: pd.DataFrame,
    *,
    outcome: str,
    treatment: str,
    covariates: Sequence[str],
    propensity_covariates: Sequence[str] | None = None,
    outcome_covariates: Sequence[str] | None = None,
    propensity_model: object | None = None,
    outcome_model: object | None = None,
    interactions: str | Sequence[str] | None = "all",
    clip: float | None = None,
    level: float = 0.95,
) -> Estimate:
    """The ATE by augmented inverse probability weighting (doubly robust).

    Estimand: the ATE E[Y(1) - Y(0)].

    Formula: tau_hat = mean(phi_i) with phi_i as in the module docstring;
    SE = sqrt(mean((phi_i - tau_hat)^2) / n), the influence-function standard error
    (the same as DoubleML's for the same predictions).

    Models: the propensity is a maximum-likelihood logistic regression on
    ``propensity_covariates`` (default ``covariates``) unless ``propensity_model`` (a
    scikit-learn classifier) is given; the outcome regression is least squares on
    ``outcome_covariates`` (default ``covariates``) with T interacted with
    ``interactions`` (default all: one regression per arm), unless ``outcome_model`` (a
    scikit-learn regressor on [T, X]) is given. ``clip`` caps propensities to
    [clip, 1 - clip].

    Assumptions: conditional exchangeability, positivity, consistency, and at least one
    of the two models correct. The SE is exact when both are correct and usually close
    when one is not. With flexible machine-learning models, use cross-fitting instead
    (double machine learning, chapter 12).

    See chapter 04.

    Example
    -------
    >>> from lessons_lib import simulate
    >>> sim = simulate.banner_shop(4_000, seed=1)
    >>> est = aipw(sim.data, outcome="Y", treatment="T", covariates=["prior_spend", "visits", "mobile"])
    >>> est.covers(sim.ate)
    True
    """
    require_frame(data)
    require_level(level)
    if clip is not None and not (isinstance(clip, (int, float)) and 0 < clip < 0.5):
        raise ValueError(f"clip must be a number between 0 and 0.5, such as 0.01; got {clip!r}")
    prop_cov = list(propensity_covariates) if propensity_covariates is not None else covariates
    out_cov = list(outcome_covariates) if outcome_covariates is not None else covariates
    m1, m0 = potential_outcome_predictions(data, outcome=outcome, treatment=treatment,
                                           covariates=out_cov, interactions=interactions,
                                           outcome_model=outcome_model)
    e, _ = propensity_scores(data, treatment=treatment, covariates=prop_cov,
                             propensity_model=propensity_model)
    if clip is not None:
        e = np.clip(e, clip, 1 - clip)
    t = data[treatment].to_numpy(dtype=float)
    y = data[outcome].to_numpy(dtype=float)
    phi = aipw_scores(t, y, e, m1, m0)
    value = float(phi.mean())
    std_error = float(np.sqrt(np.mean((phi - value) ** 2) / len(phi)))
    return Estimate.from_se(
        value, std_error, n=len(phi), estimand="ATE",
        method="AIPW (doubly robust); SE from the influence function", level=level,
        extra={"outcome_model_part": float(np.mean(m1 - m0)),
               "weighted_residual_correction": float(np.mean(phi - (m1 - m0)))},
    )
