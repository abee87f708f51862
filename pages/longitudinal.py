"""Longitudinal data: the deck's reading-vs-age puzzle, then growth curves with unbalanced data."""

from __future__ import annotations

from functools import partial

import streamlit as st

from hlmlab import report
from hlmlab.analyses import longitudinal
from hlmlab.analyses import longitudinal_figures as lplots
from hlmlab.analyses import longitudinal_questions as long_questions
from hlmlab.errors import ModelDataError
from hlmlab.lesson_text import load_lesson
from hlmlab.panels import SliderRange, snap_all
from ui.chart import prepare_chart, show_chart
from ui.navigation import ensure_app_frame
from ui.prefetch import prefetch_next_steps
from ui.questions import ask, ask_then_show, is_answered, show_locked_hint
from ui.script_runs import fragment
from ui.views import View, show_views
from ui.widgets import (
    show_code_tabs,
    show_diagnostics,
    show_estimation_help,
    show_lesson_section,
)

ensure_app_frame(__file__)
LESSON = load_lesson("longitudinal")
NUMBER = st.column_config.NumberColumn(format="%.3f")
READING_SLIDERS = ("children", "spread", "growth", "cohort", "sd_level", "sd_growth", "noise")
READING_RANGES = (SliderRange(10, longitudinal.MAX_CHILDREN, 10), SliderRange(0.2, 3.0, 0.1),
                  SliderRange(0.0, 12.0, 0.5), SliderRange(-15.0, 10.0, 0.5),
                  SliderRange(0.0, 10.0, 0.5), SliderRange(0.0, 4.0, 0.25),
                  SliderRange(0.0, 8.0, 0.5))
GROWTH_CHILDREN = 60
GROWTH_RANGES = (SliderRange(2, longitudinal.MAX_OCCASIONS, 1), SliderRange(0.0, 0.6, 0.05),
                 SliderRange(0.0, 1.0, 0.1))
QUICK_FIT_CHILDREN = 100  # up to here Part 1's growth model fits within a slider's budget


# --------------------------------------------------------------------------- cached fits
# Keyed on slider values only, so every session shares them.


@st.cache_data(show_spinner=False, max_entries=2048)
def reading_fits(n_children, entry_spread, growth, cohort, sd_level, sd_growth, noise,
                 decompose):
    data = longitudinal.simulate_reading(n_children, entry_spread, growth, cohort,
                                         sd_level, sd_growth, noise)
    return longitudinal.reading_comparison(data, decompose)


@st.cache_data(show_spinner=False, max_entries=2048)
def reading_growth_fit(n_children, entry_spread, growth, cohort, sd_level, sd_growth, noise,
                       random_slope=False):
    """Raises ModelDataError when the growth model cannot be fitted (not cached)."""
    data = longitudinal.simulate_reading(n_children, entry_spread, growth, cohort,
                                         sd_level, sd_growth, noise)
    return longitudinal.fit_reading_growth(data, random_slope)


def reading_growth_or_none(settings: tuple, random_slope: bool):
    """The growth model of ``settings``, or None when it cannot be fitted (the panel says
    why)."""
    try:
        return reading_growth_fit(*settings, random_slope)
    except ModelDataError:
        return None


# Figures are shared as objects: building one validates every trace, about 0.1 s, too slow
# to repeat on every slider move (Streamlit only reads them).
@st.cache_resource(show_spinner=False, max_entries=2048)
def reading_chart(settings: tuple, revealed: bool, with_growth: bool, show_child_lines: bool,
                  random_slope: bool = False):
    """Part 1's chart, with or without the (separately cached) growth model."""
    comparison = reading_fits(*settings, revealed)
    growth_fit = reading_growth_or_none(settings, random_slope) if with_growth else None
    return lplots.reading_figure(comparison, growth_fit, revealed, show_child_lines,
                                 title="Reading against age · hypothetical (simulated) children")


@st.cache_resource(show_spinner=False, max_entries=1024)
def growth_chart(settings: tuple):
    """Part 2's chart with the MixedLM average curve."""
    result = growth_fits(*settings)
    return lplots.growth_figure(result.data, result.complete_children, result.mixed,
                                "Complete children and the rest · simulated growth data")


