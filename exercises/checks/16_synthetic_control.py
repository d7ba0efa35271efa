"""Trusted checks for exercises/16_synthetic_control.ipynb (synthetic control)."""

from __future__ import annotations

import numpy as np
from scipy.optimize import nnls

from lessons_lib import synth
from lessons_lib.check import (
    Check,
    Exercise,
    Outcome,
    Question,
    Wrong,
    close_to,
    equals_text,
    is_number,
    one_of,
)

SETUP = """\
import numpy as np
import pandas as pd

from lessons_lib import datasets, synth

stores = synth.factor_model_panel(12, pre_periods=18, post_periods=6, effect=3.0, seed=31).data
texas = datasets.texas_prison()
"""

_setup: dict = {}
exec(SETUP, _setup)  # the same data the learner sees
_stores, _texas = _setup["stores"], _setup["texas"]

_STORES = dict(outcome="Y", unit="unit", time="period", treated_unit=0, treatment_start=0)
_fit = synth.fit_synthetic_control(_stores, **_STORES)
_wide = _stores.pivot(index="period", columns="unit", values="Y")
_pre = _wide.index < 0
_others = _wide.drop(columns=0).mean(axis=1)
_did = ((_wide.loc[~_pre, 0].mean() - _wide.loc[_pre, 0].mean())
        - (_others[~_pre].mean() - _others[_pre].mean()))
_after_gap = float((_wide.loc[~_pre, 0] - _others[~_pre]).mean())
_placebos = synth.placebo_in_space(_stores, **_STORES)
_rank = int(_placebos.table.loc[0, "rank"])
_n_units = len(_placebos.table)

_BEFORE = range(1985, 1994)
_PREDICTORS = [("poverty", _BEFORE), ("income", _BEFORE),
               ("bmprison", [1988, 1990, 1991, 1992]), ("alcohol", [1990]),
               ("aidscapita", [1990, 1991]), ("black", [1990, 1991, 1992]), ("perc1519", [1990])]
_MIXTAPE_V = [0.06843543, 0.02849309, 0.8949852, 3.30278e-05, 0.000122374, 0.007929645,
              1.2876e-06]
_TEXAS = dict(outcome="bmprison", unit="statefip", time="year", treated_unit=48,
              treatment_start=1994)
_texas_equal_v = synth.fit_synthetic_control(_texas, **_TEXAS, predictors=_PREDICTORS).att
_texas_mixtape_v = synth.fit_synthetic_control(_texas, **_TEXAS, predictors=_PREDICTORS,
                                               predictor_weights=_MIXTAPE_V).att
_texas_outcome_only = synth.fit_synthetic_control(_texas, **_TEXAS).att


# --- q4: the weights on the simplex -----------------------------------------------------------

def _weight_inputs() -> list:
    rng = np.random.default_rng(1616)
    cases = []
    for n_periods, n_donors, shift in [(12, 5, 0.0), (20, 8, 1.5), (24, 10, 0.0), (30, 10, 2.0)]:
        trend = np.linspace(0, 3, n_periods)[:, None]
        donors = 50 + trend * rng.uniform(0, 2, n_donors) + rng.normal(size=(n_periods, n_donors))
        mix = rng.dirichlet(np.ones(n_donors))
        treated = donors @ mix + shift + rng.normal(scale=0.5, size=n_periods)
        cases.append((donors, treated))  # a shift puts the treated unit above the hull
    donors, treated = cases[0]
    cases.append((donors, treated[:-1]))  # one period short: refuse it
    return cases


def _is_bad(args, kwargs) -> bool:
    return len(args[1]) != len(args[0])


def _valid_outputs(calls) -> list:
    return [(c.args, np.asarray(c.output, dtype=float).ravel() if c.output is not None else None)
            for c in calls if not _is_bad(c.args, c.kwargs)]


def _one_weight_per_donor(calls) -> Outcome:
    for (donors, _), weights in _valid_outputs(calls):
        if weights is None or weights.shape != (donors.shape[1],) or not np.isfinite(weights).all():
            return Outcome(False, "expected an array with one finite weight per donor (column)")
    return Outcome(True)


