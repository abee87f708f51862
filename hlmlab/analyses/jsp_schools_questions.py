"""The live evidence of the JSP lesson's questions (``question-*`` of lessons/jsp_schools.md):
the numbers each answer names, from the results the page has for the chosen data source.

Questions about the view's current settings take the view's results; questions about a
setting the lesson names (every pupil, or a few per school) take the page's cached results for
that setting. Values are formatted as a student reads them (:func:`hlmlab.questions.number`);
``QUESTIONS`` maps each question of the lesson to its evidence function.
"""

from __future__ import annotations

import functools
from typing import Callable, Mapping

import numpy as np
import pandas as pd

from hlmlab.analyses.jsp_schools import (
    DataSource,
    LevelComparison,
    SampledSlopes,
    SchoolDataSpec,
    SchoolLines,
    load_source,
    occasion_effect_se,
    r2_summary,
    slope_pairs_summary,
)
from hlmlab.errors import ModelDataError
from hlmlab.ols import fit_per_group
from hlmlab.pooling import PoolingComparison
from hlmlab.questions import number
from hlmlab.ranking import ranking_summary

__all__ = [
    "FEW_PUPILS",
    "QUESTIONS",
    "intake_evidence",
    "levels_evidence",
    "lines_evidence",
    "r2_evidence",
    "rank_evidence",
    "separate_evidence",
    "source_intake_evidence",
]

#: question-separate: the "few pupils per school" the answer compares with every pupil.
FEW_PUPILS = 5

# What a line's intercept and slope mean, per data set: the answers' words for the lines of
# the outcome on ``spec.lines_predictor`` (JSP: year 0, 1, 2; Exam: the standardised LRT).
_LINE_WORDS = {
    "jsp": ("the math score in year 0", "points per year"),
    "exam": ("the exam score of a pupil of average reading score",
             "exam SDs per SD of the reading test"),
}
# The outcome's unit, the intake and one unit of it, per data set (question-intake).
_INTAKE_WORDS = {
    "jsp": ("math points", "Raven ability at entry", "point of Raven ability"),
    "exam": ("exam SDs", "the reading test at 11", "SD of the reading test"),
}


def intake_evidence(data: pd.DataFrame, spec: SchoolDataSpec) -> dict[str, str]:
    """question-intake: how the outcome rises with intake, line by line.

    One OLS line of the outcome on intake per school and occasion (JSP: per school and year;
    Exam: per school), as the level-1 view draws them for one school.

    Returns
    -------
    dict with ``rising_lines`` (lines with a positive slope), ``lines`` (lines with a slope),
    ``median_slope`` and the words ``line_kind``, ``outcome_unit``, ``intake`` and
    ``intake_unit``.
    """
    cell = data[spec.group].astype(str)
    if spec.occasion is not None:
        cell = cell + " · year " + data[spec.occasion].astype(str)
    fit = fit_per_group(data.assign(_line=cell), spec.outcome, spec.intake, "_line")
    slopes = fit.table["slope"].dropna()
    outcome_unit, intake, intake_unit = _INTAKE_WORDS[spec.key]
    return {
        "rising_lines": str(int((slopes > 0).sum())),
        "lines": str(len(slopes)),
        "line_kind": "school-and-year lines" if spec.occasion is not None else "school lines",
        "median_slope": number(slopes.median()),
        "outcome_unit": outcome_unit,
        "intake": intake,
        "intake_unit": intake_unit,
    }


@functools.lru_cache(maxsize=8)
def source_intake_evidence(source: DataSource) -> dict[str, str]:
    """:func:`intake_evidence` of a data source, once per process (it fits a line per school
    and year: the page asks for it on every run once the question is answered)."""
    return intake_evidence(load_source(source), source.spec)


def r2_evidence(means: SchoolLines, pupils: SchoolLines) -> dict[str, str]:
    """question-r2: the per-school R² of the yearly means' line and of the pupils' line.

    Parameters
    ----------
    means, pupils : :func:`hlmlab.analyses.jsp_schools.school_lines` of math on year, on the
        schools' yearly means and on the pupils' scores.

    Returns
    -------
    dict with ``means_median_r2``, ``means_in_band`` (R² within .6-.9), ``means_schools``
    (schools with an R²) and ``pupils_median_r2``, ``pupils_q25``, ``pupils_q75``,
    ``pupils_in_band``.
    """
    of_means, of_pupils = r2_summary(means.fit.table["r2"]), r2_summary(pupils.fit.table["r2"])
    return {
        "means_median_r2": number(of_means["quantiles"]["q50"]),
        "means_in_band": str(of_means["in_band"]),
        "means_schools": str(of_means["n"]),
        "pupils_median_r2": number(of_pupils["quantiles"]["q50"]),
        "pupils_q25": number(of_pupils["quantiles"]["q25"]),
        "pupils_q75": number(of_pupils["quantiles"]["q75"]),
        "pupils_in_band": str(of_pupils["in_band"]),
    }


