"""Checks for exercise 04, weighting, standardization and double robustness
(chapters/04_weighting.ipynb).

The learner weights a simulated study by hand (Hajek and Horvitz-Thompson), says what
stabilizing and trimming do, writes AIPW, reproduces What If's standardization on NHEFS
and computes an E-value. Reference answers are computed below from the same SETUP the
learner runs, so they cannot drift from it (Hajek about 2.01, Horvitz-Thompson about 1.99,
NHEFS standardization about 3.52 kg, E-value about 4.44); they are never shown.
"""

from __future__ import annotations

import math

import numpy as np

from lessons_lib import simulate
from lessons_lib.check import (
    Check,
    Exercise,
    Outcome,
    Question,
    Wrong,
    agrees_with,
    close_to,
    equals_text,
    is_number,
    one_of,
    raises_value_error,
)
from lessons_lib.doubly_robust import aipw
from lessons_lib.standardization import potential_outcome_predictions, standardization
from lessons_lib.weighting import propensity_scores

SETUP = '''\
import numpy as np
import pandas as pd

from lessons_lib import datasets, simulate
from lessons_lib.weighting import propensity_scores

# A study of 2,000 units in which treatment and outcome both curve in x1 (the chapter's
# double-robustness example). The true ATE is 2. The propensity model below is the right one.
study = simulate.two_models(2_000, seed=404).data
covariates = ["x1", "x2", "x1_sq"]
propensity, _ = propensity_scores(study, treatment="T", covariates=covariates)
t = study["T"].to_numpy()
y = study["Y"].to_numpy()

# Hernan and Robins' NHEFS sample: 1,566 smokers, quitting (qsmk) and weight gain (wt82_71).
smokers = datasets.nhefs()
confounders = datasets.NHEFS_CONFOUNDERS
'''

# --- the truth, from the learner's own SETUP ---------------------------------------------
_ns: dict = {}
exec(SETUP, _ns)  # trusted code written above
_t, _y, _e = _ns["t"], _ns["y"], _ns["propensity"]
_w = _t / _e + (1 - _t) / (1 - _e)
HAJEK = float(np.average(_y[_t == 1], weights=_w[_t == 1])
              - np.average(_y[_t == 0], weights=_w[_t == 0]))
HORVITZ_THOMPSON = float(np.mean(_t * _y / _e) - np.mean((1 - _t) * _y / (1 - _e)))
NAIVE = float(_y[_t == 1].mean() - _y[_t == 0].mean())
SWAPPED = float(np.average(_y[_t == 1], weights=1 / (1 - _e[_t == 1]))
                - np.average(_y[_t == 0], weights=1 / _e[_t == 0]))
UNWEIGHTED_SUMS = float(np.sum(_t * _y / _e) - np.sum((1 - _t) * _y / (1 - _e)))

_smokers, _confounders = _ns["smokers"], _ns["confounders"]
STANDARDIZED = standardization(_smokers, outcome="wt82_71", treatment="qsmk",
                               covariates=_confounders, interactions=["smokeintensity"])
STANDARDIZED_ALL = standardization(_smokers, outcome="wt82_71", treatment="qsmk",
                                   covariates=_confounders).value
STANDARDIZED_NONE = standardization(_smokers, outcome="wt82_71", treatment="qsmk",
                                    covariates=_confounders, interactions=None).value
CRUDE = float(_smokers.loc[_smokers["qsmk"] == 1, "wt82_71"].mean()
              - _smokers.loc[_smokers["qsmk"] == 0, "wt82_71"].mean())

RR, RR_LOW = 2.5, 1.6
E_VALUE = RR + math.sqrt(RR * (RR - 1))
E_VALUE_LOW = RR_LOW + math.sqrt(RR_LOW * (RR_LOW - 1))


# --- inputs of the function question -----------------------------------------------------

