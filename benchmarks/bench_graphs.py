"""Time lessons_lib.graphs d-separation against networkx.is_d_separator (not a test).

Random sparse DAGs (about two arrows per node, each from an earlier to a later node),
with single-node queries given ten conditioning nodes. "Rows" here are nodes of the graph;
the largest size is 100,000 nodes (a million-node DAG needs several GB in networkx).
Prints one table: our time, the reference's, and the ratio.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
from _timing import best_of

from lessons_lib.graphs import DAG


def random_dag(n_nodes: int, seed: int) -> DAG:
    rng = np.random.default_rng(seed)
    children = np.arange(1, n_nodes)
    edges = []
    for _ in range(2):
        parents = (rng.random(len(children)) * children).astype(int)
        edges += [(f"V{p}", f"V{c}") for p, c in zip(parents, children, strict=True)]
    return DAG(edges, nodes=[f"V{i}" for i in range(n_nodes)])


def main() -> None:
    print(f"{'nodes':>10} {'queries':>8} {'ours (s)':>10} {'networkx (s)':>13} {'ratio':>7}")
    for n_nodes in (10_000, 100_000):
        dag = random_dag(n_nodes, seed=0)
        graph = dag.to_networkx()
        rng = np.random.default_rng(1)
        queries = []
        for _ in range(5):
            picks = rng.choice(n_nodes, size=12, replace=False)
            queries.append((f"V{picks[0]}", f"V{picks[1]}", [f"V{i}" for i in picks[2:]]))
        ours = best_of(lambda dag=dag, queries=queries: [dag.is_d_separated(x, y, z) for x, y, z in queries])
        theirs = best_of(lambda graph=graph, queries=queries: [nx.is_d_separator(graph, {x}, {y}, set(z)) for x, y, z in queries])
        agree = all(dag.is_d_separated(x, y, z) == nx.is_d_separator(graph, {x}, {y}, set(z))
                    for x, y, z in queries)
        print(f"{n_nodes:>10,} {len(queries):>8} {ours:>10.3f} {theirs:>13.3f} {ours / theirs:>7.2f}"
              f"{'' if agree else '  DISAGREE'}", flush=True)


if __name__ == "__main__":
    main()
