"""Tests of lessons_lib.discovery: PC against causal-learn, the Fisher-z test's calibration,
Meek's rules on textbook graphs, the Sachs ground truth, and refusals of bad input."""

from __future__ import annotations

import io
from itertools import combinations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import networkx as nx  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from causallearn.graph.Dag import Dag  # noqa: E402
from causallearn.graph.Edge import Edge  # noqa: E402
from causallearn.graph.Endpoint import Endpoint  # noqa: E402
from causallearn.graph.GraphNode import GraphNode  # noqa: E402
from causallearn.search.ConstraintBased.PC import pc as causallearn_pc  # noqa: E402
from causallearn.utils.cit import CIT, fisherz  # noqa: E402
from causallearn.utils.DAG2CPDAG import dag2cpdag  # noqa: E402

from lessons_lib.discovery import (  # noqa: E402
    CPDAG,
    SACHS_EDGES,
    SACHS_NODES,
    apply_meek_rules,
    cpdag_of,
    draw_cpdag,
    fisher_z_test,
    from_causallearn,
    orient_colliders,
    pc,
    random_dag,
    random_weights,
    sachs_dag,
    shd,
    simulate_linear_gaussian,
    skeleton,
    weakest_partial_correlation,
)
from lessons_lib.graphs import DAG  # noqa: E402
from lessons_lib.testing import assert_agrees  # noqa: E402


def _causallearn_cpdag(data: pd.DataFrame, alpha: float) -> CPDAG:
    graph = causallearn_pc(data.to_numpy(), alpha, fisherz, stable=True, show_progress=False)
    return from_causallearn(graph.G.graph, list(data.columns))


# ------------------------------------------------------------------ 1. agreement with causal-learn
def _has_cycle(graph: CPDAG) -> bool:
    return not nx.is_directed_acyclic_graph(nx.DiGraph(list(graph.directed)))


@pytest.mark.parametrize(("n_nodes", "n_rows", "degree"), [(6, 100, 2.0), (8, 300, 2.0), (10, 500, 2.5)])
def test_pc_gives_causallearns_cpdag_on_random_graphs(n_nodes, n_rows, degree):
    """Small samples on purpose: test errors create orientation conflicts, where the rules matter.

    The only differences allowed are where causal-learn's Meek step closes a directed cycle
    (its output is then not a CPDAG); ours never orients an edge into a cycle.
    """
    matches, cyclic = 0, 0
    for seed in range(20):
        data = simulate_linear_gaussian(random_dag(n_nodes, degree, seed=seed), n=n_rows, seed=seed)
        for alpha in (0.01, 0.05):
            ours, theirs = pc(data, alpha=alpha).cpdag, _causallearn_cpdag(data, alpha)
            assert not _has_cycle(ours)
            if ours == theirs:
                matches += 1
            else:
                assert _has_cycle(theirs), f"seed {seed}, alpha {alpha}: {ours} != {theirs}"
                assert ours.directed != theirs.directed and set(ours.directed) < set(theirs.directed)
                cyclic += 1
    assert matches >= 38, f"{matches} of 40 CPDAGs identical to causal-learn's ({cyclic} cyclic there)"


def test_pc_agrees_on_the_sachs_network():
    data = simulate_linear_gaussian(sachs_dag(), n=500, seed=2005)
    assert pc(data, alpha=0.05).cpdag == _causallearn_cpdag(data, 0.05)


def test_fisher_z_p_values_agree_with_causallearn():
    data = simulate_linear_gaussian(random_dag(6, 2.0, seed=4), n=400, seed=4)
    reference = CIT(data.to_numpy(), "fisherz")
    names = list(data.columns)
    for x, y in combinations(range(6), 2):
        others = [k for k in range(6) if k not in (x, y)]
        for size in (0, 1, 2):
            for given in combinations(others, size):
                ours = fisher_z_test(data, x=names[x], y=names[y],
                                     given=[names[k] for k in given])
                assert_agrees(ours, reference(x, y, list(given)), rtol=1e-6, atol=1e-12, what="p-value")


