"""Time lessons_lib.ope against its references with timeit (not a test).

ips            vs statsmodels OLS of the weighted rewards on a constant (value and SE)
snips          vs statsmodels WLS of the reward on a constant, HC1 errors (value and SE)
doubly_robust  vs the obvious numpy formula (obp's own DoublyRobust is numpy too, but obp
               cannot be installed beside the book's pins: it imports torch)
at n = 10,000 and 1,000,000 logged rounds with 10 actions, best of 5 runs. Also the
Monte Carlo of the Thompson sampling policy on the Open Bandit prior (80 items, 3
positions, 100,000 draws). Prints one table.
"""

from __future__ import annotations

import timeit

import numpy as np
import pandas as pd
import statsmodels.api as sm

from lessons_lib import datasets
from lessons_lib.ope import doubly_robust, ips, snips, thompson_sampling_distribution

N_ACTIONS = 10


def bandit_log(n: int) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    logging_policy = rng.dirichlet(np.ones(N_ACTIONS) * 5, n)
    target = rng.dirichlet(np.ones(N_ACTIONS), n)
    action = (rng.uniform(size=(n, 1)) > logging_policy.cumsum(axis=1)).sum(axis=1)
    action = np.minimum(action, N_ACTIONS - 1)
    rows = np.arange(n)
    click_rate = rng.uniform(0.01, 0.2, (n, N_ACTIONS))
    log = pd.DataFrame({"action": action, "click": rng.binomial(1, click_rate[rows, action]),
                        "p_log": logging_policy[rows, action], "p_target": target[rows, action]})
    model = np.clip(click_rate + rng.normal(0, 0.02, click_rate.shape), 0, 1)
    return log, target, model


def best_of(function, repeat: int = 5) -> float:
    return min(timeit.repeat(function, number=1, repeat=repeat))


def one_size(n: int) -> None:
    """Time the three estimators and their references on n rounds; print a row each."""
    log, target, model = bandit_log(n)
    roles = dict(reward="click", logging_propensity="p_log")
    w = (log["p_target"] / log["p_log"]).to_numpy()
    r = log["click"].to_numpy(float)

    def ols():
        return sm.OLS(w * r, np.ones(n)).fit()

    def wls():
        return sm.WLS(r, np.ones(n), weights=w).fit(cov_type="HC1")

    def numpy_dr():
        rows = np.arange(n)
        a = log["action"].to_numpy()
        scores = (np.sum(target * model, axis=1)
                  + target[rows, a] / log["p_log"].to_numpy() * (r - model[rows, a]))
        return scores.mean(), scores.std(ddof=1) / np.sqrt(n)

    cases = [
        ("ips", lambda: ips(log, **roles, target_propensity="p_target"), ols,
         "statsmodels OLS", lambda est, ref: (est.value, ref.params[0])),
        ("snips", lambda: snips(log, **roles, target_propensity="p_target"), wls,
         "statsmodels WLS HC1", lambda est, ref: (est.value, ref.params[0])),
        ("doubly_robust", lambda: doubly_robust(log, **roles, action="action",
                                                target_distribution=target,
                                                reward_predictions=model),
         numpy_dr, "numpy formula", lambda est, ref: (est.value, ref[0])),
    ]
    for name, ours, reference, label, values in cases:
        a, b = values(ours(), reference())
        assert abs(a - b) <= 1e-9 * abs(b), (name, a, b)
        t_ours, t_ref = best_of(ours), best_of(reference)
        print(f"{name:<30} {n:>10,} {t_ours:>10.4f} {t_ref:>14.4f} {t_ours / t_ref:>7.2f}  {label}")


def main() -> None:
    print(f"{'method':<30} {'n':>10} {'ours (s)':>10} {'reference (s)':>14} {'ratio':>7}  reference")
    for n in (10_000, 1_000_000):
        one_size(n)
    prior = datasets.open_bandit_bts_prior()
    t_mc = best_of(lambda: thompson_sampling_distribution(prior["alpha"], prior["beta"],
                                                          n_positions=3), repeat=3)
    print(f"{'thompson_sampling_distribution':<30} {100_000:>10,} {t_mc:>10.4f} "
          f"{'':>14} {'':>7}  (80 items, 3 positions; no reference)")


if __name__ == "__main__":
    main()
