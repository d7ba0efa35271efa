"""Trusted checks for exercises/07_regression_discontinuity.ipynb (regression discontinuity)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from lessons_lib import rdd
from lessons_lib.check import (
    Exercise,
    Question,
    Wrong,
    agrees_with,
    as_number,
    close_to,
    is_number,
    raises_value_error,
    returns_numbers,
)

SETUP = """\
import numpy as np
import pandas as pd

from lessons_lib import rdd

# A scholarship goes to every student whose entrance-exam score reaches 60 (out of 100).
# Outcome: the first-year grade average (0-100). The true effect at the cutoff is 5 points.
rng = np.random.default_rng(607)
n = 6_000
score = rng.uniform(30, 90, n)
eligible = (score >= 60).astype(int)
grade = 30 + 0.5 * score + (5 + 0.1 * (score - 60)) * eligible + rng.normal(0, 4, n)
exams = pd.DataFrame({"score": score, "scholarship": eligible, "grade": grade})

# A second year: only 70% of eligible students take the scholarship up, and 10% of the
# others get an equivalent one elsewhere.
takes_up = (rng.uniform(size=n) < np.where(eligible == 1, 0.7, 0.1)).astype(int)
grade_fuzzy = 30 + 0.5 * score + 5 * takes_up + rng.normal(0, 4, n)
exams_fuzzy = pd.DataFrame({"score": score, "eligible": eligible, "scholarship": takes_up,
                            "grade": grade_fuzzy})

