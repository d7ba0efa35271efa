"""Exercise 14 (uplift modeling): the checks accept the solution, reject the stubs, and recognise
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
EXERCISE_ID = "14_uplift_modeling"
EXERCISE_NB = ROOT / "exercises" / f"{EXERCISE_ID}.ipynb"
SOLUTION_NB = ROOT / "solutions" / f"{EXERCISE_ID}.ipynb"


def _checks_module():
    path = ROOT / "exercises" / "checks" / f"{EXERCISE_ID}.py"
    spec = importlib.util.spec_from_file_location("checks_14_for_tests", path)
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
    result = _verdict(EXERCISE.question(qid), answer)
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
    result = _verdict(EXERCISE.question("q2"), _checked(function))
    assert result.status == "fail"
    assert words in result.misconception, result.feedback()


def test_a_correct_formula_that_accepts_zero_propensities_loses_the_refusal_point():
    def unguarded(policy, t, y, propensity):
        e = np.broadcast_to(np.asarray(propensity, dtype=float), np.shape(y))
        with np.errstate(divide="ignore", invalid="ignore"):
            return float(np.mean(np.asarray(y) * (np.asarray(t) == np.asarray(policy))
                                 / np.where(np.asarray(policy) == 1, e, 1 - e)))

    result = _verdict(EXERCISE.question("q2"), unguarded)
    assert result.status == "fail"
    assert 0 < result.points < EXERCISE.question("q2").max_points
