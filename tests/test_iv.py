"""lessons_lib.iv meets the book's bar: references, Monte Carlo, published numbers, refusals."""

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf
from linearmodels.iv import IV2SLS, IVGMM
from scipy import stats
from threadpoolctl import threadpool_limits

from lessons_lib import datasets, iv, simulate
from lessons_lib.testing import assert_agrees, assert_calibrated, monte_carlo

CONTROLS = ["exper", "expersq", "black", "south", "smsa"]
# Card (1995)'s own controls: the above plus metropolitan residence and region in 1966
CARD_CONTROLS = CONTROLS + ["smsa66"] + datasets.REGIONS_1966[1:]  # reg661 omitted
CARD_FORMULA = "lwage ~ 1 + " + " + ".join(CARD_CONTROLS)


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

def test_card_published_specification(card):
    # Card (1995): IV 0.132 (SE 0.055) with nearc4 as the instrument for educ, experience
    # and its square treated as exogenous, controls black, south, smsa, smsa66 and the 1966
    # region dummies; the first stage 0.320 (0.088); OLS 0.075 (0.003). Wooldridge
    # (Introductory Econometrics, Example 15.4) restates the same numbers for these data.
    # Card reported conventional (homoskedastic) standard errors.
    est = iv.two_stage_least_squares(card, outcome="lwage", treatment="educ",
                                     instruments="nearc4", covariates=CARD_CONTROLS,
                                     cov_type="unadjusted")
    assert round(est.value, 3) == 0.132
    assert round(est.se, 3) == 0.055
    assert est.estimand == "ACR"
    first = iv.first_stage(card, treatment="educ", instruments="nearc4",
                           covariates=CARD_CONTROLS, cov_type="unadjusted")
    assert round(first["coef[nearc4]"], 3) == 0.320
    assert round(first["se[nearc4]"], 3) == 0.088
    ols = smf.ols("lwage ~ educ + " + " + ".join(CARD_CONTROLS), card).fit()
    assert round(ols.params["educ"], 3) == 0.075 and round(ols.bse["educ"], 3) == 0.003


def test_card_without_1966_controls_is_a_different_specification(card):
    # The eight-column causaldata extract lacks smsa66 and the regions: with only the controls
    # it has, the point estimate happens to round to 0.132 too, but the SE is 0.049, not 0.055
    short = iv.two_stage_least_squares(card, outcome="lwage", treatment="educ",
                                       instruments="nearc4", covariates=CONTROLS,
                                       cov_type="unadjusted")
    assert round(short.se, 3) == 0.049
    # treating experience as endogenous (instrumented by age, age^2) moves the estimate
    ref = IV2SLS.from_formula("lwage ~ 1 + " + " + ".join(CARD_CONTROLS[2:])
                              + " + [educ + exper + expersq ~ nearc4 + age + agesq]",
                              card).fit(cov_type="unadjusted")
    assert abs(ref.params["educ"] - 0.132) > 0.005


def test_loader_matches_the_causaldata_extract(card):
    from causaldata import close_college as source

    raw = source.load_pandas().data
    for column in raw.columns:  # causaldata stores lwage in single precision
        np.testing.assert_allclose(card[column].to_numpy(dtype=float),
                                   raw[column].to_numpy(dtype=float), rtol=1e-6)
    assert (card[datasets.REGIONS_1966].sum(axis=1) == 1).all()


# --- weak-instrument diagnostics: effective F, Anderson-Rubin, over-identification ---------

def test_effective_f_is_the_robust_f_with_one_instrument(card):
    ref = IV2SLS.from_formula(CARD_FORMULA + " + [educ ~ nearc4]", card).fit(cov_type="robust")
    ours = iv.effective_f(card, treatment="educ", instruments="nearc4", covariates=CARD_CONTROLS)
    assert_agrees(ours, ref.first_stage.diagnostics["f.stat"].iloc[0], what="effective F")


def test_effective_f_with_two_instruments(card):
    # homoskedastic: the classical F (linearmodels' Wald statistic over q = 2)
    ref = IV2SLS.from_formula(CARD_FORMULA + " + [educ ~ nearc4 + nearc2]", card).fit(
        cov_type="unadjusted")
    ours = iv.effective_f(card, treatment="educ", instruments=["nearc4", "nearc2"],
                          covariates=CARD_CONTROLS, cov_type="unadjusted")
    # (linearmodels already divides its unadjusted statistic by q)
    assert_agrees(ours, ref.first_stage.diagnostics["f.stat"].iloc[0], what="classical F")
    # robust: pi' (Z~'Z~) pi / trace(V Z~'Z~), with statsmodels' HC0 covariance for V
    fit = sm.OLS(card["educ"], sm.add_constant(card[CARD_CONTROLS + ["nearc4", "nearc2"]])).fit(
        cov_type="HC0")
    pi = fit.params[["nearc4", "nearc2"]].to_numpy()
    v = fit.cov_params().loc[["nearc4", "nearc2"], ["nearc4", "nearc2"]].to_numpy()
    exog = sm.add_constant(card[CARD_CONTROLS]).to_numpy(dtype=float)
    z = card[["nearc4", "nearc2"]].to_numpy(dtype=float)
    z_tilde = z - exog @ np.linalg.lstsq(exog, z, rcond=None)[0]
    gram = z_tilde.T @ z_tilde
    robust = iv.effective_f(card, treatment="educ", instruments=["nearc4", "nearc2"],
                            covariates=CARD_CONTROLS)
    assert_agrees(robust, pi @ gram @ pi / np.trace(v @ gram), what="robust effective F")


