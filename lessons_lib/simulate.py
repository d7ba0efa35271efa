"""The book's running examples, simulated with their true effects. See chapters 01 and 02.

Every generator is seeded (``seed=``) and returns a `Simulation`: the data an analyst
would see, the potential outcomes nobody sees in real life, and the true effects, so a
chapter can put an estimate beside the truth.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np
import pandas as pd


@dataclass(frozen=True, repr=False)
class Simulation:
    """Simulated data together with the truth behind it.

    Attributes
    ----------
    data : the observed table (covariates, treatment ``T``, outcome ``Y``).
    potential_outcomes : per unit ``Y0``, ``Y1`` and the individual effect ``effect``
        (``Y1 - Y0``), hidden in real life.
    truth : the true effects by name, e.g. ``{"ATE": 4.2, "ATT": ...}``.
    description : one paragraph on how the data were generated.
    """

    data: pd.DataFrame
    potential_outcomes: pd.DataFrame
    truth: dict = field(default_factory=dict)
    description: str = ""

    @property
    def ate(self) -> float:
        return self.truth["ATE"]

    @property
    def att(self) -> float:
        return self.truth["ATT"]

    def __repr__(self) -> str:
        effects = ", ".join(f"{k} = {v:.2f}" for k, v in self.truth.items())
        return f"Simulation(n = {len(self.data):,}; true {effects})"


def _require_n(n: int, minimum: int = 4) -> None:
    if not isinstance(n, (int, np.integer)) or n < minimum:
        raise ValueError(f"n must be a whole number of at least {minimum}; got {n!r}")


def six_shoppers() -> pd.DataFrame:
    """The six shoppers of chapter 01, with both potential outcomes (in dollars).

    Columns: ``name``, ``tier`` (spending tier: "high" or "low"), ``Y0`` (spending
    without the banner), ``Y1`` (with it), ``effect`` (``Y1 - Y0``), ``T`` (who saw the
    banner in the observed world: Alice, Dave and Eve), ``Y`` (the observed spending).

    True effects: ATE = 40 / 6 = $6.67, ATT = 40 / 3 = $13.33, CATE = $4.33 for the
    high tier and $9.00 for the low tier.

    >>> df = six_shoppers()
    >>> round(float(df["effect"].mean()), 2)
    6.67
    """
    table = pd.DataFrame(
        {
            "name": ["Alice", "Bob", "Carol", "Dave", "Eve", "Frank"],
            "tier": ["high", "low", "high", "low", "low", "high"],
            "Y0": [40, 20, 60, 10, 35, 50],
            "Y1": [55, 22, 58, 30, 40, 50],
            "T": [1, 0, 0, 1, 1, 0],
        }
    )
    table["effect"] = table["Y1"] - table["Y0"]
    table["Y"] = np.where(table["T"] == 1, table["Y1"], table["Y0"])
    return table[["name", "tier", "Y0", "Y1", "effect", "T", "Y"]]


# The banner shop's structural equations, kept as constants so the docstring, the
# simulation and the analytic truth cannot drift apart.
_BANNER_BASE_EFFECT = 5.0  # dollars, for a desktop shopper with average prior spending
_BANNER_SPEND_SLOPE = 0.08  # extra dollars of effect per dollar of prior spending above $50
_BANNER_MOBILE_PENALTY = 2.0  # the banner is smaller on phones
_MOBILE_SHARE = 0.4
BANNER_SHOP_ATE = _BANNER_BASE_EFFECT - _BANNER_MOBILE_PENALTY * _MOBILE_SHARE  # = 4.2


def banner_effect(prior_spend: np.ndarray, mobile: np.ndarray) -> np.ndarray:
    """The banner shop's true conditional effect tau(x) = 5 + 0.08 (prior_spend - 50) - 2 mobile."""
    return (
        _BANNER_BASE_EFFECT
        + _BANNER_SPEND_SLOPE * (np.asarray(prior_spend) - 50.0)
        - _BANNER_MOBILE_PENALTY * np.asarray(mobile)
    )


