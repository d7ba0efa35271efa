"""lessons_lib.hte meets the book's bar: EconML agreement, accuracy in simulation, honest
calibration, AIPW coverage, and clear refusals of bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import PolynomialFeatures
from threadpoolctl import threadpool_limits

from lessons_lib import simulate
from lessons_lib.dml import fold_ids
from lessons_lib.hte import (
    DRLearner,
    SLearner,
    TLearner,
    XLearner,
    best_linear_predictor,
    calibration,
    dr_pseudo_outcomes,
)
from lessons_lib.testing import assert_calibrated, monte_carlo

FEATURES = ["x0", "x1", "x2", "x3", "x4"]


def _data(n=1_000, seed=0):
    sim = simulate.heterogeneous_effects(n, seed=seed)
    x = sim.data[FEATURES].to_numpy()
    return sim, x, sim.data["T"].to_numpy(), sim.data["Y"].to_numpy()


def _assert_same(ours, theirs, rtol=1e-6):
    np.testing.assert_allclose(ours, np.ravel(theirs), rtol=rtol, atol=1e-9)


# --- 1. agreement with EconML -------------------------------------------------------------

def test_slearner_agrees_with_econml():
    """EconML's S-learner adds the columns [1 - T, T]; with linear models on a basis that
    includes T-by-X interactions both layouts span the same functions, so the effects agree."""
    from econml.metalearners import SLearner as EconS

    sim, x, t, y = _data(800, seed=1)
    model = make_pipeline(PolynomialFeatures(2), LinearRegression())
    ours = SLearner(model).fit(x, t, y).effect(x)
    theirs = EconS(overall_model=model).fit(y, t, X=x).effect(x)
    _assert_same(ours, theirs, rtol=1e-6)


@pytest.mark.parametrize("model", [LinearRegression(),
                                   RandomForestRegressor(n_estimators=10, max_depth=4,
                                                         random_state=0)],
                         ids=["ols", "forest"])
def test_tlearner_agrees_with_econml(model):
    from econml.metalearners import TLearner as EconT

    sim, x, t, y = _data(600, seed=2)
    ours = TLearner(model).fit(x, t, y).effect(x)
    theirs = EconT(models=model).fit(y, t, X=x).effect(x)
    _assert_same(ours, theirs)


@pytest.mark.parametrize("model, propensity", [
    (LinearRegression(), LogisticRegression()),
    (RandomForestRegressor(n_estimators=10, max_depth=4, random_state=0),
     RandomForestClassifier(n_estimators=10, max_depth=4, random_state=1)),
], ids=["linear", "forests"])
def test_xlearner_agrees_with_econml(model, propensity):
    from econml.metalearners import XLearner as EconX

    sim, x, t, y = _data(600, seed=3)
    ours = XLearner(model, propensity).fit(x, t, y).effect(x)
    theirs = EconX(models=model, propensity_model=propensity).fit(y, t, X=x).effect(x)
    _assert_same(ours, theirs)


class _PerArm(BaseEstimator, RegressorMixin):
    """EconML's DR-learner fits one regression on [X, T]; this adapter fits one clone of
    ``model`` per arm (the last column is T), which is the DR-learner of Kennedy (2023)."""

    def __init__(self, model=None):
        self.model = model

    def fit(self, features, y):
        arm = features[:, -1]
        self.fits_ = {a: clone(self.model).fit(features[arm == a, :-1], y[arm == a])
                      for a in (0.0, 1.0)}
        return self

    def predict(self, features):
        arm = features[:, -1]
        out = np.empty(len(features))
        for a, fitted in self.fits_.items():
            if (arm == a).any():
                out[arm == a] = fitted.predict(features[arm == a, :-1])
        return out


@pytest.mark.parametrize("model, propensity", [
    (LinearRegression(), LogisticRegression()),
    (RandomForestRegressor(n_estimators=10, max_depth=4, random_state=0),
     RandomForestClassifier(n_estimators=10, max_depth=4, random_state=1)),
], ids=["linear", "forests"])
def test_drlearner_agrees_with_econml(model, propensity):
    from econml.dr import DRLearner as EconDR

    sim, x, t, y = _data(600, seed=4)
    folds = fold_ids(600, 3, seed=7)
    splits = [(np.flatnonzero(folds != k), np.flatnonzero(folds == k)) for k in range(3)]
    ours = DRLearner(model, propensity, LinearRegression()).fit(x, t, y, folds=folds)
    theirs = EconDR(model_propensity=propensity, model_regression=_PerArm(model),
                    model_final=LinearRegression(), cv=splits, random_state=0)
    theirs.fit(y, t, X=x)
    _assert_same(ours.effect(x), theirs.effect(x))


def test_pseudo_outcomes_average_is_aipw():
    """The mean of the DR pseudo-outcomes is the cross-fitted AIPW estimate of the ATE; with
    linear outcome models it agrees with DoubleML's IRM given the same folds."""
    import doubleml

    sim, x, t, y = _data(600, seed=5)
    folds = fold_ids(600, 5, seed=1)
    ours = DRLearner(LinearRegression(), LogisticRegression(), LinearRegression()).fit(
        x, t, y, folds=folds).ate_estimate()
    data = sim.data[FEATURES + ["T", "Y"]]
    dml_data = doubleml.DoubleMLData(data, y_col="Y", d_cols="T", x_cols=FEATURES)
    irm = doubleml.DoubleMLIRM(dml_data, LinearRegression(), LogisticRegression(), n_folds=5,
                               score="ATE", normalize_ipw=False, draw_sample_splitting=False)
    idx = np.arange(600)
    irm.set_sample_splitting([[(idx[folds != k], idx[folds == k]) for k in range(5)]])
    irm.fit()
    assert ours.value == pytest.approx(float(irm.coef[0]), rel=1e-6)
    # no propensity here is near DoubleML's default clipping at 0.01 or 0.99
    assert irm.predictions["ml_m"].min() > 0.01 and irm.predictions["ml_m"].max() < 0.99
    # DoubleML divides by n, we by n - 1
    assert ours.se * np.sqrt(599 / 600) == pytest.approx(float(irm.se[0]), rel=1e-6)


