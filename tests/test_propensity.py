"""lessons_lib.propensity: the propensity model agrees with statsmodels; balance; errors."""

import numpy as np
import pytest
import statsmodels.api as sm
from sklearn.ensemble import RandomForestClassifier

from lessons_lib import propensity, simulate
from lessons_lib.testing import assert_agrees

COVARIATES = ["prior_spend", "visits", "mobile"]


@pytest.fixture(scope="module")
def shop():
    return simulate.banner_shop(3_000, seed=11).data


def test_default_model_is_the_unpenalized_logit_of_statsmodels(shop):
    ours = propensity.estimate_propensity(shop, treatment="T", covariates=COVARIATES)
    logit = sm.Logit(shop["T"], sm.add_constant(shop[COVARIATES])).fit(disp=0)
    theirs = logit.predict(sm.add_constant(shop[COVARIATES])).to_numpy()
    for i in (0, 17, 1_234, 2_999):
        assert_agrees(ours[i], theirs[i], rtol=1e-5, what=f"propensity of row {i}")
    assert np.max(np.abs(ours - theirs)) < 1e-5


def test_any_classifier_can_be_passed_and_is_not_modified(shop):
    forest = RandomForestClassifier(n_estimators=20, min_samples_leaf=50, random_state=0)
    scores = propensity.estimate_propensity(shop, treatment="T", covariates=COVARIATES,
                                            propensity_model=forest)
    assert scores.shape == (len(shop),)
    assert not hasattr(forest, "estimators_")  # the model passed in was cloned, not fitted


def test_estimated_propensity_is_close_to_the_truth():
    sim = simulate.banner_shop(20_000, seed=3)
    scores = propensity.estimate_propensity(sim.data, treatment="T", covariates=COVARIATES)
    assert np.mean(np.abs(scores - sim.potential_outcomes["propensity"])) < 0.02


def test_smd_matches_the_textbook_formula(shop):
    smd = propensity.standardized_mean_differences(shop, treatment="T", covariates=COVARIATES)
    x, t = shop["prior_spend"], shop["T"]
    by_hand = (x[t == 1].mean() - x[t == 0].mean()) / np.sqrt(
        (x[t == 1].var() + x[t == 0].var()) / 2)
    assert_agrees(smd["prior_spend"], by_hand, rtol=1e-12)
    assert smd["prior_spend"] > 0.5  # the shop targets big spenders: badly imbalanced


def test_weights_that_balance_give_small_smd(shop):
    scores = propensity.estimate_propensity(shop, treatment="T", covariates=COVARIATES)
    weights = np.where(shop["T"] == 1, 1 / scores, 1 / (1 - scores))
    smd = propensity.standardized_mean_differences(shop, treatment="T", covariates=COVARIATES,
                                                   weights=weights)
    assert smd.abs().max() < 0.1


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda d: d.assign(T=d["T"] * 2), "must be 0/1"),
        (lambda d: d.assign(visits=d["visits"].astype(float).where(d.index != 3)), "missing value"),
        (lambda d: d.assign(mobile=np.where(d["mobile"] == 1, "app", "web")), "must be numeric"),
        (lambda d: d.drop(columns="visits"), "not found"),
        (lambda d: d.iloc[:0], "no rows"),
    ],
)
def test_bad_input_is_refused_clearly(shop, change, message):
    with pytest.raises(ValueError, match=message):
        propensity.estimate_propensity(change(shop.copy()), treatment="T", covariates=COVARIATES)


def test_covariates_must_be_a_list(shop):
    with pytest.raises(ValueError, match="non-empty list"):
        propensity.estimate_propensity(shop, treatment="T", covariates="prior_spend")


def test_check_overlap_names_the_problem():
    propensity.check_overlap(np.array([0.2, 0.5, 0.8]))
    with pytest.raises(ValueError, match="no overlap: 2 unit"):
        propensity.check_overlap(np.array([0.0, 0.5, 1.0]))
    with pytest.raises(ValueError, match="no overlap"):
        propensity.check_overlap(np.array([0.02, 0.5]), low=0.05, high=0.95)
    with pytest.raises(ValueError, match="NaN"):
        propensity.check_overlap(np.array([np.nan, 0.5]))


def test_classifier_without_predict_proba_is_refused(shop):
    from sklearn.svm import LinearSVC

    with pytest.raises(ValueError, match="predict_proba"):
        propensity.estimate_propensity(shop, treatment="T", covariates=COVARIATES,
                                       propensity_model=LinearSVC())


def test_bad_weights_are_refused(shop):
    with pytest.raises(ValueError, match="weights"):
        propensity.standardized_mean_differences(shop, treatment="T", covariates=COVARIATES,
                                                 weights=np.ones(3))
    with pytest.raises(ValueError, match="weights"):
        propensity.standardized_mean_differences(shop, treatment="T", covariates=COVARIATES,
                                                 weights=-np.ones(len(shop)))
