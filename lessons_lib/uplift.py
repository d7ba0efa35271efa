"""Uplift modeling: judge a targeting score, and value a targeting policy. See chapter 14.

An *uplift model* is a CATE model used to decide whom to treat (e-mail, call, discount):
it ranks units by their predicted effect tau(x) = E[Y(1) - Y(0) | X = x] (chapter 13
builds the meta-learners that produce it). On held-out *randomized* data (treatment
independent of X, with known probability e(x)), two questions have model-free answers:

1. **How good is the ranking?** Sort the units by score, highest first. For the top k
   units, with N_t(k), N_c(k) treated and control units among them and R_t(k), R_c(k)
   their summed outcomes,

   - the *uplift curve* (Gutierrez and Gerardy, 2017) estimates the extra outcomes had
     the top k all been treated rather than not::

         U(k) = (R_t(k) / N_t(k) - R_c(k) / N_c(k)) * k

   - the *Qini curve* (Radcliffe, 2007) counts the treated top-k's outcomes in excess
     of the control top-k's, scaled to the treated count::

         Q(k) = R_t(k) - R_c(k) * N_t(k) / N_c(k)

   Both start at 0 and end at the whole sample's (scaled) effect; random targeting is the
   straight line between. The area between a curve and that line is the curve's
   summary: `curve_area` (for the Qini curve, the Qini coefficient).

2. **What would a policy achieve?** For a policy pi(x) in {0, 1}, the value
   V(pi) = E[Y(pi(X))] is estimated by inverse-propensity weighting
   (Horvitz-Thompson; Dudik, Langford and Li, 2011)::

       V_hat = mean_i( Y_i * 1{T_i = pi(X_i)} / P(T_i = pi(X_i) | X_i) )

   with standard error sd / sqrt(n) of those terms. Its gain over a baseline policy
   (treating nobody, say) uses the difference of the two terms per unit: `policy_value`.
   `target_top` turns a score and a budget into a policy.

Assumptions: the evaluation data are randomized (or the propensity is known and
positive), units do not interfere, and the score was fitted on *other* units; scoring
the units a model was trained on rewards overfitting.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lessons_lib.estimate import Estimate

__all__ = ["uplift_curve", "curve_area", "target_top", "policy_value"]


# --- input checks ----------------------------------------------------------------------------

def _as_vector(values: object, name: str, *, n: int | None = None) -> np.ndarray:
    """A 1-D finite float array, with an error a learner can act on."""
    if isinstance(values, str):
        raise ValueError(f"{name} must be an array with one value per unit, not the string "
                         f"{values!r}; pass data[{values!r}]")
    try:
        array = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numeric, one value per unit: {exc}") from None
    if array.ndim == 2 and 1 in array.shape:
        array = array.ravel()
    if array.ndim != 1 or array.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array, one value per unit; got shape "
                         f"{array.shape}")
    if not np.isfinite(array).all():
        bad = int((~np.isfinite(array)).sum())
        raise ValueError(f"{name} has {bad} missing or infinite value(s); drop those units first")
    if n is not None and array.size != n:
        raise ValueError(f"{name} has {array.size} values but the other inputs have {n}; pass "
                         "one value per unit, for the same units")
    return array


def _as_binary(values: object, name: str, *, n: int | None = None) -> np.ndarray:
    array = _as_vector(values, name, n=n)
    if not ((array == 0) | (array == 1)).all():
        found = np.unique(array)
        raise ValueError(f"{name} must be 0/1; found values {found[:10].tolist()}"
                         + (" ..." if found.size > 10 else ""))
    return array.astype(int)


def _check_treatment(T: object, n: int | None = None) -> np.ndarray:
    t = _as_binary(T, "T", n=n)
    n_treated = int(t.sum())
    if n_treated == 0 or n_treated == t.size:
        raise ValueError(f"T has only {'treated' if n_treated else 'control'} units: uplift "
                         "needs both treated (1) and control (0) units in the evaluation data")
    return t


# --- curves ----------------------------------------------------------------------------------

def uplift_curve(score: object, T: object, Y: object) -> pd.DataFrame:
    """The uplift and Qini curves of a targeting score on randomized data.

    Units are sorted by ``score``, highest first; tied scores are targeted together (the
    curve has a point only where the score changes, so the order of ties never matters).
    At each point, with k units targeted, N_t / N_c of them treated / control and R_t / R_c
    their summed outcomes:

        uplift(k) = (R_t / N_t - R_c / N_c) * k          (Gutierrez and Gerardy, 2017)
        qini(k)   = R_t - R_c * N_t / N_c                 (Radcliffe, 2007)

    A mean over an empty arm counts as 0 (the first points, before both arms appear).
    The curves estimate the extra outcomes from treating the top k units (``uplift``) or
    the top k's treated units (``qini``) instead of no one, and need randomized T.

    Returns a DataFrame, one row per point, starting at (0, 0): ``n_targeted``,
    ``fraction`` (n_targeted / n), ``n_treated``, ``n_control``, ``uplift``, ``qini``,
    and ``random_uplift`` / ``random_qini``, the straight lines of random targeting.
    See chapter 14.

    >>> import numpy as np
    >>> curve = uplift_curve([0.9, 0.8, 0.2, 0.1], [1, 0, 1, 0], [1, 0, 0, 0])
    >>> curve["qini"].tolist()
    [0.0, 1.0, 1.0, 1.0, 1.0]
    """
    s = _as_vector(score, "score")
    t = _check_treatment(T, n=s.size)
    y = _as_vector(Y, "Y", n=s.size)
    # Group the units by distinct score (a hash, then a sort of the distinct scores only),
    # total each group, and accumulate the groups from the highest score down: one curve
    # point per distinct score, so tied units are always targeted together.
    codes, distinct = pd.factorize(s + 0.0, sort=False)  # + 0.0 turns -0.0 into 0.0: one score
    order = np.argsort(-distinct)
    n_groups = distinct.size

    def running_total(weights: np.ndarray) -> np.ndarray:
        return np.cumsum(np.bincount(codes, weights=weights, minlength=n_groups)[order])

    n_treated = running_total(t.astype(float))
    n_control = running_total(1.0 - t)
    sum_treated = running_total(y * t)
    sum_control = running_total(y * (1 - t))
    n_targeted = n_treated + n_control
    mean_treated = np.divide(sum_treated, n_treated, out=np.zeros(n_groups), where=n_treated > 0)
    mean_control = np.divide(sum_control, n_control, out=np.zeros(n_groups), where=n_control > 0)
    uplift = (mean_treated - mean_control) * n_targeted
    qini = sum_treated - np.divide(sum_control * n_treated, n_control, out=np.zeros(n_groups),
                                   where=n_control > 0)
    fraction = n_targeted / s.size
    n_targeted, n_treated, n_control = (np.rint(a).astype(int)
                                        for a in (n_targeted, n_treated, n_control))
    curve = pd.DataFrame({
        "n_targeted": np.r_[0, n_targeted], "fraction": np.r_[0.0, fraction],
        "n_treated": np.r_[0, n_treated], "n_control": np.r_[0, n_control],
        "uplift": np.r_[0.0, uplift], "qini": np.r_[0.0, qini],
    })
    curve["random_uplift"] = curve["fraction"] * uplift[-1]
    curve["random_qini"] = curve["fraction"] * qini[-1]
    return curve


def curve_area(curve: pd.DataFrame, column: str = "qini", *, over_random: bool = True,
               per_unit: bool = False) -> float:
    """The area under an uplift or Qini curve, by the trapezoid rule over the fraction targeted.

    With ``over_random=True`` (the default) the area of random targeting, the triangle
    under the straight line from (0, 0) to (1, end), is subtracted: what the ranking adds
    over targeting at random. For ``column="qini"`` that is Radcliffe's Qini coefficient
    (unnormalized). ``per_unit=True`` divides by the number of units, giving an area in the
    outcome's own units per customer. See chapter 14.

    >>> curve = uplift_curve([0.9, 0.8, 0.2, 0.1], [1, 0, 1, 0], [1, 0, 0, 0])
    >>> curve_area(curve, "qini")
    0.375
    """
    if not isinstance(curve, pd.DataFrame) or "fraction" not in curve.columns:
        raise ValueError("curve must be the DataFrame returned by uplift_curve(score, T, Y)")
    if column not in ("uplift", "qini"):
        raise ValueError(f"column must be 'uplift' or 'qini'; got {column!r}")
    x = curve["fraction"].to_numpy(dtype=float)
    y = curve[column].to_numpy(dtype=float)
    area = float(np.sum((x[1:] - x[:-1]) * (y[1:] + y[:-1]) / 2))
    if over_random:
        area -= float(y[-1]) / 2
    if per_unit:
        area /= float(curve["n_targeted"].iloc[-1])
    return area


# --- policies ----------------------------------------------------------------------------------

def target_top(score: object, budget: float, *, min_score: float | None = None) -> np.ndarray:
    """The policy "treat the units with the highest scores, within a budget": a 0/1 array.

    ``budget`` is a share of the units (a number in (0, 1]) or a count (a whole number
    >= 1). The highest-scoring units are treated first; units tied at the budget's edge are
    kept in their original order (a stable sort). With ``min_score`` given (say 0, or the
    cost of treating in outcome units), units whose score is not above it are never treated,
    even if the budget allows: a predicted sleeping dog is left alone. See chapter 14.

    >>> target_top([0.3, -0.1, 0.5, 0.2], 0.5).tolist()
    [1, 0, 1, 0]
    """
    s = _as_vector(score, "score")
    if isinstance(budget, (bool, np.bool_)) or not isinstance(budget, (int, float, np.integer,
                                                                       np.floating)):
        raise ValueError(f"budget must be a share in (0, 1] or a count >= 1; got {budget!r}")
    if 0 < budget <= 1 and not (isinstance(budget, (int, np.integer)) and budget == 1):
        count = int(np.floor(budget * s.size + 1e-9))
    elif budget >= 1 and float(budget).is_integer():
        count = int(budget)
        if count > s.size:
            raise ValueError(f"budget of {count} units exceeds the {s.size} units scored")
    else:
        raise ValueError(f"budget must be a share in (0, 1] or a whole count >= 1; got {budget!r}")
    policy = np.zeros(s.size, dtype=int)
    policy[np.argsort(-s, kind="stable")[:count]] = 1
    if min_score is not None:
        policy[s <= min_score] = 0
    return policy


def policy_value(policy: object, T: object, Y: object, propensity: float | object = 0.5, *,
                 baseline: object | None = None, level: float = 0.95) -> Estimate:
    """The inverse-propensity (IPW) estimate of a targeting policy's value, with its SE.

    Estimand: V(pi) = E[Y(pi(X))], the mean outcome if every unit got the treatment the
    policy chooses. On data where T was randomized with P(T = 1 | X) = e(X) (a number, or
    one probability per unit):

        score_i = Y_i * 1{T_i = pi_i} / P(T_i = pi_i | X_i),
        P(T_i = pi_i | X_i) = e(X_i) if pi_i = 1 else 1 - e(X_i),

    V_hat = mean(score_i), SE = sd(score_i) / sqrt(n). Only the units whose random
    treatment happens to match the policy count, weighted up by how unlikely the match was.
    With ``baseline`` (another 0/1 policy, such as ``np.zeros(n)`` for "treat no one"), the
    estimand is the gain V(pi) - V(baseline), estimated by the mean of the difference of
    the two scores unit by unit (so the SE accounts for their correlation); against
    "treat no one" it is E[pi(X) tau(X)], the incremental outcome per unit.

    Assumptions: e(X) is the true assignment probability (known in an experiment) and
    strictly between 0 and 1; no interference; ``policy`` was chosen without looking at
    these units' outcomes (held-out data). The SE treats the units as a sample from a
    population. See chapter 14.

    >>> import numpy as np
    >>> est = policy_value([1, 1, 0, 0], [1, 0, 0, 1], [1.0, 0.0, 1.0, 0.0])
    >>> est.value
    1.0
    """
    pi = _as_binary(policy, "policy")
    n = pi.size
    t = _check_treatment(T, n=n)
    y = _as_vector(Y, "Y", n=n)
    if isinstance(propensity, (int, float, np.integer, np.floating)) and not isinstance(
            propensity, (bool, np.bool_)):
        e = np.full(n, float(propensity))
    else:
        e = _as_vector(propensity, "propensity", n=n)
    if ((e <= 0) | (e >= 1)).any():
        raise ValueError("propensity must be strictly between 0 and 1 for every unit (no "
                         "overlap otherwise): a unit that could never get the policy's "
                         "treatment cannot tell us what it would do. Pass the experiment's "
                         "assignment probability, e.g. 0.5")
    if not (isinstance(level, (int, float)) and 0 < level < 1):
        raise ValueError(f"level must be a number between 0 and 1, such as 0.95; got {level!r}")
    if n < 2:
        raise ValueError("need at least 2 units to estimate a policy value and its SE")

    def ipw_terms(chosen: np.ndarray) -> np.ndarray:
        match_probability = np.where(chosen == 1, e, 1 - e)
        return y * (t == chosen) / match_probability

    terms = ipw_terms(pi)
    estimand, method = "policy value", "IPW (Horvitz-Thompson)"
    if baseline is not None:
        base = _as_binary(baseline, "baseline", n=n)
        terms = terms - ipw_terms(base)
        estimand = "policy gain over baseline"
    return Estimate.from_se(terms.mean(), terms.std(ddof=1) / np.sqrt(n), n=n, estimand=estimand,
                            method=method, level=level,
                            extra={"share_treated": float(pi.mean())})
