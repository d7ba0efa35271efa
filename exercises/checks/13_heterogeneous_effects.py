"""Checks for exercise 13, heterogeneous treatment effects (chapters/13_heterogeneous_effects.ipynb).

A new draw of the chapter's data (tau(x) = 2 + 3 x1, treatment targeted on x0): the learner
measures a linear S-learner, writes a T-learner, scores it against the simulated truth,
calibrates it on held-out data and names two failure modes.

Every target is computed below from the same SETUP the learner runs; no number is shown.

Each learner gets their own data: the setup's simulations are seeded from the
learner's ``VARIANT``, and every target is computed from them.
"""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LinearRegression, LogisticRegression

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
)
from lessons_lib.hte import SLearner, TLearner, calibration

VARIANT = globals().get("VARIANT", Variant("13_heterogeneous_effects"))

SETUP = '''\
import numpy as np
import pandas as pd
from sklearn.linear_model import LinearRegression, LogisticRegression

from lessons_lib import simulate
from lessons_lib.hte import calibration

# A new draw of the chapter's data: tau(x) = 2 + 3 x1, treatment targeted on x0.
sim = simulate.heterogeneous_effects(2_000, seed=13)
features = ["x0", "x1", "x2", "x3", "x4"]
X = sim.data[features].to_numpy()
T = sim.data["T"].to_numpy()
Y = sim.data["Y"].to_numpy()
true_cate = sim.potential_outcomes["effect"].to_numpy()  # known only because we simulated
train, test = np.arange(1_000), np.arange(1_000, 2_000)
'''.replace('simulate.heterogeneous_effects(2_000, seed=13)', f"simulate.heterogeneous_effects(2_000, seed={VARIANT.seed_or(13)})")

_ns: dict = {}
exec(SETUP, _ns)  # trusted code written above
_X, _T, _Y = _ns["X"], _ns["T"], _ns["Y"]
_truth = _ns["true_cate"]
_train, _test = _ns["train"], _ns["test"]

S_ATE = float(SLearner(LinearRegression()).fit(_X[_train], _T[_train], _Y[_train])
              .effect(_X[_test]).mean())
NAIVE_TRAIN = float(_Y[_train][_T[_train] == 1].mean() - _Y[_train][_T[_train] == 0].mean())
_t_learner = TLearner(LinearRegression()).fit(_X[_train], _T[_train], _Y[_train])
CATE_T_TEST = _t_learner.effect(_X[_test])
RMSE_T = float(np.sqrt(np.mean((CATE_T_TEST - _truth[_test]) ** 2)))
MSE_T = RMSE_T**2
RMSE_T_TRAIN = float(np.sqrt(np.mean((_t_learner.effect(_X[_train]) - _truth[_train]) ** 2)))
RMSE_VS_ATE = float(np.sqrt(np.mean((CATE_T_TEST - 2.0) ** 2)))
_calibration = calibration(CATE_T_TEST, _X[_test], _T[_test], _Y[_test], LinearRegression(),
                           LogisticRegression(), n_groups=4, seed=0)
TOP_ESTIMATED = float(_calibration["estimated"].iloc[-1])
TOP_PREDICTED = float(_calibration["predicted"].iloc[-1])
BOTTOM_ESTIMATED = float(_calibration["estimated"].iloc[0])

CONCLUSIONS = ["the model found real heterogeneity",
               "no evidence that the predicted heterogeneity is real",
               "the effect is zero for everyone"]
LEARNERS = ["S-learner", "T-learner", "X-learner", "DR-learner"]


# --- the function question ---------------------------------------------------------------

def _inputs() -> list[tuple]:
    """Three fresh training sets and a point at which to estimate the CATE."""
    calls = []
    for seed, n, p, slope in [(41, 300, 3, 2.0), (42, 500, 5, -1.0), (43, 200, 2, 0.5)]:
        rng = np.random.default_rng(seed)
        x = rng.normal(size=(n, p))
        t = rng.binomial(1, 1 / (1 + np.exp(-x[:, 0])))
        y = x[:, 0] + (1.0 + slope * x[:, -1]) * t + rng.normal(size=n)
        calls.append((x, t, y, rng.normal(size=p)))
    return calls


def _reference(x_train, t_train, y_train, x_new) -> float:
    learner = TLearner(LinearRegression()).fit(x_train, t_train, y_train)
    return float(learner.effect(np.asarray(x_new, dtype=float).reshape(1, -1))[0])


def _s_learner(x_train, t_train, y_train, x_new) -> float:
    learner = SLearner(LinearRegression()).fit(x_train, t_train, y_train)
    return float(learner.effect(np.asarray(x_new, dtype=float).reshape(1, -1))[0])


def _outputs_match(transform) -> callable:
    def matches(outputs: list) -> bool:
        calls = _inputs()
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
    answer="s_ate",
    prompt="Linear S-learner on the training units: the average of its CATE over the test units.",
    checks=[
        is_number(),
        close_to(S_ATE, rel_tol=1e-4, name="is the linear S-learner's average effect",
                 expected="the mean over the test units of f(x, 1) - f(x, 0), with f a "
                          "LinearRegression of Y on [X, T] fitted to the training units"),
    ],
    wrong=[
        Wrong(NAIVE_TRAIN, "that is the naive difference in means; the S-learner adjusts for X."),
        Wrong(2.0, "that is the true ATE of the simulation, not what the S-learner estimates.",
              rel_tol=0.0, abs_tol=1e-9),
    ],
    hint="Fit LinearRegression on np.column_stack([X[train], T[train]]); predict the test units "
         "with a column of ones and of zeros.",
)

