"""Tests of lessons_lib.ope: off-policy evaluation by IPS, SNIPS and doubly robust.

The reference, obp (the Open Bandit Pipeline), cannot be installed beside the book's pins:
its newest release (0.5.7) requires Python < 3.11, and 0.4.1 lists torch as a dependency and
imports it at start-up. Its
estimators are one line each of numpy, so the agreement tests here compute the same
numbers independently: IPS and its SE as statsmodels' OLS of the weighted rewards on a
constant; SNIPS and its delta-method SE as statsmodels' weighted least squares of the
reward on a constant with the importance weights and HC1 (sandwich) errors; DR by an
explicit loop over the actions. (Once, outside the test suite, obp 0.4.1's
InverseProbabilityWeighting, SelfNormalizedInverseProbabilityWeighting and DoublyRobust
were run on the Open Bandit sample with the inputs of `test_open_bandit_...` below, with
torch stubbed out: they agree with ours to 2e-16.)
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import integrate, stats
from sklearn.linear_model import LinearRegression, LogisticRegression

from lessons_lib import datasets
from lessons_lib.ope import (
    doubly_robust,
    ips,
    on_policy_value,
    predict_rewards,
    snips,
    thompson_sampling_distribution,
)
from lessons_lib.testing import assert_agrees, assert_calibrated, monte_carlo

# --- a synthetic contextual bandit with a known target value ------------------------------------

N_CONTEXTS, N_ACTIONS = 5, 4
_STRUCTURE = np.random.default_rng(2021)
CLICK_RATE = _STRUCTURE.uniform(0.05, 0.5, (N_CONTEXTS, N_ACTIONS))  # E[R | x, a]


def _softmax(scores: np.ndarray) -> np.ndarray:
    z = np.exp(scores - scores.max(axis=1, keepdims=True))
    return z / z.sum(axis=1, keepdims=True)


LOGGING = _softmax(_STRUCTURE.normal(0, 0.5, (N_CONTEXTS, N_ACTIONS)))  # pi_b(a | x)
TARGET = _softmax(4 * CLICK_RATE)  # pi_e(a | x): leans towards the better actions
TRUE_VALUE = float(np.mean(np.sum(TARGET * CLICK_RATE, axis=1)))  # contexts are uniform


def _bandit_log(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """n logged rounds; returns the log and pi_e(. | x_i) for every round (n x K)."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, N_CONTEXTS, n)
    cumulative = LOGGING[x].cumsum(axis=1)
    a = np.minimum((rng.uniform(size=(n, 1)) > cumulative).sum(axis=1), N_ACTIONS - 1)
    r = rng.binomial(1, CLICK_RATE[x, a])
    log = pd.DataFrame({"x": x, "action": a, "reward": r,
                        "p_log": LOGGING[x, a], "p_target": TARGET[x, a]})
    return log, TARGET[x]


def _roles(**extra):
    return dict(reward="reward", logging_propensity="p_log", **extra)


# --- agreement with independent computations -------------------------------------------------------

def test_ips_is_ols_of_the_weighted_reward_on_a_constant():
    log, _ = _bandit_log(3_000, seed=1)
    est = ips(log, **_roles(target_propensity="p_target"))
    terms = (log["p_target"] / log["p_log"] * log["reward"]).to_numpy()
    ols = sm.OLS(terms, np.ones_like(terms)).fit()
    assert_agrees(est, ols.params[0], rtol=1e-10)
    assert_agrees(est.se, ols.bse[0], rtol=1e-10, what="standard error")
    assert est.estimand == "policy value" and est.n == 3_000
    assert est.extra["mean_weight"] == pytest.approx(1.0, abs=0.05)


