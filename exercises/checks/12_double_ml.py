"""Checks for exercise 12, double machine learning (chapters/12_double_ml.ipynb).

A simulated shop of 600 shoppers with 20 logged features and a $3 banner effect: the learner
measures the lasso shortcut, cross-fits by hand, computes the DML standard error, writes the
partialling-out estimator as a function, applies DML to NHEFS and names the estimand of the
partially linear model when effects vary.

Every target is computed below from the same SETUP the learner runs, so checks and notebook
cannot drift apart; no number is ever shown to the learner.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.linear_model import Lasso, LinearRegression

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
from lessons_lib.dml import cross_fit_predict, fold_ids, partially_linear

SETUP = '''\
import numpy as np
import pandas as pd
from sklearn.linear_model import Lasso, LinearRegression

from lessons_lib import datasets, simulate
from lessons_lib.dml import fold_ids, partially_linear

# A banner shop with 20 logged features; the banner's true effect is $3 for everyone.
shop = simulate.banner_features(600, n_features=20, seed=2026).data
features = [c for c in shop.columns if c.startswith("x")]
folds = fold_ids(len(shop), 5, seed=0)          # the fold (0-4) of every shopper

# NHEFS: quitting smoking (qsmk) and weight gain 1971-82 in kg (wt82_71).
nhefs = datasets.nhefs()
what_if_covariates = list(datasets.NHEFS_CONFOUNDERS)
'''

_ns: dict = {}
exec(SETUP, _ns)  # trusted code written above
_shop: pd.DataFrame = _ns["shop"]
_features: list[str] = _ns["features"]
_folds: np.ndarray = _ns["folds"]
_nhefs: pd.DataFrame = _ns["nhefs"]
_covariates: list[str] = _ns["what_if_covariates"]

_x = _shop[_features].to_numpy(dtype=float)
_t = _shop["T"].to_numpy(dtype=float)
_y = _shop["Y"].to_numpy(dtype=float)

SHORTCUT = float(Lasso(alpha=0.5).fit(np.column_stack([_t, _x]), _y).coef_[0])
NAIVE = float(_y[_t == 1].mean() - _y[_t == 0].mean())
OLS_ALL = float(LinearRegression().fit(np.column_stack([_t, _x]), _y).coef_[0])

_y_res = _y - cross_fit_predict(LinearRegression(), _x, _y, _folds)
_t_res = _t - cross_fit_predict(LinearRegression(), _x, _t, _folds)
THETA = float(np.sum(_t_res * _y_res) / np.sum(_t_res**2))
_psi = _t_res * (_y_res - THETA * _t_res)
SE = float(np.sqrt(np.mean(_psi**2) / np.mean(_t_res**2) ** 2 / len(_y)))
SE_NO_N = float(np.sqrt(np.mean(_psi**2) / np.mean(_t_res**2) ** 2))
_sigma2 = np.sum((_y_res - THETA * _t_res) ** 2) / (len(_y) - 1)
SE_CLASSICAL = float(np.sqrt(_sigma2 / np.sum(_t_res**2)))
THETA_REVERSED = float(np.sum(_t_res * _y_res) / np.sum(_y_res**2))
THETA_Y_ONLY = float(np.sum(_t * _y_res) / np.sum(_t * _t))

NHEFS_THETA = partially_linear(_nhefs, outcome="wt82_71", treatment="qsmk",
                               covariates=_covariates, outcome_model=LinearRegression(),
                               treatment_model=LinearRegression(), seed=0).value
_q = _nhefs["qsmk"].to_numpy()
NHEFS_NAIVE = float(_nhefs.loc[_q == 1, "wt82_71"].mean() - _nhefs.loc[_q == 0, "wt82_71"].mean())
NHEFS_OLS = float(LinearRegression().fit(
    np.column_stack([_q, _nhefs[_covariates].to_numpy(float)]),
    _nhefs["wt82_71"].to_numpy()).coef_[0])

ESTIMANDS = ["ATE", "ATT", "overlap-weighted average effect", "CATE"]


# --- inputs for the function question ----------------------------------------------------

def _inputs() -> list[tuple]:
    """Three fresh data sets with their folds: different sizes, names and fold counts."""
    calls = []
    small = simulate_like(400, 6, seed=31, effect=1.5)
    calls.append((small, "Y", "T", [f"x{j}" for j in range(6)], fold_ids(400, 5, seed=3)))
    other = simulate_like(300, 3, seed=32, effect=-2.0)
    other = other.rename(columns={"Y": "spend", "T": "banner"})
    calls.append((other, "spend", "banner", ["x0", "x1", "x2"], fold_ids(300, 3, seed=4)))
    continuous = simulate_like(350, 4, seed=33, effect=0.7, continuous=True)
    calls.append((continuous, "Y", "T", ["x0", "x1", "x2", "x3"], fold_ids(350, 4, seed=5)))
    return calls


def simulate_like(n: int, p: int, *, seed: int, effect: float,
                  continuous: bool = False) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, p))
    score = x[:, 0] - 0.5 * x[:, 1]
    t = score + rng.normal(size=n) if continuous else rng.binomial(1, 1 / (1 + np.exp(-score)))
    y = effect * t + 2 * x[:, 0] + x[:, -1] + rng.normal(size=n)
    frame = pd.DataFrame(x, columns=[f"x{j}" for j in range(p)])
    frame["T"], frame["Y"] = t, y
    frame["noise_column"] = rng.normal(size=n)  # not a covariate: must be ignored
    return frame


def _reference(data, outcome, treatment, covariates, folds) -> float:
    return partially_linear(data, outcome=outcome, treatment=treatment, covariates=covariates,
                            outcome_model=LinearRegression(), treatment_model=LinearRegression(),
                            folds=np.asarray(folds)).value


def _outputs_match(transform) -> callable:
    def matches(outputs: list) -> bool:
        calls = _inputs()
        if len(outputs) != len(calls):
            return False
        for out, args in zip(outputs, calls, strict=True):
            try:
                got = float(getattr(out, "value", out))
            except (TypeError, ValueError):
                return False
            if not np.isclose(got, transform(*args), rtol=1e-6, atol=1e-9):
                return False
        return True

    return matches


def _in_sample(data, outcome, treatment, covariates, folds) -> float:
    x = data[covariates].to_numpy(float)
    y, t = data[outcome].to_numpy(float), data[treatment].to_numpy(float)
    y_res = y - LinearRegression().fit(x, y).predict(x)
    t_res = t - LinearRegression().fit(x, t).predict(x)
    return float(np.sum(t_res * y_res) / np.sum(t_res**2))


def _mean_of_folds(data, outcome, treatment, covariates, folds) -> float:
    x = data[covariates].to_numpy(float)
    y, t = data[outcome].to_numpy(float), data[treatment].to_numpy(float)
    folds = np.asarray(folds)
    y_res = y - cross_fit_predict(LinearRegression(), x, y, folds)
    t_res = t - cross_fit_predict(LinearRegression(), x, t, folds)
    return float(np.mean([np.sum(t_res[folds == k] * y_res[folds == k])
                          / np.sum(t_res[folds == k] ** 2) for k in np.unique(folds)]))


# --- the questions -----------------------------------------------------------------------

q1 = Question(
    id="q1",
    answer="shortcut",
    prompt="The lasso (alpha = 0.5) of Y on T and the features: the coefficient of T.",
    checks=[
        is_number(),
        close_to(SHORTCUT, rel_tol=1e-4, name="is the lasso's coefficient of the banner",
                 expected="the first coefficient of Lasso(alpha=0.5) fitted to the columns "
                          "[T, x01, ..., x20] (T first) with Y as the target"),
    ],
    wrong=[
        Wrong(3.0, "that is the true effect, which the shortcut does not recover: the question "
                   "asks what the lasso actually says, to see its regularization bias."),
        Wrong(NAIVE, "that is the naive difference in means; the lasso adjusts for the features."),
        Wrong(OLS_ALL, "that is ordinary least squares (no penalty). Use Lasso(alpha=0.5)."),
    ],
    hint="np.column_stack([shop['T'], shop[features]]) as X, then Lasso(alpha=0.5).fit(X, "
         "shop['Y']).coef_[0].",
)

q2 = Question(
    id="q2",
    answer="theta",
    prompt="Cross-fitted partialling out with LinearRegression for both nuisances, using folds.",
    checks=[
        is_number(),
        close_to(THETA, rel_tol=1e-4, name="is the cross-fitted DML estimate",
                 expected="sum(T_res * Y_res) / sum(T_res ** 2), with residuals from "
                          "LinearRegression models fitted on the other folds of `folds`"),
    ],
    wrong=[
        Wrong(OLS_ALL, "that is the in-sample partialling out, which for linear regressions is "
                       "exactly OLS of Y on T and the features (Frisch-Waugh-Lovell). Cross-fit: "
                       "predict each fold from models fitted on the other folds."),
        Wrong(NAIVE, "that is the naive difference in means: nothing was partialled out."),
        Wrong(THETA_REVERSED, "you divided by the outcome residuals; the regression is of the "
                              "outcome residual on the treatment residual: divide by "
                              "sum(T_res ** 2)."),
        Wrong(THETA_Y_ONLY, "you partialled the features out of Y only. Without the treatment "
                            "residual the score is not orthogonal: residualize T as well."),
    ],
    hint="For k in range(5): train = folds != k, test = folds == k; fit on train, predict test.",
)

q3 = Question(
    id="q3",
    answer="se",
    prompt="The standard error of theta from the moment psi = T_res (Y_res - theta T_res).",
    checks=[
        is_number(),
        close_to(SE, rel_tol=1e-3, name="is the DML standard error",
                 expected="sqrt(mean(psi ** 2) / mean(T_res ** 2) ** 2 / n), the "
                          "heteroskedasticity-robust (sandwich) standard error"),
    ],
    wrong=[
        Wrong(SE_NO_N, "you forgot to divide by n: that is the standard deviation of the "
                       "influence function, not the standard error of the estimate.",
              rel_tol=1e-3),
        Wrong(SE_CLASSICAL, "that is the classical (homoskedastic) regression standard error. "
                            "The DML standard error is the sandwich one: mean(psi ** 2) in the "
                            "numerator.", rel_tol=1e-3),
    ],
    hint="psi = t_res * (y_res - theta * t_res); then "
         "np.sqrt(np.mean(psi**2) / np.mean(t_res**2)**2 / n).",
)


q4 = Question(
    id="q4",
    answer="my_partially_linear",
    kind="function",
    inputs=_inputs,
    prompt="my_partially_linear(data, outcome, treatment, covariates, folds) -> theta (float).",
    checks=[
        is_function(),
        agrees_with(_reference, points=3.0, rel_tol=1e-6, name="equals cross-fitted DML",
                    expected="the cross-fitted partialling-out estimate with LinearRegression "
                             "for both nuisance models and the folds passed in, for 0/1 and "
                             "continuous treatments, any column names and any number of folds"),
    ],
    wrong=[
        Wrong(_outputs_match(_in_sample),
              "your function fits and predicts on the same rows: that is OLS, not cross-fitted "
              "DML. Use the folds argument: fit on folds != k, predict folds == k."),
        Wrong(_outputs_match(_mean_of_folds),
              "you averaged one estimate per fold (DML1). The book, like DoubleML, pools the "
              "residuals of all folds and solves one equation (DML2)."),
    ],
    hint="Loop over np.unique(folds); collect out-of-fold predictions of Y and T from "
         "data[covariates]; then sum(t_res * y_res) / sum(t_res ** 2).",
)

q5 = Question(
    id="q5",
    answer="nhefs_theta",
    prompt="DML on NHEFS: linear nuisances, What If's covariates, seed=0.",
    checks=[
        is_number(),
        close_to(NHEFS_THETA, rel_tol=1e-4, name="is the DML estimate on NHEFS",
                 expected="partially_linear on nhefs with outcome wt82_71, treatment qsmk, "
                          "what_if_covariates, LinearRegression() for both models, seed=0"),
    ],
    wrong=[
        Wrong(NHEFS_NAIVE, "that is the naive difference in mean weight gain between quitters "
                           "and non-quitters; it ignores the confounders."),
        Wrong(NHEFS_OLS, "that is OLS of weight gain on qsmk and the covariates: partialling "
                         "out without cross-fitting. Use partially_linear (5 folds, seed=0)."),
        Wrong(3.4, "that is What If's published IP-weighted number; compute yours.",
              abs_tol=0.005, rel_tol=0.0),
    ],
    hint="partially_linear(nhefs, outcome='wt82_71', treatment='qsmk', covariates=what_if_covariates, "
         "outcome_model=LinearRegression(), treatment_model=LinearRegression(), seed=0).value",
)

q6 = Question(
    id="q6",
    answer="estimand",
    prompt="With a 0/1 treatment and effects that vary with X, what does theta estimate?",
    checks=[
        one_of(ESTIMANDS),
        equals_text("overlap-weighted average effect", name="names the estimand",
                    expected="the average of tau(X) weighted by e(X)(1 - e(X))"),
    ],
    wrong=[
        Wrong("ATE", "only when the effect is constant (or unrelated to e(X)). In general theta "
                     "weights each unit's effect by e(X)(1 - e(X)), the variance of its treatment "
                     "given X."),
        Wrong("ATT", "the ATT weights units by e(X); the partially linear model weights them by "
                     "e(X)(1 - e(X))."),
        Wrong("CATE", "theta is one number, an average; the CATE is a function of x "
                      "(chapter 13)."),
    ],
    hint="Which units does the residual T - e(X) vary most for?",
)

EXERCISE = Exercise(
    id="12_double_ml",
    title="Double machine learning",
    setup=SETUP,
    questions=[q1, q2, q3, q4, q5, q6],
)
