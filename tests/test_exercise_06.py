"""The checks of exercise 06 (instrumental variables) accept the solution, reject the
untouched exercise, and recognise each known wrong answer with its misconception."""

from pathlib import Path

import nbformat
import numpy as np
import pytest
import statsmodels.formula.api as smf

from lessons_lib.check import judge, load_exercise
from lessons_lib.check.exercises import call_locally
from lessons_lib.check.plain import roundtrip

ROOT = Path(__file__).resolve().parents[1]
EXERCISE = load_exercise("06_instrumental_variables")


def _answers(folder: str) -> dict:
    """Run SETUP and the notebook's answer cells, as the grader would, and return the names."""
    notebook = nbformat.read(ROOT / folder / "06_instrumental_variables.ipynb", as_version=4)
    assert notebook.metadata["lessons"]["exercise"] == "06_instrumental_variables"
    namespace: dict = {}
    exec(EXERCISE.setup, namespace)
    for cell in notebook.cells:
        if any(tag.startswith("answer-") for tag in cell.metadata.get("tags", [])):
            exec(cell.source, namespace)
    return namespace


def _judge(question, answer):
    seen = call_locally(answer, question) if question.kind == "function" else roundtrip(answer)
    return judge(question, seen)


@pytest.fixture(scope="module")
def solution():
    return _answers("solutions")


@pytest.fixture(scope="module")
def stubs():
    return _answers("exercises")


def test_setup_cell_is_the_trusted_setup():
    notebook = nbformat.read(ROOT / "exercises" / "06_instrumental_variables.ipynb", as_version=4)
    setup = [c for c in notebook.cells if "setup" in c.metadata.get("tags", [])]
    assert len(setup) == 1 and setup[0].source.startswith(EXERCISE.setup)
    assert all(not c.get("outputs") for c in notebook.cells if c.cell_type == "code")
    assert len(EXERCISE.questions) >= 5


@pytest.mark.parametrize("qid", [q.id for q in EXERCISE.questions])
def test_solution_passes(solution, qid):
    question = EXERCISE.question(qid)
    result = _judge(question, solution[question.answer])
    assert result.status == "pass", result.feedback()
    assert result.points == question.max_points


@pytest.mark.parametrize("qid", [q.id for q in EXERCISE.questions])
def test_untouched_exercise_fails(stubs, qid):
    question = EXERCISE.question(qid)
    result = _judge(question, stubs[question.answer])
    assert result.status == "fail" and result.points == 0, result.feedback()
    assert "not answered yet" in result.message


def test_every_value_wrong_is_recognised():
    for question in EXERCISE.questions:
        if question.kind != "value":
            continue
        for wrong in question.wrong:
            result = judge(question, roundtrip(wrong.value))
            assert result.status == "fail", (question.id, wrong.value)
            assert result.misconception == wrong.misconception, (question.id, wrong.value)


def test_the_naive_second_stage_se_is_the_known_wrong_answer(solution):
    concert = solution["concert"]
    fitted = smf.ols("attended ~ rain", concert).fit().fittedvalues
    naive = smf.ols("happiness ~ f", concert.assign(f=fitted)).fit().bse["f"]
    result = judge(EXERCISE.question("q5"), float(naive))
    assert result.status == "fail" and "second-stage" in result.misconception


def test_the_robust_standard_error_and_f_are_also_accepted(solution):
    from lessons_lib import iv

    concert, card, controls = solution["concert"], solution["card"], solution["controls"]
    robust = iv.two_stage_least_squares(concert, "happiness", "attended", "rain").se
    assert judge(EXERCISE.question("q5"), robust).status == "pass"
    robust_f = iv.first_stage(card, "educ", "nearc4", controls)["F"]
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
    result = _judge(EXERCISE.question("q4"), function)
    assert result.status == "fail"
    assert words in result.misconception
