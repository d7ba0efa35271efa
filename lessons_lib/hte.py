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

When the truth is unknown, `calibration` checks a CATE model on held-out data: sort units
into groups by their predicted effect and estimate each group's average effect with
doubly robust scores (the GATES idea of Chernozhukov, Demirer, Duflo and Fernandez-Val).
Chapter 14 (uplift) builds on these classes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.base import BaseEstimator, clone, is_classifier

from lessons_lib._validate import require_model
from lessons_lib.dml import _check_n_folds, fold_ids
from lessons_lib.estimate import Estimate

__all__ = ["SLearner", "TLearner", "XLearner", "DRLearner", "dr_pseudo_outcomes", "calibration"]


# --- input checks ----------------------------------------------------------------------------

def _as_features(X: object, *, n: int | None = None) -> np.ndarray:
    """X as a 2-D float array (a DataFrame, array or list of rows), with a clear error."""
    if isinstance(X, pd.Series):
        X = X.to_frame()
    if isinstance(X, pd.DataFrame):
        bad = [c for c in X.columns if not (pd.api.types.is_numeric_dtype(X[c])
                                            or pd.api.types.is_bool_dtype(X[c]))]
        if bad:
            raise ValueError(f"X column(s) {bad} are not numeric; encode them first "
                             "(e.g. pd.get_dummies)")
    try:
        array = np.asarray(X, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"X must be a numeric table (DataFrame or 2-D array): {exc}") from None
    if array.ndim == 1:
        array = array.reshape(-1, 1)
    if array.ndim != 2 or array.shape[0] == 0:
        raise ValueError(f"X must be a non-empty 2-D table of features; got shape {array.shape}")
    if not np.isfinite(array).all():
        raise ValueError("X has missing or infinite values; drop or impute them first")
    if n is not None and array.shape[0] != n:
        raise ValueError(f"X has {array.shape[0]} rows but T and Y have {n}; pass the same units")
    return array


def _check_xty(X: object, T: object, Y: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    t = np.asarray(T, dtype=float).ravel() if not isinstance(T, str) else None
    if t is None:
        raise ValueError("T must be an array of 0/1 treatments, not a column name")
    y = np.asarray(Y, dtype=float).ravel()
    if len(t) != len(y):
        raise ValueError(f"T has {len(t)} values but Y has {len(y)}; pass one of each per unit")
    if not (np.isfinite(t).all() and np.isfinite(y).all()):
        raise ValueError("T or Y has missing or infinite values; drop those units first")
    found = np.unique(t)
    if not np.isin(found, [0.0, 1.0]).all():
        raise ValueError(f"T must be 0/1 (treated or not); found values {found[:10].tolist()}")
    n_treated = int(t.sum())
    if min(n_treated, len(t) - n_treated) < 2:
        raise ValueError(f"need at least 2 treated and 2 control units; found {n_treated} treated "
                         f"and {len(t) - n_treated} control")
    x = _as_features(X, n=len(t))
    return x, t.astype(int), y


def _check_regressor(model: object, role: str) -> None:
    require_model(model, role, needs=("fit", "predict"))
    if is_classifier(model):
        raise ValueError(f"{role} must be a regressor (it predicts an outcome or an effect); "
                         f"got the classifier {type(model).__name__}")


def _check_classifier(model: object, role: str) -> None:
    require_model(model, role, needs=("fit", "predict_proba"))


def _check_propensity(propensity: np.ndarray) -> None:
    outside = (propensity <= 0) | (propensity >= 1)
    if outside.any():
        raise ValueError(
            f"no overlap: the propensity model predicts exactly 0 or 1 for {int(outside.sum())} "
            "unit(s); their effects cannot be estimated. Regularize the classifier, trim those "
            "units or coarsen X"
        )


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
