"""The checks of exercise 05 (difference in differences) accept the solution, reject the
untouched exercise, and recognise each known wrong answer with its misconception."""

import pytest
from exercise_tools import solution_fixture, verdict

from lessons_lib.check import load_exercise

EXERCISE_ID = "05_diff_in_diff"
EXERCISE = load_exercise(EXERCISE_ID)

# The layout, the solution's full marks and the stubs' failures, for every exercise:
# test_exercise_notebooks.py. Here: what is particular to this exercise.


solution = solution_fixture(EXERCISE)


def _att_gt_variant(controls):
    def att_gt(data, g, t):
        if t < g:
            raise ValueError("t before g")
        wide = data.pivot(index="unit", columns="period", values="Y")
        cohort = data.groupby("unit")["first_treated"].first()
        change = wide[t] - wide[g - 1]
        comparison = (cohort != g) if controls == "all" else cohort.isna()
        return float(change[cohort == g].mean() - change[comparison].mean())

    return att_gt


@pytest.mark.parametrize("controls, words", [("all", "already treated"),
                                             ("never", "never-treated units only")])
def test_wrong_group_time_functions_are_recognised(controls, words):
    question = EXERCISE.question("q6")
    result = verdict(question, _att_gt_variant(controls))
    assert result.status == "fail"
    assert words in result.misconception


def test_group_time_function_that_never_refuses_loses_the_refusal_point(solution):
    question = EXERCISE.question("q6")

    def lenient(data, g, t):
        return solution["att_gt"](data, g, max(t, g))

    result = verdict(question, lenient)
    assert result.status == "fail"
    assert result.points == question.max_points - 1
