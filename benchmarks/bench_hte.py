"""Time the lessons_lib.hte meta-learners against EconML's. Not a test.

Run: .venv/bin/python benchmarks/bench_hte.py
Same data (chapter 13's tau(x) = 2 + 3 x1), same models (linear and logistic regressions),
same folds for the DR-learner. Prints fit-and-predict time for ours and EconML's, the ratio
(ours / theirs; below 1 means we are faster) and the largest gap between the two CATEs.
The last row times the BLP test (`best_linear_predictor`) against EconML's
``DRTester.evaluate_blp`` on the same nuisance models and folds (gap: the two slopes).
"""

from __future__ import annotations

import time
from functools import partial

import numpy as np
from econml.dr import DRLearner as EconDR
from econml.metalearners import SLearner as EconS
from econml.metalearners import TLearner as EconT
from econml.metalearners import XLearner as EconX
from econml.validate import DRTester
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.linear_model import LinearRegression, LogisticRegression

from lessons_lib import simulate
from lessons_lib.dml import fold_ids
from lessons_lib.hte import DRLearner, SLearner, TLearner, XLearner, best_linear_predictor


class PerArm(BaseEstimator, RegressorMixin):
    """One clone of ``model`` per arm (last column = T): EconML's DR regression made Kennedy's."""

    def __init__(self, model=None):
        self.model = model

    def fit(self, features, y):
        arm = features[:, -1]
        self.fits_ = {a: clone(self.model).fit(features[arm == a, :-1], y[arm == a]) for a in (0.0, 1.0)}
        return self

    def predict(self, features):
        arm, out = features[:, -1], np.empty(len(features))
        for a, fitted in self.fits_.items():
            if (arm == a).any():
                out[arm == a] = fitted.predict(features[arm == a, :-1])
        return out


def best_of(function, repeats):
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return min(times), result


def ours(learner, x, t, y, **fit_kwargs):
    return learner.fit(x, t, y, **fit_kwargs).effect(x)


def theirs(learner, x, t, y):
    return np.ravel(learner.fit(y, t, X=x).effect(x))


class FixedCate:
    """Given predictions, in the shape DRTester asks a CATE model for them."""

    def __init__(self, values):
        self.values = values

    def effect(self, X=None, T0=None, T1=None):
        return self.values


def our_blp(predicted, x, t, y, folds):
    return best_linear_predictor(predicted, x, t, y, LinearRegression(), LogisticRegression(),
                                 folds=folds).slope.value


def their_blp(predicted, x, t, y, splits):
    tester = DRTester(model_regression=LinearRegression(), model_propensity=LogisticRegression(),
                      cate=FixedCate(predicted), cv=splits)
    return tester.fit_nuisance(x, t, y).evaluate_blp(x).params[0]


def main() -> None:
    print(f"{'learner':>10}  {'n':>10}  {'ours (s)':>9}  {'EconML (s)':>10}  {'ratio':>6}  {'max |gap|':>9}")
    for n in (10_000, 1_000_000):
        sim = simulate.heterogeneous_effects(n, seed=1)
        x = sim.data[["x0", "x1", "x2", "x3", "x4"]].to_numpy()
        t, y = sim.data["T"].to_numpy(), sim.data["Y"].to_numpy()
        folds = fold_ids(n, 2, seed=0)
        splits = [(np.flatnonzero(folds != k), np.flatnonzero(folds == k)) for k in range(2)]
        cases = [
            ("S", partial(ours, SLearner(LinearRegression()), x, t, y),
             partial(theirs, EconS(overall_model=LinearRegression()), x, t, y)),
            ("T", partial(ours, TLearner(LinearRegression()), x, t, y),
             partial(theirs, EconT(models=LinearRegression()), x, t, y)),
            ("X", partial(ours, XLearner(LinearRegression(), LogisticRegression()), x, t, y),
             partial(theirs, EconX(models=LinearRegression(), propensity_model=LogisticRegression()),
                     x, t, y)),
            ("DR", partial(ours, DRLearner(LinearRegression(), LogisticRegression(), LinearRegression()),
                           x, t, y, folds=folds),
             partial(theirs, EconDR(model_propensity=LogisticRegression(),
                                    model_regression=PerArm(LinearRegression()),
                                    model_final=LinearRegression(), cv=splits), x, t, y)),
            ("BLP", partial(our_blp, 2 + 3 * x[:, 1], x, t, y, folds),
             partial(their_blp, 2 + 3 * x[:, 1], x, t, y, splits)),
        ]
        repeats = 3 if n <= 10_000 else 1
        for name, our_run, their_run in cases:
            our_time, our_cate = best_of(our_run, repeats)
            their_time, their_cate = best_of(their_run, repeats)
            gap = np.max(np.abs(our_cate - their_cate))
            print(f"{name:>10}  {n:>10,}  {our_time:>9.3f}  {their_time:>10.3f}  "
                  f"{our_time / their_time:>6.2f}  {gap:>9.1e}")


if __name__ == "__main__":
    main()
