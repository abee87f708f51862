"""The live evidence of every question of the lesson pages at each page's default
settings, computed from the core the way the pages compute it (shared by the core test of
the evidence and the AppTest page tests, which check the page shows exactly these numbers)."""

from __future__ import annotations

from functools import cache

from hlmlab import datasets
from hlmlab.analyses import foundations, jsp_schools, longitudinal, macro_micro, nels88_two_schools, why_multilevel
from hlmlab.analyses import foundations_questions as foundations_q
from hlmlab.analyses import jsp_schools_questions as jsp_q
from hlmlab.analyses import longitudinal_questions as long_q
from hlmlab.analyses import macro_micro_questions as mm_q
from hlmlab.analyses import nels88_two_schools_questions as nels_q
from hlmlab.analyses import why_multilevel_questions as why_q
from hlmlab.pooling import compare_pooling

#: Each page lesson's evidence module.
MODULES = {"nels88_two_schools": nels_q, "jsp_schools": jsp_q, "why_multilevel": why_q,
           "longitudinal": long_q, "macro_micro": mm_q, "foundations": foundations_q}
JSP = jsp_schools.DATASETS["jsp"]
JSP_SAMPLE_SEED = 1988  # pages/jsp_schools.py's SAMPLE_SEED


def _nels88() -> dict:
    nels = datasets.load_nels88_replica()
    ids = tuple(sorted(nels["schid"].unique()))
    every = nels88_two_schools.per_school_cap(nels, ids, 70)
    full = nels88_two_schools.compare_selection(nels, ids, every, False, True)
    deck = nels88_two_schools.DECK_SCHOOLS
    return {
        "question-one-line": nels_q.one_line_evidence(nels88_two_schools.select_rows(
            nels, deck, nels88_two_schools.per_school_cap(nels, deck, 70))),
        "question-shrink": nels_q.shrink_evidence(
            full, nels88_two_schools.compare_selection(nels, ids, nels_q.SHRINK_PER_SCHOOL,
                                                       False, True)),
        "question-pooled-slope": nels_q.pooled_slope_evidence(
            nels88_two_schools.select_rows(nels, ids, every), full),
    }


def _jsp() -> dict:
    jsp = datasets.load_jsp_replica()
    sizes = jsp_schools.pupils_per_school(jsp, JSP)

    def sample(pupils):
        return jsp_schools.compare_sampled_slopes(jsp, JSP, len(sizes), pupils,
                                                  seed=JSP_SAMPLE_SEED)

    fits, _ = jsp_schools.school_rankings(jsp, JSP, 2, False)
    every_pupil = sample(int(sizes.max()))
    return {
        "question-intake": jsp_q.intake_evidence(jsp, JSP),
        "question-r2": jsp_q.r2_evidence(jsp_schools.school_lines(jsp, JSP, "year", True),
                                         jsp_schools.school_lines(jsp, JSP, "year", False)),
        "question-lines": jsp_q.lines_evidence(
            compare_pooling(jsp, JSP.outcome, JSP.lines_predictor, JSP.group, True), JSP),
        "question-rank": jsp_q.rank_evidence(fits["adjusted"][1]),
        "question-separate": jsp_q.separate_evidence(every_pupil, every_pupil,
                                                     sample(jsp_q.FEW_PUPILS)),
        "question-levels": jsp_q.levels_evidence(
            jsp_schools.compare_school_levels(jsp, JSP, True, False)),
    }


def _why_multilevel() -> dict:
    """Each view's panel result at the page's defaults, as the page passes it."""
    why = why_multilevel
    return {
        "question-classic": why_q.classic_evidence(
            why.classic_view(why.Classic(10, 20, 0.2, why.CLASSIC_SEED)), 20, 0.2),
        "question-precision": why_q.precision_evidence(
            why.precision_view(why.Precision(240, 0.2)).splits, 240, 0.2),
        "question-icc": why_q.icc_evidence(why.icc_view(why.Icc(0.3, why.ICC_SEED))),
        "question-sampling": why_q.sampling_evidence(
            why.sampling_view(why.Sampling(0.15, 0.10, 20, 2, 10))),
        "question-advantages": why_q.advantages_evidence(why.hsb82_view(why.Hsb82(False))),
    }


def _longitudinal() -> dict:
    """Each view's panel result at the page's defaults, as the page passes it (Part 1 as
    revealed: its question's answer shows the decomposition)."""
    long = longitudinal
    return {
        "question-explanations": long_q.explanations_evidence(
            long.reading_view(long.Reading(revealed=True))),
        "question-complete-case": long_q.complete_case_evidence(long.growth_view(long.Growth())),
        "question-boys-differ": long_q.boys_evidence(long.oxboys_view(long.RealData())),
        "question-three-levels": long_q.three_levels_evidence(long.egsingle_view(long.RealData())),
        "question-autocorrelation": long_q.autocorrelation_evidence(long.ar1_view(long.Ar1())),
    }


def _macro_micro() -> dict:
    """Each question from its panel's result at the settings it is about (the page's
    defaults for the Hsb82 views)."""
    evidence, results = {}, {}
    for key, function in mm_q.QUESTIONS.items():
        panel, settings = macro_micro.question_settings(key)
        if (panel.name, settings) not in results:
            results[panel.name, settings] = panel.compute(settings)
        evidence[key] = function(results[panel.name, settings])
    return evidence


def _foundations() -> dict:
    sources = foundations.sources_view
    experiment = foundations.experiment_view(foundations_q.EXPERIMENT_PREMISE)
    return {
        "question-levels": foundations_q.levels_evidence(sources(foundations_q.LEVELS_PREMISE)),
        "question-identify": foundations_q.identify_evidence(
            *map(sources, foundations_q.IDENTIFY_PREMISES)),
        "question-serial": foundations_q.serial_evidence(sources(foundations_q.SERIAL_PREMISE)),
        "question-experiment": foundations_q.experiment_evidence(experiment),
        "question-reasons": foundations_q.reasons_evidence(
            foundations.design_effect_view(foundations_q.REASONS_PREMISE)),
        "question-assumptions": foundations_q.assumptions_evidence(
            foundations.experiment_view(foundations_q.ASSUMPTIONS_PREMISE)),
    }


_BUILDERS = {"nels88_two_schools": _nels88, "jsp_schools": _jsp,
             "why_multilevel": _why_multilevel, "longitudinal": _longitudinal,
             "macro_micro": _macro_micro, "foundations": _foundations}


@cache
def default_evidence(lesson: str) -> dict[str, dict[str, str]]:
    """Question id -> its evidence at the page's default settings, for one page lesson."""
    return _BUILDERS[lesson]()
