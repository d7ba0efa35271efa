"""Time lessons_lib.dml.partially_linear against DoubleML's DoubleMLPLR. Not a test.

Run: .venv/bin/python benchmarks/bench_dml.py
Same data, same learners (linear regressions for both nuisances), same five folds. Prints
our time, DoubleML's, the ratio (ours / theirs; below 1 means we are faster) and the gap
between the two estimates.
"""

from __future__ import annotations

import time
from functools import partial

import doubleml
import numpy as np
from sklearn.linear_model import LinearRegression

from lessons_lib import simulate
from lessons_lib.dml import fold_ids, partially_linear


def best_of(function, repeats: int = 3) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return min(times), result


def doubleml_plr(data, covariates, folds):
    dml_data = doubleml.DoubleMLData(data, y_col="Y", d_cols="T", x_cols=covariates)
    model = doubleml.DoubleMLPLR(dml_data, LinearRegression(), LinearRegression(), n_folds=5,
                                 draw_sample_splitting=False)
    idx = np.arange(len(data))
    model.set_sample_splitting([[(idx[folds != k], idx[folds == k]) for k in range(5)]])
    model.fit()
    return float(model.coef[0])


def main() -> None:
    print(f"{'n':>10}  {'ours (s)':>9}  {'DoubleML (s)':>12}  {'ratio':>6}  {'|difference|':>12}")
    for n in (10_000, 1_000_000):
        data = simulate.banner_features(n, n_features=20, seed=1).data
        covariates = [c for c in data.columns if c.startswith("x")]
        folds = fold_ids(n, 5, seed=0)
        repeats = 3 if n <= 10_000 else 1
        ours_time, ours = best_of(partial(
            partially_linear, data, "Y", "T", covariates, LinearRegression(), LinearRegression(),
            folds=folds), repeats)
        theirs_time, theirs = best_of(partial(doubleml_plr, data, covariates, folds), repeats)
        print(f"{n:>10,}  {ours_time:>9.3f}  {theirs_time:>12.3f}  "
              f"{ours_time / theirs_time:>6.2f}  {abs(ours.value - theirs):>12.1e}")


if __name__ == "__main__":
    main()