def banner_shop(n: int = 2_000, *, seed: int = 0, randomized: bool = False) -> Simulation:
    """The banner shop: does showing a promotional banner make shoppers spend more?

    Covariates (pre-treatment):
      ``prior_spend`` dollars spent in the last 90 days, Gamma(2, 25): mean $50;
      ``visits`` visits in the last 30 days, Poisson(1 + prior_spend / 25);
      ``mobile`` 1 if the shopper uses the phone app, Bernoulli(0.4).

    Treatment ``T`` (banner shown):
      randomized=True: a fair coin for everyone, e(X) = 0.5;
      randomized=False (the default): the shop's targeting shows it more to big spenders,
      frequent visitors and app users:
      e(X) = logistic(-0.5 + 0.03 (prior_spend - 50) + 0.2 (visits - 3) + 0.5 mobile).

    Outcome ``Y`` (dollars spent in the next 30 days):
      Y(0) = 20 + 0.5 prior_spend + 1.5 visits - 3 mobile + N(0, 8^2)
      Y(1) = Y(0) + tau(X), with tau(X) = 5 + 0.08 (prior_spend - 50) - 2 mobile.

    Truth: the population ATE is 5 - 2 x 0.4 = $4.20 (``truth["ATE"]``); ``truth["ATT"]``
    and ``truth["sample ATE"]`` are the averages of tau over this sample's treated units
    and over the whole sample. The true propensity is kept in
    ``potential_outcomes["propensity"]``, never in ``data``: analysts must estimate it.

    Because prior spending drives both the banner and the spending, the naive difference in
    means is far above the truth when ``randomized=False``.

    >>> sim = banner_shop(1_000, seed=1)
    >>> sim.ate
    4.2
    """
    _require_n(n)
    rng = np.random.default_rng(seed)
    prior_spend = rng.gamma(shape=2.0, scale=25.0, size=n)
    visits = rng.poisson(1.0 + prior_spend / 25.0)
    mobile = rng.binomial(1, _MOBILE_SHARE, size=n)
    if randomized:
        propensity = np.full(n, 0.5)
    else:
        logit = -0.5 + 0.03 * (prior_spend - 50.0) + 0.2 * (visits - 3.0) + 0.5 * mobile
        propensity = 1.0 / (1.0 + np.exp(-logit))
    treatment = rng.binomial(1, propensity)
    y0 = 20.0 + 0.5 * prior_spend + 1.5 * visits - 3.0 * mobile + rng.normal(0.0, 8.0, size=n)
    effect = banner_effect(prior_spend, mobile)
    y1 = y0 + effect
    observed = np.where(treatment == 1, y1, y0)

    data = pd.DataFrame(
        {
            "prior_spend": prior_spend.round(2),
            "visits": visits,
            "mobile": mobile,
            "T": treatment,
            "Y": observed,
        }
    )
    potential = pd.DataFrame({"Y0": y0, "Y1": y1, "effect": effect, "propensity": propensity})
    truth = {
        "ATE": BANNER_SHOP_ATE,
        "ATT": float(effect[treatment == 1].mean()) if treatment.any() else float("nan"),
        "sample ATE": float(effect.mean()),
    }
    how = "a fair coin" if randomized else "the shop's targeting of big spenders"
    return Simulation(
        data=data,
        potential_outcomes=potential,
        truth=truth,
        description=f"The banner shop: {n:,} shoppers, banner assigned by {how}.",
    )


# ---------------------------------------------------------------------------------------
# Chapter 05: difference in differences

# Mean spending (dollars) in December, the month before the launch, and the months' common
# shocks; January (month 0) is the launch month of the banner in region A.
_REGION_LEVEL = {"A": 42.0, "B": 38.0}
_MONTH_SHOCK = {-6: -4.0, -5: -3.0, -4: -3.0, -3: -2.0, -2: -1.0, -1: 0.0, 0: 8.0, 1: 5.0,
                2: 4.0}
BANNER_REGIONS_ATT = 6.0


def banner_regions(n_per_region: int = 400, *, seed: int = 0, trend_gap: float = 0.0,
                   months: tuple[int, int] = (-6, 2)) -> Simulation:
    """The banner launch in region A, with region B as the comparison. See chapter 05.

    A panel of shoppers observed monthly; ``month`` counts months from the launch
    (January = 0, December = -1). Region A's shoppers see the banner from month 0 on.

    Untreated spending (dollars):
      Y(0)_it = level_region + shopper_i + shock_month + trend_gap x (month + 1) x [region A]
                + N(0, 6^2),
    with level 42 in A and 38 in B, shopper_i ~ N(0, 12^2), and shocks common to both
    regions (0 in December, +8 in January). Y(1) = Y(0) + 6 in region A from month 0.

    With ``trend_gap=0`` trends are parallel and the expected 2x2 table is the chapter's:
    A $42 -> $56, B $38 -> $46, so DiD = 14 - 8 = $6 = ``truth["ATT"]``. A positive
    ``trend_gap`` makes region A's untreated spending grow that many dollars a month
    faster than B's: parallel trends fail and the December-January DiD is biased by
    ``trend_gap``.

    Columns: ``shopper``, ``region`` ("A"/"B"), ``region_A`` (1 for A), ``month``,
    ``post`` (month >= 0), ``T`` (region A and post), ``first_treated`` (0 for A's
    shoppers, NaN for B's), ``Y``.

    >>> sim = banner_regions(seed=1)
    >>> sim.truth["ATT"]
    6.0
    """
    _require_n(n_per_region, 2)
    first, last = months
    if not (first <= -1 and last >= 0 and first in _MONTH_SHOCK and last in _MONTH_SHOCK):
        raise ValueError("months must run from between -6 and -1 to between 0 and 2")
    rng = np.random.default_rng(seed)
    month_values = np.arange(first, last + 1)
    n = 2 * n_per_region
    region = np.repeat(np.array(["A", "B"]), n_per_region)
    shopper_effect = rng.normal(0.0, 12.0, size=n)
    rows = len(month_values)
    shopper = np.repeat(np.arange(n), rows)
    month = np.tile(month_values, n)
    region_rows = np.repeat(region, rows)
    in_a = (region_rows == "A").astype(int)
    level = np.where(in_a == 1, _REGION_LEVEL["A"], _REGION_LEVEL["B"])
    shock = np.array([_MONTH_SHOCK[m] for m in month])
    y0 = (level + np.repeat(shopper_effect, rows) + shock + trend_gap * (month + 1) * in_a
          + rng.normal(0.0, 6.0, size=n * rows))
    post = (month >= 0).astype(int)
    treated = in_a * post
    effect = BANNER_REGIONS_ATT * treated
    y1 = y0 + BANNER_REGIONS_ATT
    data = pd.DataFrame({
        "shopper": shopper,
        "region": region_rows,
        "region_A": in_a,
        "month": month,
        "post": post,
        "T": treated,
        "first_treated": np.where(in_a == 1, 0.0, np.nan),
        "Y": y0 + effect,
    })
    potential = pd.DataFrame({"Y0": y0, "Y1": y1, "effect": effect})
    return Simulation(
        data=data,
        potential_outcomes=potential,
        truth={"ATT": BANNER_REGIONS_ATT},
        description=(f"The banner launch: {n_per_region:,} shoppers per region, months "
                     f"{first} to {last}, trend gap ${trend_gap:.2f} a month."),
    )


