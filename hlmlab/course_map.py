"""The course map: every section of the course deck, in the deck's order, and where the app
teaches it. The map is data an instructor edits, ``lessons/course_map.md``; this module
reads it. No Streamlit.

The file is a lesson file (:mod:`hlmlab.lesson_text`): each part of the deck is a section
``## Part title {#part-id}``, and each deck section of that part one list item::

    - Ranking schools → /jsp_schools?jsp_view=4+·+Ranking+schools
    - Crossed random effects → not covered yet

The link is the page's URL path and the query string that opens the tab or step that
teaches the section; "not covered yet" says plainly that the app does not teach it. Other
lines of a part are its note. Text before the first part is the map's introduction.

A lesson names its tabs in its own Markdown: headings that start with a number and " · "
(``## 2 · Sources of variability {#sources}``) are the tab labels, and the sections after
each belong to it (:func:`lesson_tabs`).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Collection, Mapping, Sequence
from urllib.parse import parse_qsl, urlsplit

from hlmlab.lesson_text import LessonSection, load_lesson
from hlmlab.paths import LESSONS_DIR

__all__ = [
    "NOT_COVERED",
    "CourseMapEntry",
    "CoursePart",
    "course_page_order",
    "link_problems",
    "lesson_tabs",
    "load_course_map",
    "pages_in_course_order",
    "parse_course_map",
    "sidebar_order",
]

NOT_COVERED = "not covered yet"
_ENTRY = re.compile(r"^-\s+(?P<title>.+?)\s+→\s+(?P<target>\S.*?)\s*$")
_TAB = re.compile(r"^\d+ · ")


@dataclass(frozen=True)
class CourseMapEntry:
    """One section of the course deck.

    Attributes
    ----------
    title : the deck section's title.
    link : URL path and query string of the tab that teaches it (``/why_multilevel?...``),
        or None when the app does not cover it yet.
    """

    title: str
    link: str | None

    @property
    def covered(self) -> bool:
        return self.link is not None

    @property
    def page(self) -> str | None:
        """The page's URL path without slashes (``"jsp_schools"``; ``""`` for the home page)."""
        return urlsplit(self.link).path.strip("/") if self.link else None

    @property
    def query(self) -> dict[str, str]:
        """The decoded query parameters (``+`` is a space), the last value of a repeated key."""
        return dict(parse_qsl(urlsplit(self.link).query, keep_blank_values=True)) if self.link else {}


@dataclass(frozen=True)
class CoursePart:
    """A part of the course deck: its id, title, note and sections in the deck's order."""

    key: str
    title: str
    note: str
    entries: tuple[CourseMapEntry, ...]


def parse_course_map(sections: Mapping[str, LessonSection]) -> tuple[str, tuple[CoursePart, ...]]:
    """The map from a lesson file's sections (:func:`hlmlab.lesson_text.load_lesson`).

    Returns
    -------
    (introduction, parts) in file order.

    Raises
    ------
    ValueError
        For a list item that is not ``- title → /link`` or ``- title → not covered yet``,
        naming the part and the line, so an instructor can find it.
    """
    intro = sections["intro"].body if "intro" in sections else ""
    parts = []
    for key, section in sections.items():
        if key == "intro":
            continue
        entries, note = [], []
        for line in section.body.splitlines():
            if not line.startswith("-"):
                note.append(line)
                continue
            match = _ENTRY.match(line)
            target = match["target"] if match else ""
            if target.lower() == NOT_COVERED:
                entries.append(CourseMapEntry(match["title"], None))
            elif target.startswith("/"):
                entries.append(CourseMapEntry(match["title"], target))
            else:
                raise ValueError(
                    f"Course map, part {section.title!r}: {line!r} is not "
                    f"'- title → /page?tab=...' or '- title → {NOT_COVERED}'.")
        parts.append(CoursePart(key, section.title, "\n".join(note).strip(), tuple(entries)))
    return intro, tuple(parts)


def load_course_map(name: str = "course_map", lessons_dir: Path = LESSONS_DIR):
    """Read ``lessons/<name>.md``; returns (introduction, parts) as :func:`parse_course_map`."""
    return parse_course_map(load_lesson(name, lessons_dir))


def lesson_tabs(sections: Mapping[str, LessonSection]) -> dict[str, tuple[str, ...]]:
    """A lesson's tabs: label -> the ids of its sections (the tab's own heading first).

    Tab headings start with a number and " · " (``2 · Sources of variability``); sections
    before the first tab (the introduction) belong to none.
    """
    tabs: dict[str, list[str]] = {}
    current = None
    for key, section in sections.items():
        if _TAB.match(section.title):
            current = section.title
            tabs[current] = []
        if current is not None:
            tabs[current].append(key)
    return {label: tuple(keys) for label, keys in tabs.items()}


def pages_in_course_order(parts: tuple[CoursePart, ...]) -> list[str]:
    """The pages the map links to, in the order the course first reaches them: the order
    the sidebar should follow (page URL paths, each once)."""
    return list(dict.fromkeys(e.page for p in parts for e in p.entries if e.covered))


def link_problems(
    parts: tuple[CoursePart, ...], pages: Mapping[str, Mapping[str, Collection[str]]]
) -> list[str]:
    """Every way the map's links fail to open what they promise.

    Parameters
    ----------
    parts : from :func:`parse_course_map`.
    pages : page URL path (``"jsp_schools"``) -> query key -> the values it accepts (a
        tab bar's labels, a step control's numbers as text).

    Returns
    -------
    list of plain sentences, empty when every link opens a page and a tab it has.
    """
    problems = []
    for part in parts:
        for entry in part.entries:
            if not entry.covered:
                continue
            where = f"{part.title} / {entry.title} ({entry.link})"
            if entry.page not in pages:
                problems.append(f"{where}: no page {entry.page!r}.")
                continue
            accepted = pages[entry.page]
            for key, value in entry.query.items():
                if key not in accepted:
                    problems.append(f"{where}: the page reads no parameter {key!r}.")
                elif value not in accepted[key]:
                    problems.append(f"{where}: {key}={value!r} is not one of {sorted(accepted[key])}.")
    return problems


@functools.lru_cache(maxsize=1)
def course_page_order() -> tuple[str, ...]:
    """:func:`pages_in_course_order` of ``lessons/course_map.md``, read once per process
    (app.py orders its sidebar by it on every run)."""
    return tuple(pages_in_course_order(load_course_map()[1]))


def sidebar_order(pages: Collection[str], course_order: Sequence[str],
                  first: Sequence[str] = ("home",),
                  after_the_course: Sequence[str] = ("your_data", "glossary")) -> list[str]:
    """The sidebar's order of the app's pages: ``first`` (the welcome page, which is the
    course map), then the pages the course map links to in the course's order
    (:func:`pages_in_course_order`; a later topic's page takes its place in the deck as it
    lands), then ``after_the_course`` (pages the deck has no section for: the student's own
    data, the glossary last), then any page none of these name, in the order given.

    Parameters
    ----------
    pages : the page stems the app has (``"jsp_schools"``); names of pages it does not have
        yet are skipped, so adding a page is one line in app.py.
    course_order : :func:`pages_in_course_order` of the course map.
    first, after_the_course : stems placed before and after the course's pages.

    Returns
    -------
    list of the stems of ``pages``, each once.
    """
    wanted = [*first, *course_order, *after_the_course, *pages]
    return [stem for stem in dict.fromkeys(wanted) if stem in pages]
