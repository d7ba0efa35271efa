"""Tests of lessons_lib.interference: statsmodels agreement, coverage under cluster
randomization, the bias of a user-level test under spillovers, and bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from lessons_lib import simulate
from lessons_lib.experiments import difference_in_means
from lessons_lib.interference import cluster_difference_in_means
from lessons_lib.testing import assert_agrees, assert_calibrated, monte_carlo


@pytest.fixture(scope="module")
def city_test() -> pd.DataFrame:
    return simulate.marketplace(60, 50, seed=4, design="city").data


def test_agrees_with_statsmodels_cluster_robust_ols(city_test):
    ours = cluster_difference_in_means(city_test, outcome="Y", treatment="T", cluster="city")
    fit = sm.OLS(city_test["Y"], sm.add_constant(city_test["T"].astype(float))).fit(
        cov_type="cluster", cov_kwds={"groups": city_test["city"]})
    assert_agrees(ours, fit.params.iloc[1])
    assert_agrees(ours.se, fit.bse.iloc[1], what="cluster-robust SE")


def test_agrees_with_statsmodels_on_unbalanced_clusters():
    rng = np.random.default_rng(3)
    sizes = rng.integers(3, 40, 25)
    cluster = np.repeat(np.arange(25), sizes)
    t = (rng.permutation(25) < 12)[cluster].astype(int)
    y = 1.0 + 0.5 * t + rng.normal(0, 1, 25)[cluster] + rng.normal(0, 2, cluster.size)
    data = pd.DataFrame({"g": [f"school {c}" for c in cluster], "T": t, "Y": y})
    ours = cluster_difference_in_means(data, outcome="Y", treatment="T", cluster="g")
    fit = sm.OLS(y, sm.add_constant(t.astype(float))).fit(cov_type="cluster",
                                                         cov_kwds={"groups": cluster})
    assert_agrees(ours, fit.params[1])
    assert_agrees(ours.se, fit.bse[1], what="cluster-robust SE")
    assert ours.extra["clusters"] == 25


@pytest.mark.slow
def test_covers_the_global_effect_under_cluster_randomization():
    def one(seed):
        sim = simulate.marketplace(40, 30, seed=seed, design="city")
        return cluster_difference_in_means(sim.data, outcome="Y", treatment="T", cluster="city"), sim.truth["global effect"]

    result = monte_carlo(one, n_reps=400, seed=15)
    print(result)
    assert_calibrated(result, max_abs_bias=0.05)


def test_rider_level_test_is_biased_by_spillovers():
    sim = simulate.marketplace(60, 50, seed=4, design="rider")
    naive = difference_in_means(sim.data, outcome="Y", treatment="T")
    assert naive.ci_low > 2 * sim.truth["global effect"]
    assert not naive.covers(sim.truth["global effect"])


def test_marketplace_truth_is_the_difference_of_the_two_global_worlds():
    sim = simulate.marketplace(60, 50, seed=4)
    base = sim.potential_outcomes["base_demand"]
    gap = sim.potential_outcomes["Y_all"] - sim.potential_outcomes["Y_none"]
    assert np.allclose(gap, 0.1 * base)
    assert sim.truth["sample global effect"] == pytest.approx(gap.mean())


def test_refuses_bad_input(city_test):
    with pytest.raises(ValueError, match="DataFrame"):
        cluster_difference_in_means(city_test.to_numpy(), outcome="Y", treatment="T",
                                    cluster="city")
    with pytest.raises(ValueError, match="not found"):
        cluster_difference_in_means(city_test, outcome="Y", treatment="T", cluster="market")
    with pytest.raises(ValueError, match="must be 0/1"):
        cluster_difference_in_means(city_test.assign(T=city_test["T"] * 2), outcome="Y",
                                    treatment="T", cluster="city")
    holes = city_test.copy()
    holes.loc[0, "Y"] = np.nan
    with pytest.raises(ValueError, match="missing value"):
        cluster_difference_in_means(holes, outcome="Y", treatment="T", cluster="city")
    one_treated_city = city_test.assign(T=(city_test["city"] == 0).astype(int))
    with pytest.raises(ValueError, match="at least 2 clusters with treated units"):
        cluster_difference_in_means(one_treated_city, outcome="Y", treatment="T", cluster="city")
    with pytest.raises(ValueError, match="does not vary"):
        cluster_difference_in_means(city_test.assign(Y=1.0), outcome="Y", treatment="T",
                                    cluster="city")
    with pytest.raises(ValueError, match="design must be"):
        simulate.marketplace(10, 10, design="market")