# --- 2. right in simulation ---------------------------------------------------------------

def test_learners_recover_the_heterogeneity():
    """On the chapter's data (tau = 2 + 3 x1), every learner with a flexible enough model
    recovers the CATE; RMSE against the truth is small."""
    sim, x, t, y = _data(4_000, seed=2)
    truth = sim.potential_outcomes["effect"].to_numpy()
    rmse = {}
    learners = {
        "S": SLearner(make_pipeline(PolynomialFeatures(2), LinearRegression())),
        "T": TLearner(LinearRegression()),
        "X": XLearner(LinearRegression(), LogisticRegression()),
        "DR": DRLearner(LinearRegression(), LogisticRegression(), LinearRegression()),
    }
    for name, learner in learners.items():
        estimate = learner.fit(x, t, y).effect(x)
        rmse[name] = float(np.sqrt(np.mean((estimate - truth) ** 2)))
    print(rmse)
    assert all(value < 0.15 for value in rmse.values()), rmse
    linear_s = SLearner(LinearRegression()).fit(x, t, y).effect(x)
    assert np.ptp(linear_s) < 1e-9  # an additive S-learner cannot see any heterogeneity


@pytest.mark.slow
def test_dr_ate_covers_the_truth():
    """400 simulated data sets: the AIPW ATE from the DR-learner covers the truth 93-97%."""

    def one(seed):
        sim, x, t, y = _data(500, seed=seed)
        learner = DRLearner(LinearRegression(), LogisticRegression(), LinearRegression(),
                            n_folds=2, seed=seed).fit(x, t, y)
        return learner.ate_estimate(), sim.truth["ATE"]

    with threadpool_limits(1):  # thousands of tiny fits: extra BLAS threads only contend
        result = monte_carlo(one, n_reps=400, seed=3)
    print(result)
    assert_calibrated(result, max_abs_bias=0.05)


def test_calibration_rises_for_a_good_model_and_is_flat_for_a_null_one():
    sim, x, t, y = _data(4_000, seed=6)
    train, test = slice(0, 2_000), slice(2_000, 4_000)
    learner = TLearner(LinearRegression()).fit(x[train], t[train], y[train])
    good = calibration(learner.effect(x[test]), x[test], t[test], y[test], LinearRegression(),
                       LogisticRegression(), n_groups=4)
    assert list(good["group"]) == [1, 2, 3, 4] and good["n"].sum() == 2_000
    assert np.all(np.diff(good["estimated"]) > 0)
    assert np.allclose(good["estimated"], good["predicted"], atol=4 * good["se"].max())
    noise = np.random.default_rng(0).normal(size=2_000)
    null = calibration(noise, x[test], t[test], y[test], LinearRegression(),
                       LogisticRegression(), n_groups=4)
    assert np.ptp(null["estimated"]) < np.ptp(good["estimated"]) / 3


# --- 4. bad input -----------------------------------------------------------------------

@pytest.mark.parametrize("make, message", [
    (lambda: SLearner(LogisticRegression()), "must be a regressor"),
    (lambda: SLearner(LinearRegression), "not the class"),
    (lambda: TLearner("forest"), "scikit-learn style model"),
    (lambda: XLearner(LinearRegression(), LinearRegression()), "predict_proba"),
    (lambda: DRLearner(LinearRegression(), LogisticRegression(), LogisticRegression()),
     "must be a regressor"),
])
def test_refuses_bad_models(make, message):
    with pytest.raises(ValueError, match=message):
        make()


