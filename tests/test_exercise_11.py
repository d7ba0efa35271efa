"""The checks of exercise 11 judge both ways: the solution passes, the stubs and known wrong answers fail."""

from __future__ import annotations

import math
from itertools import combinations
from pathlib import Path

import matplotlib
import nbformat
import pytest

matplotlib.use("Agg")

from lessons_lib.check import judge, load_exercise  # noqa: E402
from lessons_lib.check.exercises import call_locally  # noqa: E402
from lessons_lib.check.plain import roundtrip  # noqa: E402
from lessons_lib.discovery import fisher_z_test  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SLUG = "11_causal_discovery"
EXERCISE = load_exercise(SLUG)


def _answers(folder: str) -> dict:
    notebook = nbformat.read(ROOT / folder / f"{SLUG}.ipynb", as_version=4)
    namespace: dict = {}
    for cell in notebook.cells:
        tags = cell.metadata.get("tags", [])
        if cell.cell_type == "code" and ("setup" in tags or any(t.startswith("answer-") for t in tags)):
            exec(cell.source, namespace)
    return namespace


def _seen(question, value):
    return call_locally(value, question) if question.kind == "function" else roundtrip(value)


@pytest.fixture(scope="module")
def solution():
    return _answers("solutions")


@pytest.fixture(scope="module")
def stubs():
    return _answers("exercises")


def test_notebooks_follow_the_recipe():
    for folder in ("exercises", "solutions"):
        notebook = nbformat.read(ROOT / folder / f"{SLUG}.ipynb", as_version=4)
        assert notebook.metadata["lessons"]["exercise"] == SLUG
        first_code = next(c for c in notebook.cells if c.cell_type == "code")
        assert first_code.metadata["tags"] == ["setup"]
        assert first_code.source.startswith(EXERCISE.setup)
        tags = [t for c in notebook.cells for t in c.metadata.get("tags", []) if t.startswith("answer-")]
        assert tags == [f"answer-{q.id}" for q in EXERCISE.questions]
    exercise = nbformat.read(ROOT / "exercises" / f"{SLUG}.ipynb", as_version=4)
    assert all(not c.get("outputs") for c in exercise.cells if c.cell_type == "code")
    assert len(EXERCISE.questions) >= 5


@pytest.mark.parametrize("question", EXERCISE.questions, ids=lambda q: q.id)
def test_solution_passes(question, solution):
    result = judge(question, _seen(question, solution[question.answer]))
    assert result.status == "pass", result.feedback()
    assert result.points == question.max_points


@pytest.mark.parametrize("question", EXERCISE.questions, ids=lambda q: q.id)
def test_stub_fails(question, stubs):
    result = judge(question, _seen(question, stubs[question.answer]))
    assert result.status == "fail" and result.points == 0
    assert "not answered yet" in result.message


# Wrong functions written the way a learner would, not taken from the checks file.
def _fisher_z_forgets_set_size(data, x, y, given):
    columns = [x, y, *given]
    precision = __import__("numpy").linalg.inv(data[columns].corr().to_numpy())
    r = -precision[0, 1] / math.sqrt(precision[0, 0] * precision[1, 1])
    return math.erfc(math.sqrt(len(data) - 3) * abs(math.atanh(r)) / math.sqrt(2))


def _fisher_z_one_sided(data, x, y, given):
    return fisher_z_test(data, x, y, given) / 2


def _skeleton_marginal_only(data, alpha):
    return sum(fisher_z_test(data, a, b) <= alpha for a, b in combinations(data.columns, 2))


WRONG_EXAMPLES = {
    "q5": [_fisher_z_forgets_set_size, _fisher_z_one_sided],
    "q6": [_skeleton_marginal_only],
}


@pytest.mark.parametrize("question", EXERCISE.questions, ids=lambda q: q.id)
def test_each_wrong_answer_is_recognised(question):
    examples = WRONG_EXAMPLES.get(question.id) or [w.value for w in question.wrong]
    assert len(examples) == len(question.wrong)
    for wrong, example in zip(question.wrong, examples, strict=True):
        result = judge(question, _seen(question, example))
        assert result.status == "fail", (question.id, example)
        assert result.misconception == wrong.misconception, (question.id, example, result.feedback())
