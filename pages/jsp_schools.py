"""JSP: school effectiveness. Within and between schools, ranking with honest intervals,
separate vs multilevel slopes, and three levels."""

from __future__ import annotations

from functools import partial

import streamlit as st

from hlmlab import datasets
from hlmlab.analyses import jsp_schools as lesson
from hlmlab.analyses import jsp_schools_questions as jsp_questions
from hlmlab.lesson_text import load_lesson
from hlmlab.panels import SliderRange
from hlmlab.userdata.views import slider_problem
from ui import controls
from ui.chart import show_chart
from ui.navigation import ensure_app_frame
from ui.panels import prefetch, run_or_explain
from ui.questions import ask, ask_then_show, show_locked_hint
from ui.script_runs import fragment
from ui.tables import show_table
from ui.views import View, show_views
from ui.widgets import (
    show_code_tabs,
    show_diagnostics,
    show_estimation_help,
    show_fit_summary,
    show_lesson_section,
    show_source_note,
)

ensure_app_frame(__file__)
LESSON = load_lesson("jsp_schools")
DRAWN_SCHOOLS = 6
LEVEL1_VIEWS = ("Math across the years (one line per pupil)", "Math against Raven ability")
MODELS = ("Random intercept", "Random intercept and slope")
FAMILIES = {"Pooled": "pooled", "Per school": "per_group", "Multilevel": "multilevel"}
# Short URL names: ?jsp_source=exam, ?jsp_reg=pupils.
SOURCE_NAMES = {datasets.JSP_REPLICA_LABEL: "replica", datasets.JSP_ORIGINAL_LABEL: "original",
                lesson.EXAM_LABEL: "exam"}
REGRESSION_NAMES = {"jsp": ("means", "pupils", "raven"), "exam": ("reading",)}


def data_source(label: str, sources: dict) -> lesson.DataSource:
    """The chosen source, with its file's modification time (an edited file reloads)."""
    path = sources[label]
    return lesson.DataSource(label, str(path), path.stat().st_mtime) if path else \
        lesson.DataSource(label, "", 0.0)


def show_metrics(metrics, where=None) -> None:
    """A result's ``(label, value)`` pairs as metrics, side by side (or in ``where``)."""
    for column, (label, value) in zip(where or st.columns(len(metrics)), metrics):
        column.metric(label, value)


def sized_slider(label: str, low: int, high: int, default: int, *, key: str, where, what: str):
    """A count slider from ``low`` to ``high``, or, when the data leave one value or none,
    a plain sentence instead (Streamlit refuses a slider whose ends meet): that one value,
    or None when no value is possible."""
    problem = slider_problem(low, high, what)
    if not problem:
        return controls.slider(label, SliderRange(low, high, 1), default, key=key, where=where)
    if low == high:
        where.caption(problem)
        return low
    where.info(problem, icon=":material/info:")
    return None


st.title("JSP: school effectiveness")
show_lesson_section(LESSON["intro"])

sources = {label: path for label, path in datasets.jsp_sources().items()}
sources[lesson.EXAM_LABEL] = None
source_label = controls.selectbox("Data", list(sources), 0, key="jsp_source",
                                  short=[SOURCE_NAMES.get(label, label) for label in sources])
try:
    SOURCE = data_source(source_label, sources)
    data = lesson.load_source(SOURCE)
    FACTS = lesson.source_facts(SOURCE)
except (ValueError, OSError) as exc:
    st.error(f"That file could not be used: {exc} Showing the synthetic replica instead.")
    SOURCE = data_source(datasets.JSP_REPLICA_LABEL, sources)
    data = lesson.load_source(SOURCE)
    FACTS = lesson.source_facts(SOURCE)
SPEC = SOURCE.spec
show_source_note(data, LESSON["replica-note"].body)


def show_pupils_ignored_note():
    """JSP's lines and slopes are fitted with schools only, though pupils have up to three
    records: say so, with what it changes (lessons/jsp_schools.md, pupils-ignored)."""
    if SPEC.subgroup is not None:
        st.info(LESSON["pupils-ignored"].body, icon=":material/info:")


# --------------------------------------------------------------------------- 1. level 1


def view_level1():
    show_lesson_section(LESSON["level1"])
    ask(LESSON["question-intake"], "jsp_level1_q",
        evidence=lambda: jsp_questions.source_intake_evidence(SOURCE))
    c1, c2 = st.columns([1, 2])
    school = controls.selectbox("School", FACTS.schools, 0, key="jsp_school", where=c1)
    over_years = False
    if SPEC.occasion is not None:
        over_years = controls.radio("Show", LEVEL1_VIEWS, 0, key="jsp_show", where=c2,
                                    short=("years", "raven"), horizontal=True) == LEVEL1_VIEWS[0]
    result = run_or_explain(lesson.LEVEL1, lesson.Level1(SOURCE, school, over_years),
                            spinner="Drawing the school…")
    if result is None:
        return
    show_chart(result.chart, "jsp_level1_chart")
    st.caption(result.caption)


# --------------------------------------------------------------------------- 2. level 2


