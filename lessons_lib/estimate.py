"""The one result type of every effect estimator in the book. See chapter 01.

An `Estimate` is the small cousin of a statsmodels results object: it knows its value,
its standard error, its confidence interval, how many units it used, which estimand it
targets (ATE, ATT, LATE, the effect at a cutoff, ...) and which method produced it.
"""

from __future__ import annotations

import html
import math
from dataclasses import asdict, dataclass, field


@dataclass(frozen=True, repr=False)
class Estimate:
    """A causal effect estimate with its uncertainty.

    Attributes
    ----------
    value : the point estimate.
    se : its standard error (``nan`` when the method defines none).
    ci_low, ci_high : the confidence interval at level ``level``.
    n : the number of units (rows) the estimate used.
    estimand : what it estimates: "ATE", "ATT", "LATE", "effect at the cutoff", ...
    method : the estimator's name, e.g. "difference in means (Welch)".
    level : the confidence level of the interval, 0.95 unless asked.
    extra : named extras a method wants to report (a first-stage F, a bandwidth, ...).

    Example
    -------
    >>> est = Estimate.from_se(2.0, 0.5, n=100, estimand="ATE", method="demo")
    >>> round(est.ci_low, 2), round(est.ci_high, 2)
    (1.02, 2.98)
    """

    value: float
    se: float
    ci_low: float
    ci_high: float
    n: int
    estimand: str
    method: str
    level: float = 0.95
    extra: dict = field(default_factory=dict)

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
        freedom when ``df`` is given.
        """
        if not 0 < level < 1:
            raise ValueError(f"level must be between 0 and 1 (e.g. 0.95); got {level}")
        from scipy import stats  # imported here: it is half of `import lessons_lib`'s cost

        tail = 1 - (1 - level) / 2
        q = stats.t.ppf(tail, df) if df is not None else stats.norm.ppf(tail)
        return cls(
            value=float(value),
            se=float(se),
            ci_low=float(value - q * se),
            ci_high=float(value + q * se),
            n=int(n),
            estimand=estimand,
            method=method,
            level=level,
            extra=dict(extra or {}),
        )

    @property
    def pvalue(self) -> float:
        """Two-sided p-value of 'no effect', from the normal approximation value / se."""
        if not (self.se > 0 and math.isfinite(self.se)):
            return float("nan")
        from scipy import stats

        return float(2 * stats.norm.sf(abs(self.value / self.se)))

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
        rows += [(str(k), f"{v:.3f}" if isinstance(v, float) else str(v)) for k, v in self.extra.items()]
        body = "".join(
            f"<tr><th style='text-align:left'>{html.escape(k)}</th>"
            f"<td style='text-align:left'>{html.escape(v)}</td></tr>"
            for k, v in rows
        )
        return f"<table class='lessons-estimate'>{body}</table>"
