"""Trusted checks for exercises/02_experiments.ipynb (chapter 02: randomized experiments).

The targets are computed here from lessons_lib, never typed in, and never shown to the
learner: ``expected=`` says what kind of answer is wanted.
"""

import numpy as np
import pandas as pd
from scipy import stats

from lessons_lib import datasets, experiments, simulate
from lessons_lib.check import (
    Exercise,
    Question,
    Wrong,
    agrees_with,
    close_to,
    is_number,
    raises_value_error,
)

SETUP = """\
import numpy as np
import pandas as pd

from lessons_lib import datasets, experiments, simulate

shoppers = simulate.six_shoppers()
ab = simulate.banner_shop(3_000, seed=1, randomized=True).data
nsw = datasets.nsw_experiment()
"""

NSW_COVARIATES = ["age", "educ", "black", "hisp", "marr", "nodegree", "re74", "re75"]

# q1: the six shoppers if the coins had picked Alice, Carol and Frank --------------------
_shoppers = simulate.six_shoppers()
_lucky = _shoppers["name"].isin(["Alice", "Carol", "Frank"]).astype(int).to_numpy()
_lucky_data = pd.DataFrame(
    {"T": _lucky, "Y": np.where(_lucky == 1, _shoppers["Y1"], _shoppers["Y0"])})
P_EXACT = experiments.randomization_test(_lucky_data, outcome="Y", treatment="T").pvalue
P_WELCH = experiments.t_test(_lucky_data, outcome="Y", treatment="T").pvalue

# q3: CUPED on the A/B test ------------------------------------------------------------
_ab = simulate.banner_shop(3_000, seed=1, randomized=True).data
CUPED = experiments.cuped(_ab, outcome="Y", treatment="T", pre_outcome="prior_spend").value
PLAIN = experiments.difference_in_means(_ab, outcome="Y", treatment="T").value
GAIN_SCORE = experiments.difference_in_means(_ab.assign(Y=_ab["Y"] - _ab["prior_spend"]),
                                             outcome="Y", treatment="T").value

# q4: sample size ----------------------------------------------------------------------
N_PER_ARM = experiments.sample_size(1.5, 20.0, alpha=0.05, power=0.8)
_Z = stats.norm.isf(0.025) + stats.norm.ppf(0.8)

# q5: sample-ratio mismatch ------------------------------------------------------------
SRM_COUNTS = [50_421, 49_579]
SRM_P = experiments.sample_ratio_mismatch(SRM_COUNTS).pvalue

# q6: NSW with Lin's adjustment --------------------------------------------------------
_nsw = datasets.nsw_experiment()
NSW_LIN = experiments.regression_adjustment(_nsw, outcome="re78", treatment="treat",
                                            covariates=NSW_COVARIATES).value
NSW_PLAIN = experiments.difference_in_means(_nsw, outcome="re78", treatment="treat").value
_additive = np.column_stack([np.ones(len(_nsw)), _nsw["treat"], _nsw[NSW_COVARIATES]])
NSW_ADDITIVE = float(np.linalg.lstsq(_additive, _nsw["re78"].to_numpy(), rcond=None)[0][1])


# q2: the Welch standard error, as a function -----------------------------------------
def _experiment(seed: int, n1: int, n0: int, sd1: float, sd0: float) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    t = np.r_[np.ones(n1, dtype=int), np.zeros(n0, dtype=int)]
    y = np.where(t == 1, rng.normal(12.0, sd1, n1 + n0), rng.normal(10.0, sd0, n1 + n0))
    order = rng.permutation(n1 + n0)
    return pd.DataFrame({"banner": t[order], "spend": y[order].round(2)})


def _welch_inputs() -> list:
    good = [
        ((_experiment(1, 40, 60, 5.0, 5.0), "banner", "spend"), {}),
        ((_experiment(2, 25, 175, 12.0, 3.0), "banner", "spend"), {}),
        ((_experiment(3, 300, 100, 2.0, 9.0), "banner", "spend"), {}),
    ]
    coded_0_2 = _experiment(4, 30, 30, 4.0, 4.0)
    coded_0_2["banner"] = coded_0_2["banner"] * 2
    one_arm = _experiment(5, 30, 30, 4.0, 4.0)
    one_arm["banner"] = 1
    return good + [((coded_0_2, "banner", "spend"), {}), ((one_arm, "banner", "spend"), {})]


def _is_good(args: tuple, kwargs: dict) -> bool:
    values = set(np.unique(args[0][args[1]]).tolist())
    return values == {0, 1}


def _reference_se(data: pd.DataFrame, treatment: str, outcome: str) -> float:
    return experiments.difference_in_means(data, outcome=outcome, treatment=treatment).se


