"""Identification by adjustment: the backdoor and frontdoor formulas, estimated. See chapter 09.

Both formulas turn an interventional quantity, E[Y | do(T = t)], into one computed from the
observational distribution, when the causal graph licenses it (check the graph with
`lessons_lib.graphs.DAG.is_valid_backdoor` and `DAG.is_frontdoor`).

Backdoor (Pearl, 1993): if S satisfies the backdoor criterion for T -> Y,

    E[Y | do(T = t)] = sum_s E[Y | T = t, S = s] P(S = s).

Frontdoor (Pearl, 1995): if M satisfies the frontdoor criterion for T -> Y,

    E[Y | do(T = t)] = sum_m P(M = m | T = t) sum_t' E[Y | M = m, T = t'] P(T = t').

The functions here estimate the ATE, E[Y | do(T=1)] - E[Y | do(T=0)], by plugging in
sample frequencies and cell means (discrete S or M), or, for a linear model, the product
of two regression coefficients (`frontdoor_linear`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from lessons_lib._inference import ols
from lessons_lib._validate import (
    require_binary,
    require_columns,
    require_frame,
    require_level,
)
from lessons_lib.estimate import Estimate

__all__ = ["backdoor_adjustment", "frontdoor_adjustment", "frontdoor_linear"]


def _adjustment_names(adjustment: str | Sequence[str], treatment: str, outcome: str) -> list[str]:
    names = [adjustment] if isinstance(adjustment, str) else list(adjustment)
    if not all(isinstance(v, str) for v in names):
        raise ValueError("covariates (the adjustment set) must be a list of column names, e.g. ['loyal', 'mobile'] (or [])")
    if len(set(names)) != len(names):
        raise ValueError(f"covariates (the adjustment set) lists a column twice: {names}")
    clash = {treatment, outcome} & set(names)
    if clash:
        raise ValueError(f"the adjustment set cannot contain the treatment or the outcome ({sorted(clash)})")
    return names


def _cells(data: pd.DataFrame, columns: list[str]) -> tuple[np.ndarray, list[tuple]]:
    """An integer label per row for each distinct combination of ``columns``, and the combinations."""
    if not columns:
        return np.zeros(len(data), dtype=int), [()]
    combined = np.zeros(len(data), dtype=np.int64)
    levels = []
    for column in columns:  # one integer per combination, built column by column (fast on big data)
        codes, uniques = pd.factorize(data[column], sort=True)
        combined = combined * len(uniques) + codes
        levels.append(uniques)
    present, codes = np.unique(combined, return_inverse=True)
    strata = []
    for key in present:
        values = []
        for uniques in reversed(levels):
            key, index = divmod(int(key), len(uniques))
            values.append(uniques[index].item() if hasattr(uniques[index], "item") else uniques[index])
        strata.append(tuple(reversed(values)))
    return codes.ravel(), strata


def _describe(columns: list[str], values: tuple) -> str:
    return ", ".join(f"{c}={v!r}" for c, v in zip(columns, values, strict=True)) or "(everyone)"


def backdoor_adjustment(
    data: pd.DataFrame,
    *,
    outcome: str,
    treatment: str,
    covariates: str | Sequence[str],
    level: float = 0.95,
) -> Estimate:
    """The ATE by the backdoor adjustment formula, stratifying on discrete variables.

    Estimand: E[Y | do(T=1)] - E[Y | do(T=0)], identified when the adjustment set S
    satisfies the backdoor criterion (no descendant of T; blocks every backdoor path).

    Formula (standardization over the strata s of S):
        tau_hat = sum_s p_s (mean(Y | T=1, s) - mean(Y | T=0, s)),  p_s = n_s / n
        se^2    = sum_s p_s^2 (v_1s / n_1s + v_0s / n_0s) + (1/n) sum_s p_s (d_s - tau_hat)^2,
    where d_s is the stratum's difference and v_ts the sample variance of Y in cell (t, s);
    the second term is the uncertainty of the stratum shares p_s (delta method).

    Assumptions: S is a valid backdoor set in the true graph (the data cannot check this),
    every stratum holds treated and untreated units (positivity: at least 2 of each), and
    consistency. S must be discrete (categories or a few numeric values): with a
    continuous covariate use regression, weighting or matching instead.

    Example
    -------
    >>> rng = np.random.default_rng(0)
    >>> s = rng.binomial(1, 0.5, 4_000)
    >>> t = rng.binomial(1, 0.2 + 0.6 * s)
    >>> y = 1.0 * t + 2.0 * s + rng.normal(size=4_000)
    >>> est = backdoor_adjustment(pd.DataFrame({"S": s, "T": t, "Y": y}), outcome="Y", treatment="T", covariates=["S"])
    >>> est.covers(1.0)
    True
    """
    require_frame(data)
    require_level(level)
    names = _adjustment_names(covariates, treatment, outcome)
    require_columns(data, [outcome])
    require_columns(data, names, numeric=False)
    t = require_binary(data, treatment)
    y = data[outcome].to_numpy(dtype=float)
    codes, strata = _cells(data, names)
    n = len(y)
    if len(strata) > n / 4:
        raise ValueError(
            f"the adjustment set {names} splits {n:,} rows into {len(strata):,} strata; stratifying needs "
            "discrete variables with few values. Coarsen them, or use regression or weighting"
        )
    # counts, sums and sums of squares of Y in every (stratum, arm) cell, in one pass each
    cell = codes * 2 + t
    size = 2 * len(strata)
    counts = np.bincount(cell, minlength=size).reshape(-1, 2)
    sums = np.bincount(cell, weights=y, minlength=size).reshape(-1, 2)
    too_small = np.flatnonzero((counts < 2).any(axis=1))
    if too_small.size:
        k = int(too_small[0])
        raise ValueError(
            f"no overlap in stratum {_describe(names, strata[k])}: it has {counts[k, 1]} treated and "
            f"{counts[k, 0]} untreated unit(s), and the formula needs at least 2 of each. "
            "Positivity fails there: merge strata, drop it (and say the estimand changed), or "
            "choose another adjustment set"
        )
    means = sums / counts
    squares = np.bincount(cell, weights=(y - means.ravel()[cell]) ** 2, minlength=size).reshape(-1, 2)
    variances = squares / (counts - 1)  # sample variance (ddof=1) in every cell
    shares = counts.sum(axis=1) / n
    differences = means[:, 1] - means[:, 0]
    value = float(shares @ differences)
    first_term = float(np.sum(shares**2 * (variances[:, 1] / counts[:, 1] + variances[:, 0] / counts[:, 0])))
    second_term = float(np.sum(shares * (differences - value) ** 2)) / n
    se = float(np.sqrt(first_term + second_term))
    return Estimate.from_se(
        value, se, n=n, estimand="ATE", level=level,
        method=f"backdoor adjustment (stratification on {', '.join(names) or 'nothing'})",
        extra={"strata": len(strata)},
    )


def frontdoor_adjustment(
    data: pd.DataFrame,
    *,
    outcome: str,
    treatment: str,
    mediator: str,
    level: float = 0.95,
) -> Estimate:
    """The ATE by the frontdoor formula, for a binary treatment and a discrete mediator.

    Estimand: E[Y | do(T=1)] - E[Y | do(T=0)], identified when M satisfies the frontdoor
    criterion (M intercepts every directed path T -> Y, no open backdoor path T -> M, and T
    blocks every backdoor path M -> Y), even if T and Y share an unmeasured cause.

    Formula:
        tau_hat = sum_m [q(m | 1) - q(m | 0)] g(m),   g(m) = sum_t' mu(m, t') pi(t'),
    with q(m | t) = P(M = m | T = t), mu(m, t) = mean(Y | M = m, T = t), pi(t) = P(T = t),
    all sample frequencies and means. The standard error is the delta method: the sample
    standard deviation of the influence function of tau_hat, divided by sqrt(n).

    Assumptions: the frontdoor criterion in the true graph, every (M, T) cell non-empty
    (positivity), consistency.

    Example
    -------
    >>> rng = np.random.default_rng(1)
    >>> u = rng.binomial(1, 0.5, 20_000)                  # unmeasured
    >>> t = rng.binomial(1, 0.2 + 0.6 * u)
    >>> m = rng.binomial(1, 0.1 + 0.6 * t)
    >>> y = rng.binomial(1, 0.05 + 0.3 * m + 0.4 * u)
    >>> est = frontdoor_adjustment(pd.DataFrame({"T": t, "M": m, "Y": y}), outcome="Y", mediator="M", treatment="T")
    >>> est.covers(0.3 * 0.6)
    True
    """
    require_frame(data)
    require_level(level)
    if len({treatment, mediator, outcome}) < 3:
        raise ValueError("treatment, mediator and outcome must be three different columns")
    require_columns(data, [outcome])
    require_columns(data, [mediator], numeric=False)
    t = require_binary(data, treatment)
    y = data[outcome].to_numpy(dtype=float)
    m_codes, m_values = pd.factorize(data[mediator], sort=True)
    n, k = len(y), len(m_values)
    if k < 2:
        raise ValueError(f"mediator '{mediator}' takes a single value: the treatment cannot work through it")
    if k > n / 10:
        raise ValueError(
            f"mediator '{mediator}' has {k} distinct values in {n:,} rows; this formula needs a discrete "
            "mediator with few values (use frontdoor_linear for a continuous one)"
        )
    pi = np.array([np.mean(t == 0), np.mean(t == 1)])
    q = np.zeros((k, 2))
    mu = np.zeros((k, 2))
    cell_share = np.zeros((k, 2))
    for j in range(k):
        for arm in (0, 1):
            cell = (m_codes == j) & (t == arm)
            if not cell.any():
                raise ValueError(
                    f"no overlap: no unit has {mediator}={m_values[j]!r} with {treatment}={arm}, so "
                    f"E[{outcome} | {mediator}, {treatment}] is unknown there. The frontdoor formula needs "
                    "every mediator value under both treatments"
                )
            mu[j, arm] = y[cell].mean()
            cell_share[j, arm] = cell.mean()
            q[j, arm] = cell.sum() / (t == arm).sum()
    g = mu @ pi  # g(m) = sum_t' mu(m, t') pi(t')
    delta_q = q[:, 1] - q[:, 0]
    value = float(delta_q @ g)
    # influence function of the plug-in estimator (see the docstring)
    g_i = g[m_codes]
    from_q = (t / pi[1]) * (g_i - q[:, 1] @ g) - ((1 - t) / pi[0]) * (g_i - q[:, 0] @ g)
    from_mu = delta_q[m_codes] * pi[t] / cell_share[m_codes, t] * (y - mu[m_codes, t])
    from_pi = (delta_q @ mu)[t] - value
    influence = from_q + from_mu + from_pi
    se = float(np.sqrt(np.sum(influence**2)) / n)
    return Estimate.from_se(value, se, n=n, estimand="ATE", level=level,
                            method=f"frontdoor adjustment (through {mediator})")


def _ols(y: np.ndarray, columns: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Coefficients and classical (homoskedastic) standard errors, as DoWhy computes them."""
    fit = ols(y, np.column_stack([np.ones(len(y)), *columns]), cov_type="nonrobust",
              what="the frontdoor regressions")
    return fit.params, fit.bse


def frontdoor_linear(
    data: pd.DataFrame,
    *,
    outcome: str,
    treatment: str,
    mediator: str,
    level: float = 0.95,
) -> Estimate:
    """The frontdoor effect in a linear model: the product of two regression slopes.

    Estimand: dE[Y | do(T = t)] / dt when M satisfies the frontdoor criterion and the
    relations T -> M and M -> Y are linear.

    Formula: a = slope of M on T (OLS with intercept); b = coefficient of M in the OLS of
    Y on M and T (T blocks the backdoor path M <- T <- U -> Y); tau_hat = a b, with the
    delta-method (Sobel) standard error sqrt(a^2 se_b^2 + b^2 se_a^2) from the classical
    OLS standard errors. This is DoWhy's ``frontdoor.two_stage_regression``.

    Assumptions: the frontdoor criterion, linearity, homoskedastic errors (for the SE);
    the SE is poor when a or b is near zero.

    >>> rng = np.random.default_rng(2)
    >>> u = rng.normal(size=5_000)
    >>> t = u + rng.normal(size=5_000)
    >>> m = 0.8 * t + rng.normal(size=5_000)
    >>> y = 1.5 * m + 2 * u + rng.normal(size=5_000)
    >>> frontdoor_linear(pd.DataFrame({"T": t, "M": m, "Y": y}), outcome="Y", mediator="M", treatment="T").covers(1.2)
    True
    """
    require_frame(data)
    require_level(level)
    if len({treatment, mediator, outcome}) < 3:
        raise ValueError("treatment, mediator and outcome must be three different columns")
    require_columns(data, [treatment, mediator, outcome])
    if len(data) < 5:
        raise ValueError(f"{len(data)} rows are too few for two regressions")
    t, m, y = (data[c].to_numpy(dtype=float) for c in (treatment, mediator, outcome))
    first, first_se = _ols(m, [t])
    second, second_se = _ols(y, [m, t])
    a, se_a, b, se_b = first[1], first_se[1], second[1], second_se[1]
    se = float(np.sqrt(a**2 * se_b**2 + b**2 * se_a**2))
    return Estimate.from_se(a * b, se, n=len(y), estimand="ATE", level=level,
                            method=f"frontdoor, two-stage regression (through {mediator})",
                            extra={"first_stage": float(a), "second_stage": float(b)})
