"""Exercise 12 (double ML): the checks accept the solution, reject the stubs, and recognise
every known wrong answer with its misconception."""

from __future__ import annotations

import numpy as np
import pytest
from exercise_tools import checks_module, verdict

from lessons_lib.check import load_exercise

EXERCISE_ID = "12_double_ml"
EXERCISE = load_exercise(EXERCISE_ID)
CHECKS = checks_module(EXERCISE_ID)

# The layout, the solution's full marks and the stubs' failures, for every exercise:
# test_exercise_notebooks.py. Here: what is particular to this exercise.


def test_q4_implements_the_estimator():
    assert EXERCISE.question("q4").kind == "function"


def test_truth_behind_the_checks():
    assert CHECKS.SHORTCUT < 3.0 - 0.5  # the lasso shortcut really is biased here
    assert abs(CHECKS.THETA - 3.0) < 2 * CHECKS.SE  # DML lands within noise of the truth
    assert abs(CHECKS.NHEFS_THETA - 3.4) < 0.1  # What If's IP-weighted 3.4 kg
    numbers = [f"{v:.2f}" for v in (CHECKS.SHORTCUT, CHECKS.THETA, CHECKS.SE, CHECKS.NHEFS_THETA)]
    for question in EXERCISE.questions:
        for text in [check.expected for check in question.checks] + [question.hint]:
            assert not any(number in text for number in numbers), (question.id, text)


VALUE_WRONGS = [
    ("q1", CHECKS.NAIVE, "naive difference"),
    ("q1", CHECKS.OLS_ALL, "ordinary least squares"),
    ("q1", 3.0, "true effect"),
    ("q2", CHECKS.OLS_ALL, "in-sample"),
    ("q2", CHECKS.NAIVE, "naive difference"),
    ("q2", CHECKS.THETA_REVERSED, "divided by the outcome residuals"),
    ("q2", CHECKS.THETA_Y_ONLY, "out of Y only"),
    ("q3", CHECKS.SE_NO_N, "forgot to divide by n"),
    ("q3", CHECKS.SE_CLASSICAL, "classical"),
    ("q5", CHECKS.NHEFS_NAIVE, "naive difference"),
    ("q5", CHECKS.NHEFS_OLS, "without cross-fitting"),
    ("q5", 3.4, "published"),
    ("q6", "ATE", "constant"),
    ("q6", "ATT", "weights units by e(X)"),
    ("q6", "CATE", "one number"),
]


@pytest.mark.parametrize("qid, answer, words", VALUE_WRONGS)
def test_known_wrong_values_are_recognised(qid, answer, words):
    result = verdict(EXERCISE.question(qid), answer)
    assert result.status == "fail"
    assert words in result.misconception, result.feedback()


def _in_sample(data, outcome, treatment, covariates, folds):
    return CHECKS._in_sample(data, outcome, treatment, covariates, folds)


def _mean_of_folds(data, outcome, treatment, covariates, folds):
    return CHECKS._mean_of_folds(data, outcome, treatment, covariates, folds)


@pytest.mark.parametrize("function, words", [(_in_sample, "same rows"),
                                             (_mean_of_folds, "DML1")])
def test_known_wrong_functions_are_recognised(function, words):
    result = verdict(EXERCISE.question("q4"), function)
    assert result.status == "fail"
    assert words in result.misconception, result.feedback()


def test_a_function_ignoring_the_column_names_fails():
    def hard_coded(data, outcome, treatment, covariates, folds):
        return float(np.mean(data["Y"]))

    result = verdict(EXERCISE.question("q4"), hard_coded)
    assert result.status == "fail"
