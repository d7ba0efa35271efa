"""Synthetic control: one treated unit, a donor pool, a weighted stand-in. See chapter 16.

The estimand is the effect on the one treated unit, averaged over the periods after the
treatment starts (an ATT with a single treated unit):

    ATT = mean over t >= T0 of  Y_1t(1) - Y_1t(0).

Its missing half, Y_1t(0), is imputed by a **synthetic control**: a weighted average of
untreated donor units, sum_j w_j Y_jt, with weights w_j >= 0 and sum_j w_j = 1 chosen so that
the synthetic unit matches the treated unit *before* the treatment (Abadie and Gardeazabal
2003; Abadie, Diamond and Hainmueller 2010). The weights solve the convex program

    w = argmin (x_1 - X_0 w)' V (x_1 - X_0 w)   subject to  w >= 0, sum(w) = 1,

where x_1 holds the treated unit's pre-treatment characteristics and the columns of X_0
the donors'. Two choices of x (and of the diagonal V) are offered, and neither is hidden:

* ``predictors=()`` (the default): x is the outcome in every pre-treatment period, with
  equal weights, V = identity. The synthetic unit is the convex combination of donors
  that tracks the treated unit's pre-treatment path most closely (least squares).
* ``predictors=[...]``: x is the list of predictors, each averaged over the pre-treatment
  periods (or over the periods you name), divided by its standard deviation across the
  units in the pool (as R's and Stata's ``synth`` and ``pysyncon`` do), and V is the
  diagonal matrix of ``predictor_weights`` (equal weights unless you pass them). V is
  **yours to choose**: this module does not run the nested search of ``synth`` that picks
  V to minimise the pre-treatment outcome error, a non-convex problem whose answer depends
  on the optimiser and its start (Kloessner, Kaul, Pfeifer and Schieler 2018).

The weights come from ``scipy.optimize.nnls`` on the system augmented with one heavily
weighted row of ones (the sum-to-one constraint as a penalty, exact to about 1e-10),
then rescaled to sum to exactly one.

Assumptions: the treated unit's untreated outcomes follow the same (factor) model as the
donors'; it lies inside (or near) the convex hull of the donors, so no extrapolation is
needed; donors are untouched by the treatment (no spillovers) and nothing else hits the
treated unit alone after T0; no anticipation before T0.

Inference: with one treated unit there is no sampling-based standard error (``se`` is
NaN). `placebo_in_space` refits the method with each donor in turn as the pseudo-treated
unit; the p-value is the rank of the treated unit's post/pre RMSPE ratio among all J + 1
ratios, divided by J + 1. `synthetic_control` reports it and an interval obtained by
**inverting that test** for constant effects: the set of effects tau0 for which
subtracting tau0 from the treated unit's post-treatment outcomes gives a p-value above
1 - level. It is exact when units are exchangeable; it is not a normal interval.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd
from scipy.optimize import nnls

from lessons_lib._validate import require_columns, require_frame, require_level
from lessons_lib.estimate import Estimate
from lessons_lib.simulate import Simulation

__all__ = [
    "PlaceboTest",
    "SynthFit",
    "fit_synthetic_control",
    "placebo_in_space",
    "placebo_in_time",
    "factor_model_panel",
    "simplex_weights",
    "synthetic_control",
]

_PENALTY = 1e5  # weight of the sum-to-one row in the augmented least-squares system


def simplex_weights(donors: np.ndarray, target: np.ndarray) -> np.ndarray:
    """argmin_w ||target - donors @ w||^2 subject to w >= 0 and sum(w) = 1.

    ``donors`` is (characteristics x donors), ``target`` the treated unit's column. Solved
    by non-negative least squares on ``[donors; M 1'] w = [target; M]`` after scaling, so
    that the sum-to-one row dominates (scipy.optimize.nnls), then rescaled to sum to one.

    >>> simplex_weights(np.array([[0.0, 2.0], [0.0, 2.0]]), np.array([1.0, 1.0]))
    array([0.5, 0.5])
    """
    donors = np.asarray(donors, dtype=float)
    target = np.asarray(target, dtype=float)
    scale = max(float(np.abs(donors).max()), float(np.abs(target).max()), 1e-300)
    system = np.vstack([donors / scale, np.full(donors.shape[1], _PENALTY)])
    goal = np.r_[target / scale, _PENALTY]
    weights, _ = nnls(system, goal, maxiter=50 * system.shape[1])
    return weights / weights.sum()


@dataclass(frozen=True)
class SynthFit:
    """A fitted synthetic control: the weights and the treated and synthetic paths.

    ``weights`` (a Series indexed by donor), ``treated`` and ``synthetic`` (Series indexed
    by period), ``predictor_weights`` (the diagonal of V, or None for the outcome-only
    fit) and ``balance`` (treated, synthetic and donor-average predictor values).
    """

    treated_unit: object
    treatment_start: object
    weights: pd.Series
    treated: pd.Series
    synthetic: pd.Series
    predictor_weights: pd.Series | None
    balance: pd.DataFrame

    @property
    def gap(self) -> pd.Series:
        """Treated minus synthetic, period by period (the effect after T0)."""
        return pd.Series(self._gap, index=self.treated.index, name="gap")

    @cached_property
    def _gap(self) -> np.ndarray:
        return self.treated.to_numpy() - self.synthetic.to_numpy()

    @cached_property
    def pre(self) -> np.ndarray:
        """True for the pre-treatment periods."""
        return np.asarray(self.treated.index < self.treatment_start)

    @property
    def pre_rmspe(self) -> float:
        """Root mean squared gap before the treatment: how well the synthetic fits."""
        return float(np.sqrt(np.mean(self._gap[self.pre] ** 2)))

    @property
    def post_rmspe(self) -> float:
        return float(np.sqrt(np.mean(self._gap[~self.pre] ** 2)))

    @property
    def rmspe_ratio(self) -> float:
        """post / pre RMSPE: the placebo test's statistic (inf for a perfect pre-fit)."""
        pre = self.pre_rmspe
        return math.inf if pre == 0 else self.post_rmspe / pre

    @property
    def att(self) -> float:
        """The mean gap over the post-treatment periods."""
        return float(self._gap[~self.pre].mean())


def _predictor_spec(predictors) -> list[tuple[str, tuple | None, str]]:
    spec = []
    for item in predictors:
        if isinstance(item, str):
            spec.append((item, None, item))
        elif isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str):
            periods = tuple(item[1]) if np.ndim(item[1]) else (item[1],)
            shown = ", ".join(str(p) for p in periods)
            if len(periods) > 2 and list(periods) == list(range(periods[0], periods[-1] + 1)):
                shown = f"{periods[0]}-{periods[-1]}"
            spec.append((item[0], periods, f"{item[0]} ({shown})"))
        else:
            raise ValueError(
                f"each predictor must be a column name or a (column, periods) pair such as "
                f"('income', [1990, 1991]); got {item!r}")
    return spec