def _on_the_simplex(calls) -> Outcome:
    for _, weights in _valid_outputs(calls):
        if weights.min() < -1e-8 or abs(weights.sum() - 1) > 1e-6:
            return Outcome(False, f"weights from {weights.min():.3g} summing to "
                                  f"{weights.sum():.6g}; expected weights >= 0 summing to 1")
    return Outcome(True)


def _loss(donors, treated, weights) -> float:
    return float(np.sum((treated - donors @ weights) ** 2))


def _best_fit(calls) -> Outcome:
    """Within 1% of the way from equal weights to the optimum's fit, on every input."""
    good = 0
    valid = _valid_outputs(calls)
    for (donors, treated), weights in valid:
        best = _loss(donors, treated, synth.simplex_weights(donors, treated))
        equal = _loss(donors, treated, np.full(donors.shape[1], 1 / donors.shape[1]))
        if _loss(donors, treated, weights) - best <= 0.01 * (equal - best):
            good += 1
    if good == len(valid):
        return Outcome(True, f"all {good} inputs")
    return Outcome(False, f"the best pre-treatment fit on {good} of {len(valid)} inputs")


def _refuses(calls) -> Outcome:
    bad = [c for c in calls if _is_bad(c.args, c.kwargs)]
    ok = [c for c in bad if c.error and c.error.startswith("ValueError")]
    return Outcome(len(ok) == len(bad))


def _outputs_like(variant):
    expected = [None if len(t) != len(d) else variant(d, t) for d, t in _weight_inputs()]

    def matches(outputs) -> bool:
        pairs = [(o, e) for o, e in zip(outputs, expected, strict=False) if e is not None]
        return bool(pairs) and all(
            o is not None and np.shape(o) == e.shape and np.allclose(o, e, atol=1e-4)
            for o, e in pairs)

    return matches


def _least_squares(donors, treated):
    return np.linalg.lstsq(donors, treated, rcond=None)[0]


def _nonnegative_only(donors, treated):
    return nnls(donors, treated)[0]


def _equal(donors, treated):
    return np.full(donors.shape[1], 1 / donors.shape[1])


