"""The NELS88 lesson (pages/nels88_two_schools.py): math against homework in the course
deck's two schools, then all ten, with the three kinds of lines.

The lesson's choices live here: which columns, which schools the deck shows, how a
"students per school" slider subsamples (seeded and nested, so shrinkage can be watched as
schools shrink), and the comparison fitted to the selection. Its figure is in
:mod:`hlmlab.analyses.nels88_two_schools_figures`.

The page's two slider panels (:class:`hlmlab.panels.Panel`) are declared here too:

- :data:`NUMBERS` (the "Students per school" slider): :class:`Selection` ->
  :class:`SelectionNumbers`, everything beside and below the chart in final form (notes,
  equation, variance components, the school-by-school table with every school's shrinkage
  formula and weight matrix, the fixed-effects table, the within/between slope table, the
  code);
- :data:`CHART` (that slider and "Jitter"): :class:`ChartSettings` -> the chart as a
  :class:`hlmlab.style.BrowserFigure`.

Both reach the same fits through :func:`fitted_selection`, kept per process, so a press
that computes both fits once.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Sequence

import pandas as pd

from hlmlab import report
from hlmlab.datasets import load_nels88, subsample_groups
from hlmlab.diagnostics import Diagnostic
from hlmlab.panels import Panel, SliderRange
from hlmlab.errors import ModelDataError
from hlmlab.pooling import PoolingComparison, compare_pooling, fitted_lines
from hlmlab.style import BrowserFigure, browser_figure
from hlmlab.tables import DisplayTable, display_table
from hlmlab.within_between import SlopeDecomposition, decompose_slope

__all__ = [
    "CHART",
    "DECK_SCHOOLS",
    "GROUP",
    "JITTER_RANGE",
    "LINES_STEP",
    "NUMBERS",
    "OUTCOME",
    "PER_SCHOOL_RANGE",
    "PREDICTOR",
    "SCHOOL_TABLE_SECTIONS",
    "SUBSAMPLE_SEED",
    "ChartSettings",
    "DataSource",
    "Selection",
    "SelectionNumbers",
    "chart",
    "compare_selection",
    "deck_schools_first",
    "default_school",
    "fitted_selection",
    "load_source",
    "numbers",
    "per_school_cap",
    "school_sizes",
    "select_rows",
    "slope_decomposition",
    "source_school_sizes",
]

OUTCOME, PREDICTOR, GROUP = "math", "homework", "schid"
#: The two schools of the course deck's slides.
DECK_SCHOOLS = (24725, 62821)
SUBSAMPLE_SEED = 88


def select_rows(data: pd.DataFrame, schools: Sequence, per_school: int) -> pd.DataFrame:
    """The chosen schools, each cut to at most ``per_school`` students (a seeded subsample,
    nested: the students kept at k are among those kept at k + 1)."""
    chosen = data[data[GROUP].isin(schools)]
    return subsample_groups(chosen, GROUP, per_school, seed=SUBSAMPLE_SEED)


def school_sizes(data: pd.DataFrame) -> dict:
    """Students per school: ``{school id: count}``."""
    return {school: int(count) for school, count in data.groupby(GROUP).size().items()}


def per_school_cap(data: pd.DataFrame | dict, schools: Sequence, per_school: int) -> int:
    """``per_school``, but no more than the largest chosen school has: past that size the
    rows, and so the fits, are the same (one cache entry, not many).

    Parameters
    ----------
    data : the rows, or their :func:`school_sizes`.
    schools : the chosen schools.
    per_school : the slider's value.
    """
    sizes = school_sizes(data) if isinstance(data, pd.DataFrame) else data
    largest = max((sizes.get(school, 0) for school in schools), default=0)
    return min(int(per_school), largest) if largest else int(per_school)


def compare_selection(data: pd.DataFrame, schools: Sequence, per_school: int,
                      random_slope: bool, reml: bool) -> PoolingComparison:
    """Pooled, per-school and multilevel fits of math on homework in the selection.

    Raises
    ------
    ModelDataError
        When not even the pooled line can be fitted (e.g. every chosen student reports the
        same homework).
    """
    return compare_pooling(select_rows(data, schools, per_school), OUTCOME, PREDICTOR, GROUP,
                           random_slope, reml)


def default_school(school_ids: Sequence):
    """The school "Take one school apart" opens on: the deck's first (24725) when it is
    among ``school_ids``, else the first of them (None when there are none)."""
    return next((s for s in DECK_SCHOOLS[:1] if s in school_ids),
                school_ids[0] if len(school_ids) else None)


def deck_schools_first(school_ids: Sequence) -> list:
    """Every school, the deck's two first, so they get the two most distinct colours."""
    return ([s for s in DECK_SCHOOLS if s in school_ids]
            + [s for s in school_ids if s not in DECK_SCHOOLS])