def test_cpdag_of_agrees_with_causallearns_dag2cpdag():
    for seed in range(30):
        dag = random_dag(7, 2.5, seed=seed)
        nodes = [GraphNode(v) for v in dag.nodes]
        reference = Dag(nodes)
        index = {v: node for v, node in zip(dag.nodes, nodes, strict=True)}
        for a, b in dag.edges:
            reference.add_edge(Edge(index[a], index[b], Endpoint.TAIL, Endpoint.ARROW))
        assert cpdag_of(dag) == from_causallearn(dag2cpdag(reference).graph, dag.nodes)


# ------------------------------------------------------------------ 2. right in simulation
@pytest.mark.slow
def test_fisher_z_accepts_a_true_independence_95_percent_of_the_time():
    """The test's calibration: under X _||_ Y | Z, p > 0.05 in 93-97% of 400 replications."""
    accepted = 0
    seeds = np.random.SeedSequence(11).generate_state(400)
    for seed in seeds:
        rng = np.random.default_rng(int(seed))
        z = rng.normal(size=200)
        data = pd.DataFrame({"x": 0.8 * z + rng.normal(size=200), "y": -0.6 * z + rng.normal(size=200), "z": z})
        accepted += fisher_z_test(data, x="x", y="y", given=["z"]) > 0.05
    assert 0.93 <= accepted / 400 <= 0.97, f"accepted {accepted} of 400"


@pytest.mark.slow
def test_pc_recovers_a_well_separated_sachs_model_with_enough_data():
    """Consistency: on the Sachs model whose weakest partial correlation is largest among the
    first 30 weight draws (seed 21, rho_min = 0.027), PC's errors vanish as n grows."""
    dag, truth = sachs_dag(), cpdag_of(sachs_dag())
    weights = random_weights(dag, seed=21)
    rho_min, _ = weakest_partial_correlation(dag, weights)
    assert rho_min > 0.02
    big = [pc(simulate_linear_gaussian(dag, n=300_000, seed=s, weights=weights), alpha=0.01).cpdag
           for s in range(5)]
    assert sum(shd(est, truth) == 0 for est in big) >= 4
    small = pc(simulate_linear_gaussian(dag, n=300, seed=0, weights=weights), alpha=0.01).cpdag
    assert shd(small, truth, adjacencies_only=True) > 0


def test_a_nearly_unfaithful_model_is_flagged():
    """Seed 17's weights nearly cancel: some partial correlation of adjacent proteins is tiny."""
    rho_min, (a, b, _) = weakest_partial_correlation(sachs_dag(), random_weights(sachs_dag(), seed=17))
    assert rho_min < 1e-3 and (a, b) in SACHS_EDGES


def test_shd_falls_as_the_sample_grows():
    dag = sachs_dag()
    truth, weights = cpdag_of(dag), random_weights(dag, seed=21)
    errors = {n: np.mean([shd(pc(simulate_linear_gaussian(dag, n=n, seed=s, weights=weights), alpha=0.01).cpdag,
                              truth, adjacencies_only=True) for s in range(5)]) for n in (100, 20_000)}
    assert errors[20_000] < errors[100]


# ------------------------------------------------------------------ 3. textbook graphs and the published structure
def test_sachs_network_is_the_published_consensus_graph():
    dag = sachs_dag()
    assert len(SACHS_NODES) == 11 and len(SACHS_EDGES) == 17 and len(dag.edges) == 17
    assert max(len(dag.parents(v)) for v in dag.nodes) == 3  # Mek <- Raf, PKA, PKC
    assert dag.parents("Mek") == ("Raf", "PKA", "PKC")
    truth = cpdag_of(dag)
    assert truth.n_edges == 17
    assert ("PLCg", "PIP3") in truth.undirected  # PLCg -> PIP3 -> PIP2 <- PLCg is a triangle: unidentified


