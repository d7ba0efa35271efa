"""Grading one submission notebook: read it safely, run its answer cells apart, judge here.

The steps live in three modules, each turning bad input into a status rather than a crash:

1. `lessons_lib.check.reading`: the file, which exercise and learner it is, its answer
   cells (nothing else of the submission runs);
2. `lessons_lib.check.supervising`: the answer cells, after the trusted setup of the
   learner's variant, in a child process inside the sandbox, under limits;
3. `lessons_lib.check.judging`: the plain data that came back, judged in this process.

`Grader` ties them together. Statuses: a submission is ``graded``, ``timeout`` (a cell or
the whole ran out of time), ``crashed`` (its process died, or the setup failed) or
``invalid``; a question is ``pass``, ``fail``, ``error``, ``missing`` or ``timeout``. See
``python -m lessons_lib.check --help``.
"""

from __future__ import annotations

import pickle
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

from lessons_lib.check.exercises import (
    available_exercises,
    default_checks_dir,
    is_varied,
    load_exercise,
)
from lessons_lib.check.judging import judge_question
from lessons_lib.check.reading import (
    MAX_NOTEBOOK_BYTES,
    AnswerCell,
    InvalidSubmission,
    answer_cells,
    identify_exercise,
    identify_learner,
    read_notebook,
)
from lessons_lib.check.sandbox import Isolation, Limits, choose_isolation
from lessons_lib.check.spec import PASS, TIMEOUT, Exercise, Question, QuestionResult
from lessons_lib.check.supervising import CRASHED, GRADED, INVALID, Run, run_answer_cells
from lessons_lib.check.variants import Variant, variant_for

__all__ = ["CRASHED", "GRADED", "INVALID", "MAX_NOTEBOOK_BYTES", "AnswerCell", "ChecksError",
           "Grader", "InvalidSubmission", "SubmissionResult", "answer_cells", "grade_notebook",
           "identify_exercise", "identify_learner", "read_notebook"]

KEEP_VARIANTS = 256  # learners' variants kept per grader (to recognise copied values)


class ChecksError(RuntimeError):
    """The instructor's checks cannot be used (a missing or broken checks file)."""


@dataclass
class SubmissionResult:
    """The verdict on one submission, as ``--json`` reports it."""

    path: str
    exercise: str | None
    status: str
    questions: list[QuestionResult] = field(default_factory=list)
    max_score: float = 0.0
    isolation: str = ""
    message: str = ""
    seconds: float = 0.0
    learner: str | None = None
    variant: str = "shared"  # "shared", "learner" (their own data) or "not varied"

    @property
    def score(self) -> float:
        return float(sum(q.points for q in self.questions))

    @property
    def all_passed(self) -> bool:
        return self.status == GRADED and all(q.status == PASS for q in self.questions)

    def to_dict(self) -> dict:
        return {
            "path": self.path, "exercise": self.exercise, "learner": self.learner,
            "variant": self.variant, "status": self.status,
            "score": self.score, "max_score": self.max_score,
            "questions": [q.to_dict() | {
                "misconception": q.misconception,
                "checks": [{"name": n, "passed": ok, "note": note} for n, ok, note in q.details]}
                for q in self.questions],
            "isolation": self.isolation, "message": self.message,
            "seconds": round(self.seconds, 2),
        }


