"""Experiments with interference: randomize clusters, analyse with cluster-robust errors. See chapter 15.

When one unit's treatment changes another's outcome (riders competing for the same
drivers, users seeing each other's posts), a user-level A/B test compares treated and
control units that live in the same, contaminated market. Its difference in means is then
not the effect of treating everyone versus no one (the *global* effect). Randomizing
whole clusters (cities, markets, teams) puts the spillovers inside the clusters: every
unit of a treated city lives in the all-treated world, every unit of a control city in
the untreated one. The analysis must then respect that units of a cluster share shocks,
which is what the cluster-robust standard error does.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lessons_lib._inference import ols
from lessons_lib._validate import require_binary, require_columns, require_frame, require_level
from lessons_lib.estimate import Estimate


def cluster_difference_in_means(
    data: pd.DataFrame,
    *,
    outcome: str,
    treatment: str,
    cluster: str,
    level: float = 0.95,
) -> Estimate:
    """The difference in means with a cluster-robust (CR1) standard error.

    Estimand: in a cluster-randomized experiment, the global effect
    E[Y_i(everyone treated) - Y_i(no one treated)], provided spillovers stay within
    clusters (partial interference) and clusters are assigned at random.

    Formula: tau_hat = mean(Y | T = 1) - mean(Y | T = 0), the OLS slope of Y on T. With
    residuals u and X = [1, T], its variance is the (2, 2) element of
        G/(G - 1) * (N - 1)/(N - 2) * (X'X)^-1 [sum_g X_g' u_g u_g' X_g] (X'X)^-1,
    G the number of clusters and N of units: statsmodels'
    ``OLS(...).fit(cov_type="cluster", cov_kwds={"groups": ...})``. The interval uses
    Student's t with G - 1 degrees of freedom, which behaves better than the normal when
    clusters are few.

    Assumptions: clusters (not units) are the independent draws; treatment is assigned
    at random across clusters; no spillovers between clusters; enough clusters (a few
    dozen) for the sandwich to be reliable.

    Example
    -------
    >>> from lessons_lib import simulate
    >>> sim = simulate.marketplace(40, 50, seed=1, design="city")
    >>> est = cluster_difference_in_means(sim.data, outcome="Y", treatment="T", cluster="city")
    >>> est.covers(sim.truth["global effect"])
    True
    """
    require_frame(data)
    require_level(level)
    require_columns(data, [outcome])
    require_columns(data, [cluster], numeric=False)
    t = require_binary(data, treatment).astype(float)
    y = data[outcome].to_numpy(dtype=float)
    groups = pd.factorize(data[cluster])[0]
    n_clusters = int(groups.max()) + 1
    treated_per_cluster = np.bincount(groups, weights=t, minlength=n_clusters)
    size_per_cluster = np.bincount(groups, minlength=n_clusters)
    treated_clusters = int(np.count_nonzero(treated_per_cluster))
    control_clusters = int(np.count_nonzero(size_per_cluster - treated_per_cluster))
    if min(treated_clusters, control_clusters) < 2:
        raise ValueError(
            f"need at least 2 clusters with treated units and 2 with control units in "
            f"'{cluster}'; found {treated_clusters} and {control_clusters}. A cluster-robust "
            "standard error cannot be computed from fewer"
        )
    if np.ptp(y) == 0:
        raise ValueError(f"outcome '{outcome}' does not vary, so its standard error is 0")
    fit = ols(y, np.column_stack([np.ones(len(y)), t]), cov_type="cluster", cluster=groups,
              names=["const", treatment], what="the difference in means")
    return Estimate.from_fit(
        fit, 1, estimand="global effect", method="difference in means, cluster-robust SE",
        level=level, t_interval=True,
        extra={"clusters": n_clusters, "treated_clusters": treated_clusters,
               "control_clusters": control_clusters},
    )
