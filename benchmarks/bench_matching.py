"""Time lessons_lib.matching against DoWhy's propensity score matching. Not a test.

Run: .venv/bin/python benchmarks/bench_matching.py
Both match each treated unit to its nearest control on the same propensity score (given as
a column, so only the matching is timed), then the full pipeline is timed with each
library fitting its own logistic propensity model. Ratio = ours / DoWhy (below 1: faster).
"""

from __future__ import annotations

import time
import warnings

import numpy as np
import pandas as pd
from dowhy import CausalModel

from lessons_lib.matching import matching_att
from lessons_lib.propensity import logistic_propensity


def study(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    t = rng.binomial(1, 1 / (1 + np.exp(-(-1.0 + 0.8 * x1 - 0.5 * x2))))
    y = 1.0 + 2.0 * x1 + x2 + t * (1.5 + 0.5 * x1) + rng.normal(size=n)
    return pd.DataFrame({"x1": x1, "x2": x2, "T": t, "Y": y})


def dowhy_att(data: pd.DataFrame) -> float:
    frame = data.assign(T=data["T"].astype(bool))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = CausalModel(data=frame, treatment="T", outcome="Y", common_causes=["x1", "x2"])
        identified = model.identify_effect(proceed_when_unidentifiable=True)
        return model.estimate_effect(identified, method_name="backdoor.propensity_score_matching",
                                     target_units="att").value


def timed(function) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def time_one_size(n: int) -> list[tuple[str, int, float, float]]:
    data = study(n)
    propensity = logistic_propensity(data, treatment="T", covariates=["x1", "x2"])
    given = data.assign(propensity_score=propensity)
    return [
        ("matching on a given propensity score", n,
         timed(lambda: matching_att(data, outcome="Y", treatment="T", covariates=["x1", "x2"],
                                    propensity=propensity, scale="propensity")),
         timed(lambda: dowhy_att(given.copy()))),
        ("propensity model + matching", n,
         timed(lambda: matching_att(data, outcome="Y", treatment="T", covariates=["x1", "x2"])),
         timed(lambda: dowhy_att(data.copy()))),
    ]


def main() -> None:
    dowhy_att(study(500))  # warm up: DoWhy's first call loads its modules
    matching_att(study(500), outcome="Y", treatment="T", covariates=["x1", "x2"])
    rows = []
    for n in (10_000, 1_000_000):
        rows += time_one_size(n)
    print(f"{'task':<40} {'n':>10} {'ours (s)':>10} {'DoWhy (s)':>10} {'ratio':>7}")
    for task, n, ours, theirs in rows:
        print(f"{task:<40} {n:>10,} {ours:>10.3f} {theirs:>10.3f} {ours / theirs:>7.2f}")
    print("(ours also computes the Abadie-Imbens standard error; DoWhy returns only the estimate)")


if __name__ == "__main__":
    main()
