"""Answers as plain data: what crosses from an untrusted submission to the checker.

A submission's answers come back as JSON built only from numbers, strings, lists and
dicts, never as pickles (unpickling untrusted bytes runs untrusted code). Arrays,
Series, DataFrames and Estimates are encoded with a tag and rebuilt on the checker's side
from their plain contents. Anything else is described by its type and a short repr.
"""

from __future__ import annotations

import math
from numbers import Integral, Real

import numpy as np
import pandas as pd

from lessons_lib.estimate import Estimate

__all__ = ["MAX_ITEMS", "AnswerTooLarge", "Opaque", "from_plain", "roundtrip", "to_plain"]

MAX_ITEMS = 200_000  # the largest array or table an answer may be


class AnswerTooLarge(ValueError):
    """An answer with more than MAX_ITEMS elements."""


def _number(x: float) -> float | dict:
    x = float(x)
    if math.isfinite(x):
        return x
    return {"__float__": "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")}


def _check_size(n: int, what: str) -> None:
    if n > MAX_ITEMS:
        raise AnswerTooLarge(f"{what} has {n:,} elements; answers are limited to {MAX_ITEMS:,}")


def to_plain(obj: object, _depth: int = 0) -> object:
    """Encode an answer as JSON-safe plain data (see the module docstring)."""
    if _depth > 20:
        raise ValueError("answer is nested more than 20 levels deep")
    if obj is None or isinstance(obj, (bool, np.bool_)):
        return None if obj is None else bool(obj)
    if isinstance(obj, (Integral, np.integer)):
        value = int(obj)
        return value if abs(value) < 2**53 else _number(float(value))
    if isinstance(obj, (Real, np.floating)):
        return _number(obj)
    if isinstance(obj, str):
        _check_size(len(obj), "a string")
        return obj
    if isinstance(obj, Estimate):
        fields = obj.to_dict()
        fields["extra"] = {str(k): to_plain(v, _depth + 1) for k, v in fields["extra"].items()}
        return {"__estimate__": {k: to_plain(v, _depth + 1) if k != "extra" else v
                                 for k, v in fields.items()}}
    if isinstance(obj, np.ndarray):
        _check_size(obj.size, "an array")
        if obj.dtype.kind in "biuf":
            return {"__ndarray__": [_number(v) for v in obj.astype(float).ravel()],
                    "shape": list(obj.shape)}
        return {"__ndarray__": [to_plain(v, _depth + 1) for v in obj.ravel().tolist()],
                "shape": list(obj.shape)}
    if isinstance(obj, pd.Series):
        _check_size(len(obj), "a Series")
        return {"__series__": {"index": [to_plain(i, _depth + 1) for i in obj.index],
                               "values": [to_plain(v, _depth + 1) for v in obj.tolist()],
                               "name": to_plain(obj.name, _depth + 1)
                               if isinstance(obj.name, (str, int, float, type(None))) else None}}
    if isinstance(obj, pd.DataFrame):
        _check_size(obj.size, "a DataFrame")
        return {"__dataframe__": {
            "columns": [str(c) for c in obj.columns],
            "index": [to_plain(i, _depth + 1) for i in obj.index],
            "data": [[to_plain(v, _depth + 1) for v in row] for row in obj.itertuples(index=False)],
        }}
    if isinstance(obj, (list, tuple, set, frozenset)):
        items = sorted(obj, key=repr) if isinstance(obj, (set, frozenset)) else list(obj)
        _check_size(len(items), "a list")
        return [to_plain(v, _depth + 1) for v in items]
    if isinstance(obj, dict):
        _check_size(len(obj), "a dict")
        return {"__dict__": [[to_plain(k, _depth + 1), to_plain(v, _depth + 1)]
                             for k, v in obj.items()]}
    if callable(obj):
        return {"__callable__": getattr(obj, "__name__", type(obj).__name__)}
    return {"__object__": type(obj).__name__, "repr": repr(obj)[:200]}


class Opaque:
    """An answer the checker cannot rebuild (a function, an unknown object)."""

    def __init__(self, kind: str, text: str = "") -> None:
        self.kind, self.text = kind, text

    def __repr__(self) -> str:
        return f"<{self.kind}{': ' + self.text if self.text else ''}>"


def from_plain(plain: object) -> object:
    """Rebuild an answer from `to_plain`'s encoding, on the checker's side."""
    if isinstance(plain, list):
        return [from_plain(v) for v in plain]
    if not isinstance(plain, dict):
        return plain
    if "__float__" in plain:
        return float(plain["__float__"])
    if "__estimate__" in plain:
        fields = {k: from_plain(v) for k, v in plain["__estimate__"].items()}
        if isinstance(fields.get("extra"), dict):
            fields["extra"] = {k: from_plain(v) for k, v in fields["extra"].items()}
        try:
            return Estimate(**fields)
        except TypeError:
            return Opaque("Estimate", "with unexpected fields")
    if "__ndarray__" in plain:
        values = [from_plain(v) for v in plain["__ndarray__"]]
        try:
            return np.asarray(values, dtype=float).reshape(plain["shape"])
        except (TypeError, ValueError):
            return np.asarray(values, dtype=object).reshape(plain["shape"])
    if "__series__" in plain:
        body = plain["__series__"]
        return pd.Series([from_plain(v) for v in body["values"]],
                         index=[from_plain(i) for i in body["index"]], name=body.get("name"))
    if "__dataframe__" in plain:
        body = plain["__dataframe__"]
        rows = [[from_plain(v) for v in row] for row in body["data"]]
        return pd.DataFrame(rows, columns=body["columns"],
                            index=[from_plain(i) for i in body["index"]] or None)
    if "__dict__" in plain:
        result = {}
        for key, value in plain["__dict__"]:
            key = from_plain(key)
            try:
                hash(key)
            except TypeError:
                key = repr(key)
            result[key] = from_plain(value)
        return result
    if "__callable__" in plain:
        return Opaque("function", str(plain["__callable__"]))
    if "__object__" in plain:
        return Opaque(str(plain["__object__"]), str(plain.get("repr", "")))
    return plain


def roundtrip(obj: object) -> object:
    """What the checker would see of ``obj``: ``from_plain(to_plain(obj))``."""
    return from_plain(to_plain(obj))
