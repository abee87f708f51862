"""Where a lesson's Markdown first mentions a term of the glossary (lessons/glossary.md), and
links to it. No Streamlit.

Every lesson links the first mention of each glossary term in its prose to the glossary's
entry, ``[ICC](/glossary#icc)``; the glossary page (pages/glossary.py) gives every entry its
id as anchor. :data:`TERMS` says how each entry's term is written in running text.

What counts as prose: a lesson's text outside headings, code (inline and fenced), LaTeX
(``$...$``, ``$$...$$``), existing links, and outside question sections (a ``question-*``
section's options are widget labels, where a link would not read as one). A lesson's first
mention of a term is its first match in that prose, in file order.

Run ``python -m hlmlab.glossary_terms lessons/<lesson>.md`` to link the first mentions a
lesson does not link yet (the file is rewritten in place; nothing else changes).
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

__all__ = ["GLOSSARY_PATH", "TERMS", "Mention", "first_mentions", "glossary_links",
           "link_first_mentions", "unlinked"]

#: The glossary page's URL path; a lesson links an entry as ``/glossary#<id>``.
GLOSSARY_PATH = "/glossary"

#: Glossary entry id -> how its term is written in a lesson (a case-insensitive regex).
TERMS = {
    "levels": r"\blevel[ -][123]\b|\blevels\b",
    "micro-macro": r"\bmicro[- ]level|\bmacro[- ]level|\bmicro and macro\b",
    "primary-secondary-units": r"\bprimary units?\b",
    "multilevel-model": r"\bmultilevel models?\b",
    "glmm": r"\bgeneralized linear mixed models?\b|\bGLMMs?\b",
    "fixed-effect": r"\bfixed effects?\b",
    "random-effect": r"\brandom effects?\b",
    "random-intercept": r"\brandom[- ]intercepts?\b",
    "random-slope": r"\brandom slopes?\b",
    "variance-component": r"\bvariance components?\b",
    "empty-model": r"\bempty model\b",
    "icc": r"\bICC\b|\bintraclass correlation\b",
    "design-effect": r"\bdesign effect\b",
    "effective-sample-size": r"\beffective sample size\b",
    "reliability": r"\breliabilit(?:y|ies)\b",
    "empirical-bayes": r"\bempirical Bayes\b",
    "shrinkage": r"\bshrinkage\b|\bshrinks\b|\bshrunk\b",
    "pooling": r"\b(?:partial|complete|no) pooling\b",
    "blup": r"\bBLUPs?\b|\bconditional modes?\b",
    "ml": r"\bmaximum likelihood\b",
    "reml": r"\bREML\b",
    "deviance": r"\bdeviance\b",
    "aic-bic": r"\bAIC\b",
    "boundary-fit": r"\bboundary fits?\b|\bsingular fits?\b|\bon the boundary\b",
    "within-between": r"\b(?:within|between)-(?:group|school|child) (?:slopes?|regressions?)\b",
    "contextual-effect": r"\bcontextual effects?\b",
    "grand-mean-centring": r"\bgrand[- ]mean centr(?:ing|ed)\b",
    "group-mean-centring": r"\b(?:group|school)[- ]mean centr(?:ing|ed)\b",
    "cross-level-interaction": r"\bcross-level interactions?\b",
    "serial-correlation": r"\bserial correlation\b|\bautocorrelat(?:ion|ed)\b",
    "measurement-error": r"\bmeasurement error\b",
    "cluster-robust-se": r"\bcluster-robust\b",
    "balanced": r"\bbalanced (?:data|designs?)\b",
    "nested-crossed": r"\bcrossed (?:random effects|classifications?)\b",
}
_PATTERNS = {key: re.compile(pattern, re.IGNORECASE) for key, pattern in TERMS.items()}
# Spans that are not prose: fenced code, display and inline LaTeX, inline code, links.
_NOT_PROSE = re.compile(r"```.*?```|\$\$.*?\$\$|\$[^$\n]+\$|`[^`\n]*`|\[[^\]\n]*\]\([^)\s]*\)",
                        re.DOTALL)
_LINK = re.compile(r"\[([^\]\n]*)\]\(" + re.escape(GLOSSARY_PATH) + r"#([a-z0-9-]+)\)")
_HEADING = re.compile(r"^#+ .*$", re.MULTILINE)
_QUESTION_ID = re.compile(r"\{#question-[^}]*\}\s*$")


@dataclass(frozen=True)
class Mention:
    """A term's first mention: where in the text it is, and whether a glossary link to its
    entry holds it.

    Attributes
    ----------
    start, end : the mention's span in the lesson's text.
    linked : inside ``[...](/glossary#<its id>)``.
    inside : the entry id of the glossary link the mention is part of ("" for none): a
        term within a longer linked term ("ICC" in a link to the design effect's entry)
        cannot have a link of its own there.
    """

    start: int
    end: int
    linked: bool
    inside: str = ""


def _question_spans(text: str) -> list[tuple[int, int]]:
    """Each question section: from its heading to the next heading."""
    headings = list(_HEADING.finditer(text))
    spans = []
    for position, heading in enumerate(headings):
        if _QUESTION_ID.search(heading.group()):
            end = headings[position + 1].start() if position + 1 < len(headings) else len(text)
            spans.append((heading.start(), end))
    return spans


def _masked(text: str) -> str:
    """The text with everything that is not prose blanked out (same length), glossary links'
    own words kept (a mention there is a linked mention)."""
    chars = list(text)

    def blank(start: int, end: int) -> None:
        chars[start:end] = " " * (end - start)

    for start, end in _question_spans(text):
        blank(start, end)
    for heading in _HEADING.finditer(text):
        blank(heading.start(), heading.end())
    for span in _NOT_PROSE.finditer(text):
        link = _LINK.fullmatch(span.group())
        if link:  # keep the linked words, blank the brackets and the address
            blank(span.start(), span.start() + 1)
            blank(span.start() + 1 + len(link.group(1)), span.end())
        else:
            blank(span.start(), span.end())
    return "".join(chars)


def first_mentions(text: str) -> dict[str, Mention]:
    """The first mention in ``text``'s prose of every glossary term it mentions.

    Parameters
    ----------
    text : a lesson's Markdown.

    Returns
    -------
    dict: entry id -> :class:`Mention`, for the terms the prose mentions.
    """
    prose = _masked(text)
    links = [(m.start(1), m.end(1), m.group(2)) for m in _LINK.finditer(text)]
    found = {}
    for key, pattern in _PATTERNS.items():
        match = pattern.search(prose)
        if match is None:
            continue
        inside = next((anchor for start, end, anchor in links
                       if start <= match.start() and match.end() <= end), "")
        found[key] = Mention(match.start(), match.end(), inside == key, inside)
    return found


def glossary_links(text: str) -> list[str]:
    """The entry ids of every glossary link in ``text``, in order (repeats kept)."""
    return [m.group(2) for m in _LINK.finditer(text)]


def unlinked(text: str) -> str:
    """``text`` with every glossary link replaced by its words, as a student reads them (for
    tests that look for a lesson's wording)."""
    return _LINK.sub(r"\1", text)


def link_first_mentions(text: str) -> str:
    """``text`` with each first mention that is not linked yet made a glossary link. A
    mention inside another term's mention (or its link) is left as it is."""
    mentions = sorted(((m.start, m.end, key) for key, m in first_mentions(text).items()
                       if not m.linked), reverse=True)
    taken: list[tuple[int, int]] = []
    for start, end, key in mentions:
        if any(start < t_end and t_start < end for t_start, t_end in taken):
            continue
        inside_link = any(m.start(0) <= start < m.end(0) for m in _LINK.finditer(text))
        if inside_link:
            continue
        text = f"{text[:start]}[{text[start:end]}]({GLOSSARY_PATH}#{key}){text[end:]}"
        taken.append((start, end))
    return text


def main(paths: list[str]) -> None:
    for path in map(Path, paths):
        text = path.read_text(encoding="utf-8")
        linked = link_first_mentions(text)
        # Linking one term can hide a shorter one inside it: repeat until nothing changes.
        while linked != text:
            text, linked = linked, link_first_mentions(linked)
        path.write_text(linked, encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1:])
