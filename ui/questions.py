"""Predict, then reveal: the one question widget of every lesson page.

A page asks a ``question-*`` section of its lesson (:mod:`hlmlab.questions` reads the
Markdown) and draws what answers it only once the student has committed::

    if answer := ask(LESSON["question-r2"], "jsp_level2_q", evidence=lambda: r2_evidence(...)):
        with answer:  # the answer container, st-key-jsp_level2_q_answer in the page
            show_chart(r2_histogram, "jsp_level2_r2")

Before the student has answered, ``ask`` draws the title, the prompt and a form (the options
as a radio, or a slider for a numeric guess, and a "Check my answer" button) and returns a
falsy :class:`Answered`: nothing of the answer exists on the page, not even its container.
Once answered, the choice is shown locked and the answer container
(``st.container(key=f"{key}_answer")``) holds the feedback of the chosen option (or band of a
guess), the right option when the choice was wrong, and the answer text with its ``{{name}}``
evidence filled in from ``evidence``: live numbers from the page's current results, computed
only now (pass a callable when they cost anything). The page adds its own evidence (a chart,
a metric, a paragraph) inside ``with answer:``.

The answer is kept in a plain session-state key (``<key>_chosen``), never in a widget's
state and never in the URL: it survives tab switches, page switches and reruns in the same
session, and a shared link reveals nothing. Only Streamlit's own elements are used, so the
presenter mode's larger text applies.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import streamlit as st

from hlmlab.errors import ModelDataError
from hlmlab.lesson_text import LessonSection
from hlmlab.questions import (
    BANDS,
    ChoiceQuestion,
    NumericQuestion,
    fill_evidence,
    number,
    parse_question,
)

__all__ = ["Answered", "answer_container_key", "ask", "ask_then_show", "is_answered",
           "show_locked_hint"]

Evidence = Mapping[str, str] | Callable[[], Mapping[str, str]] | None


def answer_container_key(key: str) -> str:
    """The key of a question's answer container (DOM class ``st-key-<key>_answer``)."""
    return f"{key}_answer"


def _chosen_key(key: str) -> str:
    return f"{key}_chosen"


def _pick_key(key: str) -> str:
    return f"{key}_pick"


def _unchosen_key(key: str) -> str:
    return f"{key}_unchosen"


def is_answered(key: str) -> bool:
    """Whether the student has answered the question ``key`` in this session (for a page
    that must know before it reaches the question, e.g. to hide a table drawn above it)."""
    return _chosen_key(key) in st.session_state


class Answered:
    """What :func:`ask` returns: false before the student has answered; afterwards true and a
    context manager that draws into the question's answer container."""

    def __init__(self, container=None):
        self._container = container

    def __bool__(self) -> bool:
        return self._container is not None

    def __enter__(self):
        if self._container is None:
            raise RuntimeError("Nothing may be revealed before the student has answered.")
        return self._container.__enter__()

    def __exit__(self, *exc_info):
        return self._container.__exit__(*exc_info)


def ask(section: LessonSection, key: str, evidence: Evidence = None) -> Answered:
    """Ask a lesson's question; reveal its answer only after the student has answered.

    Parameters
    ----------
    section : a ``question-*`` section of the page's lesson (multiple choice or numeric
        guess, see :mod:`hlmlab.questions`).
    key : the question's widget key, starting with its view's state prefix (e.g.
        ``"jsp_level2_q"``); its answer container is ``f"{key}_answer"``.
    evidence : the values of the ``{{name}}`` placeholders of the answer and feedback, from
        the page's current results: a mapping, or a callable returning one (called only once
        the student has answered). A callable may raise :class:`hlmlab.errors.ModelDataError`
        when the current fit cannot give them; the student is then told so.

    Returns
    -------
    Answered
        False before the student has answered. Afterwards true; ``with answered:`` draws into
        the answer container, below the feedback and the answer text.

    Raises
    ------
    hlmlab.questions.QuestionFormatError
        When the section does not follow the question format (the lesson tests catch it).
    KeyError
        When the answer or a feedback names evidence that ``evidence`` does not give.
    """
    question = parse_question(section)
    with st.container(border=True, key=f"{key}_question"):
        st.subheader(question.title or "Question")
        if question.prompt:
            st.markdown(question.prompt)
        chosen = st.session_state.get(_chosen_key(key))
        if chosen is None:
            _ask(question, key)
            return Answered()
        _show_locked(question, key, chosen)
    container = st.container(key=answer_container_key(key))
    with container:
        _show_feedback(question, chosen, evidence)
    return Answered(container)


def ask_then_show(section: LessonSection, key: str, waiting: str, show: Callable[[], None],
                  evidence: Evidence = None) -> bool:
    """:func:`ask`, then ``show()`` in the answer container once answered; until then a
    :func:`show_locked_hint` that ``waiting`` appears once the question is answered.

    Returns
    -------
    bool, whether the student has answered (and ``show`` has drawn).
    """
    answer = ask(section, key, evidence)
    if not answer:
        show_locked_hint(waiting)
        return False
    with answer:
        show()
    return True


