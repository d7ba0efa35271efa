"""Randomized experiments: the difference in means and its uncertainty. See chapter 02.

Under randomization, treatment is independent of the potential outcomes, so
E[Y | T=1] - E[Y | T=0] = E[Y(1)] - E[Y(0)] = ATE, and the difference in sample means
estimates the ATE without bias.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lessons_lib._validate import (
    require_binary,
    require_columns,
    require_frame,
    require_level,
    require_min_group_size,
)
from lessons_lib.estimate import Estimate


def difference_in_means(
    data: pd.DataFrame, treatment: str = "T", outcome: str = "Y", *, level: float = 0.95
) -> Estimate:
    """The difference in means with Welch's (Neyman's) standard error.

    Estimand: the ATE, E[Y(1) - Y(0)], when treatment was randomized.

    Formula:
        tau_hat = mean(Y | T=1) - mean(Y | T=0)
        se      = sqrt(s1^2 / n1 + s0^2 / n0)           (sample variances, ddof=1)
        CI      = tau_hat +/- t_{df} * se, with the Welch-Satterthwaite df

    Assumptions: randomized (or as-good-as-random) assignment, consistency, no
    interference between units, and both groups non-empty. It matches
    ``scipy.stats.ttest_ind(y1, y0, equal_var=False)`` and statsmodels' ``CompareMeans``
    with ``usevar="unequal"``.

    Example
    -------
    >>> from lessons_lib import simulate
    >>> sim = simulate.banner_shop(4_000, seed=3, randomized=True)
    >>> est = difference_in_means(sim.data, "T", "Y")
    >>> est.covers(sim.ate)
    True
    """
    require_frame(data)
    require_level(level)
    require_columns(data, [outcome])
    t = require_binary(data, treatment)
    require_min_group_size(t, 2, column=treatment)
    y = data[outcome].to_numpy(dtype=float)
    treated, control = y[t == 1], y[t == 0]
    n1, n0 = len(treated), len(control)
    var1, var0 = treated.var(ddof=1), control.var(ddof=1)
    se = float(np.sqrt(var1 / n1 + var0 / n0))
    if se == 0:
        raise ValueError(
            f"outcome '{outcome}' does not vary within either group, so its standard error is 0; "
            "a difference in means needs outcomes that vary"
        )
    df = (var1 / n1 + var0 / n0) ** 2 / (
        (var1 / n1) ** 2 / (n1 - 1) + (var0 / n0) ** 2 / (n0 - 1)
    )
    return Estimate.from_se(
        treated.mean() - control.mean(),
        se,
        n=n1 + n0,
        estimand="ATE",
        method="difference in means (Welch)",
        level=level,
        df=df,
        extra={"n_treated": n1, "n_control": n0, "df": float(df)},
    )
