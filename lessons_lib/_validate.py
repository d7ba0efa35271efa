"""Input checks shared by every estimator: each raises a ValueError a learner can act on.

Every public estimator calls these before any arithmetic, so a bad input never turns
into a silent NaN or a numpy traceback from deep inside.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd


def require_frame(data: object, name: str = "data") -> pd.DataFrame:
    """Check that ``data`` is a non-empty DataFrame."""
    if not isinstance(data, pd.DataFrame):
        raise ValueError(
            f"{name} must be a pandas DataFrame with one row per unit; got {type(data).__name__}"
        )
    if len(data) == 0:
        raise ValueError(f"{name} has no rows: there is nothing to estimate from")
    return data


def require_columns(data: pd.DataFrame, columns: Sequence[str], *, numeric: bool = True) -> None:
    """Check that the columns exist, have no missing values and (by default) are numeric."""
    missing = [c for c in columns if c not in data.columns]
    if missing:
        raise ValueError(
            f"column(s) {missing} not found in the data; available columns: {list(data.columns)}"
        )
    for column in columns:
        values = data[column]
        n_missing = int(values.isna().sum())
        if n_missing:
            raise ValueError(
                f"column '{column}' has {n_missing} missing value(s); drop or impute them first "
                f"(for example data.dropna(subset=['{column}']))"
            )
        if numeric:
            if not (pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values)):
                raise ValueError(
                    f"column '{column}' must be numeric; found dtype {values.dtype}. "
                    "Encode categories as numbers (e.g. pd.get_dummies) first"
                )
            if not np.isfinite(values.to_numpy(dtype=float)).all():
                raise ValueError(f"column '{column}' has infinite values; remove them first")


def require_binary(data: pd.DataFrame, column: str, *, role: str = "treatment") -> np.ndarray:
    """Return the column as a 0/1 integer array, or explain why it is not binary."""
    require_columns(data, [column])
    values = data[column].to_numpy(dtype=float)
    if not ((values == 0) | (values == 1)).all():
        found = np.unique(values)  # only on the error path: it sorts the whole column
        shown = found[:10].tolist()
        raise ValueError(
            f"{role} column '{column}' must be 0/1; found values {shown}"
            + (" ..." if len(found) > 10 else "")
        )
    n_treated = int(values.sum())
    if n_treated in (0, len(values)):
        raise ValueError(
            f"{role} column '{column}' has only the value {int(values[0])}: an effect needs "
            "both treated (1) and untreated (0) units"
        )
    return values.astype(int)


def require_min_group_size(treatment: np.ndarray, minimum: int = 2, *, column: str = "T") -> None:
    """Check that both groups have at least ``minimum`` units."""
    n_treated = int(treatment.sum())
    n_control = int(len(treatment) - n_treated)
    if min(n_treated, n_control) < minimum:
        raise ValueError(
            f"need at least {minimum} treated and {minimum} control units in '{column}'; "
            f"found {n_treated} treated and {n_control} control"
        )


def require_level(level: float) -> None:
    """Check a confidence level such as 0.95."""
    if not (isinstance(level, (int, float)) and 0 < level < 1):
        raise ValueError(f"level must be a number between 0 and 1, such as 0.95; got {level!r}")


def require_model(model: object, role: str, *, needs: Sequence[str] = ("fit", "predict")) -> None:
    """Check that ``model`` is a scikit-learn style estimator with the methods ``needs``."""
    if isinstance(model, type):
        raise ValueError(
            f"{role} must be a model instance such as LinearRegression(), not the class "
            f"{model.__name__}; add the parentheses"
        )
    missing = [m for m in needs if not callable(getattr(model, m, None))]
    if missing:
        raise ValueError(
            f"{role} must be a scikit-learn style model with {', '.join(needs)}; "
            f"{type(model).__name__} lacks {', '.join(missing)}"
        )
