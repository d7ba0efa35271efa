"""Time lessons_lib.dml against DoubleML: partially_linear vs DoubleMLPLR and
interactive_regression vs DoubleMLIRM (ATE). Not a test.

Run: .venv/bin/python benchmarks/bench_dml.py
Same data, same learners (linear regressions for the outcome; a linear regression for the
PLR's treatment, a logistic regression for the IRM's propensity), same five folds. Prints
our time, DoubleML's, the ratio (ours / theirs; below 1 means we are faster) and the gap
between the two estimates.
"""

from __future__ import annotations

import time
from functools import partial

import doubleml
import numpy as np
from sklearn.linear_model import LinearRegression, LogisticRegression

from lessons_lib import simulate
from lessons_lib.dml import fold_ids, interactive_regression, partially_linear


def best_of(function, repeats: int = 3) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return min(times), result


def _splits(folds):
    idx = np.arange(len(folds))
    return [[(idx[folds != k], idx[folds == k]) for k in range(5)]]


def doubleml_plr(data, covariates, folds):
    dml_data = doubleml.DoubleMLData(data, y_col="Y", d_cols="T", x_cols=covariates)
    model = doubleml.DoubleMLPLR(dml_data, LinearRegression(), LinearRegression(), n_folds=5,
                                 draw_sample_splitting=False)
    model.set_sample_splitting(_splits(folds))
    model.fit()
    return float(model.coef[0])


def doubleml_irm(data, covariates, folds):
    dml_data = doubleml.DoubleMLData(data, y_col="Y", d_cols="T", x_cols=covariates)
    model = doubleml.DoubleMLIRM(dml_data, LinearRegression(), LogisticRegression(), n_folds=5,
                                 score="ATE", draw_sample_splitting=False)
    model.set_sample_splitting(_splits(folds))
    model.fit()
    return float(model.coef[0])


def main() -> None:
    print(f"{'model':>5}  {'n':>10}  {'ours (s)':>9}  {'DoubleML (s)':>12}  {'ratio':>6}  "
          f"{'|difference|':>12}")
    for n in (10_000, 1_000_000):
        data = simulate.banner_features(n, n_features=20, seed=1).data
        covariates = [c for c in data.columns if c.startswith("x")]
        folds = fold_ids(n, 5, seed=0)
        repeats = 3 if n <= 10_000 else 1
        roles = dict(outcome="Y", treatment="T", covariates=covariates, folds=folds)
        cases = [
            ("PLR", partial(partially_linear, data, outcome_model=LinearRegression(),
                            treatment_model=LinearRegression(), **roles),
             partial(doubleml_plr, data, covariates, folds)),
            ("IRM", partial(interactive_regression, data, outcome_model=LinearRegression(),
                            propensity_model=LogisticRegression(), **roles),
             partial(doubleml_irm, data, covariates, folds)),
        ]
        for name, ours_call, theirs_call in cases:
            ours_time, ours = best_of(ours_call, repeats)
            theirs_time, theirs = best_of(theirs_call, repeats)
            print(f"{name:>5}  {n:>10,}  {ours_time:>9.3f}  {theirs_time:>12.3f}  "
                  f"{ours_time / theirs_time:>6.2f}  {abs(ours.value - theirs):>12.1e}")


if __name__ == "__main__":
    main()
