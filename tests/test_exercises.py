"""Every exercise, through the real grader: the solution scores full marks, the untouched
exercise scores zero with every question failing, every known wrong value is recognised
with its misconception, and the exercise notebook is committed as the learner gets it.

Exercises are discovered: every ``exercises/checks/NN_slug.py`` that has both
``exercises/NN_slug.ipynb`` and ``solutions/NN_slug.ipynb``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from lessons_lib.check import load_exercise
from lessons_lib.check.runner import Grader, answer_cells, read_notebook
from lessons_lib.check.sandbox import Limits
from lessons_lib.check.spec import PASS, judge

ROOT = Path(__file__).resolve().parents[1]
CHECKS = ROOT / "exercises" / "checks"
EXERCISES = sorted(
    p.stem for p in CHECKS.glob("[0-9][0-9]_*.py")
    if (ROOT / "exercises" / f"{p.stem}.ipynb").is_file()
    and (ROOT / "solutions" / f"{p.stem}.ipynb").is_file())
LIMITS = Limits(total_seconds=120, cell_seconds=30)


@pytest.fixture(scope="module")
def grader() -> Grader:
    # One notebook per test, so `pytest -n 2` spreads the gradings over both cores.
    return Grader(CHECKS, LIMITS)


def _code_lines(text: str) -> list[str]:
    return [line.rstrip() for line in text.strip().splitlines() if line.strip()]


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def test_some_exercise_is_found():
    assert EXERCISES, "no exercise has its checks, exercise notebook and solution yet"


@pytest.mark.parametrize("exercise_id", EXERCISES)
def test_the_solution_scores_full_marks(grader, exercise_id):
    result = grader.grade(ROOT / "solutions" / f"{exercise_id}.ipynb")
    assert result.status == "graded", result.message
    failing = {q.id: q.feedback() for q in result.questions if q.status != PASS}
    assert not failing, "\n".join(failing.values())
    assert result.score == result.max_score > 0


@pytest.mark.parametrize("exercise_id", EXERCISES)
def test_the_untouched_exercise_scores_zero_with_every_question_failing(grader, exercise_id):
    result = grader.grade(ROOT / "exercises" / f"{exercise_id}.ipynb")
    assert result.status == "graded", result.message
    statuses = {q.id: q.status for q in result.questions}
    assert set(statuses.values()) == {"fail"}, statuses
    assert all(q.message.startswith("not answered yet") for q in result.questions)
    assert result.score == 0


@pytest.mark.parametrize("exercise_id", EXERCISES)
def test_every_known_wrong_value_is_recognised(exercise_id):
    exercise = load_exercise(exercise_id, CHECKS)
    tried = 0
    for question in exercise.questions:
        if question.kind != "value":
            continue
        for wrong in question.wrong:
            if callable(wrong.value) or not isinstance(wrong.value, (int, float, str)):
                continue  # predicates and function outputs have no single value to try
            if isinstance(wrong.value, float) and not math.isfinite(wrong.value):
                continue
            tried += 1
            result = judge(question, wrong.value)
            assert result.status != PASS, f"{question.id}: the wrong answer {wrong.value!r} passes"
            assert result.misconception == wrong.misconception, (
                f"{question.id}: {wrong.value!r} should report its own misconception "
                f"({wrong.misconception[:60]!r}), got {result.misconception[:60]!r}")
    assert tried or not any(q.wrong for q in exercise.questions if q.kind == "value")


@pytest.mark.parametrize("exercise_id", EXERCISES)
def test_the_exercise_notebook_is_as_the_learner_gets_it(exercise_id):
    exercise = load_exercise(exercise_id, CHECKS)
    path = ROOT / "exercises" / f"{exercise_id}.ipynb"
    notebook = read_notebook(path)
    assert notebook["metadata"]["lessons"]["exercise"] == exercise_id
    code = [c for c in notebook["cells"] if c["cell_type"] == "code"]
    assert "setup" in code[0].get("metadata", {}).get("tags", []), "the first code cell is tagged setup"
    expected = _code_lines(exercise.setup) + [
        "from lessons_lib.check import checker", f'check = checker("{exercise_id}")']
    assert _code_lines(_source(code[0])) == expected, "the setup cell is SETUP + the checker lines"
    with_outputs = [i for i, c in enumerate(code) if c.get("outputs") or c.get("execution_count")]
    assert not with_outputs, f"code cells {with_outputs} have outputs committed"
    answered = {q for c in answer_cells(notebook, exercise) for q in c.qids}
    assert answered == {q.id for q in exercise.questions}, "every question has its answer cell"
    assert len(exercise.questions) >= 5
    assert any(q.kind == "function" for q in exercise.questions)
    json.dumps(notebook)  # plain JSON, as committed
