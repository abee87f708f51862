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

A *numeric guess* is set with a slider instead. Its body holds a ``Guess:`` line, with the
slider's range and step and how close counts as right, against a live value, and exactly one
feedback line per outcome: ``(<)`` too low, ``(=)`` close enough, ``(>)`` too high::

    ## Guess the rejection rate {#question-classic}

    In what percentage of 500 studies will OLS on pupils call the style "significant"?

    Guess: 0 to 100 by 5, within 10 of {{ols_rejection_percent}}

    - (<) Too low :: ... why a guess this low is wrong ...
    - (=) Close :: ... why it is about right ...
    - (>) Too high :: ... why a guess this high is wrong ...

    ---

    About {{ols_rejection_percent}}%: ...

``within 10 of`` is an absolute tolerance, ``within 20% of`` a relative one. The value named
after ``of`` is evidence like any other, so it must be a plain number (e.g. ``"37"``).

No Streamlit here: the app's question widget (``ui.questions.ask``) renders a
:class:`ChoiceQuestion` or a :class:`NumericQuestion`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Mapping

from hlmlab.lesson_text import LessonSection

__all__ = [
    "BANDS",
    "Choice",
    "ChoiceQuestion",
    "NumericQuestion",
    "QuestionFormatError",
    "choice_question",
    "evidence_names",
    "fill_evidence",
    "number",
    "numeric_question",
    "parse_question",
    "percent",
]

