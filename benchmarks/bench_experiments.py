"""Time lessons_lib.experiments against its references (scipy, statsmodels). Not a test.

Run: .venv/bin/python benchmarks/bench_experiments.py
Prints one row per method and size: our time, the reference's, and the ratio (ours / theirs;
below 1 means we are faster).
"""

from __future__ import annotations

import time

import numpy as np
import statsmodels.api as sm
from scipy import stats

from lessons_lib import simulate
from lessons_lib.experiments import (
    difference_in_means,
    randomization_test,
    regression_adjustment,
    t_test,
)

COVARIATES = ["prior_spend", "visits", "mobile"]


def best_of(function, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def statsmodels_lin(data):
    x = data[COVARIATES].to_numpy(float)
    centred = x - x.mean(axis=0)
    t = data["T"].to_numpy(float)[:, None]
    design = sm.add_constant(np.column_stack([t, centred, t * centred]))
    return sm.OLS(data["Y"].to_numpy(float), design).fit(cov_type="HC2").bse[1]


def scipy_permutation(data, n_resamples):
    y, t = data["Y"].to_numpy(float), data["T"].to_numpy()
    return stats.permutation_test(
        (y[t == 1], y[t == 0]), lambda a, b, axis: np.abs(a.mean(axis) - b.mean(axis)),
        permutation_type="independent", alternative="greater", n_resamples=n_resamples,
        vectorized=True, random_state=0,
    ).pvalue


def time_one_size(n: int) -> list[tuple[str, int, float, float]]:
    data = simulate.banner_shop(n, seed=1, randomized=True).data
    y, t = data["Y"].to_numpy(float), data["T"].to_numpy()
    permutations = 1_000 if n <= 10_000 else 100
    cases = [
        ("difference_in_means vs scipy ttest_ind",
         lambda: difference_in_means(data, outcome="Y", treatment="T"),
         lambda: stats.ttest_ind(y[t == 1], y[t == 0], equal_var=False)),
        ("t_test vs scipy ttest_ind",
         lambda: t_test(data, outcome="Y", treatment="T"),
         lambda: stats.ttest_ind(y[t == 1], y[t == 0], equal_var=False)),
        ("regression_adjustment vs statsmodels OLS HC2",
         lambda: regression_adjustment(data, outcome="Y", treatment="T", covariates=COVARIATES),
         lambda: statsmodels_lin(data)),
        (f"randomization_test ({permutations:,} draws) vs scipy permutation_test",
         lambda: randomization_test(data, n_permutations=permutations, max_exact=0, outcome="Y",
                                    treatment="T"),
         lambda: scipy_permutation(data, permutations)),
    ]
    rows = []
    for name, ours, theirs in cases:
        repeats = 1 if n > 10_000 and "randomization" in name else 3
        rows.append((name, n, best_of(ours, repeats), best_of(theirs, repeats)))
    return rows


def main() -> None:
    rows = []
    for n in (10_000, 1_000_000):
        rows += time_one_size(n)
    print(f"{'method':<66} {'n':>10} {'ours (s)':>10} {'reference (s)':>14} {'ratio':>7}")
    for name, n, ours_time, their_time in rows:
        print(f"{name:<66} {n:>10,} {ours_time:>10.4f} {their_time:>14.4f} "
              f"{ours_time / their_time:>7.2f}")


if __name__ == "__main__":
    main()
