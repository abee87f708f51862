"""The "Your data" page (pages/your_data.py): a user's own file, or a sample data set, given
the lessons' views.

What is specific to this page lives here: a file read into a :class:`SessionTable` (the
user's table, which stays in its session), the sample data sets offered to students without
a file, and the page's two panels (:class:`hlmlab.panels.Panel`), run by
``ui.panels.run_in_session`` (never by the machine-wide ``ui.panels.run``: their settings
carry the user's rows):

- :data:`ANALYSIS` (the "groups" and "rows per group" sliders): :class:`Model` ->
  :class:`Analysis`, the pooled / per-group / multilevel lines, the shrinkage table, the
  caterpillar ranking, the variance components and ICC, the code, the results CSV and the
  Python and R scripts, all in final form;
- :data:`THREE_LEVELS` (the same sliders, with a third-level group chosen): :class:`Model` ->
  :class:`ThreeLevels`, the variance split over three levels.

Privacy: nothing here keeps a user's rows beyond the call (no ``functools`` cache of them);
a :class:`SessionTable` refuses to be pickled, so no disk cache can ever store one. Text from
the file reaches Markdown only through :func:`inert` and a chart only through
:func:`figure_text`.
"""

from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass, field, replace

import pandas as pd

from hlmlab import report
from hlmlab.datasets import REFERENCE_DATASETS, load_reference
from hlmlab.diagnostics import Diagnostic
from hlmlab.errors import ModelDataError
from hlmlab.figures import caterpillar_figure, lines_figure, variance_partition_figure
from hlmlab.panels import Panel
from hlmlab.pooling import PoolingComparison, compare_pooling
from hlmlab.ranking import rank_groups, ranking_summary
from hlmlab.style import BrowserFigure, browser_figure, group_styles
from hlmlab.tables import DisplayTable, display_table
from hlmlab.threelevel import fit_three_level, variance_partition
from hlmlab.userdata import (
    ColumnProfile,
    ColumnRoles,
    UserDataError,
    UserTable,
    check_roles,
    model_data,
    profile_columns,
    propose_roles,
    read_user_file,
    subsample,
    subsample_bounds,
)
from hlmlab.userdata.scripts import python_script, r_script, results_csv

__all__ = [
    "ANALYSIS",
    "SAMPLES",
    "THREE_LEVELS",
    "Analysis",
    "Model",
    "Sample",
    "SampleData",
    "SessionTable",
    "ThreeLevels",
    "analyse",
    "column_kinds",
    "column_table",
    "figure_text",
    "inert",
    "model_rows",
    "sample_file",
    "sample_table",
    "session_table",
    "slider_bounds",
    "starting_roles",
    "three_levels",
]

#: The seed of the "groups" and "rows per group" subsample (nested, as in the lessons).
SUBSAMPLE_SEED = 0


@dataclass(frozen=True)
class Sample:
    """A real data set offered to students without a file of their own.

    Attributes
    ----------
    key : :data:`hlmlab.datasets.REFERENCE_DATASETS` key.
    filename : the CSV's name (the generated scripts read a file of this name).
    roles : the roles the page starts with (the lessons' model of these data).
    """

    key: str
    filename: str
    roles: ColumnRoles

    @property
    def label(self) -> str:
        """Its name, as the page lists it."""
        return REFERENCE_DATASETS[self.key][2]


#: Sample data sets by the page's short name for them.
SAMPLES = {
    "exam": Sample("exam", "exam.csv", ColumnRoles("normexam", "standLRT", "school")),
    "sleepstudy": Sample("sleepstudy", "sleepstudy.csv",
                         ColumnRoles("Reaction", "Days", "Subject")),
}


@dataclass(frozen=True)
class SessionTable:
    """A user's table as panel settings carry it: compared by its content's digest, never
    pickled (so never written to a cache on disk), never shown in a cache key's text.

    Attributes
    ----------
    digest : SHA-256 of the file's name and bytes.
    table : the table read.
    sample : the data are one of :data:`SAMPLES` (public), not a user's file.
    profiles : each column's guessed type (:func:`hlmlab.userdata.profile_columns`).
    """

    digest: str
    table: UserTable = field(compare=False, repr=False)
    sample: bool = False
    profiles: tuple[ColumnProfile, ...] = field(default=(), compare=False, repr=False)

    def __reduce__(self):
        raise TypeError("A user's table stays in its session: it is never pickled.")