def test_snips_is_weighted_least_squares_with_sandwich_errors():
    """The WLS fit of R on a constant with weights w is sum(w R) / sum(w); its HC1 sandwich
    variance is n / (n - 1) sum w^2 (R - V)^2 / (sum w)^2, the delta method's."""
    log, _ = _bandit_log(3_000, seed=2)
    est = snips(log, **_roles(target_propensity="p_target"))
    weights = (log["p_target"] / log["p_log"]).to_numpy()
    wls = sm.WLS(log["reward"].to_numpy(float), np.ones(len(log)), weights=weights).fit(
        cov_type="HC1")
    assert_agrees(est, wls.params[0], rtol=1e-10)
    assert_agrees(est.se, wls.bse[0], rtol=1e-8, what="standard error")


def test_doubly_robust_matches_a_loop_over_actions():
    log, target = _bandit_log(2_000, seed=3)
    rng = np.random.default_rng(0)
    model = np.clip(CLICK_RATE[log["x"]] + rng.normal(0, 0.05, target.shape), 0, 1)
    est = doubly_robust(log, **_roles(action="action"), target_distribution=target,
                        reward_predictions=model)
    scores = []
    for i, row in enumerate(log.itertuples()):
        direct = sum(target[i, a] * model[i, a] for a in range(N_ACTIONS))
        weight = target[i, row.action] / row.p_log
        scores.append(direct + weight * (row.reward - model[i, row.action]))
    ols = sm.OLS(np.array(scores), np.ones(len(scores))).fit()
    assert_agrees(est, ols.params[0], rtol=1e-10)
    assert_agrees(est.se, ols.bse[0], rtol=1e-10, what="standard error")
    assert est.extra["direct_method"] == pytest.approx(np.mean(np.sum(target * model, axis=1)))


def test_doubly_robust_with_a_zero_model_is_ips():
    log, target = _bandit_log(1_000, seed=4)
    dr = doubly_robust(log, **_roles(action="action"), target_distribution=target,
                       reward_predictions=np.zeros_like(target))
    plain = ips(log, **_roles(target_propensity="p_target"))
    assert_agrees(dr, plain.value, rtol=1e-12)
    assert_agrees(dr.se, plain.se, rtol=1e-12, what="standard error")


def test_when_target_equals_logging_policy_ips_and_snips_are_the_sample_mean():
    log, _ = _bandit_log(500, seed=5)
    same = log.assign(p_target=log["p_log"])
    mean = on_policy_value(log, reward="reward")
    for estimator in (ips, snips):
        est = estimator(same, **_roles(target_propensity="p_target"))
        assert_agrees(est, log["reward"].mean(), rtol=1e-12)
        assert_agrees(est.se, mean.se, rtol=1e-9, what="standard error")


def _exact_rank_probabilities(alpha, beta, n_positions):
    """P(item a has the k-th largest Beta draw) = int f_a(t) P(exactly k others above t) dt,
    the count of others above t being Poisson-binomial; computed by quadrature."""
    alpha, beta = np.asarray(alpha, float), np.asarray(beta, float)
    exact = np.zeros((alpha.size, n_positions))
    for item in range(alpha.size):
        others = [j for j in range(alpha.size) if j != item]

        def integrand(t, k, item=item, others=others):
            above = stats.beta.sf(t, alpha[others], beta[others])
            counts = np.zeros(len(others) + 1)
            counts[0] = 1.0
            for p in above:  # Poisson-binomial by dynamic programming
                counts[1:] = counts[1:] * (1 - p) + counts[:-1] * p
                counts[0] *= 1 - p
            return stats.beta.pdf(t, alpha[item], beta[item]) * counts[k]

        for k in range(n_positions):
            exact[item, k] = integrate.quad(integrand, 0, 1, args=(k,), limit=200)[0]
    return exact


def test_thompson_sampling_distribution_matches_exact_integrals():
    alpha, beta = [30, 12, 20, 8, 3], [970, 388, 780, 192, 97]
    draws = 200_000
    estimated = thompson_sampling_distribution(alpha, beta, n_positions=3, n_draws=draws, seed=1)
    exact = _exact_rank_probabilities(alpha, beta, 3)
    np.testing.assert_allclose(exact.sum(axis=0), 1.0, atol=1e-6)  # the quadrature is right
    monte_carlo_se = np.sqrt(exact * (1 - exact) / draws)
    assert np.all(np.abs(estimated - exact) <= 4 * monte_carlo_se + 1e-9)
    np.testing.assert_allclose(estimated.sum(axis=0), 1.0)


