"""The loyalty cutoff: a running variable and a threshold (chapter 07)."""

from __future__ import annotations

import numpy as np

from lessons_lib.simulate._core import Simulation, _require_n

__all__ = ['loyalty_effect', 'loyalty_cutoff', 'LOYALTY_CUTOFF', 'LOYALTY_EFFECT_AT_CUTOFF']


# The loyalty cutoff of chapter 07: the banner is shown to shoppers whose loyalty score
# reaches 70. Constants kept here so the docstring, the simulation and the truth agree.
LOYALTY_CUTOFF = 70.0
LOYALTY_EFFECT_AT_CUTOFF = 10.0  # dollars


def loyalty_effect(loyalty: np.ndarray) -> np.ndarray:
    """The loyalty banner's true effect tau(x) = 10 - 0.01 (x - 70)^2 dollars (chapter 07)."""
    return LOYALTY_EFFECT_AT_CUTOFF - 0.01 * (np.asarray(loyalty, dtype=float) - LOYALTY_CUTOFF) ** 2


def loyalty_cutoff(n: int = 3_000, *, seed: int = 0, design: str = "sharp",
                   manipulation: float = 0.0) -> Simulation:
    """The loyalty cutoff: a banner shown to shoppers with a loyalty score of 70 or more.

    Running variable ``loyalty`` ~ N(70, 15^2), a score the shop computes from past visits.

    Treatment ``T`` (banner shown):
      design="sharp": T = 1{loyalty >= 70}, exactly;
      design="fuzzy": P(T = 1) = 0.8 at or above 70 (some shoppers block banners) and 0.2
      below (some see it through another channel); the first-stage jump is 0.6.

    Outcome ``Y`` (dollars spent in the next 30 days):
      Y(0) = 0.5 loyalty + N(0, 5^2)
      Y(1) = Y(0) + tau(loyalty),  tau(x) = 10 - 0.01 (x - 70)^2,
    so the banner is worth $10 at the cutoff and less for the very loyal, who would have
    bought anyway. Spending rises with loyalty ($0.50 per point), which is why comparing
    raw means on the two sides of the cutoff is biased.

    manipulation: the share (0 to 1) of shoppers scoring within 4 points below 70 who
    push their score just over the line (to a point in [70, 72)) by an extra purchase.
    They are keener shoppers, with Y(0) higher by $5, so manipulation both piles units up
    above the cutoff and breaks the continuity the design relies on.

    Truth: ``truth["effect at the cutoff"]`` = tau(70) = $10, the same in both designs
    (in the fuzzy design it is also the compliers' effect at the cutoff,
    ``truth["LATE at the cutoff"]``, since the effect depends only on loyalty).

    >>> sim = loyalty_cutoff(3_000, seed=42)
    >>> sim.truth["effect at the cutoff"]
    10.0
    """
    _require_n(n)
    if design not in ("sharp", "fuzzy"):
        raise ValueError(f"design must be 'sharp' or 'fuzzy'; got {design!r}")
    if not (isinstance(manipulation, (int, float)) and 0 <= manipulation <= 1):
        raise ValueError(f"manipulation must be a share between 0 and 1; got {manipulation!r}")
    rng = np.random.default_rng(seed)
    loyalty = rng.normal(LOYALTY_CUTOFF, 15.0, size=n)
    just_below = (loyalty >= LOYALTY_CUTOFF - 4) & (loyalty < LOYALTY_CUTOFF)
    movers = just_below & (rng.uniform(size=n) < manipulation)
    loyalty = np.where(movers, LOYALTY_CUTOFF + rng.uniform(0.0, 2.0, size=n), loyalty)
    above = (loyalty >= LOYALTY_CUTOFF).astype(int)
    if design == "sharp":
        treatment = above
    else:
        treatment = rng.binomial(1, np.where(above == 1, 0.8, 0.2))
    y0 = 0.5 * loyalty + 5.0 * movers + rng.normal(0.0, 5.0, size=n)
    return Simulation.observe(
        {"loyalty": loyalty}, treatment=treatment, y0=y0, effect=loyalty_effect(loyalty),
        hidden={"manipulated": movers},
        truth={"effect at the cutoff": LOYALTY_EFFECT_AT_CUTOFF,
               **({"LATE at the cutoff": LOYALTY_EFFECT_AT_CUTOFF} if design == "fuzzy" else {})},
        description=(f"The loyalty cutoff: {n:,} shoppers, {design} design, "
                     f"{manipulation:.0%} manipulation just below 70."),
    )