EXERCISE = Exercise(
    id="16_synthetic_control",
    title="Synthetic control",
    setup=SETUP,
    questions=[
        Question(
            id="q1",
            answer="gap_march",
            prompt="The gap between a treated region and its synthetic control in one month.",
            checks=[is_number(), close_to(8.0, abs_tol=0.01, expected=(
                "the treated region's sales minus the weighted average of the donors' sales"))],
            wrong=[
                Wrong(5.0, "That uses the plain average of the two donors. The synthetic "
                           "control is the weighted average, with the weights fitted before "
                           "the programme."),
                Wrong(2.0, "The weights went to the wrong donors: 0.6 belongs to Lyon and 0.4 "
                           "to Lille."),
                Wrong(-8.0, "The sign is flipped: the gap is treated minus synthetic."),
            ],
            hint="First build the synthetic region's March sales: 0.6 times Lyon's plus 0.4 "
                 "times Lille's. Then subtract it from the treated region's March sales.",
        ),
        Question(
            id="q2",
            answer="diagnosis",
            prompt="A treated unit above every donor in every period: what is the problem?",
            checks=[one_of(["outside the convex hull", "over-fitting", "spillovers"]),
                    equals_text("outside the convex hull", expected=(
                        "the problem that no weighted average with weights in [0, 1] summing "
                        "to 1 can solve"))],
            wrong=[
                Wrong("over-fitting", "Over-fitting is a fit that is too good (many donors, few "
                      "periods). Here no convex combination can even reach the treated unit: "
                      "every weighted average of the donors lies below it."),
                Wrong("spillovers", "Spillovers are the treatment changing the donors' outcomes. "
                      "The problem here exists before any treatment, in the pre-period."),
            ],
            hint="A weighted average with non-negative weights summing to one lies between the "
                 "smallest and the largest of the things it averages. Where is the treated "
                 "unit?",
        ),
        Question(
            id="q3",
            answer="stores_att",
            prompt="The synthetic-control effect on the treated store region in `stores`.",
            checks=[is_number(), close_to(_fit.att, abs_tol=0.01, expected=(
                "the mean gap after period 0 between unit 0 and its synthetic control, fitted on "
                "the pre-period outcomes"))],
            wrong=[
                Wrong(_did, "That is a difference in differences against the average of the "
                            "other regions: it assumes unit 0 would have moved like the average "
                            "region, which its pre-period path does not support.", rel_tol=0.002),
                Wrong(_after_gap, "That compares unit 0 with the plain average of the other "
                                  "regions after period 0, with no weights fitted to the "
                                  "pre-period.", rel_tol=0.002),
            ],
            hint="Fit the synthetic control of unit 0 with synth.fit_synthetic_control (column "
                 "roles by keyword; the treatment starts in period 0), then average its gap "
                 "over the periods from 0 on.",
        ),
        Question(
            id="q4",
            answer="synthetic_weights",
            kind="function",
            inputs=_weight_inputs,
            prompt="Implement the synthetic-control weights on the pre-period outcomes.",
            checks=[
                Check("returns one weight per donor", _one_weight_per_donor,
                      "an array with one weight per donor", points=0.0, gate=True),
                Check("weights on the simplex", _on_the_simplex,
                      "weights that are all >= 0 and sum to 1"),
                Check("best pre-treatment fit", _best_fit,
                      "the weights on the simplex with the smallest sum of squared "
                      "pre-treatment gaps", points=2.0),
                Check("refuses bad input", _refuses,
                      "a ValueError when the treated path and the donors have different numbers "
                      "of periods"),
            ],
            wrong=[
                Wrong(_outputs_like(_least_squares),
                      "That is unconstrained least squares: weights can be negative or sum to "
                      "anything, so the 'synthetic' unit may extrapolate far outside the donors."),
                Wrong(_outputs_like(_nonnegative_only),
                      "Your weights are non-negative but do not sum to one: the synthetic unit "
                      "can be a scaled-up donor rather than an average of donors."),
                Wrong(_outputs_like(_equal),
                      "Equal weights ignore the pre-treatment fit: that is the plain average of "
                      "the donors, the comparison of a difference in differences."),
            ],
            hint="Minimise sum((treated - donors @ w) ** 2) with scipy.optimize.minimize "
                 "(method='SLSQP'), bounds (0, 1) for each weight and the constraint "
                 "sum(w) = 1. Divide both arrays by a common scale and tighten the solver's "
                 "tolerance (options={'ftol': ...}), as in the chapter, so that it reaches "
                 "the minimum. Check the shapes before you start.",
        ),
        Question(
            id="q5",
            answer="stores_p",
            prompt="The placebo-in-space p-value for unit 0 of `stores`.",
            checks=[is_number(), close_to(_placebos.p_value, abs_tol=1e-6, expected=(
                "the rank of unit 0's post/pre RMSPE ratio among all units, divided by the "
                "number of units"))],
            wrong=[
                Wrong(_rank / (_n_units - 1), "That divides by the number of placebo units J; "
                      "the treated unit is one of the J + 1 units in the permutation, so divide "
                      "by J + 1.", rel_tol=0.001),
                Wrong(1 - _placebos.p_value, "That is one minus the p-value: the p-value is the "
                      "share of units with a ratio at least as large as the treated unit's.",
                      rel_tol=0.001),
            ],
            hint="synth.placebo_in_space(stores, ...) refits with every other region as the "
                 "pseudo-treated unit; its .table ranks the ratios and .p_value divides the "
                 "treated unit's rank by the number of units.",
        ),
        Question(
            id="q6",
            answer="texas_equal_v",
            prompt="Synthetic Texas with the Mixtape's predictors but equal predictor weights.",
            checks=[is_number(), close_to(_texas_equal_v, rel_tol=1e-3, expected=(
                "the mean 1994-2000 gap of Texas's Black male prisoners with every predictor "
                "weighted equally (V proportional to the identity)"))],
            wrong=[
                Wrong(_texas_mixtape_v, "That is the chapter's answer with the V that R's Synth "
                      "chose. The question asks what happens with equal weights on the "
                      "predictors.", rel_tol=0.001),
                Wrong(_texas_outcome_only, "That fits on the outcome path alone; the question "
                      "asks for the seven predictors, weighted equally.", rel_tol=0.001),
            ],
            hint="Start from the chapter's specification of synthetic Texas and change only "
                 "V; the library's default predictor weights are equal. Use all 51 units.",
        ),
    ],
)