def staggered_rollout(n_units: int = 300, *, seed: int = 0, periods: int = 10,
                      cohorts: dict | None = None, effect_start: float = 1.0,
                      effect_growth: float = 0.5, noise_sd: float = 1.0) -> Simulation:
    """Stores adopting a loyalty app at different times: staggered adoption. See chapter 05.

    Units are split deterministically into cohorts by the share given in ``cohorts``
    (first treated period -> share; the rest never adopt). Default: 40% adopt in period 3,
    30% in period 7, 30% never.

    Y(0)_it = unit_i + 0.3 t + N(0, noise_sd^2), unit_i ~ N(0, 1), for t = 1..``periods``.
    The effect of adoption grows with exposure and is larger for earlier adopters:
      tau_it = (effect_start + effect_growth x (t - g_i)) x (1 + 0.5 [g_i is the earliest cohort])
    for t >= g_i, the unit's first treated period.

    Truth: ``truth["ATT"]`` is the average of tau over all treated unit-periods, the
    estimand of `lessons_lib.panel.staggered_did` (each cohort-period's effect is the mean
    of ``potential_outcomes["effect"]`` within the cell). Two-way fixed effects is biased
    here, because later adopters are compared with earlier adopters whose effects are
    still growing.

    Columns: ``unit``, ``period``, ``first_treated`` (NaN if never), ``T``, ``Y``.

    >>> sim = staggered_rollout(seed=0)
    >>> round(sim.truth["ATT"], 2)
    3.48
    """
    _require_n(n_units, 10)
    shares = {3: 0.4, 7: 0.3} if cohorts is None else dict(cohorts)
    if sum(shares.values()) >= 1 or min(shares.values()) <= 0:
        raise ValueError("cohort shares must be positive and leave some units never treated")
    if min(shares) < 2 or max(shares) > periods:
        raise ValueError(f"cohort periods must be between 2 and {periods}")
    rng = np.random.default_rng(seed)
    sizes = {g: int(round(share * n_units)) for g, share in sorted(shares.items())}
    first = np.full(n_units, np.nan)
    position = 0
    for g, size in sizes.items():
        first[position:position + size] = g
        position += size
    earliest = min(sizes)
    period = np.tile(np.arange(1, periods + 1), n_units)
    unit = np.repeat(np.arange(n_units), periods)
    g_rows = np.repeat(first, periods)
    unit_effect = np.repeat(rng.normal(0.0, 1.0, size=n_units), periods)
    y0 = unit_effect + 0.3 * period + rng.normal(0.0, noise_sd, size=n_units * periods)
    treated = (~np.isnan(g_rows) & (period >= g_rows)).astype(int)
    exposure = np.where(treated == 1, period - np.nan_to_num(g_rows), 0.0)
    boost = np.where(g_rows == earliest, 1.5, 1.0)
    tau = (effect_start + effect_growth * exposure) * boost
    effect = np.where(treated == 1, tau, 0.0)
    data = pd.DataFrame({"unit": unit, "period": period, "first_treated": g_rows,
                         "T": treated, "Y": y0 + effect})
    potential = pd.DataFrame({"Y0": y0, "Y1": y0 + tau, "effect": effect})
    att = float(effect[treated == 1].mean())
    return Simulation(
        data=data,
        potential_outcomes=potential,
        truth={"ATT": att},
        description=(f"Staggered rollout: {n_units} units, {periods} periods, cohorts "
                     f"{sizes} and {n_units - sum(sizes.values())} never treated."),
    )


# The loyalty cutoff of chapter 07: the banner is shown to shoppers whose loyalty score
# reaches 70. Constants kept here so the docstring, the simulation and the truth agree.
LOYALTY_CUTOFF = 70.0
LOYALTY_EFFECT_AT_CUTOFF = 10.0  # dollars