@pytest.mark.parametrize("change, message", [
    (lambda x, t, y: (x, t * 2, y), "0/1"),
    (lambda x, t, y: (x, t, np.r_[y[:-1], np.nan]), "missing or infinite"),
    (lambda x, t, y: (x[:-1], t, y), "rows"),
    (lambda x, t, y: (x, t[:-1], y), "T has"),
    (lambda x, t, y: (x, np.ones_like(t), y), "at least 2 treated and 2 control"),
    (lambda x, t, y: (np.where(np.arange(x.size).reshape(x.shape) == 3, np.nan, x), t, y),
     "X has missing"),
    (lambda x, t, y: (pd.DataFrame({"a": ["u"] * len(t)}), t, y), "not numeric"),
    (lambda x, t, y: (x, "T", y), "not a column name"),
])
def test_refuses_bad_data(change, message):
    sim, x, t, y = _data(200, seed=0)
    x, t, y = change(x, t, y)
    with pytest.raises(ValueError, match=message):
        TLearner(LinearRegression()).fit(x, t, y)


def test_refuses_use_before_fit_and_wrong_width():
    sim, x, t, y = _data(200, seed=0)
    learner = TLearner(LinearRegression())
    with pytest.raises(ValueError, match="not fitted"):
        learner.effect(x)
    learner.fit(x, t, y)
    with pytest.raises(ValueError, match="features"):
        learner.effect(x[:, :3])


def test_refuses_no_overlap():
    sim, x, t, y = _data(300, seed=0)
    x_leak = np.column_stack([x, t * 100.0])  # a feature that reveals the treatment
    with pytest.raises(ValueError, match="no overlap"):
        dr_pseudo_outcomes(x_leak, t, y, LinearRegression(),
                           LogisticRegression(C=np.inf, max_iter=5_000), n_folds=2)


def test_calibration_refuses_bad_arguments():
    sim, x, t, y = _data(300, seed=0)
    with pytest.raises(ValueError, match="one finite predicted effect"):
        calibration(np.zeros(10), x, t, y, LinearRegression(), LogisticRegression())
    with pytest.raises(ValueError, match="n_groups"):
        calibration(np.zeros(300), x, t, y, LinearRegression(), LogisticRegression(), n_groups=1)


def test_heterogeneous_effects_simulation_keeps_its_promises():
    sim = simulate.heterogeneous_effects(500, seed=1)
    x = sim.data[FEATURES].to_numpy()
    assert np.allclose(sim.potential_outcomes["effect"], 2 + 3 * x[:, 1])
    assert np.allclose(sim.potential_outcomes["propensity"], 1 / (1 + np.exp(-x[:, 0])))
    assert sim.ate == 2.0


def test_meta_learners_are_scikit_learn_estimators():
    """Chapter 14 builds on these: clone, get_params and set_params must work."""
    from sklearn.base import clone

    sim, x, t, y = _data(300, seed=0)
    learner = XLearner(LinearRegression(), LogisticRegression()).fit(x, t, y)
    copy = clone(learner)
    assert not hasattr(copy, "fitted_")
    assert np.allclose(copy.fit(x, t, y).predict(x), learner.effect(x))
    assert TLearner(LinearRegression()).set_params(model__fit_intercept=False).model.fit_intercept is False


def test_nhefs_effect_modification_reproduces_what_if():
    """Hernán and Robins, What If, section 15.1 (Program 15.1): with a quitting x smoking
    intensity product term in the outcome regression, the effect of quitting smoking on weight
    gain is 2.8 kg (95% CI 1.5 to 4.1) at 5 cigarettes a day and 4.4 kg (2.8 to 6.1) at 40.
    That model is an S-learner; ours gives 2.79 and 4.43."""
    from sklearn.preprocessing import FunctionTransformer

    from lessons_lib import datasets

    nhefs = datasets.nhefs()
    covariates = list(datasets.NHEFS_CONFOUNDERS)
    k = covariates.index("smokeintensity")
    x = nhefs[covariates].to_numpy(dtype=float)

    def add_interaction(columns):
        return np.column_stack([columns, columns[:, -1] * columns[:, k]])

    model = make_pipeline(FunctionTransformer(add_interaction), LinearRegression())
    learner = SLearner(model).fit(x, nhefs["qsmk"], nhefs["wt82_71"])
    smokers = np.tile(x.mean(axis=0), (2, 1))
    smokers[:, k] = [5, 40]
    at_5, at_40 = learner.effect(smokers)
    assert round(at_5, 1) == 2.8 and round(at_40, 1) == 4.4


# --- the best-linear-predictor (BLP) test of Chernozhukov, Demirer, Duflo and Fernandez-Val ---