def _wide(data: pd.DataFrame, outcome: str, unit: str, time: str, treated_unit,
          treatment_start, predictors, donors) -> tuple[pd.DataFrame, list]:
    """Validate the panel and return the outcome as a (period x unit) table and the donors."""
    require_frame(data)
    spec = _predictor_spec(predictors)
    require_columns(data, [unit], numeric=False)
    require_columns(data, [time, outcome] + [c for c, _, _ in spec])
    units = pd.unique(data[unit])
    if treated_unit not in set(units):
        shown = ", ".join(repr(u) for u in list(units)[:8])
        raise ValueError(f"treated unit {treated_unit!r} is not in column '{unit}'; "
                         f"units include {shown}")
    if donors is None:
        donors = [u for u in units if u != treated_unit]
    else:
        donors = list(donors)
        unknown = [d for d in donors if d not in set(units)]
        if unknown:
            raise ValueError(f"donor(s) {unknown} are not in column '{unit}'")
        if treated_unit in donors:
            raise ValueError(f"the treated unit {treated_unit!r} cannot also be a donor")
    if len(donors) < 2:
        raise ValueError(f"too few donors: found {len(donors)}; a synthetic control needs at "
                         "least 2 untreated units in the donor pool")
    pool = data[data[unit].isin([treated_unit, *donors])]
    if pool.duplicated([unit, time]).any():
        raise ValueError(f"some ({unit}, {time}) pairs appear more than once; keep one row "
                         "per unit and period")
    periods = np.sort(pool[time].unique())
    counts = pool.groupby(unit)[time].nunique()
    if (counts != len(periods)).any():
        short = counts[counts != len(periods)].index.tolist()[:5]
        raise ValueError(f"unbalanced panel: unit(s) {short} are not observed in all "
                         f"{len(periods)} periods; a synthetic control needs every unit in "
                         "every period")
    if not periods[0] < treatment_start <= periods[-1]:
        raise ValueError(f"treatment_start {treatment_start!r} is outside the panel: it must "
                         f"be after the first period ({periods[0]}) and no later than the "
                         f"last ({periods[-1]})")
    n_pre = int((periods < treatment_start).sum())
    if n_pre < 2:
        raise ValueError(f"too few pre-treatment periods: found {n_pre}; the weights are fitted "
                         "on the periods before treatment_start, so at least 2 are needed")
    for column, chosen, _ in spec:
        if chosen is not None:
            bad = [p for p in chosen if p not in set(periods) or not p < treatment_start]
            if bad:
                raise ValueError(f"predictor '{column}': period(s) {bad} are not pre-treatment "
                                 f"periods of the panel (before {treatment_start!r})")
    wide = pool.pivot(index=time, columns=unit, values=outcome)[[treated_unit, *donors]]
    return wide, donors


