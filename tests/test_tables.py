"""Tests of lessons_lib.tables and the chapter 10 data: published numbers, statsmodels, coverage."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.contingency_tables import StratifiedTable

from lessons_lib.adjustment import backdoor_adjustment
from lessons_lib.datasets import berkeley_admissions, kidney_stones
from lessons_lib.tables import expand_counts, mantel_haenszel, standardized_rates, stratified_rates
from lessons_lib.testing import assert_agrees, assert_calibrated, monte_carlo

BERKELEY = dict(count="applicants", successes="admitted")
KIDNEY = dict(count="patients", successes="successes")


def test_berkeley_published_numbers():
    """Bickel, Hammel and O'Connell (1975); Freedman, Pisani and Purves (2007, ch. 2)."""
    table = berkeley_admissions()
    assert table["applicants"].sum() == 4_526
    rates = stratified_rates(table, treatment="sex", stratum="department", **BERKELEY)
    # the six-department table, rates as published (rounded to whole percents)
    published = {"A": (62, 82), "B": (63, 68), "C": (37, 34), "D": (33, 35), "E": (28, 24), "F": (6, 7)}
    for department, (men, women) in published.items():
        assert round(100 * rates.loc[department, "men"]) == men
        assert round(100 * rates.loc[department, "women"]) == women
    assert round(100 * rates.loc["all", "men"], 1) == 44.5
    assert round(100 * rates.loc["all", "women"], 1) == 30.4
    # Freedman, Pisani and Purves: weighted by all applicants, 39% of men and 43% of women
    standardized = standardized_rates(table, treatment="sex", stratum="department", **BERKELEY)
    assert round(100 * standardized["men"]) == 39
    assert round(100 * standardized["women"]) == 43


def test_kidney_published_numbers():
    """Charig et al. (1986), as tabulated by Julious and Mullee (1994)."""
    rates = stratified_rates(kidney_stones(), treatment="treatment", stratum="stone_size",
                             **KIDNEY)
    expected = {("small", "A: open surgery"): 93, ("small", "B: PCNL"): 87,
                ("large", "A: open surgery"): 73, ("large", "B: PCNL"): 69,
                ("all", "A: open surgery"): 78, ("all", "B: PCNL"): 83}
    for (size, treatment), percent in expected.items():
        assert round(100 * rates.loc[size, treatment]) == percent


def _statsmodels_tables(table, treatment, stratum, treated, count, successes):
    tables = []
    for _, part in table.groupby(stratum, sort=False):
        t = part[part[treatment] == treated].iloc[0]
        c = part[part[treatment] != treated].iloc[0]
        tables.append(np.array([[t[successes], t[count] - t[successes]],
                                [c[successes], c[count] - c[successes]]], dtype=float))
    return StratifiedTable(tables)


@pytest.mark.parametrize("name", ["berkeley", "kidney"])
def test_mantel_haenszel_agrees_with_statsmodels(name):
    if name == "berkeley":
        table, args = berkeley_admissions(), ("sex", "department", "women", "applicants", "admitted")
    else:
        table, args = kidney_stones(), ("treatment", "stone_size", "A: open surgery", "patients", "successes")
    treatment, stratum, treated, count, successes = args
    ours = mantel_haenszel(table, treatment=treatment, stratum=stratum, count=count,
                           successes=successes, treated=treated)
    theirs = _statsmodels_tables(table, treatment, stratum, treated, count, successes)
    assert_agrees(ours, theirs.oddsratio_pooled)
    assert_agrees(ours.se, theirs.logodds_pooled_se, what="SE of the log odds ratio")
    low, high = theirs.oddsratio_pooled_confint()
    assert_agrees(ours.ci_low, low, what="lower limit")
    assert_agrees(ours.ci_high, high, what="upper limit")


def test_berkeley_mantel_haenszel_is_the_known_value():
    """R's mantelhaen.test(UCBAdmissions): common odds ratio (men vs women) 0.905."""
    ours = mantel_haenszel(berkeley_admissions(), treatment="sex", stratum="department",
                           treated="men", **BERKELEY)
    assert round(ours.value, 3) == 0.905


def test_standardized_difference_is_the_backdoor_adjustment():
    table = kidney_stones().assign(a=lambda d: (d["treatment"] == "A: open surgery").astype(int))
    units = expand_counts(table.drop(columns="treatment"), outcome="success", **KIDNEY)
    assert len(units) == 700 and units["success"].sum() == 273 + 289
    estimate = backdoor_adjustment(units, outcome="success", treatment="a",
                                   covariates=["stone_size"])
    rates = standardized_rates(kidney_stones(), treatment="treatment", stratum="stone_size",
                               **KIDNEY)
    assert_agrees(estimate, rates["A: open surgery"] - rates["B: PCNL"], rtol=1e-12)


@pytest.mark.slow
def test_mantel_haenszel_is_calibrated():
    """Four strata with a common odds ratio of 2: the 95% interval covers it 93-97% of the time."""
    log_truth = np.log(2.0)

    def one(seed):
        rng = np.random.default_rng(seed)
        rows = []
        for k, base in enumerate((-1.5, -0.5, 0.3, 1.0)):
            n_treated, n_control = rng.integers(80, 200, size=2)
            p0 = 1 / (1 + np.exp(-base))
            p1 = 1 / (1 + np.exp(-(base + log_truth)))
            rows.append((k, 1, n_treated, rng.binomial(n_treated, p1)))
            rows.append((k, 0, n_control, rng.binomial(n_control, p0)))
        table = pd.DataFrame(rows, columns=["stratum", "t", "n", "events"])
        est = mantel_haenszel(table, treatment="t", stratum="stratum", count="n",
                              successes="events", treated=1)
        return est, 2.0

    result = monte_carlo(one, n_reps=400, seed=12)
    assert_calibrated(result, max_abs_bias=0.1)


def test_refuses_bad_tables():
    table = berkeley_admissions()
    with pytest.raises(ValueError, match="exceeds"):
        stratified_rates(table.assign(admitted=table["applicants"] + 1), treatment="sex",
                         stratum="department", **BERKELEY)
    with pytest.raises(ValueError, match="whole numbers"):
        expand_counts(table.assign(applicants=table["applicants"] - 0.5), **BERKELEY)
    with pytest.raises(ValueError, match="repeated rows"):
        stratified_rates(pd.concat([table, table.head(1)]), treatment="sex",
                         stratum="department", **BERKELEY)
    with pytest.raises(ValueError, match="not found"):
        standardized_rates(table, treatment="gender", stratum="department", **BERKELEY)
    with pytest.raises(ValueError, match="positivity"):
        standardized_rates(table.drop(index=1), treatment="sex", stratum="department",
                           **BERKELEY)
    with pytest.raises(ValueError, match="exactly two values"):
        mantel_haenszel(table, treatment="sex", stratum="department", treated="other",
                        **BERKELEY)
    with pytest.raises(ValueError, match="no units under one value"):
        mantel_haenszel(table.drop(index=1), treatment="sex", stratum="department",
                        treated="women", **BERKELEY)
    with pytest.raises(ValueError, match="already has a column"):
        expand_counts(table, outcome="sex", **BERKELEY)
    with pytest.raises(ValueError, match="missing value"):
        stratified_rates(table.assign(admitted=table["admitted"].where(table.index > 0)),
                         treatment="sex", stratum="department", **BERKELEY)
