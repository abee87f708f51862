"""The live evidence of the Why multilevel lesson's questions (``question-*`` of
lessons/why_multilevel.md): the numbers each answer names, from the results each view has at
its current settings.

Each function takes the result of the view's panel (``hlmlab.analyses.why_multilevel``'s
``*View`` classes), which the page already has. Values are formatted as a student reads them (:func:`hlmlab.questions.number`); the value a
numeric guess is judged against is a plain number. ``QUESTIONS`` maps each question of the
lesson to its evidence function.
"""

from __future__ import annotations

from typing import Callable, Mapping

import numpy as np
import pandas as pd

from hlmlab.analyses.why_multilevel import (
    ICC_CLASSES,
    ClassicView,
    Hsb82View,
    IccView,
    SamplingView,
)
from hlmlab.errors import ModelDataError
from hlmlab.questions import number, percent
from hlmlab.stats import design_effect, naive_rejection_rate

__all__ = [
    "QUESTIONS",
    "advantages_evidence",
    "classic_evidence",
    "icc_evidence",
    "precision_evidence",
    "sampling_evidence",
]


def classic_evidence(study: ClassicView, pupils_per_class: int, icc: float) -> dict[str, str]:
    """question-classic: how often OLS on pupils rejects a true null at these settings.

    Parameters
    ----------
    study : the view's current study (:data:`hlmlab.analyses.why_multilevel.CLASSIC`'s
        result: its three analyses of one simulated data set).
    pupils_per_class, icc : the view's settings.

    Returns
    -------
    dict with ``ols_rejection_percent`` (the large-sample rejection rate of OLS on pupils,
    :func:`hlmlab.stats.naive_rejection_rate`, as a whole percentage: the guess's target),
    ``design_effect``, ``se_inflation`` (its square root), ``pupils_per_class``, ``icc``, and
    this study's SEs of the style effect, ``study_ols_se`` and ``study_mixed_se``.
    """
    deff = design_effect(icc, pupils_per_class)
    return {
        "ols_rejection_percent": percent(naive_rejection_rate(deff)),
        "design_effect": number(deff, 1),
        "se_inflation": number(np.sqrt(deff)),
        "pupils_per_class": str(pupils_per_class),
        "icc": number(icc),
        "study_ols_se": number(study.ols_se),
        "study_mixed_se": number(study.mixed_se),
    }


def precision_evidence(table: pd.DataFrame, total: int, icc: float) -> dict[str, str]:
    """question-precision: the SE with 4 teachers against classes of 2 pupils.

    Parameters
    ----------
    table : :func:`hlmlab.analyses.why_multilevel.precision_by_split` at the view's settings.
    total, icc : the view's settings.

    Returns
    -------
    dict with ``se_ratio`` (the guess's target: true SE with 4 teachers over true SE with 2
    pupils per teacher), the two true SEs ``se_few``/``se_many``, design effects
    ``deff_few``/``deff_many``, effective sample sizes ``effective_few``/``effective_many``,
    ``n_few`` (pupils per teacher with 4 teachers), ``teachers_many``, ``total``, ``icc``.
    """
    splits = table.set_index("pupils_per_teacher")
    few = table.loc[table["teachers"] == 4].iloc[0]
    many = splits.loc[2]
    return {
        "se_ratio": number(few["se_true"] / many["se_true"]),
        "se_few": number(few["se_true"]),
        "se_many": number(many["se_true"]),
        "deff_few": number(few["design_effect"], 1),
        "deff_many": number(many["design_effect"], 1),
        "effective_few": number(few["effective_n"], 0),
        "effective_many": number(many["effective_n"], 0),
        "n_few": str(int(few["pupils_per_teacher"])),
        "teachers_many": str(int(many["teachers"])),
        "total": str(total),
        "icc": number(icc),
    }


def icc_evidence(sample: IccView) -> dict[str, str]:
    """question-icc: the sample's ICC, its exact 95% interval and the truth.

    Returns
    -------
    dict with ``icc_estimate``, ``icc_low``, ``icc_high``, ``icc_true``, ``classes``,
    ``classes_minus_one`` and ``best_relative_se``: sqrt(2 / (J - 1)), the relative SE of the
    variance of J normal values, the best a between-class variance estimate from J classes can
    do however many pupils each has.
    """
    return {
        "icc_estimate": number(sample.estimate),
        "icc_low": number(sample.low),
        "icc_high": number(sample.high),
        "icc_true": number(sample.true_icc),
        "classes": str(ICC_CLASSES),
        "classes_minus_one": str(ICC_CLASSES - 1),
        "best_relative_se": number(np.sqrt(2.0 / (ICC_CLASSES - 1))),
    }


def sampling_evidence(study: SamplingView) -> dict[str, str]:
    """question-sampling: coverage of the naive and the multilevel 95% intervals.

    Returns
    -------
    dict with the percentages of intervals holding the population mean, ``naive_coverage``
    (multi-stage samples, naive SE), ``srs_coverage`` (simple random samples, naive SE) and
    ``multilevel_coverage`` (multi-stage, random-intercept SE); ``sd_ratio`` (how many times
    as much the multi-stage mean varies), ``effective_n`` and ``sample_size``.

    Raises
    ------
    ModelDataError
        When no multilevel SE could be computed for the multi-stage samples.
    """
    comparison = study.comparison
    summary = comparison.summary
    multilevel = summary.loc["multistage", "multilevel_coverage"]
    if not np.isfinite(multilevel):
        raise ModelDataError("The multilevel SE of the multi-stage samples could not be computed.")
    return {
        "naive_coverage": percent(summary.loc["multistage", "naive_coverage"]),
        "srs_coverage": percent(summary.loc["srs", "naive_coverage"]),
        "multilevel_coverage": percent(multilevel),
        "sd_ratio": number(comparison.sd_ratio),
        "effective_n": number(comparison.effective_sample_size, 0),
        "sample_size": str(comparison.sample_size),
    }


def advantages_evidence(analyses: Hsb82View) -> dict[str, str]:
    """question-advantages: how the SEs change from naive to cluster-robust OLS and MixedLM.

    Returns
    -------
    dict with ``robust_<term>`` and ``mixed_<term>`` (each SE over the naive OLS SE) for
    ``ses``, ``sector`` and ``meanses``, and ``schools``, ``pupils``.
    """
    ratios = analyses.ratios
    evidence = {}
    for term in ("ses", "sector", "meanses"):
        evidence[f"robust_{term}"] = number(ratios.loc[term, "cluster-robust"])
        evidence[f"mixed_{term}"] = number(ratios.loc[term, "MixedLM"])
    evidence["schools"] = str(analyses.schools)
    evidence["pupils"] = f"{analyses.pupils:,}"
    return evidence


#: Each question of lessons/why_multilevel.md and the function giving its evidence.
QUESTIONS: Mapping[str, Callable[..., dict[str, str]]] = {
    "question-classic": classic_evidence,
    "question-precision": precision_evidence,
    "question-icc": icc_evidence,
    "question-sampling": sampling_evidence,
    "question-advantages": advantages_evidence,
}
