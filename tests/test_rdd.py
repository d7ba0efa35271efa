"""Tests of lessons_lib.rdd against DESIGN.md's bar: rdrobust, simulation, LMB (2004), bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from rdrobust import rdrobust

from lessons_lib import datasets, rdd, simulate
from lessons_lib.experiments import difference_in_means
from lessons_lib.testing import assert_agrees, assert_calibrated, monte_carlo

TRUTH = simulate.LOYALTY_EFFECT_AT_CUTOFF


@pytest.fixture(scope="module")
def loyalty() -> pd.DataFrame:
    return simulate.loyalty_cutoff(3_000, seed=42).data


@pytest.fixture(scope="module")
def fuzzy() -> pd.DataFrame:
    return simulate.loyalty_cutoff(3_000, seed=42, design="fuzzy").data


# 1. Agreement with rdrobust (same bandwidth, kernel, p = 1, HC1 variance) -------------------


@pytest.mark.parametrize("kernel, theirs", [("triangular", "tri"), ("epanechnikov", "epa"),
                                            ("uniform", "uni")])
@pytest.mark.parametrize("h", [4.0, 12.5])
def test_sharp_agrees_with_rdrobust(loyalty, kernel, theirs, h):
    ours = rdd.local_linear_rd(loyalty, outcome="Y", running="loyalty", cutoff=70, bandwidth=h,
                               kernel=kernel)
    ref = rdrobust(loyalty["Y"], loyalty["loyalty"], c=70, h=h, b=h, p=1, kernel=theirs,
                   vce="hc1")
    assert_agrees(ours, ref.coef.loc["Conventional"].iloc[0])
    assert_agrees(ours.se, ref.se.loc["Conventional"].iloc[0], what="conventional SE")
    assert ours.n == int(sum(ref.N_h))


def test_robust_interval_agrees_with_rdrobust(loyalty):
    h = 9.0
    ours = rdd.local_linear_rd(loyalty, outcome="Y", running="loyalty", cutoff=70, bandwidth=h,
                               inference="robust")
    ref = rdrobust(loyalty["Y"], loyalty["loyalty"], c=70, h=h, b=h, p=1, vce="hc1")
    assert_agrees(ours, ref.coef.loc["Conventional"].iloc[0])
    assert_agrees(ours.extra["bias_corrected"], ref.coef.loc["Robust"].iloc[0],
                  what="bias-corrected estimate")
    assert_agrees(ours.se, ref.se.loc["Robust"].iloc[0], what="robust SE")
    assert_agrees(ours.ci_low, ref.ci.loc["Robust"].iloc[0], what="robust CI lower end")
    assert_agrees(ours.ci_high, ref.ci.loc["Robust"].iloc[1], what="robust CI upper end")


def test_fuzzy_agrees_with_rdrobust(fuzzy):
    h = 15.0
    ours = rdd.fuzzy_rd(fuzzy, outcome="Y", treatment="T", running="loyalty", cutoff=70,
                        bandwidth=h)
    ref = rdrobust(fuzzy["Y"], fuzzy["loyalty"], c=70, fuzzy=fuzzy["T"], h=h, b=h, p=1,
                   vce="hc1")
    assert_agrees(ours, ref.coef.loc["Conventional"].iloc[0])
    assert_agrees(ours.se, ref.se.loc["Conventional"].iloc[0], what="conventional SE")


def test_fuzzy_is_weighted_two_stage_least_squares(fuzzy):
    """The local Wald ratio is 2SLS with instrument 1{X >= c}, side-specific slopes, kernel weights."""
    h = 15.0
    dist = fuzzy["loyalty"].to_numpy() - 70
    keep = np.abs(dist) <= h
    z = (dist >= 0).astype(float)[keep]
    w = (1 - np.abs(dist) / h)[keep]
    controls = np.column_stack([np.ones(keep.sum()), dist[keep], z * dist[keep]])
    instruments = np.column_stack([controls, z])
    regressors = np.column_stack([controls, fuzzy["T"].to_numpy()[keep]])
    sw = np.sqrt(w)[:, None]
    first = np.linalg.lstsq(instruments * sw, regressors * sw, rcond=None)[0]
    fitted = instruments @ first
    beta = np.linalg.lstsq(fitted * sw, fuzzy["Y"].to_numpy()[keep] * sw[:, 0], rcond=None)[0]
    assert_agrees(rdd.fuzzy_rd(fuzzy, outcome="Y", treatment="T", running="loyalty", cutoff=70,
                               bandwidth=h), beta[-1])


def test_triangular_constant_is_derived_from_the_kernel():
    # mu_j = int_0^1 u^j (1 - u) du; B and V as in the mse_bandwidth docstring.
    mu = [1 / ((j + 1) * (j + 2)) for j in range(4)]
    bias = (mu[2] ** 2 - mu[1] * mu[3]) / (mu[0] * mu[2] - mu[1] ** 2)
    u = np.linspace(0, 1, 200_001)
    integrand = (mu[2] - mu[1] * u) ** 2 * (1 - u) ** 2
    variance = np.trapezoid(integrand, u) / (mu[0] * mu[2] - mu[1] ** 2) ** 2
    assert bias == pytest.approx(-0.1)
    assert variance == pytest.approx(24 / 5)
    assert (variance / bias**2) ** 0.2 == pytest.approx(rdd.TRIANGULAR_MSE_CONSTANT, abs=1e-4)


def test_bandwidth_is_of_the_order_of_rdrobusts(loyalty):
    ours = rdd.mse_bandwidth(loyalty, outcome="Y", running="loyalty", cutoff=70)
    theirs = rdrobust(loyalty["Y"], loyalty["loyalty"], c=70).bws.loc["h"].iloc[0]
    assert theirs / 3 < ours < theirs * 3


# 2. Right in simulation -------------------------------------------------------------------


@pytest.mark.slow
def test_sharp_conventional_covers_at_a_narrow_bandwidth():
    def one(seed):
        data = simulate.loyalty_cutoff(2_000, seed=seed).data
        return rdd.local_linear_rd(data, outcome="Y", running="loyalty", cutoff=70, bandwidth=8), TRUTH

    result = monte_carlo(one, n_reps=400, seed=7)
    print(result)
    assert_calibrated(result, max_abs_bias=0.15)


@pytest.mark.slow
def test_sharp_robust_covers_at_the_selected_bandwidth():
    def one(seed):
        data = simulate.loyalty_cutoff(2_000, seed=seed).data
        return rdd.local_linear_rd(data, outcome="Y", running="loyalty", cutoff=70,
                                   inference="robust"), TRUTH

    result = monte_carlo(one, n_reps=400, seed=8)
    print(result)
    # An MSE-optimal bandwidth trades some bias for variance, so the point estimate keeps a
    # little bias; the robust interval is centred on the bias-corrected estimate and covers.
    assert_calibrated(result, max_abs_bias=0.25)


@pytest.mark.slow
def test_fuzzy_covers():
    def one(seed):
        data = simulate.loyalty_cutoff(2_000, seed=seed, design="fuzzy").data
        return rdd.fuzzy_rd(data, outcome="Y", treatment="T", running="loyalty", cutoff=70,
                            bandwidth=12), TRUTH

    result = monte_carlo(one, n_reps=400, seed=9)
    print(result)
    assert_calibrated(result, max_abs_bias=0.3)


@pytest.mark.slow
def test_density_test_has_the_right_size_without_manipulation():
    def one(seed):
        data = simulate.loyalty_cutoff(2_000, seed=seed).data
        return rdd.density_test(data, running="loyalty", cutoff=70), 0.0

    result = monte_carlo(one, n_reps=400, seed=10)
    print(result)
    assert_calibrated(result, max_abs_bias=0.05)


def test_density_test_detects_manipulation():
    data = simulate.loyalty_cutoff(3_000, seed=42, manipulation=0.5).data
    assert rdd.density_test(data, running="loyalty", cutoff=70).pvalue < 0.001


def test_raw_means_within_a_bandwidth_are_biased(loyalty):
    near = (loyalty["loyalty"] - 70).abs() < 5
    naive = difference_in_means(loyalty[near], outcome="Y", treatment="T").value
    assert naive > 1.15 * TRUTH  # the slope of spending in loyalty leaks into the gap
    assert rdd.local_linear_rd(loyalty, outcome="Y", running="loyalty", cutoff=70, bandwidth=5).covers(TRUTH)


def test_placebo_cutoffs_use_one_side_only(loyalty):
    table = rdd.placebo_cutoffs(loyalty, outcome="Y", running="loyalty", cutoff=70,
                                placebos=[60, 80], bandwidth=9)
    assert list(table.columns) == ["cutoff", "estimate", "se", "ci_low", "ci_high", "n"]
    assert ((table["ci_low"] < 0) & (table["ci_high"] > 0)).all()
    below = loyalty[loyalty["loyalty"] < 70]
    direct = rdd.local_linear_rd(below, outcome="Y", running="loyalty", cutoff=60, bandwidth=9)
    assert table.loc[0, "estimate"] == pytest.approx(direct.value)


def test_binned_means_never_straddle_the_cutoff(loyalty):
    bins = rdd.binned_means(loyalty, outcome="Y", running="loyalty", cutoff=70, bin_width=2.5)
    assert bins["n"].sum() == len(loyalty)
    assert ((bins["x"] >= 70) == bins["above"]).all()


# 3. The published number: Lee, Moretti and Butler (2004), Table I --------------------------


def test_reproduces_lee_moretti_butler_table_one():
    """LMB (2004, QJE 119(3), Table I), close elections (Democratic share 48-52%, n = 915):
    the effect of a Democratic win at t on the ADA score at t+1 is 21.2 (SE 1.9); on the
    ADA score at t, 47.6 (SE 1.3); on winning again at t+1, 0.48 (SE 0.02)."""
    lmb = datasets.close_elections_lmb()
    close = lmb[(lmb["lagdemvoteshare"] > 0.48) & (lmb["lagdemvoteshare"] < 0.52)]
    assert len(close) == 915
    total = difference_in_means(close, outcome="score", treatment="lagdemocrat")
    assert total.value == pytest.approx(21.2, abs=0.1)
    assert total.se == pytest.approx(1.9, abs=0.06)
    elect = difference_in_means(close, outcome="score", treatment="democrat")
    assert elect.value == pytest.approx(47.6, abs=0.15)
    again = difference_in_means(close, outcome="democrat", treatment="lagdemocrat")
    assert again.value == pytest.approx(0.48, abs=0.01)


def test_local_linear_rd_on_lmb_agrees_with_rdrobust():
    lmb = datasets.close_elections_lmb()
    ours = rdd.local_linear_rd(lmb, outcome="score", running="lagdemvoteshare", cutoff=0.5,
                               bandwidth=0.1)
    ref = rdrobust(lmb["score"], lmb["lagdemvoteshare"], c=0.5, h=0.1, b=0.1, vce="hc1")
    assert_agrees(ours, ref.coef.loc["Conventional"].iloc[0])
    assert_agrees(ours.se, ref.se.loc["Conventional"].iloc[0], what="conventional SE")
    assert 15 < ours.value < 25


# 5. Cluster-robust inference: rdrobust's cluster= (CR1), statsmodels, a Monte Carlo --------


def paired_rows(seed: int, n_clusters: int = 1_000, within: float = 0.9,
                fuzzy: bool = False) -> pd.DataFrame:
    """Clusters of two rows that share the running variable and are correlated `within`.

    Like LMB's two ADA scores per election: R ~ U(-1, 1) per cluster, the jump at 0 is 2,
    E[Y | R] = 1 + 0.8 R + 0.5 R^2 below and above (plus the jump), and the two rows of a
    cluster share a N(0, within) shock on top of their own N(0, 1 - within) noise.
    """
    rng = np.random.default_rng(seed)
    r = rng.uniform(-1, 1, n_clusters)
    above = (r >= 0).astype(float)
    treated = rng.binomial(1, np.where(above == 1, 0.8, 0.2)).astype(float) if fuzzy else above
    mean = 1 + 0.8 * r + 0.5 * r**2 + 2 * treated
    rows = np.repeat(np.arange(n_clusters), 2)
    y = (mean + rng.normal(0, np.sqrt(within), n_clusters))[rows]
    y = y + rng.normal(0, np.sqrt(1 - within), 2 * n_clusters)
    return pd.DataFrame({"r": r[rows], "y": y, "t": treated[rows], "g": rows})


@pytest.fixture(scope="module")
def lmb() -> pd.DataFrame:
    return datasets.close_elections_lmb()


def test_lmb_has_two_rows_per_election(lmb):
    sizes = lmb.groupby("election").size()
    assert len(sizes) == 7_130 and sizes.max() == 2 and (sizes == 2).sum() == 6_436
    keys = lmb.groupby(["state", "district", "year"], observed=True).ngroups
    assert keys == lmb["election"].nunique()
    constant = lmb.groupby("election")[["lagdemvoteshare", "demvoteshare", "democrat"]].nunique()
    assert (constant == 1).all().all()  # the two rows of an election differ only in score
    close = lmb[(lmb["lagdemvoteshare"] > 0.48) & (lmb["lagdemvoteshare"] < 0.52)]
    assert len(close) == 915 and close["election"].nunique() == 482
    pairs = lmb[lmb.groupby("election")["score"].transform("size") == 2]
    first, second = (pairs.groupby("election")["score"].nth(k).to_numpy() for k in (0, 1))
    assert np.corrcoef(first, second)[0, 1] > 0.9


def test_lmb_lagged_columns_are_the_previous_election(lmb):
    elections = lmb.drop_duplicates("election").set_index(["state", "district", "year"])
    known = elections[elections["lag2demvoteshare"].notna()]
    earlier = elections.loc[[(s, d, y - 2) for s, d, y in known.index]]
    assert np.allclose(earlier["demvoteshare"].to_numpy(), known["lagdemvoteshare"].to_numpy())
    assert np.allclose(earlier["lagdemvoteshare"].to_numpy(), known["lag2demvoteshare"].to_numpy())


@pytest.mark.parametrize("h", [0.05, 0.117])
def test_clustered_lmb_agrees_with_rdrobust(lmb, h):
    ours = rdd.local_linear_rd(lmb, outcome="score", running="lagdemvoteshare", cutoff=0.5,
                               bandwidth=h, cluster="election", inference="robust")
    ref = rdrobust(lmb["score"], lmb["lagdemvoteshare"], c=0.5, h=h, b=h, vce="cr1",
                   cluster=lmb["election"])
    assert_agrees(ours, ref.coef.loc["Conventional"].iloc[0])
    assert_agrees(ours.extra["conventional_se"], ref.se.loc["Conventional"].iloc[0],
                  what="clustered conventional SE")
    assert_agrees(ours.extra["bias_corrected"], ref.coef.loc["Robust"].iloc[0],
                  what="bias-corrected estimate")
    assert_agrees(ours.se, ref.se.loc["Robust"].iloc[0], what="clustered robust SE")
    assert_agrees(ours.ci_low, ref.ci.loc["Robust"].iloc[0], what="robust CI lower end")
    assert_agrees(ours.ci_high, ref.ci.loc["Robust"].iloc[1], what="robust CI upper end")
    assert_agrees(ours.extra["robust_pvalue"], ref.pv.loc["Robust"].iloc[0], what="robust p-value")
    assert ours.extra["n_clusters"] == lmb.loc[(lmb["lagdemvoteshare"] - 0.5).abs() <= h,
                                               "election"].nunique()
    unclustered = rdd.local_linear_rd(lmb, outcome="score", running="lagdemvoteshare",
                                      cutoff=0.5, bandwidth=h)
    assert ours.extra["conventional_se"] > 1.2 * unclustered.se


@pytest.mark.parametrize("kernel, theirs", [("triangular", "tri"), ("uniform", "uni")])
def test_clustered_sharp_and_fuzzy_agree_with_rdrobust(kernel, theirs):
    data = paired_rows(3, fuzzy=True)
    sharp = rdd.local_linear_rd(data, outcome="y", running="r", cutoff=0.0, bandwidth=0.5,
                                kernel=kernel, cluster="g")
    ref = rdrobust(data["y"], data["r"], c=0.0, h=0.5, b=0.5, kernel=theirs, vce="cr1",
                   cluster=data["g"])
    assert_agrees(sharp, ref.coef.loc["Conventional"].iloc[0])
    assert_agrees(sharp.se, ref.se.loc["Conventional"].iloc[0], what="clustered SE")
    fuzzy = rdd.fuzzy_rd(data, outcome="y", treatment="t", running="r", cutoff=0.0,
                         bandwidth=0.5, kernel=kernel, cluster="g")
    ref = rdrobust(data["y"], data["r"], c=0.0, fuzzy=data["t"], h=0.5, b=0.5, kernel=theirs,
                   vce="cr1", cluster=data["g"])
    assert_agrees(fuzzy, ref.coef.loc["Conventional"].iloc[0])
    assert_agrees(fuzzy.se, ref.se.loc["Conventional"].iloc[0], what="clustered fuzzy SE")


def test_clustered_side_fit_is_statsmodels_cluster_wls():
    """Each side's CR1 variance is statsmodels' cluster-robust WLS on that side's units."""
    from lessons_lib._inference import ols

    data = paired_rows(4)
    h = 0.5
    est = rdd.local_linear_rd(data, outcome="y", running="r", cutoff=0.0, bandwidth=h,
                              cluster="g")
    variances, limits = [], []
    for side in (data["r"] >= 0, data["r"] < 0):
        part = data[side & (data["r"].abs() <= h)]
        weights = 1 - part["r"].abs().to_numpy() / h
        keep = weights > 0
        design = np.column_stack([np.ones(keep.sum()), part["r"].to_numpy()[keep]])
        fit = ols(part["y"].to_numpy()[keep], design, cov_type="cluster", weights=weights[keep],
                  cluster=part["g"].to_numpy()[keep])
        limits.append(fit.params[0])
        variances.append(fit.bse[0] ** 2)
    assert_agrees(est, limits[0] - limits[1])
    assert_agrees(est.se, np.sqrt(sum(variances)), what="clustered SE")


