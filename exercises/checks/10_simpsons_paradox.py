"""Trusted checks for exercises/10_simpsons_paradox.ipynb (chapter 10)."""

from __future__ import annotations

import math

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
)
from lessons_lib.datasets import berkeley_admissions, kidney_stones
from lessons_lib.tables import standardized_rates, stratified_rates

SETUP = """\
import numpy as np
import pandas as pd

from lessons_lib.datasets import berkeley_admissions, kidney_stones
from lessons_lib.graphs import DAG, draw

stones = kidney_stones()          # treatment, stone_size, patients, successes
admissions = berkeley_admissions()  # department, sex, applicants, admitted

# a trial of a blood-pressure drug: pressure is measured after treatment
drug_dag = DAG([("drug", "pressure"), ("pressure", "recovery"), ("drug", "recovery")])
"""

_stones, _admissions = kidney_stones(), berkeley_admissions()
_stone_std = standardized_rates(_stones, treatment="treatment", stratum="stone_size",
                                count="patients", successes="successes")
A_STANDARDIZED = float(_stone_std["A: open surgery"])
_stone_rates = stratified_rates(_stones, treatment="treatment", stratum="stone_size",
                                count="patients", successes="successes")
A_COLLAPSED = float(_stone_rates.loc["all", "A: open surgery"])
_b_sizes = _stones[_stones["treatment"] == "B: PCNL"].set_index("stone_size")["patients"]
A_WITH_B_WEIGHTS = float(sum(_stone_rates.loc[s, "A: open surgery"] * _b_sizes[s] / _b_sizes.sum()
                             for s in ("small", "large")))
A_EQUAL_WEIGHTS = float(_stone_rates.loc[["small", "large"], "A: open surgery"].mean())

_adm_std = standardized_rates(_admissions, treatment="sex", stratum="department",
                              count="applicants", successes="admitted")
WOMEN_STANDARDIZED = float(_adm_std["women"])
_adm_rates = stratified_rates(_admissions, treatment="sex", stratum="department",
                              count="applicants", successes="admitted")
WOMEN_COLLAPSED = float(_adm_rates.loc["all", "women"])
_men = _admissions[_admissions["sex"] == "men"].set_index("department")["applicants"]
WOMEN_WITH_MEN_WEIGHTS = float((_adm_rates.loc[_men.index, "women"] * _men / _men.sum()).sum())
MEN_STANDARDIZED = float(_adm_std["men"])


def _synthetic() -> pd.DataFrame:
    rng = np.random.default_rng(10)
    rows = []
    for stratum in ("low", "mid", "high"):
        for arm in ("new", "old"):
            n = int(rng.integers(20, 300))
            rows.append((arm, stratum, n, int(rng.binomial(n, rng.uniform(0.1, 0.9)))))
    return pd.DataFrame(rows, columns=["arm", "risk", "n", "cured"])


def _inputs() -> list:
    calls = []
    for value in ("A: open surgery", "B: PCNL"):
        calls.append(((kidney_stones(), "treatment", value, "stone_size", "patients", "successes"), {}))
    for value in ("men", "women"):
        calls.append(((berkeley_admissions(), "sex", value, "department", "applicants", "admitted"), {}))
    for value in ("new", "old"):
        calls.append(((_synthetic(), "arm", value, "risk", "n", "cured"), {}))
    return calls


def _reference(table, treatment, value, stratum, count, successes):
    return float(standardized_rates(table, treatment=treatment, stratum=stratum, count=count,
                                    successes=successes)[value])


def _collapsed(table, treatment, value, stratum, count, successes):
    part = table[table[treatment] == value]
    return float(part[successes].sum() / part[count].sum())


def _equal_weights(table, treatment, value, stratum, count, successes):
    part = table[table[treatment] == value]
    return float((part[successes] / part[count]).mean())