def _aipw_inputs() -> list[tuple]:
    """Three valid studies (one with renamed columns) and one with a treatment coded 1/2."""
    curved = simulate.two_models(1_000, seed=1).data
    shop = simulate.banner_shop(1_500, seed=2).data
    renamed = simulate.two_models(800, seed=3).data.rename(
        columns={"T": "treated", "Y": "outcome", "x1": "age", "x2": "income", "x1_sq": "age_sq"})
    coded = simulate.two_models(300, seed=4).data.assign(T=lambda d: d["T"] + 1)
    return [
        (curved, "T", "Y", ["x1", "x2", "x1_sq"]),
        (shop, "T", "Y", ["prior_spend", "visits", "mobile"]),
        (renamed, "treated", "outcome", ["age", "income", "age_sq"]),
        (coded, "T", "Y", ["x1", "x2", "x1_sq"]),
    ]


def _is_valid(args: tuple, kwargs: dict) -> bool:
    data, treatment = args[0], args[1]
    return set(np.unique(data[treatment])) <= {0, 1}


def _aipw_by_hand(data, treatment, outcome, covariates, *, outcome_part=True,
                  residual_part=True, control_sign=-1.0) -> float:
    """AIPW and its known wrong variants, from the same two fitted models."""
    e, _ = propensity_scores(data, treatment=treatment, covariates=covariates)
    m1, m0 = potential_outcome_predictions(data, outcome=outcome, treatment=treatment,
                                           covariates=covariates)
    t, y = data[treatment].to_numpy(dtype=float), data[outcome].to_numpy(dtype=float)
    if not outcome_part:  # weights on Y itself: Horvitz-Thompson IPW
        return float(np.mean(t * y / e) - np.mean((1 - t) * y / (1 - e)))
    scores = m1 - m0
    if residual_part:
        scores = scores + t * (y - m1) / e + control_sign * (1 - t) * (y - m0) / (1 - e)
    return float(np.mean(scores))


def _fingerprint(data, treatment, outcome, covariates) -> tuple:
    return (len(data), treatment, outcome, tuple(covariates),
            round(float(data[outcome].sum()), 6), round(float(data[treatment].sum()), 6))


# Every reference output is computed once, here, when the checks are loaded; judging an
# answer then only compares numbers (fast, and no model fitting inside the grader).
_VARIANTS = {
    "aipw": {},
    "standardization only": {"residual_part": False},
    "ipw only": {"outcome_part": False},
    "control sign flipped": {"control_sign": 1.0},
}
def _library_aipw(data, treatment, outcome, covariates) -> float:
    return aipw(data, outcome=outcome, treatment=treatment, covariates=covariates).value


_TABLE = {
    _fingerprint(*args): {name: _library_aipw(*args) if name == "aipw" else
                          _aipw_by_hand(*args, **options) for name, options in _VARIANTS.items()}
    for args in _aipw_inputs() if _is_valid(args, {})
}


def _lookup(name: str):
    def reference(data, treatment, outcome, covariates) -> float:
        row = _TABLE.get(_fingerprint(data, treatment, outcome, covariates))
        if row is None:  # an input the table does not know: compute it
            options = _VARIANTS[name]
            return (aipw(data, outcome=outcome, treatment=treatment, covariates=covariates).value if name == "aipw"
                    else _aipw_by_hand(data, treatment, outcome, covariates, **options))
        return row[name]
    return reference


_reference_aipw = _lookup("aipw")


def _outputs_match(name: str):
    """A Wrong predicate: the learner's outputs on the valid inputs equal variant ``name``."""
    transform = _lookup(name)

    def matches(outputs: list) -> bool:
        pairs = [(out, args) for out, args in zip(outputs, _aipw_inputs(), strict=True)
                 if _is_valid(args, {})]
        for out, args in pairs:
            try:
                got = float(getattr(out, "value", out))
            except (TypeError, ValueError):
                return False
            if not np.isclose(got, transform(*args), rtol=1e-6, atol=1e-9):
                return False
        return bool(pairs)

    return matches


def _runs_on_valid_inputs(calls) -> Outcome:
    chosen = [c for c in calls if _is_valid(c.args, c.kwargs)]
    failed = [c for c in chosen if c.error]
    if failed:
        return Outcome(False, f"{len(failed)} of {len(chosen)} valid inputs raised {failed[0].error}")
    return Outcome(True)


# --- the questions -----------------------------------------------------------------------