def test_a_cluster_of_one_row_each_is_hc1_up_to_the_small_sample_factor(loyalty):
    ids = loyalty.assign(unit=np.arange(len(loyalty)))
    plain = rdd.local_linear_rd(ids, outcome="Y", running="loyalty", cutoff=70, bandwidth=10)
    clustered = rdd.local_linear_rd(ids, outcome="Y", running="loyalty", cutoff=70, bandwidth=10,
                                    cluster="unit")
    assert clustered.value == plain.value
    n_side = np.array([plain.extra["n_right"], plain.extra["n_left"]])
    # per side CR1 / HC1 = (n - 1) / (n - 2) * n / (n - 1) * (n - 2) / n = 1: identical
    assert clustered.se == pytest.approx(plain.se, rel=1e-12)
    assert clustered.extra["n_clusters"] == n_side.sum()


@pytest.mark.slow
def test_clustered_intervals_cover_and_unclustered_ones_do_not():
    def one(seed, cluster):
        data = paired_rows(seed)
        return rdd.local_linear_rd(data, outcome="y", running="r", cutoff=0.0, bandwidth=0.5,
                                   cluster=cluster), 2.0

    # 1,000 replications (not 400): the Monte Carlo error of a coverage is then 0.7 points,
    # small next to the 93-97% band. The same seeds give the same data to both studies.
    clustered = monte_carlo(lambda seed: one(seed, "g"), n_reps=1_000, seed=11)
    unclustered = monte_carlo(lambda seed: one(seed, None), n_reps=1_000, seed=11)
    print(clustered, unclustered)
    assert_calibrated(clustered, max_abs_bias=0.06)
    assert unclustered.coverage < 0.90  # rows treated as independent: intervals too short