def session_table(data: bytes, filename: str, sample: bool = False,
                  sheet: str | None = None) -> SessionTable:
    """Read an uploaded file (:func:`hlmlab.userdata.read_user_file`); of a workbook, the
    worksheet ``sheet`` (the first when None).

    Raises
    ------
    UserDataError
        The file cannot be read; the message is plain and inert.
    """
    # The sheet is part of the data's identity: two sheets of one file are two tables.
    name = filename if sheet is None else f"{filename}\0{sheet}"
    digest = hashlib.sha256(name.encode("utf-8", "surrogatepass") + b"\0" + data).hexdigest()
    table = read_user_file(data, filename, sheet)
    return SessionTable(digest, table, sample, tuple(profile_columns(table)))


@functools.lru_cache(maxsize=None)
def sample_file(name: str) -> bytes:
    """A sample data set written as CSV (public data: kept per process)."""
    return load_reference(SAMPLES[name].key).to_csv(index=False).encode("utf-8")


@functools.lru_cache(maxsize=None)
def sample_table(name: str) -> SessionTable:
    """A sample data set read by the same reader as any upload (public data: kept per
    process)."""
    return session_table(sample_file(name), SAMPLES[name].filename, sample=True)


@dataclass(frozen=True)
class SampleData:
    """A sample data set as panel settings carry it: by its name. Public data, so its
    results may be shared between sessions (``ui.panels.run``); a user's file never is.

    Attributes
    ----------
    name : a key of :data:`SAMPLES`.
    """

    name: str

    @property
    def table(self) -> UserTable:
        """The sample read (:func:`sample_table`, kept per process)."""
        return sample_table(self.name).table

    @property
    def profiles(self) -> tuple[ColumnProfile, ...]:
        return sample_table(self.name).profiles

    @property
    def digest(self) -> str:
        return sample_table(self.name).digest


def starting_roles(data: SessionTable, sample: str | None = None) -> ColumnRoles:
    """The roles the page proposes: a sample's own, else :func:`propose_roles` without
    the level-2 predictor (the lessons' model first; the student adds one)."""
    if sample is not None:
        return SAMPLES[sample].roles
    return replace(propose_roles(data.table, list(data.profiles)), level2_predictor=None)


def column_table(data: SessionTable) -> DisplayTable:
    """Each column with its guessed type, missing cells and distinct values."""
    profiles = data.profiles
    frame = pd.DataFrame({
        "column": [p.name for p in profiles],
        "guessed type": [p.describe() for p in profiles],
        "distinct values": [p.distinct for p in profiles],
    }).set_index("column")
    return display_table(frame, label="Columns of the file", formats={"distinct values": "{:,d}"})


def column_kinds(data: SessionTable) -> dict[str, str]:
    """Column -> its guessed type in a few words (the role menus show it)."""
    return {p.name: p.describe() for p in data.profiles}


# --------------------------------------------------------------------------- text from a file

_MARKDOWN_ACTIVE = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>$~:=])")


def inert(text: str) -> str:
    """Text that may hold a file's names or labels, made inert as Streamlit Markdown: every
    character Markdown could act on is escaped (links, images, emphasis, maths, HTML)."""
    return _MARKDOWN_ACTIVE.sub(r"\\\1", str(text)).replace("\n", " ")


def _inert_diagnostic(message: Diagnostic) -> Diagnostic:
    return replace(message, headline=inert(message.headline), detail=inert(message.detail))


def figure_text(text: object, limit: int = 40) -> str:
    """A file's name or label as a chart shows it: cut to ``limit`` characters, with no
    tag plotly would render (``<a href>``, ``<b>``) and no hover-template field."""
    raw = str(text)
    cut = raw[:limit] + ("…" if len(raw) > limit else "")
    return cut.replace("<", "‹").replace(">", "›").replace("%{", "% {").replace("\n", " ")


