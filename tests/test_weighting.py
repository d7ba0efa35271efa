"""Tests of lessons_lib.weighting (IPW) against DoWhy, statsmodels, the truth and What If."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from sklearn.linear_model import LogisticRegression

from lessons_lib import simulate
from lessons_lib.datasets import NHEFS_CONFOUNDERS, nhefs
from lessons_lib.testing import assert_agrees, assert_calibrated, monte_carlo
from lessons_lib.weighting import (
    effective_sample_size,
    fit_logistic,
    ipw,
    ipw_weights,
    propensity_scores,
)

COVARIATES = ["prior_spend", "visits", "mobile"]


@pytest.fixture(scope="module")
def shop() -> pd.DataFrame:
    return simulate.banner_shop(2_000, seed=3).data


@pytest.fixture(scope="module")
def nhefs_data() -> pd.DataFrame:
    return nhefs()


# 1. Agreement with reference implementations -------------------------------------------

def test_logistic_fit_equals_statsmodels_logit(nhefs_data):
    design = sm.add_constant(nhefs_data[NHEFS_CONFOUNDERS].to_numpy(dtype=float))
    t = nhefs_data["qsmk"].to_numpy()
    ours = fit_logistic(design, t)
    theirs = sm.Logit(t, design).fit(disp=0).params
    np.testing.assert_allclose(ours, theirs, rtol=1e-6)


def test_hajek_agrees_with_dowhy(shop):
    from dowhy import CausalModel

    model = CausalModel(data=shop.copy(), treatment="T", outcome="Y", common_causes=COVARIATES)
    estimand = model.identify_effect(proceed_when_unidentifiable=True)
    theirs = model.estimate_effect(estimand, method_name="backdoor.propensity_score_weighting",
                                   method_params={"weighting_scheme": "ips_weight"})
    # DoWhy's settings: L2-penalised LogisticRegression(), propensities clipped to [0.05, 0.95]
    ours = ipw(shop, outcome="Y", treatment="T", covariates=COVARIATES,
               propensity_model=LogisticRegression(), clip=0.05, se="robust")
    assert_agrees(ours, theirs.value, rtol=1e-6)


def test_hajek_and_robust_se_agree_with_statsmodels_wls(nhefs_data):
    e, _ = propensity_scores(nhefs_data, treatment="qsmk", covariates=NHEFS_CONFOUNDERS)
    weights = ipw_weights(nhefs_data["qsmk"].to_numpy(), e)
    design = sm.add_constant(nhefs_data["qsmk"].to_numpy(dtype=float))
    wls = sm.WLS(nhefs_data["wt82_71"].to_numpy(), design, weights=weights).fit(cov_type="HC0")
    ours = ipw(nhefs_data, outcome="wt82_71", treatment="qsmk", covariates=NHEFS_CONFOUNDERS,
               se="robust")
    assert_agrees(ours, wls.params[1], rtol=1e-6)
    assert_agrees(ours.se, wls.bse[1], rtol=1e-6, what="robust standard error")


def test_horvitz_thompson_equals_hand_formula(shop):
    e, _ = propensity_scores(shop, treatment="T", covariates=COVARIATES)
    t, y = shop["T"].to_numpy(), shop["Y"].to_numpy()
    hand = np.mean(t * y / e) - np.mean((1 - t) * y / (1 - e))
    assert_agrees(ipw(shop, outcome="Y", treatment="T", covariates=COVARIATES, normalized=False), hand, rtol=1e-10)


def test_stabilized_weights_leave_hajek_unchanged(nhefs_data):
    e, _ = propensity_scores(nhefs_data, treatment="qsmk", covariates=NHEFS_CONFOUNDERS)
    t, y = nhefs_data["qsmk"].to_numpy(), nhefs_data["wt82_71"].to_numpy()
    for stabilized in (False, True):
        w = ipw_weights(t, e, stabilized=stabilized)
        value = np.average(y[t == 1], weights=w[t == 1]) - np.average(y[t == 0], weights=w[t == 0])
        assert_agrees(value, ipw(nhefs_data, outcome="wt82_71", treatment="qsmk",
                                 covariates=NHEFS_CONFOUNDERS).value)


def test_known_propensity_and_effective_sample_size():
    assert effective_sample_size(np.ones(10)) == pytest.approx(10)
    assert effective_sample_size(np.array([1.0, 1.0, 1.0, 97.0])) < 1.1
    sim = simulate.banner_shop(3_000, seed=5)
    est = ipw(sim.data, outcome="Y", treatment="T",
              propensity=sim.potential_outcomes["propensity"].to_numpy(), se="robust")
    assert est.covers(sim.ate)


def test_trimming_drops_units_and_changes_the_estimand():
    data = simulate.limited_overlap(2_000, strength=3.0, seed=0).data
    est = ipw(data, outcome="Y", treatment="T", covariates=["x"], trim=0.05)
    assert est.extra["n_trimmed"] > 0 and est.n == 2_000 - est.extra["n_trimmed"]
    assert est.estimand.startswith("ATE (units with e in")


# 2. Monte Carlo: bias and coverage -----------------------------------------------------

def _replication(normalized: bool, se: str = "sandwich"):
    # Good overlap (e between about 0.05 and 0.95): where IPW's normal interval is meant to work.
    def one(seed: int):
        sim = simulate.limited_overlap(1_000, strength=1.0, seed=seed)
        return ipw(sim.data, outcome="Y", treatment="T", covariates=["x"], normalized=normalized,
                   se=se), sim.ate
    return one


@pytest.mark.slow
def test_hajek_sandwich_is_calibrated():
    result = monte_carlo(_replication(True), n_reps=400, seed=40)
    print(result)
    assert_calibrated(result, max_abs_bias=0.05)


@pytest.mark.slow
def test_horvitz_thompson_sandwich_is_calibrated():
    result = monte_carlo(_replication(False), n_reps=400, seed=41)
    print(result)
    assert_calibrated(result, max_abs_bias=0.05)


@pytest.mark.slow
def test_weights_as_known_se_is_conservative():
    """What If's robust SE ignores that e(X) was estimated: for the ATE it overstates the
    uncertainty, so its interval covers more than 95% (Lunceford and Davidian, 2004)."""
    result = monte_carlo(_replication(True, se="robust"), n_reps=400, seed=42)
    print(result)
    assert result.coverage > 0.97 and result.mean_se > 1.3 * result.sd


# 3. The published number: What If, chapter 12 ------------------------------------------

def test_reproduces_what_if_ip_weighting(nhefs_data):
    """Hernan and Robins (2020), section 12.2: 3.4 kg (95% CI 2.4 to 4.5), from a weighted
    regression with robust (GEE) standard errors; nonstabilized weights average 2.0
    (range 1.05 to 16.7), stabilized ones 0.999 (range 0.33 to 4.30), section 12.3."""
    est = ipw(nhefs_data, outcome="wt82_71", treatment="qsmk", covariates=NHEFS_CONFOUNDERS,
              se="robust")
    assert round(est.value, 1) == 3.4
    assert (round(est.ci_low, 1), round(est.ci_high, 1)) == (2.4, 4.5)
    e, _ = propensity_scores(nhefs_data, treatment="qsmk", covariates=NHEFS_CONFOUNDERS)
    w = ipw_weights(nhefs_data["qsmk"].to_numpy(), e)
    sw = ipw_weights(nhefs_data["qsmk"].to_numpy(), e, stabilized=True)
    assert (round(w.mean(), 1), round(w.min(), 2), round(w.max(), 1)) == (2.0, 1.05, 16.7)
    assert (round(sw.mean(), 3), round(sw.min(), 2), round(sw.max(), 2)) == (0.999, 0.33, 4.30)


# 4. Bad input is refused clearly -------------------------------------------------------

def test_refuses_non_binary_treatment(shop):
    bad = shop.assign(T=shop["T"] * 2)
    with pytest.raises(ValueError, match="must be 0/1"):
        ipw(bad, outcome="Y", treatment="T", covariates=COVARIATES)


def test_refuses_missing_values(shop):
    bad = shop.copy()
    bad.loc[3, "prior_spend"] = np.nan
    with pytest.raises(ValueError, match="missing value"):
        ipw(bad, outcome="Y", treatment="T", covariates=COVARIATES)


def test_refuses_no_overlap(shop):
    separated = shop.assign(x=shop["T"] * 10.0)
    with pytest.raises(ValueError, match="positivity fails"):
        ipw(separated, outcome="Y", treatment="T", covariates=["x"])
    with pytest.raises(ValueError, match="no overlap"):
        ipw(shop, outcome="Y", treatment="T", propensity=np.where(shop["T"] == 1, 1.0, 0.3),
            se="robust")


def test_refuses_collinear_covariates(shop):
    with pytest.raises(ValueError, match="singular"):
        ipw(shop.assign(twice=2 * shop["visits"]), outcome="Y", treatment="T",
            covariates=["visits", "twice"])


def test_refuses_bad_options(shop):
    with pytest.raises(ValueError, match="covariates must be a non-empty list"):
        ipw(shop, outcome="Y", treatment="T", covariates="prior_spend")
    with pytest.raises(ValueError, match="clip must be a number between 0 and 0.5"):
        ipw(shop, outcome="Y", treatment="T", covariates=COVARIATES, clip=0.7)
    with pytest.raises(ValueError, match="se must be"):
        ipw(shop, outcome="Y", treatment="T", covariates=COVARIATES, se="jackknife")
    with pytest.raises(ValueError, match="se='sandwich' counts the fitting"):
        ipw(shop, outcome="Y", treatment="T", covariates=COVARIATES,
            propensity_model=LogisticRegression())
    with pytest.raises(ValueError, match="one number per row"):
        ipw(shop, outcome="Y", treatment="T", propensity=np.array([0.5, 0.5]), se="robust")
    with pytest.raises(ValueError, match="non-negative"):
        effective_sample_size(np.array([1.0, -1.0]))
