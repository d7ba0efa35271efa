"""Diagnostics for instrumental variables: first stage, effective F, Anderson-Rubin, overid.

See chapter 06. `lessons_lib.iv` estimates; this module asks how far to trust the estimate.

* `first_stage`: how strongly the instruments move the treatment (partial F, partial R^2).
* `effective_f`: Montiel Olea and Pflueger's (2013) effective F, the weak-instrument
  diagnostic that stays meaningful with heteroskedastic errors.
* `anderson_rubin_ci`: the Anderson-Rubin (1949) confidence set for the effect, which keeps
  its coverage however weak the instruments are.
* `overid_test`: Sargan's and Hansen's J tests of over-identifying restrictions.

Conventions follow linearmodels' ``IV2SLS``: no small-sample corrections (variances divide
by n), chi-squared reference distributions; "robust" means the HC0 sandwich. The
regressions stay in numpy rather than `lessons_lib._inference.ols` (statsmodels) for one
reason: the Anderson-Rubin set needs the *joint* covariance of the reduced-form and
first-stage coefficients (their cross-covariance too), which a one-outcome OLS does not
give; one small routine (`_instrument_block`) provides all of it, and the tests check it
against statsmodels' HC0 and classical covariances.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from lessons_lib._inference import as_names, check_full_rank
from lessons_lib._validate import require_columns, require_frame, require_level

__all__ = ["first_stage", "effective_f", "anderson_rubin_ci", "overid_test"]


# --- shared design helpers (lessons_lib.iv uses them too) ---------------------------------

def _names(value: str | Sequence[str], what: str) -> list[str]:
    return as_names(value, what)


def _check_roles(outcome: str, treatment: str, instruments: list[str],
                 covariates: list[str]) -> None:
    if not instruments:
        raise ValueError("give at least one instrument column, e.g. instruments=['Z']")
    if treatment in instruments or outcome in instruments:
        raise ValueError("the treatment and the outcome cannot be instruments: an instrument "
                         "is a separate variable that shifts the treatment")
    if treatment in covariates or outcome in covariates:
        raise ValueError("the treatment and the outcome cannot also be covariates")
    overlap = set(instruments) & set(covariates)
    if overlap:
        raise ValueError(f"{sorted(overlap)} are listed as both instruments and covariates; "
                         "an excluded instrument must not also be a control")
    if outcome == treatment:
        raise ValueError("the outcome and the treatment must be different columns")


def _cov_type(cov_type: str) -> None:
    if cov_type not in ("robust", "unadjusted"):
        raise ValueError(f"cov_type must be 'robust' or 'unadjusted'; got {cov_type!r}")


def _design(data: pd.DataFrame, outcome: str | None, treatment: str, instruments: list[str],
            covariates: list[str]) -> tuple[np.ndarray | None, np.ndarray, np.ndarray, np.ndarray]:
    """(y, t, exog = [1, X], z) as float arrays, after every check a learner needs."""
    require_frame(data)
    _check_roles(outcome or "__no_outcome__", treatment, instruments, covariates)
    require_columns(data, [c for c in [outcome, treatment, *instruments, *covariates] if c])
    n = len(data)
    k = 2 + len(covariates) + len(instruments)
    if n <= k:
        raise ValueError(f"{n} rows are too few for {k} coefficients; add data or drop terms")
    y = None if outcome is None else data[outcome].to_numpy(dtype=float)
    t = data[treatment].to_numpy(dtype=float)
    exog = np.column_stack([np.ones(n)] + [data[c].to_numpy(dtype=float) for c in covariates])
    z = np.column_stack([data[c].to_numpy(dtype=float) for c in instruments])
    check_full_rank(exog, ["intercept", *covariates], what="the covariates")
    return y, t, exog, z


def _residualize(matrix: np.ndarray, exog: np.ndarray) -> np.ndarray:
    coef, *_ = np.linalg.lstsq(exog, matrix, rcond=None)
    return matrix - exog @ coef


def _instrument_block(columns: np.ndarray, exog: np.ndarray, z: np.ndarray,
                      cov_type: str) -> dict:
    """OLS of each column of ``columns`` on [exog, z]: the z-coefficients and their joint
    covariance, as blocks V[a][b] = Cov(coef_a, coef_b) (q x q each)."""
    full = np.column_stack([exog, z])
    coef, *_ = np.linalg.lstsq(full, columns, rcond=None)
    resid = columns - full @ coef
    n, q, m = len(full), z.shape[1], columns.shape[1]
    bread = np.linalg.inv(full.T @ full)[-q:, :]  # the rows of (M'M)^-1 that give z's coefs
    blocks = [[None] * m for _ in range(m)]
    for a in range(m):
        for b in range(a, m):
            if cov_type == "unadjusted":
                v = resid[:, a] @ resid[:, b] / n * np.linalg.inv(full.T @ full)[-q:, -q:]
            else:
                meat = (full * (resid[:, a] * resid[:, b])[:, None]).T @ full
                v = bread @ meat @ bread.T
            blocks[a][b], blocks[b][a] = v, v.T
    return {"coef": coef[-q:], "cov": blocks, "resid": resid}


def _first_stage_stats(t: np.ndarray, exog: np.ndarray, z: np.ndarray, instruments: list[str],
                       cov_type: str) -> dict:
    """First-stage coefficients of the instruments and their partial F statistic."""
    z_tilde = _residualize(z, exog)
    scale = np.maximum(np.abs(z).max(axis=0), 1.0)
    if (np.sqrt((z_tilde**2).mean(axis=0)) < 1e-10 * scale).any() or \
            np.linalg.matrix_rank(z_tilde) < z.shape[1]:
        raise ValueError(
            f"instrument(s) {instruments} have no variation left after the covariates (constant, "
            "or explained by the covariates): an instrument must vary on its own"
        )
    fit = _instrument_block(t[:, None], exog, z, cov_type)
    gamma, cov_gamma, resid = fit["coef"][:, 0], fit["cov"][0][0], fit["resid"][:, 0]
    t_tilde = _residualize(t, exog)
    explained = t_tilde @ t_tilde - resid @ resid
    if explained <= 1e-12 * max(t_tilde @ t_tilde, 1e-300):
        raise ValueError(
            f"no first stage: instrument(s) {instruments} do not move the treatment at all in "
            "these data, so the IV ratio divides by zero. Find an instrument that shifts the "
            "treatment"
        )
    q = z.shape[1]
    wald = float(gamma @ np.linalg.solve(cov_gamma, gamma))
    # Montiel Olea-Pflueger: gamma' (Z~'Z~) gamma / trace(V_gamma Z~'Z~)
    gram = z_tilde.T @ z_tilde
    f_eff = float(gamma @ gram @ gamma / np.trace(cov_gamma @ gram))
    return {"coef": gamma, "se": np.sqrt(np.diag(cov_gamma)), "F": wald / q,
            "effective F": f_eff, "partial R2": float(explained / (t_tilde @ t_tilde))}


# --- public functions ---------------------------------------------------------------------

def first_stage(
    data: pd.DataFrame,
    *,
    treatment: str,
    instruments: str | Sequence[str],
    covariates: Sequence[str] = (),
    cov_type: str = "robust",
) -> pd.Series:
    """The first stage: how strongly the instruments move the treatment.

    Regresses T on the instruments and covariates and returns the instruments'
    coefficients (``coef[<name>]``), their standard errors, the partial R^2 of the
    instruments, the **F statistic** of the hypothesis that all their coefficients are
    zero (the Wald statistic divided by the number of instruments, with ``cov_type``
    "robust" or "unadjusted", as linearmodels reports it) and the **effective F** of
    Montiel Olea and Pflueger (2013) (see `effective_f`). A first-stage F below about 10
    is the classic warning sign of a weak instrument (Staiger and Stock, 1997).

    >>> from lessons_lib import simulate
    >>> sim = simulate.concert_in_the_rain(2_000, seed=1)
    >>> round(float(first_stage(sim.data, treatment="attended", instruments="rain")["coef[rain]"]), 2)
    -0.3
    """
    _cov_type(cov_type)
    instruments, covariates = _names(instruments, "instruments"), _names(covariates, "covariates")
    _, t, exog, z = _design(data, None, treatment, instruments, covariates)
    result = _first_stage_stats(t, exog, z, instruments, cov_type)
    out = {f"coef[{name}]": float(c) for name, c in zip(instruments, result["coef"], strict=True)}
    out |= {f"se[{name}]": float(s) for name, s in zip(instruments, result["se"], strict=True)}
    out |= {"partial R2": result["partial R2"], "F": result["F"],
            "effective F": result["effective F"]}
    return pd.Series(out, name="first stage")


def effective_f(
    data: pd.DataFrame,
    *,
    treatment: str,
    instruments: str | Sequence[str],
    covariates: Sequence[str] = (),
    cov_type: str = "robust",
) -> float:
    """Montiel Olea and Pflueger's (2013) effective first-stage F statistic.

    With pi_hat the instruments' first-stage coefficients (after partialling out the
    covariates, Z~ the residualised instruments) and V_hat their (robust) covariance,

        F_eff = pi_hat' (Z~'Z~) pi_hat / trace(V_hat Z~'Z~).

    With one instrument it is the robust first-stage F (the squared robust t statistic);
    with homoskedastic errors (``cov_type="unadjusted"``) it is the classical F. Unlike the
    robust Wald F with several instruments, it is the statistic whose critical values
    (about 23 for a 10% worst-case bias at 5%, one instrument) bound 2SLS's bias when errors
    are heteroskedastic or clustered. See chapter 06.

    >>> from lessons_lib import simulate
    >>> sim = simulate.concert_in_the_rain(2_000, seed=1)
    >>> effective_f(sim.data, treatment="attended", instruments="rain") > 100
    True
    """
    return float(first_stage(data, treatment=treatment, instruments=instruments,
                             covariates=covariates, cov_type=cov_type)["effective F"])


def _quadratic_set(a: float, b: float, c: float) -> tuple[float, float, str]:
    """{x : a x^2 + b x + c <= 0} as (low, high, shape)."""
    disc = b * b - 4 * a * c
    scale = max(abs(a), abs(b), abs(c), 1e-300)
    if abs(a) <= 1e-14 * scale:  # linear: a ray (or everything / nothing)
        if abs(b) <= 1e-14 * scale:
            return (-np.inf, np.inf, "all real numbers") if c <= 0 else (np.nan, np.nan, "empty")
        root = -c / b
        return (-np.inf, root, "ray") if b > 0 else (root, np.inf, "ray")
    if disc < 0:
        return (np.nan, np.nan, "empty") if a > 0 else (-np.inf, np.inf, "all real numbers")
    roots = sorted(((-b - np.sqrt(disc)) / (2 * a), (-b + np.sqrt(disc)) / (2 * a)))
    if a > 0:
        return roots[0], roots[1], "interval"
    # a < 0: the set is everything outside the roots, two rays
    return roots[0], roots[1], "two rays"


def anderson_rubin_ci(
    data: pd.DataFrame,
    *,
    outcome: str,
    treatment: str,
    instruments: str | Sequence[str],
    covariates: Sequence[str] = (),
    cov_type: str = "robust",
    level: float = 0.95,
) -> dict:
    """The Anderson-Rubin confidence set for the effect tau of one treatment.

    For each candidate tau0, regress Y - tau0 T on the instruments and covariates: if tau0 is
    the true effect, the instruments cannot predict what is left (exclusion and
    independence), whatever the strength of the first stage. The AR statistic is the Wald
    statistic of "all instruments' coefficients are zero" in that regression,

        AR(tau0) = g(tau0)' V(tau0)^{-1} g(tau0),   g(tau0) = pi_Y - tau0 pi_T,

    with pi_Y, pi_T the reduced-form and first-stage coefficients of the instruments and
    V(tau0) = V_YY - tau0 (V_YT + V_TY) + tau0^2 V_TT their covariance (HC0 for "robust").
    The confidence set collects every tau0 with AR(tau0) <= chi2_q(level) (Anderson and
    Rubin, 1949). With one instrument (any ``cov_type``) or homoskedastic errors (any number
    of instruments), AR(tau0) <= c is a quadratic inequality in tau0, solved exactly here.
    The set is a bounded **interval** when the first stage is strong enough to reject
    "no first stage" at the same level, and otherwise **two rays** or **all real numbers**:
    an honest answer that the data cannot bound the effect.

    Returns a dict with ``low``, ``high``, ``shape`` ("interval", "two rays" meaning
    (-inf, low] together with [high, inf), "all real numbers", "ray" or "empty"),
    ``level``, ``critical value`` and ``instruments``.

    Robust errors with several instruments make V(tau0) a matrix that does not factor, and
    the set is no longer a quadratic one: that case raises (use one instrument or
    ``cov_type="unadjusted"``). See chapter 06.

    >>> from lessons_lib import simulate
    >>> sim = simulate.concert_in_the_rain(5_000, seed=1)
    >>> ar = anderson_rubin_ci(sim.data, outcome="happiness", treatment="attended", instruments="rain")
    >>> ar["shape"], round(ar["low"], 2), round(ar["high"], 2)
    ('interval', 0.61, 1.2)
    """
    from scipy import stats

    require_level(level)
    _cov_type(cov_type)
    instruments, covariates = _names(instruments, "instruments"), _names(covariates, "covariates")
    y, t, exog, z = _design(data, outcome, treatment, instruments, covariates)
    q = z.shape[1]
    if q > 1 and cov_type == "robust":
        raise ValueError(
            "the robust Anderson-Rubin set is solved in closed form for one instrument only; "
            f"with {q} instruments pass cov_type='unadjusted' (homoskedastic errors) or use one "
            "instrument"
        )
    _first_stage_stats(t, exog, z, instruments, cov_type)  # refuses a missing first stage
    fit = _instrument_block(np.column_stack([y, t]), exog, z, cov_type)
    pi_y, pi_t = fit["coef"][:, 0], fit["coef"][:, 1]
    (v_yy, v_yt), (v_ty, v_tt) = fit["cov"]
    crit = float(stats.chi2.ppf(level, q))
    if q == 1:
        # (pi_y - x pi_t)^2 - c (v_yy - 2 x v_yt + x^2 v_tt) <= 0
        a = pi_t[0] ** 2 - crit * v_tt[0, 0]
        b = -2 * pi_y[0] * pi_t[0] + 2 * crit * v_yt[0, 0]
        c = pi_y[0] ** 2 - crit * v_yy[0, 0]
    else:
        # homoskedastic: v_ab = s_ab A with A = (Z~'Z~)^-1, so V(x) = s(x) A with s(x) a
        # quadratic; AR(x) <= c  <=>  g(x)' A^-1 g(x) - c s(x) <= 0. Divided by s_tt:
        inverse = np.linalg.inv(v_tt)  # = A^-1 / s_tt
        s_yy, s_yt, s_tt = v_yy[0, 0] / v_tt[0, 0], v_yt[0, 0] / v_tt[0, 0], 1.0
        a = pi_t @ inverse @ pi_t - crit * s_tt
        b = -2 * pi_y @ inverse @ pi_t + 2 * crit * s_yt
        c = pi_y @ inverse @ pi_y - crit * s_yy
    low, high, shape = _quadratic_set(a, b, c)
    return {"low": float(low), "high": float(high), "shape": shape, "level": level,
            "critical value": crit, "instruments": q, "covariance": cov_type}


def overid_test(
    data: pd.DataFrame,
    *,
    outcome: str,
    treatment: str,
    instruments: Sequence[str],
    covariates: Sequence[str] = (),
    cov_type: str = "robust",
) -> pd.Series:
    """A test of over-identifying restrictions: do several instruments agree?

    With q > 1 instruments for one treatment, each instrument alone gives an estimate; if
    all are valid they estimate the same tau (in a constant-effect model), and the 2SLS
    residuals e = Y - tau_hat T - X'b are uncorrelated with every instrument.

    * ``cov_type="unadjusted"``: **Sargan's** statistic, n R^2 of the regression of the 2SLS
      residuals on all instruments and covariates (linearmodels' ``sargan``).
    * ``cov_type="robust"``: **Hansen's J**, n g' S^{-1} g at the two-step efficient GMM
      estimate, with g the mean of Z_i e_i and S their HC0 covariance, S built from 2SLS
      residuals (linearmodels' ``IVGMM(...).fit().j_stat``).

    Both are chi-squared with q - 1 degrees of freedom under the null that every instrument
    is valid. What a rejection says: the instruments disagree, so at least one is invalid,
    or effects vary and different instruments move different compliers (each identifies
    its own LATE). What a non-rejection cannot say: that the instruments are valid. If all
    are invalid in the same direction, they agree on the same wrong answer. See chapter 06.
    """
    from scipy import stats

    _cov_type(cov_type)
    instruments, covariates = _names(instruments, "instruments"), _names(covariates, "covariates")
    if len(instruments) < 2:
        raise ValueError("an over-identification test needs at least two instruments for the "
                         "one treatment; with one instrument the model is just identified and "
                         "there is nothing to test")
    y, t, exog, z = _design(data, outcome, treatment, instruments, covariates)
    _first_stage_stats(t, exog, z, instruments, cov_type)
    n = len(y)
    regressors = np.column_stack([exog, t])
    inst = np.column_stack([exog, z])
    projection, *_ = np.linalg.lstsq(inst, regressors, rcond=None)
    fitted = inst @ projection
    coef = np.linalg.solve(fitted.T @ regressors, fitted.T @ y)
    resid = y - regressors @ coef
    if cov_type == "unadjusted":
        explained = inst @ np.linalg.lstsq(inst, resid, rcond=None)[0]
        centred = resid - resid.mean()
        statistic = n * float(1 - (resid - explained) @ (resid - explained) / (centred @ centred))
        name = "Sargan"
    else:
        weight = np.linalg.inv((inst * resid[:, None] ** 2).T @ inst / n)
        cross = inst.T @ regressors / n
        coef = np.linalg.solve(cross.T @ weight @ cross, cross.T @ weight @ (inst.T @ y / n))
        moments = inst.T @ (y - regressors @ coef) / n
        statistic = n * float(moments @ weight @ moments)
        name = "Hansen J"
    df = len(instruments) - 1
    return pd.Series({"statistic": statistic, "df": df,
                      "p-value": float(stats.chi2.sf(statistic, df))}, name=name)
