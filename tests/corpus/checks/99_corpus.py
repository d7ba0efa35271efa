"""A tiny exercise for the checker's own tests (tests/test_checker.py), independent of the chapters.

Six shoppers with both potential outcomes: the true ATE is $2, the naive difference in
observed means is $8. Four questions cover every kind the checker handles: a number with a
known wrong answer, a choice between strings, a function called on the checker's inputs
(with a bad input it must refuse), and an array judged by two checks (partial credit).

It varies per learner (``make``): a learner's shoppers gain their own effect, between 1 and
5 dollars in steps of 0.5, derived from the learner's seed; the shared variant's is 2.
"""

import numpy as np
import pandas as pd

from lessons_lib.check import (
    Check,
    Exercise,
    Question,
    Variant,
    Wrong,
    agrees_with,
    close_to,
    equals_text,
    is_number,
    one_of,
    raises_value_error,
)


def setup(effect: float) -> str:
    """The trusted setup code of a variant whose every shopper gains ``effect`` dollars."""
    treated = ", ".join(f"{y + effect:.1f}" for y in (10.0, 12.0, 14.0, 4.0, 6.0, 8.0))
    return f"""\
import numpy as np
import pandas as pd

shoppers = pd.DataFrame({{"T": [1, 1, 1, 0, 0, 0],
                         "Y0": [10.0, 12.0, 14.0, 4.0, 6.0, 8.0],
                         "Y1": [{treated}]}})
shoppers["Y"] = np.where(shoppers["T"] == 1, shoppers["Y1"], shoppers["Y0"])"""


SETUP = setup(2.0)


def _difference_in_means(data: pd.DataFrame) -> float:
    treated = data["T"] == 1
    return float(data.loc[treated, "Y"].mean() - data.loc[~treated, "Y"].mean())


def _inputs() -> list:
    rng = np.random.default_rng(99)
    tables = []
    for n in (40, 60):
        t = rng.integers(0, 2, n)
        tables.append(pd.DataFrame({"T": t, "Y": 1.5 * t + rng.normal(size=n)}))
    bad = pd.DataFrame({"T": [0, 1, 2, 1], "Y": [1.0, 2.0, 3.0, 4.0]})
    return [(tables[0],), (tables[1],), (bad,)]


def _binary(args: tuple, kwargs: dict) -> bool:
    return set(np.unique(args[0]["T"])) <= {0, 1}


def _array_of_three(answer: object) -> bool:
    return isinstance(answer, np.ndarray) and answer.shape == (3,)


def _sums_to_one(answer: object) -> bool:
    return isinstance(answer, np.ndarray) and bool(np.isclose(answer.sum(), 1.0))


def make(variant: Variant) -> Exercise:
    """The exercise for one learner's variant (the shared one: an effect of 2 dollars)."""
    effect = 2.0 if variant.shared else 1.0 + 0.5 * (variant.seed % 9)
    namespace: dict = {}
    exec(setup(effect), namespace)  # trusted code written above
    shoppers = namespace["shoppers"]
    truth = float((shoppers["Y1"] - shoppers["Y0"]).mean())
    naive = float(shoppers.loc[shoppers["T"] == 1, "Y"].mean()
                  - shoppers.loc[shoppers["T"] == 0, "Y"].mean())
    return Exercise(id="99_corpus", title="The checker's test exercise", setup=setup(effect),
                    questions=_questions(truth, naive), variant=variant)


def _questions(truth: float, naive: float) -> list[Question]:
    return [
        Question(
            id="q1", answer="ate",
            checks=[is_number(),
                    close_to(truth, abs_tol=0.01, expected="the mean of the individual effects "
                                                           "Y1 - Y0 over all six shoppers")],
            wrong=[Wrong(naive, "that is the naive difference in observed means: the treated "
                                "shoppers would have spent more even without the banner")],
            hints=["Is the question about observed outcomes Y, or potential outcomes?",
                   "Average Y1 - Y0 over everyone, not Y over each group.",
                   "ate = float((shoppers['Y1'] - shoppers['Y0']).mean())"],
        ),
        Question(
            id="q2", answer="estimand",
            checks=[one_of(["ATE", "ATT", "ATU"]),
                    equals_text("ATT", expected="the effect on the shoppers who were treated")],
            wrong=[Wrong("ATE", "the average over everyone is the ATE; the question asks "
                                "about the treated only")],
            hint="Who does the question average over?",
        ),
        Question(
            id="q3", answer="diff_in_means", kind="function", inputs=_inputs,
            checks=[agrees_with(_difference_in_means, select=lambda a, k: _binary(a, k),
                                expected="the difference in mean Y between T = 1 and T = 0"),
                    raises_value_error(select=lambda a, k: not _binary(a, k),
                                       expected="a ValueError for a treatment that is not 0/1")],
            hint="mean of Y where T == 1 minus mean of Y where T == 0; refuse other T values.",
        ),
        Question(
            id="q4", answer="weights",
            checks=[Check("is an array of three", _array_of_three,
                          "a numpy array with one weight per stratum"),
                    Check("sums to one", _sums_to_one, "weights that add up to 1")],
            hint="Use np.array([...]).",
        ),
    ]


EXERCISE = make(Variant("99_corpus"))