def warm_reading(settings: tuple, revealed: bool, show_child_lines: bool,
                 random_slope: bool) -> None:
    """Part 1's fits and chart for ``settings`` (the prefetcher's task)."""
    prepare_chart(reading_chart(settings, revealed, True, show_child_lines, random_slope))
    reading_growth_done().add((settings, random_slope))


@st.cache_resource(show_spinner=False)
def reading_growth_done() -> set:
    """(slider settings, random slope) whose growth-model fit is already cached (shared by
    all sessions)."""
    return set()


def warm_growth(values: tuple) -> None:
    """Part 2's fits and chart for the slider ``values`` (the prefetcher's task)."""
    prepare_chart(growth_chart((GROWTH_CHILDREN, *values)))


@st.cache_data(show_spinner=False, max_entries=1024)
def growth_fits(n_children, n_occasions, missing_share, irregular):
    data = longitudinal.simulate_growth(n_children, n_occasions, missing_share, irregular)
    return longitudinal.growth_comparison(data)


@st.cache_data(show_spinner="Fitting the Oxford boys' growth curves…")
def oxboys_fits():
    return longitudinal.oxboys_growth()


@st.cache_data(show_spinner="Fitting 7230 measurements of 1721 pupils (a few seconds, once)…")
def egsingle_fits():
    return longitudinal.egsingle_growth()


@st.cache_resource(show_spinner=False)
def egsingle_partition_figure():
    return lplots.egsingle_partition_figure(egsingle_fits())


@st.cache_data(show_spinner=False)
def ar1_summary():
    return longitudinal.summarise_ar1(longitudinal.load_ar1_simulation())


def simulated_note(text: str) -> None:
    st.info(f"**Simulated data.** {text}", icon=":material/science:")


# --------------------------------------------------------------------------- page

st.title("Longitudinal data: reading, age and growth")
show_lesson_section(LESSON["intro"])