@pytest.mark.slow
def test_clustered_robust_and_fuzzy_intervals_cover():
    def robust(seed):
        data = paired_rows(seed)
        return rdd.local_linear_rd(data, outcome="y", running="r", cutoff=0.0, bandwidth=0.5,
                                   cluster="g", inference="robust"), 2.0

    def fuzzy(seed):
        data = paired_rows(seed, n_clusters=2_000, fuzzy=True)
        return rdd.fuzzy_rd(data, outcome="y", treatment="t", running="r", cutoff=0.0,
                            bandwidth=0.5, cluster="g"), 2.0

    for study, seed, bias in ((robust, 12, 0.05), (fuzzy, 13, 0.1)):
        result = monte_carlo(study, n_reps=1_000, seed=seed)
        print(result)
        assert_calibrated(result, max_abs_bias=bias)


def test_density_test_counts_each_cluster_once(lmb):
    elections = lmb.drop_duplicates("election")
    clustered = rdd.density_test(lmb, running="lagdemvoteshare", cutoff=0.5, cluster="election")
    once = rdd.density_test(elections, running="lagdemvoteshare", cutoff=0.5)
    assert clustered.n == 7_130
    assert_agrees(clustered, once.value)
    assert_agrees(clustered.se, once.se, what="density test SE")


