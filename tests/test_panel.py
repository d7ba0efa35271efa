"""lessons_lib.panel meets the book's bar: references, Monte Carlo, published number, refusals."""

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from linearmodels import PanelOLS
from threadpoolctl import threadpool_limits

from lessons_lib import datasets, panel, simulate
from lessons_lib.testing import assert_agrees, assert_calibrated, monte_carlo


@pytest.fixture(autouse=True)
def _one_blas_thread():
    """Small matrices, many replications: extra BLAS threads only add contention."""
    with threadpool_limits(limits=1):
        yield


@pytest.fixture(scope="module")
def regions():
    return simulate.banner_regions(50, seed=3, months=(-3, 1)).data


@pytest.fixture(scope="module")
def castle():
    return datasets.castle_doctrine()


def _two_months(data):
    return data[data["month"].isin([-1, 0])].reset_index(drop=True)


# --- 1. agreement with statsmodels and linearmodels ----------------------------------------

def test_did_table_reproduces_the_chapter_arithmetic():
    df = pd.DataFrame({"Y": [42.0, 56.0, 38.0, 46.0], "G": [1, 1, 0, 0], "P": [0, 1, 0, 1]})
    table = panel.did_table(df, outcome="Y", group="G", post="P")
    assert table.loc["treated (G=1)", "change"] == 14
    assert table.loc["control (G=0)", "change"] == 8


def test_did_2x2_agrees_with_statsmodels_clustered_and_hc1(regions):
    two = _two_months(regions)
    ours = panel.did_2x2(two, outcome="Y", group="region_A", post="post", cluster="shopper")
    ref = smf.ols("Y ~ region_A * post", two).fit(cov_type="cluster",
                                                 cov_kwds={"groups": two["shopper"]})
    assert_agrees(ours, ref.params["region_A:post"])
    assert_agrees(ours.se, ref.bse["region_A:post"], what="clustered SE")
    ours_hc1 = panel.did_2x2(two, outcome="Y", group="region_A", post="post")
    ref_hc1 = smf.ols("Y ~ region_A * post", two).fit(cov_type="HC1")
    assert_agrees(ours_hc1.se, ref_hc1.bse["region_A:post"], what="HC1 SE")


def test_twfe_agrees_with_dummy_regression_and_panelols(regions):
    ours = panel.two_way_fixed_effects(regions, outcome="Y", treatment="T", unit="shopper",
                                       time="month")
    ref = smf.ols("Y ~ T + C(shopper) + C(month)", regions).fit(
        cov_type="cluster", cov_kwds={"groups": regions["shopper"]})
    assert_agrees(ours, ref.params["T"])
    assert_agrees(ours.se, ref.bse["T"], what="clustered SE")
    indexed = regions.set_index(["shopper", "month"])
    lm = PanelOLS(indexed["Y"], indexed[["T"]], entity_effects=True, time_effects=True).fit(
        cov_type="clustered", cluster_entity=True, group_debias=True)
    assert_agrees(ours, lm.params["T"])
    assert_agrees(ours.se, lm.std_errors["T"], what="PanelOLS SE (group_debias=True)")


def test_twfe_unbalanced_weighted_with_covariate_agrees_with_statsmodels(regions):
    rng = np.random.default_rng(7)
    data = regions.sample(frac=0.8, random_state=1).reset_index(drop=True)
    data["weight"] = rng.uniform(0.5, 2.0, len(data))
    data["x"] = rng.normal(size=len(data)) + 0.1 * data["month"]
    ours = panel.two_way_fixed_effects(data, outcome="Y", treatment="T", unit="shopper",
                                       time="month", covariates=["x"], weights="weight")
    ref = smf.wls("Y ~ T + x + C(shopper) + C(month)", data, weights=data["weight"]).fit(
        cov_type="cluster", cov_kwds={"groups": data["shopper"]})
    assert_agrees(ours, ref.params["T"])
    assert_agrees(ours.se, ref.bse["T"], what="clustered SE")


def test_twfe_on_castle_agrees_with_panelols(castle):
    ours = panel.two_way_fixed_effects(castle, outcome="l_homicide", treatment="post",
                                       unit="sid", time="year", weights="popwt")
    indexed = castle.set_index(["sid", "year"])
    lm = PanelOLS(indexed["l_homicide"], indexed[["post"]], entity_effects=True,
                  time_effects=True, weights=indexed["popwt"]).fit(
        cov_type="clustered", cluster_entity=True, group_debias=True)
    assert_agrees(ours, lm.params["post"])
    assert_agrees(ours.se, lm.std_errors["post"], what="PanelOLS SE")


