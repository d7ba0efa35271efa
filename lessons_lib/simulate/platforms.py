"""Deployed AI systems: a marketplace with interference and a pilot to transport (chapter 15)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from lessons_lib.simulate._core import Simulation, _require_n

__all__ = ['marketplace', 'assistant_effect', 'assistant_pilot', 'MARKETPLACE_GLOBAL_EFFECT', 'ASSISTANT_SOURCE_ATE', 'ASSISTANT_TARGET_ATE']


# The ride-hailing marketplace of chapter 15: an AI nudge raises riders' demand, but each
# city has a fixed number of drivers, so one rider's extra trips crowd out another's.
_MARKET_BASE_RIDES = 4.0  # a rider's expected monthly rides without the nudge
_MARKET_LIFT = 0.3  # the nudge raises demand by 30%...
_MARKET_SLACK = 0.1  # ...but drivers can serve only 10% more rides than baseline demand
MARKETPLACE_GLOBAL_EFFECT = _MARKET_SLACK * _MARKET_BASE_RIDES  # = 0.4 rides per rider


def _rationed_rides(base: np.ndarray, city: np.ndarray, nudged: np.ndarray,
                    capacity: np.ndarray) -> np.ndarray:
    """Rides taken when demand base * (1 + lift * nudged) meets each city's capacity."""
    demand = base * (1 + _MARKET_LIFT * nudged)
    city_demand = np.bincount(city, weights=demand)
    served_share = np.minimum(1.0, capacity / city_demand)
    return demand * served_share[city]


def marketplace(n_cities: int = 60, riders_per_city: int = 50, *, seed: int = 0,
                design: str = "rider") -> Simulation:
    """A ride-hailing marketplace where an AI nudge to book rides spills over between riders.

    Rider i in city c would book ``base`` rides a month without the nudge,
    base = 4 exp(a_c + b_i - (0.1^2 + 0.5^2) / 2), with a city effect a_c ~ N(0, 0.1^2)
    and a rider effect b_i ~ N(0, 0.5^2), so E[base] = 4. The nudge (``T`` = 1) raises a
    rider's demand by 30%. Each city's drivers can serve 10% more rides than its riders'
    baseline demand; when demand exceeds that, every rider in the city gets the same
    share of the rides they asked for. Observed ``Y`` = rides taken + N(0, 1) noise.

    design="rider": a user-level A/B test, each rider nudged with probability 1/2.
    design="city": a cluster-randomized test, half of the cities (chosen at random)
    nudge all their riders.

    Truth: the global effect, nudging every rider versus none, is 0.1 x 4 = 0.4 rides per
    rider (``truth["global effect"]``): with everyone nudged, every city hits its driver
    limit. ``potential_outcomes`` holds each rider's rides in the two global worlds
    (``Y_none``, ``Y_all``) and ``truth["sample global effect"]`` their mean difference.
    In the rider-level test the nudged riders take trips from the others in their city, so
    the difference in means is far above the global effect.

    >>> sim = marketplace(20, 30, seed=1)
    >>> sim.truth["global effect"]
    0.4
    """
    _require_n(n_cities, 4)
    _require_n(riders_per_city, 2)
    if design not in ("rider", "city"):
        raise ValueError(f"design must be 'rider' or 'city'; got {design!r}")
    rng = np.random.default_rng(seed)
    city = np.repeat(np.arange(n_cities), riders_per_city)
    city_effect = rng.normal(0.0, 0.1, n_cities)
    rider_effect = rng.normal(0.0, 0.5, city.size)
    base = _MARKET_BASE_RIDES * np.exp(city_effect[city] + rider_effect - (0.1**2 + 0.5**2) / 2)
    capacity = (1 + _MARKET_SLACK) * np.bincount(city, weights=base)
    if design == "rider":
        nudged = rng.binomial(1, 0.5, city.size)
    else:
        treated_cities = rng.permutation(n_cities) < n_cities // 2
        nudged = treated_cities[city].astype(int)
    noise = rng.normal(0.0, 1.0, city.size)
    observed = _rationed_rides(base, city, nudged, capacity) + noise
    y_none = _rationed_rides(base, city, np.zeros(city.size), capacity) + noise
    y_all = _rationed_rides(base, city, np.ones(city.size), capacity) + noise
    data = pd.DataFrame({"city": city, "rider": np.arange(city.size), "T": nudged, "Y": observed})
    potential = pd.DataFrame({"Y_none": y_none, "Y_all": y_all, "base_demand": base})
    return Simulation(
        data=data,
        potential_outcomes=potential,
        truth={"global effect": MARKETPLACE_GLOBAL_EFFECT,
               "sample global effect": float(np.mean(y_all - y_none))},
        description=(f"A marketplace of {n_cities} cities x {riders_per_city} riders, "
                     f"{design}-level randomization."),
    )


