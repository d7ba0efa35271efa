"""One contract for every effect estimator, the way scikit-learn's common tests hold every
estimator to one API.

Every public function that returns an `Estimate`:

* takes the DataFrame as its only positional argument, column roles by keyword only;
* refuses a non-binary treatment, a missing value, an unknown column and a tiny frame with a
  ValueError that names the problem;
* reports an ``estimand`` that is a key of its simulation's ``truth``, so
  ``est.covers(sim.truth[est.estimand])`` works;
* returns an estimate that is hashable and round-trips through ``to_dict``.

A new estimator must be added to ESTIMATORS below (or to EXEMPT, with the reason), or
``test_every_estimator_is_held_to_the_contract`` fails.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression

import lessons_lib
from lessons_lib import Estimate, simulate


@dataclass
class Spec:
    """How to call one estimator on one simulation."""

    function: str  # "module.name"
    make: Callable[[], simulate.Simulation]
    kwargs: dict
    binary: str | None = "treatment"  # the keyword naming the 0/1 column (None: no such role)
    outcome: str = "outcome"  # the keyword naming a numeric column that must not hold NaN
    tiny: int = 3  # rows in the 'tiny frame' that must be refused

    def call(self, data: pd.DataFrame, **changes) -> Estimate:
        module, name = self.function.split(".")
        function = getattr(importlib.import_module(f"lessons_lib.{module}"), name)
        return function(data, **{**self.kwargs, **changes})


SHOP = ["prior_spend", "visits", "mobile"]


def _frontdoor() -> simulate.Simulation:
    """T -> M -> Y with U confounding T and Y; the effect of T on Y is 0.8 x 1.5 = 1.2."""
    rng = np.random.default_rng(5)
    n = 2_000
    u = rng.binomial(1, 0.5, n)
    t = rng.binomial(1, 0.3 + 0.4 * u)
    m = rng.binomial(1, 0.1 + 0.8 * t)
    y = 1.5 * m + 2.0 * u + rng.normal(size=n)
    data = pd.DataFrame({"T": t, "M": m, "Y": y})
    return simulate.Simulation(data=data, potential_outcomes=pd.DataFrame(),
                               truth={"ATE": 0.8 * 1.5})


def _readmission() -> simulate.Simulation:
    sim = simulate.readmission(3_000, seed=1)
    data = sim.data.assign(severity=sim.data["severity"].cat.codes.astype(int),
                           Y=sim.data["Y"].astype(float))
    return simulate.Simulation(data=data, potential_outcomes=sim.potential_outcomes,
                               truth=sim.truth)


def _bandit() -> simulate.Simulation:
    """A logged bandit: 3 actions chosen at random; the target policy prefers action 2."""
    rng = np.random.default_rng(3)
    n, click = 1_500, np.array([0.1, 0.2, 0.4])
    target = np.array([0.2, 0.3, 0.5])
    action = rng.integers(0, 3, n)
    data = pd.DataFrame({"action": action, "reward": rng.binomial(1, click[action]),
                         "p_log": np.full(n, 1 / 3), "p_target": target[action]})
    return simulate.Simulation(data=data, potential_outcomes=pd.DataFrame(),
                               truth={"policy value": float(target @ click)})


_BANDIT = dict(reward="reward", logging_propensity="p_log")
_BANDIT_N = len(_bandit().data)

ESTIMATORS = [
    Spec("experiments.difference_in_means", lambda: simulate.banner_shop(400, seed=1, randomized=True),
         dict(outcome="Y", treatment="T")),
    Spec("experiments.regression_adjustment", lambda: simulate.banner_shop(400, seed=1, randomized=True),
         dict(outcome="Y", treatment="T", covariates=SHOP), tiny=6),
    Spec("experiments.cuped", lambda: simulate.banner_shop(400, seed=1, randomized=True),
         dict(outcome="Y", treatment="T", pre_outcome="prior_spend")),
    Spec("adjustment.backdoor_adjustment", _readmission,
         dict(outcome="Y", treatment="T", covariates=["severity"])),
    Spec("adjustment.frontdoor_adjustment", _frontdoor,
         dict(outcome="Y", treatment="T", mediator="M")),
    Spec("adjustment.frontdoor_linear", _frontdoor,
         dict(outcome="Y", treatment="T", mediator="M"), binary=None),
    Spec("dml.partially_linear", lambda: simulate.banner_features(300, n_features=4, seed=1),
         dict(outcome="Y", treatment="T", covariates=["x01", "x02", "x03", "x04"],
              outcome_model=LinearRegression(), treatment_model=LinearRegression()),
         binary=None, tiny=4),
    Spec("dml.interactive_regression", lambda: simulate.banner_shop(600, seed=2),
         dict(outcome="Y", treatment="T", covariates=SHOP, outcome_model=LinearRegression(),
              propensity_model=LogisticRegression()), tiny=6),
    Spec("doubly_robust.aipw", lambda: simulate.banner_shop(600, seed=2),
         dict(outcome="Y", treatment="T", covariates=SHOP)),
    Spec("interference.cluster_difference_in_means",
         lambda: simulate.marketplace(20, 10, seed=1, design="city"),
         dict(outcome="Y", treatment="T", cluster="city")),
    Spec("iv.two_stage_least_squares", lambda: simulate.concert_in_the_rain(800, seed=1),
         dict(outcome="happiness", treatment="attended", instruments=["rain"]), binary=None),
    Spec("iv.wald_estimator", lambda: simulate.concert_in_the_rain(800, seed=1),
         dict(outcome="happiness", treatment="attended", instrument="rain"), binary="instrument"),
    Spec("matching.matching_att", lambda: simulate.banner_shop(600, seed=2),
         dict(outcome="Y", treatment="T", covariates=SHOP)),
    Spec("panel.did_2x2", lambda: simulate.banner_regions(50, seed=1),
         dict(outcome="Y", group="region_A", post="post"), binary="group"),
    Spec("panel.two_way_fixed_effects", lambda: simulate.banner_regions(50, seed=1),
         dict(outcome="Y", treatment="T", unit="shopper", time="month")),
    Spec("staggered.staggered_did", lambda: simulate.staggered_rollout(60, seed=1),
         dict(outcome="Y", unit="unit", time="period", first_treated="first_treated"),
         binary=None, tiny=4),
    Spec("rdd.local_linear_rd", lambda: simulate.loyalty_cutoff(1_500, seed=1),
         dict(outcome="Y", running="loyalty", cutoff=70, bandwidth=15), binary=None),
    Spec("rdd.fuzzy_rd", lambda: simulate.loyalty_cutoff(3_000, seed=1, design="fuzzy"),
         dict(outcome="Y", treatment="T", running="loyalty", cutoff=70, bandwidth=15),
         binary=None),  # a fuzzy design may have a non-binary treatment (a Wald ratio of jumps)
    Spec("standardization.standardization", lambda: simulate.banner_shop(600, seed=2),
         dict(outcome="Y", treatment="T", covariates=SHOP), tiny=6),
    Spec("transport.transported_ate", lambda: simulate.assistant_pilot(400, 400, seed=3),
         dict(outcome="Y", treatment="T", covariates=["tenure", "remote"])),
    Spec("ope.ips", _bandit, dict(_BANDIT, target_propensity="p_target"), binary=None,
         outcome="reward", tiny=1),
    Spec("ope.snips", _bandit, dict(_BANDIT, target_propensity="p_target"), binary=None,
         outcome="reward", tiny=1),
    Spec("ope.doubly_robust", _bandit,
         dict(_BANDIT, action="action", target_distribution=np.tile([0.2, 0.3, 0.5], (_BANDIT_N, 1)),
              reward_predictions=np.tile([0.1, 0.2, 0.4], (_BANDIT_N, 1))),
         binary=None, outcome="reward"),
    Spec("ope.on_policy_value", _bandit, dict(reward="reward"), binary=None, outcome="reward",
         tiny=1),
    Spec("weighting.ipw", lambda: simulate.banner_shop(600, seed=2),
         dict(outcome="Y", treatment="T", covariates=SHOP)),
]

EXEMPT = {
    "synth.synthetic_control": "one treated unit: no standard error (se is NaN by design) and an "
                               "interval from the inverted placebo test; the other rules of "
                               "this contract are tested in tests/test_synth.py",
    "rdd_checks.density_test": "a test for manipulation of the running variable, not an effect; "
                        "its 'estimand' is the log jump in the density, zero without manipulation",
    "tables.mantel_haenszel": "takes a table of counts (treatment x stratum), not unit-level "
                              "data; tested against statsmodels' StratifiedTable",
    "uplift.policy_value": "takes a policy's decisions and the logged arrays of chapter 14; "
                           "to become a DataFrame estimator with the exercise rewrite",
}


def _estimators_in_the_library() -> set[str]:
    found = set()
    for info in pkgutil.iter_modules(lessons_lib.__path__):
        if info.name.startswith("_") or info.name in ("check", "release", "testing"):
            continue
        module = importlib.import_module(f"lessons_lib.{info.name}")
        for name, function in inspect.getmembers(module, inspect.isfunction):
            if name.startswith("_") or function.__module__ != module.__name__:
                continue
            if inspect.signature(function).return_annotation in ("Estimate", Estimate):
                found.add(f"{info.name}.{name}")
    return found


def test_every_estimator_is_held_to_the_contract():
    covered = {spec.function for spec in ESTIMATORS} | set(EXEMPT)
    missing = _estimators_in_the_library() - covered
    assert not missing, f"add these estimators to tests/test_contract.py: {sorted(missing)}"
    gone = covered - _estimators_in_the_library()
    assert not gone, f"the contract lists functions that are gone: {sorted(gone)}"


IDS = [spec.function for spec in ESTIMATORS]


@pytest.fixture(scope="module", params=ESTIMATORS, ids=IDS)
def case(request):
    spec = request.param
    sim = spec.make()
    return spec, sim, spec.call(sim.data)


def test_roles_are_keyword_only(case):
    spec, _, _ = case
    module, name = spec.function.split(".")
    parameters = list(inspect.signature(
        getattr(importlib.import_module(f"lessons_lib.{module}"), name)).parameters.values())
    assert parameters[0].name == "data" and parameters[0].kind is parameters[0].POSITIONAL_OR_KEYWORD
    positional = [p.name for p in parameters[1:] if p.kind is not p.KEYWORD_ONLY]
    assert not positional, f"{spec.function}: {positional} can be passed by position"
    assert "level" in [p.name for p in parameters], f"{spec.function} has no level="


def test_estimand_is_a_key_of_the_simulations_truth(case):
    spec, sim, est = case
    assert est.estimand in sim.truth, f"{spec.function}: '{est.estimand}' not in {list(sim.truth)}"
    assert isinstance(est.covers(sim.truth[est.estimand]), bool)
    assert np.isfinite(est.value) and est.se > 0 and est.ci_low < est.value < est.ci_high


def test_estimate_is_hashable_and_round_trips(case):
    _, _, est = case
    assert hash(est) == hash(Estimate.from_dict(est.to_dict()))
    assert Estimate.from_dict(est.to_dict()) == est
    assert {est: 1}[est] == 1


def test_level_changes_the_interval(case):
    spec, sim, est = case
    narrow = spec.call(sim.data, level=0.5)
    assert narrow.level == 0.5 and narrow.value == pytest.approx(est.value)
    assert narrow.ci_high - narrow.ci_low < est.ci_high - est.ci_low


def test_refuses_a_non_binary_treatment(case):
    spec, sim, _ = case
    if spec.binary is None:
        pytest.skip(f"{spec.function} has no 0/1 column role")
    column = spec.kwargs[spec.binary]
    data = sim.data.copy()
    data[column] = data[column].astype(float)
    data.loc[data.index[0], column] = 2.0
    with pytest.raises(ValueError, match=f"'{column}' must be 0/1"):
        spec.call(data)


def test_refuses_a_missing_value(case):
    spec, sim, _ = case
    column = spec.kwargs[spec.outcome]
    data = sim.data.copy()
    data[column] = data[column].astype(float)
    data.loc[data.index[1], column] = np.nan
    with pytest.raises(ValueError, match=f"'{column}' has 1 missing value"):
        spec.call(data)


def test_refuses_an_unknown_column(case):
    spec, sim, _ = case
    with pytest.raises(ValueError, match="not found"):
        spec.call(sim.data, **{spec.outcome: "no_such_column"})


def test_refuses_a_tiny_frame(case):
    spec, sim, _ = case
    with pytest.raises(ValueError):
        spec.call(sim.data.head(spec.tiny))


def test_refuses_what_is_not_a_dataframe(case):
    spec, sim, _ = case
    with pytest.raises(ValueError, match="DataFrame"):
        spec.call(sim.data.to_numpy())
