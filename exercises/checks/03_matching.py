"""Trusted checks for exercises/03_matching.ipynb (chapter 03: propensity scores and matching).

Targets are computed here from lessons_lib and never shown; ``expected=`` says what kind
of answer is wanted.
"""

import numpy as np
import pandas as pd

from lessons_lib import datasets, matching
from lessons_lib.check import (
    Exercise,
    Question,
    Wrong,
    agrees_with,
    close_to,
    equals_text,
    is_number,
    one_of,
    raises_value_error,
)
from lessons_lib.propensity import standardized_mean_differences

SETUP = """\
import numpy as np
import pandas as pd

from lessons_lib import datasets, matching
from lessons_lib.propensity import logistic_propensity, standardized_mean_differences

nsw_cps = datasets.nsw_cps()
covariates = ["age", "educ", "black", "hisp", "marr", "nodegree", "re74", "re75"]
"""

COVARIATES = ["age", "educ", "black", "hisp", "marr", "nodegree", "re74", "re75"]
_data = datasets.nsw_cps()
_treated = _data["treat"] == 1

# q1 ------------------------------------------------------------------------------------
NAIVE = float(_data.loc[_treated, "re78"].mean() - _data.loc[~_treated, "re78"].mean())
TREATED_MEAN = float(_data.loc[_treated, "re78"].mean())

# q2 ------------------------------------------------------------------------------------
SMD_RE75 = float(standardized_mean_differences(_data, treatment="treat", covariates=["re75"])["re75"])
RAW_RE75 = float(_data.loc[_treated, "re75"].mean() - _data.loc[~_treated, "re75"].mean())
CONTROL_SD_RE75 = RAW_RE75 / float(_data.loc[~_treated, "re75"].std())
TREATED_SD_RE75 = RAW_RE75 / float(_data.loc[_treated, "re75"].std())

# q4 ------------------------------------------------------------------------------------
MATCHED_1_5 = matching.matching_att(_data, outcome="re78", treatment="treat",
                                    covariates=COVARIATES, n_neighbors=5, bias_correction=True).value
MATCHED_1_1 = matching.matching_att(_data, outcome="re78", treatment="treat",
                                    covariates=COVARIATES).value
MATCHED_1_5_PLAIN = matching.matching_att(_data, outcome="re78", treatment="treat",
                                          covariates=COVARIATES, n_neighbors=5).value
BENCHMARK = 1794.34  # the experimental estimate of chapter 02 (Dehejia and Wahba 1999)


# q3: nearest-neighbour matching, as a function ----------------------------------------
def _study(seed: int, n: int, strength: float) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    t = rng.binomial(1, 1 / (1 + np.exp(-(-0.5 + strength * x))))
    y = 3.0 * x + t * (2.0 + x) + rng.normal(size=n)
    return pd.DataFrame({"score": x.round(6), "treated": t, "outcome": y.round(4)})


def _matching_inputs() -> list:
    good = [((_study(seed, n, strength), "treated", "outcome", "score"), {})
            for seed, n, strength in [(1, 60, 0.5), (2, 200, 1.5), (3, 500, 1.0)]]
    coded_1_2 = _study(4, 50, 1.0)
    coded_1_2["treated"] = coded_1_2["treated"] + 1
    return good + [((coded_1_2, "treated", "outcome", "score"), {})]


def _is_good(args: tuple, kwargs: dict) -> bool:
    return set(np.unique(args[0][args[1]]).tolist()) == {0, 1}


def _reference_att(data, treatment, outcome, score) -> float:
    return matching.matching_att(data, outcome=outcome, treatment=treatment, covariates=[score],
                                 on="covariates").value


def _known_wrong(kind: str):
    def answer(data: pd.DataFrame, treatment: str, outcome: str, score: str) -> float:
        t = data[treatment].to_numpy() == 1
        x, y = data[score].to_numpy(float), data[outcome].to_numpy(float)
        if kind == "naive":
            return float(y[t].mean() - y[~t].mean())
        if kind == "ate":
            to_control = np.abs(x[t][:, None] - x[~t][None, :]).argmin(axis=1)
            to_treated = np.abs(x[~t][:, None] - x[t][None, :]).argmin(axis=1)
            gaps = np.r_[y[t] - y[~t][to_control], y[t][to_treated] - y[~t]]
            return float(gaps.mean())
        if kind == "reversed":
            to_control = np.abs(x[t][:, None] - x[~t][None, :]).argmin(axis=1)
            return float(np.mean(y[~t][to_control] - y[t]))
        raise ValueError(kind)

    good = [args for args, _ in _matching_inputs() if _is_good(args, {})]
    targets = [answer(*args) for args in good]

    def matches(outputs: object) -> bool:
        if not isinstance(outputs, list) or len(outputs) < len(targets):
            return False
        try:
            return all(np.isclose(float(got), want, rtol=1e-6)
                       for got, want in zip(outputs[: len(targets)], targets, strict=True))
        except (TypeError, ValueError):
            return False

    return matches


