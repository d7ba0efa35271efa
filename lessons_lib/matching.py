"""Nearest-neighbour matching for the effect on the treated. See chapter 03.

Matching builds, for every treated unit, a comparison from the untreated units that look
most like it: the nearest in the propensity score e(X) = P(T = 1 | X) or in the
covariates themselves. If treatment is unconfounded given X (no unmeasured confounders)
and every treated unit has comparable controls (overlap), the matched controls' outcomes
stand in for the treated units' missing Y(0), and

    ATT = E[Y(1) - Y(0) | T = 1]  is estimated by  (1/N1) sum_{i: T_i = 1} (Y_i - Yhat_i(0)),

with Yhat_i(0) the mean outcome of unit i's matched controls.

Standard errors: the formula of Abadie and Imbens (2006), not the bootstrap, which
Abadie and Imbens (2008) showed to be invalid for nearest-neighbour matching with
replacement (a control reused many times makes the resampled estimator behave unlike the
real one). See `matching_att` for the formula and its one caveat.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from lessons_lib._validate import (
    require_binary,
    require_columns,
    require_frame,
    require_level,
    require_min_group_size,
)
from lessons_lib.estimate import Estimate
from lessons_lib.propensity import (
    check_overlap,
    estimate_propensity,
    logistic_propensity,
    standardized_mean_differences,
)


@dataclass(frozen=True, repr=False)
class Matches:
    """Who was matched to whom.

    Attributes
    ----------
    treated : row positions (0 to n - 1) of the treated units that found matches.
    controls : array of shape (len(treated), n_neighbors): row positions of their controls.
    distances : the matching distances, same shape as ``controls``.
    unmatched : row positions of treated units left without a match (by the caliper).
    n : the number of rows of the data.
    replace : whether a control could be used more than once.
    points : the matching score of every row, as a matrix with one row per unit.
    """

    treated: np.ndarray
    controls: np.ndarray
    distances: np.ndarray
    unmatched: np.ndarray
    n: int
    replace: bool
    points: np.ndarray

    @property
    def n_neighbors(self) -> int:
        return int(self.controls.shape[1])

    @property
    def times_used(self) -> np.ndarray:
        """How many times each row serves as a match (0 for treated and unused controls)."""
        return np.bincount(self.controls.ravel(), minlength=self.n)

    @property
    def weights(self) -> np.ndarray:
        """Matching weights per row: 1 for a matched treated unit, K_j / M for a control used
        K_j times with M neighbours per treated unit, 0 for everyone else. Weighted means
        with these weights are the means of the matched sample."""
        weights = self.times_used / self.n_neighbors
        weights[self.treated] = 1.0
        return weights

    def __repr__(self) -> str:
        distinct = int(np.count_nonzero(self.times_used))
        how = "with" if self.replace else "without"
        return (
            f"Matches({len(self.treated):,} treated matched to {distinct:,} distinct controls, "
            f"{self.n_neighbors} per treated unit, {how} replacement; "
            f"{len(self.unmatched):,} treated unmatched)"
        )


def nearest_neighbors(
    score: np.ndarray,
    treatment: np.ndarray,
    *,
    n_neighbors: int = 1,
    replace: bool = True,
    caliper: float | None = None,
) -> Matches:
    """Match every treated unit to its ``n_neighbors`` nearest controls on ``score``.

    ``score`` is one number per unit (a propensity score or its logit) or a matrix with one
    row per unit (scaled covariates); distances are Euclidean. With ``replace=True`` each
    treated unit takes its nearest controls whether or not others took them. With
    ``replace=False`` treated units are matched greedily, hardest first (highest score when
    the score is one number, else in row order), and each control is used at most once.
    Among equally distant controls the one that comes first in the data wins, so results
    are reproducible and match a by-hand ``argmin``.
    A treated unit whose farthest needed match lies beyond ``caliper`` (in the units of
    ``score``) is left unmatched. See chapter 03.

    >>> matches = nearest_neighbors(np.array([0.1, 0.5, 0.45, 0.9, 0.2]), np.array([1, 1, 0, 0, 0]))
    >>> matches.controls.ravel().tolist()
    [4, 2]
    """
    score = np.asarray(score, dtype=float)
    points = score.reshape(len(score), -1)
    treatment = np.asarray(treatment)
    if not np.isfinite(points).all():
        raise ValueError("the matching score has NaN or infinite values; check the propensity model")
    if not isinstance(n_neighbors, (int, np.integer)) or n_neighbors < 1:
        raise ValueError(f"n_neighbors must be a whole number of at least 1; got {n_neighbors!r}")
    if caliper is not None and not (np.isfinite(caliper) and caliper > 0):
        raise ValueError(f"caliper must be a positive number (or None for no caliper); got {caliper!r}")
    treated_rows = np.flatnonzero(treatment == 1)
    control_rows = np.flatnonzero(treatment == 0)
    if len(control_rows) < n_neighbors:
        raise ValueError(
            f"only {len(control_rows)} control unit(s) for {n_neighbors} neighbour(s) per treated "
            "unit; use fewer neighbours"
        )
    if not replace and len(control_rows) < n_neighbors * len(treated_rows):
        raise ValueError(
            f"matching without replacement needs at least {n_neighbors * len(treated_rows):,} "
            f"controls for {len(treated_rows):,} treated units and {n_neighbors} neighbour(s) "
            f"each, but there are {len(control_rows):,}; match with replacement instead"
        )
    tree = cKDTree(points[control_rows])
    if replace:
        distances, positions = _nearest_first_in_row_order(tree, points[treated_rows], n_neighbors)
    else:
        distances, positions = _greedy_without_replacement(tree, points, treated_rows, n_neighbors)
    keep = np.ones(len(treated_rows), dtype=bool)
    if caliper is not None:
        keep = distances[:, -1] <= caliper
    return Matches(
        treated=treated_rows[keep],
        controls=control_rows[positions[keep]],
        distances=distances[keep],
        unmatched=treated_rows[~keep],
        n=len(treatment),
        replace=replace,
        points=points,
    )


def _query(tree: cKDTree, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    distances, positions = tree.query(queries, k=k)
    return distances.reshape(len(queries), k), positions.reshape(len(queries), k)


def _tie_key(distances: np.ndarray) -> np.ndarray:
    """Distances rounded to 1e-10, so that ties in exact arithmetic stay ties in floating point.

    With discrete covariates, two controls are often exactly equally far from a treated unit
    (one a year older, one a year younger); computed distances then differ in the last bit,
    and which one wins would depend on the BLAS thread count. Rounding first makes both a tie,
    which the row order then settles.
    """
    return np.round(distances, 10)


def _nearest_first_in_row_order(
    tree: cKDTree, queries: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """The k nearest tree points of each query, ties going to the earlier row of the data.

    A k-d tree returns equidistant points in no particular order; so ask for a few more,
    sort by (distance to 1e-10, position), and ask again with more wherever the tie might continue
    beyond what was returned. The result no longer depends on the tree's internals.
    """
    extra = min(tree.n, k + 8)
    distances, positions = _query(tree, queries, extra)
    order = np.lexsort((positions, _tie_key(distances)), axis=-1)
    distances = np.take_along_axis(distances, order, axis=-1)
    positions = np.take_along_axis(positions, order, axis=-1)
    keys = _tie_key(distances)
    open_ties = np.flatnonzero((keys[:, k - 1] == keys[:, -1]) & (extra < tree.n))
    for row in open_ties:
        size = extra
        while True:
            size = min(tree.n, 2 * size)
            found_distances, found = _query(tree, queries[row:row + 1], size)
            found_keys = _tie_key(found_distances)
            if found_keys[0, k - 1] < found_keys[0, -1] or size == tree.n:
                break
        order = np.lexsort((found[0], found_keys[0]))
        distances[row, :k] = found_distances[0, order[:k]]
        positions[row, :k] = found[0, order[:k]]
    return distances[:, :k], positions[:, :k]


def _greedy_without_replacement(
    tree: cKDTree, points: np.ndarray, treated_rows: np.ndarray, n_neighbors: int
) -> tuple[np.ndarray, np.ndarray]:
    order = np.arange(len(treated_rows))
    if points.shape[1] == 1:  # hardest first: the highest scores have the fewest controls near
        order = np.argsort(-points[treated_rows, 0], kind="stable")
    used = np.zeros(tree.n, dtype=bool)
    distances = np.empty((len(treated_rows), n_neighbors))
    positions = np.empty((len(treated_rows), n_neighbors), dtype=np.intp)
    n_used = 0
    for i in order:
        # at most n_used of the nearest are taken, so this many always holds enough free ones
        k = min(tree.n, n_neighbors + n_used)
        found_distances, found = _nearest_first_in_row_order(tree, points[treated_rows[i]][None, :], k)
        found_distances, found = found_distances[0], found[0]
        free = ~used[found]
        positions[i] = found[free][:n_neighbors]
        distances[i] = found_distances[free][:n_neighbors]
        used[positions[i]] = True
        n_used += n_neighbors
    return distances, positions


def _logit(propensity: np.ndarray) -> np.ndarray:
    return np.log(propensity / (1 - propensity))


def match(
    data: pd.DataFrame,
    *,
    treatment: str,
    covariates: Sequence[str],
    on: str = "propensity",
    propensity: np.ndarray | None = None,
    propensity_model: object | None = None,
    scale: str = "logit",
    n_neighbors: int = 1,
    replace: bool = True,
    caliper: float | None = None,
) -> Matches:
    """Match treated units to controls on the estimated propensity score or on covariates.

    on="propensity" (the default): e(X) is estimated by an unpenalized logistic regression
      of the treatment on ``covariates`` (`lessons_lib.propensity.logistic_propensity`), or
      by any scikit-learn classifier passed as ``propensity_model``
      (`lessons_lib.propensity.estimate_propensity`), or taken from ``propensity`` when you
      computed it yourself; units are matched on its
      logit (``scale="logit"``, which spreads out scores near 0 and 1) or on e(X) itself
      (``scale="propensity"``).
    on="covariates": units are matched on the covariates divided by their standard
      deviations (Euclidean distance on standardized covariates, as in Abadie and Imbens).

    ``caliper`` is in standard deviations of the matching score (0.2 of the logit's SD is
    the common choice, Austin 2011); treated units without a control that close are left
    unmatched, which changes the estimand to the effect on the matched treated.

    Raises ValueError for a non-binary treatment, missing covariates, propensities at 0 or
    1 (no overlap: those treated units have no comparable controls), or impossible
    settings. See chapter 03.
    """
    require_frame(data)
    t = require_binary(data, treatment)
    require_min_group_size(t, 1, column=treatment)
    if isinstance(covariates, str) or len(covariates) == 0:
        raise ValueError("covariates must be a non-empty list of column names, e.g. ['age', 'educ']")
    require_columns(data, list(covariates))
    if on == "propensity":
        if scale not in ("logit", "propensity"):
            raise ValueError(f"scale must be 'logit' or 'propensity'; got {scale!r}")
        if propensity is None and propensity_model is None:
            propensity = logistic_propensity(data, treatment=treatment, covariates=covariates)
        elif propensity is None:
            propensity = estimate_propensity(data, treatment=treatment, covariates=covariates,
                                             propensity_model=propensity_model)
        propensity = np.asarray(propensity, dtype=float)
        if propensity.shape != (len(data),):
            raise ValueError(
                f"propensity must hold one score per row ({len(data)}); got shape {propensity.shape}"
            )
        check_overlap(propensity)
        score = _logit(propensity) if scale == "logit" else propensity
    elif on == "covariates":
        x = data[list(covariates)].to_numpy(dtype=float)
        spread = x.std(axis=0, ddof=1)
        if (spread == 0).any():
            constant = [c for c, s in zip(covariates, spread, strict=True) if s == 0]
            raise ValueError(f"covariate(s) {constant} do not vary; drop them before matching")
        score = x / spread
    else:
        raise ValueError(f"on must be 'propensity' or 'covariates'; got {on!r}")
    width = None
    if caliper is not None:
        if not (isinstance(caliper, (int, float)) and caliper > 0):
            raise ValueError(f"caliper must be a positive number of standard deviations; got {caliper!r}")
        spread = score.std(ddof=1) if score.ndim == 1 else 1.0
        width = caliper * spread
    return nearest_neighbors(score, t, n_neighbors=n_neighbors, replace=replace, caliper=width)


def _same_arm_variance(points: np.ndarray, y: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """sigma^2(X_i, T_i) for ``rows``: half the squared outcome gap to the nearest unit of the
    same arm on the matching score (Abadie and Imbens's estimator with J = 1)."""
    tree = cKDTree(points[rows])
    _, nearest = tree.query(points[rows], k=2)
    # the first neighbour is the unit itself unless duplicates tie with it; take the other
    self_position = np.arange(len(rows))
    partner = np.where(nearest[:, 0] == self_position, nearest[:, 1], nearest[:, 0])
    return 0.5 * (y[rows] - y[rows[partner]]) ** 2


def matching_att(
    data: pd.DataFrame,
    *,
    outcome: str,
    treatment: str,
    covariates: Sequence[str],
    on: str = "propensity",
    propensity: np.ndarray | None = None,
    propensity_model: object | None = None,
    scale: str = "logit",
    n_neighbors: int = 1,
    replace: bool = True,
    caliper: float | None = None,
    bias_correction: bool = False,
    level: float = 0.95,
) -> Estimate:
    """Nearest-neighbour matching estimate of the ATT, with the Abadie-Imbens standard error.

    Estimand: ATT = E[Y(1) - Y(0) | T = 1] (with a caliper that drops treated units: the
    ATT over the treated units that found matches).

    Formula: match each treated unit i to its M = ``n_neighbors`` nearest controls J(i)
    (see `match` for the options), then

        tau_hat = (1/N1) sum_i (Y_i - Yhat_i(0)),   Yhat_i(0) = (1/M) sum_{j in J(i)} Y_j.

    Standard error (Abadie and Imbens 2006, for the population ATT): with K_j the number of
    times control j is used and sigma_j^2 its outcome variance estimated from its nearest
    control on the matching score,

        V = (1/N1^2) [ sum_i (Y_i - Yhat_i(0) - tau_hat)^2 + sum_j K_j (K_j - 1) / M^2 sigma_j^2 ].

    The first sum treats each treated unit's comparison as independent; the second adds
    the covariance created when controls are reused (it is zero without replacement). The
    naive bootstrap is not used: it is invalid for nearest-neighbour matching (Abadie and
    Imbens 2008).

    Bias correction (``bias_correction=True``, Abadie and Imbens 2011): matches are never
    exact, and where controls are sparse the matched control differs systematically from
    its treated unit. Fit mu0(x), a linear regression of Y on the covariates among the
    matched controls (weighted by K_j), and use Yhat_i(0) = (1/M) sum_j [Y_j + mu0(X_i) -
    mu0(X_j)]: each control's outcome is moved to its treated unit's covariates.

    Assumptions: no unmeasured confounding given the covariates, overlap (every treated
    unit has similar controls), and a correct propensity model when matching on it. The
    variance treats the matching score as known; Abadie and Imbens (2016) show that
    estimating the propensity changes the ATT's variance by a term of either sign, so the
    interval is approximate (its coverage is checked in simulation by the library's tests).
    See chapter 03.

    >>> from lessons_lib import simulate
    >>> sim = simulate.banner_shop(2_000, seed=23)
    >>> est = matching_att(sim.data, outcome="Y", treatment="T",
    ...                    covariates=["prior_spend", "visits", "mobile"], bias_correction=True)
    >>> est.covers(sim.att)
    True
    """
    require_frame(data)
    require_level(level)
    require_columns(data, [outcome])
    if outcome in covariates or treatment in covariates:
        raise ValueError("covariates must not include the treatment or the outcome column")
    matches = match(data, treatment=treatment, covariates=covariates, on=on,
                    propensity=propensity, propensity_model=propensity_model, scale=scale,
                    n_neighbors=n_neighbors, replace=replace, caliper=caliper)
    n_matched = len(matches.treated)
    if n_matched < 2:
        raise ValueError(
            f"only {n_matched} treated unit(s) found a control within the caliper; a standard "
            "error needs at least 2. Widen the caliper (or drop it)"
        )
    y = data[outcome].to_numpy(dtype=float)
    imputed = y[matches.controls].mean(axis=1)
    if bias_correction:
        imputed = imputed + _regression_adjustment(data, covariates, y, matches)
    gaps = y[matches.treated] - imputed
    tau = float(gaps.mean())

    times_used = matches.times_used
    reused = np.flatnonzero(times_used > 1)
    covariance_term = 0.0
    if len(reused):
        t = data[treatment].to_numpy(dtype=float).astype(int)
        controls = np.flatnonzero(t == 0)
        if len(controls) < 2:
            raise ValueError("a standard error needs at least 2 control units")
        variance = np.zeros(len(y))
        variance[controls] = _same_arm_variance(matches.points, y, controls)
        k = times_used[reused]
        covariance_term = float(np.sum(k * (k - 1) * variance[reused])) / n_neighbors**2
    se = float(np.sqrt((np.sum((gaps - tau) ** 2) + covariance_term) / n_matched**2))
    if not se > 0:
        raise ValueError(
            f"outcome '{outcome}' gives a standard error of 0 (no variation in the matched "
            "differences); check the outcome column"
        )
    what = "propensity score" if on == "propensity" else "covariates"
    what += ", bias-corrected" if bias_correction else ""
    how = "with" if replace else "without"
    estimand = "ATT" if len(matches.unmatched) == 0 else "ATT (matched treated)"
    return Estimate.from_se(
        tau,
        se,
        n=n_matched + int(np.count_nonzero(times_used)),
        estimand=estimand,
        method=f"1:{n_neighbors} nearest-neighbour matching on the {what}, {how} replacement "
               "(Abadie-Imbens SE)",
        level=level,
        extra={
            "treated_matched": n_matched,
            "treated_unmatched": len(matches.unmatched),
            "distinct_controls": int(np.count_nonzero(times_used)),
        },
    )


def _regression_adjustment(
    data: pd.DataFrame, covariates: Sequence[str], y: np.ndarray, matches: Matches
) -> np.ndarray:
    """mean_j [mu0(X_i) - mu0(X_j)] for each matched treated unit i (Abadie-Imbens 2011)."""
    x = np.column_stack([np.ones(len(data)), data[list(covariates)].to_numpy(dtype=float)])
    used = np.flatnonzero(matches.times_used)
    weights = np.sqrt(matches.times_used[used].astype(float))
    coefficients, _, rank, _ = np.linalg.lstsq(x[used] * weights[:, None], y[used] * weights,
                                               rcond=None)
    if rank < x.shape[1]:
        raise ValueError(
            f"the bias-correction regression is singular: {len(used)} matched controls cannot "
            f"identify {x.shape[1]} coefficients, or a covariate is constant among them; use "
            "fewer covariates or bias_correction=False"
        )
    fitted = x @ coefficients
    return fitted[matches.treated] - fitted[matches.controls].mean(axis=1)


def balance_table(
    data: pd.DataFrame,
    *,
    treatment: str,
    covariates: Sequence[str],
    matches: Matches,
) -> pd.DataFrame:
    """Standardized mean differences of each covariate before and after matching.

    Uses `lessons_lib.propensity.standardized_mean_differences`; "after" weights the
    matched sample by `Matches.weights`, on the same (unmatched) pooled-SD scale, so the
    two columns are comparable. |SMD| below 0.1 is the usual mark of balance. See chapter 03.
    """
    before = standardized_mean_differences(data, treatment=treatment, covariates=covariates)
    after = standardized_mean_differences(data, treatment=treatment, covariates=covariates,
                                          weights=matches.weights)
    return pd.DataFrame({"before": before, "after": after})
