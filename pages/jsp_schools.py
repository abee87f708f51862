"""JSP: school effectiveness. Within and between schools, ranking with honest intervals,
separate vs multilevel slopes, and three levels."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import pandas as pd
import streamlit as st

from hlmlab import datasets, report, style
from hlmlab.analyses import jsp_schools as schools
from hlmlab.analyses import jsp_schools_figures as jsp_figures
from hlmlab.analyses import jsp_schools_questions as jsp_questions
from hlmlab.errors import ModelDataError
from hlmlab.lesson_text import load_lesson
from hlmlab.pooling import compare_pooling
from hlmlab.ranking import ranking_summary
from hlmlab.panels import SliderRange
from ui.chart import prepare_chart, show_chart
from ui.navigation import ensure_app_frame
from ui.prefetch import prefetch_next_steps
from ui.questions import ask, ask_then_show, show_locked_hint
from ui.script_runs import fragment
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
EXAM_LABEL = "Exam (real: mlmRev::Exam, London schools)"
SAMPLE_SEED = 1988
DRAWN_SCHOOLS = 6
LEVEL1_VIEWS = ("Math across the years (one line per pupil)", "Math against Raven ability")
JSP, EXAM = schools.DATASETS["jsp"], schools.DATASETS["exam"]
# Each regression per school: (predictor, on the school means, only that year).
REGRESSIONS = {
    "jsp": {"School mean math on year (our reconstruction of the deck's R²)":
            (JSP.occasion, True, None),
            "Pupils' math on year": (JSP.occasion, False, None),
            "Pupils' math on Raven ability (year 2)": (JSP.intake, False, 2)},
    "exam": {"Pupils' exam score on the reading test": (EXAM.intake, False, None)},
}
MODELS = ("Random intercept", "Random intercept and slope")
FAMILIES = {"Pooled": "pooled", "Per school": "per_group", "Multilevel": "multilevel"}


# --------------------------------------------------------------------------- cached work


def spec_of(label: str) -> schools.SchoolDataSpec:
    return EXAM if label == EXAM_LABEL else JSP


@st.cache_data(show_spinner="Loading the data…", max_entries=16)
def load_source(label: str, path: str, stamp: float) -> pd.DataFrame:
    """The chosen data source; ``stamp`` (the file's mtime) makes an edited file reload."""
    if label == EXAM_LABEL:
        frame = datasets.load_reference("exam")
        frame.attrs.update(label="Exam (real pupils, mlmRev)", synthetic=False)
        return frame
    return datasets.load_jsp(label, Path(path).parent)


def source_of(data: pd.DataFrame, label: str) -> str:
    """The data's label, as every chart title and caption names it."""
    return data.attrs.get("label", label)


@st.cache_data(show_spinner=False, max_entries=16)
def intake_evidence(label: str, path: str, stamp: float) -> dict:
    """question-intake's evidence: a line of the outcome on intake per school (and year)."""
    return jsp_questions.intake_evidence(load_source(label, path, stamp), spec_of(label))


@st.cache_data(show_spinner="Fitting a line per school…", max_entries=64)
def level2(label: str, path: str, stamp: float, regression: str) -> schools.SchoolLines:
    spec = spec_of(label)
    return schools.school_lines(load_source(label, path, stamp), spec,
                                *REGRESSIONS[spec.key][regression])


@st.cache_data(show_spinner="Fitting pooled, per-school and multilevel lines…", max_entries=64)
def pooling(label: str, path: str, stamp: float, random_slope: bool):
    data, spec = load_source(label, path, stamp), spec_of(label)
    return compare_pooling(data, spec.outcome, spec.lines_predictor, spec.group,
                           random_slope), spec.lines_predictor


@st.cache_data(show_spinner="Fitting the school-effects models…", max_entries=256)
def ranking(label: str, path: str, stamp: float, year: int | None, random_slope: bool):
    return schools.school_rankings(load_source(label, path, stamp), spec_of(label), year,
                                   random_slope)


# No spinner of its own: the prefetcher calls it off the script thread, where a spinner
# has no page to show on (the page wraps its own call in st.spinner).
@st.cache_data(show_spinner=False, max_entries=2048)
def separate(label: str, path: str, stamp: float, n_schools: int, per_school: int):
    """JSP: growth (math on year) of whole pupils; Exam: exam score on the reading test.
    Raises ModelDataError when the sample cannot be fitted at all."""
    return schools.compare_sampled_slopes(load_source(label, path, stamp), spec_of(label),
                                          n_schools, per_school, seed=SAMPLE_SEED)


@st.cache_data(show_spinner="Fitting the three-level model and the two two-level models…",
               max_entries=16)
def levels(label: str, path: str, stamp: float, reml: bool, with_intake: bool):
    return schools.compare_school_levels(load_source(label, path, stamp), spec_of(label), reml,
                                         with_intake)


# Figures are shared as objects (cache_resource): a dict would be validated again by
# st.plotly_chart on every rerun, as costly as building the figure (about 0.1 s).
@st.cache_resource(show_spinner=False, max_entries=2048)
def separate_figure(label: str, path: str, stamp: float, n_schools: int, per_school: int):
    sampled = separate(label, path, stamp, n_schools, per_school)
    return jsp_figures.slope_pairs_figure(sampled.pairs, sampled.comparison.multilevel,
                                          sampled.predictor,
                                          source_of(load_source(label, path, stamp), label))


@st.cache_resource(show_spinner=False, max_entries=512)
def level1_figure(label: str, path: str, stamp: float, school, mode: str):
    """One school's figure (cached: redraws send it without rebuilding)."""
    data, spec = load_source(label, path, stamp), spec_of(label)
    source = source_of(data, label)
    if spec.occasion is not None and mode == LEVEL1_VIEWS[0]:
        return jsp_figures.school_trajectories_figure(data, spec, school, source)
    return jsp_figures.intake_lines_figure(
        *schools.intake_lines_by_occasion(data, spec, school), spec, school, source)


@st.cache_resource(show_spinner=False, max_entries=1024)
def pooling_figure(label: str, path: str, stamp: float, random_slope: bool, drawn: int,
                   families: tuple):
    data = load_source(label, path, stamp)
    comparison, predictor = pooling(label, path, stamp, random_slope)
    return jsp_figures.pooling_lines_figure(data, spec_of(label), comparison.lines, predictor,
                                            drawn, [FAMILIES[f] for f in families],
                                            source_of(data, label))


@st.cache_resource(show_spinner=False, max_entries=512)
def ranking_figures(label: str, path: str, stamp: float, year, random_slope: bool, adjust: bool):
    fits, changes = ranking(label, path, stamp, year, random_slope)
    table = fits["adjusted" if adjust else "unadjusted"][1]
    if table is None:
        return None, None
    return jsp_figures.ranking_figures(table, changes, spec_of(label), year, adjust,
                                       source_of(load_source(label, path, stamp), label))


# --------------------------------------------------------------------------- page setup

st.title("JSP: school effectiveness")
show_lesson_section(LESSON["intro"])

sources = {label: str(path) for label, path in datasets.jsp_sources().items()}
sources[EXAM_LABEL] = ""
source_label = st.selectbox("Data", list(sources), key="jsp_source")


def open_source(label):
    path = sources[label]
    stamp = Path(path).stat().st_mtime if path else 0.0
    return label, path, stamp, load_source(label, path, stamp)


try:
    source_label, source_path, stamp, data = open_source(source_label)
except (ValueError, OSError) as exc:
    st.error(f"That file could not be used: {exc} Showing the synthetic replica instead.")
    source_label, source_path, stamp, data = open_source(datasets.JSP_REPLICA_LABEL)
KEY = (source_label, source_path, stamp)
SPEC = spec_of(source_label)
# Controls whose options depend on the data get a key per source, so switching sources never
# carries a value that the new data do not have.
SUFFIX = {datasets.JSP_REPLICA_LABEL: "replica", EXAM_LABEL: "exam"}.get(source_label, "original")
LABEL = source_of(data, source_label)
show_source_note(data, LESSON["replica-note"].body)
SCHOOL_IDS = sorted(data[SPEC.group].unique().tolist())


# --------------------------------------------------------------------------- 1. level 1


@fragment
def view_level1():
    show_lesson_section(LESSON["level1"])
    ask(LESSON["question-intake"], "jsp_level1_q", evidence=lambda: intake_evidence(*KEY))
    c1, c2 = st.columns([1, 2])
    school = c1.selectbox("School", SCHOOL_IDS, key=f"jsp_level1_school_{SUFFIX}",
                          persist_state="session")
    mode = LEVEL1_VIEWS[1]
    if SPEC.occasion is not None:
        mode = c2.radio("Show", LEVEL1_VIEWS, key="jsp_level1_view",
                        persist_state="session", horizontal=True)
    figure, caption = level1_figure(*KEY, school, mode)
    show_chart(figure, "jsp_level1_chart")
    st.caption(caption)


# --------------------------------------------------------------------------- 2. level 2


@st.cache_data(show_spinner=False, max_entries=16)
def r2_evidence(label: str, path: str, stamp: float) -> dict:
    """question-r2's evidence: the per-school R² of the yearly means' and the pupils' lines."""
    means, pupils = list(REGRESSIONS["jsp"])[:2]
    return jsp_questions.r2_evidence(level2(label, path, stamp, means),
                                     level2(label, path, stamp, pupils))


@fragment
def view_level2():
    show_lesson_section(LESSON["level2"])
    # The R² question is about JSP's regressions on year; the Exam has one regression and no
    # question, so its R² shows at once.
    answer = (ask(LESSON["question-r2"], "jsp_level2_q", evidence=lambda: r2_evidence(*KEY))
              if SPEC.key == "jsp" else None)
    regression = st.radio("Regression per school", tuple(REGRESSIONS[SPEC.key]),
                          key=f"jsp_level2_regression_{SUFFIX}",
                          persist_state="session", horizontal=True)
    per_school = level2(*KEY, regression)
    summary = schools.r2_summary(per_school.fit.table["r2"])
    show_chart(jsp_figures.per_school_lines_figure(per_school, SPEC, regression, LABEL),
               "jsp_level2_lines")
    if answer is None or answer:
        with answer or st.container():
            histogram, numbers = st.columns([3, 2])
            with histogram:
                show_chart(jsp_figures.r2_histogram(per_school.fit.table["r2"], schools.R2_BAND,
                                                    f"R² of each school's line · {LABEL}"),
                           "jsp_level2_r2")
            # One above the other: three side by side in this column were cut to "20 of…".
            numbers.metric("Schools with R² in .6-.9", f"{summary['in_band']} of {summary['n']}")
            numbers.metric("Median R²", f"{summary['quantiles']['q50']:.2f}")
            numbers.metric("Middle half",
                           f"{summary['quantiles']['q25']:.2f}-{summary['quantiles']['q75']:.2f}")
    else:
        show_locked_hint("The R² of each school's line")
    st.markdown("**Spread of the schools' own lines**")
    st.dataframe(per_school.spread, width="stretch", column_config={
        c: st.column_config.NumberColumn(format="%.2f") for c in per_school.spread})
    skipped = summary["undefined"]
    st.caption(f"{LABEL}. " + (f"{skipped} school(s) have no R²: a line through two points "
                               "fits exactly, so it says nothing. " if skipped else "")
               + "R² is that of each school's own OLS line."
               + (" The deck does not say which regression gave its R²s between .6 and .9; "
                  "school means on year is this app's reconstruction."
                  if SPEC.occasion is not None else ""))


# --------------------------------------------------------------------------- 3. pooling


@fragment
def view_pooling():
    show_lesson_section(LESSON["pooling"])
    c1, c2 = st.columns([2, 3])
    model = c1.radio("Multilevel model", MODELS, index=1, key="jsp_pool_model",
                     persist_state="session", horizontal=True)
    families = c2.pills("Lines", list(FAMILIES), selection_mode="multi", default=list(FAMILIES),
                        key="jsp_pool_families", persist_state="session") or []
    comparison, predictor = pooling(*KEY, model == MODELS[1])
    ask(LESSON["question-lines"], "jsp_pool_q",
        evidence=lambda: jsp_questions.lines_evidence(comparison, SPEC))
    left, right = st.columns([3, 2])
    with left:
        pooling_chart_panel(model == MODELS[1], tuple(families), predictor)
    fit = comparison.multilevel
    with right:
        show_fit_summary(comparison)
    show_pupils_ignored_note()
    if fit is not None and fit.usable:
        st.dataframe(report.fixed_effects_table(fit, comparison.pooled), width="stretch")
        show_code_tabs(fit)


def show_pupils_ignored_note():
    """JSP's lines and slopes are fitted with schools only, though pupils have up to three
    records: say so, with what it changes (lessons/jsp_schools.md, pupils-ignored)."""
    if SPEC.subgroup is not None:
        st.info(LESSON["pupils-ignored"].body, icon=":material/info:")


def warm_pooling_figure(random_slope: bool, families: tuple, values: tuple) -> None:
    """The chart with another number of schools drawn (the prefetcher's task)."""
    prepare_chart(pooling_figure(*KEY, random_slope, values[0], families))


@fragment
def pooling_chart_panel(random_slope: bool, families: tuple, predictor: str):
    """The drawn schools change only the chart: their slider reruns this panel alone."""
    # At most as many schools as the chart has colour-and-marker pairs: a 13th school
    # would look exactly like the first.
    drawn_range = SliderRange(1, min(len(SCHOOL_IDS), style.DISTINCT_GROUP_STYLES), 1)
    drawn = st.slider("Schools drawn (all are fitted)", drawn_range.low, drawn_range.high,
                      min(DRAWN_SCHOOLS, drawn_range.high), key=f"jsp_pool_drawn_{SUFFIX}",
                      persist_state="session")
    show_chart(pooling_figure(*KEY, random_slope, drawn, families), "jsp_pool_chart")
    prefetch_next_steps(f"jsp_pool_last_{SUFFIX}", (drawn,), (drawn_range,),
                        partial(warm_pooling_figure, random_slope, families))
    st.caption(f"{LABEL}. The first {drawn} schools are drawn"
               + (", years jittered sideways for display" if predictor == SPEC.occasion else "")
               + f"; every line is fitted to all {len(SCHOOL_IDS)} schools. At most "
               f"{drawn_range.high} are drawn, each in its own colour and marker (hover over a "
               "point for its school and size); the ranking view shows every school.")


# --------------------------------------------------------------------------- 4. ranking


@fragment
def view_ranking():
    show_lesson_section(LESSON["ranking"])
    c1, c2, c3 = st.columns(3)
    year = None
    if SPEC.occasion is not None:
        year = c1.selectbox("Math score of year", (2, 1, 0), key="jsp_rank_year",
                            persist_state="session",
                            help="Year 2 is the end of junior school; Raven was measured at entry.")
    adjust = c2.toggle(f"Adjust for intake ({SPEC.intake_label})", value=True,
                       key="jsp_rank_adjust", persist_state="session")
    random_slope = c3.toggle("Intake slope varies by school", value=SPEC.key == "exam",
                             key=f"jsp_rank_slope_{SUFFIX}",
                             persist_state="session", disabled=not adjust)
    fits, changes = ranking(*KEY, year, random_slope)
    fit, table = fits["adjusted" if adjust else "unadjusted"]
    show_diagnostics(fit.messages)
    if table is None:
        st.warning("This model's fit is not trustworthy, so no ranking is drawn from it.")
        return
    # The ranking, its charts and its tables are the answer: asked before them.
    ask_then_show(LESSON["question-rank"], "jsp_rank_q",
                  "The ranking, with every school's interval and rank range,",
                  partial(show_ranking, table, changes, year, random_slope, adjust),
                  evidence=lambda: jsp_questions.rank_evidence(table))
    st.markdown("**The model behind the ranking**")
    c1, c2 = st.columns([2, 3])
    with c1:
        st.dataframe(report.variance_table(fit)[["shown"]], width="stretch",
                     column_config={"shown": "value"})
    with c2:
        st.latex(report.model_latex(fit))
        st.dataframe(report.fixed_effects_table(fit), width="stretch")
    show_estimation_help()
    show_code_tabs(fit)


def show_ranking(table, changes, year, random_slope: bool, adjust: bool) -> None:
    """The ranking view's answer: counts, caterpillar and slope charts, rank tables."""
    summary = ranking_summary(table)
    m = st.columns(4)
    m[0].metric("Schools", summary["groups"])
    m[1].metric("Intervals overlapping the average", summary["overlap_average"])
    m[2].metric("Clearly above / below", f"{summary['above']} / {summary['below']}")
    m[3].metric("Typical range of a rank", f"{summary['median_rank_span']:.0f} places")
    caterpillar, slope = ranking_figures(*KEY, year, random_slope, adjust)
    left, right = st.columns([3, 2])
    with left:
        show_chart(caterpillar, "jsp_rank_caterpillar")
    with right:
        show_chart(slope, "jsp_rank_slope")
    if changes is not None:
        st.markdown("**Schools that move most when the intake adjustment is added**")
        st.dataframe(report.rank_changes_table(changes), width="stretch")
    with st.expander("Every school: effect, interval, rank and plausible rank range",
                     icon=":material/table:"):
        st.dataframe(report.ranking_table(table), width="stretch",
                     column_config={c: st.column_config.NumberColumn(format="%.2f")
                                    for c in ("raw mean", "effect (mode)", "95% lower", "95% upper")})
    st.caption(f"{LABEL}. Effects are lme4-style conditional modes ± 1.96 conditional SDs; rank "
               "ranges are the central 95% of each school's rank over 2000 draws of all school "
               "effects (seeded).")


# --------------------------------------------------------------------------- 5. separate


def warm_separate(values: tuple) -> None:
    """The fits and chart for another (schools kept, pupils per school) (the prefetcher's
    task). A sample that cannot be fitted has no chart: the page says why instead."""
    try:
        separate(*KEY, *values)
    except ModelDataError:
        return
    prepare_chart(separate_figure(*KEY, *values))


@fragment
def view_separate():
    show_lesson_section(LESSON["separate"])
    sizes = schools.pupils_per_school(data, SPEC)
    c1, c2 = st.columns(2)
    n_schools = c1.slider("Schools kept (a seeded random choice)", 2, len(sizes), len(sizes),
                          key=f"jsp_sep_schools_{SUFFIX}", persist_state="session")
    per_school = c2.slider("Pupils per school (at most; a seeded random subsample)", 2,
                           int(sizes.max()), int(sizes.max()), key=f"jsp_sep_pupils_{SUFFIX}",
                           persist_state="session")
    prefetch_next_steps(f"jsp_sep_last_{SUFFIX}", (n_schools, per_school),
                        (SliderRange(2, len(sizes), 1), SliderRange(2, int(sizes.max()), 1)),
                        warm_separate)
    try:
        with st.spinner("Fitting separate and multilevel slopes…"):
            sampled = separate(*KEY, n_schools, per_school)
    except ModelDataError as exc:
        st.warning(f"No fit: {exc}")
        return
    comparison, pairs, predictor = sampled.comparison, sampled.pairs, sampled.predictor
    fit = comparison.multilevel
    show_diagnostics(comparison.messages)
    if fit is not None:
        show_diagnostics(fit.messages)
    every_school = len(sizes)
    answer = ask(LESSON["question-separate"], "jsp_sep_q",
                 evidence=lambda: jsp_questions.separate_evidence(
                     sampled, separate(*KEY, every_school, int(sizes.max())),
                     separate(*KEY, every_school, jsp_questions.FEW_PUPILS)))
    left, right = st.columns([3, 2])
    with left:
        show_chart(separate_figure(*KEY, n_schools, per_school), "jsp_sep_chart")
    with right:
        if not len(pairs):
            st.info("No school has a slope of its own here (a line needs three records with two "
                    "different values of the predictor), so there is nothing to compare.")
        st.caption(f"{LABEL}. {SPEC.outcome_label} against "
                   f"{SPEC.axis_label(predictor).lower()}; "
                   f"{len(comparison.per_group.table)} schools, at most {per_school} pupils each"
                   + (" (all of a pupil's years)" if SPEC.subgroup else "") + ". "
                   "The multilevel model has a random intercept and slope.")
        for message in comparison.per_group.messages:
            st.caption(str(message))
    show_pupils_ignored_note()
    if not answer:
        show_locked_hint("How far apart the two slopes are, and what the sliders show,")
        return
    with answer:
        if len(pairs):
            summary = schools.slope_pairs_summary(pairs)
            gap, spread = st.columns(2)
            gap.metric("Median |multilevel − own slope|", f"{summary['median_gap']:.3f}")
            spread.metric("Spread (SD) of own slopes / multilevel slopes",
                          f"{summary['ols_sd']:.3f} / {summary['multilevel_sd']:.3f}")
        show_lesson_section(LESSON["separate-reading"])


# --------------------------------------------------------------------------- 6. three levels


@fragment
def view_levels():
    show_lesson_section(LESSON["levels"])
    if SPEC.subgroup is None:
        st.info(LESSON["needs-jsp"].body, icon=":material/info:")
        return
    c1, c2 = st.columns(2)
    reml = c1.radio("Estimation", ("REML", "ML"), horizontal=True, key="jsp_levels_method",
                    persist_state="session") == "REML"
    with_intake = c2.toggle(f"Add {SPEC.intake_label} as a covariate", key="jsp_levels_intake",
                            persist_state="session")
    try:
        comparison = levels(*KEY, reml, with_intake)
    except ModelDataError as exc:
        st.warning(f"No fit: {exc}")
        return
    three = comparison.three_level
    for fit in (three, comparison.ignore_school, comparison.ignore_pupil):
        show_diagnostics(fit.messages)
    left, right = st.columns([3, 2])
    with left:
        show_chart(jsp_figures.levels_figure(comparison, LABEL), "jsp_levels_chart")
    with right:
        st.markdown("**The three-level model**")
        st.latex(report.three_level_latex(three, schools.LEVEL_NAMES))
        summary, fixed = report.three_level_tables(three, schools.LEVEL_NAMES)
        st.dataframe(summary[["shown"]], width="stretch", column_config={"shown": "value"})
        st.dataframe(fixed, width="stretch",
                     column_config={c: st.column_config.NumberColumn(format="%.4f") for c in fixed})
    # The models that ignore a level, and their SEs, answer the question: asked before them.
    answer = ask(LESSON["question-levels"], "jsp_levels_q",
                 evidence=lambda: jsp_questions.levels_evidence(comparison))
    if answer:
        with answer:
            table = comparison.table
            st.markdown("**What ignoring a level does to the year effect "
                        f"({comparison.occasion_terms[-1]})**")
            se = schools.occasion_effect_se(comparison).iloc[1:]
            for column, (model, row) in zip(st.columns(3), se.iterrows()):
                column.metric(model, f"SE {row['SE']:.3f}",
                              f"{row['ratio']:.2f} × the three-level SE", delta_color="off")
            st.dataframe(table, width="stretch", column_config={
                c: st.column_config.NumberColumn(format="%.4f") for c in table})
            st.caption(f"{LABEL}. Standard errors are lme4-style (fixed-effects block); the OLS "
                       "row's variance is the residual variance of one regression.")
    else:
        show_locked_hint("The models that ignore a level, with their standard errors,")
    show_estimation_help()
    show_code_tabs(three)


show_views([
    View("1 · Within one school", view_level1),
    View("2 · Between schools", view_level2),
    View("3 · Three kinds of lines", view_pooling),
    View("4 · Ranking schools", view_ranking),
    View("5 · When separate lines are fine", view_separate),
    View("6 · Three levels", view_levels),
], key="jsp_view")