class _FixedCate:
    """A 'CATE model' that returns given predictions, in the shape EconML's DRTester calls."""

    def __init__(self, values):
        self.values = values

    def effect(self, X=None, T0=None, T1=None):
        return self.values


def test_blp_agrees_with_econml_drtester_and_statsmodels():
    """Same nuisances, same folds: DRTester's BLP slope; SEs are statsmodels' HC1 on the same design."""
    import statsmodels.api as sm
    from econml.validate import DRTester

    sim, x, t, y = _data(1_000, seed=4)
    predicted = 1 + 2 * x[:, 1] + 0.5 * x[:, 2]
    folds = fold_ids(1_000, 5, seed=0)
    ours = best_linear_predictor(predicted, x, t, y, LinearRegression(), LogisticRegression(),
                                 folds=folds)
    idx = np.arange(1_000)
    tester = DRTester(model_regression=LinearRegression(), model_propensity=LogisticRegression(),
                      cate=_FixedCate(predicted),
                      cv=[(idx[folds != k], idx[folds == k]) for k in range(5)])
    tester.fit_nuisance(x, t, y)
    blp = tester.evaluate_blp(x)
    _assert_same(ours.slope.value, blp.params[0])
    phi = dr_pseudo_outcomes(x, t, y, LinearRegression(), LogisticRegression(), folds=folds)
    _assert_same(phi, tester.dr_val_[:, 0])
    reference = sm.OLS(phi, sm.add_constant(predicted - predicted.mean())).fit(cov_type="HC1")
    _assert_same([ours.ate.value, ours.slope.value], reference.params)
    _assert_same([ours.ate.se, ours.slope.se], reference.bse)
    _assert_same(ours.p_no_heterogeneity, reference.pvalues[1])
    assert ours.slope.estimand == "BLP slope" and ours.ate.estimand == "ATE"


def _blp_replications(truth_is_heterogeneous: bool, n_reps: int = 250):
    """heterogeneous_effects(500): tau = 2 + 3 x1, or a constant 2 when not heterogeneous."""
    results = []
    for seed in np.random.SeedSequence(7).generate_state(n_reps):
        sim, x, t, y = _data(500, seed=int(seed))
        cate = sim.potential_outcomes["effect"].to_numpy()
        if truth_is_heterogeneous:
            predicted = cate  # the true CATE: beta2 = 1
        else:
            y = y - t * (cate - 2.0)  # the same units with a constant effect of 2
            predicted = 2 + 3 * x[:, 1]  # a model that 'found' heterogeneity in x1: beta2 = 0
        results.append(best_linear_predictor(predicted, x, t, y, LinearRegression(),
                                             LogisticRegression(), n_folds=2, seed=0))
    return results


@pytest.mark.slow
def test_blp_slope_is_one_for_the_true_cate():
    with threadpool_limits(1):
        results = _blp_replications(True)
    slopes = np.array([r.slope.value for r in results])
    assert abs(slopes.mean() - 1) < 0.02
    assert np.mean([r.p_no_heterogeneity < 0.05 for r in results]) > 0.99  # power
    size = np.mean([r.p_calibrated < 0.05 for r in results])
    assert 0.025 <= size <= 0.085, f"beta2 = 1 rejected in {size:.1%} of 250 replications"


@pytest.mark.slow
def test_blp_slope_is_zero_without_heterogeneity_and_the_test_has_its_size():
    with threadpool_limits(1):
        results = _blp_replications(False)
    slopes = np.array([r.slope.value for r in results])
    assert abs(slopes.mean()) < 0.03
    size = np.mean([r.p_no_heterogeneity < 0.05 for r in results])
    assert 0.025 <= size <= 0.085, f"beta2 = 0 rejected in {size:.1%} of 250 replications"
    assert np.mean([r.ate.covers(2.0) for r in results]) > 0.93  # beta1 is the ATE (constant here)


def test_blp_refuses_bad_arguments():
    sim, x, t, y = _data(300, seed=0)
    with pytest.raises(ValueError, match="one finite predicted effect"):
        best_linear_predictor(np.zeros(10), x, t, y, LinearRegression(), LogisticRegression())
    with pytest.raises(ValueError, match="same for every unit"):
        best_linear_predictor(np.ones(300), x, t, y, LinearRegression(), LogisticRegression())
    with pytest.raises(ValueError, match="level"):
        best_linear_predictor(x[:, 1], x, t, y, LinearRegression(), LogisticRegression(), level=95)
    with pytest.raises(ValueError, match="predict_proba"):
        best_linear_predictor(x[:, 1], x, t, y, LinearRegression(), LinearRegression())
    with pytest.raises(ValueError, match="0/1"):
        best_linear_predictor(x[:, 1], x, t * 2, y, LinearRegression(), LogisticRegression())