def test_markov_equivalent_dags_share_a_cpdag():
    chain = DAG([("A", "B"), ("B", "C")])
    reverse = DAG([("C", "B"), ("B", "A")])
    fork = DAG([("B", "A"), ("B", "C")])
    collider = DAG([("A", "B"), ("C", "B")])
    assert cpdag_of(chain) == cpdag_of(reverse) == cpdag_of(fork)
    assert cpdag_of(chain).undirected == (("A", "B"), ("B", "C"))
    assert cpdag_of(collider).directed == (("A", "B"), ("C", "B"))
    assert shd(cpdag_of(chain), cpdag_of(collider)) == 2


def test_meek_rules_orient_what_is_forced():
    nodes = ["A", "B", "C", "D"]
    # R1: A -> B - C, A and C not adjacent  =>  B -> C
    r1 = apply_meek_rules(CPDAG.from_sets(nodes[:3], [("A", "B")], [("B", "C")]))
    assert r1.directed == (("A", "B"), ("B", "C"))
    # R2: A -> C -> B and A - B  =>  A -> B
    r2 = apply_meek_rules(CPDAG.from_sets(nodes[:3], [("A", "C"), ("C", "B")], [("A", "B")]))
    assert ("A", "B") in r2.directed
    # R3: A - C -> B, A - D -> B, A - B, C and D not adjacent  =>  A -> B
    r3 = apply_meek_rules(CPDAG.from_sets(nodes, [("C", "B"), ("D", "B")], [("A", "C"), ("A", "D"), ("A", "B")]))
    assert ("A", "B") in r3.directed and ("A", "C") in r3.undirected
    # nothing forced: a lone undirected chain stays undirected
    assert apply_meek_rules(CPDAG.from_sets(nodes[:3], [], [("A", "B"), ("B", "C")])).directed == ()


def test_collider_conflicts_keep_the_first_collider():
    # A - B - C - D with separating sets making both B and C colliders: B claims C -> B first
    adjacency = {"A": {"B"}, "B": {"A", "C"}, "C": {"B", "D"}, "D": {"C"}}
    separating = {frozenset("AC"): [()], frozenset("BD"): [()], frozenset("AD"): [()]}
    pattern = orient_colliders(["A", "B", "C", "D"], adjacency, separating)
    assert pattern.directed == (("A", "B"), ("C", "B"))
    assert pattern.undirected == (("C", "D"),)


def test_pc_on_a_collider_and_the_docstring_example():
    truth = DAG([("A", "C"), ("B", "C"), ("C", "D")], nodes=["A", "B", "C", "D"])
    result = pc(simulate_linear_gaussian(truth, n=2000, seed=1), alpha=0.01)
    assert result.cpdag.directed == (("A", "C"), ("B", "C"), ("C", "D"))
    assert shd(result.cpdag, truth) == 0
    assert result.n_tests > 0 and "directed" in str(result)


def test_skeleton_returns_separating_sets():
    data = simulate_linear_gaussian(DAG([("A", "B"), ("B", "C")]), n=3000, seed=3)
    adjacency, separating, n_tests = skeleton(data, alpha=0.01)
    assert adjacency == {"A": {"B"}, "B": {"A", "C"}, "C": {"B"}}
    assert separating[frozenset("AC")] == [("B",), ("B",)]  # found from both ends
    assert n_tests >= 4


def test_shd_counts_each_pair_once():
    truth = DAG([("A", "B"), ("B", "C")])
    assert shd(truth, truth) == 0
    assert shd(DAG([("B", "A"), ("B", "C")]), truth) == 1  # reversed
    assert shd(CPDAG.from_sets(["A", "B", "C"], [], [("A", "B"), ("B", "C"), ("A", "C")]), truth) == 3
    assert shd(cpdag_of(truth), cpdag_of(DAG([("B", "A"), ("B", "C")]))) == 0


def test_latent_nodes_are_dropped_from_simulated_data():
    dag = DAG([("U", "A"), ("U", "B")], latent=["U"])
    data = simulate_linear_gaussian(dag, n=50, seed=0)
    assert list(data.columns) == ["A", "B"]
    assert list(simulate_linear_gaussian(dag, n=50, seed=0, latent_kept=True).columns) == ["U", "A", "B"]


