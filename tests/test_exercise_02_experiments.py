"""Exercise 02 (randomized experiments): the checks accept the solution, reject the
untouched stubs, and recognise each known wrong answer with its misconception."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from lessons_lib.check import judge, load_exercise
from lessons_lib.check.exercises import call_locally
from lessons_lib.check.plain import roundtrip

ROOT = Path(__file__).resolve().parents[1]
EXERCISE_ID = "02_experiments"
EXERCISE_NB = ROOT / "exercises" / f"{EXERCISE_ID}.ipynb"
SOLUTION_NB = ROOT / "solutions" / f"{EXERCISE_ID}.ipynb"
EXERCISE = load_exercise(EXERCISE_ID)


def _checks_module():
    path = ROOT / "exercises" / "checks" / f"{EXERCISE_ID}.py"
    spec = importlib.util.spec_from_file_location("checks_02_for_tests", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


CHECKS = _checks_module()


def _answers(notebook: Path) -> dict:
    """Run SETUP and only the notebook's answer cells, as the grader does."""
    nb = nbformat.read(notebook, as_version=4)
    namespace: dict = {}
    exec(EXERCISE.setup, namespace)
    for cell in nb.cells:
        if any(tag.startswith("answer-") for tag in cell.metadata.get("tags", [])):
            exec(cell.source, namespace)
    return namespace


def _verdict(question, answer):
    if question.kind == "function":
        return judge(question, call_locally(answer, question))
    return judge(question, roundtrip(answer))


@pytest.fixture(scope="module")
def solution():
    return _answers(SOLUTION_NB)


@pytest.fixture(scope="module")
def stubs():
    return _answers(EXERCISE_NB)


# --- layout ------------------------------------------------------------------------------

@pytest.mark.parametrize("notebook", [EXERCISE_NB, SOLUTION_NB])
def test_notebook_layout(notebook):
    nb = nbformat.read(notebook, as_version=4)
    assert nb.metadata["lessons"] == {"exercise": EXERCISE_ID}
    assert nb.metadata["kernelspec"]["name"] == "python3"
    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    assert code_cells[0].metadata["tags"] == ["setup"]
    assert code_cells[0].source == EXERCISE.setup.rstrip("\n") + (
        f'\n\nfrom lessons_lib.check import checker\n\ncheck = checker("{EXERCISE_ID}")')
    tagged = [t for c in code_cells for t in c.metadata.get("tags", []) if t.startswith("answer-")]
    assert tagged == [f"answer-{q.id}" for q in EXERCISE.questions]
    sources = [c.source for c in code_cells]
    for question in EXERCISE.questions:
        assert f'check("{question.id}", {question.answer})' in sources


def test_exercise_unexecuted_and_solution_all_pass():
    exercise = nbformat.read(EXERCISE_NB, as_version=4)
    assert all(not c.get("outputs") and c.get("execution_count") is None
               for c in exercise.cells if c.cell_type == "code")
    solution = nbformat.read(SOLUTION_NB, as_version=4)
    printed = "".join(o.get("text", "") for c in solution.cells if c.cell_type == "code"
                      for o in c.outputs if o.output_type == "stream")
    for question in EXERCISE.questions:
        assert f"{question.id} ✓ pass:" in printed
    assert all(o.get("name") != "stderr" for c in solution.cells if c.cell_type == "code"
               for o in c.outputs)


def test_at_least_five_questions_and_one_estimator_function():
    assert len(EXERCISE.questions) >= 5
    assert any(q.kind == "function" for q in EXERCISE.questions)


# --- both ways: the solution passes, the stubs fail ----------------------------------------

@pytest.mark.parametrize("qid", [q.id for q in EXERCISE.questions])
def test_solution_scores_full_marks(solution, qid):
    question = EXERCISE.question(qid)
    result = _verdict(question, solution[question.answer])
    assert result.status == "pass", result.feedback()
    assert result.points == question.max_points


@pytest.mark.parametrize("qid", [q.id for q in EXERCISE.questions])
def test_untouched_stub_fails_with_zero(stubs, qid):
    question = EXERCISE.question(qid)
    result = _verdict(question, stubs[question.answer])
    assert result.status == "fail" and result.points == 0
    assert "not answered yet" in result.message


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
    result = _verdict(question, answer)
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
    result = _verdict(question, _unchecked_welch)
    assert result.status == "fail" and result.points == 1


@pytest.mark.parametrize("answer, words", [
    (CHECKS.PLAIN, "plain difference in means"),
    (CHECKS.GAIN_SCORE, "gain"),
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
    (CHECKS.NSW_PLAIN, "unadjusted"),
    (CHECKS.NSW_ADDITIVE, "without the interactions"),
])
def test_q6_wrong_answers(answer, words):
    assert words in _misconception("q6", answer)


def test_q4_accepts_the_textbook_formula_and_q5_the_exact_binomial():
    z = stats.norm.isf(0.025) + stats.norm.ppf(0.8)
    assert _verdict(EXERCISE.question("q4"), 2 * z**2 * 400 / 2.25).status == "pass"
    binomial = stats.binomtest(50_421, 100_000, 0.5).pvalue
    assert _verdict(EXERCISE.question("q5"), binomial).status == "pass"


def test_q3_accepts_regression_on_prior_spend():
    ab = _answers(SOLUTION_NB)["ab"]
    x = np.column_stack([np.ones(len(ab)), ab["T"], ab["prior_spend"]])
    coefficient = np.linalg.lstsq(x, ab["Y"].to_numpy(float), rcond=None)[0][1]
    assert _verdict(EXERCISE.question("q3"), float(coefficient)).status == "pass"


def test_wrong_types_are_refused_not_crashed():
    assert _verdict(EXERCISE.question("q1"), "0.1").status == "fail"
    assert _verdict(EXERCISE.question("q4"), pd.Series([1, 2])).status == "fail"
    assert _verdict(EXERCISE.question("q2"), lambda *a: "not a number").status == "fail"