# A third year: a lenient grader bumped many students scoring 56-60 up to just above 60.
bumped = (score >= 56) & (score < 60) & (rng.uniform(size=n) < 0.6)
exams_regraded = pd.DataFrame({"score": np.where(bumped, 60 + rng.uniform(0, 1, n), score)})
"""

_setup: dict = {}
exec(SETUP, _setup)  # the same data the learner sees
_exams = _setup["exams"]
_fuzzy = _setup["exams_fuzzy"]
_regraded = _setup["exams_regraded"]

# --- reference answers, computed from the data (never shown to the learner) ---------------
_window = _exams[(_exams["score"] - 60).abs() < 5]
_naive = (_window.loc[_window["scholarship"] == 1, "grade"].mean()
          - _window.loc[_window["scholarship"] == 0, "grade"].mean())
_everyone = (_exams.loc[_exams["scholarship"] == 1, "grade"].mean()
             - _exams.loc[_exams["scholarship"] == 0, "grade"].mean())
_local = rdd.local_linear_rd(_exams, outcome="grade", running="score", cutoff=60, bandwidth=8).value
_local_uniform = rdd.local_linear_rd(_exams, outcome="grade", running="score", cutoff=60,
                                     bandwidth=8, kernel="uniform").value


def _common_slope(data: pd.DataFrame, h: float) -> float:
    """Y on T and (X - c) with one slope for both sides, triangular weights."""
    near = data[(data["score"] - 60).abs() <= h]
    w = 1 - (near["score"] - 60).abs() / h
    design = np.column_stack([np.ones(len(near)), near["scholarship"], near["score"] - 60])
    root = np.sqrt(w.to_numpy())[:, None]
    beta = np.linalg.lstsq(design * root, near["grade"].to_numpy() * root[:, 0], rcond=None)[0]
    return float(beta[1])


_common = _common_slope(_exams, 8.0)
_late = rdd.fuzzy_rd(_fuzzy, outcome="grade", treatment="scholarship", running="score",
                     cutoff=60, bandwidth=10).value
_itt = rdd.local_linear_rd(_fuzzy, outcome="grade", running="score", cutoff=60, bandwidth=10).value
_first_stage = rdd.local_linear_rd(_fuzzy, outcome="scholarship", running="score", cutoff=60,
                                   bandwidth=10).value
_below = _exams[_exams["score"] < 60]
_placebo = rdd.local_linear_rd(_below, outcome="grade", running="score", cutoff=55, bandwidth=8).value
_placebo_leaky = rdd.local_linear_rd(_exams, outcome="grade", running="score", cutoff=55,
                                     bandwidth=8).value
_log_jump = rdd.density_test(_regraded, running="score", cutoff=60).value
_log_jump_clean = rdd.density_test(_exams, running="score", cutoff=60).value


# --- q3: the learner's local linear RD estimator -------------------------------------------

def _reference_rd(data, outcome, running, cutoff, bandwidth):
    return rdd.local_linear_rd(data, outcome=outcome, running=running, cutoff=cutoff,
                               bandwidth=bandwidth).value


def _uniform_rd(data, outcome, running, cutoff, bandwidth):
    return rdd.local_linear_rd(data, outcome=outcome, running=running, cutoff=cutoff,
                               bandwidth=bandwidth, kernel="uniform").value


def _means_rd(data, outcome, running, cutoff, bandwidth):
    near = data[(data[running] - cutoff).abs() <= bandwidth]
    above = near[running] >= cutoff
    return float(near.loc[above, outcome].mean() - near.loc[~above, outcome].mean())


def _rd_inputs() -> list:
    rng = np.random.default_rng(7)
    x = rng.uniform(-1, 1, 400)
    smooth = pd.DataFrame({"x": x, "y": 1 + 2 * x + 0.8 * (x >= 0) + rng.normal(0, 0.3, 400)})
    z = rng.normal(50, 10, 500)
    curved = pd.DataFrame({"test": z, "wage": 10 + 0.02 * (z - 45) ** 2 + 3 * (z >= 45)
                           + rng.normal(0, 1, 500)})
    return [
        (smooth, "y", "x", 0.0, 0.5),
        (smooth, "y", "x", 0.2, 0.3),
        (curved, "wage", "test", 45.0, 8.0),
        (curved, "wage", "test", 45.0, 20.0),
        (smooth, "y", "x", 0.0, 0.001),  # an empty bandwidth: refuse it
    ]


def _is_bad(args, kwargs) -> bool:
    return args[4] < 0.01


def _is_good(args, kwargs) -> bool:
    return not _is_bad(args, kwargs)


def _outputs_like(variant):
    expected = [None if _is_bad(args, {}) else variant(*args) for args in _rd_inputs()]

    def matches(outputs) -> bool:
        pairs = [(o, e) for o, e in zip(outputs, expected, strict=False) if e is not None]
        return bool(pairs) and all(
            as_number(o) is not None and math.isclose(as_number(o), e, rel_tol=1e-6, abs_tol=1e-9)
            for o, e in pairs)

    return matches


EXERCISE = Exercise(
    id="07_regression_discontinuity",
    title="Regression discontinuity",
    setup=SETUP,
    questions=[
        Question(
            id="q1",
            answer="naive",
            prompt="Raw difference in mean grades within 5 points of the cutoff.",
            checks=[is_number(), close_to(_naive, abs_tol=0.01, expected=(
                "mean grade of scholarship holders minus non-holders, among students whose "
                "score is less than 5 points from 60"))],
            wrong=[
                Wrong(_everyone, "That compares all scholarship holders with all other "
                                 "students: the holders scored far higher on the exam, and the "
                                 "exam score drives grades by itself."),
            ],
            hint="Keep the rows with |score - 60| < 5, then subtract the mean grade of "
                 "scholarship == 0 from that of scholarship == 1.",
        ),
        Question(
            id="q2",
            answer="local_linear",
            prompt="Local linear RD estimate, triangular kernel, bandwidth 8.",
            checks=[is_number(), close_to(_local, abs_tol=0.005, expected=(
                "the gap at the cutoff between two kernel-weighted lines, one fitted on each "
                "side within 8 points"))],
            wrong=[
                Wrong(_naive, "That is the raw difference in means of q1: it does not fit "
                              "the slope of grades in the exam score."),
                Wrong(_local_uniform, "Those are equal weights within the bandwidth (a "
                                      "uniform kernel); the question asks for the triangular "
                                      "kernel, 1 - |score - 60| / 8."),
                Wrong(_common, "That regression forces one slope on both sides of the "
                               "cutoff; fit a separate line above and below (or add the "
                               "interaction of the treatment with score - 60).",
                      rel_tol=1e-4),
            ],
            hint="rdd.local_linear_rd(exams, outcome='grade', running='score', cutoff=60, bandwidth=8), or fit the "
                 "two weighted lines yourself and subtract their intercepts at 60.",
        ),
        Question(
            id="q3",
            kind="function",
            answer="rd_estimate",
            prompt="Write rd_estimate(data, outcome, running, cutoff, bandwidth).",
            inputs=_rd_inputs,
            checks=[
                returns_numbers(_is_good),
                agrees_with(_reference_rd, select=_is_good, points=2.0, expected=(
                    "the local linear RD estimate with the triangular kernel: the gap between "
                    "the two weighted lines' values at the cutoff")),
                raises_value_error(select=_is_bad, expected=(
                    "a ValueError when the bandwidth leaves fewer than 3 units on a side")),
            ],
            wrong=[
                Wrong(_outputs_like(_uniform_rd), "Your function gives every unit within the "
                      "bandwidth the same weight (a uniform kernel); weight each by "
                      "1 - |x - c| / h."),
                Wrong(_outputs_like(_means_rd), "Your function compares raw means within the "
                      "bandwidth; it needs a fitted line on each side."),
            ],
            hint="For each side: keep the units with weight w = 1 - |x - c| / h > 0, solve "
                 "weighted least squares of y on [1, x - c], and take the intercept. Raise "
                 "ValueError when a side has fewer than 3 units.",
        ),
        Question(
            id="q4",
            answer="late",
            prompt="Fuzzy RD estimate on exams_fuzzy, bandwidth 10.",
            checks=[is_number(), close_to(_late, abs_tol=0.01, expected=(
                "the jump in grades at 60 divided by the jump in the share of students holding "
                "a scholarship, both local linear with bandwidth 10"))],
            wrong=[
                Wrong(_itt, "That is the jump in grades alone (the effect of being eligible): "
                            "only some students' scholarship changes at 60, so divide by the "
                            "jump in take-up."),
                Wrong(_first_stage, "That is the first stage, the jump in take-up; divide the "
                                    "jump in grades by it."),
            ],
            hint="rdd.fuzzy_rd(exams_fuzzy, outcome='grade', treatment='scholarship', running='score', "
                 "cutoff=60, bandwidth=10).",
        ),
        Question(
            id="q5",
            answer="placebo",
            prompt="Placebo estimate at a cutoff of 55, bandwidth 8, students below 60 only.",
            checks=[is_number(), close_to(_placebo, abs_tol=0.005, expected=(
                "a local linear estimate at the fake cutoff 55, using only students who "
                "scored below the real cutoff"))],
            wrong=[
                Wrong(_placebo_leaky, "With all students, the window 47-63 reaches past the "
                                      "real cutoff at 60, so the real jump leaks into the "
                                      "placebo. Keep only students below 60."),
            ],
            hint="below = exams[exams['score'] < 60], then rdd.local_linear_rd(below, "
                 "'grade', 'score', 55, bandwidth=8).",
        ),
        Question(
            id="q6",
            answer="log_jump",
            prompt="McCrary log density jump at 60 in exams_regraded.",
            checks=[is_number(), close_to(_log_jump, abs_tol=0.005, expected=(
                "the estimated log jump in the density of scores at 60 in the regraded year, "
                "with the default bins and bandwidth"))],
            wrong=[
                Wrong(_log_jump_clean, "That is the first year's exams, where nobody was "
                                       "regraded; test the regraded year."),
                Wrong(math.exp(_log_jump), "That is the ratio of the two densities; the test "
                                           "statistic is its logarithm."),
            ],
            hint="rdd.density_test(exams_regraded, running='score', cutoff=60).value",
        ),
    ],
)
