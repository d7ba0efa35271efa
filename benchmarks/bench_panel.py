"""Time lessons_lib.panel against its references at n = 10,000 and 1,000,000 rows.

Run: .venv/bin/python benchmarks/bench_panel.py   (prints a table; not a test)

* did_2x2 (clustered by unit) against statsmodels OLS with the interaction and
  cov_type="cluster";
* two_way_fixed_effects (clustered by unit) against linearmodels PanelOLS with entity and
  time effects (clustered, group_debias=True: the same standard error);
* staggered_did has no Python reference with the same estimator; its time is shown alone.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import statsmodels.formula.api as smf
from linearmodels import PanelOLS

from lessons_lib import panel


def _panel(n_rows: int, periods: int = 10, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n_units = n_rows // periods
    unit = np.repeat(np.arange(n_units), periods)
    period = np.tile(np.arange(1, periods + 1), n_units)
    first = np.where(rng.random(n_units) < 0.5, rng.integers(3, periods + 1, n_units), np.nan)
    first_rows = np.repeat(first, periods)
    treated = (~np.isnan(first_rows) & (period >= first_rows)).astype(int)
    y = (np.repeat(rng.normal(size=n_units), periods) + 0.2 * period + 1.0 * treated
         + rng.normal(size=n_rows))
    return pd.DataFrame({"unit": unit, "period": period, "first_treated": first_rows,
                         "T": treated, "post": (period >= 6).astype(int),
                         "G": (~np.isnan(first_rows)).astype(int), "Y": y})


def _best_of(function, repeat: int = 2) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def _time_at(n: int) -> list[tuple]:
    data = _panel(n)
    indexed = data.set_index(["unit", "period"])
    repeat = 3 if n <= 10_000 else 1
    rows = []

    ours = _best_of(lambda: panel.did_2x2(data, outcome="Y", group="G", post="post",
                                          cluster="unit"), repeat)
    theirs = _best_of(lambda: smf.ols("Y ~ G * post", data).fit(
        cov_type="cluster", cov_kwds={"groups": data["unit"]}), repeat)
    rows.append(("did_2x2", "statsmodels OLS", n, ours, theirs))

    ours = _best_of(lambda: panel.two_way_fixed_effects(data, outcome="Y", treatment="T",
                                                        unit="unit", time="period"),
                    repeat)
    theirs = _best_of(lambda: PanelOLS(indexed["Y"], indexed[["T"]], entity_effects=True,
                                       time_effects=True).fit(
        cov_type="clustered", cluster_entity=True, group_debias=True), repeat)
    rows.append(("two_way_fixed_effects", "linearmodels PanelOLS", n, ours, theirs))

    ours = _best_of(lambda: panel.staggered_did(data, outcome="Y", unit="unit", time="period",
                                                first_treated="first_treated"),
                    repeat)
    rows.append(("staggered_did", "(none in Python)", n, ours, float("nan")))
    return rows


def main() -> None:
    rows = _time_at(10_000) + _time_at(1_000_000)
    print(f"{'function':<24}{'reference':<24}{'n':>11}{'ours (s)':>11}{'ref (s)':>11}"
          f"{'ref / ours':>12}")
    for name, reference, n, ours, theirs in rows:
        ratio = theirs / ours if np.isfinite(theirs) else float("nan")
        print(f"{name:<24}{reference:<24}{n:>11,}{ours:>11.3f}{theirs:>11.3f}{ratio:>12.1f}")


if __name__ == "__main__":
    main()
