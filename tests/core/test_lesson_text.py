"""hlmlab.lesson_text: the lessons' Markdown, split into sections and questions."""

from __future__ import annotations

import re

from hlmlab.lesson_text import LESSONS_DIR, load_lesson


def test_every_lesson_file_parses_and_questions_have_answers():
    paths = list(LESSONS_DIR.glob("*.md"))
    assert len(paths) >= 5
    for path in paths:
        sections = load_lesson(path.stem)
        assert sections, path
        for section in sections.values():
            if section.is_question:
                assert section.body and section.answer, f"{path.name}: {section.key}"


def test_lesson_maths_is_written_the_way_streamlit_renders_it():
    """Streamlit's markdown printed these as raw LaTeX in red: an inline $...$ broken over two
    lines, and a $$ block whose $$ shared a line with a formula that went on."""
    for path in LESSONS_DIR.glob("*.md"):
        text = path.read_text(encoding="utf-8")
        for line_number, line in enumerate(text.splitlines(), 1):
            where = f"{path.name}:{line_number}"
            if line.count("$$") == 1:
                assert line.strip() == "$$", f"{where}: a $$ that opens or closes a block stands alone"
            assert line.replace("$$", "").count("$") % 2 == 0, f"{where}: inline $...$ over two lines"
        assert not re.search(r"\$\$[^$\n]+\n[^$]*\$\$", text), path.name


def test_lesson_sections_split_on_headings_with_ids(tmp_path):
    (tmp_path / "demo.md").write_text(
        "Intro text.\n\n## First {#one}\nBody one.\n\n## Guess {#question-a}\nWhy?\n---\nBecause.\n"
    )
    sections = load_lesson("demo", tmp_path)
    assert list(sections) == ["intro", "one", "question-a"]
    assert sections["one"].title == "First" and sections["one"].body == "Body one."
    assert sections["question-a"].body == "Why?" and sections["question-a"].answer == "Because."
