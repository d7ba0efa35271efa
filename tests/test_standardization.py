"""Tests of lessons_lib.standardization (the g-formula) against statsmodels, the truth and What If."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from sklearn.linear_model import LinearRegression

from lessons_lib import simulate
from lessons_lib.datasets import NHEFS_CONFOUNDERS, nhefs
from lessons_lib.standardization import potential_outcome_predictions, standardization
from lessons_lib.testing import assert_agrees, assert_calibrated, monte_carlo

COVARIATES = ["prior_spend", "visits", "mobile"]


@pytest.fixture(scope="module")
def shop() -> pd.DataFrame:
    return simulate.banner_shop(2_000, seed=3).data


@pytest.fixture(scope="module")
def nhefs_data() -> pd.DataFrame:
    return nhefs()


# 1. Agreement with statsmodels ---------------------------------------------------------

def test_agrees_with_statsmodels_ols_predictions(nhefs_data):
    formula = "wt82_71 ~ qsmk + " + " + ".join(NHEFS_CONFOUNDERS) + " + qsmk:smokeintensity"
    fit = smf.ols(formula, nhefs_data).fit()
    theirs = np.mean(fit.predict(nhefs_data.assign(qsmk=1)) - fit.predict(nhefs_data.assign(qsmk=0)))
    ours = standardization(nhefs_data, outcome="wt82_71", treatment="qsmk",
                           covariates=NHEFS_CONFOUNDERS, interactions=["smokeintensity"])
    assert_agrees(ours, theirs, rtol=1e-6)


def test_fully_interacted_model_equals_one_regression_per_arm(shop):
    m1, m0 = potential_outcome_predictions(shop, outcome="Y", treatment="T",
                                           covariates=COVARIATES)
    treated, control = shop[shop["T"] == 1], shop[shop["T"] == 0]
    fit1 = LinearRegression().fit(treated[COVARIATES], treated["Y"])
    fit0 = LinearRegression().fit(control[COVARIATES], control["Y"])
    np.testing.assert_allclose(m1, fit1.predict(shop[COVARIATES]), rtol=1e-8)
    np.testing.assert_allclose(m0, fit0.predict(shop[COVARIATES]), rtol=1e-8)


def test_no_interactions_gives_the_regression_coefficient(shop):
    fit = smf.ols("Y ~ T + prior_spend + visits + mobile", shop).fit()
    ours = standardization(shop, outcome="Y", treatment="T", covariates=COVARIATES,
                           interactions=None)
    assert_agrees(ours, fit.params["T"], rtol=1e-6)


def test_any_scikit_learn_model_with_bootstrap(shop):
    est = standardization(shop, outcome="Y", treatment="T", covariates=COVARIATES,
                          outcome_model=LinearRegression(), se="bootstrap", n_boot=50, seed=1)
    plain = standardization(shop, outcome="Y", treatment="T", covariates=COVARIATES,
                            interactions=None)
    assert_agrees(est, plain.value, rtol=1e-8)
    assert 0.5 * plain.se < est.se < 2 * plain.se


# 2. Monte Carlo ------------------------------------------------------------------------

@pytest.mark.slow
def test_sandwich_is_calibrated_on_the_banner_shop():
    def one(seed: int):
        sim = simulate.banner_shop(1_000, seed=seed)
        return standardization(sim.data, outcome="Y", treatment="T", covariates=COVARIATES), sim.ate
    result = monte_carlo(one, n_reps=400, seed=7)
    print(result)
    assert_calibrated(result, max_abs_bias=0.1)


# 3. The published number: What If, chapter 13 ------------------------------------------

def test_reproduces_what_if_standardization(nhefs_data):
    """Hernan and Robins (2020), section 13.3: standardized means 5.2 kg (everyone quits)
    and 1.8 kg (no one quits), effect 3.5 kg, bootstrap 95% CI 2.6 to 4.5."""
    est = standardization(nhefs_data, outcome="wt82_71", treatment="qsmk",
                          covariates=NHEFS_CONFOUNDERS, interactions=["smokeintensity"],
                          se="bootstrap", n_boot=200, seed=2020)
    assert round(est.value, 1) == 3.5
    assert (round(est.extra["mean_y1"], 1), round(est.extra["mean_y0"], 1)) == (5.3, 1.8)
    assert abs(est.ci_low - 2.6) < 0.1 and abs(est.ci_high - 4.5) < 0.15


# 4. Bad input --------------------------------------------------------------------------

def test_refuses_bad_input(shop):
    with pytest.raises(ValueError, match="must be 0/1"):
        standardization(shop.assign(T=shop["T"] + 1), outcome="Y", treatment="T",
                        covariates=COVARIATES)
    with pytest.raises(ValueError, match="missing value"):
        standardization(shop.assign(Y=np.where(shop.index == 0, np.nan, shop["Y"])), outcome="Y",
                        treatment="T", covariates=COVARIATES)
    with pytest.raises(ValueError, match="singular"):
        standardization(shop.assign(c=1.0), outcome="Y", treatment="T",
                        covariates=[*COVARIATES, "c"])
    with pytest.raises(ValueError, match="interactions"):
        standardization(shop, outcome="Y", treatment="T", covariates=COVARIATES,
                        interactions=["age"])
    with pytest.raises(ValueError, match="se='sandwich' needs the least-squares"):
        standardization(shop, outcome="Y", treatment="T", covariates=COVARIATES,
                        outcome_model=LinearRegression())
    with pytest.raises(ValueError, match="n_boot"):
        standardization(shop, outcome="Y", treatment="T", covariates=COVARIATES, se="bootstrap",
                        n_boot=3)
    with pytest.raises(ValueError, match="not found"):
        standardization(shop, outcome="income", treatment="T", covariates=COVARIATES)
