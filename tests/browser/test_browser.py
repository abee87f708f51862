"""Every page of app.py in a real Chromium: it loads, draws, and survives its sliders.

The pages are read from app.py's ``PAGES`` (tests/browser/browser_support.py), so a new page is tested
as soon as it is listed there. Run with
``python -m pytest -q -m browser tests/browser/test_browser.py``.

For each page (and each extra URL in ``EXTRA_QUERIES``):

- ``test_page``: no exception box, no console error, every plotly chart drawn (and at least
  one where the page's source calls ``st.plotly_chart`` or ``show_chart``); a screenshot of the first screen
  and of the whole page goes to benchmarks/out/.
- then, once per page, each lesson view (top-level tab) in turn: it must draw cleanly; then
  its first and last ``st.slider`` / ``st.select_slider`` (every one with
  ``HLMLAB_BROWSER_SLIDERS=all``), opening an expander first if need be: Home, ArrowRight,
  ArrowLeft, End, one at a time. After each press that changes the value, the rerun it
  started must finish (``script_finished`` on the websocket) without an exception box or
  console error, and a chart must have been redrawn with different data. Exceptions are
  checked after *every* press because a box shown at one value vanishes at the next.

``HLMLAB_APP_ROOT=/path/to/checkout`` serves and tests another copy of the app (used once to
check that a page raising at one slider value, or a chart ignoring its slider, fails here).

Page-specific knowledge is limited to the small tables below.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

import browser_support as bs

pytestmark = pytest.mark.browser

# Extra URLs to open, by page file stem. The NELS88 page opens at lesson step 1 (one slider,
# scatter only); ?step=4 is the full lab: both sliders, all lines, the tables.
EXTRA_QUERIES: dict[str, tuple[str, ...]] = {
    "nels88_two_schools": ("?step=4",),
}
# Pages that draw a plotly chart although their own source calls neither st.plotly_chart nor
# show_chart (another helper does it). Pages whose source calls one are found on their own.
CHART_PAGES: set[str] = set()
# (page stem, slider label prefix) of sliders that legitimately redraw no chart when moved.
SLIDERS_WITHOUT_CHART: set[tuple[str, str]] = {
    # Sets the size of the next "Run many studies" simulation; the chart shows the last run
    # until the button is pressed (the page says so).
    ("why_multilevel", "Studies to simulate"),
    # Picks which rows of the autocorrelation table to show; the chart above it shows all.
    ("longitudinal", "Error correlation rho"),
}

KEYS = ("Home", "ArrowRight", "ArrowLeft", "End")
ALL_PAGES = bs.discover_pages()


def cases() -> list:
    """(page, query, sweep sliders?) per URL; the sliders are moved on the last URL of each
    page only (for NELS88 its ?step=4, the full lab): once per page keeps the run short."""
    out = []
    for page in ALL_PAGES:
        queries = ("", *EXTRA_QUERIES.get(page.stem, ()))
        for query in queries:
            out.append(pytest.param(page, query, query == queries[-1], id=f"{page.stem}{query}"))
    return out


def expected_charts(page: bs.AppPage) -> int:
    if page.stem in bs.FIRST_VIEW_WITHOUT_CHART:
        return 0
    return 1 if page.stem in CHART_PAGES or bs.draws_charts(page.source()) else 0


def screenshot_name(page: bs.AppPage, query: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9]+", "-", query).strip("-")
    return page.stem + (f"-{slug}" if slug else "")


def open_page(page, errors, app_server, app_page: bs.AppPage, query: str) -> int:
    """Open a page, wait until it is idle; returns how many charts it must have."""
    charts = expected_charts(app_page)
    page.goto(app_page.url(app_server.base_url, query))
    try:
        bs.wait_for_first_run(page, timeout=45, min_charts=charts)
    except TimeoutError as exc:
        pytest.fail(f"{app_page.stem}{query}: {exc}\nexceptions: {bs.exception_texts(page)}\n"
                    f"console: {errors}\nserver log:\n{app_server.log()}")
    return charts


# ---------------------------------------------------------------------------------------------
# Tests


def test_protobuf_field_numbers_match_streamlit():
    """The page hooks read raw websocket frames by field number: check those numbers."""
    from streamlit.proto import BackMsg_pb2, ForwardMsg_pb2

    forward = ForwardMsg_pb2.ForwardMsg.DESCRIPTOR.fields_by_name["script_finished"]
    back = BackMsg_pb2.BackMsg.DESCRIPTOR.fields_by_name["rerun_script"]
    assert (forward.number, forward.type) == (bs.FORWARD_SCRIPT_FINISHED, forward.TYPE_ENUM)
    assert (back.number, back.type) == (bs.BACK_RERUN_SCRIPT, back.TYPE_MESSAGE)


def test_every_page_file_is_listed_in_app():
    """A page file app.py does not list is neither in the menu nor tested."""
    listed = {Path(p.path).name for p in ALL_PAGES}
    files = {p.name for p in (bs.APP.parent / "pages").glob("*.py") if not p.name.startswith("_")}
    assert files - listed == set(), "pages/ files missing from app.py's PAGES"
    assert ALL_PAGES, "no pages found in app.py"


@pytest.mark.parametrize(("app_page", "query", "sweep_sliders"), cases())
def test_page(tab, app_server, app_page, query, sweep_sliders):
    """Open the page and check it; then, on one URL per page, move its sliders."""
    page, errors = tab
    charts = open_page(page, errors, app_server, app_page, query)
    where = f"on {app_page.stem}{query}"

    name = screenshot_name(app_page, query)
    bs.OUT_DIR.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(bs.OUT_DIR / f"{name}.png"))
    bs.save_full_page_screenshot(page, bs.OUT_DIR / f"{name}-full.png")

    bs.assert_clean(page, errors, where)
    present = page.locator(bs.PLOTLY_CHART).count()
    drawn = bs.charts_drawn(page)
    assert drawn == present, f"{present - drawn} of {present} plotly charts not drawn {where}"
    assert drawn >= charts, f"no plotly chart drawn {where}"
    assert not bs.clipped_titles(page), f"chart titles cut off {where}"
    assert page.get_by_text("Page not found").count() == 0, where

    if sweep_sliders:
        move_sliders(page, errors, app_page, query)


def test_a_slider_press_redraws_its_chart_in_place_once(tab, app_server):
    """HLM Lab's chart element (ui/plotly_chart.js) keeps one plotly div across reruns
    and redraws it once per press. st.plotly_chart remounted the chart for every new figure
    and drew it twice; a config rebuilt on every draw made plotly.js replot twice too."""
    page, errors = tab
    jsp = next(p for p in ALL_PAGES if p.stem == "jsp_schools")
    open_page(page, errors, app_server, jsp, "")
    bs.open_view(page, bs.view_tabs(page).index("3 · Three kinds of lines"))
    chart = ".hlm-chart .js-plotly-plot"
    assert page.locator(chart).count() == 1
    page.evaluate(f"document.querySelector('{chart}').__kept = true")
    thumb = page.locator(bs.SLIDER_THUMB).nth(0)
    assert bs.slider_label(page, 0).startswith("Schools drawn")
    for key in ("ArrowRight", "ArrowRight", "ArrowLeft"):
        before = bs.chart_signature(page)
        pressed_at = bs.now(page)
        thumb.press(key)
        bs.wait_for_rerun(page, pressed_at, timeout=60)
        bs.wait_for_idle(page, timeout=30, settle_ms=300)
        assert page.evaluate(f"document.querySelector('{chart}').__kept === true"), "remounted"
        assert len(bs.afterplots_since(page, pressed_at)) == 1, f"not one draw after {key}"
        assert bs.chart_signature(page) != before, f"chart unchanged after {key}"
    # Full screen, for the lecture hall: the chart fills the screen, and comes back.
    page.hover(chart)
    page.click('.hlm-chart .modebar-btn[data-title^="Full screen"]')
    page.wait_for_function(f"() => document.fullscreenElement && "
                           f"document.querySelector('{chart}')._fullLayout.width === innerWidth")
    page.evaluate("document.exitFullscreen()")
    page.wait_for_function(f"() => !document.fullscreenElement && "
                           f"document.querySelector('{chart}')._fullLayout.width < innerWidth")
    bs.assert_clean(page, errors, "after the in-place redraws")


def sliders_to_sweep(count: int) -> list[int]:
    """Which sliders to move: HLMLAB_BROWSER_SLIDERS=all for every one; by default the first
    and the last of each page, which keeps the run near 90 s while pages refit slowly."""
    if os.environ.get("HLMLAB_BROWSER_SLIDERS", "").lower() == "all":
        return list(range(count))
    return sorted({0, count - 1}) if count else []


def move_sliders(page, errors, app_page: bs.AppPage, query: str) -> None:
    """Open each lesson view (tab) in turn: it must draw cleanly, then its sliders move."""
    views = bs.view_tabs(page)
    for index in range(len(views)) or [None]:
        where = f"on {app_page.stem}{query}"
        if index is not None:
            label = bs.open_view(page, index)
            where += f", view {label!r}"
            bs.assert_clean(page, errors, where)
            assert bs.charts_drawn(page) == page.locator(bs.PLOTLY_CHART).count(), where
            assert not bs.clipped_titles(page), f"chart titles cut off {where}"
        move_view_sliders(page, errors, app_page, where)


def move_view_sliders(page, errors, app_page: bs.AppPage, view_where: str) -> None:
    sliders = bs.slider_count(page)
    # A question's guess reruns nothing until its button (test_questions_browser.py).
    controls = [i for i in range(sliders) if i not in bs.question_sliders(page)]
    for index in [controls[i] for i in sliders_to_sweep(len(controls))]:
        label = bs.slider_label(page, index)
        thumb = page.locator(bs.SLIDER_THUMB).nth(index)
        opened = bs.reveal(page, thumb)  # a slider in a closed tab or expander
        if opened:
            bs.wait_for_idle(page, timeout=30)
            bs.assert_clean(page, errors, f"{view_where} after opening {opened}")
        check_redraw = page.locator(bs.PLOTLY_CHART).count() > 0 and not any(
            stem == app_page.stem and label.startswith(prefix)
            for stem, prefix in SLIDERS_WITHOUT_CHART
        )
        changed = 0
        for key in KEYS:
            where = f"{view_where}, slider {label!r}, after {key}"
            before_value = bs.slider_value(page, index)
            before_chart = bs.chart_signature(page) if check_redraw else None
            pressed_at = bs.now(page)
            thumb.press(key)
            if bs.slider_value(page, index) == before_value:
                # Already at that end: no rerun is sent. Still look for an exception box.
                page.wait_for_timeout(100)
                bs.assert_clean(page, errors, where)
                continue
            changed += 1
            where += f" ({before_value} -> {bs.slider_value(page, index)})"
            finished = bs.wait_for_rerun(page, pressed_at, timeout=60)
            bs.wait_for_idle(page, timeout=30, settle_ms=50)
            bs.assert_clean(page, errors, where)
            assert finished["status"] in (0, 3), f"script finished with status {finished} {where}"
            if check_redraw:
                # The chart is redrawn from a delta that can arrive before the rerun ends,
                # and plotly can still be drawing after it: wait for the redraw, briefly.
                try:
                    bs.wait_for_redraw(page, pressed_at, timeout=5)
                except PlaywrightTimeout:
                    pytest.fail(f"no chart redrawn {where}")
                assert bs.chart_signature(page) != before_chart, f"chart data unchanged {where}"
        assert changed >= 2, f"slider {label!r} {view_where} did not move"
        assert bs.slider_count(page) == sliders, f"sliders appeared or vanished after {label!r}"
