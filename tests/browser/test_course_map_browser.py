"""The course map in Chromium: the home page's links, clicked one after another as a student
clicks through the map, each open its lesson at the tab or step it names (also when the
student last left that lesson on another tab); the sidebar lists the pages in the course
deck's order.

Run with ``python -m pytest -q -m browser tests/browser/test_course_map_browser.py``.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest

import browser_support as bs
from hlmlab.course_map import course_page_order, load_course_map, sidebar_order

pytestmark = pytest.mark.browser

PAGES = {page.stem: page for page in bs.discover_pages()}
HOME = next(page for page in PAGES.values() if page.default)
_, PARTS = load_course_map()
LINKS = [(f"map_{part.key}_{position}", entry) for part in PARTS
         for position, entry in enumerate(part.entries, 1)
         if entry.covered and entry.page in PAGES]


def rerun_after(page, action, timeout: float = 120.0) -> None:
    since = bs.now(page)
    action()
    bs.wait_for_rerun(page, since, timeout=timeout)
    bs.wait_for_idle(page, timeout=timeout)


def sidebar_titles(page) -> list[str]:
    # A link's text is its icon's name, then its title.
    return [text.strip().splitlines()[-1] for text in
            page.locator('[data-testid="stSidebarNav"] a').all_inner_texts()]


def shown_as_open(page, query: dict[str, str]) -> dict[str, str]:
    """The open tab or step, under the link's URL key."""
    (key, _), = query.items()
    if key == "step":
        checked = page.locator('[data-testid="stButtonGroup"] button[aria-checked="true"]')
        return {key: checked.first.inner_text().strip()}
    labels = bs.view_tabs(page)
    selected = page.locator('[data-hlm-view][aria-selected="true"]')
    assert selected.count() == 1, labels
    return {key: selected.first.inner_text().strip()}


def test_the_sidebar_follows_the_course(tab, app_server):
    page, errors = tab
    page.goto(HOME.url(app_server.base_url))
    bs.wait_for_first_run(page, timeout=90)
    expected = [PAGES[stem].title for stem in sidebar_order(PAGES, course_page_order())]
    assert sidebar_titles(page) == expected
    assert expected[0] == HOME.title and expected[-1] == "Glossary"
    bs.assert_clean(page, errors, "home page")


def test_every_map_link_opens_its_tab(tab, app_server):
    page, errors = tab
    page.goto(HOME.url(app_server.base_url))
    bs.wait_for_first_run(page, timeout=90)
    assert len(LINKS) >= 25  # 29 before the macro-micro lesson lands
    # The summary's link leaves Foundations on its last tab; the first link (its first tab,
    # the tab bar's default) must still open the first tab afterwards.
    assert LINKS[0][1].page == LINKS[-1][1].page == "foundations"
    for key, entry in [*LINKS, LINKS[0]]:
        where = f"{entry.title} ({entry.link})"
        link = page.locator(f".st-key-{key} a")
        assert link.count() == 1, f"{where}: no link on the map"
        link.scroll_into_view_if_needed()
        rerun_after(page, link.click)
        url = urlparse(page.url)
        assert url.path == f"/{entry.page}", where
        in_url = {k: v[-1] for k, v in parse_qs(url.query).items() if k in entry.query}
        # The app leaves a first tab (the default) out of the address: no other value then.
        assert in_url in (entry.query, {}), (where, page.url)
        assert shown_as_open(page, entry.query) == entry.query, where
        bs.assert_clean(page, errors, where)
        home_link = page.locator('[data-testid="stSidebarNav"] a').filter(has_text=HOME.title)
        rerun_after(page, home_link.click)
