"""Tests of lessons_lib.scm: simulation, interventions, Wright's rule, Fisher's z test."""

from __future__ import annotations

import numpy as np
import pytest

from lessons_lib.graphs import DAG
from lessons_lib.scm import fisher_z_test, partial_correlation, simulate_linear, total_effect

GRAPH = DAG([("X", "T"), ("X", "Y"), ("T", "M"), ("M", "Y"), ("T", "Y"), ("Y", "C"), ("T", "C")])
WEIGHTS = {("X", "T"): 0.8, ("X", "Y"): 1.5, ("T", "M"): 2.0, ("M", "Y"): 0.5,
           ("T", "Y"): 1.0, ("Y", "C"): 1.0, ("T", "C"): 1.0}


def test_agrees_with_causal_learn_fisherz():
    from causallearn.utils.cit import CIT

    data = simulate_linear(GRAPH, WEIGHTS, n=400, seed=11)
    columns = list(data.columns)
    reference = CIT(data.to_numpy(), "fisherz")
    for x, y, given in [("X", "M", ["T"]), ("X", "M", []), ("X", "C", ["T", "Y"]),
                        ("M", "C", ["T", "Y"]), ("X", "Y", ["T", "M"])]:
        _, ours = fisher_z_test(data, x=x, y=y, given=given)
        theirs = reference(columns.index(x), columns.index(y), [columns.index(g) for g in given])
        assert ours == pytest.approx(theirs, rel=1e-6, abs=1e-12)


def test_partial_correlation_matches_the_precision_matrix():
    data = simulate_linear(GRAPH, WEIGHTS, n=500, seed=2)[["X", "T", "M"]]
    precision = np.linalg.inv(np.cov(data.to_numpy().T))
    expected = -precision[0, 2] / np.sqrt(precision[0, 0] * precision[2, 2])
    assert partial_correlation(data, x="X", y="M", given=["T"]) == pytest.approx(expected, rel=1e-9)


def test_intervention_is_graph_surgery_and_wrights_rule_is_the_effect():
    treated = simulate_linear(GRAPH, WEIGHTS, n=50, seed=5, intervene={"T": 1.0})
    control = simulate_linear(GRAPH, WEIGHTS, n=50, seed=5, intervene={"T": 0.0})
    truth = total_effect(GRAPH, WEIGHTS, "T", "Y")
    assert truth == pytest.approx(1.0 + 2.0 * 0.5)
    # the same seed gives the same units: each unit's effect is exactly the total effect
    assert np.allclose(treated["Y"] - control["Y"], truth)
    assert np.allclose(treated["X"], control["X"])  # upstream of T: untouched
    assert total_effect(GRAPH, WEIGHTS, "Y", "T") == 0.0


@pytest.mark.slow
def test_fisher_z_rejects_true_independences_five_percent_of_the_time():
    """Calibration: where the graph implies X _||_ M | T, the 5% test rejects 3-7% of the time."""
    seeds = np.random.SeedSequence(0).generate_state(400)
    rejected = [fisher_z_test(simulate_linear(GRAPH, WEIGHTS, n=150, seed=int(s)), x="X", y="M",
                              given=["T"])[1] < 0.05
                for s in seeds]
    assert 0.03 <= np.mean(rejected) <= 0.07
    # and where the graph implies dependence it (almost) always rejects
    detected = [fisher_z_test(simulate_linear(GRAPH, WEIGHTS, n=150, seed=int(s)), x="X", y="M")[1] < 0.05
                for s in seeds[:50]]
    assert np.mean(detected) > 0.9


def test_refuses_bad_input():
    with pytest.raises(ValueError, match="no weight"):
        simulate_linear(GRAPH, {("X", "T"): 1.0}, n=10, seed=0)
    with pytest.raises(ValueError, match="not arrows"):
        simulate_linear(GRAPH, {**WEIGHTS, ("Y", "X"): 1.0}, n=10, seed=0)
    with pytest.raises(ValueError, match="finite"):
        simulate_linear(GRAPH, {**WEIGHTS, ("X", "T"): float("nan")}, n=10, seed=0)
    with pytest.raises(ValueError, match="DAG"):
        simulate_linear([("X", "T")], WEIGHTS, n=10, seed=0)
    with pytest.raises(ValueError, match="positive whole"):
        simulate_linear(GRAPH, WEIGHTS, n=0, seed=0)
    with pytest.raises(ValueError, match="unknown node"):
        simulate_linear(GRAPH, WEIGHTS, n=10, seed=0, intervene={"Q": 1.0})
    with pytest.raises(ValueError, match="non-negative"):
        simulate_linear(GRAPH, WEIGHTS, n=10, seed=0, noise_sd=-1.0)
    with pytest.raises(ValueError, match="unknown"):
        total_effect(GRAPH, WEIGHTS, "T", "Q")
    data = simulate_linear(GRAPH, WEIGHTS, n=20, seed=0)
    with pytest.raises(ValueError, match="different columns"):
        fisher_z_test(data, x="X", y="X")
    with pytest.raises(ValueError, match="not found"):
        fisher_z_test(data, x="X", y="Q")
    with pytest.raises(ValueError, match="missing value"):
        fisher_z_test(data.assign(X=data["X"].where(data.index > 0)), x="X", y="Y")
    with pytest.raises(ValueError, match="infinite"):
        fisher_z_test(data.assign(X=data["X"].replace(data["X"].iloc[0], np.inf)), x="X", y="Y")
    with pytest.raises(ValueError, match="numeric"):
        fisher_z_test(data.assign(X="a"), x="X", y="Y")
    with pytest.raises(ValueError, match="constant"):
        fisher_z_test(data.assign(K=1.0), x="X", y="K")
    with pytest.raises(ValueError, match="too few"):
        fisher_z_test(data.head(4), x="X", y="Y", given=["T", "M"])
