"""Standardization (the g-formula, outcome regression): predict both potential outcomes. See chapter 04.

Under conditional exchangeability, positivity and consistency,

    E[Y(t)] = sum over x of E[Y | T = t, X = x] P(X = x) = E_X[ m_t(X) ],

so the ATE is E[m_1(X) - m_0(X)], where m_t(x) = E[Y | T = t, X = x] is the outcome
regression. The estimator fits m_t, predicts for every unit once as treated and once as
untreated, and averages the difference over the sample (Robins, 1986; Hernan and
Robins, chapter 13). It leans on the outcome model, not on the propensity score.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.base import clone
from threadpoolctl import threadpool_limits

from lessons_lib._inference import check_full_rank
from lessons_lib._validate import (
    require_binary,
    require_columns,
    require_frame,
    require_level,
    require_min_group_size,
)
from lessons_lib.estimate import Estimate
from lessons_lib.weighting import m_estimation_covariance


def _interaction_columns(covariates: list[str], interactions: str | Sequence[str] | None) -> list[str]:
    if interactions is None:
        return []
    if isinstance(interactions, str):
        if interactions != "all":
            raise ValueError("interactions must be 'all', None, or a list of covariate names")
        return list(covariates)
    unknown = [c for c in interactions if c not in covariates]
    if unknown:
        raise ValueError(f"interactions {unknown} are not among the covariates {covariates}")
    return list(interactions)


def outcome_design(treatment_values: np.ndarray, x: np.ndarray, x_interacted: np.ndarray) -> np.ndarray:
    """Rows [1, T, X, T * X_interacted] of the outcome regression for given T values."""
    t = np.asarray(treatment_values, dtype=float)
    return np.column_stack([np.ones(len(t)), t, x, t[:, None] * x_interacted])


def potential_outcome_predictions(
    data: pd.DataFrame,
    *,
    outcome: str,
    treatment: str,
    covariates: Sequence[str],
    interactions: str | Sequence[str] | None = "all",
    outcome_model: object | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Predicted outcomes m_1(X_i) and m_0(X_i) for every unit.

    ``outcome_model=None``: ordinary least squares of Y on [1, T, X, T * X_j for j in
    ``interactions``]; ``interactions="all"`` is the same as fitting a separate
    regression in each arm, ``None`` forces one effect for everybody. Any scikit-learn
    regressor can be passed as ``outcome_model``; it is fitted on the columns [T, X].
    """
    fit = _fit(*_arrays(data, treatment, outcome, covariates, interactions, outcome_model),
               outcome_model)
    return fit["m1"], fit["m0"]


def _arrays(data, treatment, outcome, covariates, interactions, model):
    """Validate once; return (t, y, x, x_interacted) as float arrays."""
    require_frame(data)
    if covariates is None or isinstance(covariates, str) or not len(covariates):
        raise ValueError("covariates must be a non-empty list of column names, e.g. ['age', 'income']")
    covariates = list(covariates)
    require_columns(data, [outcome, *covariates])
    t = require_binary(data, treatment).astype(float)
    require_min_group_size(t.astype(int), 2, column=treatment)
    y = data[outcome].to_numpy(dtype=float)
    x = data[covariates].to_numpy(dtype=float)
    if model is not None:
        if not hasattr(model, "predict"):
            raise ValueError(f"the outcome model must be a regressor with predict; got {type(model).__name__}")
        return t, y, x, np.empty((len(t), 0))
    interacted = _interaction_columns(covariates, interactions)
    xi = data[interacted].to_numpy(dtype=float) if interacted else np.empty((len(t), 0))
    names = ["const", treatment, *covariates, *(f"{treatment} x {c}" for c in interacted)]
    check_full_rank(outcome_design(t, x, xi), names, what="the outcome regression")
    return t, y, x, xi


def _fit(t, y, x, xi, model) -> dict:
    n = len(y)
    if model is not None:
        fitted = clone(model).fit(np.column_stack([t, x]), y)
        return {"m1": fitted.predict(np.column_stack([np.ones(n), x])),
                "m0": fitted.predict(np.column_stack([np.zeros(n), x]))}
    design = outcome_design(t, x, xi)
    # numpy's least squares, not statsmodels: the bootstrap refits this 200 times, and
    # statsmodels' per-fit overhead would double chapter 04's run time
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    design1, design0 = outcome_design(np.ones(n), x, xi), outcome_design(np.zeros(n), x, xi)
    return {"m1": design1 @ coef, "m0": design0 @ coef, "design": design,
            "design1": design1, "design0": design0, "coef": coef}


