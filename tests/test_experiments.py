"""lessons_lib.experiments beyond the difference in means (chapter 02).

DESIGN.md's bar for the t-test, randomization inference, Lin's regression adjustment,
CUPED, the power arithmetic and the sample-ratio check: agreement with scipy and
statsmodels, calibration in simulation, the NSW numbers, and clear refusals.
(The difference in means itself is tested in tests/test_experiments_basic.py.)
"""

import math

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats
from statsmodels.stats.power import NormalIndPower

from lessons_lib import datasets, simulate
from lessons_lib.experiments import (
    _exact_sample_size,
    cuped,
    difference_in_means,
    minimum_detectable_effect,
    power,
    randomization_test,
    regression_adjustment,
    sample_ratio_mismatch,
    sample_size,
    t_test,
)
from lessons_lib.testing import assert_agrees, assert_calibrated, monte_carlo

COVARIATES = ["prior_spend", "visits", "mobile"]


@pytest.fixture(scope="module")
def ab_test():
    return simulate.banner_shop(1_500, seed=11, randomized=True).data


def _arms(data, treatment="T", outcome="Y"):
    y, t = data[outcome].to_numpy(float), data[treatment].to_numpy()
    return y[t == 1], y[t == 0]


# 1. Agreement with the reference implementations ------------------------------------


@pytest.mark.parametrize("equal_var", [False, True])
def test_t_test_agrees_with_scipy(ab_test, equal_var):
    ours = t_test(ab_test, outcome="Y", treatment="T", equal_var=equal_var)
    reference = stats.ttest_ind(*_arms(ab_test), equal_var=equal_var)
    assert_agrees(ours.statistic, reference.statistic, what="t statistic")
    assert_agrees(ours.pvalue, reference.pvalue, what="p-value")
    assert_agrees(ours.extra["df"], reference.df, what="degrees of freedom")


def _scipy_exact_pvalue(data, treatment="T", outcome="Y"):
    treated, control = _arms(data, treatment, outcome)
    return stats.permutation_test(
        (treated, control), lambda a, b: abs(a.mean() - b.mean()),
        permutation_type="independent", alternative="greater", n_resamples=np.inf,
    ).pvalue


def test_randomization_test_exact_agrees_with_scipy_on_six_shoppers():
    shoppers = simulate.six_shoppers()
    ours = randomization_test(shoppers, outcome="Y", treatment="T")
    assert ours.extra["exact"] and ours.extra["assignments"] == math.comb(6, 3)
    assert_agrees(ours.pvalue, _scipy_exact_pvalue(shoppers), what="exact p-value")
    assert_agrees(ours.statistic, (55 + 30 + 40) / 3 - (20 + 60 + 50) / 3)


def test_randomization_test_exact_agrees_with_scipy_on_twelve_units():
    rng = np.random.default_rng(5)
    data = pd.DataFrame({"T": np.repeat([1, 0], [5, 7]), "Y": rng.normal(0, 1, 12)})
    data.loc[data["T"] == 1, "Y"] += 1.2
    ours = randomization_test(data, outcome="Y", treatment="T")
    assert ours.extra["assignments"] == math.comb(12, 5) and len(ours.null_distribution) == 792
    assert_agrees(ours.pvalue, _scipy_exact_pvalue(data), what="exact p-value")


def test_randomization_test_monte_carlo_matches_the_exact_p_value():
    rng = np.random.default_rng(8)
    data = pd.DataFrame({"T": np.repeat([1, 0], [8, 8]), "Y": rng.normal(0, 1, 16)})
    data.loc[data["T"] == 1, "Y"] += 0.8
    exact = randomization_test(data, outcome="Y", treatment="T")  # 12,870 assignments: enumerated
    sampled = randomization_test(data, n_permutations=20_000, seed=1, max_exact=0, outcome="Y",
                                 treatment="T")
    assert exact.extra["exact"] and not sampled.extra["exact"]
    monte_carlo_error = math.sqrt(exact.pvalue * (1 - exact.pvalue) / 20_000)
    assert abs(sampled.pvalue - exact.pvalue) < 4 * monte_carlo_error
    again = randomization_test(data, n_permutations=20_000, seed=1, max_exact=0, outcome="Y",
                               treatment="T")
    assert again.pvalue == sampled.pvalue  # seeded: the same p-value every time


