"""How an exercise's checks are written, and how one answer is judged.

An instructor writes ``exercises/checks/NN_slug.py`` defining ``EXERCISE``, an `Exercise`
made of `Question`s. Each question names the variable (or function) the learner's answer
cell defines, a list of `Check`s worth points, known `Wrong` answers with the
misconception each reveals, and a hint. The same objects judge an answer in the
learner's notebook (``check("q1", ate)``) and in the command-line grader, so there is
one source of truth.

A value question judges the value itself. A function question (``kind="function"``)
judges the function's outputs on inputs the checker chooses (``inputs``): the checks
receive a list of `Call`s, one per input, each with its arguments and the output or the
error the learner's function gave.

Hints teach in steps: ``hints=[nudge, ..., full]``. The in-notebook ``check`` shows the
first after a first failure and moves one step on every `FAILURES_PER_STEP` further
failures of the same question in the kernel session, so the last (the one-liner) comes
only after repeated tries; the command-line grader shows hints only with ``--hints`` (the
first step). A single ``hint="..."`` is a one-step list.

An exercise whose data differ per learner defines ``make(variant)`` in its checks file
beside ``EXERCISE`` (see `lessons_lib.check.variants`): every target is then computed
from that learner's data, and `other_variant_note` recognises an answer that is right
for different data (copied from another learner, or from the shared notebook).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from lessons_lib.check.plain import Opaque
from lessons_lib.estimate import Estimate

__all__ = ["DIFFERENT_DATA", "ERROR", "FAIL", "FAILURES_PER_STEP", "MISSING", "PASS", "TIMEOUT",
           "Call", "Check", "Exercise", "Outcome", "Question", "QuestionResult", "Wrong",
           "as_number", "judge", "other_variant_note"]

PASS, FAIL, ERROR, MISSING, TIMEOUT = "pass", "fail", "error", "missing", "timeout"
FAILURES_PER_STEP = 2  # failures of one question before its next hint step is shown
DIFFERENT_DATA = ("this value fits different data, not yours: it is right for another "
                  "variant of this exercise (another learner's, or the shared notebook's). "
                  "Your setup cell makes your own data; compute the answer from them.")


@dataclass
class Call:
    """One call of a learner's function on checker-chosen arguments."""

    args: tuple
    kwargs: dict
    output: object = None
    error: str | None = None  # "TypeError: ..." when the call raised
    not_implemented: bool = False  # the untouched stub raised NotImplementedError
    timed_out: bool = False


@dataclass
class Outcome:
    """What one check concluded."""

    passed: bool
    message: str = ""


@dataclass
class Check:
    """One thing a correct answer must satisfy.

    ``test(answer)`` returns True/False, or an `Outcome` with a message. ``expected``
    says what a correct answer looks like *in kind* (never the answer itself): it is shown
    when the check fails. A ``gate`` check (such as "is a number") stops the remaining
    checks when it fails, so a learner is not told five things about a string.
    """

    name: str
    test: Callable[[object], bool | Outcome]
    expected: str
    points: float = 1.0
    gate: bool = False

    def run(self, answer: object) -> Outcome:
        try:
            result = self.test(answer)
        except Exception as exc:  # a strange answer must not crash the checker
            return Outcome(False, f"could not be checked ({type(exc).__name__}: {exc})")
        if isinstance(result, Outcome):
            return result
        return Outcome(bool(result))


@dataclass
class Wrong:
    """A known wrong answer and the misconception it reveals.

    ``value`` is a number (matched within ``rel_tol``/``abs_tol``), a string (matched
    case-insensitively), or a predicate ``answer -> bool``.
    """

    value: object
    misconception: str
    rel_tol: float = 0.01
    abs_tol: float = 0.0

    def matches(self, answer: object) -> bool:
        try:
            if callable(self.value):
                return bool(self.value(answer))
            if isinstance(self.value, str):
                return isinstance(answer, str) and _norm(answer) == _norm(self.value)
            number = as_number(answer)
            return number is not None and math.isclose(
                number, float(self.value), rel_tol=self.rel_tol, abs_tol=self.abs_tol
            )
        except Exception:
            return False


