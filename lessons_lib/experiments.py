"""Randomized experiments: the difference in means and its uncertainty. See chapter 02.

Under randomization, treatment is independent of the potential outcomes, so
E[Y | T=1] - E[Y | T=0] = E[Y(1)] - E[Y(0)] = ATE, and the difference in sample means
estimates the ATE without bias.

What is here, in the order of the chapter: the difference in means with Welch's standard
error; the t-test and Fisher's randomization test; two ways to shrink the standard error
with pre-treatment data (Lin's regression adjustment and CUPED); and the arithmetic of
designing a test (power, minimum detectable effect, sample size, the sample-ratio check).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize, stats

from lessons_lib._inference import ols
from lessons_lib._validate import (
    require_binary,
    require_columns,
    require_frame,
    require_level,
    require_min_group_size,
)
from lessons_lib.estimate import Estimate


def difference_in_means(
    data: pd.DataFrame,
    *,
    outcome: str,
    treatment: str,
    level: float = 0.95,
) -> Estimate:
    """The difference in means with Welch's (Neyman's) standard error.

    Estimand: the ATE, E[Y(1) - Y(0)], when treatment was randomized.

    Formula:
        tau_hat = mean(Y | T=1) - mean(Y | T=0)
        se      = sqrt(s1^2 / n1 + s0^2 / n0)           (sample variances, ddof=1)
        CI      = tau_hat +/- t_{df} * se, with the Welch-Satterthwaite df

    Assumptions: randomized (or as-good-as-random) assignment, consistency, no
    interference between units, and both groups non-empty. It matches
    ``scipy.stats.ttest_ind(y1, y0, equal_var=False)`` and statsmodels' ``CompareMeans``
    with ``usevar="unequal"``.

    Example
    -------
    >>> from lessons_lib import simulate
    >>> sim = simulate.banner_shop(4_000, seed=3, randomized=True)
    >>> est = difference_in_means(sim.data, outcome="Y", treatment="T")
    >>> est.covers(sim.ate)
    True
    """
    require_frame(data)
    require_level(level)
    require_columns(data, [outcome])
    t = require_binary(data, treatment)
    require_min_group_size(t, 2, column=treatment)
    y = data[outcome].to_numpy(dtype=float)
    is_treated = t == 1
    treated, control = y[is_treated], y[~is_treated]
    n1, n0 = len(treated), len(control)
    var1, var0 = treated.var(ddof=1), control.var(ddof=1)
    se = float(np.sqrt(var1 / n1 + var0 / n0))
    if se == 0:
        raise ValueError(
            f"outcome '{outcome}' does not vary within either group, so its standard error is 0; "
            "a difference in means needs outcomes that vary"
        )
    df = (var1 / n1 + var0 / n0) ** 2 / (
        (var1 / n1) ** 2 / (n1 - 1) + (var0 / n0) ** 2 / (n0 - 1)
    )
    return Estimate.from_se(
        treated.mean() - control.mean(),
        se,
        n=n1 + n0,
        estimand="ATE",
        method="difference in means (Welch)",
        level=level,
        df=df,
        extra={"n_treated": n1, "n_control": n0},
    )


# ---------------------------------------------------------------------------------------
# Tests of "no effect": the t-test and randomization (permutation) inference.


@dataclass(frozen=True, repr=False)
class TestResult:
    """The result of a hypothesis test: its statistic, its p-value and how it was made.

    ``null_distribution`` holds the statistic under every (or every sampled) re-assignment
    for a randomization test, and is ``None`` for tests with a formula.
    """

    __test__ = False  # not a pytest test class, despite the name

    statistic: float
    pvalue: float
    method: str
    null_distribution: np.ndarray | None = None
    extra: dict = field(default_factory=dict)

    def __str__(self) -> str:
        shown = f"{self.pvalue:.4f}" if self.pvalue >= 1e-4 else f"{self.pvalue:.1e}"
        text = f"{self.method}: statistic = {self.statistic:.3f}, p-value = {shown}"
        details = ", ".join(f"{k} = {_show(v)}" for k, v in self.extra.items())
        return text + (f" ({details})" if details else "")

    __repr__ = __str__


def _show(value: object) -> str:
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):
        return f"{value:,}"
    if isinstance(value, (float, np.floating)):
        return f"{value:,.3f}"
    return str(value)


def _outcome_and_treatment(
    data: pd.DataFrame, treatment: str, outcome: str
) -> tuple[np.ndarray, np.ndarray]:
    require_frame(data)
    require_columns(data, [outcome])
    t = require_binary(data, treatment)
    require_min_group_size(t, 2, column=treatment)
    return data[outcome].to_numpy(dtype=float), t


def t_test(
    data: pd.DataFrame,
    *,
    outcome: str,
    treatment: str,
    equal_var: bool = False,
) -> TestResult:
    """The two-sample t-test of "no difference in mean outcome" between the arms.

    Statistic: t = (mean(Y | T=1) - mean(Y | T=0)) / se, with Welch's se (the default,
    ``equal_var=False``) or the pooled-variance se of Student's test (``equal_var=True``).
    The p-value is two-sided, from Student's t with the Welch-Satterthwaite degrees of
    freedom (or n - 2 for the pooled test).

    Assumptions: independent units; the mean difference is approximately normal (the
    central limit theorem does this for moderate n). Welch's version does not assume equal
    variances, which is why it is the default: a treatment that changes the spread of the
    outcome would otherwise distort the test. Same numbers as
    ``scipy.stats.ttest_ind(y1, y0, equal_var=...)``. See chapter 02.

    >>> from lessons_lib import simulate
    >>> result = t_test(simulate.banner_shop(4_000, seed=3, randomized=True).data, outcome="Y", treatment="T")
    >>> result.pvalue < 0.05
    True
    """
    y, t = _outcome_and_treatment(data, treatment, outcome)
    treated, control = y[t == 1], y[t == 0]
    n1, n0 = len(treated), len(control)
    var1, var0 = treated.var(ddof=1), control.var(ddof=1)
    if var1 == 0 and var0 == 0:
        raise ValueError(
            f"outcome '{outcome}' does not vary within either group, so the t statistic is "
            "undefined; a t-test needs outcomes that vary"
        )
    if equal_var:
        df = n1 + n0 - 2
        pooled = ((n1 - 1) * var1 + (n0 - 1) * var0) / df
        se = np.sqrt(pooled * (1 / n1 + 1 / n0))
        method = "Student's t-test (pooled variance)"
    else:
        se = np.sqrt(var1 / n1 + var0 / n0)
        df = (var1 / n1 + var0 / n0) ** 2 / (
            (var1 / n1) ** 2 / (n1 - 1) + (var0 / n0) ** 2 / (n0 - 1)
        )
        method = "Welch's t-test"
    statistic = (treated.mean() - control.mean()) / se
    pvalue = 2 * stats.t.sf(abs(statistic), df)
    return TestResult(float(statistic), float(pvalue), method, extra={"df": float(df)})


def randomization_test(
    data: pd.DataFrame,
    *,
    outcome: str,
    treatment: str,
    n_permutations: int = 10_000,
    seed: int = 0,
    max_exact: int = 100_000,
) -> TestResult:
    """Fisher's randomization (permutation) test of the sharp null of no effect for anyone.

    Null hypothesis: Y_i(1) = Y_i(0) for every unit i. Under it every outcome is fixed,
    whatever the coin said, so we can compute the difference in means under every other
    assignment the experiment could have drawn (same number treated) and ask how often it
    is at least as far from zero as the one we saw:

        p = #{assignments a : |tau_hat(a)| >= |tau_hat(observed)|} / #{assignments}

    When there are at most ``max_exact`` possible assignments (n choose n_treated), all of
    them are enumerated and p is exact (the six shoppers have 20). Otherwise
    ``n_permutations`` random re-assignments are drawn from ``numpy.random.default_rng(seed)``
    and p = (1 + #{as extreme}) / (1 + n_permutations), which is never 0 and keeps the test
    valid. The p-value needs no distributional assumption at all: only that treatment was
    randomized with a fixed number treated. Same p-value as ``scipy.stats.permutation_test``
    with ``permutation_type="independent"`` on |difference in means|. See chapter 02.

    >>> from lessons_lib import simulate
    >>> shoppers = simulate.six_shoppers()
    >>> result = randomization_test(shoppers, outcome="Y", treatment="T")
    >>> result.extra["assignments"], round(result.pvalue, 2)
    (20, 1.0)
    """
    y, t = _outcome_and_treatment(data, treatment, outcome)
    if not isinstance(n_permutations, (int, np.integer)) or n_permutations < 100:
        raise ValueError(f"n_permutations must be a whole number of at least 100; got {n_permutations!r}")
    n, n1 = len(y), int(t.sum())
    n0 = n - n1
    total = y.sum()
    observed = y[t == 1].mean() - y[t == 0].mean()
    n_assignments = math.comb(n, n1)
    if n_assignments <= max_exact:
        treated_sets = np.array(list(itertools.combinations(range(n), n1)), dtype=np.intp)
        sums = y[treated_sets].sum(axis=1)
        exact = True
    else:
        rng = np.random.default_rng(seed)
        # Each re-assignment draws the smaller arm without replacement (cheaper than
        # shuffling all n labels); the other arm is everyone else.
        smaller = min(n1, n0)
        sums = np.empty(n_permutations)
        for draw in range(n_permutations):
            sums[draw] = y[rng.choice(n, smaller, replace=False)].sum()
        if smaller != n1:
            sums = total - sums
        exact = False
    null = sums / n1 - (total - sums) / n0
    # a relative tolerance, so that ties with the observed value count as "as extreme"
    tolerance = 1e-12 * max(1.0, abs(observed))
    as_extreme = int(np.sum(np.abs(null) >= abs(observed) - tolerance))
    if exact:
        pvalue = as_extreme / len(null)
        method = "randomization test (exact)"
    else:
        pvalue = (as_extreme + 1) / (len(null) + 1)
        method = f"randomization test ({len(null):,} random re-assignments)"
    return TestResult(
        float(observed), float(pvalue), method, null_distribution=null,
        extra={"assignments": int(n_assignments) if exact else int(len(null)), "exact": exact},
    )


# ---------------------------------------------------------------------------------------
# Variance reduction: regression adjustment (Lin, 2013) and CUPED (Deng et al., 2013).


def regression_adjustment(
    data: pd.DataFrame,
    *,
    outcome: str,
    treatment: str,
    covariates: Sequence[str] = (),
    level: float = 0.95,
) -> Estimate:
    """Lin's (2013) interacted regression adjustment with HC2 robust standard errors.

    Estimand: the ATE, E[Y(1) - Y(0)], in a randomized experiment.

    Formula: with covariates centred at their full-sample mean, Xc = X - mean(X), fit by OLS

        Y = a + tau T + Xc b + T Xc g + error

    and report tau_hat, the coefficient on T. Because the covariates are centred and
    interacted with T, tau_hat is the difference between the two arms' regression
    predictions averaged over the whole sample. Its standard error is the HC2
    heteroskedasticity-robust one, sqrt of [(D'D)^-1 D' diag(e_i^2 / (1 - h_ii)) D (D'D)^-1]
    at T's entry, with D the design matrix, e the residuals and h the leverages; the interval
    uses the normal quantile.

    Assumptions: randomized treatment and pre-treatment covariates (never adjust for
    something the treatment could have changed). The model need not be right: Lin showed
    that with the interactions the estimator is consistent and never less precise
    asymptotically than the plain difference in means, and HC2 is conservative for it.
    Same numbers as statsmodels ``OLS(...).fit(cov_type="HC2")``. See chapter 02.

    >>> from lessons_lib import simulate
    >>> sim = simulate.banner_shop(4_000, seed=3, randomized=True)
    >>> est = regression_adjustment(sim.data, outcome="Y", treatment="T", covariates=["prior_spend", "visits", "mobile"])
    >>> est.se < difference_in_means(sim.data, outcome="Y", treatment="T").se
    True
    """
    require_frame(data)
    require_level(level)
    if isinstance(covariates, str) or len(covariates) == 0:
        raise ValueError(
            "covariates must be a non-empty list of pre-treatment column names, e.g. "
            "['prior_spend']; with no covariates use difference_in_means"
        )
    covariates = list(covariates)
    if treatment in covariates or outcome in covariates:
        raise ValueError("covariates must not include the treatment or the outcome column")
    y, t = _outcome_and_treatment(data, treatment, outcome)
    require_columns(data, covariates)
    x = data[covariates].to_numpy(dtype=float)
    centred = x - x.mean(axis=0)
    design = np.column_stack([np.ones(len(y)), t, centred, t[:, None] * centred])
    names = ["const", treatment, *covariates, *(f"{treatment} x {c}" for c in covariates)]
    fit = ols(y, design, cov_type="HC2", names=names, what="Lin's regression adjustment")
    return Estimate.from_fit(
        fit, 1, estimand="ATE", method="regression adjustment (Lin, HC2)", level=level,
        extra={"covariates": len(covariates)},
    )


def cuped(
    data: pd.DataFrame,
    *,
    outcome: str,
    treatment: str,
    pre_outcome: str,
    level: float = 0.95,
) -> Estimate:
    """CUPED: the difference in means of an outcome adjusted with its pre-experiment value.

    Estimand: the ATE, E[Y(1) - Y(0)], in a randomized experiment.

    Formula (Deng, Xu, Kohavi and Walker, 2013): with X the pre-experiment covariate
    (usually the same metric measured before the test),

        theta   = cov(Y, X) / var(X)              (pooled over both arms)
        Y_cuped = Y - theta (X - mean(X))
        tau_hat = mean(Y_cuped | T=1) - mean(Y_cuped | T=0), with Welch's standard error.

    Because X was fixed before randomization, E[X | T=1] = E[X | T=0] and the adjustment
    removes no signal, only noise: the variance falls by the factor 1 - corr(Y, X)^2.
    The standard error treats theta as known, which is harmless in large samples.

    Assumptions: randomized treatment; X measured before treatment (a covariate the
    treatment changed would absorb part of the effect). See chapter 02.

    >>> from lessons_lib import simulate
    >>> sim = simulate.banner_shop(4_000, seed=3, randomized=True)
    >>> est = cuped(sim.data, outcome="Y", treatment="T", pre_outcome="prior_spend")
    >>> round(est.extra["variance_reduction"], 2)
    0.85
    """
    require_frame(data)
    require_level(level)
    y, t = _outcome_and_treatment(data, treatment, outcome)
    if pre_outcome in (treatment, outcome):
        raise ValueError("pre_outcome must be a pre-experiment column, not the treatment or the outcome")
    require_columns(data, [pre_outcome])
    x = data[pre_outcome].to_numpy(dtype=float)
    variance_x = x.var(ddof=1)
    if variance_x == 0:
        raise ValueError(
            f"pre-experiment column '{pre_outcome}' is constant, so it cannot explain any variance; "
            "CUPED needs a covariate that varies"
        )
    theta = float(np.cov(y, x, ddof=1)[0, 1] / variance_x)
    adjusted = y - theta * (x - x.mean())
    frame = pd.DataFrame({"T": t, "Y": adjusted})
    plain = difference_in_means(frame, outcome="Y", treatment="T", level=level)
    reduction = 1 - adjusted.var(ddof=1) / y.var(ddof=1)
    return Estimate.from_se(
        plain.value,
        plain.se,
        n=plain.n,
        estimand="ATE",
        method="CUPED",
        level=level,
        df=plain.df,
        extra={"cuped_coefficient": theta, "variance_reduction": float(reduction)},
    )


# ---------------------------------------------------------------------------------------
# Designing a test: power, minimum detectable effect, sample size, sample-ratio mismatch.

_ALTERNATIVES = ("two-sided", "one-sided")


def _check_design(alpha: float, alternative: str) -> float:
    if not (isinstance(alpha, (int, float)) and 0 < alpha < 1):
        raise ValueError(f"alpha must be a number between 0 and 1, such as 0.05; got {alpha!r}")
    if alternative not in _ALTERNATIVES:
        raise ValueError(f"alternative must be one of {list(_ALTERNATIVES)}; got {alternative!r}")
    return stats.norm.isf(alpha / 2 if alternative == "two-sided" else alpha)


def _check_positive(value: float, name: str, example: str) -> None:
    if not (isinstance(value, (int, float, np.integer, np.floating)) and np.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a positive number ({example}); got {value!r}")


def _group_sizes(n_treated: float, n_control: float | None) -> tuple[float, float]:
    n_control = n_treated if n_control is None else n_control
    for name, value in (("n_treated", n_treated), ("n_control", n_control)):
        if not (isinstance(value, (int, float, np.integer, np.floating)) and value >= 2):
            raise ValueError(f"{name} must be at least 2 units per arm; got {value!r}")
    return float(n_treated), float(n_control)


def power(
    effect: float,
    sd: float,
    n_treated: float,
    n_control: float | None = None,
    *,
    alpha: float = 0.05,
    alternative: str = "two-sided",
) -> float:
    """The probability that a test at level ``alpha`` detects a true effect of size ``effect``.

    Formula (normal approximation for the difference in means, outcome sd ``sd`` in both
    arms): with se = sd sqrt(1/n1 + 1/n0) and z = the normal critical value,

        power = Phi(|effect| / se - z) + Phi(-|effect| / se - z)      (two-sided)
        power = Phi(effect / se - z)                                   (one-sided, effect > 0)

    (the second two-sided term, a rejection in the wrong direction, is tiny). ``n_control``
    defaults to ``n_treated``. Same numbers as statsmodels ``NormalIndPower().power`` with
    ``effect_size = effect / sd`` and ``ratio = n_control / n_treated``. See chapter 02.

    >>> round(power(1.0, 10.0, 1_571), 3)
    0.8
    """
    critical = _check_design(alpha, alternative)
    _check_positive(sd, "sd", "the outcome's standard deviation")
    if not (isinstance(effect, (int, float, np.integer, np.floating)) and np.isfinite(effect)):
        raise ValueError(f"effect must be a finite number; got {effect!r}")
    n1, n0 = _group_sizes(n_treated, n_control)
    shift = effect / (sd * np.sqrt(1 / n1 + 1 / n0))
    if alternative == "two-sided":
        return float(stats.norm.sf(critical - shift) + stats.norm.cdf(-critical - shift))
    return float(stats.norm.sf(critical - shift))


def _check_power(target: float) -> None:
    if not (isinstance(target, (int, float)) and 0 < target < 1):
        raise ValueError(f"power must be a number between 0 and 1, such as 0.8; got {target!r}")


def minimum_detectable_effect(
    sd: float,
    n_treated: float,
    n_control: float | None = None,
    *,
    alpha: float = 0.05,
    power: float = 0.8,
    alternative: str = "two-sided",
) -> float:
    """The smallest true effect a test of this size detects with probability ``power``.

    Approximately MDE = (z_{1-alpha/2} + z_{power}) sd sqrt(1/n1 + 1/n0); the function
    solves power(MDE) = ``power`` exactly (including the tiny wrong-direction term), so it
    agrees with statsmodels ``NormalIndPower().solve_power(effect_size=None, ...) * sd``.
    A test that cannot detect the effect you care about is not worth running. See chapter 02.

    >>> round(minimum_detectable_effect(10.0, 1_571), 2)
    1.0
    """
    _check_power(power)
    critical = _check_design(alpha, alternative)
    _check_positive(sd, "sd", "the outcome's standard deviation")
    n1, n0 = _group_sizes(n_treated, n_control)
    se = sd * np.sqrt(1 / n1 + 1 / n0)
    guess = (critical + stats.norm.ppf(power)) * se
    if alternative == "one-sided":
        return float(guess)
    target_power = power
    return float(optimize.brentq(
        lambda effect: _power_of_shift(effect / se, critical) - target_power,
        0.0, 2 * guess + se, xtol=1e-14 * guess, rtol=1e-15,
    ))


def _power_of_shift(shift: float, critical: float) -> float:
    return float(stats.norm.sf(critical - shift) + stats.norm.cdf(-critical - shift))


def sample_size(
    effect: float,
    sd: float,
    *,
    alpha: float = 0.05,
    power: float = 0.8,
    ratio: float = 1.0,
    alternative: str = "two-sided",
) -> int:
    """How many treated units a test needs to detect ``effect`` with probability ``power``.

    Returns n_treated, rounded up; the control arm needs ``ratio`` times as many (ratio = 1,
    an even split, is the most efficient for a given total). Approximately

        n_treated = (1 + 1/ratio) (z_{1-alpha/2} + z_{power})^2 sd^2 / effect^2,

    solved exactly as in statsmodels ``NormalIndPower().solve_power(nobs1=None, ...)``.
    Halving the effect you want to detect quadruples the sample. See chapter 02.

    >>> sample_size(1.0, 10.0)
    1570
    """
    _check_power(power)
    critical = _check_design(alpha, alternative)
    _check_positive(sd, "sd", "the outcome's standard deviation")
    _check_positive(ratio, "ratio", "n_control / n_treated, 1 for an even split")
    if not (isinstance(effect, (int, float, np.integer, np.floating)) and np.isfinite(effect)
            and effect != 0):
        raise ValueError(f"effect must be a non-zero number (the effect to detect); got {effect!r}")
    return int(math.ceil(_exact_sample_size(abs(effect), sd, critical, power, ratio, alternative)))


def _exact_sample_size(effect: float, sd: float, critical: float, target: float, ratio: float,
                       alternative: str) -> float:
    inflation = 1 + 1 / ratio
    guess = inflation * ((critical + stats.norm.ppf(target)) * sd / effect) ** 2
    if alternative == "one-sided":
        return guess

    def gap(n1: float) -> float:
        return _power_of_shift(effect / (sd * np.sqrt(inflation / n1)), critical) - target

    low = min(guess, 1e-8)
    return float(optimize.brentq(gap, low, 2 * guess + 2, xtol=1e-12 * guess, rtol=1e-15))


def sample_ratio_mismatch(
    counts: Sequence[int], expected_shares: Sequence[float] = (0.5, 0.5)
) -> TestResult:
    """The sample-ratio-mismatch (SRM) check: did the arms get the share of units they should?

    A chi-square goodness-of-fit test of the observed arm sizes against the designed split:

        chi2 = sum_k (count_k - N share_k)^2 / (N share_k),   df = (number of arms) - 1.

    A tiny p-value (the usual alarm is p < 0.001) means the assignment or the logging is
    broken (a redirect that loses some users, a bot filter applied to one arm ...), and the
    difference in means can no longer be trusted: find the bug before reading the effect.
    Same numbers as ``scipy.stats.chisquare(counts, N * shares)``. See chapter 02.

    >>> round(sample_ratio_mismatch([50_600, 49_400]).pvalue, 5)
    0.00015
    """
    observed = np.asarray(counts, dtype=float)
    shares = np.asarray(expected_shares, dtype=float)
    if observed.ndim != 1 or len(observed) < 2:
        raise ValueError("counts must list the number of units in each arm, e.g. [50_123, 49_877]")
    if not np.isfinite(observed).all() or (observed < 0).any() or (observed != np.round(observed)).any():
        raise ValueError(f"counts must be whole numbers of units, zero or more; got {list(counts)}")
    if observed.sum() == 0:
        raise ValueError("counts are all zero: there are no units to check")
    if shares.shape != observed.shape:
        raise ValueError(
            f"expected_shares must give one share per arm: {len(observed)} arms but "
            f"{shares.size} shares"
        )
    if not np.isfinite(shares).all() or (shares <= 0).any() or not math.isclose(shares.sum(), 1.0, abs_tol=1e-9):
        raise ValueError(f"expected_shares must be positive and sum to 1, e.g. (0.5, 0.5); got {list(expected_shares)}")
    expected = observed.sum() * shares
    statistic = float(np.sum((observed - expected) ** 2 / expected))
    df = len(observed) - 1
    pvalue = float(stats.chi2.sf(statistic, df))
    return TestResult(
        statistic, pvalue, "sample-ratio mismatch (chi-square)",
        extra={"df": df, "observed_share": float(observed[0] / observed.sum())},
    )
