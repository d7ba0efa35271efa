"""Many features and varying effects: the machine-learning chapters (12 and 13)."""

from __future__ import annotations

import numpy as np

from lessons_lib.simulate._core import Simulation, _require_n

__all__ = ['banner_features', 'heterogeneous_effects']


def banner_features(n: int = 1_000, *, n_features: int = 50, effect: float = 3.0,
                    seed: int = 0) -> Simulation:
    """The banner shop with many logged features: the running example of chapter 12.

    The shop now logs ``n_features`` standardized behavioural features per shopper,
    ``x01``, ``x02``, ... (pages viewed, basket size, time on site, ...), correlated with
    one another like neighbours in a list: corr(x_j, x_k) = 0.5^|j - k|. The first ten
    (or all, if there are fewer) drive both the targeting and the spending; the analyst
    does not know which.

    Treatment ``T`` (banner shown): e(X) = logistic(0.3 (x01 + ... + x10)).
    Outcome ``Y`` (dollars spent in the next 30 days):
      Y(0) = 40 + 2 (x01 + ... + x10) + N(0, 6^2),   Y(1) = Y(0) + effect.

    The effect is the same for everyone (``effect``, $3 by default), so the partially
    linear model holds exactly and its theta equals the ATE and the ATT.

    >>> sim = banner_features(500, seed=1)
    >>> sim.ate, sim.data.shape
    (3.0, (500, 52))
    """
    _require_n(n)
    if not isinstance(n_features, (int, np.integer)) or n_features < 1:
        raise ValueError(f"n_features must be a whole number of at least 1; got {n_features!r}")
    rng = np.random.default_rng(seed)
    noise = rng.normal(size=(n, n_features))
    features = np.empty_like(noise)
    features[:, 0] = noise[:, 0]
    for j in range(1, n_features):  # an AR(1) chain: corr(x_j, x_k) = 0.5^|j-k|
        features[:, j] = 0.5 * features[:, j - 1] + np.sqrt(0.75) * noise[:, j]
    drivers = features[:, : min(10, n_features)].sum(axis=1)
    propensity = 1.0 / (1.0 + np.exp(-0.3 * drivers))
    treatment = rng.binomial(1, propensity)
    y0 = 40.0 + 2.0 * drivers + rng.normal(0.0, 6.0, size=n)
    width = max(2, len(str(n_features)))
    return Simulation.observe(
        {f"x{j + 1:0{width}d}": features[:, j] for j in range(n_features)},
        treatment=treatment, y0=y0, effect=float(effect), hidden={"propensity": propensity},
        truth={"ATE": float(effect), "ATT": float(effect), "theta": float(effect)},
        description=f"The banner shop with {n_features} logged features: {n:,} shoppers.",
    )


def heterogeneous_effects(n: int = 4_000, *, seed: int = 0) -> Simulation:
    """An effect that grows with one feature: the running example of chapter 13.

    Five standard-normal features ``x0`` ... ``x4``. Treatment depends on ``x0`` only,
    e(X) = logistic(x0); the effect depends on ``x1`` only:

      tau(X) = 2 + 3 x1,     Y(0) = x0 + N(0, 1),     Y(1) = Y(0) + tau(X).

    So x0 confounds (it drives treatment and the outcome), x1 modifies the effect, and
    x2 to x4 are noise. The true CATE of every unit is ``potential_outcomes["effect"]``;
    the population ATE is 2.

    >>> sim = heterogeneous_effects(1_000, seed=2)
    >>> sim.ate
    2.0
    """
    _require_n(n)
    rng = np.random.default_rng(seed)
    features = rng.normal(size=(n, 5))
    propensity = 1.0 / (1.0 + np.exp(-features[:, 0]))
    treatment = rng.binomial(1, propensity)
    effect = 2.0 + 3.0 * features[:, 1]
    y0 = features[:, 0] + rng.normal(size=n)
    return Simulation.observe(
        {f"x{j}": features[:, j] for j in range(5)}, treatment=treatment, y0=y0,
        effect=effect, hidden={"propensity": propensity},
        truth={"ATE": 2.0, "ATT": float(effect[treatment == 1].mean()),
               "sample ATE": float(effect.mean())},
        description=f"Heterogeneous effects tau(x) = 2 + 3 x1: {n:,} units.",
    )
