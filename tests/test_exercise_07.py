"""The checks of exercise 07 (regression discontinuity) accept the solution, reject the
untouched exercise, and recognise each known wrong answer with its misconception."""

import numpy as np
import pytest
from exercise_tools import solution_fixture, verdict

from lessons_lib.check import judge, load_exercise

EXERCISE_ID = "07_regression_discontinuity"
EXERCISE = load_exercise(EXERCISE_ID)

# The layout, the solution's full marks and the stubs' failures, for every exercise:
# test_exercise_notebooks.py. Here: what is particular to this exercise.


solution = solution_fixture(EXERCISE)


def test_feedback_never_shows_the_expected_number(solution):
    question = EXERCISE.question("q2")
    result = judge(question, 1.0)
    assert f"{solution['local_linear']:.2f}" not in result.feedback()


def _uniform_kernel(data, outcome, running, cutoff, bandwidth):
    distance = data[running].to_numpy(dtype=float) - cutoff
    y = data[outcome].to_numpy(dtype=float)
    inside = np.abs(distance) <= bandwidth
    intercepts = []
    for side in (distance >= 0, distance < 0):
        keep = side & inside
        if keep.sum() < 3:
            raise ValueError("too few units")
        intercepts.append(np.polyfit(distance[keep], y[keep], 1)[1])
    return float(intercepts[0] - intercepts[1])


def _raw_means(data, outcome, running, cutoff, bandwidth):
    near = data[(data[running] - cutoff).abs() <= bandwidth]
    above = near[running] >= cutoff
    if min(above.sum(), (~above).sum()) < 3:
        raise ValueError("too few units")
    return float(near.loc[above, outcome].mean() - near.loc[~above, outcome].mean())


@pytest.mark.parametrize("function, words", [(_uniform_kernel, "uniform kernel"),
                                             (_raw_means, "raw means")])
def test_wrong_estimators_are_recognised(function, words):
    result = verdict(EXERCISE.question("q3"), function)
    assert result.status == "fail"
    assert words in result.misconception


def test_estimator_that_never_refuses_loses_the_refusal_point(solution):
    question = EXERCISE.question("q3")

    def lenient(data, outcome, running, cutoff, bandwidth):
        return solution["rd_estimate"](data, outcome, running, cutoff, max(bandwidth, 0.3))

    result = verdict(question, lenient)
    assert result.status == "fail"
    assert result.points == question.max_points - 1
