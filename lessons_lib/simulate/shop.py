"""The banner shop: the book's first running example (chapters 01-03)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from lessons_lib.simulate._core import Simulation, _require_n

__all__ = ['six_shoppers', 'banner_effect', 'banner_shop', 'BANNER_SHOP_ATE']


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
    truth = {
        "ATE": BANNER_SHOP_ATE,
        "ATT": float(effect[treatment == 1].mean()) if treatment.any() else float("nan"),
        "sample ATE": float(effect.mean()),
    }
    how = "a fair coin" if randomized else "the shop's targeting of big spenders"
    return Simulation.observe(
        {"prior_spend": prior_spend.round(2), "visits": visits, "mobile": mobile},
        treatment=treatment, y0=y0, effect=effect, truth=truth,
        hidden={"propensity": propensity},
        description=f"The banner shop: {n:,} shoppers, banner assigned by {how}.",
    )
