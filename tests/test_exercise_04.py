"""Exercise 04 (weighting): the checks accept the solution, reject the stubs, and recognise
every known wrong answer with its misconception."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import nbformat
import numpy as np
import pytest

from lessons_lib.check import checker, judge, load_exercise
from lessons_lib.check.exercises import call_locally
from lessons_lib.check.plain import roundtrip
from lessons_lib.standardization import potential_outcome_predictions
from lessons_lib.weighting import propensity_scores

ROOT = Path(__file__).resolve().parents[1]
EXERCISE_ID = "04_weighting"
EXERCISE_NB = ROOT / "exercises" / f"{EXERCISE_ID}.ipynb"
SOLUTION_NB = ROOT / "solutions" / f"{EXERCISE_ID}.ipynb"


def _checks_module():
    path = ROOT / "exercises" / "checks" / f"{EXERCISE_ID}.py"
    spec = importlib.util.spec_from_file_location("checks_04_for_tests", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


CHECKS = _checks_module()
EXERCISE = load_exercise(EXERCISE_ID)


def _answers(notebook: Path) -> dict:
    """Run SETUP and the notebook's answer cells (only those), as the grader would."""
    nb = nbformat.read(notebook, as_version=4)
    namespace: dict = {}
    exec(EXERCISE.setup, namespace)
    for cell in nb.cells:
        if any(tag.startswith("answer-") for tag in cell.metadata.get("tags", [])):
            exec(cell.source, namespace)
    return namespace


def _verdict(question, answer):
    if question.kind == "function":
        return judge(question, call_locally(answer, question))
    return judge(question, roundtrip(answer))


# --- the notebooks follow CONTRIBUTING.md --------------------------------------------------

@pytest.mark.parametrize("notebook", [EXERCISE_NB, SOLUTION_NB])
def test_notebook_layout(notebook):
    nb = nbformat.read(notebook, as_version=4)
    assert nb.metadata["lessons"] == {"exercise": EXERCISE_ID}
    assert nb.metadata["kernelspec"]["name"] == "python3"
    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    assert code_cells[0].metadata["tags"] == ["setup"]
    assert code_cells[0].source == EXERCISE.setup.rstrip("\n") + (
        '\n\nfrom lessons_lib.check import checker\ncheck = checker("04_weighting")')
    tagged = [t for c in code_cells for t in c.metadata.get("tags", []) if t.startswith("answer-")]
    assert tagged == [f"answer-{q.id}" for q in EXERCISE.questions]
    sources = [c.source for c in code_cells]
    for question in EXERCISE.questions:
        assert f'check("{question.id}", {question.answer})' in sources


def test_exercise_is_committed_unexecuted_and_solution_executed():
    exercise = nbformat.read(EXERCISE_NB, as_version=4)
    assert all(not c.get("outputs") and c.get("execution_count") is None
               for c in exercise.cells if c.cell_type == "code")
    solution = nbformat.read(SOLUTION_NB, as_version=4)
    printed = [o.get("text", "") for c in solution.cells if c.cell_type == "code"
               for o in c.outputs if o.output_type == "stream"]
    passes = [line for text in printed for line in text.splitlines() if " ✓ pass:" in line]
    assert len(passes) == len(EXERCISE.questions)
    assert not any(o.output_type == "error" or o.get("name") == "stderr"
                   for c in solution.cells if c.cell_type == "code" for o in c.outputs)


def test_at_least_five_questions_and_one_implements_the_estimator():
    assert len(EXERCISE.questions) >= 5
    assert EXERCISE.question("q4").kind == "function"
    assert EXERCISE.question("q4").answer == "aipw_ate"


# --- the truth behind the checks -----------------------------------------------------------

def test_truth_is_sound():
    assert abs(CHECKS.HAJEK - 2.0) < 0.1  # the study's true ATE is 2
    assert abs(CHECKS.HAJEK - CHECKS.HORVITZ_THOMPSON) / CHECKS.HAJEK > 0.006  # told apart
    assert round(CHECKS.STANDARDIZED.value, 1) == 3.5  # What If, section 13.3
    assert CHECKS.E_VALUE == pytest.approx(2.5 + np.sqrt(2.5 * 1.5))


