"""NELS88: math against homework in two schools, then three ways to draw the lines."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import streamlit as st

from hlmlab import datasets, report
from hlmlab.analyses import nels88_two_schools as nels
from hlmlab.analyses.nels88_two_schools_figures import selection_figure
from hlmlab.errors import ModelDataError
from hlmlab.lesson_text import load_lesson
from hlmlab.pooling import fitted_lines
from hlmlab.panels import SliderRange
from ui import controls
from ui.chart import prepare_chart, show_chart
from ui.navigation import ensure_app_frame
from ui.prefetch import prefetch_next_steps
from ui.script_runs import fragment
from ui.widgets import (
    show_code_tabs,
    show_fit_summary,
    show_lesson_section,
    show_question,
    show_source_note,
)

ensure_app_frame(__file__)
LESSON = load_lesson("nels88_two_schools")
GROUP, DECK_SCHOOLS = nels.GROUP, nels.DECK_SCHOOLS
STEPS = ("1 · Two schools", "2 · Jitter", "3 · Colour by school", "4 · Three kinds of lines")
SCHOOL_SETS = ("The deck's two schools", "All schools", "Choose schools")
FAMILIES = {"Pooled": "pooled", "Per school": "per_group", "Multilevel": "multilevel"}
MODELS = ("Random intercept", "Random intercept and slope")
MAX_PER_SCHOOL = 70
PER_SCHOOL_RANGE = SliderRange(2, MAX_PER_SCHOOL, 1)
JITTER_RANGE = SliderRange(0.0, 0.45, 0.05)
JITTER = 0.15


@st.cache_data(show_spinner=False, max_entries=16)
def load_source(label: str, path: str, stamp: float):
    """The chosen data source; ``stamp`` (file mtime) makes an edited file reload."""
    return datasets.load_nels88(label, Path(path).parent)


@st.cache_data(show_spinner=False, max_entries=1024)
def select_rows(label: str, path: str, stamp: float, schools: tuple, per_school: int):
    """The chosen schools, each cut to at most ``per_school`` students (seeded, nested)."""
    return nels.select_rows(load_source(label, path, stamp), schools, per_school)


# The page wraps the call in st.spinner, which shows only when a fit takes over half a second.
@st.cache_data(show_spinner=False, max_entries=4096)
def fit_selection(label: str, path: str, stamp: float, schools: tuple, per_school: int,
                  random_slope: bool, reml: bool):
    """Fits shared by every session: keyed on the data and the slider values only. Raises
    ModelDataError when not even the pooled line can be fitted (not cached: it says why)."""
    return nels.compare_selection(load_source(label, path, stamp), schools, per_school,
                                  random_slope, reml)


def wanted_families(families) -> tuple:
    return tuple(FAMILIES[f] for f in (families or []))


def warm_selection(key: tuple, jitter: float, families: tuple, values: tuple) -> None:
    """The fits and chart of ``key`` with another students-per-school value (the
    prefetcher's task)."""
    label, path, stamp, schools, _, random_slope, reml = key
    changed = (label, path, stamp, schools, values[0], random_slope, reml)
    fit_selection(*changed)
    prepare_chart(chart(*changed, jitter, families, 4))


@st.cache_resource(show_spinner=False, max_entries=2048)
def chart(label: str, path: str, stamp: float, schools: tuple, per_school: int,
          random_slope: bool, reml: bool, jitter: float, families: tuple, step_number: int):
    """The figure, shared by every session. Building a plotly figure validates every trace
    (about 0.1 s for ten schools), too slow to repeat on each slider move; cache_resource
    hands out the same object without pickling it (Streamlit only reads it)."""
    data = load_source(label, path, stamp)
    chosen = select_rows(label, path, stamp, schools, per_school)
    lines = fitted_lines({}, {"all": (0, 1)})
    if step_number >= 4:
        try:
            comparison = fit_selection(label, path, stamp, schools, per_school, random_slope,
                                       reml)
            lines = comparison.lines[comparison.lines["family"].isin(families)]
        except ModelDataError:
            pass  # no lines to draw; the panel says why
    return selection_figure(data, chosen, lines, jitter, step_number >= 3,
                            data.attrs.get("label", label))


st.title("NELS88: math and homework in two schools")
show_lesson_section(LESSON["intro"])

sources = datasets.nels88_sources()
source_label = st.selectbox("Data", list(sources), key="nels_source")
try:
    source_path = str(sources[source_label])
    stamp = sources[source_label].stat().st_mtime
    all_data = load_source(source_label, source_path, stamp)
except (ValueError, OSError) as exc:
    st.error(f"That file could not be used: {exc} Showing the synthetic replica instead.")
    source_label = datasets.NELS88_REPLICA_LABEL
    source_path = str(sources[source_label])
    stamp = sources[source_label].stat().st_mtime
    all_data = load_source(source_label, source_path, stamp)
show_source_note(all_data, LESSON["replica-note"].body)

school_ids = sorted(all_data[GROUP].unique().tolist())
deck_schools = [s for s in DECK_SCHOOLS if s in school_ids]
# URL parameters (README): step, schools, per_school, jitter, slope, method, plus lines and
# school_set; a link naming schools opens "Choose schools" with them.
step = controls.segmented_control("Lesson step", STEPS, STEPS[0], key="step",
                                  short=controls.numbered(STEPS), steps=True, width="stretch")
if step is None:  # clicking the selected step again clears it; stay where we were
    step = st.session_state.get("nels_last_step", STEPS[0])
st.session_state["nels_last_step"] = step
step_number = STEPS.index(step) + 1
show_lesson_section(LESSON[f"step{step_number}"])


@fragment
def lab():
    """The interactive panel: its widgets rerun only this fragment."""
    columns = st.columns([3, 2, 2])
    with columns[0]:
        school_set = controls.radio("Schools", SCHOOL_SETS,
                                    2 if controls.in_url("schools") else 0, key="school_set",
                                    short=("deck", "all", "choose"), horizontal=True)
        if school_set == SCHOOL_SETS[0]:
            schools = deck_schools or school_ids[:2]
        elif school_set == SCHOOL_SETS[1]:
            schools = school_ids
        else:
            schools = controls.multiselect("Schools to show and fit", school_ids, deck_schools,
                                           key="schools")
        per_school = controls.slider("Students per school (at most; a seeded random subsample)",
                                     PER_SCHOOL_RANGE, MAX_PER_SCHOOL, key="per_school")
    with columns[1]:
        families = []
        if step_number >= 4:
            families = controls.pills("Lines", list(FAMILIES), list(FAMILIES), key="lines")
    with columns[2]:
        random_slope, reml = True, True
        if step_number >= 4:
            random_slope = controls.radio("Multilevel model", MODELS, 1, key="slope",
                                          short=("0", "1")) == MODELS[1]
            reml = controls.radio("Estimation", ("REML", "ML"), 0, key="method",
                                  horizontal=True) == "REML"

    if not schools:
        st.info("Pick at least one school to see its students.")
        return
    schools = tuple(sorted(schools))
    # Past the largest school's size the rows, and so the fits, are the same: one cache entry.
    per_school = nels.per_school_cap(all_data, schools, per_school)
    key = (source_label, source_path, stamp, schools, per_school, random_slope, reml)
    if step_number >= 4:
        jitter = JITTER_RANGE.snap(st.session_state.get("jitter", JITTER))
        prefetch_next_steps("nels_last", (per_school,), (PER_SCHOOL_RANGE,),
                            partial(warm_selection, key, jitter, wanted_families(families)))
    comparison = None
    if step_number >= 4:
        with st.spinner("Fitting the models…"):
            try:
                comparison = fit_selection(*key)
            except ModelDataError as exc:
                st.warning(str(exc))
    wanted = wanted_families(families)
    if step_number < 4 or comparison is None:
        chart_panel(key, wanted)
        return
    fit = comparison.multilevel
    chart_col, numbers_col = st.columns([3, 2])
    with chart_col:
        chart_panel(key, wanted)
    with numbers_col:
        show_fit_summary(comparison)
    st.subheader("School by school")
    st.caption(f"{all_data.attrs.get('label', source_label)}. λ is the weight a school's own "
               "OLS estimate gets in its multilevel estimate: 1 = its own line, 0 = the overall line. For a random slope, λ is the "
               "reliability of the school's own intercept and slope.")
    st.dataframe(
        report.group_table(comparison.per_group, fit if fit and fit.usable else None,
                           comparison.shrinkage),
        width="stretch",
        column_config={"n": st.column_config.NumberColumn(format="%d")},
    )
    for message in comparison.per_group.messages:
        st.caption(str(message))
    if fit is not None and fit.usable:
        st.subheader("Fixed effects")
        st.dataframe(report.fixed_effects_table(fit, comparison.pooled), width="stretch")
        show_code_tabs(fit, comparison.pooled)


@fragment
def chart_panel(key: tuple, families: tuple):
    """The jitter slider and the chart: jitter reruns only this, not the tables beside it."""
    jitter = 0.0
    if step_number >= 2:
        jitter = controls.slider("Jitter (display only; fits use the true hours)", JITTER_RANGE,
                                 JITTER, key="jitter")
    show_chart(chart(*key, jitter, families, step_number), key="nels_chart")


lab()

if step_number >= 4:
    show_lesson_section(LESSON["pooling"])
    show_question(LESSON["question-shrink"], key="nels_q_shrink")
    show_question(LESSON["question-pooled-slope"], key="nels_q_pooled")
