"""Per-learner variants of an exercise: who gets which data, from a seed nobody has to store.

A learner's variant is fixed by a seed derived from the learner's id (an id or an e-mail
address, compared without case or surrounding spaces), the exercise id, and optionally a
course salt that only the instructor keeps::

    seed = first 4 bytes of sha256(salt NUL exercise NUL learner), as an unsigned integer

(a stable hash: Python's ``hash()`` changes between processes). Without a learner the
variant is the *shared* one, ``seed=None``: the data of the published notebook.

How the seed reaches the learner's data and the checks
------------------------------------------------------
An exercise that varies defines, in its checks file, ``make(variant) -> Exercise``: it
builds that variant's data with ``variant.seed_or(default)``, computes every target from
them, and returns an `Exercise` whose ``setup`` code makes exactly those data (the seed
written into it as a number). ``EXERCISE = make(Variant(id))`` is the shared variant.

- ``python -m lessons_lib.release`` writes each learner's notebook with that learner's
  setup code, ``check = checker("NN_slug", seed=...)`` and the metadata
  ``lessons.learner``.
- The in-notebook ``checker(..., seed=...)`` rebuilds the variant from the seed.
- The command-line grader reads ``lessons.learner`` from the submitted file (never from
  the submission's code, and never the seed: a learner could copy a classmate's), derives
  the seed with the salt it is given (``--salt``), and runs that variant's trusted setup
  before the answer cells. A submission without a learner is graded as the shared variant.

An exercise without ``make`` is not varied: every learner gets the shared data.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

__all__ = ["Variant", "learner_seed", "normalise_learner", "variant_for"]


def normalise_learner(learner: str) -> str:
    """The learner id as the seed sees it: surrounding spaces dropped, lower case."""
    if not isinstance(learner, str) or not learner.strip():
        raise ValueError("a learner id must be a non-empty string (an id or an e-mail address)")
    return learner.strip().lower()


def learner_seed(learner: str, exercise: str, salt: str = "") -> int:
    """The seed of ``learner``'s variant of ``exercise`` (0 <= seed < 2**32).

    >>> learner_seed("Ada@Example.org ", "02_experiments") == learner_seed("ada@example.org", "02_experiments")
    True
    """
    text = f"{salt}\0{exercise}\0{normalise_learner(learner)}".encode()
    return int.from_bytes(hashlib.sha256(text).digest()[:4], "big")


@dataclass(frozen=True)
class Variant:
    """One learner's variant of one exercise; ``seed=None`` is the shared variant."""

    exercise: str
    learner: str | None = None
    seed: int | None = None

    @property
    def shared(self) -> bool:
        return self.seed is None

    def seed_or(self, default: int) -> int:
        """The learner's seed, or ``default`` (the published notebook's) for the shared variant."""
        return default if self.seed is None else self.seed

    def derive(self, default: int, purpose: str) -> int:
        """A second independent seed (for a second data set of the same exercise)."""
        if self.seed is None:
            return default
        text = f"{self.seed}\0{purpose}".encode()
        return int.from_bytes(hashlib.sha256(text).digest()[:4], "big")


def variant_for(exercise: str, learner: str | None = None, salt: str = "") -> Variant:
    """The variant of ``exercise`` for ``learner`` (None: the shared variant)."""
    if learner is None:
        return Variant(exercise)
    return Variant(exercise, learner, learner_seed(learner, exercise, salt))
