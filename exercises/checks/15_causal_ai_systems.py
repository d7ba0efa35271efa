"""Trusted checks for exercises/15_causal_ai_systems.ipynb (causal inference where AI systems act)."""

from __future__ import annotations

import math

import numpy as np

from lessons_lib import interference, simulate, transport
from lessons_lib.check import (
    Exercise,
    Question,
    Wrong,
    agrees_with,
    as_number,
    close_to,
    equals_text,
    is_function,
    is_number,
    one_of,
)
from lessons_lib.experiments import difference_in_means
from lessons_lib.weighting import fit_logistic

SETUP = """\
import numpy as np
import pandas as pd

from lessons_lib import interference, simulate, transport

# A food-delivery platform tests an AI ranking that promotes some restaurants. The
# restaurants of a delivery zone compete for the same customers.
rng = np.random.default_rng(1515)
n_zones, per_zone = 60, 20
zone = np.repeat(np.arange(n_zones), per_zone)
appeal = rng.lognormal(0.0, 0.4, zone.size)  # how popular each restaurant is
zone_demand = 2_000 * rng.lognormal(0.0, 0.05, n_zones)  # orders a month in each zone


def monthly_orders(promoted):
    # Promotion makes a restaurant 50% more appealing; a zone orders 5% more in total
    # when all of its restaurants are promoted.
    weight = appeal * (1 + 0.5 * promoted)
    share = weight / np.bincount(zone, weights=weight)[zone]
    total = zone_demand * (1 + 0.05 * np.bincount(zone, weights=promoted) / per_zone)
    return total[zone] * share + rng.normal(0, 5, zone.size)


by_restaurant = pd.DataFrame({"zone": zone, "T": rng.binomial(1, 0.5, zone.size)})
by_restaurant["Y"] = monthly_orders(by_restaurant["T"].to_numpy())
zone_promoted = (rng.permutation(n_zones) < n_zones // 2).astype(int)
by_zone = pd.DataFrame({"zone": zone, "T": zone_promoted[zone]})
by_zone["Y"] = monthly_orders(by_zone["T"].to_numpy())

# The AI writing assistant of the chapter, piloted on a new group of volunteers.
pilot = simulate.assistant_pilot(800, 1_200, seed=15).data
"""

_setup: dict = {}
exec(SETUP, _setup)  # the same data the learner sees
_by_restaurant, _by_zone, _pilot = _setup["by_restaurant"], _setup["by_zone"], _setup["pilot"]

# --- reference answers, computed from the data (never shown to the learner) ---------------
_restaurant_level = difference_in_means(_by_restaurant, outcome="Y", treatment="T").value
_zone_level_fit = interference.cluster_difference_in_means(_by_zone, outcome="Y", treatment="T",
                                                           cluster="zone")
_zone_level, _zone_se = _zone_level_fit.value, _zone_level_fit.se
_welch_se = difference_in_means(_by_zone, outcome="Y", treatment="T").se
_trial = _pilot[_pilot["in_trial"] == 1]
_pilot_only = difference_in_means(_trial, outcome="Y", treatment="T").value
_target = transport.transported_ate(_pilot, outcome="Y", treatment="T",
                                    covariates=["tenure", "remote"]).value


# --- q4: the learner's transport estimator ----------------------------------------------------

def _reference_transport(data, covariates):
    return transport.transported_ate(data, outcome="Y", treatment="T",
                                     covariates=list(covariates)).value


def _weighted_difference(data, covariates, kind):
    design = np.column_stack([np.ones(len(data)), data[list(covariates)].to_numpy(dtype=float)])
    s = data["in_trial"].to_numpy()
    p = 1 / (1 + np.exp(-(design @ fit_logistic(design, s))))
    trial = data[s == 1]
    if kind == "odds":
        w = ((1 - p) / p)[s == 1]
    elif kind == "inverse probability":
        w = (1 / p)[s == 1]
    else:
        w = np.ones(int(s.sum()))
    t, y = trial["T"].to_numpy(), trial["Y"].to_numpy()
    return float(np.sum(w * t * y) / np.sum(w * t) - np.sum(w * (1 - t) * y) / np.sum(w * (1 - t)))


def _transport_inputs() -> list:
    first = simulate.assistant_pilot(600, 900, seed=101).data
    second = simulate.assistant_pilot(1_000, 500, seed=202).data
    return [(first, ["tenure", "remote"]), (first, ["tenure"]), (second, ["tenure", "remote"])]


def _outputs_like(kind):
    expected = [_weighted_difference(data, cov, kind) for data, cov in _transport_inputs()]

    def matches(outputs) -> bool:
        return len(outputs) == len(expected) and all(
            as_number(o) is not None and math.isclose(as_number(o), e, rel_tol=1e-6, abs_tol=1e-9)
            for o, e in zip(outputs, expected, strict=True))

    return matches


