"""The checks of exercise 08 judge both ways: the solution passes, the stubs and known wrong answers fail."""

from __future__ import annotations

import matplotlib
import pytest

matplotlib.use("Agg")

from exercise_tools import assert_wrong_answers_recognised  # noqa: E402

from lessons_lib.check import load_exercise  # noqa: E402

EXERCISE_ID = "08_structural_causal_models"
EXERCISE = load_exercise(EXERCISE_ID)

# The layout, the solution's full marks and the stubs' failures, for every exercise:
# test_exercise_notebooks.py. Here: what is particular to this exercise.


def _naive_no_colliders(edges, x, y, given):
    from lessons_lib.graphs import DAG

    dag = DAG(edges)
    return not any(not (set(p[1:-1]) & set(given)) for p in dag.paths(x, y))


def _naive_no_descendants(edges, x, y, given):
    from lessons_lib.graphs import DAG

    dag = DAG(edges)
    for path in dag.paths(x, y):
        ok = True
        for a, m, b in zip(path, path[1:], path[2:], strict=False):
            collider = (a, m) in dag.edges and (b, m) in dag.edges
            if (collider and m not in given) or (not collider and m in given):
                ok = False
        if ok:
            return False
    return True


WRONG_EXAMPLES = {
    "q4": [["weight"], ["weight", "sleep"], ["weight", "sleep", "stress", "bp"]],
    "q6": [_naive_no_colliders, _naive_no_descendants],
}


@pytest.mark.parametrize("question", EXERCISE.questions, ids=lambda q: q.id)
def test_each_wrong_answer_is_recognised(question):
    assert_wrong_answers_recognised(question, WRONG_EXAMPLES.get(question.id))
