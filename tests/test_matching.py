"""lessons_lib.matching (chapter 03): nearest-neighbour matching for the ATT.

DESIGN.md's bar: a hand-checked example and agreement with DoWhy's propensity score
matching; calibration in simulation (bias-corrected matching on the estimated propensity,
and exact covariate matching that reuses controls heavily, which exercises the
Abadie-Imbens variance term); the NSW-CPS numbers; clear refusals.
"""

import math
import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from lessons_lib import datasets, simulate
from lessons_lib.matching import balance_table, match, matching_att, nearest_neighbors
from lessons_lib.propensity import logistic_propensity
from lessons_lib.testing import assert_agrees, assert_calibrated, monte_carlo

BANNER = ["prior_spend", "visits", "mobile"]
NSW = ["age", "educ", "black", "hisp", "marr", "nodegree", "re74", "re75"]


# 1. By hand and against the reference -------------------------------------------------


def test_small_example_by_hand():
    """Three treated, five controls, scores chosen so every match can be read off."""
    data = pd.DataFrame({
        "T": [1, 1, 1, 0, 0, 0, 0, 0],
        "x": [0.10, 0.15, 0.80, 0.12, 0.50, 0.78, 0.95, 0.11],
        "Y": [10.0, 12.0, 20.0, 7.0, 9.0, 15.0, 30.0, 8.0],
    })
    matches = nearest_neighbors(data["x"].to_numpy(), data["T"].to_numpy())
    # 0.10 -> 0.11 (row 7), 0.15 -> 0.12 (row 3), 0.80 -> 0.78 (row 5)
    assert matches.controls.ravel().tolist() == [7, 3, 5]
    est = matching_att(data, outcome="Y", treatment="T", covariates=["x"], on="covariates")
    gaps = np.array([10 - 8, 12 - 7, 20 - 15])
    assert_agrees(est, gaps.mean())
    # no control is reused, so the variance is the spread of the gaps over N1^2
    assert_agrees(est.se, math.sqrt(np.sum((gaps - gaps.mean()) ** 2) / 9), what="SE")


def test_reused_control_adds_the_abadie_imbens_term():
    data = pd.DataFrame({
        "T": [1, 1, 1, 0, 0, 0],
        "x": [0.0, 0.1, 5.0, 0.05, 2.0, 5.2],
        "Y": [3.0, 4.0, 9.0, 1.0, 6.0, 5.0],
    })
    est = matching_att(data, outcome="Y", treatment="T", covariates=["x"], on="covariates")
    # rows 0 and 1 both take row 3 (K = 2); row 2 takes row 5
    gaps = np.array([3 - 1, 4 - 1, 9 - 5.0])
    tau = gaps.mean()
    # sigma^2 of control row 3 from its nearest control on x/sd(x), row 4: (1 - 6)^2 / 2
    sigma2 = 0.5 * (1.0 - 6.0) ** 2
    variance = (np.sum((gaps - tau) ** 2) + 2 * 1 * sigma2) / 9
    assert_agrees(est, tau)
    assert_agrees(est.se, math.sqrt(variance), what="SE with a reused control")


def test_without_replacement_is_greedy_hardest_first():
    score = np.array([0.9, 0.5, 0.85, 0.6, 0.2])
    t = np.array([1, 1, 0, 0, 0])
    matches = nearest_neighbors(score, t, replace=False)
    # 0.9 goes first and takes 0.85; 0.5 then takes 0.6
    assert matches.controls.ravel().tolist() == [2, 3]
    assert matches.times_used.max() == 1


@pytest.fixture(scope="module")
def continuous_study():
    """Continuous covariates, so no two units tie on the propensity score."""
    rng = np.random.default_rng(31)
    n = 1_200
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    t = rng.binomial(1, 1 / (1 + np.exp(-(-0.5 + 0.8 * x1 - 0.5 * x2))))
    y = 1.0 + 2.0 * x1 + x2 + t * (1.5 + 0.5 * x1) + rng.normal(size=n)
    return pd.DataFrame({"x1": x1, "x2": x2, "T": t, "Y": y})


def test_point_estimate_agrees_with_dowhy(continuous_study):
    from dowhy import CausalModel

    propensity = logistic_propensity(continuous_study, treatment="T", covariates=["x1", "x2"])
    ours = matching_att(continuous_study, outcome="Y", treatment="T", covariates=["x1", "x2"],
                        propensity=propensity, scale="propensity")
    frame = continuous_study.assign(T=continuous_study["T"].astype(bool),
                                    propensity_score=propensity)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = CausalModel(data=frame.copy(), treatment="T", outcome="Y",
                            common_causes=["x1", "x2"])
        identified = model.identify_effect(proceed_when_unidentifiable=True)
        theirs = model.estimate_effect(identified, method_name="backdoor.propensity_score_matching",
                                       target_units="att")
    assert_agrees(ours, theirs.value)


def test_logistic_propensity_agrees_with_statsmodels_logit():
    data = datasets.nsw_cps()
    ours = logistic_propensity(data, treatment="treat", covariates=NSW)
    design = sm.add_constant(data[NSW].to_numpy(float))
    fit = sm.Logit(data["treat"].to_numpy(), design).fit(disp=0, maxiter=200)
    np.testing.assert_allclose(ours, fit.predict(design), rtol=1e-6, atol=1e-12)