def view_level2():
    show_lesson_section(LESSON["level2"])
    regressions = tuple(lesson.REGRESSIONS[SPEC.key])
    means, pupils = regressions[:2] if SPEC.key == "jsp" else (None, None)
    # The R² question is about JSP's regressions on year; the Exam has one regression and no
    # question, so its R² shows at once.
    answer = (ask(LESSON["question-r2"], "jsp_level2_q",
                  evidence=lambda: jsp_questions.r2_evidence(
                      lesson.fitted_school_lines(SOURCE, means),
                      lesson.fitted_school_lines(SOURCE, pupils)))
              if SPEC.key == "jsp" else None)
    regression = controls.radio("Regression per school", regressions, 0, key="jsp_reg",
                                short=REGRESSION_NAMES[SPEC.key], horizontal=True)
    result = run_or_explain(lesson.LEVEL2, lesson.Level2(SOURCE, regression),
                            spinner="Fitting a line per school…")
    if result is None:
        return
    show_chart(result.lines, "jsp_level2_lines")
    if answer is None or answer:
        with answer or st.container():
            histogram, numbers = st.columns([3, 2])
            show_chart(result.r2, "jsp_level2_r2", where=histogram)
            # One above the other: three side by side in this column were cut to "20 of…".
            for label, value in result.metrics:
                numbers.metric(label, value)
    else:
        show_locked_hint("The R² of each school's line")
    st.markdown("**Spread of the schools' own lines**")
    show_table(result.spread)
    st.caption(result.caption)


# --------------------------------------------------------------------------- 3. pooling


def view_pooling():
    show_lesson_section(LESSON["pooling"])
    c1, c2 = st.columns([2, 3])
    random_slope = controls.radio("Multilevel model", MODELS, 1, key="jsp_model", where=c1,
                                  short=("0", "1"), horizontal=True) == MODELS[1]
    picked = controls.pills("Lines", list(FAMILIES), list(FAMILIES), key="jsp_lines", where=c2)
    families = tuple(FAMILIES[f] for f in picked)
    fits = lesson.PoolingFit(SOURCE, random_slope)
    numbers = run_or_explain(lesson.POOLING, fits,
                             spinner="Fitting pooled, per-school and multilevel lines…")
    if numbers is None:
        return
    ask(LESSON["question-lines"], "jsp_pool_q",
        evidence=lambda: jsp_questions.lines_evidence(lesson.fitted_pooling(fits), SPEC))
    left, right = st.columns([3, 2])
    with left:
        pooling_chart_panel(fits, families)
    with right:
        show_fit_summary(numbers.summary)
    show_pupils_ignored_note()
    if numbers.fixed is not None:
        show_table(numbers.fixed)
        show_code_tabs(numbers.code, key="jsp_pooling_code")


@fragment
def pooling_chart_panel(fits: lesson.PoolingFit, families: tuple):
    """The drawn schools change only the chart: their slider reruns this panel alone."""
    limit = lesson.drawn_limit(SOURCE)
    drawn = sized_slider("Schools drawn (all are fitted)", lesson.DRAWN_RANGE.low, limit,
                         min(DRAWN_SCHOOLS, limit), key="jsp_drawn", where=st,
                         what="schools drawn")
    if drawn is None:
        return
    settings = lesson.PoolChart(fits.source, fits.random_slope, families, drawn)
    prefetch(lesson.POOL_CHART, settings, "jsp_pool_last")
    result = run_or_explain(lesson.POOL_CHART, settings)
    if result is None:
        return
    show_chart(result.chart, "jsp_pool_chart")
    st.caption(result.caption)


# --------------------------------------------------------------------------- 4. ranking


def view_ranking():
    show_lesson_section(LESSON["ranking"])
    c1, c2, c3 = st.columns(3)
    year = None
    if SPEC.occasion is not None:
        year = controls.selectbox(
            "Math score of year", FACTS.years, 0, key="jsp_year", where=c1,
            help="Year 2 is the end of junior school; Raven was measured at entry.")
    adjust = controls.toggle(f"Adjust for intake ({SPEC.intake_label})", True,
                             key="jsp_adjust", where=c2)
    random_slope = controls.toggle("Intake slope varies by school", SPEC.key == "exam",
                                   key="jsp_rslope", where=c3, disabled=not adjust)
    result = run_or_explain(lesson.RANKING, lesson.Ranking(SOURCE, year, random_slope, adjust),
                            spinner="Fitting the school-effects models…")
    if result is None:
        return
    show_diagnostics(result.messages)
    if result.table is None:
        st.warning("This model's fit is not trustworthy, so no ranking is drawn from it.")
        return
    # The ranking, its charts and its tables are the answer: asked before them.
    ask_then_show(LESSON["question-rank"], "jsp_rank_q",
                  "The ranking, with every school's interval and rank range,",
                  partial(show_ranking, result),
                  evidence=lambda: jsp_questions.rank_evidence(
                      lesson.fitted_rankings(SOURCE, year, random_slope)[0][
                          "adjusted" if adjust else "unadjusted"][1]))
    st.markdown("**The model behind the ranking**")
    c1, c2 = st.columns([2, 3])
    show_table(result.variance, where=c1)
    with c2:
        st.latex(result.latex)
        show_table(result.fixed)
    show_estimation_help()
    show_code_tabs(result.code, key="jsp_ranking_code")


