"""Exercise 01 (potential outcomes): the checks accept the solution, reject the stubs, and
recognise every known wrong answer with its misconception."""

from __future__ import annotations

import numpy as np
import pytest
from exercise_tools import checks_module

from lessons_lib.check import checker, judge, load_exercise
from lessons_lib.check.exercises import call_locally

EXERCISE_ID = "01_potential_outcomes"
CHECKS = checks_module(EXERCISE_ID)
EXERCISE = load_exercise(EXERCISE_ID)


# --- the notebooks follow CONTRIBUTING.md (the rest is in test_exercise_notebooks.py) ------

def test_q7_implements_the_estimator():
    assert EXERCISE.question("q7").kind == "function"
    assert EXERCISE.question("q7").answer == "difference_in_means"


# --- the truth behind the checks -----------------------------------------------------------

def test_truth_is_what_the_table_says():
    assert CHECKS.ATE == pytest.approx(51 / 8)
    assert CHECKS.ATT == pytest.approx(43 / 4)
    assert CHECKS.ATC == pytest.approx(2.0)
    assert CHECKS.NAIVE == pytest.approx(66.5 - 71.75)
    assert CHECKS.NAIVE == pytest.approx(CHECKS.ATT + CHECKS.SELECTION_BIAS)
    assert CHECKS.CATE_SECOND == pytest.approx(7.0) and CHECKS.CATE_FIRST == pytest.approx(5.75)
    # different from the chapter's six shoppers, so the chapter's numbers cannot pass
    for chapter_number in (40 / 6, 40 / 3, 0.0, 13 / 3, 9.0, -5 / 3):
        for question_id in ("q1", "q2", "q3", "q4"):
            assert judge(EXERCISE.question(question_id), chapter_number).status == "fail"


def test_no_expected_text_gives_the_number_away():
    numbers = [f"{v:.2f}" for v in (CHECKS.ATE, CHECKS.ATT, CHECKS.NAIVE, CHECKS.CATE_SECOND)]
    numbers += ["6.375", "6.38", "10.75", "-5.25", "7.0"]
    for question in EXERCISE.questions:
        texts = [check.expected for check in question.checks] + [question.hint]
        for text in texts:
            assert not any(number in text for number in numbers), (question.id, text)


def test_in_notebook_check_prints_pass_and_fail(capsys):
    check = checker(EXERCISE_ID)
    check("q1", 6.375)
    check("q1", 10.75)
    check("q7", 3.0)  # not a function
    out = capsys.readouterr().out
    assert "q1 ✓ pass" in out
    assert "q1 ✗ fail" in out and "Misconception: that is the ATT" in out
    assert "expected a function `difference_in_means`" in out


# --- every known wrong answer is recognised with its misconception ------------------------

# (each value question's known wrong values: test_exercise_notebooks.py)


def test_rounded_answers_pass_and_coarse_ones_fail():
    assert judge(EXERCISE.question("q1"), 6.38).status == "pass"
    assert judge(EXERCISE.question("q1"), 6.4).status == "fail"
    assert judge(EXERCISE.question("q1"), "6.375").status == "fail"  # a string, not a number
    assert judge(EXERCISE.question("q6"), "No-Interference").status == "pass"  # case, hyphen
    assert judge(EXERCISE.question("q6"), "SUTVA").status == "fail"


def _frame_arms(data, treatment, outcome):
    t = data[treatment].to_numpy()
    y = data[outcome].to_numpy(dtype=float)
    return y[t == 1], y[t == 0]


def _refuse_non_binary(data, treatment):
    if not set(np.unique(data[treatment])) <= {0, 1}:
        raise ValueError("treatment must be 0/1")


def sign_flipped(data, treatment, outcome):
    _refuse_non_binary(data, treatment)
    treated, control = _frame_arms(data, treatment, outcome)
    return control.mean() - treated.mean()


def minus_overall_mean(data, treatment, outcome):
    _refuse_non_binary(data, treatment)
    treated, _ = _frame_arms(data, treatment, outcome)
    return treated.mean() - data[outcome].mean()


def se_with_ddof0(data, treatment, outcome):
    treated, control = _frame_arms(data, treatment, outcome)
    return np.sqrt(treated.var() / len(treated) + control.var() / len(control))


def se_pooled(data, treatment, outcome):
    treated, control = _frame_arms(data, treatment, outcome)
    n1, n0 = len(treated), len(control)
    pooled = ((n1 - 1) * treated.var(ddof=1) + (n0 - 1) * control.var(ddof=1)) / (n1 + n0 - 2)
    return np.sqrt(pooled * (1 / n1 + 1 / n0))


def variance_not_se(data, treatment, outcome):
    treated, control = _frame_arms(data, treatment, outcome)
    return treated.var(ddof=1) / len(treated) + control.var(ddof=1) / len(control)


def sd_not_se(data, treatment, outcome):
    treated, control = _frame_arms(data, treatment, outcome)
    return np.sqrt(treated.var(ddof=1) + control.var(ddof=1))


@pytest.mark.parametrize("question_id, function, words", [
    ("q7", sign_flipped, "sign is flipped"),
    ("q7", minus_overall_mean, "overall mean"),
    ("q8", se_with_ddof0, "ddof=0"),
    ("q8", se_pooled, "pooled-variance"),
    ("q8", variance_not_se, "square root"),
    ("q8", sd_not_se, "divided by its own size"),
])
def test_function_wrong_answers_are_recognised(question_id, function, words):
    question = EXERCISE.question(question_id)
    result = judge(question, call_locally(function, question))
    assert result.status == "fail"
    assert words in result.misconception


def test_estimator_that_accepts_any_treatment_loses_the_refusal_point():
    def no_check(data, treatment, outcome):
        treated, control = _frame_arms(data, treatment, outcome)
        return treated.mean() - control.mean()

    question = EXERCISE.question("q7")
    result = judge(question, call_locally(no_check, question))
    assert result.status == "fail"
    assert result.points == question.max_points - 1
    assert any(name == "refuses bad input" and not passed for name, passed, _ in result.details)


def test_estimator_that_ignores_the_column_names_fails():
    def hard_coded(data, treatment, outcome):
        _refuse_non_binary(data, treatment)
        return data.loc[data["T"] == 1, "Y"].mean() - data.loc[data["T"] == 0, "Y"].mean()

    question = EXERCISE.question("q7")
    result = judge(question, call_locally(hard_coded, question))
    assert result.status == "fail"
    assert "KeyError" in result.message


def test_returning_the_library_estimate_is_accepted():
    from lessons_lib.experiments import difference_in_means

    def library(data, treatment, outcome):
        return difference_in_means(data, outcome=outcome, treatment=treatment)

    question = EXERCISE.question("q7")
    result = judge(question, call_locally(library, question))
    assert result.status == "pass"