def _lin_statsmodels(data, covariates, outcome="Y"):
    x = data[covariates].to_numpy(float)
    centred = x - x.mean(axis=0)
    t = data["T"].to_numpy(float)[:, None]
    design = sm.add_constant(np.column_stack([t, centred, t * centred]))
    return sm.OLS(data[outcome].to_numpy(float), design).fit(cov_type="HC2")


def test_regression_adjustment_agrees_with_statsmodels_hc2(ab_test):
    ours = regression_adjustment(ab_test, outcome="Y", treatment="T", covariates=COVARIATES)
    fit = _lin_statsmodels(ab_test, COVARIATES)
    low, high = fit.conf_int()[1]
    assert_agrees(ours, fit.params[1])
    assert_agrees(ours.se, fit.bse[1], what="HC2 standard error")
    assert_agrees(ours.ci_low, low, what="CI lower bound")
    assert_agrees(ours.ci_high, high, what="CI upper bound")


def test_regression_adjustment_agrees_with_statsmodels_on_nsw():
    nsw = datasets.nsw_experiment().rename(columns={"treat": "T"})
    covariates = ["age", "educ", "black", "hisp", "marr", "nodegree", "re74", "re75"]
    ours = regression_adjustment(nsw, outcome="re78", treatment="T", covariates=covariates)
    fit = _lin_statsmodels(nsw, covariates, outcome="re78")
    assert_agrees(ours, fit.params[1])
    assert_agrees(ours.se, fit.bse[1], what="HC2 standard error")


def test_cuped_is_welch_on_the_adjusted_outcome(ab_test):
    ours = cuped(ab_test, outcome="Y", treatment="T", pre_outcome="prior_spend")
    y, x = ab_test["Y"].to_numpy(float), ab_test["prior_spend"].to_numpy(float)
    theta = np.cov(y, x)[0, 1] / np.var(x, ddof=1)
    adjusted = ab_test.assign(Y=y - theta * (x - x.mean()))
    treated, control = _arms(adjusted)
    welch = stats.ttest_ind(treated, control, equal_var=False)
    assert_agrees(ours.extra["cuped_coefficient"], theta, what="theta")
    assert_agrees(ours, treated.mean() - control.mean())
    assert_agrees(ours.se, (treated.mean() - control.mean()) / welch.statistic, what="SE")
    # theta is the OLS slope of Y on X, and the variance falls by corr(Y, X)^2
    assert_agrees(ours.extra["cuped_coefficient"], sm.OLS(y, sm.add_constant(x)).fit().params[1])
    rho = np.corrcoef(y, x)[0, 1]
    assert_agrees(ours.extra["variance_reduction"], rho**2, what="variance reduction")


@pytest.mark.parametrize("alternative, sm_alternative", [("two-sided", "two-sided"),
                                                         ("one-sided", "larger")])
@pytest.mark.parametrize("n_treated, n_control", [(1_000, 1_000), (300, 900)])
def test_power_agrees_with_statsmodels(alternative, sm_alternative, n_treated, n_control):
    ours = power(1.5, 12.0, n_treated, n_control, alpha=0.05, alternative=alternative)
    reference = NormalIndPower().power(1.5 / 12.0, n_treated, 0.05, ratio=n_control / n_treated,
                                       alternative=sm_alternative)
    assert_agrees(ours, reference, what="power")


