"""lessons/course_map.md and hlmlab.course_map: every deck section in the deck's order, each
with a link that opens an existing page's tab or step, or "not covered yet".

Where the pages and their tabs come from (never hard-coded here): app.py's ``st.Page`` list
and each page's ``show_views([View("label", ...)], key=...)`` call, read with ``ast`` by
tests/app_pages.py; the NELS88 page's ``STEPS`` tuple (its ``?step=`` values); for the two
pages still to be built, pages/foundations.py opens the tabs named in lessons/foundations.md
(``foundations_view``) and pages/macro_micro.py those of lessons/macro_micro.md
(``macro_view``) once that lesson is in the tree (until then the map links the page only).
"""

from __future__ import annotations

import ast
import importlib.util
import re
from pathlib import Path

import pytest

from hlmlab.course_map import (
    NOT_COVERED,
    CourseMapEntry,
    CoursePart,
    course_page_order,
    link_problems,
    lesson_tabs,
    load_course_map,
    pages_in_course_order,
    sidebar_order,
)
from hlmlab.lesson_text import load_lesson
from hlmlab.paths import LESSONS_DIR

REPO = Path(__file__).resolve().parents[2]
# The pages still to be built, and the URL key their tabs will be bound to.
NEW_PAGES = {"foundations": "foundations_view", "macro_micro": "macro_view"}


def _app_pages_module():
    """tests/app_pages.py, wherever the page tests keep it (tests/ or tests/app/)."""
    for path in (REPO / "tests" / "app_pages.py", REPO / "tests" / "app" / "app_pages.py"):
        if path.exists():
            spec = importlib.util.spec_from_file_location("app_pages_for_course_map", path)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            return module
    raise FileNotFoundError("tests/app_pages.py")


def _step_values(page_path: str) -> list[str]:
    """The ``?step=`` values of a page with a module-level ``STEPS`` tuple: its labels (the
    spelling the address bar shows, which a link must use to win over the step a student
    left open: tests/app/test_course_map_page.py), then 1..len(STEPS)."""
    tree = ast.parse((REPO / page_path).read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "STEPS" for t in node.targets):
            labels = [element.value for element in node.value.elts]
            return labels + [str(i) for i in range(1, len(labels) + 1)]
    return []


def known_pages() -> dict[str, dict[str, list[str]]]:
    """URL path -> query key -> accepted values, for app.py's pages and the two new ones."""
    app_pages = _app_pages_module()
    pages = {}
    for page_path in app_pages.page_paths():
        accepted = {}
        views = app_pages.lesson_views(page_path)
        if views:
            accepted[views[0]] = views[1]
        steps = _step_values(page_path)
        if steps:
            accepted["step"] = steps
        stem = Path(page_path).stem
        pages["" if stem == "home" else stem] = accepted
    for stem, view_key in NEW_PAGES.items():
        if stem in pages:  # built since: app.py's own page wins
            continue
        has_lesson = (LESSONS_DIR / f"{stem}.md").exists()
        pages[stem] = {view_key: list(lesson_tabs(load_lesson(stem)))} if has_lesson else {}
    return pages


@pytest.fixture(scope="module")
def course_map():
    return load_course_map()


def test_parts_follow_the_deck(course_map):
    _, parts = course_map
    assert [p.key for p in parts] == ["foundations", "why-multilevel", "nels88", "jsp",
                                      "longitudinal", "macro-micro", "summary", "later"]
    # The closing summary is the last stop the app covers; the later topics come after it.
    assert parts[-2].entries[-1].covered and "overwhelmingly complex" in parts[-2].entries[-1].title
    assert [e.title for e in parts[-1].entries] == [
        "Discrete responses: logistic and Poisson GLMMs", "Crossed random effects", "Meta-analysis"]
    assert not any(e.covered for e in parts[-1].entries)


def test_pages_in_the_course_s_order(course_map):
    """The sidebar's order (issue 13): foundations, why multilevel, NELS88, JSP,
    longitudinal, then the later lessons as they land."""
    _, parts = course_map
    assert pages_in_course_order(parts) == ["foundations", "why_multilevel", "nels88_two_schools",
                                            "jsp_schools", "longitudinal", "macro_micro"]


def test_the_sidebar_follows_the_deck_then_your_data_then_the_glossary():
    """app.py's pages in the order app.py gives st.navigation (sidebar_order over the map's
    course order): the welcome page (the map), the lessons in the deck's order, then the
    student's own data and the glossary; a page app.py does not have yet is left out."""
    stems = [Path(path).stem for path in _app_pages_module().page_paths()]
    expected = ["home", "foundations", "why_multilevel", "nels88_two_schools", "jsp_schools",
                "longitudinal", "macro_micro", "your_data", "glossary"]
    assert sidebar_order(stems, course_page_order()) == [s for s in expected if s in stems]
    assert {"home", "foundations", "glossary"} <= set(stems)
    app_source = (REPO / "app.py").read_text(encoding="utf-8")
    assert "sidebar_order(PAGES, course_page_order())" in app_source


