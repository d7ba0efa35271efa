"""Exercise 00's checks, proven both ways: right answers pass, stubs and known mistakes fail."""

import pandas as pd
import pytest
from exercise_tools import checks_module
from exercise_tools import verdict as _verdict

from lessons_lib.check import load_exercise

checks = checks_module("00_why_causality")
EXERCISE = load_exercise("00_why_causality")


def verdict(qid, answer):
    return _verdict(EXERCISE.question(qid), answer)


def test_the_numbers_tell_the_chapter_story():
    assert checks.NAIVE > 0.05  # the medication looks harmful ...
    assert checks.ADJUSTED < -0.03  # ... and helps within every severity level
    gaps = [abs(checks.ADJUSTED - w) for w in (checks.NAIVE, checks.UNWEIGHTED, checks.ATT_WEIGHTED)]
    assert min(gaps) > 0.01  # every known wrong answer is far outside the tolerance


@pytest.mark.parametrize("qid, answer", [
    ("q1", ["association", "intervention", "counterfactual"]),
    ("q1", [" Association", "INTERVENTION", "counterfactual "]),
    ("q2", checks.NAIVE), ("q3", checks.ADJUSTED), ("q4", "Confounding"),
    ("q5", checks.standardized_difference),
])
def test_right_answers_pass(qid, answer):
    result = verdict(qid, answer)
    assert result.status == "pass", result.feedback()
    assert result.points == result.max_points


@pytest.mark.parametrize("qid, answer, misconception", [
    ("q1", ["association"] * 3, "only (a)"),
    ("q1", ["association", "counterfactual", "intervention"], "policy for everyone"),
    ("q2", -checks.NAIVE, "sign is flipped"),
    ("q2", 100 * checks.NAIVE, "percentage points"),
    ("q3", checks.NAIVE, "naive difference"),
    ("q3", checks.UNWEIGHTED, "equally"),
    ("q3", checks.ATT_WEIGHTED, "effect on the treated"),
    ("q4", "reverse causation", "measured after"),
    ("q5", checks._naive, "naive difference"),
    ("q5", checks._equal_weights, "equally"),
])
def test_known_mistakes_fail_and_are_named(qid, answer, misconception):
    result = verdict(qid, answer)
    assert result.status == "fail"
    assert misconception in result.misconception


def test_the_stubs_fail_as_not_answered():
    for question in EXERCISE.questions:
        if question.kind == "function":
            def stub(*args):
                raise NotImplementedError
            result = verdict(question.id, stub)
        else:
            result = verdict(question.id, None)
        assert result.status == "fail" and "not answered" in result.message


def test_partial_credit_on_the_ladder_and_the_function():
    partly = verdict("q1", ["association", "intervention", "intervention"])
    assert (partly.status, partly.points) == ("fail", 2)

    def forgets_positivity(data, treatment, outcome, stratum):
        total = 0.0
        for _, group in data.groupby(stratum, observed=True):
            treated = group[treatment] == 1
            diff = group.loc[treated, outcome].mean() - group.loc[~treated, outcome].mean()
            total += len(group) / len(data) * (0.0 if pd.isna(diff) else diff)
        return total

    result = verdict("q5", forgets_positivity)
    assert result.status == "fail" and result.points == 2  # right on valid data, no refusal
