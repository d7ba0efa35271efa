"""The checks of exercise 10 judge both ways: the solution passes, the stubs and known wrong answers fail."""

from __future__ import annotations

import matplotlib
import pytest

matplotlib.use("Agg")

from exercise_tools import assert_wrong_answers_recognised  # noqa: E402

from lessons_lib.check import load_exercise  # noqa: E402

EXERCISE_ID = "10_simpsons_paradox"
EXERCISE = load_exercise(EXERCISE_ID)

# The layout, the solution's full marks and the stubs' failures, for every exercise:
# test_exercise_notebooks.py. Here: what is particular to this exercise.


def _collapsed(table, treatment, value, stratum, count, successes):
    part = table[table[treatment] == value]
    return float(part[successes].sum() / part[count].sum())


def _equal_weights(table, treatment, value, stratum, count, successes):
    part = table[table[treatment] == value]
    return float((part[successes] / part[count]).mean())


WRONG_EXAMPLES = {
    "q5": [_collapsed, _equal_weights],
}


@pytest.mark.parametrize("question", EXERCISE.questions, ids=lambda q: q.id)
def test_each_wrong_answer_is_recognised(question):
    assert_wrong_answers_recognised(question, WRONG_EXAMPLES.get(question.id))
