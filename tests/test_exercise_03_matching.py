"""Exercise 03 (propensity scores and matching): the checks accept the solution, reject the
untouched stubs, and recognise each known wrong answer with its misconception."""

from __future__ import annotations

import numpy as np
import pytest
from exercise_tools import checks_module, solution_fixture, verdict

from lessons_lib.check import load_exercise

EXERCISE_ID = "03_matching"
EXERCISE = load_exercise(EXERCISE_ID)
CHECKS = checks_module(EXERCISE_ID)

# The layout, the solution's full marks and the stubs' failures, for every exercise:
# test_exercise_notebooks.py. Here: what is particular to this exercise.


solution = solution_fixture(EXERCISE)


# --- each known wrong answer is recognised -------------------------------------------------

def _misconception(qid, answer):
    result = verdict(EXERCISE.question(qid), answer)
    assert result.status == "fail"
    return result.misconception


@pytest.mark.parametrize("answer, words", [
    (-CHECKS.NAIVE, "sign is reversed"),
    (CHECKS.BENCHMARK, "experimental benchmark"),
    (CHECKS.TREATED_MEAN, "trainees' mean"),
])
def test_q1_wrong_answers(answer, words):
    assert words in _misconception("q1", answer)


@pytest.mark.parametrize("answer, words", [
    (CHECKS.RAW_RE75, "raw difference in dollars"),
    (-CHECKS.SMD_RE75, "sign is reversed"),
    (CHECKS.CONTROL_SD_RE75, "control group's standard deviation"),
    (CHECKS.TREATED_SD_RE75, "treated group's standard deviation"),
])
def test_q2_wrong_answers(answer, words):
    assert words in _misconception("q2", answer)


def _checked(function):
    def wrapped(data, treatment, outcome, score):
        if set(np.unique(data[treatment]).tolist()) != {0, 1}:
            raise ValueError("treatment must be 0/1")
        return function(data, treatment, outcome, score)
    return wrapped


def _naive(data, treatment, outcome, score):
    t = data[treatment].to_numpy() == 1
    return float(data[outcome][t].mean() - data[outcome][~t].mean())


def _ate(data, treatment, outcome, score):
    t = data[treatment].to_numpy() == 1
    x, y = data[score].to_numpy(float), data[outcome].to_numpy(float)
    to_control = np.abs(x[t][:, None] - x[~t][None, :]).argmin(axis=1)
    to_treated = np.abs(x[~t][:, None] - x[t][None, :]).argmin(axis=1)
    return float(np.r_[y[t] - y[~t][to_control], y[t][to_treated] - y[~t]].mean())


def _reversed(data, treatment, outcome, score):
    t = data[treatment].to_numpy() == 1
    x, y = data[score].to_numpy(float), data[outcome].to_numpy(float)
    to_control = np.abs(x[t][:, None] - x[~t][None, :]).argmin(axis=1)
    return float(np.mean(y[~t][to_control] - y[t]))


@pytest.mark.parametrize("function, words", [
    (_checked(_naive), "naive difference"),
    (_checked(_ate), "ATE"),
    (_checked(_reversed), "sign is reversed"),
])
def test_q3_wrong_functions(function, words):
    assert words in _misconception("q3", function)


def test_q3_right_formula_without_the_input_check_loses_a_point(solution):
    right = solution["match_att"]

    def unchecked(data, treatment, outcome, score):
        return right(data.assign(**{treatment: (data[treatment] > data[treatment].min())
                                    .astype(int)}), treatment, outcome, score)

    result = verdict(EXERCISE.question("q3"), unchecked)
    assert result.status == "fail" and result.points == 1


@pytest.mark.parametrize("answer, words", [
    (CHECKS.MATCHED_1_1, "1:1 matching"),
    (CHECKS.MATCHED_1_5_PLAIN, "without the bias correction"),
    (CHECKS.NAIVE, "naive difference"),
    (CHECKS.BENCHMARK, "experimental benchmark"),
])
def test_q4_wrong_answers(answer, words):
    assert words in _misconception("q4", answer)


@pytest.mark.parametrize("answer, words", [("a", "exactly what matching repairs"),
                                           ("C", "reused")])
def test_q5_wrong_answers(answer, words):
    assert words in _misconception("q5", answer)


def test_wrong_types_are_refused_not_crashed():
    assert verdict(EXERCISE.question("q5"), "d").status == "fail"
    assert verdict(EXERCISE.question("q1"), [1, 2]).status == "fail"
    assert verdict(EXERCISE.question("q3"), lambda *a: None).status == "fail"
