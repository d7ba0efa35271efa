"""Time lessons_lib.interference and lessons_lib.transport against statsmodels (not a test).

cluster_difference_in_means vs OLS(Y ~ T).fit(cov_type="cluster"): the same estimate and
CR1 standard error. transported_ate vs statsmodels Logit (participation model) + WLS
(weighted difference in means): the same point estimate; ours also computes the
M-estimation standard error, which statsmodels has no ready-made version of.
Run: .venv/bin/python benchmarks/bench_ai_systems.py
"""

from __future__ import annotations

import time

import statsmodels.api as sm

from lessons_lib import interference, simulate, transport


def best_of(function, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def tasks(market, pilot) -> dict:
    """(ours, statsmodels) pairs of zero-argument calls on the same data."""
    design = sm.add_constant(market["T"].astype(float))
    trial = pilot[pilot["in_trial"] == 1]
    covariates = sm.add_constant(pilot[["tenure", "remote"]])

    def statsmodels_transport():
        p = sm.Logit(pilot["in_trial"], covariates).fit(disp=0).predict(covariates)
        weights = ((1 - p) / p)[pilot["in_trial"] == 1]
        return sm.WLS(trial["Y"], sm.add_constant(trial["T"]), weights=weights).fit().params

    return {
        "cluster difference in means": (
            lambda: interference.cluster_difference_in_means(market, outcome="Y", treatment="T",
                                                             cluster="city"),
            lambda: sm.OLS(market["Y"], design).fit(cov_type="cluster",
                                                    cov_kwds={"groups": market["city"]}),
        ),
        "transported ATE": (
            lambda: transport.transported_ate(pilot, outcome="Y", treatment="T",
                                              covariates=["tenure", "remote"]),
            statsmodels_transport,
        ),
    }


def main() -> None:
    print(f"{'n':>10} {'task':<30} {'ours (s)':>10} {'statsmodels (s)':>16} {'theirs/ours':>11}")
    for n, repeats in ((10_000, 5), (1_000_000, 1)):
        market = simulate.marketplace(n // 50, 50, seed=0, design="city").data
        pilot = simulate.assistant_pilot(n // 2, n // 2, seed=0).data
        for task, (ours, theirs) in tasks(market, pilot).items():
            t_ours, t_theirs = best_of(ours, repeats), best_of(theirs, repeats)
            print(f"{n:>10,} {task:<30} {t_ours:>10.4f} {t_theirs:>16.4f} "
                  f"{t_theirs / t_ours:>10.1f}x")


if __name__ == "__main__":
    main()
