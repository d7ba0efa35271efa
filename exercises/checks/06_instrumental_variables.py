"""Trusted checks for exercises/06_instrumental_variables.ipynb (instrumental variables)."""

from __future__ import annotations

import math

import numpy as np

from lessons_lib import datasets, iv, simulate
from lessons_lib.check import (
    Check,
    Exercise,
    Outcome,
    Question,
    Wrong,
    agrees_with,
    as_number,
    close_to,
    equals_text,
    is_number,
    one_of,
    raises_value_error,
    returns_numbers,
)

SETUP = """\
import numpy as np
import pandas as pd

from lessons_lib import datasets, iv, simulate

concert = simulate.concert_in_the_rain(4_000, seed=33).data
card = datasets.close_college()
controls = ["exper", "expersq", "black", "south", "smsa"]
"""

_setup: dict = {}
exec(SETUP, _setup)  # the same data the learner sees
_concert, _card, _controls = _setup["concert"], _setup["card"], _setup["controls"]


def _ols_slope(y: np.ndarray, columns: list[np.ndarray]) -> float:
    design = np.column_stack([np.ones(len(y)), *columns])
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    return float(coef[1])


# --- q5: the concert's 2SLS standard error, right and wrong -------------------------------
_right = iv.two_stage_least_squares(_concert, outcome="happiness", treatment="attended",
                                    instruments="rain", cov_type="unadjusted")
_z = _concert["rain"].to_numpy(dtype=float)
_t = _concert["attended"].to_numpy(dtype=float)
_y = _concert["happiness"].to_numpy(dtype=float)
_t_hat = _t.mean() + (_t[_z == 1].mean() - _t[_z == 0].mean()) * (_z - _z.mean())
_resid_naive = _y - _y.mean() - _right.value * (_t_hat - _t_hat.mean())
_se_naive = float(np.sqrt(_resid_naive @ _resid_naive / (len(_y) - 2)
                          / np.sum((_t_hat - _t_hat.mean()) ** 2)))

# --- q6, q7: Card ----------------------------------------------------------------------------
_f_unadjusted = iv.first_stage(_card, treatment="educ", instruments="nearc4",
                               covariates=_controls, cov_type="unadjusted")["F"]
_f_robust = iv.first_stage(_card, treatment="educ", instruments="nearc4", covariates=_controls)["F"]
_f_no_controls = iv.first_stage(_card, treatment="educ", instruments="nearc4",
                                cov_type="unadjusted")["F"]
_card_iv = iv.two_stage_least_squares(_card, outcome="lwage", treatment="educ",
                                      instruments="nearc4", covariates=_controls).value
_card_iv_no_controls = iv.two_stage_least_squares(_card, outcome="lwage", treatment="educ",
                                                  instruments="nearc4").value
_card_columns = [_card[c].to_numpy(dtype=float) for c in _controls]
_card_ols = _ols_slope(_card["lwage"].to_numpy(dtype=float),
                       [_card["educ"].to_numpy(dtype=float), *_card_columns])
_card_reduced = _ols_slope(_card["lwage"].to_numpy(dtype=float),
                           [_card["nearc4"].to_numpy(dtype=float), *_card_columns])


def _either_f(answer) -> Outcome:
    number = as_number(answer)
    ok = number is not None and any(abs(number - f) < 0.05 for f in (_f_unadjusted, _f_robust))
    return Outcome(bool(ok))


# --- q4: 2SLS as a function ------------------------------------------------------------------

def _reference_tsls(data, outcome, treatment, instrument, covariates):
    return iv.two_stage_least_squares(data, outcome=outcome, treatment=treatment,
                                      instruments=[instrument], covariates=covariates).value


