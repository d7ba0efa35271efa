"""Time lessons_lib.tables.mantel_haenszel against statsmodels' StratifiedTable (not a test).

A long table of counts with two rows (treated, control) per stratum: 10,000 and
1,000,000 rows. statsmodels is given its 2 x 2 x K array ready-made; ours starts from the
DataFrame. Prints one table.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
from statsmodels.stats.contingency_tables import StratifiedTable

from lessons_lib.tables import mantel_haenszel


def counts_table(n_rows: int) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(0)
    k = n_rows // 2
    n1, n0 = rng.integers(20, 60, k), rng.integers(20, 60, k)
    base = rng.normal(0, 1, k)
    a = rng.binomial(n1, 1 / (1 + np.exp(-(base + 0.5))))
    c = rng.binomial(n0, 1 / (1 + np.exp(-base)))
    table = pd.DataFrame({
        "stratum": np.repeat(np.arange(k), 2), "treated": np.tile([1, 0], k),
        "n": np.column_stack([n1, n0]).ravel(), "events": np.column_stack([a, c]).ravel(),
    })
    array = np.array([[a, n1 - a], [c, n0 - c]], dtype=float)  # 2 x 2 x K
    return table, array


def main() -> None:
    print(f"{'rows':>10} {'ours (s)':>10} {'statsmodels (s)':>16} {'ratio':>7}")
    for n_rows in (10_000, 1_000_000):
        table, array = counts_table(n_rows)
        start = time.perf_counter()
        ours = mantel_haenszel(table, treatment="treated", stratum="stratum", count="n",
                               successes="events", treated=1)
        ours_time = time.perf_counter() - start
        start = time.perf_counter()
        reference = StratifiedTable(array)
        theirs = (reference.oddsratio_pooled, reference.logodds_pooled_se)
        theirs_time = time.perf_counter() - start
        assert abs(ours.value - theirs[0]) <= 1e-6 * theirs[0]
        assert abs(ours.se - theirs[1]) <= 1e-6 * theirs[1]
        print(f"{n_rows:>10,} {ours_time:>10.3f} {theirs_time:>16.3f} {ours_time / theirs_time:>7.2f}")


if __name__ == "__main__":
    main()
