"""The checks of exercise 15 (causal inference where AI systems act) accept the solution, reject the
untouched exercise, and recognise each known wrong answer with its misconception."""

import numpy as np
import pytest
from exercise_tools import solution_fixture, verdict

from lessons_lib.check import judge, load_exercise
from lessons_lib.weighting import fit_logistic

EXERCISE_ID = "15_causal_ai_systems"
EXERCISE = load_exercise(EXERCISE_ID)

# The layout, the solution's full marks and the stubs' failures, for every exercise:
# test_exercise_notebooks.py. Here: what is particular to this exercise.


solution = solution_fixture(EXERCISE)


def test_feedback_never_shows_the_expected_number(solution):
    question = EXERCISE.question("q2")
    result = judge(question, 1.0)
    assert f"{solution['zone_level']:.2f}" not in result.feedback()


def _weighted(kind):
    def transport_ate(data, covariates):
        design = np.column_stack([np.ones(len(data)), data[list(covariates)].to_numpy(dtype=float)])
        s = data["in_trial"].to_numpy()
        p = 1 / (1 + np.exp(-(design @ fit_logistic(design, s))))
        w = (1 / p)[s == 1] if kind == "inverse probability" else np.ones(int(s.sum()))
        trial = data[s == 1]
        t, y = trial["T"].to_numpy(), trial["Y"].to_numpy()
        return float(np.sum(w * t * y) / np.sum(w * t)
                     - np.sum(w * (1 - t) * y) / np.sum(w * (1 - t)))

    return transport_ate


@pytest.mark.parametrize("kind, words", [("inverse probability", "combined"),
                                         ("none", "ignores the target population")])
def test_wrong_transport_functions_are_recognised(kind, words):
    result = verdict(EXERCISE.question("q4"), _weighted(kind))
    assert result.status == "fail"
    assert words in result.misconception


def test_a_crashing_function_fails_with_its_error():
    def broken(data, covariates):
        return data["no such column"].mean()

    result = verdict(EXERCISE.question("q4"), broken)
    assert result.status == "fail" and result.points == 0
    assert "KeyError" in result.message