q1 = Question(
    id="q1",
    answer="hajek",
    prompt="The normalized (Hajek) IPW estimate of the ATE in `study`, with `propensity`.",
    checks=[
        is_number(),
        close_to(HAJEK, rel_tol=0.002, name="is the Hajek IPW estimate",
                 expected="the weighted mean of Y among the treated (weights 1/e) minus the "
                          "weighted mean among the untreated (weights 1/(1 - e)), each divided "
                          "by its own sum of weights"),
    ],
    wrong=[
        Wrong(NAIVE, "that is the naive difference in means: it ignores that x1 and x2 drive "
                     "both treatment and outcome. Weight each unit first."),
        Wrong(HORVITZ_THOMPSON, "that is the Horvitz-Thompson estimate: you divided the weighted "
                                "sums by n instead of by the sum of each arm's weights.",
              rel_tol=0.003),
        Wrong(SWAPPED, "the weights are swapped: a treated unit gets 1/e(X) (it stands for the "
                       "units like it that were not treated), a control 1/(1 - e(X))."),
        Wrong(UNWEIGHTED_SUMS, "that is a difference of weighted sums; divide each by the sum of "
                               "its weights (Hajek) to get means."),
    ],
    hint="w = t / propensity + (1 - t) / (1 - propensity); then np.average(y[t == 1], "
         "weights=w[t == 1]) minus the same for t == 0.",
)

q2 = Question(
    id="q2",
    answer="horvitz_thompson",
    prompt="The Horvitz-Thompson IPW estimate of the ATE in `study`.",
    checks=[
        is_number(),
        close_to(HORVITZ_THOMPSON, rel_tol=0.002, name="is the Horvitz-Thompson estimate",
                 expected="the mean over all n units of T Y / e minus the mean over all n units "
                          "of (1 - T) Y / (1 - e)"),
    ],
    wrong=[
        Wrong(HAJEK, "that is the normalized (Hajek) estimate. Horvitz-Thompson divides both "
                     "weighted sums by n, the number of all units.", rel_tol=0.003),
        Wrong(NAIVE, "that is the naive difference in means, with no weights at all."),
        Wrong(UNWEIGHTED_SUMS, "those are sums; Horvitz-Thompson divides each by n."),
    ],
    hint="np.mean(t * y / propensity) - np.mean((1 - t) * y / (1 - propensity))",
)

CHANGES = ["goes up", "goes down", "stays the same"]
q3 = Question(
    id="q3",
    answer="stabilized_effect",
    prompt="Replace the weights of q1 by stabilized weights. What happens to the Hajek estimate?",
    checks=[
        one_of(CHANGES),
        equals_text("stays the same", name="knows what stabilizing does to Hajek",
                    expected="what multiplying every weight within an arm by the same constant "
                             "does to that arm's weighted mean"),
    ],
    wrong=[
        Wrong("goes down", "stabilizing multiplies every treated weight by P(T = 1) and every "
                           "control weight by P(T = 0). A weighted mean does not change when all "
                           "its weights are multiplied by the same number."),
        Wrong("goes up", "stabilizing rescales the weights within each arm by one constant; a "
                         "weighted mean is unchanged by that. (Horvitz-Thompson would change.)"),
    ],
    hint="Try it: compute the Hajek estimate with w * np.where(t == 1, t.mean(), 1 - t.mean()).",
)

q4 = Question(
    id="q4",
    answer="aipw_ate",
    kind="function",
    inputs=_aipw_inputs,
    prompt="aipw_ate(data, treatment, outcome, covariates) -> float: the AIPW estimate.",
    checks=[
        Check("runs on the valid inputs", _runs_on_valid_inputs,
              "a function that returns a number for every DataFrame with a 0/1 treatment",
              points=0.0, gate=True),
        agrees_with(_reference_aipw, select=_is_valid, points=2.0, rel_tol=1e-6,
                    name="equals the AIPW estimate",
                    expected="the mean of m1 - m0 + T (Y - m1) / e - (1 - T)(Y - m0) / (1 - e), "
                             "with e from propensity_scores(data, treatment=..., covariates=...) and m1, "
                             "m0 from a least-squares regression of the outcome on the covariates "
                             "fitted separately among treated and untreated units"),
        raises_value_error(select=lambda args, kwargs: not _is_valid(args, kwargs),
                           expected="a ValueError when the treatment column is not 0/1"),
    ],
    wrong=[
        Wrong(_outputs_match("standardization only"),
              "that is standardization alone: you left out the weighted residual terms that "
              "make AIPW doubly robust."),
        Wrong(_outputs_match("ipw only"),
              "that is the Horvitz-Thompson IPW estimate alone: AIPW starts from the outcome "
              "model's m1 - m0 and weights the residuals Y - m, not Y itself."),
        Wrong(_outputs_match("control sign flipped"),
              "the control term has the wrong sign: it is minus (1 - T)(Y - m0) / (1 - e)."),
    ],
    hint="e, _ = propensity_scores(data, treatment=treatment, covariates=covariates); fit np.linalg.lstsq on "
         "[1, X] separately for T == 1 and T == 0, predict m1 and m0 for every row, then "
         "average the AIPW scores. propensity_scores already refuses a treatment that is not 0/1.",
)