EXERCISE = Exercise(
    id="15_causal_ai_systems",
    title="Causal inference where AI systems act",
    setup=SETUP,
    questions=[
        Question(
            id="q1",
            answer="restaurant_level",
            prompt="Difference in mean monthly orders, promoted minus not, in by_restaurant.",
            checks=[is_number(), close_to(_restaurant_level, abs_tol=0.01, expected=(
                "the mean orders of promoted restaurants minus those of the others, in the "
                "restaurant-level experiment"))],
            wrong=[
                Wrong(-_restaurant_level, "The sign is flipped: subtract the mean of the "
                                          "restaurants that were not promoted from the mean "
                                          "of the promoted ones."),
                Wrong(_zone_level, "That is the zone-level experiment (by_zone); this "
                                   "question is about by_restaurant."),
            ],
            hint="by_restaurant.groupby('T')['Y'].mean(), then treated minus control.",
        ),
        Question(
            id="q2",
            answer="zone_level",
            prompt="Difference in mean monthly orders, promoted minus not, in by_zone.",
            checks=[is_number(), close_to(_zone_level, abs_tol=0.01, expected=(
                "the mean orders of restaurants in promoted zones minus those in the other "
                "zones"))],
            wrong=[
                Wrong(_restaurant_level, "That is the restaurant-level experiment; use "
                                         "by_zone, where whole zones were promoted."),
                Wrong(-_zone_level, "The sign is flipped: promoted minus not promoted."),
            ],
            hint="The same difference in means as in q1, on by_zone.",
        ),
        Question(
            id="q3",
            answer="zone_se",
            prompt="The cluster-robust standard error of q2, clustered by zone.",
            checks=[is_number(), close_to(_zone_se, rel_tol=1e-4, expected=(
                "the CR1 cluster-robust standard error of the difference in means, with the "
                "zones as clusters"))],
            wrong=[
                Wrong(_welch_se, "That standard error treats the 1,200 restaurants as "
                                 "independent, but zones were randomized and restaurants of "
                                 "a zone share its demand: cluster by zone.", rel_tol=1e-3),
            ],
            hint="interference.cluster_difference_in_means(by_zone, outcome='Y', treatment='T', "
                 "cluster='zone').se, or "
                 "the formula of the chapter by hand.",
        ),
        Question(
            id="q4",
            kind="function",
            answer="transport_ate",
            prompt="Write transport_ate(data, covariates): the inverse-odds weighted ATE.",
            inputs=_transport_inputs,
            checks=[
                is_function(),
                agrees_with(_reference_transport, points=2.0, expected=(
                    "the trial's difference in means weighted by the inverse odds of being in "
                    "the trial, P(S = 0 | x) / P(S = 1 | x), from a logistic model fitted to "
                    "all rows")),
            ],
            wrong=[
                Wrong(_outputs_like("none"), "Your function ignores the target population: "
                      "the trial's plain difference in means is the effect for the trial's "
                      "own population."),
                Wrong(_outputs_like("inverse probability"), "Weights 1 / P(S = 1 | x) make "
                      "the trial look like the trial and target *combined*; to reach the "
                      "target alone use the odds P(S = 0 | x) / P(S = 1 | x)."),
            ],
            hint="Fit a logistic regression of in_trial on the covariates (all rows), compute "
                 "w = (1 - p) / p for the trial rows, and take the weighted mean of Y among "
                 "treated minus that among controls.",
        ),
        Question(
            id="q5",
            answer="target_ate",
            prompt="The assistant's transported effect for the company, from pilot.",
            checks=[is_number(), close_to(_target, abs_tol=0.005, expected=(
                "the pilot's effect transported to the company's agents with tenure and "
                "remote as covariates"))],
            wrong=[
                Wrong(_pilot_only, "That is the pilot's own difference in means: it is the "
                                   "effect for the volunteers, who are newer and more often "
                                   "remote than the company's agents."),
            ],
            hint="transport_ate(pilot, ['tenure', 'remote']) or "
                 "transport.transported_ate(pilot, outcome='Y', treatment='T', "
                 "covariates=['tenure', 'remote']).value",
        ),
        Question(
            id="q6",
            answer="unit",
            prompt="Which unit to randomize for the effect of promoting every restaurant.",
            checks=[one_of(["customer", "restaurant", "zone"]), equals_text("zone", expected=(
                "the unit that contains the competition between restaurants"))],
            wrong=[
                Wrong("restaurant", "Promoted restaurants take customers from un-promoted "
                                    "ones in the same zone, so a restaurant-level test "
                                    "compares winners with the losers of the same contest."),
                Wrong("customer", "Showing the new ranking to some customers still changes "
                                  "what the others find (restaurants' capacity, delivery "
                                  "times), and restaurants see both kinds of customer: the "
                                  "competition is not contained."),
            ],
            hint="Ask through what one unit's treatment reaches another's outcome, and pick "
                 "the unit that contains it.",
        ),
    ],
)
