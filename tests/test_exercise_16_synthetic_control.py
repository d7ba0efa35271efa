"""The checks of exercise 16 (synthetic control) accept the solution, reject the untouched
exercise, and recognise each known wrong answer with its misconception."""

import numpy as np
import pytest
from exercise_tools import assert_wrong_answers_recognised, checks_module, solution_fixture, verdict
from scipy.optimize import nnls

from lessons_lib.check import load_exercise

EXERCISE_ID = "16_synthetic_control"
EXERCISE = load_exercise(EXERCISE_ID)
CHECKS = checks_module(EXERCISE_ID)

# The layout, the solution's full marks and the stubs' failures, for every exercise:
# test_exercise_notebooks.py. Here: what is particular to this exercise.

solution = solution_fixture(EXERCISE)


def _refusing(weights_of):
    def synthetic_weights(donors, treated):
        if len(treated) != len(donors):
            raise ValueError("shapes")
        return weights_of(np.asarray(donors, float), np.asarray(treated, float))

    return synthetic_weights


WRONG_WEIGHTS = [
    _refusing(lambda d, t: np.linalg.lstsq(d, t, rcond=None)[0]),
    _refusing(lambda d, t: nnls(d, t)[0]),
    _refusing(lambda d, t: np.full(d.shape[1], 1 / d.shape[1])),
]


def test_wrong_weight_functions_are_recognised():
    assert_wrong_answers_recognised(EXERCISE.question("q4"), WRONG_WEIGHTS)


def test_the_checker_inputs_separate_the_wrong_weights_from_the_right_ones():
    # Least squares must leave the simplex on some input, or the question could not tell.
    outputs = [np.linalg.lstsq(d, t, rcond=None)[0] for d, t in CHECKS._weight_inputs()[:-1]]
    assert any(o.min() < -1e-6 or abs(o.sum() - 1) > 1e-6 for o in outputs)


def test_weights_that_never_refuse_lose_the_refusal_point(solution):
    question = EXERCISE.question("q4")

    def lenient(donors, treated):
        rows = min(len(donors), len(treated))
        return solution["synthetic_weights"](np.asarray(donors)[:rows], np.asarray(treated)[:rows])

    result = verdict(question, lenient)
    assert result.status == "fail"
    assert result.points == question.max_points - 1


def test_a_feasible_but_poor_fit_loses_the_fit_points():
    question = EXERCISE.question("q4")
    first_donor = _refusing(lambda d, t: np.eye(d.shape[1])[0])
    result = verdict(question, first_donor)
    assert result.status == "fail"
    assert result.points == 2.0  # simplex and refusal, not the best fit


def test_the_known_wrong_values_differ_from_the_answers():
    assert abs(CHECKS._did - CHECKS._fit.att) > 0.5
    assert CHECKS._texas_equal_v == pytest.approx(27018, abs=5)
    assert abs(CHECKS._texas_equal_v - CHECKS._texas_mixtape_v) > 1000
