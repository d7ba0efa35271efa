"""Causal graphs: a small DAG type, d-separation, do-surgery, adjustment sets, drawing.

See chapters 08 (structural causal models and d-separation), 09 (the do-operator, the
backdoor and frontdoor criteria) and 10 (Simpson's paradox); every graph figure in the
book is drawn with `draw`.

A directed acyclic graph (DAG) says which variable listens to which: an arrow A -> B
claims that A is among the direct causes of B. Everything here is read off the arrows
alone, never off data:

* d-separation (Pearl, 1988): X and Y are d-separated by S when every path between
  them is blocked by S. A path is blocked when it holds a chain (-> M ->) or a fork
  (<- M ->) whose middle M is in S, or a collider (-> C <-) such that neither C nor any
  descendant of C is in S. In every distribution the graph generates, d-separation
  implies the conditional independence X _||_ Y | S.
* do-surgery: do(T = t) deletes the arrows into T and leaves every other mechanism alone.
* the backdoor criterion: S is a valid adjustment set for the effect of T on Y when no
  member of S is a descendant of T and S blocks every path from T to Y that starts
  with an arrow into T. Then P(y | do(t)) = sum_s P(y | t, s) P(s).
* the frontdoor criterion: a set M that intercepts every directed path from T to Y,
  with no open backdoor path from T to M, and every backdoor path from M to Y blocked
  by T.

The d-separation algorithm is the "reachable" (Bayes-ball) search of Koller and Friedman
(2009, algorithm 3.1); the tests check it against ``networkx.is_d_separator`` on
thousands of random DAGs.

Example
-------
>>> g = DAG([("X", "T"), ("X", "Y"), ("T", "Y")])
>>> g.parents("Y")
('X', 'T')
>>> g.is_d_separated("T", "Y", given=["X"])
False
>>> g.do("T").is_d_separated("T", "X")
True
>>> g.minimal_adjustment_sets("T", "Y")
[('X',)]
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import combinations

import matplotlib.pyplot as plt
import networkx as nx
import numpy as np
from matplotlib.axes import Axes
from matplotlib.patches import FancyArrowPatch

from lessons_lib.plots import ESTIMATE, NEUTRAL, TREATED

__all__ = ["DAG", "draw", "layered_layout"]

MAX_ADJUSTMENT_CANDIDATES = 16  # 2**16 candidate sets is the most we enumerate


def _as_names(value: str | Iterable[str], what: str) -> tuple[str, ...]:
    """Accept one node name or an iterable of names; return a tuple of names."""
    if isinstance(value, str):
        return (value,)
    try:
        names = tuple(value)
    except TypeError:
        raise ValueError(f"{what} must be a node name or a list of node names; got {value!r}") from None
    for name in names:
        if not isinstance(name, str):
            raise ValueError(f"{what} must contain node names (strings); found {name!r}")
    return names


class DAG:
    """A directed acyclic graph over named variables, some of which may be latent.

    Parameters
    ----------
    edges : pairs ``(cause, effect)``, e.g. ``[("X", "T"), ("T", "Y")]``.
    nodes : extra nodes (isolated ones, or to fix the order in which nodes are listed).
    latent : nodes that are not measured (drawn dashed; never allowed in an adjustment set).

    Raises a ValueError for a malformed edge, a self-loop, a cycle, or a latent node that is
    not in the graph. Nodes are listed in the order they first appear (``nodes`` first,
    then the edges), and every method returns tuples in that order, so printed results
    are the same on every run.

    Example
    -------
    >>> g = DAG([("U", "T"), ("U", "Y"), ("T", "M"), ("M", "Y")], latent=["U"])
    >>> g.observed
    ('T', 'Y', 'M')
    >>> g.is_frontdoor("T", "Y", ["M"])
    True
    """

    def __init__(self, edges: Iterable[tuple[str, str]], nodes: Iterable[str] = (),
                 latent: Iterable[str] = ()) -> None:
        order: dict[str, None] = {}
        for name in _as_names(nodes, "nodes"):
            order[name] = None
        clean_edges: dict[tuple[str, str], None] = {}
        if isinstance(edges, str):
            raise ValueError("edges must be a list of (cause, effect) pairs, e.g. [('T', 'Y')]; got a string")
        for edge in edges:
            if not (isinstance(edge, (tuple, list)) and len(edge) == 2
                    and all(isinstance(end, str) and end for end in edge)):
                raise ValueError(
                    f"each edge must be a pair of node names (cause, effect) such as ('T', 'Y'); got {edge!r}"
                )
            cause, effect = edge
            if cause == effect:
                raise ValueError(f"self-loop {cause!r} -> {effect!r}: a variable cannot cause itself in a DAG")
            order.setdefault(cause, None)
            order.setdefault(effect, None)
            clean_edges[(cause, effect)] = None
        self._order = {name: i for i, name in enumerate(order)}
        graph = nx.DiGraph()
        graph.add_nodes_from(self._order)
        graph.add_edges_from(clean_edges)
        if not nx.is_directed_acyclic_graph(graph):
            cycle = nx.find_cycle(graph)
            shown = " -> ".join([a for a, _ in cycle] + [cycle[0][0]])
            raise ValueError(
                f"the graph has a cycle ({shown}); a causal DAG cannot, so remove or reverse one of those arrows"
            )
        self._graph = graph
        latent_names = _as_names(latent, "latent")
        unknown = [v for v in latent_names if v not in self._order]
        if unknown:
            raise ValueError(f"latent node(s) {unknown} are not in the graph; its nodes are {list(self._order)}")
        self._latent = frozenset(latent_names)

    # ------------------------------------------------------------------ basic facts
    def _sorted(self, names: Iterable[str]) -> tuple[str, ...]:
        return tuple(sorted(set(names), key=self._order.__getitem__))

    def _check_nodes(self, names: Iterable[str], what: str = "node") -> None:
        unknown = [v for v in names if v not in self._order]
        if unknown:
            raise ValueError(f"unknown {what}(s) {unknown}: the graph's nodes are {list(self._order)}")

    @property
    def nodes(self) -> tuple[str, ...]:
        """All nodes, in the order they first appeared."""
        return tuple(self._order)

    @property
    def edges(self) -> tuple[tuple[str, str], ...]:
        """All arrows ``(cause, effect)``, ordered by cause then effect."""
        return tuple(sorted(self._graph.edges, key=lambda e: (self._order[e[0]], self._order[e[1]])))

    @property
    def latent(self) -> tuple[str, ...]:
        """The unmeasured nodes."""
        return self._sorted(self._latent)

    @property
    def observed(self) -> tuple[str, ...]:
        """The measured nodes."""
        return tuple(v for v in self._order if v not in self._latent)

    def parents(self, node: str) -> tuple[str, ...]:
        """The direct causes of ``node``."""
        self._check_nodes([node])
        return self._sorted(self._graph.predecessors(node))

    def children(self, node: str) -> tuple[str, ...]:
        """The direct effects of ``node``."""
        self._check_nodes([node])
        return self._sorted(self._graph.successors(node))

    def ancestors(self, node: str) -> tuple[str, ...]:
        """Every node with a directed path into ``node`` (``node`` itself excluded)."""
        self._check_nodes([node])
        return self._sorted(nx.ancestors(self._graph, node))

    def descendants(self, node: str) -> tuple[str, ...]:
        """Every node reached by a directed path from ``node`` (``node`` itself excluded)."""
        self._check_nodes([node])
        return self._sorted(nx.descendants(self._graph, node))

    def topological_order(self) -> tuple[str, ...]:
        """An order in which every cause comes before its effects (ties kept in node order)."""
        return tuple(nx.lexicographical_topological_sort(self._graph, key=self._order.__getitem__))

    def to_networkx(self) -> nx.DiGraph:
        """A copy of the graph as a ``networkx.DiGraph`` (latent nodes flagged ``latent=True``)."""
        graph = self._graph.copy()
        nx.set_node_attributes(graph, {v: v in self._latent for v in graph}, "latent")
        return graph

    def __contains__(self, node: object) -> bool:
        return node in self._order

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, DAG) and set(self.nodes) == set(other.nodes)
                and set(self.edges) == set(other.edges) and self._latent == other._latent)

    def __hash__(self) -> int:
        return hash((frozenset(self.nodes), frozenset(self.edges), self._latent))

    def __repr__(self) -> str:
        arrows = ", ".join(f"{a} -> {b}" for a, b in self.edges)
        latent = f"; latent: {', '.join(self.latent)}" if self._latent else ""
        return f"DAG({arrows}{latent})"

    # ------------------------------------------------------------------ d-separation
    def _disjoint_sets(self, xs, ys, given) -> tuple[set, set, set]:
        x_set = set(_as_names(xs, "xs"))
        y_set = set(_as_names(ys, "ys"))
        z_set = set(_as_names(given, "given"))
        self._check_nodes(sorted(x_set | y_set | z_set))
        if not x_set or not y_set:
            raise ValueError("d-separation needs at least one node on each side (xs and ys)")
        for (a_name, a), (b_name, b) in combinations([("xs", x_set), ("ys", y_set), ("given", z_set)], 2):
            if a & b:
                raise ValueError(
                    f"{a_name} and {b_name} share node(s) {sorted(a & b)}; the three sets must be disjoint"
                )
        return x_set, y_set, z_set

    def reachable(self, xs: str | Iterable[str], given: str | Iterable[str] = ()) -> tuple[str, ...]:
        """Nodes d-connected to ``xs`` given ``given`` (the Bayes-ball search).

        A walk may pass through a non-collider that is not conditioned on, and through a
        collider that is conditioned on or has a conditioned descendant.
        """
        sources = set(_as_names(xs, "xs"))
        observed = set(_as_names(given, "given"))
        self._check_nodes(sorted(sources | observed))
        # colliders open when they are in `given` or are an ancestor of something in it
        opens_collider = set(observed)
        frontier = list(observed)
        while frontier:  # one backward sweep: every ancestor of the conditioning set
            for parent in self._graph.predecessors(frontier.pop()):
                if parent not in opens_collider:
                    opens_collider.add(parent)
                    frontier.append(parent)
        to_visit = [(x, "up") for x in sources]  # "up": we arrived from a child
        visited: set[tuple[str, str]] = set()
        found: set[str] = set()
        while to_visit:
            node, direction = to_visit.pop()
            if (node, direction) in visited:
                continue
            visited.add((node, direction))
            if node not in observed:
                found.add(node)
            if direction == "up" and node not in observed:
                to_visit += [(p, "up") for p in self._graph.predecessors(node)]
                to_visit += [(c, "down") for c in self._graph.successors(node)]
            elif direction == "down":
                if node not in observed:  # chain: keep going down
                    to_visit += [(c, "down") for c in self._graph.successors(node)]
                if node in opens_collider:  # collider (or its ancestor) conditioned on
                    to_visit += [(p, "up") for p in self._graph.predecessors(node)]
        return self._sorted(found - sources)

    def is_d_separated(self, xs: str | Iterable[str], ys: str | Iterable[str],
                       given: str | Iterable[str] = ()) -> bool:
        """Whether ``given`` blocks every path between ``xs`` and ``ys``.

        The three sets must be disjoint. Agrees with ``networkx.is_d_separator``.

        >>> DAG([("A", "C"), ("B", "C")]).is_d_separated("A", "B")
        True
        >>> DAG([("A", "C"), ("B", "C")]).is_d_separated("A", "B", given="C")
        False
        """
        x_set, y_set, z_set = self._disjoint_sets(xs, ys, given)
        return not (set(self.reachable(x_set, z_set)) & y_set)

    def paths(self, start: str, end: str) -> list[tuple[str, ...]]:
        """Every path between two nodes, ignoring the arrows' directions (simple paths)."""
        self._check_nodes([start, end])
        skeleton = self._graph.to_undirected(as_view=True)
        found = [tuple(p) for p in nx.all_simple_paths(skeleton, start, end)]
        return sorted(found, key=lambda p: (len(p), [self._order[v] for v in p]))

    def is_path_open(self, path: Iterable[str], given: str | Iterable[str] = ()) -> bool:
        """Whether one path is open (d-connecting) given ``given``.

        Every collider on the path (-> C <-) must be in ``given`` or have a descendant in
        it, and no other inner node may be in ``given``.
        """
        nodes = tuple(path)
        observed = set(_as_names(given, "given"))
        self._check_nodes(list(nodes) + sorted(observed))
        for a, b in zip(nodes, nodes[1:], strict=False):
            if not (self._graph.has_edge(a, b) or self._graph.has_edge(b, a)):
                raise ValueError(f"{a!r} and {b!r} are not adjacent, so {nodes} is not a path")
        for before, middle, after in zip(nodes, nodes[1:], nodes[2:], strict=False):
            collider = self._graph.has_edge(before, middle) and self._graph.has_edge(after, middle)
            if collider:
                if middle not in observed and not (nx.descendants(self._graph, middle) & observed):
                    return False
            elif middle in observed:
                return False
        return True

    def backdoor_paths(self, treatment: str, outcome: str) -> list[tuple[str, ...]]:
        """The paths from treatment to outcome that start with an arrow into the treatment."""
        return [p for p in self.paths(treatment, outcome) if self._graph.has_edge(p[1], p[0])]

    # ------------------------------------------------------------------ interventions
    def do(self, *nodes: str) -> DAG:
        """Graph surgery: the DAG of the world where ``nodes`` are set by intervention.

        The arrows into each intervened node are deleted; everything else is kept.

        >>> DAG([("X", "T"), ("T", "Y"), ("X", "Y")]).do("T")
        DAG(X -> Y, T -> Y)
        """
        names = [n for group in nodes for n in _as_names(group, "do()")]
        if not names:
            raise ValueError("do() needs at least one node to intervene on, e.g. g.do('T')")
        self._check_nodes(names)
        kept = [(a, b) for a, b in self.edges if b not in names]
        return DAG(kept, nodes=self.nodes, latent=self._latent)

    def _effect_pair(self, treatment: str, outcome: str) -> None:
        for role, name in (("treatment", treatment), ("outcome", outcome)):
            if not isinstance(name, str):
                raise ValueError(f"{role} must be one node name; got {name!r}")
        self._check_nodes([treatment, outcome])
        if treatment == outcome:
            raise ValueError("treatment and outcome must be different nodes")

    def _candidate_set(self, adjustment: str | Iterable[str], treatment: str, outcome: str) -> set[str]:
        chosen = set(_as_names(adjustment, "adjustment"))
        self._check_nodes(sorted(chosen), "adjustment node")
        if treatment in chosen or outcome in chosen:
            raise ValueError("the adjustment set cannot contain the treatment or the outcome")
        hidden = chosen & self._latent
        if hidden:
            raise ValueError(f"cannot adjust for latent node(s) {sorted(hidden)}: they are not measured")
        return chosen

    def is_valid_backdoor(self, treatment: str, outcome: str, adjustment: str | Iterable[str]) -> bool:
        """Whether ``adjustment`` satisfies the backdoor criterion for treatment -> outcome.

        (i) no node of the set is a descendant of the treatment; (ii) the set blocks every
        backdoor path, i.e. it d-separates treatment and outcome once the arrows out of
        the treatment are removed.
        """
        self._effect_pair(treatment, outcome)
        chosen = self._candidate_set(adjustment, treatment, outcome)
        if chosen & set(self.descendants(treatment)):
            return False
        cut = [(a, b) for a, b in self.edges if a != treatment]
        backdoor_graph = DAG(cut, nodes=self.nodes)
        return backdoor_graph.is_d_separated(treatment, outcome, chosen)

    def backdoor_adjustment_sets(self, treatment: str, outcome: str) -> list[tuple[str, ...]]:
        """Every set of observed variables that satisfies the backdoor criterion.

        Candidates are the observed non-descendants of the treatment (other than the
        outcome); sets are listed by size, then in node order. Raises a ValueError when
        there are more than 16 candidates (2**16 sets); use `minimal_adjustment_sets`.
        """
        self._effect_pair(treatment, outcome)
        blocked = set(self.descendants(treatment)) | {treatment, outcome} | self._latent
        candidates = [v for v in self.nodes if v not in blocked]
        if len(candidates) > MAX_ADJUSTMENT_CANDIDATES:
            raise ValueError(
                f"{len(candidates)} candidate variables give 2**{len(candidates)} sets, too many to list; "
                "use minimal_adjustment_sets(), or fix some variables in or out by hand"
            )
        valid = []
        for size in range(len(candidates) + 1):
            for subset in combinations(candidates, size):
                if self.is_valid_backdoor(treatment, outcome, subset):
                    valid.append(subset)
        return valid

    def minimal_adjustment_sets(self, treatment: str, outcome: str) -> list[tuple[str, ...]]:
        """The valid backdoor sets none of whose proper subsets is valid."""
        minimal: list[tuple[str, ...]] = []
        for subset in self.backdoor_adjustment_sets(treatment, outcome):
            if not any(set(m) <= set(subset) for m in minimal):
                minimal.append(subset)
        return minimal

    def is_frontdoor(self, treatment: str, outcome: str, mediators: str | Iterable[str]) -> bool:
        """Whether ``mediators`` satisfy Pearl's frontdoor criterion for treatment -> outcome.

        (i) they intercept every directed path from treatment to outcome; (ii) there is no
        open backdoor path from the treatment to them; (iii) the treatment blocks every
        backdoor path from them to the outcome.
        """
        self._effect_pair(treatment, outcome)
        chosen = self._candidate_set(mediators, treatment, outcome)
        if not chosen:
            raise ValueError("the frontdoor criterion needs at least one mediator")
        # (i): no directed path from treatment to outcome avoids the mediators
        remaining = self._graph.subgraph(v for v in self._graph if v not in chosen)
        if nx.has_path(remaining, treatment, outcome):
            return False
        # (ii): T and each M are d-separated once the arrows out of T are removed
        no_out_t = DAG([(a, b) for a, b in self.edges if a != treatment], nodes=self.nodes)
        if not no_out_t.is_d_separated(treatment, chosen, ()):
            return False
        # (iii): every backdoor path M ... Y is blocked by T
        no_out_m = DAG([(a, b) for a, b in self.edges if a not in chosen], nodes=self.nodes)
        return no_out_m.is_d_separated(chosen, outcome, treatment)


