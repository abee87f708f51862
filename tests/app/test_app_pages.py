"""AppTest: the app starts, every page renders, and every control of every page can be set to
its extremes without an exception or an unexpected-error message."""

from __future__ import annotations

import ast

import pytest
from streamlit.testing.v1 import AppTest

from app_pages import APP, REPO, answer_every_question, lesson_views, open_view, page_paths

TIMEOUT = 120


def open_page(path: str, query: dict | None = None) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    if query:
        at.query_params.update(query)
    at.run()
    at.switch_page(path).run()
    return at


def assert_clean(at: AppTest, context: str) -> None:
    assert not at.exception, f"{context}: {[e.message for e in at.exception]}"
    errors = [e.value for e in at.error]
    assert not any("Traceback" in e for e in errors), f"{context}: {errors}"


def test_every_page_file_is_listed_in_app():
    listed = set(page_paths())
    files = {
        f"pages/{p.name}" for p in (REPO / "pages").glob("*.py") if not p.name.startswith("_")
    }
    assert files == listed


@pytest.mark.parametrize("path", page_paths())
def test_every_page_runs_inside_app_py_and_counts_its_fragments(path):
    """A page's first statement after its imports is ``ensure_app_frame(__file__)`` (a fresh
    server's first request for it would otherwise draw it without app.py), and its panels
    are ui.script_runs fragments (a bare st.fragment's reruns would not make the
    prefetcher wait)."""
    tree = ast.parse((REPO / path).read_text(encoding="utf-8"))
    body = [node for node in tree.body if not isinstance(node, (ast.Import, ast.ImportFrom))
            and not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant))]
    first = body[0]
    assert (isinstance(first, ast.Expr) and isinstance(first.value, ast.Call)
            and getattr(first.value.func, "id", None) == "ensure_app_frame"
            and [getattr(a, "id", None) for a in first.value.args] == ["__file__"]), \
        f"{path} does not start with ensure_app_frame(__file__)"
    bare = [node.lineno for node in ast.walk(tree)
            if isinstance(node, ast.Attribute) and node.attr == "fragment"
            and getattr(node.value, "id", None) == "st"]
    assert not bare, f"{path} uses st.fragment (use ui.script_runs.fragment) at lines {bare}"


def test_app_starts_on_the_welcome_page():
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    assert_clean(at, "start")
    assert at.title[0].value == "HLM Lab"


def test_the_sidebar_asks_the_browser_for_plotly_js_before_any_chart():
    import json

    import re

    at = AppTest.from_file(str(APP), default_timeout=60).run()
    # No chart element in the sidebar: an inline script that starts loading plotly.js at
    # once (a component's own code loads only after the page around it has rendered).
    assert not list(at.sidebar.get("bidi_component"))
    scripts = [e.proto.body for e in at.sidebar.get("html") if "<script>" in e.proto.body]
    assert len(scripts) == 1
    url = json.loads(re.search(r"const url = (\"[^\"]+\");", scripts[0]).group(1))
    assert url.startswith("app/static/") and (REPO / "static" / url.rsplit("/", 1)[1]).is_file()
    # the name ui/plotly_chart.js's loadPlotly looks for, so the chart reuses this load
    assert "window.__hlmlabPlotly = {url, promise}" in scripts[0]
    assert "window.__hlmlabPlotly" in (REPO / "ui" / "plotly_chart.js").read_text()


@pytest.mark.parametrize("path", page_paths())
def test_page_renders(path):
    at = open_page(path)
    assert_clean(at, path)
    assert at.title, f"{path} has no title"


def _extremes(widget) -> list:
    kind = type(widget).__name__
    if kind in ("Slider", "SelectSlider"):
        return [widget.min, widget.max] if kind == "Slider" else [widget.options[0], widget.options[-1]]
    if kind in ("Radio", "Selectbox"):
        return list(widget.options)
    if kind == "Multiselect":
        return [[], list(widget.options)]
    if kind in ("Toggle", "Checkbox"):
        return [True, False]
    if kind == "ButtonGroup":
        return [None, *widget.options] if not _multi(widget) else [[], list(widget.options)]
    if kind == "NumberInput":
        return [v for v in (widget.min, widget.max) if v is not None]
    return []


def _multi(widget) -> bool:
    return not widget._is_single_select


def _widgets(at: AppTest) -> list:
    return [*at.slider, *at.select_slider, *at.radio, *at.selectbox, *at.multiselect,
            *at.toggle, *at.checkbox, *at.button_group, *at.number_input]


# The suffixes of ui.questions' widget keys: an answer is chosen once, then locked.
QUESTION_WIDGETS = ("_pick", "_locked")
# Views of text and a question only, without a control of their own.
# (None: the page's first view, the one a page opens on.)
TEXT_VIEWS = {("pages/foundations.py", None), ("pages/foundations.py", "5 · The course in summary"),
              ("pages/glossary.py", None)}
# Views that only a URL opens directly (a page's later lesson steps show more controls).
EXTRA_VIEWS = {"pages/nels88_two_schools.py": [{"step": "4"}]}
# Pages drawn with show_views run only their open tab: each tab is a view of its own.
VIEWS = [(path, None, None) for path in page_paths()] + [
    (path, query, None) for path, queries in EXTRA_VIEWS.items() for query in queries
] + [(path, None, label) for path in page_paths() if lesson_views(path)
     for label in lesson_views(path)[1][1:]]


@pytest.mark.parametrize(("path", "query", "tab"), VIEWS)
def test_every_control_at_its_extremes(path, query, tab):
    """Each keyed control on the page (in the given tab), one at a time, at each extreme.
    Its questions are answered first, so the controls they hide are there too; the question
    widgets themselves are tested in test_ui_questions.py and test_lesson_questions.py."""
    at = open_page(path, query)
    if tab is not None:
        open_view(at, path, tab)
        assert_clean(at, f"{path}, tab {tab}")
    answer_every_question(at)
    assert_clean(at, f"{path}, tab {tab}, its questions answered")
    keys = [w.key for w in _widgets(at) if w.key and not w.key.startswith("$$")
            and (tab is None or w.key != "present")
            and not w.key.endswith(QUESTION_WIDGETS)]
    assert keys or path == "pages/home.py" or (path, tab) in TEXT_VIEWS, \
        f"{path} has no keyed controls"
    for key in keys:
        for value in _extremes(_find(at, key)):
            widget = _find(at, key)
            # hidden or disabled by another control's value (JSP: no intake slope unadjusted)
            if widget is None or getattr(widget, "disabled", False):
                break
            widget.set_value(value).run()
            assert_clean(at, f"{path}: {key}={value!r}")


def _find(at: AppTest, key: str):
    for widget in _widgets(at):
        if widget.key == key:
            return widget
    return None
