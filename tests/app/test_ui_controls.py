"""ui.controls: every URL value checked before its widget exists, bad ones refused with one
short inert message, good ones in other spellings respelled; the view's URL rebuilt from the
controls drawn; and the pages' control keys (URL names) unique across the app."""

from __future__ import annotations

import ast

import pytest
from streamlit.testing.v1 import AppTest

from app_pages import REPO, page_paths
from hlmlab.panels import SliderRange
from ui import controls

GRID = SliderRange(0.0, 0.9, 0.05)
WHOLE = SliderRange(2, 50, 1)


def single_code_span(message: str, after: str) -> str:
    """The one code span following ``after`` in a message, checked to be one span whose
    text cannot close it (so nothing inside is Markdown or HTML)."""
    rest = message.split(after, 1)[1].lstrip()
    fence = rest[: len(rest) - len(rest.lstrip("`"))]
    assert fence, message
    body, end = rest[len(fence):].split(fence, 1)
    assert "`" * len(fence) not in body
    return body


@pytest.mark.parametrize(("raw", "why"), [
    (["lots"], "is not a number"), (["nan"], "is not a number"), (["inf"], "is not a number"),
    (["1e999"], "is not a number"), ([""], "is not a number"), (["0.95"], "is outside 0 to 0.9"),
    (["-0.05"], "is outside 0 to 0.9"), (["0" * 300 + "1"], "is too long"),
])
def test_a_bad_number_is_refused_with_a_short_message(raw, why):
    reading = controls.read_number("icc", raw, GRID, 0.2)
    assert reading.value is None and reading.url is None
    assert why in reading.problem and "`0.2`" in reading.problem
    assert len(reading.problem) < 160


def test_whole_number_sliders_refuse_fractions_and_numbers_snap_to_the_grid():
    assert "whole number" in controls.read_number("n", ["2.5"], WHOLE, 10).problem
    assert controls.read_number("n", ["7.0"], WHOLE, 10).url == ["7"]
    # Between grid points: the nearest one (Streamlit alone would show 0.33 as it is).
    reading = controls.read_number("icc", [" 0.33 "], GRID, 0.2)
    assert (reading.value, reading.url, reading.problem) == (0.35, ["0.35"], "")
    assert controls.read_number("icc", ["1", "0.4"], GRID, 0.2).value == 0.4  # the last counts


def test_a_100000_character_value_is_cut_in_the_message():
    reading = controls.read_choices("schools", ["1" * 100_000], ["1", "2"], default_text="`1`")
    assert reading.value is None and len(reading.problem) < 160
    assert single_code_span(reading.problem, "value").endswith("…")


@pytest.mark.parametrize("text", ["[link](https://example.com)", "![i](https://e.com/x.png)",
                                  "<img src=x onerror=alert(1)>", "``code``", ":red[alarm]",
                                  "$x^2$", "a\nb", "\u202eevil"])
def test_url_text_reaches_a_message_only_inside_one_code_span(text):
    reading = controls.read_choice("method", [text], ["REML", "ML"], default_text="`REML`")
    body = single_code_span(reading.problem, "value")
    assert "\n" not in body and "\u202e" not in body


def test_choices_accept_any_case_short_names_and_comma_lists():
    labels = ["Random intercept", "Random intercept and slope"]
    assert controls.read_choice("slope", ["0"], labels, ("0", "1")).url == [labels[0]]
    assert controls.read_choice("method", ["ml"], ["REML", "ML"]).url == ["ML"]
    assert controls.read_choice("method", ["Bayes"], ["REML", "ML"]).problem
    schools = ["7472", "24725", "62821"]
    assert controls.read_choices("schools", ["62821,7472"], schools).url == ["62821", "7472"]
    assert controls.read_choices("schools", ["62821", "7472", "62821"], schools).value == [2, 0]
    # One unknown school refuses the list: half a selection is a view nobody shared.
    refused = controls.read_choices("schools", ["7472,99"], schools)
    assert refused.value is None and "`99`" in refused.problem
    assert controls.read_choices("schools", [""], schools).value == []
    # A label with a comma is read whole before the list is split.
    assert controls.read_choices("x", ["a, b"], ["a, b", "c"]).url == ["a, b"]


