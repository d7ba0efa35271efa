"""lessons_lib.synth meets the book's bar: reference, Monte Carlo, published number, refusals.

The reference is pysyncon's ``Synth`` (PyPI, MIT). Its ``fit`` also searches for V with a
nested Nelder-Mead; we compare on the problem both solve exactly, the convex inner program
for a fixed V (pysyncon's ``custom_V`` / ``Synth.w_optimize``, SLSQP), where the weights are
unique. pysyncon's default SLSQP tolerance (1e-6 on the objective) stops short of the
optimum; with a tight ``ftol`` its weights agree with ours to 1e-6 on the Texas problem and
to 2e-3 on flat simulated ones, where ours has the lower objective and meets the optimality
(KKT) conditions.
"""

import math

import numpy as np
import pandas as pd
import pytest
from pysyncon import Synth
from threadpoolctl import threadpool_limits

from lessons_lib import datasets, synth
from lessons_lib.testing import assert_calibrated, monte_carlo

# The Mixtape's synthetic Texas (R's Synth in its companion notebook, and synth_3.do to
# synth_6.do for the placebo test): predictors, the V that Synth chose, the 46 states.
MIXTAPE_PREDICTORS = [
    ("poverty", range(1985, 1994)), ("income", range(1985, 1994)),
    ("bmprison", [1988, 1990, 1991, 1992]), ("alcohol", [1990]), ("aidscapita", [1990, 1991]),
    ("black", [1990, 1991, 1992]), ("perc1519", [1990]),
]
MIXTAPE_V = [0.06843543, 0.02849309, 0.8949852, 3.30278e-05, 0.000122374, 0.007929645,
             1.2876e-06]
MIXTAPE_STATES = [1, 2, 4, 5, 6, 8, 9, 10, 11, 12, 13, 15, 16, 17, 18, 20, 21, 22, 23, 24, 25,
                  26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 45, 46,
                  47, 48, 49, 51, 53, 55]
TEXAS = dict(outcome="bmprison", unit="statefip", time="year", treated_unit=48,
             treatment_start=1994, predictors=MIXTAPE_PREDICTORS, predictor_weights=MIXTAPE_V)
SIM = dict(outcome="Y", unit="unit", time="period", treated_unit=0, treatment_start=0)


@pytest.fixture(autouse=True)
def _one_blas_thread():
    with threadpool_limits(limits=1):
        yield


@pytest.fixture(scope="module")
def texas():
    return datasets.texas_prison()


def _kkt_gap(design: np.ndarray, target: np.ndarray, weights: np.ndarray) -> float:
    """How far ``weights`` is from the simplex least-squares optimum (0 at the optimum).

    At the optimum every donor in use has the same gradient, the smallest of all."""
    gradient = 2 * design.T @ (design @ weights - target)
    used = weights > 1e-9
    return float(gradient[used].max() - gradient.min()) / max(1.0, float(np.abs(gradient).max()))


# --- 1. agreement with pysyncon ------------------------------------------------------------

def test_weights_agree_with_pysyncon_on_the_mixtape_texas_problem(texas):
    ours = synth.fit_synthetic_control(texas, **TEXAS)
    donors = list(ours.weights.index)
    x = pd.DataFrame({f"{c}{list(p)}": texas[texas["year"].isin(list(p))]
                      .groupby("statefip")[c].mean() for c, p in MIXTAPE_PREDICTORS}).T
    scaled = x.divide(x[[48, *donors]].std(axis=1), axis=0)  # pysyncon's own scaling
    theirs, _ = Synth.w_optimize(V_mat=np.diag(MIXTAPE_V), X0=scaled[donors].to_numpy(),
                                 X1=scaled[48].to_numpy(),
                                 qp_options={"maxiter": 5000, "ftol": 1e-12})
    assert np.abs(ours.weights.to_numpy() - theirs).max() < 1e-6
    wide = texas.pivot(index="year", columns="statefip", values="bmprison")
    their_gap = wide[48] - wide[donors].to_numpy() @ theirs
    assert np.abs(ours.gap - their_gap).max() / wide[48].max() < 1e-6
    # pysyncon's fit() with custom_V (its default, looser tolerance) lands within 0.03
    fitted = Synth()
    outcome = wide.loc[wide.index < 1994]
    fitted.fit(X0=x[donors], X1=x[48], Z0=outcome[donors], Z1=outcome[48],
               custom_V=np.array(MIXTAPE_V))
    assert np.abs(ours.weights.to_numpy() - fitted.W).max() < 0.03


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_outcome_only_fit_agrees_with_pysyncon_and_is_optimal(seed):
    sim = synth.factor_model_panel(seed=seed)
    ours = synth.fit_synthetic_control(sim.data, **SIM)
    wide = sim.data.pivot(index="period", columns="unit", values="Y")
    pre = wide[wide.index < 0]
    donors = list(ours.weights.index)
    scale = pre.abs().to_numpy().max()  # the argmin is unchanged; SLSQP needs the scale
    theirs, _ = Synth.w_optimize(V_mat=np.eye(len(pre)), X0=pre[donors].to_numpy() / scale,
                                 X1=pre[0].to_numpy() / scale,
                                 qp_options={"maxiter": 5000, "ftol": 1e-14})
    # Here the donors' paths are nearly collinear (a two-factor model), so the objective is
    # flat along some directions and SLSQP stops up to 1e-3 away in the weights; ours is the
    # optimum (KKT conditions hold to 1e-9) and its objective is never higher.
    design, target = pre[donors].to_numpy(), pre[0].to_numpy()
    loss_ours = np.sum((design @ ours.weights.to_numpy() - target) ** 2)
    loss_theirs = np.sum((design @ theirs - target) ** 2)
    assert loss_ours <= loss_theirs and (loss_theirs - loss_ours) / loss_ours < 1e-5
    assert np.abs(ours.weights.to_numpy() - theirs).max() < 2e-3
    assert np.abs(ours.synthetic.to_numpy() - wide[donors].to_numpy() @ theirs).max() < 0.01
    assert _kkt_gap(design, target, ours.weights.to_numpy()) < 1e-9
    assert ours.weights.min() >= 0 and ours.weights.sum() == pytest.approx(1, abs=1e-12)


