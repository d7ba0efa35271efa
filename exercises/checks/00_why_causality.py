"""Checks for exercise 00, why causality (chapters/00_why_causality.ipynb).

The learner places questions on the ladder of causation, measures the naive comparison in
the readmission data, adjusts it for severity, names the mistake in a described analysis,
and writes the severity-adjusted (standardized) difference as a function.

The true answers are computed below from the same simulation the learner sees (never
shown to the learner).

Each learner gets their own data: the setup's simulations are seeded from the
learner's ``VARIANT``, and every target is computed from them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lessons_lib.check import (
    Check,
    Exercise,
    Outcome,
    Question,
    Variant,
    Wrong,
    agrees_with,
    close_to,
    equals_text,
    is_function,
    is_number,
    one_of,
    raises_value_error,
)

VARIANT = globals().get("VARIANT", Variant("00_why_causality"))

SETUP = '''\
import numpy as np
import pandas as pd

from lessons_lib import simulate

# 4,000 simulated patients: severity, whether they got the medication (T), and whether
# they were readmitted within 30 days (Y = 1).
hospital = simulate.readmission(4_000, seed=2026)
patients = hospital.data
'''.replace('simulate.readmission(4_000, seed=2026)', f"simulate.readmission(4_000, seed={VARIANT.seed_or(2026)})")

_namespace: dict = {}
exec(SETUP, _namespace)  # trusted code written above
_patients: pd.DataFrame = _namespace["patients"]


def standardized_difference(data: pd.DataFrame, treatment: str, outcome: str,
                            stratum: str) -> float:
    """The reference: sum over strata s of P(s) (mean Y among treated in s - among control in s)."""
    total = 0.0
    for _, group in data.groupby(stratum, observed=True):
        t = group[treatment].to_numpy()
        if t.min() == t.max():
            raise ValueError(f"stratum without both treated and control units in '{stratum}'")
        y = group[outcome].to_numpy(dtype=float)
        total += len(group) / len(data) * (y[t == 1].mean() - y[t == 0].mean())
    return float(total)


_rates = _patients.groupby("T")["Y"].mean()
NAIVE = float(_rates[1] - _rates[0])
ADJUSTED = standardized_difference(_patients, "T", "Y", "severity")
_by_stratum = _patients.groupby(["severity", "T"], observed=True)["Y"].mean().unstack("T")
_differences = _by_stratum[1] - _by_stratum[0]
UNWEIGHTED = float(_differences.mean())
_treated_mix = _patients.loc[_patients["T"] == 1, "severity"].value_counts(normalize=True)
ATT_WEIGHTED = float(sum(_treated_mix[s] * _differences[s] for s in _differences.index))

RUNGS = ["association", "intervention", "counterfactual"]


# --- q1: the ladder ------------------------------------------------------------------------

def _is_three_rungs(answer: object) -> Outcome:
    if not isinstance(answer, list) or len(answer) != 3:
        return Outcome(False, "expected a list of three strings, one per question")
    if not all(isinstance(a, str) and a.strip().lower() in RUNGS for a in answer):
        return Outcome(False, f"each entry must be one of {RUNGS}")
    return Outcome(True)


def _rung(position: int, label: str) -> Check:
    def test(answer: list) -> bool:
        return answer[position].strip().lower() == RUNGS[position]

    return Check(f"question ({label})", test, f"the rung that question ({label}) needs")


# --- q5: the function ----------------------------------------------------------------------

def _frame(rng: np.random.Generator, n: int, strata: list[str], treat_rates: list[float],
           base: list[float], effect: float, names=("T", "Y", "group")) -> pd.DataFrame:
    level = rng.integers(0, len(strata), n)
    treated = (rng.random(n) < np.asarray(treat_rates)[level]).astype(int)
    outcome = np.asarray(base)[level] + effect * treated + rng.normal(0, 1, n)
    return pd.DataFrame({names[0]: treated, names[1]: outcome,
                         names[2]: np.asarray(strata)[level]})


def _inputs() -> list[tuple]:
    rng = np.random.default_rng(20261123)
    three = _frame(rng, 600, ["mild", "moderate", "severe"], [0.1, 0.5, 0.9], [1, 3, 6], -0.8)
    two = _frame(rng, 300, ["web", "app"], [0.2, 0.7], [10, 20], 2.0,
                 names=("banner", "spend", "device"))
    two["prior_spend"] = rng.gamma(2, 25, len(two))  # a column to ignore
    no_overlap = _frame(rng, 200, ["young", "old"], [0.0, 0.6], [0, 1], 1.0,
                        names=("T", "Y", "age_group"))
    return [(three, "T", "Y", "group"), (two, "banner", "spend", "device"),
            (_patients.copy(), "T", "Y", "severity"), (no_overlap, "T", "Y", "age_group")]


def _has_overlap(args: tuple, kwargs: dict) -> bool:
    data, treatment, _, stratum = args
    return bool((data.groupby(stratum, observed=True)[treatment].nunique() == 2).all())


def _outputs_equal(transform) -> callable:
    def matches(outputs: list) -> bool:
        pairs = [(out, args) for out, args in zip(outputs, _inputs(), strict=False)
                 if _has_overlap(args, {})]
        try:
            return bool(pairs) and all(
                np.isclose(float(getattr(out, "value", out)), transform(*args), rtol=1e-6)
                for out, args in pairs)
        except (TypeError, ValueError):
            return False

    return matches


def _naive(data, treatment, outcome, stratum) -> float:
    rates = data.groupby(treatment)[outcome].mean()
    return float(rates[1] - rates[0])


def _equal_weights(data, treatment, outcome, stratum) -> float:
    means = data.groupby([stratum, treatment], observed=True)[outcome].mean().unstack(treatment)
    return float((means[1] - means[0]).mean())


EXERCISE = Exercise(
    id="00_why_causality",
    title="Why causality",
    setup=SETUP,
    questions=[
        Question(
            "q1", answer="rungs",
            checks=[Check("three rungs", _is_three_rungs,
                          f"a list of three strings from {RUNGS}", points=0, gate=True),
                    _rung(0, "a"), _rung(1, "b"), _rung(2, "c")],
            wrong=[Wrong(lambda a: a == ["association"] * 3,
                         "all three can be asked of data, but only (a) is answered by what the "
                         "data show as they are: (b) asks what would happen if the hospital "
                         "acted, (c) asks about one patient in a world that did not happen"),
                   Wrong(lambda a: isinstance(a, list) and len(a) == 3 and a[1:] == [
                       "counterfactual", "intervention"],
                       "(b) is about a policy for everyone (what happens if we do it), an "
                       "intervention; (c) is about what would have happened to one patient who "
                       "already had an outcome, a counterfactual")],
            hint="Ask of each question: does it need only what we observe, what would happen "
                 "if we acted, or what would have happened to a particular person?",
        ),
        Question(
            "q2", answer="naive_difference",
            checks=[is_number(),
                    close_to(NAIVE, abs_tol=0.0005,
                             expected="the readmission rate of medicated patients minus that "
                                      "of the others, as a proportion")],
            wrong=[Wrong(-NAIVE, "the sign is flipped: take with-medication minus without",
                         rel_tol=0.01),
                   Wrong(100 * NAIVE, "that is in percentage points; give a proportion "
                                      "(0.05 for 5 points)", rel_tol=0.01)],
            hint="Group the patients by T and compare the mean of Y.",
        ),
        Question(
            "q3", answer="adjusted_difference",
            checks=[is_number(),
                    close_to(ADJUSTED, abs_tol=0.0005,
                             expected="the within-severity differences averaged with weights "
                                      "equal to each severity level's share of all patients")],
            wrong=[Wrong(NAIVE, "that is the naive difference: it ignores that the sickest "
                                "patients get the medication and are readmitted most anyway",
                         rel_tol=0.01),
                   Wrong(UNWEIGHTED, "you averaged the three severity levels equally; weight "
                                     "each by its share of the patients", abs_tol=0.0005),
                   Wrong(ATT_WEIGHTED, "you weighted by the severity mix of the medicated "
                                       "patients: that targets the effect on the treated, not "
                                       "on all patients", abs_tol=0.0005)],
            hint="Compute the difference within each severity level, then combine them with "
                 "weights P(severity = s).",
        ),
        Question(
            "q4", answer="mistake",
            checks=[one_of(["confounding", "reverse causation", "collider bias", "no mistake"]),
                    equals_text("confounding", expected="the name of the problem in the analysis")],
            wrong=[Wrong("reverse causation",
                         "churn is measured after the notifications were sent, so it cannot have "
                         "caused them; a third thing causes both"),
                   Wrong("collider bias", "nobody was selected or conditioned on a common "
                                          "effect; look for a common cause instead"),
                   Wrong("no mistake", "the notification rule targets already-engaged users, "
                                       "and engagement also keeps users from churning")],
            hint="What decides who gets more notifications, and does it also affect churn?",
        ),
        Question(
            "q5", answer="standardized_difference", kind="function", inputs=_inputs,
            checks=[is_function(select=_has_overlap),
                    agrees_with(standardized_difference,
                                expected="sum over strata of P(stratum) x (mean outcome of "
                                         "treated - mean outcome of control within it)",
                                points=2, select=_has_overlap),
                    raises_value_error(expected="a ValueError when a stratum has no treated or "
                                                "no control units (positivity fails there)",
                                       select=lambda a, k: not _has_overlap(a, k))],
            wrong=[Wrong(_outputs_equal(_naive), "your function returns the naive difference: "
                                                 "it never compares within strata"),
                   Wrong(_outputs_equal(_equal_weights), "your function weights every stratum "
                                                         "equally; weight by its share of rows")],
            hint="Loop over data.groupby(stratum), compute each stratum's difference and its "
                 "share of the rows, and raise ValueError when a stratum lacks either group.",
        ),
    ],
)
