"""Tests of lessons_lib.graphs: d-separation against networkx, adjustment sets, surgery, drawing."""

from __future__ import annotations

import io
from itertools import combinations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import networkx as nx  # noqa: E402
import pytest  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from lessons_lib.graphs import DAG, draw, layered_layout  # noqa: E402
from lessons_lib.plots import TREATED  # noqa: E402

CONFOUNDED = DAG([("X", "T"), ("X", "Y"), ("T", "Y")])
FRONTDOOR = DAG([("U", "T"), ("U", "Y"), ("T", "M"), ("M", "Y")], latent=["U"])
M_BIAS = DAG([("A", "Z"), ("B", "Z"), ("A", "T"), ("B", "Y"), ("T", "Y")])


@st.composite
def dag_and_query(draw_value):
    """A random DAG on 2-8 nodes (edges only from lower to higher index) and a query."""
    n = draw_value(st.integers(2, 8))
    names = [f"V{i}" for i in range(n)]
    pairs = [(names[i], names[j]) for i in range(n) for j in range(i + 1, n)]
    present = draw_value(st.lists(st.booleans(), min_size=len(pairs), max_size=len(pairs)))
    edges = [p for p, keep in zip(pairs, present, strict=True) if keep]
    roles = draw_value(st.lists(st.sampled_from("xyz-"), min_size=n, max_size=n))
    first_x = draw_value(st.integers(0, n - 1))
    first_y = draw_value(st.integers(0, n - 2))
    first_y += first_y >= first_x  # a different node
    roles[first_x], roles[first_y] = "x", "y"
    xs = [v for v, r in zip(names, roles, strict=True) if r == "x"]
    ys = [v for v, r in zip(names, roles, strict=True) if r == "y"]
    zs = [v for v, r in zip(names, roles, strict=True) if r == "z"]
    return DAG(edges, nodes=names), xs, ys, zs


@settings(max_examples=400, deadline=None)
@given(dag_and_query())
def test_d_separation_agrees_with_networkx(case):
    dag, xs, ys, zs = case
    reference = nx.is_d_separator(dag.to_networkx(), set(xs), set(ys), set(zs))
    assert dag.is_d_separated(xs, ys, zs) == reference


@settings(max_examples=200, deadline=None)
@given(dag_and_query())
def test_paths_and_d_separation_tell_the_same_story(case):
    """X and Y (single nodes) are d-separated exactly when no path between them is open."""
    dag, xs, ys, zs = case
    x, y = xs[0], ys[0]
    z = [v for v in zs]
    any_open = any(dag.is_path_open(p, z) for p in dag.paths(x, y))
    assert dag.is_d_separated(x, y, z) == (not any_open)


def _reference_backdoor(dag: DAG, t: str, y: str, s: set) -> bool:
    graph = dag.to_networkx()
    if s & nx.descendants(graph, t):
        return False
    graph.remove_edges_from(list(graph.out_edges(t)))
    return nx.is_d_separator(graph, {t}, {y}, s)


@settings(max_examples=120, deadline=None)
@given(dag_and_query())
def test_backdoor_sets_agree_with_networkx_definition(case):
    dag, xs, ys, _ = case
    t, y = xs[0], ys[0]
    others = [v for v in dag.nodes if v not in (t, y)]
    listed = set(map(frozenset, dag.backdoor_adjustment_sets(t, y)))
    for size in range(len(others) + 1):
        for subset in combinations(others, size):
            expected = _reference_backdoor(dag, t, y, set(subset))
            assert dag.is_valid_backdoor(t, y, subset) == expected
            assert (frozenset(subset) in listed) == expected
    minimal = dag.minimal_adjustment_sets(t, y)
    for m in minimal:
        assert not any(frozenset(s) < frozenset(m) for s in listed)


