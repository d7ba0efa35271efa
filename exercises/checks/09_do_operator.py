"""Trusted checks for exercises/09_do_operator.ipynb (chapter 09)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from lessons_lib.adjustment import backdoor_adjustment, frontdoor_adjustment
from lessons_lib.check import (
    Check,
    Exercise,
    Outcome,
    Question,
    Wrong,
    agrees_with,
    close_to,
    equals_text,
    is_function,
    is_number,
    one_of,
)

SETUP = """\
import numpy as np
import pandas as pd

from lessons_lib.graphs import DAG, draw

# a clinic's graph: does the drug lower the risk of a heart attack?
clinic = DAG([("age", "drug"), ("age", "attack"), ("income", "insurance"), ("insurance", "drug"),
              ("income", "attack"), ("drug", "pressure"), ("pressure", "attack"),
              ("attack", "visits"), ("drug", "visits")])

# observational data on the drug: older patients and smokers get it more often
rng = np.random.default_rng(909)
n = 8_000
old = rng.binomial(1, 0.4, n)
smoker = rng.binomial(1, 0.3, n)
drug = rng.binomial(1, 0.2 + 0.4 * old + 0.2 * smoker)
attack = rng.binomial(1, 0.25 + 0.25 * old + 0.15 * smoker - (0.05 + 0.10 * old) * drug)
patients = pd.DataFrame({"old": old, "smoker": smoker, "drug": drug, "attack": attack})

# an M-shaped graph
m_graph = DAG([("A", "T"), ("A", "Z"), ("B", "Z"), ("B", "Y"), ("T", "Y")])