def loyalty_effect(loyalty: np.ndarray) -> np.ndarray:
    """The loyalty banner's true effect tau(x) = 10 - 0.01 (x - 70)^2 dollars (chapter 07)."""
    return LOYALTY_EFFECT_AT_CUTOFF - 0.01 * (np.asarray(loyalty, dtype=float) - LOYALTY_CUTOFF) ** 2


def loyalty_cutoff(n: int = 3_000, *, seed: int = 0, design: str = "sharp",
                   manipulation: float = 0.0) -> Simulation:
    """The loyalty cutoff: a banner shown to shoppers with a loyalty score of 70 or more.

    Running variable ``loyalty`` ~ N(70, 15^2), a score the shop computes from past visits.

    Treatment ``T`` (banner shown):
      design="sharp": T = 1{loyalty >= 70}, exactly;
      design="fuzzy": P(T = 1) = 0.8 at or above 70 (some shoppers block banners) and 0.2
      below (some see it through another channel); the first-stage jump is 0.6.

    Outcome ``Y`` (dollars spent in the next 30 days):
      Y(0) = 0.5 loyalty + N(0, 5^2)
      Y(1) = Y(0) + tau(loyalty),  tau(x) = 10 - 0.01 (x - 70)^2,
    so the banner is worth $10 at the cutoff and less for the very loyal, who would have
    bought anyway. Spending rises with loyalty ($0.50 per point), which is why comparing
    raw means on the two sides of the cutoff is biased.

    manipulation: the share (0 to 1) of shoppers scoring within 4 points below 70 who
    push their score just over the line (to a point in [70, 72)) by an extra purchase.
    They are keener shoppers, with Y(0) higher by $5, so manipulation both piles units up
    above the cutoff and breaks the continuity the design relies on.

    Truth: ``truth["effect at the cutoff"]`` = tau(70) = $10, the same in both designs
    (in the fuzzy design it is also the compliers' effect at the cutoff,
    ``truth["LATE at the cutoff"]``, since the effect depends only on loyalty).

    >>> sim = loyalty_cutoff(3_000, seed=42)
    >>> sim.truth["effect at the cutoff"]
    10.0
    """
    _require_n(n)
    if design not in ("sharp", "fuzzy"):
        raise ValueError(f"design must be 'sharp' or 'fuzzy'; got {design!r}")
    if not (isinstance(manipulation, (int, float)) and 0 <= manipulation <= 1):
        raise ValueError(f"manipulation must be a share between 0 and 1; got {manipulation!r}")
    rng = np.random.default_rng(seed)
    loyalty = rng.normal(LOYALTY_CUTOFF, 15.0, size=n)
    just_below = (loyalty >= LOYALTY_CUTOFF - 4) & (loyalty < LOYALTY_CUTOFF)
    movers = just_below & (rng.uniform(size=n) < manipulation)
    loyalty = np.where(movers, LOYALTY_CUTOFF + rng.uniform(0.0, 2.0, size=n), loyalty)
    above = (loyalty >= LOYALTY_CUTOFF).astype(int)
    if design == "sharp":
        treatment = above
    else:
        treatment = rng.binomial(1, np.where(above == 1, 0.8, 0.2))
    y0 = 0.5 * loyalty + 5.0 * movers + rng.normal(0.0, 5.0, size=n)
    effect = loyalty_effect(loyalty)
    y1 = y0 + effect
    observed = np.where(treatment == 1, y1, y0)
    data = pd.DataFrame({"loyalty": loyalty, "T": treatment, "Y": observed})
    potential = pd.DataFrame({"Y0": y0, "Y1": y1, "effect": effect, "manipulated": movers})
    return Simulation(
        data=data,
        potential_outcomes=potential,
        truth={"effect at the cutoff": LOYALTY_EFFECT_AT_CUTOFF,
               **({"LATE at the cutoff": LOYALTY_EFFECT_AT_CUTOFF} if design == "fuzzy" else {})},
        description=(f"The loyalty cutoff: {n:,} shoppers, {design} design, "
                     f"{manipulation:.0%} manipulation just below 70."),
    )


# Chapter 04: two running examples for weighting's failure modes.
DOUBLY_ROBUST_ATE = 2.0


