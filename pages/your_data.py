"""Your data: upload a table file (or take a sample), choose its columns' parts, and see the
lessons' views of it. The file stays in this session (see hlmlab.analyses.your_data)."""

from __future__ import annotations

import re
from functools import partial

import streamlit as st

from hlmlab.analyses import your_data as yd
from hlmlab.errors import ModelDataError
from hlmlab.lesson_text import load_lesson
from hlmlab.panels import SliderRange
from hlmlab.userdata import (ColumnRoles, UserDataError, check_roles, limits_text, shown,
                            slider_problem, workbook_sheets)
from hlmlab.userdata.reading import SUPPORTED_EXTENSIONS
from ui import controls
from ui.chart import show_chart
from ui.navigation import ensure_app_frame
from ui.panels import run, run_in_session
from ui.script_runs import fragment
from ui.tables import show_table
from ui.views import View, show_views
from ui.widgets import (
    show_code_tabs,
    show_diagnostics,
    show_fit_summary,
    show_lesson_section,
)

ensure_app_frame(__file__)
LESSON = load_lesson("your_data")
SOURCES = ("Sample: Exam (London schools)", "Sample: sleepstudy (reaction times)", "Your file")
SOURCE_SAMPLES = ("exam", "sleepstudy", None)
SOURCE_SHORT = ("exam", "sleepstudy", "file")
MODELS = ("Random intercept", "Random intercept and slope")
# The parts a column can play: (role field, label, optional).
ROLE_CONTROLS = (("outcome", "Outcome", False), ("predictor", "Level-1 predictor", False),
                 ("group", "Group", False), ("level2_predictor", "Level-2 predictor", True),
                 ("level3_group", "Third-level group", True))
# Session-state keys: the table read from the upload, each panel's results (this session's
# own: ui.panels.run_in_session), and the role menus (not in the URL: they hold the file's
# column names, and a link never carries the file).
TABLE_KEY = "yd_table"
# A workbook's sheets (read once per file) and the sheet menu; neither is in the URL either.
SHEETS_KEY = "yd_sheets"
SHEET_KEY = "yd_sheet"
ROLE_KEYS = {field: f"yd_role_{field}" for field, _, _ in ROLE_CONTROLS}
# Controls whose settings a shared link carries (ui.controls keys).
LINK_KEYS = ("yd_slope", "yd_method", "yd_groups", "yd_per_group", "yd_view")

st.title("Your data: the lessons' views of your own file")
show_lesson_section(LESSON["intro"])
with st.expander("Your file stays yours · files and limits", icon=":material/lock:"):
    st.markdown(LESSON["privacy"].body)
    st.markdown("\n".join(f"- {line}" for line in limits_text()))


def chosen_sheet(upload) -> str | None:
    """Of a workbook with several sheets, the sheet to read: a menu of them, the first to
    start with. None for any other file (and a workbook of one sheet)."""
    kept = st.session_state.get(SHEETS_KEY)
    if kept is None or kept[0] != upload.file_id:
        kept = (upload.file_id, workbook_sheets(upload.getvalue(), upload.name))
        st.session_state[SHEETS_KEY] = kept
        st.session_state.pop(SHEET_KEY, None)  # a new file starts on its own first sheet
    sheets = kept[1]
    if len(sheets) < 2:
        return None
    return st.selectbox("Sheet", sheets, key=SHEET_KEY,
                        help="The workbook's sheets: the table is read from the one chosen.")


def uploaded_table(upload, sheet: str | None) -> yd.SessionTable | None:
    """The upload (of a workbook, its sheet ``sheet``) read once per file, sheet and session
    (kept in this session's state only); its message shown when it cannot be read."""
    kept = st.session_state.get(TABLE_KEY)
    if kept is None or kept[0] != (upload.file_id, sheet):
        try:
            kept = ((upload.file_id, sheet),
                    yd.session_table(upload.getvalue(), upload.name, sheet=sheet))
        except UserDataError as error:
            message = str(error)
            if sheet is not None:  # the menu above offers the workbook's other sheets
                message += f" This is the sheet {shown(sheet)}: the menu above reads another."
            kept = ((upload.file_id, sheet), message)
        st.session_state[TABLE_KEY] = kept
        for key in ROLE_KEYS.values():  # a new table: its own columns, its own proposal
            st.session_state.pop(key, None)
    if isinstance(kept[1], str):
        st.error(kept[1], icon=":material/block:")
        return None
    return kept[1]