@pytest.mark.parametrize("n_treated, ratio", [(500, 1.0), (4_000, 2.0), (120_000, 1.0)])
def test_minimum_detectable_effect_solves_statsmodels_power(n_treated, ratio):
    sd = 7.0
    mde = minimum_detectable_effect(sd, n_treated, ratio * n_treated, power=0.8)
    # the reference's own power function, evaluated at our MDE, gives the target power
    achieved = NormalIndPower().power(mde / sd, n_treated, 0.05, ratio=ratio)
    assert_agrees(achieved, 0.8, rtol=1e-9, what="power at the MDE")
    # statsmodels' solve_power stops its root search early (about 1e-5 relative here)
    solved = NormalIndPower().solve_power(None, n_treated, 0.05, 0.8, ratio=ratio) * sd
    assert_agrees(mde, solved, rtol=1e-4, what="MDE against solve_power")


@pytest.mark.parametrize("effect, sd, target, ratio", [(1.0, 10.0, 0.8, 1.0), (0.5, 7.0, 0.9, 1.0),
                                                       (2.0, 25.0, 0.8, 3.0)])
def test_sample_size_agrees_with_statsmodels(effect, sd, target, ratio):
    reference = NormalIndPower().solve_power(effect / sd, None, 0.05, target, ratio=ratio)
    exact = _exact_sample_size(effect, sd, stats.norm.isf(0.025), target, ratio, "two-sided")
    assert_agrees(exact, reference, what="sample size before rounding")
    n_treated = sample_size(effect, sd, power=target, ratio=ratio)
    assert n_treated == math.ceil(reference)
    assert power(effect, sd, n_treated, ratio * n_treated) >= target


@pytest.mark.parametrize("counts, shares", [([50_600, 49_400], (0.5, 0.5)),
                                            ([10_210, 9_790], (0.5, 0.5)),
                                            ([3_050, 3_020, 3_930], (0.3, 0.3, 0.4))])
def test_sample_ratio_mismatch_agrees_with_scipy(counts, shares):
    ours = sample_ratio_mismatch(counts, shares)
    reference = stats.chisquare(counts, np.sum(counts) * np.asarray(shares))
    assert_agrees(ours.statistic, reference.statistic, what="chi-square statistic")
    assert_agrees(ours.pvalue, reference.pvalue, what="p-value")


# 2. Right in simulation --------------------------------------------------------------


def _banner_experiment(seed):
    return simulate.banner_shop(400, seed=seed, randomized=True)


@pytest.mark.slow
def test_regression_adjustment_covers_the_ate():
    def one(seed):
        sim = _banner_experiment(seed)
        return regression_adjustment(sim.data, outcome="Y", treatment="T", covariates=COVARIATES), sim.ate

    result = monte_carlo(one, n_reps=400, seed=21)
    assert_calibrated(result, max_abs_bias=0.15)
    plain = monte_carlo(lambda s: (difference_in_means(_banner_experiment(s).data, outcome="Y",
                                                       treatment="T"), 4.2),
                        n_reps=400, seed=21)
    assert result.sd < 0.6 * plain.sd  # the point of adjusting: a much tighter estimate


@pytest.mark.slow
def test_cuped_covers_the_ate():
    # 1,000 shoppers: the SE treats theta as known, which needs a sample of some size
    def one(seed):
        sim = simulate.banner_shop(1_000, seed=seed, randomized=True)
        return cuped(sim.data, outcome="Y", treatment="T", pre_outcome="prior_spend"), sim.ate

    assert_calibrated(monte_carlo(one, n_reps=400, seed=22), max_abs_bias=0.2)


@pytest.mark.slow
def test_tests_reject_true_nulls_five_percent_of_the_time():
    rejections_t, rejections_fisher = [], []
    for seed in np.random.SeedSequence(23).generate_state(400):
        rng = np.random.default_rng(int(seed))
        data = pd.DataFrame({"T": rng.permutation(np.repeat([1, 0], 20)),
                             "Y": rng.lognormal(3.0, 0.8, 40)})  # skewed, no effect
        rejections_t.append(t_test(data, outcome="Y", treatment="T").pvalue < 0.05)
        rejections_fisher.append(randomization_test(data, n_permutations=500, seed=int(seed),
                                                    outcome="Y", treatment="T").pvalue < 0.05)
    assert 0.03 <= np.mean(rejections_t) <= 0.07
    assert 0.03 <= np.mean(rejections_fisher) <= 0.07


