"""Double machine learning for the partially linear model. See chapter 12.

The partially linear model (Robinson, 1988; Chernozhukov et al., 2018) writes

    Y = theta * T + g(X) + eps,     E[eps | X, T] = 0
    T = m(X) + V,                   E[V | X] = 0

where g and m are unknown functions of the covariates that any machine-learning model
may learn. With l(X) = E[Y | X] and m(X) = E[T | X] (the propensity score e(X) when T
is 0/1), theta is identified by *partialling out* X from both Y and T:

    theta = E[(T - m(X)) (Y - l(X))] / E[(T - m(X))^2].

Double machine learning estimates l and m with machine learning, *cross-fitted* (each
unit's predictions come from models that never saw it), and then regresses the outcome
residual on the treatment residual. The score behind this ratio is Neyman-orthogonal:
small errors in l and m change theta only to second order, which is why flexible,
regularized learners can be used without biasing the effect.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.base import clone, is_classifier
from sklearn.model_selection import KFold

from lessons_lib._validate import require_columns, require_frame, require_level, require_model
from lessons_lib.estimate import Estimate


def fold_ids(n: int, n_folds: int = 5, *, seed: int = 0) -> np.ndarray:
    """The fold (0, 1, ..., n_folds - 1) of each of ``n`` rows, from a shuffled K-fold split.

    This is the split `partially_linear` uses when it is not given ``folds``: scikit-learn's
    ``KFold(n_folds, shuffle=True, random_state=seed)``. Pass the same split to DoubleML
    (``set_sample_splitting``) to reproduce its numbers exactly.

    >>> fold_ids(6, 3, seed=0).tolist()
    [2, 1, 0, 1, 2, 0]
    """
    if not isinstance(n, (int, np.integer)) or n < 2:
        raise ValueError(f"n must be a whole number of at least 2; got {n!r}")
    _check_n_folds(n_folds, n)
    folds = np.empty(n, dtype=int)
    splitter = KFold(n_splits=n_folds, shuffle=True, random_state=seed)
    for k, (_, test) in enumerate(splitter.split(np.zeros((n, 1)))):
        folds[test] = k
    return folds


def cross_fit_predict(model: object, features: np.ndarray, target: np.ndarray,
                      folds: np.ndarray) -> np.ndarray:
    """Out-of-fold predictions of ``target`` from ``features``: the heart of cross-fitting.

    For each fold k, a fresh clone of ``model`` is fitted on the rows outside fold k and
    predicts the rows inside it. A classifier predicts the probability of class 1
    (``predict_proba(...)[:, 1]``), so a 0/1 treatment gets a propensity score.
    """
    features = np.asarray(features, dtype=float)
    target = np.asarray(target, dtype=float)
    folds = np.asarray(folds)
    predictions = np.empty(len(target), dtype=float)
    classify = is_classifier(model)
    for k in np.unique(folds):
        test = folds == k
        fitted = clone(model).fit(features[~test], target[~test])
        if classify:
            predictions[test] = fitted.predict_proba(features[test])[:, 1]
        else:
            predictions[test] = fitted.predict(features[test])
    return predictions


def partially_linear(
    data: pd.DataFrame,
    *,
    outcome: str,
    treatment: str,
    covariates: Sequence[str],
    outcome_model: object,
    treatment_model: object,
    n_folds: int = 5,
    seed: int = 0,
    folds: np.ndarray | None = None,
    n_repeats: int = 1,
    level: float = 0.95,
) -> Estimate:
    """Double/debiased machine learning estimate of theta in the partially linear model.

    Estimand: theta in Y = theta T + g(X) + eps. With a constant effect of a 0/1
    treatment, theta is the ATE. When the effect varies with X, theta is the
    overlap-weighted average effect E[e(X)(1 - e(X)) tau(X)] / E[e(X)(1 - e(X))], which
    weights most the units whose treatment was least predictable.

    Formula (the "partialling-out" score, cross-fitted; DoubleML's DML2):
        l_hat(X_i), m_hat(X_i)  out-of-fold predictions of Y and T from X
        u_i = Y_i - l_hat(X_i),   v_i = T_i - m_hat(X_i)
        theta_hat = sum(v_i u_i) / sum(v_i^2)
        psi_i = v_i (u_i - theta_hat v_i)
        se = sqrt( mean(psi_i^2) / mean(v_i^2)^2 / n )

    Assumptions: no unmeasured confounding given X; overlap (T still varies once X is
    known: Var(T | X) > 0; refused with a ValueError when the cross-fitted treatment model
    explains more than 99.99% of the treatment's variance); the learners estimate l and m well enough (their errors
    shrink faster than n^(-1/4)); the model is partially linear (or theta is read as the
    weighted average above).

    Parameters
    ----------
    data : one row per unit.
    outcome, treatment : column names; the treatment may be 0/1 or continuous.
    covariates : the columns X to partial out.
    outcome_model : any scikit-learn regressor for l(X) = E[Y | X].
    treatment_model : any scikit-learn regressor, or a classifier with ``predict_proba`` when the
        treatment is 0/1, for m(X) = E[T | X].
    n_folds : number of cross-fitting folds (ignored when ``folds`` is given).
    seed : seeds the shuffled K-fold split (see `fold_ids`).
    folds : optional fold number of each row, to fix the split yourself.
    n_repeats : repeat the cross-fitting over this many random splits (seeds ``seed``,
        ``seed + 1``, ...) and report the median estimate, with the standard error that
        makes the interval's upper end the median of the repetitions' upper ends (DoubleML's
        ``n_rep`` aggregation). Makes the estimate depend less on one split.
    level : confidence level of the interval.

    Returns an `Estimate` (estimand "theta"), with extras: the number of
    folds and the R^2 of the two nuisance predictions.

    Agrees with ``doubleml.DoubleMLPLR(..., score="partialling out")`` to machine
    precision given the same learners (fixed random_state) and the same folds. See
    chapter 12.

    Example
    -------
    >>> from sklearn.linear_model import LinearRegression
    >>> from lessons_lib import simulate
    >>> sim = simulate.banner_features(1_000, seed=1)
    >>> X = [c for c in sim.data.columns if c.startswith("x")]
    >>> est = partially_linear(sim.data, outcome="Y", treatment="T", covariates=X, outcome_model=LinearRegression(), treatment_model=LinearRegression())
    >>> est.covers(sim.ate)
    True
    """
    require_frame(data)
    require_level(level)
    if isinstance(covariates, str) or not len(covariates):
        raise ValueError(
            "covariates must be a non-empty list of column names, e.g. ['age', 'income']; "
            "without covariates there is nothing to partial out (use a difference in means)"
        )
    covariates = list(covariates)
    overlap = {outcome, treatment} & set(covariates)
    if overlap:
        raise ValueError(
            f"{sorted(overlap)} cannot be both a covariate and the outcome or treatment; "
            "remove it from covariates"
        )
    require_columns(data, [outcome, treatment, *covariates])
    require_model(outcome_model, "outcome_model", needs=("fit", "predict"))
    require_model(treatment_model, "treatment_model", needs=("fit", "predict"))
    y = data[outcome].to_numpy(dtype=float)
    t = data[treatment].to_numpy(dtype=float)
    x = data[covariates].to_numpy(dtype=float)
    n = len(data)
    if np.ptp(t) == 0:
        raise ValueError(
            f"treatment column '{treatment}' takes a single value: an effect needs units "
            "with different treatments"
        )
    if is_classifier(treatment_model):
        require_model(treatment_model, "treatment_model", needs=("fit", "predict_proba"))
        if not np.isin(np.unique(t), [0.0, 1.0]).all():
            raise ValueError(
                f"treatment_model is a classifier, but treatment '{treatment}' is not 0/1; use a "
                "regressor for a continuous treatment"
            )
    if is_classifier(outcome_model):
        raise ValueError(
            "outcome_model must be a regressor (it predicts the outcome's conditional mean); "
            f"got the classifier {type(outcome_model).__name__}"
        )

    if not isinstance(n_repeats, (int, np.integer)) or isinstance(n_repeats, bool) or n_repeats < 1:
        raise ValueError(f"n_repeats must be a whole number of at least 1; got {n_repeats!r}")
    if n_repeats > 1 and folds is not None:
        raise ValueError("give either folds (one fixed split) or n_repeats > 1 (several random "
                         "splits), not both")
    if folds is None:
        splits = [fold_ids(n, n_folds, seed=seed + r) for r in range(n_repeats)]
    else:
        splits = [_check_folds(folds, n)]
    fits = [_partial_out(x, y, t, outcome_model, treatment_model, split) for split in splits]
    thetas = np.array([fit[0] for fit in fits])
    ses = np.array([fit[1] for fit in fits])
    theta = float(np.median(thetas))
    upper = np.median(thetas + 1.96 * ses)  # DoubleML's aggregation of repeated splits
    se = float((upper - theta) / 1.96) if n_repeats > 1 else float(ses[0])
    r2_y, r2_t = fits[0][2], fits[0][3]
    n_used_folds = len(np.unique(splits[0]))
    extra = {"n_folds": n_used_folds, "outcome_model_r2": r2_y, "treatment_model_r2": r2_t}
    if n_repeats > 1:
        extra["n_repeats"] = n_repeats
        extra["spread_of_repeated_estimates"] = float(np.ptp(thetas))
    method = f"double ML, partialling out, {n_used_folds}-fold cross-fitting"
    if n_repeats > 1:
        method += f", median of {n_repeats} splits"
    return Estimate.from_se(theta, se, n=n, estimand="theta", method=method,
                            level=level, extra=extra)


def _partial_out(x: np.ndarray, y: np.ndarray, t: np.ndarray, outcome_model: object, treatment_model: object,
                 folds: np.ndarray) -> tuple[float, float, float, float]:
    """One cross-fitted partialling out: (theta, se, R^2 of l_hat, R^2 of m_hat)."""
    n = len(y)
    l_hat = cross_fit_predict(outcome_model, x, y, folds)
    m_hat = cross_fit_predict(treatment_model, x, t, folds)
    if not (np.isfinite(l_hat).all() and np.isfinite(m_hat).all()):
        raise ValueError("a nuisance model returned NaN or infinite predictions; check the learners")
    if is_classifier(treatment_model) and ((m_hat <= 0) | (m_hat >= 1)).any():
        raise ValueError(
            "no overlap: the treatment model predicts a propensity of exactly 0 or 1 for "
            f"{int(((m_hat <= 0) | (m_hat >= 1)).sum())} unit(s), whose treatment X determines; "
            "trim them, coarsen X or regularize the classifier"
        )

    u = y - l_hat
    v = t - m_hat
    mean_v2 = np.mean(v * v)
    if mean_v2 < 1e-4 * np.var(t):  # X explains more than 99.99% of the treatment's variance
        raise ValueError(
            "no overlap: once X is partialled out the treatment has almost no variation left "
            f"(the treatment model explains {1 - mean_v2 / np.var(t):.4%} of it), so theta is "
            "not identified; drop the covariates that determine the treatment or use a less "
            "flexible treatment_model"
        )
    theta = np.mean(v * u) / mean_v2
    psi = v * (u - theta * v)
    se = np.sqrt(np.mean(psi**2) / mean_v2**2 / n)
    r2_y = 1 - np.mean(u**2) / np.var(y) if np.var(y) > 0 else float("nan")
    r2_t = 1 - mean_v2 / np.var(t)
    return float(theta), float(se), float(r2_y), float(r2_t)


def _check_n_folds(n_folds: object, n: int) -> None:
    if not isinstance(n_folds, (int, np.integer)) or isinstance(n_folds, bool) or n_folds < 2:
        raise ValueError(f"n_folds must be a whole number of at least 2, such as 5; got {n_folds!r}")
    if n_folds > n // 2:
        raise ValueError(
            f"n_folds = {n_folds} is too many for {n} rows: each fold needs at least two units "
            "to predict; use fewer folds"
        )


def _check_folds(folds: object, n: int) -> np.ndarray:
    folds = np.asarray(folds)
    if folds.shape != (n,):
        raise ValueError(
            f"folds must give one fold number per row ({n}); got an array of shape {folds.shape}"
        )
    if folds.dtype.kind not in "iu":
        raise ValueError("folds must be whole numbers (the fold of each row), e.g. from fold_ids()")
    if len(np.unique(folds)) < 2:
        raise ValueError("folds must contain at least two different folds for cross-fitting")
    return folds
