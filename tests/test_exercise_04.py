"""Exercise 04 (weighting): the checks accept the solution, reject the stubs, and recognise
every known wrong answer with its misconception."""

from __future__ import annotations

import numpy as np
import pytest
from exercise_tools import answers_of, checks_module, solution_notebook, verdict

from lessons_lib.check import checker, judge, load_exercise
from lessons_lib.standardization import potential_outcome_predictions
from lessons_lib.weighting import propensity_scores

EXERCISE_ID = "04_weighting"
CHECKS = checks_module(EXERCISE_ID)
EXERCISE = load_exercise(EXERCISE_ID)


# --- the notebooks follow CONTRIBUTING.md (the rest is in test_exercise_notebooks.py) ------

def test_q4_implements_the_estimator():
    assert EXERCISE.question("q4").kind == "function"
    assert EXERCISE.question("q4").answer == "aipw_ate"


# --- the truth behind the checks -----------------------------------------------------------

def test_truth_is_sound():
    assert abs(CHECKS.HAJEK - 2.0) < 0.1  # the study's true ATE is 2
    assert abs(CHECKS.HAJEK - CHECKS.HORVITZ_THOMPSON) / CHECKS.HAJEK > 0.006  # told apart
    assert round(CHECKS.STANDARDIZED.value, 1) == 3.5  # What If, section 13.3
    assert CHECKS.E_VALUE == pytest.approx(2.5 + np.sqrt(2.5 * 1.5))


def test_no_expected_text_gives_the_number_away():
    numbers = [f"{v:.2f}" for v in (CHECKS.HAJEK, CHECKS.HORVITZ_THOMPSON,
                                    CHECKS.STANDARDIZED.value, CHECKS.E_VALUE)]
    for question in EXERCISE.questions:
        for text in [check.expected for check in question.checks] + [question.hint]:
            assert not any(number in text for number in numbers), (question.id, text)


def test_in_notebook_check_prints_pass_and_fail(capsys):
    check = checker(EXERCISE_ID)
    check("q1", CHECKS.HAJEK)
    check("q1", CHECKS.NAIVE)
    check("q4", 2.0)  # not a function
    out = capsys.readouterr().out
    assert "q1 ✓ pass" in out
    assert "q1 ✗ fail" in out and "Misconception: that is the naive difference" in out
    assert "expected a function `aipw_ate`" in out


# --- every known wrong answer is recognised with its misconception ------------------------

# (each value question's known wrong values: test_exercise_notebooks.py)


def standardization_only(data, treatment, outcome, covariates):
    m1, m0 = potential_outcome_predictions(data, outcome=outcome, treatment=treatment,
                                           covariates=covariates)
    return float(np.mean(m1 - m0))


def ipw_only(data, treatment, outcome, covariates):
    e, _ = propensity_scores(data, treatment=treatment, covariates=covariates)
    t, y = data[treatment].to_numpy(), data[outcome].to_numpy()
    return float(np.mean(t * y / e) - np.mean((1 - t) * y / (1 - e)))


def control_sign_flipped(data, treatment, outcome, covariates):
    e, _ = propensity_scores(data, treatment=treatment, covariates=covariates)
    m1, m0 = potential_outcome_predictions(data, outcome=outcome, treatment=treatment,
                                           covariates=covariates)
    t, y = data[treatment].to_numpy(), data[outcome].to_numpy()
    return float(np.mean(m1 - m0 + t * (y - m1) / e + (1 - t) * (y - m0) / (1 - e)))


@pytest.mark.parametrize("function, misconception_start", [
    (standardization_only, "that is standardization alone"),
    (ipw_only, "that is the Horvitz-Thompson IPW estimate alone"),
    (control_sign_flipped, "the control term has the wrong sign"),
])
def test_function_wrong_answers_are_recognised(function, misconception_start):
    result = verdict(EXERCISE.question("q4"), function)
    assert result.status == "fail"
    assert result.misconception.startswith(misconception_start)


def test_a_function_that_does_not_refuse_bad_input_loses_that_point():
    namespace = answers_of(solution_notebook(EXERCISE_ID), EXERCISE)
    solution = namespace["aipw_ate"]

    def lenient(data, treatment, outcome, covariates):
        if not set(np.unique(data[treatment])) <= {0, 1}:
            return 0.0
        return solution(data, treatment, outcome, covariates)

    result = verdict(EXERCISE.question("q4"), lenient)
    assert result.status == "fail" and result.points == EXERCISE.question("q4").max_points - 1


def test_rounded_answers_and_text_variants():
    assert judge(EXERCISE.question("q1"), round(CHECKS.HAJEK, 3)).status == "pass"
    assert judge(EXERCISE.question("q6"), round(CHECKS.STANDARDIZED.value, 2)).status == "pass"
    assert judge(EXERCISE.question("q3"), "Stays the same").status == "pass"
    assert judge(EXERCISE.question("q5"), "the ATE of the units kept").status == "pass"
    assert judge(EXERCISE.question("q7"), "4.44").status == "fail"  # a string, not a number
