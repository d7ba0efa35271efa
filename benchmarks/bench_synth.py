"""Time lessons_lib.synth against pysyncon on the same fixed-V problems.

Run: .venv/bin/python benchmarks/bench_synth.py   (prints a table; not a test)

Both solve the convex inner problem of synthetic control (weights on the simplex for a
given V): ours by scipy's nnls on the augmented system, pysyncon's ``Synth.w_optimize`` by
SLSQP (``Synth.fit(custom_V=...)`` calls the same routine, plus its data handling). Rows:

* one fit of synthetic Texas with the Mixtape's predictors and V (50 donors, 7 predictors);
* one outcome-only fit on a simulated panel with 20, 100 and 400 donors, 24 pre-periods;
* the full placebo-in-space test on Texas (46 fits), ours against 46 pysyncon fits.

Synthetic control has one treated unit: the size that matters is the donor pool and the
number of pre-periods, not n = 10,000 or 1,000,000 rows, which no real panel of this kind has.
"""

from __future__ import annotations

import timeit

import numpy as np
import pandas as pd
from pysyncon import Synth

from lessons_lib import datasets, synth

PREDICTORS = [
    ("poverty", range(1985, 1994)), ("income", range(1985, 1994)),
    ("bmprison", [1988, 1990, 1991, 1992]), ("alcohol", [1990]), ("aidscapita", [1990, 1991]),
    ("black", [1990, 1991, 1992]), ("perc1519", [1990]),
]
V = [0.06843543, 0.02849309, 0.8949852, 3.30278e-05, 0.000122374, 0.007929645, 1.2876e-06]
TEXAS = dict(outcome="bmprison", unit="statefip", time="year", treated_unit=48,
             treatment_start=1994, predictors=PREDICTORS, predictor_weights=V)


def _best(function, number: int) -> float:
    return min(timeit.repeat(function, number=number, repeat=3)) / number


def _texas_matrices(texas: pd.DataFrame, treated: int, donors: list) -> tuple:
    x = pd.DataFrame({f"{c}{list(p)}": texas[texas["year"].isin(list(p))]
                      .groupby("statefip")[c].mean() for c, p in PREDICTORS}).T
    scaled = x.divide(x[[treated, *donors]].std(axis=1), axis=0)
    return scaled[donors].to_numpy(), scaled[treated].to_numpy()


def _simulated_row(n_donors: int) -> tuple:
    sim = synth.factor_model_panel(n_donors, pre_periods=24, seed=0)
    wide = sim.data.pivot(index="period", columns="unit", values="Y")
    pre = wide[wide.index < 0]
    z0, z1 = pre.drop(columns=0).to_numpy() / 100, pre[0].to_numpy() / 100
    kwargs = dict(outcome="Y", unit="unit", time="period", treated_unit=0, treatment_start=0)
    return ("simulated, outcome only", n_donors,
            _best(lambda: synth.fit_synthetic_control(sim.data, **kwargs), 5),
            _best(lambda: Synth.w_optimize(V_mat=np.eye(len(pre)), X0=z0, X1=z1), 2))


def main() -> None:
    texas = datasets.texas_prison()
    rows = []
    donors = [u for u in texas["statefip"].unique() if u != 48]
    x0, x1 = _texas_matrices(texas, 48, donors)
    rows.append(("Texas, 7 predictors", 50,
                 _best(lambda: synth.fit_synthetic_control(texas, **TEXAS), 20),
                 _best(lambda: Synth.w_optimize(V_mat=np.diag(V), X0=x0, X1=x1), 20)))

    for n_donors in (20, 100, 400):
        rows.append(_simulated_row(n_donors))

    states = texas["statefip"].unique().tolist()
    matrices = {s: _texas_matrices(texas, s, [d for d in states if d != s]) for s in states[:46]}
    rows.append(("Texas placebo test (46 fits)", 45,
                 _best(lambda: synth.placebo_in_space(
                     texas[texas["statefip"].isin(states[:46])], **TEXAS), 2),
                 _best(lambda: [Synth.w_optimize(V_mat=np.diag(V), X0=a, X1=b)
                                for a, b in matrices.values()], 1)))

    print(f"{'problem':<32}{'donors':>8}{'ours (s)':>12}{'pysyncon (s)':>14}{'ref / ours':>12}")
    for name, n_donors, ours, theirs in rows:
        print(f"{name:<32}{n_donors:>8}{ours:>12.4f}{theirs:>14.4f}{theirs / ours:>12.1f}")


if __name__ == "__main__":
    main()
