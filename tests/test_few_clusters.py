"""lessons_lib.few_clusters: agreement with plain loops, size with few treated clusters, refusals."""

import itertools

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from threadpoolctl import threadpool_limits

from lessons_lib import panel
from lessons_lib.few_clusters import WILD_WEIGHTS, did_randomization_test, wild_cluster_bootstrap


@pytest.fixture(autouse=True)
def _one_blas_thread():
    with threadpool_limits(limits=1):
        yield


def _regions(rng, n_regions=20, n_treated=2, shoppers=1, effect=0.0):
    """A 2x2 DiD over regions: region levels, region-by-period shocks, shopper noise."""
    region = np.repeat(np.arange(n_regions), 2 * shoppers)
    post = np.tile(np.repeat([0, 1], shoppers), n_regions)
    group = (region < n_treated).astype(int)
    shock = rng.normal(0, 1, (n_regions, 2))[region, post]
    y = rng.normal(0, 1, n_regions)[region] + shock + rng.normal(0, 0.5, len(region))
    return pd.DataFrame({"region": region, "G": group, "P": post, "T": group * post,
                         "Y": y + effect * group * post})


def _loop_wild(data, weights, draws):
    """The textbook loop: refit statsmodels' OLS with CR1 errors on every bootstrap sample."""
    x = sm.add_constant(data[["T", "G", "P"]].to_numpy(dtype=float))
    y = data["Y"].to_numpy()
    groups = data["region"].to_numpy()
    restricted = sm.OLS(y, np.delete(x, 1, axis=1)).fit()
    t_stats = []
    for v in draws:
        y_star = restricted.fittedvalues + restricted.resid * v[groups]
        fit = sm.OLS(y_star, x).fit(cov_type="cluster", cov_kwds={"groups": groups})
        t_stats.append(fit.tvalues[1])
    observed = sm.OLS(y, x).fit(cov_type="cluster", cov_kwds={"groups": groups}).tvalues[1]
    return observed, np.array(t_stats)


@pytest.mark.parametrize("weights", ["webb", "rademacher"])
def test_wild_bootstrap_agrees_with_a_statsmodels_loop(weights):
    data = _regions(np.random.default_rng(4), n_regions=14, n_treated=4, shoppers=6)
    ours = wild_cluster_bootstrap(data, outcome="Y", treatment="T", covariates=["G", "P"],
                                  cluster="region", weights=weights, n_boot=199, seed=9)
    draws = np.random.default_rng(9).choice(WILD_WEIGHTS[weights], size=(199, 14))
    observed, reference = _loop_wild(data, weights, draws)
    assert ours.statistic == pytest.approx(observed, rel=1e-9)
    np.testing.assert_allclose(ours.null_distribution, reference, rtol=1e-8, atol=1e-10)
    assert ours.pvalue == pytest.approx(np.mean(np.abs(reference) >= abs(observed)))


def test_rademacher_enumerates_every_sign_pattern_when_they_are_few():
    data = _regions(np.random.default_rng(5), n_regions=6, n_treated=3, shoppers=4)
    ours = wild_cluster_bootstrap(data, outcome="Y", treatment="T", covariates=["G", "P"],
                                  cluster="region", weights="rademacher", n_boot=999)
    draws = np.array(list(itertools.product([-1.0, 1.0], repeat=6)))
    _, reference = _loop_wild(data, "rademacher", draws)
    assert ours.extra["enumerated"] and len(ours.null_distribution) == 64
    np.testing.assert_allclose(ours.null_distribution, reference, rtol=1e-8, atol=1e-10)


