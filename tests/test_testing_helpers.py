"""lessons_lib.testing: the helpers that hold every estimator to the bar can themselves fail.

A check that cannot fail proves nothing, so each helper is shown failing on a case built
to fail, and passing on a case built to pass.
"""

import numpy as np
import pytest

from lessons_lib import Estimate
from lessons_lib.testing import MonteCarloResult, assert_agrees, assert_calibrated, monte_carlo


def _estimate(value, se=1.0):
    return Estimate.from_se(value, se, n=100, estimand="ATE", method="test")


# --- assert_agrees -------------------------------------------------------------------------

def test_assert_agrees_passes_within_tolerance():
    assert_agrees(1.0 + 5e-7, 1.0)
    assert_agrees(_estimate(2.0), 2.0 * (1 + 1e-7))
    assert_agrees(0.0, 1e-12, atol=1e-9)


@pytest.mark.parametrize("ours, reference", [(1.0 + 2e-6, 1.0), (-1.0, 1.0), (0.0, 1e-3)])
def test_assert_agrees_fails_outside_tolerance(ours, reference):
    with pytest.raises(AssertionError, match="differs from the reference"):
        assert_agrees(ours, reference)


def test_assert_agrees_compares_the_value_of_an_estimate_and_names_what():
    with pytest.raises(AssertionError, match=r"^standard error: ours 3\.0"):
        assert_agrees(3.0, 2.0, what="standard error")
    with pytest.raises(AssertionError, match="point estimate: ours 2.5"):
        assert_agrees(_estimate(2.5), 2.0)


def test_assert_agrees_fails_on_nan():
    with pytest.raises(AssertionError):
        assert_agrees(float("nan"), 1.0)


# --- monte_carlo ---------------------------------------------------------------------------

def _normal_replication(bias=0.0, se_scale=1.0, truth=1.0, n=100):
    """A replication whose estimator has known bias and known (mis)stated SE."""

    def one_replication(seed):
        rng = np.random.default_rng(seed)
        y = rng.normal(truth + bias, 1.0, size=n)
        return _estimate(y.mean(), se_scale * y.std(ddof=1) / np.sqrt(n)), truth

    return one_replication


def test_monte_carlo_is_reproducible_and_its_seeds_independent():
    seen = []

    def record(seed):
        seen.append(seed)
        return _normal_replication()(seed)

    first = monte_carlo(record, n_reps=50, seed=7)
    again = monte_carlo(_normal_replication(), n_reps=50, seed=7)
    other = monte_carlo(_normal_replication(), n_reps=50, seed=8)
    assert first == again
    assert first != other
    assert len(set(seen)) == 50  # every replication got its own seed


def test_monte_carlo_measures_what_it_claims():
    result = monte_carlo(_normal_replication(bias=0.5), n_reps=200, seed=1)
    assert result.n_reps == 200
    assert result.bias == pytest.approx(0.5, abs=0.05)
    assert result.sd == pytest.approx(0.1, rel=0.15)  # sd of a mean of 100 N(., 1)
    assert result.mean_se == pytest.approx(0.1, rel=0.05)
    assert result.rmse == pytest.approx(np.sqrt(0.5**2 + 0.1**2), rel=0.05)
    assert result.coverage < 0.01  # a bias of 5 SEs: the interval never covers
    assert "200 replications" in str(result) and "coverage" in str(result)


# --- assert_calibrated ---------------------------------------------------------------------

def test_assert_calibrated_passes_an_honest_estimator():
    result = monte_carlo(_normal_replication(), n_reps=400, seed=3)
    assert_calibrated(result, max_abs_bias=0.02)


def test_assert_calibrated_fails_a_biased_estimator():
    result = monte_carlo(_normal_replication(bias=0.3), n_reps=400, seed=3)
    with pytest.raises(AssertionError, match=r"bias \+0\.[23]\d+ exceeds 0\.05"):
        assert_calibrated(result, max_abs_bias=0.05)


def test_assert_calibrated_fails_an_interval_that_is_too_narrow():
    result = monte_carlo(_normal_replication(se_scale=0.5), n_reps=400, seed=3)
    assert result.coverage < 0.93
    with pytest.raises(AssertionError, match=r"coverage .* outside \[93%, 97%\]"):
        assert_calibrated(result, max_abs_bias=0.05)


def test_assert_calibrated_fails_an_interval_that_is_too_wide():
    result = monte_carlo(_normal_replication(se_scale=2.0), n_reps=400, seed=3)
    assert result.coverage > 0.97
    with pytest.raises(AssertionError, match="coverage"):
        assert_calibrated(result, max_abs_bias=0.05)


@pytest.mark.parametrize("coverage, passes", [(0.929, False), (0.93, True), (0.97, True),
                                              (0.971, False)])
def test_assert_calibrated_coverage_band_edges(coverage, passes):
    result = MonteCarloResult(n_reps=400, bias=0.0, sd=1.0, mean_se=1.0, coverage=coverage,
                              rmse=1.0)
    if passes:
        assert_calibrated(result, max_abs_bias=0.1)
    else:
        with pytest.raises(AssertionError):
            assert_calibrated(result, max_abs_bias=0.1)
