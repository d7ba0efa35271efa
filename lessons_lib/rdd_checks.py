"""Checks of a regression discontinuity design: the density test and the binned RD plot.

See chapter 07. Both are also available as ``rdd.density_test`` and ``rdd.binned_means``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lessons_lib._rdd_fit import (
    check_bandwidth,
    check_cutoff,
    cluster_codes,
    columns,
    kernel_weights,
)
from lessons_lib._validate import require_level
from lessons_lib.estimate import Estimate

__all__ = ["density_test", "binned_means"]


def density_test(
    data: pd.DataFrame,
    *,
    running: str,
    cutoff: float,
    bandwidth: float | None = None,
    bin_width: float | None = None,
    cluster: str | None = None,
    level: float = 0.95,
) -> Estimate:
    """McCrary's (2008) test for a jump in the density of the running variable R at c.

    Estimand: theta = ln f(c+) - ln f(c-), the log jump in the density of R at the
    cutoff. Without manipulation (units cannot push themselves across c) theta = 0.

    Method: (1) a fine histogram of R with bins of width b that never straddle c,
    heights count / (n b); (2) a local linear regression of the heights on the bin
    midpoints on each side, triangular kernel, bandwidth h, whose intercepts estimate
    f(c+) and f(c-); (3) theta_hat = ln f_hat(c+) - ln f_hat(c-), with McCrary's standard error
        se = sqrt( (1 / (n h)) * (24 / 5) * (1 / f_hat(c+) + 1 / f_hat(c-)) ).

    Defaults: b = 2 sd(R) n^(-1/2) (McCrary's first-step rule) and
    h = 1.84 sd(R) n^(-1/5) (a simple rule of thumb; McCrary's own is more elaborate).
    A large |theta_hat| / se (a small p-value) is evidence of sorting around the cutoff.

    cluster: a column naming the unit that could have sorted, when the data hold several
    rows per unit that share its running value (two ADA scores per election: the
    election, not the row, lands on one side of 50%). Each cluster is then counted once,
    so n is the number of clusters; a cluster whose rows have different running values
    is refused, because it has no single place in the density.

    Example
    -------
    >>> from lessons_lib import simulate
    >>> sim = simulate.loyalty_cutoff(3_000, seed=1)
    >>> abs(density_test(sim.data, running="loyalty", cutoff=70).value) < 0.3
    True
    """
    require_level(level)
    (x,) = columns(data, [running])
    cutoff = check_cutoff(x, cutoff, running)
    codes = cluster_codes(data, cluster)
    if codes is not None:
        by_cluster = pd.Series(x).groupby(codes)
        if (by_cluster.nunique() > 1).any():
            raise ValueError(
                f"some clusters of '{cluster}' hold rows with different values of '{running}'; "
                "the density test counts each cluster once, at its one running value"
            )
        x = by_cluster.first().to_numpy()
    n = len(x)
    spread = np.std(x, ddof=1)
    if spread == 0:
        raise ValueError(f"'{running}' does not vary, so it has no density to test")
    b = 2 * spread / np.sqrt(n) if bin_width is None else check_bandwidth(bin_width)
    h = 1.84 * spread * n ** (-1 / 5) if bandwidth is None else check_bandwidth(bandwidth)
    if h < 4 * b:
        raise ValueError(
            f"the bandwidth {h:.3g} spans fewer than 4 bins of width {b:.3g} on each side; "
            "widen the bandwidth or narrow the bins"
        )
    # Bin index j: [c + j b, c + (j + 1) b); negative j below the cutoff.
    index = np.floor((x - cutoff) / b).astype(np.int64)
    lowest, highest = int(index.min()), int(index.max())
    bins = np.arange(lowest, highest + 1)
    counts = np.bincount(index - lowest, minlength=len(bins))
    heights = counts / (n * b)
    midpoints = (bins + 0.5) * b
    weights = kernel_weights(midpoints / h, "triangular")
    limits = []
    for side, name in ((bins >= 0, "above"), (bins < 0, "below")):
        keep = side & (weights > 0)
        if keep.sum() < 3:
            raise ValueError(f"fewer than 3 bins within the bandwidth {name} the cutoff")
        z = np.column_stack([np.ones(keep.sum()), midpoints[keep]])
        w = weights[keep]
        coefficients = np.linalg.solve(z.T @ (z * w[:, None]), (z * w[:, None]).T @ heights[keep])
        limits.append(float(coefficients[0]))
    f_right, f_left = limits
    if min(f_right, f_left) <= 0:
        raise ValueError(
            "the estimated density is zero or negative on one side of the cutoff; "
            "there are too few units near it. Widen the bandwidth"
        )
    theta = np.log(f_right) - np.log(f_left)
    se = np.sqrt((1 / (n * h)) * (24 / 5) * (1 / f_right + 1 / f_left))
    return Estimate.from_se(theta, se, n=n, estimand="log jump in the density at the cutoff",
                            method=f"McCrary density test (h = {h:.3g}, bins of {b:.3g})",
                            level=level,
                            extra={"density_above": f_right, "density_below": f_left,
                                   "bandwidth": h, "bin_width": b,
                                   "counted": "rows" if cluster is None else "clusters"})


def binned_means(
    data: pd.DataFrame,
    *,
    outcome: str,
    running: str,
    cutoff: float,
    bin_width: float,
) -> pd.DataFrame:
    """Means of the outcome in bins of the running variable that never straddle the cutoff.

    The classic RD plot draws these means as dots with a fitted line on each side.
    Returns a DataFrame with ``x`` (the bin's midpoint), ``mean``, ``n`` and ``above``
    (True for bins at or above the cutoff).
    """
    y, x = columns(data, [outcome, running])
    cutoff = check_cutoff(x, cutoff, running)
    bin_width = check_bandwidth(bin_width)
    index = np.floor((x - cutoff) / bin_width).astype(np.int64)
    table = (pd.DataFrame({"bin": index, "y": y}).groupby("bin")["y"].agg(["mean", "size"])
             .reset_index())
    return pd.DataFrame({
        "x": cutoff + (table["bin"].to_numpy() + 0.5) * bin_width,
        "mean": table["mean"].to_numpy(),
        "n": table["size"].to_numpy(),
        "above": table["bin"].to_numpy() >= 0,
    })
