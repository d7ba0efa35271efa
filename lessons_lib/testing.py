"""Helpers that prove an estimator meets the book's bar. Used by tests/, readable by students.

The bar (DESIGN.md): agree with a reference implementation, cover the truth in
simulation, reproduce a published number, refuse bad input clearly, and not be slower
than the reference. This module holds the first two as reusable checks.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from lessons_lib.estimate import Estimate


def assert_agrees(ours: float | Estimate, reference: float, *, rtol: float = 1e-6,
                  atol: float = 0.0, what: str = "point estimate") -> None:
    """Assert that our number equals the reference implementation's (relative tolerance).

    ``ours`` may be an `Estimate` (its value is compared) or a number.
    """
    value = ours.value if isinstance(ours, Estimate) else float(ours)
    reference = float(reference)
    if not math.isclose(value, reference, rel_tol=rtol, abs_tol=atol):
        gap = abs(value - reference) / max(abs(reference), 1e-300)
        raise AssertionError(
            f"{what}: ours {value!r} differs from the reference {reference!r} "
            f"(relative difference {gap:.2e} > {rtol:.0e})"
        )


@dataclass(frozen=True)
class MonteCarloResult:
    """What a Monte Carlo study of an estimator found."""

    n_reps: int
    bias: float  # mean of (estimate - truth)
    sd: float  # standard deviation of the estimates
    mean_se: float  # average reported standard error
    coverage: float  # share of intervals that contain the truth
    rmse: float

    def __str__(self) -> str:
        return (
            f"{self.n_reps} replications: bias {self.bias:+.4f}, sd {self.sd:.4f}, "
            f"mean SE {self.mean_se:.4f}, RMSE {self.rmse:.4f}, coverage {self.coverage:.1%}"
        )


def monte_carlo(one_replication: Callable[[int], tuple[Estimate, float]], *, n_reps: int = 400,
                seed: int = 0) -> MonteCarloResult:
    """Run ``one_replication(seed_i)`` for ``n_reps`` independent seeds.

    ``one_replication`` simulates a data set from its seed, estimates, and returns
    ``(estimate, truth)``. Seeds come from ``numpy.random.SeedSequence(seed)`` so a study
    is reproducible and its replications independent.
    """
    seeds = np.random.SeedSequence(seed).generate_state(n_reps)
    values, ses, covered, errors = [], [], [], []
    for replication_seed in seeds:
        estimate, truth = one_replication(int(replication_seed))
        values.append(estimate.value)
        ses.append(estimate.se)
        covered.append(estimate.covers(truth))
        errors.append(estimate.value - truth)
    errors_arr = np.asarray(errors)
    return MonteCarloResult(
        n_reps=n_reps,
        bias=float(errors_arr.mean()),
        sd=float(np.std(values, ddof=1)),
        mean_se=float(np.mean(ses)),
        coverage=float(np.mean(covered)),
        rmse=float(np.sqrt(np.mean(errors_arr**2))),
    )


def assert_calibrated(result: MonteCarloResult, *, max_abs_bias: float, low: float = 0.93,
                      high: float = 0.97) -> None:
    """Assert small bias and a 95% interval that covers the truth 93-97% of the time."""
    problems = []
    if abs(result.bias) > max_abs_bias:
        problems.append(f"bias {result.bias:+.4f} exceeds {max_abs_bias}")
    if not low <= result.coverage <= high:
        problems.append(f"coverage {result.coverage:.1%} outside [{low:.0%}, {high:.0%}]")
    if problems:
        raise AssertionError("; ".join(problems) + f" ({result})")