def _ar_statistic(data, beta0, instruments, cov_type):
    """The AR statistic by hand: statsmodels' Wald test of the instruments in Y - beta0 T."""
    design = sm.add_constant(data[CARD_CONTROLS + instruments])
    fit = sm.OLS(data["lwage"] - beta0 * data["educ"], design).fit(
        cov_type="HC0" if cov_type == "robust" else "nonrobust")
    wald = float(fit.wald_test(", ".join(f"{z} = 0" for z in instruments), scalar=True,
                               use_f=False).statistic)
    n, k = design.shape
    return wald if cov_type == "robust" else wald * n / (n - k)  # sigma^2 divides by n


@pytest.mark.parametrize("instruments,cov_type", [(["nearc4"], "robust"),
                                                  (["nearc4"], "unadjusted"),
                                                  (["nearc4", "nearc2"], "unadjusted")])
def test_anderson_rubin_set_inverts_the_ar_test(card, instruments, cov_type):
    ar = iv.anderson_rubin_ci(card, outcome="lwage", treatment="educ", instruments=instruments,
                              covariates=CARD_CONTROLS, cov_type=cov_type)
    crit = stats.chi2.ppf(0.95, len(instruments))
    assert ar["shape"] == "interval" and ar["critical value"] == pytest.approx(crit)
    for endpoint in (ar["low"], ar["high"]):
        assert _ar_statistic(card, endpoint, instruments, cov_type) == pytest.approx(crit, rel=1e-6)
    width = ar["high"] - ar["low"]
    grid = np.linspace(ar["low"] - width, ar["high"] + width, 62)  # endpoints not on the grid
    inside = [(ar["low"] < b < ar["high"]) for b in grid]
    accepted = [_ar_statistic(card, b, instruments, cov_type) <= crit for b in grid]
    assert inside == accepted


def test_anderson_rubin_set_is_unbounded_when_the_first_stage_is_not_significant():
    sim = simulate.concert_in_the_rain(400, seed=3, rain_effect=0.1)
    first = iv.first_stage(sim.data, treatment="attended", instruments="rain")
    ar = iv.anderson_rubin_ci(sim.data, outcome="happiness", treatment="attended",
                              instruments="rain")
    assert first["F"] < stats.chi2.ppf(0.95, 1)  # the first stage is not significant...
    assert ar["shape"] in ("two rays", "all real numbers")  # ...so the set cannot be bounded
    assert np.isinf(ar["high"]) or ar["shape"] == "two rays"


