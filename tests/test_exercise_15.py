"""The checks of exercise 15 (causal inference where AI systems act) accept the solution, reject the
untouched exercise, and recognise each known wrong answer with its misconception."""

from pathlib import Path

import nbformat
import numpy as np
import pytest

from lessons_lib.check import judge, load_exercise
from lessons_lib.check.exercises import call_locally
from lessons_lib.check.plain import roundtrip
from lessons_lib.weighting import fit_logistic

ROOT = Path(__file__).resolve().parents[1]
NAME = "15_causal_ai_systems"
EXERCISE = load_exercise(NAME)


def _answers(folder: str) -> dict:
    """Run SETUP and the notebook's answer cells, as the grader would, and return the names."""
    notebook = nbformat.read(ROOT / folder / f"{NAME}.ipynb", as_version=4)
    assert notebook.metadata["lessons"]["exercise"] == NAME
    namespace: dict = {}
    exec(EXERCISE.setup, namespace)
    for cell in notebook.cells:
        if any(tag.startswith("answer-") for tag in cell.metadata.get("tags", [])):
            exec(cell.source, namespace)
    return namespace


def _judge(question, answer):
    seen = call_locally(answer, question) if question.kind == "function" else roundtrip(answer)
    return judge(question, seen)


@pytest.fixture(scope="module")
def solution():
    return _answers("solutions")


@pytest.fixture(scope="module")
def stubs():
    return _answers("exercises")


def test_exercise_notebook_shape():
    notebook = nbformat.read(ROOT / "exercises" / f"{NAME}.ipynb", as_version=4)
    setup = [c for c in notebook.cells if "setup" in c.metadata.get("tags", [])]
    assert len(setup) == 1 and setup[0].source.startswith(EXERCISE.setup)
    assert setup[0].source.rstrip().endswith(f'check = checker("{NAME}")')
    assert all(not c.get("outputs") for c in notebook.cells if c.cell_type == "code")
    tags = [t for c in notebook.cells for t in c.metadata.get("tags", [])]
    assert [t for t in tags if t.startswith("answer-")] == [f"answer-{q.id}" for q in
                                                             EXERCISE.questions]
    assert len(EXERCISE.questions) >= 5
    assert any(q.kind == "function" for q in EXERCISE.questions)


@pytest.mark.parametrize("qid", [q.id for q in EXERCISE.questions])
def test_solution_passes(solution, qid):
    question = EXERCISE.question(qid)
    result = _judge(question, solution[question.answer])
    assert result.status == "pass", result.feedback()
    assert result.points == question.max_points


@pytest.mark.parametrize("qid", [q.id for q in EXERCISE.questions])
def test_untouched_exercise_fails(stubs, qid):
    question = EXERCISE.question(qid)
    result = _judge(question, stubs[question.answer])
    assert result.status == "fail" and result.points == 0, result.feedback()
    assert "not answered yet" in result.message


def test_every_value_wrong_is_recognised():
    for question in EXERCISE.questions:
        if question.kind != "value":
            continue
        for wrong in question.wrong:
            result = judge(question, roundtrip(wrong.value))
            assert result.status == "fail", (question.id, wrong.value)
            assert result.misconception == wrong.misconception, (question.id, wrong.value)


def test_feedback_never_shows_the_expected_number(solution):
    question = EXERCISE.question("q2")
    result = judge(question, 1.0)
    assert f"{solution['zone_level']:.2f}" not in result.feedback()


def _weighted(kind):
    def transport_ate(data, covariates):
        design = np.column_stack([np.ones(len(data)), data[list(covariates)].to_numpy(dtype=float)])
        s = data["in_trial"].to_numpy()
        p = 1 / (1 + np.exp(-(design @ fit_logistic(design, s))))
        w = (1 / p)[s == 1] if kind == "inverse probability" else np.ones(int(s.sum()))
        trial = data[s == 1]
        t, y = trial["T"].to_numpy(), trial["Y"].to_numpy()
        return float(np.sum(w * t * y) / np.sum(w * t)
                     - np.sum(w * (1 - t) * y) / np.sum(w * (1 - t)))

    return transport_ate


@pytest.mark.parametrize("kind, words", [("inverse probability", "combined"),
                                         ("none", "ignores the target population")])
def test_wrong_transport_functions_are_recognised(kind, words):
    result = _judge(EXERCISE.question("q4"), _weighted(kind))
    assert result.status == "fail"
    assert words in result.misconception


def test_a_crashing_function_fails_with_its_error():
    def broken(data, covariates):
        return data["no such column"].mean()

    result = _judge(EXERCISE.question("q4"), broken)
    assert result.status == "fail" and result.points == 0
    assert "KeyError" in result.message