def show_ranking(result: lesson.RankingResult) -> None:
    """The ranking view's answer: counts, caterpillar and slope charts, rank tables."""
    show_metrics(result.metrics)
    left, right = st.columns([3, 2])
    show_chart(result.caterpillar, "jsp_rank_caterpillar", where=left)
    show_chart(result.slope, "jsp_rank_slope", where=right)
    if result.changes is not None:
        st.markdown("**Schools that move most when the intake adjustment is added**")
        show_table(result.changes)
    with st.expander("Every school: effect, interval, rank and plausible rank range",
                     icon=":material/table:"):
        show_table(result.table)
    st.caption(result.caption)


# --------------------------------------------------------------------------- 5. separate


def view_separate():
    show_lesson_section(LESSON["separate"])
    separate_panel()


@fragment
def separate_panel():
    """The two sliders with what they change: the question whose answer reads them, the
    chart and its numbers (a press reruns this alone)."""
    c1, c2 = st.columns(2)
    n_all = len(FACTS.schools)
    n_schools = sized_slider("Schools kept (a seeded random choice)", 2, n_all, n_all,
                             key="jsp_keep", where=c1, what="schools kept")
    per_school = sized_slider("Pupils per school (at most; a seeded random subsample)", 2,
                              FACTS.max_pupils, FACTS.max_pupils, key="jsp_pupils", where=c2,
                              what="pupils per school")
    if n_schools is None or per_school is None:
        return
    settings = lesson.Separate(SOURCE, n_schools, per_school)
    prefetch(lesson.SEPARATE, settings, "jsp_sep_last")
    result = run_or_explain(lesson.SEPARATE, settings,
                            spinner="Fitting separate and multilevel slopes…", prefix="No fit: ")
    if result is None:
        return
    show_diagnostics(result.messages)
    answer = ask(LESSON["question-separate"], "jsp_sep_q",
                 evidence=lambda: jsp_questions.separate_evidence(
                     lesson.fitted_sample(lesson.SEPARATE.snapped(settings)),
                     *map(lesson.fitted_sample,
                          lesson.separate_premises(SOURCE, jsp_questions.FEW_PUPILS))))
    left, right = st.columns([3, 2])
    show_chart(result.chart, "jsp_sep_chart", where=left)
    with right:
        if not result.has_pairs:
            st.info("No school has a slope of its own here (a line needs three records with two "
                    "different values of the predictor), so there is nothing to compare.")
        st.caption(result.caption)
        for note in result.school_notes:
            st.caption(note)
    show_pupils_ignored_note()
    if not answer:
        show_locked_hint("How far apart the two slopes are, and what the sliders show")
        return
    with answer:
        if result.metrics:
            show_metrics(result.metrics)
        show_lesson_section(LESSON["separate-reading"])


# --------------------------------------------------------------------------- 6. three levels


def view_levels():
    show_lesson_section(LESSON["levels"])
    if SPEC.subgroup is None:
        st.info(LESSON["needs-jsp"].body, icon=":material/info:")
        return
    c1, c2 = st.columns(2)
    reml = controls.radio("Estimation", ("REML", "ML"), 0, key="jsp_method", where=c1,
                          horizontal=True) == "REML"
    with_intake = controls.toggle(f"Add {SPEC.intake_label} as a covariate", False,
                                  key="jsp_intake", where=c2)
    settings = lesson.Levels(SOURCE, reml, with_intake)
    result = run_or_explain(lesson.LEVELS, settings,
                            spinner="Fitting the three-level model and the two two-level models…",
                            prefix="No fit: ")
    if result is None:
        return
    show_diagnostics(result.messages)
    left, right = st.columns([3, 2])
    show_chart(result.chart, "jsp_levels_chart", where=left)
    with right:
        st.markdown("**The three-level model**")
        st.latex(result.latex)
        show_table(result.summary)
        show_table(result.fixed)
    # The models that ignore a level, and their SEs, answer the question: asked before them.
    answer = ask(LESSON["question-levels"], "jsp_levels_q",
                 evidence=lambda: jsp_questions.levels_evidence(lesson.fitted_levels(settings)))
    if answer:
        with answer:
            st.markdown(f"**What ignoring a level does to the year effect ({result.term})**")
            for column, (model, se, ratio) in zip(st.columns(3), result.se_metrics):
                column.metric(model, se, ratio, delta_color="off")
            show_table(result.table)
            st.caption(result.caption)
    else:
        show_locked_hint("The models that ignore a level, with their standard errors")
    show_estimation_help()
    show_code_tabs(result.code, key="jsp_levels_code")


show_views([
    View("1 · Within one school", view_level1),
    View("2 · Between schools", view_level2),
    View("3 · Three kinds of lines", view_pooling),
    View("4 · Ranking schools", view_ranking),
    View("5 · When separate lines are fine", view_separate),
    View("6 · Three levels", view_levels),
], key="jsp_view")
