"""Causal discovery: the PC algorithm, step by step, and how to score what it finds.

See chapter 11. The PC algorithm (Spirtes, Glymour and Scheines, 2000) reads a causal
graph off conditional independences, under three assumptions:

* causal sufficiency: no unmeasured common cause of two measured variables;
* the causal Markov condition: every d-separation in the true DAG is an independence
  in the data (chapter 08);
* faithfulness: every independence in the data comes from a d-separation, never from
  effects that cancel exactly.

It then runs in three steps, each a public function here:

1. ``skeleton``: start from the complete undirected graph; for conditioning sets of
   size 0, 1, 2, ... drawn from the current neighbours, remove the edge X - Y as soon
   as a test accepts X _||_ Y | S, and remember S (the *separating set*). We run the
   order-independent "stable" version (Colombo and Maathuis, 2014): within one size,
   every test uses the neighbourhoods from the start of that size and edges are
   removed only at its end, so the column order of the data cannot change the
   skeleton.
2. ``orient_colliders``: for every unshielded triple X - Y - Z (X and Z not adjacent),
   Y is a collider X -> Y <- Z exactly when Y is in none of the separating sets of X
   and Z. With finite data two colliders can claim the same edge in opposite
   directions. Our rule, which is causal-learn's ``uc_priority=2``: triples are visited
   in the order of their middle node, then of their ends (column order), and a collider
   is oriented only if neither of its edges already points *out of* the middle node
   (the first collider wins).
3. ``apply_meek_rules``: orient every further edge whose direction is forced, because
   the other direction would create a new collider or a cycle (Meek, 1995, rules 1-3),
   until nothing changes. An edge is never oriented into a directed cycle.

The result is a ``CPDAG``: the equivalence class of every DAG with the same skeleton
and the same colliders (Verma and Pearl, 1990). Directed edges are shared by every DAG
in the class; undirected ones are not identified from observational data.

The conditional-independence test is Fisher's z on partial correlations, right for
linear-Gaussian data:

    r = partial correlation of X and Y given S (from the inverse correlation matrix),
    z = sqrt(n - |S| - 3) * atanh(r),   p = 2 * (1 - Phi(|z|)).

With the same data, ``alpha`` and test, ``pc`` returns the same CPDAG as causal-learn's
``pc(X, alpha, fisherz, stable=True)`` (the tests compare them on random graphs).

Example
-------
>>> from lessons_lib.graphs import DAG
>>> truth = DAG([("A", "C"), ("B", "C"), ("C", "D")], nodes=["A", "B", "C", "D"])
>>> data = simulate_linear_gaussian(truth, n=2000, seed=1)
>>> result = pc(data, alpha=0.01)
>>> result.cpdag.directed
(('A', 'C'), ('B', 'C'), ('C', 'D'))
>>> shd(result.cpdag, truth)
0
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import combinations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.patches import FancyArrowPatch

from lessons_lib import _validate
from lessons_lib.graphs import DAG, _distance_to_segment, layered_layout

__all__ = [
    "CPDAG", "PCResult", "SACHS_EDGES", "SACHS_NODES", "apply_meek_rules", "cpdag_of",
    "draw_cpdag", "fisher_z_test", "from_causallearn", "orient_colliders", "pc",
    "random_dag", "random_weights", "sachs_dag", "shd", "simulate_linear_gaussian", "skeleton",
    "weakest_partial_correlation",
]

# ------------------------------------------------------------------------------ ground truth
#: The 11 proteins and phospholipids measured by Sachs et al. (2005).
SACHS_NODES: tuple[str, ...] = (
    "Raf", "Mek", "PLCg", "PIP2", "PIP3", "Erk", "Akt", "PKA", "PKC", "P38", "Jnk",
)
#: The 17 arrows of the consensus signalling network of Sachs, Perez, Pe'er, Lauffenburger
#: and Nolan (2005, Science 308:523-529), as distributed by the bnlearn Bayesian network
#: repository (network "sachs"; Scutari). Typed in by hand; nothing is downloaded.
SACHS_EDGES: tuple[tuple[str, str], ...] = (
    ("PKC", "Raf"), ("PKA", "Raf"),
    ("PKC", "Mek"), ("PKA", "Mek"), ("Raf", "Mek"),
    ("PLCg", "PIP2"), ("PIP3", "PIP2"),
    ("PLCg", "PIP3"),
    ("PKA", "Erk"), ("Mek", "Erk"),
    ("PKA", "Akt"), ("Erk", "Akt"),
    ("PKC", "PKA"),
    ("PKC", "P38"), ("PKA", "P38"),
    ("PKC", "Jnk"), ("PKA", "Jnk"),
)


def sachs_dag() -> DAG:
    """The consensus protein-signalling network of Sachs et al. (2005) as a `DAG`.

    11 nodes, 17 arrows (``SACHS_EDGES``). Used in chapter 11 as the ground truth to
    simulate linear-Gaussian data from.
    """
    return DAG(SACHS_EDGES, nodes=SACHS_NODES)


# ------------------------------------------------------------------------------ the CPDAG type
@dataclass(frozen=True, eq=False)
class CPDAG:
    """A partially directed graph: the equivalence class that PC returns.

    ``directed`` holds arrows ``(a, b)`` meaning a -> b; ``undirected`` holds pairs
    ``(a, b)`` meaning a - b, with a before b in ``nodes``. Both are sorted by node order.
    """

    nodes: tuple[str, ...]
    directed: tuple[tuple[str, str], ...]
    undirected: tuple[tuple[str, str], ...]

    @classmethod
    def from_sets(cls, nodes: Sequence[str], directed: Iterable[tuple[str, str]],
                  undirected: Iterable[Iterable[str]]) -> CPDAG:
        order = {v: i for i, v in enumerate(nodes)}
        arrows = sorted({(a, b) for a, b in directed}, key=lambda e: (order[e[0]], order[e[1]]))
        lines = sorted({tuple(sorted(pair, key=order.__getitem__)) for pair in undirected},
                       key=lambda e: (order[e[0]], order[e[1]]))
        return cls(tuple(nodes), tuple(arrows), tuple(lines))

    def mark(self, a: str, b: str) -> str:
        """The edge between a and b: '->', '<-', '-' or '' (not adjacent)."""
        if (a, b) in self.directed:
            return "->"
        if (b, a) in self.directed:
            return "<-"
        if (a, b) in self.undirected or (b, a) in self.undirected:
            return "-"
        return ""

    def _key(self) -> tuple:
        return (frozenset(self.nodes), frozenset(self.directed), frozenset(frozenset(e) for e in self.undirected))

    def __eq__(self, other: object) -> bool:
        """Two CPDAGs are equal when they have the same nodes and edges, in any order."""
        return isinstance(other, CPDAG) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    @property
    def n_edges(self) -> int:
        return len(self.directed) + len(self.undirected)

    def __str__(self) -> str:
        parts = [f"{a} -> {b}" for a, b in self.directed] + [f"{a} - {b}" for a, b in self.undirected]
        return "CPDAG(" + ", ".join(parts) + ")"


@dataclass(frozen=True)
class PCResult:
    """What `pc` found: the CPDAG, the separating sets and how many tests it ran."""

    cpdag: CPDAG
    separating_sets: dict[frozenset, list[tuple[str, ...]]] = field(repr=False)
    n_tests: int
    alpha: float
    n: int

    def __str__(self) -> str:
        return (f"PC (Fisher z, alpha={self.alpha}, n={self.n}): {len(self.cpdag.directed)} directed, "
                f"{len(self.cpdag.undirected)} undirected edges after {self.n_tests} tests")


# ------------------------------------------------------------------------------ the CI test
class _FisherZ:
    """Fisher-z tests on one data set, with the correlation matrix computed once and a cache."""

    def __init__(self, n: int, corr: np.ndarray) -> None:
        self.n = n
        self.corr = corr
        self.cache: dict[tuple, float] = {}
        self.n_tests = 0

    def p_value(self, x: int, y: int, given: tuple[int, ...]) -> float:
        key = (min(x, y), max(x, y), tuple(sorted(given)))
        if key in self.cache:
            return self.cache[key]
        self.n_tests += 1
        idx = [x, y, *given]
        precision = np.linalg.inv(self.corr[np.ix_(idx, idx)])
        r = -precision[0, 1] / np.sqrt(abs(precision[0, 0] * precision[1, 1]))
        r = float(np.clip(r, -1 + np.finfo(float).eps, 1 - np.finfo(float).eps))
        z = np.sqrt(self.n - len(given) - 3) * abs(np.arctanh(r))
        p = math.erfc(z / math.sqrt(2))  # = 2 * (1 - Phi(z))
        self.cache[key] = p
        return p


def _correlation(values: np.ndarray) -> np.ndarray:
    """The correlation matrix of the columns (one BLAS product: fast for millions of rows).

    Centres ``values`` in place: pass a copy.
    """
    values -= values.mean(axis=0)
    cross = values.T @ values
    scale = np.sqrt(np.diag(cross))
    return cross / np.outer(scale, scale)


def _check_data(data: pd.DataFrame, columns: Sequence[str] | None) -> tuple[list[str], _FisherZ]:
    _validate.require_frame(data)
    names = list(data.columns) if columns is None else list(columns)
    if len(names) < 2:
        raise ValueError(f"causal discovery needs at least two variables; got {names}")
    if len(set(names)) != len(names):
        raise ValueError(f"column names must be unique; got {names}")
    _validate.require_columns(data, names)
    values = np.array(data[names].to_numpy(dtype=float), copy=True)  # one copy, centred in place below
    n, p = values.shape
    if n < p + 4:
        raise ValueError(
            f"Fisher's z test with {p} variables needs at least {p + 4} rows (n - |S| - 3 > 0 for "
            f"every conditioning set); got {n}. Collect more data or use fewer variables"
        )
    constant = [c for c, spread in zip(names, np.ptp(values, axis=0), strict=True) if spread == 0]
    if constant:
        raise ValueError(f"column(s) {constant} are constant: they carry no information; drop them")
    corr = _correlation(values)
    eigenvalues = np.linalg.eigvalsh(corr)
    if eigenvalues.min() < 1e-10:
        raise ValueError(
            "the correlation matrix is singular: some column is an exact linear combination of "
            "others (a duplicated or derived variable?); drop the redundant column(s)"
        )
    return names, _FisherZ(n, corr)


def _check_alpha(alpha: float) -> None:
    if not (isinstance(alpha, (int, float)) and not isinstance(alpha, bool) and 0 < alpha < 1):
        raise ValueError(f"alpha is the significance level of each test, a number in (0, 1) such as 0.05; got {alpha!r}")


def fisher_z_test(
    data: pd.DataFrame,
    *,
    x: str,
    y: str,
    given: Sequence[str] = (),
) -> float:
    """p-value of Fisher's z test of X _||_ Y | S (partial correlation zero).

    Formula: r = -P_xy / sqrt(P_xx P_yy) with P the inverse of the correlation matrix of
    (X, Y, S); z = sqrt(n - |S| - 3) atanh(r); p = 2 (1 - Phi(|z|)).
    Assumes (X, Y, S) jointly Gaussian (or at least linear relations), i.i.d. rows.
    See chapter 11.

    Example
    -------
    >>> rng = np.random.default_rng(0)
    >>> z = rng.normal(size=500); df = pd.DataFrame({"x": z + rng.normal(size=500), "y": z + rng.normal(size=500), "z": z})
    >>> fisher_z_test(df, x="x", y="y") < 0.05, fisher_z_test(df, x="x", y="y", given=["z"]) > 0.05
    (True, True)
    """
    given = [given] if isinstance(given, str) else list(given)
    names = [x, y, *given]
    if len(set(names)) != len(names):
        raise ValueError(f"x, y and the conditioning set must be distinct columns; got x={x!r}, y={y!r}, given={given}")
    _, test = _check_data(data, names)
    return test.p_value(0, 1, tuple(range(2, len(names))))


# ------------------------------------------------------------------------------ step 1: skeleton
def skeleton(
    data: pd.DataFrame,
    *,
    alpha: float = 0.05,
    columns: Sequence[str] | None = None,
) -> tuple[dict[str, set[str]], dict[frozenset, list[tuple[str, ...]]], int]:
    """Step 1 of PC (stable): remove edges between conditionally independent variables.

    Returns ``(adjacent, separating_sets, n_tests)``: each node's neighbours, and for
    each removed pair every conditioning set (of the size at which it was removed) that
    a test accepted. See chapter 11.
    """
    _check_alpha(alpha)
    names, test = _check_data(data, columns)
    return (*_skeleton(names, test, alpha), test.n_tests)


def _skeleton(names: list[str], test: _FisherZ, alpha: float) -> tuple[dict, dict]:
    p = len(names)
    adjacent = [set(range(p)) - {i} for i in range(p)]
    separating: dict[frozenset, list[tuple[int, ...]]] = {}
    depth = 0
    while max(len(a) for a in adjacent) > depth:  # some node still has depth + 1 neighbours
        frozen = [sorted(a) for a in adjacent]  # neighbourhoods at the start of this depth
        found: dict[frozenset, list[tuple[int, ...]]] = {}
        for x in range(p):
            for y in frozen[x]:
                others = [v for v in frozen[x] if v != y]
                for subset in combinations(others, depth):
                    if test.p_value(x, y, subset) > alpha:
                        found.setdefault(frozenset((x, y)), []).append(subset)
        for pair, sets in found.items():
            x, y = tuple(pair)
            adjacent[x].discard(y)
            adjacent[y].discard(x)
            separating[pair] = sets
        depth += 1
    adjacency = {names[i]: {names[j] for j in adjacent[i]} for i in range(p)}
    named_sets = {frozenset(names[i] for i in pair): [tuple(names[i] for i in s) for s in sets]
                  for pair, sets in separating.items()}
    return adjacency, named_sets


# ------------------------------------------------------------------------------ step 2: colliders
def orient_colliders(nodes: Sequence[str], adjacency: dict[str, set[str]],
                     separating_sets: dict[frozenset, list[tuple[str, ...]]]) -> CPDAG:
    """Step 2 of PC: orient X -> Y <- Z for every unshielded triple whose Y separates nothing.

    Y is a collider when it is in none of the separating sets of X and Z. Conflicts are
    settled by visiting triples in node order (middle node first) and skipping a collider
    one of whose edges already points out of Y. See chapter 11.
    """
    order = {v: i for i, v in enumerate(nodes)}
    directed: set[tuple[str, str]] = set()
    for y in nodes:
        for x, z in combinations(sorted(adjacency[y], key=order.__getitem__), 2):
            if z in adjacency[x]:
                continue  # shielded: X and Z are adjacent
            if any(y in s for s in separating_sets[frozenset((x, z))]):
                continue  # Y separates X and Z: a chain or a fork, not a collider
            if (y, x) in directed or (y, z) in directed:
                continue  # an earlier collider already points out of Y
            directed |= {(x, y), (z, y)}
    undirected = {frozenset((a, b)) for a in nodes for b in adjacency[a]
                  if (a, b) not in directed and (b, a) not in directed}
    return CPDAG.from_sets(nodes, directed, undirected)


# ------------------------------------------------------------------------------ step 3: Meek
def _has_directed_path(directed: set[tuple[str, str]], start: str, end: str) -> bool:
    children: dict[str, list[str]] = {}
    for a, b in directed:
        children.setdefault(a, []).append(b)
    stack, seen = [start], {start}
    while stack:
        node = stack.pop()
        if node == end:
            return True
        for child in children.get(node, []):
            if child not in seen:
                seen.add(child)
                stack.append(child)
    return False


def apply_meek_rules(cpdag: CPDAG) -> CPDAG:
    """Step 3 of PC: orient every undirected edge whose direction is forced (Meek's rules 1-3).

    * R1: a -> b - c, a and c not adjacent          =>  b -> c  (else a new collider at b)
    * R2: a -> c -> b and a - b                     =>  a -> b  (else a cycle)
    * R3: a - c -> b, a - d -> b, a - b, c, d not adjacent  =>  a -> b
    Repeated until nothing changes; an edge is never oriented so as to close a directed
    cycle. See chapter 11.
    """
    nodes = cpdag.nodes
    order = {v: i for i, v in enumerate(nodes)}
    directed = set(cpdag.directed)
    undirected = {frozenset(e) for e in cpdag.undirected}
    adjacent = {v: set() for v in nodes}
    for a, b in list(directed) + [tuple(e) for e in undirected]:
        adjacent[a].add(b)
        adjacent[b].add(a)

    def orient(a: str, b: str) -> bool:
        if frozenset((a, b)) not in undirected or _has_directed_path(directed, b, a):
            return False
        undirected.discard(frozenset((a, b)))
        directed.add((a, b))
        return True

    def sort(values: Iterable[str]) -> list[str]:
        return sorted(values, key=order.__getitem__)

    changed = True
    while changed:
        changed = False
        for b in nodes:  # R1, visited by middle node, then tail, then far end (see module doc)
            for a in sort(adjacent[b]):
                for c in sort(adjacent[b]):
                    if ((a, b) in directed and c != a and c not in adjacent[a]
                            and frozenset((b, c)) in undirected):
                        changed |= orient(b, c)
        for edge in sorted(undirected, key=lambda e: sorted(order[v] for v in e)):  # R2
            for a, b in (tuple(sort(edge)), tuple(sort(edge))[::-1]):
                if any((a, c) in directed and (c, b) in directed for c in adjacent[a]):
                    changed |= orient(a, b)
        for edge in sorted(undirected, key=lambda e: sorted(order[v] for v in e)):  # R3
            for a, b in (tuple(sort(edge)), tuple(sort(edge))[::-1]):
                parents = [c for c in sort(adjacent[a])
                           if frozenset((a, c)) in undirected and (c, b) in directed]
                if any(d not in adjacent[c] for c, d in combinations(parents, 2)):
                    changed |= orient(a, b)
    return CPDAG.from_sets(nodes, directed, undirected)


# ------------------------------------------------------------------------------ the whole PC
def pc(
    data: pd.DataFrame,
    *,
    alpha: float = 0.05,
    columns: Sequence[str] | None = None,
) -> PCResult:
    """The PC algorithm (stable) with Fisher's z test: the CPDAG of the data's causal graph.

    Estimand: the Markov equivalence class (CPDAG) of the DAG that generated the data.
    Steps: `skeleton` (remove edges by conditional-independence tests), `orient_colliders`
    (v-structures from the separating sets), `apply_meek_rules` (Meek's rules 1-3).
    Assumptions: causal sufficiency (no latent common causes), Markov and faithfulness,
    linear-Gaussian relations for the Fisher-z test, no test errors (large n).
    Same result as causal-learn's ``pc(X, alpha, fisherz, stable=True)``. See chapter 11.

    Example
    -------
    >>> from lessons_lib.graphs import DAG
    >>> data = simulate_linear_gaussian(DAG([("X", "Z"), ("Y", "Z")]), n=1000, seed=0)
    >>> print(pc(data, alpha=0.01).cpdag)
    CPDAG(X -> Z, Y -> Z)
    """
    _check_alpha(alpha)
    names, test = _check_data(data, columns)
    adjacency, separating = _skeleton(names, test, float(alpha))
    pattern = orient_colliders(names, adjacency, separating)
    return PCResult(apply_meek_rules(pattern), separating, test.n_tests, float(alpha), test.n)


# ------------------------------------------------------------------------------ truth and scoring
def cpdag_of(dag: DAG) -> CPDAG:
    """The true equivalence class of a DAG: its skeleton, its colliders, then Meek's rules.

    Two DAGs are Markov equivalent (imply the same independences) exactly when they have
    the same skeleton and the same unshielded colliders (Verma and Pearl, 1990), so this
    is what PC can at best recover. See chapter 11.
    """
    if not isinstance(dag, DAG):
        raise ValueError(f"cpdag_of needs a lessons_lib.graphs.DAG; got {type(dag).__name__}")
    nodes = dag.nodes
    arrows = set(dag.edges)
    adjacent = {v: set() for v in nodes}
    for a, b in arrows:
        adjacent[a].add(b)
        adjacent[b].add(a)
    colliders = set()
    for y in nodes:
        for x, z in combinations(dag.parents(y), 2):
            if z not in adjacent[x]:
                colliders |= {(x, y), (z, y)}
    undirected = {frozenset(e) for e in arrows if e not in colliders}
    return apply_meek_rules(CPDAG.from_sets(nodes, colliders, undirected))


def _as_cpdag(graph: CPDAG | DAG, what: str) -> CPDAG:
    if isinstance(graph, CPDAG):
        return graph
    if isinstance(graph, DAG):
        return CPDAG.from_sets(graph.nodes, graph.edges, ())
    raise ValueError(f"{what} must be a CPDAG (from pc or cpdag_of) or a DAG; got {type(graph).__name__}")


def shd(estimated: CPDAG | DAG, truth: CPDAG | DAG, *, adjacencies_only: bool = False) -> int:
    """Structural Hamming distance: the number of node pairs whose edge differs.

    Each unordered pair counts once if the two graphs disagree about it: an edge missing,
    an extra edge, an arrow reversed, or directed in one and undirected in the other.
    Compare a CPDAG with ``cpdag_of(true_dag)`` to score only what the data can tell;
    with the DAG itself, every unoriented edge counts as an error. With
    ``adjacencies_only=True`` only missing and extra edges count (the skeleton's errors).
    See chapter 11.

    Example
    -------
    >>> shd(CPDAG.from_sets(["A", "B", "C"], [("A", "B")], [("B", "C")]), DAG([("A", "B"), ("B", "C")]))
    1
    """
    ours, theirs = _as_cpdag(estimated, "estimated"), _as_cpdag(truth, "truth")
    if set(ours.nodes) != set(theirs.nodes):
        raise ValueError(
            f"the two graphs have different nodes: {sorted(set(ours.nodes) ^ set(theirs.nodes))} "
            "appear in only one; compare graphs over the same variables"
        )
    if adjacencies_only:
        return sum(bool(ours.mark(a, b)) != bool(theirs.mark(a, b)) for a, b in combinations(ours.nodes, 2))
    return sum(ours.mark(a, b) != theirs.mark(a, b) for a, b in combinations(ours.nodes, 2))


def from_causallearn(graph_matrix: np.ndarray, nodes: Sequence[str]) -> CPDAG:
    """Translate causal-learn's endpoint matrix (``cg.G.graph``) into a `CPDAG`.

    causal-learn writes i -> j as graph[j, i] = 1, graph[i, j] = -1 and i - j as -1 at
    both ends. A bidirected edge (1 at both ends) is refused: a CPDAG has none.
    """
    matrix = np.asarray(graph_matrix)
    directed, undirected = set(), set()
    for i, j in combinations(range(len(nodes)), 2):
        a, b = matrix[i, j], matrix[j, i]
        if a == 0 and b == 0:
            continue
        if a == -1 and b == 1:
            directed.add((nodes[i], nodes[j]))
        elif a == 1 and b == -1:
            directed.add((nodes[j], nodes[i]))
        elif a == -1 and b == -1:
            undirected.add(frozenset((nodes[i], nodes[j])))
        else:
            raise ValueError(f"edge {nodes[i]} - {nodes[j]} has endpoints ({a}, {b}), not a CPDAG edge")
    return CPDAG.from_sets(nodes, directed, undirected)


# ------------------------------------------------------------------------------ simulation
def random_dag(n_nodes: int, expected_degree: float = 2.0, *, seed: int) -> DAG:
    """A random DAG on nodes X1..Xn: each pair i < j (in a random order) linked with
    probability expected_degree / (n - 1)."""
    if not (isinstance(n_nodes, (int, np.integer)) and n_nodes >= 2):
        raise ValueError(f"n_nodes must be an integer of at least 2; got {n_nodes!r}")
    rng = np.random.default_rng(seed)
    names = [f"X{i + 1}" for i in range(n_nodes)]
    causal_order = rng.permutation(n_nodes)
    probability = min(1.0, expected_degree / (n_nodes - 1))
    edges = [(names[causal_order[i]], names[causal_order[j]])
             for i, j in combinations(range(n_nodes), 2) if rng.random() < probability]
    return DAG(edges, nodes=names)


def random_weights(dag: DAG, *, seed: int, low: float = 0.5, high: float = 1.0,
                   signs: bool = True) -> dict[tuple[str, str], float]:
    """One coefficient per arrow: |w| uniform on [low, high], with a random sign if ``signs``."""
    if not isinstance(dag, DAG):
        raise ValueError(f"random_weights needs a lessons_lib.graphs.DAG; got {type(dag).__name__}")
    if not 0 <= low <= high:
        raise ValueError(f"weights need 0 <= low <= high; got low={low!r}, high={high!r}")
    rng = np.random.default_rng(seed)
    return {edge: float(rng.uniform(low, high) * (rng.choice([-1.0, 1.0]) if signs else 1.0))
            for edge in dag.edges}


def simulate_linear_gaussian(dag: DAG, n: int, *, seed: int,
                             weights: dict[tuple[str, str], float] | None = None,
                             latent_kept: bool = False) -> pd.DataFrame:
    """Data from a linear-Gaussian structural causal model on ``dag``.

    Each variable is sum_{parents} w * parent + N(0, 1) noise. ``weights`` maps each
    arrow to its coefficient; by default ``random_weights(dag, seed=seed)`` (|w| in
    [0.5, 1], random signs), so one seed fixes both the model and the noise. Pass the
    same ``weights`` with different seeds to draw several samples from one model.
    Latent nodes are simulated but dropped unless ``latent_kept``. See chapter 11.
    """
    if not isinstance(dag, DAG):
        raise ValueError(f"simulate_linear_gaussian needs a lessons_lib.graphs.DAG; got {type(dag).__name__}")
    if not (isinstance(n, (int, np.integer)) and n >= 1):
        raise ValueError(f"n must be a positive integer number of rows; got {n!r}")
    coefficients = random_weights(dag, seed=seed) if weights is None else dict(weights)
    missing = [e for e in dag.edges if e not in coefficients]
    if missing:
        raise ValueError(f"weights give no coefficient for arrow(s) {missing}")
    rng = np.random.default_rng(seed)
    columns: dict[str, np.ndarray] = {}
    for node in dag.topological_order():
        value = rng.normal(size=n)
        for parent in dag.parents(node):
            value = value + coefficients[(parent, node)] * columns[parent]
        columns[node] = value
    keep = [v for v in dag.nodes if latent_kept or v not in dag.latent]
    return pd.DataFrame({v: columns[v] for v in keep})


def weakest_partial_correlation(dag: DAG, weights: dict[tuple[str, str], float]) -> tuple[float, tuple]:
    """How close a linear-Gaussian model is to unfaithful: the smallest |partial correlation|
    of two adjacent variables, over every conditioning set of the other variables.

    Computed exactly from the model's covariance (I - B)^-1 (I - B)^-T, no data. PC needs
    roughly n > (z_{1-alpha/2} / rho_min)^2 rows to keep every true edge. Returns
    ``(rho_min, (a, b, conditioning_set))``. See chapter 11 (faithfulness).
    """
    nodes = list(dag.nodes)
    index = {v: i for i, v in enumerate(nodes)}
    b_matrix = np.zeros((len(nodes), len(nodes)))
    for (a, b), w in weights.items():
        b_matrix[index[b], index[a]] = w
    mixing = np.linalg.inv(np.eye(len(nodes)) - b_matrix)
    test = _FisherZ(10**9, _correlation_from_covariance(mixing @ mixing.T))
    worst, where = 1.0, ()
    for a, b in dag.edges:
        others = [k for k in range(len(nodes)) if k not in (index[a], index[b])]
        for size in range(len(others) + 1):
            for given in combinations(others, size):
                idx = [index[a], index[b], *given]
                precision = np.linalg.inv(test.corr[np.ix_(idx, idx)])
                r = abs(precision[0, 1]) / np.sqrt(precision[0, 0] * precision[1, 1])
                if r < worst:
                    worst, where = float(r), (a, b, tuple(nodes[k] for k in given))
    return worst, where


def _correlation_from_covariance(covariance: np.ndarray) -> np.ndarray:
    scale = np.sqrt(np.diag(covariance))
    return covariance / np.outer(scale, scale)


# ------------------------------------------------------------------------------ drawing
def draw_cpdag(graph: CPDAG, *, ax: Axes | None = None, layout: dict[str, tuple[float, float]] | None = None,
               title: str | None = None, highlight: Iterable[tuple[str, str]] = ()) -> Axes:
    """Draw a CPDAG: arrows for directed edges, plain lines for undirected ones.

    The look matches `lessons_lib.graphs.draw`. Without ``layout`` the nodes are placed
    by `layered_layout` of one DAG in the class (undirected edges pointed in node order)
    or on a circle if the directed part has a cycle. ``highlight`` lists edges (either
    direction) drawn thick in the book's treated colour, e.g. the errors of an estimate.
    """
    if not isinstance(graph, CPDAG):
        raise ValueError(f"draw_cpdag needs a CPDAG (from pc or cpdag_of); got {type(graph).__name__}")
    from lessons_lib.plots import TREATED
    if layout is None:
        order = {v: i for i, v in enumerate(graph.nodes)}
        try:
            extension = DAG(list(graph.directed) + [tuple(sorted(e, key=order.__getitem__)) for e in graph.undirected],
                            nodes=graph.nodes)
            layout = layered_layout(extension)
        except ValueError:
            angles = np.linspace(0, 2 * np.pi, len(graph.nodes), endpoint=False)
            layout = {v: (2 * np.cos(t), 2 * np.sin(t)) for v, t in zip(graph.nodes, angles, strict=True)}
    missing = [v for v in graph.nodes if v not in layout]
    if missing:
        raise ValueError(f"layout gives no position for node(s) {missing}")
    if ax is None:
        xs_, ys_ = [p[0] for p in layout.values()], [p[1] for p in layout.values()]
        _, ax = plt.subplots(figsize=(min(max(1.6 + 1.5 * (max(xs_) - min(xs_)), 3.0), 9.0),
                                      min(max(1.2 + 1.0 * (max(ys_) - min(ys_)), 1.6), 6.0)))
    marked = {frozenset(e) for e in highlight}
    boxes = {}
    for v in graph.nodes:
        boxes[v] = ax.text(*layout[v], v, ha="center", va="center", fontsize=11, zorder=3,
                           bbox=dict(boxstyle="round,pad=0.45", facecolor="white", edgecolor="#333333",
                                     linewidth=1.3))
    points = {v: np.asarray(layout[v], dtype=float) for v in graph.nodes}
    for edges, style in ((graph.directed, "-|>"), (graph.undirected, "-")):
        for a, b in edges:
            hot = frozenset((a, b)) in marked
            blocked = any(_distance_to_segment(points[v], points[a], points[b]) < 0.2
                          for v in graph.nodes if v not in (a, b))  # bend around a node in the way
            ax.add_patch(FancyArrowPatch(
                posA=tuple(layout[a]), posB=tuple(layout[b]), arrowstyle=style, mutation_scale=14,
                connectionstyle=f"arc3,rad={-0.35 if blocked else 0.0}",
                color=TREATED if hot else "#333333", linewidth=2.6 if hot else 1.3,
                patchA=boxes[a].get_bbox_patch(), patchB=boxes[b].get_bbox_patch(),
                shrinkA=3, shrinkB=3, zorder=4))
    xs = [p[0] for p in layout.values()]
    ys = [p[1] for p in layout.values()]
    ax.set_xlim(min(xs) - 0.6, max(xs) + 0.6)
    ax.set_ylim(min(ys) - 0.6, max(ys) + 0.6)
    ax.set_aspect("equal", adjustable="box")
    ax.axis("off")
    if title:
        ax.set_title(title)
    return ax