def test_simplex_weights_recovers_a_convex_combination_exactly():
    rng = np.random.default_rng(4)
    donors = rng.normal(size=(30, 8))
    truth = np.array([0.5, 0.3, 0.2, 0, 0, 0, 0, 0])
    weights = synth.simplex_weights(donors, donors @ truth)
    assert np.abs(weights - truth).max() < 1e-8


# --- 2. right in simulation -----------------------------------------------------------------

@pytest.mark.slow
def test_unbiased_and_interval_covers_when_units_are_exchangeable():
    # Units drawn alike: the placebo test is exact, so the inverted-test interval covers the
    # true effect in 19 of 20 rank positions (20 units, 95%).
    def one(seed):
        sim = synth.factor_model_panel(19, pre_periods=20, post_periods=5, placement="like donors",
                                       seed=seed)
        return synth.synthetic_control(sim.data, **SIM), sim.truth["ATT"]

    result = monte_carlo(one, n_reps=400, seed=16)
    assert_calibrated(result, max_abs_bias=0.5)


@pytest.mark.slow
def test_small_bias_when_the_treated_unit_is_inside_the_convex_hull():
    estimates = []
    for seed in range(200):
        sim = synth.factor_model_panel(20, pre_periods=24, post_periods=6, seed=seed)
        estimates.append(synth.fit_synthetic_control(sim.data, **SIM).att - sim.truth["ATT"])
    bias, spread = np.mean(estimates), np.std(estimates, ddof=1)
    assert abs(bias) < 3 * spread / math.sqrt(len(estimates)) + 0.05
    assert abs(bias) < 0.1  # against an effect of 5: about 2% at most


@pytest.mark.slow
def test_placebo_test_has_nominal_size_under_the_null():
    # 20 exchangeable units, no effect: p <= 0.10 means rank 1 or 2, probability exactly 0.10.
    rejections = []
    for seed in range(300):
        sim = synth.factor_model_panel(19, pre_periods=20, post_periods=5, effect=0.0,
                                       placement="like donors", seed=1000 + seed)
        rejections.append(synth.placebo_in_space(sim.data, **SIM).p_value <= 0.10)
    assert 0.06 <= np.mean(rejections) <= 0.14  # 0.10 +- 2.3 binomial standard errors


def test_outside_the_hull_the_fit_is_poor_and_the_estimate_biased():
    errors, inside = [], []
    for seed in range(20):
        out = synth.fit_synthetic_control(synth.factor_model_panel(placement="outside",
                                                                   seed=seed).data, **SIM)
        fits = synth.fit_synthetic_control(synth.factor_model_panel(seed=seed).data, **SIM)
        errors.append(out.att - 5.0)
        inside.append(fits.pre_rmspe < out.pre_rmspe)
    assert np.mean(np.abs(errors)) > 1.0 and all(inside)


def test_placebo_in_time_finds_no_effect_before_the_treatment():
    sim = synth.factor_model_panel(seed=5)
    fake = synth.placebo_in_time(sim.data, **SIM, fake_start=-6)
    real = synth.fit_synthetic_control(sim.data, **SIM)
    assert abs(fake.att) < 1.0 < real.att
    assert fake.gap.index.max() == -1


# --- 3. the published numbers ---------------------------------------------------------------

def test_texas_reproduces_the_mixtape_weights_and_placebo_p_value(texas):
    # R's Synth in the Mixtape's companion notebook (Python/Synthetic_Control.ipynb of
    # github.com/scunning1975/mixtape), with this specification and this V, prints the weights
    # California 0.3420653, Florida 0.2963684, Louisiana 0.3613969, all others < 1e-3.
    fit = synth.fit_synthetic_control(texas, **TEXAS)
    published = {6: 0.3420653, 12: 0.2963684, 22: 0.3613969}
    for state, weight in published.items():
        assert fit.weights[state] == pytest.approx(weight, abs=0.002)
    assert fit.weights.drop(list(published)).max() < 1e-3
    # The Mixtape's placebo test (synth_6.do: 46 states, p = rank / 46): Texas ranks first.
    panel = texas[texas["statefip"].isin(MIXTAPE_STATES)]
    est = synth.synthetic_control(panel, **TEXAS)
    assert est.extra["placebo_p_value"] == pytest.approx(1 / 46)
    assert est.extra["n_donors"] == 45
    assert est.value > 20_000 and est.ci_low > 0  # far above synthetic Texas after 1993
    assert math.isnan(est.se)


