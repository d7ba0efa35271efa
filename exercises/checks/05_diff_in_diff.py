"""Trusted checks for exercises/05_diff_in_diff.ipynb (difference in differences)."""

from __future__ import annotations

import math

import numpy as np

from lessons_lib import panel, simulate
from lessons_lib.check import (
    Exercise,
    Question,
    Wrong,
    agrees_with,
    as_number,
    close_to,
    equals_text,
    is_number,
    one_of,
    raises_value_error,
    returns_numbers,
)

SETUP = """\
import numpy as np
import pandas as pd

from lessons_lib import datasets, panel, simulate

launch = simulate.banner_regions(300, seed=21, months=(-3, 1)).data
castle = datasets.castle_doctrine()
"""

_setup: dict = {}
exec(SETUP, _setup)  # the same data the learner sees
_launch, _castle = _setup["launch"], _setup["castle"]

# --- reference answers, computed from the data (never shown to the learner) ---------------
_twfe = panel.two_way_fixed_effects(_launch, outcome="Y", treatment="T", unit="shopper",
                                    time="month")
_post = _launch[_launch["post"] == 1]
_naive_after = (_post.loc[_post["region_A"] == 1, "Y"].mean()
                - _post.loc[_post["region_A"] == 0, "Y"].mean())
_a = _launch[_launch["region_A"] == 1]
_before_after = _a.loc[_a["post"] == 1, "Y"].mean() - _a.loc[_a["post"] == 0, "Y"].mean()


def _rows_independent_se() -> float:
    """The TWFE standard error that treats the rows as independent (HC1, not clustered)."""
    demeaned = _launch[["Y", "T"]].astype(float)
    for key in ("shopper", "month"):  # balanced panel: one sweep is exact
        demeaned = demeaned - demeaned.groupby(_launch[key]).transform("mean")
    x, y = demeaned["T"].to_numpy(), demeaned["Y"].to_numpy()
    slope = (x @ y) / (x @ x)
    resid = y - slope * x
    n, k = len(y), 1 + _launch["shopper"].nunique() + _launch["month"].nunique() - 1
    return float(np.sqrt(n / (n - k) * np.sum((x * resid) ** 2)) / (x @ x))


_se_unclustered = _rows_independent_se()

_castle_weighted = panel.two_way_fixed_effects(_castle, outcome="l_homicide", treatment="post",
                                               unit="sid", time="year", weights="popwt").value
_castle_unweighted = panel.two_way_fixed_effects(_castle, outcome="l_homicide", treatment="post",
                                                 unit="sid", time="year").value


# --- q6: the group-time estimator -----------------------------------------------------------

def _reference_att_gt(data, g, t):
    if t < g:
        raise ValueError("t must be at or after g")
    cells = panel.group_time_effects(data, outcome="Y", unit="unit", time="period",
                                     first_treated="first_treated")
    row = cells[(cells["cohort"] == g) & (cells["time"] == t)]
    return float(row["att"].iloc[0])


def _variant_att_gt(data, g, t, *, controls):
    wide = data.pivot(index="unit", columns="period", values="Y")
    cohort = data.groupby("unit")["first_treated"].first()
    change = wide[t] - wide[g - 1]
    if controls == "all others":
        comparison = cohort != g
    else:  # never treated only
        comparison = cohort.isna()
    return float(change[cohort == g].mean() - change[comparison].mean())


def _att_gt_inputs() -> list:
    first = simulate.staggered_rollout(80, seed=101, periods=7, cohorts={3: 0.3, 5: 0.3}).data
    second = simulate.staggered_rollout(60, seed=202, periods=6, cohorts={2: 0.4, 4: 0.3}).data
    return [(first, 3, 3), (first, 3, 6), (first, 5, 7), (second, 2, 5), (second, 4, 4),
            (first, 5, 3)]  # the last one asks for a period before adoption: refuse it


def _is_bad(args, kwargs) -> bool:
    return args[2] < args[1]


def _is_good(args, kwargs) -> bool:
    return not _is_bad(args, kwargs)


def _outputs_like(variant):
    expected = [None if t < g else variant(data, g, t) for data, g, t in _att_gt_inputs()]

    def matches(outputs) -> bool:
        pairs = [(o, e) for o, e in zip(outputs, expected, strict=False) if e is not None]
        return bool(pairs) and all(
            as_number(o) is not None and math.isclose(as_number(o), e, rel_tol=1e-6, abs_tol=1e-9)
            for o, e in pairs)

    return matches