# 6. Donut and covariate balance ---------------------------------------------------------------


def test_donut_drops_the_units_closest_to_the_cutoff(loyalty):
    ours = rdd.local_linear_rd(loyalty, outcome="Y", running="loyalty", cutoff=70, bandwidth=10,
                               donut=1.5, inference="robust")
    outside = loyalty[(loyalty["loyalty"] - 70).abs() >= 1.5]
    by_hand = rdd.local_linear_rd(outside, outcome="Y", running="loyalty", cutoff=70,
                                  bandwidth=10, inference="robust")
    assert ours.value == by_hand.value and ours.se == by_hand.se
    assert ours.extra["donut"] == 1.5 and ours.n == by_hand.n
    assert ours.n < rdd.local_linear_rd(loyalty, outcome="Y", running="loyalty", cutoff=70,
                                        bandwidth=10).n


def test_donut_removes_the_bias_of_sorting_just_over_the_line():
    # The movers of loyalty_cutoff land in [70, 72): a donut of 2 leaves them all out.
    gamed = simulate.loyalty_cutoff(3_000, seed=42, manipulation=0.5).data
    plain = rdd.local_linear_rd(gamed, outcome="Y", running="loyalty", cutoff=70, bandwidth=10)
    donut = rdd.local_linear_rd(gamed, outcome="Y", running="loyalty", cutoff=70, bandwidth=10,
                                donut=2)
    assert not plain.covers(TRUTH)
    assert donut.covers(TRUTH)


