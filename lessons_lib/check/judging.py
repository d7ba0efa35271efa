"""Judging a submission's answers: plain data from the child process, judged here.

`judge_question` turns the outcome of a question's (last) answer cell into a
`QuestionResult`: a status the child reported (timeout, exit, memory, crash, error), or the
answer itself rebuilt from plain data and judged by `lessons_lib.check.spec.judge`. A
failed value answer that is right for another variant of the exercise (another learner's,
or the shared notebook's) is told so (`lessons_lib.check.spec.other_variant_note`).
Nothing here raises for anything a submission sent.
"""

from __future__ import annotations

from collections.abc import Sequence

from lessons_lib.check.plain import from_plain
from lessons_lib.check.reading import AnswerCell
from lessons_lib.check.sandbox import Limits
from lessons_lib.check.spec import (
    ERROR,
    MISSING,
    TIMEOUT,
    Call,
    Question,
    QuestionResult,
    judge,
    other_variant_note,
)
from lessons_lib.check.supervising import CRASHED, Run

__all__ = ["judge_question"]


def _verdict(question: Question, status: str, message: str,
             hint_step: int | None) -> QuestionResult:
    return QuestionResult(id=question.id, status=status, points=0.0,
                          max_points=question.max_points, message=message,
                          hint=question.hint_at(hint_step))


def _judge_answer(question: Question, answer: object, calls: list[tuple[tuple, dict]],
                  hint_step: int | None, others: Sequence[Question]) -> QuestionResult:
    """Judge one extracted answer (plain data from the child) against its question."""
    if not isinstance(answer, dict) or not answer.get("defined"):
        return _verdict(question, ERROR,
                        f"your answer cell ran but did not define `{question.answer}`", hint_step)
    if answer.get("error"):
        return _verdict(question, ERROR,
                        f"your answer could not be sent to the checker: {answer['error']}",
                        hint_step)
    try:
        if question.kind == "function":
            if not answer.get("callable"):
                return _verdict(question, ERROR, f"expected a function `{question.answer}`, "
                                                 f"found {answer.get('type', 'something else')}",
                                hint_step)
            sent = answer.get("calls")
            if not isinstance(sent, list) or len(sent) != len(calls):
                return _verdict(question, ERROR, "the calls of your function did not come back",
                                hint_step)
            seen = [Call(args=args, kwargs=kwargs, output=from_plain(c.get("output")),
                         error=c.get("error"), not_implemented=bool(c.get("not_implemented")),
                         timed_out=bool(c.get("timed_out")))
                    for (args, kwargs), c in zip(calls, sent, strict=True)]
        else:
            seen = from_plain(answer.get("plain"))
    except Exception as exc:  # noqa: BLE001 - plain data from an untrusted process
        return _verdict(question, ERROR, f"your answer could not be read back ({exc!r:.200})",
                        hint_step)
    try:
        result = judge(question, seen, hint_step=hint_step)
        if question.kind == "value":
            result = other_variant_note(result, seen, others)
        return result
    except Exception as exc:  # noqa: BLE001 - report, never crash the batch
        return _verdict(question, ERROR, f"the checker could not judge this answer ({exc!r:.200})",
                        hint_step)


def judge_question(question: Question, cells: list[AnswerCell], run: Run, limits: Limits,
                   calls: list[tuple[tuple, dict]], *, hint_step: int | None = 0,
                   others: Sequence[Question] = ()) -> QuestionResult:
    """The verdict on one question from the outcome of its (last) answer cell.

    ``hint_step``: which step of the hints to attach (None: none). ``others``: the same
    question in other variants of the exercise, to recognise a value copied from them.
    """
    mine = [c for c in cells if question.id in c.qids]
    if not mine:
        return _verdict(question, MISSING,
                        f"no cell tagged answer-{question.id} in the notebook (was it deleted, "
                        "or its tag changed?)", hint_step)
    outcome = run.outcomes.get(mine[-1].index)
    if outcome is None:
        if run.setup_error:
            return _verdict(question, ERROR, "not graded: " + run.setup_error, hint_step)
        if run.timed_out:
            return _verdict(question, TIMEOUT, "not graded: the submission used up its "
                                               f"{limits.total_seconds:g} seconds before this "
                                               "cell ran", hint_step)
        return _verdict(question, ERROR, "not graded: the submission's process ended before "
                                         "this cell ran", hint_step)
    status, error = outcome.get("status"), str(outcome.get("error") or "")[:600]
    if status == "ok":
        answers = outcome.get("answers")
        answer = answers.get(question.id) if isinstance(answers, dict) else None
        return _judge_answer(question, answer, calls, hint_step, others)
    if status == TIMEOUT:
        more = f" ({error})" if error else ""
        return _verdict(question, TIMEOUT, f"this answer cell ran past its limit of "
                                           f"{limits.cell_seconds:g} seconds{more}", hint_step)
    if status == "exit":
        return _verdict(question, ERROR, f"your answer cell called {error}; the grader does not "
                                         "stop there: remove it", hint_step)
    if status == "memory":
        return _verdict(question, ERROR, f"your answer cell ran out of memory (the limit is "
                                         f"{limits.memory_mb:,} MB)", hint_step)
    if status == CRASHED:
        return _verdict(question, ERROR, f"this answer cell {error}", hint_step)
    if "BlockingIOError" in error and "fork" in mine[-1].source:
        error += " (too many processes: the grader allows at most " \
                 f"{limits.processes} at once)"
    return _verdict(question, ERROR, f"your answer cell raised {error}", hint_step)