def test_randomization_test_enumerates_every_assignment_of_regions():
    data = _regions(np.random.default_rng(6), n_regions=8, n_treated=2, shoppers=3, effect=1.0)
    ours = did_randomization_test(data, outcome="Y", group="G", post="P", cluster="region")
    reference = []
    for members in itertools.combinations(range(8), 2):
        group = data["region"].isin(members).astype(int)
        reference.append(panel.did_2x2(data.assign(G=group), outcome="Y", group="G",
                                       post="P").value)
    reference = np.array(reference)
    observed = panel.did_2x2(data, outcome="Y", group="G", post="P").value
    assert ours.statistic == pytest.approx(observed, rel=1e-10)
    np.testing.assert_allclose(np.sort(ours.null_distribution), np.sort(reference), rtol=1e-9)
    assert ours.pvalue == pytest.approx(np.mean(np.abs(reference) >= abs(observed) - 1e-12))
    assert ours.extra["assignments"] == 28 and ours.extra["exact"]


@pytest.mark.slow
def test_size_with_two_treated_regions_out_of_twenty():
    """Under the null, CR1 over-rejects badly; randomization inference over regions does
    not; the wild bootstrap is conservative (MacKinnon and Webb, 2017)."""
    rng = np.random.default_rng(2026)
    n_reps = 300
    rejections = {"CR1": 0, "randomization": 0, "wild": 0}
    for rep in range(n_reps):
        data = _regions(rng, n_regions=20, n_treated=2)
        cr1 = panel.did_2x2(data, outcome="Y", group="G", post="P", cluster="region")
        ri = did_randomization_test(data, outcome="Y", group="G", post="P", cluster="region")
        wild = wild_cluster_bootstrap(data, outcome="Y", treatment="T", covariates=["G", "P"],
                                      cluster="region", n_boot=199, seed=rep)
        rejections["CR1"] += cr1.pvalue <= 0.05
        rejections["randomization"] += ri.pvalue <= 0.05
        rejections["wild"] += wild.pvalue <= 0.05
    rate = {k: v / n_reps for k, v in rejections.items()}
    assert rate["CR1"] > 0.15, rate                  # about 30%: six times the promised 5%
    assert 0.02 <= rate["randomization"] <= 0.08, rate  # exact: 9/190 = 4.7% in expectation
    assert rate["wild"] <= 0.03, rate                 # conservative, not anti-conservative


@pytest.mark.slow
def test_wild_bootstrap_size_when_half_the_regions_are_treated():
    rng = np.random.default_rng(7)
    n_reps = 400
    rejected = 0
    for rep in range(n_reps):
        data = _regions(rng, n_regions=12, n_treated=6)
        rejected += wild_cluster_bootstrap(data, outcome="Y", treatment="T",
                                           covariates=["G", "P"], cluster="region",
                                           n_boot=199, seed=rep).pvalue <= 0.05
    assert 0.025 <= rejected / n_reps <= 0.08


def test_refusals():
    data = _regions(np.random.default_rng(1), n_regions=6, n_treated=2, shoppers=2)
    with pytest.raises(ValueError, match="weights must be one of"):
        wild_cluster_bootstrap(data, outcome="Y", treatment="T", cluster="region", weights="normal")
    with pytest.raises(ValueError, match="at least 3"):
        wild_cluster_bootstrap(data[data["region"] < 2], outcome="Y", treatment="T",
                               cluster="region")
    with pytest.raises(ValueError, match="singular"):
        wild_cluster_bootstrap(data.assign(Z=data["G"]), outcome="Y", treatment="T",
                               covariates=["G", "Z"], cluster="region")
    with pytest.raises(ValueError, match="missing"):
        wild_cluster_bootstrap(data.assign(Y=np.where(data.index == 0, np.nan, data["Y"])),
                               outcome="Y", treatment="T", cluster="region")
    with pytest.raises(ValueError, match="whole clusters"):
        did_randomization_test(data.assign(G=data["P"]), outcome="Y", group="G", post="P",
                               cluster="region")
    with pytest.raises(ValueError, match="both treated"):
        did_randomization_test(data.assign(G=1), outcome="Y", group="G", post="P",
                               cluster="region")
    with pytest.raises(ValueError, match="is zero"):
        panel.did_2x2(data[data["region"].isin([0, 5])], outcome="Y", group="G", post="P",
                      cluster="region")