def _tsls_inputs() -> list:
    rain_city = simulate.concert_in_the_rain(1_500, seed=404).data
    card_sample = datasets.close_college().sample(1_200, random_state=7).reset_index(drop=True)
    constant = rain_city.assign(rain=1)
    return [
        (rain_city, "happiness", "attended", "rain", []),
        (card_sample, "lwage", "educ", "nearc4", ["exper", "black"]),
        (card_sample, "lwage", "educ", "nearc4", ["exper", "expersq", "black", "south", "smsa"]),
        (constant, "happiness", "attended", "rain", []),  # an instrument that never varies
    ]


def _bad(args, kwargs) -> bool:
    return args[0][args[3]].nunique() < 2


def _good(args, kwargs) -> bool:
    return not _bad(args, kwargs)


def _outputs_like(variant):
    expected = [None if _bad(args, {}) else variant(*args) for args in _tsls_inputs()]

    def matches(outputs) -> bool:
        pairs = [(o, e) for o, e in zip(outputs, expected, strict=False) if e is not None]
        return bool(pairs) and all(
            as_number(o) is not None and math.isclose(as_number(o), e, rel_tol=1e-6)
            for o, e in pairs)

    return matches


def _ols_variant(data, outcome, treatment, instrument, covariates):
    return _ols_slope(data[outcome].to_numpy(dtype=float),
                      [data[treatment].to_numpy(dtype=float),
                       *[data[c].to_numpy(dtype=float) for c in covariates]])


def _reduced_form_variant(data, outcome, treatment, instrument, covariates):
    return _ols_slope(data[outcome].to_numpy(dtype=float),
                      [data[instrument].to_numpy(dtype=float),
                       *[data[c].to_numpy(dtype=float) for c in covariates]])


