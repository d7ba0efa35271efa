"""Time lessons_lib.discovery.pc against causal-learn's pc (stable, Fisher z) (not a test).

Random linear-Gaussian DAGs with about two arrows per node, on 10, 20 and 50 variables,
at n = 10,000 and 1,000,000 rows, alpha = 0.05. Times are wall-clock seconds for the
whole PC (causal-learn's tests are cached within a run, as ours are), best of 3 runs. Both run the same tests on the same data,
and the table also says whether the two CPDAGs are identical. The time grows with the
number of tests (the number of variables and the density of the graph), hardly with n:
each test uses the correlation matrix, computed once.
Run: .venv/bin/python benchmarks/bench_discovery.py
"""

from __future__ import annotations

import time

from causallearn.search.ConstraintBased.PC import pc as causallearn_pc
from causallearn.utils.cit import fisherz

from lessons_lib.discovery import from_causallearn, pc, random_dag, simulate_linear_gaussian


def main() -> None:
    print(f"{'variables':>9} {'rows':>10} {'ours (s)':>9} {'causal-learn (s)':>17} {'ratio':>6} {'same CPDAG':>11}")
    for n_rows in (10_000, 1_000_000):
        for n_vars in (10, 20, 50):
            dag = random_dag(n_vars, 2.0, seed=n_vars)
            data = simulate_linear_gaussian(dag, n=n_rows, seed=n_vars)
            repeats = 3  # best of 3: the machine may be shared
            t_ours = t_ref = float("inf")
            for _ in range(repeats):
                start = time.perf_counter()
                ours = pc(data, alpha=0.05).cpdag
                t_ours = min(t_ours, time.perf_counter() - start)
                start = time.perf_counter()
                graph = causallearn_pc(data.to_numpy(), 0.05, fisherz, stable=True, show_progress=False)
                t_ref = min(t_ref, time.perf_counter() - start)
            same = ours == from_causallearn(graph.G.graph, list(data.columns))
            print(f"{n_vars:>9} {n_rows:>10,} {t_ours:>9.3f} {t_ref:>17.3f} {t_ours / t_ref:>6.2f} {str(same):>11}")


if __name__ == "__main__":
    main()