def test_predict_rewards_is_cross_fitted():
    """A round's prediction never depends on its own reward, and equals a model fitted on the
    other fold with actions one-hot encoded beside the covariates."""
    log, _ = _bandit_log(400, seed=6)
    log["x_scaled"] = log["x"] / 4.0
    kwargs = dict(reward="reward", action="action", n_actions=N_ACTIONS,
                  model=LinearRegression(), covariates=["x_scaled"], n_folds=2, seed=3)
    first = predict_rewards(log, **kwargs)
    flipped = log.copy()
    flipped.loc[0, "reward"] = 1 - flipped.loc[0, "reward"]
    second = predict_rewards(flipped, **kwargs)
    np.testing.assert_allclose(first[0], second[0], rtol=1e-12)
    assert not np.allclose(first, second)  # the other fold's predictions did change
    from sklearn.model_selection import KFold
    train, held_out = next(KFold(2, shuffle=True, random_state=3).split(log))
    design = np.column_stack([np.eye(N_ACTIONS)[log["action"]], log["x_scaled"]])
    fitted = LinearRegression().fit(design[train], log["reward"].to_numpy()[train])
    row = held_out[0]
    every_action = np.column_stack([np.eye(N_ACTIONS), np.full(N_ACTIONS, log["x_scaled"][row])])
    np.testing.assert_allclose(first[row], fitted.predict(every_action), rtol=1e-10)


# --- coverage in simulation -----------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("estimator", ["ips", "snips", "dr, wrong fixed model",
                                       "dr, cross-fitted model"])
def test_intervals_cover_the_true_target_value(estimator):
    def one_replication(seed):
        log, target = _bandit_log(1_000, seed)
        if estimator == "ips":
            return ips(log, **_roles(target_propensity="p_target")), TRUE_VALUE
        if estimator == "snips":
            return snips(log, **_roles(target_propensity="p_target")), TRUE_VALUE
        if estimator == "dr, wrong fixed model":  # a poor model: DR stays unbiased
            model = np.full_like(target, 0.4)
        else:
            contexts = pd.get_dummies(log["x"], prefix="x", dtype=float)
            model = predict_rewards(log.join(contexts), reward="reward", action="action",
                                    n_actions=N_ACTIONS, model=LinearRegression(),
                                    covariates=list(contexts.columns), seed=seed % 1000)
        est = doubly_robust(log, **_roles(action="action"), target_distribution=target,
                            reward_predictions=model)
        return est, TRUE_VALUE

    result = monte_carlo(one_replication, n_reps=400, seed=15)
    print(f"{estimator}: {result}")
    assert_calibrated(result, max_abs_bias=0.005)


# --- the Open Bandit Dataset: the published number and the on-policy truth --------------------

@pytest.fixture(scope="module")
def open_bandit_inputs():
    random_log = datasets.open_bandit("random")
    prior = datasets.open_bandit_bts_prior()
    bts = thompson_sampling_distribution(prior["alpha"], prior["beta"], n_positions=3,
                                         seed=12345)
    rows = bts[:, random_log["position"] - 1].T  # pi_bts(. | position of row i), (n, 80)
    random_log["p_bts"] = rows[np.arange(len(random_log)), random_log["item_id"]]
    return random_log, rows


def test_open_bandit_sample_is_what_obp_ships():
    both = datasets.open_bandit()
    assert both.shape == (20_000, 10)
    counts = both.groupby("policy").agg(rows=("click", "size"), clicks=("click", "sum"))
    assert counts.to_dict() == {"rows": {"bts": 10_000, "random": 10_000},
                                "clicks": {"bts": 42, "random": 38}}
    random_log = datasets.open_bandit("random")
    assert (random_log["propensity_score"] == 1 / 80).all()
    assert sorted(random_log["position"].unique()) == [1, 2, 3]
    assert random_log["item_id"].nunique() == 80
    prior = datasets.open_bandit_bts_prior()
    assert prior.shape == (80, 3) and (prior[["alpha", "beta"]] > 0).all().all()
    with pytest.raises(ValueError, match="policy must be"):
        datasets.open_bandit("thompson")