@dataclass
class Question:
    """One question of an exercise.

    id       : "q1", "q2", ...; the answer cell is tagged ``answer-<id>``.
    answer   : the variable (or function) name the answer cell defines.
    checks   : what a correct answer satisfies, each with its points.
    wrong    : known wrong answers with their misconceptions.
    hint     : shown when the question does not pass (a one-step `hints`).
    hints    : hints in steps, from a nudge to the full one-liner (see the module docstring).
    kind     : "value" or "function".
    inputs   : for a function: a callable returning a list of argument tuples (or
               (args, kwargs) pairs) to call the learner's function with.
    """

    id: str
    answer: str
    checks: Sequence[Check]
    wrong: Sequence[Wrong] = ()
    hint: str = ""
    kind: str = "value"
    inputs: Callable[[], list] | None = None
    prompt: str = ""
    hints: Sequence[str] = ()

    def __post_init__(self) -> None:
        if self.hint and self.hints and self.hint != self.hints[0]:
            raise ValueError(f"question {self.id}: give hint= or hints=[...], not both")
        self.hints = tuple(self.hints) or ((self.hint,) if self.hint else ())
        self.hint = self.hints[0] if self.hints else ""
        if self.kind not in ("value", "function"):
            raise ValueError(f"question {self.id}: kind must be 'value' or 'function'")
        if self.kind == "function" and self.inputs is None:
            raise ValueError(f"question {self.id}: a function question needs inputs")
        if not self.checks:
            raise ValueError(f"question {self.id}: needs at least one check")

    @property
    def max_points(self) -> float:
        return float(sum(c.points for c in self.checks))

    def hint_at(self, step: int | None) -> str:
        """The hint of step ``step`` (0 = the nudge; past the last, the last); None: no hint."""
        if step is None or not self.hints:
            return ""
        return self.hints[max(0, min(step, len(self.hints) - 1))]

    @staticmethod
    def step_after(failures: int) -> int:
        """The hint step to show after ``failures`` failures (1, 2 -> 0; 3, 4 -> 1; ...)."""
        return max(0, failures - 1) // FAILURES_PER_STEP

    def calls(self) -> list[tuple[tuple, dict]]:
        """The (args, kwargs) of every call the checker makes, freshly built."""
        calls = []
        for item in self.inputs():
            if (isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], tuple)
                    and isinstance(item[1], dict)):
                calls.append(item)
            else:
                calls.append((tuple(item) if isinstance(item, tuple) else (item,), {}))
        return calls


@dataclass
class Exercise:
    """An exercise notebook's questions and the trusted code its answers run after."""

    id: str
    title: str
    questions: Sequence[Question]
    setup: str = ""  # trusted code run before the answer cells (imports, data)
    variant: object = None  # the learner's Variant when built by the checks' make(variant)

    def __post_init__(self) -> None:
        ids = [q.id for q in self.questions]
        if len(set(ids)) != len(ids):
            raise ValueError(f"exercise {self.id}: question ids repeat: {ids}")

    def question(self, qid: str) -> Question:
        for q in self.questions:
            if q.id == qid:
                return q
        known = ", ".join(q.id for q in self.questions)
        raise ValueError(f"exercise {self.id} has no question {qid!r}; its questions are {known}")

    @property
    def max_score(self) -> float:
        return float(sum(q.max_points for q in self.questions))


@dataclass
class QuestionResult:
    """The verdict on one question, as the checker's JSON reports it."""

    id: str
    status: str
    points: float
    max_points: float
    message: str
    hint: str = ""
    details: list[tuple[str, bool, str]] = field(default_factory=list)
    misconception: str = ""

    def to_dict(self) -> dict:
        return {"id": self.id, "status": self.status, "points": self.points,
                "max_points": self.max_points, "message": self.message, "hint": self.hint}

    def feedback(self) -> str:
        """The text a learner reads."""
        mark = {PASS: "✓", FAIL: "✗", ERROR: "!", MISSING: "?", TIMEOUT: "⏱"}.get(self.status, "?")
        lines = [f"{self.id} {mark} {self.status}: {self.message} "
                 f"({_fmt(self.points)}/{_fmt(self.max_points)} points)"]
        for name, passed, note in self.details:
            lines.append(f"  {'✓' if passed else '✗'} {name}" + (f": {note}" if note else ""))
        if self.misconception:
            lines.append(f"  Misconception: {self.misconception}")
        if self.hint and self.status != PASS:
            lines.append(f"  Hint: {self.hint}")
        return "\n".join(lines)