def _other_se(kind: str):
    """Known wrong standard errors, recognised by their outputs on the good inputs."""

    def se(data: pd.DataFrame, treatment: str, outcome: str) -> float:
        y, t = data[outcome].to_numpy(float), data[treatment].to_numpy()
        y1, y0 = y[t == 1], y[t == 0]
        n1, n0 = len(y1), len(y0)
        if kind == "pooled":
            pooled = ((n1 - 1) * y1.var(ddof=1) + (n0 - 1) * y0.var(ddof=1)) / (n1 + n0 - 2)
            return float(np.sqrt(pooled * (1 / n1 + 1 / n0)))
        if kind == "ddof0":
            return float(np.sqrt(y1.var() / n1 + y0.var() / n0))
        if kind == "no_root":
            return float(y1.var(ddof=1) / n1 + y0.var(ddof=1) / n0)
        if kind == "sd_sum":
            return float(np.sqrt(y1.var(ddof=1) + y0.var(ddof=1)))
        raise ValueError(kind)

    good = [args for args, kwargs in (item for item in _welch_inputs()) if _is_good(args, {})]
    targets = [se(*args) for args in good]

    def matches(outputs: object) -> bool:
        if not isinstance(outputs, list) or len(outputs) < len(targets):
            return False
        for got, want in zip(outputs[: len(targets)], targets, strict=True):
            try:
                if not np.isclose(float(got), want, rtol=1e-6):
                    return False
            except (TypeError, ValueError):
                return False
        return True

    return matches