# ---------------------------------------------------------------------- drawing
def layered_layout(dag: DAG) -> dict[str, tuple[float, float]]:
    """Positions that read left to right: x is the node's topological generation.

    Within a generation nodes are ordered by the average height of their parents (ties
    in node order) and spread around zero, one unit apart; generations are one unit apart
    (more when node names are long). Deterministic.
    """
    if not isinstance(dag, DAG):
        raise ValueError(f"layered_layout needs a lessons_lib.graphs.DAG; got {type(dag).__name__}")
    graph = dag.to_networkx()
    order = {v: i for i, v in enumerate(dag.nodes)}
    x_gap = max(1.0, 0.11 * max((len(v) for v in dag.nodes), default=1))  # room for long names
    positions: dict[str, tuple[float, float]] = {}
    for generation_index, generation in enumerate(nx.topological_generations(graph)):
        x = generation_index * x_gap
        def height(v: str) -> tuple[float, int]:
            ys = [positions[p][1] for p in graph.predecessors(v) if p in positions]
            return (-float(np.mean(ys)) if ys else 0.0, order[v])

        ranked = sorted(generation, key=height)
        offset = (len(ranked) - 1) / 2
        for i, v in enumerate(ranked):
            positions[v] = (float(x), float(offset - i))
    return positions


