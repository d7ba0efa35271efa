"""Trusted checks for exercises/08_structural_causal_models.ipynb (chapter 08).

Each learner gets their own data: the setup's simulations are seeded from the
learner's ``VARIANT`` (and the hiring bar differs, 0.4-2.0), and every target is computed
from them.
"""

from __future__ import annotations

import numpy as np

from lessons_lib.check import (
    Call,
    Check,
    Exercise,
    Outcome,
    Question,
    Variant,
    Wrong,
    close_to,
    equals_text,
    is_function,
    is_number,
    one_of,
)
from lessons_lib.graphs import DAG

VARIANT = globals().get("VARIANT", Variant("08_structural_causal_models"))

SETUP = """\
import numpy as np
import pandas as pd

from lessons_lib.graphs import DAG, draw
from lessons_lib.scm import partial_correlation, simulate_linear

# Berkson's paradox: who gets hired depends on talent and on looks
rng = np.random.default_rng(2024)
n = 5_000
talent = rng.normal(size=n)
looks = rng.normal(size=n)
hired = (talent + looks + 0.5 * rng.normal(size=n) > 1.0).astype(int)
actors = pd.DataFrame({"talent": talent, "looks": looks, "hired": hired})

# a clinic's causal story about blood pressure (bp)
clinic = DAG([("age", "exercise"), ("age", "bp"), ("exercise", "weight"), ("weight", "bp"),
              ("exercise", "sleep"), ("stress", "sleep"), ("stress", "bp")])

# a linear SCM of the banner shop
shop = DAG([("prior", "banner"), ("prior", "spend"), ("banner", "clicks"),
            ("clicks", "spend"), ("banner", "spend")])
shop_weights = {("prior", "banner"): 0.9, ("prior", "spend"): 1.5, ("banner", "clicks"): 2.0,
                ("clicks", "spend"): 0.4, ("banner", "spend"): 1.0}
shop_data = simulate_linear(shop, shop_weights, n=3_000, seed=5)
""".replace('default_rng(2024)', f"default_rng({VARIANT.seed_or(2024)})").replace('n=3_000, seed=5)', f"n=3_000, seed={VARIANT.derive(5, 'shop')})").replace(
    "0.5 * rng.normal(size=n) > 1.0)",
    f"0.5 * rng.normal(size=n) > {1.0 if VARIANT.shared else 0.4 + 0.2 * (VARIANT.seed % 9):.1f})")

_ns: dict = {}
exec(SETUP, _ns)  # the same data the learner sees
_actors = _ns["actors"]
_hired = _actors[_actors["hired"] == 1]
_not_hired = _actors[_actors["hired"] == 0]
CORR_HIRED = float(np.corrcoef(_hired["talent"], _hired["looks"])[0, 1])
CORR_EVERYONE = float(np.corrcoef(_actors["talent"], _actors["looks"])[0, 1])
CORR_NOT_HIRED = float(np.corrcoef(_not_hired["talent"], _not_hired["looks"])[0, 1])
_shop_data = _ns["shop_data"]
NAIVE_SLOPE = float(np.polyfit(_shop_data["banner"], _shop_data["spend"], 1)[0])
TOTAL_EFFECT = 1.0 + 2.0 * 0.4


def _set_of_names(answer: object) -> set | None:
    if isinstance(answer, str):
        return {answer.strip()}
    if isinstance(answer, (list, tuple, set, frozenset)) and all(isinstance(a, str) for a in answer):
        return {a.strip() for a in answer}
    return None


def _is_names(answer: object) -> Outcome:
    if _set_of_names(answer) is None:
        return Outcome(False, f"expected a list of node names, found {type(answer).__name__}")
    return Outcome(True)


def _same_set(target: set):
    return lambda answer: _set_of_names(answer) == target


# ---- q6: d-separation as a function -------------------------------------------------


def _reference(edges, x, y, given):
    return DAG([tuple(e) for e in edges]).is_d_separated(x, y, given)