def two_models(n: int = 1_000, *, seed: int = 0) -> Simulation:
    """Treatment and outcome both curve in x1: the test bed of double robustness (chapter 04).

    Covariates: ``x1``, ``x2`` independent N(0, 1), and ``x1_sq`` = x1^2 - 1 (centred).
    Treatment: e(X) = logistic(-0.2 + 0.4 x1 - 0.4 x2 + 0.4 x1_sq).
    Outcome: Y(0) = 1 + x1 + x2 + 2 x1_sq + N(0, 1);  Y(1) = Y(0) + 2.
    Truth: ATE = 2 (``truth["ATE"]``).

    A model that leaves out ``x1_sq`` is wrong. The propensity model is right with
    [x1, x2, x1_sq] and wrong with [x1, x2]; so is the outcome model. IPW needs the first
    right, standardization the second, AIPW either one; none survives both wrong.

    >>> sim = two_models(500, seed=1)
    >>> sim.ate
    2.0
    """
    _require_n(n)
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    x1_sq = x1**2 - 1.0
    propensity = 1.0 / (1.0 + np.exp(-(-0.2 + 0.4 * x1 - 0.4 * x2 + 0.4 * x1_sq)))
    treatment = rng.binomial(1, propensity)
    y0 = 1.0 + x1 + x2 + 2.0 * x1_sq + rng.normal(size=n)
    y1 = y0 + DOUBLY_ROBUST_ATE
    data = pd.DataFrame({"x1": x1, "x2": x2, "x1_sq": x1_sq, "T": treatment,
                         "Y": np.where(treatment == 1, y1, y0)})
    potential = pd.DataFrame({"Y0": y0, "Y1": y1, "effect": y1 - y0, "propensity": propensity})
    return Simulation(data=data, potential_outcomes=potential,
                      truth={"ATE": DOUBLY_ROBUST_ATE, "ATT": DOUBLY_ROBUST_ATE},
                      description=f"Two models: {n:,} units, treatment and outcome curved in x1.")


def limited_overlap(n: int = 1_000, *, strength: float = 1.0, seed: int = 0) -> Simulation:
    """One confounder whose pull on treatment is turned up until positivity nearly fails.

    Covariate ``x`` ~ N(0, 1). Treatment: e(x) = logistic(strength * x), so a larger
    ``strength`` pushes propensities towards 0 and 1 and inverse probability weights
    explode. Outcome: Y(0) = 2 x + N(0, 1), Y(1) = Y(0) + 1 + 0.5 (x^2 - 1); the effect
    grows with |x|. Truth: ATE = 1 for every strength. See chapter 04.

    >>> limited_overlap(500, strength=3.0, seed=0).ate
    1.0
    """
    _require_n(n)
    if not (isinstance(strength, (int, float)) and np.isfinite(strength) and strength >= 0):
        raise ValueError(f"strength must be a non-negative number; got {strength!r}")
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    propensity = 1.0 / (1.0 + np.exp(-strength * x))
    treatment = rng.binomial(1, propensity)
    y0 = 2.0 * x + rng.normal(size=n)
    effect = 1.0 + 0.5 * (x**2 - 1.0)
    y1 = y0 + effect
    data = pd.DataFrame({"x": x, "T": treatment, "Y": np.where(treatment == 1, y1, y0)})
    potential = pd.DataFrame({"Y0": y0, "Y1": y1, "effect": effect, "propensity": propensity})
    return Simulation(data=data, potential_outcomes=potential,
                      truth={"ATE": 1.0, "sample ATE": float(effect.mean())},
                      description=f"Limited overlap: {n:,} units, targeting strength {strength}.")


def banner_features(n: int = 1_000, *, n_features: int = 50, effect: float = 3.0,
                    seed: int = 0) -> Simulation:
    """The banner shop with many logged features: the running example of chapter 12.

    The shop now logs ``n_features`` standardized behavioural features per shopper,
    ``x01``, ``x02``, ... (pages viewed, basket size, time on site, ...), correlated with
    one another like neighbours in a list: corr(x_j, x_k) = 0.5^|j - k|. The first ten
    (or all, if there are fewer) drive both the targeting and the spending; the analyst
    does not know which.

    Treatment ``T`` (banner shown): e(X) = logistic(0.3 (x01 + ... + x10)).
    Outcome ``Y`` (dollars spent in the next 30 days):
      Y(0) = 40 + 2 (x01 + ... + x10) + N(0, 6^2),   Y(1) = Y(0) + effect.

    The effect is the same for everyone (``effect``, $3 by default), so the partially
    linear model holds exactly and its theta equals the ATE and the ATT.

    >>> sim = banner_features(500, seed=1)
    >>> sim.ate, sim.data.shape
    (3.0, (500, 52))
    """
    _require_n(n)
    if not isinstance(n_features, (int, np.integer)) or n_features < 1:
        raise ValueError(f"n_features must be a whole number of at least 1; got {n_features!r}")
    rng = np.random.default_rng(seed)
    noise = rng.normal(size=(n, n_features))
    features = np.empty_like(noise)
    features[:, 0] = noise[:, 0]
    for j in range(1, n_features):  # an AR(1) chain: corr(x_j, x_k) = 0.5^|j-k|
        features[:, j] = 0.5 * features[:, j - 1] + np.sqrt(0.75) * noise[:, j]
    drivers = features[:, : min(10, n_features)].sum(axis=1)
    propensity = 1.0 / (1.0 + np.exp(-0.3 * drivers))
    treatment = rng.binomial(1, propensity)
    y0 = 40.0 + 2.0 * drivers + rng.normal(0.0, 6.0, size=n)
    y1 = y0 + effect
    width = max(2, len(str(n_features)))
    data = pd.DataFrame(features, columns=[f"x{j + 1:0{width}d}" for j in range(n_features)])
    data["T"] = treatment
    data["Y"] = np.where(treatment == 1, y1, y0)
    potential = pd.DataFrame({"Y0": y0, "Y1": y1, "effect": np.full(n, float(effect)),
                              "propensity": propensity})
    return Simulation(
        data=data, potential_outcomes=potential,
        truth={"ATE": float(effect), "ATT": float(effect), "theta": float(effect)},
        description=f"The banner shop with {n_features} logged features: {n:,} shoppers.",
    )


