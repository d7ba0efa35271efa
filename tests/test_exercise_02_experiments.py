"""Exercise 02 (randomized experiments): the checks accept the solution, reject the
untouched stubs, and recognise each known wrong answer with its misconception."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from exercise_tools import answers_of, checks_module, exercise_notebook, solution_notebook, verdict
from scipy import stats

from lessons_lib import experiments
from lessons_lib.check import load_exercise

EXERCISE_ID = "02_experiments"
EXERCISE = load_exercise(EXERCISE_ID)
CHECKS = checks_module(EXERCISE_ID)
EXERCISE_NB = exercise_notebook(EXERCISE_ID)
SOLUTION_NB = solution_notebook(EXERCISE_ID)

# The known wrong answers of q3 and q6 on the shared data, computed here (the checks compute
# them per learner).
_SHARED: dict = {}
exec(EXERCISE.setup, _SHARED)
_AB, _NSW = _SHARED["ab"], _SHARED["nsw"]
PLAIN = experiments.difference_in_means(_AB, outcome="Y", treatment="T").value
GAIN_SCORE = experiments.difference_in_means(_AB.assign(Y=_AB["Y"] - _AB["prior_spend"]),
                                             outcome="Y", treatment="T").value
NSW_PLAIN = experiments.difference_in_means(_NSW, outcome="re78", treatment="treat").value
_X = np.column_stack([np.ones(len(_NSW)), _NSW["treat"], _NSW[CHECKS.NSW_COVARIATES]])
NSW_ADDITIVE = float(np.linalg.lstsq(_X, _NSW["re78"].to_numpy(), rcond=None)[0][1])

# The layout, the solution's full marks and the stubs' failures, for every exercise:
# test_exercise_notebooks.py. Here: what is particular to this exercise.


# --- each known wrong answer is recognised -------------------------------------------------

def _pooled(data, treatment, outcome):
    y, t = data[outcome].to_numpy(float), data[treatment].to_numpy()
    if set(np.unique(t).tolist()) != {0, 1}:
        raise ValueError("treatment must be 0/1")
    return float(stats.ttest_ind(y[t == 1], y[t == 0]).statistic ** -1
                 * (y[t == 1].mean() - y[t == 0].mean()))


def _ddof0(data, treatment, outcome):
    y, t = data[outcome].to_numpy(float), data[treatment].to_numpy()
    if set(np.unique(t).tolist()) != {0, 1}:
        raise ValueError("treatment must be 0/1")
    return float(np.sqrt(y[t == 1].var() / (t == 1).sum() + y[t == 0].var() / (t == 0).sum()))


def _variance(data, treatment, outcome):
    y, t = data[outcome].to_numpy(float), data[treatment].to_numpy()
    if set(np.unique(t).tolist()) != {0, 1}:
        raise ValueError("treatment must be 0/1")
    return float(y[t == 1].var(ddof=1) / (t == 1).sum() + y[t == 0].var(ddof=1) / (t == 0).sum())


def _unchecked_welch(data, treatment, outcome):
    y, t = data[outcome].to_numpy(float), data[treatment].to_numpy()
    treated, control = y[t == 1], y[t == 0]
    return float(np.sqrt(treated.var(ddof=1) / len(treated) + control.var(ddof=1) / len(control)))


def _misconception(qid, answer):
    question = EXERCISE.question(qid)
    result = verdict(question, answer)
    assert result.status == "fail"
    return result.misconception


@pytest.mark.parametrize("answer, words", [
    (CHECKS.P_EXACT / 2, "one-sided"),
    (CHECKS.P_WELCH, "t-test"),
    (0.0, "left the observed assignment"),
])
def test_q1_wrong_answers(answer, words):
    assert words in _misconception("q1", answer)


@pytest.mark.parametrize("function, words", [
    (_pooled, "pooled-variance"),
    (_ddof0, "ddof=0"),
    (_variance, "square root"),
])
def test_q2_wrong_functions(function, words):
    assert words in _misconception("q2", function)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the learner's function meets one arm
def test_q2_a_right_formula_that_accepts_bad_input_loses_a_point():
    question = EXERCISE.question("q2")
    result = verdict(question, _unchecked_welch)
    assert result.status == "fail" and result.points == 1


@pytest.mark.parametrize("answer, words", [
    (PLAIN, "plain difference in means"),
    (GAIN_SCORE, "gain"),
])
def test_q3_wrong_answers(answer, words):
    assert words in _misconception("q3", answer)


@pytest.mark.parametrize("answer, words", [
    (CHECKS.N_PER_ARM / 2, "factor 2"),
    (2 * CHECKS.N_PER_ARM, "total"),
    (2 * (stats.norm.isf(0.05) + stats.norm.ppf(0.8)) ** 2 * 400 / 2.25, "one-sided"),
    (2 * stats.norm.isf(0.025) ** 2 * 400 / 2.25, "50% power"),
])
def test_q4_wrong_answers(answer, words):
    assert words in _misconception("q4", answer)


@pytest.mark.parametrize("answer, words", [
    (stats.chisquare([0.50421, 0.49579]).pvalue, "shares"),
    (CHECKS.SRM_P / 2, "one-sided"),
])
def test_q5_wrong_answers(answer, words):
    assert words in _misconception("q5", answer)


@pytest.mark.parametrize("answer, words", [
    (NSW_PLAIN, "unadjusted"),
    (NSW_ADDITIVE, "without the interactions"),
])
def test_q6_wrong_answers(answer, words):
    assert words in _misconception("q6", answer)


def test_q4_accepts_the_textbook_formula_and_q5_the_exact_binomial():
    z = stats.norm.isf(0.025) + stats.norm.ppf(0.8)
    assert verdict(EXERCISE.question("q4"), 2 * z**2 * 400 / 2.25).status == "pass"
    binomial = stats.binomtest(50_421, 100_000, 0.5).pvalue
    assert verdict(EXERCISE.question("q5"), binomial).status == "pass"


def test_q3_accepts_regression_on_prior_spend():
    ab = answers_of(SOLUTION_NB, EXERCISE)["ab"]
    x = np.column_stack([np.ones(len(ab)), ab["T"], ab["prior_spend"]])
    coefficient = np.linalg.lstsq(x, ab["Y"].to_numpy(float), rcond=None)[0][1]
    assert verdict(EXERCISE.question("q3"), float(coefficient)).status == "pass"


def test_wrong_types_are_refused_not_crashed():
    assert verdict(EXERCISE.question("q1"), "0.1").status == "fail"
    assert verdict(EXERCISE.question("q4"), pd.Series([1, 2])).status == "fail"
    assert verdict(EXERCISE.question("q2"), lambda *a: "not a number").status == "fail"
