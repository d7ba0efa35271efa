"""Time lessons_lib.adjustment and lessons_lib.scm against their references (not a test).

backdoor_adjustment  vs statsmodels OLS (Lin's saturated regression, same point estimate)
frontdoor_linear     vs DoWhy's frontdoor.two_stage_regression
fisher_z_test        vs causal-learn's fisherz conditional-independence test
at n = 10,000 and 1,000,000 rows. Prints one table.
"""

from __future__ import annotations

import logging
import time
import warnings

import networkx as nx
import numpy as np
import pandas as pd
import statsmodels.api as sm

from lessons_lib.adjustment import backdoor_adjustment, frontdoor_linear
from lessons_lib.graphs import DAG
from lessons_lib.scm import fisher_z_test, simulate_linear


def timed(function) -> tuple[float, object]:
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def confounded(n: int) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    loyal, mobile = rng.binomial(1, 0.4, n), rng.binomial(1, 0.5, n)
    t = rng.binomial(1, 0.2 + 0.5 * loyal + 0.2 * mobile)
    y = 10 + 5 * loyal - 2 * mobile + 2 * t + rng.normal(0, 3, n)
    return pd.DataFrame({"loyal": loyal, "mobile": mobile, "T": t, "Y": y})


def lin_regression(data: pd.DataFrame) -> float:
    strata = pd.get_dummies(data["loyal"].astype(str) + data["mobile"].astype(str), drop_first=True, dtype=float)
    centred = strata - strata.mean()
    design = pd.concat([data["T"], centred, centred.mul(data["T"], axis=0).add_prefix("T:")], axis=1)
    return float(sm.OLS(data["Y"], sm.add_constant(design)).fit().params["T"])


def linear_frontdoor(n: int) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    u = rng.normal(size=n)
    t = u + rng.normal(size=n)
    m = 0.8 * t + rng.normal(size=n)
    return pd.DataFrame({"T": t, "M": m, "Y": 1.5 * m + 2 * u + rng.normal(size=n)})


def dowhy_frontdoor(data: pd.DataFrame) -> float:
    from dowhy import CausalModel

    graph = nx.DiGraph([("U", "T"), ("U", "Y"), ("T", "M"), ("M", "Y")])
    model = CausalModel(data=data.copy(), treatment="T", outcome="Y", graph=graph)
    estimand = model.identify_effect(proceed_when_unidentifiable=True)
    return float(model.estimate_effect(estimand, method_name="frontdoor.two_stage_regression").value)


def main() -> None:
    logging.getLogger("dowhy").setLevel(logging.ERROR)
    warnings.simplefilter("ignore")  # DoWhy's own deprecation notices; not ours
    chain = DAG([("A", "B"), ("B", "C"), ("D", "C")])
    weights = {("A", "B"): 1.0, ("B", "C"): 0.5, ("D", "C"): -1.0}
    print(f"{'method':<22} {'n':>10} {'ours (s)':>10} {'reference (s)':>14} {'ratio':>7}  reference")
    for n in (10_000, 1_000_000):
        data = confounded(n)
        ours, a = timed(lambda data=data: backdoor_adjustment(data, outcome="Y", treatment="T",
                                                              covariates=["loyal", "mobile"]).value)
        theirs, b = timed(lambda data=data: lin_regression(data))
        assert abs(a - b) <= 1e-6 * abs(b)
        print(f"{'backdoor_adjustment':<22} {n:>10,} {ours:>10.3f} {theirs:>14.3f} {ours / theirs:>7.2f}  statsmodels OLS")
        data = linear_frontdoor(n)
        ours, a = timed(lambda data=data: frontdoor_linear(data, outcome="Y", mediator="M",
                                                           treatment="T").value)
        theirs, b = timed(lambda data=data: dowhy_frontdoor(data))
        assert abs(a - b) <= 1e-6 * abs(b)
        print(f"{'frontdoor_linear':<22} {n:>10,} {ours:>10.3f} {theirs:>14.3f} {ours / theirs:>7.2f}  DoWhy")
        from causallearn.utils.cit import CIT

        data = simulate_linear(chain, weights, n=n, seed=2)
        ours, a = timed(lambda data=data: fisher_z_test(data, x="A", y="C", given=["B"])[1])
        theirs, b = timed(lambda data=data: CIT(data.to_numpy(), "fisherz")(0, 2, [1]))
        assert abs(a - b) <= 1e-6 * abs(b) + 1e-12
        print(f"{'fisher_z_test':<22} {n:>10,} {ours:>10.3f} {theirs:>14.3f} {ours / theirs:>7.2f}  causal-learn fisherz")


if __name__ == "__main__":
    main()