def test_covariate_balance_is_the_rd_estimate_on_each_covariate(loyalty):
    rng = np.random.default_rng(5)
    shop = loyalty.assign(visits=0.2 * loyalty["loyalty"] + rng.normal(0, 2, len(loyalty)))
    table = rdd.covariate_balance(shop, covariates=["visits", "Y"], running="loyalty",
                                  cutoff=70, bandwidth=10)
    assert list(table.columns) == ["covariate", "estimate", "se", "ci_low", "ci_high", "pvalue",
                                   "n"]
    direct = rdd.local_linear_rd(shop, outcome="visits", running="loyalty", cutoff=70,
                                 bandwidth=10)
    assert table.loc[0, "estimate"] == direct.value and table.loc[0, "se"] == direct.se
    assert abs(table.loc[0, "estimate"]) < 3 * table.loc[0, "se"]  # smooth in the score
    assert table.loc[1, "pvalue"] < 1e-6  # the outcome itself jumps: the check can fail


def test_close_house_elections_are_imbalanced_on_the_previous_result(lmb):
    """Caughey and Sekhon (2011): bare winners of House races differ before the election.

    Here the party that barely wins at t had won the seat at t - 1 more often, by more
    than two clustered standard errors at a bandwidth of 0.12.
    """
    known = lmb.dropna(subset=["lag2democrat"])
    table = rdd.covariate_balance(known, covariates=["lag2demvoteshare", "lag2democrat"],
                                  running="lagdemvoteshare", cutoff=0.5, bandwidth=0.12,
                                  cluster="election")
    assert (table["estimate"] > 2 * table["se"]).all()
    robust = rdd.covariate_balance(known, covariates=["lag2demvoteshare"],
                                   running="lagdemvoteshare", cutoff=0.5, bandwidth=0.12,
                                   cluster="election", inference="robust")
    assert list(robust.columns) == ["covariate", "estimate", "bias_corrected", "se", "ci_low",
                                    "ci_high", "pvalue", "n"]
    centre = (robust.loc[0, "ci_low"] + robust.loc[0, "ci_high"]) / 2
    assert centre == pytest.approx(robust.loc[0, "bias_corrected"])
    # the p-value agrees with the robust interval: below 5% exactly when it excludes 0
    assert (robust.loc[0, "pvalue"] < 0.05) == (robust.loc[0, "ci_low"] > 0)


