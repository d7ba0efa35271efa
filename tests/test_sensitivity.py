"""Tests of lessons_lib.sensitivity (the E-value) against VanderWeele and Ding's (2017) formula."""

from __future__ import annotations

import math

import pytest

from lessons_lib.estimate import Estimate
from lessons_lib.sensitivity import e_value, e_value_difference


def test_published_example():
    """VanderWeele and Ding (2017): breastfeeding and infant death, RR 3.9 (95% CI 1.8 to
    8.7); E-value 7.2 for the estimate and 3.0 for the lower limit."""
    result = e_value(3.9, 1.8, 8.7)
    assert result.point == pytest.approx(3.9 + math.sqrt(3.9 * 2.9))
    assert math.floor(result.point * 10) / 10 == 7.2
    assert result.ci == pytest.approx(3.0)


def test_protective_effects_use_the_reciprocal():
    assert e_value(0.5, 0.3, 0.8).point == pytest.approx(e_value(2.0).point)
    assert e_value(0.5, 0.3, 0.8).ci == pytest.approx(e_value(1 / 0.8).point)
    assert e_value(2.0).point == pytest.approx(2 + math.sqrt(2))


def test_interval_through_the_null_has_e_value_one():
    assert e_value(1.3, 0.9, 1.8).ci == 1.0
    assert e_value(1.0).point == 1.0


def test_difference_in_means_uses_exp_091_d():
    est = Estimate.from_se(0.5, 0.1, n=100, estimand="ATE", method="demo")
    result = e_value_difference(est, 1.0)
    rr = math.exp(0.91 * 0.5)
    assert result.risk_ratio == pytest.approx(rr)
    assert result.point == pytest.approx(rr + math.sqrt(rr * (rr - 1)))
    assert result.ci == pytest.approx(e_value(math.exp(0.91 * est.ci_low)).point)


def test_refuses_bad_input():
    with pytest.raises(ValueError, match="positive, finite risk ratio"):
        e_value(-1.0)
    with pytest.raises(ValueError, match="positive, finite risk ratio"):
        e_value(float("nan"))
    with pytest.raises(ValueError, match="must contain the risk ratio"):
        e_value(2.0, 2.5, 3.0)
    with pytest.raises(ValueError, match="must be an Estimate"):
        e_value_difference(3.4, 7.9)
    est = Estimate.from_se(3.4, 0.5, n=100, estimand="ATE", method="demo")
    with pytest.raises(ValueError, match="outcome_sd must be a positive number"):
        e_value_difference(est, 0.0)
