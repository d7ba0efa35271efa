"""The arithmetic shared by the regression-discontinuity modules (private). See chapter 07.

`lessons_lib.rdd`, `lessons_lib.rdd_bandwidth` and `lessons_lib.rdd_checks` import their
input checks and the one-sided kernel-weighted fit from here, so that no module imports
another in a circle. Students read `rdd.py` first; this file is its engine room.

The one-sided fit is weighted least squares written in numpy rather than a call to
``lessons_lib._inference``: what the RD estimators need is not a fitted model but the
*influence term* of the intercept for every unit (the row e1' (Z'WZ)^{-1} Z'W times the
residual), for several outcomes at once (Y and T in a fuzzy design), so that the
covariance of the jumps, clustered or not, is a sum of those terms. A statsmodels fit per
side and per outcome would give the same numbers with more work and less to read.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from lessons_lib._validate import require_columns, require_frame

__all__ = ["KERNELS", "check_kernel", "check_cutoff", "check_bandwidth", "check_donut",
           "kernel_weights", "columns", "cluster_codes", "jumps"]

KERNELS = ("triangular", "uniform", "epanechnikov")


def check_kernel(kernel: str) -> None:
    if kernel not in KERNELS:
        raise ValueError(f"kernel must be one of {list(KERNELS)}; got {kernel!r}")


def check_cutoff(x: np.ndarray, cutoff: float, running: str) -> float:
    if (not isinstance(cutoff, (int, float, np.integer, np.floating)) or isinstance(cutoff, bool)
            or not np.isfinite(cutoff)):
        raise ValueError(f"cutoff must be a finite number, such as 70; got {cutoff!r}")
    if not (x.min() < cutoff <= x.max()):
        raise ValueError(
            f"the cutoff {cutoff} is outside the range of '{running}' "
            f"[{x.min():.4g}, {x.max():.4g}]: a discontinuity needs units on both sides"
        )
    return float(cutoff)


def check_bandwidth(bandwidth: object, name: str = "bandwidth") -> float:
    if (not isinstance(bandwidth, (int, float, np.integer, np.floating))
            or isinstance(bandwidth, bool) or not np.isfinite(bandwidth) or bandwidth <= 0):
        raise ValueError(f"{name} must be a positive number; got {bandwidth!r}")
    return float(bandwidth)


def check_donut(donut: object) -> float:
    if (not isinstance(donut, (int, float, np.integer, np.floating)) or isinstance(donut, bool)
            or not np.isfinite(donut) or donut < 0):
        raise ValueError(f"donut must be a number >= 0 (0 keeps every unit); got {donut!r}")
    return float(donut)


def kernel_weights(u: np.ndarray, kernel: str) -> np.ndarray:
    """K(u) for u = (X - c) / h; zero outside |u| <= 1."""
    inside = np.abs(u) <= 1
    if kernel == "triangular":
        return np.where(inside, 1 - np.abs(u), 0.0)
    if kernel == "epanechnikov":
        return np.where(inside, 0.75 * (1 - u**2), 0.0)
    return np.where(inside, 0.5, 0.0)


def columns(data: pd.DataFrame, names: Sequence[str]) -> list[np.ndarray]:
    require_frame(data)
    require_columns(data, list(names))
    return [data[name].to_numpy(dtype=float) for name in names]


def cluster_codes(data: pd.DataFrame, cluster: str | None) -> np.ndarray | None:
    """The cluster column as integer codes 0..G-1, or None when there is no clustering."""
    if cluster is None:
        return None
    if not isinstance(cluster, str):
        raise ValueError(f"cluster must be the name of a column (a string); got {cluster!r}")
    require_columns(data, [cluster], numeric=False)
    codes, uniques = pd.factorize(data[cluster], sort=True)
    if len(uniques) < 2:
        raise ValueError(
            f"cluster column '{cluster}' has a single value: cluster-robust standard errors "
            "need many clusters (at the very least two; dozens to be reliable)"
        )
    return codes


def _side_fit(distance: np.ndarray, outcomes: np.ndarray, weights: np.ndarray, degree: int,
              side: str, bandwidth: float,
              clusters: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Weighted polynomial fit on one side; returns the intercepts and their influence terms.

    The arrays hold only the units of this side within the bandwidth (weights > 0).

    ``outcomes`` is (n, k): several outcomes share the design (Y and T in a fuzzy design).
    The intercept is a_hat = e1' (Z'WZ)^{-1} Z'W y = sum_i l_i y_i, so a_hat - a is
    (to first order) sum_i l_i r_i with r_i the residuals. Without clusters each term is
    scaled by the HC1 factor sqrt(n / (n - p)), p = degree + 1, and the variance is the sum
    of their squares. With clusters the terms are first summed within each cluster g,
    s_g = sum_{i in g} l_i r_i, and scaled by the CR1 factor
    sqrt((n - 1) / (n - p) * G / (G - 1)), G the clusters on this side within the
    bandwidth: rdrobust's ``vce="cr1"``. Returns (intercepts, terms), terms (n or G, k).
    """
    n_used = len(distance)
    n_params = degree + 1
    if n_used < n_params + 1:
        raise ValueError(
            f"only {n_used} observation(s) within the bandwidth {bandwidth:.4g} {side} the cutoff; "
            f"a degree-{degree} fit needs at least {n_params + 1}. Widen the bandwidth"
        )
    z = np.vander(distance, n_params, increasing=True)
    zw = z * weights[:, None]
    gram = z.T @ zw
    if np.linalg.matrix_rank(gram) < n_params:
        raise ValueError(
            f"the running variable takes too few distinct values within the bandwidth {side} "
            "the cutoff to fit a line; widen the bandwidth"
        )
    # l_i = e1' (Z'WZ)^{-1} z_i w_i: the weight of unit i in the intercept
    leverage_row = zw @ np.linalg.solve(gram, np.eye(n_params)[0])
    coefficients = np.linalg.solve(gram, zw.T @ outcomes)
    residuals = outcomes - z @ coefficients
    terms = leverage_row[:, None] * residuals
    if clusters is None:
        return coefficients[0], terms * np.sqrt(n_used / (n_used - n_params))
    _, members = np.unique(clusters, return_inverse=True)
    n_clusters = int(members.max()) + 1
    if n_clusters < 2:
        raise ValueError(
            f"all observations within the bandwidth {bandwidth:.4g} {side} the cutoff belong to "
            "one cluster: its variance cannot be estimated. Widen the bandwidth"
        )
    summed = np.column_stack([np.bincount(members, weights=terms[:, j], minlength=n_clusters)
                              for j in range(terms.shape[1])])
    cr1 = (n_used - 1) / (n_used - n_params) * n_clusters / (n_clusters - 1)
    return coefficients[0], summed * np.sqrt(cr1)


