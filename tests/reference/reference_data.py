"""Every data set the lme4 reference cases use, by the name cases.csv gives it.

R and pytest both get their rows from here: make_reference.sh exports each frame to CSV for
R, and the reference test loads the same frame. To add a case on a new data set (a seeded
simulation, say), add a loader here and a row to cases.csv, then run make_reference.sh.
"""

from __future__ import annotations

from functools import partial

from hlmlab import datasets
from hlmlab.analyses import longitudinal
from hlmlab.analyses import why_multilevel as designs
from hlmlab.analyses import macro_micro
from hlmlab.analyses import foundations


def _sources(**settings):
    return foundations.simulate_sources(foundations.SourcesSettings(**settings))


def _experiment(**settings):
    return foundations.simulate_experiment(foundations.ExperimentSettings(**settings))


REFERENCE_DATA = {
    "nels88_replica": datasets.load_nels88_replica,
    "hsb82": partial(datasets.load_reference, "hsb82"),
    "exam": partial(datasets.load_reference, "exam"),
    "sleepstudy": partial(datasets.load_reference, "sleepstudy"),
    # "Why multilevel?" lab (pages/why_multilevel.py): the page's default section 1 study
    # and section 3 classes, and Hsb82 with sector coded 0/1 for the section 5 table.
    "why_classic_study": partial(designs.simulate_classic_study, 10, 20, 0.2, 1976),
    "why_icc_classes": partial(designs.simulate_grouped_scores, 0.3, 20, 15, 3),
    "hsb82_coded": lambda: datasets.hsb82_coded(datasets.load_reference("hsb82")),
    # Longitudinal lesson (pages/longitudinal.py): Part 1 and Part 2 at the page's default
    # sliders (Part 1 with the person-mean and entry/time columns), and two real data sets.
    "long_reading": lambda: longitudinal.decompose_age(longitudinal.simulate_reading()),
    "long_growth": longitudinal.simulate_growth,
    "oxboys": longitudinal.load_oxboys,
    "egsingle": longitudinal.load_egsingle,
    # JSP lesson: the synthetic replica, and its year-0 records for the intake model.
    "jsp_replica": datasets.load_jsp_replica,
    "jsp_replica_year0": lambda: _rows(datasets.load_jsp_replica(), year=0),
    "jsp_replica_year2": lambda: _rows(datasets.load_jsp_replica(), year=2),
    # Year as two dummies, for the two-level models that ignore a level of the three.
    "jsp_replica_year_dummies": lambda: datasets.load_jsp_replica().assign(
        year1=lambda d: (d["year"] == 1).astype(float), year2=lambda d: (d["year"] == 2).astype(float)
    ),
    # Macro and micro lesson (hlmlab/analyses/macro_micro.py): Hsb82 with its school means,
    # centred SES and sector columns, and each simulation at its default settings (seeded).
    "macro_micro_hsb82": macro_micro.hsb82_columns,
    "macro_micro_contextual": lambda: macro_micro.simulate_contextual(
        macro_micro.ContextualSimulationSettings()),
    "macro_micro_grouping": lambda: macro_micro.simulate_ability_grouping(
        macro_micro.AbilityGroupingSettings()),
    "macro_micro_measurement": lambda: macro_micro.simulate_measurement_error(
        macro_micro.MeasurementErrorSettings()),
    # Foundations lesson (hlmlab/analyses/foundations.py): the sources-of-variability panel at
    # its default settings in each design (and with one reading, where that changes the
    # model), and the experiment panel at its defaults with either mechanism.
    **{f"foundations_sources_{design}": partial(_sources, design=design)
       for design in foundations.DESIGNS},
    "foundations_sources_II_one_reading": partial(_sources, design="II", readings=1),
    "foundations_sources_III_one_reading": partial(_sources, design="III", readings=1),
    "foundations_experiment_teacher": partial(_experiment, mechanism="teacher"),
    "foundations_experiment_peers": partial(_experiment, mechanism="peers"),
}


def _rows(frame, **equal):
    """The rows of ``frame`` where each named column equals the given value."""
    for column, value in equal.items():
        frame = frame[frame[column] == value]
    return frame.reset_index(drop=True)


def load(name: str):
    """The frame for data set ``name`` of cases.csv."""
    return REFERENCE_DATA[name]()
