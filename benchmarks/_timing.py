"""The one timer of the benchmarks: the best of several runs, by the standard library's timeit.

The best run, not the mean: on a shared machine the other runs measure the neighbours.
"""

from __future__ import annotations

import timeit
from collections.abc import Callable

__all__ = ["best_of", "best_of_with_result"]


def best_of(function: Callable[[], object], repeats: int = 3) -> float:
    """Seconds of the fastest of ``repeats`` calls of ``function()``."""
    return min(timeit.repeat(function, repeat=repeats, number=1))


def best_of_with_result(function: Callable[[], object], repeats: int = 3) -> tuple[float, object]:
    """(seconds of the fastest call, the value the function returned)."""
    result = function()
    return best_of(function, repeats), result