def _characteristics(data, unit, time, units, treatment_start, predictors, predictor_weights):
    """The predictor averages (predictor x unit) and the normalised diagonal of V."""
    spec = _predictor_spec(predictors)
    rows = {}
    for column, chosen, name in spec:
        keep = data[time] < treatment_start if chosen is None else data[time].isin(chosen)
        rows[name] = data[keep & data[unit].isin(units)].groupby(unit)[column].mean()[units]
    characteristics = pd.DataFrame(rows).T.astype(float)
    if predictor_weights is None:
        v = np.full(len(spec), 1.0 / len(spec))
    else:
        v = np.asarray(predictor_weights, dtype=float).ravel()
        if v.shape != (len(spec),) or not np.all(np.isfinite(v)) or (v < 0).any() or v.sum() == 0:
            raise ValueError(f"predictor_weights must be {len(spec)} non-negative numbers (one "
                             f"per predictor, not all zero); got {predictor_weights!r}")
        v = v / v.sum()
    return characteristics, pd.Series(v, index=characteristics.index, name="V")


def _prepare(data, outcome, unit, time, treated_unit, treatment_start, predictors,
             predictor_weights, donors):
    wide, donors = _wide(data, outcome, unit, time, treated_unit, treatment_start, predictors,
                         donors)
    if len(predictors) == 0:
        return wide, donors, None, None
    characteristics, v = _characteristics(data, unit, time, [treated_unit, *donors],
                                          treatment_start, predictors, predictor_weights)
    return wide, donors, characteristics, v


def _fit(wide: pd.DataFrame, characteristics, v, treated_unit, donors, treatment_start,
         unit_name) -> SynthFit:
    position = {u: i for i, u in enumerate(wide.columns)}
    columns = [position[u] for u in donors]
    values = wide.to_numpy()
    pre = np.asarray(wide.index < treatment_start)
    outcomes = values[:, columns]
    if characteristics is None:
        weights = simplex_weights(outcomes[pre], values[pre, position[treated_unit]])
        balance = pd.DataFrame(index=pd.Index([], name="predictor"))
    else:
        matrix = characteristics.to_numpy()[:, [position[treated_unit], *columns]]
        spread = matrix.std(axis=1, ddof=1)
        if (spread == 0).any():
            flat = characteristics.index[spread == 0].tolist()
            raise ValueError(f"predictor(s) {flat} take the same value in every unit; drop them")
        scaled = matrix / spread[:, None] * np.sqrt(v.to_numpy())[:, None]
        weights = simplex_weights(scaled[:, 1:], scaled[:, 0])
        balance = pd.DataFrame({"treated": matrix[:, 0], "synthetic": matrix[:, 1:] @ weights,
                                "donor average": matrix[:, 1:].mean(axis=1)},
                               index=characteristics.index.rename("predictor"))
    weight_series = pd.Series(weights, index=wide.columns[columns].rename(unit_name),
                              name="weight")
    synthetic = pd.Series(outcomes @ weights, index=wide.index, name="synthetic")
    treated = pd.Series(values[:, position[treated_unit]], index=wide.index, name="treated")
    return SynthFit(treated_unit, treatment_start, weight_series, treated, synthetic, v, balance)


