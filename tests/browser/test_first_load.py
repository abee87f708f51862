"""A freshly started server's first requests: they come up through app.py, and a class that
opens the link at the same moment gets no exception.

Each test starts its own server, so the request it makes first is the server's first. On a
fresh server Streamlit's legacy ``pages/`` discovery runs a page on its own (see
ui/navigation.py); ``ensure_app_frame`` then hands the page to app.py's navigation.

``test_a_class_opening_pages_together_on_a_fresh_server`` reproduces issue 11's first-load
failure: until the workaround stopped raising while a module was being imported, sessions
that imported the shared page helpers at the same moment were handed a half-initialised
module ("cannot import name 'SliderRange' from" the old shared helpers module; 22 of 24
sessions failed at commit e9b8d4b).
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlparse

import pytest

import browser_support as bs
import ws_student

pytestmark = pytest.mark.browser

def app_page(stem: str) -> bs.AppPage:
    return next(p for p in bs.discover_pages() if p.stem == stem)


def test_a_deep_link_as_a_fresh_servers_first_request_comes_up_through_app_py(browser_context):
    """Chromium opens /nels88_two_schools?step=4 before anyone else has asked the server
    anything: app.py's menu and sidebar are there, and the page is at lesson step 4."""
    nels88 = app_page("nels88_two_schools")
    with bs.StreamlitServer() as server:
        page = browser_context.new_page()
        errors = bs.ConsoleErrors().attach(page)
        try:
            page.goto(nels88.url(server.base_url, "?step=4"))
            bs.wait_for_first_run(page, timeout=90, min_charts=1)
            bs.assert_clean(page, errors, "on a fresh server's first request")
            menu = page.locator('[data-testid="stSidebarNav"]').inner_text()
            for listed in bs.discover_pages():  # app.py's titles, not the files' names
                assert listed.title in menu, f"{listed.title!r} not in the menu: {menu!r}"
            sidebar = page.locator('[data-testid="stSidebar"]').inner_text()
            assert "Presenter mode" in sidebar and "HLM Lab" in sidebar
            assert page.locator("h1").first.inner_text().startswith("NELS88: math and homework")
            assert page.get_by_text("School by school").count() == 1  # step 4's table
            assert page.get_by_text("Page not found").count() == 0
            url = urlparse(page.url)
            # Still step 4, now in the step control's own spelling (ui/controls.py).
            assert (url.path, parse_qs(url.query)) == ("/nels88_two_schools",
                                                       {"step": ["4 · Three kinds of lines"]})
        finally:
            page.close()


# A JSP view whose slider panel prefetches fits that need their own computation.
JSP_SEPARATE = ("jsp_schools", urlencode({"jsp_view": "5 · When separate lines are fine"}))
# Every page of app.py, NELS88 at its full lab, and the JSP view above.
FIRST_URLS = [(p.url_path, "") for p in bs.discover_pages()] + [
    ("nels88_two_schools", "step=4"), JSP_SEPARATE]
STUDENTS = 24


def test_a_class_opening_pages_together_on_a_fresh_server():
    """24 sessions open pages at the same moment as a fresh server's first requests: every
    one finishes its run with app.py's menu and sidebar, its page's title and no exception;
    afterwards (the prefetcher has run too) the server log has no error, no traceback and no
    "missing ScriptRunContext" (a prefetched function that asked for the script context)."""
    urls = [FIRST_URLS[i % len(FIRST_URLS)] for i in range(STUDENTS)]
    titles = [p.title for p in bs.discover_pages()]
    with bs.StreamlitServer() as server:
        loads = ws_student.first_loads_together(server.port, urls, timeout=300)
        failures = [(seen.url, problems) for seen in loads
                    if (problems := first_load_problems(seen, titles))]
        assert not failures, (f"{len(failures)} of {len(loads)} first loads failed:\n"
                              + "\n".join(f"{url}: {'; '.join(problems)}"
                                          for url, problems in failures))
        server.wait_until_idle(timeout=120)
        # One more student on an idle server: the prefetcher now runs that panel's next
        # steps (while the class loaded, its tasks waited past their 5 s and were dropped).
        (late,) = ws_student.first_loads_together(server.port, [JSP_SEPARATE], timeout=120)
        assert not first_load_problems(late, titles)
        server.wait_until_idle(timeout=120)
        log = server.log(tail=200_000)
    for sign in ("Traceback", "missing ScriptRunContext", "Prefetch task", "Exception"):
        assert sign not in log, f"{sign!r} in the server log:\n{log[-6000:]}"


def first_load_problems(seen: ws_student.FirstLoad, titles: list[str]) -> list[str]:
    """What is wrong with one session's first load (nothing: an empty list)."""
    problems = []
    if seen.error or seen.status != "FINISHED_SUCCESSFULLY":
        problems.append(f"run ended {seen.status} {seen.error}".strip())
    problems += [f"exception {text[:300]}" for text in seen.exceptions]
    problems += [f"page not found: {name}" for name in seen.page_not_found]
    if seen.navigation != titles:
        problems.append(f"menu {seen.navigation} is not app.py's")
    if ("checkbox", "Presenter mode") not in seen.sidebar:
        problems.append("no app.py sidebar")
    if not any(kind == "heading" for kind, _ in seen.main):
        problems.append("no page title")
    return problems