# a retargeting ad: purchase intent (not recorded) drives the ad and the purchase
rng = np.random.default_rng(99)
intent = rng.binomial(1, 0.5, 10_000)
ad = rng.binomial(1, 0.25 + 0.5 * intent)
page = rng.binomial(1, 0.15 + 0.5 * ad)
buy = rng.binomial(1, 0.05 + 0.25 * page + 0.4 * intent)
ads = pd.DataFrame({"ad": ad, "page": page, "buy": buy})
"""

_ns: dict = {}
exec(SETUP, _ns)
_patients, _ads, _clinic = _ns["patients"], _ns["ads"], _ns["clinic"]


def _difference(data, t, y):
    return float(data.loc[data[t] == 1, y].mean() - data.loc[data[t] == 0, y].mean())


def _att_weighted(data, t, y, adjustment):
    if not adjustment:
        return _difference(data, t, y)
    total = 0.0
    n_treated = int((data[t] == 1).sum())
    for _, group in data.groupby(list(adjustment)):
        share = int((group[t] == 1).sum()) / n_treated
        total += share * _difference(group, t, y)
    return float(total)


ADJUSTED = backdoor_adjustment(_patients, outcome="attack", treatment="drug",
                               covariates=["old", "smoker"]).value
NAIVE = _difference(_patients, "drug", "attack")
ATT_WEIGHTED = _att_weighted(_patients, "drug", "attack", ["old", "smoker"])
ONLY_OLD = backdoor_adjustment(_patients, outcome="attack", treatment="drug", covariates=["old"]).value
FRONTDOOR = frontdoor_adjustment(_ads, outcome="buy", mediator="page", treatment="ad").value
AD_NAIVE = _difference(_ads, "ad", "buy")
_first = _difference(_ads, "ad", "page")
UNADJUSTED_CHAIN = _first * _difference(_ads, "page", "buy")


def _names(answer):
    if isinstance(answer, str):
        return {answer}
    if isinstance(answer, (list, tuple, set, frozenset)) and all(isinstance(a, str) for a in answer):
        return {a.strip() for a in answer}
    return None


def _is_names(answer) -> Outcome:
    if _names(answer) is None:
        return Outcome(False, f"expected a list of node names, found {type(answer).__name__}")
    unknown = sorted(_names(answer) - set(_clinic.nodes))
    if unknown:
        return Outcome(False, f"{unknown} are not nodes of clinic; its nodes are {list(_clinic.nodes)}")
    return Outcome(True)


def _valid(answer) -> bool:
    chosen = _names(answer) - {"drug", "attack"}
    return _clinic.is_valid_backdoor("drug", "attack", sorted(chosen))


def _minimal(answer) -> bool:
    chosen = _names(answer)
    return any(set(m) == chosen for m in _clinic.minimal_adjustment_sets("drug", "attack"))


def _contains(name):
    return lambda answer: name in (_names(answer) or set())


# ---- q6: the adjustment formula as a function ----------------------------------------


def _make_data(seed: int, n: int, k_strata: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    s1 = rng.integers(0, k_strata, n)
    s2 = rng.binomial(1, 0.5, n)
    t = rng.binomial(1, 0.2 + 0.5 * (s1 / max(k_strata - 1, 1)) + 0.1 * s2)
    y = 1.0 + 0.5 * s1 - 0.7 * s2 + (1.0 + 0.5 * s1) * t + rng.normal(0, 1, n)
    return pd.DataFrame({"s1": s1, "s2": s2, "treated": t, "outcome": y.round(4)})


def _inputs() -> list:
    calls = []
    for seed, n, k, adjustment in [(1, 400, 2, ["s1"]), (2, 600, 3, ["s1", "s2"]), (3, 500, 2, ["s2"]),
                                   (4, 300, 2, []), (5, 800, 4, ["s1", "s2"]), (6, 500, 3, ["s1"])]:
        calls.append(((_make_data(seed, n, k), "treated", "outcome", adjustment), {}))
    return calls


def _reference(data, treatment, outcome, adjustment):
    return backdoor_adjustment(data, outcome=outcome, treatment=treatment, covariates=adjustment).value


def _outputs_match(function):
    expected = [function(*args, **kwargs) for args, kwargs in _inputs()]

    def matches(outputs) -> bool:
        if len(outputs) != len(expected):
            return False
        for got, want in zip(outputs, expected, strict=True):
            if isinstance(got, bool) or not isinstance(got, (int, float, np.floating, np.integer)):
                return False
            if not math.isclose(float(got), want, rel_tol=1e-6, abs_tol=1e-9):
                return False
        return True

    return matches


def _naive_function(data, treatment, outcome, adjustment):
    return _difference(data, treatment, outcome)


EXERCISE = Exercise(
    id="09_do_operator",
    title="The do-operator: backdoor and frontdoor adjustment",
    setup=SETUP,
    questions=[
        Question(
            id="q1", answer="adjustment_set",
            checks=[Check("is a list of clinic's nodes", _is_names, "a list of node names of clinic", points=0, gate=True),
                    Check("satisfies the backdoor criterion", _valid,
                          "a set with no descendant of drug that blocks every backdoor path"),
                    Check("is minimal", _minimal, "a valid set from which no variable can be removed")],
            wrong=[Wrong(_contains("pressure"), "pressure is a mediator (drug -> pressure -> attack): adjusting "
                                                "for it removes part of the effect you want to measure."),
                   Wrong(_contains("visits"), "visits is caused by both the drug and the attack (a collider and a "
                                              "descendant of the drug): adjusting for it opens a spurious path."),
                   Wrong(lambda a: _names(a) == {"age"}, "age closes drug <- age -> attack, but drug <- insurance "
                                                         "<- income -> attack is still open.")],
            hint="List clinic.backdoor_paths('drug', 'attack'); pick one variable on each path, none downstream of drug.",
        ),
        Question(
            id="q2", answer="adjusted",
            checks=[is_number(), close_to(ADJUSTED, rel_tol=1e-6, abs_tol=1e-9,
                                          expected="the risk difference standardized over the four (old, smoker) strata")],
            wrong=[Wrong(NAIVE, "That is the naive difference in attack rates: older patients and smokers get the "
                                "drug more often and have more attacks anyway.", rel_tol=1e-6),
                   Wrong(ATT_WEIGHTED, "You weighted the strata by their shares among the *treated*: that is the "
                                       "effect on the treated (ATT). The adjustment formula weights by P(s) in "
                                       "everyone.", rel_tol=1e-6),
                   Wrong(ONLY_OLD, "You stratified on old only; smoking also drives both the drug and the "
                                   "attacks.", rel_tol=1e-6)],
            hint="Within each (old, smoker) stratum take mean(attack | drug=1) - mean(attack | drug=0); "
                 "average those with the strata's shares of all patients.",
        ),
        Question(
            id="q3", answer="adjust_for_z",
            checks=[one_of(["yes", "no"]), equals_text("no", expected="whether {Z} is a valid adjustment set in m_graph")],
            wrong=[Wrong("yes", "Z is measured before T and is correlated with both T and Y, but it is a collider "
                                "on T <- A -> Z <- B -> Y. That path is blocked as long as Z is left alone; "
                                "conditioning on Z opens it (M-bias).")],
            hint="Is Z a collider on the only backdoor path?",
        ),
        Question(
            id="q4", answer="ad_effect",
            checks=[is_number(), close_to(FRONTDOOR, rel_tol=1e-6, abs_tol=1e-9,
                                          expected="the frontdoor estimate of P(buy | do(ad=1)) - P(buy | do(ad=0))")],
            wrong=[Wrong(AD_NAIVE, "That is the naive difference in purchase rates, confounded by intent.", rel_tol=1e-6),
                   Wrong(UNADJUSTED_CHAIN, "You multiplied the effect of the ad on the page by the *unadjusted* "
                                           "difference in buying by page visit. The page -> buy step is confounded "
                                           "through page <- ad <- intent -> buy: adjust it for the ad.", rel_tol=1e-6)],
            hint="sum over m of P(page=m | ad=t) * sum over t' of P(buy | page=m, ad=t') P(ad=t'), for t = 1 and 0.",
        ),
        Question(
            id="q5", answer="dont_adjust",
            checks=[Check("is a list of clinic's nodes", _is_names, "a list of node names of clinic", points=0, gate=True),
                    Check("the right nodes", lambda a: _names(a) == {"pressure", "visits"},
                          "every node of clinic (other than drug and attack) that no valid adjustment set may contain")],
            wrong=[Wrong(lambda a: _names(a) == {"pressure"}, "visits must stay out too: it is a descendant of the "
                                                              "drug (and a collider of drug and attack)."),
                   Wrong(lambda a: _names(a) == {"visits"}, "pressure must stay out too: it is a mediator, a "
                                                            "descendant of the drug.")],
            hint="The first condition of the backdoor criterion: no descendant of the treatment.",
        ),
        Question(
            id="q6", answer="backdoor_ate", kind="function", inputs=_inputs,
            checks=[is_function(),
                    agrees_with(_reference, points=2,
                                expected="sum over strata s of P(s) * (mean outcome treated in s - mean outcome untreated in s)")],
            wrong=[Wrong(_outputs_match(_naive_function), "Your function returns the plain difference in means: "
                                                          "it ignores the adjustment set."),
                   Wrong(_outputs_match(_att_weighted), "Your function weights strata by their shares among the "
                                                        "treated (the ATT). Weight by each stratum's share of all rows.")],
            hint="group by the adjustment columns (all rows in one group if the list is empty); "
                 "data.groupby(adjustment) fails on an empty list, so handle that case.",
        ),
    ],
)