def lines_evidence(comparison: PoolingComparison, spec: SchoolDataSpec) -> dict[str, str]:
    """question-lines: how spread out the schools' own lines and multilevel lines are.

    Returns
    -------
    dict with the SDs over schools of the own OLS intercepts and slopes (``ols_intercept_sd``,
    ``ols_slope_sd``) and of the multilevel lines' (``multilevel_intercept_sd``,
    ``multilevel_slope_sd``; 0 for the slopes of a random-intercept model), the model's
    ``tau00_sd`` (sqrt tau00), and the words ``intercept_label`` and ``slope_unit``.

    Raises
    ------
    ModelDataError
        When there is no usable multilevel fit.
    """
    fit = comparison.multilevel
    if fit is None or not fit.usable:
        raise ModelDataError("There is no usable multilevel fit to compare the lines with.")
    own = comparison.per_group.coefficients_by_group()
    shrunk = fit.blups.loc[own.index, ["intercept", "slope"]]
    intercept_label, slope_unit = _LINE_WORDS[spec.key]
    return {
        "ols_intercept_sd": number(own["intercept"].std()),
        "multilevel_intercept_sd": number(shrunk["intercept"].std()),
        "ols_slope_sd": number(own["slope"].std()),
        "multilevel_slope_sd": number(shrunk["slope"].std()),
        "tau00_sd": number(np.sqrt(fit.variance["tau00"])),
        "intercept_label": intercept_label,
        "slope_unit": slope_unit,
    }


def rank_evidence(table: pd.DataFrame) -> dict[str, str]:
    """question-rank: what the caterpillar plot and the rank ranges show.

    Parameters
    ----------
    table : the ranking the view draws (:func:`hlmlab.ranking.rank_groups`).

    Returns
    -------
    dict with ``schools``, ``median_rank_span`` (places, rounded), ``max_rank_span``,
    ``overlap`` (intervals holding the average), ``above`` and ``below``.
    """
    summary = ranking_summary(table)
    return {
        "schools": str(summary["groups"]),
        "median_rank_span": number(summary["median_rank_span"], 0),
        "max_rank_span": str(summary["max_rank_span"]),
        "overlap": str(summary["overlap_average"]),
        "above": str(summary["above"]),
        "below": str(summary["below"]),
    }


def _gaps(sampled: SampledSlopes, what: str) -> dict:
    if not len(sampled.pairs):
        raise ModelDataError(f"No school has both an own and a multilevel slope {what}.")
    return slope_pairs_summary(sampled.pairs)


def separate_evidence(now: SampledSlopes, every_pupil: SampledSlopes,
                      few_pupils: SampledSlopes) -> dict[str, str]:
    """question-separate: the gap between own and multilevel slopes, by pupils per school.

    Parameters
    ----------
    now : the view's current sample.
    every_pupil, few_pupils : every school, with every pupil and with at most
        :data:`FEW_PUPILS` per school.

    Returns
    -------
    dict with the median |multilevel - own slope| of each (``gap_now``, ``gap_every_pupil``,
    ``gap_few_pupils``), ``few_pupils``, and the SDs of the own and multilevel slopes now
    (``ols_sd_now``, ``multilevel_sd_now``).

    Raises
    ------
    ModelDataError
        When one of the samples has no school with both slopes.
    """
    current = _gaps(now, "at the sliders' current values")
    every, few = _gaps(every_pupil, "with every pupil"), _gaps(few_pupils, "with few pupils")
    return {
        "gap_now": number(current["median_gap"], 3),
        "gap_every_pupil": number(every["median_gap"], 3),
        "gap_few_pupils": number(few["median_gap"], 3),
        "few_pupils": str(FEW_PUPILS),
        "ols_sd_now": number(current["ols_sd"], 3),
        "multilevel_sd_now": number(current["multilevel_sd"], 3),
    }


def levels_evidence(comparison: LevelComparison) -> dict[str, str]:
    """question-levels: the SE of the last year effect with and without each level.

    Returns
    -------
    dict with ``term`` (e.g. ``year[2]``), ``se_three_level``, ``se_pupil_ignored`` and
    ``ratio_pupil_ignored`` (its multiple of the three-level SE), ``ratio_school_ignored``.
    """
    se = occasion_effect_se(comparison)
    three, no_school, no_pupil = se.index[:3]
    return {
        "term": comparison.occasion_terms[-1],
        "se_three_level": number(se.loc[three, "SE"], 3),
        "se_pupil_ignored": number(se.loc[no_pupil, "SE"], 3),
        "ratio_pupil_ignored": number(se.loc[no_pupil, "ratio"]),
        "ratio_school_ignored": number(se.loc[no_school, "ratio"]),
    }


#: Each question of lessons/jsp_schools.md and the function giving its evidence.
QUESTIONS: Mapping[str, Callable[..., dict[str, str]]] = {
    "question-intake": intake_evidence,
    "question-r2": r2_evidence,
    "question-lines": lines_evidence,
    "question-rank": rank_evidence,
    "question-separate": separate_evidence,
    "question-levels": levels_evidence,
}
