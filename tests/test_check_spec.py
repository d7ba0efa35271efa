"""The checker's authoring API: judging answers, plain-data round trips, honest wording."""

import math

import numpy as np
import pandas as pd
import pytest

from lessons_lib import Estimate
from lessons_lib.check import (
    Call,
    Exercise,
    Question,
    Wrong,
    agrees_with,
    close_to,
    equals_text,
    is_function,
    is_number,
    judge,
    one_of,
    raises_value_error,
)
from lessons_lib.check.exercises import call_locally
from lessons_lib.check.plain import AnswerTooLarge, Opaque, roundtrip, to_plain

ATE = Question(
    "q1", answer="ate", hint="Average the individual effects over everyone.",
    checks=[is_number(), close_to(6.6667, abs_tol=0.01, expected="the average effect, in dollars")],
    wrong=[Wrong(13.333, "that is the ATT"), Wrong(32.67, "that is one lucky coin flip")],
)


def test_a_right_number_passes_with_full_points():
    result = judge(ATE, 20 / 3)
    assert (result.status, result.points, result.max_points) == ("pass", 1.0, 1.0)
    assert "2 of 2 checks passed" in result.message


def test_a_known_wrong_number_fails_and_names_the_misconception():
    result = judge(ATE, 13.33)
    assert result.status == "fail" and result.points == 0
    assert result.misconception == "that is the ATT"
    text = result.feedback()
    assert "Misconception: that is the ATT" in text and "Hint:" in text
    assert "6.67" not in text  # the feedback says what is expected in kind, never the answer


def test_the_untouched_stub_fails_as_not_answered():
    result = judge(ATE, None)
    assert result.status == "fail" and "not answered yet" in result.message


@pytest.mark.parametrize("answer", ["6.67", [6.67], float("nan"), float("inf"), True,
                                    Opaque("function", "f")])
def test_answers_of_the_wrong_kind_fail_without_crashing(answer):
    result = judge(ATE, answer)
    assert result.status == "fail" and result.points == 0


def test_a_gate_stops_the_remaining_checks_and_says_so():
    result = judge(ATE, "six")
    assert "1 not run after a failed first check" in result.message


def test_partial_credit_counts_the_checks_that_passed():
    question = Question("q2", answer="x", checks=[
        close_to(1.0, abs_tol=0.1, expected="a", points=2),
        close_to(1.0, abs_tol=1.0, expected="b", points=1),
    ])
    result = judge(question, 1.5)
    assert result.points == 1 and result.status == "fail"
    assert "1 of 2 checks passed" in result.message


def test_an_estimate_counts_as_its_value():
    estimate = Estimate.from_se(6.667, 1.0, n=6, estimand="ATE", method="demo")
    assert judge(ATE, roundtrip(estimate)).status == "pass"


def test_text_answers_ignore_case_and_spacing():
    question = Question("q3", answer="assumption", checks=[
        one_of(["positivity", "exchangeability"]),
        equals_text("positivity", expected="the assumption the study breaks")],
        wrong=[Wrong("exchangeability", "no: treatment was randomized")])
    assert judge(question, "  Positivity ").status == "pass"
    wrong = judge(question, "EXCHANGEABILITY")
    assert wrong.status == "fail" and wrong.misconception == "no: treatment was randomized"
    assert judge(question, "luck").status == "fail"


def _frames():
    rng = np.random.default_rng(0)
    frames = []
    for n in (10, 25):
        frames.append((pd.DataFrame({"T": rng.integers(0, 2, n), "Y": rng.normal(size=n)}),))
    frames.append((pd.DataFrame({"T": [0, 1, 2], "Y": [1.0, 2.0, 3.0]}),))
    return frames


def _reference(df):
    return df.loc[df["T"] == 1, "Y"].mean() - df.loc[df["T"] == 0, "Y"].mean()


def _is_bad(args, kwargs):
    return set(args[0]["T"]) - {0, 1} != set()


FUNCTION = Question(
    "q4", answer="dim", kind="function", inputs=_frames,
    checks=[agrees_with(_reference, expected="mean(Y | T=1) - mean(Y | T=0)",
                        select=lambda a, k: not _is_bad(a, k)),
            raises_value_error(expected="a ValueError for a non-binary treatment", select=_is_bad)],
    wrong=[Wrong(lambda outputs: all(isinstance(o, float) and o < 0 for o in outputs[:2]),
                 "the difference is the wrong way round")],
)


def test_a_right_function_passes():
    def dim(df):
        if set(df["T"]) - {0, 1}:
            raise ValueError("T must be 0/1")
        return _reference(df)

    assert judge(FUNCTION, call_locally(dim, FUNCTION)).status == "pass"


def test_a_function_stub_is_not_answered_and_a_broken_one_explains_its_error():
    def stub(df):
        raise NotImplementedError

    assert "not answered yet" in judge(FUNCTION, call_locally(stub, FUNCTION)).message

    def broken(df):
        return df["missing"].mean()

    result = judge(FUNCTION, call_locally(broken, FUNCTION))
    assert result.status == "fail" and "KeyError" in result.message


def test_partial_credit_for_a_function_that_forgets_to_refuse_bad_input():
    result = judge(FUNCTION, call_locally(_reference, FUNCTION))
    assert result.points == 1 and result.status == "fail"


def test_a_function_timing_out_is_reported_as_timeout():
    calls = [Call(args=(), kwargs={}, timed_out=True, error="timeout")]
    assert judge(FUNCTION, calls).status == "timeout"


def test_is_function_gate():
    question = Question("q5", answer="f", kind="function", inputs=lambda: [(1,)],
                        checks=[is_function(), agrees_with(lambda x: x, expected="x")])
    assert judge(question, call_locally(lambda x: x, question)).status == "pass"
    assert judge(question, call_locally(lambda x: 1 / 0, question)).status == "fail"


def test_plain_round_trips_keep_data_and_drop_code():
    frame = pd.DataFrame({"a": [1.0, np.nan], "b": ["x", "y"]})
    back = roundtrip({"frame": frame, "array": np.arange(4.0).reshape(2, 2),
                      "series": pd.Series([1, 2], index=["u", "v"]), "inf": -math.inf,
                      "fn": len, "set": {3, 1}})
    pd.testing.assert_frame_equal(back["frame"], frame)
    assert back["array"].shape == (2, 2) and back["series"]["v"] == 2
    assert back["inf"] == -math.inf and isinstance(back["fn"], Opaque)
    assert back["set"] == [1, 3]


def test_huge_answers_are_refused():
    with pytest.raises(AnswerTooLarge):
        to_plain(np.zeros(10_000_000))


def test_exercise_rejects_duplicate_question_ids_and_unknown_questions():
    with pytest.raises(ValueError, match="repeat"):
        Exercise("00_x", "x", [ATE, ATE])
    with pytest.raises(ValueError, match="no question 'q9'"):
        Exercise("00_x", "x", [ATE]).question("q9")
