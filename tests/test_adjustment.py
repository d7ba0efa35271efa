"""Tests of lessons_lib.adjustment: the backdoor and frontdoor formulas meet the book's bar."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from lessons_lib.adjustment import backdoor_adjustment, frontdoor_adjustment, frontdoor_linear
from lessons_lib.testing import assert_agrees, assert_calibrated, monte_carlo


def confounded(n: int, seed: int) -> tuple[pd.DataFrame, float]:
    """Two binary confounders, a binary treatment, a continuous outcome; true ATE 2 + 0.5 = 2.5 on average."""
    rng = np.random.default_rng(seed)
    loyal = rng.binomial(1, 0.4, n)
    mobile = rng.binomial(1, 0.5, n)
    t = rng.binomial(1, 0.2 + 0.5 * loyal + 0.2 * mobile)
    effect = 2.0 + 1.25 * loyal  # heterogeneous: E = 2 + 1.25 * 0.4 = 2.5
    y = 10 + 5 * loyal - 2 * mobile + effect * t + rng.normal(0, 3, n)
    return pd.DataFrame({"loyal": loyal, "mobile": mobile, "T": t, "Y": y}), 2.5


def frontdoor_world(n: int, seed: int) -> tuple[pd.DataFrame, float]:
    rng = np.random.default_rng(seed)
    u = rng.binomial(1, 0.5, n)
    t = rng.binomial(1, 0.2 + 0.6 * u)
    m = rng.binomial(1, 0.1 + 0.6 * t)
    y = rng.binomial(1, 0.05 + 0.3 * m + 0.4 * u)
    return pd.DataFrame({"T": t, "M": m, "Y": y}), 0.3 * 0.6


def linear_frontdoor_world(n: int, seed: int) -> tuple[pd.DataFrame, float]:
    rng = np.random.default_rng(seed)
    u = rng.normal(size=n)
    t = u + rng.normal(size=n)
    m = 0.8 * t + rng.normal(size=n)
    y = 1.5 * m + 2 * u + rng.normal(size=n)
    return pd.DataFrame({"T": t, "M": m, "Y": y}), 1.2


def test_backdoor_agrees_with_a_saturated_regression_in_statsmodels():
    """Lin's (2013) fully interacted regression with centred stratum dummies gives the same ATE."""
    data, _ = confounded(3_000, seed=1)
    ours = backdoor_adjustment(data, outcome="Y", treatment="T", covariates=["loyal", "mobile"])
    strata = pd.get_dummies(data["loyal"].astype(str) + data["mobile"].astype(str), drop_first=True, dtype=float)
    centred = strata - strata.mean()
    design = pd.concat([data["T"], centred, centred.mul(data["T"], axis=0).add_prefix("T:")], axis=1)
    reference = sm.OLS(data["Y"], sm.add_constant(design)).fit()
    assert_agrees(ours, reference.params["T"], rtol=1e-6)
    # with no adjustment it is the difference in means
    naive = backdoor_adjustment(data, outcome="Y", treatment="T", covariates=[])
    assert_agrees(naive, data.loc[data["T"] == 1, "Y"].mean() - data.loc[data["T"] == 0, "Y"].mean())


@pytest.mark.filterwarnings("ignore:The copy keyword is deprecated")
def test_frontdoor_linear_agrees_with_dowhy():
    import networkx as nx
    from dowhy import CausalModel

    logging.getLogger("dowhy").setLevel(logging.ERROR)
    data, _ = linear_frontdoor_world(2_000, seed=3)
    ours = frontdoor_linear(data, outcome="Y", mediator="M", treatment="T")
    graph = nx.DiGraph([("U", "T"), ("U", "Y"), ("T", "M"), ("M", "Y")])
    with pytest.warns(UserWarning, match="unobserved"):
        model = CausalModel(data=data.copy(), treatment="T", outcome="Y", graph=graph)
    estimand = model.identify_effect(proceed_when_unidentifiable=True)
    theirs = model.estimate_effect(estimand, method_name="frontdoor.two_stage_regression")
    assert_agrees(ours, theirs.value, rtol=1e-6)
    first = sm.OLS(data["M"], sm.add_constant(data[["T"]])).fit()
    second = sm.OLS(data["Y"], sm.add_constant(data[["M", "T"]])).fit()
    sobel = np.sqrt(first.params["T"] ** 2 * second.bse["M"] ** 2 + second.params["M"] ** 2 * first.bse["T"] ** 2)
    assert_agrees(ours.se, sobel, rtol=1e-6, what="standard error")


