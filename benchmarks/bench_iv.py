"""Time lessons_lib.iv against linearmodels' IV2SLS at n = 10,000 and 1,000,000 rows.

Run: .venv/bin/python benchmarks/bench_iv.py   (prints a table; not a test)

Both fit the same model (one binary instrument, five covariates, robust standard errors)
and give the same estimate, standard error and first-stage F (tests/test_iv.py). Ours
always computes the first-stage F, so the reference is timed with its first-stage
diagnostics too. The second row times Hansen's J test (two instruments) against
linearmodels' two-step ``IVGMM`` and its ``j_stat``, which tests/test_iv.py shows equal.
The Anderson-Rubin set has no reference implementation among the pinned packages (its
tests invert statsmodels' Wald tests instead), so it is timed alone.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
from linearmodels.iv import IV2SLS, IVGMM

from lessons_lib import iv

COVARIATES = [f"x{j}" for j in range(5)]


def _data(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 5))
    u = rng.normal(size=n)
    z = rng.binomial(1, 0.5, size=n)
    t = (0.5 * z + x[:, 0] + u + rng.normal(size=n) > 0.5).astype(float)
    y = 1.0 * t + x @ np.full(5, 0.2) + u + rng.normal(size=n)
    frame = pd.DataFrame(x, columns=COVARIATES)
    frame["Z"], frame["T"], frame["Y"] = z, t, y
    frame["Z2"] = rng.binomial(1, 0.5, size=n)
    return frame


def _best_of(function, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def _time_at(n: int) -> tuple:
    data = _data(n)
    repeat = 3 if n <= 10_000 else 1
    exog = data[COVARIATES].assign(const=1.0)

    ours = _best_of(lambda: iv.two_stage_least_squares(data, outcome="Y", treatment="T",
                                                       instruments=["Z"], covariates=COVARIATES), repeat)
    theirs = _best_of(lambda: IV2SLS(data["Y"], exog, data["T"], data["Z"]).fit(
        cov_type="robust").first_stage.diagnostics, repeat)
    ours_j = _best_of(lambda: iv.overid_test(data, outcome="Y", treatment="T",
                                             instruments=["Z", "Z2"], covariates=COVARIATES),
                      repeat)
    theirs_j = _best_of(lambda: IVGMM(data["Y"], exog, data["T"], data[["Z", "Z2"]]).fit(
        cov_type="robust").j_stat, repeat)
    ours_ar = _best_of(lambda: iv.anderson_rubin_ci(data, outcome="Y", treatment="T",
                                                    instruments="Z", covariates=COVARIATES),
                       repeat)
    return n, ours, theirs, ours_j, theirs_j, ours_ar


def main() -> None:
    print(f"{'function':<28}{'reference':<24}{'n':>11}{'ours (s)':>11}{'ref (s)':>11}"
          f"{'ref / ours':>12}")
    for n, ours, theirs, ours_j, theirs_j, ours_ar in (_time_at(10_000), _time_at(1_000_000)):
        print(f"{'two_stage_least_squares':<28}{'linearmodels IV2SLS':<24}{n:>11,}{ours:>11.3f}"
              f"{theirs:>11.3f}{theirs / ours:>12.1f}")
        print(f"{'overid_test (Hansen J)':<28}{'linearmodels IVGMM':<24}{n:>11,}{ours_j:>11.3f}"
              f"{theirs_j:>11.3f}{theirs_j / ours_j:>12.1f}")
        print(f"{'anderson_rubin_ci':<28}{'(none)':<24}{n:>11,}{ours_ar:>11.3f}{'':>11}{'':>12}")


if __name__ == "__main__":
    main()
