"""Structural causal models: simulate from one, intervene on it, test what it implies.

See chapters 08 and 09.

A structural causal model (SCM) gives every variable V a structural equation
V := f_V(parents of V, U_V), with mutually independent noises U_V. Its graph draws an arrow
from each parent to its child. The linear-Gaussian SCM used here is

    V := intercept_V + sum over parents P of  w_{P -> V} * P  +  noise_sd_V * eps_V,
    eps_V ~ N(0, 1) independent,

solved in topological order (causes before effects). The intervention do(V = v) replaces
V's equation by the constant v and leaves every other equation alone, which is exactly
the graph surgery of `lessons_lib.graphs.DAG.do`. In a linear SCM the total effect of A on
B is the sum, over the directed paths from A to B, of the product of the weights along
the path (Wright's path rule, 1921).

d-separation in the graph implies conditional independence in the data (the global
Markov property). For Gaussian data, X _||_ Y | S is the same as a zero partial
correlation, which `fisher_z_test` tests.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import networkx as nx
import numpy as np
import pandas as pd

from lessons_lib._validate import require_columns, require_frame
from lessons_lib.graphs import DAG

__all__ = ["simulate_linear", "total_effect", "partial_correlation", "fisher_z_test"]


def _check_weights(dag: DAG, weights: Mapping[tuple[str, str], float]) -> dict[tuple[str, str], float]:
    if not isinstance(dag, DAG):
        raise ValueError(f"dag must be a lessons_lib.graphs.DAG; got {type(dag).__name__}")
    if not isinstance(weights, Mapping):
        raise ValueError("weights must be a dict {(cause, effect): weight}, one entry per arrow")
    edges = set(dag.edges)
    extra = [e for e in weights if e not in edges]
    if extra:
        raise ValueError(f"weights given for {extra}, which are not arrows of the graph {dag!r}")
    missing = [e for e in dag.edges if e not in weights]
    if missing:
        raise ValueError(f"no weight for arrow(s) {missing}: give every arrow a weight (0 is allowed)")
    clean = {}
    for edge, w in weights.items():
        if not isinstance(w, (int, float, np.integer, np.floating)) or not np.isfinite(w):
            raise ValueError(f"the weight of {edge} must be a finite number; got {w!r}")
        clean[edge] = float(w)
    return clean


def _per_node(dag: DAG, value: float | Mapping[str, float], what: str, default: float) -> dict[str, float]:
    if isinstance(value, Mapping):
        unknown = [v for v in value if v not in dag]
        if unknown:
            raise ValueError(f"{what} given for unknown node(s) {unknown}")
        values = {v: float(value.get(v, default)) for v in dag.nodes}
    else:
        values = {v: float(value) for v in dag.nodes}
    if not all(np.isfinite(list(values.values()))):
        raise ValueError(f"{what} must be finite numbers")
    return values


def simulate_linear(dag: DAG, weights: Mapping[tuple[str, str], float], *, n: int, seed: int,
                    noise_sd: float | Mapping[str, float] = 1.0,
                    intercepts: float | Mapping[str, float] = 0.0,
                    intervene: Mapping[str, float] | None = None) -> pd.DataFrame:
    """Draw ``n`` units from a linear-Gaussian SCM, optionally under do(V = v).

    ``weights`` maps every arrow (cause, effect) to its coefficient. ``noise_sd`` and
    ``intercepts`` are one number for all nodes or a dict per node. ``intervene`` maps
    nodes to the constants they are set to: their equations are replaced (graph surgery).
    The noise of every node is drawn from the seed before anything else, so the same seed
    gives the same units with and without an intervention: their counterfactual twins.

    Returns a DataFrame with one column per node (latent ones included: drop them to get
    what an analyst sees), in the graph's node order.

    Example
    -------
    >>> g = DAG([("X", "T"), ("X", "Y"), ("T", "Y")])
    >>> w = {("X", "T"): 1.0, ("X", "Y"): 2.0, ("T", "Y"): 0.5}
    >>> df = simulate_linear(g, w, n=1_000, seed=0, intervene={"T": 1.0})
    >>> float(df["T"].min()), float(df["T"].max())
    (1.0, 1.0)
    """
    clean = _check_weights(dag, weights)
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a positive whole number; got {n!r}")
    sds = _per_node(dag, noise_sd, "noise_sd", 1.0)
    if any(sd < 0 for sd in sds.values()):
        raise ValueError("noise_sd must be non-negative")
    base = _per_node(dag, intercepts, "intercepts", 0.0)
    intervene = dict(intervene or {})
    unknown = [v for v in intervene if v not in dag]
    if unknown:
        raise ValueError(f"cannot intervene on unknown node(s) {unknown}; nodes are {list(dag.nodes)}")
    rng = np.random.default_rng(seed)
    noise = rng.standard_normal((n, len(dag.nodes)))
    column = {v: j for j, v in enumerate(dag.nodes)}
    values: dict[str, np.ndarray] = {}
    for node in dag.topological_order():
        if node in intervene:
            values[node] = np.full(n, float(intervene[node]))
            continue
        total = base[node] + sds[node] * noise[:, column[node]]
        for parent in dag.parents(node):
            total = total + clean[(parent, node)] * values[parent]
        values[node] = total
    return pd.DataFrame({v: values[v] for v in dag.nodes})


def total_effect(dag: DAG, weights: Mapping[tuple[str, str], float], cause: str, effect: str) -> float:
    """The total effect d E[effect | do(cause = c)] / dc in a linear SCM (Wright's path rule).

    The sum, over every directed path from ``cause`` to ``effect``, of the product of the
    weights along it; 0 when there is no directed path.

    >>> g = DAG([("T", "M"), ("M", "Y"), ("T", "Y")])
    >>> total_effect(g, {("T", "M"): 2.0, ("M", "Y"): 3.0, ("T", "Y"): 1.0}, "T", "Y")
    7.0
    """
    clean = _check_weights(dag, weights)
    for role, node in (("cause", cause), ("effect", effect)):
        if node not in dag:
            raise ValueError(f"unknown {role} node {node!r}; nodes are {list(dag.nodes)}")
    if cause == effect:
        raise ValueError("cause and effect must be different nodes")
    total = 0.0
    for path in nx.all_simple_paths(dag.to_networkx(), cause, effect):
        total += float(np.prod([clean[(a, b)] for a, b in zip(path, path[1:], strict=False)]))
    return total


def _names(value: str | Iterable[str], what: str) -> list[str]:
    if isinstance(value, str):
        return [value]
    names = list(value)
    if not all(isinstance(v, str) for v in names):
        raise ValueError(f"{what} must be column names")
    return names


def partial_correlation(
    data: pd.DataFrame,
    *,
    x: str,
    y: str,
    given: str | Iterable[str] = (),
) -> float:
    """The correlation of x and y after regressing both on ``given`` (with an intercept).

    With nothing given it is Pearson's correlation. For Gaussian data a zero partial
    correlation means x _||_ y | given.
    """
    require_frame(data)
    given_names = _names(given, "given")
    if not isinstance(x, str) or not isinstance(y, str):
        raise ValueError("x and y must each be one column name")
    if x == y or x in given_names or y in given_names:
        raise ValueError("x, y and the conditioning set must be different columns")
    columns = [x, y, *given_names]
    missing = [c for c in columns if c not in data.columns]
    if missing:
        require_columns(data, columns)  # raises the library's message for unknown columns
    if not all(pd.api.types.is_numeric_dtype(data[c]) or pd.api.types.is_bool_dtype(data[c]) for c in columns):
        require_columns(data, columns)  # raises the library's message for non-numeric columns
    values = data[columns].to_numpy(dtype=float)
    n = len(data)
    if n <= len(given_names) + 2:
        raise ValueError(f"{n} rows are too few to condition on {len(given_names)} variable(s)")
    # the partial correlation from the inverse covariance (precision) matrix of (x, y, given):
    # r = -P_xy / sqrt(P_xx P_yy), the same as correlating the residuals of x and y on `given`
    with np.errstate(invalid="ignore", over="ignore"):  # NaN or inf are reported just below
        covariance = np.atleast_2d(np.cov(values, rowvar=False))
    if not np.isfinite(covariance).all():  # a NaN or infinity somewhere in the columns
        require_columns(data, columns)  # names the column with missing or infinite values
    scale = np.sqrt(np.diag(covariance))
    if np.any(scale <= 1e-12 * (1 + np.abs(values).max())):
        raise ValueError(
            f"a column among {[x, y, *given_names]} is constant; its partial correlation is undefined"
        )
    correlation = covariance / np.outer(scale, scale)
    if np.linalg.cond(correlation) > 1e12:
        raise ValueError(
            f"'{x}' or '{y}' is (almost) a linear function of the others in {[x, y, *given_names]}; "
            "the partial correlation is undefined"
        )
    precision = np.linalg.inv(correlation)
    return float(-precision[0, 1] / np.sqrt(precision[0, 0] * precision[1, 1]))


def fisher_z_test(
    data: pd.DataFrame,
    *,
    x: str,
    y: str,
    given: str | Iterable[str] = (),
) -> tuple[float, float]:
    """Test x _||_ y | given with Fisher's z on the partial correlation.

    z = sqrt(n - |given| - 3) * atanh(r); the p-value is 2 (1 - Phi(|z|)). Returns
    ``(r, p_value)``. Assumes (roughly) Gaussian, linear relations; agrees with
    causal-learn's ``fisherz`` test. A large p-value is *no evidence against*
    independence, which is what d-separation predicts.

    >>> g = DAG([("A", "B"), ("B", "C")])
    >>> df = simulate_linear(g, {("A", "B"): 1.0, ("B", "C"): 1.0}, n=2_000, seed=2)
    >>> r, p = fisher_z_test(df, x="A", y="C", given=["B"])
    >>> p > 0.05
    True
    """
    r = partial_correlation(data, x=x, y=y, given=given)
    k = len(_names(given, "given"))
    dof = len(data) - k - 3
    if dof < 1:
        raise ValueError(f"{len(data)} rows are too few for Fisher's z with {k} conditioning variable(s)")
    r_clipped = min(max(r, -1 + 1e-15), 1 - 1e-15)
    z = np.sqrt(dof) * np.arctanh(r_clipped)
    return r, float(math.erfc(abs(z) / math.sqrt(2)))  # two-sided normal p-value
