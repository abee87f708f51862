"""hlmlab.questions: multiple-choice questions and numeric guesses with per-option feedback and
live evidence, and every question of every lesson."""

from __future__ import annotations

import pytest

from hlmlab.lesson_text import LESSONS_DIR, LessonSection, load_lesson
from hlmlab.questions import (
    ChoiceQuestion,
    NumericQuestion,
    QuestionFormatError,
    choice_question,
    evidence_names,
    fill_evidence,
    number,
    parse_question,
    percent,
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


# --------------------------------------------------------------------------- numeric guesses

GUESS_BODY = (
    "How often?\n\nGuess: 0 to 100 by 5, within 10 of {{rate}}\n\n"
    "- (<) Too low :: below {{rate}}\n- (=) Close :: near\n- (>) Too high :: above\n"
)


def test_a_guess_line_makes_a_numeric_question_with_feedback_per_band():
    question = parse_question(section(GUESS_BODY, answer="About {{rate}}%, {{why}}."))
    assert isinstance(question, NumericQuestion)
    assert (question.low, question.high, question.step, question.tolerance) == (0, 100, 5, 10)
    assert not question.relative and question.target == "rate"
    assert question.prompt == "How often?"
    assert [band.text for band in question.bands] == ["Too low", "Close", "Too high"]
    assert [band.correct for band in question.bands] == [False, True, False]
    assert question.evidence_names == ("rate", "why")


@pytest.mark.parametrize(("guess", "target", "band"), [
    (25, 37, 0), (27, 37, 1), (37, 37, 1), (47, 37, 1), (50, 37, 2),
    (0.1 + 0.2, 0.4, 1),  # float noise on the edge of the tolerance still counts as close
])
def test_a_guess_is_judged_against_the_live_value_with_an_inclusive_tolerance(guess, target, band):
    body = GUESS_BODY.replace("within 10", "within 0.1") if target < 1 else GUESS_BODY
    assert parse_question(section(body)).band(guess, target) == band


def test_a_relative_tolerance_is_a_percentage_of_the_live_value():
    question = parse_question(section(GUESS_BODY.replace("within 10 of", "within 20% of")))
    assert question.relative
    assert [question.band(g, 3.0) for g in (2.35, 2.4, 3.6, 3.65)] == [0, 1, 1, 2]


@pytest.mark.parametrize(("body", "problem"), [
    (GUESS_BODY.replace("by 5", "by 7"), "divides the range"),
    (GUESS_BODY.replace("0 to 100", "100 to 0"), "low < high"),
    (GUESS_BODY.replace("within 10", "within 0"), "positive tolerance"),
    (GUESS_BODY.replace(", within 10 of {{rate}}", ""), "needs one line 'Guess:"),
    (GUESS_BODY.replace("- (=) Close :: near\n", ""), r"missing: \(=\)"),
    (GUESS_BODY + "- (>) Again :: twice\n", r"two \(>\) feedback lines"),
    (GUESS_BODY + "- (x) An option :: feedback\n", "not \\( \\)/\\(x\\)"),
    (GUESS_BODY.replace(":: near", "near"), "needs ' :: '"),
])
def test_malformed_guesses_are_refused_with_the_reason(body, problem):
    with pytest.raises(QuestionFormatError, match=problem):
        parse_question(section(body))


def test_without_a_guess_line_a_question_is_multiple_choice():
    assert isinstance(parse_question(section("- (x) a :: yes\n- ( ) b :: no")), ChoiceQuestion)


def test_evidence_numbers_read_as_a_student_reads_them():
    assert number(2.206544) == "2.21" and number(-0.3191) == "-0.32"
    assert number(-0.0001) == "0.00" and number(12.8, 1) == "12.8"
    assert number(float("nan")) == "not available"
    assert percent(0.371) == "37" and percent(0.97686, 1) == "97.7"


# --------------------------------------------------------------------------- every lesson


def every_question():
    for path in sorted(LESSONS_DIR.glob("*.md")):
        for key, lesson_section in load_lesson(path.stem).items():
            if lesson_section.is_question:
                yield pytest.param(lesson_section, id=f"{path.stem}:{key}")


@pytest.mark.parametrize("lesson_section", list(every_question()))
def test_every_question_of_every_lesson_parses_with_feedback_for_each_option(lesson_section):
    """Exactly one right option (or one close band), feedback on each that says why (a few
    words at least), an answer after ``---``, and no option line left in the answer."""
    question = parse_question(lesson_section)
    options = question.bands if isinstance(question, NumericQuestion) else question.choices
    assert sum(option.correct for option in options) == 1
    for option in options:
        assert len(option.feedback.split()) >= 5, (option.text, option.feedback)
    assert question.answer and "- (" not in question.answer
    assert "{{" not in question.prompt, "a prompt must not name evidence: it shows before the answer"
