"""Longitudinal data: the deck's reading-vs-age puzzle, then growth curves with unbalanced data."""

from __future__ import annotations

from functools import partial

import streamlit as st

from hlmlab.analyses import longitudinal as lesson
from hlmlab.analyses import longitudinal_questions as long_questions
from hlmlab.lesson_text import load_lesson
from ui import controls
from ui.chart import show_chart
from ui.navigation import ensure_app_frame
from ui.panels import prefetch, run, run_or_explain
from ui.questions import ask, ask_then_show, is_answered, show_locked_hint
from ui.script_runs import fragment
from ui.tables import show_table
from ui.views import View, show_views
from ui.widgets import (
    show_code_tabs,
    show_diagnostics,
    show_estimation_help,
    show_lesson_section,
)

ensure_app_frame(__file__)
LESSON = load_lesson("longitudinal")
REAL_DATA = lesson.RealData()


def simulated_note(text: str) -> None:
    st.info(f"**Simulated data.** {text}", icon=":material/science:")


# --------------------------------------------------------------------------- page

st.title("Longitudinal data: reading, age and growth")
show_lesson_section(LESSON["intro"])


def view_reading():
    show_lesson_section(LESSON["part1"])
    simulated_note("These children are hypothetical, as in the course deck: generated "
                   "(seeded) from the slider values, not measured.")
    # The two switches change what is fitted and drawn, so they sit outside the sliders'
    # fragment: a click reruns the view, a slider press only the fragment.
    left, right = st.columns(2)
    show_child_lines = controls.toggle("Show each child's line from the multilevel model",
                                       key="child_lines", where=left)
    # Opens on the model two measurements per child can carry; the random slope (and the
    # boundary fit it usually brings) is there to be discovered.
    random_slope = controls.toggle(
        "Let growth rates differ between children (random slope for age)", key="age_slope",
        where=right,
        help="Four variance parameters from two measurements per child: see "
             "'The multilevel growth model' below.")
    reading_lab(random_slope, show_child_lines)


@fragment
def reading_lab(random_slope: bool, show_child_lines: bool):
    """Part 1's sliders, chart and numbers; the question follows the current children."""
    columns = st.columns(3)
    with columns[0]:
        children = controls.slider("Number of children", lesson.CHILDREN_RANGE, 40,
                                   key="children")
        entry_spread = controls.slider("Spread of entry ages (± years around 7)",
                                       lesson.ENTRY_SPREAD_RANGE, 1.5, key="entry_spread")
        noise = controls.slider("Measurement error (SD, points)", lesson.NOISE_RANGE, 2.0,
                                key="error_sd")
    with columns[1]:
        growth = controls.slider("Within-child growth (points per year)", lesson.GROWTH_RANGE,
                                 6.0, key="growth_rate")
        cohort = controls.slider(
            "Between-child (cohort) effect of entry age (points per year)",
            lesson.COHORT_RANGE, -9.0, key="cohort",
            help="0 removes the confound: then children who entered older read exactly as "
                 "their age predicts.")
    with columns[2]:
        sd_level = controls.slider("Children differ in level (SD, points)",
                                   lesson.SD_LEVEL_RANGE, 4.0, key="sd_level")
        sd_growth = controls.slider("Children differ in growth (SD, points per year)",
                                    lesson.SD_GROWTH_RANGE, 1.0, key="sd_growth")
    # The decomposition is fitted and drawn only after the reveal; before it the pooled
    # line suffices.
    settings = lesson.Reading(children, entry_spread, growth, cohort, sd_level, sd_growth,
                              noise, random_slope, is_answered("long_p1_q"), show_child_lines)
    prefetch(lesson.READING, settings, "long_reading_last")
    # One draw per press: a random-slope fit of many children can take half a second, but
    # drawing the chart twice (without, then with it) cost the browser more; the prefetcher
    # has usually fitted the next step already.
    reading = run(lesson.READING, settings, spinner="Fitting the multilevel growth model…")
    chart_col, side_col = st.columns([3, 2])
    with chart_col:
        show_chart(reading.chart, key="long_reading_chart")
    with side_col:
        st.metric("Pooled slope (points per year of age)", f"{reading.pooled_slope:+.2f}")
        st.metric("True within-child growth (simulation)", f"{growth:+.2f}")
        if reading.growth_slope is not None:
            st.metric("Multilevel growth model: slope of age", f"{reading.growth_slope:+.2f}")
            st.caption(f"Multilevel growth model: `{reading.growth_formula}` (REML).")
        if reading.growth_error:
            st.warning(f"No growth model: {reading.growth_error}")
        show_diagnostics(reading.messages)

    ask_then_show(LESSON["question-explanations"], "long_p1_q",
                  "The within- and between-child slopes",
                  partial(show_decomposition, reading, growth, cohort),
                  evidence=lambda: long_questions.explanations_evidence(reading))


