"""Exercise 12 (double ML): the checks accept the solution, reject the stubs, and recognise
every known wrong answer with its misconception."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import nbformat
import numpy as np
import pytest

from lessons_lib.check import judge, load_exercise
from lessons_lib.check.exercises import call_locally
from lessons_lib.check.plain import roundtrip

ROOT = Path(__file__).resolve().parents[1]
EXERCISE_ID = "12_double_ml"
EXERCISE_NB = ROOT / "exercises" / f"{EXERCISE_ID}.ipynb"
SOLUTION_NB = ROOT / "solutions" / f"{EXERCISE_ID}.ipynb"


def _checks_module():
    path = ROOT / "exercises" / "checks" / f"{EXERCISE_ID}.py"
    spec = importlib.util.spec_from_file_location("checks_12_for_tests", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


CHECKS = _checks_module()
EXERCISE = load_exercise(EXERCISE_ID)


def _answers(notebook: Path) -> dict:
    """Run SETUP and the notebook's answer cells (only those), as the grader would."""
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


def test_exercise_is_unexecuted_and_solution_passes_in_its_outputs():
    exercise = nbformat.read(EXERCISE_NB, as_version=4)
    assert all(not c.get("outputs") and c.get("execution_count") is None
               for c in exercise.cells if c.cell_type == "code")
    solution = nbformat.read(SOLUTION_NB, as_version=4)
    printed = [o.get("text", "") for c in solution.cells if c.cell_type == "code"
               for o in c.outputs if o.output_type == "stream"]
    passes = [line for text in printed for line in text.splitlines() if " ✓ pass:" in line]
    assert len(passes) == len(EXERCISE.questions)
    assert not any(o.output_type == "error" or o.get("name") == "stderr"
                   for c in solution.cells if c.cell_type == "code" for o in c.outputs)


def test_five_or_more_questions_one_implements_the_estimator():
    assert len(EXERCISE.questions) >= 5
    assert EXERCISE.question("q4").kind == "function"


def test_solution_scores_full_marks():
    namespace = _answers(SOLUTION_NB)
    for question in EXERCISE.questions:
        result = _verdict(question, namespace[question.answer])
        assert result.status == "pass", (question.id, result.feedback())
        assert result.points == question.max_points


def test_untouched_exercise_fails_every_question():
    namespace = _answers(EXERCISE_NB)
    for question in EXERCISE.questions:
        result = _verdict(question, namespace[question.answer])
        assert result.status == "fail" and result.points == 0, (question.id, result.feedback())
        assert "not answered yet" in result.message


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
    result = _verdict(EXERCISE.question(qid), answer)
    assert result.status == "fail"
    assert words in result.misconception, result.feedback()


def _in_sample(data, outcome, treatment, covariates, folds):
    return CHECKS._in_sample(data, outcome, treatment, covariates, folds)


def _mean_of_folds(data, outcome, treatment, covariates, folds):
    return CHECKS._mean_of_folds(data, outcome, treatment, covariates, folds)


@pytest.mark.parametrize("function, words", [(_in_sample, "same rows"),
                                             (_mean_of_folds, "DML1")])
def test_known_wrong_functions_are_recognised(function, words):
    result = _verdict(EXERCISE.question("q4"), function)
    assert result.status == "fail"
    assert words in result.misconception, result.feedback()


def test_a_function_ignoring_the_column_names_fails():
    def hard_coded(data, outcome, treatment, covariates, folds):
        return float(np.mean(data["Y"]))

    result = _verdict(EXERCISE.question("q4"), hard_coded)
    assert result.status == "fail"