def _naive_no_colliders(edges, x, y, given):
    """Treats every path as open unless some inner node is conditioned on (colliders ignored)."""
    dag = DAG([tuple(e) for e in edges])
    return not any(not (set(p[1:-1]) & set(given)) for p in dag.paths(x, y))


def _naive_no_descendants(edges, x, y, given):
    """Handles colliders but forgets that a conditioned descendant opens them."""
    dag = DAG([tuple(e) for e in edges])
    for path in dag.paths(x, y):
        open_path = True
        for before, middle, after in zip(path, path[1:], path[2:], strict=False):
            collider = (before, middle) in dag.edges and (after, middle) in dag.edges
            if collider and middle not in given:
                open_path = False
            if not collider and middle in given:
                open_path = False
        if open_path:
            return False
    return True


def _inputs() -> list:
    cases = [
        ([("A", "B"), ("B", "C")], "A", "C", []),
        ([("A", "B"), ("B", "C")], "A", "C", ["B"]),
        ([("B", "A"), ("B", "C")], "A", "C", ["B"]),
        ([("A", "B"), ("C", "B")], "A", "C", []),
        ([("A", "B"), ("C", "B")], "A", "C", ["B"]),
        ([("A", "B"), ("C", "B"), ("B", "D")], "A", "C", ["D"]),
        ([("age", "exercise"), ("age", "bp"), ("exercise", "weight"), ("weight", "bp"),
          ("exercise", "sleep"), ("stress", "sleep"), ("stress", "bp")], "exercise", "stress", ["bp"]),
        ([("age", "exercise"), ("age", "bp"), ("exercise", "weight"), ("weight", "bp"),
          ("exercise", "sleep"), ("stress", "sleep"), ("stress", "bp")], "exercise", "stress", ["age", "weight"]),
    ]
    rng = np.random.default_rng(808)
    names = ["V1", "V2", "V3", "V4", "V5", "V6"]
    while len(cases) < 30:
        edges = [(names[i], names[j]) for i in range(6) for j in range(i + 1, 6) if rng.random() < 0.4]
        present = sorted({v for edge in edges for v in edge})
        if len(present) < 3:
            continue
        x, y, *rest = rng.permutation(present).tolist()
        given = [v for v in rest if rng.random() < 0.4]
        cases.append((edges, x, y, given))
    return [((edges, x, y, given), {}) for edges, x, y, given in cases]


def _outputs_of(function) -> list:
    return [function(*args, **kwargs) for args, kwargs in _inputs()]


def _agrees_with_reference(calls: list[Call]) -> Outcome:
    good = 0
    for call in calls:
        want = _reference(*call.args, **call.kwargs)
        if isinstance(call.output, bool) and call.output == want:
            good += 1
    if good == len(calls):
        return Outcome(True, f"all {len(calls)} graphs")
    first_bad = next(c for c in calls if not (isinstance(c.output, bool) and c.output == _reference(*c.args)))
    edges, x, y, given = first_bad.args
    return Outcome(False, f"right on {good} of {len(calls)} graphs; for example with edges {edges}, "
                          f"d_separated(edges, {x!r}, {y!r}, {given}) returned {first_bad.output!r}")


def _wrong_like(function):
    expected = _outputs_of(function)
    return lambda outputs: list(outputs) == expected


