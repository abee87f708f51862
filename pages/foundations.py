"""Foundations: what a multilevel model is, where the variability and the dependence of
grouped data come from, why the analysis must take the structure in, and the course's
summary."""

from __future__ import annotations

from functools import partial

import streamlit as st

from hlmlab.analyses import foundations as lesson
from hlmlab.analyses import foundations_questions as questions
from hlmlab.lesson_text import load_lesson
from hlmlab.panels import SliderRange
from ui import controls
from ui.chart import show_chart
from ui.navigation import ensure_app_frame
from ui.panels import prefetch, run, run_or_explain
from ui.questions import ask, ask_then_show, is_answered, show_locked_hint
from ui.script_runs import fragment
from ui.tables import show_table
from ui.views import View, show_views
from ui.widgets import show_code_tabs, show_diagnostics, show_lesson_section

ensure_app_frame(__file__)
LESSON = load_lesson("foundations")
SOURCES_DEFAULT = lesson.SourcesSettings()
EXPERIMENT_DEFAULT = lesson.ExperimentSettings()
DESIGN_EFFECT_DEFAULT = lesson.DesignEffectSettings()
SEEDS = SliderRange(0, 999_999, 1)  # any seeded sample can be shared by its number
SYNTHETIC = (":material/science: Synthetic: simulated by the app (seeded), not real people. "
             "The sample number draws another sample.")
DESIGN_BY_LABEL = {label: key for key, label in lesson.DESIGNS.items()}
MECHANISM_BY_LABEL = {label: key for key, label in lesson.MECHANISMS.items()}
# Each source's slider: its label and URL key.
SOURCE_SLIDERS = {
    "family": ("SD between families", "fnd_sd_family"),
    "individual": ("SD between individuals", "fnd_sd_indiv"),
    "serial": ("SD of the occasion deviations", "fnd_sd_serial"),
    "measurement": ("SD of measurement error", "fnd_sd_error"),
}


def next_sample(key: str) -> None:
    """A "New sample" button: the next seed (a callback, so its number input, bound to the
    URL, shows it in the same run)."""
    st.session_state[key] = SEEDS.snap(min(st.session_state[key] + 1, SEEDS.high))


def sample_number(key: str, default: int, where) -> int:
    """The seed of a simulation, with a button that draws the next one."""
    seed = controls.number_input("Sample number", SEEDS, default, key=key, where=where)
    where.button("New sample", icon=":material/casino:", key=f"{key}_new_button",
                 on_click=next_sample, args=(key,))
    return seed


def panel_result(panel, settings, state_key: str, spinner: str):
    """A lab's result (its neighbours prefetched), or None after saying why there is none."""
    prefetch(panel, settings, state_key)
    return run_or_explain(panel, settings, spinner=spinner)


def chart_beside_numbers(chart, key: str):
    """A lab's chart (labelled synthetic) on the left; returns the column for its numbers."""
    chart_column, numbers_column = st.columns([3, 2])
    with chart_column:
        show_chart(chart, key=key)
        st.caption(SYNTHETIC)
    return numbers_column


def source_slider(name: str, default: float, label: str, key: str, where):
    return controls.slider(label, lesson.SOURCES_SLIDERS[name], default, key=key, where=where)


# --------------------------------------------------------------------------- 1 · definitions


def view_definitions() -> None:
    for section in ("definitions", "examples", "terminology"):
        show_lesson_section(LESSON[section])
    ask(LESSON["question-levels"], "fnd_levels_q",
        evidence=lambda: questions.levels_evidence(run(lesson.SOURCES, questions.LEVELS_PREMISE)))


# --------------------------------------------------------------------------- 2 · sources


def view_sources() -> None:
    show_lesson_section(LESSON["sources"])
    # Options are the labels themselves (a format_func would hide them from the URL's
    # spellings and from tests); the URL's short names are the design numbers.
    chosen = controls.segmented_control(
        "Design", list(DESIGN_BY_LABEL), lesson.DESIGNS[SOURCES_DEFAULT.design],
        key="fnd_design", short=tuple(lesson.DESIGNS), width="stretch")
    if chosen is None:  # clicking the chosen design again clears it; keep the last one
        chosen = st.session_state.get("fnd_last_design", lesson.DESIGNS[SOURCES_DEFAULT.design])
    st.session_state["fnd_last_design"] = chosen
    design = DESIGN_BY_LABEL[chosen]
    answer = ask(LESSON["question-identify"], "fnd_identify_q",
                 evidence=lambda: questions.identify_evidence(
                     *(run(lesson.SOURCES, premise) for premise in questions.IDENTIFY_PREMISES)))
    if answer:
        with answer:
            show_lesson_section(LESSON["sources-readings"])
    else:
        show_locked_hint("Why repeated readings are needed")
    # How to read the bars, before them: the lab's fragment holds only what a slider changes.
    show_lesson_section(LESSON["sources-partition"])
    sources_lab(design)


