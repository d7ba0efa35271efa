"""The checks of exercise 11 judge both ways: the solution passes, the stubs and known wrong answers fail."""

from __future__ import annotations

import math
from itertools import combinations

import matplotlib
import pytest

matplotlib.use("Agg")

from exercise_tools import assert_wrong_answers_recognised  # noqa: E402

from lessons_lib.check import load_exercise  # noqa: E402
from lessons_lib.discovery import fisher_z_test  # noqa: E402

EXERCISE_ID = "11_causal_discovery"
EXERCISE = load_exercise(EXERCISE_ID)

# The layout, the solution's full marks and the stubs' failures, for every exercise:
# test_exercise_notebooks.py. Here: what is particular to this exercise.


def _fisher_z_forgets_set_size(data, x, y, given):
    columns = [x, y, *given]
    precision = __import__("numpy").linalg.inv(data[columns].corr().to_numpy())
    r = -precision[0, 1] / math.sqrt(precision[0, 0] * precision[1, 1])
    return math.erfc(math.sqrt(len(data) - 3) * abs(math.atanh(r)) / math.sqrt(2))


def _fisher_z_one_sided(data, x, y, given):
    return fisher_z_test(data, x=x, y=y, given=given) / 2


def _skeleton_marginal_only(data, alpha):
    return sum(fisher_z_test(data, x=a, y=b) <= alpha for a, b in combinations(data.columns, 2))


WRONG_EXAMPLES = {
    "q5": [_fisher_z_forgets_set_size, _fisher_z_one_sided],
    "q6": [_skeleton_marginal_only],
}


@pytest.mark.parametrize("question", EXERCISE.questions, ids=lambda q: q.id)
def test_each_wrong_answer_is_recognised(question):
    assert_wrong_answers_recognised(question, WRONG_EXAMPLES.get(question.id))