def show_locked_hint(what: str, where: str = "the question above") -> None:
    """Say that an answer element will appear: "<what>: shown once you have answered
    <where>." (a caption, so the page does not look broken before the answer; the colon
    keeps the sentence right whether ``what`` is singular or plural)."""
    st.caption(f":material/lock: {what}: shown once you have answered {where}.")


# --------------------------------------------------------------------------- asking


def _is_whole(value: float) -> bool:
    return float(value).is_integer()


def _slider_values(question: NumericQuestion) -> tuple:
    """low, high, step and the starting value (the middle of the range, on the grid), as
    ints when they are whole, so the slider shows "40", not "40.00"."""
    middle_steps = round((question.high - question.low) / question.step / 2)
    middle = question.low + middle_steps * question.step
    values = (question.low, question.high, question.step, middle)
    if all(_is_whole(v) for v in values):
        return tuple(int(v) for v in values)
    return values


def _submit(key: str) -> None:
    """The form's callback: runs before the next script run, so the answer shows at once."""
    pick = st.session_state.get(_pick_key(key))
    if pick is None:
        st.session_state[_unchosen_key(key)] = True
        return
    st.session_state.pop(_unchosen_key(key), None)
    st.session_state[_chosen_key(key)] = pick


def _ask(question: ChoiceQuestion | NumericQuestion, key: str) -> None:
    # A form: choosing an option does not rerun the page; only the button does.
    with st.form(key=f"{key}_form", border=False):
        if isinstance(question, NumericQuestion):
            low, high, step, middle = _slider_values(question)
            st.slider("Your guess", low, high, middle, step, key=_pick_key(key))
        else:
            st.radio("Your answer", range(len(question.choices)), index=None,
                     format_func=lambda i: question.choices[i].text, key=_pick_key(key))
        st.form_submit_button("Check my answer", key=f"{key}_button", type="primary",
                              on_click=_submit, args=(key,))
    if st.session_state.get(_unchosen_key(key)):
        st.caption("Choose one of the options first, then check your answer.")


def _show_locked(question: ChoiceQuestion | NumericQuestion, key: str, chosen) -> None:
    """The student's answer, shown where the form was and no longer changeable."""
    if isinstance(question, NumericQuestion):
        low, high, step, _ = _slider_values(question)
        value = int(chosen) if isinstance(low, int) else float(chosen)
        st.slider("Your guess", low, high, value, step, disabled=True, key=f"{key}_locked")
    else:
        st.radio("Your answer", range(len(question.choices)), index=int(chosen), disabled=True,
                 format_func=lambda i: question.choices[i].text, key=f"{key}_locked")


# --------------------------------------------------------------------------- revealing


class _NotAvailable(dict):
    """Evidence when the current fit cannot give it: every name reads "not available"."""

    def __missing__(self, name):
        return number(float("nan"))

    def __contains__(self, name):
        return True


def _evidence_values(evidence: Evidence) -> Mapping[str, str]:
    if evidence is None:
        return {}
    try:
        return evidence() if callable(evidence) else evidence
    except ModelDataError as exc:
        st.warning(f"The numbers for this answer cannot be computed from the current fit: {exc}",
                   icon=":material/warning:")
        return _NotAvailable()


def _show_feedback(question: ChoiceQuestion | NumericQuestion, chosen, evidence: Evidence) -> None:
    values = _evidence_values(evidence)
    if isinstance(question, NumericQuestion):
        _show_band(question, float(chosen), values)
    else:
        choice = question.choices[int(chosen)]
        feedback = fill_evidence(choice.feedback, values)
        if choice.correct:
            st.success(feedback, icon=":material/check_circle:")
        else:
            st.warning(feedback, icon=":material/cancel:")
            right = question.choices[question.correct_index]
            st.info(f"The right answer: **{right.text}**", icon=":material/lightbulb:")
    st.markdown(fill_evidence(question.answer, values))


def _show_band(question: NumericQuestion, guess: float, values: Mapping[str, str]) -> None:
    shown_guess = number(guess, 0 if _is_whole(question.step) and _is_whole(question.low) else 2)
    try:
        target = float(values[question.target])
    except ValueError:  # "not available": nothing to judge the guess against
        st.info(f"You guessed {shown_guess}; the value it is judged against could not be "
                "computed from the current fit.", icon=":material/info:")
        return
    outcome = question.band(guess, target)
    band = question.bands[outcome]
    feedback = f"You guessed **{shown_guess}**. **{band.text}.** " + fill_evidence(band.feedback,
                                                                                   values)
    if BANDS[outcome] == "=":
        st.success(feedback, icon=":material/check_circle:")
    else:
        st.warning(feedback, icon=":material/cancel:")
