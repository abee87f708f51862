"""Every question of every lesson page, in AppTest: predict, then reveal.

For each question, in the view or step where it is asked:

- before the answer, its answer container (``<key>_answer``) does not exist, the charts it
  hides are not drawn, no answer text and no raw ``{{placeholder}}`` is on the page;
- after choosing an option (or setting a guess) and pressing the button, the container exists
  and holds the feedback of that option (and the right option when it was wrong), the answer
  text, every live number the question names, equal to the fit's (tests/question_evidence.py
  computes them from the core at the page's defaults; tests/core/test_question_evidence.py
  checks those against the fits and lme4), and the charts it was hiding;
- the choice is locked, and every answer survives moving to the other tabs and to another
  page and back.
"""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from app_pages import (
    APP,
    answer_question,
    element_keys,
    element_texts,
    find_block,
    open_questions,
    open_view,
)
from hlmlab.lesson_text import load_lesson
from hlmlab.questions import NumericQuestion, fill_evidence, parse_question
from question_evidence import default_evidence
from question_places import PAGES, Asked

TIMEOUT = 180


def go_to(at: AppTest, path: str, asked: Asked) -> AppTest:
    if asked.view is not None:
        open_view(at, path, asked.view)
    if asked.step is not None:
        at.button_group(key="step").set_value(asked.step).run()
    for toggle in asked.switch_on:
        at.toggle(key=toggle).set_value(True).run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def first_sentence(text: str) -> str:
    return text.split(". ")[0][:80]


def check_hidden(at: AppTest, asked: Asked, answer_text: str) -> None:
    where = asked.key
    assert asked.key in open_questions(at), f"{where} is not asked here"
    assert find_block(at.main, f"{asked.key}_answer") is None, f"{where}: answer shown early"
    texts = element_texts(at.main)
    assert not any("{{" in text for text in texts), where
    assert not any(first_sentence(answer_text) in text for text in texts), \
        f"{where}: its answer is on the page before it is answered"
    assert not set(asked.hides) & element_keys(at.main), f"{where}: its answer chart is drawn"


def check_revealed(at: AppTest, asked: Asked, question, evidence: dict, pick) -> None:
    where = asked.key
    assert not at.exception, [e.message for e in at.exception]
    box = find_block(at.main, f"{asked.key}_answer")
    assert box is not None, f"{where}: no answer container after answering"
    text = "\n".join(element_texts(box))
    if isinstance(question, NumericQuestion):
        band = question.bands[question.band(pick, float(evidence[question.target]))]
        chosen, right = band, None
    else:
        chosen = question.choices[pick]
        right = None if chosen.correct else question.choices[question.correct_index]
    assert fill_evidence(chosen.feedback, evidence) in text, f"{where}: not its option's feedback"
    if right is not None:
        assert right.text in text, f"{where}: the right option is not named"
    assert fill_evidence(question.answer, evidence) in text, f"{where}: answer text missing"
    for name in question.evidence_names:
        assert evidence[name] in text, f"{where}: live value {name}={evidence[name]!r} missing"
    assert set(asked.hides) <= element_keys(box), f"{where}: its charts are not in the answer"
    assert open_questions(at).count(asked.key) == 0, f"{where}: still asked after the answer"
    locked = next(w for w in [*at.radio, *at.slider] if w.key == f"{asked.key}_locked")
    assert locked.disabled and locked.value == pick, f"{where}: the answer is not locked"


@pytest.mark.parametrize(("path", "lesson"), list(PAGES))
def test_every_question_hides_its_answer_until_answered(path, lesson):
    sections, evidence = load_lesson(lesson), default_evidence(lesson)
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.run()
    at.switch_page(path).run()
    picks = {}
    for asked in PAGES[path, lesson]:
        question = parse_question(sections[asked.section])
        values = evidence[asked.section]
        go_to(at, path, asked)
        check_hidden(at, asked, fill_evidence(question.answer, values))
        # The first option (right for some questions, wrong for others), or the lowest guess.
        pick = question.low if isinstance(question, NumericQuestion) else 0
        answer_question(at, asked.key, pick)
        check_revealed(at, asked, question, values, pick)
        picks[asked] = (question, values, pick)
    # Every answer survives the other tabs (visited above) and another page.
    at.switch_page("pages/home.py").run()
    at.switch_page(path).run()
    for asked, (question, values, pick) in picks.items():
        go_to(at, path, asked)
        check_revealed(at, asked, question, values, pick)


def test_question_widgets_are_never_bound_to_the_url():
    """A shared link must not carry (or reveal) a student's answers."""
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.run()
    at.switch_page("pages/why_multilevel.py").run()
    answer_question(at, "why_classic_q", 40)
    assert not any("why_classic_q" in name for name in at.query_params), dict(at.query_params)


def asked_keys(path: str) -> set[str]:
    """The keys of every ``ask(section, "key", ...)`` (or ``ask_then_show``) call in a page's
    source."""
    import ast

    from app_pages import REPO

    tree = ast.parse((REPO / path).read_text(encoding="utf-8"))
    return {node.args[1].value for node in ast.walk(tree)
            if isinstance(node, ast.Call)
            and getattr(node.func, "id", None) in ("ask", "ask_then_show")}


@pytest.mark.parametrize(("path", "lesson"), list(PAGES))
def test_every_question_of_the_lesson_is_asked_on_its_page_and_walked_here(path, lesson):
    questions = {key for key, section in load_lesson(lesson).items() if section.is_question}
    assert {asked.section for asked in PAGES[path, lesson]} == questions
    assert {asked.key for asked in PAGES[path, lesson]} == asked_keys(path)
