"""Time lessons_lib.tables.mantel_haenszel against statsmodels' StratifiedTable (not a test).

A long table of counts with two rows (treated, control) per stratum: 10,000 and
1,000,000 rows. Both start from the same DataFrame: statsmodels' time includes turning it
into the 2 x 2 x K array its StratifiedTable takes (a pivot), as ours does. Prints one table.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from _timing import best_of_with_result
from statsmodels.stats.contingency_tables import StratifiedTable

from lessons_lib.tables import mantel_haenszel


def counts_table(n_rows: int) -> pd.DataFrame:
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
    return table


def statsmodels_from_table(table: pd.DataFrame) -> tuple[float, float]:
    """The same job for statsmodels: pivot the counts into a 2 x 2 x K array, then pool."""
    wide = table.pivot(index="stratum", columns="treated", values=["n", "events"])
    a, c = wide[("events", 1)].to_numpy(float), wide[("events", 0)].to_numpy(float)
    n1, n0 = wide[("n", 1)].to_numpy(float), wide[("n", 0)].to_numpy(float)
    reference = StratifiedTable(np.array([[a, n1 - a], [c, n0 - c]]))
    return reference.oddsratio_pooled, reference.logodds_pooled_se


def main() -> None:
    print(f"{'rows':>10} {'ours (s)':>10} {'statsmodels (s)':>16} {'ratio':>7}")
    for n_rows in (10_000, 1_000_000):
        table = counts_table(n_rows)
        ours_time, ours = best_of_with_result(lambda table=table: mantel_haenszel(
            table, treatment="treated", stratum="stratum", count="n", successes="events",
            treated=1))
        theirs_time, theirs = best_of_with_result(lambda table=table: statsmodels_from_table(table))
        assert abs(ours.value - theirs[0]) <= 1e-6 * theirs[0]
        assert abs(ours.se - theirs[1]) <= 1e-6 * theirs[1]
        print(f"{n_rows:>10,} {ours_time:>10.3f} {theirs_time:>16.3f} {ours_time / theirs_time:>7.2f}")


if __name__ == "__main__":
    main()