def show_decomposition(reading: lesson.ReadingView, growth: float, cohort: float) -> None:
    """Part 1's answer: age's two jobs given two coefficients, and the growth model."""
    show_lesson_section(LESSON["decomposition"])
    table_col, figure_col = st.columns([2, 3])
    with figure_col:
        if reading.slopes_chart is not None:
            show_chart(reading.slopes_chart, key="long_slopes_chart")
    with table_col:
        if reading.slopes_table is not None:
            show_table(reading.slopes_table)
        if abs(cohort) < 1e-9:
            st.success("The cohort effect is 0: pooled, within and between slopes estimate the "
                       "same thing, and differ only by chance.")
        else:
            st.caption(f"True within slope {growth:+.1f}, true between slope "
                       f"{growth + cohort:+.1f}: the cohort effect is their difference, "
                       f"{cohort:+.1f}.")
    show_lesson_section(LESSON["growth-model"])
    if reading.person_mean is not None:
        with st.expander("The person-mean-centred model in full"):
            st.latex(reading.person_mean.latex)
            show_table(reading.person_mean.fixed)
            show_estimation_help()
            show_code_tabs(reading.person_mean.code, key="long_reading_code")


def view_growth():
    show_lesson_section(LESSON["part2"])
    simulated_note(f"{lesson.GROWTH_CHILDREN} simulated children (seeded); occasions go "
                   "missing completely at random.")
    growth_lab()


@fragment
def growth_lab():
    """Part 2: complete cases against every observation."""
    columns = st.columns(3)
    settings = lesson.Growth(
        controls.slider("Planned occasions", lesson.OCCASIONS_RANGE, 5, key="occasions",
                        where=columns[0]),
        controls.slider("Share of occasions missing at random", lesson.MISSING_RANGE, 0.2,
                        key="missing", where=columns[1]),
        controls.slider("Irregular timing (0 = on the yearly grid, 1 = up to half a year off)",
                        lesson.IRREGULAR_RANGE, 0.0, key="irregular", where=columns[2]))
    prefetch(lesson.GROWTH, settings, "long_growth_last")
    result = run(lesson.GROWTH, settings, spinner="Fitting the growth models…")
    cc = result.complete_case
    answer = ask(LESSON["question-complete-case"], "long_p2_q",
                 evidence=lambda: long_questions.complete_case_evidence(result))
    show_chart(result.chart, key="long_growth_chart")
    if cc["children_used"] < 2:
        st.warning("Fewer than two children have every occasion: a complete-case "
                   "repeated-measures analysis has nothing to estimate from.")
    show_diagnostics(result.messages)
    if not answer:
        show_locked_hint("What each analysis uses and estimates")
        return
    with answer:
        metrics = st.columns(3)
        metrics[0].metric("Children a complete-case analysis must drop",
                          f"{cc['children_dropped']} of {cc['children_planned']}")
        metrics[1].metric("Measurements it uses", f"{cc['rows_used']} of {cc['rows_available']}")
        metrics[2].metric("Measurements MixedLM uses",
                          f"{result.mixed_rows} of {cc['rows_available']}"
                          if result.mixed_rows is not None else "none")
        # Full width: beside the chart the two analyses' column names were cut off.
        show_table(result.table)
        show_lesson_section(LESSON["part2-notes"])