@pytest.mark.slow
def test_power_predicts_the_share_of_experiments_that_reject():
    n, sd, effect = 200, 10.0, 2.8  # power(2.8, 10, 200) is about 0.80
    predicted = power(effect, sd, n)
    rng = np.random.default_rng(24)
    treated = rng.normal(effect, sd, size=(1_000, n))
    control = rng.normal(0.0, sd, size=(1_000, n))
    observed = np.mean(stats.ttest_ind(treated, control, axis=1, equal_var=False).pvalue < 0.05)
    assert abs(observed - predicted) < 0.04


# 3. The published numbers -------------------------------------------------------------


def test_nsw_experimental_benchmark():
    """Dehejia and Wahba (1999), Table 3: $1,794 (SE 633, the pooled-variance SE)."""
    nsw = datasets.nsw_experiment()
    student = t_test(nsw, outcome="re78", treatment="treat", equal_var=True)
    difference = difference_in_means(nsw, outcome="re78", treatment="treat").value
    assert round(difference) == 1794
    assert round(difference / student.statistic) == 633
    fisher = randomization_test(nsw, outcome="re78", treatment="treat", n_permutations=5_000,
                                seed=2)
    assert fisher.pvalue < 0.01


# 4. Refusing bad input ------------------------------------------------------------------


def test_refusals(ab_test):
    with pytest.raises(ValueError, match="must be 0/1"):
        t_test(ab_test.assign(T=ab_test["visits"]), outcome="Y", treatment="T")
    with pytest.raises(ValueError, match="does not vary"):
        t_test(ab_test.assign(Y=1.0), outcome="Y", treatment="T")
    with pytest.raises(ValueError, match="missing value"):
        randomization_test(ab_test.assign(Y=np.where(ab_test["visits"] > 5, np.nan, 1.0)),
                           outcome="Y", treatment="T")
    with pytest.raises(ValueError, match="n_permutations"):
        randomization_test(ab_test, n_permutations=10, outcome="Y", treatment="T")
    with pytest.raises(ValueError, match="non-empty list"):
        regression_adjustment(ab_test, outcome="Y", treatment="T", covariates=[])
    with pytest.raises(ValueError, match="singular"):
        regression_adjustment(ab_test.assign(double=2 * ab_test["visits"]), outcome="Y",
                              treatment="T", covariates=["visits", "double"])
    with pytest.raises(ValueError, match="must not include the treatment"):
        regression_adjustment(ab_test, outcome="Y", treatment="T", covariates=["T", "visits"])
    with pytest.raises(ValueError, match="not found"):
        cuped(ab_test, outcome="Y", treatment="T", pre_outcome="spend_last_year")
    with pytest.raises(ValueError, match="is constant"):
        cuped(ab_test.assign(pre=3.0), outcome="Y", treatment="T", pre_outcome="pre")
    with pytest.raises(ValueError, match="sd must be a positive number"):
        power(1.0, 0.0, 100)
    with pytest.raises(ValueError, match="at least 2 units"):
        power(1.0, 1.0, 1)
    with pytest.raises(ValueError, match="alternative must be one of"):
        power(1.0, 1.0, 100, alternative="larger")
    with pytest.raises(ValueError, match="power must be a number between 0 and 1"):
        minimum_detectable_effect(1.0, 100, power=80)
    with pytest.raises(ValueError, match="alpha must be"):
        sample_size(1.0, 1.0, alpha=5)
    with pytest.raises(ValueError, match="non-zero number"):
        sample_size(0.0, 1.0)
    with pytest.raises(ValueError, match="sum to 1"):
        sample_ratio_mismatch([500, 520], (0.5, 0.6))
    with pytest.raises(ValueError, match="one share per arm"):
        sample_ratio_mismatch([500, 520, 480])
    with pytest.raises(ValueError, match="whole numbers"):
        sample_ratio_mismatch([500.5, 520])
