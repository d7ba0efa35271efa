"""Time chapter 04's estimators against their references on the banner shop.

Prints one table: IPW (ours, DoWhy's settings) vs DoWhy's propensity_score_weighting;
standardization vs a statsmodels OLS formula + predict; AIPW vs DoubleML's IRM with linear
learners (DoubleML also cross-fits, so it does more work: shown for scale, not as a like-
for-like race). Not a test: run it with `python benchmarks/bench_weighting.py`.
"""

from __future__ import annotations

import logging
import time

import numpy as np
import statsmodels.formula.api as smf
from sklearn.linear_model import LinearRegression, LogisticRegression

from lessons_lib import simulate
from lessons_lib.doubly_robust import aipw
from lessons_lib.standardization import standardization
from lessons_lib.weighting import ipw

COVARIATES = ["prior_spend", "visits", "mobile"]


def timed(function, repeat: int) -> float:
    best = np.inf
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return best


def dowhy_ipw(data):
    from dowhy import CausalModel

    model = CausalModel(data=data.copy(), treatment="T", outcome="Y", common_causes=COVARIATES)
    estimand = model.identify_effect(proceed_when_unidentifiable=True)
    return model.estimate_effect(estimand, method_name="backdoor.propensity_score_weighting",
                                 method_params={"weighting_scheme": "ips_weight"}).value


def statsmodels_standardization(data):
    fit = smf.ols("Y ~ T * (prior_spend + visits + mobile)", data).fit()
    return np.mean(fit.predict(data.assign(T=1)) - fit.predict(data.assign(T=0)))


def doubleml_irm(data):
    import doubleml

    dml_data = doubleml.DoubleMLData(data, y_col="Y", d_cols="T", x_cols=COVARIATES)
    irm = doubleml.DoubleMLIRM(dml_data, LinearRegression(), LogisticRegression(), n_folds=2)
    return irm.fit().coef[0]


def main() -> None:
    logging.getLogger("dowhy").setLevel(logging.ERROR)
    rows = []
    for n in (10_000, 1_000_000):
        data = simulate.banner_shop(n, seed=0).data
        repeat = 3 if n <= 10_000 else 1
        pairs = [
            ("IPW (Hajek) vs DoWhy",
             lambda d=data: ipw(d, outcome="Y", treatment="T", covariates=COVARIATES,
                                propensity_model=LogisticRegression(), clip=0.05, se="robust"),
             lambda d=data: dowhy_ipw(d)),
            ("IPW, default (MLE + sandwich)", lambda d=data: ipw(d, outcome="Y", treatment="T",
                                                                 covariates=COVARIATES), None),
            ("standardization vs statsmodels OLS",
             lambda d=data: standardization(d, outcome="Y", treatment="T", covariates=COVARIATES),
             lambda d=data: statsmodels_standardization(d)),
            ("AIPW vs DoubleML IRM (2-fold)",
             lambda d=data: aipw(d, outcome="Y", treatment="T", covariates=COVARIATES), lambda d=data: doubleml_irm(d)),
        ]
        for name, ours, theirs in pairs:
            ours_s = timed(ours, repeat)
            theirs_s = timed(theirs, repeat) if theirs is not None else float("nan")
            rows.append((name, n, ours_s, theirs_s))
    print(f"{'estimator':38s} {'n':>10s} {'ours (s)':>10s} {'reference (s)':>14s} {'ratio':>7s}")
    for name, n, ours_s, theirs_s in rows:
        ratio = ours_s / theirs_s if np.isfinite(theirs_s) else float("nan")
        print(f"{name:38s} {n:>10,d} {ours_s:>10.3f} {theirs_s:>14.3f} {ratio:>7.2f}")


if __name__ == "__main__":
    main()