q2 = Question(
    id="q2",
    answer="t_learner_cate",
    kind="function",
    inputs=_inputs,
    prompt="t_learner_cate(X_train, T_train, Y_train, x_new) -> the T-learner's CATE at x_new.",
    checks=[
        is_function(),
        agrees_with(_reference, points=3.0, rel_tol=1e-6,
                    name="equals the T-learner with linear regressions",
                    expected="mu1(x_new) - mu0(x_new), each a LinearRegression fitted to one arm "
                             "of the training data, for any number of features"),
    ],
    wrong=[
        Wrong(_outputs_match(_s_learner),
              "that is a linear S-learner: one model with T as a feature gives every unit the "
              "same effect. Fit one model per arm."),
        Wrong(_outputs_match(lambda *args: -_reference(*args)),
              "the sign is flipped: the effect is mu1(x) - mu0(x), treated minus control."),
    ],
    hint="Fit LinearRegression on the rows with T == 1 and another on T == 0; predict "
         "x_new.reshape(1, -1) with both and subtract.",
)

q3 = Question(
    id="q3",
    answer="rmse_t",
    prompt="RMSE of a linear T-learner (fitted on train) against the true CATE of the test units.",
    checks=[
        is_number(),
        close_to(RMSE_T, rel_tol=1e-4, name="is the held-out RMSE",
                 expected="sqrt(mean((tau_hat - true_cate) ** 2)) over the test units, with the "
                          "T-learner fitted on the training units"),
    ],
    wrong=[
        Wrong(MSE_T, "that is the mean squared error; take its square root.", rel_tol=1e-4),
        Wrong(RMSE_T_TRAIN, "that is the error on the training units; judge a model on units it "
                            "never saw (the test set).", rel_tol=1e-4),
        Wrong(RMSE_VS_ATE, "you compared the estimates with the average effect 2; compare each "
                           "unit's estimate with its own true CATE.", rel_tol=1e-4),
    ],
    hint="Use the T-learner of question 2 (or lessons_lib.hte.TLearner) on X[train], then "
         "predict X[test] and compare with true_cate[test].",
)

q4 = Question(
    id="q4",
    answer="top_group_effect",
    prompt="Calibration of the T-learner on the test units, 4 groups: the top group's estimated effect.",
    checks=[
        is_number(),
        close_to(TOP_ESTIMATED, rel_tol=1e-4, name="is the top group's estimated effect",
                 expected="the 'estimated' column of the group with the largest predictions in "
                          "calibration(tau_hat_test, X[test], T[test], Y[test], "
                          "LinearRegression(), LogisticRegression(), n_groups=4, seed=0)"),
    ],
    wrong=[
        Wrong(TOP_PREDICTED, "that is the group's average *prediction*; the check is the "
                             "doubly robust *estimated* effect beside it.", rel_tol=1e-4),
        Wrong(BOTTOM_ESTIMATED, "that is the lowest group (group 1); the top group is the last "
                                "row.", rel_tol=1e-4),
    ],
    hint="table = calibration(...); table['estimated'].iloc[-1]",
)

q5 = Question(
    id="q5",
    answer="flat_conclusion",
    prompt="Calibration groups with different predictions but the same estimated effects mean...",
    checks=[
        one_of(CONCLUSIONS),
        equals_text("no evidence that the predicted heterogeneity is real",
                    name="draws the right conclusion",
                    expected="what a flat calibration line says about the model's predicted "
                             "heterogeneity"),
    ],
    wrong=[
        Wrong("the model found real heterogeneity", "real heterogeneity would make the estimated "
              "effects rise with the predictions; a flat line says the sorting by prediction "
              "does not separate units with different effects."),
        Wrong("the effect is zero for everyone", "a flat line sits at the average effect, which "
              "need not be zero; it says nothing about the effect being zero."),
    ],
    hint="What would the groups look like if the model's ranking of units were random?",
)

q6 = Question(
    id="q6",
    answer="shrinking_learner",
    prompt="Which learner pulls the effects towards zero when its one model is regularized?",
    checks=[
        one_of(LEARNERS),
        equals_text("S-learner", name="names the learner",
                    expected="the learner whose single outcome model may ignore the treatment"),
    ],
    wrong=[
        Wrong("T-learner", "the T-learner never lets the treatment compete with the features (one "
                           "model per arm); its problem is noise, not shrinkage."),
        Wrong("X-learner", "the X-learner learns the imputed effects directly; it does not shrink "
                           "them towards zero through the treatment."),
        Wrong("DR-learner", "the DR-learner regresses unbiased pseudo-outcomes; its problem is "
                            "their variance where overlap is thin."),
    ],
    hint="In which learner does T compete with the features inside one regularized model?",
)

EXERCISE = Exercise(
    id="13_heterogeneous_effects",
    title="Heterogeneous treatment effects",
    setup=SETUP,
    questions=[q1, q2, q3, q4, q5, q6],
)
