"""Instrumental variables: the Wald estimator and two-stage least squares. See chapter 06.

An instrument Z is a variable that moves the treatment T but is otherwise unrelated to
the outcome Y. Three assumptions make it one:

* relevance: Z changes T (a first stage), Cov(Z, T) != 0;
* independence: Z is as good as randomly assigned, independent of the potential outcomes
  and potential treatments;
* exclusion: Z affects Y only through T.

With a binary Z and T, and **monotonicity** (Z pushes everyone's treatment in the same
direction, so there are no "defiers"), the ratio

    (E[Y | Z=1] - E[Y | Z=0]) / (E[T | Z=1] - E[T | Z=0])

is the local average treatment effect (LATE): the average effect among the *compliers*,
the units whose treatment the instrument changes (Imbens and Angrist, 1994). With
covariates and several instruments it generalises to two-stage least squares (2SLS).

Standard errors follow linearmodels' ``IV2SLS`` without small-sample corrections (and
Stata's ``ivregress 2sls``): "unadjusted" uses sigma^2 = e'e / n with the residuals
e = y - X b computed with the *actual* treatment, "robust" is the HC0 sandwich. The
standard errors of a hand-made second-stage OLS on the fitted treatment are wrong.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from lessons_lib._validate import require_binary, require_columns, require_frame, require_level
from lessons_lib.estimate import Estimate

__all__ = ["two_stage_least_squares", "wald_estimator", "first_stage"]


def _names(value: str | Sequence[str], what: str) -> list[str]:
    if isinstance(value, str):
        return [value]
    names = list(value)
    if not all(isinstance(v, str) for v in names):
        raise ValueError(f"{what} must be column names (strings); got {value!r}")
    return names


def _check_roles(outcome: str, treatment: str, instruments: list[str],
                 covariates: list[str]) -> None:
    if not instruments:
        raise ValueError("give at least one instrument column, e.g. instruments=['Z']")
    if treatment in instruments or outcome in instruments:
        raise ValueError("the treatment and the outcome cannot be instruments: an instrument "
                         "is a separate variable that shifts the treatment")
    if treatment in covariates or outcome in covariates:
        raise ValueError("the treatment and the outcome cannot also be covariates")
    overlap = set(instruments) & set(covariates)
    if overlap:
        raise ValueError(f"{sorted(overlap)} are listed as both instruments and covariates; "
                         "an excluded instrument must not also be a control")
    if outcome == treatment:
        raise ValueError("the outcome and the treatment must be different columns")


def _design(data: pd.DataFrame, outcome: str, treatment: str, instruments: list[str],
            covariates: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    require_frame(data)
    _check_roles(outcome, treatment, instruments, covariates)
    require_columns(data, [outcome, treatment, *instruments, *covariates])
    n = len(data)
    k = 2 + len(covariates) + len(instruments)
    if n <= k:
        raise ValueError(f"{n} rows are too few for {k} coefficients; add data or drop terms")
    y = data[outcome].to_numpy(dtype=float)
    t = data[treatment].to_numpy(dtype=float)
    exog = np.column_stack([np.ones(n)] + [data[c].to_numpy(dtype=float) for c in covariates])
    z = np.column_stack([data[c].to_numpy(dtype=float) for c in instruments])
    if np.linalg.matrix_rank(exog) < exog.shape[1]:
        raise ValueError("the covariates are collinear (or one is constant): drop the "
                         "redundant column")
    return y, t, exog, z


def _residualize(matrix: np.ndarray, exog: np.ndarray) -> np.ndarray:
    coef, *_ = np.linalg.lstsq(exog, matrix, rcond=None)
    return matrix - exog @ coef


def _first_stage_stats(t: np.ndarray, exog: np.ndarray, z: np.ndarray, instruments: list[str],
                       cov_type: str) -> dict:
    """First-stage coefficients of the instruments and their partial F statistic."""
    z_tilde = _residualize(z, exog)
    scale = np.maximum(np.abs(z).max(axis=0), 1.0)
    if (np.sqrt((z_tilde**2).mean(axis=0)) < 1e-10 * scale).any() or \
            np.linalg.matrix_rank(z_tilde) < z.shape[1]:
        raise ValueError(
            f"instrument(s) {instruments} have no variation left after the covariates (constant, "
            "or explained by the covariates): an instrument must vary on its own"
        )
    full = np.column_stack([exog, z])
    coef, *_ = np.linalg.lstsq(full, t, rcond=None)
    resid = t - full @ coef
    n, q = len(t), z.shape[1]
    bread = np.linalg.inv(full.T @ full)
    if cov_type == "unadjusted":
        cov = resid @ resid / n * bread
    else:
        scores = full * resid[:, None]
        cov = bread @ (scores.T @ scores) @ bread
    gamma = coef[-q:]
    cov_gamma = cov[-q:, -q:]
    t_tilde = _residualize(t, exog)
    explained = t_tilde @ t_tilde - resid @ resid
    if explained <= 1e-12 * max(t_tilde @ t_tilde, 1e-300):
        raise ValueError(
            f"no first stage: instrument(s) {instruments} do not move the treatment at all in "
            "these data, so the IV ratio divides by zero. Find an instrument that shifts the "
            "treatment"
        )
    wald = float(gamma @ np.linalg.solve(cov_gamma, gamma))
    return {"coef": gamma, "se": np.sqrt(np.diag(cov_gamma)), "F": wald / q,
            "partial R2": float(explained / (t_tilde @ t_tilde))}


def first_stage(
    data: pd.DataFrame,
    *,
    treatment: str,
    instruments: str | Sequence[str],
    covariates: Sequence[str] = (),
    cov_type: str = "robust",
) -> pd.Series:
    """The first stage: how strongly the instruments move the treatment.

    Regresses T on the instruments and covariates and returns the instruments'
    coefficients (``coef[<name>]``), their standard errors, the partial R^2 of the
    instruments and the **F statistic** of the hypothesis that all their coefficients are
    zero (the Wald statistic divided by the number of instruments, with ``cov_type``
    "robust" or "unadjusted", as linearmodels reports it). A first-stage F below about 10
    is the classic warning sign of a weak instrument (Staiger and Stock, 1997).
    """
    if cov_type not in ("robust", "unadjusted"):
        raise ValueError(f"cov_type must be 'robust' or 'unadjusted'; got {cov_type!r}")
    instruments, covariates = _names(instruments, "instruments"), _names(covariates, "covariates")
    require_frame(data)
    _check_roles("__no_outcome__", treatment, instruments, covariates)
    require_columns(data, [treatment, *instruments, *covariates])
    n = len(data)
    exog = np.column_stack([np.ones(n)] + [data[c].to_numpy(dtype=float) for c in covariates])
    z = np.column_stack([data[c].to_numpy(dtype=float) for c in instruments])
    result = _first_stage_stats(data[treatment].to_numpy(dtype=float), exog, z, instruments,
                                cov_type)
    out = {f"coef[{name}]": float(c) for name, c in zip(instruments, result["coef"], strict=True)}
    out |= {f"se[{name}]": float(s) for name, s in zip(instruments, result["se"], strict=True)}
    out |= {"partial R2": result["partial R2"], "F": result["F"]}
    return pd.Series(out, name="first stage")


def two_stage_least_squares(
    data: pd.DataFrame,
    *,
    outcome: str,
    treatment: str,
    instruments: str | Sequence[str],
    covariates: Sequence[str] = (),
    cov_type: str = "robust",
    level: float = 0.95,
) -> Estimate:
    """Two-stage least squares (2SLS) for the effect of one treatment.

    Model: Y = a + tau T + X'b + e, with T possibly correlated with e (confounded) and
    instruments Z that are correlated with T but not with e, given X.

    Formula: with W = [1, X, T] and the instrument matrix M = [1, X, Z],
    the first stage fits W_hat = M (M'M)^{-1} M'W, and
        b_2sls = (W_hat'W)^{-1} W_hat'y.
    Residuals use the actual treatment, e = y - W b_2sls (not the fitted one), and
        unadjusted: V = (e'e / n) (W_hat'W_hat)^{-1}
        robust:     V = (W_hat'W_hat)^{-1} (sum_i e_i^2 w_hat_i w_hat_i') (W_hat'W_hat)^{-1}.

    Estimand: with one binary instrument, a binary treatment and monotonicity, the LATE,
    the average effect among compliers; in a linear constant-effect model, tau itself.

    Assumptions: relevance (check ``extra["first_stage_f"]``: below ~10 the estimate is
    biased towards OLS and its interval unreliable), independence, exclusion.

    Returns an `Estimate` with ``extra`` holding the first-stage F statistic, the
    first-stage coefficient (one instrument) and the number of instruments.

    Example
    -------
    >>> from lessons_lib import simulate
    >>> sim = simulate.concert_in_the_rain(5_000, seed=1)
    >>> est = two_stage_least_squares(sim.data, outcome="happiness", treatment="attended", instruments=["rain"])
    >>> est.covers(sim.truth["LATE"]), est.extra["first_stage_f"] > 100
    (True, True)
    """
    require_level(level)
    if cov_type not in ("robust", "unadjusted"):
        raise ValueError(f"cov_type must be 'robust' or 'unadjusted'; got {cov_type!r}")
    instruments, covariates = _names(instruments, "instruments"), _names(covariates, "covariates")
    y, t, exog, z = _design(data, outcome, treatment, instruments, covariates)
    stage_one = _first_stage_stats(t, exog, z, instruments, cov_type)

    regressors = np.column_stack([exog, t])
    inst = np.column_stack([exog, z])
    projection, *_ = np.linalg.lstsq(inst, regressors, rcond=None)
    fitted = inst @ projection
    coef = np.linalg.solve(fitted.T @ regressors, fitted.T @ y)
    resid = y - regressors @ coef
    bread = np.linalg.inv(fitted.T @ fitted)
    n = len(y)
    if cov_type == "unadjusted":
        cov = resid @ resid / n * bread
    else:
        scores = fitted * resid[:, None]
        cov = bread @ (scores.T @ scores) @ bread
    extra = {"first_stage_f": float(stage_one["F"]), "instruments": len(instruments),
             "covariance": cov_type}
    if len(instruments) == 1:
        extra["first_stage_coefficient"] = float(stage_one["coef"][0])
    binary_iv = len(instruments) == 1 and not covariates and \
        set(np.unique(t)) <= {0.0, 1.0} and set(np.unique(z)) <= {0.0, 1.0}
    return Estimate.from_se(coef[-1], np.sqrt(cov[-1, -1]), n=n,
                            estimand="LATE" if binary_iv else f"effect of {treatment} (IV)",
                            method="two-stage least squares", level=level, extra=extra)


def wald_estimator(
    data: pd.DataFrame,
    *,
    outcome: str,
    treatment: str,
    instrument: str,
    level: float = 0.95,
) -> Estimate:
    """The Wald estimator: the instrument's effect on Y divided by its effect on T.

        LATE_hat = (mean Y[Z=1] - mean Y[Z=0]) / (mean T[Z=1] - mean T[Z=0])

    Needs a binary (0/1) instrument. It is exactly 2SLS with that one instrument and no
    covariates, and so it returns 2SLS's heteroskedasticity-robust standard error.

    Estimand: the LATE among compliers, under relevance, independence, exclusion and
    monotonicity (Imbens and Angrist, 1994; Angrist, Imbens and Rubin, 1996).

    >>> from lessons_lib import simulate
    >>> sim = simulate.concert_in_the_rain(5_000, seed=1)
    >>> round(wald_estimator(sim.data, outcome="happiness", treatment="attended", instrument="rain").value, 2)
    0.91
    """
    require_frame(data)
    require_columns(data, [outcome, treatment])
    z = require_binary(data, instrument, role="instrument")
    y = data[outcome].to_numpy(dtype=float)
    t = data[treatment].to_numpy(dtype=float)
    jump_t = t[z == 1].mean() - t[z == 0].mean()
    if abs(jump_t) < 1e-12:
        raise ValueError(
            f"no first stage: the mean of '{treatment}' is the same whatever '{instrument}', "
            "so the Wald ratio divides by zero"
        )
    ratio = (y[z == 1].mean() - y[z == 0].mean()) / jump_t
    est = two_stage_least_squares(data, outcome=outcome, treatment=treatment,
                                  instruments=[instrument], level=level)
    return Estimate.from_se(ratio, est.se, n=est.n, estimand=est.estimand, level=level,
                            method="Wald estimator (IV ratio)", extra=est.extra)