def sources_settings(design: str) -> lesson.SourcesSettings:
    """The sliders the design uses (a design's other settings do not change its data)."""
    d = SOURCES_DEFAULT
    uses = lesson.DESIGN_SOURCES[design]
    has_families, over_time = design in ("II", "IV"), design in ("III", "IV")
    spreads, sizes = st.columns(2)
    values = {"design": design}
    for source in uses:
        label, key = SOURCE_SLIDERS[source]
        field = lesson.SOURCE_SD_FIELD[source]
        values[field] = source_slider(field, getattr(d, field), label, key, spreads)
    if over_time:
        values["serial_correlation"] = source_slider(
            "serial_correlation", d.serial_correlation, "Serial correlation, one occasion apart",
            "fnd_rho", spreads)
    if has_families:
        values["n_families"] = source_slider("n_families", d.n_families, "Families",
                                             "fnd_families", sizes)
        values["members"] = source_slider("members", d.members, "Members per family",
                                          "fnd_members", sizes)
    else:
        values["n_individuals"] = source_slider("n_individuals", d.n_individuals, "Individuals",
                                                "fnd_people", sizes)
    if over_time:
        values["occasions"] = source_slider("occasions", d.occasions, "Occasions per individual",
                                            "fnd_occasions", sizes)
    if design != "IV":
        values["readings"] = source_slider(
            "readings", d.readings,
            "Readings at the same time" + (" (per occasion)" if over_time else ""),
            "fnd_readings", sizes)
    values["seed"] = sample_number("fnd_sample", d.seed, sizes)
    return lesson.SourcesSettings(**values)


@fragment
def sources_lab(design: str) -> None:
    """The sources lab: the design's sliders, the partition it recovers, and what serial
    correlation does."""
    settings = sources_settings(design)
    view = panel_result(lesson.SOURCES, settings, "fnd_sources_last", "Simulating and fitting…")
    if view is None:
        return
    # The chart across the page, the notes beside the partition's table below it: in a
    # column beside the chart the tables scrolled sideways.
    show_chart(view.partition_chart, key="fnd_sources_chart")
    st.caption(SYNTHETIC)
    notes, numbers = st.columns(2)
    with notes:
        st.markdown(f"**Fitted model** (lme4 notation): `{view.formula}`")
        show_diagnostics(view.messages)
    with numbers:
        show_table(view.partition)
    if view.iccs is not None:
        show_table(view.iccs)
    if view.code is not None:
        show_code_tabs(view.code, key=f"sources_code_{design}")
    # Asked before the serial correlation section, which answers it; inside the fragment, as
    # its charts follow the sliders (designs III and IV).
    ask_then_show(LESSON["question-serial"], "fnd_serial_q",
                  "What serial correlation does to the residuals and the SE",
                  partial(show_serial, view),
                  evidence=lambda: questions.serial_evidence(
                      run(lesson.SOURCES, questions.SERIAL_PREMISE)))


def show_serial(view: lesson.SourcesView) -> None:
    """The serial correlation's effect: the slope's SE over rho, and the residuals (of
    design III at its defaults when the design chosen has no serial correlation)."""
    show_lesson_section(LESSON["serial"])
    if view.serial_chart is None:
        st.caption("Design III at its defaults: choose design III or IV above to set the "
                   "serial correlation yourself.")
        view = run(lesson.SOURCES, questions.SERIAL_PREMISE)
    se_column, residual_column = st.columns(2)
    with se_column:
        show_chart(view.serial_chart, key="fnd_serial_chart")
        show_table(view.se_table)
    with residual_column:
        show_chart(view.residual_chart, key="fnd_residual_chart")
        show_table(view.residual_table)
    st.caption(SYNTHETIC)


# --------------------------------------------------------------------------- 3 · dependence


def view_dependence() -> None:
    show_lesson_section(LESSON["dependence"])
    mechanism = controls.radio("How the dependence arises", list(MECHANISM_BY_LABEL), 0,
                               key="fnd_mechanism", short=tuple(lesson.MECHANISMS))
    experiment_lab(MECHANISM_BY_LABEL[mechanism])