def test_backdoor_agrees_with_dowhy():
    from dowhy.graph import check_valid_backdoor_set

    for dag, t, y in [(CONFOUNDED, "T", "Y"), (M_BIAS, "T", "Y")]:
        others = [v for v in dag.nodes if v not in (t, y) and v not in dag.descendants(t)]
        for size in range(len(others) + 1):
            for subset in combinations(others, size):
                theirs = check_valid_backdoor_set(dag.to_networkx(), [t], [y], list(subset))
                assert dag.is_valid_backdoor(t, y, subset) == theirs["is_dseparated"]


def test_textbook_graphs():
    assert CONFOUNDED.parents("Y") == ("X", "T")
    assert CONFOUNDED.children("X") == ("T", "Y")
    assert CONFOUNDED.ancestors("Y") == ("X", "T")
    assert CONFOUNDED.descendants("X") == ("T", "Y")
    assert CONFOUNDED.backdoor_paths("T", "Y") == [("T", "X", "Y")]
    assert CONFOUNDED.minimal_adjustment_sets("T", "Y") == [("X",)]
    # M-bias: the empty set is valid, Z alone opens A -> Z <- B
    assert M_BIAS.is_valid_backdoor("T", "Y", [])
    assert not M_BIAS.is_valid_backdoor("T", "Y", ["Z"])
    assert M_BIAS.is_valid_backdoor("T", "Y", ["Z", "A"])
    assert M_BIAS.minimal_adjustment_sets("T", "Y") == [()]
    # frontdoor: no backdoor set exists (U is latent), M satisfies the frontdoor criterion
    assert FRONTDOOR.backdoor_adjustment_sets("T", "Y") == []
    assert FRONTDOOR.is_frontdoor("T", "Y", ["M"])
    assert not CONFOUNDED.is_frontdoor("T", "Y", ["X"])
    # a mediator that is confounded with the outcome fails condition (iii)
    leaky = DAG([("T", "M"), ("M", "Y"), ("W", "M"), ("W", "Y")])
    assert not leaky.is_frontdoor("T", "Y", ["M"])
    # a direct arrow T -> Y fails condition (i)
    direct = DAG([("T", "M"), ("M", "Y"), ("T", "Y")])
    assert not direct.is_frontdoor("T", "Y", ["M"])
    # the three elementary structures
    fork = DAG([("B", "A"), ("B", "C")])
    chain = DAG([("A", "B"), ("B", "C")])
    collider = DAG([("A", "B"), ("C", "B")])
    assert not fork.is_d_separated("A", "C") and fork.is_d_separated("A", "C", "B")
    assert not chain.is_d_separated("A", "C") and chain.is_d_separated("A", "C", "B")
    assert collider.is_d_separated("A", "C") and not collider.is_d_separated("A", "C", "B")
    descendant = DAG([("A", "B"), ("C", "B"), ("B", "D")])
    assert not descendant.is_d_separated("A", "C", "D")


def test_do_surgery_removes_only_arrows_into_the_intervened_nodes():
    cut = CONFOUNDED.do("T")
    assert set(cut.edges) == {("X", "Y"), ("T", "Y")}
    assert cut.nodes == CONFOUNDED.nodes
    assert cut.is_d_separated("T", "X")
    both = M_BIAS.do("T", "Z")
    assert set(both.edges) == {("B", "Y"), ("T", "Y")}
    kept = FRONTDOOR.do("T")
    assert kept.latent == ("U",)
    assert CONFOUNDED.edges == (("X", "T"), ("X", "Y"), ("T", "Y"))  # the original is unchanged


def test_repr_equality_and_order_are_stable():
    assert repr(CONFOUNDED) == "DAG(X -> T, X -> Y, T -> Y)"
    assert DAG([("T", "Y"), ("X", "T"), ("X", "Y")]) == CONFOUNDED
    assert CONFOUNDED.topological_order() == ("X", "T", "Y")
    assert DAG([], nodes=["A", "B"]).is_d_separated("A", "B")


