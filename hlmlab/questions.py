"""Multiple-choice questions with feedback for every option, read from a lesson's Markdown.

A question is a ``question-*`` section of a lesson file (:mod:`hlmlab.lesson_text`). Its body
holds the prompt and one line per option; the text after the ``---`` line is the answer::

    ## Steeper or flatter? {#question-centring-pooled}

    Will the pooled OLS slope be steeper or flatter than the within-school slope?

    - (x) Steeper :: Right: pooled OLS mixes in the between-school slope, which is steeper.
    - ( ) Flatter :: No: ... why this option is wrong ...

    ---

    The pooled slope is {{pooled_slope}}, the within-school slope {{within_slope}}.

- ``- ( ) option :: feedback`` is a wrong option, ``- (x) option :: feedback`` the right one
  (exactly one per question). The feedback says why that option is right or wrong and is
  shown once the student has chosen.
- ``{{name}}`` in the answer or a feedback is *live evidence*: a number from the current fit,
  filled in by :func:`fill_evidence` from a mapping the lesson's analysis provides (e.g. a
  result's ``evidence``). Names are plain identifiers; nothing in the text is evaluated.

No Streamlit here: the app's question widget renders a :class:`ChoiceQuestion`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Mapping

from hlmlab.lesson_text import LessonSection

__all__ = [
    "Choice",
    "ChoiceQuestion",
    "QuestionFormatError",
    "choice_question",
    "evidence_names",
    "fill_evidence",
]

_OPTION = re.compile(r"^- \((?P<mark>[ xX])\) (?P<text>.*?)\s*$")
_PLACEHOLDER = re.compile(r"\{\{\s*(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
_FEEDBACK_SEPARATOR = " :: "


class QuestionFormatError(ValueError):
    """A question section does not follow the format; the message names the section."""


@dataclass(frozen=True)
class Choice:
    """One option of a multiple-choice question.

    Attributes
    ----------
    text : the option as the student reads it.
    feedback : why this option is right or wrong (may hold ``{{name}}`` evidence).
    correct : whether it is the right option.
    """

    text: str
    feedback: str
    correct: bool


@dataclass(frozen=True)
class ChoiceQuestion:
    """A predict-then-reveal question with per-option feedback.

    Attributes
    ----------
    key, title : the section's id and heading.
    prompt : the question's text without its option lines.
    choices : the options, in file order.
    answer : the text revealed after the student has chosen.
    """

    key: str
    title: str
    prompt: str
    choices: tuple[Choice, ...]
    answer: str

    @property
    def correct_index(self) -> int:
        """Position of the right option in ``choices``."""
        return next(i for i, choice in enumerate(self.choices) if choice.correct)

    @property
    def evidence_names(self) -> tuple[str, ...]:
        """Every ``{{name}}`` the answer and the feedback use, in order of first use."""
        texts = [self.answer, *(choice.feedback for choice in self.choices)]
        return tuple(dict.fromkeys(name for text in texts for name in evidence_names(text)))


def choice_question(section: LessonSection) -> ChoiceQuestion:
    """Read a ``question-*`` lesson section written in the per-option feedback format.

    Parameters
    ----------
    section : a section from :func:`hlmlab.lesson_text.load_lesson` whose id starts with
        ``question``.

    Returns
    -------
    ChoiceQuestion

    Raises
    ------
    QuestionFormatError
        When the section is not a question, has fewer than two options, an option without
        feedback, not exactly one right option, or no answer after ``---``.
    """
    where = f"Question {section.key!r}"
    if not section.is_question:
        raise QuestionFormatError(f"Section {section.key!r} is not a question section.")
    prompt_lines, choices = [], []
    for line in section.body.splitlines():
        match = _OPTION.match(line)
        if match is None:
            prompt_lines.append(line)
            continue
        text, separator, feedback = match["text"].partition(_FEEDBACK_SEPARATOR)
        if not separator or not feedback.strip() or not text.strip():
            raise QuestionFormatError(
                f"{where}: the option {match['text']!r} needs ' :: ' and its feedback."
            )
        choices.append(Choice(text.strip(), feedback.strip(), match["mark"] != " "))
    if len(choices) < 2:
        raise QuestionFormatError(f"{where} needs at least two '- ( ) option :: feedback' lines.")
    n_correct = sum(choice.correct for choice in choices)
    if n_correct != 1:
        raise QuestionFormatError(f"{where} marks {n_correct} options right with (x); mark one.")
    if not section.answer.strip():
        raise QuestionFormatError(f"{where} has no answer after a '---' line.")
    return ChoiceQuestion(
        key=section.key,
        title=section.title,
        prompt="\n".join(prompt_lines).strip(),
        choices=tuple(choices),
        answer=section.answer.strip(),
    )


def evidence_names(text: str) -> tuple[str, ...]:
    """The ``{{name}}`` placeholders of ``text``, in order of first use."""
    return tuple(dict.fromkeys(match["name"] for match in _PLACEHOLDER.finditer(text)))


def fill_evidence(text: str, evidence: Mapping[str, str]) -> str:
    """Replace every ``{{name}}`` of ``text`` with ``evidence[name]``.

    Parameters
    ----------
    text : an answer or a feedback.
    evidence : name to already formatted value (a result's ``evidence``).

    Returns
    -------
    str

    Raises
    ------
    KeyError
        When ``text`` names evidence the mapping lacks: a question that would otherwise show
        a raw placeholder to a student.
    """
    missing = [name for name in evidence_names(text) if name not in evidence]
    if missing:
        raise KeyError(f"No evidence named {', '.join(missing)}.")
    return _PLACEHOLDER.sub(lambda match: str(evidence[match["name"]]), text)