def test_inverted_interval_is_the_set_of_effects_the_test_keeps():
    sim = synth.factor_model_panel(19, pre_periods=20, post_periods=5, placement="like donors",
                                   seed=3)
    est = synth.synthetic_control(sim.data, **SIM, level=0.9)
    for tau0, kept in [(est.ci_low + 0.01, True), (est.ci_high - 0.01, True),
                       (est.ci_low - 0.01, False), (est.ci_high + 0.01, False)]:
        shifted = sim.data.assign(Y=sim.data["Y"] - tau0 * sim.data["T"])
        p = synth.placebo_in_space(shifted, **SIM).p_value
        assert (p > 0.1) == kept, (tau0, p)
    few = synth.synthetic_control(sim.data[sim.data["unit"] < 10], **SIM)  # 10 units < 20
    assert few.ci_low == -math.inf and few.ci_high == math.inf


# --- 4. bad input is refused clearly ---------------------------------------------------------

def test_refusals():
    data = synth.factor_model_panel(5, pre_periods=6, post_periods=2, seed=1).data
    fit = synth.fit_synthetic_control
    with pytest.raises(ValueError, match="treated unit 99 is not in column 'unit'"):
        fit(data, **{**SIM, "treated_unit": 99})
    with pytest.raises(ValueError, match="outside the panel"):
        fit(data, **{**SIM, "treatment_start": 10})
    with pytest.raises(ValueError, match="outside the panel"):
        fit(data, **{**SIM, "treatment_start": -6})
    with pytest.raises(ValueError, match="unbalanced panel"):
        fit(data.iloc[1:], **SIM)
    with pytest.raises(ValueError, match="missing value"):
        fit(data.assign(Y=np.where(data.index == 3, np.nan, data["Y"])), **SIM)
    with pytest.raises(ValueError, match="too few donors"):
        fit(data[data["unit"] <= 1], **SIM)
    with pytest.raises(ValueError, match="too few pre-treatment periods"):
        fit(data, **{**SIM, "treatment_start": -5})
    with pytest.raises(ValueError, match="more than once"):
        fit(pd.concat([data, data.iloc[:1]]), **SIM)
    with pytest.raises(ValueError, match="cannot also be a donor"):
        fit(data, **SIM, donors=[0, 1, 2])
    with pytest.raises(ValueError, match="not pre-treatment periods"):
        fit(data, **SIM, predictors=[("Y", [-1, 0])])
    with pytest.raises(ValueError, match="predictor_weights must be 1 non-negative"):
        fit(data, **SIM, predictors=["Y"], predictor_weights=[-1.0])
    with pytest.raises(ValueError, match="column name or a"):
        fit(data, **SIM, predictors=[3])
    with pytest.raises(ValueError, match="same value in every unit"):
        fit(data.assign(flat=1.0), **SIM, predictors=["flat"])
    with pytest.raises(ValueError, match="must be before treatment_start"):
        synth.placebo_in_time(data, **SIM, fake_start=0)
    with pytest.raises(ValueError, match="level must be"):
        synth.synthetic_control(data, **SIM, level=95)


# --- the estimator contract (tests/test_contract.py exempts synthetic_control for its NaN SE) --

def test_synthetic_control_keeps_the_rest_of_the_estimator_contract():
    import inspect

    parameters = list(inspect.signature(synth.synthetic_control).parameters.values())
    assert parameters[0].name == "data"
    assert all(p.kind is p.KEYWORD_ONLY for p in parameters[1:])
    sim = synth.factor_model_panel(20, seed=2)
    est = synth.synthetic_control(sim.data, **SIM)
    assert est.estimand in sim.truth and isinstance(est.covers(sim.truth["ATT"]), bool)
    assert hash(est) == hash(type(est).from_dict(est.to_dict())) and {est: 1}[est] == 1
    narrow = synth.synthetic_control(sim.data, **SIM, level=0.5)
    assert narrow.value == est.value and narrow.ci_high - narrow.ci_low < est.ci_high - est.ci_low
    with pytest.raises(ValueError, match="'Y' has 1 missing value"):
        synth.synthetic_control(sim.data.assign(Y=np.where(sim.data.index == 1, np.nan,
                                                           sim.data["Y"])), **SIM)
    with pytest.raises(ValueError, match="not found"):
        synth.synthetic_control(sim.data, **{**SIM, "outcome": "no_such_column"})
    with pytest.raises(ValueError):
        synth.synthetic_control(sim.data.head(3), **SIM)
    with pytest.raises(ValueError, match="DataFrame"):
        synth.synthetic_control(sim.data.to_numpy(), **SIM)