def heterogeneous_effects(n: int = 4_000, *, seed: int = 0) -> Simulation:
    """An effect that grows with one feature: the running example of chapter 13.

    Five standard-normal features ``x0`` ... ``x4``. Treatment depends on ``x0`` only,
    e(X) = logistic(x0); the effect depends on ``x1`` only:

      tau(X) = 2 + 3 x1,     Y(0) = x0 + N(0, 1),     Y(1) = Y(0) + tau(X).

    So x0 confounds (it drives treatment and the outcome), x1 modifies the effect, and
    x2 to x4 are noise. The true CATE of every unit is ``potential_outcomes["effect"]``;
    the population ATE is 2.

    >>> sim = heterogeneous_effects(1_000, seed=2)
    >>> sim.ate
    2.0
    """
    _require_n(n)
    rng = np.random.default_rng(seed)
    features = rng.normal(size=(n, 5))
    propensity = 1.0 / (1.0 + np.exp(-features[:, 0]))
    treatment = rng.binomial(1, propensity)
    effect = 2.0 + 3.0 * features[:, 1]
    y0 = features[:, 0] + rng.normal(size=n)
    y1 = y0 + effect
    data = pd.DataFrame(features, columns=[f"x{j}" for j in range(5)])
    data["T"] = treatment
    data["Y"] = np.where(treatment == 1, y1, y0)
    potential = pd.DataFrame({"Y0": y0, "Y1": y1, "effect": effect, "propensity": propensity})
    return Simulation(
        data=data, potential_outcomes=potential,
        truth={"ATE": 2.0, "ATT": float(effect[treatment == 1].mean()),
               "sample ATE": float(effect.mean())},
        description=f"Heterogeneous effects tau(x) = 2 + 3 x1: {n:,} units.",
    )


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


# --- chapter 14: uplift modeling -----------------------------------------------------------

UPLIFT_SEGMENTS = ("persuadable", "sure thing", "lost cause", "sleeping dog")


def uplift_segment_probabilities(engagement: np.ndarray, tenure: np.ndarray,
                                 discount_affinity: np.ndarray) -> pd.DataFrame:
    """P(segment | X) of the four uplift types in `uplift_segments`: a multinomial logit.

    Against lost causes (log-odds 0), the log-odds of being a
      sure thing   are -0.8 + 1.6 engagement - 0.6 tenure,
      sleeping dog are -2.2 + 1.4 engagement + 1.4 tenure,
      persuadable  are -0.8 + 1.5 discount_affinity.
    Engaged customers buy anyway (sure things) or, if they are long-standing, are put off
    by the e-mail (sleeping dogs); discount lovers are the persuadables. The true CATE of
    a customer is P(persuadable | x) - P(sleeping dog | x).
    """
    engagement = np.asarray(engagement, dtype=float)
    tenure = np.asarray(tenure, dtype=float)
    discount_affinity = np.asarray(discount_affinity, dtype=float)
    logits = np.stack([
        -1.0 + 1.5 * discount_affinity - 1.2 * engagement,  # persuadable
        -0.8 + 2.2 * engagement - 0.4 * tenure,  # sure thing
        np.zeros(np.broadcast(engagement, tenure, discount_affinity).shape),  # lost cause
        -1.6 + 2.0 * engagement + 1.2 * tenure,  # sleeping dog
    ], axis=-1)
    logits -= logits.max(axis=-1, keepdims=True)
    odds = np.exp(logits)
    return pd.DataFrame(odds / odds.sum(axis=-1, keepdims=True), columns=list(UPLIFT_SEGMENTS))