def fit_synthetic_control(data: pd.DataFrame, *, outcome: str, unit: str, time: str,
                          treated_unit, treatment_start, predictors: Sequence = (),
                          predictor_weights: Sequence[float] | None = None,
                          donors: Sequence | None = None) -> SynthFit:
    """Fit the synthetic control of ``treated_unit``: weights, synthetic path, gap.

    ``data`` is a balanced long panel (one row per unit and period). Periods before
    ``treatment_start`` are pre-treatment. ``donors`` defaults to every other unit. See the
    module docstring for ``predictors`` and ``predictor_weights`` (the diagonal of V).
    See chapter 16.

    >>> from lessons_lib.synth import factor_model_panel
    >>> sim = factor_model_panel(seed=1)
    >>> fit = fit_synthetic_control(sim.data, outcome="Y", unit="unit", time="period",
    ...                             treated_unit=0, treatment_start=0)
    >>> round(float(fit.weights.sum()), 6)
    1.0
    """
    wide, donors, characteristics, v = _prepare(data, outcome, unit, time, treated_unit,
                                                treatment_start, predictors, predictor_weights,
                                                donors)
    return _fit(wide, characteristics, v, treated_unit, donors, treatment_start, unit)


@dataclass(frozen=True)
class PlaceboTest:
    """Placebo-in-space results: each unit's gap path and its post/pre RMSPE ratio.

    ``table`` has one row per unit (treated unit first): ``pre_rmspe``, ``post_rmspe``,
    ``ratio``, ``att`` (mean post gap), ``rank`` (1 = largest ratio) and ``treated``.
    ``gaps`` is a (period x unit) table of gaps, ``fit`` the treated unit's fit. ``p_value`` = rank of the treated unit /
    (J + 1).
    """

    treated_unit: object
    table: pd.DataFrame
    gaps: pd.DataFrame
    fit: SynthFit  # the treated unit's own fit

    @property
    def p_value(self) -> float:
        return float(self.table.loc[self.treated_unit, "rank"] / len(self.table))


def placebo_in_space(data: pd.DataFrame, *, outcome: str, unit: str, time: str, treated_unit,
                     treatment_start, predictors: Sequence = (),
                     predictor_weights: Sequence[float] | None = None,
                     donors: Sequence | None = None) -> PlaceboTest:
    """Refit with each donor as the pseudo-treated unit and rank the RMSPE ratios.

    Each placebo run uses the other donors as its pool; the real treated unit, whose
    post-treatment outcomes carry the effect, is never a donor. The p-value is the share of
    the J + 1 units whose post/pre RMSPE ratio is at least the treated unit's (ties count
    against the treated unit), so its smallest possible value is 1 / (J + 1). See chapter 16.
    """
    wide, pool, characteristics, v = _prepare(data, outcome, unit, time, treated_unit,
                                              treatment_start, predictors, predictor_weights,
                                              donors)
    fits = {treated_unit: _fit(wide, characteristics, v, treated_unit, pool, treatment_start,
                               unit)}
    for placebo in pool:
        others = [d for d in pool if d != placebo]
        fits[placebo] = _fit(wide, characteristics, v, placebo, others, treatment_start, unit)
    table = pd.DataFrame({
        "pre_rmspe": [f.pre_rmspe for f in fits.values()],
        "post_rmspe": [f.post_rmspe for f in fits.values()],
        "ratio": [f.rmspe_ratio for f in fits.values()],
        "att": [f.att for f in fits.values()],
    }, index=pd.Index(list(fits), name=unit))
    table["rank"] = table["ratio"].rank(ascending=False, method="max").astype(int)
    table["treated"] = table.index == treated_unit
    gaps = pd.DataFrame({u: f.gap for u, f in fits.items()})
    gaps.columns.name = unit
    return PlaceboTest(treated_unit, table, gaps, fits[treated_unit])


