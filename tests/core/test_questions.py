"""hlmlab.questions: multiple-choice questions with per-option feedback and live evidence."""

from __future__ import annotations

import pytest

from hlmlab.lesson_text import LessonSection, load_lesson
from hlmlab.questions import (
    QuestionFormatError,
    choice_question,
    evidence_names,
    fill_evidence,
)


def section(body: str, answer: str = "It is {{value}}.", key: str = "question-demo") -> LessonSection:
    return LessonSection(key, "Demo", body, answer)


def test_options_feedback_and_the_right_option_are_read(tmp_path):
    (tmp_path / "demo.md").write_text(
        "## Steeper? {#question-steeper}\n\nWill it be steeper?\n\n"
        "- (x) Steeper :: Right: the between slope is mixed in.\n"
        "- ( ) Flatter :: No: only if the between slope were flatter.\n\n"
        "More prompt text.\n\n---\n\nSteeper: {{pooled}} against {{within}}.\n"
    )
    question = choice_question(load_lesson("demo", tmp_path)["question-steeper"])
    assert question.prompt == "Will it be steeper?\n\n\nMore prompt text."
    assert [c.text for c in question.choices] == ["Steeper", "Flatter"]
    assert [c.correct for c in question.choices] == [True, False]
    assert question.correct_index == 0
    assert question.choices[1].feedback == "No: only if the between slope were flatter."
    assert question.evidence_names == ("pooled", "within")
    assert question.answer == "Steeper: {{pooled}} against {{within}}."


def test_a_capital_x_marks_the_right_option_too_and_feedback_may_hold_colons():
    question = choice_question(section("- ( ) a :: no\n- (X) b :: yes: see {{why}} :: indeed"))
    assert question.correct_index == 1
    assert question.choices[1].feedback == "yes: see {{why}} :: indeed"
    assert question.evidence_names == ("value", "why")


@pytest.mark.parametrize("body, problem", [
    ("- ( ) a :: no\n- ( ) b :: no", "marks 0 options"),
    ("- (x) a :: yes\n- (x) b :: yes", "marks 2 options"),
    ("- (x) a :: yes", "at least two"),
    ("- (x) a :: yes\n- ( ) b", "needs ' :: '"),
    ("- (x) a :: yes\n- ( ) b ::   ", "needs ' :: '"),
])
def test_malformed_questions_are_refused_with_the_reason(body, problem):
    with pytest.raises(QuestionFormatError, match=problem):
        choice_question(section(body))


def test_a_question_needs_an_answer_and_a_question_section():
    with pytest.raises(QuestionFormatError, match="no answer"):
        choice_question(section("- (x) a :: yes\n- ( ) b :: no", answer=" "))
    with pytest.raises(QuestionFormatError, match="not a question"):
        choice_question(section("- (x) a :: yes\n- ( ) b :: no", key="prose"))


def test_evidence_is_filled_in_and_a_missing_name_is_an_error_not_a_raw_placeholder():
    assert evidence_names("a {{x}} b {{ y }} c {{x}}") == ("x", "y")
    assert fill_evidence("slope {{ within }} vs {{between}}", {"within": "2.19", "between": "5.87"}) \
        == "slope 2.19 vs 5.87"
    # LaTeX braces are not placeholders.
    assert fill_evidence(r"$\gamma_{10}$ = {{g}}", {"g": "1"}) == r"$\gamma_{10}$ = 1"
    with pytest.raises(KeyError, match="between"):
        fill_evidence("{{within}} {{between}}", {"within": "2.19"})
