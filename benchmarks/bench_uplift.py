"""Time lessons_lib.uplift against straightforward alternatives. Not a test.

Run: .venv/bin/python benchmarks/bench_uplift.py

No installed package implements uplift or Qini curves (causalml and scikit-uplift are not
dependencies of the book), so the curves are timed against the obvious pandas version
(sort, group tied scores, cumulative sums), which any analyst would write; the IPW policy
value is timed against statsmodels (an OLS regression of the IPW terms on a constant gives
the same mean and standard error). Each line prints our time, the alternative's, the ratio
(ours / theirs; below 1 means we are faster) and the largest difference between results.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import statsmodels.api as sm
from _timing import best_of_with_result as timed

from lessons_lib.uplift import policy_value, uplift_curve


def pandas_curves(score, t, y) -> pd.DataFrame:
    """Uplift and Qini curves the pandas way: one row per distinct score, best first."""
    frame = pd.DataFrame({"score": score, "t": t, "c": 1 - t, "yt": y * t, "yc": y * (1 - t)})
    grouped = frame.groupby("score", sort=True)[["t", "c", "yt", "yc"]].sum().iloc[::-1].cumsum()
    nt, nc = grouped["t"].to_numpy(), grouped["c"].to_numpy()
    mean_t = np.divide(grouped["yt"], nt, out=np.zeros(len(nt)), where=nt > 0)
    mean_c = np.divide(grouped["yc"], nc, out=np.zeros(len(nc)), where=nc > 0)
    qini = grouped["yt"].to_numpy() - np.divide(grouped["yc"] * nt, nc, out=np.zeros(len(nc)),
                                                where=nc > 0)
    return pd.DataFrame({"uplift": (mean_t - mean_c) * (nt + nc), "qini": qini})


def bench_one(n: int) -> None:
    rng = np.random.default_rng(0)
    score = np.round(rng.normal(size=n), 3)  # rounded: many ties, as with tree models
    t = rng.binomial(1, 0.5, n)
    y = rng.binomial(1, 0.1 + 0.05 * t * (score > 0))
    ours_time, ours = timed(lambda: uplift_curve(score, t, y))
    theirs_time, theirs = timed(lambda: pandas_curves(score, t, y))
    gap = max(np.abs(ours["uplift"].to_numpy()[1:] - theirs["uplift"]).max(),
              np.abs(ours["qini"].to_numpy()[1:] - theirs["qini"]).max())
    print(f"{'uplift + Qini curves':<28}{n:>11,}{ours_time:>11.4f}{theirs_time:>12.4f}"
          f"{ours_time / theirs_time:>8.2f}{gap:>11.1e}")

    policy = (score > 0).astype(int)
    nobody = np.zeros(n, dtype=int)
    ours_time, est = timed(lambda: policy_value(policy, t, y, 0.5, baseline=nobody))

    def statsmodels_gain():
        terms = y * (t == policy) / 0.5 - y * (t == 0) / 0.5
        return sm.OLS(terms, np.ones(n)).fit()

    theirs_time, ols = timed(statsmodels_gain)
    gap = max(abs(est.value - ols.params[0]), abs(est.se - ols.bse[0]))
    print(f"{'IPW policy gain + SE':<28}{n:>11,}{ours_time:>11.4f}{theirs_time:>12.4f}"
          f"{ours_time / theirs_time:>8.2f}{gap:>11.1e}")


def main() -> None:
    print(f"{'what':<28}{'n':>11}{'ours (s)':>11}{'theirs (s)':>12}{'ratio':>8}{'max diff':>11}")
    for n in (10_000, 1_000_000):
        bench_one(n)


if __name__ == "__main__":
    main()