def chosen_data() -> tuple[yd.SessionTable | yd.SampleData | None, str | None]:
    """The data source chosen: a sample, or the user's upload (None until there is one)."""
    # sleepstudy first: small (18 subjects), so the page answers at once.
    source = controls.radio("Data", SOURCES, 1, key="yd_data", short=SOURCE_SHORT,
                            horizontal=True)
    sample = SOURCE_SAMPLES[SOURCES.index(source)]
    if sample is not None:
        data = yd.SampleData(sample)
        st.caption(f"**{yd.SAMPLES[sample].label}**: real data, bundled with the app. "
                   f"{data.table.summary()}")
        st.download_button("Download this sample as CSV", yd.sample_file(sample),
                           file_name=yd.SAMPLES[sample].filename, mime="text/csv",
                           on_click="ignore", icon=":material/download:")
        if st.session_state.get("yd_roles_for") != sample:
            for key in ROLE_KEYS.values():
                st.session_state.pop(key, None)
            st.session_state["yd_roles_for"] = sample
        return data, sample
    # Any extension is taken: the reader names the ones it reads (SUPPORTED_EXTENSIONS) and
    # says why it refuses the others (a macro workbook, a .json), where Streamlit's own type
    # filter would give a bare "invalid file extension".
    upload = st.file_uploader(
        "Your table file: " + ", ".join(SUPPORTED_EXTENSIONS), key="yd_file",
        help="Read in this session only; see the limits above.")
    st.caption(" ".join(limits_text()))
    if upload is None:
        if any(controls.in_url(key) for key in LINK_KEYS):
            st.info(LESSON["link-without-file"].body, icon=":material/link:")
        else:
            st.info("Upload a file to see its columns. Its first row must hold the column "
                    "names.", icon=":material/upload_file:")
        return None, None
    if st.session_state.get("yd_roles_for") is not None:
        for key in ROLE_KEYS.values():
            st.session_state.pop(key, None)
        st.session_state["yd_roles_for"] = None
    data = uploaded_table(upload, chosen_sheet(upload))
    if data is not None:
        st.caption(data.table.summary())
        for note in data.table.notes:
            st.info(note)
    return data, None


def chosen_roles(data: yd.SessionTable, sample: str | None) -> ColumnRoles:
    """The role menus, from the file's own columns, each with its guessed type."""
    st.subheader(LESSON["roles"].title)
    with st.expander("What the parts mean", icon=":material/help:"):
        st.markdown(LESSON["roles"].body)
    with st.expander("The file's columns and their guessed types", icon=":material/table:"):
        show_table(yd.column_table(data))
    kinds = yd.column_kinds(data)
    columns = list(data.table.frame.columns)
    start = yd.starting_roles(data, sample)

    def label(column) -> str:
        return "(none)" if column is None else f"{yd.figure_text(column)} · {kinds[column]}"

    chosen = {}
    for place, (field, title, optional) in zip(st.columns(len(ROLE_CONTROLS)), ROLE_CONTROLS):
        options = ([None] if optional else []) + columns
        default = getattr(start, field)
        with place:
            chosen[field] = st.selectbox(
                title, options, index=options.index(default) if default in options else 0,
                format_func=label, key=ROLE_KEYS[field])
    return ColumnRoles(**chosen)


st.subheader("Your data")
DATA, SAMPLE = chosen_data()


def subsample_grids(bounds: dict) -> dict[str, SliderRange | int]:
    """Each subsample slider's grid, or its one possible value (with a note why)."""
    grids = {}
    for name, what in (("groups", "groups kept"), ("per_group", "rows per group")):
        low, high = bounds[name]
        problem = slider_problem(low, high, what)
        grids[name] = SliderRange(low, high, 1) if not problem else max(high, 1)
        if problem:
            st.caption(problem)
    return grids


def model_settings(base: yd.Model, bounds: dict) -> yd.Model:
    """The subsample sliders (one pair for every view: a view's fragment draws them)."""
    grids = subsample_grids(bounds)
    left, right = st.columns(2)
    values = {}
    for name, label, place in (("groups", "Groups kept (a seeded random choice)", left),
                               ("per_group", "Rows per group, at most (a seeded subsample)",
                                right)):
        grid = grids[name]
        if isinstance(grid, SliderRange):
            kept = st.session_state.get(f"yd_{name}")
            if isinstance(kept, (int, float)) and not grid.low <= kept <= grid.high:
                st.session_state[f"yd_{name}"] = grid.high  # kept from other data: all
            values[name] = controls.slider(label, grid, grid.high, key=f"yd_{name}",
                                           where=place)
        else:
            values[name] = grid
    return yd.Model(base.data, base.roles, values["groups"], values["per_group"],
                    base.random_slope, base.reml)


def panel_result(panel, settings: yd.Model, state_key: str, spinner: str):
    """A panel's result; None (its reason shown) when there is none. A user's file: this
    session's own (run_in_session). A sample: public, shared by every session (run)."""
    try:
        if isinstance(settings.data, yd.SampleData):
            return run(panel, settings, spinner=spinner)
        return run_in_session(panel, settings, state_key, spinner=spinner)
    except ModelDataError as error:
        st.warning(yd.inert(str(error)))
        return None


@fragment
def lab_view(base: yd.Model, bounds: dict, section: str, draw) -> None:
    """One view: the subsample sliders, the fit (this session's own), its notes, the view's
    text, then ``draw(settings, result)``. A slider press reruns only this."""
    settings = model_settings(base, bounds)
    result = panel_result(yd.ANALYSIS, settings, "yd_analysis_results", "Fitting the models…")
    if result is None:
        return
    for note in result.notes:
        st.caption(note)
    show_lesson_section(LESSON[section])
    draw(settings, result)


