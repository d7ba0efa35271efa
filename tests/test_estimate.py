"""lessons_lib.estimate: the one result type every effect estimator returns."""

import math

import pytest
from scipy import stats

from lessons_lib import Estimate


def test_normal_interval_is_value_plus_minus_1_96_se():
    est = Estimate.from_se(2.0, 0.5, n=100, estimand="ATE", method="demo")
    q = stats.norm.ppf(0.975)
    assert est.ci_low == pytest.approx(2.0 - q * 0.5, rel=1e-12)
    assert est.ci_high == pytest.approx(2.0 + q * 0.5, rel=1e-12)
    assert (est.value, est.se, est.n, est.estimand, est.level) == (2.0, 0.5, 100, "ATE", 0.95)


def test_student_t_interval_when_df_is_given():
    est = Estimate.from_se(1.0, 0.2, n=12, estimand="ATE", method="demo", df=10)
    q = stats.t.ppf(0.975, 10)
    assert est.ci_high - est.value == pytest.approx(q * 0.2, rel=1e-12)
    # a t interval is wider than the normal one
    assert est.ci_high > Estimate.from_se(1.0, 0.2, n=12, estimand="ATE", method="d").ci_high


def test_other_levels_change_the_width():
    wide = Estimate.from_se(0.0, 1.0, n=10, estimand="ATE", method="d", level=0.99)
    narrow = Estimate.from_se(0.0, 1.0, n=10, estimand="ATE", method="d", level=0.90)
    assert wide.ci_high == pytest.approx(stats.norm.ppf(0.995), rel=1e-12)
    assert narrow.ci_high == pytest.approx(stats.norm.ppf(0.95), rel=1e-12)


def test_pvalue_and_covers():
    est = Estimate.from_se(1.96, 1.0, n=50, estimand="ATE", method="d")
    assert est.pvalue == pytest.approx(2 * stats.norm.sf(1.96), rel=1e-12)
    assert est.covers(0.1) and not est.covers(-0.1)
    assert est.covers(est.ci_low) and est.covers(est.ci_high)  # closed interval
    assert math.isnan(Estimate.from_se(1.0, 0.0, n=5, estimand="ATE", method="d").pvalue)
    assert math.isnan(Estimate.from_se(1.0, float("nan"), n=5, estimand="ATE", method="d").pvalue)


def test_text_and_html_are_rounded_and_readable():
    est = Estimate.from_se(4.123456, 0.987654, n=12_345, estimand="ATT", method="demo",
                           extra={"first_stage_f": 23.45678, "note": "<b>"})
    text = str(est)
    assert text == repr(est)
    assert "ATT = 4.123" in text and "SE 0.988" in text and "n = 12,345" in text
    assert "4.123456" not in text  # rounded: notebooks show this and nbval compares it
    page = est._repr_html_()
    assert "<table" in page and "23.457" in page
    assert "&lt;b&gt;" in page  # extras are escaped, never injected as HTML


def test_to_dict_is_plain_data():
    est = Estimate.from_se(1.0, 0.5, n=10, estimand="ATE", method="d", extra={"df": 8.0})
    fields = est.to_dict()
    assert fields["value"] == 1.0 and fields["extra"] == {"df": 8.0}
    assert Estimate(**fields) == est


def test_estimate_is_immutable():
    est = Estimate.from_se(1.0, 0.5, n=10, estimand="ATE", method="d")
    with pytest.raises(AttributeError):
        est.value = 2.0  # type: ignore[misc]


@pytest.mark.parametrize("level", [0, 1, 1.5, -0.2])
def test_bad_level_is_refused(level):
    with pytest.raises(ValueError, match="level must be between 0 and 1"):
        Estimate.from_se(1.0, 0.5, n=10, estimand="ATE", method="d", level=level)
