"""The live evidence of the longitudinal lesson's questions (``question-*`` of
lessons/longitudinal.md): the numbers each answer names, from the results each view has at its
current settings.

Each function takes the result of its view's panel (``hlmlab.analyses.longitudinal``'s
``*View`` classes), which the page already has. Values are formatted as a student reads them (:func:`hlmlab.questions.number`); ``QUESTIONS``
maps each question of the lesson to its evidence function.
"""

from __future__ import annotations

from typing import Callable, Mapping

import numpy as np

from hlmlab.analyses.longitudinal import (
    Ar1View,
    EgsingleView,
    GrowthView,
    OxboysView,
    ReadingView,
)
from hlmlab.errors import ModelDataError
from hlmlab.questions import number, percent

__all__ = [
    "QUESTIONS",
    "autocorrelation_evidence",
    "boys_evidence",
    "complete_case_evidence",
    "explanations_evidence",
    "three_levels_evidence",
]


def explanations_evidence(reading: ReadingView) -> dict[str, str]:
    """question-explanations: the pooled, within-child and between-child slopes of age.

    Parameters
    ----------
    reading : Part 1's result with the decomposition (``READING`` with ``revealed``).

    Returns
    -------
    dict with ``pooled_slope``, ``within_slope`` and ``between_slope`` (the person-mean
    centred model's), and the simulation's true ``true_within`` and ``true_between``.

    Raises
    ------
    ModelDataError
        When the person-mean-centred model could not be fitted (its message says why).
    """
    slopes = reading.slopes
    if "within" not in slopes.index:
        reasons = " ".join(m.detail for m in reading.messages
                           if m.severity == "error") or "it could not be fitted."
        raise ModelDataError(f"There is no within- and between-child model: {reasons}")
    return {
        "pooled_slope": number(slopes.loc["pooled", "estimate"]),
        "within_slope": number(slopes.loc["within", "estimate"]),
        "between_slope": number(slopes.loc["between", "estimate"]),
        "true_within": number(slopes.loc["within", "truth"]),
        "true_between": number(slopes.loc["between", "truth"]),
    }


def complete_case_evidence(result: GrowthView) -> dict[str, str]:
    """question-complete-case: what a complete-case analysis keeps, and its estimate and SE
    against MixedLM's on every measurement.

    Returns
    -------
    dict with ``children_dropped``, ``children_planned``, ``rows_used``, ``rows_available``,
    the growth estimates and SEs ``cc_slope``, ``cc_se``, ``mixed_slope``, ``mixed_se`` and
    the simulation's ``true_slope``; estimates a complete-case analysis cannot make (fewer
    than two complete children) read "not available".

    Raises
    ------
    ModelDataError
        When MixedLM could not be fitted.
    """
    cc = result.complete_case
    if result.mixed_slope is None:
        raise ModelDataError("MixedLM could not be fitted to these measurements.")
    return {
        "children_dropped": str(cc["children_dropped"]),
        "children_planned": str(cc["children_planned"]),
        "rows_used": str(cc["rows_used"]),
        "rows_available": str(cc["rows_available"]),
        "cc_slope": number(cc["slope"]),
        "cc_se": number(cc["slope_se"], 3),
        "mixed_slope": number(result.mixed_slope),
        "mixed_se": number(result.mixed_se, 3),
        "true_slope": number(result.true_slope),
    }


def boys_evidence(oxboys: OxboysView) -> dict[str, str]:
    """question-boys-differ: how much boys differ against how much a boy's measurements
    scatter around his own curve (the quadratic growth model).

    Returns
    -------
    dict with ``sd_boys`` (sqrt tau00: boys' heights at the average age, in cm), ``sd_growth``
    (sqrt tau11: their growth rates, cm per unit of scaled age), ``sd_residual`` (sqrt sigma2)
    and ``boys_share`` (tau00 / (tau00 + sigma2), in percent).
    """
    variance = oxboys.variance
    return {
        "sd_boys": number(np.sqrt(variance["tau00"]), 1),
        "sd_growth": number(np.sqrt(variance["tau11"]), 1),
        "sd_residual": number(np.sqrt(variance["sigma2"]), 1),
        "boys_share": percent(variance["tau00"] / (variance["tau00"] + variance["sigma2"]), 1),
    }


def three_levels_evidence(egsingle: EgsingleView) -> dict[str, str]:
    """question-three-levels: the three-level model's variance split (percentages).

    Returns
    -------
    dict with ``school_share``, ``pupil_share`` and ``occasion_share``.
    """
    shares = egsingle.shares
    return {f"{level}_share": percent(shares[level]) for level in ("school", "pupil", "occasion")}


def autocorrelation_evidence(ar1: Ar1View) -> dict[str, str]:
    """question-autocorrelation: reported SE over actual SD, and coverage, by model.

    Parameters
    ----------
    ar1 : the view's result; its ``summary`` is
        :func:`hlmlab.analyses.longitudinal.summarise_ar1` of the precomputed runs.

    Returns
    -------
    dict with ``rho_max`` (the strongest autocorrelation simulated) and, for the
    random-intercept model, ``ri_ratio_0``/``ri_coverage_0`` at rho = 0 and
    ``ri_ratio_max``/``ri_coverage_max`` at ``rho_max`` (coverage in percent); the
    random-slope model's ``rs_ratio_max`` and pooled OLS's ``pooled_ratio_max``.
    """
    summary = ar1.summary
    rho_max = summary["rho"].max()
    rows = summary.set_index(["rho", "model"])
    return {
        "rho_max": number(rho_max, 1),
        "ri_ratio_0": number(rows.loc[(0.0, "ri"), "ratio"]),
        "ri_coverage_0": percent(rows.loc[(0.0, "ri"), "coverage"]),
        "ri_ratio_max": number(rows.loc[(rho_max, "ri"), "ratio"]),
        "ri_coverage_max": percent(rows.loc[(rho_max, "ri"), "coverage"]),
        "rs_ratio_max": number(rows.loc[(rho_max, "rs"), "ratio"]),
        "pooled_ratio_max": number(rows.loc[(rho_max, "pooled"), "ratio"]),
    }


#: Each question of lessons/longitudinal.md and the function giving its evidence.
QUESTIONS: Mapping[str, Callable[..., dict[str, str]]] = {
    "question-explanations": explanations_evidence,
    "question-complete-case": complete_case_evidence,
    "question-boys-differ": boys_evidence,
    "question-three-levels": three_levels_evidence,
    "question-autocorrelation": autocorrelation_evidence,
}
