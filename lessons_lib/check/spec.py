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
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from lessons_lib.check.plain import Opaque
from lessons_lib.estimate import Estimate

PASS, FAIL, ERROR, MISSING, TIMEOUT = "pass", "fail", "error", "missing", "timeout"


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
    hint     : shown when the question does not pass.
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

    def __post_init__(self) -> None:
        if self.kind not in ("value", "function"):
            raise ValueError(f"question {self.id}: kind must be 'value' or 'function'")
        if self.kind == "function" and self.inputs is None:
            raise ValueError(f"question {self.id}: a function question needs inputs")
        if not self.checks:
            raise ValueError(f"question {self.id}: needs at least one check")

    @property
    def max_points(self) -> float:
        return float(sum(c.points for c in self.checks))

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


def judge(question: Question, answer: object) -> QuestionResult:
    """Judge one answer (already rebuilt from plain data) against its question."""
    base = dict(id=question.id, max_points=question.max_points, hint=question.hint)
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


# ---------------------------------------------------------------------------------------
# Ready-made checks. Each returns a Check; write your own with Check(name, test, expected).


def is_number(points: float = 0.0) -> Check:
    """A gate: the answer is one finite real number (an Estimate counts)."""

    def test(answer: object) -> Outcome:
        number = as_number(answer)
        if number is None:
            return Outcome(False, f"expected one number, found {type(answer).__name__}")
        if not math.isfinite(number):
            return Outcome(False, f"expected a finite number, found {number}")
        return Outcome(True)

    return Check("is a number", test, "a single finite number", points=points, gate=True)


def close_to(target: float, *, expected: str, rel_tol: float = 0.0, abs_tol: float = 0.0,
             points: float = 1.0, name: str = "value") -> Check:
    """The answer is within a tolerance of ``target`` (which is never shown to the learner)."""
    if rel_tol == 0 and abs_tol == 0:
        raise ValueError("close_to needs a tolerance: rel_tol or abs_tol")

    def test(answer: object) -> bool:
        number = as_number(answer)
        return number is not None and math.isclose(number, target, rel_tol=rel_tol,
                                                   abs_tol=abs_tol)

    return Check(name, test, expected, points=points)


def one_of(options: Sequence[str], points: float = 0.0) -> Check:
    """A gate: the answer is one of the allowed strings (case and spacing ignored)."""
    allowed = {_norm(o) for o in options}

    def test(answer: object) -> Outcome:
        if not isinstance(answer, str):
            return Outcome(False, f"expected a string, found {type(answer).__name__}")
        if _norm(answer) not in allowed:
            return Outcome(False, f"expected one of {list(options)}, found {answer!r}")
        return Outcome(True)

    return Check("is one of the options", test, f"one of {list(options)}", points=points,
                 gate=True)


def equals_text(target: str, *, expected: str, points: float = 1.0, name: str = "choice") -> Check:
    """The answer is the string ``target`` (case and spacing ignored)."""
    return Check(name, lambda a: isinstance(a, str) and _norm(a) == _norm(target), expected,
                 points=points)


def is_function(points: float = 0.0,
                select: Callable[[tuple, dict], bool] | None = None) -> Check:
    """A gate for function questions: every call returned (none raised).

    ``select(args, kwargs)`` limits the gate to the calls on valid inputs, so a question can
    also check, separately, that bad inputs raise.
    """

    def test(calls: list[Call]) -> Outcome:
        chosen = [c for c in calls if select is None or select(c.args, c.kwargs)]
        failed = [c for c in chosen if c.error]
        if failed:
            return Outcome(False, f"{len(failed)} of {len(chosen)} calls raised {failed[0].error}")
        return Outcome(True)

    return Check("runs on the checker's inputs", test, "a function that runs without error",
                 points=points, gate=True)


def returns_numbers(select: Callable[[tuple, dict], bool],
                    name: str = "returns a number for every valid input") -> Check:
    """A gate for function questions: every call chosen by ``select`` returned one number.

    The calls left out (bad inputs that should be refused) are judged by later checks.
    """

    def test(calls: list[Call]) -> Outcome:
        valid = [c for c in calls if select(c.args, c.kwargs)]
        failed = [c for c in valid if c.error]
        if failed:
            return Outcome(False, f"{len(failed)} of {len(valid)} valid calls raised "
                                  f"{failed[0].error}")
        if any(as_number(c.output) is None for c in valid):
            return Outcome(False, "expected one number per call")
        return Outcome(True)

    return Check(name, test, "a function returning one number", points=0.0, gate=True)


def agrees_with(reference: Callable, *, expected: str, rel_tol: float = 1e-6,
                abs_tol: float = 1e-9, points: float = 1.0, name: str = "agrees with the reference",
                select: Callable[[tuple, dict], bool] | None = None) -> Check:
    """Every call's numeric output equals ``reference(*args, **kwargs)`` within tolerance.

    ``select(args, kwargs)`` restricts the check to some of the calls (so one question can
    give separate points for separate cases).
    """

    def test(calls: list[Call]) -> Outcome:
        chosen = [c for c in calls if select is None or select(c.args, c.kwargs)]
        good = 0
        for call in chosen:
            got = as_number(call.output)
            want = as_number(reference(*call.args, **call.kwargs))
            if got is not None and want is not None and math.isclose(
                    got, want, rel_tol=rel_tol, abs_tol=abs_tol):
                good += 1
        if good == len(chosen):
            return Outcome(True, f"all {len(chosen)} inputs")
        return Outcome(False, f"right on {good} of {len(chosen)} inputs; expected {expected}")

    return Check(name, test, expected, points=points)


def raises_value_error(*, expected: str, points: float = 1.0, name: str = "refuses bad input",
                       select: Callable[[tuple, dict], bool]) -> Check:
    """The calls chosen by ``select`` raise ValueError (bad input refused clearly)."""

    def test(calls: list[Call]) -> Outcome:
        chosen = [c for c in calls if select(c.args, c.kwargs)]
        ok = [c for c in chosen if c.error and c.error.startswith("ValueError")]
        if len(ok) == len(chosen):
            return Outcome(True)
        return Outcome(False, f"{len(ok)} of {len(chosen)} bad inputs raised ValueError; "
                              f"expected {expected}")

    return Check(name, test, expected, points=points)
