"""Two test beds for weighting: double robustness and limited overlap (chapter 04)."""

from __future__ import annotations

import numpy as np

from lessons_lib.simulate._core import Simulation, _require_n

__all__ = ['two_models', 'limited_overlap', 'DOUBLY_ROBUST_ATE']


# Chapter 04: two running examples for weighting's failure modes.
DOUBLY_ROBUST_ATE = 2.0


def two_models(n: int = 1_000, *, seed: int = 0) -> Simulation:
    """Treatment and outcome both curve in x1: the test bed of double robustness (chapter 04).

    Covariates: ``x1``, ``x2`` independent N(0, 1), and ``x1_sq`` = x1^2 - 1 (centred).
    Treatment: e(X) = logistic(-0.2 + 0.4 x1 - 0.4 x2 + 0.4 x1_sq).
    Outcome: Y(0) = 1 + x1 + x2 + 2 x1_sq + N(0, 1);  Y(1) = Y(0) + 2.
    Truth: ATE = 2 (``truth["ATE"]``).

    A model that leaves out ``x1_sq`` is wrong. The propensity model is right with
    [x1, x2, x1_sq] and wrong with [x1, x2]; so is the outcome model. IPW needs the first
    right, standardization the second, AIPW either one; none survives both wrong.

    >>> sim = two_models(500, seed=1)
    >>> sim.ate
    2.0
    """
    _require_n(n)
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    x1_sq = x1**2 - 1.0
    propensity = 1.0 / (1.0 + np.exp(-(-0.2 + 0.4 * x1 - 0.4 * x2 + 0.4 * x1_sq)))
    treatment = rng.binomial(1, propensity)
    y0 = 1.0 + x1 + x2 + 2.0 * x1_sq + rng.normal(size=n)
    return Simulation.observe({"x1": x1, "x2": x2, "x1_sq": x1_sq}, treatment=treatment, y0=y0,
                              effect=DOUBLY_ROBUST_ATE, hidden={"propensity": propensity},
                              truth={"ATE": DOUBLY_ROBUST_ATE, "ATT": DOUBLY_ROBUST_ATE},
                              description=f"Two models: {n:,} units, treatment and outcome curved in x1.")


def limited_overlap(n: int = 1_000, *, strength: float = 1.0, seed: int = 0) -> Simulation:
    """One confounder whose pull on treatment is turned up until positivity nearly fails.

    Covariate ``x`` ~ N(0, 1). Treatment: e(x) = logistic(strength * x), so a larger
    ``strength`` pushes propensities towards 0 and 1 and inverse probability weights
    explode. Outcome: Y(0) = 2 x + N(0, 1), Y(1) = Y(0) + 1 + 0.5 (x^2 - 1); the effect
    grows with |x|. Truth: ATE = 1 for every strength. See chapter 04.

    >>> limited_overlap(500, strength=3.0, seed=0).ate
    1.0
    """
    _require_n(n)
    if not (isinstance(strength, (int, float)) and np.isfinite(strength) and strength >= 0):
        raise ValueError(f"strength must be a non-negative number; got {strength!r}")
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    propensity = 1.0 / (1.0 + np.exp(-strength * x))
    treatment = rng.binomial(1, propensity)
    y0 = 2.0 * x + rng.normal(size=n)
    effect = 1.0 + 0.5 * (x**2 - 1.0)
    return Simulation.observe({"x": x}, treatment=treatment, y0=y0, effect=effect,
                              hidden={"propensity": propensity},
                              truth={"ATE": 1.0, "sample ATE": float(effect.mean())},
                      description=f"Limited overlap: {n:,} units, targeting strength {strength}.")
