"""The checks of exercise 09 judge both ways: the solution passes, the stubs and known wrong answers fail."""

from __future__ import annotations

import matplotlib
import pytest

matplotlib.use("Agg")

from exercise_tools import assert_wrong_answers_recognised  # noqa: E402

from lessons_lib.check import load_exercise  # noqa: E402

EXERCISE_ID = "09_do_operator"
EXERCISE = load_exercise(EXERCISE_ID)

# The layout, the solution's full marks and the stubs' failures, for every exercise:
# test_exercise_notebooks.py. Here: what is particular to this exercise.


def _naive(data, treatment, outcome, adjustment):
    return float(data.loc[data[treatment] == 1, outcome].mean() - data.loc[data[treatment] == 0, outcome].mean())


def _att_weighted(data, treatment, outcome, adjustment):
    if not adjustment:
        return _naive(data, treatment, outcome, adjustment)
    n_treated = int((data[treatment] == 1).sum())
    return float(sum(int((g[treatment] == 1).sum()) / n_treated * _naive(g, treatment, outcome, adjustment)
                     for _, g in data.groupby(list(adjustment))))


WRONG_EXAMPLES = {
    "q1": [["age", "insurance", "pressure"], ["age", "income", "visits"], ["age"]],
    "q5": [["pressure"], ["visits"]],
    "q6": [_naive, _att_weighted],
}


@pytest.mark.parametrize("question", EXERCISE.questions, ids=lambda q: q.id)
def test_each_wrong_answer_is_recognised(question):
    assert_wrong_answers_recognised(question, WRONG_EXAMPLES.get(question.id))
