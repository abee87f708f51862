"""The live evidence of the NELS88 lesson's questions (``question-*`` of
lessons/nels88_two_schools.md): the numbers each answer names, from the fits the page has.

Each question is about a setting the lesson names (the deck's two schools; all schools with a
random intercept), so its evidence is computed for that setting on the data source the page
shows, whatever the panel's controls say now; the page passes the (cached) fits. Values are
formatted as a student reads them (:func:`hlmlab.questions.number`); ``QUESTIONS`` maps each
question of the lesson to its evidence function (the lesson tests check they match).
"""

from __future__ import annotations

from typing import Callable, Mapping

import pandas as pd

from hlmlab.analyses.nels88_two_schools import GROUP, OUTCOME, PREDICTOR
from hlmlab.errors import ModelDataError
from hlmlab.pooling import PoolingComparison
from hlmlab.questions import number, percent
from hlmlab.within_between import slope_blend

__all__ = [
    "POOLED_SLOPE_PREMISE",
    "QUESTIONS",
    "SHRINK_PER_SCHOOL",
    "one_line_evidence",
    "pooled_slope_evidence",
    "shrink_evidence",
]

#: question-shrink: all schools, random intercept, REML, at most this many students each.
SHRINK_PER_SCHOOL = 5
#: question-pooled-slope: all schools, random intercept (no random slope), REML.
POOLED_SLOPE_PREMISE = {"random_slope": False, "reml": True}


def _slope_blend(rows: pd.DataFrame, tau00: float, sigma2: float):
    return slope_blend(rows, OUTCOME, PREDICTOR, GROUP, tau00, sigma2)


def _usable(comparison: PoolingComparison, what: str):
    fit = comparison.multilevel
    if fit is None or not fit.usable or comparison.shrinkage is None:
        raise ModelDataError(f"The random-intercept model of {what} could not be fitted.")
    return fit


def one_line_evidence(rows: pd.DataFrame) -> dict[str, str]:
    """question-one-line: one OLS line through two schools against the within-school slope.

    Parameters
    ----------
    rows : every student of the two schools (the deck's two).

    Returns
    -------
    dict with ``schools`` (their ids), ``pooled_slope`` (OLS through all students),
    ``within_slope`` (school-mean-centred), ``between_slope`` (the line through the school
    means, each weighted by its number of students) and ``pooled_within_share`` (the
    percentage of the pooled slope's weight on the within slope: pooled = share x within +
    (1 - share) x between, exactly).
    """
    blend = _slope_blend(rows, tau00=0.0, sigma2=1.0)  # tau00 = 0: pooled OLS's weights
    schools = " and ".join(str(s) for s in sorted(rows[GROUP].unique()))
    return {
        "schools": f"schools {schools}",
        "pooled_slope": number(blend.blend),
        "within_slope": number(blend.within),
        "between_slope": number(blend.between),
        "pooled_within_share": percent(blend.within_weight),
    }


def shrink_evidence(full: PoolingComparison, small: PoolingComparison) -> dict[str, str]:
    """question-shrink: shrinkage weights with every student and with a few per school.

    Parameters
    ----------
    full, small : random-intercept comparisons of all schools, with every student and with
        at most :data:`SHRINK_PER_SCHOOL` per school.

    Returns
    -------
    dict with the weights lambda_j = tau00 / (tau00 + sigma2 / n_j) of ``full`` (``lambda_full_min``,
    ``lambda_full_max`` and that of the largest school, ``largest_school``, ``largest_n``,
    ``lambda_full_largest``), of ``small`` (``lambda_small``, the same for every school, and as
    ``lambda_small_percent``; ``tau00_small``, ``sigma2_small``, ``noise_small`` = sigma2 / n),
    and the SD of the per-school OLS slopes in each (``ols_slope_sd_full``,
    ``ols_slope_sd_small``).

    Raises
    ------
    ModelDataError
        When either random-intercept model could not be fitted.
    """
    _usable(full, "every student")
    fit_small = _usable(small, f"{SHRINK_PER_SCHOOL} students per school")
    weights = full.shrinkage
    largest = weights["n"].idxmax()
    small_weights = small.shrinkage["lambda"]
    n_small = int(small.shrinkage["n"].max())
    return {
        "lambda_full_min": number(weights["lambda"].min()),
        "lambda_full_max": number(weights["lambda"].max()),
        "largest_school": str(largest),
        "largest_n": str(int(weights.loc[largest, "n"])),
        "lambda_full_largest": number(weights.loc[largest, "lambda"]),
        "lambda_small": number(small_weights.max()),
        "lambda_small_percent": percent(small_weights.max()),
        "tau00_small": number(fit_small.variance["tau00"], 1),
        "sigma2_small": number(fit_small.variance["sigma2"], 1),
        "noise_small": number(fit_small.variance["sigma2"] / n_small, 1),
        "ols_slope_sd_full": number(full.per_group.table["slope"].std()),
        "ols_slope_sd_small": number(small.per_group.table["slope"].std()),
    }


def pooled_slope_evidence(rows: pd.DataFrame, comparison: PoolingComparison) -> dict[str, str]:
    """question-pooled-slope: where the random-intercept slope lies, and why.

    Parameters
    ----------
    rows : every student of every school.
    comparison : the random-intercept comparison of ``rows`` (:data:`POOLED_SLOPE_PREMISE`).

    Returns
    -------
    dict with ``pooled_slope``, ``ri_slope`` (the fixed slope), ``within_slope``,
    ``between_slope`` (school means weighted by their precision n_j / (sigma2 + n_j tau00) at
    the fit's variance components), ``ri_within_share`` and ``ri_between_share`` (the
    percentages with which ri_slope = within_share x within + between_share x between,
    exactly) and ``pooled_within_share`` (pooled OLS's share on the within slope).

    Raises
    ------
    ModelDataError
        When the random-intercept model could not be fitted.
    """
    fit = _usable(comparison, "all schools")
    blend = _slope_blend(rows, fit.variance["tau00"], fit.variance["sigma2"])
    pooled = _slope_blend(rows, 0.0, 1.0)
    return {
        "pooled_slope": number(comparison.pooled.coef[PREDICTOR]),
        "ri_slope": number(fit.fixed[PREDICTOR]),
        "within_slope": number(blend.within),
        "between_slope": number(blend.between),
        "ri_within_share": percent(blend.within_weight, 1),
        "ri_between_share": percent(blend.between_weight, 1),
        "pooled_within_share": percent(pooled.within_weight),
    }


#: Each question of lessons/nels88_two_schools.md and the function giving its evidence.
QUESTIONS: Mapping[str, Callable[..., dict[str, str]]] = {
    "question-one-line": one_line_evidence,
    "question-shrink": shrink_evidence,
    "question-pooled-slope": pooled_slope_evidence,
}
