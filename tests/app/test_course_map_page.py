"""The home page is the course map (AppTest): every deck section in the deck's order, each a
link that opens its lesson at the tab or step that teaches it, or a plain "not covered yet";
and every link, followed as ``st.page_link`` follows it (the page with the link's query
string), opens that tab or step, also in a session that left the page on another tab.

What the map says comes from lessons/course_map.md (hlmlab.course_map); which tabs exist is
checked against the pages' own controls in tests/core/test_course_map.py.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

import pytest
from streamlit.testing.v1 import AppTest

from app_pages import APP, REPO, element_texts, find_block, lesson_views
from hlmlab.course_map import NOT_COVERED, load_course_map

TIMEOUT = 180
_, PARTS = load_course_map()
# Pages whose lesson steps are a step control (NELS88) rather than tabs: its URL key. The
# map spells a step as the address bar does ("4 · Three kinds of lines"): a short "4" is
# read only by a session that has not used the control yet.
STEP_PAGES = {"nels88_two_schools": "step"}


def exists(stem: str) -> bool:
    return (REPO / "pages" / f"{stem}.py").exists()


def home() -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def map_links(at: AppTest) -> list:
    return [link.proto for link in at.get("page_link")]


def test_every_deck_section_is_a_link_or_says_not_covered_in_the_deck_s_order():
    at = home()
    headings = [h.value for h in at.subheader]
    assert [h for h in headings if h in {p.title for p in PARTS}] == [p.title for p in PARTS]
    links = iter(map_links(at))
    for part in PARTS:
        for position, entry in enumerate(part.entries, 1):
            box = find_block(at.main, f"map_{part.key}_{position}")
            assert box is not None, (part.key, entry.title)
            if not entry.covered:
                assert any(entry.title in t and NOT_COVERED in t for t in element_texts(box))
            elif exists(entry.page):
                link = next(links)
                assert link.page == entry.page and link.label.startswith(entry.title)
                assert dict(parse_qsl(link.query_string)) == entry.query
            else:  # a lesson built on another branch: said plainly until it lands
                assert any("not in this version of the app yet" in t
                           for t in element_texts(box))
    assert next(links, None) is None  # no link the map does not list
    texts = "\n".join(element_texts(at.main))
    assert "step by step" not in texts  # no claim the app cannot back (issue 13)
    for later in PARTS[-1].entries:
        assert not later.covered


def opened(at: AppTest, stem: str) -> dict[str, str]:
    """What the page shows as open: its tab (the one whose content ran) or its step."""
    if stem in STEP_PAGES:
        key = STEP_PAGES[stem]
        return {key: next(w for w in at.button_group if w.key == key).value}
    key, _ = lesson_views(f"pages/{stem}.py")
    return {key: at.session_state[f"_hlm_last_tab_{key}"]}


LINKS = [(part.key, entry) for part in PARTS for entry in part.entries
         if entry.covered and exists(entry.page)]


def test_the_map_links_every_page_the_course_reaches():
    assert {entry.page for _, entry in LINKS} >= {"foundations", "why_multilevel",
                                                   "nels88_two_schools", "jsp_schools",
                                                   "longitudinal"}


def test_every_map_link_opens_its_tab_or_step():
    """One session follows every link in turn, as a student clicking through the map: each
    link's tab opens even though the session last left that page on another tab."""
    at = home()
    for part_key, entry in LINKS:
        at.switch_page("pages/home.py").run()
        at.query_params.clear()
        at.query_params.update(entry.query)
        at.switch_page(f"pages/{entry.page}.py").run()
        where = f"{part_key}: {entry.title} ({entry.link})"
        assert not at.exception, (where, [e.message for e in at.exception])
        assert opened(at, entry.page) == entry.query, where


@pytest.mark.parametrize("stem", sorted({e.page for _, e in LINKS if e.page not in STEP_PAGES}))
def test_a_link_wins_over_the_tab_the_student_left_open(stem):
    """The student opened the last tab, went home, and follows a link to the first tab (the
    tabs' own default, which a remembered tab used to override)."""
    path = f"pages/{stem}.py"
    key, labels = lesson_views(path)
    target = next(e for _, e in LINKS if e.page == stem and e.query[key] == labels[0])
    at = home()
    at.query_params[key] = labels[-1]  # a tab opened as a click opens it: in the URL, and
    at.switch_page(path).run()  # in the widget's state (not set by the test, which would last)
    assert opened(at, stem) == {key: labels[-1]}
    at.switch_page("pages/home.py").run()
    at.query_params.clear()
    at.query_params.update(target.query)
    at.switch_page(path).run()
    assert opened(at, stem) == target.query
