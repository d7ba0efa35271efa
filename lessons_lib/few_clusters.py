"""Inference when only a few clusters are treated: the wild cluster bootstrap and
randomization inference over clusters. See chapter 05.

Why a module of its own? A cluster-robust ("CR1") standard error treats each cluster as
one independent draw and is trustworthy when there are many clusters *and* many of them
are treated. A difference in differences where a policy reached 1, 2 or 5 regions out of
20 has far fewer independent pieces of information about the effect than its rows
suggest, and its CR1 t-test rejects a true null far more often than 5% (Bertrand, Duflo
and Mullainathan, 2004; Donald and Lang, 2007; Conley and Taber, 2011). With one treated
cluster the treated cluster's own noise drops out of the CR1 variance entirely.

Two remedies, each with its assumption:

* `wild_cluster_bootstrap`: the restricted wild cluster bootstrap-t (WCR) of Cameron,
  Gelbach and Miller (2008). It is accurate with few clusters in total when a fair share
  of them is treated, and it stays conservative (it under-rejects) when very few are
  treated (MacKinnon and Webb, 2017), which is honest but has little power.
* `did_randomization_test`: re-assigns the treated status across clusters, keeping the
  number of treated clusters, and asks how extreme the observed difference in
  differences is among all those re-assignments (Fisher's test, with clusters as the
  units). Exact under the sharp null of no effect when the treated clusters could as
  well have been any others (clusters exchangeable: similar sizes and shocks). With G
  clusters and G1 treated there are only C(G, G1) assignments, so the smallest possible
  p-value is 1 / C(G, G1): with two regions, 1/2.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from lessons_lib._validate import require_binary, require_columns, require_frame
from lessons_lib.experiments import TestResult

__all__ = ["wild_cluster_bootstrap", "did_randomization_test", "WILD_WEIGHTS"]

#: The two standard distributions of the per-cluster multipliers v_g.
WILD_WEIGHTS = {
    "rademacher": np.array([-1.0, 1.0]),
    "webb": np.array([-np.sqrt(1.5), -1.0, -np.sqrt(0.5), np.sqrt(0.5), 1.0, np.sqrt(1.5)]),
}


def _cluster_codes(data: pd.DataFrame, cluster: str) -> tuple[np.ndarray, int]:
    require_columns(data, [cluster])
    if data[cluster].isna().any():
        raise ValueError(f"cluster column '{cluster}' has missing values; every row needs "
                         "its cluster")
    codes, uniques = pd.factorize(data[cluster], sort=True)
    return codes, len(uniques)


def _by_cluster(values: np.ndarray, codes: np.ndarray, n_clusters: int) -> np.ndarray:
    """Column sums of ``values`` (rows x columns) within each cluster."""
    return np.column_stack([np.bincount(codes, weights=column, minlength=n_clusters)
                            for column in np.atleast_2d(values.T)])


def wild_cluster_bootstrap(
    data: pd.DataFrame,
    *,
    outcome: str,
    treatment: str,
    cluster: str,
    covariates: Sequence[str] = (),
    null: float = 0.0,
    weights: str = "webb",
    n_boot: int = 999,
    seed: int = 0,
) -> TestResult:
    """Restricted wild cluster bootstrap-t test (WCR) of H0: coefficient on ``treatment`` = ``null``.

    Regression: Y = a + tau T + X'b + e by least squares, clusters given by ``cluster``
    (for a 2x2 difference in differences, T is the group x post interaction and the
    covariates are the group and post dummies).

    1. Fit it and form t = (tau_hat - null) / SE_CR1, with the CR1 small-sample factor
       G/(G-1) (n-1)/(n-k) of statsmodels and Stata.
    2. Fit the *restricted* model that imposes tau = null; keep its fitted values Y_r and
       residuals u_r.
    3. For b = 1..B draw one multiplier v_g per cluster (Rademacher: +-1; Webb's six
       points +-sqrt(1/2), +-1, +-sqrt(3/2), which behave better with few clusters), form
       Y*_b = Y_r + v_g u_r, refit, and compute t*_b the same way as t.
    4. p = #{b : |t*_b| >= |t|} / B (symmetric, two-sided).

    Multipliers are ``numpy.random.default_rng(seed).choice(WILD_WEIGHTS[weights],
    size=(n_boot, G))``, clusters in sorted order; with Rademacher weights and 2**G <=
    n_boot all 2**G sign patterns are enumerated instead. The B refits are done at once
    from cluster sums (each draw costs O(G k), not O(n k)).

    Assumptions: clusters independent of one another, the regression's errors mean zero
    given the regressors. Accurate with few clusters when enough of them are treated;
    with one or two treated clusters it is conservative (MacKinnon and Webb, 2017). See
    chapter 05.

    Returns a ``TestResult`` whose ``statistic`` is the CR1 t, with the bootstrap t's in
    ``null_distribution`` and the estimate, its CR1 SE and the numbers of clusters in
    ``extra``.

    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> g = np.repeat(np.arange(12), 5)
    >>> df = pd.DataFrame({"g": g, "T": (g < 6).astype(int)})
    >>> df["Y"] = rng.normal(size=12)[g] + rng.normal(size=60)
    >>> res = wild_cluster_bootstrap(df, outcome="Y", treatment="T", cluster="g")
    >>> 0 <= res.pvalue <= 1
    True
    """
    require_frame(data)
    if isinstance(covariates, str):
        raise ValueError("covariates must be a list of column names, e.g. ['post']")
    if weights not in WILD_WEIGHTS:
        raise ValueError(f"weights must be one of {sorted(WILD_WEIGHTS)}; got {weights!r}")
    if not isinstance(n_boot, (int, np.integer)) or n_boot < 99:
        raise ValueError(f"n_boot must be a whole number of at least 99; got {n_boot!r}")
    columns = [outcome, treatment, *covariates]
    require_columns(data, columns)
    if data[columns].isna().any().any():
        raise ValueError(f"columns {columns} have missing values; drop or fill those rows")
    codes, n_clusters = _cluster_codes(data, cluster)
    if n_clusters < 3:
        raise ValueError(f"'{cluster}' has {n_clusters} cluster(s); a cluster bootstrap needs at "
                         "least 3 (with 2, use did_randomization_test, whose smallest p is 1/2)")
    y = data[outcome].to_numpy(dtype=float)
    x = np.column_stack([np.ones(len(y))] + [data[c].to_numpy(dtype=float) for c in
                                             [treatment, *covariates]])
    n, k = x.shape
    if np.linalg.matrix_rank(x) < k:
        raise ValueError("the design is singular: the treatment or a covariate is constant or "
                         "a copy of the others. Drop the redundant column")
    inverse = np.linalg.inv(x.T @ x)
    a_row = inverse[1]                      # the treatment's row of (X'X)^-1
    factor = n_clusters / (n_clusters - 1) * (n - 1) / (n - k)

    def cr1_t(beta_1: np.ndarray, z: np.ndarray) -> np.ndarray:
        return (beta_1 - null) / np.sqrt(factor * np.sum(z**2, axis=-1))

    beta = inverse @ (x.T @ y)
    z_obs = _by_cluster(x * (y - x @ beta)[:, None], codes, n_clusters) @ a_row
    t_obs = float(cr1_t(beta[1], z_obs))
    if not np.isfinite(t_obs):
        raise ValueError("the cluster-robust variance is zero: the residuals sum to zero in "
                         "every cluster (for example, one cluster per group and period)")

    # The restricted fit imposes tau = null.
    x_r = np.delete(x, 1, axis=1)
    coef_r, *_ = np.linalg.lstsq(x_r, y - null * x[:, 1], rcond=None)
    resid_r = y - null * x[:, 1] - x_r @ coef_r
    fitted_r = y - resid_r

    values = WILD_WEIGHTS[weights]
    if weights == "rademacher" and 2**n_clusters <= n_boot:
        multipliers = np.array(list(itertools.product(values, repeat=n_clusters)))
        enumerated = True
    else:
        multipliers = np.random.default_rng(seed).choice(values, size=(n_boot, n_clusters))
        enumerated = False

    # Y*_b = fitted_r + v_bg resid_r; everything the refit needs is a cluster sum.
    scores_r = _by_cluster(x * resid_r[:, None], codes, n_clusters)        # G x k
    beta_star = inverse @ (x.T @ fitted_r) + multipliers @ (scores_r @ inverse)  # B x k
    f = _by_cluster(x * fitted_r[:, None], codes, n_clusters) @ a_row        # G
    s = scores_r @ a_row                                                     # G
    h = _by_cluster(x * (x @ a_row)[:, None], codes, n_clusters)             # G x k
    z_star = f[None, :] + multipliers * s[None, :] - beta_star @ h.T         # B x G
    t_star = cr1_t(beta_star[:, 1], z_star)
    pvalue = float(np.mean(np.abs(t_star) >= abs(t_obs) - 1e-12 * max(1.0, abs(t_obs))))
    return TestResult(
        t_obs, pvalue, f"wild cluster bootstrap-t (restricted, {weights} weights)",
        null_distribution=t_star,
        extra={"estimate": float(beta[1]), "se_cr1": float(abs(beta[1] - null) / abs(t_obs))
               if t_obs != 0 else float("nan"), "clusters": n_clusters,
               "draws": len(t_star), "enumerated": enumerated},
    )


def did_randomization_test(
    data: pd.DataFrame,
    *,
    outcome: str,
    group: str,
    post: str,
    cluster: str,
    n_permutations: int = 9_999,
    seed: int = 0,
    max_exact: int = 100_000,
) -> TestResult:
    """Randomization inference for a 2x2 difference in differences, with clusters as units.

    Statistic: the difference in differences of row means,
    DiD = (mean Y[G=1,P=1] - mean Y[G=1,P=0]) - (mean Y[G=0,P=1] - mean Y[G=0,P=0]),
    the coefficient of `lessons_lib.panel.did_2x2`.

    Null hypothesis (sharp): the treatment changed no cluster's outcomes. Then the data
    would be the same whichever clusters had been treated, so we recompute the DiD with
    ``group`` re-assigned to every other set of the same number of clusters (all of them
    when there are at most ``max_exact`` sets; otherwise ``n_permutations`` random sets
    (the first clusters of random orderings drawn from
    ``numpy.random.default_rng(seed)``), with p = (1 + #as extreme) / (1 + draws)) and
    report the share at least as far from zero as the observed one.

    Assumptions: ``group`` is constant within a cluster, and the treated clusters could
    have been any others of the same number (clusters exchangeable, which in practice
    means similar sizes and similar shocks; Conley and Taber, 2011, and MacKinnon and Webb,
    2020, discuss what goes wrong when cluster sizes differ a lot). See chapter 05.

    >>> import numpy as np, pandas as pd
    >>> g = np.repeat(np.arange(6), 2)
    >>> df = pd.DataFrame({"region": g, "G": (g < 2).astype(int), "P": np.tile([0, 1], 6),
    ...                    "Y": np.arange(12.0)})
    >>> did_randomization_test(df, outcome="Y", group="G", post="P", cluster="region").extra["assignments"]
    15
    """
    require_frame(data)
    require_columns(data, [outcome])
    if data[outcome].isna().any():
        raise ValueError(f"outcome '{outcome}' has missing values; drop those rows first")
    g = require_binary(data, group, role="group")
    p = require_binary(data, post, role="period")
    codes, n_clusters = _cluster_codes(data, cluster)
    group_of = np.bincount(codes, weights=g, minlength=n_clusters) / np.bincount(codes)
    if not np.isin(group_of, [0.0, 1.0]).all():
        raise ValueError(f"'{group}' changes within a cluster of '{cluster}'; the treated status "
                         "must be assigned to whole clusters")
    if not isinstance(n_permutations, (int, np.integer)) or n_permutations < 99:
        raise ValueError(f"n_permutations must be a whole number of at least 99; got "
                         f"{n_permutations!r}")
    y = data[outcome].to_numpy(dtype=float)
    sums = np.column_stack([np.bincount(codes, weights=y * (p == k), minlength=n_clusters)
                            for k in (0, 1)])
    counts = np.column_stack([np.bincount(codes, weights=(p == k) * 1.0, minlength=n_clusters)
                              for k in (0, 1)])
    treated = group_of == 1
    n_treated = int(treated.sum())
    if n_treated == 0 or n_treated == n_clusters:
        raise ValueError("every cluster is in the same group; a difference in differences needs "
                         "treated and comparison clusters")
    for label, mask in (("treated", treated), ("comparison", ~treated)):
        if (counts[mask].sum(axis=0) == 0).any():
            raise ValueError(f"the {label} clusters have no rows in one of the periods")

    n_assignments = math.comb(n_clusters, n_treated)
    if n_assignments <= max_exact:
        members = np.array(list(itertools.combinations(range(n_clusters), n_treated)))
        exact = True
    else:
        # each row: the first n_treated clusters of an independent random ordering
        order = np.argsort(np.random.default_rng(seed).random((n_permutations, n_clusters)), axis=1)
        members = order[:, :n_treated]
        exact = False
    chosen = np.zeros((len(members), n_clusters))
    chosen[np.arange(len(members))[:, None], members] = 1.0

    def did(assign: np.ndarray) -> np.ndarray:
        mean_t = (assign @ sums) / (assign @ counts)
        mean_c = ((1 - assign) @ sums) / ((1 - assign) @ counts)
        return (mean_t[..., 1] - mean_t[..., 0]) - (mean_c[..., 1] - mean_c[..., 0])

    observed = float(did(treated.astype(float)))
    null = did(chosen)
    tolerance = 1e-12 * max(1.0, abs(observed))
    as_extreme = int(np.sum(np.abs(null) >= abs(observed) - tolerance))
    if exact:
        pvalue = as_extreme / len(null)
        method = "randomization test over clusters (exact)"
    else:
        pvalue = (as_extreme + 1) / (len(null) + 1)
        method = f"randomization test over clusters ({len(null):,} random re-assignments)"
    return TestResult(observed, float(pvalue), method, null_distribution=null,
                      extra={"clusters": n_clusters, "treated_clusters": n_treated,
                             "assignments": int(n_assignments) if exact else len(null),
                             "exact": exact})
