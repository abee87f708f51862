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

from dataclasses import dataclass, field

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

TIMEOUT = 180


@dataclass(frozen=True)
class Asked:
    """Where a question is asked and what it hides.

    Attributes
    ----------
    key : its widget key (``ask(..., key)``); section : its lesson section id.
    view : the tab it is on (tabbed pages); step : the NELS88 lesson step.
    hides : keys of the charts that answer it (absent before, inside the container after).
    switch_on : toggles to turn on first (a view that fits on request).
    """

    key: str
    section: str
    view: str | None = None
    step: str | None = None
    hides: tuple[str, ...] = ()
    switch_on: tuple[str, ...] = field(default=())


PAGES = {
    ("pages/nels88_two_schools.py", "nels88_two_schools"): [
        Asked("nels_q_one_line", "question-one-line", step="3 · Colour by school"),
        Asked("nels_q_shrink", "question-shrink", step="4 · Three kinds of lines"),
        Asked("nels_q_pooled", "question-pooled-slope", step="4 · Three kinds of lines"),
    ],
    ("pages/jsp_schools.py", "jsp_schools"): [
        Asked("jsp_level1_q", "question-intake", view="1 · Within one school"),
        Asked("jsp_level2_q", "question-r2", view="2 · Between schools", hides=("jsp_level2_r2",)),
        Asked("jsp_pool_q", "question-lines", view="3 · Three kinds of lines"),
        Asked("jsp_rank_q", "question-rank", view="4 · Ranking schools",
              hides=("jsp_rank_caterpillar", "jsp_rank_slope")),
        Asked("jsp_sep_q", "question-separate", view="5 · When separate lines are fine"),
        Asked("jsp_levels_q", "question-levels", view="6 · Three levels"),
    ],
    ("pages/why_multilevel.py", "why_multilevel"): [
        Asked("why_classic_q", "question-classic", view="1 · The classic study"),
        Asked("why_precision_q", "question-precision", view="2 · Precision",
              hides=("why_precision_chart",)),
        Asked("why_icc_q", "question-icc", view="3 · The ICC", hides=("why_icc_partition_chart",)),
        Asked("why_sampling_q", "question-sampling", view="4 · Sampling designs"),
        Asked("why_hsb_q", "question-advantages", view="5 · Hsb82: three analyses"),
    ],
    ("pages/longitudinal.py", "longitudinal"): [
        Asked("long_p1_q", "question-explanations", view="1 · Reading and age",
              hides=("long_slopes_chart",)),
        Asked("long_p2_q", "question-complete-case", view="2 · Growth curves, unbalanced"),
        Asked("long_real_ox_q", "question-boys-differ", view="3 · Real growth data"),
        Asked("long_real_eg_q", "question-three-levels", view="3 · Real growth data",
              hides=("long_egsingle_levels_chart",), switch_on=("long_real_egsingle_on",)),
        Asked("long_ar1_q", "question-autocorrelation", view="4 · Autocorrelated errors",
              hides=("long_ar1_chart",)),
    ],
}


def go_to(at: AppTest, path: str, asked: Asked) -> AppTest:
    if asked.view is not None:
        open_view(at, path, asked.view)
    if asked.step is not None:
        at.button_group(key="nels_step").set_value(asked.step).run()
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
