"""Trusted checks for exercises/11_causal_discovery.ipynb (chapter 11)."""

from __future__ import annotations

import math
from itertools import combinations

import numpy as np
import pandas as pd

from lessons_lib.check import (
    Exercise,
    Question,
    Wrong,
    agrees_with,
    close_to,
    equals_text,
    is_function,
    is_number,
    one_of,
)
from lessons_lib.discovery import (
    cpdag_of,
    fisher_z_test,
    pc,
    random_dag,
    sachs_dag,
    shd,
    simulate_linear_gaussian,
    skeleton,
)

SETUP = """\
import numpy as np
import pandas as pd

from lessons_lib.discovery import cpdag_of, fisher_z_test, pc, random_weights, sachs_dag, shd, simulate_linear_gaussian
from lessons_lib.graphs import DAG

# four genes measured in 2,000 samples, simulated from a graph you are not shown here
genes = simulate_linear_gaussian(
    DAG([("G1", "G3"), ("G2", "G3"), ("G3", "G4")], nodes=["G1", "G2", "G3", "G4"]), n=2000, seed=7
)

# 5,000 cells simulated from the Sachs consensus network (the chapter's model 21)
proteins = simulate_linear_gaussian(sachs_dag(), n=5000, seed=2024, weights=random_weights(sachs_dag(), seed=21))

# a DAG for question 3
q3_dag = DAG([("A", "C"), ("B", "C"), ("C", "D"), ("D", "E"), ("A", "F")], nodes=["A", "B", "C", "D", "E", "F"])
"""

_namespace: dict = {}
exec(SETUP, _namespace)
_genes, _proteins, _q3_dag = _namespace["genes"], _namespace["proteins"], _namespace["q3_dag"]


def _partial_correlation(data: pd.DataFrame, x: str, y: str, given: list[str]) -> float:
    precision = np.linalg.inv(data[[x, y, *given]].corr().to_numpy())
    return float(-precision[0, 1] / math.sqrt(precision[0, 0] * precision[1, 1]))


PARTIAL = _partial_correlation(_genes, "G1", "G2", ["G3"])
MARGINAL = float(_genes["G1"].corr(_genes["G2"]))
PARTIAL_WRONG_SIGN = -PARTIAL

_q3_cpdag = cpdag_of(_q3_dag)
N_ORIENTED = len(_q3_cpdag.directed)

_estimate = pc(_proteins, alpha=0.01).cpdag
SHD_CPDAG = shd(_estimate, cpdag_of(sachs_dag()))
SHD_DAG = shd(_estimate, sachs_dag())
SKELETON_ERRORS = shd(_estimate, cpdag_of(sachs_dag()), adjacencies_only=True)


# ------------------------------------------------------------------ q5: a Fisher-z test
def _z_inputs() -> list:
    rng = np.random.default_rng(115)
    z = rng.normal(size=300)
    frame = pd.DataFrame({"x": 0.7 * z + rng.normal(size=300), "y": -0.5 * z + rng.normal(size=300), "z": z,
                          "w": rng.normal(size=300)})
    frame["v"] = frame["x"] + frame["y"] + rng.normal(size=300)
    return [
        ((_genes, "G1", "G2", []), {}),
        ((_genes, "G1", "G2", ["G3"]), {}),
        ((_genes, "G1", "G4", ["G3"]), {}),
        ((frame, "x", "y", []), {}),
        ((frame, "x", "y", ["z"]), {}),
        ((frame, "x", "y", ["z", "w"]), {}),
        ((frame, "x", "w", ["z", "v"]), {}),
    ]


def _z_reference(data, x, y, given):
    return fisher_z_test(data, x=x, y=y, given=given)


def _z_without_set_size(data, x, y, given):
    r = _partial_correlation(data, x, y, list(given))
    return math.erfc(math.sqrt(len(data) - 3) * abs(math.atanh(r)) / math.sqrt(2))


def _z_one_sided(data, x, y, given):
    return fisher_z_test(data, x=x, y=y, given=given) / 2


def _outputs_match(function, inputs, rel_tol=1e-6):
    expected = [function(*args, **kwargs) for args, kwargs in inputs()]

    def matches(outputs) -> bool:
        return len(outputs) == len(expected) and all(
            isinstance(got, (int, float, np.integer, np.floating)) and not isinstance(got, bool)
            and math.isclose(float(got), want, rel_tol=rel_tol, abs_tol=1e-12)
            for got, want in zip(outputs, expected, strict=True))

    return matches


# ------------------------------------------------------------------ q6: PC's skeleton
def _skeleton_inputs() -> list:
    calls = []
    for seed, n_nodes, n, alpha in [(1, 5, 400, 0.01), (2, 6, 300, 0.05), (3, 6, 1000, 0.01), (4, 7, 500, 0.05)]:
        data = simulate_linear_gaussian(random_dag(n_nodes, 2.0, seed=seed), n=n, seed=seed)
        calls.append(((data, alpha), {}))
    calls.append(((_genes, 0.01), {}))
    return calls


def _skeleton_reference(data, alpha):
    adjacency, _, _ = skeleton(data, alpha=alpha)
    return sum(len(v) for v in adjacency.values()) // 2


