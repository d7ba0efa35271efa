"""Exercise 01 (potential outcomes): the checks accept the solution, reject the stubs, and
recognise every known wrong answer with its misconception."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import nbformat
import numpy as np
import pytest

from lessons_lib.check import checker, judge, load_exercise
from lessons_lib.check.exercises import call_locally
from lessons_lib.check.plain import roundtrip

ROOT = Path(__file__).resolve().parents[1]
EXERCISE_ID = "01_potential_outcomes"
EXERCISE_NB = ROOT / "exercises" / f"{EXERCISE_ID}.ipynb"
SOLUTION_NB = ROOT / "solutions" / f"{EXERCISE_ID}.ipynb"


def _checks_module():
    path = ROOT / "exercises" / "checks" / f"{EXERCISE_ID}.py"
    spec = importlib.util.spec_from_file_location("checks_01_for_tests", path)
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


def _verdict(question, namespace):
    answer = namespace[question.answer]
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
    first = code_cells[0]
    assert first.metadata["tags"] == ["setup"]
    expected = EXERCISE.setup.rstrip("\n") + (
        '\n\nfrom lessons_lib.check import checker\n\ncheck = checker("01_potential_outcomes")')
    assert first.source == expected
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
    assert EXERCISE.question("q7").kind == "function"
    assert EXERCISE.question("q7").answer == "difference_in_means"


# --- the truth behind the checks -----------------------------------------------------------

def test_truth_is_what_the_table_says():
    assert CHECKS.ATE == pytest.approx(51 / 8)
    assert CHECKS.ATT == pytest.approx(43 / 4)
    assert CHECKS.ATC == pytest.approx(2.0)
    assert CHECKS.NAIVE == pytest.approx(66.5 - 71.75)
    assert CHECKS.NAIVE == pytest.approx(CHECKS.ATT + CHECKS.SELECTION_BIAS)
    assert CHECKS.CATE_SECOND == pytest.approx(7.0) and CHECKS.CATE_FIRST == pytest.approx(5.75)
    # different from the chapter's six shoppers, so the chapter's numbers cannot pass
    for chapter_number in (40 / 6, 40 / 3, 0.0, 13 / 3, 9.0, -5 / 3):
        for question_id in ("q1", "q2", "q3", "q4"):
            assert judge(EXERCISE.question(question_id), chapter_number).status == "fail"


def test_no_expected_text_gives_the_number_away():
    numbers = [f"{v:.2f}" for v in (CHECKS.ATE, CHECKS.ATT, CHECKS.NAIVE, CHECKS.CATE_SECOND)]
    numbers += ["6.375", "6.38", "10.75", "-5.25", "7.0"]
    for question in EXERCISE.questions:
        texts = [check.expected for check in question.checks] + [question.hint]
        for text in texts:
            assert not any(number in text for number in numbers), (question.id, text)


# --- both ways: the solution passes, the stubs fail --------------------------------------

def test_solution_scores_full_marks():
    namespace = _answers(SOLUTION_NB)
    total = 0.0
    for question in EXERCISE.questions:
        result = _verdict(question, namespace)
        assert result.status == "pass", (question.id, result.feedback())
        total += result.points
    assert total == EXERCISE.max_score


def test_untouched_exercise_scores_zero_with_every_question_failing():
    namespace = _answers(EXERCISE_NB)
    for question in EXERCISE.questions:
        result = _verdict(question, namespace)
        assert result.status == "fail" and result.points == 0, question.id
        assert "not answered yet" in result.message


def test_in_notebook_check_prints_pass_and_fail(capsys):
    check = checker(EXERCISE_ID)
    check("q1", 6.375)
    check("q1", 10.75)
    check("q7", 3.0)  # not a function
    out = capsys.readouterr().out
    assert "q1 ✓ pass" in out
    assert "q1 ✗ fail" in out and "Misconception: that is the ATT" in out
    assert "expected a function `difference_in_means`" in out


# --- every known wrong answer is recognised with its misconception ------------------------

VALUE_WRONGS = [(q.id, w) for q in EXERCISE.questions if q.kind == "value" for w in q.wrong]


@pytest.mark.parametrize("question_id, wrong", VALUE_WRONGS,
                         ids=[f"{q}-{w.value}" for q, w in VALUE_WRONGS])
def test_value_wrong_answers_are_recognised(question_id, wrong):
    result = judge(EXERCISE.question(question_id), roundtrip(wrong.value))
    assert result.status == "fail"
    assert result.misconception == wrong.misconception


def test_rounded_answers_pass_and_coarse_ones_fail():
    assert judge(EXERCISE.question("q1"), 6.38).status == "pass"
    assert judge(EXERCISE.question("q1"), 6.4).status == "fail"
    assert judge(EXERCISE.question("q1"), "6.375").status == "fail"  # a string, not a number
    assert judge(EXERCISE.question("q6"), "No-Interference").status == "pass"  # case, hyphen
    assert judge(EXERCISE.question("q6"), "SUTVA").status == "fail"


def _frame_arms(data, treatment, outcome):
    t = data[treatment].to_numpy()
    y = data[outcome].to_numpy(dtype=float)
    return y[t == 1], y[t == 0]


def _refuse_non_binary(data, treatment):
    if not set(np.unique(data[treatment])) <= {0, 1}:
        raise ValueError("treatment must be 0/1")


def sign_flipped(data, treatment, outcome):
    _refuse_non_binary(data, treatment)
    treated, control = _frame_arms(data, treatment, outcome)
    return control.mean() - treated.mean()


def minus_overall_mean(data, treatment, outcome):
    _refuse_non_binary(data, treatment)
    treated, _ = _frame_arms(data, treatment, outcome)
    return treated.mean() - data[outcome].mean()


def se_with_ddof0(data, treatment, outcome):
    treated, control = _frame_arms(data, treatment, outcome)
    return np.sqrt(treated.var() / len(treated) + control.var() / len(control))


def se_pooled(data, treatment, outcome):
    treated, control = _frame_arms(data, treatment, outcome)
    n1, n0 = len(treated), len(control)
    pooled = ((n1 - 1) * treated.var(ddof=1) + (n0 - 1) * control.var(ddof=1)) / (n1 + n0 - 2)
    return np.sqrt(pooled * (1 / n1 + 1 / n0))


def variance_not_se(data, treatment, outcome):
    treated, control = _frame_arms(data, treatment, outcome)
    return treated.var(ddof=1) / len(treated) + control.var(ddof=1) / len(control)


def sd_not_se(data, treatment, outcome):
    treated, control = _frame_arms(data, treatment, outcome)
    return np.sqrt(treated.var(ddof=1) + control.var(ddof=1))


@pytest.mark.parametrize("question_id, function, words", [
    ("q7", sign_flipped, "sign is flipped"),
    ("q7", minus_overall_mean, "overall mean"),
    ("q8", se_with_ddof0, "ddof=0"),
    ("q8", se_pooled, "pooled-variance"),
    ("q8", variance_not_se, "square root"),
    ("q8", sd_not_se, "divided by its own size"),
])
def test_function_wrong_answers_are_recognised(question_id, function, words):
    question = EXERCISE.question(question_id)
    result = judge(question, call_locally(function, question))
    assert result.status == "fail"
    assert words in result.misconception


def test_estimator_that_accepts_any_treatment_loses_the_refusal_point():
    def no_check(data, treatment, outcome):
        treated, control = _frame_arms(data, treatment, outcome)
        return treated.mean() - control.mean()

    question = EXERCISE.question("q7")
    result = judge(question, call_locally(no_check, question))
    assert result.status == "fail"
    assert result.points == question.max_points - 1
    assert any(name == "refuses bad input" and not passed for name, passed, _ in result.details)


def test_estimator_that_ignores_the_column_names_fails():
    def hard_coded(data, treatment, outcome):
        _refuse_non_binary(data, treatment)
        return data.loc[data["T"] == 1, "Y"].mean() - data.loc[data["T"] == 0, "Y"].mean()

    question = EXERCISE.question("q7")
    result = judge(question, call_locally(hard_coded, question))
    assert result.status == "fail"
    assert "KeyError" in result.message


def test_returning_the_library_estimate_is_accepted():
    from lessons_lib.experiments import difference_in_means

    question = EXERCISE.question("q7")
    result = judge(question, call_locally(difference_in_means, question))
    assert result.status == "pass"
