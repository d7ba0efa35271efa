"""Exercise 13 (heterogeneous effects): the checks accept the solution, reject the stubs, and recognise
every known wrong answer with its misconception."""

from __future__ import annotations

import numpy as np
import pytest
from exercise_tools import checks_module, verdict

from lessons_lib.check import load_exercise

EXERCISE_ID = "13_heterogeneous_effects"
EXERCISE = load_exercise(EXERCISE_ID)
CHECKS = checks_module(EXERCISE_ID)

# The layout, the solution's full marks and the stubs' failures, for every exercise:
# test_exercise_notebooks.py. Here: what is particular to this exercise.


def test_q2_implements_the_estimator():
    assert EXERCISE.question("q2").kind == "function"


def test_truth_behind_the_checks():
    assert abs(CHECKS.S_ATE - 2.0) < 0.3  # the linear S-learner finds the average effect
    assert CHECKS.RMSE_T < 0.5  # a linear T-learner recovers tau = 2 + 3 x1
    assert CHECKS.BOTTOM_ESTIMATED < 0 < CHECKS.TOP_ESTIMATED  # calibration shows the spread
    numbers = [f"{v:.2f}" for v in (CHECKS.S_ATE, CHECKS.RMSE_T, CHECKS.TOP_ESTIMATED)]
    for question in EXERCISE.questions:
        for text in [check.expected for check in question.checks] + [question.hint]:
            assert not any(number in text for number in numbers), (question.id, text)


VALUE_WRONGS = [
    ("q1", CHECKS.NAIVE_TRAIN, "naive difference"),
    ("q1", 2.0, "true ATE"),
    ("q3", CHECKS.MSE_T, "square root"),
    ("q3", CHECKS.RMSE_T_TRAIN, "training units"),
    ("q3", CHECKS.RMSE_VS_ATE, "average effect 2"),
    ("q4", CHECKS.TOP_PREDICTED, "prediction"),
    ("q4", CHECKS.BOTTOM_ESTIMATED, "lowest group"),
    ("q5", "the model found real heterogeneity", "rise with the predictions"),
    ("q5", "the effect is zero for everyone", "need not be zero"),
    ("q6", "T-learner", "noise"),
    ("q6", "X-learner", "imputed effects"),
    ("q6", "DR-learner", "pseudo-outcomes"),
]


@pytest.mark.parametrize("qid, answer, words", VALUE_WRONGS)
def test_known_wrong_values_are_recognised(qid, answer, words):
    result = verdict(EXERCISE.question(qid), answer)
    assert result.status == "fail"
    assert words in result.misconception, result.feedback()


def _s_learner(x_train, t_train, y_train, x_new):
    return CHECKS._s_learner(x_train, t_train, y_train, x_new)


def _flipped(x_train, t_train, y_train, x_new):
    return -CHECKS._reference(x_train, t_train, y_train, x_new)


@pytest.mark.parametrize("function, words", [(_s_learner, "S-learner"), (_flipped, "sign")])
def test_known_wrong_functions_are_recognised(function, words):
    result = verdict(EXERCISE.question("q2"), function)
    assert result.status == "fail"
    assert words in result.misconception, result.feedback()


def test_a_function_returning_the_ate_fails():
    def average_only(x_train, t_train, y_train, x_new):
        t_train = np.asarray(t_train)
        return float(np.mean(y_train[t_train == 1]) - np.mean(y_train[t_train == 0]))

    result = verdict(EXERCISE.question("q2"), average_only)
    assert result.status == "fail"
