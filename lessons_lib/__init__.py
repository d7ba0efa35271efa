"""lessons_lib: the helper library of the causal inference course.

One small module per idea of the book. Import the module you need, e.g.
``from lessons_lib import simulate, experiments``. Every effect estimator returns an
`Estimate` (see ``lessons_lib.estimate``).
"""

from lessons_lib.estimate import Estimate

__all__ = ["Estimate"]
__version__ = "0.1.0"