def test_open_bandit_reproduces_the_obp_readme_ipw_estimate(open_bandit_inputs):
    """obp's README (0.4.1): IPW estimate of BTS's click rate from the random log 0.004553...,
    1.198126... times random's own click rate. Our Monte Carlo of BTS uses other random
    numbers than obp's, so the match is to Monte Carlo error (about 0.2% here)."""
    random_log, _ = open_bandit_inputs
    est = ips(random_log, reward="click", logging_propensity="propensity_score",
              target_propensity="p_bts")
    assert est.value == pytest.approx(0.004553, rel=0.01)
    assert est.value / random_log["click"].mean() == pytest.approx(1.198126, rel=0.01)


def test_open_bandit_estimates_agree_with_bts_on_policy_click_rate(open_bandit_inputs):
    """Saito et al. (2021) judge an estimator by its relative estimation error
    |V_hat - V| / V against BTS's on-policy click rate V. The two logs are independent
    samples, so the estimate and V differ by sampling error of SE sqrt(se^2 + se_V^2)."""
    random_log, rows = open_bandit_inputs
    truth = on_policy_value(datasets.open_bandit("bts"), reward="click")
    assert truth.value == pytest.approx(0.0042)
    assert truth.se == pytest.approx(np.sqrt(0.0042 * 0.9958 / 9_999), rel=1e-9)
    positions = pd.get_dummies(random_log["position"], prefix="position", dtype=float)
    model = predict_rewards(random_log.join(positions), reward="click", action="item_id",
                            n_actions=80, model=LogisticRegression(C=1.0, max_iter=1_000),
                            covariates=list(positions.columns), seed=0)
    roles = dict(reward="click", logging_propensity="propensity_score")
    estimates = {
        "IPS": ips(random_log, **roles, target_propensity="p_bts"),
        "SNIPS": snips(random_log, **roles, target_propensity="p_bts"),
        "DR": doubly_robust(random_log, **roles, action="item_id", target_distribution=rows,
                            reward_predictions=model),
    }
    for name, est in estimates.items():
        relative_error = abs(est.value - truth.value) / truth.value
        gap_se = np.hypot(est.se, truth.se)
        print(f"{name}: {est.value:.5f} (SE {est.se:.5f}); on-policy {truth.value:.5f}; "
              f"relative error {relative_error:.3f}")
        assert abs(est.value - truth.value) < 1.96 * gap_se
        assert relative_error < 0.25
        assert est.ci_low < truth.value < est.ci_high


# --- refusing bad input -------------------------------------------------------------------------

def _small_log(**changes):
    log = pd.DataFrame({"reward": [1.0, 0.0, 0.0, 1.0], "action": [0, 1, 1, 0],
                        "p_log": [0.5, 0.5, 0.5, 0.5], "p_target": [0.9, 0.1, 0.1, 0.9]})
    for column, values in changes.items():
        log[column] = values
    return log


@pytest.mark.parametrize("estimator", [ips, snips])
@pytest.mark.parametrize("changes, match", [
    ({"p_log": [0.5, 0.0, 0.5, 0.5]}, r"logging_propensity column 'p_log' .* in \(0, 1\]"),
    ({"p_log": [0.5, 1.5, 0.5, 0.5]}, r"probabilities in \(0, 1\]"),
    ({"p_log": [50, 50, 50, 50]}, r"probabilities in \(0, 1\]"),
    ({"p_target": [0.9, -0.1, 0.1, 0.9]}, r"target_propensity column .* in \[0, 1\]"),
    ({"p_target": [0.9, np.nan, 0.1, 0.9]}, "'p_target' has 1 missing value"),
    ({"reward": [1.0, np.nan, 0.0, 1.0]}, "'reward' has 1 missing value"),
    ({"reward": ["yes", "no", "no", "yes"]}, "'reward' must be numeric"),
])
def test_weighting_estimators_refuse_bad_columns(estimator, changes, match):
    with pytest.raises(ValueError, match=match):
        estimator(_small_log(**changes), **_roles(target_propensity="p_target"))


