"""The exercise checker: one set of trusted checks, two ways in.

In a notebook::

    from lessons_lib.check import checker
    check = checker("01_potential_outcomes")
    check("q1", ate)

From the command line (a notebook, several, or folders of them)::

    python -m lessons_lib.check submissions/ --json --csv grades.csv

Writing checks: see ``lessons_lib.check.spec`` and any ``exercises/checks/NN_slug.py``.
"""

from lessons_lib.check.checks import (
    agrees_with,
    close_to,
    equals_text,
    is_function,
    is_number,
    one_of,
    raises_value_error,
    returns_numbers,
)
from lessons_lib.check.exercises import available_exercises, load_exercise
from lessons_lib.check.notebook import checker
from lessons_lib.check.spec import (
    Call,
    Check,
    Exercise,
    Outcome,
    Question,
    QuestionResult,
    Wrong,
    as_number,
    judge,
)
from lessons_lib.check.variants import Variant, learner_seed, variant_for

__all__ = [
    "Call", "Check", "Exercise", "Outcome", "Question", "QuestionResult", "Wrong",
    "agrees_with", "as_number", "available_exercises", "checker", "close_to", "equals_text",
    "is_function", "is_number", "judge", "learner_seed", "load_exercise", "one_of",
    "raises_value_error", "returns_numbers", "Variant", "variant_for",
]