_OPTION = re.compile(r"^- \((?P<mark>[ xX])\) (?P<text>.*?)\s*$")
_BAND = re.compile(r"^- \((?P<band>[<=>])\) (?P<text>.*?)\s*$")
_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)"
_GUESS = re.compile(
    rf"^Guess:\s*(?P<low>{_NUMBER})\s+to\s+(?P<high>{_NUMBER})\s+by\s+(?P<step>{_NUMBER})\s*,"
    rf"\s*within\s+(?P<tolerance>{_NUMBER})\s*(?P<relative>%?)\s+of\s+"
    r"\{\{\s*(?P<target>[A-Za-z_][A-Za-z0-9_]*)\s*\}\}\s*$"
)
#: The outcomes of a numeric guess, as its feedback lines mark them: too low, close, too high.
BANDS = ("<", "=", ">")
_PLACEHOLDER = re.compile(r"\{\{\s*(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
_FEEDBACK_SEPARATOR = " :: "


class QuestionFormatError(ValueError):
    """A question section does not follow the format; the message names the section."""


@dataclass(frozen=True)
class Choice:
    """One option of a multiple-choice question, or one outcome (band) of a numeric guess.

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


@dataclass(frozen=True)
class NumericQuestion:
    """A predict-then-reveal question answered with a number on a slider.

    Attributes
    ----------
    key, title, prompt, answer : as for :class:`ChoiceQuestion`.
    low, high, step : the slider's range and step.
    tolerance : how far from the live value a guess may be and still count as close;
        a percentage of that value when ``relative``.
    target : the evidence name of the live value the guess is judged against.
    bands : the feedback for a guess too low, close, and too high (in :data:`BANDS` order);
        the close one is ``correct``.
    """

    key: str
    title: str
    prompt: str
    low: float
    high: float
    step: float
    tolerance: float
    relative: bool
    target: str
    bands: tuple[Choice, Choice, Choice]
    answer: str

    @property
    def evidence_names(self) -> tuple[str, ...]:
        """The live value judged against, then every ``{{name}}`` of the answer and feedback."""
        texts = [self.answer, *(band.feedback for band in self.bands)]
        return tuple(dict.fromkeys(
            [self.target, *(name for text in texts for name in evidence_names(text))]))

    def band(self, guess: float, target: float) -> int:
        """Index in ``bands`` (and :data:`BANDS`) of a guess against the live value.

        Parameters
        ----------
        guess : the student's number.
        target : the live value (``float`` of the evidence named ``target``).

        Returns
        -------
        0 when the guess is lower than ``target`` by more than the tolerance, 1 when it is
        within the tolerance (inclusive), 2 when it is higher by more.
        """
        allowed = self.tolerance * abs(target) / 100.0 if self.relative else self.tolerance
        # A guess exactly on the edge is close: slider values carry float noise (0.1 + 0.2).
        if abs(guess - target) <= allowed + 1e-9 * max(1.0, abs(target)):
            return 1
        return 0 if guess < target else 2


def _option(section: LessonSection, line_text: str) -> tuple[str, str]:
    """``text :: feedback`` of an option line, both stripped and non-empty."""
    text, separator, feedback = line_text.partition(_FEEDBACK_SEPARATOR)
    if not separator or not feedback.strip() or not text.strip():
        raise QuestionFormatError(
            f"Question {section.key!r}: the option {line_text!r} needs ' :: ' and its feedback."
        )
    return text.strip(), feedback.strip()


def _require_question_with_answer(section: LessonSection) -> None:
    if not section.is_question:
        raise QuestionFormatError(f"Section {section.key!r} is not a question section.")
    if not section.answer.strip():
        raise QuestionFormatError(f"Question {section.key!r} has no answer after a '---' line.")


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
        text, feedback = _option(section, match["text"])
        choices.append(Choice(text, feedback, match["mark"] != " "))
    if len(choices) < 2:
        raise QuestionFormatError(f"{where} needs at least two '- ( ) option :: feedback' lines.")
    n_correct = sum(choice.correct for choice in choices)
    if n_correct != 1:
        raise QuestionFormatError(f"{where} marks {n_correct} options right with (x); mark one.")
    _require_question_with_answer(section)
    return ChoiceQuestion(
        key=section.key,
        title=section.title,
        prompt="\n".join(prompt_lines).strip(),
        choices=tuple(choices),
        answer=section.answer.strip(),
    )


def numeric_question(section: LessonSection) -> NumericQuestion:
    """Read a ``question-*`` section that asks for a number set with a slider.

    Parameters
    ----------
    section : a question section with a ``Guess: low to high by step, within tolerance of
        {{name}}`` line and one ``- (<)``, ``- (=)`` and ``- (>)`` feedback line each.

    Returns
    -------
    NumericQuestion

    Raises
    ------
    QuestionFormatError
        When the ``Guess:`` line is missing or malformed (an empty or inverted range, a step
        that does not divide it, a tolerance that is not positive), an outcome has no feedback
        line or two, a ``( )``/``(x)`` option is mixed in, or there is no answer.
    """
    where = f"Question {section.key!r}"
    prompt_lines, bands, guesses = [], {}, []
    for line in section.body.splitlines():
        if line.startswith("Guess:"):
            guesses.append(line)
            continue
        if _OPTION.match(line):
            raise QuestionFormatError(
                f"{where} asks for a number: its feedback lines are (<), (=) and (>), not ( )/(x)."
            )
        match = _BAND.match(line)
        if match is None:
            prompt_lines.append(line)
            continue
        if match["band"] in bands:
            raise QuestionFormatError(f"{where} has two ({match['band']}) feedback lines.")
        text, feedback = _option(section, match["text"])
        bands[match["band"]] = Choice(text, feedback, match["band"] == "=")
    if len(guesses) != 1 or not (guess := _GUESS.match(guesses[0].strip())):
        raise QuestionFormatError(
            f"{where} needs one line 'Guess: <low> to <high> by <step>, within <tolerance>[%] "
            "of {{name}}'."
        )
    low, high, step = float(guess["low"]), float(guess["high"]), float(guess["step"])
    tolerance = float(guess["tolerance"])
    steps = (high - low) / step if step > 0 else float("nan")
    if not (high > low and step > 0 and abs(steps - round(steps)) < 1e-9 and tolerance > 0):
        raise QuestionFormatError(
            f"{where}: the guess needs low < high, a positive step that divides the range and a "
            "positive tolerance."
        )
    missing = [band for band in BANDS if band not in bands]
    if missing:
        raise QuestionFormatError(
            f"{where} needs a feedback line for each outcome; missing: "
            + ", ".join(f"({band})" for band in missing) + "."
        )
    _require_question_with_answer(section)
    return NumericQuestion(
        key=section.key,
        title=section.title,
        prompt="\n".join(prompt_lines).strip(),
        low=low,
        high=high,
        step=step,
        tolerance=tolerance,
        relative=bool(guess["relative"]),
        target=guess["target"],
        bands=tuple(bands[band] for band in BANDS),
        answer=section.answer.strip(),
    )


def parse_question(section: LessonSection) -> ChoiceQuestion | NumericQuestion:
    """A question section as the widget asks it: a numeric guess when its body has a
    ``Guess:`` line, else multiple choice (see :func:`numeric_question` and
    :func:`choice_question`, which raise :class:`QuestionFormatError` with the reason)."""
    if any(line.startswith("Guess:") for line in section.body.splitlines()):
        return numeric_question(section)
    return choice_question(section)


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


def number(value: float, digits: int = 2) -> str:
    """An evidence value as a student reads it: ``digits`` decimals, never "-0.00", and
    "not available" for NaN (a value the fit could not give)."""
    value = float(value)
    if value != value:
        return "not available"
    text = f"{value:.{digits}f}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text


def percent(share: float, digits: int = 0) -> str:
    """A share (0.371) as a percentage without the sign ("37"), for "{{name}}%" in a text."""
    return number(100.0 * float(share), digits)