@pytest.mark.parametrize(("raw", "value"), [("1", True), ("true", True), ("ON", True),
                                            ("0", False), ("False", False)])
def test_flags(raw, value):
    assert controls.read_flag("present", [raw], False).value is value
    assert "1 or 0" in controls.read_flag("present", ["maybe"], False).problem


SMALL_APP = '''
import streamlit as st
from hlmlab.panels import SliderRange
from ui import controls

controls.start_run()
icc = controls.slider("ICC", SliderRange(0.0, 0.9, 0.05), 0.2, key="icc")
n = controls.slider("Classes", SliderRange(2, 50, 1), 10, key="n")
method = controls.radio("Estimation", ("REML", "ML"), 0, key="method")
lines = controls.pills("Lines", ["Pooled", "Per school", "Multilevel"], ["Pooled"], key="lines")
on = controls.toggle("Slope", key="slope")
st.session_state["seen"] = (icc, n, method, lines, on)
'''


def run_small_app(write_app, query: dict) -> AppTest:
    folder = write_app({"app.py": SMALL_APP})
    at = AppTest.from_file(str(folder / "app.py"), default_timeout=30)
    at.query_params.update(query)
    return at.run()


def test_bad_url_values_each_get_one_message_and_the_default(write_app):
    at = run_small_app(write_app, {"icc": "0.95", "n": "2.5", "method": "<b>x</b>",
                                   "lines": "Pooled,Nope", "slope": "1"})
    assert not at.exception
    messages = [w.value for w in at.warning]
    assert len(messages) == 4, messages
    for name in ("icc", "n", "method", "lines"):
        assert sum(f"`{name}`" in m for m in messages) == 1
    assert at.session_state["seen"] == (0.2, 10, "REML", ["Pooled"], True)
    assert set(at.query_params) == {"slope"}  # refused values left the URL
    # The message stays until the control is changed.
    at.slider(key="icc").set_value(0.5).run()
    assert not any("`icc`" in w.value for w in at.warning)
    assert sum("`n`" in w.value for w in at.warning) == 1


def test_good_values_in_other_spellings_are_respelled(write_app):
    at = run_small_app(write_app, {"icc": "0.33", "method": "ml", "lines": "multilevel,Pooled",
                                   "slope": "yes", "n": "12"})
    assert not at.warning and not at.exception
    assert at.session_state["seen"] == (0.35, 12, "ML", ["Multilevel", "Pooled"], True)
    assert at.query_params["icc"] == "0.35" and at.query_params["method"] == "ML"
    assert at.query_params["lines"] == ["Multilevel", "Pooled"]
    # The view's own URL: only what is off the default, shortest spellings, drawing order.
    assert controls.view_query(at.session_state) == [
        ("icc", "0.35"), ("n", "12"), ("method", "ML"), ("lines", "Multilevel,Pooled"),
        ("slope", "1")]


def control_keys(path: str) -> dict[str, int]:
    """Literal keys of a page's ``controls.*(...)`` and ``show_views(...)`` calls: line."""
    tree = ast.parse((REPO / path).read_text(encoding="utf-8"))
    keys = {}
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        is_control = (isinstance(func, ast.Attribute) and getattr(func.value, "id", "") == "controls")
        if is_control or getattr(func, "id", "") == "show_views":
            for keyword in node.keywords:
                if keyword.arg == "key" and isinstance(keyword.value, ast.Constant):
                    keys[keyword.value.value] = node.lineno
    return keys


def test_control_keys_are_short_and_unique_across_the_app():
    """A key is a URL parameter and a session-state name at once: one per control in the
    whole app (a value kept for the session must never land on another page's control)."""
    owner = {}
    for path in page_paths():
        for key, line in control_keys(path).items():
            assert key not in owner, f"{key!r} in {path}:{line} and {owner[key]}"
            assert len(key) <= 16 and key.isidentifier(), f"{key!r} in {path}:{line}"
            owner[key] = f"{path}:{line}"
    assert "present" not in owner  # presenter mode's switch (app.py)
