"""The concert in the rain: an instrument and its compliers (chapter 06)."""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd

from lessons_lib.simulate._core import Simulation, _require_n

__all__ = ['concert_in_the_rain']


# ---------------------------------------------------------------------------------------
# Chapter 06: instrumental variables


_CONCERT_BASE = 0.3  # attendance index of an average person on a dry evening
_CONCERT_PERSONALITY = 0.8  # outgoing people go more often...
_CONCERT_EFFECT = 1.0  # ...and the concert raises happiness by 1 point on average
_CONCERT_EFFECT_SLOPE = 0.5  # more for outgoing people


@functools.lru_cache(maxsize=1)
def _standard_normal_quadrature() -> tuple[np.ndarray, np.ndarray]:
    nodes, weights = np.polynomial.hermite_e.hermegauss(80)
    return nodes, weights / weights.sum()  # E over personality ~ N(0, 1)


def _concert_truth(rain_effect: float) -> dict:
    """Population shares of compliance types and the LATE, by Gauss-Hermite quadrature."""
    from scipy import stats

    nodes, weights = _standard_normal_quadrature()
    index = _CONCERT_BASE + _CONCERT_PERSONALITY * nodes
    p_dry = stats.norm.cdf(index)  # P(attend | dry, personality)
    p_rain = stats.norm.cdf(index - rain_effect)  # P(attend | rain, personality)
    complier = p_dry - p_rain
    effect = _CONCERT_EFFECT + _CONCERT_EFFECT_SLOPE * nodes
    share = float(weights @ complier)
    return {
        "ATE": _CONCERT_EFFECT,
        "LATE": float(weights @ (complier * effect)) / share if share > 0 else float("nan"),
        "complier share": share,
        "always-taker share": float(weights @ p_rain),
        "never-taker share": float(weights @ (1 - p_dry)),
    }


def concert_in_the_rain(n: int = 5_000, *, seed: int = 0, rain_effect: float = 1.0,
                        rain_on_happiness: float = 0.0, rain_share: float = 0.3) -> Simulation:
    """Does going to an outdoor concert make people happier? Rain as the instrument.

    See chapter 06. Each of ``n`` people has a personality score U ~ N(0, 1) that nobody
    measures. On the evening of the concert it rains with probability ``rain_share``
    (``rain`` = Z, independent of everything else). People decide whether to go:

      attended(z) = 1[0.3 + 0.8 U - rain_effect x z + nu > 0],  nu ~ N(0, 1),

    so outgoing people go more often, and rain keeps some of them home (never the other way
    round: monotonicity holds). Happiness the next day, on a 0-10-like scale:

      Y(0) = 5 + 0.8 U + N(0, 1),   Y(1) = Y(0) + 1 + 0.5 U,
      happiness = Y(attended) + rain_on_happiness x rain.

    Personality drives both attendance and happiness, so the naive comparison of goers and
    non-goers is confounded. ``rain_on_happiness`` != 0 breaks the exclusion restriction;
    a small ``rain_effect`` makes the instrument weak.

    Truth (``truth``): the ATE (1.0), the LATE among compliers (people who go if dry and
    stay home if it rains), and the population shares of compliers, always-takers and
    never-takers. ``potential_outcomes`` holds Y0, Y1, effect, attended_if_dry,
    attended_if_rain, type and personality: all hidden in real life.

    >>> sim = concert_in_the_rain(2_000, seed=0)
    >>> round(sim.truth["LATE"], 3), round(sim.truth["complier share"], 2)
    (1.046, 0.3)
    """
    _require_n(n)
    if not 0 < rain_share < 1:
        raise ValueError(f"rain_share must be between 0 and 1; got {rain_share}")
    rng = np.random.default_rng(seed)
    personality = rng.normal(0.0, 1.0, size=n)
    rain = rng.binomial(1, rain_share, size=n)
    taste = rng.normal(0.0, 1.0, size=n)
    index = _CONCERT_BASE + _CONCERT_PERSONALITY * personality + taste
    if_dry = (index > 0).astype(int)
    if_rain = (index - rain_effect > 0).astype(int)
    attended = np.where(rain == 1, if_rain, if_dry)
    y0 = 5.0 + 0.8 * personality + rng.normal(0.0, 1.0, size=n)
    effect = _CONCERT_EFFECT + _CONCERT_EFFECT_SLOPE * personality
    y1 = y0 + effect
    happiness = np.where(attended == 1, y1, y0) + rain_on_happiness * rain
    codes = np.where(if_rain == 1, 1, np.where(if_dry == 1, 0, 2))
    kind = pd.Categorical.from_codes(codes, ["complier", "always-taker", "never-taker"])
    data = pd.DataFrame({"rain": rain, "attended": attended, "happiness": happiness})
    potential = pd.DataFrame({"Y0": y0, "Y1": y1, "effect": effect, "attended_if_dry": if_dry,
                              "attended_if_rain": if_rain, "type": kind,
                              "personality": personality})
    return Simulation(
        data=data,
        potential_outcomes=potential,
        truth=_concert_truth(rain_effect),
        description=(f"The concert in the rain: {n:,} people; rain lowers the attendance index "
                     f"by {rain_effect}; rain's direct effect on happiness {rain_on_happiness}."),
    )
