"""Exercise 03 (propensity scores and matching): the checks accept the solution, reject the
untouched stubs, and recognise each known wrong answer with its misconception."""

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
EXERCISE_ID = "03_matching"
EXERCISE_NB = ROOT / "exercises" / f"{EXERCISE_ID}.ipynb"
SOLUTION_NB = ROOT / "solutions" / f"{EXERCISE_ID}.ipynb"
EXERCISE = load_exercise(EXERCISE_ID)


def _checks_module():
    path = ROOT / "exercises" / "checks" / f"{EXERCISE_ID}.py"
    spec = importlib.util.spec_from_file_location("checks_03_for_tests", path)
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

def _misconception(qid, answer):
    result = _verdict(EXERCISE.question(qid), answer)
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

    result = _verdict(EXERCISE.question("q3"), unchecked)
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
    assert _verdict(EXERCISE.question("q5"), "d").status == "fail"
    assert _verdict(EXERCISE.question("q1"), [1, 2]).status == "fail"
    assert _verdict(EXERCISE.question("q3"), lambda *a: None).status == "fail"
