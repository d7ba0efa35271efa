"""The one result type of every effect estimator in the book. See chapter 01.

An `Estimate` is the small cousin of a statsmodels results object: it knows its value,
its standard error, its confidence interval, how many units it used, which estimand it
targets (ATE, ATT, LATE, the effect at a cutoff, ...) and which method produced it.
When the interval is a Student t interval, the estimate carries its degrees of freedom,
so its p-value and its interval always tell the same story.
"""

from __future__ import annotations

import html
import math
import re
from dataclasses import asdict, dataclass, field

__all__ = ["Estimate", "EXTRA_KEY"]

#: What an ``extra`` key looks like: snake_case, so the same quantity has one name
#: across the library (``effective_sample_size``, ``first_stage_f``, ``bandwidth``, ...).
EXTRA_KEY = re.compile(r"^[a-z][a-z0-9_]*$")


def _frozen(value: object) -> object:
    """A hashable stand-in for an extra's value (arrays and lists become tuples)."""
    if isinstance(value, dict):
        return tuple(sorted((k, _frozen(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return tuple(_frozen(v) for v in value)
    if hasattr(value, "tolist"):  # numpy scalars and arrays
        return _frozen(value.tolist())
    return value


@dataclass(frozen=True, repr=False)
class Estimate:
    """A causal effect estimate with its uncertainty.

    Attributes
    ----------
    value : the point estimate.
    se : its standard error (``nan`` when the method defines none).
    ci_low, ci_high : the confidence interval at level ``level``.
    n : the number of units (rows) the estimate used.
    estimand : what it estimates: "ATE", "ATT", "LATE", "effect at the cutoff", ...;
        the same string is the key of the matching simulation's ``truth``, so
        ``est.covers(sim.truth[est.estimand])`` works everywhere.
    method : the estimator's name, e.g. "difference in means (Welch)".
    level : the confidence level of the interval, 0.95 unless asked.
    df : the degrees of freedom of a Student t interval, ``None`` for a normal one.
    extra : named extras a method wants to report (``first_stage_f``, ``bandwidth``,
        ...), keys in snake_case.

    Example
    -------
    >>> est = Estimate.from_se(2.0, 0.5, n=100, estimand="ATE", method="demo")
    >>> round(est.ci_low, 2), round(est.ci_high, 2)
    (1.02, 2.98)
    >>> Estimate.from_dict(est.to_dict()) == est
    True
    """

    value: float
    se: float
    ci_low: float
    ci_high: float
    n: int
    estimand: str
    method: str
    level: float = 0.95
    df: float | None = None
    extra: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        bad = [key for key in self.extra if not (isinstance(key, str) and EXTRA_KEY.match(key))]
        if bad:
            raise ValueError(
                f"extra keys must be snake_case names such as 'effective_sample_size'; got {bad}"
            )

    def __hash__(self) -> int:
        return hash((self.value, self.se, self.ci_low, self.ci_high, self.n, self.estimand,
                     self.method, self.level, self.df, _frozen(self.extra)))

    @classmethod
    def from_se(
        cls,
        value: float,
        se: float,
        *,
        n: int,
        estimand: str,
        method: str,
        level: float = 0.95,
        df: float | None = None,
        extra: dict | None = None,
    ) -> Estimate:
        """Build an estimate whose interval is ``value ± q · se``.

        ``q`` is the normal quantile, or Student's t quantile with ``df`` degrees of
        freedom when ``df`` is given (and then the p-value uses the same t distribution).
        """
        if not (isinstance(level, (int, float)) and 0 < level < 1):
            raise ValueError(f"level must be between 0 and 1 (e.g. 0.95); got {level}")
        if df is not None and not df > 0:
            raise ValueError(f"degrees of freedom must be positive; got {df}")
        q = _quantile(1 - (1 - level) / 2, df)
        return cls(
            value=float(value),
            se=float(se),
            ci_low=float(value - q * se),
            ci_high=float(value + q * se),
            n=int(n),
            estimand=estimand,
            method=method,
            level=float(level),
            df=None if df is None else float(df),
            extra=dict(extra or {}),
        )

    @classmethod
    def from_fit(
        cls,
        fit: object,
        term: int | str,
        *,
        estimand: str,
        method: str,
        level: float = 0.95,
        n: int | None = None,
        t_interval: bool = False,
        extra: dict | None = None,
    ) -> Estimate:
        """Build an estimate from one coefficient of a fitted regression.

        ``fit`` is a statsmodels results object (what ``lessons_lib._inference`` returns);
        ``term`` names or indexes the coefficient. With ``t_interval=True`` the interval
        and p-value use Student's t with the fit's residual degrees of freedom (or, for
        a cluster-robust fit, the number of clusters minus one, as Stata does).
        """
        params, bse = fit.params, fit.bse
        index = list(fit.model.exog_names).index(term) if isinstance(term, str) else term
        df = None
        if t_interval:
            groups = getattr(fit, "n_groups", None)
            df = (groups - 1) if groups else float(fit.df_resid)
        return cls.from_se(
            float(params[index]), float(bse[index]), n=int(fit.nobs if n is None else n),
            estimand=estimand, method=method, level=level, df=df, extra=extra,
        )

    @classmethod
    def from_dict(cls, fields: dict) -> Estimate:
        """The inverse of `to_dict`: ``Estimate.from_dict(est.to_dict()) == est``."""
        return cls(**fields)

    @property
    def pvalue(self) -> float:
        """Two-sided p-value of 'no effect', from value / se under the interval's law.

        Student's t with ``df`` degrees of freedom when the interval is a t interval, the
        normal distribution otherwise: the interval excludes 0 exactly when p < 1 - level.
        """
        if not (self.se > 0 and math.isfinite(self.se)):
            return float("nan")
        from scipy import stats  # imported here: it is half of `import lessons_lib`'s cost

        z = abs(self.value / self.se)
        tail = stats.t.sf(z, self.df) if self.df is not None else stats.norm.sf(z)
        return float(2 * tail)

    def covers(self, truth: float) -> bool:
        """Whether the confidence interval contains ``truth``."""
        return self.ci_low <= truth <= self.ci_high

    def to_dict(self) -> dict:
        """The estimate as plain data (what the exercise checker sends back)."""
        return asdict(self)

    def __str__(self) -> str:
        pct = f"{self.level:.0%}"
        text = (
            f"{self.estimand} = {self.value:.3f} (SE {self.se:.3f}; {pct} CI "
            f"{self.ci_low:.3f} to {self.ci_high:.3f}; n = {self.n:,}) [{self.method}]"
        )
        return text

    # Rounded on purpose: notebooks show this, and nbval compares what they show.
    __repr__ = __str__

    def _repr_html_(self) -> str:
        pct = f"{self.level:.0%}"
        rows = [
            ("estimand", self.estimand),
            ("estimate", f"{self.value:.3f}"),
            ("standard error", f"{self.se:.3f}"),
            (f"{pct} interval", f"[{self.ci_low:.3f}, {self.ci_high:.3f}]"),
            ("n", f"{self.n:,}"),
            ("method", self.method),
        ]
        rows += [(k.replace("_", " "), f"{v:.3f}" if isinstance(v, float) else str(v))
                 for k, v in self.extra.items()]
        body = "".join(
            f"<tr><th style='text-align:left'>{html.escape(k)}</th>"
            f"<td style='text-align:left'>{html.escape(v)}</td></tr>"
            for k, v in rows
        )
        return f"<table class='lessons-estimate'>{body}</table>"


def _quantile(probability: float, df: float | None) -> float:
    from scipy import stats

    return float(stats.t.ppf(probability, df) if df is not None else stats.norm.ppf(probability))