# 4. Bad input -------------------------------------------------------------------------------


def test_refuses_bad_input(loyalty):
    with pytest.raises(ValueError, match="DataFrame"):
        rdd.local_linear_rd(loyalty.to_numpy(), outcome="Y", running="loyalty", cutoff=70,
                            bandwidth=5)
    with pytest.raises(ValueError, match="not found"):
        rdd.local_linear_rd(loyalty, outcome="spend", running="loyalty", cutoff=70, bandwidth=5)
    with pytest.raises(ValueError, match="outside the range"):
        rdd.local_linear_rd(loyalty, outcome="Y", running="loyalty", cutoff=500, bandwidth=5)
    with pytest.raises(ValueError, match="cutoff must be a finite number"):
        rdd.local_linear_rd(loyalty, outcome="Y", running="loyalty", cutoff="70", bandwidth=5)
    with pytest.raises(ValueError, match="bandwidth must be a positive number"):
        rdd.local_linear_rd(loyalty, outcome="Y", running="loyalty", cutoff=70, bandwidth=0)
    with pytest.raises(ValueError, match="bandwidth must be a positive number"):
        rdd.local_linear_rd(loyalty, outcome="Y", running="loyalty", cutoff=70, bandwidth=-3)
    with pytest.raises(ValueError, match="kernel must be one of"):
        rdd.local_linear_rd(loyalty, outcome="Y", running="loyalty", cutoff=70, bandwidth=5,
                            kernel="gaussian")
    with pytest.raises(ValueError, match="inference must be"):
        rdd.local_linear_rd(loyalty, outcome="Y", running="loyalty", cutoff=70, bandwidth=5,
                            inference="bootstrap")
    with pytest.raises(ValueError, match="level"):
        rdd.local_linear_rd(loyalty, outcome="Y", running="loyalty", cutoff=70, bandwidth=5,
                            level=95)