def test_event_study_agrees_with_dummy_regression(regions):
    ours = panel.event_study(regions, outcome="Y", unit="shopper", time="month",
                             first_treated="first_treated", leads=3, lags=1).set_index("event_time")
    data = regions.copy()
    event = data["month"] - data["first_treated"]
    names = {}
    for e in [-3, -2, 0, 1]:
        name = f"e{e + 10}"
        names[e] = name
        data[name] = (event == e).astype(float)
    formula = "Y ~ " + " + ".join(names.values()) + " + C(shopper) + C(month)"
    ref = smf.ols(formula, data).fit(cov_type="cluster", cov_kwds={"groups": data["shopper"]})
    for e, name in names.items():
        assert_agrees(ours.loc[e, "estimate"], ref.params[name], what=f"event time {e}")
        assert_agrees(ours.loc[e, "se"], ref.bse[name], what=f"SE at event time {e}")
    assert ours.loc[-1, "estimate"] == 0


def test_group_time_cells_agree_with_long_difference_regressions():
    sim = simulate.staggered_rollout(120, seed=2, periods=6, cohorts={3: 0.3, 5: 0.3})
    cells = panel.group_time_effects(sim.data, outcome="Y", unit="unit", time="period",
                                     first_treated="first_treated")
    wide = sim.data.pivot(index="unit", columns="period", values="Y")
    cohort = sim.data.groupby("unit")["first_treated"].first()
    for row in cells.itertuples():
        g, t = row.cohort, row.time
        change = wide[int(t)] - wide[int(g - 1)]
        keep = (cohort == g) | cohort.isna() | (cohort > max(t, g - 1))
        frame = pd.DataFrame({"change": change[keep], "D": (cohort[keep] == g).astype(float)})
        ref = smf.ols("change ~ D", frame).fit(cov_type="HC0")
        assert_agrees(row.att, ref.params["D"], what=f"ATT({g}, {t})")
        assert_agrees(row.se, ref.bse["D"], what=f"SE of ATT({g}, {t})")


def test_staggered_did_on_castle_matches_callaway_santanna_did_package(castle):
    # Callaway and Sant'Anna's R package `did` (att_gt with never-treated controls, gname =
    # the year the law took effect, then aggte(type = "simple")) gives 0.110383 on these
    # data, as pinned by independent replications of Cheng and Hoekstra; with the cohort
    # coded as post's first year instead, it gives 0.019403.
    ours = panel.staggered_did(castle, outcome="l_homicide", unit="sid", time="year",
                               first_treated="effyear", control="never_treated")
    assert ours.value == pytest.approx(0.110383035, abs=1e-8)
    coded_by_post = castle.assign(first_post=castle["effyear"] + 1)
    late = panel.staggered_did(coded_by_post, outcome="l_homicide", unit="sid", time="year",
                               first_treated="first_post", control="never_treated")
    assert late.value == pytest.approx(0.019402808, abs=1e-8)


# --- 2. right in simulation ----------------------------------------------------------------

@pytest.mark.slow
def test_did_2x2_is_calibrated():
    def one(seed):
        sim = simulate.banner_regions(60, seed=seed, months=(-1, 0))
        return panel.did_2x2(sim.data, outcome="Y", group="region_A", post="post",
                             cluster="shopper"), 6.0

    result = monte_carlo(one, n_reps=400, seed=11)
    assert_calibrated(result, max_abs_bias=0.15)


@pytest.mark.slow
def test_twfe_is_calibrated_with_common_adoption():
    def one(seed):
        sim = simulate.banner_regions(40, seed=seed, months=(-3, 1))
        return panel.two_way_fixed_effects(sim.data, outcome="Y", treatment="T", unit="shopper",
                                           time="month"), 6.0

    result = monte_carlo(one, n_reps=400, seed=12)
    assert_calibrated(result, max_abs_bias=0.15)


@pytest.mark.slow
def test_staggered_did_is_calibrated_where_twfe_is_biased():
    twfe_errors = []

    def one(seed):
        sim = simulate.staggered_rollout(150, seed=seed, periods=8, cohorts={3: 0.4, 6: 0.3})
        if len(twfe_errors) < 40:
            twfe = panel.two_way_fixed_effects(sim.data, outcome="Y", treatment="T", unit="unit",
                                               time="period")
            twfe_errors.append(twfe.value - sim.truth["ATT"])
        return panel.staggered_did(sim.data, outcome="Y", unit="unit", time="period",
                                   first_treated="first_treated"), sim.truth["ATT"]

    result = monte_carlo(one, n_reps=400, seed=13)
    assert_calibrated(result, max_abs_bias=0.05)
    assert np.mean(twfe_errors) < -0.5  # TWFE lands far below the truth here


def test_broken_parallel_trends_bias_the_2x2_by_the_trend_gap():
    estimates = [panel.did_2x2(simulate.banner_regions(200, seed=s, trend_gap=1.5,
                                                       months=(-1, 0)).data,
                               outcome="Y", group="region_A", post="post").value for s in range(30)]
    assert np.mean(estimates) == pytest.approx(6.0 + 1.5, abs=0.3)


