"""lessons_lib.uplift (chapter 14): uplift and Qini curves, their areas, targeting, IPW policy value.

No installed package implements uplift curves (causalml and scikit-uplift are not
dependencies of the book), so the curves are checked against exact hand-worked values on
small examples and against a deliberately slow, direct implementation (one boolean mask
per threshold). The IPW policy value and its SE are checked against statsmodels (the
mean of the IPW terms is an OLS regression on a constant) and in simulation.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from lessons_lib import simulate
from lessons_lib.testing import assert_agrees, assert_calibrated, monte_carlo
from lessons_lib.uplift import curve_area, policy_value, target_top, uplift_curve

# --- exact values on small examples ---------------------------------------------------------

# Eight customers; scores with a tie (0.7, 0.7) at positions 3-4.
SCORE = [0.9, 0.8, 0.7, 0.7, 0.5, 0.4, 0.2, 0.1]
TREAT = [1, 0, 1, 0, 1, 1, 0, 0]
BUY = [1, 0, 1, 1, 0, 1, 0, 1]


def test_uplift_and_qini_curves_match_hand_worked_values():
    curve = uplift_curve(SCORE, TREAT, BUY)
    # Points at k = 0, 1, 2, 4 (the tie is taken together), 5, 6, 7, 8.
    assert curve["n_targeted"].tolist() == [0, 1, 2, 4, 5, 6, 7, 8]
    # k=1: Nt=1 Rt=1, Nc=0 -> qini 1, uplift (1 - 0) * 1 = 1
    # k=2: Nt=1 Rt=1, Nc=1 Rc=0 -> qini 1, uplift 1 * 2 = 2
    # k=4: Nt=2 Rt=2, Nc=2 Rc=1 -> qini 2 - 1 = 1, uplift (1 - 0.5) * 4 = 2
    # k=5: Nt=3 Rt=2, Nc=2 Rc=1 -> qini 2 - 1.5 = 0.5, uplift (2/3 - 1/2) * 5 = 5/6
    # k=6: Nt=4 Rt=3, Nc=2 Rc=1 -> qini 3 - 2 = 1, uplift (3/4 - 1/2) * 6 = 1.5
    # k=7: Nt=4 Rt=3, Nc=3 Rc=1 -> qini 3 - 4/3 = 5/3, uplift (3/4 - 1/3) * 7 = 35/12
    # k=8: Nt=4 Rt=3, Nc=4 Rc=2 -> qini 1, uplift (3/4 - 1/2) * 8 = 2
    np.testing.assert_allclose(curve["qini"], [0, 1, 1, 1, 0.5, 1, 5 / 3, 1], rtol=1e-12)
    np.testing.assert_allclose(curve["uplift"], [0, 1, 2, 2, 5 / 6, 1.5, 35 / 12, 2], rtol=1e-12)
    np.testing.assert_allclose(curve["random_qini"], curve["fraction"] * 1.0)
    np.testing.assert_allclose(curve["random_uplift"], curve["fraction"] * 2.0)


def test_order_of_tied_units_does_not_matter():
    swapped = uplift_curve(SCORE, [1, 0, 0, 1, 1, 1, 0, 0], [1, 0, 1, 1, 0, 1, 0, 1])
    original = uplift_curve(SCORE, TREAT, BUY)
    pd.testing.assert_frame_equal(swapped, original)


def test_curve_area_matches_hand_trapezoid():
    curve = uplift_curve(SCORE, TREAT, BUY)
    x = np.array([0, 1, 2, 4, 5, 6, 7, 8]) / 8
    q = np.array([0, 1, 1, 1, 0.5, 1, 5 / 3, 1])
    trapezoid = sum((x[i + 1] - x[i]) * (q[i + 1] + q[i]) / 2 for i in range(7))
    assert curve_area(curve, "qini", over_random=False) == pytest.approx(trapezoid, rel=1e-12)
    assert curve_area(curve, "qini") == pytest.approx(trapezoid - 0.5, rel=1e-12)
    assert curve_area(curve, "qini", per_unit=True) == pytest.approx((trapezoid - 0.5) / 8)
    assert_agrees(curve_area(curve, "uplift", over_random=False),
                  np.trapezoid(curve["uplift"], curve["fraction"]), rtol=1e-12)


def _direct_curve(score, t, y):
    """The slow, obvious definition: one mask per distinct threshold, best scores first."""
    points = []
    for threshold in np.sort(np.unique(score))[::-1]:
        top = score >= threshold
        nt, nc = t[top].sum(), (1 - t[top]).sum()
        rt, rc = y[top & (t == 1)].sum(), y[top & (t == 0)].sum()
        mean_t = rt / nt if nt else 0.0
        mean_c = rc / nc if nc else 0.0
        qini = rt - (rc * nt / nc if nc else 0.0)
        points.append((top.sum(), (mean_t - mean_c) * top.sum(), qini))
    return np.array(points)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_curves_agree_with_direct_definition_on_random_data_with_ties(seed):
    rng = np.random.default_rng(seed)
    n = 300
    score = rng.integers(0, 40, n) / 7.0  # many ties
    t = rng.binomial(1, 0.4, n)
    y = rng.normal(size=n) + t * (score > 3)
    curve = uplift_curve(score, t, y)
    direct = _direct_curve(score, t, y)
    np.testing.assert_array_equal(curve["n_targeted"].to_numpy()[1:], direct[:, 0])
    np.testing.assert_allclose(curve["uplift"].to_numpy()[1:], direct[:, 1], rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(curve["qini"].to_numpy()[1:], direct[:, 2], rtol=1e-9, atol=1e-9)


def test_perfect_ranking_beats_random_and_reversed_ranking_loses():
    sim = simulate.uplift_segments(4_000, seed=3)
    t, y = sim.data["T"], sim.data["Y"]
    cate = sim.potential_outcomes["cate"].to_numpy()
    best = curve_area(uplift_curve(cate, t, y), "qini")
    worst = curve_area(uplift_curve(-cate, t, y), "qini")
    assert best > 0 > worst


# --- targeting ----------------------------------------------------------------------------------

def test_target_top_by_share_count_and_min_score():
    score = np.array([0.3, -0.1, 0.5, 0.2, -0.4])
    assert target_top(score, 0.4).tolist() == [1, 0, 1, 0, 0]
    assert target_top(score, 3).tolist() == [1, 0, 1, 1, 0]
    assert target_top(score, 1.0).tolist() == [1, 1, 1, 1, 1]
    assert target_top(score, 1.0, min_score=0).tolist() == [1, 0, 1, 1, 0]
    assert target_top([1.0, 1.0, 1.0], 2).tolist() == [1, 1, 0]  # stable among ties


# --- IPW policy value ---------------------------------------------------------------------------

def _experiment(seed=0, n=500, share=0.3):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    propensity = np.where(x > 0, share, 0.5)
    t = rng.binomial(1, propensity)
    y = 1 + x + t * (0.5 + x) + rng.normal(size=n)
    policy = (x > -0.3).astype(int)
    return x, t, y, policy, propensity


def test_policy_value_matches_hand_formula_and_statsmodels():
    x, t, y, policy, propensity = _experiment()
    est = policy_value(policy, t, y, propensity)
    terms = y * (t == policy) / np.where(policy == 1, propensity, 1 - propensity)
    ols = sm.OLS(terms, np.ones_like(terms)).fit()
    assert_agrees(est, terms.mean(), rtol=1e-12)
    assert_agrees(est, ols.params[0], rtol=1e-6)
    assert_agrees(est.se, ols.bse[0], rtol=1e-6, what="standard error")
    assert est.estimand == "policy value" and est.n == len(y)


def test_policy_gain_is_the_difference_of_two_values_with_a_paired_se():
    x, t, y, policy, propensity = _experiment(seed=1)
    nobody = np.zeros_like(policy)
    gain = policy_value(policy, t, y, propensity, baseline=nobody)
    value = policy_value(policy, t, y, propensity)
    base = policy_value(nobody, t, y, propensity)
    assert_agrees(gain, value.value - base.value, rtol=1e-12)
    terms = (y * (t == policy) / np.where(policy == 1, propensity, 1 - propensity)
             - y * (t == 0) / (1 - propensity))
    ols = sm.OLS(terms, np.ones_like(terms)).fit()
    assert_agrees(gain.se, ols.bse[0], rtol=1e-6, what="standard error")
    assert gain.estimand == "policy gain over baseline"


def test_scalar_propensity_equals_constant_array():
    x, t, y, policy, _ = _experiment(seed=2, share=0.5)
    assert_agrees(policy_value(policy, t, y, 0.5),
                  policy_value(policy, t, y, np.full(len(y), 0.5)).value, rtol=1e-15)


_POLICY_TRUTH: dict = {}


def _segments_policy(engagement, tenure, discount):
    """A fixed policy: e-mail customers with discount affinity above 0 and tenure below 1."""
    return ((discount > 0) & (tenure < 1)).astype(int)


def _segments_truth() -> tuple[float, float]:
    """Population value and gain of the fixed policy, by averaging exact probabilities."""
    if not _POLICY_TRUTH:
        rng = np.random.default_rng(12345)
        e, t, d = rng.normal(size=(3, 2_000_000))
        p = simulate.uplift_segment_probabilities(e, t, d)
        pi = _segments_policy(e, t, d)
        buy_if_treated = p["persuadable"] + p["sure thing"]
        buy_if_not = p["sure thing"] + p["sleeping dog"]
        _POLICY_TRUTH["value"] = float(np.mean(pi * buy_if_treated + (1 - pi) * buy_if_not))
        _POLICY_TRUTH["gain"] = float(np.mean(pi * (buy_if_treated - buy_if_not)))
    return _POLICY_TRUTH["value"], _POLICY_TRUTH["gain"]


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["value", "gain"])
def test_policy_value_is_calibrated_in_simulation(kind):
    truth_value, truth_gain = _segments_truth()

    def one_replication(seed):
        sim = simulate.uplift_segments(2_000, seed=seed, treated_share=0.4)
        d = sim.data
        pi = _segments_policy(d["engagement"], d["tenure"], d["discount_affinity"])
        baseline = np.zeros(len(d), dtype=int) if kind == "gain" else None
        est = policy_value(pi, d["T"], d["Y"], 0.4, baseline=baseline)
        return est, truth_gain if kind == "gain" else truth_value

    result = monte_carlo(one_replication, n_reps=400, seed=14)
    print(f"IPW policy {kind}: {result}")
    assert_calibrated(result, max_abs_bias=0.004)


@pytest.mark.slow
def test_uplift_curve_at_a_budget_is_unbiased_for_the_top_groups_effect():
    """U(k) / k estimates the average effect among the top k, for a fixed score."""
    errors = []
    for seed in np.random.default_rng(7).integers(0, 2**31, 400):
        sim = simulate.uplift_segments(1_000, seed=int(seed))
        score = sim.data["discount_affinity"] - sim.data["engagement"]
        curve = uplift_curve(score, sim.data["T"], sim.data["Y"])
        row = curve[curve["n_targeted"] == 300].iloc[0]
        top = target_top(score, 300) == 1
        errors.append(row["uplift"] / 300 - sim.potential_outcomes["cate"].to_numpy()[top].mean())
    errors = np.asarray(errors)
    assert abs(errors.mean()) < 3 * errors.std(ddof=1) / np.sqrt(len(errors)) + 0.002


# --- the simulated Hillstrom-style campaign: its published arm averages ----------------------

def test_email_campaign_reproduces_hillstroms_published_arm_averages():
    """Hillstrom (2008), MineThatData e-mail challenge: visit 10.62% / 18.28% / 15.14%,
    conversion 0.57% / 1.25% / 0.88%, spend $0.65 / $1.42 / $1.08 (no, men's, women's e-mail).
    The simulation is calibrated to these, so this checks the calibration (within sampling
    error of 320,000 simulated customers), not a replication of the real experiment."""
    sim = simulate.email_campaign(320_000, seed=2008)
    outcomes = ["visit", "conversion", "spend"]
    grouped = sim.data.groupby("segment")[outcomes]
    means, ses = grouped.mean(), grouped.std() / np.sqrt(grouped.size().to_numpy()[:, None])
    for arm, published in simulate.HILLSTROM_PUBLISHED.items():
        for outcome in outcomes:  # within 4 standard errors (the published values are rounded)
            gap = abs(means.loc[arm, outcome] - published[outcome])
            assert gap < 4 * ses.loc[arm, outcome] + 0.00005, (arm, outcome, gap)
    assert sim.truth["visit ATE mens"] == pytest.approx(0.1828 - 0.1062, abs=0.005)
    assert sim.truth["visit ATE womens"] == pytest.approx(0.1514 - 0.1062, abs=0.005)


def test_uplift_segments_potential_outcomes_follow_the_four_types():
    sim = simulate.uplift_segments(3_000, seed=5)
    po = sim.potential_outcomes
    expected = {"persuadable": (0, 1), "sure thing": (1, 1), "lost cause": (0, 0),
                "sleeping dog": (1, 0)}
    for name, (y0, y1) in expected.items():
        rows = po["segment"] == name
        assert (po.loc[rows, "Y0"] == y0).all() and (po.loc[rows, "Y1"] == y1).all()
    observed = np.where(sim.data["T"] == 1, po["Y1"], po["Y0"])
    np.testing.assert_array_equal(observed, sim.data["Y"])
    shares = sum(v for k, v in sim.truth.items() if k.startswith("share"))
    assert shares == pytest.approx(1.0)
    assert sim.ate == pytest.approx(sim.truth["share persuadable"] - sim.truth["share sleeping dog"])
    assert po["effect"].mean() == pytest.approx(sim.ate, abs=0.03)
    with pytest.raises(ValueError, match="treated_share"):
        simulate.uplift_segments(100, treated_share=1.0)


# --- refusing bad input ---------------------------------------------------------------------

@pytest.mark.parametrize("score, t, y, match", [
    ([0.1, 0.2, 0.3], [0, 1, 2], [1, 0, 1], "T must be 0/1"),
    ([0.1, np.nan, 0.3], [0, 1, 1], [1, 0, 1], "score has 1 missing"),
    ([0.1, 0.2], [0, 1, 1], [1, 0, 1], "T has 3 values but the other inputs have 2"),
    ([0.1, 0.2, 0.3], [1, 1, 1], [1, 0, 1], "only treated units"),
    ([0.1, 0.2, 0.3], [0, 1, 0], [1, 0, np.inf], "Y has 1 missing or infinite"),
    ("score", [0, 1, 0], [1, 0, 1], "not the string"),
    ([[0.1, 0.2], [0.3, 0.4]], [0, 1], [1, 0], "1-D array"),
])
def test_uplift_curve_refuses_bad_input(score, t, y, match):
    with pytest.raises(ValueError, match=match):
        uplift_curve(score, t, y)


def test_curve_area_refuses_bad_input():
    with pytest.raises(ValueError, match="DataFrame returned by uplift_curve"):
        curve_area(np.zeros(3))
    with pytest.raises(ValueError, match="'uplift' or 'qini'"):
        curve_area(uplift_curve(SCORE, TREAT, BUY), "gain")


@pytest.mark.parametrize("budget, match", [
    (0, "budget must be"), (-0.2, "budget must be"), (2.5, "budget must be"),
    (10, "exceeds the 5 units"), ("half", "budget must be"), (True, "budget must be"),
])
def test_target_top_refuses_bad_budgets(budget, match):
    with pytest.raises(ValueError, match=match):
        target_top([0.1, 0.2, 0.3, 0.4, 0.5], budget)


@pytest.mark.parametrize("kwargs, match", [
    ({"propensity": 1.0}, "strictly between 0 and 1"),
    ({"propensity": [0.5, 0.5, 0.0, 0.5]}, "no overlap"),
    ({"propensity": [0.5, 0.5]}, "propensity has 2 values"),
    ({"baseline": [0, 1, 2, 0]}, "baseline must be 0/1"),
    ({"level": 95}, "level must be"),
])
def test_policy_value_refuses_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        policy_value([1, 0, 1, 0], [1, 0, 0, 1], [1.0, 0.0, 1.0, 0.0], **kwargs)


def test_policy_value_refuses_a_non_binary_policy():
    with pytest.raises(ValueError, match="policy must be 0/1"):
        policy_value([0.2, 0.8, 1, 0], [1, 0, 0, 1], [1.0, 0.0, 1.0, 0.0])