EXERCISE = Exercise(
    id="05_diff_in_diff",
    title="Difference in differences",
    setup=SETUP,
    questions=[
        Question(
            id="q1",
            answer="did_cups",
            prompt="DiD from a 2x2 table of mean cups sold.",
            checks=[is_number(), close_to(-15.0, abs_tol=0.01, expected=(
                "the change in Lyon minus the change in Nantes, in cups per store and day"))],
            wrong=[
                Wrong(-30.0, "That is Lyon's before-after change alone: it credits the price "
                             "rise with the fall that Nantes shows happened anyway."),
                Wrong(5.0, "That compares the two cities in March only: it mixes the effect "
                           "with the cities' permanent difference in sales."),
                Wrong(15.0, "The sign is flipped: subtract the comparison city's change from "
                            "the treated city's change, not the other way round."),
                Wrong(-45.0, "The changes were added; DiD subtracts the comparison group's "
                             "change."),
            ],
            hint="Compute each city's change from February to March, then subtract Nantes's "
                 "change from Lyon's.",
        ),
        Question(
            id="q2",
            answer="did_corrected",
            prompt="Remove a known pre-existing trend gap from the DiD.",
            checks=[is_number(), close_to(-10.0, abs_tol=0.01, expected=(
                "the DiD estimate minus the part due to Lyon's faster decline over one month"))],
            wrong=[
                Wrong(-15.0, "That is the uncorrected DiD: it attributes Lyon's faster decline "
                             "to the price rise."),
                Wrong(-20.0, "The drift was added instead of removed: Lyon's sales would have "
                             "fallen 5 cups more even without the price rise, so the estimate "
                             "is too negative by 5."),
            ],
            hint="Without the price rise, Lyon's change would have been Nantes's change plus "
                 "Lyon's extra decline of 5 cups. Use that as the counterfactual change.",
        ),
        Question(
            id="q3",
            answer="assumption",
            prompt="Which assumption does the commuter story break?",
            checks=[one_of(["parallel trends", "no anticipation", "no spillovers"]),
                    equals_text("no spillovers", expected=(
                        "the assumption about the comparison group's outcomes being "
                        "untouched by the treatment"))],
            wrong=[
                Wrong("parallel trends", "Parallel trends is about how the groups' untreated "
                      "outcomes would have evolved. Here the comparison group's outcome is "
                      "changed by the treatment itself: that is a spillover."),
                Wrong("no anticipation", "Anticipation is the treated group reacting before "
                      "the treatment starts. Here the comparison city reacts after it starts."),
            ],
            hint="Ask whose outcome the price rise changes: only Lyon's, or also Nantes's?",
        ),
        Question(
            id="q4",
            answer="twfe_effect",
            prompt="Two-way fixed effects estimate of the banner's effect on `launch`.",
            checks=[is_number(), close_to(_twfe.value, abs_tol=0.01, expected=(
                "the coefficient on T in a regression with shopper and month fixed effects, "
                "using every month of `launch`"))],
            wrong=[
                Wrong(_naive_after, "That compares the regions after the launch only; region A "
                                    "spends more in every month, banner or not."),
                Wrong(_before_after, "That is region A's before-after change; the months after "
                                     "the launch include the January sale, which hit both "
                                     "regions."),
            ],
            hint="panel.two_way_fixed_effects(launch, outcome=..., treatment=..., unit=..., time=...) "
                 "and take .value.",
        ),
        Question(
            id="q5",
            answer="twfe_se",
            prompt="Its standard error, clustered by shopper.",
            checks=[is_number(), close_to(_twfe.se, abs_tol=0.03 * _twfe.se, expected=(
                "a standard error that treats each shopper, not each row, as one independent "
                "unit"))],
            wrong=[
                Wrong(_se_unclustered, "That standard error treats the rows as independent. "
                      "Each shopper appears in five months, so the rows of one shopper share "
                      "information: cluster by shopper.", rel_tol=0.02),
            ],
            hint="The Estimate returned by panel.two_way_fixed_effects has .se, clustered by "
                 "the unit column.",
        ),
        Question(
            id="q6",
            answer="att_gt",
            kind="function",
            inputs=_att_gt_inputs,
            prompt="Implement the group-time effect ATT(g, t) with not-yet-treated controls.",
            checks=[
                returns_numbers(_is_good, name="returns a number for every valid (g, t)"),
                agrees_with(_reference_att_gt, select=_is_good, points=2.0, expected=(
                    "the mean change from period g-1 to t of cohort g minus that of the "
                    "units not yet treated at t (never-treated included)")),
                raises_value_error(select=_is_bad, expected=(
                    "a ValueError when t is before g")),
            ],
            wrong=[
                Wrong(_outputs_like(lambda d, g, t: _variant_att_gt(d, g, t, controls="all others")),
                      "Your comparison group includes units that are already treated at t. "
                      "Their changes contain their own (growing) effects, which is exactly the "
                      "forbidden comparison that biases two-way fixed effects."),
                Wrong(_outputs_like(lambda d, g, t: _variant_att_gt(d, g, t, controls="never")),
                      "You compare with never-treated units only. That is a valid estimator, "
                      "but the question asks for the not-yet-treated comparison, which also "
                      "uses units that adopt after t."),
            ],
            hint="Pivot to one row per unit and one column per period; the change is column t "
                 "minus column g-1. Controls: first_treated is NaN or greater than t.",
        ),
        Question(
            id="q7",
            answer="castle_percent",
            prompt="The castle-doctrine effect in percent (weighted TWFE, state and year FE).",
            checks=[is_number(), close_to(100 * math.expm1(_castle_weighted), abs_tol=0.05,
                                          expected=(
                "the population-weighted TWFE coefficient turned into a percent change, "
                "100 (exp(tau) - 1)"))],
            wrong=[
                Wrong(100 * _castle_weighted, "That is 100 times the log-point coefficient; "
                      "a change of tau in a log outcome is 100 (exp(tau) - 1) percent.",
                      rel_tol=0.002),
                Wrong(100 * math.expm1(_castle_unweighted), "That regression is not weighted: "
                      "the published design weights states by population (weights='popwt').",
                      rel_tol=0.002),
                Wrong(100 * _castle_unweighted, "Unweighted and not converted: weight by "
                      "population and use 100 (exp(tau) - 1).", rel_tol=0.002),
            ],
            hint="panel.two_way_fixed_effects(castle, outcome='l_homicide', treatment='post', "
                 "unit='sid', time='year', weights='popwt'), then 100 * np.expm1(value).",
        ),
    ],
)
