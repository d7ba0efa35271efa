"""Heterogeneous treatment effects: meta-learners for the CATE and how to check them. See chapter 13.

The conditional average treatment effect (CATE) is

    tau(x) = E[Y(1) - Y(0) | X = x],

identified, under no unmeasured confounding given X and overlap (0 < e(x) < 1), by
mu1(x) - mu0(x) with mu_t(x) = E[Y | X = x, T = t]. A *meta-learner* turns any
supervised-learning model into a CATE estimator. The four here share one
scikit-learn-style life cycle, ``fit(X, T, Y)`` then ``effect(X)`` (``predict`` is an alias),
and take any scikit-learn regressor (and, where a propensity score is needed, any
classifier with ``predict_proba``):

- `SLearner` ("single"): one model of Y on (X, T); tau(x) = f(x, 1) - f(x, 0).
- `TLearner` ("two"): one model per arm; tau(x) = mu1(x) - mu0(x).
- `XLearner` (Kunzel et al., 2019): impute each unit's effect with the other arm's model,
  learn those effects, and blend the two by the propensity score.
- `DRLearner` (Kennedy, 2023): regress cross-fitted doubly robust (AIPW) pseudo-outcomes
  on X.

When the truth is unknown, two checks of a CATE model on held-out data come from
Chernozhukov, Demirer, Duflo and Fernandez-Val: `calibration` sorts units into groups by
their predicted effect and estimates each group's average effect with doubly robust scores
(GATES); `best_linear_predictor` regresses those scores on the centred predictions and
tests whether the predictions carry any real heterogeneity (BLP).
Chapter 14 (uplift) builds on these classes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.base import BaseEstimator, clone

from lessons_lib._hte_inputs import (
    _as_features,
    _check_classifier,
    _check_propensity,
    _check_regressor,
    _check_xty,
)
from lessons_lib._inference import ols
from lessons_lib.dml import _check_n_folds, fold_ids
from lessons_lib.estimate import Estimate

__all__ = ["SLearner", "TLearner", "XLearner", "DRLearner", "dr_pseudo_outcomes", "calibration",
           "best_linear_predictor", "BestLinearPredictor"]


class _MetaLearner(BaseEstimator):
    """What every meta-learner shares: ``effect`` (alias ``predict``) after ``fit``.

    Meta-learners are scikit-learn estimators: ``get_params``, ``set_params`` and
    ``sklearn.base.clone`` work on them, so they can be cloned, copied and compared.
    """

    def _require_fitted(self) -> None:
        if not getattr(self, "fitted_", False):
            raise ValueError(f"this {type(self).__name__} is not fitted yet; call "
                             ".fit(X, T, Y) first")

    def effect(self, X: object) -> np.ndarray:
        """The estimated CATE tau(x) of every row of X."""
        self._require_fitted()
        x = _as_features(X)
        if x.shape[1] != self.n_features_in_:
            raise ValueError(f"X has {x.shape[1]} features but the learner was fitted with "
                             f"{self.n_features_in_}")
        return self._effect(x)

    def predict(self, X: object) -> np.ndarray:
        """Alias of `effect`, so a meta-learner fits where scikit-learn expects predict."""
        return self.effect(X)

    def ate(self, X: object) -> float:
        """The average of the estimated CATE over the rows of X (no standard error)."""
        return float(np.mean(self.effect(X)))


class SLearner(_MetaLearner):
    """The S-learner: one model of the outcome with the treatment as a feature.

    Fit f(x, t) ~ E[Y | X = x, T = t] on the columns [X, T]; then
    tau(x) = f(x, 1) - f(x, 0).

    Simple and data-efficient, but a regularized model (a penalized regression, a tree
    ensemble) is free to ignore T, which shrinks the estimated effects towards zero: the
    regularization bias of chapter 12. Assumes no unmeasured confounding and overlap.
    See chapter 13.

    >>> from sklearn.linear_model import LinearRegression
    >>> from lessons_lib import simulate
    >>> sim = simulate.heterogeneous_effects(2_000, seed=0)
    >>> X = sim.data[["x0", "x1", "x2", "x3", "x4"]]
    >>> s = SLearner(LinearRegression()).fit(X, sim.data["T"], sim.data["Y"])
    >>> round(s.ate(X), 1)   # a linear S-learner finds the average effect, not its variation
    2.0
    """

    def __init__(self, model: object) -> None:
        _check_regressor(model, "model")
        self.model = model

    def fit(self, X: object, T: object, Y: object) -> SLearner:
        x, t, y = _check_xty(X, T, Y)
        self.model_ = clone(self.model).fit(np.column_stack([x, t]), y)
        self.n_features_in_, self.fitted_ = x.shape[1], True
        return self

    def _effect(self, x: np.ndarray) -> np.ndarray:
        ones, zeros = np.ones(len(x)), np.zeros(len(x))
        return (self.model_.predict(np.column_stack([x, ones]))
                - self.model_.predict(np.column_stack([x, zeros])))


class TLearner(_MetaLearner):
    """The T-learner: one outcome model per arm.

    Fit mu0 on the control units and mu1 on the treated units; tau(x) = mu1(x) - mu0(x).

    Each model sees only its own arm, so nothing shrinks the effect towards zero; but
    each model's errors go straight into the difference, and with a small arm those
    errors are large. Assumes no unmeasured confounding and overlap. See chapter 13.

    ``model`` is used for both arms unless ``model_treated`` is given.
    """

    def __init__(self, model: object, model_treated: object | None = None) -> None:
        _check_regressor(model, "model")
        if model_treated is not None:
            _check_regressor(model_treated, "model_treated")
        self.model, self.model_treated = model, model_treated

    def fit(self, X: object, T: object, Y: object) -> TLearner:
        x, t, y = _check_xty(X, T, Y)
        treated_model = self.model if self.model_treated is None else self.model_treated
        self.model_control_ = clone(self.model).fit(x[t == 0], y[t == 0])
        self.model_treated_ = clone(treated_model).fit(x[t == 1], y[t == 1])
        self.n_features_in_, self.fitted_ = x.shape[1], True
        return self

    def _effect(self, x: np.ndarray) -> np.ndarray:
        return self.model_treated_.predict(x) - self.model_control_.predict(x)


class XLearner(_MetaLearner):
    """The X-learner of Kunzel, Sekhon, Bickel and Yu (2019).

    1. Fit mu0 on the controls and mu1 on the treated (as the T-learner).
    2. Impute individual effects: D1_i = Y_i - mu0(X_i) for the treated,
       D0_i = mu1(X_i) - Y_i for the controls.
    3. Fit tau1 on (X, D1) among the treated and tau0 on (X, D0) among the controls.
    4. Blend: tau(x) = e(x) tau0(x) + (1 - e(x)) tau1(x), with e(x) the propensity score.

    The blend leans on the effect model learned from the larger arm where the other arm
    is scarce, which helps when the arms are very unequal. ``propensity_model`` is any
    classifier with ``predict_proba`` (fitted on the controls followed by the treated, as
    in EconML, so the two agree exactly). Assumes no unmeasured confounding and overlap.
    See chapter 13.
    """

    def __init__(self, model: object, propensity_model: object,
                 effect_model: object | None = None) -> None:
        _check_regressor(model, "model")
        _check_classifier(propensity_model, "propensity_model")
        if effect_model is not None:
            _check_regressor(effect_model, "effect_model")
        self.model, self.propensity_model, self.effect_model = model, propensity_model, effect_model

    def fit(self, X: object, T: object, Y: object) -> XLearner:
        x, t, y = _check_xty(X, T, Y)
        effect_model = self.model if self.effect_model is None else self.effect_model
        control, treated = t == 0, t == 1
        self.model_control_ = clone(self.model).fit(x[control], y[control])
        self.model_treated_ = clone(self.model).fit(x[treated], y[treated])
        imputed_treated = y[treated] - self.model_control_.predict(x[treated])
        imputed_control = self.model_treated_.predict(x[control]) - y[control]
        self.effect_treated_ = clone(effect_model).fit(x[treated], imputed_treated)
        self.effect_control_ = clone(effect_model).fit(x[control], imputed_control)
        order = np.r_[np.flatnonzero(control), np.flatnonzero(treated)]
        self.propensity_model_ = clone(self.propensity_model).fit(x[order], t[order])
        self.n_features_in_, self.fitted_ = x.shape[1], True
        return self

    def _effect(self, x: np.ndarray) -> np.ndarray:
        propensity = self.propensity_model_.predict_proba(x)[:, 1]
        return (propensity * self.effect_control_.predict(x)
                + (1 - propensity) * self.effect_treated_.predict(x))


def dr_pseudo_outcomes(X: object, T: object, Y: object, outcome_model: object,
                       propensity_model: object, *, n_folds: int = 5, seed: int = 0,
                       folds: np.ndarray | None = None) -> np.ndarray:
    """Cross-fitted doubly robust (AIPW) scores, one per unit.

        phi_i = mu1(X_i) - mu0(X_i) + T_i (Y_i - mu1(X_i)) / e(X_i)
                - (1 - T_i) (Y_i - mu0(X_i)) / (1 - e(X_i))

    with mu0, mu1 (``outcome_model`` fitted to each arm) and e (``propensity_model``)
    fitted on the other folds. E[phi | X = x] = tau(x) if either the outcome models or the
    propensity model is right, so their average estimates the ATE (the AIPW estimator of
    chapter 04) and their regression on X estimates the CATE (the DR-learner).
    Raises a ValueError when a predicted propensity is exactly 0 or 1 (no overlap).
    """
    x, t, y = _check_xty(X, T, Y)
    _check_regressor(outcome_model, "outcome_model")
    _check_classifier(propensity_model, "propensity_model")
    n = len(t)
    if folds is None:
        folds = fold_ids(n, n_folds, seed=seed)
    else:
        folds = np.asarray(folds)
        if folds.shape != (n,) or folds.dtype.kind not in "iu" or len(np.unique(folds)) < 2:
            raise ValueError("folds must give a whole-number fold to each unit, with at least 2 folds")
    mu0, mu1, propensity = np.empty(n), np.empty(n), np.empty(n)
    for k in np.unique(folds):
        test, train = folds == k, folds != k
        for arm, target in ((0, mu0), (1, mu1)):
            rows = train & (t == arm)
            if rows.sum() < 2:
                raise ValueError(f"fold {k}: fewer than 2 units with T = {arm} to train on; "
                                 "use fewer folds")
            target[test] = clone(outcome_model).fit(x[rows], y[rows]).predict(x[test])
        fitted = clone(propensity_model).fit(x[train], t[train])
        propensity[test] = fitted.predict_proba(x[test])[:, 1]
    _check_propensity(propensity)
    return (mu1 - mu0 + t * (y - mu1) / propensity
            - (1 - t) * (y - mu0) / (1 - propensity))


class DRLearner(_MetaLearner):
    """The DR-learner (Kennedy, 2023): regress doubly robust pseudo-outcomes on X.

    1. Cross-fit mu0, mu1 (``outcome_model``, one fit per arm) and e (``propensity_model``).
    2. Form the AIPW pseudo-outcome phi_i of each unit (see `dr_pseudo_outcomes`).
    3. Fit ``final_model`` on (X, phi); tau(x) = final_model.predict(x).

    Because E[phi | X] = tau(x) whenever either nuisance is right, and errors enter only as
    products (the Neyman orthogonality of chapter 12), the final regression behaves almost
    as if it had the true individual effects. The average of phi is the AIPW estimate of
    the ATE, with its standard error: `ate_estimate`. Assumes no unmeasured confounding and
    overlap. Agrees with EconML's ``DRLearner`` when its regression model fits one model
    per arm and the folds are the same. See chapter 13.
    """

    def __init__(self, outcome_model: object, propensity_model: object,
                 final_model: object, *, n_folds: int = 5, seed: int = 0) -> None:
        _check_regressor(outcome_model, "outcome_model")
        _check_classifier(propensity_model, "propensity_model")
        _check_regressor(final_model, "final_model")
        self.outcome_model, self.propensity_model = outcome_model, propensity_model
        self.final_model, self.n_folds, self.seed = final_model, n_folds, seed

    def fit(self, X: object, T: object, Y: object, *, folds: np.ndarray | None = None) -> DRLearner:
        x, t, y = _check_xty(X, T, Y)
        if folds is None:
            _check_n_folds(self.n_folds, len(t))
        self.pseudo_outcomes_ = dr_pseudo_outcomes(
            x, t, y, self.outcome_model, self.propensity_model, n_folds=self.n_folds,
            seed=self.seed, folds=folds)
        self.final_model_ = clone(self.final_model).fit(x, self.pseudo_outcomes_)
        self.n_features_in_, self.fitted_ = x.shape[1], True
        return self

    def _effect(self, x: np.ndarray) -> np.ndarray:
        return self.final_model_.predict(x)

    def ate_estimate(self, level: float = 0.95) -> Estimate:
        """The AIPW estimate of the ATE from the fitted pseudo-outcomes: mean(phi), sd(phi)/sqrt(n)."""
        self._require_fitted()
        phi = self.pseudo_outcomes_
        return Estimate.from_se(phi.mean(), phi.std(ddof=1) / np.sqrt(len(phi)), n=len(phi),
                                estimand="ATE", method="AIPW (DR-learner pseudo-outcomes)",
                                level=level)


def calibration(predicted_effect: object, X: object, T: object, Y: object,
                outcome_model: object, propensity_model: object, *, n_groups: int = 5,
                n_folds: int = 5, seed: int = 0, level: float = 0.95) -> pd.DataFrame:
    """Sorted groups of predicted effect against their estimated effects (GATES-style).

    Use it on held-out units that the CATE model never saw. Units are cut into
    ``n_groups`` equal-sized groups by ``predicted_effect`` (lowest first). Each group's
    average effect is estimated by the mean of its cross-fitted doubly robust
    pseudo-outcomes (`dr_pseudo_outcomes`), with the standard error sd / sqrt(n_group).

    A well-calibrated model's groups line up on the diagonal (estimated = predicted); a
    model that found real heterogeneity shows estimated effects that rise from group to
    group; a model that found none shows a flat line. Chernozhukov, Demirer, Duflo and
    Fernandez-Val call these group averages GATES.

    Returns a DataFrame with one row per group: ``group`` (1 = lowest predictions), ``n``,
    ``predicted`` (mean prediction), ``estimated``, ``se``, ``ci_low``, ``ci_high``.
    """
    x, t, y = _check_xty(X, T, Y)
    predicted = np.asarray(predicted_effect, dtype=float).ravel()
    if predicted.shape != (len(t),) or not np.isfinite(predicted).all():
        raise ValueError("predicted_effect must hold one finite predicted effect per unit of X")
    if not isinstance(n_groups, (int, np.integer)) or n_groups < 2 or n_groups > len(t) // 10:
        raise ValueError(f"n_groups must be a whole number from 2 to n / 10 = {len(t) // 10}; "
                         f"got {n_groups!r}")
    if not 0 < level < 1:
        raise ValueError(f"level must be between 0 and 1, such as 0.95; got {level!r}")
    phi = dr_pseudo_outcomes(x, t, y, outcome_model, propensity_model, n_folds=n_folds, seed=seed)
    ranks = stats.rankdata(predicted, method="ordinal") - 1
    groups = (ranks * n_groups // len(t)) + 1
    q = stats.norm.ppf(1 - (1 - level) / 2)
    rows = []
    for g in range(1, n_groups + 1):
        members = groups == g
        estimate = phi[members].mean()
        se = phi[members].std(ddof=1) / np.sqrt(members.sum())
        rows.append({"group": g, "n": int(members.sum()),
                     "predicted": float(predicted[members].mean()), "estimated": float(estimate),
                     "se": float(se), "ci_low": float(estimate - q * se),
                     "ci_high": float(estimate + q * se)})
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class BestLinearPredictor:
    """The BLP of the true CATE given a model's predictions: tau(X) ~ beta1 + beta2 (S - mean S).

    ``ate`` is beta1 (an estimate of the ATE), ``slope`` is beta2 (the "heterogeneity
    loading"), each an `Estimate` with a heteroskedasticity-robust (HC1) standard error;
    ``p_no_heterogeneity`` tests beta2 = 0 and ``p_calibrated`` tests beta2 = 1 (two-sided).
    """

    ate: Estimate
    slope: Estimate
    p_no_heterogeneity: float
    p_calibrated: float

    def __str__(self) -> str:
        return (f"BLP: beta1 (ATE) = {self.ate.value:.3f} (SE {self.ate.se:.3f}); "
                f"beta2 = {self.slope.value:.3f} (SE {self.slope.se:.3f}); "
                f"p(beta2 = 0) = {self.p_no_heterogeneity:.3f}, "
                f"p(beta2 = 1) = {self.p_calibrated:.3f}")


def best_linear_predictor(predicted_effect: object, X: object, T: object, Y: object,
                          outcome_model: object, propensity_model: object, *, n_folds: int = 5,
                          seed: int = 0, folds: np.ndarray | None = None,
                          level: float = 0.95) -> BestLinearPredictor:
    """The best-linear-predictor (BLP) test of a CATE model, with doubly robust scores.

    Use it on held-out units that the CATE model never saw. With S(X) the model's predicted
    effect, the best linear predictor of the true CATE given S is

        BLP[tau(X) | S(X)] = beta1 + beta2 (S(X) - E[S]),
        beta1 = ATE,   beta2 = Cov(tau(X), S(X)) / Var(S(X)).

    Because E[phi | X] = tau(X) for the doubly robust pseudo-outcome phi (`dr_pseudo_outcomes`,
    cross-fitted on these units), beta1 and beta2 are the coefficients of the least-squares
    regression of phi on 1 and S - mean(S); the standard errors are HC1. beta2 = 0 means the
    predictions carry no information about the heterogeneity (or there is none); beta2 = 1
    means they are calibrated (S is the BLP itself, as is the true CATE); 0 < beta2 < 1 means
    the predictions spread more than the effects they track. Chernozhukov, Demirer, Duflo and
    Fernandez-Val propose it for randomized experiments (their weighted-residual and
    Horvitz-Thompson versions use the known propensity); the doubly robust version here
    also allows an estimated propensity, as EconML's ``DRTester.evaluate_blp`` does.

    Assumptions: no unmeasured confounding and overlap (the pseudo-outcomes are unbiased for
    tau(X) only then); S was fitted on other units; the nuisance models are good enough that
    the product of their errors is small.

    beta1's standard error treats S as fixed, so its interval is for the mean CATE of these
    units given S; when S explains much of tau it is narrower than an interval for the
    population ATE (use `DRLearner.ate_estimate` or `dml.interactive_regression` for that).

    Returns a `BestLinearPredictor`. Its slope agrees with EconML's ``DRTester`` BLP given the
    same nuisance models and folds (DRTester reports a non-robust SE). See chapter 13.
    """
    x, t, y = _check_xty(X, T, Y)
    predicted = np.asarray(predicted_effect, dtype=float).ravel()
    if predicted.shape != (len(t),) or not np.isfinite(predicted).all():
        raise ValueError("predicted_effect must hold one finite predicted effect per unit of X")
    if np.ptp(predicted) == 0:
        raise ValueError("predicted_effect is the same for every unit: a constant prediction has "
                         "no slope to test; use calibration or the ATE instead")
    if not (isinstance(level, (int, float)) and 0 < level < 1):
        raise ValueError(f"level must be between 0 and 1, such as 0.95; got {level!r}")
    phi = dr_pseudo_outcomes(x, t, y, outcome_model, propensity_model, n_folds=n_folds,
                             seed=seed, folds=folds)
    design = np.column_stack([np.ones(len(t)), predicted - predicted.mean()])
    fit = ols(phi, design, cov_type="HC1", names=["beta1", "beta2"],
              what="the BLP regression")
    (b1, b2), (se1, se2) = np.asarray(fit.params), np.asarray(fit.bse)
    method = "BLP of the CATE: OLS of DR pseudo-outcomes on centred predictions (HC1)"
    ate = Estimate.from_se(b1, se1, n=len(t), estimand="ATE", method=method, level=level)
    slope = Estimate.from_se(b2, se2, n=len(t), estimand="BLP slope", method=method, level=level)
    return BestLinearPredictor(ate=ate, slope=slope,
                               p_no_heterogeneity=float(2 * stats.norm.sf(abs(b2) / se2)),
                               p_calibrated=float(2 * stats.norm.sf(abs(b2 - 1) / se2)))