def test_balance_table_uses_the_matching_weights(continuous_study):
    matches = match(continuous_study, treatment="T", covariates=["x1", "x2"])
    table = balance_table(continuous_study, treatment="T", covariates=["x1", "x2"],
                          matches=matches)
    assert (table["before"].abs() > 0.3).all() and (table["after"].abs() < 0.1).all()
    # "after" is the treated mean minus the mean of the matched controls (with repeats)
    x1 = continuous_study["x1"].to_numpy()
    gap = x1[matches.treated].mean() - x1[matches.controls.ravel()].mean()
    pooled = math.sqrt((x1[continuous_study["T"] == 1].var(ddof=1)
                        + x1[continuous_study["T"] == 0].var(ddof=1)) / 2)
    assert_agrees(table.loc["x1", "after"], gap / pooled, what="SMD after matching")


def test_caliper_drops_treated_units_and_says_so(continuous_study):
    wide = matching_att(continuous_study, outcome="Y", treatment="T", covariates=["x1", "x2"])
    narrow = matching_att(continuous_study, outcome="Y", treatment="T", covariates=["x1", "x2"],
                          caliper=0.002)
    assert wide.estimand == "ATT" and wide.extra["treated_unmatched"] == 0
    assert narrow.estimand == "ATT (matched treated)" and narrow.extra["treated_unmatched"] > 0


# 2. Right in simulation -------------------------------------------------------------------


@pytest.mark.slow
def test_bias_corrected_propensity_matching_covers_the_att():
    def one(seed):
        sim = simulate.banner_shop(500, seed=seed)
        return matching_att(sim.data, outcome="Y", treatment="T", covariates=BANNER,
                            bias_correction=True), sim.att

    assert_calibrated(monte_carlo(one, n_reps=400, seed=41), max_abs_bias=0.25)


@pytest.mark.slow
def test_abadie_imbens_se_is_calibrated_when_controls_are_reused():
    """One continuous covariate that drives selection: treated units crowd where controls
    are scarce, so controls are reused (the K(K - 1) covariance term matters)."""

    def one(seed):
        rng = np.random.default_rng(seed)
        n = 600
        x = rng.normal(size=n)
        t = rng.binomial(1, 1 / (1 + np.exp(-(-0.8 + 1.0 * x))))
        y = 2.0 * x + rng.normal(0, 2, n) + t * (1.0 + 0.5 * x)
        data = pd.DataFrame({"x": x, "T": t, "Y": y})
        return matching_att(data, outcome="Y", treatment="T", covariates=["x"], on="covariates"), float(
            np.mean(1.0 + 0.5 * x[t == 1]))

    result = monte_carlo(one, n_reps=400, seed=42)
    assert_calibrated(result, max_abs_bias=0.05)


# 3. The published numbers --------------------------------------------------------------------


def test_nsw_cps_naive_and_matched():
    """Dehejia and Wahba (1999), Table 3: naive NSW-treated minus CPS-1 difference -$8,498;
    experimental benchmark $1,794 (SE 633)."""
    data = datasets.nsw_cps()
    treated = data.loc[data["treat"] == 1, "re78"].mean()
    naive = treated - data.loc[data["treat"] == 0, "re78"].mean()
    assert round(naive) == -8498
    matched = matching_att(data, outcome="re78", treatment="treat", covariates=NSW)
    assert abs(matched.value - 1794) < matched.se  # within one SE of the experiment
    assert matched.covers(1794)


# 4. Refusing bad input ---------------------------------------------------------------------


def test_refusals(continuous_study):
    data = continuous_study
    with pytest.raises(ValueError, match="must be 0/1"):
        matching_att(data.assign(T=data["T"] * 2), outcome="Y", treatment="T", covariates=["x1"])
    with pytest.raises(ValueError, match="missing value"):
        matching_att(data.assign(x1=np.where(data["x2"] > 1, np.nan, data["x1"])), outcome="Y",
                     treatment="T", covariates=["x1"])
    with pytest.raises(ValueError, match="non-empty list"):
        matching_att(data, outcome="Y", treatment="T", covariates=[])
    with pytest.raises(ValueError, match="must not include the treatment"):
        matching_att(data, outcome="Y", treatment="T", covariates=["x1", "Y"])
    separated = data.assign(T=(data["x1"] > 0).astype(int))
    with pytest.raises(ValueError, match="separate|no overlap"):
        matching_att(separated, outcome="Y", treatment="T", covariates=["x1"])
    with pytest.raises(ValueError, match="no overlap"):
        matching_att(data, outcome="Y", treatment="T", covariates=["x1"],
                     propensity=np.where(data["T"] == 1, 1.0, 0.3))
    with pytest.raises(ValueError, match="one score per row"):
        matching_att(data, outcome="Y", treatment="T", covariates=["x1"],
                     propensity=np.full(5, 0.5))
    with pytest.raises(ValueError, match="n_neighbors"):
        matching_att(data, outcome="Y", treatment="T", covariates=["x1"], n_neighbors=0)
    with pytest.raises(ValueError, match="caliper must be a positive"):
        matching_att(data, outcome="Y", treatment="T", covariates=["x1"], caliper=-1)
    with pytest.raises(ValueError, match="within the caliper"):
        matching_att(data, outcome="Y", treatment="T", covariates=["x1"], caliper=1e-12)
    with pytest.raises(ValueError, match="without replacement needs"):
        matching_att(data, outcome="Y", treatment="T", covariates=["x1"], replace=False,
                     n_neighbors=5)
    with pytest.raises(ValueError, match="on must be"):
        matching_att(data, outcome="Y", treatment="T", covariates=["x1"], on="distance")
    with pytest.raises(ValueError, match="scale must be"):
        matching_att(data, outcome="Y", treatment="T", covariates=["x1"], scale="probit")
    with pytest.raises(ValueError, match="do not vary"):
        matching_att(data.assign(c=1.0), outcome="Y", treatment="T", covariates=["x1", "c"],
                     on="covariates")
    with pytest.raises(ValueError, match="do not vary"):
        logistic_propensity(data.assign(c=1.0), treatment="T", covariates=["x1", "c"])
