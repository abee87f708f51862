"""The live evidence of the Foundations lesson's questions (``question-*`` of
lessons/foundations.md): the numbers each answer names, from the panels' results.

Each question names its setting in its prompt, so its evidence comes from the panel's result
at that setting (the page runs the panel for it, cached like any other): the settings are
here (``*_PREMISE``), so the page, its tests and the evidence agree. Values are formatted as
a student reads them (:func:`hlmlab.questions.number`, :func:`hlmlab.questions.percent`).
"""

from __future__ import annotations

from typing import Callable, Mapping

from hlmlab.analyses.foundations import (
    DesignEffectSettings,
    DesignEffectView,
    ExperimentSettings,
    ExperimentView,
    SourcesSettings,
    SourcesView,
)
from hlmlab.errors import ModelDataError
from hlmlab.questions import number, percent

__all__ = [
    "ASSUMPTIONS_PREMISE",
    "EXPERIMENT_PREMISE",
    "IDENTIFY_PREMISES",
    "LEVELS_PREMISE",
    "QUESTIONS",
    "REASONS_PREMISE",
    "SERIAL_PREMISE",
    "assumptions_evidence",
    "experiment_evidence",
    "identify_evidence",
    "levels_evidence",
    "reasons_evidence",
    "serial_evidence",
]

#: question-levels: repeated measures, occasions in individuals (design III, one reading per
#: occasion: the two-level model the question describes; lme4 reference case
#: foundations_sources_III_one_reading_reml).
LEVELS_PREMISE = SourcesSettings(design="III", readings=1)
#: question-identify: design I with one reading per individual, and with two (its default).
IDENTIFY_PREMISES = (SourcesSettings(design="I", readings=1), SourcesSettings(design="I"))
#: question-serial: design III at its defaults (serial correlation 0.6).
SERIAL_PREMISE = SourcesSettings(design="III")
#: question-experiment and question-assumptions: the experiment at its defaults.
EXPERIMENT_PREMISE = ASSUMPTIONS_PREMISE = ExperimentSettings()
#: question-reasons: 2,000 pupils in 40 schools, ICC 0.15.
REASONS_PREMISE = DesignEffectSettings(schools=40, pupils_per_school=50, icc=0.15)


def _usable(view: SourcesView, count: int) -> None:
    if len(view.components) != count or any(est != est for _, _, est in view.components):
        raise ModelDataError("The model of this design could not be fitted.")


def levels_evidence(view: SourcesView) -> dict[str, str]:
    """question-levels: occasions (level 1) in individuals (level 2), fitted.

    Parameters
    ----------
    view : the sources panel's result at :data:`LEVELS_PREMISE`.

    Returns
    -------
    dict with ``individuals``, ``occasions``, ``readings`` (level-1 records) and the
    estimated ``tau00`` (between individuals) and ``sigma2`` (within).
    """
    _usable(view, 2)
    (_, _, tau), (_, _, sigma) = view.components
    return {"individuals": str(view.n_individuals), "occasions": str(view.n_occasions),
            "readings": str(view.n_readings), "tau00": number(tau), "sigma2": number(sigma)}


def identify_evidence(one_reading: SourcesView, two_readings: SourcesView) -> dict[str, str]:
    """question-identify: one reading per individual gives only the total variance.

    Parameters
    ----------
    one_reading, two_readings : the sources panel's results at :data:`IDENTIFY_PREMISES`.

    Returns
    -------
    dict with ``total`` (the one variance estimated from one reading each) and
    ``true_total``; ``individual`` and ``measurement`` (estimated from two readings) and
    their true values ``true_individual``, ``true_measurement``.
    """
    _usable(one_reading, 1)
    _usable(two_readings, 2)
    (_, true_total, total), = one_reading.components
    (_, true_ind, ind), (_, true_err, err) = two_readings.components
    return {"total": number(total), "true_total": number(true_total),
            "individual": number(ind), "true_individual": number(true_ind),
            "measurement": number(err), "true_measurement": number(true_err)}


def serial_evidence(view: SourcesView) -> dict[str, str]:
    """question-serial: the time slope's SE, reported against actual.

    Parameters
    ----------
    view : the sources panel's result at :data:`SERIAL_PREMISE`.

    Returns
    -------
    dict with ``se_ratio`` (reported over actual SE in large samples), ``fit_se`` (the SE
    this sample's fit reports) and ``actual_se`` (the actual SD of the slope estimate).
    """
    if view.slope_se_fit != view.slope_se_fit:
        raise ModelDataError("The model of this design could not be fitted.")
    return {"se_ratio": number(view.slope_se_reported / view.slope_se_actual),
            "fit_se": number(view.slope_se_fit, 3), "actual_se": number(view.slope_se_actual, 3)}


def experiment_evidence(view: ExperimentView) -> dict[str, str]:
    """question-experiment: how often a pupil-level t-test rejects a true null.

    Parameters
    ----------
    view : the experiment panel's result at :data:`EXPERIMENT_PREMISE`.

    Returns
    -------
    dict with ``expected_percent`` (the closed form), ``pupils_percent`` and
    ``multilevel_percent`` (simulated), ``replicates``, and the first experiment's SEs
    ``pupils_se`` and ``multilevel_se``.
    """
    return {"expected_percent": percent(view.expected["pupils_ols"]),
            "pupils_percent": percent(view.rejection["pupils_ols"], 1),
            "multilevel_percent": percent(view.rejection["multilevel"], 1),
            "replicates": str(view.settings.n_experiments),
            "pupils_se": number(view.se["pupils_ols"]),
            "multilevel_se": number(view.se["multilevel"])}


def reasons_evidence(view: DesignEffectView) -> dict[str, str]:
    """question-reasons: the design effect of 50 pupils per school at an ICC of 0.15.

    Parameters
    ----------
    view : the design-effect panel's result at :data:`REASONS_PREMISE`.

    Returns
    -------
    dict with ``design_effect``, ``se_factor`` (its square root) and ``effective_pupils``.
    """
    return {"design_effect": number(view.design_effect), "se_factor": number(view.se_factor, 1),
            "effective_pupils": number(view.effective_pupils, 0)}


def assumptions_evidence(view: ExperimentView) -> dict[str, str]:
    """question-assumptions: the multilevel test's information comes from the classes.

    Parameters
    ----------
    view : the experiment panel's result at :data:`ASSUMPTIONS_PREMISE`.

    Returns
    -------
    dict with ``pupils``, ``classes`` and ``df`` (the multilevel test's degrees of freedom).
    """
    return {"pupils": f"{view.n_pupils:,d}", "classes": str(view.n_classes),
            "df": str(view.multilevel_df)}


QUESTIONS: Mapping[str, Callable[..., dict[str, str]]] = {
    "question-levels": levels_evidence,
    "question-identify": identify_evidence,
    "question-serial": serial_evidence,
    "question-experiment": experiment_evidence,
    "question-reasons": reasons_evidence,
    "question-assumptions": assumptions_evidence,
}
