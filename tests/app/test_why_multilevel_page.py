"""The "Why multilevel?" lab as a student uses it (AppTest): every control at its extremes,
the many-studies button, and the numbers shown against lme4.

lme4 values: tests/reference/lme4_reference.csv, cases why_classic_study_reml (the page's
default section 1 study), why_icc_empty_reml (its default section 3 classes) and
hsb82_coded_ri_reml / hsb82_coded_rs_reml (the section 5 table).
"""

from __future__ import annotations


import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from app_pages import (
    APP,
    answer_every_question,
    chart_specs,
    lesson_views,
    open_view,
    shown_tables,
)
from app_pages import lme4_value as lme4

PAGE = "pages/why_multilevel.py"


def open_page() -> AppTest:
    """The page with its first view's question answered (so everything it shows is there;
    test_lesson_questions.py checks what a question hides before it is answered)."""
    at = AppTest.from_file(str(APP), default_timeout=180)
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception, [e.message for e in at.exception]
    return answer_every_question(at)


def view(at: AppTest, name: str) -> AppTest:
    """Open the tab (view) whose label starts with ``name`` (only the open one runs) and
    answer its question."""
    key, labels = lesson_views(PAGE)
    open_view(at, PAGE, next(label for label in labels if label.startswith(name)))
    answer_every_question(at)
    ok(at)
    return at


def ok(at: AppTest) -> None:
    assert not at.exception, [e.message for e in at.exception]


def frame_with_index(at: AppTest, label: str, column: str | None = None) -> pd.DataFrame:
    for frame in shown_tables(at):
        if any(label in str(i) for i in frame.index) and (
                column is None or column in frame.columns):
            return frame
    raise AssertionError(f"no table with a row {label!r}")


@pytest.fixture(scope="module")
def page():
    return open_page()


def test_default_page_shows_lme4_numbers(page):
    fonts = []
    study = frame_with_index(page, "MixedLM")
    row = study.loc[[i for i in study.index if "MixedLM" in i][0]]
    assert row["estimate"] == pytest.approx(lme4("why_classic_study_reml", "fixef", "formal"),
                                            rel=1e-3)
    assert row["SE"] == pytest.approx(lme4("why_classic_study_reml", "se", "formal"), rel=1e-3)
    fonts += figure_fonts(page)
    tau00, sigma2 = lme4("why_icc_empty_reml", "tau00"), lme4("why_icc_empty_reml", "sigma2")
    view(page, "3")
    fonts += figure_fonts(page)
    shown_icc = next(m for m in page.metric if m.label == "ICC, MixedLM").value
    assert float(shown_icc) == pytest.approx(tau00 / (tau00 + sigma2), abs=5e-4)
    hsb = frame_with_index(view(page, "5"), "meanses")
    fonts += figure_fonts(page)
    for term in ("Intercept", "ses", "sector", "meanses"):
        assert hsb.loc[term, "MixedLM est."] == pytest.approx(
            lme4("hsb82_coded_ri_reml", "fixef", term), rel=1e-3)
        assert hsb.loc[term, "MixedLM SE"] == pytest.approx(
            lme4("hsb82_coded_ri_reml", "se", term), rel=1e-3)
    for name in ("2", "4"):
        fonts += figure_fonts(view(page, name))
    # Every figure uses the projector font.
    assert len(fonts) >= 5 and min(fonts) >= 18, fonts  # the rates chart waits for a run


def figure_fonts(at: AppTest) -> list[float]:
    """Font size of each chart on screen (read from the spec: app_pages.chart_traces cannot
    decode 2-D customdata)."""
    return [spec["layout"]["font"]["size"] for spec in chart_specs(at)]


def test_random_slope_toggle_matches_lme4():
    at = view(open_page(), "5")
    at.toggle(key="hsb_slope").set_value(True).run()
    ok(at)
    hsb = frame_with_index(at, "meanses")
    for term in ("ses", "sector", "meanses"):
        assert hsb.loc[term, "MixedLM SE"] == pytest.approx(
            lme4("hsb82_coded_rs_reml", "se", term), rel=1e-3)


def test_run_many_studies_shows_rates():
    at = open_page()
    at.button(key="why_classic_run_button").click().run()
    ok(at)
    rates = frame_with_index(at, "OLS on pupils", "rejection rate")
    rate = {name.split(" (")[0].split(",")[0]: value
            for name, value in rates["rejection rate"].items()}
    assert rate["OLS on pupils"] > 0.25  # ICC 0.2, 20 pupils per class
    assert 0.02 <= rate["MixedLM"] <= 0.09  # 500 studies: about +-3 Monte Carlo SE
    assert 0.02 <= rate["OLS on class means"] <= 0.09
    # Changing a slider marks the shown run as stale rather than silently mismatching.
    at.slider(key="icc").set_value(0.0).run()
    ok(at)
    assert any("settings changed" in i.value for i in at.info)


