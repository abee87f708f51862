"""The live evidence of the Macro and micro lesson's questions (``question-*`` of
lessons/macro_micro.md): the numbers each answer and feedback name, from the panel result the
page already has.

Each panel of :mod:`hlmlab.analyses.macro_micro` formats its questions' numbers while it
still holds its fits (its result, in final form, keeps no fits), as ``evidence``; a question
takes the names its text uses from the result of the settings
:data:`~hlmlab.analyses.macro_micro.QUESTION_PANELS` gives it (the view's current settings,
or those the question names: a proposition, a simulation's defaults). ``QUESTIONS`` maps each
question of the lesson to its evidence function.
"""

from __future__ import annotations

from functools import cache, partial
from typing import Callable, Mapping

from hlmlab.analyses.macro_micro import QUESTION_PANELS
from hlmlab.errors import ModelDataError
from hlmlab.lesson_text import load_lesson
from hlmlab.questions import parse_question

__all__ = ["QUESTIONS", "named_evidence"]


@cache
def _names(question_key: str) -> tuple[str, ...]:
    """The ``{{names}}`` a question's answer and feedback use."""
    return tuple(parse_question(load_lesson("macro_micro")[question_key]).evidence_names)


def named_evidence(question_key: str, result) -> dict[str, str]:
    """The numbers question ``question_key`` names, from its panel's ``result``.

    Parameters
    ----------
    question_key : a question id of lessons/macro_micro.md.
    result : the panel result of the settings the question is about
        (:func:`hlmlab.analyses.macro_micro.question_settings`).

    Returns
    -------
    dict of evidence name to formatted value.

    Raises
    ------
    ModelDataError
        When the fit could not give a number the answer names (it is then "not
        estimable"): the question says so instead of showing a wrong number.
    """
    values = {name: result.evidence[name] for name in _names(question_key)}
    missing = [name for name, value in values.items() if value == "not estimable"]
    if missing:
        raise ModelDataError("The model this answer is about could not estimate "
                             + ", ".join(missing) + ".")
    return values


#: Question id -> its evidence function (a panel result in, the named numbers out).
QUESTIONS: Mapping[str, Callable[[object], dict[str, str]]] = {
    key: partial(named_evidence, key) for key in QUESTION_PANELS
}
