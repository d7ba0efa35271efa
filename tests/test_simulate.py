"""lessons_lib.simulate: the running examples carry the truth they claim to carry."""

import numpy as np
import pandas as pd
import pytest

from lessons_lib import simulate

# --- the six shoppers of chapter 01 -------------------------------------------------------

def test_six_shoppers_numbers_of_chapter_01():
    df = simulate.six_shoppers()
    assert list(df["name"]) == ["Alice", "Bob", "Carol", "Dave", "Eve", "Frank"]
    assert list(df["effect"]) == [15, 2, -2, 20, 5, 0]
    assert df["effect"].mean() == pytest.approx(40 / 6)  # ATE $6.67
    assert df.loc[df["T"] == 1, "effect"].mean() == pytest.approx(40 / 3)  # ATT $13.33
    assert df.loc[df["T"] == 0, "effect"].mean() == pytest.approx(0.0)  # ATC $0.00
    cate = df.groupby("tier")["effect"].mean()
    assert cate["high"] == pytest.approx(13 / 3) and cate["low"] == pytest.approx(9.0)


def test_six_shoppers_observed_outcome_is_consistent():
    df = simulate.six_shoppers()
    assert (df["Y"] == np.where(df["T"] == 1, df["Y1"], df["Y0"])).all()
    naive = df.loc[df["T"] == 1, "Y"].mean() - df.loc[df["T"] == 0, "Y"].mean()
    assert naive == pytest.approx(125 / 3 - 130 / 3)  # -$1.67: the naive comparison


def test_six_shoppers_is_a_fresh_copy_each_time():
    first = simulate.six_shoppers()
    first.loc[0, "Y"] = -999
    assert simulate.six_shoppers().loc[0, "Y"] == 55


# --- the banner shop ---------------------------------------------------------------------

def test_banner_shop_is_reproducible_and_seeded():
    a = simulate.banner_shop(500, seed=4)
    b = simulate.banner_shop(500, seed=4)
    c = simulate.banner_shop(500, seed=5)
    pd.testing.assert_frame_equal(a.data, b.data)
    pd.testing.assert_frame_equal(a.potential_outcomes, b.potential_outcomes)
    assert not a.data.equals(c.data)


def test_banner_shop_shapes_and_columns():
    sim = simulate.banner_shop(300, seed=0)
    assert list(sim.data.columns) == ["prior_spend", "visits", "mobile", "T", "Y"]
    assert list(sim.potential_outcomes.columns) == ["Y0", "Y1", "effect", "propensity"]
    assert len(sim.data) == len(sim.potential_outcomes) == 300
    assert "propensity" not in sim.data.columns  # analysts must estimate it
    assert set(sim.data["T"].unique()) <= {0, 1}
    assert "n = 300" in repr(sim) and "ATE = 4.20" in repr(sim)


def test_banner_shop_truth_matches_its_potential_outcomes():
    sim = simulate.banner_shop(2_000, seed=1)
    po, data = sim.potential_outcomes, sim.data
    np.testing.assert_allclose(po["Y1"] - po["Y0"], po["effect"])
    np.testing.assert_allclose(data["Y"], np.where(data["T"] == 1, po["Y1"], po["Y0"]))
    assert sim.truth["sample ATE"] == pytest.approx(po["effect"].mean())
    assert sim.att == pytest.approx(po.loc[data["T"] == 1, "effect"].mean())
    # data keeps prior_spend rounded to cents, so tau(x) agrees to 0.08 x half a cent
    tau = simulate.banner_effect(data["prior_spend"].to_numpy(), data["mobile"].to_numpy())
    np.testing.assert_allclose(po["effect"], tau, atol=0.0005)


def test_banner_shop_population_ate_is_4_20():
    # E[tau(X)] = 5 + 0.08 (E[prior_spend] - 50) - 2 P(mobile) = 5 + 0 - 0.8
    assert simulate.BANNER_SHOP_ATE == pytest.approx(4.2)
    sim = simulate.banner_shop(200_000, seed=2, randomized=True)
    assert sim.ate == pytest.approx(4.2)
    assert sim.truth["sample ATE"] == pytest.approx(4.2, abs=0.03)


def test_randomized_banner_shop_is_a_fair_coin():
    sim = simulate.banner_shop(20_000, seed=3, randomized=True)
    assert (sim.potential_outcomes["propensity"] == 0.5).all()
    assert sim.data["T"].mean() == pytest.approx(0.5, abs=0.015)
    # a coin balances the covariates
    by_arm = sim.data.groupby("T")["prior_spend"].mean()
    assert abs(by_arm[1] - by_arm[0]) < 1.5