EXERCISE = Exercise(
    id="06_instrumental_variables",
    title="Instrumental variables",
    setup=SETUP,
    questions=[
        Question(
            id="q1",
            answer="wald",
            prompt="The Wald estimate of the vaccine's effect on sick days.",
            checks=[is_number(), close_to(-1.0, abs_tol=0.005, expected=(
                "the letter's effect on sick days divided by its effect on vaccination"))],
            wrong=[
                Wrong(-0.4, "That is the letter's effect on sick days (the reduced form, or "
                            "intention-to-treat effect). Only 40% more people were vaccinated "
                            "because of it: divide by that first stage."),
                Wrong(-0.4 / 0.6, "The denominator is the difference in vaccination rates "
                                  "between the groups, not the rate among those who got a "
                                  "letter."),
                Wrong(1.0, "The sign is flipped: fewer sick days is a negative effect."),
            ],
            hint="Reduced form: difference in mean sick days; first stage: difference in "
                 "vaccination rates. Divide the first by the second.",
        ),
        Question(
            id="q2",
            answer="complier_share",
            prompt="The share of compliers.",
            checks=[is_number(), close_to(0.4, abs_tol=0.005, expected=(
                "a share between 0 and 1: the people whose vaccination the letter changes"))],
            wrong=[
                Wrong(0.6, "0.6 is the vaccination rate among people who got a letter; it "
                           "includes always-takers, who would have been vaccinated anyway."),
                Wrong(0.2, "0.2 is the share of always-takers (vaccinated without a letter), "
                           "not of compliers."),
                Wrong(40.0, "Give the share as a proportion between 0 and 1, not a percentage."),
            ],
            hint="Under monotonicity, the first stage is the share of compliers.",
        ),
        Question(
            id="q3",
            answer="assumption",
            prompt="Which assumption does the hand-washing reminder break?",
            checks=[one_of(["relevance", "independence", "exclusion", "monotonicity"]),
                    equals_text("exclusion", expected=(
                        "the assumption that the instrument affects the outcome only through "
                        "the treatment"))],
            wrong=[
                Wrong("independence", "The letters were assigned at random, so independence "
                      "holds. The problem is that the letter reaches sick days through a second "
                      "channel (hand-washing), not only through vaccination."),
                Wrong("monotonicity", "Monotonicity is about nobody being pushed away from the "
                      "vaccine by the letter. The reminder is a second route from the letter to "
                      "the outcome."),
                Wrong("relevance", "The letter clearly moves vaccination (the first stage is "
                      "0.4); relevance holds."),
            ],
            hint="Draw the arrows: letter -> vaccine -> sick days, and letter -> hand-washing "
                 "-> sick days. Which arrow should not be there?",
        ),
        Question(
            id="q4",
            answer="tsls",
            kind="function",
            inputs=_tsls_inputs,
            prompt="Implement two-stage least squares for one treatment and one instrument.",
            checks=[
                returns_numbers(_good),
                agrees_with(_reference_tsls, select=_good, points=2.0, rel_tol=1e-6, expected=(
                    "the 2SLS coefficient on the treatment, with an intercept and the "
                    "covariates in both stages")),
                raises_value_error(select=_bad, expected=(
                    "a ValueError when the instrument does not vary")),
            ],
            wrong=[
                Wrong(_outputs_like(_ols_variant), "Your function returns the OLS coefficient "
                      "of the outcome on the treatment: the instrument is never used, so the "
                      "confounding stays."),
                Wrong(_outputs_like(_reduced_form_variant), "Your function returns the "
                      "reduced form (the outcome on the instrument). Divide by the first stage, "
                      "or regress the outcome on the fitted treatment."),
            ],
            hint="Stage 1: regress the treatment on [1, instrument, covariates] and keep the "
                 "fitted values. Stage 2: regress the outcome on [1, fitted treatment, "
                 "covariates]; return the fitted treatment's coefficient.",
        ),
        Question(
            id="q5",
            answer="se_right",
            prompt="The correct (classical) standard error of the concert 2SLS estimate.",
            checks=[is_number(), close_to(_right.se, rel_tol=0.03, expected=(
                "a standard error computed from the residuals with the treatment people "
                "actually received"))],
            wrong=[
                Wrong(_se_naive, "That is the standard error of a hand-made second-stage OLS. "
                      "Its residuals use the fitted treatment instead of the actual one, so "
                      "the standard error is wrong.", rel_tol=0.02),
            ],
            hint="iv.two_stage_least_squares(concert, ..., cov_type='unadjusted').se",
        ),
        Question(
            id="q6",
            answer="card_F",
            prompt="The first-stage F statistic of college proximity, with Card's controls.",
            checks=[is_number(), Check("value", _either_f, (
                "the F statistic of nearc4 in a regression of educ on nearc4 and the controls"))],
            wrong=[
                Wrong(_f_no_controls, "That first stage has no controls. Proximity is "
                      "correlated with living in a city and outside the South, which the "
                      "controls absorb; the F with controls is what matters for the IV "
                      "estimate with controls.", rel_tol=0.01),
                Wrong(math.sqrt(_f_unadjusted), "That is the t statistic of the instrument. "
                      "With one instrument, F is its square.", rel_tol=0.01),
            ],
            hint="iv.first_stage(card, treatment='educ', instruments='nearc4', covariates=controls)['F']",
        ),
        Question(
            id="q7",
            answer="card_return",
            prompt="Card's IV return to a year of schooling, with controls.",
            checks=[is_number(), close_to(_card_iv, abs_tol=0.0005, expected=(
                "the 2SLS coefficient on educ in the log-wage equation, nearc4 instrumenting "
                "educ, with the controls"))],
            wrong=[
                Wrong(_card_ols, "That is the OLS return: it ignores the instrument and keeps "
                                 "whatever confounds schooling and wages.", rel_tol=0.005),
                Wrong(_card_iv_no_controls, "That IV estimate has no controls; proximity is "
                      "then also picking up the higher wages of cities and of the North.",
                      rel_tol=0.005),
                Wrong(_card_reduced, "That is the reduced form (log wage on nearc4). Divide by "
                      "the first stage, or use 2SLS.", rel_tol=0.005),
            ],
            hint="iv.two_stage_least_squares(card, outcome='lwage', treatment='educ', "
                 "instruments=['nearc4'], covariates=controls).value",
        ),
    ],
)