EXERCISE = Exercise(
    id="03_matching",
    title="Propensity scores and matching",
    setup=SETUP,
    questions=[
        Question(
            id="q1",
            answer="naive_gap",
            prompt="The naive difference in mean 1978 earnings, NSW trainees minus CPS men.",
            checks=[
                is_number(),
                close_to(NAIVE, abs_tol=1.0, name="naive difference",
                         expected="mean re78 of the treated (treat = 1) minus mean re78 of the "
                                  "CPS men (treat = 0), in dollars"),
            ],
            wrong=[
                Wrong(-NAIVE, "the sign is reversed: the difference is treated minus control.",
                      abs_tol=1.0, rel_tol=0),
                Wrong(BENCHMARK, "that is the experimental benchmark, computed with the NSW "
                                 "controls. Here the controls are the CPS men.",
                      abs_tol=1.0, rel_tol=0),
                Wrong(TREATED_MEAN, "that is the trainees' mean earnings; subtract the CPS "
                                    "men's mean.", abs_tol=1.0, rel_tol=0),
            ],
            hint="nsw_cps.groupby('treat')['re78'].mean() gives both means.",
        ),
        Question(
            id="q2",
            answer="smd_re75",
            prompt="The standardized mean difference of 1975 earnings before matching.",
            checks=[
                is_number(),
                close_to(SMD_RE75, abs_tol=0.005, name="SMD of re75",
                         expected="(treated mean - control mean) / sqrt((treated variance + "
                                  "control variance) / 2), a number without units"),
            ],
            wrong=[
                Wrong(RAW_RE75, "that is the raw difference in dollars. The SMD divides it by "
                                "the pooled standard deviation, so covariates on different "
                                "scales can be compared.", rel_tol=0.001),
                Wrong(-SMD_RE75, "the sign is reversed: treated minus control.", abs_tol=0.005,
                      rel_tol=0),
                Wrong(CONTROL_SD_RE75, "you divided by the control group's standard deviation "
                                       "only; the SMD pools both groups' variances.",
                      abs_tol=0.005, rel_tol=0),
                Wrong(TREATED_SD_RE75, "you divided by the treated group's standard deviation "
                                       "only; the SMD pools both groups' variances.",
                      abs_tol=0.005, rel_tol=0),
            ],
            hint="standardized_mean_differences(nsw_cps, treatment='treat', covariates=['re75']) or the formula "
                 "with pandas' .var() for each group.",
        ),
        Question(
            id="q3",
            answer="match_att",
            kind="function",
            inputs=_matching_inputs,
            prompt="Write match_att(data, treatment, outcome, score): 1:1 nearest-neighbour "
                   "matching on the column `score`, with replacement; return the ATT.",
            checks=[
                agrees_with(_reference_att, select=_is_good,
                            expected="the mean over treated units of (own outcome - outcome "
                                     "of the control with the closest score), each control "
                                     "usable many times"),
                raises_value_error(select=lambda a, k: not _is_good(a, k),
                                   expected="a ValueError when the treatment is not coded 0/1"),
            ],
            wrong=[
                Wrong(_known_wrong("naive"), "that is the naive difference in means: no "
                                             "matching happened."),
                Wrong(_known_wrong("ate"), "you also matched every control to a treated unit "
                                           "and averaged over everyone: that estimates the ATE. "
                                           "The ATT averages over the treated only."),
                Wrong(_known_wrong("reversed"), "the sign is reversed: each gap is the treated "
                                                "unit's outcome minus its match's."),
            ],
            hint="For each treated unit, np.abs(x_treated[i] - x_controls).argmin() finds its "
                 "match; a broadcast (x_treated[:, None] - x_controls[None, :]) does all at once.",
        ),
        Question(
            id="q4",
            answer="matched_att",
            prompt="The NSW-CPS effect by 1:5 bias-corrected matching on the propensity score "
                   "of the eight covariates.",
            checks=[
                is_number(),
                close_to(MATCHED_1_5, abs_tol=1.0, name="matched ATT",
                         expected="matching.matching_att with the default logistic propensity, "
                                  "five neighbours and bias correction, in dollars"),
            ],
            wrong=[
                Wrong(MATCHED_1_1, "that is 1:1 matching; the question asks for five "
                                   "neighbours per trainee.", abs_tol=1.0, rel_tol=0),
                Wrong(MATCHED_1_5_PLAIN, "that is 1:5 matching without the bias correction "
                                         "(bias_correction=True).", abs_tol=1.0, rel_tol=0),
                Wrong(NAIVE, "that is the naive difference: nothing was matched.", abs_tol=1.0,
                      rel_tol=0),
                Wrong(BENCHMARK, "that is the experimental benchmark of chapter 02, the number "
                                 "matching tries to recover; compute the matching estimate.",
                      abs_tol=1.0, rel_tol=0),
            ],
            hint="matching.matching_att(nsw_cps, outcome='re78', treatment='treat', "
                 "covariates=covariates, n_neighbors=5, bias_correction=True).value",
        ),
        Question(
            id="q5",
            answer="cannot_fix",
            prompt="Which problem can matching on an estimated propensity score not fix? "
                   "'a', 'b' or 'c'.",
            checks=[
                one_of(["a", "b", "c"]),
                equals_text("b", expected="the letter of the problem that no matching method "
                                          "can repair from the data"),
            ],
            wrong=[
                Wrong("a", "imbalance in covariates that are in the data is exactly what "
                           "matching repairs: check it with the SMDs after matching."),
                Wrong("c", "treated units with only a few similar controls can still be "
                           "matched (with replacement, those controls are reused); it costs "
                           "precision, not validity."),
            ],
            hint="Balance after matching is measured on the covariates you have. What about "
                 "the ones you do not?",
        ),
    ],
)