def _weak_linear(seed, n=500, strength=0.08):
    """Y = 1 T + u, T = strength Z + v, corr(u, v) = 0.8: a weak, confounded design."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=n)
    u, v = rng.multivariate_normal([0, 0], [[1, 0.8], [0.8, 1]], size=n).T
    t = strength * z + v
    return pd.DataFrame({"Z": z, "T": t, "Y": 1.0 * t + u * (1 + 0.5 * np.abs(z))})


@pytest.mark.slow
def test_anderson_rubin_keeps_its_coverage_where_the_wald_interval_fails():
    wald, ar, f = [], [], []
    for seed in range(400):
        d = _weak_linear(seed)
        est = iv.two_stage_least_squares(d, outcome="Y", treatment="T", instruments="Z")
        ci = iv.anderson_rubin_ci(d, outcome="Y", treatment="T", instruments="Z")
        wald.append(est.covers(1.0))
        f.append(est.extra["effective_f"])
        if ci["shape"] == "interval":
            ar.append(ci["low"] <= 1.0 <= ci["high"])
        elif ci["shape"] == "two rays":
            ar.append(not ci["low"] < 1.0 < ci["high"])
        else:
            ar.append(ci["shape"] == "all real numbers")
    assert np.median(f) < 5  # weak by any rule
    assert 0.93 <= np.mean(ar) <= 0.97  # Anderson-Rubin: valid whatever the first stage
    assert np.mean(wald) < 0.90  # the usual interval under-covers


def test_overid_tests_agree_with_linearmodels(card):
    formula = CARD_FORMULA + " + [educ ~ nearc4 + nearc2]"
    sargan = iv.overid_test(card, outcome="lwage", treatment="educ",
                            instruments=["nearc4", "nearc2"], covariates=CARD_CONTROLS,
                            cov_type="unadjusted")
    ref = IV2SLS.from_formula(formula, card).fit(cov_type="unadjusted")
    assert sargan.name == "Sargan" and sargan["df"] == 1
    assert_agrees(sargan["statistic"], ref.sargan.stat, what="Sargan")
    assert_agrees(sargan["p-value"], ref.sargan.pval, what="Sargan p-value")
    hansen = iv.overid_test(card, outcome="lwage", treatment="educ",
                            instruments=["nearc4", "nearc2"], covariates=CARD_CONTROLS)
    gmm = IVGMM.from_formula(formula, card).fit(cov_type="robust")
    assert hansen.name == "Hansen J"
    assert_agrees(hansen["statistic"], gmm.j_stat.stat, what="Hansen J")


def _two_instruments(seed, n=2_000, direct=(0.0, 0.0)):
    rng = np.random.default_rng(seed)
    z1, z2, u = rng.normal(size=(3, n))
    t = 0.5 * z1 + 0.3 * z2 + u + rng.normal(size=n)
    y = 1.0 * t + direct[0] * z1 + direct[1] * z2 + u + rng.normal(size=n)
    return pd.DataFrame({"z1": z1, "z2": z2, "T": t, "Y": y})


@pytest.mark.slow
def test_hansen_j_has_its_size_and_detects_disagreeing_instruments_only():
    rejections = [iv.overid_test(_two_instruments(s), outcome="Y", treatment="T",
                                 instruments=["z1", "z2"])["p-value"] < 0.05
                  for s in range(400)]
    assert 0.03 <= np.mean(rejections) <= 0.075  # the nominal 5% under the null
    bad = _two_instruments(1, n=20_000, direct=(0.0, 0.15))
    assert iv.overid_test(bad, outcome="Y", treatment="T", instruments=["z1", "z2"])[
        "p-value"] < 1e-3
    # both instruments invalid in proportion to their first stages: they agree, J is silent,
    # and 2SLS is biased by 0.2 / 1 = 0.2 per unit of treatment
    same = _two_instruments(2, n=20_000, direct=(0.1, 0.06))
    est = iv.two_stage_least_squares(same, outcome="Y", treatment="T", instruments=["z1", "z2"])
    assert iv.overid_test(same, outcome="Y", treatment="T", instruments=["z1", "z2"])[
        "p-value"] > 0.05
    assert est.value - 1.0 == pytest.approx(0.2, abs=0.03)


# --- a multi-valued treatment: the average causal response -------------------------------------

@pytest.mark.slow
def test_2sls_covers_the_average_causal_response():
    truth = simulate.schooling_near_college(10, seed=0).truth["ACR"]

    def one(seed):
        d = simulate.schooling_near_college(2_000, seed=seed).data
        est = iv.two_stage_least_squares(d, outcome="log_wage", treatment="schooling",
                                         instruments="near_college")
        assert est.estimand == "ACR"
        return est, truth

    assert_calibrated(monte_carlo(one, n_reps=400, seed=6), max_abs_bias=0.005)


def test_acr_weights_recover_the_compliers_steps():
    sim = simulate.schooling_near_college(400_000, seed=8)
    weights = iv.acr_weights(sim.data, treatment="schooling", instrument="near_college")
    exact = pd.Series(simulate.concert._schooling_weights(1.2))
    assert weights.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(weights.loc[exact.index], exact, atol=0.01)
    # the weights are the shares of the instrument's push across each step, by definition
    po = sim.potential_outcomes
    crossing = pd.Series({j: ((po.S1 >= j) & (po.S0 < j)).mean() for j in exact.index})
    np.testing.assert_allclose(crossing / crossing.sum(), exact, atol=0.005)
    # the Wald ratio is the weighted average of per-step returns (the ACR), not their mean
    returns = pd.Series(simulate.SCHOOLING_RETURNS)
    assert sim.truth["ACR"] == pytest.approx(float(exact @ returns.loc[exact.index]))
    assert abs(sim.truth["ACR"] - returns.mean()) > 0.002


def test_estimand_labels():
    assert iv.iv_estimand(np.array([0, 1, 1]), np.array([0, 1, 0])) == "LATE"
    assert iv.iv_estimand(np.array([0, 1, 1]), np.array([0, 1, 0]), covariates=True) == \
        "effect of T (IV)"
    assert iv.iv_estimand(np.array([8, 12, 16]), np.array([0, 1, 0])) == "ACR"
    assert iv.iv_estimand(np.array([0.0, 1.5]), np.array([0, 1])) == "effect of T (IV)"


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
    with pytest.raises(ValueError, match="at least two instruments"):
        iv.overid_test(d, outcome="happiness", treatment="attended", instruments=["rain"])
    with pytest.raises(ValueError, match="closed form for one instrument"):
        iv.anderson_rubin_ci(d.assign(z2=d["rain"][::-1].to_numpy()), outcome="happiness",
                             treatment="attended", instruments=["rain", "z2"])
    with pytest.raises(ValueError, match="no first stage"):
        iv.anderson_rubin_ci(flat, outcome="happiness", treatment="attended",
                             instruments="rain")
    with pytest.raises(ValueError, match="must be 0/1"):
        iv.acr_weights(d.assign(rain=d["rain"] * 2), treatment="attended", instrument="rain")
    with pytest.raises(ValueError, match="level"):
        iv.anderson_rubin_ci(d, outcome="happiness", treatment="attended", instruments="rain",
                             level=95)
