"""Time lessons_lib.rdd against rdrobust on the loyalty-cutoff simulation (not a test).

Both fit a local linear RD with the triangular kernel at a fixed bandwidth (h = 10) and
HC1 variance; rdrobust also computes its bias-corrected estimate (b = h), so we ask ours
for the robust interval too. Run: .venv/bin/python benchmarks/bench_rdd.py
"""

from __future__ import annotations

import time

from rdrobust import rdrobust

from lessons_lib import rdd, simulate


def best_of(function, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    print(f"{'n':>10} {'task':<34} {'ours (s)':>10} {'rdrobust (s)':>13} {'ratio':>7}")
    for n, repeats in ((10_000, 5), (1_000_000, 1)):
        data = simulate.loyalty_cutoff(n, seed=0).data
        y, x = data["Y"].to_numpy(), data["loyalty"].to_numpy()
        tasks = {
            "sharp RD, h = 10, robust CI": (
                lambda: rdd.local_linear_rd(data, "Y", "loyalty", 70, bandwidth=10,
                                            inference="robust"),
                lambda: rdrobust(y, x, c=70, h=10, b=10, vce="hc1"),
            ),
        }
        if n <= 10_000:  # rdrobust's selector is quadratic-time on large samples
            tasks["sharp RD, bandwidth selected"] = (
                lambda: rdd.local_linear_rd(data, "Y", "loyalty", 70),
                lambda: rdrobust(y, x, c=70, vce="hc1"),
            )
        for task, (ours, theirs) in tasks.items():
            t_ours, t_theirs = best_of(ours, repeats), best_of(theirs, repeats)
            print(f"{n:>10,} {task:<34} {t_ours:>10.4f} {t_theirs:>13.4f} "
                  f"{t_theirs / t_ours:>6.1f}x")


if __name__ == "__main__":
    main()
