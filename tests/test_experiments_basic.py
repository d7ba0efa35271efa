"""lessons_lib.experiments.difference_in_means: the first estimator of the book (chapter 01).

The bar of DESIGN.md: agrees with scipy and statsmodels, covers the truth in simulation,
reproduces the NSW experimental benchmark, and refuses bad input clearly.
"""

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

from lessons_lib import datasets, simulate
from lessons_lib.experiments import difference_in_means
from lessons_lib.testing import assert_agrees, assert_calibrated, monte_carlo


@pytest.fixture(scope="module")
def unequal_groups():
    """Unequal group sizes and unequal variances: where Welch and pooled SEs differ."""
    rng = np.random.default_rng(2026)
    t = np.r_[np.ones(70, dtype=int), np.zeros(230, dtype=int)]
    y = np.where(t == 1, rng.normal(12.0, 9.0, 300), rng.normal(10.0, 3.0, 300))
    return pd.DataFrame({"T": t, "Y": y})


def _arms(data):
    return data.loc[data["T"] == 1, "Y"].to_numpy(), data.loc[data["T"] == 0, "Y"].to_numpy()


def test_agrees_with_scipy_welch_t_test(unequal_groups):
    ours = difference_in_means(unequal_groups, outcome="Y", treatment="T")
    treated, control = _arms(unequal_groups)
    welch = stats.ttest_ind(treated, control, equal_var=False)
    diff = treated.mean() - control.mean()
    ci = welch.confidence_interval(0.95)
    assert_agrees(ours, diff, rtol=1e-6)
    assert_agrees(ours.se, diff / welch.statistic, rtol=1e-6, what="standard error")
    assert_agrees(ours.ci_low, ci.low, rtol=1e-6, what="CI lower bound")
    assert_agrees(ours.ci_high, ci.high, rtol=1e-6, what="CI upper bound")
    assert_agrees(ours.df, welch.df, rtol=1e-6, what="Welch degrees of freedom")


def test_agrees_with_statsmodels_compare_means(unequal_groups):
    ours = difference_in_means(unequal_groups, outcome="Y", treatment="T", level=0.9)
    treated, control = _arms(unequal_groups)
    compare = CompareMeans(DescrStatsW(treated), DescrStatsW(control))
    low, high = compare.tconfint_diff(alpha=0.10, usevar="unequal")
    _, _, dof = compare.ttest_ind(usevar="unequal")
    assert_agrees(ours, compare.d1.mean - compare.d2.mean, rtol=1e-6)
    assert_agrees(ours.se, compare.std_meandiff_separatevar, rtol=1e-6, what="standard error")
    assert_agrees(ours.ci_low, low, rtol=1e-6, what="90% CI lower bound")
    assert_agrees(ours.ci_high, high, rtol=1e-6, what="90% CI upper bound")
    assert_agrees(ours.df, dof, rtol=1e-6, what="Welch degrees of freedom")


def test_result_is_labelled(unequal_groups):
    est = difference_in_means(unequal_groups, outcome="Y", treatment="T")
    assert est.estimand == "ATE" and "Welch" in est.method
    assert est.n == 300 and est.extra["n_treated"] == 70 and est.extra["n_control"] == 230
    assert est.level == 0.95


def test_boolean_treatment_and_other_column_names_work(unequal_groups):
    renamed = unequal_groups.rename(columns={"T": "banner", "Y": "spend"})
    renamed["banner"] = renamed["banner"].astype(bool)
    a = difference_in_means(renamed, outcome="spend", treatment="banner")
    b = difference_in_means(unequal_groups, outcome="Y", treatment="T")
    assert a.value == pytest.approx(b.value, rel=1e-12) and a.se == pytest.approx(b.se, rel=1e-12)


def test_six_shoppers_naive_difference():
    df = simulate.six_shoppers()
    est = difference_in_means(df, outcome="Y", treatment="T")
    assert est.value == pytest.approx(-5 / 3)  # 41.67 - 43.33: the naive comparison of chapter 01
    assert est.value < df["effect"].mean()  # far from the true ATE of 6.67


def test_nsw_experimental_benchmark_of_dehejia_and_wahba_1999():
    """Dehejia and Wahba (1999), Table 3: the NSW experiment's difference is $1,794 (SE 633)."""
    nsw = datasets.nsw_experiment()
    assert nsw.shape == (445, 10) and int(nsw["treat"].sum()) == 185
    assert nsw["re78"].dtype == "float64" and nsw["treat"].dtype == "int64"
    est = difference_in_means(nsw, outcome="re78", treatment="treat")
    assert round(est.value) == 1794
    assert abs(est.value - 1794) < 1
    # the published SE is the pooled-variance one; Welch's is larger because the treated
    # group's earnings vary more
    treated, control = (nsw.loc[nsw["treat"] == k, "re78"] for k in (1, 0))
    pooled = stats.ttest_ind(treated, control, equal_var=True)
    assert round(est.value / pooled.statistic) == 633
    assert 660 < est.se < 680


