"""Time lessons_lib.experiments.difference_in_means against scipy and statsmodels. Not a test.

Run: .venv/bin/python benchmarks/bench_experiments_basic.py

Every contender starts from the same DataFrame and returns the estimate with its Welch
standard error, so each one pays for splitting the data into the two arms; ours also pays
for its input checks (0/1 treatment, no missing values, both groups present). Prints the
best of three runs per method and size, and the ratio ours / reference (below 1: faster).
"""

from __future__ import annotations

import time

import pandas as pd
from scipy import stats
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

from lessons_lib import simulate
from lessons_lib.experiments import difference_in_means


def best_of(function, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def ours(data: pd.DataFrame) -> tuple[float, float]:
    est = difference_in_means(data, outcome="Y", treatment="T")
    return est.value, est.se


def scipy_welch(data: pd.DataFrame) -> tuple[float, float]:
    y, t = data["Y"].to_numpy(float), data["T"].to_numpy()
    treated, control = y[t == 1], y[t == 0]
    result = stats.ttest_ind(treated, control, equal_var=False)
    diff = treated.mean() - control.mean()
    return diff, diff / result.statistic


def statsmodels_welch(data: pd.DataFrame) -> tuple[float, float]:
    y, t = data["Y"].to_numpy(float), data["T"].to_numpy()
    compare = CompareMeans(DescrStatsW(y[t == 1]), DescrStatsW(y[t == 0]))
    return compare.d1.mean - compare.d2.mean, compare.std_meandiff_separatevar


def main() -> None:
    print(f"{'reference':<38} {'n':>10} {'ours (s)':>10} {'reference (s)':>14} {'ratio':>7}")
    for n in (10_000, 1_000_000):
        data = simulate.banner_shop(n, seed=1, randomized=True).data
        ours_time = best_of(lambda data=data: ours(data))
        for name, reference in [("scipy.stats.ttest_ind(equal_var=False)", scipy_welch),
                                ("statsmodels CompareMeans", statsmodels_welch)]:
            their_time = best_of(lambda data=data, reference=reference: reference(data))
            print(f"{name:<38} {n:>10,} {ours_time:>10.4f} {their_time:>14.4f} "
                  f"{ours_time / their_time:>7.2f}")


if __name__ == "__main__":
    main()
