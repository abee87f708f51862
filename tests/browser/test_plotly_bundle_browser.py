"""The plotly.js the chart element loads (ui/plotly_bundle.py): the cartesian partial bundle
when it is installed, the full bundle otherwise, and every page's charts draw with either.

The generic browser tests (test_browser.py) draw every page's first view with whichever
bundle this checkout serves; here each bundle is asked for explicitly and checked in the
browser: the script the page loaded, and the trace types it registered against the ones the
app draws (tests/core/test_plotly_bundle.py finds those in the code).
"""

from __future__ import annotations

import pytest

import browser_support as bs
from plotly_traces import FIGURE_SOURCES, trace_types_in
from ui import plotly_bundle

pytestmark = pytest.mark.browser

LOADED_SCRIPT = """() => [...document.querySelectorAll('script[src]')]
    .map((s) => s.src.split('/').pop()).filter((name) => name.startsWith('plotly'))"""
REGISTERED_TRACES = "() => Object.keys(window.Plotly.PlotSchema.get().traces).sort()"


def drawn_trace_types() -> set[str]:
    return set().union(*(trace_types_in(p.read_text(encoding="utf-8")) for p in FIGURE_SOURCES))


def open_every_page(context, server) -> tuple[list[str], list[str]]:
    """Open each page of app.py (NELS88 at its full lab) in its own tab, wait for its charts,
    fail on any exception or console error; the scripts and traces the last chart page had."""
    scripts, traces = [], []
    for app_page in bs.discover_pages():
        query = "?step=4" if app_page.stem == "nels88_two_schools" else ""
        page = context.new_page()
        errors = bs.ConsoleErrors().attach(page)
        try:
            page.goto(app_page.url(server.base_url, query))
            charts = bs.first_view_charts(app_page)
            bs.wait_for_first_run(page, timeout=90, min_charts=charts)
            bs.assert_clean(page, errors, f"on {app_page.stem}")
            if charts and page.locator(bs.PLOTLY_CHART).count():
                scripts = page.evaluate(LOADED_SCRIPT)
                traces = page.evaluate(REGISTERED_TRACES)
        finally:
            page.close()
    return scripts, traces


def test_every_page_draws_with_the_partial_bundle(browser_context, monkeypatch):
    monkeypatch.delenv(plotly_bundle.CHOICE_VARIABLE, raising=False)
    installed = plotly_bundle.partial_bundle()
    if installed is None:
        pytest.skip("the partial bundle is not installed (no npm or network at install: "
                    "`python3 -m ui.plotly_bundle`); the app serves the full bundle")
    with bs.StreamlitServer() as server:
        scripts, traces = open_every_page(browser_context, server)
    assert scripts == [installed.name]
    assert set(traces) == plotly_bundle.CARTESIAN.traces  # the pin says what the file holds
    assert drawn_trace_types() <= set(traces)


def test_every_page_draws_with_the_full_bundle_as_the_fallback(browser_context, monkeypatch):
    import plotly

    monkeypatch.setenv(plotly_bundle.CHOICE_VARIABLE, "full")  # as without the partial one
    with bs.StreamlitServer() as server:
        scripts, traces = open_every_page(browser_context, server)
    assert scripts == [f"plotly-{plotly.__version__}.min.js"]
    assert drawn_trace_types() <= set(traces)