# ---------------------------------------------------------------------------------------------
# The page's panels

#: The "Students per school" slider (at most this many a school; a seeded subsample).
PER_SCHOOL_RANGE = SliderRange(2, 70, 1)
#: The "Jitter" slider (display only, in hours).
JITTER_RANGE = SliderRange(0.0, 0.45, 0.05)
#: The lesson step from which the lines, fits and tables are shown.
LINES_STEP = 4
# Lesson steps 1 and 2 draw grey points; step 3 colours them by school.
_COLOUR_STEP = 3


@dataclass(frozen=True)
class DataSource:
    """A NELS88 source (:func:`hlmlab.datasets.nels88_sources`) and its file's modification
    time, so an edited file makes new results."""

    label: str
    path: str
    stamp: float


@functools.lru_cache(maxsize=8)
def load_source(source: DataSource) -> pd.DataFrame:
    """The source's rows, read once per process (shared: never change them).

    Raises
    ------
    ValueError, OSError
        The file cannot be used (:func:`hlmlab.datasets.load_nels88`).
    """
    return load_nels88(source.label, Path(source.path).parent)


@functools.lru_cache(maxsize=8)
def source_school_sizes(source: DataSource) -> dict:
    """:func:`school_sizes` of a source, counted once per process."""
    return school_sizes(load_source(source))


@dataclass(frozen=True)
class Selection:
    """What the fits depend on: the :data:`NUMBERS` panel's settings.

    Attributes
    ----------
    source : the data.
    schools : the chosen school ids, sorted.
    per_school : at most this many students a school (:func:`select_rows`).
    random_slope, reml : the multilevel model.
    """

    source: DataSource
    schools: tuple
    per_school: int
    random_slope: bool
    reml: bool

    def selection(self) -> "Selection":
        """Just the fields of a :class:`Selection` (of a :class:`ChartSettings`, say)."""
        return Selection(*(getattr(self, field.name) for field in fields(Selection)))

    def drawn_as(self, families: tuple, jitter: float, step: int) -> "ChartSettings":
        """The :class:`ChartSettings` that draw this selection so."""
        return ChartSettings(*(getattr(self, field.name) for field in fields(Selection)),
                             families=families, jitter=jitter, step=step)


@dataclass(frozen=True)
class ChartSettings(Selection):
    """The :data:`CHART` panel's settings: the selection, and how it is drawn.

    Attributes
    ----------
    families : the line families drawn (``"pooled"``, ``"per_group"``, ``"multilevel"``).
    jitter : horizontal jitter in hours (display only).
    step : the lesson step (1-4): grey points, jittered, coloured by school, with lines.
    """

    families: tuple
    jitter: float
    step: int


def _canonical_selection(settings: Selection) -> Selection:
    """Students per school capped at the largest chosen school (same rows past it)."""
    capped = per_school_cap(source_school_sizes(settings.source), settings.schools,
                            settings.per_school)
    return settings if capped == settings.per_school else replace(settings, per_school=capped)


