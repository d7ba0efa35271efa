"""Checks for exercise 14, uplift modeling (chapters/14_uplift_modeling.ipynb).

A new draw of the chapter's customers (four hidden types, e-mail randomized to half): the
learner counts whom a buyer model e-mails, writes the IPW policy value, judges a T-learner's
ranking by its Qini area, values a 20% campaign and names the type a response model wastes
e-mails on.

Every target is computed below from the same SETUP the learner runs; no number is shown.

Each learner gets their own data: the setup's simulations are seeded from the
learner's ``VARIANT``, and every target is computed from them.
"""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression

from lessons_lib.check import (
    Exercise,
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
from lessons_lib.uplift import curve_area, policy_value, target_top, uplift_curve

VARIANT = globals().get("VARIANT", Variant("14_uplift_modeling"))

SETUP = '''\
import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

from lessons_lib import simulate

# A new draw of the chapter's customers: four hidden types, the e-mail randomized to half.
sim = simulate.uplift_segments(6_000, seed=1414)
features = ["engagement", "tenure", "discount_affinity", "mobile"]
X = sim.data[features].to_numpy()
T = sim.data["T"].to_numpy()
Y = sim.data["Y"].to_numpy()
segment = sim.potential_outcomes["segment"].to_numpy()  # known only because we simulated
train, test = np.arange(3_000), np.arange(3_000, 6_000)
'''.replace('simulate.uplift_segments(6_000, seed=1414)', f"simulate.uplift_segments(6_000, seed={VARIANT.seed_or(1414)})")

_ns: dict = {}
exec(SETUP, _ns)  # trusted code written above
_X, _T, _Y, _segment = _ns["X"], _ns["T"], _ns["Y"], _ns["segment"]
_train, _test = _ns["train"], _ns["test"]
_n_test = len(_test)

# q1: whom the buyer model e-mails
_buyer_score = LogisticRegression().fit(_X[_train], _Y[_train]).predict_proba(_X[_test])[:, 1]
_buyer_top = target_top(_buyer_score, 0.2) == 1
_seg_test = _segment[_test]
WASTED_SHARE = float(np.isin(_seg_test[_buyer_top], ["sure thing", "sleeping dog"]).mean())
SURE_ONLY_SHARE = float((_seg_test[_buyer_top] == "sure thing").mean())
BASE_SHARE = float(np.isin(_seg_test, ["sure thing", "sleeping dog"]).mean())
_treated_train = _train[_T[_train] == 1]
_response_score = (LogisticRegression().fit(_X[_treated_train], _Y[_treated_train])
                   .predict_proba(_X[_test])[:, 1])
RESPONSE_SHARE = float(np.isin(_seg_test[target_top(_response_score, 0.2) == 1],
                               ["sure thing", "sleeping dog"]).mean())

# q3: the Qini area of a T-learner with one logistic regression per arm
_control_train = _train[_T[_train] == 0]
_p1 = LogisticRegression().fit(_X[_treated_train], _Y[_treated_train])
_p0 = LogisticRegression().fit(_X[_control_train], _Y[_control_train])


def _uplift(rows: np.ndarray) -> np.ndarray:
    return _p1.predict_proba(_X[rows])[:, 1] - _p0.predict_proba(_X[rows])[:, 1]


_uplift_test = _uplift(_test)
_curve = uplift_curve(_uplift_test, _T[_test], _Y[_test])
QINI_AREA = curve_area(_curve, "qini", per_unit=True)
UPLIFT_AREA = curve_area(_curve, "uplift", per_unit=True)
QINI_AREA_RAW = curve_area(_curve, "qini", over_random=False, per_unit=True)
QINI_AREA_TOTAL = curve_area(_curve, "qini")
QINI_AREA_TRAIN = curve_area(uplift_curve(_uplift(_train), _T[_train], _Y[_train]), "qini",
                             per_unit=True)

# q4: the gain of e-mailing the top 20% by uplift, over e-mailing nobody
_policy = target_top(_uplift_test, 0.2)
_nobody = np.zeros(_n_test, dtype=int)
GAIN = policy_value(_policy, _T[_test], _Y[_test], 0.5, baseline=_nobody).value
VALUE = policy_value(_policy, _T[_test], _Y[_test], 0.5).value
GAIN_PER_EMAIL = GAIN / _policy.mean()
BUYER_GAIN = policy_value(target_top(_buyer_score, 0.2), _T[_test], _Y[_test], 0.5,
                          baseline=_nobody).value

TYPES = ["persuadable", "sure thing", "lost cause", "sleeping dog"]


# --- the function question ---------------------------------------------------------------

def _inputs() -> list[tuple]:
    """Policies, randomized treatments and outcomes; scalar and per-unit propensities; one bad."""
    calls = []
    for seed, n, scalar in [(141, 400, True), (142, 700, False), (143, 250, True)]:
        rng = np.random.default_rng(seed)
        x = rng.normal(size=n)
        propensity = 0.3 if scalar else 1 / (1 + np.exp(-0.8 * x))
        t = rng.binomial(1, np.full(n, propensity) if scalar else propensity)
        y = rng.binomial(1, 1 / (1 + np.exp(-(x + 0.8 * t * (x > 0) - 0.5 * t * (x < -1)))))
        policy = (x > -0.5).astype(int)
        calls.append((policy, t, y.astype(float), propensity))
    rng = np.random.default_rng(144)
    bad_propensity = np.full(50, 0.5)
    bad_propensity[:5] = 0.0  # no overlap: these units could never be treated
    calls.append((np.ones(50, dtype=int), rng.binomial(1, 0.5, 50), rng.normal(size=50),
                  bad_propensity))
    return calls


def _is_bad(args: tuple, kwargs: dict) -> bool:
    propensity = np.atleast_1d(np.asarray(args[3], dtype=float))
    return bool(((propensity <= 0) | (propensity >= 1)).any())


def _is_good(args: tuple, kwargs: dict) -> bool:
    return not _is_bad(args, kwargs)


def _reference(policy, t, y, propensity) -> float:
    return policy_value(policy, t, y, propensity).value


def _propensity_for_everyone(policy, t, y, propensity) -> float:
    e = np.broadcast_to(np.asarray(propensity, dtype=float), np.shape(y))
    return float(np.mean(y * (np.asarray(t) == np.asarray(policy)) / e))


def _matching_mean(policy, t, y, propensity) -> float:
    match = np.asarray(t) == np.asarray(policy)
    return float(np.mean(np.asarray(y)[match]))


def _targeted_mean(policy, t, y, propensity) -> float:
    return float(np.mean(np.asarray(y)[np.asarray(policy) == 1]))


def _outputs_match(transform) -> callable:
    def matches(outputs: list) -> bool:
        calls = [c for c in _inputs() if _is_good(c, {})]
        outputs = outputs[:len(calls)]
        if len(outputs) != len(calls):
            return False
        for out, args in zip(outputs, calls, strict=True):
            try:
                got = float(np.ravel(out)[0]) if np.ndim(out) else float(out)
            except (TypeError, ValueError, IndexError):
                return False
            if not np.isclose(got, transform(*args), rtol=1e-6, atol=1e-9):
                return False
        return True

    return matches


# --- the questions -----------------------------------------------------------------------

q1 = Question(
    id="q1",
    answer="wasted_share",
    prompt="Buyer model (all training customers), top 20% of test customers: share that are "
           "sure things or sleeping dogs.",
    checks=[
        is_number(),
        close_to(WASTED_SHARE, abs_tol=1e-6, name="is the share among the buyer model's picks",
                 expected="a share between 0 and 1: among the 20% of test customers with the "
                          "highest predicted purchase probability (LogisticRegression() of Y on "
                          "X fitted to all training customers), the fraction whose segment is "
                          "'sure thing' or 'sleeping dog'"),
    ],
    wrong=[
        Wrong(SURE_ONLY_SHARE, "that counts only the sure things; sleeping dogs are wasted "
              "e-mails too (worse: each one loses a purchase).", rel_tol=1e-6),
        Wrong(BASE_SHARE, "that is the share among all test customers; the question is about "
              "the 20% the buyer model would e-mail.", rel_tol=1e-6),
        Wrong(RESPONSE_SHARE, "that is the response model fitted to the e-mailed customers only; "
              "the buyer model is fitted to every training customer.", rel_tol=1e-6),
        Wrong(lambda a: (lambda v: v is not None and v > 1)(
            float(a) if isinstance(a, (int, float)) else None),
              "give a share between 0 and 1, not a count or a percentage."),
    ],
    hint="score = LogisticRegression().fit(X[train], Y[train]).predict_proba(X[test])[:, 1]; "
         "keep the top 600 test customers (np.argsort(-score)[:600]) and look at segment[test].",
)

q2 = Question(
    id="q2",
    answer="ipw_policy_value",
    kind="function",
    inputs=_inputs,
    prompt="ipw_policy_value(policy, T, Y, propensity) -> the IPW estimate of E[Y(pi(X))].",
    checks=[
        is_function(select=_is_good),
        agrees_with(_reference, points=3.0, select=_is_good,
                    name="equals the inverse-propensity (Horvitz-Thompson) value",
                    expected="the mean over all n units of Y * 1{T = policy} / P(T = policy), "
                             "where P(T = policy) is the propensity for units the policy treats "
                             "and 1 - propensity for the others; propensity may be one number or "
                             "one per unit"),
        raises_value_error(select=_is_bad, name="refuses propensities of 0 or 1",
                           expected="a ValueError when some propensity is 0 or 1 (no overlap: "
                                    "the policy's choice could never be observed for those units)"),
    ],
    wrong=[
        Wrong(_outputs_match(_propensity_for_everyone),
              "you divided by the propensity of treatment for every matching unit; a unit the "
              "policy leaves untreated matches with probability 1 - propensity."),
        Wrong(_outputs_match(_matching_mean),
              "you averaged Y over the units whose treatment matches the policy; that ignores "
              "how likely each match was. Weight each matching unit by 1 / P(match) and divide "
              "by all n units."),
        Wrong(_outputs_match(_targeted_mean),
              "that is the outcome rate of the units the policy targets, whatever they received: "
              "a response rate, not the value of the policy."),
    ],
    hint="match = (T == policy); p = np.where(policy == 1, propensity, 1 - propensity); "
         "return np.mean(Y * match / p), after checking 0 < propensity < 1.",
)

q3 = Question(
    id="q3",
    answer="qini_area",
    prompt="Qini area per customer, over random targeting, of a logistic T-learner on the test "
           "customers.",
    checks=[
        is_number(),
        close_to(QINI_AREA, rel_tol=1e-6, abs_tol=1e-9, name="is the held-out Qini area",
                 expected="curve_area(uplift_curve(score, T[test], Y[test]), 'qini', "
                          "per_unit=True), with score = P(buy | e-mailed, x) - P(buy | not, x) "
                          "from one LogisticRegression() per arm of the training customers"),
    ],
    wrong=[
        Wrong(UPLIFT_AREA, "that is the area of the uplift curve; the Qini curve scales the "
              "control purchases to the treated count (about half the uplift curve here).",
              rel_tol=1e-6),
        Wrong(QINI_AREA_RAW, "that is the whole area under the curve; subtract the area of "
              "random targeting (over_random=True) to see what the ranking adds.", rel_tol=1e-6),
        Wrong(QINI_AREA_TOTAL, "that area is not divided by the number of customers "
              "(per_unit=True).", rel_tol=1e-6),
        Wrong(QINI_AREA_TRAIN, "that is judged on the training customers; a ranking is judged on "
              "customers the models never saw.", rel_tol=1e-6),
    ],
    hint="from lessons_lib.uplift import uplift_curve, curve_area. Fit LogisticRegression() on "
         "the treated training customers and another on the control ones.",
)

q4 = Question(
    id="q4",
    answer="gain_20",
    prompt="IPW gain per test customer of e-mailing the top 20% by the q3 score, over "
           "e-mailing nobody.",
    checks=[
        is_number(),
        close_to(GAIN, rel_tol=1e-6, abs_tol=1e-9, name="is the estimated gain",
                 expected="the IPW estimate (propensity 0.5) of V(policy) - V(nobody) on the "
                          "test customers, where policy e-mails the 20% of test customers with "
                          "the highest uplift score: extra purchases per test customer"),
    ],
    wrong=[
        Wrong(VALUE, "that is the policy's value, purchases per customer including those that "
              "happen anyway; subtract the value of e-mailing nobody.", rel_tol=1e-6),
        Wrong(GAIN_PER_EMAIL, "that is the gain per e-mail sent (close to the effect among the "
              "targeted customers alone); the gain per test customer also counts the 80% left "
              "alone, who gain nothing.", rel_tol=1e-6),
        Wrong(BUYER_GAIN, "that policy follows the buyer model's scores; use the uplift score of "
              "question 3.", rel_tol=1e-6),
    ],
    hint="from lessons_lib.uplift import policy_value, target_top; policy = target_top(score, "
         "0.2); policy_value(policy, T[test], Y[test], 0.5, baseline=np.zeros(len(test), "
         "dtype=int)).value, or your own function of question 2 applied twice.",
)

q5 = Question(
    id="q5",
    answer="wasted_type",
    prompt="A response model fitted to the e-mailed customers ranks which type as high as "
           "persuadables, though the e-mail does nothing for them?",
    checks=[
        one_of(TYPES),
        equals_text("sure thing", name="names the type",
                    expected="the type that buys with the e-mail as often as a persuadable does"),
    ],
    wrong=[
        Wrong("sleeping dog", "a model fitted to the e-mailed customers sees sleeping dogs *not* "
              "buying, so it ranks them low; it is the buyer model, fitted to everyone, that "
              "favours them."),
        Wrong("lost cause", "lost causes never buy, with or without the e-mail; a response model "
              "ranks them at the bottom."),
        Wrong("persuadable", "persuadables are the customers the e-mail does move; the question "
              "asks for the type it does nothing for."),
    ],
    hint="P(buy | e-mailed, x) = P(persuadable | x) + P(sure thing | x).",
)

EXERCISE = Exercise(
    id="14_uplift_modeling",
    title="Uplift modeling",
    setup=SETUP,
    questions=[q1, q2, q3, q4, q5],
)