def test_draw_cpdag_draws_arrows_and_lines():
    fig, ax = plt.subplots()
    draw_cpdag(cpdag_of(sachs_dag()), ax=ax, title="Sachs", highlight=[("PKC", "PKA")])
    assert len(ax.patches) == 17
    fig.savefig(io.BytesIO(), format="png")
    plt.close(fig)


# ------------------------------------------------------------------ 4. refuses bad input
def _frame(n=50, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame(rng.normal(size=(n, 3)), columns=["a", "b", "c"])


def test_refuses_bad_input():
    good = _frame()
    with pytest.raises(ValueError, match="DataFrame"):
        pc(good.to_numpy())
    with pytest.raises(ValueError, match="missing value"):
        pc(good.assign(a=[np.nan] + [1.0] * 49))
    with pytest.raises(ValueError, match="must be numeric"):
        pc(good.assign(c="text"))
    with pytest.raises(ValueError, match="constant"):
        pc(good.assign(c=1.0))
    with pytest.raises(ValueError, match="singular"):
        pc(good.assign(c=good["a"] + good["b"]))
    with pytest.raises(ValueError, match="at least 7 rows"):
        pc(good.head(5))
    with pytest.raises(ValueError, match="alpha"):
        pc(good, alpha=1.5)
    with pytest.raises(ValueError, match="alpha"):
        skeleton(good, alpha=0)
    with pytest.raises(ValueError, match="at least two variables"):
        pc(good, columns=["a"])
    with pytest.raises(ValueError, match="not found"):
        pc(good, columns=["a", "zzz"])
    with pytest.raises(ValueError, match="distinct"):
        fisher_z_test(good, x="a", y="a")
    with pytest.raises(ValueError, match="different nodes"):
        shd(DAG([("a", "b")]), DAG([("a", "c")]))
    with pytest.raises(ValueError, match="CPDAG"):
        shd("a -> b", DAG([("a", "b")]))
    with pytest.raises(ValueError, match="DAG"):
        cpdag_of("a -> b")
    with pytest.raises(ValueError, match="not a CPDAG edge"):
        from_causallearn(np.array([[0, 1], [1, 0]]), ["a", "b"])
    with pytest.raises(ValueError, match="n_nodes"):
        random_dag(1, seed=0)
    with pytest.raises(ValueError, match="positive integer"):
        simulate_linear_gaussian(DAG([("a", "b")]), n=0, seed=0)
    with pytest.raises(ValueError, match="CPDAG"):
        draw_cpdag(DAG([("a", "b")]))
    with pytest.raises(ValueError, match="no coefficient"):
        simulate_linear_gaussian(DAG([("a", "b")]), n=10, seed=0, weights={})
    with pytest.raises(ValueError, match="low <= high"):
        random_weights(DAG([("a", "b")]), seed=0, low=2.0, high=1.0)


def test_fci_marks_the_hidden_confounder_of_the_chapter():
    """Chapter 11's claim: on its latent-confounder example, causal-learn's FCI returns
    A o-> B, B <-> C, D o-> C, while PC orients C -> B (a wrong causal claim)."""
    from causallearn.search.ConstraintBased.FCI import fci

    latent_truth = DAG([("A", "B"), ("L", "B"), ("L", "C"), ("D", "C")], nodes=["A", "B", "C", "D", "L"],
                       latent=["L"])
    hidden = simulate_linear_gaussian(latent_truth, n=5000, seed=3,
                                      weights=random_weights(latent_truth, seed=0, signs=False))
    _, edges = fci(hidden.to_numpy(), fisherz, 0.01, show_progress=False, verbose=False,
                   node_names=list(hidden.columns))
    assert sorted(str(e) for e in edges) == ["A o-> B", "B <-> C", "D o-> C"]
    assert pc(hidden, alpha=0.01).cpdag == CPDAG.from_sets(["A", "B", "C", "D"], [("A", "B"), ("C", "B")],
                                                            [("C", "D")])