@pytest.mark.slow
def test_covers_the_true_ate_in_the_randomized_banner_shop():
    def one_replication(seed):
        sim = simulate.banner_shop(400, seed=seed, randomized=True)
        return difference_in_means(sim.data, outcome="Y", treatment="T"), sim.ate

    result = monte_carlo(one_replication, n_reps=400, seed=0)
    # the estimates' sd is about 2.3, so the Monte Carlo SE of the bias is 2.3 / 20 = 0.115:
    # allow three of them
    assert_calibrated(result, max_abs_bias=0.35)
    assert abs(result.mean_se / result.sd - 1) < 0.1  # the SE measures the real spread


@pytest.mark.slow
def test_misses_the_truth_in_the_targeted_banner_shop():
    """Without randomization the same estimator is biased and its interval almost never covers."""

    def one_replication(seed):
        sim = simulate.banner_shop(400, seed=seed, randomized=False)
        return difference_in_means(sim.data, outcome="Y", treatment="T"), sim.ate

    result = monte_carlo(one_replication, n_reps=100, seed=2)
    assert result.bias > 10
    assert result.coverage < 0.05
    with pytest.raises(AssertionError, match="bias"):
        assert_calibrated(result, max_abs_bias=0.35)


# --- bad input ---------------------------------------------------------------------------

GOOD = pd.DataFrame({"T": [0, 1, 0, 1, 1, 0], "Y": [1.0, 2.5, 0.5, 3.0, 2.0, 1.5]})


@pytest.mark.parametrize(
    "data, message",
    [
        (GOOD.assign(T=[0, 1, 2, 1, 1, 0]), r"treatment column 'T' must be 0/1; found values \[0.0, 1.0, 2.0\]"),
        (GOOD.assign(T=[0.0, 0.5, 0.0, 1.0, 1.0, 0.0]), "must be 0/1"),
        (GOOD.assign(T=[0, 1, None, 1, 1, 0]), "column 'T' has 1 missing value"),
        (GOOD.assign(Y=[1.0, np.nan, 0.5, np.nan, 2.0, 1.5]), "column 'Y' has 2 missing value"),
        (GOOD.assign(Y=[1.0, np.inf, 0.5, 3.0, 2.0, 1.5]), "infinite values"),
        (GOOD.assign(T=[1, 1, 1, 1, 1, 1]), "has only the value 1: an effect needs both treated"),
        (GOOD.assign(T=[0, 0, 0, 0, 0, 0]), "has only the value 0"),
        (GOOD.assign(T=[0, 1, 0, 0, 0, 0]), "need at least 2 treated and 2 control units"),
        (GOOD.assign(Y=[4.0] * 6), "does not vary within either group"),
        (GOOD.assign(Y=["a", "b", "c", "d", "e", "f"]), "column 'Y' must be numeric"),
        (GOOD.drop(columns="Y"), r"column\(s\) \['Y'\] not found in the data"),
        (GOOD.drop(columns="T"), r"column\(s\) \['T'\] not found"),
        (GOOD.iloc[:0], "has no rows"),
    ],
)
def test_bad_data_is_refused(data, message):
    with pytest.raises(ValueError, match=message):
        difference_in_means(data, outcome="Y", treatment="T")


@pytest.mark.parametrize("data", [GOOD.to_numpy(), GOOD.to_dict(), [[0, 1.0], [1, 2.0]], None])
def test_non_dataframe_is_refused(data):
    with pytest.raises(ValueError, match="must be a pandas DataFrame"):
        difference_in_means(data, outcome="Y", treatment="T")


@pytest.mark.parametrize("level", [0, 1, 95, -0.5, "0.95"])
def test_bad_level_is_refused(level):
    with pytest.raises(ValueError, match="level must be a number between 0 and 1"):
        difference_in_means(GOOD, outcome="Y", treatment="T", level=level)


def test_wrong_column_name_is_named_in_the_error():
    with pytest.raises(ValueError, match=r"\['banner'\] not found.*available columns: \['T', 'Y'\]"):
        difference_in_means(GOOD, outcome="Y", treatment="banner")