# (view, key): extreme values.
SLIDER_EXTREMES = {
    ("1", "teachers"): (2, 50), ("1", "pupils"): (2, 50),
    ("1", "icc"): (0.0, 0.9), ("2", "total_icc"): (0.0, 0.9),
    ("3", "icc_seen"): (0.0, 0.9),
    ("4", "school_share"): (0.0, 0.5), ("4", "class_share"): (0.0, 0.4),
    ("4", "n_schools"): (5, 60), ("4", "n_classes"): (1, 4),
    ("4", "class_size"): (2, 30),
}
SELECT_EXTREMES = {("1", "studies"): (100, 2000),
                   ("2", "total"): (120, 960)}
BUTTONS = {("1", "why_classic_new_button"), ("3", "why_icc_new_button"),
           ("1", "why_classic_run_button")}


@pytest.mark.parametrize("end", [0, 1], ids=["minimum", "maximum"])
def test_every_control_at_its_extremes(end):
    at = open_page()
    charts = 0
    for name in "12345":
        view(at, name)
        for (where, key), values in SLIDER_EXTREMES.items():
            if where == name:
                at.slider(key=key).set_value(values[end]).run()
                ok(at)
        for (where, key), values in SELECT_EXTREMES.items():
            if where == name:
                at.select_slider(key=key).set_value(values[end]).run()
                ok(at)
        if name == "5":
            at.toggle(key="hsb_slope").set_value(bool(end)).run()
            ok(at)
        for where, key in (("1", "study"), ("3", "sample")):
            if where == name:
                at.number_input(key=key).set_value((1, 999_999)[end]).run()
                ok(at)
        for where, key in sorted(BUTTONS):
            if where == name:
                at.button(key=key).click().run()
                ok(at)
        charts += len(chart_specs(at))
    assert charts == 6


def test_a_closed_view_keeps_its_settings():
    at = view(open_page(), "4")
    at.slider(key="n_schools").set_value(33).run()
    view(at, "1")
    at.slider(key="icc").set_value(0.5).run()
    view(at, "4")
    assert at.slider(key="n_schools").value == 33
    view(at, "1")
    assert at.slider(key="icc").value == 0.5


# Every control of every view, set off its default: (view, kind, key, value).
SHARED_SETTINGS = [
    ("1", "slider", "teachers", 17), ("1", "slider", "pupils", 31), ("1", "slider", "icc", 0.35),
    ("1", "number_input", "study", 2024), ("1", "select_slider", "studies", 1000),
    ("2", "select_slider", "total", 960), ("2", "slider", "total_icc", 0.05),
    ("3", "slider", "icc_seen", 0.6), ("3", "number_input", "sample", 11),
    ("4", "slider", "school_share", 0.3), ("4", "slider", "class_share", 0.0),
    ("4", "slider", "n_schools", 42), ("4", "slider", "n_classes", 3),
    ("4", "slider", "class_size", 25),
    ("5", "toggle", "hsb_slope", True),
]


@pytest.mark.parametrize("name", "12345")
def test_a_shared_url_restores_every_control_in_a_fresh_session(name):
    """Set every control of a view, take the view's URL (what "Share this view" shows), open
    it in a new session: the same view with the same values, and no warning."""
    from urllib.parse import parse_qsl, urlsplit

    from ui import share

    settings = [s for s in SHARED_SETTINGS if s[0] == name]
    at = answer_every_question(view(open_page(), name))  # some controls wait for an answer
    for _, kind, key, value in settings:
        getattr(at, kind)(key=key).set_value(value).run()
        ok(at)
    url = share.view_url("/why_multilevel", at.session_state)
    assert len(url) < 120, url
    query = dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))
    assert set(query) == {"why_view", *(key for _, _, key, _ in settings)} - (
        {"why_view"} if name == "1" else set())

    fresh = AppTest.from_file(str(APP), default_timeout=180)
    fresh.query_params.update(query)
    fresh.run()
    fresh.switch_page(PAGE).run()
    answer_every_question(fresh)
    ok(fresh)
    assert not [w.value for w in fresh.warning if "The link's" in w.value]
    key, labels = lesson_views(PAGE)
    assert fresh.session_state[key].startswith(name)
    for _, kind, key, value in settings:
        assert getattr(fresh, kind)(key=key).value == value, key
