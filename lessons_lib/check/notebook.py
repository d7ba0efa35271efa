"""``check("q1", answer)``: instant feedback inside the learner's notebook."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from lessons_lib.check.exercises import call_locally, load_exercise
from lessons_lib.check.plain import AnswerTooLarge, roundtrip
from lessons_lib.check.spec import ERROR, QuestionResult, judge


def checker(exercise_id: str, checks_dir: Path | None = None) -> Callable[[str, object], None]:
    """Return the ``check(question_id, answer)`` function for one exercise notebook.

    >>> check = checker("01_potential_outcomes")   # doctest: +SKIP
    >>> check("q1", 6.67)                            # doctest: +SKIP
    q1 ✓ pass: 2 of 2 checks passed (2/2 points)
    """
    exercise = load_exercise(exercise_id, checks_dir)

    def check(question_id: str, answer: object) -> None:
        question = exercise.question(question_id)
        try:
            if question.kind == "function":
                if not callable(answer):
                    result = QuestionResult(
                        id=question.id, status=ERROR, points=0.0,
                        max_points=question.max_points, hint=question.hint,
                        message=f"expected a function `{question.answer}`, "
                                f"found {type(answer).__name__}")
                    print(result.feedback())
                    return
                seen = call_locally(answer, question)
            else:
                seen = roundtrip(answer)
        except AnswerTooLarge as exc:
            seen = None
            print(f"{question.id} ! error: {exc}")
            return
        print(judge(question, seen).feedback())

    check.exercise = exercise  # type: ignore[attr-defined]
    return check