EXERCISE = Exercise(
    id="02_experiments",
    title="Randomized experiments and A/B tests",
    setup=SETUP,
    questions=[
        Question(
            id="q1",
            answer="p_exact",
            prompt="Exact randomization p-value for the six shoppers when the coins pick "
                   "Alice, Carol and Frank.",
            checks=[
                is_number(),
                close_to(P_EXACT, abs_tol=1e-9, name="exact p-value",
                         expected="the share of the 20 possible 3-of-6 assignments whose "
                                  "difference in means is at least as far from zero as the "
                                  "observed one, under the sharp null"),
            ],
            wrong=[
                Wrong(P_EXACT / 2, "that is a one-sided p-value: it counts only the "
                                   "assignments on the observed side. The question asks for "
                                   "a two-sided test, |difference| at least as large."),
                Wrong(P_WELCH, "that is Welch's t-test p-value. With six shoppers the normal "
                               "approximation behind it is not trustworthy; the randomization "
                               "test counts assignments instead.", rel_tol=0.01),
                Wrong(lambda a: isinstance(a, (int, float)) and abs(a - (P_EXACT * 20 - 2) / 18) < 1e-9,
                      "you left the observed assignment (and its mirror image) out of the "
                      "count; the observed assignment is one of the possible ones and counts "
                      "as 'at least as extreme'."),
            ],
            hint="Build the observed outcomes Y = Y1 for Alice, Carol and Frank and Y0 for the "
                 "others, keep them fixed, and loop over itertools.combinations(range(6), 3).",
        ),
        Question(
            id="q2",
            answer="welch_se",
            kind="function",
            inputs=_welch_inputs,
            prompt="Write welch_se(data, treatment, outcome), the Welch (Neyman) standard "
                   "error of the difference in means, refusing a non-binary treatment.",
            checks=[
                agrees_with(_reference_se, select=_is_good,
                            expected="sqrt(s1^2/n1 + s0^2/n0) with sample variances "
                                     "(ddof=1), on experiments with unequal groups and "
                                     "unequal variances"),
                raises_value_error(select=lambda a, k: not _is_good(a, k),
                                   expected="a ValueError when the treatment is not coded "
                                            "0/1 or has only one group"),
            ],
            wrong=[
                Wrong(_other_se("pooled"), "that is the pooled-variance (Student) standard "
                                           "error: it assumes both arms have the same "
                                           "variance, which a treatment can change. Use each "
                                           "arm's own variance."),
                Wrong(_other_se("ddof0"), "you used population variances (ddof=0). The "
                                          "sample variance divides by n - 1: np.var(x, ddof=1) "
                                          "or pandas' .var()."),
                Wrong(_other_se("no_root"), "that is the variance of the difference in means; "
                                            "the standard error is its square root."),
                Wrong(_other_se("sd_sum"), "you forgot to divide each variance by its group "
                                           "size: the standard error of a mean shrinks like "
                                           "1/sqrt(n)."),
            ],
            hint="Split the outcome by treatment, compute each group's variance with ddof=1, "
                 "divide by the group sizes, add, take the square root. Check that the "
                 "treatment's unique values are exactly {0, 1} before anything else.",
        ),
        Question(
            id="q3",
            answer="cuped_estimate",
            prompt="The CUPED estimate of the banner's effect in `ab`, with prior_spend as the "
                   "pre-experiment covariate.",
            checks=[
                is_number(),
                close_to(CUPED, abs_tol=0.05, name="CUPED estimate",
                         expected="the difference in means of Y - theta (X - mean X), with "
                                  "theta the slope of Y on prior_spend in the pooled sample"),
            ],
            wrong=[
                Wrong(PLAIN, "that is the plain difference in means: it ignores prior "
                             "spending, which is what CUPED uses to remove noise.",
                      abs_tol=0.01, rel_tol=0),
                Wrong(GAIN_SCORE, "you subtracted prior_spend itself (theta = 1, a 'gain "
                                  "score'). CUPED scales it by theta = cov(Y, X) / var(X), the "
                                  "choice that removes the most variance.",
                      abs_tol=0.01, rel_tol=0),
            ],
            hint="theta = np.cov(y, x)[0, 1] / np.var(x, ddof=1); then compare the means of "
                 "y - theta * (x - x.mean()) between the arms.",
        ),
        Question(
            id="q4",
            answer="n_per_arm",
            prompt="Shoppers per arm to detect a 1.50 dollar effect when the outcome sd is "
                   "20 dollars (two-sided 5%, 80% power, even split).",
            checks=[
                is_number(),
                close_to(N_PER_ARM, rel_tol=0.005, name="shoppers per arm",
                         expected="n = 2 (z_{1-alpha/2} + z_{power})^2 sd^2 / effect^2 "
                                  "shoppers in each arm, rounded up"),
            ],
            wrong=[
                Wrong(N_PER_ARM / 2, "you left out the factor 2: the difference of two means "
                                     "has the variance of both, sd^2 (1/n + 1/n) = 2 sd^2 / n.",
                      rel_tol=0.01),
                Wrong(2 * N_PER_ARM, "that is the total over both arms; the question asks "
                                     "for the number in each arm.", rel_tol=0.01),
                Wrong(2 * (stats.norm.isf(0.05) + stats.norm.ppf(0.8)) ** 2 * 400 / 2.25,
                      "you used the one-sided critical value 1.645; a two-sided 5% test uses "
                      "z = 1.96.", rel_tol=0.01),
                Wrong(2 * stats.norm.isf(0.025) ** 2 * 400 / 2.25,
                      "that sample gives only 50% power: you left out z_{power} = 0.84.",
                      rel_tol=0.01),
            ],
            hint="experiments.sample_size(effect, sd) does it, or use the formula with "
                 "z_{0.975} = 1.96 and z_{0.8} = 0.84.",
        ),
        Question(
            id="q5",
            answer="srm_pvalue",
            prompt="The sample-ratio-mismatch p-value of 50,421 treated and 49,579 control "
                   "users in a test designed 50/50.",
            checks=[
                is_number(),
                close_to(SRM_P, rel_tol=0.05, name="SRM p-value",
                         expected="the p-value of a chi-square goodness-of-fit test of the "
                                  "two counts against an even split (an exact binomial test "
                                  "gives nearly the same)"),
            ],
            wrong=[
                Wrong(stats.chisquare([0.50421, 0.49579]).pvalue,
                      "you tested the shares (0.504, 0.496) instead of the counts. The "
                      "chi-square test needs counts: 842 extra users out of 100,000 is strong "
                      "evidence, the same shares out of 100 users would be none.",
                      rel_tol=0.01),
                Wrong(SRM_P / 2, "that is a one-sided p-value; an imbalance in either "
                                 "direction signals a broken assignment.", rel_tol=0.02),
            ],
            hint="experiments.sample_ratio_mismatch([50_421, 49_579]) or "
                 "scipy.stats.chisquare with expected counts of 50,000 each.",
        ),
        Question(
            id="q6",
            answer="nsw_lin",
            prompt="Lin's regression-adjusted effect of training on 1978 earnings in the NSW "
                   "experiment, adjusting for the eight pre-treatment covariates.",
            checks=[
                is_number(),
                close_to(NSW_LIN, abs_tol=1.0, name="adjusted NSW effect",
                         expected="the coefficient on treat in a regression of re78 on treat, "
                                  "the eight covariates centred at their means, and their "
                                  "interactions with treat"),
            ],
            wrong=[
                Wrong(NSW_PLAIN, "that is the unadjusted difference in means (the published "
                                 "$1,794); the question asks for the covariate-adjusted "
                                 "estimate.", abs_tol=1.0, rel_tol=0),
                Wrong(NSW_ADDITIVE, "that is the additive regression re78 ~ treat + covariates, "
                                    "without the interactions. Lin's estimator interacts the "
                                    "treatment with the centred covariates.",
                      abs_tol=1.0, rel_tol=0),
            ],
            hint="experiments.regression_adjustment(nsw, outcome='re78', treatment='treat', "
                 "covariates=covariates).value, "
                 "with covariates = ['age', 'educ', 'black', 'hisp', 'marr', 'nodegree', "
                 "'re74', 're75'].",
        ),
    ],
)
