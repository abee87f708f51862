"""Lesson prose lives in Markdown under ``lessons/`` so instructors can edit it without code.

The folder is :data:`hlmlab.paths.LESSONS_DIR` (inside an installed package, or the checkout).

A lesson file is split into sections by second-level headings that carry an id::

    ## Two schools {#two-schools}

A section whose id starts with ``question`` is a predict-then-reveal question: the text
before a line holding only ``---`` is the question, the text after it the answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from hlmlab.paths import LESSONS_DIR

__all__ = ["LESSONS_DIR", "LessonSection", "load_lesson"]

_HEADING = re.compile(r"^##\s+(?P<title>.+?)\s*\{#(?P<key>[A-Za-z0-9_-]+)\}\s*$")


@dataclass(frozen=True)
class LessonSection:
    """One section of a lesson: its id, heading, body and, for questions, the answer."""

    key: str
    title: str
    body: str
    answer: str = ""

    @property
    def is_question(self) -> bool:
        """Sections with an id starting with ``question`` are asked before they are answered."""
        return self.key.startswith("question")


def load_lesson(name: str, lessons_dir: Path = LESSONS_DIR) -> dict[str, LessonSection]:
    """Read ``lessons/<name>.md`` into its sections, in file order.

    Parameters
    ----------
    name : file stem, e.g. ``"nels88_two_schools"``.
    lessons_dir : folder of lesson files.

    Returns
    -------
    dict mapping section id to LessonSection; text before the first heading is ``"intro"``.

    Raises
    ------
    FileNotFoundError
        When the lesson file does not exist.
    """
    text = (lessons_dir / f"{name}.md").read_text(encoding="utf-8")
    sections: dict[str, LessonSection] = {}
    key, title, body = "intro", "", []

    def close():
        content = "\n".join(body).strip()
        answer = ""
        if key.startswith("question"):
            parts = re.split(r"^---\s*$", content, maxsplit=1, flags=re.MULTILINE)
            content, answer = parts[0].strip(), (parts[1].strip() if len(parts) > 1 else "")
        if content or title:
            sections[key] = LessonSection(key, title, content, answer)

    for line in text.splitlines():
        match = _HEADING.match(line)
        if match:
            close()
            key, title, body = match["key"], match["title"], []
        else:
            body.append(line)
    close()
    return sections
