"""Per-learner variants, proved both ways for every exercise whose checks define ``make``.

For three learners of each varied exercise: the solution's answer cells, run after that
learner's setup, score full marks against that learner's checks; the untouched exercise
scores zero; and a value question answered with the number that is right for another
learner's data fails, with the message that the value fits different data. One learner per
exercise also goes through the real sandboxed grader, from a released notebook.
"""

from __future__ import annotations

import functools
import json

import nbformat
import pytest
from exercise_tools import EXERCISE_IDS, exercise_notebook, solution_notebook, verdict

from lessons_lib.check import load_exercise, variant_for
from lessons_lib.check.exercises import is_varied
from lessons_lib.check.plain import roundtrip
from lessons_lib.check.runner import Grader
from lessons_lib.check.sandbox import Limits
from lessons_lib.check.spec import DIFFERENT_DATA, judge, other_variant_note
from lessons_lib.release import release_notebook

LEARNERS = ["ada@example.org", "grace@example.org", "s1234567"]
SALT = "test-salt"
VARIED = [e for e in EXERCISE_IDS if is_varied(e)]


@functools.cache
def _exercise(exercise_id, learner):
    variant = None if learner is None else variant_for(exercise_id, learner, SALT)
    return load_exercise(exercise_id, variant=variant)


@functools.cache
def _answers(exercise_id, learner, kind):
    """The notebook's answer cells run after the learner's setup (as the grader would)."""
    path = solution_notebook(exercise_id) if kind == "solution" else exercise_notebook(exercise_id)
    exercise = _exercise(exercise_id, learner)
    namespace: dict = {}
    exec(exercise.setup, namespace)
    for cell in nbformat.read(path, as_version=4).cells:
        if any(t.startswith("answer-") for t in cell.metadata.get("tags", [])):
            exec(cell.source, namespace)
    return namespace


def test_at_least_twelve_exercises_vary():
    # Raised as exercises are converted; the report lists the ones that do not vary and why.
    assert len(VARIED) >= 13, VARIED


@pytest.mark.parametrize("exercise_id", VARIED)
def test_learners_get_different_data(exercise_id):
    setups = {_exercise(exercise_id, learner).setup for learner in [None, *LEARNERS]}
    assert len(setups) == 4


CASES = [(e, learner) for e in VARIED for learner in LEARNERS]


@pytest.mark.parametrize("exercise_id, learner", CASES)
def test_the_solution_scores_full_marks_for_every_learner(exercise_id, learner):
    exercise = _exercise(exercise_id, learner)
    answers = _answers(exercise_id, learner, "solution")
    for question in exercise.questions:
        result = verdict(question, answers[question.answer])
        assert result.status == "pass", (learner, result.feedback())


@pytest.mark.parametrize("exercise_id, learner", CASES)
def test_the_untouched_exercise_scores_zero_for_every_learner(exercise_id, learner):
    exercise = _exercise(exercise_id, learner)
    answers = _answers(exercise_id, learner, "exercise")
    for question in exercise.questions:
        result = verdict(question, answers[question.answer])
        assert result.status == "fail" and result.points == 0, result.feedback()


@pytest.mark.parametrize("exercise_id, learner", CASES)
def test_a_number_from_another_learners_data_fails_as_different_data(exercise_id, learner):
    other = LEARNERS[(LEARNERS.index(learner) + 1) % len(LEARNERS)]
    mine, theirs = _exercise(exercise_id, learner), _exercise(exercise_id, other)
    copied = 0
    for question in mine.questions:
        if question.kind != "value":
            continue
        value = roundtrip(_answers(exercise_id, other, "solution")[question.answer])
        result = judge(question, value)
        if result.status == "pass":
            continue  # this question's answer does not depend on the data
        result = other_variant_note(result, value, [theirs.question(question.id)])
        assert result.misconception == DIFFERENT_DATA, (question.id, result.feedback())
        copied += 1
    assert copied >= 1, "no value question depends on the learner's data"


@pytest.mark.parametrize("exercise_id", VARIED)
def test_a_released_notebook_through_the_grader(exercise_id, tmp_path):
    """The solution's answer cells in a released notebook score full marks in the sandbox."""
    learner = LEARNERS[0]
    stub = json.loads(exercise_notebook(exercise_id).read_text())
    released = release_notebook(stub, exercise_id, learner, SALT)
    answers = {tuple(c["metadata"]["tags"]): c["source"]
               for c in json.loads(solution_notebook(exercise_id).read_text())["cells"]
               if any(t.startswith("answer-") for t in c.get("metadata", {}).get("tags", []))}
    for cell in released["cells"]:
        key = tuple(cell.get("metadata", {}).get("tags", []))
        if key in answers:
            cell["source"] = answers[key]
    path = tmp_path / f"{exercise_id}.ipynb"
    path.write_text(json.dumps(released))
    result = Grader(limits=Limits(total_seconds=120, cell_seconds=30), salt=SALT).grade(path)
    assert result.learner == learner and result.variant == "learner"
    assert result.all_passed, [q.feedback() for q in result.questions if q.status != "pass"]