def _marginal_only(data, alpha):
    return sum(fisher_z_test(data, x=x, y=y) <= alpha for x, y in combinations(data.columns, 2))


EXERCISE = Exercise(
    id="11_causal_discovery",
    title="Causal discovery",
    setup=SETUP,
    questions=[
        Question(
            id="q1", answer="partial_g1_g2",
            checks=[is_number(), close_to(PARTIAL, abs_tol=0.005,
                                          expected="the partial correlation of G1 and G2 given G3 (a number in [-1, 1])")],
            wrong=[Wrong(MARGINAL, "That is the plain correlation of G1 and G2, without conditioning on G3. Regress "
                                   "both on G3 and correlate the residuals.", abs_tol=0.005),
                   Wrong(PARTIAL_WRONG_SIGN, "Right size, wrong sign: the partial correlation is MINUS the off-diagonal "
                                             "entry of the inverse correlation matrix, scaled.", abs_tol=0.005)],
            hint="Residuals of G1 and of G2 after least squares on G3 (with an intercept), then np.corrcoef.",
        ),
        Question(
            id="q2", answer="structure",
            checks=[one_of(["chain", "fork", "collider"]),
                    equals_text("collider", expected="the kind of triple G1 - G3 - G2 is, judged from tests")],
            wrong=[Wrong("chain", "A chain G1 -> G3 -> G2 would make G1 and G2 dependent, and independent given G3. "
                                  "Run both tests: here it is the other way round."),
                   Wrong("fork", "A fork G1 <- G3 -> G2 would make G1 and G2 dependent, and independent given G3. "
                                 "Here they are independent, and conditioning on G3 makes them dependent.")],
            hint="Compare fisher_z_test(genes, x='G1', y='G2') with fisher_z_test(genes, x='G1', y='G2', given=['G3']).",
        ),
        Question(
            id="q3", answer="n_oriented",
            checks=[is_number(), close_to(N_ORIENTED, abs_tol=0.01,
                                          expected="how many of q3_dag's five edges are arrows in its CPDAG")],
            wrong=[Wrong(2, "Only the collider's two arrows? Meek's rule 1 then orients C -> D (else C would be a "
                            "new collider), and again D -> E.", abs_tol=0.01),
                   Wrong(5, "Not all: A - F is in no collider and no rule forces it; F -> A gives an equivalent DAG.",
                         abs_tol=0.01),
                   Wrong(0, "Colliders are identified: A -> C <- B has A and B not adjacent.", abs_tol=0.01)],
            hint="Find the unshielded colliders, then apply Meek's rule 1 until nothing changes (or call cpdag_of).",
        ),
        Question(
            id="q4", answer="sachs_shd",
            checks=[is_number(), close_to(SHD_CPDAG, abs_tol=0.01,
                                          expected="the SHD between PC's CPDAG (alpha = 0.01) on `proteins` and the "
                                                   "true CPDAG of the Sachs network")],
            wrong=[Wrong(SHD_DAG, "You compared with the true DAG. Directions that no observational data can give "
                                  "then count as errors; compare with cpdag_of(sachs_dag()).", abs_tol=0.01),
                   Wrong(SKELETON_ERRORS, "That counts only missing and extra edges; the SHD also counts every pair "
                                          "whose orientation differs.", abs_tol=0.01)],
            hint="shd(pc(proteins, alpha=0.01).cpdag, cpdag_of(sachs_dag())).",
        ),
        Question(
            id="q5", answer="fisher_z", kind="function", inputs=_z_inputs,
            checks=[is_function(),
                    agrees_with(_z_reference, points=2, rel_tol=1e-6, abs_tol=1e-12,
                                expected="the two-sided p-value of Fisher's z test of x _||_ y | given")],
            wrong=[Wrong(_outputs_match(_z_without_set_size, _z_inputs),
                         "Your test uses sqrt(n - 3) whatever the conditioning set; each conditioning variable "
                         "costs a degree of freedom: sqrt(n - |S| - 3)."),
                   Wrong(_outputs_match(_z_one_sided, _z_inputs),
                         "Your p-value is one-sided (half the right one): a partial correlation can be far from zero "
                         "in either direction, so p = 2 (1 - Phi(|z|)).")],
            hint="r = partial correlation (residuals, or the inverse correlation matrix); "
                 "z = sqrt(n - len(given) - 3) * arctanh(r); p = 2 * scipy.stats.norm.sf(abs(z)).",
        ),
        Question(
            id="q6", answer="skeleton_edges", kind="function", inputs=_skeleton_inputs,
            checks=[is_function(),
                    agrees_with(_skeleton_reference, points=2, rel_tol=0, abs_tol=1e-9,
                                expected="the number of edges left by PC's step 1 (stable, Fisher z, conditioning "
                                         "sets drawn from current neighbours)")],
            wrong=[Wrong(_outputs_match(_marginal_only, _skeleton_inputs),
                         "You kept every pair that is marginally dependent. PC also removes an edge when some set of "
                         "neighbours makes the pair independent (sizes 1, 2, ...): a chain X -> Z -> Y has X and Y "
                         "dependent but not adjacent.")],
            hint="Loop over sizes 0, 1, 2, ...; for each pair still joined, test given every subset of that size "
                 "of the first variable's other neighbours; remove the edge if any p-value exceeds alpha.",
        ),
    ],
)
