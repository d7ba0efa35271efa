"""Uplift: four kinds of customer and an e-mail campaign (chapter 14)."""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd

from lessons_lib.simulate._core import Simulation, _require_n

__all__ = ['uplift_segment_probabilities', 'uplift_segments', 'email_campaign', 'UPLIFT_SEGMENTS', 'HILLSTROM_PUBLISHED']


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