def test_no_expected_text_gives_the_number_away():
    numbers = [f"{v:.2f}" for v in (CHECKS.HAJEK, CHECKS.HORVITZ_THOMPSON,
                                    CHECKS.STANDARDIZED.value, CHECKS.E_VALUE)]
    for question in EXERCISE.questions:
        for text in [check.expected for check in question.checks] + [question.hint]:
            assert not any(number in text for number in numbers), (question.id, text)


# --- both ways: the solution passes, the stubs fail --------------------------------------

def test_solution_scores_full_marks():
    namespace = _answers(SOLUTION_NB)
    total = 0.0
    for question in EXERCISE.questions:
        result = _verdict(question, namespace[question.answer])
        assert result.status == "pass", (question.id, result.feedback())
        total += result.points
    assert total == EXERCISE.max_score


def test_untouched_exercise_scores_zero_with_every_question_failing():
    namespace = _answers(EXERCISE_NB)
    for question in EXERCISE.questions:
        result = _verdict(question, namespace[question.answer])
        assert result.status == "fail" and result.points == 0, question.id
        assert "not answered yet" in result.message


def test_in_notebook_check_prints_pass_and_fail(capsys):
    check = checker(EXERCISE_ID)
    check("q1", CHECKS.HAJEK)
    check("q1", CHECKS.NAIVE)
    check("q4", 2.0)  # not a function
    out = capsys.readouterr().out
    assert "q1 ✓ pass" in out
    assert "q1 ✗ fail" in out and "Misconception: that is the naive difference" in out
    assert "expected a function `aipw_ate`" in out


# --- every known wrong answer is recognised with its misconception ------------------------

VALUE_WRONGS = [(q.id, w) for q in EXERCISE.questions if q.kind == "value" for w in q.wrong]


@pytest.mark.parametrize("question_id, wrong", VALUE_WRONGS,
                         ids=[f"{q}-{i}" for i, (q, _) in enumerate(VALUE_WRONGS)])
def test_value_wrong_answers_are_recognised(question_id, wrong):
    result = judge(EXERCISE.question(question_id), roundtrip(wrong.value))
    assert result.status == "fail"
    assert result.misconception == wrong.misconception


def standardization_only(data, treatment, outcome, covariates):
    m1, m0 = potential_outcome_predictions(data, treatment, outcome, covariates)
    return float(np.mean(m1 - m0))


def ipw_only(data, treatment, outcome, covariates):
    e, _ = propensity_scores(data, treatment, covariates)
    t, y = data[treatment].to_numpy(), data[outcome].to_numpy()
    return float(np.mean(t * y / e) - np.mean((1 - t) * y / (1 - e)))


def control_sign_flipped(data, treatment, outcome, covariates):
    e, _ = propensity_scores(data, treatment, covariates)
    m1, m0 = potential_outcome_predictions(data, treatment, outcome, covariates)
    t, y = data[treatment].to_numpy(), data[outcome].to_numpy()
    return float(np.mean(m1 - m0 + t * (y - m1) / e + (1 - t) * (y - m0) / (1 - e)))


@pytest.mark.parametrize("function, misconception_start", [
    (standardization_only, "that is standardization alone"),
    (ipw_only, "that is the Horvitz-Thompson IPW estimate alone"),
    (control_sign_flipped, "the control term has the wrong sign"),
])
def test_function_wrong_answers_are_recognised(function, misconception_start):
    result = _verdict(EXERCISE.question("q4"), function)
    assert result.status == "fail"
    assert result.misconception.startswith(misconception_start)


def test_a_function_that_does_not_refuse_bad_input_loses_that_point():
    namespace = _answers(SOLUTION_NB)
    solution = namespace["aipw_ate"]

    def lenient(data, treatment, outcome, covariates):
        if not set(np.unique(data[treatment])) <= {0, 1}:
            return 0.0
        return solution(data, treatment, outcome, covariates)

    result = _verdict(EXERCISE.question("q4"), lenient)
    assert result.status == "fail" and result.points == EXERCISE.question("q4").max_points - 1


def test_rounded_answers_and_text_variants():
    assert judge(EXERCISE.question("q1"), round(CHECKS.HAJEK, 3)).status == "pass"
    assert judge(EXERCISE.question("q6"), round(CHECKS.STANDARDIZED.value, 2)).status == "pass"
    assert judge(EXERCISE.question("q3"), "Stays the same").status == "pass"
    assert judge(EXERCISE.question("q5"), "the ATE of the units kept").status == "pass"
    assert judge(EXERCISE.question("q7"), "4.44").status == "fail"  # a string, not a number