def test_sidebar_order_places_a_later_topic_in_the_deck_and_skips_missing_pages():
    order = ("foundations", "why_multilevel", "macro_micro", "crossed")
    pages = ["glossary", "crossed", "home", "why_multilevel", "your_data", "foundations", "extra"]
    assert sidebar_order(pages, order) == ["home", "foundations", "why_multilevel", "crossed",
                                           "your_data", "glossary", "extra"]


def test_every_deck_section_has_a_link_or_says_not_covered(course_map):
    _, parts = course_map
    text = (LESSONS_DIR / "course_map.md").read_text(encoding="utf-8")
    items = [line for line in text.splitlines() if line.startswith("-")]
    entries = [e for p in parts for e in p.entries]
    assert len(entries) == len(items) >= 30
    for entry in entries:
        assert entry.title
        assert entry.link is None or entry.link.startswith("/")
    expected = {"foundations": 6, "why-multilevel": 6, "nels88": 5, "jsp": 6, "longitudinal": 6,
                "macro-micro": 6, "summary": 1, "later": 3}
    assert {p.key: len(p.entries) for p in parts} == expected


def test_every_link_opens_a_page_and_a_tab_it_has(course_map):
    _, parts = course_map
    assert link_problems(parts, known_pages()) == []


def test_the_map_s_tab_labels_are_the_pages_own():
    """The labels the map uses are those of the pages' View(...) calls, read from source."""
    pages = known_pages()
    assert pages["jsp_schools"]["jsp_view"][3] == "4 · Ranking schools"
    assert pages["why_multilevel"]["why_view"][3] == "4 · Sampling designs"
    assert pages["longitudinal"]["long_view"][1] == "2 · Growth curves, unbalanced"
    assert pages["nels88_two_schools"]["step"][3] == "4 · Three kinds of lines"
    assert pages["nels88_two_schools"]["step"][4:] == ["1", "2", "3", "4"]
    assert pages["foundations"]["foundations_view"][1] == "2 · Sources of variability"


@pytest.mark.parametrize("lesson", ["foundations", "glossary"])
def test_links_in_lesson_prose_open_their_tabs(lesson):
    text = (LESSONS_DIR / f"{lesson}.md").read_text(encoding="utf-8")
    links = re.findall(r"\]\((/[^)\s]*)\)", text)
    part = CoursePart(lesson, lesson, "", tuple(CourseMapEntry(link, link) for link in links))
    assert link_problems((part,), known_pages()) == []
    if lesson == "foundations":
        assert len(links) >= 10


def test_link_problems_finds_every_kind_of_broken_link():
    entries = (
        CourseMapEntry("ok", "/jsp_schools?jsp_view=1+·+A"),
        CourseMapEntry("no page", "/nowhere"),
        CourseMapEntry("no such key", "/jsp_schools?view=1+·+A"),
        CourseMapEntry("no such tab", "/jsp_schools?jsp_view=9+·+Z"),
        CourseMapEntry("not covered", None),
    )
    problems = link_problems((CoursePart("p", "Part", "", entries),),
                             {"jsp_schools": {"jsp_view": ["1 · A"]}})
    assert len(problems) == 3
    assert "no page 'nowhere'" in problems[0]
    assert "no parameter 'view'" in problems[1]
    assert "'9 · Z' is not one of" in problems[2]


def test_parser_reads_links_and_refuses_a_malformed_line(tmp_path):
    (tmp_path / "map.md").write_text(
        "Intro.\n\n## Part one {#one}\nA note.\n\n- First → /page?tab=2+·+Two\n"
        f"- Second → {NOT_COVERED}\n", encoding="utf-8")
    intro, parts = load_course_map("map", tmp_path)
    assert intro == "Intro." and parts[0].note == "A note."
    first, second = parts[0].entries
    assert (first.page, first.query, second.covered) == ("page", {"tab": "2 · Two"}, False)
    (tmp_path / "bad.md").write_text("## Part {#p}\n- Missing its arrow /page\n", encoding="utf-8")
    with pytest.raises(ValueError, match="Missing its arrow"):
        load_course_map("bad", tmp_path)
    (tmp_path / "worse.md").write_text("## Part {#p}\n- Title → somewhere\n", encoding="utf-8")
    with pytest.raises(ValueError, match="not covered yet"):
        load_course_map("worse", tmp_path)


def test_lesson_tabs_group_sections_under_numbered_headings(tmp_path):
    (tmp_path / "demo.md").write_text(
        "Intro.\n\n## 1 · One {#one}\nA.\n\n## More {#more}\nB.\n\n## 2 · Two {#two}\nC.\n",
        encoding="utf-8")
    assert lesson_tabs(load_lesson("demo", tmp_path)) == {"1 · One": ("one", "more"),
                                                          "2 · Two": ("two",)}