def test_targeted_banner_shop_is_confounded():
    sim = simulate.banner_shop(20_000, seed=3)
    data = sim.data
    by_arm = data.groupby("T")["prior_spend"].mean()
    assert by_arm[1] - by_arm[0] > 10  # big spenders see the banner more
    naive = data.loc[data["T"] == 1, "Y"].mean() - data.loc[data["T"] == 0, "Y"].mean()
    assert naive > sim.ate + 5  # the naive comparison is far above the truth
    assert sim.att > sim.ate  # targeted shoppers benefit more (tau rises with prior spend)
    p = sim.potential_outcomes["propensity"]
    assert 0 < p.min() and p.max() < 1


@pytest.mark.parametrize("n", [0, 3, -5, 2.5, "100"])
def test_banner_shop_refuses_bad_n(n):
    with pytest.raises(ValueError, match="n must be a whole number"):
        simulate.banner_shop(n, seed=0)


# --- chapter 00: readmissions --------------------------------------------------------------

def test_readmission_truth_is_the_analytic_ate():
    # sum over severity of P(s) x risk0(s) x (0.7 - 1)
    expected = -0.3 * (0.5 * 0.08 + 0.3 * 0.20 + 0.2 * 0.45)
    assert simulate.READMISSION_ATE == pytest.approx(expected)
    sim = simulate.readmission(200_000, seed=0)
    assert sim.ate == pytest.approx(-0.057)
    assert sim.truth["sample ATE"] == pytest.approx(-0.057, abs=0.003)
    po = sim.potential_outcomes
    assert (po["Y1"] <= po["Y0"]).all()  # the medication never causes a readmission
    assert (sim.data["Y"] == np.where(sim.data["T"] == 1, po["Y1"], po["Y0"])).all()


def test_readmission_is_confounded_by_severity_and_flips_sign():
    sim = simulate.readmission(50_000, seed=1)
    data = sim.data
    rates = data.groupby("T")["Y"].mean()
    assert rates[1] - rates[0] > 0.07  # the medication looks harmful...
    within = data.groupby(["severity", "T"], observed=True)["Y"].mean().unstack()
    assert (within[1] < within[0]).all()  # ...and helps within every level of severity
    share = data.groupby("severity", observed=True)["T"].mean()
    np.testing.assert_allclose(share.to_numpy(), [0.1, 0.5, 0.9], atol=0.02)
    assert list(data["severity"].cat.categories) == ["mild", "moderate", "severe"]


def test_readmission_is_seeded():
    pd.testing.assert_frame_equal(simulate.readmission(300, seed=2).data,
                                  simulate.readmission(300, seed=2).data)
    with pytest.raises(ValueError, match="n must be a whole number"):
        simulate.readmission(2)


# --- chapter 00: hospital records and simulated interventions -------------------------------

def test_hospital_records_interventions_share_the_same_patients():
    natural = simulate.hospital_records(5_000, seed=4)
    no_tests = simulate.hospital_records(5_000, seed=4, do={"lab_tests": 0})
    assert (no_tests.data["lab_tests"] == 0).all()
    np.testing.assert_array_equal(natural.potential_outcomes["frailty"],
                                  no_tests.potential_outcomes["frailty"])
    # lab tests are a symptom: setting them changes nobody's risk or outcome
    np.testing.assert_array_equal(natural.potential_outcomes["risk"],
                                  no_tests.potential_outcomes["risk"])
    pd.testing.assert_series_equal(natural.data["readmitted"], no_tests.data["readmitted"])


def test_hospital_records_levers_work_and_symptoms_do_not():
    natural = simulate.hospital_records(20_000, seed=5)
    rate = natural.truth["readmission rate"]
    shorter = simulate.hospital_records(20_000, seed=5, do={"length_of_stay": lambda d: d // 2})
    medicated = simulate.hospital_records(20_000, seed=5, do={"medication": 1})
    called = simulate.hospital_records(20_000, seed=5, do={"follow_up_call": 1})
    assert shorter.truth["readmission rate"] == rate
    assert medicated.truth["readmission rate"] < rate - 0.02
    assert called.truth["readmission rate"] < rate - 0.07
    # the shift intervention kept the natural values it maps
    np.testing.assert_array_equal(shorter.data["length_of_stay"],
                                  natural.data["length_of_stay"] // 2)


def test_hospital_records_associations_mislead():
    data = simulate.hospital_records(20_000, seed=6).data
    by_medication = data.groupby("medication")["readmitted"].mean()
    assert by_medication[1] > by_medication[0]  # medication predicts readmission
    assert np.corrcoef(data["lab_tests"], data["readmitted"])[0, 1] > 0.15
    assert data["follow_up_call"].mean() == pytest.approx(0.08, abs=0.01)
    assert data["age"].between(18, 100).all()
    assert list(data.columns) == list(simulate.HOSPITAL_FEATURES) + ["readmitted"]


def test_hospital_records_refuses_unknown_interventions():
    with pytest.raises(ValueError, match=r"cannot intervene on \['frailty'\]"):
        simulate.hospital_records(100, seed=0, do={"frailty": 0})