@pytest.mark.parametrize(
    "edges, kwargs, message",
    [
        ([("A", "B"), ("B", "C"), ("C", "A")], {}, "cycle"),
        ([("A", "A")], {}, "self-loop"),
        ([("A", "B", "C")], {}, "pair of node names"),
        ([("A", 3)], {}, "pair of node names"),
        (["AB"], {}, "pair of node names"),
        ("A->B", {}, "list of"),
        ([("A", "B")], {"latent": ["U"]}, "not in the graph"),
    ],
)
def test_refuses_malformed_graphs(edges, kwargs, message):
    with pytest.raises(ValueError, match=message):
        DAG(edges, **kwargs)


def test_refuses_bad_queries():
    with pytest.raises(ValueError, match="unknown node"):
        CONFOUNDED.parents("Q")
    with pytest.raises(ValueError, match="unknown node"):
        CONFOUNDED.is_d_separated("T", "Q")
    with pytest.raises(ValueError, match="disjoint"):
        CONFOUNDED.is_d_separated("T", "Y", given=["T"])
    with pytest.raises(ValueError, match="at least one node"):
        CONFOUNDED.is_d_separated([], "Y")
    with pytest.raises(ValueError, match="latent"):
        FRONTDOOR.is_valid_backdoor("T", "Y", ["U"])
    with pytest.raises(ValueError, match="cannot contain the treatment"):
        CONFOUNDED.is_valid_backdoor("T", "Y", ["T"])
    with pytest.raises(ValueError, match="different"):
        CONFOUNDED.backdoor_adjustment_sets("T", "T")
    with pytest.raises(ValueError, match="at least one node"):
        CONFOUNDED.do()
    with pytest.raises(ValueError, match="unknown node"):
        CONFOUNDED.is_path_open(["T", "Q"])
    with pytest.raises(ValueError, match="not adjacent"):
        M_BIAS.is_path_open(["A", "B"])
    with pytest.raises(ValueError, match="at least one mediator"):
        FRONTDOOR.is_frontdoor("T", "Y", [])
    wide = DAG([(f"X{i}", "T") for i in range(17)] + [("T", "Y")])
    with pytest.raises(ValueError, match="too many"):
        wide.backdoor_adjustment_sets("T", "Y")


def _svg(dag: DAG, **kwargs) -> bytes:
    plt.rcParams["svg.hashsalt"] = "test"
    ax = draw(dag, **kwargs)
    buffer = io.BytesIO()
    ax.figure.savefig(buffer, format="svg", metadata={"Date": None})
    plt.close(ax.figure)
    return buffer.getvalue()


def test_drawing_is_deterministic_and_highlights_roles():
    assert _svg(M_BIAS, treatment="T", outcome="Y") == _svg(M_BIAS, treatment="T", outcome="Y")
    ax = draw(CONFOUNDED, treatment="T", outcome="Y", adjustment=["X"], title="confounding")
    labels = {t.get_text(): t for t in ax.texts}
    assert set(labels) == {"X", "T", "Y"}
    assert matplotlib.colors.to_hex(labels["T"].get_bbox_patch().get_facecolor()) == TREATED
    assert ax.get_title() == "confounding"
    assert len(ax.patches) == 3  # one arrow per edge
    plt.close(ax.figure)
    fig, ax = plt.subplots()
    assert draw(FRONTDOOR, ax=ax) is ax
    plt.close(fig)


def test_layout_reads_left_to_right():
    positions = layered_layout(FRONTDOOR)
    for cause, effect in FRONTDOOR.edges:
        assert positions[cause][0] < positions[effect][0]


def test_draw_refuses_bad_input():
    with pytest.raises(ValueError, match="DAG"):
        draw([("T", "Y")])
    with pytest.raises(ValueError, match="cannot highlight"):
        draw(CONFOUNDED, treatment="Q")
    with pytest.raises(ValueError, match="no nodes"):
        draw(DAG([]))
    with pytest.raises(ValueError, match="no position"):
        draw(CONFOUNDED, layout={"T": (0, 0)})
