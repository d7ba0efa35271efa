"""Ready-made checks for ``exercises/checks/NN_slug.py``: each function returns a `Check`.

Write your own with ``Check(name, test, expected)`` (see `lessons_lib.check.spec`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from lessons_lib.check.spec import Call, Check, Outcome, _norm, as_number

__all__ = ["agrees_with", "close_to", "equals_text", "is_function", "is_number", "one_of",
           "raises_value_error", "returns_numbers"]


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
