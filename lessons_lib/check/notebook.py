"""``check("q1", answer)``: instant feedback inside the learner's notebook."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path

from lessons_lib.check.exercises import call_locally, load_exercise
from lessons_lib.check.plain import AnswerTooLarge, roundtrip
from lessons_lib.check.spec import ERROR, PASS, Question, QuestionResult, judge, other_variant_note
from lessons_lib.check.variants import Variant

__all__ = ["checker"]


def checker(exercise_id: str, checks_dir: Path | None = None, *,
            seed: int | None = None) -> Callable[[str, object], None]:
    """Return the ``check(question_id, answer)`` function for one exercise notebook.

    ``seed``: the learner's variant, as ``lessons_lib.release`` wrote it into the setup cell
    (None: the shared notebook). Hints come in steps: each failure of a question in this
    kernel session counts, and the hint moves on every `FAILURES_PER_STEP` failures, from a
    nudge towards the full answer.

    >>> check = checker("01_potential_outcomes")   # doctest: +SKIP
    >>> check("q1", 6.67)                            # doctest: +SKIP
    q1 ✓ pass: 2 of 2 checks passed (2/2 points)
    """
    exercise = load_exercise(exercise_id, checks_dir, Variant(exercise_id, seed=seed))
    shared = load_exercise(exercise_id, checks_dir) if seed is not None else None
    failures: Counter[str] = Counter()

    def check(question_id: str, answer: object) -> None:
        question = exercise.question(question_id)
        step = Question.step_after(failures[question_id] + 1)
        try:
            if question.kind == "function":
                if not callable(answer):
                    result = QuestionResult(
                        id=question.id, status=ERROR, points=0.0,
                        max_points=question.max_points, hint=question.hint_at(step),
                        message=f"expected a function `{question.answer}`, "
                                f"found {type(answer).__name__}")
                    failures[question_id] += 1
                    print(result.feedback())
                    return
                seen = call_locally(answer, question)
            else:
                seen = roundtrip(answer)
        except AnswerTooLarge as exc:
            print(f"{question.id} ! error: {exc}")
            return
        result = judge(question, seen, hint_step=step)
        if shared is not None and question.kind == "value" and shared is not exercise:
            result = other_variant_note(result, seen, [shared.question(question_id)])
        if result.status != PASS:
            failures[question_id] += 1
            if len(question.hints) > step + 1:
                result.hint += " (more hints if it still fails)"
        print(result.feedback())

    check.exercise = exercise  # type: ignore[attr-defined]
    return check