def jumps(x: np.ndarray, outcomes: np.ndarray, cutoff: float, bandwidth: float, kernel: str,
          degree: int, clusters: np.ndarray | None = None) -> dict:
    """Fit both sides; return the jumps, their (HC1 or CR1) covariance and the counts.

    The two sides are fitted on different units, so their variances add. A cluster with
    units on both sides is, as in rdrobust, counted once on each side, and the covariance
    between the two limits that it creates is left out.
    """
    distance = x - cutoff
    window = np.abs(distance) <= bandwidth  # one pass over the data; the fits see the window
    distance, outcomes = distance[window], outcomes[window]
    clusters = None if clusters is None else clusters[window]
    weights = kernel_weights(distance / bandwidth, kernel)
    used = weights > 0  # the uniform kernel is 1/2 at |u| = 1, the others 0
    distance, outcomes, weights = distance[used], outcomes[used], weights[used]
    clusters = None if clusters is None else clusters[used]
    right, left = distance >= 0, distance < 0
    fits = {}
    for name, side in (("above", right), ("below", left)):
        fits[name] = _side_fit(distance[side], outcomes[side], weights[side], degree, name,
                               bandwidth, None if clusters is None else clusters[side])
    (a_right, infl_right), (a_left, infl_left) = fits["above"], fits["below"]
    result = {
        "jump": a_right - a_left,
        "covariance": infl_right.T @ infl_right + infl_left.T @ infl_left,
        "n_right": int(right.sum()),
        "n_left": int(left.sum()),
        "limit_right": a_right,
        "limit_left": a_left,
    }
    if clusters is not None:
        result["n_clusters"] = int(np.unique(clusters).size)
    return result