def test_refuses_an_empty_bandwidth(loyalty):
    with pytest.raises(ValueError, match="within the bandwidth .* Widen the bandwidth"):
        rdd.local_linear_rd(loyalty, outcome="Y", running="loyalty", cutoff=70, bandwidth=0.001)


def test_refuses_missing_values(loyalty):
    holes = loyalty.copy()
    holes.loc[3, "Y"] = np.nan
    with pytest.raises(ValueError, match="missing value"):
        rdd.local_linear_rd(holes, outcome="Y", running="loyalty", cutoff=70, bandwidth=5)


def test_refuses_too_few_distinct_values_near_the_cutoff():
    data = pd.DataFrame({"x": [-1.0] * 5 + [1.0, 2.0, 3.0, 4.0], "y": np.arange(9.0)})
    with pytest.raises(ValueError, match="distinct values"):
        rdd.local_linear_rd(data, outcome="y", running="x", cutoff=0.0, bandwidth=10)


def test_fuzzy_refuses_no_first_stage(loyalty):
    rng = np.random.default_rng(0)
    no_jump = loyalty.assign(T=rng.binomial(1, 0.5, len(loyalty)))
    with pytest.raises(ValueError, match="no first stage"):
        rdd.fuzzy_rd(no_jump, outcome="Y", treatment="T", running="loyalty", cutoff=70,
                     bandwidth=10)