def uplift_segments(n: int = 20_000, *, seed: int = 0, treated_share: float = 0.5) -> Simulation:
    """A randomized e-mail campaign whose customers are the four uplift types: chapter 14.

    Features: ``engagement``, ``tenure`` and ``discount_affinity`` ~ N(0, 1) (standardized
    site visits, years as a customer and share of past purchases made on discount) and
    ``mobile`` ~ Bernoulli(0.5), which plays no role. Each customer belongs to one latent
    segment, drawn from `uplift_segment_probabilities`, which fixes both potential
    purchases:

      persuadable  Y(0) = 0, Y(1) = 1      sure thing    Y(0) = 1, Y(1) = 1
      lost cause   Y(0) = 0, Y(1) = 0      sleeping dog  Y(0) = 1, Y(1) = 0

    The e-mail ``T`` is randomized with probability ``treated_share``; ``Y`` is the
    purchase. ``potential_outcomes`` holds ``Y0``, ``Y1``, the individual ``effect``
    (-1, 0 or 1), the ``segment`` and the true ``cate`` = P(persuadable | x) -
    P(sleeping dog | x). ``truth["ATE"]`` is the population ATE (by Gauss-Hermite
    quadrature), with the population share of each segment.

    A stylized example (real purchase rates are far lower), built so that a response model
    and an uplift model visibly disagree.

    >>> sim = uplift_segments(1_000, seed=0)
    >>> round(sim.ate, 3)
    0.125
    """
    _require_n(n)
    if not (isinstance(treated_share, (int, float)) and 0 < treated_share < 1):
        raise ValueError(f"treated_share must be strictly between 0 and 1; got {treated_share!r}")
    rng = np.random.default_rng(seed)
    engagement, tenure, discount = rng.normal(size=(3, n))
    mobile = rng.binomial(1, 0.5, n)
    probabilities = uplift_segment_probabilities(engagement, tenure, discount).to_numpy()
    cumulative = probabilities.cumsum(axis=1)
    draw = rng.uniform(size=(n, 1))
    segment_index = np.minimum((draw > cumulative).sum(axis=1), 3)
    y0 = np.isin(segment_index, [1, 3]).astype(int)  # sure things and sleeping dogs buy anyway
    y1 = np.isin(segment_index, [0, 1]).astype(int)  # persuadables and sure things buy if e-mailed
    treatment = rng.binomial(1, treated_share, n)
    data = pd.DataFrame({"engagement": engagement, "tenure": tenure,
                         "discount_affinity": discount, "mobile": mobile,
                         "T": treatment, "Y": np.where(treatment == 1, y1, y0)})
    potential = pd.DataFrame({
        "Y0": y0, "Y1": y1, "effect": y1 - y0,
        "segment": np.asarray(UPLIFT_SEGMENTS)[segment_index],
        "cate": probabilities[:, 0] - probabilities[:, 3],
    })
    return Simulation(data=data, potential_outcomes=potential, truth=_uplift_segments_truth(),
                      description=f"Four uplift types, randomized e-mail: {n:,} customers.")


@functools.lru_cache(maxsize=1)
def _uplift_segments_truth() -> dict:
    """Population segment shares and ATE of `uplift_segments`, by 3-D Gauss-Hermite quadrature."""
    nodes, weights = np.polynomial.hermite_e.hermegauss(40)
    weights = weights / weights.sum()
    e, t, d = np.meshgrid(nodes, nodes, nodes, indexing="ij")
    w = (weights[:, None, None] * weights[None, :, None] * weights[None, None, :]).ravel()
    shares = w @ uplift_segment_probabilities(e.ravel(), t.ravel(), d.ravel()).to_numpy()
    truth = {"ATE": float(shares[0] - shares[3])}
    truth.update({f"share {name}": float(s) for name, s in zip(UPLIFT_SEGMENTS, shares, strict=True)})
    return truth


# Published arm averages of Hillstrom's (2008) MineThatData e-mail experiment (64,000
# customers, two weeks after the e-mail): visit rate, conversion rate, spend in dollars.
HILLSTROM_PUBLISHED = {
    "No E-Mail": {"visit": 0.1062, "conversion": 0.0057, "spend": 0.65},
    "Mens E-Mail": {"visit": 0.1828, "conversion": 0.0125, "spend": 1.42},
    "Womens E-Mail": {"visit": 0.1514, "conversion": 0.0088, "spend": 1.08},
}
_EMAIL_ARMS = ("No E-Mail", "Mens E-Mail", "Womens E-Mail")
_EMAIL_VISIT_INTERCEPT = (-2.302, -1.700, -1.933)  # calibrated to the published visit rates
_EMAIL_CONVERSION_INTERCEPT = (-3.095, -2.853, -3.090)  # ... and conversion rates
_EMAIL_MEDIAN_BASKET = (92.5, 89.5, 98.0)  # dollars; lognormal baskets, calibrated to spend


def _email_visit_index(arm: int, recency: np.ndarray, history: np.ndarray, mens: np.ndarray,
                       womens: np.ndarray, newbie: np.ndarray, web: np.ndarray,
                       multichannel: np.ndarray) -> np.ndarray:
    index = (_EMAIL_VISIT_INTERCEPT[arm] - 0.06 * (recency - 6) + 0.25 * np.log(history / 100)
             - 0.25 * newbie + 0.15 * web + 0.3 * multichannel)
    if arm == 1:  # the men's e-mail works on those who bought men's clothes, and recent buyers
        index = index + 0.45 * (mens - 0.55) - 0.04 * (recency - 6)
    if arm == 2:  # the women's e-mail on those who bought women's clothes
        index = index + 0.55 * (womens - 0.55) - 0.02 * (recency - 6)
    return index