# --------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class Model:
    """The settings of both panels.

    Attributes
    ----------
    data : a user's table (runs only through ``ui.panels.run_in_session``) or a sample
        (public: may run through ``ui.panels.run``).
    roles : the chosen columns.
    groups : groups kept (a seeded random choice; all when it is the number of groups).
    per_group : at most this many rows a group (a seeded random subsample).
    random_slope, reml : the multilevel model.
    """

    data: SessionTable | SampleData
    roles: ColumnRoles
    groups: int
    per_group: int
    random_slope: bool
    reml: bool


def _checked_rows(data: SessionTable, roles: ColumnRoles) -> pd.DataFrame:
    try:
        return model_data(data.table, roles)
    except UserDataError as error:
        raise ModelDataError(str(error)) from None


def slider_bounds(data: SessionTable, roles: ColumnRoles) -> dict[str, tuple[int, int]]:
    """The "groups" and "rows per group" sliders' ranges for these roles
    (:func:`hlmlab.userdata.subsample_bounds`).

    Raises
    ------
    ModelDataError
        The roles cannot be fitted (the role check's first error).
    """
    rows = _checked_rows(data, roles)
    return subsample_bounds(rows, roles.group)


def model_rows(model: Model) -> pd.DataFrame:
    """The rows a fit uses: complete rows of the chosen columns, then the subsample. The
    index is the row's number in the file (from 0).

    Raises
    ------
    ModelDataError
        The roles cannot be fitted, in the role check's words.
    """
    rows = _checked_rows(model.data, model.roles)
    return subsample(rows, model.roles.group, model.groups, model.per_group, seed=SUBSAMPLE_SEED)


# --------------------------------------------------------------------------- the analysis


@dataclass(frozen=True)
class Analysis:
    """Everything the page shows about a two-level fit, in final form.

    Attributes
    ----------
    notes : the role check's notes and what the subsample keeps (inert Markdown: file text
        only through :func:`hlmlab.userdata.shown`).
    summary : diagnostics, equation and variance components (:class:`report.FitSummary`).
    chart : the data with the pooled, per-group and multilevel lines.
    fixed : the fixed effects beside the pooled line's, or None without a usable fit.
    groups : per group: n, its own OLS line, its weight λ (or reliabilities), its
        multilevel line.
    group_notes : why a group has no line of its own.
    ranking_chart, ranking : the caterpillar plot and its table, or None without a usable fit.
    ranking_note : what the ranking shows, in words.
    partition : the variance split between and within groups, or None.
    icc : the ICC, or None.
    code : the statsmodels and lme4 calls, or None.
    results_csv, python_script, r_script : the downloads (None without a usable fit).
    """

    notes: tuple[str, ...]
    summary: report.FitSummary
    chart: BrowserFigure
    fixed: DisplayTable | None
    groups: DisplayTable
    group_notes: tuple[Diagnostic, ...]
    ranking_chart: BrowserFigure | None
    ranking: DisplayTable | None
    ranking_note: str
    partition: BrowserFigure | None
    icc: float | None
    code: report.FitCode | None
    results_csv: str | None
    python_script: str | None
    r_script: str | None


def _notes(model: Model, everything: pd.DataFrame, rows: pd.DataFrame) -> tuple[str, ...]:
    check = check_roles(model.data.table, model.roles)
    notes = list(check.notes)  # the file's text in them is already inert (userdata.shown)
    group = model.roles.group
    kept_groups, all_groups = rows[group].nunique(), everything[group].nunique()
    if len(rows) < len(everything):
        notes.append(f"Fitted on a seeded random subsample: {kept_groups:,} of {all_groups:,} "
                     f"groups, at most {model.per_group:,} rows each ({len(rows):,} of "
                     f"{len(everything):,} rows).")
    return tuple(notes)