def _distance_to_segment(point: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    ab = b - a
    t = float(np.clip(np.dot(point - a, ab) / np.dot(ab, ab), 0.0, 1.0))
    return float(np.linalg.norm(point - (a + t * ab)))


def draw(dag: DAG, *, treatment: str | None = None, outcome: str | None = None,
         adjustment: Iterable[str] = (), ax: Axes | None = None,
         layout: dict[str, tuple[float, float]] | None = None, title: str | None = None) -> Axes:
    """Draw a DAG with matplotlib and return the Axes.

    Nodes are laid out by `layered_layout` (causes left, effects right) unless ``layout``
    gives positions ``{node: (x, y)}``. The treatment is filled in the book's treated
    colour, the outcome in its estimate colour, the adjustment set shaded grey; latent
    nodes and the arrows out of them are dashed. An arrow that would cross another node
    is bent around it. The drawing is deterministic, so notebook outputs are stable.

    Example
    -------
    >>> g = DAG([("X", "T"), ("X", "Y"), ("T", "Y")])
    >>> ax = draw(g, treatment="T", outcome="Y", adjustment=["X"])
    """
    if not isinstance(dag, DAG):
        raise ValueError(f"draw needs a lessons_lib.graphs.DAG; got {type(dag).__name__}")
    if not dag.nodes:
        raise ValueError("the graph has no nodes: there is nothing to draw")
    shaded = set(_as_names(adjustment, "adjustment"))
    marked = [v for v in (treatment, outcome) if v is not None] + sorted(shaded)
    unknown = [v for v in marked if v not in dag]
    if unknown:
        raise ValueError(f"cannot highlight {unknown}: not nodes of the graph {list(dag.nodes)}")
    positions = dict(layered_layout(dag) if layout is None else layout)
    missing = [v for v in dag.nodes if v not in positions]
    if missing:
        raise ValueError(f"layout gives no position for node(s) {missing}")
    if ax is None:
        width = 1.6 + 1.5 * (max(x for x, _ in positions.values()) - min(x for x, _ in positions.values()))
        height = 1.2 + 1.0 * (max(y for _, y in positions.values()) - min(y for _, y in positions.values()))
        _, ax = plt.subplots(figsize=(min(max(width, 3.0), 9.0), min(max(height, 1.6), 6.0)))

    boxes = {}
    for v in dag.nodes:
        if v == treatment:
            face, text_colour, edge = TREATED, "white", TREATED
        elif v == outcome:
            face, text_colour, edge = ESTIMATE, "white", ESTIMATE
        elif v in shaded:
            face, text_colour, edge = "#d9d9d9", "black", "#555555"
        else:
            face, text_colour, edge = "white", "black", "#333333"
        is_latent = v in dag.latent
        text = ax.text(
            *positions[v], v, ha="center", va="center", fontsize=11, color=text_colour, zorder=3,
            bbox=dict(boxstyle="round,pad=0.45", facecolor=face, edgecolor=edge,
                      linewidth=2.0 if v in shaded else 1.3,
                      linestyle=(0, (3, 2)) if is_latent else "-"),
        )
        boxes[v] = text

    points = {v: np.asarray(p, dtype=float) for v, p in positions.items()}
    for cause, effect in dag.edges:
        start, end = points[cause], points[effect]
        blocked = any(_distance_to_segment(points[v], start, end) < 0.2
                      for v in dag.nodes if v not in (cause, effect))
        is_latent = cause in dag.latent
        arrow = FancyArrowPatch(
            posA=tuple(start), posB=tuple(end), arrowstyle="-|>", mutation_scale=14,
            connectionstyle=f"arc3,rad={-0.35 if blocked else 0.0}",
            color=NEUTRAL if is_latent else "#333333", linewidth=1.3,
            linestyle=(0, (3, 2)) if is_latent else "-",
            patchA=boxes[cause].get_bbox_patch(), patchB=boxes[effect].get_bbox_patch(),
            shrinkA=3, shrinkB=3, zorder=4,  # after the boxes, so it is clipped to their edges
        )
        ax.add_patch(arrow)

    xs = [p[0] for p in positions.values()]
    ys = [p[1] for p in positions.values()]
    ax.set_xlim(min(xs) - 0.6, max(xs) + 0.6)
    ax.set_ylim(min(ys) - 0.6, max(ys) + 0.6)
    ax.set_aspect("equal", adjustable="box")
    ax.axis("off")
    if title:
        ax.set_title(title)
    return ax