def _inverted_interval(fit: SynthFit, placebo_ratios: np.ndarray, level: float):
    """Constant effects tau0 not rejected at 1 - level by the RMSPE-ratio placebo test.

    Subtracting tau0 from the treated unit's post outcomes leaves its weights (fitted on the
    pre-period) and the placebos unchanged, and makes its ratio
    sqrt(mean((gap - tau0)^2)) / pre_rmspe. tau0 is kept when at least k placebo ratios are
    at least as large, k the smallest integer with (1 + k) / (J + 1) > 1 - level: a
    quadratic inequality in tau0, solved in closed form.
    """
    n_units = len(placebo_ratios) + 1
    alpha = round(1 - level, 12)
    k = max(0, math.floor(alpha * n_units - 1 + 1e-9) + 1)  # least k: (1 + k) / n > alpha
    if k == 0:
        return -math.inf, math.inf
    bound = np.sort(placebo_ratios)[::-1][k - 1] * fit.pre_rmspe
    post_gap = fit._gap[~fit.pre]
    centre, spread = post_gap.mean(), post_gap.var()
    if not math.isfinite(bound):
        return -math.inf, math.inf
    if bound**2 < spread:
        return math.nan, math.nan  # even the best constant effect is rejected
    half = math.sqrt(bound**2 - spread)
    return centre - half, centre + half


def synthetic_control(data: pd.DataFrame, *, outcome: str, unit: str, time: str,
                      treated_unit, treatment_start, predictors: Sequence = (),
                      predictor_weights: Sequence[float] | None = None,
                      donors: Sequence | None = None, level: float = 0.95) -> Estimate:
    """The synthetic-control estimate of the treated unit's average post-treatment effect.

    Estimand: ATT = mean over t >= treatment_start of Y_1t(1) - Y_1t(0), for the one
    treated unit. Estimate: the mean gap between the treated unit and its synthetic control
    after ``treatment_start`` (see `fit_synthetic_control` for the weights).

    Uncertainty: ``se`` is NaN (one treated unit has no sampling standard error). The
    interval is the placebo-in-space test inverted for constant effects (see the module
    docstring); it is infinite when there are too few donors for a test at 1 - level
    (fewer than 1 / (1 - level) - 1), NaN when every constant effect is rejected.
    ``extra`` holds the placebo p-value, the pre-treatment RMSPE and the number of donors.
    See chapter 16.

    >>> from lessons_lib.synth import factor_model_panel
    >>> sim = factor_model_panel(seed=1)
    >>> est = synthetic_control(sim.data, outcome="Y", unit="unit", time="period",
    ...                         treated_unit=0, treatment_start=0)
    >>> est.estimand, est.extra["placebo_p_value"] <= 0.1
    ('ATT', True)
    """
    require_level(level)
    test = placebo_in_space(data, outcome=outcome, unit=unit, time=time,
                            treated_unit=treated_unit, treatment_start=treatment_start,
                            predictors=predictors, predictor_weights=predictor_weights,
                            donors=donors)
    fit = test.fit
    placebo_ratios = test.table.loc[~test.table["treated"], "ratio"].to_numpy()
    low, high = _inverted_interval(fit, placebo_ratios, level)
    return Estimate(value=fit.att, se=math.nan, ci_low=float(low), ci_high=float(high),
                    n=len(test.table), estimand="ATT",
                    method="synthetic control (interval: inverted placebo-in-space test)",
                    level=level,
                    extra={"placebo_p_value": test.p_value, "pre_treatment_rmspe": fit.pre_rmspe,
                           "n_donors": len(placebo_ratios)})


