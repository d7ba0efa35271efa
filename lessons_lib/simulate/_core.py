"""The `Simulation` type every running example returns, and its one constructor."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

__all__ = ["Simulation"]


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

    @classmethod
    def observe(cls, covariates: dict, *, treatment: np.ndarray, y0: np.ndarray,
                effect: np.ndarray | float, truth: dict, description: str,
                hidden: dict | None = None) -> Simulation:
        """Turn potential outcomes into what an analyst sees: the one place Y = Y(T) is made.

        ``covariates`` are the observed pre-treatment columns (in order); the data get
        ``T`` and ``Y`` = Y(1) if T = 1 else Y(0), with Y(1) = Y(0) + effect. The potential
        outcomes table holds ``Y0``, ``Y1``, ``effect`` and the ``hidden`` columns (a true
        propensity, a complier type, ...), which no analyst would have.
        """
        y0 = np.asarray(y0, dtype=float)
        effect = np.broadcast_to(np.asarray(effect, dtype=float), y0.shape)
        y1 = y0 + effect
        data = pd.DataFrame({**covariates, "T": treatment, "Y": np.where(treatment == 1, y1, y0)})
        potential = pd.DataFrame({"Y0": y0, "Y1": y1, "effect": effect, **(hidden or {})})
        return cls(data=data, potential_outcomes=potential, truth=truth, description=description)

    def __repr__(self) -> str:
        effects = ", ".join(f"{k} = {v:.2f}" for k, v in self.truth.items())
        return f"Simulation(n = {len(self.data):,}; true {effects})"


def _require_n(n: int, minimum: int = 4) -> None:
    if not isinstance(n, (int, np.integer)) or n < minimum:
        raise ValueError(f"n must be a whole number of at least {minimum}; got {n!r}")