def _canonical_chart(settings: ChartSettings) -> ChartSettings:
    """Also: what a step does not draw does not change its chart (no lines before the
    lines step, so neither their families nor the model; no jitter on the first step)."""
    settings = _canonical_selection(settings)
    if settings.step < LINES_STEP:
        settings = replace(settings, families=(), random_slope=True, reml=True)
    if settings.step < 2 and settings.jitter:
        settings = replace(settings, jitter=0.0)
    return settings


@functools.lru_cache(maxsize=64)
def fitted_selection(selection: Selection) -> PoolingComparison:
    """:func:`compare_selection` of a :class:`Selection`, kept per process: both panels of a
    press use the same fits (shared: never change them).

    Raises
    ------
    ModelDataError
        When not even the pooled line can be fitted.
    """
    return compare_selection(load_source(selection.source), selection.schools,
                             selection.per_school, selection.random_slope, selection.reml)


#: The lesson section that captions the school table, by model (random slope or not): it
#: says what the table's columns are and which formula they satisfy.
SCHOOL_TABLE_SECTIONS = {False: "school-table-intercept", True: "school-table-slope"}
# Weights and reliabilities to three decimals: a student multiplies them out by hand.
_WEIGHT_FORMAT = "{:.3f}"


@functools.lru_cache(maxsize=64)
def slope_decomposition(source: DataSource, schools: tuple, per_school: int,
                        reml: bool) -> SlopeDecomposition:
    """The homework slope of the selection's rows split into its within- and between-school
    parts (:func:`hlmlab.within_between.decompose_slope`), kept per process: it does not
    depend on the model chosen, so switching models reuses it (shared: never change it).

    Raises
    ------
    ModelDataError
        When a model cannot be fitted, or homework does not vary both within schools and
        between school means.
    """
    rows = select_rows(load_source(source), schools, per_school)
    return decompose_slope(rows, OUTCOME, PREDICTOR, GROUP, reml)


@dataclass(frozen=True)
class SelectionNumbers:
    """Everything the page shows about a selection's fits, in final form.

    Attributes
    ----------
    summary : notes, equation and variance components (:class:`hlmlab.report.FitSummary`).
    schools : per school: n, its own OLS line, what its multilevel line is made of (random
        intercept: means, common-slope intercept, lambda; random slope: reliabilities), its
        multilevel line (:func:`hlmlab.report.group_table`).
    school_notes : why a school has no line of its own (plain words).
    fixed : the fixed effects beside the pooled line's, or None without a usable fit.
    code : the statsmodels and lme4 code of the fit, or None without a usable fit.
    schools_section : the lesson section captioning ``schools``
        (:data:`SCHOOL_TABLE_SECTIONS`), or None without a usable fit (no weights to explain).
    formulas : ``(school, LaTeX)`` for every school: how its multilevel line is made, with
        its numbers (:func:`hlmlab.report.shrinkage_latex`); empty without a usable fit.
    weight_matrices : every school's Lambda_j beside its reliabilities
        (:func:`hlmlab.report.weight_matrix_table`), or None unless the model has a random
        slope.
    slopes : the within and between homework slopes and the blends the pooled and
        random-intercept slopes are (:func:`hlmlab.report.slope_decomposition_table`), or None
        when they cannot be computed (``slopes_problem`` says why).
    slopes_problem : a student's words for why ``slopes`` is None; "" otherwise.
    """

    summary: report.FitSummary
    schools: DisplayTable
    school_notes: tuple[Diagnostic, ...]
    fixed: DisplayTable | None
    code: report.FitCode | None
    schools_section: str | None = None
    formulas: tuple[tuple[object, str], ...] = ()
    weight_matrices: DisplayTable | None = None
    slopes: DisplayTable | None = None
    slopes_problem: str = ""

    @property
    def formula_schools(self) -> tuple:
        """The schools that :attr:`formulas` covers, in table order."""
        return tuple(school for school, _ in self.formulas)

    def formula(self, school) -> str:
        """The LaTeX of ``school``'s multilevel line (KeyError when it has none)."""
        return dict(self.formulas)[school]