TARGETS = ["the ATE of everyone", "the ATE of the units kept", "the ATT"]
q5 = Question(
    id="q5",
    answer="trimmed_target",
    prompt="After dropping units with e outside [0.05, 0.95], what does the Hajek IPW estimate target?",
    checks=[
        one_of(TARGETS),
        equals_text("the ATE of the units kept", name="knows what trimming changes",
                    expected="the population whose average effect the weighted comparison "
                             "describes once some units are dropped"),
    ],
    wrong=[
        Wrong("the ATE of everyone", "trimming drops units, and their effects with them: when "
                                     "effects differ across units, the estimate describes only "
                                     "the units that remain (Crump et al., 2009)."),
        Wrong("the ATT", "the weights are still 1/e and 1/(1 - e), which target an average over "
                         "all units kept, treated or not; the ATT would weight controls by "
                         "e / (1 - e)."),
    ],
    hint="Which units does the weighted average run over once some are dropped?",
)

q6 = Question(
    id="q6",
    answer="nhefs_standardized",
    prompt="Standardization on NHEFS with What If's outcome model (one interaction).",
    checks=[
        is_number(),
        close_to(STANDARDIZED.value, abs_tol=0.01, name="reproduces What If's standardization",
                 expected="the average over the 1,566 smokers of the predicted weight gain had "
                          "they quit minus had they not, from a least-squares model with the "
                          "confounders and one interaction, quitting x smokeintensity, in kg"),
    ],
    wrong=[
        Wrong(CRUDE, "that is the crude difference in mean weight gain, with no adjustment."),
        Wrong(STANDARDIZED_ALL, "you interacted quitting with every confounder (one regression "
                                "per arm). What If's model has a single interaction: quitting "
                                "x cigarettes per day (interactions=['smokeintensity']).",
              rel_tol=0.002),
        Wrong(STANDARDIZED_NONE, "your model has no interaction at all; What If's has quitting x "
                                 "cigarettes per day (interactions=['smokeintensity']).",
              rel_tol=0.002),
        Wrong(STANDARDIZED.extra["mean_y1"], "that is the standardized mean weight gain if "
                                               "everyone quit; the effect subtracts the mean if "
                                               "no one did."),
    ],
    hint="from lessons_lib.standardization import standardization; pass "
         "interactions=['smokeintensity'] and take .value.",
)

q7 = Question(
    id="q7",
    answer="e_value_point",
    prompt="The E-value of a risk ratio of 2.5 (95% CI 1.6 to 3.9).",
    checks=[
        is_number(),
        close_to(E_VALUE, abs_tol=0.01, name="is the E-value of the estimate",
                 expected="RR + sqrt(RR (RR - 1)) for the point estimate"),
    ],
    wrong=[
        Wrong(RR, "that is the risk ratio itself. The E-value is the strength a confounder "
                  "would need with both treatment and outcome: RR + sqrt(RR (RR - 1))."),
        Wrong(E_VALUE_LOW, "that is the E-value of the lower confidence limit; the question "
                           "asks for the point estimate's."),
        Wrong(RR + RR * (RR - 1), "the square root is missing: RR + sqrt(RR (RR - 1))."),
    ],
    hint="RR + math.sqrt(RR * (RR - 1)), or lessons_lib.sensitivity.e_value(2.5).point",
)

EXERCISE = Exercise(
    id="04_weighting",
    title="Weighting, standardization and double robustness",
    setup=SETUP,
    questions=[q1, q2, q3, q4, q5, q6, q7],
)
