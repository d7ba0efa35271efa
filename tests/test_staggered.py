"""lessons_lib.staggered: weighted group-time cells, the event-time aggregation, calibration."""

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from threadpoolctl import threadpool_limits

from lessons_lib import datasets, simulate, staggered
from lessons_lib.testing import assert_agrees, assert_calibrated, monte_carlo


@pytest.fixture(autouse=True)
def _one_blas_thread():
    with threadpool_limits(limits=1):
        yield


@pytest.fixture(scope="module")
def castle():
    return datasets.castle_doctrine()


def _cohorts(data, unit, first_treated):
    return data.groupby(unit)[first_treated].first()


def test_weighted_cells_agree_with_weighted_long_difference_regressions(castle):
    cells = staggered.group_time_effects(castle, outcome="l_homicide", unit="sid", time="year",
                                         first_treated="effyear", weights="popwt")
    wide = castle.pivot(index="sid", columns="year", values="l_homicide")
    cohort = _cohorts(castle, "sid", "effyear")
    population = castle.groupby("sid")["popwt"].first()
    for row in cells.sample(12, random_state=0).itertuples():
        g, t = row.cohort, row.time
        keep = (cohort == g) | cohort.isna() | (cohort > max(t, g - 1))
        frame = pd.DataFrame({"change": (wide[int(t)] - wide[int(g - 1)])[keep],
                              "D": (cohort[keep] == g).astype(float), "w": population[keep]})
        if (frame["D"] == 1).sum() < 2:
            continue  # HC0 of a one-unit cohort: both are the comparison group's noise alone
        ref = smf.wls("change ~ D", frame, weights=frame["w"]).fit(cov_type="HC0")
        assert_agrees(row.att, ref.params["D"], what=f"ATT({g}, {t})")
        assert_agrees(row.se, ref.bse["D"], what=f"SE of ATT({g}, {t})")


def test_event_time_effects_by_hand(castle):
    """theta(e) = sum_g W_g ATT(g, g+e) / sum_g W_g, written out with pandas loops."""
    ours = staggered.event_time_effects(castle, outcome="l_homicide", unit="sid", time="year",
                                        first_treated="effyear", weights="popwt")
    wide = castle.pivot(index="sid", columns="year", values="l_homicide")
    cohort = _cohorts(castle, "sid", "effyear")
    population = castle.groupby("sid")["popwt"].first()
    years = set(wide.columns)
    for e in [-5, -3, -2, 0, 1, 3]:
        numerator = denominator = 0.0
        for g in sorted(cohort.dropna().unique()):
            t = g + e
            if t not in years:
                continue
            treated = cohort == g
            control = (cohort.isna() | (cohort > max(t, g - 1))) & ~treated
            change = wide[int(t)] - wide[int(g - 1)]
            att = (np.average(change[treated], weights=population[treated])
                   - np.average(change[control], weights=population[control]))
            numerator += population[treated].sum() * att
            denominator += population[treated].sum()
        row = ours.set_index("event_time").loc[e]
        assert_agrees(row["estimate"], numerator / denominator, what=f"theta({e})")
    assert ours.set_index("event_time").loc[-1, "estimate"] == 0


def test_single_cohort_event_times_carry_the_cell_standard_error():
    sim = simulate.staggered_rollout(200, seed=3, periods=8, cohorts={3: 0.4, 6: 0.3})
    cells = staggered.group_time_effects(sim.data, outcome="Y", unit="unit", time="period",
                                         first_treated="first_treated")
    path = staggered.event_time_effects(sim.data, outcome="Y", unit="unit", time="period",
                                        first_treated="first_treated").set_index("event_time")
    for e, group in cells.groupby("event_time"):
        if len(group) == 1:
            assert path.loc[int(e), "cohorts"] == 1
            assert_agrees(path.loc[int(e), "se"], group["se"].iloc[0], what=f"SE at {e}")


def test_weighted_staggered_did_is_the_weighted_average_of_post_cells(castle):
    est = staggered.staggered_did(castle, outcome="l_homicide", unit="sid", time="year",
                                  first_treated="effyear", weights="popwt")
    cells = staggered.group_time_effects(castle, outcome="l_homicide", unit="sid", time="year",
                                         first_treated="effyear", weights="popwt")
    population = castle.groupby("sid")["popwt"].first()
    cohort = _cohorts(castle, "sid", "effyear")
    post = cells[cells["event_time"] >= 0]
    w = post["cohort"].map(lambda g: population[cohort == g].sum())
    assert_agrees(est.value, np.average(post["att"], weights=w))


@pytest.mark.slow
def test_event_time_effect_at_adoption_is_calibrated():
    def one(seed):
        sim = simulate.staggered_rollout(150, seed=seed, periods=8, cohorts={3: 0.4, 6: 0.3})
        path = staggered.event_time_effects(sim.data, outcome="Y", unit="unit", time="period",
                                            first_treated="first_treated", leads=2, lags=1)
        row = path.set_index("event_time").loc[0]
        effect = sim.potential_outcomes["effect"]
        at_zero = (sim.data["period"] - sim.data["first_treated"]) == 0
        truth = float(effect[at_zero.to_numpy()].mean())
        from lessons_lib.estimate import Estimate
        return Estimate.from_se(row["estimate"], row["se"], n=len(sim.data),
                                estimand="ATT", method="theta(0)"), truth

    result = monte_carlo(one, n_reps=400, seed=21)
    assert_calibrated(result, max_abs_bias=0.05)


def test_refusals(castle):
    with pytest.raises(ValueError, match="constant within a unit"):
        staggered.event_time_effects(castle.assign(w=np.arange(len(castle)) + 1.0),
                                     outcome="l_homicide", unit="sid", time="year",
                                     first_treated="effyear", weights="w")
    with pytest.raises(ValueError, match="leads must be"):
        staggered.event_time_effects(castle, outcome="l_homicide", unit="sid", time="year",
                                     first_treated="effyear", leads=-1)
    with pytest.raises(ValueError, match="control must be"):
        staggered.staggered_did(castle, outcome="l_homicide", unit="sid", time="year",
                                first_treated="effyear", control="everyone")
    with pytest.raises(ValueError, match="positive"):
        staggered.group_time_effects(castle.assign(w=0.0), outcome="l_homicide", unit="sid",
                                     time="year", first_treated="effyear", weights="w")
