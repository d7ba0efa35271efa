"""Finding and loading an exercise's trusted checks (``exercises/checks/NN_slug.py``)."""

from __future__ import annotations

import copy
import importlib.util
import os
from pathlib import Path

from lessons_lib.check.plain import roundtrip
from lessons_lib.check.spec import Call, Exercise, Question

CHECKS_ENV = "LESSONS_CHECKS_DIR"


def default_checks_dir() -> Path:
    """``$LESSONS_CHECKS_DIR``, else the repository's ``exercises/checks`` folder."""
    if os.environ.get(CHECKS_ENV):
        return Path(os.environ[CHECKS_ENV])
    return Path(__file__).resolve().parents[2] / "exercises" / "checks"


def available_exercises(checks_dir: Path | None = None) -> list[str]:
    folder = Path(checks_dir or default_checks_dir())
    return sorted(p.stem for p in folder.glob("[0-9][0-9]_*.py"))


def load_exercise(exercise_id: str, checks_dir: Path | None = None) -> Exercise:
    """Import ``<checks_dir>/<exercise_id>.py`` and return its ``EXERCISE``."""
    folder = Path(checks_dir or default_checks_dir())
    path = folder / f"{exercise_id}.py"
    if not path.is_file():
        known = ", ".join(available_exercises(folder)) or "none"
        raise ValueError(f"no checks for exercise {exercise_id!r} in {folder}; known: {known}")
    spec = importlib.util.spec_from_file_location(f"lessons_checks_{exercise_id}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    exercise = getattr(module, "EXERCISE", None)
    if not isinstance(exercise, Exercise):
        raise ValueError(f"{path} must define EXERCISE = Exercise(...)")
    if exercise.id != exercise_id:
        raise ValueError(f"{path} defines exercise {exercise.id!r}, not {exercise_id!r}")
    return exercise


def call_locally(function: object, question: Question) -> list[Call]:
    """Call a learner's function on the question's inputs, in this process (notebook mode).

    Outputs pass through the same plain-data round trip as in the grader, so both ways in
    judge exactly the same thing.
    """
    calls = []
    for args, kwargs in question.calls():
        call = Call(args=args, kwargs=kwargs)
        try:
            output = function(*copy.deepcopy(args), **copy.deepcopy(kwargs))
            call.output = roundtrip(output)
        except NotImplementedError:
            call.not_implemented = True
            call.error = "NotImplementedError"
        except Exception as exc:
            call.error = f"{type(exc).__name__}: {exc}"
        calls.append(call)
    return calls