def _outputs_match(function):
    expected = [function(*args, **kwargs) for args, kwargs in _inputs()]

    def matches(outputs) -> bool:
        return len(outputs) == len(expected) and all(
            isinstance(got, (int, float, np.integer, np.floating)) and not isinstance(got, bool)
            and math.isclose(float(got), want, rel_tol=1e-6) for got, want in zip(outputs, expected, strict=True))

    return matches


EXERCISE = Exercise(
    id="10_simpsons_paradox",
    title="Simpson's paradox",
    setup=SETUP,
    questions=[
        Question(
            id="q1", answer="a_standardized",
            checks=[is_number(), close_to(A_STANDARDIZED, rel_tol=1e-3,
                                          expected="open surgery's success rate standardized to the stone sizes of all 700 patients")],
            wrong=[Wrong(A_COLLAPSED, "That is open surgery's collapsed success rate, which weights the sizes by A's own "
                                      "patients (mostly large stones). Weight by the sizes of all 700 patients.", rel_tol=1e-3),
                   Wrong(A_WITH_B_WEIGHTS, "You weighted by the stone sizes of PCNL's patients only. The adjustment "
                                           "formula uses P(size) in everyone.", rel_tol=1e-3),
                   Wrong(A_EQUAL_WEIGHTS, "You gave small and large stones equal weight. Weight each size by its share "
                                          "of all patients (357 small, 343 large).", rel_tol=1e-3)],
            hint="sum over sizes of (A's success rate for that size) x (patients with that size / 700).",
        ),
        Question(
            id="q2", answer="n_favour_women",
            checks=[is_number(), close_to(4, abs_tol=0.01,
                                          expected="the number of departments where women's admission rate was higher")],
            wrong=[Wrong(2, "Two departments (C and E) admitted men at a higher rate; the question asks about women.",
                         abs_tol=0.01),
                   Wrong(0, "Look inside the departments, not at the collapsed rates.", abs_tol=0.01)],
            hint="Compute admitted / applicants per department and sex, then compare within each department.",
        ),
        Question(
            id="q3", answer="comparison",
            checks=[one_of(["collapsed", "stratified"]),
                    equals_text("collapsed", expected="which comparison estimates the drug's total effect in drug_dag")],
            wrong=[Wrong("stratified", "Pressure is measured after the drug and is caused by it: a mediator. Stratifying "
                                       "on it removes the part of the effect that works through pressure (you get a "
                                       "direct effect). With randomized treatment, the collapsed comparison is the "
                                       "total effect.")],
            hint="Is pressure a descendant of the drug? Check drug_dag.is_valid_backdoor('drug', 'recovery', ['pressure']).",
        ),
        Question(
            id="q4", answer="women_standardized",
            checks=[is_number(), close_to(WOMEN_STANDARDIZED, rel_tol=1e-3,
                                          expected="women's admission rate standardized to all applicants' departments")],
            wrong=[Wrong(WOMEN_COLLAPSED, "That is women's collapsed admission rate, weighted by where women applied.",
                         rel_tol=1e-3),
                   Wrong(WOMEN_WITH_MEN_WEIGHTS, "You weighted by where the *men* applied. The standardized rate uses "
                                                 "every department's share of all 4,526 applicants.", rel_tol=1e-3),
                   Wrong(MEN_STANDARDIZED, "That is the men's standardized rate.", rel_tol=1e-3)],
            hint="Weights: applicants per department (both sexes) / 4,526.",
        ),
        Question(
            id="q5", answer="standardized_rate", kind="function", inputs=_inputs,
            checks=[is_function(),
                    agrees_with(_reference, points=2,
                                expected="sum over strata of (success rate of `value` in the stratum) x "
                                         "(stratum's share of all units in the table)")],
            wrong=[Wrong(_outputs_match(_collapsed), "Your function returns the collapsed rate of that treatment: its "
                                                     "strata are weighted by its own units, not by everyone's."),
                   Wrong(_outputs_match(_equal_weights), "Your function averages the stratum rates with equal weights; "
                                                         "weight each stratum by its share of all units.")],
            hint="Stratum weights: table.groupby(stratum)[count].sum() / table[count].sum().",
        ),
    ],
)
