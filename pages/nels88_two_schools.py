"""NELS88: math against homework in two schools, then three ways to draw the lines."""

from __future__ import annotations

import streamlit as st

from hlmlab import datasets
from hlmlab.analyses import nels88_two_schools as nels
from hlmlab.analyses import nels88_two_schools_questions as nels_questions
from hlmlab.errors import ModelDataError
from hlmlab.lesson_text import load_lesson
from ui import controls
from ui.chart import show_chart
from ui.navigation import ensure_app_frame
from ui.panels import prefetch, run
from ui.questions import ask, is_answered, show_locked_hint
from ui.script_runs import fragment
from ui.tables import show_table
from ui.widgets import (
    show_code_tabs,
    show_fit_summary,
    show_lesson_section,
    show_source_note,
)

ensure_app_frame(__file__)
LESSON = load_lesson("nels88_two_schools")
DECK_SCHOOLS = nels.DECK_SCHOOLS
STEPS = ("1 · Two schools", "2 · Jitter", "3 · Colour by school", "4 · Three kinds of lines")
SCHOOL_SETS = ("The deck's two schools", "All schools", "Choose schools")
FAMILIES = {"Pooled": "pooled", "Per school": "per_group", "Multilevel": "multilevel"}
MODELS = ("Random intercept", "Random intercept and slope")
PER_SCHOOL, JITTER = nels.PER_SCHOOL_RANGE, nels.JITTER_RANGE
# Short URL names of the data sources (?nels_source=original).
SOURCE_NAMES = {datasets.NELS88_REPLICA_LABEL: "replica",
                datasets.NELS88_ORIGINAL_LABEL: "original"}


def data_source(label: str, sources: dict) -> nels.DataSource:
    """The chosen source, with its file's modification time (an edited file reloads)."""
    path = sources[label]
    return nels.DataSource(label, str(path), path.stat().st_mtime)


st.title("NELS88: math and homework in two schools")
show_lesson_section(LESSON["intro"])

sources = datasets.nels88_sources()
source_label = controls.selectbox("Data", list(sources), key="nels_source",
                                  short=[SOURCE_NAMES.get(label, label) for label in sources])
try:
    source = data_source(source_label, sources)
    all_data = nels.load_source(source)
except (ValueError, OSError) as exc:
    st.error(f"That file could not be used: {exc} Showing the synthetic replica instead.")
    source = data_source(datasets.NELS88_REPLICA_LABEL, sources)
    all_data = nels.load_source(source)
show_source_note(all_data, LESSON["replica-note"].body)

school_ids = sorted(nels.source_school_sizes(source))
# The deck's two schools, or the first two of a data file without them.
deck_schools = tuple([s for s in DECK_SCHOOLS if s in school_ids] or school_ids[:2])
# URL parameters (README): step, schools, per_school, jitter, slope, method, plus lines,
# school_set, school (the school taken apart) and nels_source; a link naming schools opens
# "Choose schools" with them.
step = controls.segmented_control("Lesson step", STEPS, STEPS[0], key="step",
                                  short=controls.numbered(STEPS), steps=True, width="stretch")
if step is None:  # clicking the selected step again clears it; stay where we were
    step = st.session_state.get("nels_last_step", STEPS[0])
st.session_state["nels_last_step"] = step
step_number = STEPS.index(step) + 1
show_lesson_section(LESSON[f"step{step_number}"])


def every_student(schools: tuple) -> int:
    """The students-per-school value that keeps every student of ``schools``."""
    return nels.per_school_cap(nels.source_school_sizes(source), schools, PER_SCHOOL.high)


def fit_premise(schools: tuple, per_school: int, random_slope: bool = False, reml: bool = True):
    """The fits of a setting a question names (kept per process, as the panels' own are)."""
    return nels.fitted_selection(nels.Selection(source, schools, per_school, random_slope, reml))


def rows_of(schools: tuple):
    return nels.select_rows(all_data, schools, every_student(schools))


# Predict before the panel draws the answer; the evidence is the lesson's named setting,
# fitted on the data source shown.
ALL_SCHOOLS = tuple(school_ids)
if step_number == 3:
    ask(LESSON["question-one-line"], "nels_q_one_line",
        evidence=lambda: nels_questions.one_line_evidence(rows_of(deck_schools)))
if step_number >= 4:
    ask(LESSON["question-shrink"], "nels_q_shrink",
        evidence=lambda: nels_questions.shrink_evidence(
            fit_premise(ALL_SCHOOLS, every_student(ALL_SCHOOLS)),
            fit_premise(ALL_SCHOOLS, nels_questions.SHRINK_PER_SCHOOL)))
    ask(LESSON["question-pooled-slope"], "nels_q_pooled",
        evidence=lambda: nels_questions.pooled_slope_evidence(
            rows_of(ALL_SCHOOLS),
            fit_premise(ALL_SCHOOLS, every_student(ALL_SCHOOLS),
                        **nels_questions.POOLED_SLOPE_PREMISE)))

