"""ui.questions.ask (and ask_then_show), the one predict-then-reveal widget, in a small app
of its own: nothing of the answer exists before the student answers; then the choice is
locked and the answer container holds the chosen option's feedback, the right option, the
answer with its live evidence, and whatever the page reveals under ``with answer:``; answers
survive a page switch.
"""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from app_pages import answer_question, element_texts, find_block, open_questions

QUESTION = '''
import streamlit as st
from hlmlab.errors import ModelDataError
from hlmlab.lesson_text import LessonSection
from ui.questions import ask, ask_then_show

CHOICE = LessonSection("question-demo", "Predict: steeper?", (
    "Will the pooled slope be steeper?\\n\\n"
    "- (x) Steeper :: Right: the between slope {{between}} is mixed in.\\n"
    "- ( ) Flatter :: No: the between slope {{between}} is steeper than {{within}}.\\n"),
    "The pooled slope is {{pooled}}.")
GUESS = LessonSection("question-guess", "Guess the rate", (
    "How often?\\n\\nGuess: 0 to 100 by 5, within 10 of {{rate}}\\n\\n"
    "- (<) Too low :: It is {{rate}} percent, more than that.\\n"
    "- (=) Close :: It is {{rate}} percent, about that.\\n"
    "- (>) Too high :: It is {{rate}} percent, less than that.\\n"),
    "About {{rate}}%.")


def evidence():
    st.session_state["evidence_calls"] = st.session_state.get("evidence_calls", 0) + 1
    if st.session_state.get("broken"):
        raise ModelDataError("the model could not be fitted")
    return {"between": "5.16", "within": "2.14", "pooled": "3.57"}


st.title("Questions")
ask_then_show(CHOICE, "demo_q", "The chart",
              lambda: st.markdown("The chart the question was hiding."), evidence=evidence)
ask(GUESS, "guess_q", evidence={"rate": "37"})
'''
FILES = {
    "app.py": ('import streamlit as st\n'
               'st.navigation([st.Page("pages/ask.py", default=True), '
               'st.Page("pages/other.py")]).run()\n'),
    "pages/ask.py": QUESTION,
    "pages/other.py": "import streamlit as st\nst.title('Another page')\n",
}


@pytest.fixture
def at(write_app):
    folder = write_app(FILES)
    return AppTest.from_file(str(folder / "app.py"), default_timeout=30).run()


def answer_texts(at: AppTest, key: str) -> list[str]:
    box = find_block(at.main, f"{key}_answer")
    return None if box is None else element_texts(box)


def test_before_the_answer_only_the_question_is_on_the_page(at):
    assert not at.exception
    assert open_questions(at) == ["demo_q", "guess_q"]
    assert [s.value for s in at.subheader] == ["Predict: steeper?", "Guess the rate"]
    assert at.radio(key="demo_q_pick").options == ["Steeper", "Flatter"]
    assert at.radio(key="demo_q_pick").value is None
    assert answer_texts(at, "demo_q") is None and answer_texts(at, "guess_q") is None
    assert not any("3.57" in text or "{{" in text for text in element_texts(at.main))
    assert any("The chart: shown once you have answered" in c.value for c in at.caption)
    assert "evidence_calls" not in at.session_state, "evidence computed before the answer"


def test_pressing_the_button_without_a_choice_reveals_nothing(at):
    at.button(key="demo_q_button").click().run()
    assert answer_texts(at, "demo_q") is None and "demo_q" in open_questions(at)
    assert any("Choose one of the options first" in c.value for c in at.caption)


def test_a_wrong_choice_gets_its_feedback_the_right_option_and_the_live_answer(at):
    answer_question(at, "demo_q", 1)
    assert not at.exception
    texts = answer_texts(at, "demo_q")
    assert texts[:4] == ["No: the between slope 5.16 is steeper than 2.14.",
                         "The right answer: **Steeper**", "The pooled slope is 3.57.",
                         "The chart the question was hiding."]
    assert [w.value for w in at.warning] == [texts[0]]
    locked = at.radio(key="demo_q_locked")
    assert locked.disabled and locked.value == 1
    assert open_questions(at) == ["guess_q"]
    assert not any("The chart appears" in c.value for c in at.caption)


def test_the_right_choice_is_confirmed_and_the_evidence_computed_once_per_run(at):
    answer_question(at, "demo_q", 0)
    assert answer_texts(at, "demo_q")[:2] == ["Right: the between slope 5.16 is mixed in.",
                                              "The pooled slope is 3.57."]
    assert [s.value for s in at.success] == ["Right: the between slope 5.16 is mixed in."]
    assert at.session_state["evidence_calls"] == 1


@pytest.mark.parametrize(("guess", "band", "shown"), [
    (20, "Too low", "warning"), (45, "Close", "success"), (50, "Too high", "warning")])
def test_a_guess_is_judged_against_the_live_value(at, guess, band, shown):
    assert at.slider(key="guess_q_pick").value == 50  # the middle of the range to start
    answer_question(at, "guess_q", guess)
    texts = answer_texts(at, "guess_q")
    assert texts[0].startswith(f"You guessed **{guess}**. **{band}.** It is 37 percent")
    assert texts[1] == "About 37%."
    assert [e.value for e in getattr(at, shown)] == [texts[0]]
    assert at.slider(key="guess_q_locked").disabled
    assert at.slider(key="guess_q_locked").value == guess


def test_evidence_the_fit_cannot_give_is_said_in_words_not_shown_wrong(at):
    at.session_state["broken"] = True
    answer_question(at, "demo_q", 0)
    assert not at.exception
    texts = answer_texts(at, "demo_q")
    assert texts[0].startswith("The numbers for this answer cannot be computed from the "
                               "current fit: the model could not be fitted")
    assert "The pooled slope is not available." in texts


def test_answers_survive_a_page_switch_and_are_not_in_the_url(at):
    answer_question(at, "demo_q", 1)
    answer_question(at, "guess_q", 40)
    at.switch_page("pages/other.py").run()
    assert at.title[0].value == "Another page"
    at.switch_page("pages/ask.py").run()
    assert open_questions(at) == []
    assert answer_texts(at, "demo_q")[0].startswith("No: the between slope")
    assert at.slider(key="guess_q_locked").value == 40
    assert dict(at.query_params) == {}


def test_nothing_may_be_revealed_before_the_answer():
    from ui.questions import Answered

    with pytest.raises(RuntimeError, match="before the student has answered"):
        with Answered():
            pass
    assert not Answered()
