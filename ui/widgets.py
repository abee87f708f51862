"""The lesson pages' shared display pieces: lesson text, notes about a fit, the code that
reproduces it, and where the data come from. Presentation only, no maths. (Questions are
:mod:`ui.questions`.)"""

from __future__ import annotations

from functools import lru_cache

import streamlit as st

from hlmlab import report
from hlmlab.lesson_text import LessonSection, load_lesson
from ui.tables import show_table

__all__ = ["ESTIMATION_HELP_LABEL", "ESTIMATION_TERMS", "show_code_tabs", "show_diagnostics",
           "show_estimation_help", "show_fit_summary", "show_lesson_section", "show_source_note"]

#: The glossary entries (lessons/glossary.md) that explain the REML/ML choice, the
#: likelihood rows and the two SE columns: one text, shown wherever those appear.
ESTIMATION_TERMS = ("reml", "ml", "fixed-effect-se")

_SEVERITY = {"error": st.error, "warning": st.warning, "teaching": st.info, "info": st.caption}
_ICONS = {"error": ":material/error:", "warning": ":material/warning:", "teaching": ":material/school:"}


def show_lesson_section(section: LessonSection) -> None:
    """A lesson section's heading (if any) and body."""
    if section.title:
        st.subheader(section.title)
    if section.body:
        st.markdown(section.body)


def show_diagnostics(messages) -> None:
    """Plain-language notes about a fit, coloured by how much they matter."""
    for message in messages:
        show = _SEVERITY.get(message.severity, st.info)
        if message.severity == "info":
            show(f"**{message.headline}** {message.detail}")
        else:
            show(f"**{message.headline}** {message.detail}", icon=_ICONS[message.severity])


def show_source_note(data, synthetic_note: str) -> None:
    """Say plainly whether the rows on screen are real.

    ``synthetic_note`` is the lesson's own words about its replica (a section of its
    Markdown file), shown when the data are synthetic.
    """
    label = data.attrs.get("label", "data")
    if data.attrs.get("synthetic"):
        st.info(synthetic_note, icon=":material/science:")
    else:
        dropped = data.attrs.get("dropped_rows", 0)
        extra = f" {dropped} rows with missing values were left out." if dropped else ""
        st.caption(f"**{label}**: real data.{extra}")


@lru_cache(maxsize=1)
def _estimation_entries() -> tuple[LessonSection, ...]:
    glossary = load_lesson("glossary")
    return tuple(glossary[key] for key in ESTIMATION_TERMS)


ESTIMATION_HELP_LABEL = "REML or ML? Why two standard errors?"


def show_estimation_help() -> None:
    """What REML and ML estimate, when to use which, why REML likelihoods of models with
    different fixed effects cannot be compared, and why the two SE columns differ: the
    glossary's entries (``ESTIMATION_TERMS``), folded away, wherever an estimation choice,
    a log-likelihood or the two SE columns are shown."""
    with st.expander(ESTIMATION_HELP_LABEL, icon=":material/help:"):
        for entry in _estimation_entries():
            st.markdown(f"**{entry.title}.** {entry.body}")


def show_fit_summary(summary) -> None:
    """Beside a chart: why there is no multilevel fit, or its diagnostics, equation and
    variance components (all numbers from the fit object, as the reference tests check),
    and what the estimation method and the two SE columns of its fixed effects mean.

    Parameters
    ----------
    summary : a :class:`hlmlab.report.FitSummary` (a panel's result, drawn as it is), or a
        pooling comparison, for pages not yet on panels (its variance table is then
        converted for ``st.dataframe`` on every run, as those pages' tests read it).
    """
    if isinstance(summary, report.FitSummary):
        show_diagnostics(summary.messages)
        if summary.latex is not None:
            st.latex(summary.latex)
        if summary.variance is not None:
            show_table(summary.variance)
            show_estimation_help()
        return
    fit = summary.multilevel
    show_diagnostics(summary.messages)
    if fit is None:
        return
    show_diagnostics(fit.messages)
    if fit.usable:
        st.latex(report.model_latex(fit))
        st.dataframe(report.variance_table(fit)[["shown"]], width="stretch",
                     column_config={"shown": "value"})
        show_estimation_help()


def show_code_tabs(fit, pooled=None, *, key: str) -> None:
    """The exact calls that reproduce a fit, in Python and in R, folded away so they do not
    crowd a projected page.

    The code is drawn only while its expander is open (a lazy expander: opening it reruns
    the page or fragment). Closed, it costs a new tab nothing: drawn always, the syntax
    highlighting of these blocks took 230-320 ms of a new tab's main thread in Chromium
    (NELS88 and Foundations, CPU profile, benchmarks/README.md, session 7), more than any
    other single part of the page's first render.

    Parameters
    ----------
    fit : a :class:`hlmlab.report.FitCode` (a panel's result), or a fit (anything with
        ``.code`` and ``.lme4``).
    pooled : with a fit, the pooled OLS fit shown beside it (optional).
    key : the expander's key, unique on its page: it keeps the expander open or closed
        while the student moves sliders.
    """
    with st.expander("Run it yourself: the statsmodels and lme4 code", icon=":material/code:",
                     key=key, on_change="rerun") as expander:
        if not expander.open:
            return
        code = fit if isinstance(fit, report.FitCode) else report.fit_code(fit, pooled)
        python_tab, r_tab = st.tabs(["statsmodels (Python)", "lme4 (R)"])
        with python_tab:
            st.code(code.code, language="python")
            if code.pooled_code is not None:
                st.caption("The pooled line:")
                st.code(code.pooled_code, language="python")
            if code.optimizer_note:
                st.caption(code.optimizer_note)
        with r_tab:
            st.code(code.lme4, language="r")
