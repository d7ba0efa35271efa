"""The checks of exercise 06 (instrumental variables) accept the solution, reject the
untouched exercise, and recognise each known wrong answer with its misconception."""

import numpy as np
import pytest
import statsmodels.formula.api as smf
from exercise_tools import solution_fixture, verdict

from lessons_lib.check import judge, load_exercise

EXERCISE_ID = "06_instrumental_variables"
EXERCISE = load_exercise(EXERCISE_ID)

# The layout, the solution's full marks and the stubs' failures, for every exercise:
# test_exercise_notebooks.py. Here: what is particular to this exercise.


solution = solution_fixture(EXERCISE)


def test_the_naive_second_stage_se_is_the_known_wrong_answer(solution):
    concert = solution["concert"]
    fitted = smf.ols("attended ~ rain", concert).fit().fittedvalues
    naive = smf.ols("happiness ~ f", concert.assign(f=fitted)).fit().bse["f"]
    result = judge(EXERCISE.question("q5"), float(naive))
    assert result.status == "fail" and "second-stage" in result.misconception


def test_the_robust_standard_error_and_f_are_also_accepted(solution):
    from lessons_lib import iv

    concert, card, controls = solution["concert"], solution["card"], solution["controls"]
    robust = iv.two_stage_least_squares(concert, outcome="happiness", treatment="attended",
                                        instruments="rain").se
    assert judge(EXERCISE.question("q5"), robust).status == "pass"
    robust_f = iv.first_stage(card, treatment="educ", instruments="nearc4", covariates=controls)["F"]
    assert judge(EXERCISE.question("q6"), float(robust_f)).status == "pass"


def _ols(data, outcome, treatment, instrument, covariates):
    x = np.column_stack([np.ones(len(data)), data[treatment]] + [data[c] for c in covariates])
    if data[instrument].nunique() < 2:
        raise ValueError("constant instrument")
    return float(np.linalg.lstsq(x, data[outcome], rcond=None)[0][1])


def _reduced_form(data, outcome, treatment, instrument, covariates):
    if data[instrument].nunique() < 2:
        raise ValueError("constant instrument")
    x = np.column_stack([np.ones(len(data)), data[instrument]] + [data[c] for c in covariates])
    return float(np.linalg.lstsq(x, data[outcome], rcond=None)[0][1])


@pytest.mark.parametrize("function, words", [(_ols, "OLS coefficient"),
                                             (_reduced_form, "reduced form")])
def test_wrong_tsls_functions_are_recognised(function, words):
    result = verdict(EXERCISE.question("q4"), function)
    assert result.status == "fail"
    assert words in result.misconception
