"""Every exercise, in-process: the notebooks follow CONTRIBUTING.md, the committed solution
shows a pass for every question, the solution's answers score full marks and the untouched
exercise fails every question as "not answered yet".

``test_exercises.py`` grades the same notebooks through the real sandboxed grader; these
tests run the answer cells here, so a failure points at the notebook or the checks directly.
Exercise-specific tests (the truth behind the checks, known mistakes, partial credit) live in
``test_exercise_NN*.py``.
"""

from __future__ import annotations

import functools

import nbformat
import pytest
from exercise_tools import (
    EXERCISE_IDS,
    answers_of,
    exercise_notebook,
    setup_cell_template,
    solution_notebook,
    verdict,
)

from lessons_lib.check import judge, load_exercise
from lessons_lib.check.plain import roundtrip

BOTH = [(e, kind) for e in EXERCISE_IDS for kind in ("exercise", "solution")]
NOTEBOOK = {"exercise": exercise_notebook, "solution": solution_notebook}


@functools.cache
def _exercise(exercise_id: str):
    """Each checks module once per test process: some compute their truth at import."""
    return load_exercise(exercise_id)


def _code_cells(path):
    return [c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]


def test_some_exercise_is_found():
    assert EXERCISE_IDS


@pytest.mark.parametrize("exercise_id, kind", BOTH)
def test_notebook_layout(exercise_id, kind):
    exercise = _exercise(exercise_id)
    nb = nbformat.read(NOTEBOOK[kind](exercise_id), as_version=4)
    assert nb.metadata["lessons"] == {"exercise": exercise_id}
    assert nb.metadata["kernelspec"]["name"] == "python3"
    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    assert code_cells[0].metadata["tags"] == ["setup"]
    assert [c for c in nb.cells if "setup" in c.metadata.get("tags", [])] == [code_cells[0]]
    setup = code_cells[0].source
    assert setup.startswith(exercise.setup), "the setup cell starts with the trusted SETUP"
    checker_lines = [line for line in setup[len(exercise.setup):].splitlines() if line.strip()]
    assert checker_lines == [
        "from lessons_lib.check import checker", f'check = checker("{exercise_id}")']
    tagged = [t for c in nb.cells for t in c.metadata.get("tags", []) if t.startswith("answer-")]
    assert tagged == [f"answer-{q.id}" for q in exercise.questions]
    sources = [c.source for c in code_cells]
    for question in exercise.questions:
        assert f'check("{question.id}", {question.answer})' in sources


# The exercises whose setup cell is the template byte for byte; the value says whether a blank
# line separates the checker import from ``check = ...`` (see exercise_tools.setup_cell_template).
EXACT_SETUP_CELL = {
    "01_potential_outcomes": True, "02_experiments": True, "03_matching": True,
    "04_weighting": False, "12_double_ml": True, "13_heterogeneous_effects": True,
    "14_uplift_modeling": True,
}


@pytest.mark.parametrize("exercise_id, kind", [(e, k) for e, k in BOTH if e in EXACT_SETUP_CELL])
def test_setup_cell_is_exactly_the_template(exercise_id, kind):
    exercise = _exercise(exercise_id)
    first = _code_cells(NOTEBOOK[kind](exercise_id))[0]
    assert first.source == setup_cell_template(exercise, blank_line=EXACT_SETUP_CELL[exercise_id])


@pytest.mark.parametrize("exercise_id", EXERCISE_IDS)
def test_at_least_five_questions_and_one_function(exercise_id):
    exercise = _exercise(exercise_id)
    assert len(exercise.questions) >= 5
    assert any(q.kind == "function" for q in exercise.questions)


@pytest.mark.parametrize("exercise_id", EXERCISE_IDS)
def test_exercise_is_committed_unexecuted(exercise_id):
    assert all(not c.get("outputs") and c.get("execution_count") is None
               for c in _code_cells(exercise_notebook(exercise_id)))


@pytest.mark.parametrize("exercise_id", EXERCISE_IDS)
def test_solution_outputs_show_every_question_passing(exercise_id):
    exercise = _exercise(exercise_id)
    outputs = [o for c in _code_cells(solution_notebook(exercise_id)) for o in c.outputs]
    printed = [o.get("text", "") for o in outputs if o.output_type == "stream"]
    passes = [line for text in printed for line in text.splitlines() if " ✓ pass:" in line]
    assert len(passes) == len(exercise.questions)
    for question in exercise.questions:
        assert f"{question.id} ✓ pass:" in "".join(printed)
    assert not any(o.output_type == "error" or o.get("name") == "stderr" for o in outputs)


QUESTIONS = [(e, q.id) for e in EXERCISE_IDS for q in _exercise(e).questions]


@functools.cache
def _answers(exercise_id: str, kind: str) -> dict:
    """The notebook's answers, run once per test process (the tests only read them)."""
    return answers_of(NOTEBOOK[kind](exercise_id), _exercise(exercise_id))


@pytest.mark.parametrize("exercise_id", EXERCISE_IDS)
def test_full_marks_add_up_to_the_exercise_score(exercise_id):
    exercise = _exercise(exercise_id)
    assert sum(q.max_points for q in exercise.questions) == exercise.max_score


@pytest.mark.parametrize("exercise_id, qid", QUESTIONS)
def test_solution_scores_full_marks(exercise_id, qid):
    question = _exercise(exercise_id).question(qid)
    result = verdict(question, _answers(exercise_id, "solution")[question.answer])
    assert result.status == "pass", result.feedback()
    assert result.points == result.max_points == question.max_points


@pytest.mark.parametrize("exercise_id, qid", QUESTIONS)
def test_untouched_exercise_fails_as_not_answered_yet(exercise_id, qid):
    question = _exercise(exercise_id).question(qid)
    result = verdict(question, _answers(exercise_id, "exercise")[question.answer])
    assert result.status == "fail" and result.points == 0, result.feedback()
    assert "not answered yet" in result.message


VALUE_WRONGS = [(e, q.id, i) for e in EXERCISE_IDS for q in _exercise(e).questions
                if q.kind == "value" for i, w in enumerate(q.wrong) if not callable(w.value)]


@pytest.mark.parametrize("exercise_id, qid, index", VALUE_WRONGS)
def test_every_known_wrong_value_is_recognised(exercise_id, qid, index):
    """Each known wrong value fails with its own misconception, after the same plain-data
    round trip a learner's answer makes (a predicate has no single value to try)."""
    question = _exercise(exercise_id).question(qid)
    wrong = question.wrong[index]
    result = judge(question, roundtrip(wrong.value))
    assert result.status == "fail", wrong.value
    assert result.misconception == wrong.misconception, wrong.value