def draw_lines(settings: yd.Model, result: yd.Analysis) -> None:
    chart_col, numbers_col = st.columns([3, 2])
    with chart_col:
        show_chart(result.chart, key="yd_lines_chart")
    with numbers_col:
        show_fit_summary(result.summary)
    if result.fixed is not None:
        st.subheader("Fixed effects")
        show_table(result.fixed)


def draw_shrinkage(settings: yd.Model, result: yd.Analysis) -> None:
    show_diagnostics(result.summary.messages)
    show_table(result.groups)
    show_diagnostics(result.group_notes)


def draw_ranking(settings: yd.Model, result: yd.Analysis) -> None:
    if result.ranking_chart is None:
        show_diagnostics(result.summary.messages)
        st.info("No ranking without a usable multilevel fit (see above).")
        return
    st.markdown(result.ranking_note)
    show_chart(result.ranking_chart, key="yd_ranking_chart")
    show_table(result.ranking)


def draw_variance(settings: yd.Model, result: yd.Analysis) -> None:
    if result.partition is None:
        show_diagnostics(result.summary.messages)
    else:
        chart_col, numbers_col = st.columns([3, 2])
        with chart_col:
            show_chart(result.partition, key="yd_partition_chart")
        with numbers_col:
            st.metric("Residual ICC (given the predictors)", f"{result.icc:.3f}",
                      help="τ₀₀ / (τ₀₀ + σ²) of this model: the share of the variance the "
                      "predictors leave that lies between groups (the conditional ICC).")
            show_fit_summary(result.summary)
    if settings.roles.level3_group:
        show_lesson_section(LESSON["three-levels"])
        three = panel_result(yd.THREE_LEVELS, settings, "yd_three_results",
                               "Fitting the three-level models…")
        if three is None:
            return
        show_diagnostics(three.messages)
        show_chart(three.chart, key="yd_three_chart")
        st.latex(three.latex)
        show_table(three.table)
        show_code_tabs(three.code, key="yd_three_level_code")


def file_stem(data: yd.SessionTable) -> str:
    """The file's name as a safe download name stem."""
    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", data.table.filename.rsplit(".", 1)[0]).strip("_")
    return stem[:40] or "data"


def draw_code(settings: yd.Model, result: yd.Analysis) -> None:
    if result.code is None:
        show_diagnostics(result.summary.messages)
        return
    show_code_tabs(result.code, key="yd_code")
    stem = file_stem(settings.data)
    columns = st.columns(3)
    columns[0].download_button("Results (CSV)", result.results_csv,
                               file_name=f"{stem}_results.csv", mime="text/csv",
                               on_click="ignore", icon=":material/download:")
    columns[1].download_button("Python script", result.python_script,
                               file_name=f"refit_{stem}.py", mime="text/x-python",
                               on_click="ignore", icon=":material/download:")
    columns[2].download_button("R script", result.r_script, file_name=f"refit_{stem}.R",
                               mime="text/plain", on_click="ignore",
                               icon=":material/download:")
    if settings.roles.level3_group:
        st.caption("The scripts refit the two-level model of the other views; the three-level "
                   "models' code is in the Variance view.")


def forget_subsample_of_other_data(data: yd.SessionTable, roles: ColumnRoles) -> None:
    """New data or roles start with every group and row (a subsample of other data means
    nothing here); a link's values apply to the first data they meet."""
    marker = (data.digest, roles)
    previous = st.session_state.get("yd_subsample_for")
    if previous is not None and previous != marker:
        for key in ("yd_groups", "yd_per_group"):
            st.session_state.pop(key, None)
            if key in st.query_params:
                del st.query_params[key]
    st.session_state["yd_subsample_for"] = marker


def show_lab(data: yd.SessionTable, sample: str | None) -> None:
    roles = chosen_roles(data, sample)
    check = check_roles(data.table, roles)
    if not check.ok:
        for error in check.errors:
            st.error(error, icon=":material/block:")
        return
    model_col, method_col = st.columns(2)
    with model_col:
        random_slope = controls.radio("Multilevel model", MODELS, 1, key="yd_slope",
                                      short=("0", "1"), horizontal=True) == MODELS[1]
    with method_col:
        reml = controls.radio("Estimation", ("REML", "ML"), 0, key="yd_method",
                              horizontal=True) == "REML"
    bounds = yd.slider_bounds(data, roles)
    forget_subsample_of_other_data(data, roles)
    base = yd.Model(data, roles, bounds["groups"][1], bounds["per_group"][1], random_slope, reml)
    show_views([
        View("1 · Lines", partial(lab_view, base, bounds, "lines", draw_lines)),
        View("2 · Shrinkage", partial(lab_view, base, bounds, "shrinkage", draw_shrinkage)),
        View("3 · Ranking", partial(lab_view, base, bounds, "ranking", draw_ranking)),
        View("4 · Variance", partial(lab_view, base, bounds, "variance", draw_variance)),
        View("5 · Code and downloads", partial(lab_view, base, bounds, "reproduce", draw_code)),
    ], key="yd_view")


if DATA is not None:
    show_lab(DATA, SAMPLE)
