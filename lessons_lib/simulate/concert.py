"""The concert in the rain: an instrument and its compliers (chapter 06)."""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd

from lessons_lib.simulate._core import Simulation, _require_n

__all__ = ['concert_in_the_rain', 'schooling_near_college', 'SCHOOLING_RETURNS']


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


# Years of schooling and a college nearby (chapter 06): a multi-valued treatment whose
# per-year return differs by level, so 2SLS estimates a weighted average of those returns.
SCHOOLING_RETURNS = {year: 0.04 if year <= 12 else 0.10 if year <= 16 else 0.05
                     for year in range(9, 19)}  # return to the year that takes you to `year`
_SCHOOL_MEAN, _SCHOOL_SD = 11.8, float(np.hypot(1.5, 1.2))  # latent schooling ~ N(mean, sd)


def _schooling_weights(proximity_effect: float) -> dict:
    """Angrist-Imbens weights P(S(1) >= j > S(0)) / sum_k P(S(1) >= k > S(0)), exactly."""
    from scipy import stats

    mass = {j: stats.norm.cdf((j - _SCHOOL_MEAN) / _SCHOOL_SD)
            - stats.norm.cdf((j - proximity_effect - _SCHOOL_MEAN) / _SCHOOL_SD)
            for j in SCHOOLING_RETURNS}
    total = sum(mass.values())
    return {j: m / total for j, m in mass.items()}


def schooling_near_college(n: int = 4_000, *, seed: int = 0,
                           proximity_effect: float = 1.2) -> Simulation:
    """Years of schooling, a college nearby as the instrument, and log wages. See chapter 06.

    Ability A ~ N(0, 1), unmeasured. A college nearby (``near_college`` = Z, a coin flip)
    raises a latent schooling index by ``proximity_effect`` years:

      latent(z) = 11.8 + 1.5 A + 1.2 nu + proximity_effect x z,  nu ~ N(0, 1),
      S(z) = floor(latent(z)) clipped to 8..18 (``schooling``, years).

    The return to a year depends on the year: 4% for years 9-12, 10% for college years
    13-16, 5% for years 17-18 (``SCHOOLING_RETURNS``); ability also raises wages, so OLS is
    biased upwards:

      log_wage = 1.5 + sum_{j <= S} return_j + 0.1 A + N(0, 0.4^2).

    Truth: ``ACR``, the average causal response of Angrist and Imbens (1995) that 2SLS
    targets, sum_j w_j return_j with w_j = P(S(1) >= j > S(0)) / sum_k P(S(1) >= k > S(0))
    (computed exactly from the normal distribution), beside the two returns it blends.
    ``potential_outcomes`` holds S(0), S(1),
    ability and ``effect``, the wage gain from the extra schooling the college causes.

    >>> sim = schooling_near_college(1_000, seed=0)
    >>> round(sim.truth["ACR"], 3)
    0.069
    """
    _require_n(n)
    if proximity_effect <= 0:
        raise ValueError(f"proximity_effect must be positive (years); got {proximity_effect}")
    rng = np.random.default_rng(seed)
    ability = rng.normal(size=n)
    near = rng.binomial(1, 0.5, size=n)
    latent = _SCHOOL_MEAN + 1.5 * ability + 1.2 * rng.normal(size=n)
    s0 = np.clip(np.floor(latent), 8, 18).astype(int)
    s1 = np.clip(np.floor(latent + proximity_effect), 8, 18).astype(int)
    schooling = np.where(near == 1, s1, s0)
    cumulative = np.cumsum([0.0] + [SCHOOLING_RETURNS[j] for j in range(9, 19)])  # index S-8
    log_wage = 1.5 + cumulative[schooling - 8] + 0.1 * ability + rng.normal(0, 0.4, size=n)
    weights = _schooling_weights(proximity_effect)
    truth = {"ACR": float(sum(w * SCHOOLING_RETURNS[j] for j, w in weights.items())),
             "return to a school year (9-12)": SCHOOLING_RETURNS[12],
             "return to a college year (13-16)": SCHOOLING_RETURNS[13]}
    data = pd.DataFrame({"near_college": near, "schooling": schooling, "log_wage": log_wage})
    potential = pd.DataFrame({"S0": s0, "S1": s1, "ability": ability,
                              "effect": cumulative[s1 - 8] - cumulative[s0 - 8]})
    return Simulation(data=data, potential_outcomes=potential, truth=truth,
                      description=(f"Schooling and a college nearby: {n:,} people; the college "
                                   f"raises latent schooling by {proximity_effect} years."))