def test_estimators_refuse_bad_arguments():
    log = _small_log()
    with pytest.raises(ValueError, match=r"not found in the data"):
        ips(log, reward="click", logging_propensity="p_log", target_propensity="p_target")
    with pytest.raises(ValueError, match="level must be"):
        ips(log, **_roles(target_propensity="p_target"), level=95)
    with pytest.raises(ValueError, match="DataFrame"):
        ips(log.to_numpy(), **_roles(target_propensity="p_target"))
    with pytest.raises(ValueError, match="name of a column"):
        ips(log, reward=log["reward"], logging_propensity="p_log", target_propensity="p_target")
    with pytest.raises(ValueError, match="at least 2"):
        ips(log.iloc[:1], **_roles(target_propensity="p_target"))
    with pytest.raises(ValueError, match="no overlap"):
        snips(log.assign(p_target=0.0), **_roles(target_propensity="p_target"))
    with pytest.raises(TypeError):
        ips(log, "reward", "p_log", "p_target")  # column roles are keyword-only


@pytest.mark.parametrize("kwargs, match", [
    ({"target_distribution": np.full((3, 2), 0.5)}, r"shape \(n_rounds, n_actions\) = \(4"),
    ({"target_distribution": np.full((4, 2), 0.6)}, "row 0 sums to 1.2"),
    ({"target_distribution": np.tile([1.5, -0.5], (4, 1))}, r"probabilities in \[0, 1\]"),
    ({"reward_predictions": np.zeros((4, 3))}, "has 3 actions .* target_distribution has 2"),
    ({"reward_predictions": np.full((4, 2), np.nan)}, "8 missing or infinite"),
    ({"reward_predictions": np.zeros(4)}, "shape"),
])
def test_doubly_robust_refuses_mismatched_arrays(kwargs, match):
    arguments = {"target_distribution": np.tile([0.9, 0.1], (4, 1)),
                 "reward_predictions": np.full((4, 2), 0.5)} | kwargs
    with pytest.raises(ValueError, match=match):
        doubly_robust(_small_log(), **_roles(action="action"), **arguments)


def test_doubly_robust_refuses_unknown_actions():
    with pytest.raises(ValueError, match=r"action ids 0, 1, \.\.\., 1 .* found \[2\.0\]"):
        doubly_robust(_small_log(action=[0, 2, 1, 0]), **_roles(action="action"),
                      target_distribution=np.tile([0.9, 0.1], (4, 1)),
                      reward_predictions=np.full((4, 2), 0.5))


def test_predict_rewards_refuses_non_binary_rewards_for_a_classifier():
    log = _small_log(reward=[0.0, 2.0, 1.0, 0.0])
    with pytest.raises(ValueError, match="must be 0/1 for a classifier"):
        predict_rewards(log, reward="reward", action="action", n_actions=2,
                        model=LogisticRegression())
    with pytest.raises(ValueError, match="model instance"):
        predict_rewards(_small_log(), reward="reward", action="action", n_actions=2,
                        model=LogisticRegression)
    with pytest.raises(ValueError, match="n_folds"):
        predict_rewards(_small_log(), reward="reward", action="action", n_actions=2,
                        model=LinearRegression(), n_folds=1)


@pytest.mark.parametrize("kwargs, match", [
    ({"alpha": [1, 2, 3], "beta": [1, 2]}, "same length"),
    ({"alpha": [1, 0], "beta": [1, 1]}, "positive"),
    ({"alpha": [1, 2], "beta": [1, 1], "n_positions": 3}, "n_positions"),
    ({"alpha": [1, 2], "beta": [1, 1], "n_draws": 0}, "n_draws"),
])
def test_thompson_sampling_distribution_refuses_bad_parameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        thompson_sampling_distribution(**kwargs)
