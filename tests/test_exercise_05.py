"""The checks of exercise 05 (difference in differences) accept the solution, reject the
untouched exercise, and recognise each known wrong answer with its misconception."""

from pathlib import Path

import nbformat
import pytest

from lessons_lib.check import judge, load_exercise
from lessons_lib.check.exercises import call_locally
from lessons_lib.check.plain import roundtrip

ROOT = Path(__file__).resolve().parents[1]
EXERCISE = load_exercise("05_diff_in_diff")


def _answers(folder: str) -> dict:
    """Run SETUP and the notebook's answer cells, as the grader would, and return the names."""
    notebook = nbformat.read(ROOT / folder / "05_diff_in_diff.ipynb", as_version=4)
    assert notebook.metadata["lessons"]["exercise"] == "05_diff_in_diff"
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


def test_setup_cell_is_the_trusted_setup():
    notebook = nbformat.read(ROOT / "exercises" / "05_diff_in_diff.ipynb", as_version=4)
    setup = [c for c in notebook.cells if "setup" in c.metadata.get("tags", [])]
    assert len(setup) == 1 and setup[0].source.startswith(EXERCISE.setup)
    assert all(not c.get("outputs") for c in notebook.cells if c.cell_type == "code")
    assert len(EXERCISE.questions) >= 5


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


def _att_gt_variant(controls):
    def att_gt(data, g, t):
        if t < g:
            raise ValueError("t before g")
        wide = data.pivot(index="unit", columns="period", values="Y")
        cohort = data.groupby("unit")["first_treated"].first()
        change = wide[t] - wide[g - 1]
        comparison = (cohort != g) if controls == "all" else cohort.isna()
        return float(change[cohort == g].mean() - change[comparison].mean())

    return att_gt


@pytest.mark.parametrize("controls, words", [("all", "already treated"),
                                             ("never", "never-treated units only")])
def test_wrong_group_time_functions_are_recognised(controls, words):
    question = EXERCISE.question("q6")
    result = _judge(question, _att_gt_variant(controls))
    assert result.status == "fail"
    assert words in result.misconception


def test_group_time_function_that_never_refuses_loses_the_refusal_point(solution):
    question = EXERCISE.question("q6")

    def lenient(data, g, t):
        return solution["att_gt"](data, g, max(t, g))

    result = _judge(question, lenient)
    assert result.status == "fail"
    assert result.points == question.max_points - 1