def _slope_parts(selection: Selection) -> tuple[DisplayTable | None, str]:
    """The slope table in final form, or None and the reason in words."""
    try:
        split = slope_decomposition(selection.source, selection.schools, selection.per_school,
                                    selection.reml)
    except ModelDataError as exc:
        return None, str(exc)
    return display_table(report.slope_decomposition_table(split, "school"),
                         label="The homework slope, within and between"), ""


def numbers(selection: Selection) -> SelectionNumbers:
    """The :data:`NUMBERS` panel's compute.

    Raises
    ------
    ModelDataError
        When not even the pooled line can be fitted.
    """
    comparison = fitted_selection(selection)
    fit = comparison.multilevel
    usable = fit is not None and fit.usable and comparison.shrinkage is not None
    weight_formats = {name: _WEIGHT_FORMAT for name in
                      ("λ", "reliability (intercept)", "reliability (slope)")}
    schools = display_table(
        report.group_table(comparison.per_group, fit if usable else None,
                           comparison.shrinkage if usable else None),
        formats={"n": "{:,d}", **weight_formats}, label="School by school")
    slopes, slopes_problem = _slope_parts(selection)
    if not usable:
        return SelectionNumbers(report.fit_summary(comparison), schools,
                                tuple(comparison.per_group.messages), None, None,
                                slopes=slopes, slopes_problem=slopes_problem)
    shrinkage = comparison.shrinkage
    weight_matrices = None
    if fit.random_slope:
        matrices = report.weight_matrix_table(shrinkage)
        weight_matrices = display_table(
            matrices, formats={"n": "{:,d}", **{name: _WEIGHT_FORMAT for name in
                                               matrices.columns if name != "n"}},
            label="Every school's weight matrix")
    return SelectionNumbers(
        report.fit_summary(comparison), schools, tuple(comparison.per_group.messages),
        display_table(report.fixed_effects_table(fit, comparison.pooled), label="Fixed effects"),
        report.fit_code(fit, comparison.pooled),
        schools_section=SCHOOL_TABLE_SECTIONS[fit.random_slope],
        formulas=tuple((school, report.shrinkage_latex(fit, shrinkage, school))
                       for school in shrinkage.index.tolist()),
        weight_matrices=weight_matrices, slopes=slopes, slopes_problem=slopes_problem)


def chart(settings: ChartSettings) -> BrowserFigure:
    """The :data:`CHART` panel's compute: the chosen students, and from the lines step on,
    the line families asked for (none when the selection cannot be fitted: the numbers
    panel says why)."""
    # The figures module reads this module's column names: imported here, not at the top.
    from hlmlab.analyses.nels88_two_schools_figures import selection_figure

    data = load_source(settings.source)
    chosen = select_rows(data, settings.schools, settings.per_school)
    lines = fitted_lines({}, {"all": (0.0, 1.0)})  # no lines: an empty frame of lines
    if settings.step >= LINES_STEP and settings.families:
        try:
            comparison = fitted_selection(settings.selection())
            lines = comparison.lines[comparison.lines["family"].isin(settings.families)]
        except ModelDataError:
            pass
    figure = selection_figure(data, chosen, lines, settings.jitter,
                              settings.step >= _COLOUR_STEP,
                              data.attrs.get("label", settings.source.label))
    return browser_figure(figure)


NUMBERS = Panel("nels88_two_schools.numbers", numbers, Selection,
                sliders={"per_school": PER_SCHOOL_RANGE}, canonical=_canonical_selection)
CHART = Panel("nels88_two_schools.chart", chart, ChartSettings,
              sliders={"per_school": PER_SCHOOL_RANGE, "jitter": JITTER_RANGE},
              canonical=_canonical_chart)