def _display_copy(rows: pd.DataFrame, roles: ColumnRoles, lines: pd.DataFrame):
    """The rows and lines with chart-safe column names and group labels."""
    columns = [roles.outcome, roles.predictor, roles.group]
    names = [figure_text(c) for c in columns]
    if len(set(names)) < len(names):  # two names alike once cut: say what they are instead
        names = ["outcome", "predictor", "group"]
    shown = rows[columns].set_axis(names, axis=1)
    shown[names[2]] = shown[names[2]].map(figure_text)
    lines = lines.assign(group=lines["group"].map(
        lambda label: label if label == "all" else figure_text(label)))
    return shown, lines, names


def _lines_chart(model: Model, rows: pd.DataFrame, comparison: PoolingComparison) -> BrowserFigure:
    shown, lines, (outcome, predictor, group) = _display_copy(rows, model.roles, comparison.lines)
    labels = sorted(shown[group].unique().tolist())
    figure = lines_figure(
        shown, outcome, predictor, group, lines, group_styles(labels),
        title=f"{outcome} against {predictor} · {figure_text(model.data.table.filename)}",
        x_title=predictor, y_title=outcome, group_legend=len(labels) <= 12)
    return browser_figure(figure)


def _ranking(model: Model, rows: pd.DataFrame, fit) -> tuple:
    raw = rows.groupby(model.roles.group)[model.roles.outcome].mean()
    ranking = rank_groups(fit, raw)
    summary = ranking_summary(ranking)
    shown = ranking.set_axis([figure_text(label) for label in ranking.index], axis=0)
    where = (f"at {model.roles.predictor} = 0, " if fit.random_slope else "")
    chart = caterpillar_figure(
        shown, f"Group effects with 95% intervals · {figure_text(model.data.table.filename)}",
        f"Effect u0 on {figure_text(model.roles.outcome)} ({figure_text(where)}"
        "0 = the average group)", unit="group")
    note = (f"{summary['groups']:,} groups: {summary['above']:,} above the average, "
            f"{summary['below']:,} below it, and {summary['overlap_average']:,} whose "
            "intervals hold the average (0). A group's rank could plausibly move by "
            f"{summary['max_rank_span']:,} places at most (the widest range of its rank "
            "over draws of every group's effect).")
    table = display_table(report.ranking_table(ranking), label="Ranking of the groups",
                          formats={"n": "{:,d}"})
    return browser_figure(chart), table, note


def _partition(fit, filename: str) -> BrowserFigure:
    between = "between groups (tau00)"
    within = "within groups (sigma2)"
    partition = variance_partition("two levels", {between: fit.variance["tau00"],
                                                  within: fit.variance["sigma2"]})
    title = (f"Share of the variance {'left by the predictors ' if fit.fixed.size > 1 else ''}"
             f"· {figure_text(filename)}")
    return browser_figure(variance_partition_figure(partition, title))


def _script_roles(roles: ColumnRoles) -> ColumnRoles:
    """The scripts reproduce the two-level fit (the third level has its own code)."""
    return replace(roles, level3_group=None)


def analyse(model: Model) -> Analysis:
    """The :data:`ANALYSIS` panel's compute: pooled, per-group and multilevel fits of the
    chosen columns on the subsample, and everything shown about them.

    Raises
    ------
    ModelDataError
        The roles cannot be fitted, or not even the pooled line can (plain words).
    """
    roles = model.roles
    everything = _checked_rows(model.data, roles)
    rows = model_rows(model)
    covariates = (roles.level2_predictor,) if roles.level2_predictor else ()
    comparison = compare_pooling(rows, roles.outcome, roles.predictor, roles.group,
                                 model.random_slope, model.reml, covariates=covariates)
    fit = comparison.multilevel
    usable = fit is not None and fit.usable
    summary = report.fit_summary(comparison)
    summary = replace(summary, messages=tuple(_inert_diagnostic(m) for m in summary.messages))
    groups = display_table(report.group_table(comparison.per_group, fit if usable else None,
                                              comparison.shrinkage),
                           formats={"n": "{:,d}"}, label="Group by group")
    group_notes = tuple(_inert_diagnostic(m) for m in comparison.per_group.messages)
    chart = _lines_chart(model, rows, comparison)
    notes = _notes(model, everything, rows)
    if not usable:
        return Analysis(notes, summary, chart, None, groups, group_notes, None, None, "", None,
                        None, None, None, None, None)
    ranking_chart, ranking, ranking_note = _ranking(model, rows, fit)
    kept = None if len(rows) == len(everything) else rows.index.tolist()
    script_roles = _script_roles(roles)
    return Analysis(
        notes, summary, chart,
        display_table(report.fixed_effects_table(fit, comparison.pooled), label="Fixed effects"),
        groups, group_notes, ranking_chart, ranking, ranking_note,
        _partition(fit, model.data.table.filename), float(fit.icc),
        report.fit_code(fit, comparison.pooled), results_csv(fit),
        python_script(model.data.table, script_roles, random_slope=model.random_slope,
                      reml=model.reml, rows=kept, start=fit),
        r_script(model.data.table, script_roles, random_slope=model.random_slope,
                 reml=model.reml, rows=kept))