def email_campaign(n: int = 64_000, *, seed: int = 0) -> Simulation:
    """A simulated e-mail experiment shaped like Hillstrom's MineThatData challenge: chapter 14.

    NOT the real data (it cannot be downloaded here): a simulation that mimics the
    published structure of Kevin Hillstrom's (2008) experiment. Customers who bought in the
    last twelve months were randomized in thirds (``segment``) to a men's merchandise
    e-mail, a women's merchandise e-mail, or no e-mail; outcomes over the next two weeks are
    ``visit`` (0/1), ``conversion`` (0/1) and ``spend`` (dollars). Covariates as in the
    original: ``recency`` (months since last purchase, 1-12), ``history`` (dollars spent in
    the past year), ``mens`` / ``womens`` (bought men's / women's merchandise in the past
    year), ``zip_code`` (Urban, Suburban, Rural), ``newbie`` (new customer in the past
    twelve months) and ``channel`` (Phone, Web, Multichannel).

    The arm averages are calibrated to the published ones (`HILLSTROM_PUBLISHED`: visits
    10.6%, 18.3%, 15.1%; conversions 0.57%, 1.25%, 0.88%; spend $0.65, $1.42, $1.08). The
    covariate shares and the effects' heterogeneity (each e-mail lifts visits most among
    customers who bought that kind of merchandise, and among recent buyers) are plausible
    choices of ours, not estimates from the real data.

    ``potential_outcomes`` holds each customer's visit probability and potential visit
    under every arm (``p_visit_*``, ``visit_*``), with one shared uniform draw per customer
    so that potential visits are coupled. ``truth`` gives the population-average visit
    effects of each e-mail over no e-mail (averaged over this sample's covariates).

    >>> sim = email_campaign(6_000, seed=0)
    >>> sorted(sim.data["segment"].unique())
    ['Mens E-Mail', 'No E-Mail', 'Womens E-Mail']
    """
    _require_n(n, 30)
    rng = np.random.default_rng(seed)
    recency_p = 1.0 - 0.05 * np.arange(12)
    recency = rng.choice(np.arange(1, 13), size=n, p=recency_p / recency_p.sum())
    history = np.round(29.99 + rng.lognormal(np.log(130.0), 1.0, n), 2)
    bought = rng.choice(3, size=n, p=[0.45, 0.45, 0.10])  # men's only, women's only, both
    mens = (bought != 1).astype(int)
    womens = (bought != 0).astype(int)
    zip_code = rng.choice(np.array(["Urban", "Suburban", "Rural"]), size=n, p=[0.40, 0.45, 0.15])
    newbie = rng.binomial(1, 0.5, n)
    channel = rng.choice(np.array(["Phone", "Web", "Multichannel"]), size=n, p=[0.44, 0.44, 0.12])
    web, multichannel = (channel == "Web").astype(int), (channel == "Multichannel").astype(int)
    arm = rng.permutation(np.arange(n) % 3)  # thirds, in random order

    visit_draw, conversion_draw = rng.uniform(size=(2, n))
    spend_scatter = np.exp(rng.normal(0.0, 0.7, n))  # a buyer's basket, relative to the median
    columns = {}
    for a, name in enumerate(("none", "mens", "womens")):
        index = _email_visit_index(a, recency, history, mens, womens, newbie, web, multichannel)
        p_visit = 1.0 / (1.0 + np.exp(-index))
        conversion_index = (_EMAIL_CONVERSION_INTERCEPT[a] + 0.3 * np.log(history / 100)
                            - 0.03 * (recency - 6))
        p_convert = 1.0 / (1.0 + np.exp(-conversion_index))
        visit = (visit_draw < p_visit).astype(int)
        conversion = visit * (conversion_draw < p_convert)
        spend = np.round(conversion * _EMAIL_MEDIAN_BASKET[a] * spend_scatter, 2)
        columns[name] = (p_visit, visit, conversion.astype(int), spend)
    pick = np.stack([columns[k][1] for k in ("none", "mens", "womens")], axis=1)
    picked_conversion = np.stack([columns[k][2] for k in ("none", "mens", "womens")], axis=1)
    picked_spend = np.stack([columns[k][3] for k in ("none", "mens", "womens")], axis=1)
    rows = np.arange(n)
    visit = pick[rows, arm]
    conversion = picked_conversion[rows, arm]
    data = pd.DataFrame({
        "recency": recency, "history": history, "mens": mens, "womens": womens,
        "zip_code": zip_code, "newbie": newbie, "channel": channel,
        "segment": np.asarray(_EMAIL_ARMS)[arm],
        "visit": visit, "conversion": conversion,
        "spend": picked_spend[rows, arm],
    })
    potential = pd.DataFrame({f"{kind}_{name}": columns[name][i]
                              for name in ("none", "mens", "womens")
                              for i, kind in ((0, "p_visit"), (1, "visit"))})
    truth = {
        "visit ATE mens": float((columns["mens"][0] - columns["none"][0]).mean()),
        "visit ATE womens": float((columns["womens"][0] - columns["none"][0]).mean()),
    }
    return Simulation(data=data, potential_outcomes=potential, truth=truth,
                      description=f"A simulated Hillstrom-style e-mail experiment: {n:,} customers.")