class Grader:
    """Grades submission notebooks against the checks in ``checks_dir``.

    >>> grader = Grader()                                        # doctest: +SKIP
    >>> result = grader.grade("submissions/alice.ipynb")         # doctest: +SKIP
    >>> result.status, result.score, result.max_score            # doctest: +SKIP
    ('graded', 4.0, 5.0)

    ``salt``: the course salt the notebooks were released with (``lessons_lib.release``);
    ``hints``: attach the first hint step to failed questions (off by default in batches).
    Safe to share between threads: each `grade` call runs its own child process.
    """

    def __init__(self, checks_dir: str | Path | None = None, limits: Limits | None = None,
                 isolation: Isolation | None = None, *, salt: str = "",
                 hints: bool = False) -> None:
        self.checks_dir = Path(checks_dir) if checks_dir else default_checks_dir()
        if not self.checks_dir.is_dir():
            raise ChecksError(f"the checks folder {self.checks_dir} does not exist")
        self.known = available_exercises(self.checks_dir)
        self.limits = limits or Limits()
        self.isolation = isolation or choose_isolation()
        self.salt = salt
        self.hint_step: int | None = 0 if hints else None
        self._exercises: OrderedDict[tuple[str, int | None], Exercise] = OrderedDict()
        self._calls: dict[tuple[str, int | None], dict[str, bytes]] = {}
        self._lock = threading.Lock()

    def exercise(self, exercise_id: str, variant: Variant | None = None) -> Exercise:
        """The exercise's checks for ``variant`` (default: shared), built once and kept (the
        last `KEEP_VARIANTS`); a broken checks file is a `ChecksError`."""
        key = (exercise_id, None if variant is None else variant.seed)
        with self._lock:
            if key in self._exercises:
                self._exercises.move_to_end(key)
                return self._exercises[key]
        try:
            exercise = load_exercise(exercise_id, self.checks_dir, variant)
            calls = {q.id: pickle.dumps(q.calls(), protocol=pickle.HIGHEST_PROTOCOL)
                     for q in exercise.questions if q.kind == "function"}
        except Exception as exc:
            raise ChecksError(f"the checks of exercise {exercise_id} cannot be used: "
                              f"{type(exc).__name__}: {exc}") from exc
        with self._lock:
            self._exercises[key], self._calls[key] = exercise, calls
            while len(self._exercises) > KEEP_VARIANTS:
                old, _ = self._exercises.popitem(last=False)
                self._calls.pop(old, None)
        return exercise

    def prepare(self, paths: list[str | Path]) -> None:
        """Build the variants of the learners in a batch before grading it, so a value
        copied from any of them is recognised whatever the order (at most `KEEP_VARIANTS`)."""
        wanted = []
        for path in paths:
            try:
                notebook = read_notebook(path)
                exercise_id = identify_exercise(notebook, path, self.known)
            except InvalidSubmission:
                continue
            learner = identify_learner(notebook)
            if learner and is_varied(exercise_id, self.checks_dir):
                wanted.append(variant_for(exercise_id, learner, self.salt))
        for variant in list(dict.fromkeys(wanted))[:KEEP_VARIANTS]:
            try:
                self.exercise(variant.exercise, variant)
            except ChecksError:
                return  # grading will report it

    def _others(self, exercise_id: str, seed: int | None, qid: str) -> list[Question]:
        """The question ``qid`` in every other variant this grader has built."""
        if seed is not None:
            self.exercise(exercise_id)  # the shared variant is always among the others
        with self._lock:
            return [e.question(qid) for (eid, s), e in self._exercises.items()
                    if eid == exercise_id and s != seed]

    def grade(self, path: str | Path) -> SubmissionResult:
        """Grade one notebook. Never raises for anything the submission does."""
        started = time.monotonic()
        result = SubmissionResult(path=str(path), exercise=None, status=INVALID,
                                  isolation=str(self.isolation))
        try:
            notebook = read_notebook(path)
            result.exercise = identify_exercise(notebook, path, self.known)
        except InvalidSubmission as exc:
            result.message = f"{Path(path).name} {exc}"
            named = [k for k in self.known if k in Path(path).name]
            if result.exercise is None and named:  # still say whose 0 points these are
                result.exercise = max(named, key=len)
            if result.exercise:
                result.max_score = self.exercise(result.exercise).max_score
            result.seconds = time.monotonic() - started
            return result
        result.learner = identify_learner(notebook)
        variant = variant_for(result.exercise, result.learner, self.salt)
        if not variant.shared and not is_varied(result.exercise, self.checks_dir):
            variant = Variant(result.exercise, result.learner)  # everyone has the shared data
        exercise = self.exercise(result.exercise, variant)
        result.variant = ("learner" if not variant.shared else
                          "not varied" if result.learner else "shared")
        result.max_score = exercise.max_score
        cells = answer_cells(notebook, exercise)
        key = (exercise.id, variant.seed)
        calls = {qid: pickle.loads(blob) for qid, blob in self._calls[key].items()}
        run = (run_answer_cells(exercise, cells, calls, self.limits, self.isolation)
               if cells else Run())
        result.questions = [
            judge_question(q, cells, run, self.limits, calls.get(q.id, []),
                           hint_step=self.hint_step,
                           others=self._others(exercise.id, variant.seed, q.id)
                           if q.kind == "value" else ())
            for q in exercise.questions]
        timed_out = run.timed_out or any(q.status == TIMEOUT for q in result.questions)
        result.status = TIMEOUT if timed_out else CRASHED if run.crashed else GRADED
        notes = []
        if run.setup_error:
            notes.append(run.setup_error)
        if run.restarts:
            notes.append(f"the process was restarted {run.restarts} time(s) to grade the "
                         "cells after one that crashed, hung or ran out of memory")
        if run.output_truncated:
            notes.append(f"printed output was cut at {self.limits.output_bytes:,} bytes")
        if not cells:
            notes.append("no answer cells found (cells are found by their answer-qN tags)")
        result.message = "; ".join(notes)
        result.seconds = time.monotonic() - started
        return result


def grade_notebook(path: str | Path, *, checks_dir: str | Path | None = None,
                   limits: Limits | None = None, no_sandbox: bool = False,
                   salt: str = "", hints: bool = False) -> SubmissionResult:
    """Grade one notebook with a fresh `Grader` (see `Grader` for batches)."""
    grader = Grader(checks_dir, limits, choose_isolation(no_sandbox), salt=salt, hints=hints)
    return grader.grade(path)
