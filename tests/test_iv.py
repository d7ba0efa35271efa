"""lessons_lib.iv meets the book's bar: references, Monte Carlo, published numbers, refusals."""

import numpy as np
import pytest
import statsmodels.formula.api as smf
from linearmodels.iv import IV2SLS
from threadpoolctl import threadpool_limits

from lessons_lib import datasets, iv, simulate
from lessons_lib.testing import assert_agrees, assert_calibrated, monte_carlo

CONTROLS = ["exper", "expersq", "black", "south", "smsa"]



@pytest.fixture(autouse=True)
def _one_blas_thread():
    """Small matrices, many replications: extra BLAS threads only add contention."""
    with threadpool_limits(limits=1):
        yield


@pytest.fixture(scope="module")
def card():
    return datasets.close_college()


@pytest.fixture(scope="module")
def concert():
    return simulate.concert_in_the_rain(3_000, seed=4)


# --- 1. agreement with linearmodels -------------------------------------------------------

@pytest.mark.parametrize("cov_type", ["unadjusted", "robust"])
def test_2sls_agrees_with_linearmodels_on_card(card, cov_type):
    ours = iv.two_stage_least_squares(card, outcome="lwage", treatment="educ",
                                      instruments=["nearc4"], covariates=CONTROLS,
                                      cov_type=cov_type)
    ref = IV2SLS.from_formula("lwage ~ 1 + exper + expersq + black + south + smsa"
                              " + [educ ~ nearc4]", card).fit(cov_type=cov_type)
    assert_agrees(ours, ref.params["educ"])
    assert_agrees(ours.se, ref.std_errors["educ"], what=f"{cov_type} SE")
    assert_agrees(ours.extra["first_stage_f"], ref.first_stage.diagnostics["f.stat"].iloc[0],
                  what="first-stage F")


def test_2sls_overidentified_agrees_with_linearmodels(concert):
    data = concert.data.assign(drizzle=(np.arange(len(concert.data)) % 4 == 0).astype(int)
                               * concert.data["rain"])
    ours = iv.two_stage_least_squares(data, outcome="happiness", treatment="attended",
                                      instruments=["rain", "drizzle"])
    ref = IV2SLS.from_formula("happiness ~ 1 + [attended ~ rain + drizzle]", data).fit(
        cov_type="robust")
    assert_agrees(ours, ref.params["attended"])
    assert_agrees(ours.se, ref.std_errors["attended"], what="robust SE")
    # linearmodels reports the Wald statistic of the excluded instruments; F divides by q = 2
    assert_agrees(ours.extra["first_stage_f"],
                  ref.first_stage.diagnostics["f.stat"].iloc[0] / 2, what="first-stage F")


def test_first_stage_agrees_with_statsmodels(card):
    ours = iv.first_stage(card, treatment="educ", instruments="nearc4", covariates=CONTROLS,
                          cov_type="unadjusted")
    ref = smf.ols("educ ~ nearc4 + " + " + ".join(CONTROLS), card).fit()
    assert_agrees(ours["coef[nearc4]"], ref.params["nearc4"])
    # statsmodels divides by n - k; the IV convention divides by n
    n, k = ref.nobs, ref.df_model + 1
    assert_agrees(ours["se[nearc4]"], ref.bse["nearc4"] * np.sqrt((n - k) / n), what="SE")


def test_wald_is_the_ratio_of_differences_and_equals_2sls(concert):
    d = concert.data
    by_hand = ((d.loc[d.rain == 1, "happiness"].mean() - d.loc[d.rain == 0, "happiness"].mean())
               / (d.loc[d.rain == 1, "attended"].mean() - d.loc[d.rain == 0, "attended"].mean()))
    wald = iv.wald_estimator(d, outcome="happiness", treatment="attended", instrument="rain")
    tsls = iv.two_stage_least_squares(d, outcome="happiness", treatment="attended",
                                      instruments="rain")
    assert_agrees(wald, by_hand, rtol=1e-10)
    assert_agrees(tsls, by_hand, rtol=1e-8)
    assert wald.se == pytest.approx(tsls.se) and wald.estimand == "LATE"


def test_naive_second_stage_standard_error_is_wrong(concert):
    d = concert.data
    fitted = smf.ols("attended ~ rain", d).fit().fittedvalues
    naive = smf.ols("happiness ~ fitted", d.assign(fitted=fitted)).fit()
    right = iv.two_stage_least_squares(d, outcome="happiness", treatment="attended",
                                       instruments="rain", cov_type="unadjusted")
    assert_agrees(right, naive.params["fitted"])  # same point estimate...
    # ...but its residuals use the fitted treatment, so its standard error is off
    assert abs(naive.bse["fitted"] / right.se - 1) > 0.1


# --- 2. right in simulation -----------------------------------------------------------------

@pytest.mark.slow
def test_2sls_covers_the_late_with_a_strong_instrument():
    truth = simulate.concert_in_the_rain(10, seed=0).truth["LATE"]

    def one(seed):
        d = simulate.concert_in_the_rain(1_500, seed=seed).data
        return iv.two_stage_least_squares(d, outcome="happiness", treatment="attended",
                                          instruments="rain"), truth

    result = monte_carlo(one, n_reps=400, seed=21)
    assert_calibrated(result, max_abs_bias=0.05)


