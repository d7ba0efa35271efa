"""The hospital: readmissions and a system of structural equations (chapters 00, 08, 09)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from lessons_lib.simulate._core import Simulation, _require_n

__all__ = ['readmission', 'hospital_records', 'READMISSION_ATE', 'HOSPITAL_FEATURES']


# --- chapter 00: the hospital readmission examples ---------------------------------------

_SEVERITY_LEVELS = ("mild", "moderate", "severe")
_SEVERITY_SHARE = np.array([0.5, 0.3, 0.2])
_MEDICATION_RATE = np.array([0.1, 0.5, 0.9])  # P(medication | severity): sicker, more often
_READMISSION_RISK = np.array([0.08, 0.20, 0.45])  # P(readmitted | severity) without medication
_MEDICATION_RISK_RATIO = 0.7  # the medication cuts every patient's risk by 30%
READMISSION_ATE = float(np.sum(_SEVERITY_SHARE * _READMISSION_RISK * (_MEDICATION_RISK_RATIO - 1)))


def readmission(n: int = 5_000, *, seed: int = 0) -> Simulation:
    """Sicker patients get the medication and are readmitted more: confounding by severity.

    Covariate: ``severity`` ("mild", "moderate", "severe"; shares 50%, 30%, 20%).
    Treatment ``T`` (the medication): P(T = 1 | severity) = 0.1, 0.5, 0.9.
    Outcome ``Y``: readmitted within 30 days (0/1). Without the medication the risk is
    8%, 20% and 45% by severity; the medication multiplies it by 0.7 for everyone, so
    it helps every patient, most of all the sickest.

    Potential outcomes share one uniform draw per patient (Y(t) = 1 when u < risk(t)),
    so the medication never causes a readmission it does not prevent.

    Truth: the population ATE (a risk difference) is
    sum_s P(s) risk0(s) (0.7 - 1) = -0.057, i.e. -5.7 percentage points
    (``truth["ATE"]``); ``truth["ATT"]`` and ``truth["sample ATE"]`` average the
    individual effects of this sample's treated patients and of all of them. The naive
    comparison of readmission rates is about +9 points: the medication looks harmful.
    See chapter 00.

    >>> sim = readmission(2_000, seed=1)
    >>> round(sim.ate, 3)
    -0.057
    """
    _require_n(n)
    rng = np.random.default_rng(seed)
    level = rng.choice(3, size=n, p=_SEVERITY_SHARE)
    propensity = _MEDICATION_RATE[level]
    treatment = (rng.random(n) < propensity).astype(int)
    risk0 = _READMISSION_RISK[level]
    risk1 = risk0 * _MEDICATION_RISK_RATIO
    u = rng.random(n)
    y0 = (u < risk0).astype(int)
    y1 = (u < risk1).astype(int)
    effect = y1 - y0
    data = pd.DataFrame({
        "severity": pd.Categorical(np.asarray(_SEVERITY_LEVELS)[level],
                                   categories=_SEVERITY_LEVELS, ordered=True),
        "T": treatment,
        "Y": np.where(treatment == 1, y1, y0),
    })
    potential = pd.DataFrame({"Y0": y0, "Y1": y1, "effect": effect, "propensity": propensity,
                              "risk0": risk0, "risk1": risk1})
    return Simulation(
        data=data,
        potential_outcomes=potential,
        truth={"ATE": READMISSION_ATE,
               "ATT": float(effect[treatment == 1].mean()) if treatment.any() else float("nan"),
               "sample ATE": float(effect.mean())},
        description=f"Hospital readmissions: {n:,} patients, medication given to the sicker.",
    )


HOSPITAL_FEATURES = ("age", "lab_tests", "length_of_stay", "medication", "follow_up_call")


def hospital_records(n: int = 5_000, *, seed: int = 0, do: dict | None = None) -> Simulation:
    """Hospital records for a readmission model, with interventions that can be simulated.

    A latent ``frailty`` F ~ N(0, 1), which no field records, drives most of the story:
      ``age``             = 65 + 6 F + N(0, 8^2), rounded to whole years, within 18-100
      ``lab_tests``       ~ Poisson(exp(1.0 + 0.8 F))      a symptom of frailty, no effect
      ``length_of_stay``  = 1 + Poisson(exp(0.9 + 0.5 F))  days; a symptom, no effect
      ``medication``      ~ Bernoulli(logistic(-0.3 + 2.0 F))  given to the frail; protective
      ``follow_up_call``  ~ Bernoulli(0.08)                a small random pilot; protective
      ``readmitted``      ~ Bernoulli(logistic(-1.4 + 1.3 F + 0.015 (age - 65)
                                                - 0.8 medication - 1.2 follow_up_call))

    ``do`` simulates an intervention: ``{"medication": 1}`` sets a variable to a value for
    everyone, and ``{"lab_tests": lambda x: x // 2}`` maps its natural value (a shift
    intervention). The arrows into an intervened variable are cut and everything
    downstream is recomputed; every random draw is made before any variable is computed,
    so the same seed gives the same patients in every intervened world (common random
    numbers), and differences between worlds are the effects of the intervention alone.

    ``potential_outcomes`` holds ``frailty`` and ``risk``, the readmission probability of
    each patient in this world; ``truth["readmission rate"]`` is its mean.
    See chapter 00.

    >>> natural = hospital_records(2_000, seed=3)
    >>> fewer_tests = hospital_records(2_000, seed=3, do={"lab_tests": 0})
    >>> bool(natural.truth["readmission rate"] == fewer_tests.truth["readmission rate"])
    True
    """
    _require_n(n)
    interventions = dict(do or {})
    unknown = [k for k in interventions if k not in HOSPITAL_FEATURES]
    if unknown:
        raise ValueError(f"cannot intervene on {unknown}; the variables are {list(HOSPITAL_FEATURES)}")
    rng = np.random.default_rng(seed)
    frailty = rng.normal(size=n)
    age_noise = rng.normal(0.0, 8.0, size=n)
    lab_draw = rng.random(n)
    stay_draw = rng.random(n)
    medication_draw = rng.random(n)
    call_draw = rng.random(n)
    readmission_draw = rng.random(n)

    def settle(name: str, natural: np.ndarray) -> np.ndarray:
        if name not in interventions:
            return natural
        rule = interventions[name]
        value = rule(natural) if callable(rule) else rule
        return np.broadcast_to(np.asarray(value, dtype=natural.dtype), natural.shape).copy()

    from scipy import stats  # local: the other simulators do not need it

    age = settle("age", np.clip(np.round(65.0 + 6.0 * frailty + age_noise), 18, 100))
    lab_tests = settle("lab_tests", stats.poisson.ppf(lab_draw, np.exp(1.0 + 0.8 * frailty)).astype(int))
    stay = settle("length_of_stay",
                  1 + stats.poisson.ppf(stay_draw, np.exp(0.9 + 0.5 * frailty)).astype(int))
    medication = settle("medication",
                        (medication_draw < 1 / (1 + np.exp(0.3 - 2.0 * frailty))).astype(int))
    call = settle("follow_up_call", (call_draw < 0.08).astype(int))
    logit = -1.4 + 1.3 * frailty + 0.015 * (age - 65.0) - 0.8 * medication - 1.2 * call
    risk = 1 / (1 + np.exp(-logit))
    readmitted = (readmission_draw < risk).astype(int)
    data = pd.DataFrame({"age": age, "lab_tests": lab_tests, "length_of_stay": stay,
                         "medication": medication, "follow_up_call": call,
                         "readmitted": readmitted})
    shown = ", ".join(f"{k}" for k in interventions) or "none"
    return Simulation(
        data=data,
        potential_outcomes=pd.DataFrame({"frailty": frailty, "risk": risk}),
        truth={"readmission rate": float(risk.mean())},
        description=f"Hospital records: {n:,} patients; interventions: {shown}.",
    )
