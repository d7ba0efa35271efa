"""Input checks shared by the meta-learners and the CATE diagnostics of `lessons_lib.hte`.

Each raises a ValueError that names the problem and what to do. See chapter 13.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import is_classifier

from lessons_lib._validate import require_model

__all__ = ["_as_features", "_check_xty", "_check_regressor", "_check_classifier",
           "_check_propensity"]

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
