"""Choosing the bandwidth of a regression discontinuity: an MSE-optimal plug-in. See chapter 07.

`mse_bandwidth` is what `lessons_lib.rdd.local_linear_rd` uses when no bandwidth is given;
it is also available as ``rdd.mse_bandwidth``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lessons_lib._rdd_fit import check_cutoff, columns

__all__ = ["TRIANGULAR_MSE_CONSTANT", "mse_bandwidth"]

# The constant of the MSE-optimal bandwidth for local linear regression at a boundary
# with the triangular kernel: (V / B^2)^(1/5), where B = -1/10 and V = 24/5 are the
# kernel's boundary bias and variance constants. Imbens and Kalyanaraman (2012) give 3.4375.
TRIANGULAR_MSE_CONSTANT = 3.4375


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
    where Delta = m''_right(c) - m''_left(c) is the jump in the curvature of E[Y | R],
    s2 the conditional variances of Y at c, f(c) the density of R at c, and B = -1/10,
    V = 24/5 constants of the triangular kernel. Minimising over h gives
        h = 3.4375 * [(s2_right + s2_left) / (f(c) (Delta^2 + r))]^(1/5) * n^(-1/5),
    the formula of Imbens and Kalyanaraman (2012), whose regularisation term r keeps h
    finite when the two curvatures happen to be equal.

    The unknowns are estimated in the steps of Imbens and Kalyanaraman, simplified:
      1. pilot h1 = 1.84 sd(R) n^(-1/5); f(c) = #{|R - c| <= h1} / (2 n h1); s2 on each
         side = residual variance of a straight line fitted within h1 of c on that side;
      2. a third derivative m3 from one cubic in (R - c), with a jump at c, fitted to the
         units between the median of R below c and the median of R above c;
      3. on each side, a second pilot h2 = 3.56 (s2 / (f(c) m3^2))^(1/7) n_side^(-1/7),
         and m'' = twice the quadratic coefficient of a quadratic fitted within h2;
      4. r = sum over sides of 2160 s2 / (n_h2 h2^4), with n_h2 the units within h2.
    rdrobust's ``mserd`` selector (Calonico, Cattaneo and Titiunik) estimates the same
    quantities differently; expect the two to be of the same order, not equal. The
    result is capped at the distance from c to the farther end of the data.

    Every row counts as an independent unit (n, f(c) and s2 are per row). When the data
    hold several dependent rows per cluster that share the running value (two ADA scores
    per election), pass one row per cluster (for example the cluster means): duplicated
    rows double n and shrink h by about 2^(-1/5), as if the data held twice the units.

    Example
    -------
    >>> from lessons_lib import simulate
    >>> sim = simulate.loyalty_cutoff(3_000, seed=1)
    >>> 5 < mse_bandwidth(sim.data, outcome="Y", running="loyalty", cutoff=70) < 25
    True
    """
    y, x = columns(data, [outcome, running])
    cutoff = check_cutoff(x, cutoff, running)
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
