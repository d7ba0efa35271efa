"""The checks of exercise 07 (regression discontinuity) accept the solution, reject the
untouched exercise, and recognise each known wrong answer with its misconception."""

from pathlib import Path

import nbformat
import numpy as np
import pytest

from lessons_lib.check import judge, load_exercise
from lessons_lib.check.exercises import call_locally
from lessons_lib.check.plain import roundtrip

ROOT = Path(__file__).resolve().parents[1]
NAME = "07_regression_discontinuity"
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
    assert f"{solution['local_linear']:.2f}" not in result.feedback()


def _uniform_kernel(data, outcome, running, cutoff, bandwidth):
    distance = data[running].to_numpy(dtype=float) - cutoff
    y = data[outcome].to_numpy(dtype=float)
    inside = np.abs(distance) <= bandwidth
    intercepts = []
    for side in (distance >= 0, distance < 0):
        keep = side & inside
        if keep.sum() < 3:
            raise ValueError("too few units")
        intercepts.append(np.polyfit(distance[keep], y[keep], 1)[1])
    return float(intercepts[0] - intercepts[1])


def _raw_means(data, outcome, running, cutoff, bandwidth):
    near = data[(data[running] - cutoff).abs() <= bandwidth]
    above = near[running] >= cutoff
    if min(above.sum(), (~above).sum()) < 3:
        raise ValueError("too few units")
    return float(near.loc[above, outcome].mean() - near.loc[~above, outcome].mean())


@pytest.mark.parametrize("function, words", [(_uniform_kernel, "uniform kernel"),
                                             (_raw_means, "raw means")])
def test_wrong_estimators_are_recognised(function, words):
    result = _judge(EXERCISE.question("q3"), function)
    assert result.status == "fail"
    assert words in result.misconception


def test_estimator_that_never_refuses_loses_the_refusal_point(solution):
    question = EXERCISE.question("q3")

    def lenient(data, outcome, running, cutoff, bandwidth):
        return solution["rd_estimate"](data, outcome, running, cutoff, max(bandwidth, 0.3))

    result = _judge(question, lenient)
    assert result.status == "fail"
    assert result.points == question.max_points - 1
