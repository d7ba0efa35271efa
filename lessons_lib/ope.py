"""Off-policy evaluation: what another policy would have earned, from one policy's logs. See chapter 15.

A recommender (the *logging* policy pi_b) chose an action A_i for each round i, in a
context X_i, with a probability it recorded, pi_b(A_i | X_i), and saw a reward R_i (a
click). The question: what would a different policy pi_e (the *target*, or evaluation,
policy) have earned had it been running instead? The estimand is its value

    V(pi_e) = E[ sum_a pi_e(a | X) E[R | X, A = a] ],

the expected reward per round under pi_e. Three estimators answer it from the logs alone:

- **IPS** (inverse propensity scoring, Horvitz-Thompson): reweight each logged reward by
  w_i = pi_e(A_i | X_i) / pi_b(A_i | X_i), the importance weight, and average: `ips`.
- **SNIPS** (self-normalized IPS, Hajek): divide by the mean weight instead of 1, which
  trades a small bias for less variance and an estimate inside the range of rewards: `snips`.
- **DR** (doubly robust): a reward model's prediction for what pi_e would choose, plus IPS
  applied to the model's residuals. Unbiased when the propensities are right, whatever the
  model; precise when the model is good: `doubly_robust`.

Each returns an `Estimate` with a normal interval from the estimator's influence function
(the SE of a sample mean of per-round scores). `thompson_sampling_distribution` computes
the action probabilities of a Bernoulli Thompson sampling policy by Monte Carlo,
`predict_rewards` fits a cross-fitted reward model for DR, and `on_policy_value` is the
mean reward in a policy's own logs, the ground truth off-policy estimates are judged by.

Assumptions (all estimators): the logged propensities are the probabilities the logging
policy really used; *positivity*, pi_b(a | x) > 0 wherever pi_e(a | x) > 0; rounds are
independent draws (the logging policy did not adapt to the rounds being evaluated); and
with several slots per page (positions), a slot's reward depends on its own item and
position only, so each (round, position) row can be evaluated on its own
(Saito et al., 2021; Dudik, Langford and Li, 2011; Swaminathan and Joachims, 2015).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from lessons_lib._validate import require_columns, require_frame, require_level, require_model
from lessons_lib.estimate import Estimate

__all__ = [
    "ips",
    "snips",
    "doubly_robust",
    "on_policy_value",
    "thompson_sampling_distribution",
    "predict_rewards",
]

ESTIMAND = "policy value"


# --- input checks --------------------------------------------------------------------------------

def _column(data: pd.DataFrame, column: str, role: str) -> np.ndarray:
    if not isinstance(column, str):
        raise ValueError(f"{role} must be the name of a column of data, such as {role}='click'; "
                         f"got {type(column).__name__}")
    require_columns(data, [column])
    return data[column].to_numpy(dtype=float)


def _propensities(data: pd.DataFrame, column: str, role: str, *, zero_ok: bool) -> np.ndarray:
    values = _column(data, column, role)
    low_ok = values >= 0 if zero_ok else values > 0
    bad = ~(low_ok & (values <= 1))
    if bad.any():
        interval = "[0, 1]" if zero_ok else "(0, 1]"
        found = np.unique(values[bad])[:5].tolist()
        hint = ("a logged probability of 0 means the logging policy could not choose that "
                "action, so the row cannot be in the log; check the column"
                if not zero_ok else "pass probabilities, not percentages or scores")
        raise ValueError(f"{role} column '{column}' must hold probabilities in {interval}; found "
                         f"{int(bad.sum())} value(s) outside, e.g. {found}: {hint}")
    return values


def _setup(data: pd.DataFrame, reward: str, logging_propensity: str,
           level: float) -> tuple[np.ndarray, np.ndarray]:
    require_frame(data)
    require_level(level)
    if len(data) < 2:
        raise ValueError("need at least 2 logged rounds to estimate a policy value and its SE")
    r = _column(data, reward, "reward")
    logged = _propensities(data, logging_propensity, "logging_propensity", zero_ok=False)
    return r, logged


def _mean_estimate(scores: np.ndarray, method: str, level: float, extra: dict) -> Estimate:
    n = scores.size
    return Estimate.from_se(scores.mean(), scores.std(ddof=1) / np.sqrt(n), n=n,
                            estimand=ESTIMAND, method=method, level=level, extra=extra)


def _weight_summary(weights: np.ndarray) -> dict:
    return {"mean_weight": float(weights.mean()),
            "effective_sample_size": float(weights.sum() ** 2 / np.sum(weights ** 2))
            if weights.any() else 0.0}


def _per_action(values: object, name: str, n: int, n_actions: int | None = None) -> np.ndarray:
    """An (n, n_actions) finite array: one row per logged round, one column per action."""
    try:
        array = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a numeric array of shape (rounds, actions): {exc}") from None
    if array.ndim != 2 or array.shape[0] != n:
        raise ValueError(f"{name} must have shape (n_rounds, n_actions) = ({n}, ...), one row per "
                         f"row of data; got shape {array.shape}")
    if n_actions is not None and array.shape[1] != n_actions:
        raise ValueError(f"{name} has {array.shape[1]} actions (columns) but target_distribution "
                         f"has {n_actions}; both must list the same actions in the same order")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} has {int((~np.isfinite(array)).sum())} missing or infinite "
                         "value(s)")
    return array


def _actions(data: pd.DataFrame, column: str, n_actions: int) -> np.ndarray:
    values = _column(data, column, "action")
    ok = (values == np.round(values)) & (values >= 0) & (values < n_actions)
    if not ok.all():
        found = np.unique(values[~ok])[:5].tolist()
        raise ValueError(f"action column '{column}' must hold action ids 0, 1, ..., {n_actions - 1} "
                         f"(the columns of target_distribution); found {found}")
    return values.astype(int)


# --- estimators ------------------------------------------------------------------------------

def ips(data: pd.DataFrame, *, reward: str, logging_propensity: str, target_propensity: str,
        level: float = 0.95) -> Estimate:
    """Inverse propensity scoring (IPS): the target policy's value from another policy's logs.

    Estimand: V(pi_e) = E[R(pi_e)], the expected reward per round had the target policy
    pi_e chosen the actions. With importance weights w_i = pi_e(A_i | X_i) / pi_b(A_i | X_i)
    (``target_propensity`` over ``logging_propensity``, both for the *logged* action):

        V_hat = (1/n) sum_i w_i R_i,        SE = sd(w_i R_i) / sqrt(n).

    Unbiased when the logged propensities are the true ones and pi_b > 0 wherever pi_e > 0;
    its variance grows with the weights, so it is noisy when pi_e rarely agrees with pi_b.
    The interval is normal (the influence function of a mean). ``extra`` reports the mean
    weight (close to 1 when the propensities are right) and the effective sample size
    (sum w)^2 / sum w^2. When few rows with a positive weight have a reward the normal
    interval is unreliable, and with none it has zero width: a target policy far from the
    logging policy cannot be evaluated from its logs, whatever the interval says.
    See chapter 15.

    >>> import pandas as pd
    >>> log = pd.DataFrame({"click": [1, 0, 0, 1], "p_log": [0.5] * 4,
    ...                     "p_new": [1.0, 0.0, 0.0, 1.0]})
    >>> ips(log, reward="click", logging_propensity="p_log", target_propensity="p_new").value
    1.0
    """
    r, logged = _setup(data, reward, logging_propensity, level)
    target = _propensities(data, target_propensity, "target_propensity", zero_ok=True)
    weights = target / logged
    return _mean_estimate(weights * r, "IPS (inverse propensity scoring)", level,
                          _weight_summary(weights))


def snips(data: pd.DataFrame, *, reward: str, logging_propensity: str, target_propensity: str,
          level: float = 0.95) -> Estimate:
    """Self-normalized IPS (SNIPS, Hajek): IPS divided by the mean importance weight.

    Estimand: V(pi_e), as for `ips`. With w_i = pi_e(A_i | X_i) / pi_b(A_i | X_i):

        V_hat = sum_i w_i R_i / sum_i w_i.

    The mean weight is 1 in expectation, so SNIPS estimates the same value; dividing by
    the realised mean keeps the estimate inside the range of the rewards and cancels much
    of the noise of the weights (Swaminathan and Joachims, 2015), at the price of a bias of
    order 1/n. Its SE is the delta method's (linearised) one: the SE of the mean of
    psi_i = w_i (R_i - V_hat) / mean(w). See chapter 15.

    >>> import pandas as pd
    >>> log = pd.DataFrame({"click": [1, 0, 0, 1], "p_log": [0.5] * 4,
    ...                     "p_new": [0.9, 0.1, 0.1, 0.9]})
    >>> round(snips(log, reward="click", logging_propensity="p_log",
    ...             target_propensity="p_new").value, 2)
    0.9
    """
    r, logged = _setup(data, reward, logging_propensity, level)
    target = _propensities(data, target_propensity, "target_propensity", zero_ok=True)
    weights = target / logged
    if not weights.any():
        raise ValueError("every importance weight is 0: the target policy never chooses a logged "
                         "action, so these logs say nothing about it (no overlap)")
    value = np.sum(weights * r) / np.sum(weights)
    influence = weights * (r - value) / weights.mean()
    n = r.size
    return Estimate.from_se(value, influence.std(ddof=1) / np.sqrt(n), n=n, estimand=ESTIMAND,
                            method="SNIPS (self-normalized IPS)", level=level,
                            extra=_weight_summary(weights))


def doubly_robust(data: pd.DataFrame, *, reward: str, action: str, logging_propensity: str,
                  target_distribution: object, reward_predictions: object,
                  level: float = 0.95) -> Estimate:
    """Doubly robust (DR) off-policy value: a reward model, corrected by IPS on its residuals.

    Estimand: V(pi_e), as for `ips`. Besides the logs, DR needs for every logged round i
    the target policy's whole distribution over the K actions, pi_e(a | X_i)
    (``target_distribution``, an array of shape (n, K) whose rows sum to 1), and a reward
    model's prediction for every action, q(X_i, a) (``reward_predictions``, shape (n, K);
    see `predict_rewards`). Actions are the integer ids 0..K-1 in the ``action`` column.
    With w_i = pi_e(A_i | X_i) / pi_b(A_i | X_i), each round's DR score is

        Gamma_i = sum_a pi_e(a | X_i) q(X_i, a) + w_i (R_i - q(X_i, A_i)),

    V_hat = mean(Gamma_i) and SE = sd(Gamma_i) / sqrt(n) (Dudik, Langford and Li, 2011).
    The first term is the model's guess (the "direct method"); the second fixes its error
    on the logged actions. With correct propensities DR is unbiased whatever the model, if
    the model was fitted on other rows (cross-fitting, as `predict_rewards` does); a good
    model shrinks the residuals and with them the variance. With several positions per
    page, "context" includes the position: row i's distribution is pi_e(. | X_i, k_i).
    See chapter 15.

    >>> import numpy as np, pandas as pd
    >>> log = pd.DataFrame({"click": [1, 0], "item": [0, 1], "p_log": [0.5, 0.5]})
    >>> target = np.array([[1.0, 0.0], [1.0, 0.0]])
    >>> model = np.full((2, 2), 0.5)
    >>> doubly_robust(log, reward="click", action="item", logging_propensity="p_log",
    ...               target_distribution=target, reward_predictions=model).value
    1.0
    """
    r, logged = _setup(data, reward, logging_propensity, level)
    n = r.size
    distribution = _per_action(target_distribution, "target_distribution", n)
    if (distribution < 0).any() or (distribution > 1).any():
        raise ValueError("target_distribution must hold probabilities in [0, 1]")
    row_sums = distribution.sum(axis=1)
    if not np.allclose(row_sums, 1.0, atol=1e-6):
        worst = int(np.argmax(np.abs(row_sums - 1)))
        raise ValueError(f"each row of target_distribution must sum to 1 (a distribution over the "
                         f"actions); row {worst} sums to {row_sums[worst]:.6g}")
    n_actions = distribution.shape[1]
    predictions = _per_action(reward_predictions, "reward_predictions", n, n_actions)
    a = _actions(data, action, n_actions)
    rows = np.arange(n)
    weights = distribution[rows, a] / logged
    direct = np.sum(distribution * predictions, axis=1)
    scores = direct + weights * (r - predictions[rows, a])
    extra = _weight_summary(weights) | {"direct_method": float(direct.mean())}
    return _mean_estimate(scores, "doubly robust", level, extra)


def on_policy_value(data: pd.DataFrame, *, reward: str, level: float = 0.95) -> Estimate:
    """A policy's value from its own logs: the mean reward, SE sd / sqrt(n).

    This is the ground truth an off-policy estimate is compared with when the target
    policy also ran (as Bernoulli Thompson sampling did in the Open Bandit Dataset). It is
    itself an estimate, with sampling error. See chapter 15.

    >>> import pandas as pd
    >>> on_policy_value(pd.DataFrame({"click": [1, 0, 0, 1]}), reward="click").value
    0.5
    """
    require_frame(data)
    require_level(level)
    if len(data) < 2:
        raise ValueError("need at least 2 logged rounds to estimate a policy value and its SE")
    r = _column(data, reward, "reward")
    return _mean_estimate(r, "on-policy mean", level, {})


# --- policies and reward models ------------------------------------------------------------------

def thompson_sampling_distribution(alpha: Sequence[float], beta: Sequence[float], *,
                                   n_positions: int = 1, n_draws: int = 100_000,
                                   seed: int = 0) -> np.ndarray:
    """Action probabilities of a Bernoulli Thompson sampling recommender, by Monte Carlo.

    Each round, Bernoulli Thompson sampling draws a click rate theta_a ~ Beta(alpha_a,
    beta_a) for every item a (its posterior) and shows the items with the highest draws:
    the best at position 1, the next at position 2, and so on. The probability that item a
    lands at position k, P(rank of theta_a = k), has no closed form; it is estimated here as
    the share of ``n_draws`` simulated rounds in which it did (the standard error of each
    probability p is sqrt(p (1 - p) / n_draws)). The policy does not depend on the user, so
    the same table applies to every round.

    Returns an array of shape (K, n_positions): rows are items, columns positions; each
    column sums to 1. See chapter 15.

    >>> dist = thompson_sampling_distribution([50, 5], [50, 95], n_draws=1_000)
    >>> dist[:, 0].round(2).tolist()
    [1.0, 0.0]
    """
    alpha_ = np.asarray(alpha, dtype=float)
    beta_ = np.asarray(beta, dtype=float)
    if alpha_.ndim != 1 or alpha_.shape != beta_.shape or alpha_.size < 2:
        raise ValueError("alpha and beta must be 1-D arrays of the same length, one entry per "
                         f"item (at least 2); got shapes {alpha_.shape} and {beta_.shape}")
    if not (np.isfinite(alpha_).all() and np.isfinite(beta_).all()
            and (alpha_ > 0).all() and (beta_ > 0).all()):
        raise ValueError("alpha and beta must be positive (the Beta posterior's parameters)")
    n_items = alpha_.size
    if not (isinstance(n_positions, (int, np.integer)) and 1 <= n_positions <= n_items):
        raise ValueError(f"n_positions must be a whole number from 1 to the {n_items} items; "
                         f"got {n_positions!r}")
    if not (isinstance(n_draws, (int, np.integer)) and n_draws >= 1):
        raise ValueError(f"n_draws must be a positive whole number; got {n_draws!r}")
    rng = np.random.default_rng(seed)
    counts = np.zeros((n_items, n_positions))
    for start in range(0, n_draws, 20_000):  # in batches, to bound the memory
        size = min(20_000, n_draws - start)
        draws = rng.beta(alpha_, beta_, size=(size, n_items))
        ranked = np.argsort(-draws, axis=1)[:, :n_positions]
        for position in range(n_positions):
            counts[:, position] += np.bincount(ranked[:, position], minlength=n_items)
    return counts / n_draws


def predict_rewards(data: pd.DataFrame, *, reward: str, action: str, n_actions: int,
                    model: object, covariates: Sequence[str] = (), n_folds: int = 2,
                    seed: int = 0) -> np.ndarray:
    """Cross-fitted reward predictions q(X_i, a) for every round and every action, for DR.

    The model is fitted on the actions one-hot encoded (K columns) beside the numeric
    ``covariates`` (the context: user features, the position one-hot encoded, ...). The
    rows are split into ``n_folds`` folds at random; each fold's predictions come from a
    model fitted on the other folds, so no round's prediction has seen its own reward (the
    condition for DR's interval). A classifier (with ``predict_proba``) predicts the
    probability of reward 1 and then needs a 0/1 reward; a regressor predicts the mean.

    Returns an array of shape (n, K): row i, column a is the prediction for action a in
    round i's context. Pass it to `doubly_robust` as ``reward_predictions``. See chapter 15.

    >>> import pandas as pd
    >>> from sklearn.linear_model import LinearRegression
    >>> log = pd.DataFrame({"click": [1.0, 0.0] * 4, "item": [0, 1] * 4})
    >>> predict_rewards(log, reward="click", action="item", n_actions=2,
    ...                 model=LinearRegression()).round(2)[0].tolist()
    [1.0, 0.0]
    """
    from sklearn.base import clone
    from sklearn.model_selection import KFold

    require_frame(data)
    require_model(model, "model")
    if not (isinstance(n_actions, (int, np.integer)) and n_actions >= 2):
        raise ValueError(f"n_actions must be a whole number of at least 2; got {n_actions!r}")
    if not (isinstance(n_folds, (int, np.integer)) and 2 <= n_folds <= len(data)):
        raise ValueError(f"n_folds must be a whole number from 2 to the number of rows; got "
                         f"{n_folds!r}")
    r = _column(data, reward, "reward")
    a = _actions(data, action, n_actions)
    covariates = [covariates] if isinstance(covariates, str) else list(covariates)
    require_columns(data, covariates)
    context = data[covariates].to_numpy(dtype=float).reshape(len(data), len(covariates))
    classifier = callable(getattr(model, "predict_proba", None))
    if classifier and not ((r == 0) | (r == 1)).all():
        raise ValueError(f"reward column '{reward}' must be 0/1 for a classifier such as "
                         f"{type(model).__name__}; found values {np.unique(r)[:5].tolist()}. "
                         "Use a regressor for other rewards")
    eye = np.eye(n_actions)

    def design(rows: np.ndarray, actions: np.ndarray) -> np.ndarray:
        return np.column_stack([eye[actions], context[rows]])

    predictions = np.empty((len(data), n_actions))
    folds = KFold(n_splits=n_folds, shuffle=True, random_state=seed)
    for train, held_out in folds.split(context):
        if classifier and np.unique(r[train]).size < 2:
            raise ValueError(f"a training fold has only reward {r[train][0]:g}: too few rewards "
                             "of the other kind to fit a classifier; use fewer folds")
        fitted = clone(model).fit(design(train, a[train]), r[train])
        every_pair_rows = np.repeat(held_out, n_actions)
        every_pair_actions = np.tile(np.arange(n_actions), held_out.size)
        x = design(every_pair_rows, every_pair_actions)
        guess = fitted.predict_proba(x)[:, 1] if classifier else fitted.predict(x)
        predictions[held_out] = guess.reshape(held_out.size, n_actions)
    return predictions
