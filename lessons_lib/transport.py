"""Transportability: carry an experiment's effect to another population. See chapter 15.

A randomized trial estimates the effect in the population it enrolled (the *source*,
S = 1). A decision is often about another population (the *target*, S = 0): the whole
company rather than the volunteers of a pilot. If the effect varies with covariates X
whose distribution differs between the two, the trial's average is the wrong number for
the target. When X holds every such effect modifier, the target ATE is

    tau_target = E[ tau(X) | S = 0 ],  tau(x) = E[Y | T = 1, X = x, S = 1] - E[Y | T = 0, X = x, S = 1],

and reweighting the trial by the inverse odds of participation, w(x) = P(S = 0 | x) /
P(S = 1 | x), makes its covariate distribution that of the target (Cole and Stuart, 2010;
Westreich et al., 2017; Pearl and Bareinboim, 2014 give the graphical conditions).
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
from lessons_lib.weighting import m_estimation_covariance


def _split(data: pd.DataFrame, sample: str, covariates: Sequence[str]) -> tuple:
    require_frame(data)
    if isinstance(covariates, str) or not len(covariates):
        raise ValueError("covariates must be a non-empty list of column names, e.g. ['tenure']")
    require_columns(data, list(covariates))
    in_source = require_binary(data, sample, role="sample indicator")
    design = np.column_stack([np.ones(len(data)), data[list(covariates)].to_numpy(dtype=float)])
    return in_source, design


def transport_weights(
    data: pd.DataFrame,
    *,
    sample: str,
    covariates: Sequence[str],
) -> np.ndarray:
    """Inverse-odds weights P(S = 0 | x) / P(S = 1 | x) for the source rows (S = 1).

    P(S = 1 | x) comes from a logistic regression of the sample indicator on the
    covariates, fitted to the stacked source and target rows. Returns one weight per
    source row, in the order of the data. Raises a ValueError when the covariates separate
    the two populations (some target units have no counterpart in the source).
    """
    in_source, design = _split(data, sample, covariates)
    coefficients = _participation_model(design, in_source)
    return np.exp(-(design[in_source == 1] @ coefficients))


def _participation_model(design: np.ndarray, in_source: np.ndarray) -> np.ndarray:
    """Logistic coefficients of P(S = 1 | x), or a ValueError that explains a separation."""
    try:
        return fit_logistic(design, in_source)
    except ValueError as error:
        raise ValueError(
            "the covariates (almost) perfectly separate the source from the target, so "
            "some target units have no comparable units in the source: the effect cannot be "
            "transported there without extrapolation. Restrict the target or the covariates"
        ) from error


def transported_ate(
    data: pd.DataFrame,
    *,
    outcome: str,
    treatment: str,
    covariates: Sequence[str],
    sample: str = "in_trial",
    level: float = 0.95,
) -> Estimate:
    """The target population's ATE from a randomized trial, by inverse-odds weighting.

    ``data`` stacks the trial (``sample`` = 1, with treatment and outcome) and a sample of
    the target population (``sample`` = 0, covariates only; its treatment and outcome
    columns may be missing).

    Estimand: tau_target = E[Y(1) - Y(0) | S = 0].

    Formula: with w = P(S = 0 | X) / P(S = 1 | X) from a logistic model,
        tau_hat = sum_S=1 w T Y / sum_S=1 w T  -  sum_S=1 w (1 - T) Y / sum_S=1 w (1 - T),
    the weighted regression of Y on T in the trial. The standard error stacks the logistic
    score equations with the two weighted means (M-estimation), so the uncertainty of the
    estimated weights is counted.

    Assumptions: (1) treatment randomized (or unconfounded) in the trial; (2) conditional
    transportability: given X, the potential outcomes have the same means in both
    populations, i.e. X includes every effect modifier whose distribution differs;
    (3) positivity of participation: every kind of target unit could have been in the
    trial, P(S = 1 | x) > 0; (4) the same treatment means the same thing in both;
    (5) the logistic participation model is right.

    Example
    -------
    >>> from lessons_lib import simulate
    >>> sim = simulate.assistant_pilot(seed=3)
    >>> est = transported_ate(sim.data, outcome="Y", treatment="T", covariates=["tenure", "remote"])
    >>> est.covers(sim.truth["target ATE"])
    True
    """
    require_level(level)
    in_source, design = _split(data, sample, covariates)
    source = data[in_source == 1]
    require_columns(source, [outcome])
    t = require_binary(source, treatment)
    require_min_group_size(t, 2, column=treatment)
    y = source[outcome].to_numpy(dtype=float)
    coefficients = _participation_model(design, in_source)
    weights = np.exp(-(design[in_source == 1] @ coefficients))
    mu1 = np.sum(weights * t * y) / np.sum(weights * t)
    mu0 = np.sum(weights * (1 - t) * y) / np.sum(weights * (1 - t))

    # M-estimation: theta = (gamma, mu1, mu0) over all n rows (target rows only enter the
    # logistic score).
    n, k = design.shape
    p = expit(design @ coefficients)
    w_all = np.zeros(n)
    w_all[in_source == 1] = weights
    t_all = np.zeros(n)
    t_all[in_source == 1] = t
    y_all = np.zeros(n)
    y_all[in_source == 1] = y
    s = in_source.astype(float)
    r1 = s * w_all * t_all * (y_all - mu1)
    r0 = s * w_all * (1 - t_all) * (y_all - mu0)
    psi = np.column_stack([design * (s - p)[:, None], r1, r0])
    jacobian = np.zeros((k + 2, k + 2))
    jacobian[:k, :k] = -(design * (p * (1 - p))[:, None]).T @ design / n
    jacobian[k, :k] = -(design * r1[:, None]).sum(axis=0) / n  # dw/dgamma = -w x
    jacobian[k + 1, :k] = -(design * r0[:, None]).sum(axis=0) / n
    jacobian[k, k] = -np.sum(s * w_all * t_all) / n
    jacobian[k + 1, k + 1] = -np.sum(s * w_all * (1 - t_all)) / n
    covariance = m_estimation_covariance(psi, jacobian)
    contrast = np.zeros(k + 2)
    contrast[k], contrast[k + 1] = 1.0, -1.0
    se = float(np.sqrt(contrast @ covariance @ contrast))
    ess = float(weights.sum() ** 2 / np.sum(weights**2))
    return Estimate.from_se(
        mu1 - mu0, se, n=int(in_source.sum()), estimand="target ATE",
        method="transported by inverse-odds weighting", level=level,
        extra={"target_rows": int(n - in_source.sum()), "effective_sample_size": ess},
    )
