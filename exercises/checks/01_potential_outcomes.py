"""Checks for exercise 01, potential outcomes (chapters/01_potential_outcomes.ipynb).

Eight students and a tutoring programme: the learner computes estimands from a table of
potential outcomes, the naive comparison from the observed table, names the assumption
two studies break, and writes the difference in means with its standard error.

The true answers (never shown to the learner): ATE 6.375, ATT 10.75, ATC 2.00, naive
difference -5.25, CATE of second-years 7.00, CATE of first-years 5.75.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lessons_lib.check import (
    Exercise,
    Question,
    Wrong,
    agrees_with,
    close_to,
    equals_text,
    is_function,
    is_number,
    one_of,
    raises_value_error,
)
from lessons_lib.experiments import difference_in_means

SETUP = '''\
import numpy as np
import pandas as pd

# Eight students and a tutoring programme. Y0 and Y1 are each student's exam score
# (out of 100) without and with tutoring; T says who was actually tutored.
students = pd.DataFrame({
    "name": ["Ana", "Ben", "Chen", "Dara", "Eli", "Fay", "Gus", "Hana"],
    "year": ["first", "first", "second", "second", "second", "first", "first", "second"],
    "Y0": [60, 72, 55, 80, 65, 50, 70, 58],
    "Y1": [68, 75, 70, 79, 71, 62, 70, 66],
    "T": [1, 0, 1, 0, 0, 1, 0, 1],
})
students["Y"] = np.where(students["T"] == 1, students["Y1"], students["Y0"])

# What the school actually sees: who was tutored and the score they got.
observed = students[["name", "year", "T", "Y"]]
'''

# The truth, computed from the same table the learner sees (so it cannot drift from SETUP).
_namespace: dict = {}
exec(SETUP, _namespace)  # trusted code written above
_students: pd.DataFrame = _namespace["students"]
_effect = _students["Y1"] - _students["Y0"]
_treated = _students["T"] == 1
_second = _students["year"] == "second"

ATE = float(_effect.mean())  # 6.375
ATT = float(_effect[_treated].mean())  # 10.75
ATC = float(_effect[~_treated].mean())  # 2.00
NAIVE = float(_students.loc[_treated, "Y"].mean() - _students.loc[~_treated, "Y"].mean())  # -5.25
CATE_SECOND = float(_effect[_second].mean())  # 7.00
CATE_FIRST = float(_effect[~_second].mean())  # 5.75
NAIVE_SECOND = float(_students.loc[_treated & _second, "Y"].mean()
                     - _students.loc[~_treated & _second, "Y"].mean())  # -4.50
SELECTION_BIAS = float(_students.loc[_treated, "Y0"].mean() - _students.loc[~_treated, "Y0"].mean())

TOL = 0.01  # answers to two decimals pass; every known wrong answer is further away

ASSUMPTIONS = ["consistency", "exchangeability", "positivity", "no interference"]


# --- inputs for the function questions ---------------------------------------------------

def _frame(rng: np.random.Generator, n_treated: int, n_control: int, *, effect: float,
           sd_treated: float, sd_control: float, names=("T", "Y")) -> pd.DataFrame:
    treatment = np.r_[np.ones(n_treated, dtype=int), np.zeros(n_control, dtype=int)]
    outcome = np.r_[rng.normal(50 + effect, sd_treated, n_treated),
                    rng.normal(50, sd_control, n_control)]
    order = rng.permutation(len(treatment))  # treated and control rows interleaved
    return pd.DataFrame({names[0]: treatment[order], names[1]: outcome[order]})


def _valid_inputs() -> list[tuple]:
    """Fresh DataFrames, the same every time: balanced, unbalanced, renamed columns."""
    rng = np.random.default_rng(20260101)
    balanced = _frame(rng, 50, 50, effect=3.0, sd_treated=10.0, sd_control=10.0)
    unbalanced = _frame(rng, 12, 88, effect=-2.0, sd_treated=15.0, sd_control=4.0)
    renamed = _frame(rng, 30, 45, effect=5.0, sd_treated=6.0, sd_control=9.0,
                     names=("banner", "spend"))
    renamed["prior_spend"] = rng.gamma(2.0, 25.0, len(renamed))  # a column to ignore
    return [(balanced, "T", "Y"), (unbalanced, "T", "Y"), (renamed, "banner", "spend")]


def _bad_inputs() -> list[tuple]:
    """A treatment coded 0/1/2 (three doses), which a difference in means cannot use."""
    rng = np.random.default_rng(7)
    doses = pd.DataFrame({"T": np.tile([0, 1, 2], 10), "Y": rng.normal(10, 2, 30)})
    return [(doses, "T", "Y")]


def _dim_inputs() -> list[tuple]:
    return _valid_inputs() + _bad_inputs()  # the bad input last


def _is_valid(args: tuple, kwargs: dict) -> bool:
    data, treatment = args[0], args[1]
    return set(np.unique(data[treatment])) <= {0, 1}


def _reference_value(data, treatment, outcome) -> float:
    return difference_in_means(data, outcome=outcome, treatment=treatment).value


def _reference_se(data, treatment, outcome) -> float:
    return difference_in_means(data, outcome=outcome, treatment=treatment).se


def _outputs_match(transform, inputs_of=_dim_inputs) -> callable:
    """A Wrong predicate: the learner's outputs on the valid inputs equal transform(data...).

    ``inputs_of`` is the question's ``inputs`` function, so outputs and inputs line up.
    """

    def matches(outputs: list) -> bool:
        inputs = inputs_of()
        pairs = [(out, args) for out, args in zip(outputs, inputs, strict=False)
                 if _is_valid(args, {})]
        if not pairs:
            return False
        for out, args in pairs:
            try:
                got = float(getattr(out, "value", out))
            except (TypeError, ValueError):
                return False
            if not np.isclose(got, transform(*args), rtol=1e-6, atol=1e-9):
                return False
        return True

    return matches


def _arms(data, treatment, outcome):
    y = data[outcome].to_numpy(dtype=float)
    t = data[treatment].to_numpy()
    return y[t == 1], y[t == 0]


def _sign_flip(data, treatment, outcome):
    treated, control = _arms(data, treatment, outcome)
    return control.mean() - treated.mean()


def _treated_minus_overall(data, treatment, outcome):
    treated, _ = _arms(data, treatment, outcome)
    return treated.mean() - data[outcome].mean()


def _se_ddof0(data, treatment, outcome):
    treated, control = _arms(data, treatment, outcome)
    return np.sqrt(treated.var() / len(treated) + control.var() / len(control))


def _se_pooled(data, treatment, outcome):
    treated, control = _arms(data, treatment, outcome)
    n1, n0 = len(treated), len(control)
    pooled = ((n1 - 1) * treated.var(ddof=1) + (n0 - 1) * control.var(ddof=1)) / (n1 + n0 - 2)
    return np.sqrt(pooled * (1 / n1 + 1 / n0))


def _se_no_sqrt(data, treatment, outcome):
    treated, control = _arms(data, treatment, outcome)
    return treated.var(ddof=1) / len(treated) + control.var(ddof=1) / len(control)


def _sd_not_se(data, treatment, outcome):
    treated, control = _arms(data, treatment, outcome)
    return np.sqrt(treated.var(ddof=1) + control.var(ddof=1))


# --- the questions -----------------------------------------------------------------------

NUMBER_TO_TWO_DECIMALS = "a number, in exam points, to at least two decimals"

q1 = Question(
    id="q1",
    answer="ate",
    prompt="The average treatment effect of tutoring on the exam score, from the full table.",
    checks=[
        is_number(),
        close_to(ATE, abs_tol=TOL, name="is the ATE",
                 expected="the average of Y1 - Y0 over all eight students"),
    ],
    wrong=[
        Wrong(ATT, "that is the ATT: you averaged the effect over the tutored students only. "
                   "The ATE averages Y1 - Y0 over everyone, tutored or not."),
        Wrong(ATC, "that is the ATC: the average effect among the students who were not tutored."),
        Wrong(NAIVE, "that is the naive difference in observed means. It mixes the effect with "
                     "selection bias: the tutored students would have scored lower anyway."),
        Wrong(-ATE, "the sign is flipped: an effect is Y1 - Y0 (with tutoring minus without)."),
        Wrong(float(_effect.sum()), "that is the sum of the individual effects; the ATE is "
                                    "their average."),
    ],
    hint="Compute students['Y1'] - students['Y0'] for every student, then average.",
)

q2 = Question(
    id="q2",
    answer="att",
    prompt="The average treatment effect on the treated (the students with T = 1).",
    checks=[
        is_number(),
        close_to(ATT, abs_tol=TOL, name="is the ATT",
                 expected="the average of Y1 - Y0 over the tutored students (T = 1)"),
    ],
    wrong=[
        Wrong(ATE, "that is the ATE, the average over all eight students. The ATT averages "
                   "only over the students who were actually tutored."),
        Wrong(ATC, "that is the ATC: you averaged over the students with T = 0 instead of T = 1."),
        Wrong(NAIVE, "that is the naive difference in observed means, which equals the ATT plus "
                     "selection bias; with the full table you can compute the ATT directly."),
        Wrong(-ATT, "the sign is flipped: an effect is Y1 - Y0."),
    ],
    hint="Select the rows with students['T'] == 1 and average Y1 - Y0 over them.",
)

q3 = Question(
    id="q3",
    answer="naive",
    prompt="Using only `observed`: mean score of the tutored minus mean score of the others.",
    checks=[
        is_number(),
        close_to(NAIVE, abs_tol=TOL, name="is the naive difference",
                 expected="mean observed Y of the tutored (T = 1) minus that of the others "
                          "(T = 0), from the observed table only"),
    ],
    wrong=[
        Wrong(ATE, "that is the ATE, which needs both potential outcomes of every student. "
                   "The question asks what the school can compute from `observed` alone."),
        Wrong(ATT, "that is the ATT, which needs the tutored students' Y0, a column the school "
                   "never sees. Use only `observed`."),
        Wrong(-NAIVE, "the sign is flipped: take the tutored group's mean minus the untutored "
                      "group's mean."),
        Wrong(SELECTION_BIAS, "that is the selection bias E[Y0 | T=1] - E[Y0 | T=0], which needs "
                              "the hidden Y0 of the tutored students."),
    ],
    hint="observed.groupby('T')['Y'].mean() gives both group means.",
)

q4 = Question(
    id="q4",
    answer="cate_second",
    prompt="The conditional average treatment effect for second-year students.",
    checks=[
        is_number(),
        close_to(CATE_SECOND, abs_tol=TOL, name="is the CATE of second-years",
                 expected="the average of Y1 - Y0 over the second-year students, tutored or not"),
    ],
    wrong=[
        Wrong(CATE_FIRST, "that is the CATE of the first-year students."),
        Wrong(ATE, "that is the ATE over all students; the CATE conditions on year == 'second'."),
        Wrong(NAIVE_SECOND, "that is the naive difference in observed means among second-years. "
                            "Within a group the tutored and untutored can still differ; the CATE "
                            "averages Y1 - Y0 over every second-year student."),
        Wrong(float(_effect[_second & _treated].mean()),
              "that averages only the tutored second-years (an ATT within the group). The CATE "
              "averages over every second-year student."),
        Wrong(-CATE_SECOND, "the sign is flipped: an effect is Y1 - Y0."),
    ],
    hint="students.groupby('year') then average Y1 - Y0, or select year == 'second' first.",
)

q5 = Question(
    id="q5",
    answer="broken_q5",
    prompt="Blood-pressure drug forbidden to patients over 75: which assumption fails?",
    checks=[
        one_of(ASSUMPTIONS),
        equals_text("positivity", name="names the broken assumption",
                    expected="the assumption that every kind of patient could receive either "
                             "treatment"),
    ],
    wrong=[
        Wrong("exchangeability", "confounding may also be present, but it could in principle be "
                                 "adjusted for by comparing patients of the same age. Here no "
                                 "patient over 75 ever got the drug, so there is no one to compare "
                                 "them with: P(T = 1 | age > 75) = 0."),
        Wrong("consistency", "the drug is one well-defined treatment with one dose here, so the "
                             "observed outcome is the potential outcome under the drug received."),
        Wrong("no interference", "one patient's drug does not change another patient's blood "
                                 "pressure, so the outcomes do not depend on others' treatment."),
    ],
    hint="Ask: could every kind of patient have received both treatments?",
)

q6 = Question(
    id="q6",
    answer="broken_q6",
    prompt="Tutoring app randomized within classes, solutions shared with classmates: which fails?",
    checks=[
        one_of(ASSUMPTIONS),
        equals_text("no interference", name="names the broken assumption",
                    expected="the assumption about whether one student's treatment affects "
                             "another student's outcome"),
    ],
    wrong=[
        Wrong("exchangeability", "access was assigned at random, so the two groups are comparable "
                                 "before the study. The problem is that the untreated students' "
                                 "scores also change, because classmates share the app's solutions."),
        Wrong("positivity", "every student had the same chance of getting the app, so both "
                            "treatments were possible for everyone."),
        Wrong("consistency", "the app is one well-defined treatment. What breaks is that a "
                             "student's score depends on whether their classmates got it."),
    ],
    hint="Does a student's score depend only on their own access to the app?",
)

q7 = Question(
    id="q7",
    answer="difference_in_means",
    kind="function",
    inputs=_dim_inputs,
    prompt="difference_in_means(data, treatment, outcome) -> float, refusing a non-0/1 treatment.",
    checks=[
        is_function(select=_is_valid),  # a gate on the valid inputs; the bad one must raise
        agrees_with(_reference_value, select=_is_valid, points=2.0,
                    name="equals the difference in means",
                    expected="the mean outcome of the rows with treatment 1 minus the mean of the "
                             "rows with treatment 0, using the column names passed in, for "
                             "balanced and unbalanced groups"),
        raises_value_error(select=lambda args, kwargs: not _is_valid(args, kwargs),
                           expected="a ValueError when the treatment column has values other "
                                    "than 0 and 1"),
    ],
    wrong=[
        Wrong(_outputs_match(_sign_flip), "the sign is flipped: it is treated minus control."),
        Wrong(_outputs_match(_treated_minus_overall),
              "you subtracted the overall mean instead of the control group's mean."),
    ],
    hint="Select data.loc[data[treatment] == 1, outcome] and == 0; check first that "
         "set(data[treatment].unique()) <= {0, 1}, else raise ValueError(...).",
)

q8 = Question(
    id="q8",
    answer="standard_error",
    kind="function",
    inputs=_valid_inputs,
    prompt="standard_error(data, treatment, outcome) -> float: sqrt(s1^2/n1 + s0^2/n0).",
    checks=[
        is_function(),
        agrees_with(_reference_se, points=2.0, name="equals the Welch (Neyman) standard error",
                    expected="sqrt(s1^2 / n1 + s0^2 / n0) with the sample variances (ddof=1) of "
                             "each group, for balanced and unbalanced groups"),
    ],
    wrong=[
        Wrong(_outputs_match(_se_ddof0, _valid_inputs),
              "you used the population variance (ddof=0, numpy's default for .var() and .std()). "
              "The sample variance divides by n - 1: use .var(ddof=1), or pandas' .var()."),
        Wrong(_outputs_match(_se_pooled, _valid_inputs),
              "that is the pooled-variance standard error, which assumes both groups have the "
              "same variance. The Welch (Neyman) one keeps s1^2 / n1 and s0^2 / n0 separate."),
        Wrong(_outputs_match(_se_no_sqrt, _valid_inputs), "that is the variance of the estimate; take its "
                                           "square root."),
        Wrong(_outputs_match(_sd_not_se, _valid_inputs), "each group's variance must be divided by its own "
                                          "size: the SE of a mean is s / sqrt(n)."),
    ],
    hint="np.sqrt(treated.var(ddof=1) / len(treated) + control.var(ddof=1) / len(control))",
)

EXERCISE = Exercise(
    id="01_potential_outcomes",
    title="Potential outcomes",
    setup=SETUP,
    questions=[q1, q2, q3, q4, q5, q6, q7, q8],
)
