"""Exercise 14 (uplift modeling): the checks accept the solution, reject the stubs, and recognise
every known wrong answer with its misconception."""

from __future__ import annotations

import numpy as np
import pytest
from exercise_tools import checks_module, verdict

from lessons_lib.check import load_exercise

EXERCISE_ID = "14_uplift_modeling"
EXERCISE = load_exercise(EXERCISE_ID)
CHECKS = checks_module(EXERCISE_ID)

# The layout, the solution's full marks and the stubs' failures, for every exercise:
# test_exercise_notebooks.py. Here: what is particular to this exercise.


def test_q2_implements_the_estimator():
    assert EXERCISE.question("q2").kind == "function"


def test_truth_behind_the_checks():
    assert CHECKS.WASTED_SHARE > 0.6 > CHECKS.BASE_SHARE  # the buyer model picks the wrong types
    assert CHECKS.QINI_AREA > 0  # the T-learner ranks better than random
    assert CHECKS.GAIN > 0 > CHECKS.BUYER_GAIN  # uplift targeting gains, buyer targeting loses
    numbers = [f"{v:.2f}" for v in (CHECKS.WASTED_SHARE, CHECKS.GAIN)] + [f"{CHECKS.QINI_AREA:.3f}"]
    for question in EXERCISE.questions:
        for text in [check.expected for check in question.checks] + [question.hint]:
            assert not any(number in text for number in numbers), (question.id, text)


VALUE_WRONGS = [
    ("q1", CHECKS.SURE_ONLY_SHARE, "only the sure things"),
    ("q1", CHECKS.BASE_SHARE, "all test customers"),
    ("q1", CHECKS.RESPONSE_SHARE, "e-mailed customers only"),
    ("q1", 100 * CHECKS.WASTED_SHARE, "between 0 and 1"),
    ("q3", CHECKS.UPLIFT_AREA, "uplift curve"),
    ("q3", CHECKS.QINI_AREA_RAW, "random targeting"),
    ("q3", CHECKS.QINI_AREA_TOTAL, "not divided"),
    ("q3", CHECKS.QINI_AREA_TRAIN, "training customers"),
    ("q4", CHECKS.VALUE, "subtract the value"),
    ("q4", CHECKS.GAIN_PER_EMAIL, "per e-mail"),
    ("q4", CHECKS.BUYER_GAIN, "buyer model"),
    ("q5", "sleeping dog", "ranks them low"),
    ("q5", "lost cause", "never buy"),
    ("q5", "persuadable", "does move"),
]


@pytest.mark.parametrize("qid, answer, words", VALUE_WRONGS)
def test_known_wrong_values_are_recognised(qid, answer, words):
    result = verdict(EXERCISE.question(qid), answer)
    assert result.status == "fail"
    assert words in result.misconception, result.feedback()


def _checked(function):
    """Wrap a wrong formula so it still refuses bad propensities (only its formula is wrong)."""
    def wrapped(policy, t, y, propensity):
        if np.any((np.asarray(propensity) <= 0) | (np.asarray(propensity) >= 1)):
            raise ValueError("no overlap")
        return function(policy, t, y, propensity)
    return wrapped


@pytest.mark.parametrize("function, words", [
    (CHECKS._propensity_for_everyone, "1 - propensity"),
    (CHECKS._matching_mean, "P(match)"),
    (CHECKS._targeted_mean, "response rate"),
])
def test_known_wrong_functions_are_recognised(function, words):
    result = verdict(EXERCISE.question("q2"), _checked(function))
    assert result.status == "fail"
    assert words in result.misconception, result.feedback()


def test_a_correct_formula_that_accepts_zero_propensities_loses_the_refusal_point():
    def unguarded(policy, t, y, propensity):
        e = np.broadcast_to(np.asarray(propensity, dtype=float), np.shape(y))
        with np.errstate(divide="ignore", invalid="ignore"):
            return float(np.mean(np.asarray(y) * (np.asarray(t) == np.asarray(policy))
                                 / np.where(np.asarray(policy) == 1, e, 1 - e)))

    result = verdict(EXERCISE.question("q2"), unguarded)
    assert result.status == "fail"
    assert 0 < result.points < EXERCISE.question("q2").max_points
