"""One look for every figure in the book. See chapter 00.

Treated units are always drawn in ``TREATED`` (orange) and control units in ``CONTROL``
(blue), so a reader never has to relearn the legend.
"""

from __future__ import annotations

import matplotlib.pyplot as plt

TREATED = "#d95f02"  # orange: treated, T = 1
CONTROL = "#1b9e77"  # teal: control, T = 0
TRUTH = "#444444"  # dark grey: the true effect
ESTIMATE = "#7570b3"  # purple: an estimate and its interval
NEUTRAL = "#999999"
ACCENT = "#e7298a"  # pink: a second group that is not a treatment arm (a population, a naive method)


def use_book_style() -> None:
    """Apply the book's figure style: readable sizes, no top/right spines, light grid."""
    plt.rcParams.update(
        {
            "figure.figsize": (7.0, 4.0),
            "figure.dpi": 100,
            "savefig.dpi": 100,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.grid": True,
            "grid.alpha": 0.3,
            "axes.titlesize": 12,
            "axes.labelsize": 11,
            "legend.frameon": False,
            "font.size": 10,
            "svg.hashsalt": "lessons",
        }
    )
