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


def test_loyalty_simulation_refuses_bad_arguments():
    with pytest.raises(ValueError, match="design must be"):
        simulate.loyalty_cutoff(100, design="blurry")
    with pytest.raises(ValueError, match="manipulation must be"):
        simulate.loyalty_cutoff(100, manipulation=2)
