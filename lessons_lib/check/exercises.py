"""Finding and loading an exercise's trusted checks (``exercises/checks/NN_slug.py``).

A checks file defines ``EXERCISE`` (the shared variant). When the exercise gives each
learner their own data (see `lessons_lib.check.variants`) it either defines
``make(variant) -> Exercise``, or is written for one variant, named at its top by

    VARIANT = globals().get("VARIANT", Variant("NN_slug"))

with its ``SETUP`` and every target computed from ``VARIANT``: a learner's exercise is then
the file run again with ``VARIANT`` set to that learner's variant.
"""

from __future__ import annotations

import copy
import importlib.util
import os
import threading
from pathlib import Path
from types import ModuleType

from lessons_lib.check.plain import roundtrip
from lessons_lib.check.spec import Call, Exercise, Question
from lessons_lib.check.variants import Variant

__all__ = ["CHECKS_ENV", "available_exercises", "call_locally", "default_checks_dir",
           "is_varied", "load_exercise"]

CHECKS_ENV = "LESSONS_CHECKS_DIR"
_modules: dict[tuple[str, int], ModuleType] = {}
_lock = threading.Lock()


def default_checks_dir() -> Path:
    """``$LESSONS_CHECKS_DIR``, else the repository's ``exercises/checks`` folder."""
    if os.environ.get(CHECKS_ENV):
        return Path(os.environ[CHECKS_ENV])
    return Path(__file__).resolve().parents[2] / "exercises" / "checks"


def available_exercises(checks_dir: Path | None = None) -> list[str]:
    folder = Path(checks_dir or default_checks_dir())
    return sorted(p.stem for p in folder.glob("[0-9][0-9]_*.py"))


def _module(exercise_id: str, checks_dir: Path | None) -> tuple[ModuleType, Path]:
    """The checks module, imported once per file version (some compute their truth at import)."""
    folder = Path(checks_dir or default_checks_dir())
    path = folder / f"{exercise_id}.py"
    if not path.is_file():
        known = ", ".join(available_exercises(folder)) or "none"
        raise ValueError(f"no checks for exercise {exercise_id!r} in {folder}; known: {known}")
    key = (str(path.resolve()), path.stat().st_mtime_ns)
    with _lock:
        if key not in _modules:
            spec = importlib.util.spec_from_file_location(f"lessons_checks_{exercise_id}", path)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            _modules[key] = module
        return _modules[key], path


def is_varied(exercise_id: str, checks_dir: Path | None = None) -> bool:
    """Whether the exercise gives each learner their own data (``make`` or ``VARIANT``)."""
    module = _module(exercise_id, checks_dir)[0]
    return callable(getattr(module, "make", None)) or isinstance(getattr(module, "VARIANT", None),
                                                                  Variant)


def _rerun(path: Path, exercise_id: str, variant: Variant) -> object:
    """The checks file run again for ``variant`` (its ``VARIANT`` set); its ``EXERCISE``."""
    namespace = {"__name__": f"lessons_checks_{exercise_id}_{variant.seed}",
                 "__file__": str(path), "VARIANT": variant}
    exec(compile(path.read_text(encoding="utf-8"), str(path), "exec"), namespace)  # trusted
    return namespace.get("EXERCISE")


def load_exercise(exercise_id: str, checks_dir: Path | None = None,
                  variant: Variant | None = None) -> Exercise:
    """The ``EXERCISE`` of ``<checks_dir>/<exercise_id>.py``, or ``make(variant)`` for a
    learner's variant when the checks define ``make`` (else the shared ``EXERCISE``)."""
    module, path = _module(exercise_id, checks_dir)
    exercise = getattr(module, "EXERCISE", None)
    make = getattr(module, "make", None)
    if variant is not None and not variant.shared:
        if callable(make):
            exercise = make(variant)
        elif isinstance(getattr(module, "VARIANT", None), Variant):
            exercise = _rerun(path, exercise_id, variant)
        if isinstance(exercise, Exercise) and exercise.variant is None:
            exercise.variant = variant
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
