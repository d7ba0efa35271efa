"""Stratified count tables: rates by stratum, standardized rates, Mantel-Haenszel. See chapter 10.

Simpson's paradox lives in tables of counts: applicants and admissions by department and
sex, patients and successes by treatment and stone size. A comparison can reverse when
the table is collapsed over a third variable S. Which comparison answers a causal question
is decided by the graph, not by the table (chapter 10): when S is a confounder (and a
valid backdoor set) the standardized rates

    R_t = sum_s P(Y = 1 | T = t, S = s) P(S = s)

are E[Y | do(T = t)] (the adjustment formula of chapter 09); when S is a mediator they are
a controlled direct effect, and the collapsed rates give the total effect.

The Mantel-Haenszel common odds ratio (Mantel and Haenszel, 1959) summarises the
stratum-specific odds ratios in one number, with the Robins-Breslow-Greenland (1986)
variance for its logarithm.
"""

from __future__ import annotations

from statistics import NormalDist

import numpy as np
import pandas as pd

from lessons_lib._validate import require_columns, require_frame, require_level
from lessons_lib.estimate import Estimate

__all__ = ["expand_counts", "stratified_rates", "standardized_rates", "mantel_haenszel"]


def _has_repeated_keys(table: pd.DataFrame, columns: list[str]) -> bool:
    """Whether two rows share the same values of ``columns`` (integer codes, no hashing of tuples)."""
    combined = np.zeros(len(table), dtype=np.int64)
    for column in columns:
        codes, uniques = pd.factorize(table[column])
        combined = combined * max(len(uniques), 1) + codes
    ordered = np.sort(combined)
    return bool((ordered[1:] == ordered[:-1]).any())


def _check_counts(table: pd.DataFrame, columns: list[str], count: str, successes: str) -> pd.DataFrame:
    require_frame(table, "table")
    require_columns(table, columns, numeric=False)
    require_columns(table, [count, successes])
    totals = table[count].to_numpy(dtype=float)
    events = table[successes].to_numpy(dtype=float)
    if (totals < 0).any() or (events < 0).any() or (totals != np.round(totals)).any() or (events != np.round(events)).any():
        raise ValueError(f"'{count}' and '{successes}' must be non-negative whole numbers (counts)")
    if (events > totals).any():
        bad = table.loc[events > totals].head(3)
        raise ValueError(f"'{successes}' exceeds '{count}' in row(s):\n{bad}")
    if _has_repeated_keys(table, columns):
        raise ValueError(f"the table has repeated rows for the same {columns}; aggregate it first (groupby().sum())")
    return table


def expand_counts(
    table: pd.DataFrame,
    *,
    count: str,
    successes: str,
    outcome: str = "outcome",
) -> pd.DataFrame:
    """One row per unit from a table of counts: each row of ``table`` becomes ``count`` rows,
    ``successes`` of them with ``outcome = 1`` and the rest with 0; other columns are copied.

    This lets any unit-level estimator (``lessons_lib.adjustment.backdoor_adjustment``, a
    regression) run on published tables.

    >>> t = pd.DataFrame({"group": ["a", "b"], "n": [3, 2], "k": [1, 2]})
    >>> expand_counts(t, count="n", successes="k")["outcome"].tolist()
    [1, 0, 0, 1, 1]
    """
    others = [c for c in table.columns if c not in (count, successes)]
    _check_counts(table, others, count, successes)
    if outcome in others:
        raise ValueError(f"the table already has a column '{outcome}'; choose another outcome name")
    totals = table[count].to_numpy(dtype=int)
    events = table[successes].to_numpy(dtype=int)
    rows = np.repeat(np.arange(len(table)), totals)
    flags = np.concatenate([np.r_[np.ones(k, dtype=int), np.zeros(n - k, dtype=int)]
                            for n, k in zip(totals, events, strict=True)]) if len(rows) else np.zeros(0, int)
    expanded = table[others].iloc[rows].reset_index(drop=True)
    expanded[outcome] = flags
    return expanded


def stratified_rates(
    table: pd.DataFrame,
    *,
    treatment: str,
    stratum: str,
    count: str,
    successes: str,
) -> pd.DataFrame:
    """The success rate of each treatment value in each stratum, and collapsed ("all").

    Returns a DataFrame indexed by stratum (plus a final row "all"), one column per
    treatment value.
    """
    _check_counts(table, [treatment, stratum], count, successes)
    sums = table.groupby([stratum, treatment], sort=False)[[count, successes]].sum()
    rates = (sums[successes] / sums[count]).unstack(treatment)
    overall = table.groupby(treatment, sort=False)[[count, successes]].sum()
    rates.loc["all"] = overall[successes] / overall[count]
    rates.columns.name = treatment
    return rates