# --------------------------------------------------------------------------- three levels


@dataclass(frozen=True)
class ThreeLevels:
    """The three-level partition, in final form.

    Attributes
    ----------
    messages : the fits' diagnostics (inert Markdown).
    chart : the variance split over the three levels, without and with the predictor.
    table : each model's variance components and log-likelihood.
    latex : the model with the predictor, as LaTeX.
    code : its statsmodels and lme4 calls.
    """

    messages: tuple[Diagnostic, ...]
    chart: BrowserFigure
    table: DisplayTable
    latex: str
    code: report.FitCode


def three_levels(model: Model) -> ThreeLevels:
    """The :data:`THREE_LEVELS` panel's compute: ``outcome ~ 1`` and ``outcome ~ predictor``
    (plus the level-2 predictor, if chosen), each with random intercepts for the third-level
    units and for the groups within them.

    Raises
    ------
    ModelDataError
        No third level is chosen, or the models cannot be fitted.
    """
    roles = model.roles
    if not roles.level3_group:
        raise ModelDataError("Choose a third-level group to split the variance over three levels.")
    rows = model_rows(model)
    covariates = tuple(c for c in (roles.predictor, roles.level2_predictor) if c)
    top, middle = roles.level3_group, roles.group
    names = {top: figure_text(top), middle: figure_text(middle), "residual": "residual"}
    fits = {"empty model": fit_three_level(rows, roles.outcome, top, middle, reml=model.reml),
            "with the predictors": fit_three_level(rows, roles.outcome, top, middle,
                                                   covariates=covariates, reml=model.reml)}
    partition = pd.concat([fit.partition(label, names) for label, fit in fits.items()],
                          ignore_index=True)
    chart = variance_partition_figure(
        partition, f"Variance over three levels · {figure_text(model.data.table.filename)}")
    # One row per model, one column per quantity: each column gets its own decimals.
    table = pd.DataFrame.from_dict({
        label: {f"{names[top]} variance": fit.variance[top],
                f"{names[middle]} variance": fit.variance[middle],
                "residual variance": fit.variance["residual"],
                f"share at {names[top]}": fit.shares[top],
                f"share at {names[middle]}": fit.shares[middle],
                ("REML " if model.reml else "") + "log-likelihood": fit.loglik}
        for label, fit in fits.items()}, orient="index")
    table.index.name = "model"
    messages = tuple(_inert_diagnostic(m) for fit in fits.values() for m in fit.messages)
    full = fits["with the predictors"]
    return ThreeLevels(messages, browser_figure(chart),
                       display_table(table, label="Three-level variance components"),
                       report.three_level_latex(full), report.fit_code(full))


#: The panels: with a user's table run by ``ui.panels.run_in_session`` (never shared), with a
#: :class:`SampleData` by ``ui.panels.run``. The sliders' ranges depend on the file, so the
#: page puts values on their grids.
ANALYSIS = Panel("your_data.analysis", analyse, Model)
THREE_LEVELS = Panel("your_data.three_levels", three_levels, Model)