@fragment
def experiment_lab(mechanism: str) -> None:
    """The experiment lab: one experiment drawn, then the rejection rates of many."""
    d, grids = EXPERIMENT_DEFAULT, lesson.EXPERIMENT_SLIDERS
    left, middle, right = st.columns(3)
    # The replicates change only the rejection rates, which the question hides: their slider
    # comes with the answer (before it, a press would change nothing on screen).
    replicates = (controls.slider("Replicate experiments", grids["n_experiments"],
                                  d.n_experiments, key="fnd_replicates", where=right)
                  if is_answered("fnd_experiment_q") else d.n_experiments)
    settings = lesson.ExperimentSettings(
        mechanism=mechanism,
        classes_per_arm=controls.slider("Classes per arm", grids["classes_per_arm"],
                                        d.classes_per_arm, key="fnd_classes", where=left),
        pupils_per_class=controls.slider("Pupils per class", grids["pupils_per_class"],
                                         d.pupils_per_class, key="fnd_class_size", where=left),
        icc=controls.slider("ICC the classes create", grids["icc"], d.icc, key="fnd_icc",
                            where=middle),
        effect=controls.slider("True treatment effect (points; SD 10)", grids["effect"],
                               d.effect, key="fnd_effect", where=middle),
        n_experiments=replicates,
        seed=sample_number("fnd_experiment", d.seed, right),
    )
    view = panel_result(lesson.EXPERIMENT, settings, "fnd_experiment_last",
                        "Simulating the experiments…")
    if view is None:
        return
    with chart_beside_numbers(view.experiment_chart, "fnd_experiment_chart"):
        estimated = st.columns(2)
        estimated[0].metric("ICC, this experiment's fit", f"{view.icc_estimated:.2f}")
        estimated[1].metric("Design effect at the ICC set", f"{view.design_effect:.2f}")
        if view.peer_influence is not None:
            st.caption(f"Peer influence b = {view.peer_influence:.2f}: each pupil's score is "
                       "their own disposition plus b times their class's mean disposition.")
        show_table(view.experiment_table)
        show_diagnostics(view.messages)
    show_code_tabs(view.code, key=f"experiment_code_{mechanism}")
    ask_then_show(LESSON["question-experiment"], "fnd_experiment_q",
                  "How often each test finds an effect over many experiments",
                  partial(show_rates, view),
                  evidence=lambda: questions.experiment_evidence(
                      run(lesson.EXPERIMENT, questions.EXPERIMENT_PREMISE)))


def show_rates(view: lesson.ExperimentView) -> None:
    """The rejection rates of the two tests over the replicate experiments."""
    show_chart(view.rates_chart, key="fnd_rates_chart")
    show_table(view.rates_table)
    st.caption(f"In {view.boundary_share:.0%} of the experiments the class variance was "
               "estimated as zero (a boundary fit): there the multilevel SE is the "
               "pupil-level one, with the class-level degrees of freedom.")


# --------------------------------------------------------------------------- 4 · why


def view_why() -> None:
    # The question first: the course's reasons, the section's body, answer it.
    section = LESSON["why-structure"]
    st.subheader(section.title)
    ask_then_show(LESSON["question-reasons"], "fnd_reasons_q",
                  "The course's reasons, each linked to a lesson that shows it live, and a "
                  "design-effect calculator,", partial(show_body, section, design_effect_lab),
                  evidence=lambda: questions.reasons_evidence(
                      run(lesson.DESIGN_EFFECT, questions.REASONS_PREMISE)))


def show_body(section, then=None) -> None:
    """A section's text without its heading (drawn above its question), then ``then()``."""
    st.markdown(section.body)
    if then is not None:
        then()


@fragment
def design_effect_lab() -> None:
    """Kish's design effect for any study of pupils in schools."""
    d, grids = DESIGN_EFFECT_DEFAULT, lesson.DESIGN_EFFECT_SLIDERS
    columns = st.columns(3)
    settings = lesson.DesignEffectSettings(
        schools=controls.slider("Schools", grids["schools"], d.schools, key="fnd_schools",
                                where=columns[0]),
        pupils_per_school=controls.slider("Pupils per school", grids["pupils_per_school"],
                                          d.pupils_per_school, key="fnd_per_school",
                                          where=columns[1]),
        icc=controls.slider("ICC", grids["icc"], d.icc, key="fnd_deff_icc", where=columns[2]),
    )
    view = run(lesson.DESIGN_EFFECT, settings)
    metrics = st.columns(3)
    metrics[0].metric("Design effect 1 + (n − 1) ICC", f"{view.design_effect:.2f}")
    metrics[1].metric("OLS SE too small by the factor", f"{view.se_factor:.2f}")
    metrics[2].metric(f"{view.pupils:,d} pupils are worth", f"{view.effective_pupils:,.0f}")


# --------------------------------------------------------------------------- 5 · summary


def view_summary() -> None:
    # The question first: the summary's first paragraph answers it.
    section = LESSON["summary"]
    st.subheader(section.title)
    ask_then_show(LESSON["question-assumptions"], "fnd_assume_q",
                  "The course's summary: its assumptions, its advantages and a warning,",
                  partial(show_body, section),
                  evidence=lambda: questions.assumptions_evidence(
                      run(lesson.EXPERIMENT, questions.ASSUMPTIONS_PREMISE)))


st.title("Foundations")
show_lesson_section(LESSON["intro"])
show_views([
    View("1 · What a multilevel model is", view_definitions),
    View("2 · Sources of variability", view_sources),
    View("3 · Where dependence comes from", view_dependence),
    View("4 · Why take the structure in", view_why),
    View("5 · The course in summary", view_summary),
], key="foundations_view")