def test_density_and_placebo_refuse_bad_input(loyalty):
    with pytest.raises(ValueError, match="fewer than 4 bins"):
        rdd.density_test(loyalty, running="loyalty", cutoff=70, bandwidth=1, bin_width=0.5)
    with pytest.raises(ValueError, match="differ from the real cutoff"):
        rdd.placebo_cutoffs(loyalty, outcome="Y", running="loyalty", cutoff=70, placebos=[70],
                            bandwidth=5)
    with pytest.raises(ValueError, match="bandwidth must be a positive number"):
        rdd.binned_means(loyalty, outcome="Y", running="loyalty", cutoff=70, bin_width=0)


def test_bandwidth_selector_refuses_one_sided_data(loyalty):
    few = pd.concat([loyalty[loyalty["loyalty"] >= 70], loyalty[loyalty["loyalty"] < 70].head(3)])
    with pytest.raises(ValueError, match="at least 10 units on each side"):
        rdd.mse_bandwidth(few, outcome="Y", running="loyalty", cutoff=70)


def test_refuses_bad_clusters(lmb):
    args = {"outcome": "score", "running": "lagdemvoteshare", "cutoff": 0.5, "bandwidth": 0.1}
    with pytest.raises(ValueError, match="not found"):
        rdd.local_linear_rd(lmb, cluster="district_year", **args)
    holes = lmb.assign(election=lmb["election"].astype(float))
    holes.loc[5, "election"] = np.nan
    with pytest.raises(ValueError, match="missing value"):
        rdd.local_linear_rd(holes, cluster="election", **args)
    with pytest.raises(ValueError, match="single value"):
        rdd.local_linear_rd(lmb.assign(one=1), cluster="one", **args)
    with pytest.raises(ValueError, match="name of a column"):
        rdd.local_linear_rd(lmb, cluster=lmb["election"], **args)
    with pytest.raises(ValueError, match="single value"):
        rdd.fuzzy_rd(lmb.assign(one=1), treatment="democrat", cluster="one", **args)
    # two clusters in the data, but one of them alone holds every unit above the cutoff
    halves = lmb.assign(half=(lmb["lagdemvoteshare"] >= 0.5).astype(int))
    with pytest.raises(ValueError, match="belong to one cluster"):
        rdd.local_linear_rd(halves, cluster="half", **args)
    with pytest.raises(ValueError, match="different values"):
        rdd.density_test(lmb, running="lagdemvoteshare", cutoff=0.5, cluster="state")


def test_refuses_bad_donuts_and_covariates(loyalty):
    args = {"outcome": "Y", "running": "loyalty", "cutoff": 70}
    with pytest.raises(ValueError, match="donut must be a number >= 0"):
        rdd.local_linear_rd(loyalty, bandwidth=10, donut=-1, **args)
    with pytest.raises(ValueError, match="not smaller than the bandwidth"):
        rdd.local_linear_rd(loyalty, bandwidth=10, donut=10, **args)
    with pytest.raises(ValueError, match="removes every unit on one side"):
        rdd.local_linear_rd(loyalty, bandwidth=10, donut=500, **args)
    with pytest.raises(ValueError, match="non-empty list"):
        rdd.covariate_balance(loyalty, covariates="Y", running="loyalty", cutoff=70, bandwidth=5)


def test_loyalty_simulation_refuses_bad_arguments():
    with pytest.raises(ValueError, match="design must be"):
        simulate.loyalty_cutoff(100, design="blurry")
    with pytest.raises(ValueError, match="manipulation must be"):
        simulate.loyalty_cutoff(100, manipulation=2)