def standardized_rates(
    table: pd.DataFrame,
    *,
    treatment: str,
    stratum: str,
    count: str,
    successes: str,
) -> pd.Series:
    """Directly standardized success rates: R_t = sum_s rate(t, s) w_s, w_s = n_s / n.

    The weights are every stratum's share of all units (both treatments together), so the
    rates compare the treatments on one common population: the adjustment formula
    sum_s P(Y=1 | t, s) P(s). Raises a ValueError when a stratum lacks a treatment value
    (positivity fails there).

    >>> from lessons_lib.datasets import kidney_stones
    >>> standardized_rates(kidney_stones(), treatment="treatment", stratum="stone_size",
    ...                    count="patients", successes="successes").round(3).tolist()
    [0.833, 0.779]
    """
    rates = stratified_rates(table, treatment=treatment, stratum=stratum, count=count,
                             successes=successes).drop(index="all")
    if rates.isna().any().any():
        empty = rates[rates.isna().any(axis=1)].index.tolist()
        raise ValueError(
            f"stratum(s) {empty} have no units under some value of '{treatment}': standardizing needs "
            "every treatment in every stratum (positivity)"
        )
    weights = table.groupby(stratum, sort=False)[count].sum()
    weights = weights / weights.sum()
    result = rates.mul(weights.loc[rates.index], axis=0).sum()
    result.name = "standardized rate"
    return result


def mantel_haenszel(
    table: pd.DataFrame,
    *,
    treatment: str,
    stratum: str,
    count: str,
    successes: str,
    treated: object,
    level: float = 0.95,
) -> Estimate:
    """The Mantel-Haenszel common odds ratio of success, ``treated`` against the other value.

    Formula, per stratum k with a = treated successes, b = treated failures, c = other
    successes, d = other failures and n_k the stratum total:
        OR_MH = sum_k (a d / n_k) / sum_k (b c / n_k),
    with the Robins-Breslow-Greenland variance of log OR_MH; the interval is
    exp(log OR_MH +/- z se). The Estimate's ``se`` is that of log OR_MH (on the log scale).

    Assumptions: the odds ratio is (roughly) common to the strata; for a causal reading,
    the strata are a valid adjustment set. Agrees with statsmodels' ``StratifiedTable``.
    """
    require_level(level)
    _check_counts(table, [treatment, stratum], count, successes)
    values = pd.unique(table[treatment])
    if len(values) != 2 or treated not in set(values):
        raise ValueError(
            f"'{treatment}' must take exactly two values, one of them treated={treated!r}; found {list(values)}"
        )
    is_treated = (table[treatment] == treated).to_numpy()
    strata, _ = pd.factorize(table[stratum])
    k = int(strata.max()) + 1
    totals = table[count].to_numpy(dtype=float)
    events = table[successes].to_numpy(dtype=float)
    n1 = np.bincount(strata[is_treated], weights=totals[is_treated], minlength=k)
    a = np.bincount(strata[is_treated], weights=events[is_treated], minlength=k)
    n0 = np.bincount(strata[~is_treated], weights=totals[~is_treated], minlength=k)
    c = np.bincount(strata[~is_treated], weights=events[~is_treated], minlength=k)
    if ((n1 == 0) | (n0 == 0)).any():
        raise ValueError(f"a stratum of '{stratum}' has no units under one value of '{treatment}'")
    b, d = n1 - a, n0 - c
    n = n1 + n0
    r, s = a * d / n, b * c / n  # every stratum at once
    p, q = (a + d) / n, (b + c) / n
    numerator, denominator = r.sum(), s.sum()
    p_r, p_s_q_r, q_s = (p * r).sum(), (p * s + q * r).sum(), (q * s).sum()
    if numerator == 0 or denominator == 0:
        raise ValueError("the Mantel-Haenszel odds ratio is 0 or infinite here (no discordant counts)")
    log_or = np.log(numerator / denominator)
    variance = p_r / (2 * numerator**2) + p_s_q_r / (2 * numerator * denominator) + q_s / (2 * denominator**2)
    se = float(np.sqrt(variance))
    z = NormalDist().inv_cdf(1 - (1 - level) / 2)
    return Estimate(
        value=float(np.exp(log_or)), se=se, ci_low=float(np.exp(log_or - z * se)),
        ci_high=float(np.exp(log_or + z * se)), n=int(table[count].sum()),
        estimand=f"common odds ratio ({treated} vs other)", method="Mantel-Haenszel (SE of log OR)",
        level=level, extra={"log_odds_ratio": float(log_or)},
    )