@fragment
def reading_lab():
    """Part 1: its sliders rerun only this panel."""
    simulated_note("These children are hypothetical, as in the course deck: generated "
                   "(seeded) from the slider values, not measured.")
    columns = st.columns(3)
    grid = dict(zip(READING_SLIDERS, READING_RANGES))

    def slider(label, name, default, key, **extra):
        return st.slider(label, grid[name].low, grid[name].high, default, grid[name].step,
                         key=key, persist_state="session", **extra)

    with columns[0]:
        n_children = slider("Number of children", "children", 40, "long_p1_children")
        entry_spread = slider("Spread of entry ages (± years around 7)", "spread", 1.5,
                              "long_p1_entry_spread")
        noise = slider("Measurement error (SD, points)", "noise", 2.0, "long_p1_noise")
    with columns[1]:
        growth = slider("Within-child growth (points per year)", "growth", 6.0, "long_p1_growth")
        cohort = slider("Between-child (cohort) effect of entry age (points per year)", "cohort",
                        -9.0, "long_p1_cohort",
                        help="0 removes the confound: then children who entered older read "
                             "exactly as their age predicts.")
    with columns[2]:
        sd_level = slider("Children differ in level (SD, points)", "sd_level", 4.0,
                          "long_p1_sd_level")
        sd_growth = slider("Children differ in growth (SD, points per year)", "sd_growth", 1.0,
                           "long_p1_sd_growth")
    settings = snap_all((n_children, entry_spread, growth, cohort, sd_level, sd_growth, noise),
                        READING_RANGES)
    revealed = is_answered("long_p1_q")
    # The decomposition is shown only after the reveal; before it the pooled line suffices.
    comparison = reading_fits(*settings, revealed)

    chart_col, side_col = st.columns([3, 2])
    with chart_col:
        chart = st.empty()
        show_child_lines = st.toggle("Show each child's line from the multilevel model",
                                     key="long_p1_child_model_lines", persist_state="session")
        # Opens on the model two measurements per child can carry; the random slope (and
        # the boundary fit it usually brings) is there to be discovered.
        random_slope = st.toggle(
            "Let growth rates differ between children (random slope for age)",
            key="long_p1_random_slope", persist_state="session",
            help="Four variance parameters from two measurements per child: see "
                 "'The multilevel growth model' below.")
    # A random-slope fit takes 40-90 ms for up to a hundred children, but up to half a
    # second for more (or on the boundary). Only then is the chart drawn at once without it,
    # and again when it is ready: drawing twice costs the browser more than a short fit.
    growth_fit, growth_error = None, ""
    slow = random_slope and n_children > QUICK_FIT_CHILDREN
    if slow and (settings, random_slope) not in reading_growth_done():
        show_chart(reading_chart(settings, revealed, False, False), "long_reading_quick_chart",
                   where=chart)
        with side_col:
            with st.spinner("Fitting the multilevel growth model…"):
                try:
                    growth_fit = reading_growth_fit(*settings, random_slope)
                except ModelDataError as exc:
                    growth_error = str(exc)
        reading_growth_done().add((settings, random_slope))
    else:
        try:
            growth_fit = reading_growth_fit(*settings, random_slope)
        except ModelDataError as exc:
            growth_error = str(exc)
    show_chart(reading_chart(settings, revealed, True, show_child_lines, random_slope),
               key="long_reading_chart", where=chart)
    prefetch_next_steps("long_p1_last", settings, READING_RANGES,
                        partial(warm_reading, revealed=revealed, show_child_lines=show_child_lines,
                                random_slope=random_slope))

    with side_col:
        slopes = comparison.slopes()
        st.metric("Pooled slope (points per year of age)", f"{slopes.loc['pooled', 'estimate']:+.2f}")
        st.metric("True within-child growth (simulation)", f"{growth:+.2f}")
        if growth_fit is not None and growth_fit.usable:
            st.metric("Multilevel growth model: slope of age",
                      f"{growth_fit.fixed['age']:+.2f}")
            st.caption("Multilevel growth model: `reading ~ age + "
                       + ("(age | child)`" if random_slope else "(1 | child)`") + " (REML).")
        show_diagnostics(comparison.messages)
        if growth_error:
            st.warning(f"No growth model: {growth_error}")
        if growth_fit is not None:
            show_diagnostics(growth_fit.messages)

    ask_then_show(LESSON["question-explanations"], "long_p1_q",
                  "The within- and between-child slopes",
                  partial(show_decomposition, comparison, slopes, growth, cohort),
                  evidence=lambda: long_questions.explanations_evidence(comparison))


def show_decomposition(comparison, slopes: pd.DataFrame, growth: float, cohort: float) -> None:
    """Part 1's answer: age's two jobs given two coefficients, and the growth model."""
    show_lesson_section(LESSON["decomposition"])
    table_col, figure_col = st.columns([2, 3])
    with figure_col:
        show_chart(lplots.slopes_figure(slopes, "Three slopes of one variable"),
                        key="long_slopes_chart")
    with table_col:
        shown = slopes.rename(columns={"estimate": "estimate", "se": "SE",
                                       "model": "what age means here",
                                       "truth": "true value (simulation)"})
        st.dataframe(shown, width="stretch",
                     column_config={"estimate": NUMBER, "SE": NUMBER,
                                    "true value (simulation)": NUMBER})
        if abs(cohort) < 1e-9:
            st.success("The cohort effect is 0: pooled, within and between slopes estimate the "
                       "same thing, and differ only by chance.")
        else:
            st.caption(f"True within slope {growth:+.1f}, true between slope "
                       f"{growth + cohort:+.1f}: the cohort effect is their difference, "
                       f"{cohort:+.1f}.")
    show_lesson_section(LESSON["growth-model"])
    if comparison.person_mean is not None and comparison.person_mean.usable:
        with st.expander("The person-mean-centred model in full"):
            st.latex(report.model_latex(comparison.person_mean))
            st.dataframe(report.fixed_effects_table(comparison.person_mean, None), width="stretch")
            show_estimation_help()
            show_code_tabs(comparison.person_mean)


def view_reading():
    show_lesson_section(LESSON["part1"])
    reading_lab()