# --- 3. the published number ----------------------------------------------------------------

def test_castle_doctrine_reproduces_the_8_percent_increase(castle):
    # Cheng and Hoekstra (2013), abstract: "a statistically significant 8 percent net
    # increase" in murders and non-negligent manslaughter, from population-weighted
    # regressions of the log homicide rate with state and region-by-year fixed effects.
    region_year = castle.assign(region_year=castle["region"] * 10_000 + castle["year"])
    est = panel.two_way_fixed_effects(region_year, outcome="l_homicide", treatment="post",
                                      unit="sid", time="region_year", weights="popwt")
    assert np.expm1(est.value) == pytest.approx(0.08, abs=0.015)
    assert est.ci_low > 0  # statistically significant
    plain = panel.two_way_fixed_effects(castle, outcome="l_homicide", treatment="post",
                                        unit="sid", time="year", weights="popwt")
    assert plain.value == pytest.approx(0.0755332, abs=1e-6)
    assert np.expm1(plain.value) == pytest.approx(0.08, abs=0.01)


# --- 4. bad input is refused clearly ---------------------------------------------------------

def test_refusals(regions):
    two = _two_months(regions)
    with pytest.raises(ValueError, match="must be 0/1"):
        panel.did_2x2(two.assign(region_A=two["region_A"] * 2), outcome="Y", group="region_A",
                      post="post")
    with pytest.raises(ValueError, match="missing value"):
        panel.did_2x2(two.assign(Y=np.where(two.index == 0, np.nan, two["Y"])), outcome="Y",
                      group="region_A", post="post")
    with pytest.raises(ValueError, match="all four cells"):
        panel.did_table(two[~((two["region_A"] == 0) & (two["post"] == 1))], outcome="Y",
                        group="region_A", post="post")
    with pytest.raises(ValueError, match="each role needs its own column"):
        panel.did_2x2(two, outcome="Y", group="post", post="post")
    with pytest.raises(ValueError, match="no variation left"):
        treated_only = regions[regions["region_A"] == 1]
        panel.two_way_fixed_effects(treated_only, outcome="Y", treatment="T", unit="shopper",
                                    time="month")
    with pytest.raises(ValueError, match="design is singular"):
        panel.two_way_fixed_effects(regions.assign(level=regions["shopper"] * 2.0), outcome="Y",
                                    treatment="T", unit="shopper", time="month",
                                    covariates=["level"])
    with pytest.raises(ValueError, match="weights .* must be positive"):
        panel.two_way_fixed_effects(regions.assign(w=-1.0), outcome="Y", treatment="T",
                                    unit="shopper", time="month", weights="w")
    with pytest.raises(ValueError, match="at least 2 units and 2 periods"):
        panel.two_way_fixed_effects(regions[regions["month"] == 0], outcome="Y", treatment="T",
                                    unit="shopper", time="month")
    with pytest.raises(ValueError, match="reference must be"):
        panel.event_study(regions, outcome="Y", unit="shopper", time="month",
                          first_treated="first_treated", reference=0)
    with pytest.raises(ValueError, match="no treated observations at event time"):
        panel.event_study(regions, outcome="Y", unit="shopper", time="month",
                          first_treated="first_treated", leads=6)
    with pytest.raises(ValueError, match="never treated|no unit is ever treated"):
        panel.event_study(regions.assign(first_treated=np.nan), outcome="Y", unit="shopper",
                          time="month", first_treated="first_treated")


def test_staggered_refusals():
    data = simulate.staggered_rollout(60, seed=1, periods=6, cohorts={3: 0.3, 5: 0.3}).data
    with pytest.raises(ValueError, match="unbalanced"):
        panel.staggered_did(data.iloc[1:], outcome="Y", unit="unit", time="period",
                            first_treated="first_treated")
    with pytest.raises(ValueError, match="as a number"):
        panel.staggered_did(data.assign(first_treated="soon"), outcome="Y", unit="unit",
                            time="period", first_treated="first_treated")
    with pytest.raises(ValueError, match="from the first period on"):
        panel.staggered_did(data.assign(first_treated=data["first_treated"].fillna(1)),
                            outcome="Y", unit="unit", time="period",
                            first_treated="first_treated")
    with pytest.raises(ValueError, match="control must be"):
        panel.staggered_did(data, outcome="Y", unit="unit", time="period",
                            first_treated="first_treated", control="all")
    with pytest.raises(ValueError, match="same in every row"):
        shuffled = data.assign(first_treated=np.where(data.index % 2 == 0, 3.0, np.nan))
        panel.staggered_did(shuffled, outcome="Y", unit="unit", time="period",
                            first_treated="first_treated")
    with pytest.raises(ValueError, match="switches off"):
        flicker = data.assign(T=np.where((data["period"] == 6) & (data["T"] == 1), 0, data["T"]))
        panel.first_treatment_period(flicker, treatment="T", unit="unit", time="period")
