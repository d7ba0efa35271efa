"""Exercise 13 (heterogeneous effects): the checks accept the solution, reject the stubs, and recognise
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
EXERCISE_ID = "13_heterogeneous_effects"
EXERCISE_NB = ROOT / "exercises" / f"{EXERCISE_ID}.ipynb"
SOLUTION_NB = ROOT / "solutions" / f"{EXERCISE_ID}.ipynb"


def _checks_module():
    path = ROOT / "exercises" / "checks" / f"{EXERCISE_ID}.py"
    spec = importlib.util.spec_from_file_location("checks_13_for_tests", path)
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
    assert EXERCISE.question("q2").kind == "function"


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
    result = _verdict(EXERCISE.question(qid), answer)
    assert result.status == "fail"
    assert words in result.misconception, result.feedback()


def _s_learner(x_train, t_train, y_train, x_new):
    return CHECKS._s_learner(x_train, t_train, y_train, x_new)


def _flipped(x_train, t_train, y_train, x_new):
    return -CHECKS._reference(x_train, t_train, y_train, x_new)


@pytest.mark.parametrize("function, words", [(_s_learner, "S-learner"), (_flipped, "sign")])
def test_known_wrong_functions_are_recognised(function, words):
    result = _verdict(EXERCISE.question("q2"), function)
    assert result.status == "fail"
    assert words in result.misconception, result.feedback()


def test_a_function_returning_the_ate_fails():
    def average_only(x_train, t_train, y_train, x_new):
        t_train = np.asarray(t_train)
        return float(np.mean(y_train[t_train == 1]) - np.mean(y_train[t_train == 0]))

    result = _verdict(EXERCISE.question("q2"), average_only)
    assert result.status == "fail"