def test_frontdoor_discrete_equals_the_formula_written_with_pandas():
    data, _ = frontdoor_world(5_000, seed=4)
    p_t = data["T"].value_counts(normalize=True)
    p_m_given_t = data.groupby("T")["M"].value_counts(normalize=True)
    mean_y = data.groupby(["M", "T"])["Y"].mean()

    def do(t):
        return sum(p_m_given_t[(t, m)] * sum(mean_y[(m, s)] * p_t[s] for s in (0, 1)) for m in (0, 1))

    assert_agrees(frontdoor_adjustment(data, outcome="Y", mediator="M", treatment="T"), do(1) - do(0), rtol=1e-12)


def test_frontdoor_standard_error_matches_the_bootstrap():
    data, _ = frontdoor_world(3_000, seed=5)
    est = frontdoor_adjustment(data, outcome="Y", mediator="M", treatment="T")
    rng = np.random.default_rng(0)
    draws = [frontdoor_adjustment(data.iloc[rng.integers(0, len(data), len(data))], outcome="Y",
                                  mediator="M", treatment="T").value
             for _ in range(300)]
    assert est.se == pytest.approx(np.std(draws, ddof=1), rel=0.15)


@pytest.mark.slow
def test_backdoor_is_calibrated():
    def one(seed):
        data, truth = confounded(1_000, seed)
        return backdoor_adjustment(data, outcome="Y", treatment="T",
                                   covariates=["loyal", "mobile"]), truth

    result = monte_carlo(one, n_reps=400, seed=9)
    assert_calibrated(result, max_abs_bias=0.05)


@pytest.mark.slow
def test_frontdoor_is_calibrated():
    def one(seed):
        data, truth = frontdoor_world(2_000, seed)
        return frontdoor_adjustment(data, outcome="Y", mediator="M", treatment="T"), truth

    result = monte_carlo(one, n_reps=400, seed=10)
    assert_calibrated(result, max_abs_bias=0.01)


@pytest.mark.slow
def test_frontdoor_linear_is_calibrated():
    def one(seed):
        data, truth = linear_frontdoor_world(500, seed)
        return frontdoor_linear(data, outcome="Y", mediator="M", treatment="T"), truth

    result = monte_carlo(one, n_reps=400, seed=11)
    assert_calibrated(result, max_abs_bias=0.02)


def test_refuses_bad_input():
    data, _ = confounded(500, seed=0)
    with pytest.raises(ValueError, match="must be 0/1"):
        backdoor_adjustment(data.assign(T=data["T"] * 2 + data["mobile"]), outcome="Y",
                            treatment="T", covariates=["loyal"])
    with pytest.raises(ValueError, match="not found"):
        backdoor_adjustment(data, outcome="Y", treatment="T", covariates=["age"])
    with pytest.raises(ValueError, match="missing value"):
        backdoor_adjustment(data.assign(loyal=data["loyal"].where(data.index > 3)), outcome="Y",
                            treatment="T", covariates=["loyal"])
    with pytest.raises(ValueError, match="cannot contain the treatment"):
        backdoor_adjustment(data, outcome="Y", treatment="T", covariates=["T"])
    with pytest.raises(ValueError, match="no overlap in stratum loyal=1"):
        backdoor_adjustment(data.assign(T=np.where(data["loyal"] == 1, 1, data["T"])),
                            outcome="Y", treatment="T", covariates=["loyal"])
    with pytest.raises(ValueError, match="strata"):
        backdoor_adjustment(data.assign(x=np.arange(len(data))), outcome="Y", treatment="T",
                            covariates=["x"])
    with pytest.raises(ValueError, match="DataFrame"):
        backdoor_adjustment(data.to_numpy(), outcome="Y", treatment="T", covariates=["loyal"])
    fd, _ = frontdoor_world(500, seed=0)
    with pytest.raises(ValueError, match="no overlap"):
        frontdoor_adjustment(fd.assign(M=fd["T"]), outcome="Y", mediator="M", treatment="T")
    with pytest.raises(ValueError, match="single value"):
        frontdoor_adjustment(fd.assign(M=1), outcome="Y", mediator="M", treatment="T")
    with pytest.raises(ValueError, match="distinct values"):
        frontdoor_adjustment(fd.assign(M=np.arange(len(fd))), outcome="Y", mediator="M",
                             treatment="T")
    with pytest.raises(ValueError, match="three different"):
        frontdoor_adjustment(fd, outcome="Y", mediator="T", treatment="T")
    with pytest.raises(ValueError, match="singular"):
        frontdoor_linear(fd.assign(M=fd["T"]), outcome="Y", mediator="M", treatment="T")
    with pytest.raises(ValueError, match="level"):
        frontdoor_linear(fd, outcome="Y", mediator="M", treatment="T", level=95)