EXERCISE = Exercise(
    id="08_structural_causal_models",
    title="Structural causal models and d-separation",
    setup=SETUP,
    questions=[
        Question(
            id="q1", answer="structure",
            checks=[one_of(["fork", "chain", "collider"]),
                    equals_text("collider", expected="the name of the structure talent -> hired <- looks")],
            wrong=[Wrong("fork", "In a fork the arrows point *out of* the middle node (a common cause). "
                                 "Here both arrows point *into* hired: it is a common effect."),
                   Wrong("chain", "A chain passes through the middle node (A -> B -> C). Here talent and "
                                  "looks both point into hired; neither reaches the other through it.")],
            hint="Look at which way the two arrows at `hired` point.",
        ),
        Question(
            id="q2", answer="corr_hired",
            checks=[is_number(), close_to(CORR_HIRED, abs_tol=0.005,
                                          expected="the correlation of talent and looks among hired actors only")],
            wrong=[Wrong(CORR_EVERYONE, "That is the correlation among everyone, where talent and looks are "
                                        "independent. The question selects the hired, which conditions on the collider.",
                         abs_tol=0.005),
                   Wrong(CORR_NOT_HIRED, "That is the correlation among those *not* hired. Keep the rows with "
                                         "hired == 1.", abs_tol=0.005)],
            hint="Filter actors to hired == 1, then np.corrcoef or DataFrame.corr.",
        ),
        Question(
            id="q3", answer="n_open",
            checks=[is_number(), close_to(2, abs_tol=0.01,
                                          expected="how many paths between exercise and bp are open given {weight, sleep}")],
            wrong=[Wrong(3, "There are three paths, but the chain exercise -> weight -> bp is blocked by "
                            "conditioning on weight.", abs_tol=0.01),
                   Wrong(1, "Conditioning on sleep, a collider on exercise -> sleep <- stress -> bp, "
                            "opens that path: only the fork through age was counted.", abs_tol=0.01)],
            hint="List the paths with clinic.paths('exercise', 'bp') and judge each inner node.",
        ),
        Question(
            id="q4", answer="separated_from_age",
            checks=[Check("is a list of names", _is_names, "a list of node names", points=0, gate=True),
                    Check("the right nodes", _same_set({"weight", "sleep", "stress"}),
                          "every node (other than age and exercise) d-separated from age given {exercise}")],
            wrong=[Wrong(_same_set({"weight"}), "sleep and stress are d-separated from age too: every path to them "
                                                "runs through exercise (conditioned on, a chain or fork) or through "
                                                "the collider bp, which is not conditioned on."),
                   Wrong(_same_set({"weight", "sleep"}), "stress is d-separated too: age -> bp <- stress has a "
                                                         "collider at bp, which blocks the path unless bp (or a "
                                                         "descendant) is conditioned on."),
                   Wrong(lambda a: "bp" in (_set_of_names(a) or set()),
                         "bp is a child of age: the arrow age -> bp is a path no conditioning on exercise can block.")],
            hint="For each candidate node, check every path from age with clinic.paths, or use clinic.is_d_separated.",
        ),
        Question(
            id="q5", answer="effect",
            checks=[is_number(), close_to(TOTAL_EFFECT, abs_tol=1e-6,
                                          expected="E[spend | do(banner=1)] - E[spend | do(banner=0)] in the SCM, exactly")],
            wrong=[Wrong(1.0, "That is only the direct arrow banner -> spend. The banner also works through "
                              "clicks: add the path banner -> clicks -> spend.", abs_tol=1e-6),
                   Wrong(0.8, "That is only the path through clicks; the direct arrow banner -> spend counts too.",
                         abs_tol=1e-6),
                   Wrong(NAIVE_SLOPE, "That is the observational slope of spend on banner: prior spending drives "
                                      "both, so seeing is not doing. Intervene (simulate_linear(..., intervene=...)) "
                                      "or use the path rule.", rel_tol=1e-3)],
            hint="Wright's rule: sum over directed paths from banner to spend of the product of the weights.",
        ),
        Question(
            id="q6", answer="d_separated", kind="function", inputs=_inputs,
            checks=[is_function(),
                    Check("agrees with DAG.is_d_separated", _agrees_with_reference,
                          "True exactly when every path between x and y is blocked by `given`", points=2)],
            wrong=[Wrong(_wrong_like(_naive_no_colliders),
                         "Your function treats every unconditioned path as open. A collider (-> C <-) blocks "
                         "a path unless C or one of its descendants is conditioned on."),
                   Wrong(_wrong_like(_naive_no_descendants),
                         "Colliders are handled, but conditioning on a *descendant* of a collider also opens it "
                         "(A -> B <- C, B -> D: A and C are dependent given D).")],
            hint="Enumerate paths with DAG(edges).paths(x, y) and apply the three rules to each inner node; "
                 "remember descendants of colliders.",
        ),
    ],
)
