"""Sensitivity to unmeasured confounding: the E-value. See chapter 04.

Every estimator of chapters 03 and 04 assumes that the measured covariates remove all
confounding. The E-value (VanderWeele and Ding, 2017) asks how strong an unmeasured
confounder U would have to be to explain an observed risk ratio RR away: the minimum
strength of association, on the risk-ratio scale, that U would need with both the
treatment and the outcome (beyond the measured covariates). For RR >= 1,

    E-value = RR + sqrt(RR * (RR - 1)),

and for RR < 1 the same formula is applied to 1 / RR. For a confidence interval, the
E-value of the limit closer to 1 says how strong a confounder would have to be to move
the interval to include 1; it is 1 when the interval already does.

For a difference in means of a continuous outcome, VanderWeele and Ding suggest the
approximation RR ~ exp(0.91 d), where d = difference / SD(Y) is the standardized effect.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from lessons_lib.estimate import Estimate


@dataclass(frozen=True)
class EValue:
    """E-values of a point estimate and of its confidence limit closer to the null."""

    risk_ratio: float
    point: float
    ci: float | None

    def __str__(self) -> str:
        ci = "" if self.ci is None else f", for the confidence limit {self.ci:.2f}"
        return f"E-value {self.point:.2f}{ci} (risk ratio {self.risk_ratio:.2f})"

    __repr__ = __str__


def _positive(value: float, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive, finite risk ratio; got {value!r}")
    return float(value)


def _e(rr: float) -> float:
    rr = 1 / rr if rr < 1 else rr
    return rr + math.sqrt(rr * (rr - 1))


def e_value(risk_ratio: float, ci_low: float | None = None, ci_high: float | None = None) -> EValue:
    """The E-value of a risk ratio and, if given, of its confidence interval.

    Formula: E = RR + sqrt(RR (RR - 1)) for RR >= 1 (use 1/RR when RR < 1). For the
    interval, the limit closer to 1 is used (the lower limit when RR > 1, the upper
    when RR < 1); its E-value is 1 when the interval contains 1.

    See chapter 04.

    >>> round(e_value(3.9, 1.8, 8.7).point, 2), round(e_value(3.9, 1.8, 8.7).ci, 2)
    (7.26, 3.0)
    """
    rr = _positive(risk_ratio, "risk_ratio")
    low = _positive(ci_low, "ci_low") if ci_low is not None else None
    high = _positive(ci_high, "ci_high") if ci_high is not None else None
    if low is not None and high is not None and not low <= rr <= high:
        raise ValueError(f"the interval [{low}, {high}] must contain the risk ratio {rr}")
    ci = None
    if rr >= 1 and low is not None:
        ci = 1.0 if low <= 1 else _e(low)
    elif rr < 1 and high is not None:
        ci = 1.0 if high >= 1 else _e(high)
    return EValue(risk_ratio=rr, point=_e(rr), ci=ci)


def e_value_difference(estimate: Estimate, outcome_sd: float) -> EValue:
    """The E-value of a difference in means, via RR ~ exp(0.91 d) with d = difference / SD.

    ``estimate`` is an `Estimate` of a mean difference (its confidence interval is
    converted the same way); ``outcome_sd`` the outcome's standard deviation.

    >>> est = Estimate.from_se(0.5, 0.1, n=100, estimand="ATE", method="demo")
    >>> round(e_value_difference(est, 1.0).point, 2)
    2.53
    """
    if not isinstance(estimate, Estimate):
        raise ValueError(f"estimate must be an Estimate; got {type(estimate).__name__}")
    sd = outcome_sd
    if isinstance(sd, bool) or not isinstance(sd, (int, float)) or not math.isfinite(sd) or sd <= 0:
        raise ValueError(f"outcome_sd must be a positive number (the outcome's standard deviation); got {sd!r}")

    def to_rr(difference: float) -> float:
        return math.exp(0.91 * difference / sd)

    return e_value(to_rr(estimate.value), to_rr(estimate.ci_low), to_rr(estimate.ci_high))