@pytest.mark.slow
def test_weak_instruments_are_biased_towards_ols_and_undercover():
    # A weak rain (first-stage F about 3) plus ten valid but irrelevant instruments, the
    # setting of Bound, Jaeger and Baker (1995): 2SLS drifts towards OLS and its nominal 95%
    # interval covers the truth far less often.
    truth = simulate.concert_in_the_rain(10, seed=0, rain_effect=0.2).truth["LATE"]
    estimates, covered, ols = [], [], []
    for seed in range(200):
        d = simulate.concert_in_the_rain(1_000, seed=seed, rain_effect=0.2).data
        noise = np.random.default_rng(1_000 + seed).binomial(1, 0.5, size=(len(d), 10))
        d[[f"z{j}" for j in range(10)]] = noise
        est = iv.two_stage_least_squares(d, outcome="happiness", treatment="attended",
                                         instruments=["rain"] + [f"z{j}" for j in range(10)])
        estimates.append(est.value)
        covered.append(est.covers(truth))
        ols.append(d.loc[d.attended == 1, "happiness"].mean()
                   - d.loc[d.attended == 0, "happiness"].mean())
    median_bias = np.median(estimates) - truth
    assert 0.3 * (np.mean(ols) - truth) < median_bias < np.mean(ols) - truth
    assert np.mean(covered) < 0.9


def test_broken_exclusion_biases_2sls_by_direct_effect_over_first_stage():
    sim = simulate.concert_in_the_rain(200_000, seed=3, rain_on_happiness=-0.3)
    est = iv.two_stage_least_squares(sim.data, outcome="happiness", treatment="attended",
                                     instruments="rain")
    first = est.extra["first_stage_coefficient"]
    assert est.value - sim.truth["LATE"] == pytest.approx(-0.3 / first, abs=0.1)


def test_simulated_late_is_the_compliers_average_effect():
    sim = simulate.concert_in_the_rain(400_000, seed=5)
    po = sim.potential_outcomes
    assert po.loc[po["type"] == "complier", "effect"].mean() == pytest.approx(
        sim.truth["LATE"], abs=0.01)
    assert (po["type"] == "complier").mean() == pytest.approx(sim.truth["complier share"],
                                                              abs=0.005)


# --- 3. published numbers (Card, 1995) ------------------------------------------------------

def test_card_return_to_schooling(card):
    # Card (1995): OLS 0.073 and IV (college proximity) 0.132 per year of schooling, with
    # regional dummies this extract lacks. Ours: 0.074 and 0.132.
    ols = smf.ols("lwage ~ educ + " + " + ".join(CONTROLS), card).fit()
    assert ols.params["educ"] == pytest.approx(0.073, abs=0.002)
    est = iv.two_stage_least_squares(card, outcome="lwage", treatment="educ",
                                     instruments="nearc4", covariates=CONTROLS,
                                     cov_type="unadjusted")
    assert est.value == pytest.approx(0.132, abs=0.002)
    assert est.se == pytest.approx(0.049, abs=0.002)
    assert 10 < est.extra["first_stage_f"] < 25


# --- 4. refusals ----------------------------------------------------------------------------

def test_refusals(concert):
    d = concert.data
    with pytest.raises(ValueError, match="at least one instrument"):
        iv.two_stage_least_squares(d, outcome="happiness", treatment="attended", instruments=[])
    with pytest.raises(ValueError, match="cannot be instruments"):
        iv.two_stage_least_squares(d, outcome="happiness", treatment="attended",
                                   instruments=["attended"])
    with pytest.raises(ValueError, match="both instruments and covariates"):
        iv.two_stage_least_squares(d, outcome="happiness", treatment="attended",
                                   instruments=["rain"], covariates=["rain"])
    with pytest.raises(ValueError, match="no variation left"):
        iv.two_stage_least_squares(d.assign(one=1.0), outcome="happiness", treatment="attended",
                                   instruments=["one"])
    with pytest.raises(ValueError, match="no variation left"):
        iv.two_stage_least_squares(d.assign(copy=d["rain"]), outcome="happiness",
                                   treatment="attended", instruments=["rain"],
                                   covariates=["copy"])
    with pytest.raises(ValueError, match="no first stage"):
        flat = d.assign(attended=np.tile([0, 1], len(d) // 2), rain=np.repeat([0, 1], len(d) // 2))
        iv.wald_estimator(flat, outcome="happiness", treatment="attended", instrument="rain")
    with pytest.raises(ValueError, match="no first stage"):
        iv.two_stage_least_squares(flat, outcome="happiness", treatment="attended",
                                   instruments="rain")
    with pytest.raises(ValueError, match="missing value"):
        iv.two_stage_least_squares(d.assign(rain=d["rain"].where(d.index > 0)),
                                   outcome="happiness", treatment="attended", instruments="rain")
    with pytest.raises(ValueError, match="must be 0/1"):
        iv.wald_estimator(d.assign(rain=d["rain"] * 3), outcome="happiness",
                          treatment="attended", instrument="rain")
    with pytest.raises(ValueError, match="cov_type"):
        iv.two_stage_least_squares(d, outcome="happiness", treatment="attended",
                                   instruments="rain", cov_type="HC3")
    with pytest.raises(ValueError, match="not found"):
        iv.two_stage_least_squares(d, outcome="happiness", treatment="attended",
                                   instruments="snow")
    with pytest.raises(ValueError, match="too few"):
        iv.two_stage_least_squares(d.head(3), outcome="happiness", treatment="attended",
                                   instruments="rain")