# The AI writing assistant of chapter 15: piloted on volunteers, rolled out to everyone.
ASSISTANT_SOURCE_ATE = 4.0 - 0.6 * 3.0 + 1.0 * 0.6  # = 2.8 tickets a day in the pilot
ASSISTANT_TARGET_ATE = 4.0 - 0.6 * 4.5 + 1.0 * 0.3  # = 1.6 tickets a day company-wide


def assistant_effect(tenure: np.ndarray, remote: np.ndarray) -> np.ndarray:
    """The assistant's true effect tau(x) = 4 - 0.6 tenure + 1.0 remote tickets a day."""
    return 4.0 - 0.6 * np.asarray(tenure, dtype=float) + 1.0 * np.asarray(remote, dtype=float)


def assistant_pilot(n_trial: int = 2_000, n_target: int = 2_000, *, seed: int = 0) -> Simulation:
    """A randomized pilot of an AI writing assistant for support agents, and the company.

    Pilot volunteers (``in_trial`` = 1): ``tenure`` (years) ~ Gamma(9, 1/3), mean 3 and
    standard deviation 1 (always positive), ``remote``
    ~ Bernoulli(0.6); the assistant (``T``) is given at random to half of them, and ``Y``
    is tickets resolved per day. The company's agents (``in_trial`` = 0, a random sample
    of the target population, covariates only): tenure ~ Gamma(9, 1/2), mean 4.5 and
    sd 1.5, remote ~
    Bernoulli(0.3). Outcomes:
        Y(0) = 20 + 1.5 tenure - 1 remote + N(0, 3^2),  Y(1) = Y(0) + tau(X),
        tau(x) = 4 - 0.6 tenure + 1.0 remote:
    newer and remote agents gain more. Truth: the pilot population's ATE is 2.8 tickets a
    day (``truth["source ATE"]``), the company's 1.6 (``truth["target ATE"]``), so the
    pilot's own estimate overstates what a company-wide roll-out would do.

    >>> sim = assistant_pilot(seed=0)
    >>> round(sim.truth["target ATE"], 1)
    1.6
    """
    _require_n(n_trial)
    _require_n(n_target)
    rng = np.random.default_rng(seed)
    in_trial = np.r_[np.ones(n_trial, dtype=int), np.zeros(n_target, dtype=int)]
    # Gamma draws with one shape keep tenure positive and the log-odds of being in the
    # pilot exactly linear in tenure (so a logistic participation model is right):
    # pilot mean 3 and sd 1 year (scale 1/3), company mean 4.5 and sd 1.5 (scale 1/2).
    tenure = np.where(in_trial == 1, rng.gamma(9.0, 1.0 / 3.0, in_trial.size),
                      rng.gamma(9.0, 0.5, in_trial.size))
    remote = rng.binomial(1, np.where(in_trial == 1, 0.6, 0.3))
    y0 = 20.0 + 1.5 * tenure - 1.0 * remote + rng.normal(0.0, 3.0, in_trial.size)
    effect = assistant_effect(tenure, remote)
    y1 = y0 + effect
    assigned = rng.binomial(1, 0.5, in_trial.size)
    treatment = np.where(in_trial == 1, assigned, np.nan)
    observed = np.where(in_trial == 1, np.where(assigned == 1, y1, y0), np.nan)
    data = pd.DataFrame({"in_trial": in_trial, "tenure": tenure, "remote": remote,
                         "T": treatment, "Y": observed})
    potential = pd.DataFrame({"Y0": y0, "Y1": y1, "effect": effect})
    return Simulation(
        data=data,
        potential_outcomes=potential,
        truth={"source ATE": ASSISTANT_SOURCE_ATE, "target ATE": ASSISTANT_TARGET_ATE,
               "sample target ATE": float(effect[in_trial == 0].mean())},
        description=(f"An AI assistant pilot: {n_trial:,} volunteers randomized, "
                     f"{n_target:,} agents of the company as the target."),
    )