def view_real_data():
    oxboys_tab, egsingle_tab = st.tabs(["Oxford boys: a growth spurt", "Chicago pupils: three levels"])
    with oxboys_tab:
        show_lesson_section(LESSON["oxboys"])
        oxboys = run_or_explain(lesson.OXBOYS, REAL_DATA,
                                "Fitting the Oxford boys' growth curves…")
        if oxboys is not None:
            show_oxboys(oxboys)
    with egsingle_tab:
        show_lesson_section(LESSON["egsingle"])
        if controls.toggle("Fit the Chicago data (7230 measurements; a few seconds the first "
                           "time)", key="egsingle"):
            egsingle = run_or_explain(
                lesson.EGSINGLE, REAL_DATA,
                "Fitting 7230 measurements of 1721 pupils (a few seconds, once)…")
            if egsingle is not None:
                show_egsingle(egsingle)


def show_oxboys(oxboys: lesson.OxboysView) -> None:
    """The Oxford boys' curves; the fitted models answer the question."""
    # The curves stay on screen; the fitted variances (in the model) answer the question.
    answer = ask(LESSON["question-boys-differ"], "long_real_ox_q",
                 evidence=lambda: long_questions.boys_evidence(oxboys))
    show_chart(oxboys.chart, key="long_oxboys_chart")
    show_diagnostics(oxboys.messages)
    if answer:
        with answer:
            show_oxboys_models(oxboys)
    else:
        show_locked_hint("The fitted growth models")
    show_code_tabs(oxboys.code, key="long_oxboys_code")


def show_oxboys_models(oxboys: lesson.OxboysView) -> None:
    """The Oxford boys' fitted quadratic model and its comparison with the straight line: the
    residual variances of the REML fits, and the two models compared on their ML fits."""
    left, right = st.columns(2)
    with left:
        st.latex(oxboys.latex)
        show_table(oxboys.fixed)
    with right:
        show_table(oxboys.comparison)
        st.caption(oxboys.test_sentence)
    show_estimation_help()


def show_egsingle(egsingle: lesson.EgsingleView) -> None:
    """Chicago pupils by child and by school, then the three-level model behind its
    question."""
    show_chart(egsingle.chart, key="long_egsingle_chart")
    show_diagnostics(egsingle.messages)
    left, right = st.columns(2)
    with left:
        st.markdown("**Children: `math ~ year + (year | childid)`**")
        show_table(egsingle.children)
    with right:
        st.markdown("**Schools: `math ~ year + (year | schoolid)`**")
        show_table(egsingle.schools)
    show_code_tabs(egsingle.children_code, key="long_children_code")
    show_lesson_section(LESSON["egsingle-three-levels"])
    show_diagnostics(egsingle.three_level_messages)
    answer = ask(LESSON["question-three-levels"], "long_real_eg_q",
                 evidence=lambda: long_questions.three_levels_evidence(egsingle))
    if answer:
        with answer:
            show_chart(egsingle.partition_chart, key="long_egsingle_levels_chart")
            left, right = st.columns(2)
            show_table(egsingle.summary, where=left)
            show_table(egsingle.fixed, where=right)
    else:
        show_locked_hint("The three-level model's split of the variance")
    show_code_tabs(egsingle.three_level_code, key="long_three_level_code")


def view_autocorrelation():
    show_lesson_section(LESSON["autocorrelation"])
    # The evidence is the same at every rho: the view's default setting gives it.
    default = run_or_explain(lesson.AR1, lesson.Ar1(), "Reading the simulation…")
    if default is None:
        return
    ask_then_show(LESSON["question-autocorrelation"], "long_ar1_q", "The simulation's results",
                  ar1_lab,
                  evidence=lambda: long_questions.autocorrelation_evidence(default))


@fragment
def ar1_lab() -> None:
    """Section 4's answer: reported against actual SEs, by model and rho."""
    chart = st.container()
    rho = controls.select_slider("Error correlation rho", lesson.AR1_RHOS,
                                 lesson.Ar1().rho, key="rho")
    result = run_or_explain(lesson.AR1, lesson.Ar1(rho), "Reading the simulation…")
    if result is None:
        return
    show_chart(result.chart, key="long_ar1_chart", where=chart)
    show_table(result.table)
    st.caption("Simulated data (seeded, precomputed by `python -m hlmlab.analyses.longitudinal`; "
               "see data/README.md).")
    show_lesson_section(LESSON["autocorrelation-results"])


show_views([
    View("1 · Reading and age", view_reading),
    View("2 · Growth curves, unbalanced", view_growth),
    View("3 · Real growth data", view_real_data),
    View("4 · Autocorrelated errors", view_autocorrelation),
], key="long_view")
