"""Tests of lessons_lib.transport: agreement with statsmodels, coverage of the target ATE in
simulation, and bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from lessons_lib import simulate
from lessons_lib.experiments import difference_in_means
from lessons_lib.testing import assert_agrees, assert_calibrated, monte_carlo
from lessons_lib.transport import transport_weights, transported_ate

COVARIATES = ["tenure", "remote"]


@pytest.fixture(scope="module")
def pilot() -> pd.DataFrame:
    return simulate.assistant_pilot(seed=3).data


def test_weights_agree_with_statsmodels_logit(pilot):
    design = sm.add_constant(pilot[COVARIATES])
    p = sm.Logit(pilot["in_trial"], design).fit(disp=0).predict(design)
    trial = pilot["in_trial"] == 1
    expected = ((1 - p) / p)[trial].to_numpy()
    ours = transport_weights(pilot, sample="in_trial", covariates=COVARIATES)
    np.testing.assert_allclose(ours, expected, rtol=1e-6)


def test_estimate_agrees_with_statsmodels_weighted_regression(pilot):
    trial = pilot[pilot["in_trial"] == 1]
    weights = transport_weights(pilot, sample="in_trial", covariates=COVARIATES)
    fit = sm.WLS(trial["Y"], sm.add_constant(trial["T"]), weights=weights).fit()
    ours = transported_ate(pilot, outcome="Y", treatment="T", covariates=COVARIATES)
    assert_agrees(ours, fit.params["T"])


def test_m_estimation_se_matches_a_numerical_jacobian(pilot):
    """The analytic Jacobian equals finite differences of the stacked estimating equations."""
    from scipy.special import expit

    ours = transported_ate(pilot, outcome="Y", treatment="T", covariates=COVARIATES)
    s = pilot["in_trial"].to_numpy()
    x = np.column_stack([np.ones(len(pilot)), pilot[COVARIATES].to_numpy()])
    t = np.nan_to_num(pilot["T"].to_numpy())
    y = np.nan_to_num(pilot["Y"].to_numpy())

    def psi(theta):
        gamma, mu1, mu0 = theta[:3], theta[3], theta[4]
        p = expit(x @ gamma)
        w = s * np.exp(-(x @ gamma))
        return np.column_stack([x * (s - p)[:, None], w * t * (y - mu1), w * (1 - t) * (y - mu0)])

    gamma = sm.Logit(s, x).fit(disp=0).params
    weights = s * np.exp(-(x @ gamma))
    mu1 = np.sum(weights * t * y) / np.sum(weights * t)
    mu0 = np.sum(weights * (1 - t) * y) / np.sum(weights * (1 - t))
    theta = np.r_[gamma, mu1, mu0]
    step = 1e-6
    jacobian = np.column_stack([
        (psi(theta + step * e).mean(axis=0) - psi(theta - step * e).mean(axis=0)) / (2 * step)
        for e in np.eye(5)])
    values = psi(theta)
    bread = np.linalg.inv(jacobian)
    covariance = bread @ (values.T @ values / len(s)) @ bread.T / len(s)
    se = np.sqrt(covariance[3, 3] + covariance[4, 4] - 2 * covariance[3, 4])
    assert_agrees(ours.se, se, rtol=1e-4, what="M-estimation SE")


@pytest.mark.slow
def test_covers_the_target_ate():
    def one(seed):
        sim = simulate.assistant_pilot(1_000, 1_000, seed=seed)
        return transported_ate(sim.data, outcome="Y", treatment="T", covariates=COVARIATES), sim.truth["target ATE"]

    result = monte_carlo(one, n_reps=400, seed=21)
    print(result)
    assert_calibrated(result, max_abs_bias=0.1)


def test_the_trial_alone_estimates_the_source_effect(pilot):
    sim = simulate.assistant_pilot(seed=3)
    trial_only = difference_in_means(pilot[pilot["in_trial"] == 1], outcome="Y", treatment="T")
    assert trial_only.covers(sim.truth["source ATE"])
    assert not trial_only.covers(sim.truth["target ATE"])
    assert transported_ate(pilot, outcome="Y", treatment="T", covariates=COVARIATES).covers(sim.truth["target ATE"])


def test_refuses_bad_input(pilot):
    with pytest.raises(ValueError, match="DataFrame"):
        transported_ate(pilot.to_numpy(), outcome="Y", treatment="T", covariates=COVARIATES)
    with pytest.raises(ValueError, match="covariates must be a non-empty list"):
        transported_ate(pilot, outcome="Y", treatment="T", covariates=[])
    with pytest.raises(ValueError, match="covariates must be a non-empty list"):
        transported_ate(pilot, outcome="Y", treatment="T", covariates="tenure")
    with pytest.raises(ValueError, match="sample indicator column 'in_trial' must be 0/1"):
        transported_ate(pilot.assign(in_trial=pilot["in_trial"] + 1), outcome="Y", treatment="T",
                        covariates=COVARIATES)
    with pytest.raises(ValueError, match="has only the value 1"):
        transported_ate(pilot[pilot["in_trial"] == 1], outcome="Y", treatment="T",
                        covariates=COVARIATES)
    holes = pilot.copy()
    holes.loc[0, "Y"] = np.nan  # a trial row without an outcome
    with pytest.raises(ValueError, match="missing value"):
        transported_ate(holes, outcome="Y", treatment="T", covariates=COVARIATES)
    with pytest.raises(ValueError, match="treatment column 'T' must be 0/1"):
        transported_ate(pilot.assign(T=pilot["T"] * 3), outcome="Y", treatment="T",
                        covariates=COVARIATES)


def test_refuses_populations_the_covariates_separate(pilot):
    separated = pilot.assign(badge=pilot["in_trial"].astype(float))
    with pytest.raises(ValueError, match="perfectly separate the source from the target"):
        transported_ate(separated, outcome="Y", treatment="T", covariates=["tenure", "badge"])
