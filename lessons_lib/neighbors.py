"""Nearest neighbours with ties, the search behind matching. See chapter 03.

Abadie and Imbens (2006) define the match set of a treated unit i as every control at least
as close as its M-th nearest control,

    J_M(i) = { j : T_j = 0 and ||X_j - X_i|| <= d_M(i) },   d_M(i) = the M-th smallest distance,

so a tie at the M-th place brings in every tied control, and each member of J_M(i) gets
the weight 1 / #J_M(i). With discrete covariates ties are the rule (many controls share
the same age, schooling and zero earnings); averaging over all of them makes the
estimate independent of the order of the rows and uses every comparable control, where
"first in the data wins" would pick a few of them arbitrarily.

Distances that agree to within 1e-9 (relative) count as equal, so that ties in exact
arithmetic stay ties in floating point.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

__all__ = ["Matches", "nearest_neighbors", "same_arm_variance"]

#: distances within this relative tolerance of the M-th smallest one are ties
TIE_TOLERANCE = 1e-9


@dataclass(frozen=True, repr=False)
class Matches:
    """Who was matched to whom, with the Abadie-Imbens tie weights.

    The match sets are stored flat, one entry per (treated unit, control) pair:

    treated : row positions (0 to n - 1) of the treated units that found matches.
    owner : for each pair, the index into ``treated`` of its treated unit.
    controls : for each pair, the row position of the control.
    distances : for each pair, the matching distance.
    pair_weights : for each pair, 1 / #J_M(i), the control's share in Yhat_i(0).
    unmatched : row positions of treated units left without a match (caliper or
        common support).
    n : the number of rows of the data.
    n_neighbors : M, the number of neighbours asked for.
    replace : whether a control could be used more than once.
    points : the matching score of every row, as a matrix with one row per unit.
    """

    treated: np.ndarray
    owner: np.ndarray
    controls: np.ndarray
    distances: np.ndarray
    pair_weights: np.ndarray
    unmatched: np.ndarray
    n: int
    n_neighbors: int
    replace: bool
    points: np.ndarray

    @property
    def set_sizes(self) -> np.ndarray:
        """#J_M(i) for each matched treated unit: M, or more where the M-th place is tied."""
        return np.bincount(self.owner, minlength=len(self.treated))

    @property
    def times_used(self) -> np.ndarray:
        """How many treated units have each row in their match set (0 for treated units)."""
        return np.bincount(self.controls, minlength=self.n)

    @property
    def control_weights(self) -> np.ndarray:
        """K_M(j) = sum_i 1{j in J_M(i)} / #J_M(i) for every row (0 for treated units)."""
        return np.bincount(self.controls, weights=self.pair_weights, minlength=self.n)

    @property
    def weights(self) -> np.ndarray:
        """Matching weights per row: 1 for a matched treated unit, K_M(j) for a control, 0
        for everyone else. Weighted means with these weights are the means of the matched
        sample (each treated unit's controls count once in total)."""
        weights = self.control_weights
        weights[self.treated] = 1.0
        return weights

    def mean_of_matches(self, values: np.ndarray) -> np.ndarray:
        """(1/#J_M(i)) sum_{j in J_M(i)} values_j for every matched treated unit."""
        return np.bincount(self.owner, weights=self.pair_weights * values[self.controls],
                           minlength=len(self.treated))

    def __repr__(self) -> str:
        distinct = int(np.count_nonzero(self.times_used))
        how = "with" if self.replace else "without"
        tied = int(np.count_nonzero(self.set_sizes > self.n_neighbors))
        return (
            f"Matches({len(self.treated):,} treated matched to {distinct:,} distinct controls, "
            f"{self.n_neighbors} per treated unit ({tied:,} with ties, averaged), {how} "
            f"replacement; {len(self.unmatched):,} treated unmatched)"
        )


