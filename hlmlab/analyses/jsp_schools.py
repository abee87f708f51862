"""The JSP lesson (pages/jsp_schools.py): school effectiveness, built on the shared core.

Every model here is fitted by the core (:func:`hlmlab.twolevel.fit_multilevel`,
:func:`hlmlab.threelevel.fit_three_level`, :func:`hlmlab.ols.fit_per_group`,
:func:`hlmlab.pooling.compare_pooling`) and schools are ranked by
:func:`hlmlab.ranking.rank_groups`; this module only arranges the lesson's data for them and
reads their results: per-school regressions and their R², the rankings with and without the
intake adjustment, the separate-vs-multilevel slope comparison in a sample, and the
three-level model beside the models that ignore a level. Its figures are in
:mod:`hlmlab.analyses.jsp_schools_figures`; display tables in :mod:`hlmlab.report`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from hlmlab.datasets import sample_groups
from hlmlab.errors import ModelDataError
from hlmlab.ols import PerGroupFit, PooledFit, fit_per_group, fit_pooled
from hlmlab.pooling import PoolingComparison, compare_pooling, fitted_lines
from hlmlab.ranking import rank_changes, rank_groups
from hlmlab.threelevel import ThreeLevelFit, design_matrix, fit_three_level, variance_partition
from hlmlab.twolevel import MultilevelFit, fit_multilevel

__all__ = [
    "DATASETS",
    "LEVEL_NAMES",
    "LevelComparison",
    "SampledSlopes",
    "SchoolDataSpec",
    "SchoolLines",
    "coefficient_spread",
    "compare_levels",
    "compare_sampled_slopes",
    "compare_school_levels",
    "fit_ranking_model",
    "intake_lines_by_occasion",
    "occasion_dummies",
    "occasion_effect_se",
    "per_school_regressions",
    "pupils_per_school",
    "r2_summary",
    "rows_at_occasion",
    "school_lines",
    "school_means_by_occasion",
    "school_rankings",
    "slope_pairs",
    "slope_pairs_summary",
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