@fragment
def growth_lab():
    """Part 2: complete cases against every observation."""
    simulated_note(f"{GROWTH_CHILDREN} simulated children (seeded); occasions go missing "
                   "completely at random.")
    columns = st.columns(3)
    occasions_range, missing_range, irregular_range = GROWTH_RANGES
    n_occasions = columns[0].slider("Planned occasions", occasions_range.low,
                                    occasions_range.high, 5, occasions_range.step,
                                    key="long_p2_occasions", persist_state="session")
    missing = columns[1].slider("Share of occasions missing at random", missing_range.low,
                                missing_range.high, 0.2, missing_range.step, key="long_p2_missing",
                                persist_state="session")
    irregular = columns[2].slider("Irregular timing (0 = on the yearly grid, 1 = up to half a "
                                  "year off)", irregular_range.low, irregular_range.high, 0.0,
                                  irregular_range.step, key="long_p2_irregular",
                                  persist_state="session")
    values = snap_all((n_occasions, missing, irregular), GROWTH_RANGES)
    settings = (GROWTH_CHILDREN, *values)
    prefetch_next_steps("long_p2_last", values, GROWTH_RANGES, warm_growth)
    # 60 children: MixedLM takes 60-120 ms, less than a second chart redraw would cost.
    result = growth_fits(*settings)
    cc, mixed = result.complete_case, result.mixed
    answer = ask(LESSON["question-complete-case"], "long_p2_q",
                 evidence=lambda: long_questions.complete_case_evidence(result))
    show_chart(growth_chart(settings), key="long_growth_chart")
    if cc["children_used"] < 2:
        st.warning("Fewer than two children have every occasion: a complete-case "
                   "repeated-measures analysis has nothing to estimate from.")
    show_diagnostics(result.messages)
    if mixed is not None:
        show_diagnostics(mixed.messages)
    if not answer:
        show_locked_hint("What each analysis uses and estimates")
        return
    with answer:
        metrics = st.columns(3)
        metrics[0].metric("Children a complete-case analysis must drop",
                          f"{cc['children_dropped']} of {cc['children_planned']}")
        metrics[1].metric("Measurements it uses", f"{cc['rows_used']} of {cc['rows_available']}")
        metrics[2].metric("Measurements MixedLM uses",
                          f"{mixed.n_obs} of {cc['rows_available']}" if mixed is not None
                          else "none")
        # Full width: beside the chart the two analyses' column names were cut off.
        st.dataframe(result.table(), width="stretch",
                     column_config={c: NUMBER for c in result.table().columns})
        show_lesson_section(LESSON["part2-notes"])


def view_growth():
    show_lesson_section(LESSON["part2"])
    growth_lab()


def view_real_data():
    oxboys_tab, egsingle_tab = st.tabs(["Oxford boys: a growth spurt", "Chicago pupils: three levels"])
    with oxboys_tab:
        show_lesson_section(LESSON["oxboys"])
        oxboys = oxboys_fits()
        ox_quadratic = oxboys.quadratic
        # The curves stay on screen; the fitted variances (in the model) answer the question.
        answer = ask(LESSON["question-boys-differ"], "long_real_ox_q",
                     evidence=lambda: long_questions.boys_evidence(oxboys))
        show_chart(lplots.oxboys_figure(oxboys), key="long_oxboys_chart")
        show_diagnostics(ox_quadratic.messages)
        if answer:
            with answer:
                show_oxboys_models(oxboys)
        else:
            show_locked_hint("The fitted growth models")
        show_code_tabs(ox_quadratic)

    with egsingle_tab:
        show_lesson_section(LESSON["egsingle"])
        if st.toggle("Fit the Chicago data (7230 measurements; a few seconds the first time)",
                     key="long_real_egsingle_on", persist_state="session"):
            egsingle = egsingle_fits()
            eg_children, eg_schools, eg_three = (egsingle.children, egsingle.schools,
                                                 egsingle.three_level)
            show_chart(lplots.egsingle_figure(egsingle), key="long_egsingle_chart")
            show_diagnostics(eg_children.messages + eg_schools.messages)
            left, right = st.columns(2)
            with left:
                st.markdown("**Children: `math ~ year + (year | childid)`**")
                st.dataframe(report.variance_table(eg_children)[["shown"]], width="stretch",
                             column_config={"shown": "value"})
            with right:
                st.markdown("**Schools: `math ~ year + (year | schoolid)`**")
                st.dataframe(report.variance_table(eg_schools)[["shown"]], width="stretch",
                             column_config={"shown": "value"})
            show_code_tabs(eg_children)
            show_lesson_section(LESSON["egsingle-three-levels"])
            show_diagnostics(eg_three.messages)
            answer = ask(LESSON["question-three-levels"], "long_real_eg_q",
                         evidence=lambda: long_questions.three_levels_evidence(egsingle))
            if answer:
                with answer:
                    show_chart(egsingle_partition_figure(), key="long_egsingle_levels_chart")
                    summary, fixed = report.three_level_tables(eg_three,
                                                               longitudinal.EGSINGLE_LEVELS)
                    left, right = st.columns(2)
                    left.dataframe(summary[["shown"]], width="stretch",
                                   column_config={"shown": "value"})
                    right.dataframe(fixed, width="stretch",
                                    column_config={"estimate": NUMBER, "SE": NUMBER})
            else:
                show_locked_hint("The three-level model's split of the variance")
            show_code_tabs(eg_three)