def _ball_sets(tree: cKDTree, queries: np.ndarray, radius: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every tree point within ``radius[q]`` of query q: (query index, tree position) pairs,
    sorted by query, then position."""
    found = tree.query_ball_point(queries, r=radius, p=2.0)
    sizes = np.fromiter((len(f) for f in found), dtype=np.intp, count=len(found))
    positions = np.concatenate([np.sort(np.asarray(f, dtype=np.intp)) for f in found]) \
        if len(found) else np.empty(0, dtype=np.intp)
    return np.repeat(np.arange(len(found)), sizes), positions


def _nearest_sets(tree: cKDTree, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """J_k(q) for every query: the k nearest tree points and every point tied with the k-th,
    as (query index, tree position) pairs sorted by query. One vectorized k-d tree query
    settles the rows whose (k+1)-th neighbour is farther than the k-th; only rows with a tie
    at the k-th place need the (slower) search within a radius."""
    width = min(k + 1, tree.n)
    distances, positions = tree.query(queries, k=list(range(1, width + 1)))
    radius = _tie_radius(distances[:, k - 1])
    tied = distances[:, -1] <= radius if width > k else np.zeros(len(queries), dtype=bool)
    plain = np.flatnonzero(~tied)
    owner = [np.repeat(plain, k)]
    found = [positions[plain, :k].ravel()]
    if tied.any():
        rows = np.flatnonzero(tied)
        tied_owner, tied_found = _ball_sets(tree, queries[rows], radius[rows])
        owner.append(rows[tied_owner])
        found.append(tied_found)
    owner, found = np.concatenate(owner), np.concatenate(found)
    order = np.lexsort((found, owner))
    return owner[order], found[order]


def _tie_radius(distance: np.ndarray) -> np.ndarray:
    return distance + TIE_TOLERANCE * (1.0 + distance)


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
    row per unit (scaled covariates); distances are Euclidean.

    With ``replace=True`` (the Abadie-Imbens estimator) each treated unit i takes its
    match set J_M(i): every control at distance <= d_M(i), its M-th smallest distance, so
    a tie at the M-th place brings in all the tied controls, each weighted 1 / #J_M(i).
    The result does not depend on the order of the rows.

    With ``replace=False`` treated units are matched greedily, hardest first (highest
    score when the score is one number, else in row order), each taking exactly M free
    controls, the nearest ones (ties to the earlier row). Greedy matching depends on the
    order in which units are processed; that is a property of the method.

    A treated unit whose M-th nearest control lies beyond ``caliper`` (in the units of
    ``score``) is left unmatched. See chapter 03.

    >>> matches = nearest_neighbors(np.array([0.1, 0.5, 0.45, 0.9, 0.2, 0.55]),
    ...                             np.array([1, 1, 0, 0, 0, 0]))
    >>> matches.controls.tolist(), matches.pair_weights.tolist()  # 0.5 ties 0.45 and 0.55
    ([4, 2, 5], [1.0, 0.5, 0.5])
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
        owner, positions = _nearest_sets(tree, points[treated_rows], n_neighbors)
        keep = np.ones(len(treated_rows), dtype=bool)
        if caliper is not None:  # the k-th nearest distance must be within the caliper
            kth, _ = tree.query(points[treated_rows], k=[n_neighbors])
            keep = kth[:, 0] <= caliper
            pairs = keep[owner]
            owner, positions = np.cumsum(keep)[owner[pairs]] - 1, positions[pairs]
    else:
        owner, positions = _greedy_without_replacement(tree, points, treated_rows, n_neighbors)
        last = np.zeros(len(treated_rows))
        np.maximum.at(last, owner, np.linalg.norm(points[control_rows[positions]]
                                                  - points[treated_rows[owner]], axis=1))
        keep = np.ones(len(treated_rows), dtype=bool) if caliper is None else last <= caliper
        pairs = keep[owner]
        owner = np.cumsum(keep)[owner[pairs]] - 1
        positions = positions[pairs]
    matched = treated_rows[keep]
    controls = control_rows[positions]
    distances = np.linalg.norm(points[controls] - points[matched[owner]], axis=1)
    sizes = np.bincount(owner, minlength=len(matched))
    return Matches(
        treated=matched,
        owner=owner,
        controls=controls,
        distances=distances,
        pair_weights=1.0 / sizes[owner],
        unmatched=treated_rows[~keep],
        n=len(treatment),
        n_neighbors=int(n_neighbors),
        replace=replace,
        points=points,
    )


def _greedy_without_replacement(
    tree: cKDTree, points: np.ndarray, treated_rows: np.ndarray, n_neighbors: int
) -> tuple[np.ndarray, np.ndarray]:
    order = np.arange(len(treated_rows))
    if points.shape[1] == 1:  # hardest first: the highest scores have the fewest controls near
        order = np.argsort(-points[treated_rows, 0], kind="stable")
    used = np.zeros(tree.n, dtype=bool)
    positions = np.empty((len(treated_rows), n_neighbors), dtype=np.intp)
    n_used = 0
    for i in order:
        # at most n_used of the nearest are taken, so this many always holds enough free ones
        k = min(tree.n, n_neighbors + n_used)
        found_distances, found = tree.query(points[treated_rows[i]][None, :], k=k)
        found_distances, found = found_distances.reshape(-1), found.reshape(-1)
        by_distance = np.lexsort((found, np.round(found_distances, 10)))
        found = found[by_distance]
        positions[i] = found[~used[found]][:n_neighbors]
        used[positions[i]] = True
        n_used += n_neighbors
    owner = np.repeat(np.arange(len(treated_rows)), n_neighbors)
    return owner, positions.ravel()


def same_arm_variance(points: np.ndarray, y: np.ndarray, rows: np.ndarray,
                      which: np.ndarray | None = None) -> np.ndarray:
    """sigma^2(X_j, T_j) for the units ``which`` (default: all of ``rows``, the units of one
    arm), by Abadie and Imbens's matching estimator with one neighbour and ties.

    L(j) is every other unit of ``rows`` at least as close to j as its nearest one (all of
    them when several tie, for instance exact duplicates of j), and

        sigma_j^2 = #L(j) / (#L(j) + 1) * (Y_j - mean_{l in L(j)} Y_l)^2,

    which is unbiased when the units of L(j) share j's outcome variance (with one
    neighbour, #L = 1, it is half the squared gap). Needs at least two rows.
    """
    which = rows if which is None else which
    tree = cKDTree(points[rows])
    # each unit's own set with k = 2 holds itself (at distance 0) and its nearest
    # neighbour, with every unit tied with that neighbour
    owner, positions = _nearest_sets(tree, points[which], 2)
    others = rows[positions] != which[owner]  # drop the unit itself (its duplicates stay)
    owner, positions = owner[others], positions[others]
    sizes = np.bincount(owner, minlength=len(which))
    neighbour_mean = np.bincount(owner, weights=y[rows[positions]], minlength=len(which)) / sizes
    return sizes / (sizes + 1.0) * (y[which] - neighbour_mean) ** 2
