"""Regression discontinuity: the effect of a treatment at a cutoff. See chapter 07.

A unit is treated when its running variable R crosses a cutoff c (the loyalty score
reaching 70, the Democratic vote share passing 50%). If nothing else jumps at c, the
jump of E[Y | R = r] at r = c is the effect of the treatment for units at the cutoff:

    tau_RD = lim_{r -> c+} E[Y | R = r] - lim_{r -> c-} E[Y | R = r]
           = E[Y(1) - Y(0) | R = c]            (sharp design, continuity assumption)

Everything here estimates the two one-sided limits with local polynomial regression:
a weighted least-squares line fitted separately on each side, with kernel weights
K((R - c) / h) that fall to zero at distance h (the bandwidth) from the cutoff.

Functions
---------
local_linear_rd     the sharp RD estimate, with conventional or robust bias-corrected
                    inference (Calonico, Cattaneo and Titiunik, 2014), optionally
                    cluster-robust (``cluster=``) and with a donut (``donut=``)
fuzzy_rd            the fuzzy RD estimate: the jump in Y divided by the jump in T
covariate_balance   the same RD estimate with pre-treatment covariates as outcomes
placebo_cutoffs     the same estimate at fake cutoffs, where the true jump is zero
mse_bandwidth       a plug-in MSE-optimal bandwidth (in `lessons_lib.rdd_bandwidth`)
density_test        a McCrary (2008) test for a jump in the density of R at the cutoff
binned_means        the means of Y in bins of R, for the classic RD plot (both in
                    `lessons_lib.rdd_checks`)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from lessons_lib._rdd_fit import (
    KERNELS,
    check_bandwidth,
    check_cutoff,
    check_donut,
    check_kernel,
    cluster_codes,
    columns,
    jumps,
)
from lessons_lib._validate import require_level
from lessons_lib.estimate import Estimate
from lessons_lib.rdd_bandwidth import TRIANGULAR_MSE_CONSTANT, mse_bandwidth
from lessons_lib.rdd_checks import binned_means, density_test

__all__ = ["KERNELS", "TRIANGULAR_MSE_CONSTANT", "local_linear_rd", "fuzzy_rd",
           "covariate_balance", "placebo_cutoffs", "mse_bandwidth", "density_test",
           "binned_means"]


def _prepare(data: pd.DataFrame, names: Sequence[str], running: str, cutoff: float,
             bandwidth: float | None, kernel: str, cluster: str | None, donut: float,
             outcome: str) -> tuple[list[np.ndarray], np.ndarray, np.ndarray | None, float, float]:
    """Columns, cutoff, clusters and bandwidth, checked; units inside the donut dropped."""
    check_kernel(kernel)
    *values, x = columns(data, [*names, running])
    cutoff = check_cutoff(x, cutoff, running)
    codes = cluster_codes(data, cluster)
    donut = check_donut(donut)
    if donut > 0:
        outside = np.abs(x - cutoff) >= donut
        if outside[x >= cutoff].sum() == 0 or outside[x < cutoff].sum() == 0:
            raise ValueError(f"the donut {donut:.4g} removes every unit on one side of the "
                             "cutoff; use a smaller donut")
        data = data[outside]
        values, x = [v[outside] for v in values], x[outside]
        codes = None if codes is None else codes[outside]
    if bandwidth is None:
        bandwidth = mse_bandwidth(data, outcome=outcome, running=running, cutoff=cutoff)
    bandwidth = check_bandwidth(bandwidth)
    if donut >= bandwidth:
        raise ValueError(f"the donut {donut:.4g} is not smaller than the bandwidth "
                         f"{bandwidth:.4g}: no unit would be left. Use a smaller donut")
    return values, x, codes, cutoff, bandwidth


def _extras(fit: dict, bandwidth: float, kernel: str, cluster: str | None, donut: float) -> dict:
    extra = {"bandwidth": bandwidth, "kernel": kernel, "n_left": fit["n_left"],
             "n_right": fit["n_right"]}
    if cluster is not None:
        extra.update({"cluster": cluster, "n_clusters": fit["n_clusters"]})
    if donut > 0:
        extra["donut"] = donut
    return extra


def _describe(kind: str, kernel: str, bandwidth: float, cluster: str | None,
              donut: float) -> str:
    details = [f"{kernel} kernel", f"h = {bandwidth:.3g}"]
    if donut > 0:
        details.append(f"donut {donut:.3g}")
    if cluster is not None:
        details.append(f"SE clustered by {cluster}")
    return f"{kind} ({', '.join(details)})"


def local_linear_rd(
    data: pd.DataFrame,
    *,
    outcome: str,
    running: str,
    cutoff: float,
    bandwidth: float | None = None,
    kernel: str = "triangular",
    inference: str = "conventional",
    cluster: str | None = None,
    donut: float = 0.0,
    level: float = 0.95,
) -> Estimate:
    """The sharp regression discontinuity estimate by local linear regression.

    Estimand: tau = E[Y(1) - Y(0) | R = c], the effect of treatment for units at the
    cutoff, where treatment is T = 1{R >= c}.

    Formula: on each side of c, fit by weighted least squares
        Y = a + b (R - c),   with weights K((R - c) / h),
    using only units with |R - c| <= h. The estimate is the gap between the two
    intercepts, tau_hat = a_right - a_left. Its conventional standard error is the
    heteroskedasticity-robust (HC1) sandwich of each side's intercept, combined as
    sqrt(se_right^2 + se_left^2).

    inference="robust" gives the robust bias-corrected interval of Calonico, Cattaneo and
    Titiunik (2014) with the pilot bandwidth equal to h: the interval is centred on the
    local *quadratic* estimate at bandwidth h (the local linear estimate minus its
    estimated bias) and uses that estimate's standard error, which accounts for the
    bias correction. The point estimate (``value``) stays the local linear one; the
    bias-corrected centre is in ``extra["bias_corrected"]``, and the p-value that agrees
    with the robust interval (centre / robust SE) in ``extra["robust_pvalue"]``; the
    Estimate's own ``pvalue`` divides the local linear value by the robust SE, which is
    not a test the interval corresponds to. This is what
    ``rdrobust(y, x, c, h=h, b=h, vce="hc1")`` reports in its Conventional and Robust rows.

    cluster: a column identifying groups of rows that are not independent (two ADA scores
    of one election, pupils of one school). The influence terms of each side's intercept
    are summed within cluster before squaring, with the CR1 factor
    (n - 1) / (n - p) * G / (G - 1) per side: rdrobust's ``cluster=`` with ``vce="cr1"``.
    Cluster at the level at which the running variable (the treatment) is assigned.

    donut: drop units with |R - c| < donut before anything else (including the
    bandwidth choice) and extrapolate the two lines across the hole. If the estimate
    moves a lot as the donut grows, it leaned on the units closest to the cutoff, the ones
    most suspect of sorting or heaping.

    Assumptions: continuity of E[Y(0) | R = r] and E[Y(1) | R = r] at c (nothing else
    jumps there; units cannot sort precisely around c), a sharp design (everyone above
    is treated, nobody below), and enough units (clusters) near c on both sides.

    bandwidth: h, in the units of the running variable; ``None`` uses `mse_bandwidth`.
    kernel: "triangular" (the default), "epanechnikov" or "uniform".

    Example
    -------
    >>> from lessons_lib import simulate
    >>> sim = simulate.loyalty_cutoff(3_000, seed=1)
    >>> est = local_linear_rd(sim.data, outcome="Y", running="loyalty", cutoff=70, bandwidth=10)
    >>> est.covers(sim.truth["effect at the cutoff"])
    True
    """
    require_level(level)
    if inference not in ("conventional", "robust"):
        raise ValueError(f"inference must be 'conventional' or 'robust'; got {inference!r}")
    (y,), x, codes, cutoff, bandwidth = _prepare(data, [outcome], running, cutoff, bandwidth,
                                                 kernel, cluster, donut, outcome)
    fit = jumps(x, y[:, None], cutoff, bandwidth, kernel, degree=1, clusters=codes)
    value = float(fit["jump"][0])
    se = float(np.sqrt(fit["covariance"][0, 0]))
    extra = _extras(fit, bandwidth, kernel, cluster, donut)
    n_used = fit["n_left"] + fit["n_right"]
    method = _describe("local linear RD", kernel, bandwidth, cluster, donut)
    if inference == "conventional":
        return Estimate.from_se(value, se, n=n_used, estimand="effect at the cutoff",
                                method=method, level=level, extra=extra)
    corrected = jumps(x, y[:, None], cutoff, bandwidth, kernel, degree=2, clusters=codes)
    centre = float(corrected["jump"][0])
    robust_se = float(np.sqrt(corrected["covariance"][0, 0]))
    q = stats.norm.ppf(1 - (1 - level) / 2)
    robust_pvalue = float(2 * stats.norm.sf(abs(centre / robust_se)))
    extra.update({"bias_corrected": centre, "conventional_se": se, "robust_pvalue": robust_pvalue})
    return Estimate(value=value, se=robust_se, ci_low=centre - q * robust_se,
                    ci_high=centre + q * robust_se, n=n_used, estimand="effect at the cutoff",
                    method=method + ", robust bias-corrected CI", level=level, extra=extra)


def fuzzy_rd(
    data: pd.DataFrame,
    *,
    outcome: str,
    treatment: str,
    running: str,
    cutoff: float,
    bandwidth: float | None = None,
    kernel: str = "triangular",
    cluster: str | None = None,
    donut: float = 0.0,
    level: float = 0.95,
) -> Estimate:
    """The fuzzy regression discontinuity estimate: a local Wald (IV) ratio at the cutoff.

    Estimand: the local average treatment effect of the compliers at the cutoff,
    E[Y(1) - Y(0) | complier, R = c], where crossing c changes the probability of
    treatment without fixing it.

    Formula: the jump in the outcome divided by the jump in the treatment rate, each
    estimated by local linear regression with the same bandwidth and kernel:
        tau_hat = (a_Y,right - a_Y,left) / (a_T,right - a_T,left).
    It equals two-stage least squares of Y on T with the instrument Z = 1{R >= c}, the
    controls (R - c) and Z (R - c), and kernel weights. The standard error is the delta
    method on the HC1 (or, with ``cluster=``, CR1) covariance of the two jumps:
    var = (V_Y - 2 tau C_YT + tau^2 V_T) / jump_T^2. ``cluster`` and ``donut`` work as in
    `local_linear_rd`.

    Assumptions: those of `local_linear_rd` for Y and T, plus the IV assumptions at the
    cutoff: crossing c affects Y only through T (exclusion), nobody is pushed out of
    treatment by crossing (monotonicity), and the first-stage jump is not zero.

    Example
    -------
    >>> from lessons_lib import simulate
    >>> sim = simulate.loyalty_cutoff(3_000, seed=1, design="fuzzy")
    >>> est = fuzzy_rd(sim.data, outcome="Y", treatment="T", running="loyalty", cutoff=70, bandwidth=15)
    >>> est.covers(sim.truth["effect at the cutoff"])
    True
    """
    require_level(level)
    (y, t), x, codes, cutoff, bandwidth = _prepare(data, [outcome, treatment], running, cutoff,
                                                   bandwidth, kernel, cluster, donut, outcome)
    fit = jumps(x, np.column_stack([y, t]), cutoff, bandwidth, kernel, degree=1, clusters=codes)
    jump_y, jump_t = (float(v) for v in fit["jump"])
    cov = fit["covariance"]
    first_stage_z = jump_t / np.sqrt(cov[1, 1]) if cov[1, 1] > 0 else np.inf
    if abs(jump_t) < 1e-8 or abs(first_stage_z) < 2:
        raise ValueError(
            f"the treatment rate of '{treatment}' barely jumps at the cutoff (jump {jump_t:.3g}, "
            f"z = {first_stage_z:.2f}): there is no first stage, so the fuzzy RD ratio is "
            "not identified. Check the cutoff and the treatment column, or widen the bandwidth"
        )
    tau = jump_y / jump_t
    variance = (cov[0, 0] - 2 * tau * cov[0, 1] + tau**2 * cov[1, 1]) / jump_t**2
    extra = _extras(fit, bandwidth, kernel, cluster, donut)
    extra.update({"first_stage_jump": jump_t, "reduced_form_jump": jump_y})
    return Estimate.from_se(tau, float(np.sqrt(variance)), n=fit["n_left"] + fit["n_right"],
                            estimand="LATE at the cutoff",
                            method=_describe("fuzzy RD, local Wald ratio", kernel, bandwidth,
                                             cluster, donut),
                            level=level, extra=extra)


def covariate_balance(
    data: pd.DataFrame,
    *,
    covariates: Sequence[str],
    running: str,
    cutoff: float,
    bandwidth: float,
    kernel: str = "triangular",
    inference: str = "conventional",
    cluster: str | None = None,
    level: float = 0.95,
) -> pd.DataFrame:
    """The RD estimate with each pre-treatment covariate in place of the outcome.

    A covariate fixed before the running variable was realised cannot be moved by the
    treatment, so under continuity its jump at the cutoff is zero. A clear jump is
    evidence that the units on the two sides differ (sorting), and that the outcome's jump
    may not be the treatment's effect. Each covariate goes through `local_linear_rd` with
    the same bandwidth, kernel, inference and clusters.

    Returns a DataFrame with one row per covariate: ``covariate``, ``estimate``, ``se``,
    ``ci_low``, ``ci_high``, ``pvalue``, ``n``. With inference="robust" the interval and the
    p-value are the robust bias-corrected ones, and a ``bias_corrected`` column (the centre
    of that interval) follows ``estimate``.
    """
    if isinstance(covariates, str) or len(covariates) == 0:
        raise ValueError("covariates must be a non-empty list of column names, such as ['age']")
    rows = []
    for covariate in covariates:
        est = local_linear_rd(data, outcome=covariate, running=running, cutoff=cutoff,
                              bandwidth=bandwidth, kernel=kernel, inference=inference,
                              cluster=cluster, level=level)
        row = {"covariate": covariate, "estimate": est.value}
        if inference == "robust":
            row["bias_corrected"] = est.extra["bias_corrected"]
        row.update({"se": est.se, "ci_low": est.ci_low, "ci_high": est.ci_high,
                    "pvalue": est.extra.get("robust_pvalue", est.pvalue), "n": est.n})
        rows.append(row)
    return pd.DataFrame(rows)


def placebo_cutoffs(
    data: pd.DataFrame,
    *,
    outcome: str,
    running: str,
    cutoff: float,
    placebos: Sequence[float],
    bandwidth: float,
    kernel: str = "triangular",
    cluster: str | None = None,
) -> pd.DataFrame:
    """Local linear RD estimates at fake cutoffs, where the true jump is zero.

    For a placebo below the real cutoff only units below it are used (and above, only
    units above), so the real jump never leaks into a placebo estimate. Roughly 95% of
    the placebo intervals should contain zero; many that do not suggest the outcome has
    jumps or kinks the design does not explain, or a bandwidth too wide for the curvature.

    Returns a DataFrame with columns ``cutoff``, ``estimate``, ``se``, ``ci_low``,
    ``ci_high``, ``n``, one row per placebo.
    """
    _, x = columns(data, [outcome, running])
    cutoff = check_cutoff(x, cutoff, running)
    bandwidth = check_bandwidth(bandwidth)
    rows = []
    for placebo in placebos:
        if placebo == cutoff:
            raise ValueError(f"placebo cutoffs must differ from the real cutoff {cutoff}")
        side = data[x < cutoff] if placebo < cutoff else data[x >= cutoff]
        est = local_linear_rd(side, outcome=outcome, running=running, cutoff=float(placebo),
                              bandwidth=bandwidth, kernel=kernel, cluster=cluster)
        rows.append({"cutoff": float(placebo), "estimate": est.value, "se": est.se,
                     "ci_low": est.ci_low, "ci_high": est.ci_high, "n": est.n})
    return pd.DataFrame(rows)
