"""Time lessons_lib.rdd against rdrobust on the loyalty-cutoff simulation (not a test).

Both fit a local linear RD with the triangular kernel and HC1 variance. At a fixed
bandwidth rdrobust also computes its bias-corrected estimate (b = h), so we ask ours for
the robust interval too; with the bandwidth selected, each uses its own selector (ours is
the simplified Imbens-Kalyanaraman plug-in, rdrobust's the full CCT selector, so that row
compares two different amounts of work). Run: .venv/bin/python benchmarks/bench_rdd.py
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


def tasks(sharp, fuzzy) -> dict:
    """(ours, rdrobust) pairs of zero-argument calls on the same data and settings."""
    y, x = sharp["Y"].to_numpy(), sharp["loyalty"].to_numpy()
    fy, fx, ft = fuzzy["Y"].to_numpy(), fuzzy["loyalty"].to_numpy(), fuzzy["T"].to_numpy()
    return {
        "sharp RD, h = 10, robust CI": (
            lambda: rdd.local_linear_rd(sharp, outcome="Y", running="loyalty", cutoff=70,
                                        bandwidth=10, inference="robust"),
            lambda: rdrobust(y, x, c=70, h=10, b=10, vce="hc1"),
        ),
        "sharp RD, bandwidth selected": (
            lambda: rdd.local_linear_rd(sharp, outcome="Y", running="loyalty", cutoff=70),
            lambda: rdrobust(y, x, c=70, vce="hc1"),
        ),
        "fuzzy RD, h = 10": (
            lambda: rdd.fuzzy_rd(fuzzy, outcome="Y", treatment="T", running="loyalty", cutoff=70,
                                 bandwidth=10),
            lambda: rdrobust(fy, fx, c=70, fuzzy=ft, h=10, b=10, vce="hc1"),
        ),
    }


def main() -> None:
    print(f"{'n':>10} {'task':<30} {'ours (s)':>10} {'rdrobust (s)':>13} {'theirs/ours':>11}")
    for n, repeats in ((10_000, 5), (1_000_000, 1)):
        sharp = simulate.loyalty_cutoff(n, seed=0).data
        fuzzy = simulate.loyalty_cutoff(n, seed=0, design="fuzzy").data
        for task, (ours, theirs) in tasks(sharp, fuzzy).items():
            t_ours, t_theirs = best_of(ours, repeats), best_of(theirs, repeats)
            print(f"{n:>10,} {task:<30} {t_ours:>10.4f} {t_theirs:>13.4f} "
                  f"{t_theirs / t_ours:>10.1f}x")


if __name__ == "__main__":
    main()
