"""The lesson pages' shared display pieces: lesson text, questions, notes about a fit, the
code that reproduces it, and where the data come from. Presentation only, no maths."""

from __future__ import annotations

import streamlit as st

from hlmlab import report
from hlmlab.lesson_text import LessonSection
from ui.views import BUTTON_SUFFIX

__all__ = ["show_choice_question", "show_code_tabs", "show_diagnostics", "show_fit_summary",
           "show_lesson_section", "show_question", "show_source_note"]

_SEVERITY = {"error": st.error, "warning": st.warning, "teaching": st.info, "info": st.caption}
_ICONS = {"error": ":material/error:", "warning": ":material/warning:", "teaching": ":material/school:"}


def show_lesson_section(section: LessonSection) -> None:
    """A lesson section's heading (if any) and body."""
    if section.title:
        st.subheader(section.title)
    if section.body:
        st.markdown(section.body)


def show_question(section: LessonSection, key: str) -> None:
    """Predict, then reveal: the answer opens only after the student has committed."""
    st.subheader(section.title or "Question")
    st.markdown(section.body)
    guess = st.text_input("Your prediction (a few words)", key=f"{key}_guess",
                          persist_state="session")  # kept while another tab is open
    if st.button("Reveal the answer", key=key + BUTTON_SUFFIX, disabled=not guess.strip()):
        st.session_state[f"{key}_shown"] = True
    if st.session_state.get(f"{key}_shown"):
        st.success(section.answer)


def show_choice_question(section: LessonSection, key: str) -> bool:
    """Predict, then reveal, with a multiple choice: lines ``- ( ) text`` of the body are the
    choices. The choice is locked once the answer is shown. Returns whether it is shown.
    """
    marker = "- ( ) "
    lines = section.body.splitlines()
    choices = [line[len(marker):].strip() for line in lines if line.startswith(marker)]
    st.subheader(section.title or "Question")
    st.markdown("\n".join(line for line in lines if not line.startswith(marker)))
    shown_key = f"{key}_shown"

    def reveal():  # a callback runs before the next script run, so the radio locks at once
        st.session_state[shown_key] = True

    shown = bool(st.session_state.get(shown_key))
    pick = st.radio("Your explanation", choices, index=None, key=f"{key}_pick", disabled=shown,
                    persist_state="session")
    st.button("Reveal the answer", key=key + BUTTON_SUFFIX, disabled=shown or pick is None,
              on_click=reveal)
    if shown:
        if pick is not None:
            st.caption(f"You chose: *{pick}*")
        st.success(section.answer)
    return shown


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


def show_fit_summary(comparison) -> None:
    """Beside a chart: why there is no multilevel fit, or its diagnostics, equation and
    variance components (all numbers from the fit object, as the reference tests check)."""
    fit = comparison.multilevel
    show_diagnostics(comparison.messages)
    if fit is None:
        return
    show_diagnostics(fit.messages)
    if fit.usable:
        st.latex(report.model_latex(fit))
        st.dataframe(report.variance_table(fit)[["shown"]], width="stretch",
                     column_config={"shown": "value"})


def show_code_tabs(fit, pooled=None) -> None:
    """The exact calls that reproduce a fit (anything with ``.code`` and ``.lme4``), in
    Python and in R, folded away so they do not crowd a projected page."""
    with st.expander("Run it yourself: the statsmodels and lme4 code", icon=":material/code:"):
        python_tab, r_tab = st.tabs(["statsmodels (Python)", "lme4 (R)"])
        with python_tab:
            st.code(fit.code, language="python")
            if pooled is not None:
                st.caption("The pooled line:")
                st.code(pooled.code, language="python")
            if getattr(fit, "optimizer_note", ""):
                st.caption(fit.optimizer_note)
        with r_tab:
            st.code(fit.lme4, language="r")
