"""Helpers shared by the exercise tests: load an exercise's checks, run a notebook's answers
in-process as the grader would, and judge one answer.

The per-exercise files (``test_exercise_NN*.py``) import these for their exercise-specific
tests; ``test_exercise_notebooks.py`` uses them for the tests every exercise must pass.
pytest's default ``prepend`` import mode puts this folder on ``sys.path``, so
``from exercise_tools import ...`` works without a conftest.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import nbformat
import pytest

from lessons_lib.check import judge
from lessons_lib.check.exercises import call_locally
from lessons_lib.check.plain import roundtrip

ROOT = Path(__file__).resolve().parents[1]
EXERCISES_ROOT = ROOT / "exercises"
CHECKS_ROOT = EXERCISES_ROOT / "checks"
SOLUTIONS_ROOT = ROOT / "solutions"

#: Every exercise with its checks, its exercise notebook and its solution notebook.
EXERCISE_IDS = sorted(
    p.stem for p in CHECKS_ROOT.glob("[0-9][0-9]_*.py")
    if (EXERCISES_ROOT / f"{p.stem}.ipynb").is_file()
    and (SOLUTIONS_ROOT / f"{p.stem}.ipynb").is_file())


def exercise_notebook(exercise_id: str) -> Path:
    """The notebook the learner gets."""
    return EXERCISES_ROOT / f"{exercise_id}.ipynb"


def solution_notebook(exercise_id: str) -> Path:
    """The worked solution."""
    return SOLUTIONS_ROOT / f"{exercise_id}.ipynb"


def checks_module(exercise_id: str) -> ModuleType:
    """Load ``exercises/checks/<exercise_id>.py`` by path (the folder is not a package)."""
    path = CHECKS_ROOT / f"{exercise_id}.py"
    spec = importlib.util.spec_from_file_location(f"checks_{exercise_id}_for_tests", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def answers_of(notebook: Path, exercise) -> dict:
    """Run the exercise's SETUP, then the notebook's answer-tagged cells (only those), as the
    grader would, and return the resulting names."""
    nb = nbformat.read(notebook, as_version=4)
    assert nb.metadata["lessons"]["exercise"] == exercise.id
    namespace: dict = {}
    exec(exercise.setup, namespace)
    for cell in nb.cells:
        if any(tag.startswith("answer-") for tag in cell.metadata.get("tags", [])):
            exec(cell.source, namespace)
    return namespace


def solution_fixture(exercise):
    """A module-scoped fixture with the solution's answers (see :func:`answers_of`); bind it
    in a test module as ``solution = solution_fixture(EXERCISE)`` and ask for ``solution``."""

    @pytest.fixture(scope="module", name="solution")
    def solution():
        return answers_of(solution_notebook(exercise.id), exercise)

    return solution


def seen(question, answer):
    """What the checks see of an answer: a function is called on the question's inputs, a
    value makes the plain-data round trip."""
    return call_locally(answer, question) if question.kind == "function" else roundtrip(answer)


def verdict(question, answer):
    """Judge one answer as the grader would (see :func:`seen`)."""
    return judge(question, seen(question, answer))


def setup_cell_template(exercise, blank_line: bool = True) -> str:
    """The setup cell exactly as CONTRIBUTING.md writes it: SETUP, a blank line, the checker
    import and (after another blank line unless ``blank_line`` is false) ``check = ...``."""
    between = "\n\n" if blank_line else "\n"
    return (exercise.setup.rstrip("\n") + "\n\nfrom lessons_lib.check import checker"
            + between + f'check = checker("{exercise.id}")')


def assert_wrong_answers_recognised(question, examples=None) -> None:
    """Each of ``question.wrong``, in order, fails with its own misconception.

    ``examples`` stands in for the wrong answers whose ``value`` cannot be handed in as it is
    (a predicate, say): one example answer per known wrong answer, in the same order. Without
    it the wrong values themselves are tried.
    """
    examples = examples or [w.value for w in question.wrong]
    assert len(examples) == len(question.wrong)
    for wrong, example in zip(question.wrong, examples, strict=True):
        result = verdict(question, example)
        assert result.status == "fail", (question.id, example)
        assert result.misconception == wrong.misconception, (question.id, example, result.feedback())
