"""Fixtures shared by the tests that drive a real Streamlit server (and Chromium).

``app_server`` and ``browser_context`` are one per test module: Chromium caches Streamlit's
and plotly's compiled code once, and each tab is still its own Streamlit session. Tests that
need a server nobody has visited yet (a fresh server's first request) start their own with
``browser_support.StreamlitServer``. Helpers are in browser_support.py beside this file.
"""

from __future__ import annotations

import pytest

import browser_support as bs


@pytest.fixture(scope="module")
def app_server():
    with bs.StreamlitServer() as server:
        yield server


@pytest.fixture(scope="module")
def browser_context():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = bs.launch_chromium(playwright)
        # One context for all tabs: Chromium caches Streamlit's and plotly's compiled code
        # once; each tab is still its own Streamlit session.
        context = browser.new_context(viewport=bs.VIEWPORT)
        bs.install_hooks(context)
        try:
            yield context
        finally:
            context.close()
            browser.close()


@pytest.fixture
def tab(app_server, browser_context):
    """A new tab of the module's browser, and the console errors it collects."""
    page = browser_context.new_page()
    errors = bs.ConsoleErrors().attach(page)
    try:
        yield page, errors
    finally:
        page.close()