def _bootstrap(t, y, x, xi, model, n_boot: int, rng: np.random.Generator) -> list[float]:
    """Refit on n_boot resamples of the rows; return each resample's estimate."""
    draws = []
    for _ in range(n_boot):
        rows = rng.integers(0, len(y), size=len(y))
        if t[rows].min() == t[rows].max():
            continue
        boot = _fit(t[rows], y[rows], x[rows], xi[rows], model)
        draws.append(float(np.mean(boot["m1"] - boot["m0"])))
    return draws


def standardization(
    data: pd.DataFrame,
    *,
    outcome: str,
    treatment: str,
    covariates: Sequence[str],
    interactions: str | Sequence[str] | None = "all",
    outcome_model: object | None = None,
    se: str = "sandwich",
    n_boot: int = 200,
    seed: int = 0,
    level: float = 0.95,
) -> Estimate:
    """The ATE by standardization (parametric g-formula): mean of m_1(X) - m_0(X).

    Estimand: the ATE E[Y(1) - Y(0)] in the population the sample represents.

    Formula: tau_hat = (1/n) sum_i [ m_1(X_i) - m_0(X_i) ], with m_t fitted by least
    squares (see `potential_outcome_predictions` for ``interactions`` and ``outcome_model``).

    Assumptions: conditional exchangeability given ``covariates``, positivity,
    consistency, and a correct outcome model (with little overlap the model
    extrapolates silently: nothing warns you).

    Standard errors: ``se="sandwich"`` (least squares only) stacks the regression's
    normal equations with the average, so both the coefficients' and the covariates'
    sampling variability count; ``se="bootstrap"`` resamples rows ``n_boot`` times
    (seeded by ``seed``) and refits everything, as Hernan and Robins do; it works with
    any ``outcome_model``. The interval is estimate +/- z * SE.

    See chapter 04.

    Example
    -------
    >>> from lessons_lib import simulate
    >>> sim = simulate.banner_shop(4_000, seed=1)
    >>> est = standardization(sim.data, outcome="Y", treatment="T", covariates=["prior_spend", "visits", "mobile"])
    >>> est.covers(sim.ate)
    True
    """
    require_level(level)
    if se not in ("sandwich", "bootstrap"):
        raise ValueError(f"se must be 'sandwich' or 'bootstrap'; got {se!r}")
    if se == "sandwich" and outcome_model is not None:
        raise ValueError("se='sandwich' needs the least-squares outcome model; with your own "
                         "model use se='bootstrap'")
    if se == "bootstrap" and not (isinstance(n_boot, (int, np.integer)) and n_boot >= 50):
        raise ValueError(f"n_boot must be a whole number of at least 50; got {n_boot!r}")
    model = outcome_model
    t, y, x, xi = _arrays(data, treatment, outcome, covariates, interactions, model)
    fit = _fit(t, y, x, xi, model)
    n = len(y)
    value = float(np.mean(fit["m1"] - fit["m0"]))
    if se == "sandwich":
        design, diff = fit["design"], fit["design1"] - fit["design0"]
        residual = y - design @ fit["coef"]
        psi = np.column_stack([design * residual[:, None], diff @ fit["coef"] - value])
        k = design.shape[1]
        jac = np.zeros((k + 1, k + 1))
        jac[:k, :k] = -design.T @ design / n
        jac[k, :k] = diff.mean(axis=0)
        jac[k, k] = -1.0
        std_error = float(np.sqrt(m_estimation_covariance(psi, jac)[k, k]))
        label = "sandwich"
    else:
        rng = np.random.default_rng(seed)
        # Many small regressions: one BLAS thread is faster than several fighting for cores.
        with threadpool_limits(limits=1, user_api="blas"):
            draws = _bootstrap(t, y, x, xi, model, n_boot, rng)
        std_error = float(np.std(draws, ddof=1))
        label = f"bootstrap, {len(draws)} resamples"
    return Estimate.from_se(
        value, std_error, n=n, estimand="ATE",
        method=f"standardization (g-formula); SE {label}", level=level,
        extra={"mean_y1": float(np.mean(fit["m1"])), "mean_y0": float(np.mean(fit["m0"]))},
    )