def placebo_in_time(data: pd.DataFrame, *, outcome: str, unit: str, time: str, treated_unit,
                    treatment_start, fake_start, predictors: Sequence = (),
                    predictor_weights: Sequence[float] | None = None,
                    donors: Sequence | None = None) -> SynthFit:
    """Pretend the treatment began at ``fake_start`` (< ``treatment_start``) and refit.

    Only the periods before the real ``treatment_start`` are used, so the real effect
    cannot leak in; a gap that opens at ``fake_start`` warns that the method finds
    "effects" where there are none. See chapter 16.
    """
    if not fake_start < treatment_start:
        raise ValueError(f"fake_start ({fake_start!r}) must be before treatment_start "
                         f"({treatment_start!r})")
    require_columns(data, [time])
    before = data[data[time] < treatment_start]
    return fit_synthetic_control(before, outcome=outcome, unit=unit, time=time,
                                 treated_unit=treated_unit, treatment_start=fake_start,
                                 predictors=predictors, predictor_weights=predictor_weights,
                                 donors=donors)


def factor_model_panel(n_donors: int = 20, *, pre_periods: int = 24, post_periods: int = 6,
                       effect: float = 5.0, placement: str = "inside", noise: float = 1.0,
                       seed: int = 0) -> Simulation:
    """Monthly sales of one treated region and ``n_donors`` others: a factor model.

    The running example of chapter 16. Unit 0 (the treated region) gets the programme from
    period 0; periods run from ``-pre_periods`` to ``post_periods - 1``. Untreated sales
    (thousand dollars a month) follow

        Y_it(0) = 100 + 0.3 t + lambda_i1 f_1t + lambda_i2 f_2t + N(0, noise^2),

    with f_1t = 8 sin(2 pi t / 12) (the seasonal swing) and f_2t a random walk with N(0, 1)
    steps (a shared demand shock), loadings lambda_i ~ U(0, 2)^2 for the donors. So regions
    differ in how strongly they swing and trend: their trends are *not* parallel.
    ``placement`` puts the treated region's loadings ``"inside"`` the donors' convex hull
    (0.5, 0.3, 0.2 times the loadings of donors 1, 2, 3), ``"outside"`` it (2.6 and 2.8,
    beyond every donor) or draws them ``"like donors"`` (units exchangeable, as the
    placebo test assumes). Y(1) = Y(0) + ``effect`` for unit 0 from period 0:
    ``truth["ATT"] = effect``.

    Columns: ``unit``, ``period``, ``treated`` (1 for unit 0), ``post`` (period >= 0),
    ``T`` (treated and post), ``Y``.

    >>> factor_model_panel(seed=3).truth
    {'ATT': 5.0}
    """
    if n_donors < 2 or pre_periods < 2 or post_periods < 1:
        raise ValueError("need n_donors >= 2, pre_periods >= 2 and post_periods >= 1")
    if placement not in ("inside", "outside", "like donors"):
        raise ValueError("placement must be 'inside', 'outside' or 'like donors'; "
                         f"got {placement!r}")
    rng = np.random.default_rng(seed)
    periods = np.arange(-pre_periods, post_periods)
    factors = np.column_stack([8 * np.sin(2 * np.pi * periods / 12),
                               np.cumsum(rng.normal(size=len(periods)))])
    loadings = rng.uniform(0, 2, size=(n_donors + 1, 2))
    if placement == "inside":
        loadings[0] = np.array([0.5, 0.3, 0.2]) @ loadings[1:4]
    elif placement == "outside":
        loadings[0] = [2.6, 2.8]
    y0 = (100 + 0.3 * periods[:, None] + factors @ loadings.T
          + rng.normal(scale=noise, size=(len(periods), n_donors + 1)))
    unit = np.tile(np.arange(n_donors + 1), len(periods))
    period = np.repeat(periods, n_donors + 1)
    treated_now = ((unit == 0) & (period >= 0)).astype(int)
    y0 = y0.ravel()
    y1 = y0 + effect
    data = pd.DataFrame({"unit": unit, "period": period, "treated": (unit == 0).astype(int),
                         "post": (period >= 0).astype(int), "T": treated_now,
                         "Y": np.where(treated_now == 1, y1, y0)})
    outcomes = pd.DataFrame({"Y0": y0, "Y1": y1, "effect": y1 - y0})
    return Simulation(data=data, potential_outcomes=outcomes, truth={"ATT": float(effect)},
                      description="One treated region and donor regions from a two-factor "
                                  f"model; the programme adds {effect} from period 0.")
