"""Regression discontinuity: the effect of a treatment at a cutoff. See chapter 07.

A unit is treated when its running variable X crosses a cutoff c (the loyalty score
reaching 70, the Democratic vote share passing 50%). If nothing else jumps at c, the
jump of E[Y | X = x] at x = c is the effect of the treatment for units at the cutoff:

    tau_RD = lim_{x -> c+} E[Y | X = x] - lim_{x -> c-} E[Y | X = x]
           = E[Y(1) - Y(0) | X = c]            (sharp design, continuity assumption)

Everything here estimates the two one-sided limits with local polynomial regression:
a weighted least-squares line fitted separately on each side, with kernel weights
K((X - c) / h) that fall to zero at distance h (the bandwidth) from the cutoff.

Functions
---------
local_linear_rd     the sharp RD estimate, with conventional or robust bias-corrected
                    inference (Calonico, Cattaneo and Titiunik, 2014)
fuzzy_rd            the fuzzy RD estimate: the jump in Y divided by the jump in T
mse_bandwidth       a plug-in MSE-optimal bandwidth (Imbens and Kalyanaraman's formula
                    and steps, simplified)
density_test        a McCrary (2008) test for a jump in the density of X at the cutoff
placebo_cutoffs     the same estimate at fake cutoffs, where the true jump is zero
binned_means        the means of Y in bins of X, for the classic RD plot
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from lessons_lib._validate import require_columns, require_frame, require_level
from lessons_lib.estimate import Estimate

KERNELS = ("triangular", "uniform", "epanechnikov")

# The constant of the MSE-optimal bandwidth for local linear regression at a boundary
# with the triangular kernel: (V / B^2)^(1/5), where B = -1/10 and V = 24/5 are the
# kernel's boundary bias and variance constants. Imbens and Kalyanaraman (2012) give 3.4375.
TRIANGULAR_MSE_CONSTANT = 3.4375


# ---------------------------------------------------------------------------------------
# Input checks


def _check_kernel(kernel: str) -> None:
    if kernel not in KERNELS:
        raise ValueError(f"kernel must be one of {list(KERNELS)}; got {kernel!r}")


def _check_cutoff(x: np.ndarray, cutoff: float, running: str) -> float:
    if not isinstance(cutoff, (int, float, np.integer, np.floating)) or not np.isfinite(cutoff):
        raise ValueError(f"cutoff must be a finite number, such as 70; got {cutoff!r}")
    if not (x.min() < cutoff <= x.max()):
        raise ValueError(
            f"the cutoff {cutoff} is outside the range of '{running}' "
            f"[{x.min():.4g}, {x.max():.4g}]: a discontinuity needs units on both sides"
        )
    return float(cutoff)


def _check_bandwidth(bandwidth: object) -> float:
    if (not isinstance(bandwidth, (int, float, np.integer, np.floating))
            or isinstance(bandwidth, bool) or not np.isfinite(bandwidth) or bandwidth <= 0):
        raise ValueError(f"bandwidth must be a positive number; got {bandwidth!r}")
    return float(bandwidth)


def _kernel_weights(u: np.ndarray, kernel: str) -> np.ndarray:
    """K(u) for u = (X - c) / h; zero outside |u| <= 1."""
    inside = np.abs(u) <= 1
    if kernel == "triangular":
        return np.where(inside, 1 - np.abs(u), 0.0)
    if kernel == "epanechnikov":
        return np.where(inside, 0.75 * (1 - u**2), 0.0)
    return np.where(inside, 0.5, 0.0)


def _columns(data: pd.DataFrame, names: Sequence[str]) -> list[np.ndarray]:
    require_frame(data)
    require_columns(data, list(names))
    return [data[name].to_numpy(dtype=float) for name in names]


# ---------------------------------------------------------------------------------------
# The one-sided fit


def _side_fit(distance: np.ndarray, outcomes: np.ndarray, weights: np.ndarray, degree: int,
              side: str, bandwidth: float) -> tuple[np.ndarray, np.ndarray]:
    """Weighted polynomial fit on one side; returns the intercepts and their influence terms.

    ``outcomes`` is (n, k): several outcomes share the design (Y and T in a fuzzy design).
    The intercept is a_hat = e1' (Z'WZ)^{-1} Z'W y, a weighted sum sum_i l_i y_i, so
    its HC1 variance is n/(n - p - 1) * sum_i l_i^2 r_i^2 with r_i the residuals.
    Returns (intercepts, l_i * r_i scaled by the HC1 factor), the latter (n, k).
    """
    keep = weights > 0
    n_used = int(keep.sum())
    n_params = degree + 1
    if n_used < n_params + 1:
        raise ValueError(
            f"only {n_used} observation(s) within the bandwidth {bandwidth:.4g} {side} the cutoff; "
            f"a degree-{degree} fit needs at least {n_params + 1}. Widen the bandwidth"
        )
    z = np.vander(distance[keep], n_params, increasing=True)
    w = weights[keep]
    gram = z.T @ (z * w[:, None])
    if np.linalg.matrix_rank(gram) < n_params:
        raise ValueError(
            f"the running variable takes too few distinct values within the bandwidth {side} "
            "the cutoff to fit a line; widen the bandwidth"
        )
    projection = np.linalg.solve(gram, (z * w[:, None]).T)  # (p+1, n): rows give coefficients
    coefficients = projection @ outcomes[keep]
    residuals = outcomes[keep] - z @ coefficients
    hc1 = np.sqrt(n_used / (n_used - n_params))
    influence = projection[0][:, None] * residuals * hc1
    return coefficients[0], influence


def _jumps(x: np.ndarray, outcomes: np.ndarray, cutoff: float, bandwidth: float, kernel: str,
           degree: int) -> dict:
    """Fit both sides; return the jumps, their HC1 covariance and the counts."""
    distance = x - cutoff
    weights = _kernel_weights(distance / bandwidth, kernel)
    right, left = distance >= 0, distance < 0
    a_right, infl_right = _side_fit(distance[right], outcomes[right], weights[right], degree,
                                    "above", bandwidth)
    a_left, infl_left = _side_fit(distance[left], outcomes[left], weights[left], degree,
                                  "below", bandwidth)
    covariance = infl_right.T @ infl_right + infl_left.T @ infl_left
    return {
        "jump": a_right - a_left,
        "covariance": covariance,
        "n_right": int((weights[right] > 0).sum()),
        "n_left": int((weights[left] > 0).sum()),
        "limit_right": a_right,
        "limit_left": a_left,
    }


# ---------------------------------------------------------------------------------------
# Public estimators


def local_linear_rd(
    data: pd.DataFrame,
    *,
    outcome: str,
    running: str,
    cutoff: float,
    bandwidth: float | None = None,
    kernel: str = "triangular",
    inference: str = "conventional",
    level: float = 0.95,
) -> Estimate:
    """The sharp regression discontinuity estimate by local linear regression.

    Estimand: tau = E[Y(1) - Y(0) | X = c], the effect of treatment for units at the
    cutoff, where treatment is T = 1{X >= c}.

    Formula: on each side of c, fit by weighted least squares
        Y = a + b (X - c),   with weights K((X - c) / h),
    using only units with |X - c| <= h. The estimate is the gap between the two
    intercepts, tau_hat = a_right - a_left. Its conventional standard error is the
    heteroskedasticity-robust (HC1) sandwich of each side's intercept, combined as
    sqrt(se_right^2 + se_left^2).

    inference="robust" gives the robust bias-corrected interval of Calonico, Cattaneo and
    Titiunik (2014) with the pilot bandwidth equal to h: the interval is centred on the
    local *quadratic* estimate at bandwidth h (the local linear estimate minus its
    estimated bias) and uses that estimate's HC1 standard error, which accounts for the
    bias correction. The point estimate (``value``) stays the local linear one; the
    bias-corrected centre is in ``extra["bias_corrected"]``. This is what
    ``rdrobust(y, x, c, h=h, b=h, vce="hc1")`` reports in its Conventional and Robust rows.

    Assumptions: continuity of E[Y(0) | X = x] and E[Y(1) | X = x] at c (nothing else
    jumps there; units cannot sort precisely around c), a sharp design (everyone above
    is treated, nobody below), and enough units near c on both sides.

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
    _check_kernel(kernel)
    if inference not in ("conventional", "robust"):
        raise ValueError(f"inference must be 'conventional' or 'robust'; got {inference!r}")
    y, x = _columns(data, [outcome, running])
    cutoff = _check_cutoff(x, cutoff, running)
    if bandwidth is None:
        bandwidth = mse_bandwidth(data, outcome=outcome, running=running, cutoff=cutoff)
    bandwidth = _check_bandwidth(bandwidth)
    fit = _jumps(x, y[:, None], cutoff, bandwidth, kernel, degree=1)
    value = float(fit["jump"][0])
    se = float(np.sqrt(fit["covariance"][0, 0]))
    extra = {"bandwidth": bandwidth, "kernel": kernel, "n_left": fit["n_left"],
             "n_right": fit["n_right"]}
    n_used = fit["n_left"] + fit["n_right"]
    method = f"local linear RD ({kernel} kernel, h = {bandwidth:.3g})"
    if inference == "conventional":
        return Estimate.from_se(value, se, n=n_used, estimand="effect at the cutoff",
                                method=method, level=level, extra=extra)
    corrected = _jumps(x, y[:, None], cutoff, bandwidth, kernel, degree=2)
    centre = float(corrected["jump"][0])
    robust_se = float(np.sqrt(corrected["covariance"][0, 0]))
    q = stats.norm.ppf(1 - (1 - level) / 2)
    extra.update({"bias_corrected": centre, "conventional_se": se})
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
    level: float = 0.95,
) -> Estimate:
    """The fuzzy regression discontinuity estimate: a local Wald (IV) ratio at the cutoff.

    Estimand: the local average treatment effect of the compliers at the cutoff,
    E[Y(1) - Y(0) | complier, X = c], where crossing c changes the probability of
    treatment without fixing it.

    Formula: the jump in the outcome divided by the jump in the treatment rate, each
    estimated by local linear regression with the same bandwidth and kernel:
        tau_hat = (a_Y,right - a_Y,left) / (a_T,right - a_T,left).
    It equals two-stage least squares of Y on T with the instrument Z = 1{X >= c}, the
    controls (X - c) and Z (X - c), and kernel weights. The standard error is the delta
    method on the HC1 sandwich: var = (V_Y - 2 tau C_YT + tau^2 V_T) / jump_T^2.

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
    _check_kernel(kernel)
    y, t, x = _columns(data, [outcome, treatment, running])
    cutoff = _check_cutoff(x, cutoff, running)
    if bandwidth is None:
        bandwidth = mse_bandwidth(data, outcome=outcome, running=running, cutoff=cutoff)
    bandwidth = _check_bandwidth(bandwidth)
    fit = _jumps(x, np.column_stack([y, t]), cutoff, bandwidth, kernel, degree=1)
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
    extra = {"bandwidth": bandwidth, "kernel": kernel, "first_stage_jump": jump_t,
             "reduced_form_jump": jump_y, "n_left": fit["n_left"], "n_right": fit["n_right"]}
    return Estimate.from_se(tau, float(np.sqrt(variance)), n=fit["n_left"] + fit["n_right"],
                            estimand="LATE at the cutoff",
                            method=f"fuzzy RD, local Wald ratio ({kernel} kernel, "
                                   f"h = {bandwidth:.3g})",
                            level=level, extra=extra)


def mse_bandwidth(
    data: pd.DataFrame,
    *,
    outcome: str,
    running: str,
    cutoff: float,
) -> float:
    """A plug-in MSE-optimal bandwidth for local linear RD with the triangular kernel.

    The asymptotic mean squared error of the local linear RD estimate is
        AMSE(h) = (h^2 B Delta / 2)^2 + V (s2_right + s2_left) / (n h f(c)),
    where Delta = m''_right(c) - m''_left(c) is the jump in the curvature of E[Y | X],
    s2 the conditional variances of Y at c, f(c) the density of X at c, and B = -1/10,
    V = 24/5 constants of the triangular kernel. Minimising over h gives
        h = 3.4375 * [(s2_right + s2_left) / (f(c) (Delta^2 + r))]^(1/5) * n^(-1/5),
    the formula of Imbens and Kalyanaraman (2012), whose regularisation term r keeps h
    finite when the two curvatures happen to be equal.

    The unknowns are estimated in the steps of Imbens and Kalyanaraman, simplified:
      1. pilot h1 = 1.84 sd(X) n^(-1/5); f(c) = #{|X - c| <= h1} / (2 n h1); s2 on each
         side = residual variance of a straight line fitted within h1 of c on that side;
      2. a third derivative m3 from one cubic in (X - c), with a jump at c, fitted to the
         units between the median of X below c and the median of X above c;
      3. on each side, a second pilot h2 = 3.56 (s2 / (f(c) m3^2))^(1/7) n_side^(-1/7),
         and m'' = twice the quadratic coefficient of a quadratic fitted within h2;
      4. r = sum over sides of 2160 s2 / (n_h2 h2^4), with n_h2 the units within h2.
    rdrobust's ``mserd`` selector (Calonico, Cattaneo and Titiunik) estimates the same
    quantities differently; expect the two to be of the same order, not equal. The
    result is capped at the distance from c to the farther end of the data.

    Example
    -------
    >>> from lessons_lib import simulate
    >>> sim = simulate.loyalty_cutoff(3_000, seed=1)
    >>> 5 < mse_bandwidth(sim.data, outcome="Y", running="loyalty", cutoff=70) < 25
    True
    """
    y, x = _columns(data, [outcome, running])
    cutoff = _check_cutoff(x, cutoff, running)
    n = len(x)
    distance = x - cutoff
    right, left = distance >= 0, distance < 0
    if min(right.sum(), left.sum()) < 10:
        raise ValueError(
            f"need at least 10 units on each side of the cutoff to choose a bandwidth; found "
            f"{int(left.sum())} below and {int(right.sum())} above. Pass bandwidth= yourself"
        )
    sides = {"above": right, "below": left}
    # Step 1: the density and the variances at the cutoff.
    pilot = 1.84 * np.std(x, ddof=1) * n ** (-1 / 5)
    near = np.abs(distance) <= pilot
    density = near.sum() / (2 * n * pilot)
    variance = {}
    for name, side in sides.items():
        close = side & near
        if close.sum() < 4:
            raise ValueError(
                f"fewer than 4 units within the pilot bandwidth {pilot:.3g} {name} the cutoff; "
                "pass bandwidth= yourself"
            )
        line = np.polyfit(distance[close], y[close], 1)
        variance[name] = float(np.var(y[close] - np.polyval(line, distance[close]), ddof=2))
    # Step 2: the third derivative, from a cubic with a jump, between the side medians.
    middle = (x >= np.median(x[left])) & (x <= np.median(x[right]))
    d = distance[middle]
    design = np.column_stack([np.ones(len(d)), d >= 0, d, d**2, d**3])
    if middle.sum() < 10 or np.linalg.matrix_rank(design) < 5:
        raise ValueError("too few distinct values of the running variable near the cutoff "
                         "to choose a bandwidth; pass bandwidth= yourself")
    third = 6 * np.linalg.lstsq(design, y[middle], rcond=None)[0][4]
    # Steps 3 and 4: the curvature on each side, and the regularisation.
    curvature, regularisation = {}, 0.0
    farthest = float(np.abs(distance).max())
    for name, side in sides.items():
        if third == 0:
            second_pilot = farthest
        else:
            second_pilot = 3.56 * (variance[name] / (density * third**2)) ** (1 / 7) * int(
                side.sum()) ** (-1 / 7)
        close = side & (np.abs(distance) <= second_pilot)
        if close.sum() < 4 or np.unique(distance[close]).size < 3:
            raise ValueError(f"too few units {name} the cutoff to estimate the curvature; "
                             "pass bandwidth= yourself")
        curvature[name] = 2 * np.polyfit(distance[close], y[close], 2)[0]
        regularisation += 2160 * variance[name] / (close.sum() * second_pilot**4)
    jump = curvature["above"] - curvature["below"]
    h = TRIANGULAR_MSE_CONSTANT * (
        (variance["above"] + variance["below"]) / (density * (jump**2 + regularisation))
    ) ** (1 / 5) * n ** (-1 / 5)
    return float(min(h, farthest))


def density_test(
    data: pd.DataFrame,
    *,
    running: str,
    cutoff: float,
    bandwidth: float | None = None,
    bin_width: float | None = None,
    level: float = 0.95,
) -> Estimate:
    """McCrary's (2008) test for a jump in the density of the running variable at c.

    Estimand: theta = ln f(c+) - ln f(c-), the log jump in the density of X at the
    cutoff. Without manipulation (units cannot push themselves across c) theta = 0.

    Method: (1) a fine histogram of X with bins of width b that never straddle c,
    heights count / (n b); (2) a local linear regression of the heights on the bin
    midpoints on each side, triangular kernel, bandwidth h, whose intercepts estimate
    f(c+) and f(c-); (3) theta_hat = ln f_hat(c+) - ln f_hat(c-), with McCrary's standard error
        se = sqrt( (1 / (n h)) * (24 / 5) * (1 / f_hat(c+) + 1 / f_hat(c-)) ).

    Defaults: b = 2 sd(X) n^(-1/2) (McCrary's first-step rule) and
    h = 1.84 sd(X) n^(-1/5) (a simple rule of thumb; McCrary's own is more elaborate).
    A large |theta_hat| / se (a small p-value) is evidence of sorting around the cutoff.

    Example
    -------
    >>> from lessons_lib import simulate
    >>> sim = simulate.loyalty_cutoff(3_000, seed=1)
    >>> abs(density_test(sim.data, running="loyalty", cutoff=70).value) < 0.3
    True
    """
    require_level(level)
    (x,) = _columns(data, [running])
    cutoff = _check_cutoff(x, cutoff, running)
    n = len(x)
    spread = np.std(x, ddof=1)
    if spread == 0:
        raise ValueError(f"'{running}' does not vary, so it has no density to test")
    b = 2 * spread / np.sqrt(n) if bin_width is None else _check_bandwidth(bin_width)
    h = 1.84 * spread * n ** (-1 / 5) if bandwidth is None else _check_bandwidth(bandwidth)
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
    weights = _kernel_weights(midpoints / h, "triangular")
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
                                   "bandwidth": h, "bin_width": b})


def placebo_cutoffs(
    data: pd.DataFrame,
    *,
    outcome: str,
    running: str,
    cutoff: float,
    placebos: Sequence[float],
    bandwidth: float,
    kernel: str = "triangular",
) -> pd.DataFrame:
    """Local linear RD estimates at fake cutoffs, where the true jump is zero.

    For a placebo below the real cutoff only units below it are used (and above, only
    units above), so the real jump never leaks into a placebo estimate. Roughly 95% of
    the placebo intervals should contain zero; many that do not suggest the outcome has
    jumps or kinks the design does not explain, or a bandwidth too wide for the curvature.

    Returns a DataFrame with columns ``cutoff``, ``estimate``, ``se``, ``ci_low``,
    ``ci_high``, ``n``, one row per placebo.
    """
    y, x = _columns(data, [outcome, running])
    cutoff = _check_cutoff(x, cutoff, running)
    bandwidth = _check_bandwidth(bandwidth)
    rows = []
    for placebo in placebos:
        if placebo == cutoff:
            raise ValueError(f"placebo cutoffs must differ from the real cutoff {cutoff}")
        side = data[x < cutoff] if placebo < cutoff else data[x >= cutoff]
        est = local_linear_rd(side, outcome=outcome, running=running, cutoff=float(placebo),
                              bandwidth=bandwidth, kernel=kernel)
        rows.append({"cutoff": float(placebo), "estimate": est.value, "se": est.se,
                     "ci_low": est.ci_low, "ci_high": est.ci_high, "n": est.n})
    return pd.DataFrame(rows)


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
    y, x = _columns(data, [outcome, running])
    cutoff = _check_cutoff(x, cutoff, running)
    bin_width = _check_bandwidth(bin_width)
    index = np.floor((x - cutoff) / bin_width).astype(np.int64)
    table = (pd.DataFrame({"bin": index, "y": y}).groupby("bin")["y"].agg(["mean", "size"])
             .reset_index())
    return pd.DataFrame({
        "x": cutoff + (table["bin"].to_numpy() + 0.5) * bin_width,
        "mean": table["mean"].to_numpy(),
        "n": table["size"].to_numpy(),
        "above": table["bin"].to_numpy() >= 0,
    })