def _fmt(points: float) -> str:
    return f"{points:g}"


def _norm(text: str) -> str:
    return " ".join(text.strip().lower().replace("-", " ").replace("_", " ").split())


def as_number(answer: object) -> float | None:
    """The answer as a float if it is a single real number (or an Estimate), else None."""
    if isinstance(answer, Estimate):
        return float(answer.value)
    if isinstance(answer, (bool, np.bool_)):
        return None
    if isinstance(answer, (int, float, np.integer, np.floating)):
        return float(answer)
    if isinstance(answer, np.ndarray) and answer.size == 1 and answer.dtype.kind in "iuf":
        return float(answer.ravel()[0])
    return None


def _unanswered(question: Question, answer: object) -> str | None:
    """Why the answer is still the stub, or None when the learner answered."""
    if question.kind == "function":
        if isinstance(answer, list) and answer and all(
                isinstance(c, Call) and c.not_implemented for c in answer):
            return f"not answered yet: `{question.answer}` still raises NotImplementedError"
        return None
    if answer is None or answer is Ellipsis:
        return f"not answered yet: `{question.answer}` is still {answer!r}"
    return None


def judge(question: Question, answer: object, *, hint_step: int | None = 0) -> QuestionResult:
    """Judge one answer (already rebuilt from plain data) against its question.

    ``hint_step`` picks the step of the question's hints to attach (None: no hint).
    """
    base = dict(id=question.id, max_points=question.max_points,
                hint=question.hint_at(hint_step))
    stub = _unanswered(question, answer)
    if stub:
        return QuestionResult(status=FAIL, points=0.0, message=stub, **base)
    if question.kind == "function" and isinstance(answer, list):
        if any(isinstance(c, Call) and c.timed_out for c in answer):
            return QuestionResult(status=TIMEOUT, points=0.0,
                                  message="a call of your function ran past the time limit",
                                  **base)
    if isinstance(answer, Opaque) and question.kind == "value":
        note = f"expected a value but found {answer!r}"
        return QuestionResult(status=FAIL, points=0.0, message=note, **base)

    details, points, n_passed, n_run = [], 0.0, 0, 0
    for check in question.checks:
        outcome = check.run(answer)
        n_run += 1
        if outcome.passed:
            points += check.points
            n_passed += 1
            details.append((check.name, True, outcome.message))
        else:
            details.append((check.name, False, outcome.message or f"expected {check.expected}"))
            if check.gate:
                break
    n_checks = len(question.checks)
    skipped = n_checks - n_run
    misconception = ""
    if n_passed < n_checks:
        observed = answer
        if question.kind == "function":  # a known wrong function is known by its outputs
            observed = [c.output for c in answer] if isinstance(answer, list) else answer
        for wrong in question.wrong:
            if wrong.matches(observed):
                misconception = wrong.misconception
                break
    status = PASS if n_passed == n_checks else FAIL
    message = f"{n_passed} of {n_checks} checks passed"
    if skipped:
        message += f" ({skipped} not run after a failed first check)"
    if status == FAIL and question.kind == "function" and isinstance(answer, list):
        errors = [c.error for c in answer if isinstance(c, Call) and c.error]
        if errors:
            message += f"; your function raised {errors[0]}"
    return QuestionResult(status=status, points=points, message=message, details=details,
                          misconception=misconception, **base)


def other_variant_note(result: QuestionResult, answer: object,
                       others: Sequence[Question]) -> QuestionResult:
    """Mark a failed value answer that passes the same question of another variant.

    ``others`` are that question in other variants of the exercise (other learners', the
    shared one). The misconception then says the value fits different data.
    """
    if result.status != FAIL or not others or _unanswered(others[0], answer):
        return result
    for other in others:
        if other.kind != "value":
            return result
        try:
            if judge(other, answer, hint_step=None).status == PASS:
                result.misconception = DIFFERENT_DATA
                return result
        except Exception:  # noqa: BLE001 - a strange answer must not crash the checker
            return result
    return result