# The controls that change what is fitted, outside the slider's fragment: a click on one
# reruns the page, a slider press only the fragment below (its chart and numbers).
columns = st.columns([3, 2, 2])
with columns[0]:
    school_set = controls.radio("Schools", SCHOOL_SETS,
                                2 if controls.in_url("schools") else 0, key="school_set",
                                short=("deck", "all", "choose"), horizontal=True)
    if school_set == SCHOOL_SETS[0]:
        schools = list(deck_schools)
    elif school_set == SCHOOL_SETS[1]:
        schools = school_ids
    else:
        schools = controls.multiselect("Schools to show and fit", school_ids, list(deck_schools),
                                       key="schools")
families, random_slope, reml = (), True, True
if step_number >= nels.LINES_STEP:
    with columns[1]:
        picked = controls.pills("Lines", list(FAMILIES), list(FAMILIES), key="lines")
        families = tuple(FAMILIES[f] for f in (picked or []))
    with columns[2]:
        # Step 4 opens on the random intercept: the model two schools can carry. A random
        # slope estimated from two schools lands on the boundary (the step's text says so),
        # which a student discovers by asking for it.
        random_slope = controls.radio("Multilevel model", MODELS, 0, key="slope",
                                      short=("0", "1")) == MODELS[1]
        reml = controls.radio("Estimation", ("REML", "ML"), 0, key="method",
                              horizontal=True) == "REML"


@fragment
def lab(source: nels.DataSource, schools: tuple, random_slope: bool, reml: bool,
        families: tuple):
    """The "Students per school" slider with what it changes: the chart and the numbers."""
    with st.columns([3, 2, 2])[0]:
        per_school = controls.slider("Students per school (at most; a seeded random subsample)",
                                     PER_SCHOOL, PER_SCHOOL.high, key="per_school")
    if not schools:
        st.info("Pick at least one school to see its students.")
        return
    selection = nels.Selection(source, schools, per_school, random_slope, reml)
    if step_number < nels.LINES_STEP:
        chart_panel(selection, families)
        return
    prefetch(nels.NUMBERS, selection, "nels_numbers_last")
    try:
        numbers = run(nels.NUMBERS, selection, spinner="Fitting the models…")
    except ModelDataError as exc:
        st.warning(str(exc))
        chart_panel(selection, families)
        return
    chart_col, numbers_col = st.columns([3, 2])
    with chart_col:
        chart_panel(selection, families)
    with numbers_col:
        show_fit_summary(numbers.summary)
    st.subheader("School by school")
    # The weights answer question-shrink and the fixed effects question-pooled-slope.
    if is_answered("nels_q_shrink"):
        school_table(numbers, all_data.attrs.get("label", source.label), schools)
    else:
        show_locked_hint("Each school's table of lines and weights λ")
    if numbers.fixed is not None:
        st.subheader("Fixed effects")
        if is_answered("nels_q_pooled"):
            show_table(numbers.fixed)
        else:
            show_locked_hint("The table of the pooled and multilevel coefficients")
    st.subheader("The homework slope, within and between")
    if is_answered("nels_q_pooled"):
        st.caption(LESSON["slope-table"].body)
        if numbers.slopes is not None:
            show_table(numbers.slopes)
        else:
            st.info(numbers.slopes_problem)
    else:
        show_locked_hint("The within- and between-school slopes")
    if numbers.code is not None:
        show_code_tabs(numbers.code, key="nels_code")


def school_table(numbers: nels.SelectionNumbers, label: str, schools: tuple):
    """The school-by-school table, its caption, and one school's line taken apart."""
    caption = LESSON[numbers.schools_section].body if numbers.schools_section else ""
    st.caption(f"{label}. {caption}".strip())
    show_table(numbers.schools)
    for message in numbers.school_notes:
        st.caption(str(message))
    options = [school for school in schools if school in numbers.formula_schools]
    if not options:
        return
    st.markdown("**Take one school apart**: how its multilevel line is made, with its numbers.")
    # Default 24725; a chosen school that leaves the selection falls back to the default.
    school = controls.selectbox("School", options, options.index(nels.default_school(options)),
                                key="school", where=st.columns([2, 5])[0])
    st.latex(numbers.formula(school))
    if numbers.weight_matrices is not None:
        with st.expander("Every school's weight matrix Λⱼ"):
            show_table(numbers.weight_matrices)


@fragment
def chart_panel(selection: nels.Selection, families: tuple):
    """The jitter slider and the chart: jitter reruns only this, not the tables beside it."""
    jitter = 0.0
    if step_number >= 2:
        jitter = controls.slider("Jitter (display only; fits use the true hours)", JITTER,
                                 0.15, key="jitter")
    settings = selection.drawn_as(families, jitter, step_number)
    prefetch(nels.CHART, settings, "nels_chart_last")
    show_chart(run(nels.CHART, settings), key="nels_chart")


lab(source, tuple(sorted(schools)), random_slope, reml, families)

if step_number >= 4:
    # "What pooling means" explains both step-4 answers, so it waits for both.
    if is_answered("nels_q_shrink") and is_answered("nels_q_pooled"):
        show_lesson_section(LESSON["pooling"])
    else:
        show_locked_hint('"What pooling means"', "both questions above")
