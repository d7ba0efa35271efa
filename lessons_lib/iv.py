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

With a multi-valued treatment (years of schooling, doses) and a binary instrument, the
same ratio is the **average causal response** (ACR) of Angrist and Imbens (1995): a
weighted average of the effects of each unit step, E[Y(j) - Y(j-1) | T(1) >= j > T(0)],
with weights P(T(1) >= j > T(0)) / sum_k P(T(1) >= k > T(0)), which the data reveal:
P(T >= j | Z=1) - P(T >= j | Z=0), divided by the first stage. Steps that the instrument
moves many people across get the most weight. `iv_estimand` names what 2SLS targets.

The weak-instrument diagnostics (effective F, the Anderson-Rubin set, over-identification
tests) live in `lessons_lib.iv_diagnostics` and are re-exported here.

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
from lessons_lib.iv_diagnostics import (
    _cov_type,
    _design,
    _first_stage_stats,
    _names,
    anderson_rubin_ci,
    effective_f,
    first_stage,
    overid_test,
)

__all__ = ["two_stage_least_squares", "wald_estimator", "first_stage", "effective_f",
           "anderson_rubin_ci", "overid_test", "iv_estimand", "acr_weights"]


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

    Estimand (``est.estimand``, see `iv_estimand`): with one binary instrument, a binary
    treatment and monotonicity, the "LATE", the average effect among compliers; with a
    multi-valued treatment (more than two values, e.g. years of schooling), the "ACR",
    Angrist and Imbens' (1995) average causal response, a weighted average of the effects
    of one more unit over the steps the instrument moves people across (with covariates,
    averaged further over covariate cells); in a linear constant-effect model, tau itself.

    Assumptions: relevance (check ``extra["first_stage_f"]``: below ~10 the estimate is
    biased towards OLS and its interval unreliable), independence, exclusion.

    Returns an `Estimate` with ``extra`` holding the first-stage F statistic, the effective
    F (Montiel Olea and Pflueger, 2013), the first-stage coefficient (one instrument) and
    the number of instruments. For inference that stays valid with a weak instrument, use
    `anderson_rubin_ci`.

    Example
    -------
    >>> from lessons_lib import simulate
    >>> sim = simulate.concert_in_the_rain(5_000, seed=1)
    >>> est = two_stage_least_squares(sim.data, outcome="happiness", treatment="attended", instruments=["rain"])
    >>> est.covers(sim.truth["LATE"]), est.extra["first_stage_f"] > 100
    (True, True)
    """
    require_level(level)
    _cov_type(cov_type)
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
    extra = {"first_stage_f": float(stage_one["F"]),
             "effective_f": float(stage_one["effective F"]), "instruments": len(instruments),
             "covariance": cov_type}
    if len(instruments) == 1:
        extra["first_stage_coefficient"] = float(stage_one["coef"][0])
    return Estimate.from_se(coef[-1], np.sqrt(cov[-1, -1]), n=n,
                            estimand=iv_estimand(t, z, treatment=treatment,
                                                 covariates=bool(covariates)),
                            method="two-stage least squares", level=level, extra=extra)


def iv_estimand(treatment_values: np.ndarray, instrument_values: np.ndarray, *,
                treatment: str = "T", covariates: bool = False) -> str:
    """The name of what 2SLS targets, used as ``Estimate.estimand``.

    * "ACR" (average causal response, Angrist and Imbens 1995) when the treatment takes
      more than two values: a weighted average of per-unit effects, not a LATE;
    * "LATE" for a 0/1 treatment with one 0/1 instrument and no covariates;
    * "effect of <treatment> (IV)" otherwise (a binary treatment with covariates or several
      instruments: a weighted average of LATEs whose weights depend on the specification).

    With covariates entered linearly (not a first stage saturated in them), the weights
    across covariate cells need not all be positive: the label names the target of the
    Angrist-Imbens argument, not a guarantee.

    >>> import numpy as np
    >>> iv_estimand(np.array([10, 12, 16]), np.array([0, 1, 1]))
    'ACR'
    """
    values = np.unique(np.asarray(treatment_values, dtype=float))
    if len(values) > 2:
        return "ACR"
    instrument = np.asarray(instrument_values, dtype=float)
    single = instrument.ndim == 1 or instrument.shape[1] == 1
    if set(values) <= {0.0, 1.0} and single and not covariates and \
            set(np.unique(instrument)) <= {0.0, 1.0}:
        return "LATE"
    return f"effect of {treatment} (IV)"


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


def acr_weights(data: pd.DataFrame, *, treatment: str, instrument: str) -> pd.Series:
    """Angrist and Imbens' (1995) weights: where on the treatment scale an instrument acts.

    With a multi-valued treatment T (years of schooling) and a binary instrument Z, the
    Wald ratio equals sum_j w_j E[Y(j) - Y(j-1) | T(1) >= j > T(0)], the average causal
    response, with

        w_j = P(T(1) >= j > T(0)) / sum_k P(T(1) >= k > T(0))
            = (P(T >= j | Z=1) - P(T >= j | Z=0)) / (E[T | Z=1] - E[T | Z=0])

    under independence, exclusion and monotonicity (T(1) >= T(0) for everyone). The second
    line is computable: the gap between the two groups' survival curves of T at each
    step j, divided by the first stage. The weights sum to one and are the share of the
    instrument's push that crosses step j-1 -> j. Returns them indexed by j (the value
    reached), one per step between consecutive observed values of T. A negative estimated
    weight is evidence against monotonicity (or noise). See chapter 06.

    >>> from lessons_lib import simulate
    >>> sim = simulate.schooling_near_college(20_000, seed=0)
    >>> w = acr_weights(sim.data, treatment="schooling", instrument="near_college")
    >>> round(float(w.sum()), 6), int(w.idxmax())
    (1.0, 12)
    """
    require_frame(data)
    z = require_binary(data, instrument, role="instrument")
    require_columns(data, [treatment])
    t = data[treatment].to_numpy(dtype=float)
    jump = t[z == 1].mean() - t[z == 0].mean()
    if abs(jump) < 1e-12:
        raise ValueError(f"no first stage: the mean of '{treatment}' is the same whatever "
                         f"'{instrument}', so the weights divide by zero")
    steps = np.unique(t)[1:]
    above = (t[:, None] >= steps[None, :])
    gaps = above[z == 1].mean(axis=0) - above[z == 0].mean(axis=0)
    # a step from value a to value b > a + 1 counts (b - a) unit steps: scale by its width
    widths = np.diff(np.unique(t))
    weights = gaps * widths / jump
    return pd.Series(weights, index=pd.Index(steps, name=treatment), name="ACR weight")