def show_oxboys_models(oxboys) -> None:
    """The Oxford boys' fitted quadratic model and its comparison with the straight line: the
    residual variances of the REML fits, and the two models compared on their ML fits."""
    ox_quadratic = oxboys.quadratic
    left, right = st.columns(2)
    with left:
        st.latex(report.model_latex(ox_quadratic))
        st.dataframe(report.fixed_effects_table(ox_quadratic), width="stretch")
    with right:
        st.dataframe(oxboys.comparison_table(), width="stretch",
                     column_config={"straight line": NUMBER, "quadratic": NUMBER})
        test = oxboys.likelihood_ratio()
        st.caption(
            "The residual variance (REML fits) drops when the curve can bend. The two "
            "models differ in their fixed effects, so they are compared on their ML fits: "
            "likelihood-ratio test of the quadratic term, "
            f"χ² = {test.statistic:.1f} on {test.df} df, "
            + (f"p = {test.p_value:.3g}" if test.p_value >= 1e-4 else "p < 0.0001") + ".")
    show_estimation_help()


def view_autocorrelation():
    show_lesson_section(LESSON["autocorrelation"])
    summary = ar1_summary()
    ask_then_show(LESSON["question-autocorrelation"], "long_ar1_q", "The simulation's results",
                  partial(show_ar1_results, summary),
                  evidence=lambda: long_questions.autocorrelation_evidence(summary))


def show_ar1_results(summary: pd.DataFrame) -> None:
    """Section 4's answer: reported against actual SEs, by model and rho."""
    show_chart(lplots.ar1_figure(summary, "Ignoring autocorrelation: reported vs actual SE"),
               key="long_ar1_chart")
    rho = st.select_slider("Error correlation rho", options=sorted(summary["rho"].unique()),
                           value=sorted(summary["rho"].unique())[-1], key="long_ar1_rho",
                           persist_state="session")
    shown = summary[summary["rho"] == rho].assign(model=lambda d: d["model"].map(lplots.MODEL_LABELS))
    st.dataframe(
        shown.set_index("model")[["actual_sd", "mean_reported_se", "ratio", "coverage"]].rename(
            columns={"actual_sd": "actual SD of the estimate", "mean_reported_se": "mean reported SE",
                     "ratio": "reported / actual", "coverage": "95 % intervals holding the truth"}),
        width="stretch",
        column_config={"actual SD of the estimate": NUMBER, "mean reported SE": NUMBER,
                       "reported / actual": NUMBER,
                       "95 % intervals holding the truth": st.column_config.NumberColumn(format="%.2f")},
    )
    st.caption("Simulated data (seeded, precomputed by `python -m hlmlab.analyses.longitudinal`; "
               "see data/README.md).")
    show_lesson_section(LESSON["autocorrelation-results"])


show_views([
    View("1 · Reading and age", view_reading),
    View("2 · Growth curves, unbalanced", view_growth),
    View("3 · Real growth data", view_real_data),
    View("4 · Autocorrelated errors", view_autocorrelation),
], key="long_view")
