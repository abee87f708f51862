"""The longitudinal page through Streamlit's AppTest: every control at its extremes.

Fits are real (no mocks); the timeout is generous because a fresh process fits everything
once. What a student sees is checked through the page's elements, not pixels.
"""

from __future__ import annotations


import pytest
from streamlit.testing.v1 import AppTest

import app_pages
from app_pages import (
    APP,
    REFERENCE_DIR,
    answer_every_question,
    answer_question,
    chart_specs,
    shown_tables,
)

PAGE = "pages/longitudinal.py"
TIMEOUT = 180

PART1 = {
    "children": (10, 200),
    "entry_spread": (0.2, 3.0),
    "error_sd": (0.0, 8.0),
    "growth_rate": (0.0, 12.0),
    "cohort": (-15.0, 10.0),
    "sd_level": (0.0, 10.0),
    "sd_growth": (0.0, 4.0),
}
PART2 = {
    "occasions": (2, 8),
    "missing": (0.0, 0.6),
    "irregular": (0.0, 1.0),
}


def open_view(at, page_path: str, label: str):
    """Open a view and answer its questions, so that everything it can show is on the page
    (test_lesson_questions.py checks what a question hides before it is answered)."""
    return answer_every_question(app_pages.open_view(at, page_path, label))


@pytest.fixture()
def page():
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception
    return at


def texts(at) -> str:
    parts = [m.value for m in at.markdown] + [m.value for m in at.info]
    parts += [m.value for m in at.warning] + [m.value for m in at.caption]
    parts += [m.value for m in at.success] + [m.value for m in at.error]
    return "\n".join(str(p) for p in parts)


def test_page_loads_labelled_as_simulated(page):
    assert "Longitudinal" in page.title[0].value
    shown = texts(page)
    assert "Simulated data" in shown and "hypothetical" in shown.lower()
    assert {s.key for s in page.slider} >= set(PART1)
    charts = len(chart_specs(page))
    open_view(page, PAGE, "2 · Growth curves, unbalanced")
    assert "Simulated data" in texts(page)
    assert {s.key for s in page.slider} >= set(PART2)
    charts += len(chart_specs(page))
    assert charts >= 2
    for view in ("3 · Real growth data", "4 · Autocorrelated errors"):
        open_view(page, PAGE, view)
        assert not page.exception, view
        charts += len(chart_specs(page))
    assert charts >= 4


def test_part1_opens_on_the_random_intercept_and_the_slope_shows_the_boundary(page):
    """At the defaults the growth model is the random intercept: no boundary warning; the
    toggle asks for the random slope, whose boundary fit the page then explains (lme4 finds
    the same: cases long_reading_ri_reml and long_reading_rs_reml)."""
    import pandas as pd

    reference = pd.read_csv(REFERENCE_DIR / "lme4_reference.csv", keep_default_na=False)
    ref = reference.set_index(["case", "quantity", "term"])["value"]
    assert page.toggle(key="age_slope").value is False
    assert not any("Boundary" in w.value for w in page.warning)
    shown = next(m for m in page.metric if m.label == "Multilevel growth model: slope of age")
    assert float(shown.value) == pytest.approx(ref["long_reading_ri_reml", "fixef", "age"],
                                               abs=0.005)
    assert any("(1 | child)" in c.value for c in page.caption)
    page.toggle(key="age_slope").set_value(True).run()
    assert not page.exception
    assert ref["long_reading_rs_reml", "singular", ""] == 1
    assert any("Boundary" in w.value for w in page.warning)
    assert any("(age | child)" in c.value for c in page.caption)


def test_part1_settings_survive_a_visit_to_part2(page):
    page.slider(key="cohort").set_value(0.0).run()
    open_view(page, PAGE, "2 · Growth curves, unbalanced")
    page.slider(key="missing").set_value(0.4).run()
    open_view(page, PAGE, "1 · Reading and age")
    assert page.slider(key="cohort").value == 0.0
    open_view(page, PAGE, "2 · Growth curves, unbalanced")
    assert page.slider(key="missing").value == 0.4


def test_reveal_needs_a_choice_then_locks_it_and_shows_the_slopes(page):
    assert page.radio(key="long_p1_q_pick").value is None
    page.button(key="long_p1_q_button").click().run()  # no choice yet: nothing opens
    assert "Separating within from between" not in [s.value for s in page.subheader]
    answer_question(page, "long_p1_q", 1)
    assert not page.exception
    assert page.radio(key="long_p1_q_locked").disabled
    assert "Separating within from between" in [s.value for s in page.subheader]
    assert any("Age does two jobs" in s.value for s in page.success)  # the option's feedback
    # The slopes table appears; with the confound removed the page says they coincide.
    page.slider(key="cohort").set_value(0.0).run()
    assert not page.exception
    assert any("cohort effect is 0" in s.value for s in page.success)


@pytest.mark.parametrize("end", [0, 1])
def test_part1_sliders_at_their_extremes(page, end):
    answer_question(page, "long_p1_q", 0)
    page.toggle(key="child_lines").set_value(True).run()
    # The random slope, the slower and more fragile fit, at every extreme too.
    page.toggle(key="age_slope").set_value(True).run()
    for key, values in PART1.items():
        page.slider(key=key).set_value(values[end]).run()
        assert not page.exception, (key, values[end])
    # Every slider at this end together: still no traceback; problems are in words.
    assert not page.exception


def test_part1_each_slider_alone_at_each_extreme(page):
    for key, values in PART1.items():
        for value in values:
            page.slider(key=key).set_value(value).run()
            assert not page.exception, (key, value)
        page.slider(key=key).set_value(page.slider(key=key).value).run()


@pytest.mark.parametrize("occasions,missing,irregular", [
    (2, 0.0, 0.0), (2, 0.6, 1.0), (8, 0.0, 1.0), (8, 0.6, 0.0), (8, 0.6, 1.0), (2, 0.6, 0.0),
])
def test_part2_corners(page, occasions, missing, irregular):
    open_view(page, PAGE, "2 · Growth curves, unbalanced")
    page.slider(key="occasions").set_value(occasions)
    page.slider(key="missing").set_value(missing)
    page.slider(key="irregular").set_value(irregular).run()
    assert not page.exception
    metric_labels = [m.label for m in page.metric]
    assert "Children a complete-case analysis must drop" in metric_labels


def test_oxboys_models_are_compared_on_ml_fits(page):
    """The Oxford boys' table: REML residual variances, ML log-likelihood, AIC and BIC (lme4
    cases oxboys_*_rs_reml and oxboys_*_rs_ml), and the likelihood-ratio test in words; no
    'AIC (REML)' anywhere; the estimation note explains why."""
    import pandas as pd

    open_view(page, PAGE, "3 · Real growth data")
    assert not page.exception
    reference = pd.read_csv(REFERENCE_DIR / "lme4_reference.csv", keep_default_na=False)
    ref = reference.set_index(["case", "quantity", "term"])["value"]
    table = next(f for f in shown_tables(page) if "AIC (ML)" in f.index)
    assert "AIC (REML)" not in table.index
    for column, case in (("straight line", "oxboys_linear_rs"), ("quadratic", "oxboys_quadratic_rs")):
        assert table.loc["residual variance sigma2 (REML)", column] == pytest.approx(
            ref[f"{case}_reml", "sigma2", ""], rel=1e-3)
        assert table.loc["log-likelihood (ML)", column] == pytest.approx(
            ref[f"{case}_ml", "loglik", ""], rel=1e-3)
    statistic = 2 * (ref["oxboys_quadratic_rs_ml", "loglik", ""]
                     - ref["oxboys_linear_rs_ml", "loglik", ""])
    caption = next(c.value for c in page.caption if "likelihood-ratio test" in c.value)
    assert f"χ² = {statistic:.1f} on 1 df" in caption
    assert any(e.label == "REML or ML? Why two standard errors?" for e in page.expander)


def test_real_data_and_autocorrelation_controls(page):
    open_view(page, PAGE, "3 · Real growth data")
    page.toggle(key="egsingle").set_value(True).run()
    answer_every_question(page)  # the three-level model's question
    assert not page.exception
    assert any("egsingle" in str(c.value) for c in page.markdown)
    check_egsingle_three_levels(page)
    open_view(page, PAGE, "4 · Autocorrelated errors")
    rho = page.select_slider(key="rho")
    for value in rho.options:
        rho.set_value(float(value)).run()
        assert not page.exception


def check_egsingle_three_levels(page):
    """The three-level egsingle numbers on screen equal lme4's (case egsingle_three_level_reml
    of tests/reference/lme4_reference.csv; relative 1e-3)."""
    import pandas as pd

    reference = pd.read_csv(REFERENCE_DIR / "lme4_reference.csv", keep_default_na=False)
    ref = reference[reference["case"] == "egsingle_three_level_reml"].set_index(
        ["quantity", "term"])["value"]
    shown = next(f["value"] for f in shown_tables(page) if "pupil variance (u_jk)" in f.index)
    assert shown["school variance (v_k)"] == pytest.approx(ref["var_group", ""], rel=1e-3)
    assert shown["pupil variance (u_jk)"] == pytest.approx(ref["var_subgroup", ""], rel=1e-3)
    assert shown["occasion (residual) variance (e_ijk)"] == pytest.approx(ref["sigma2", ""],
                                                                          rel=1e-3)
    assert shown["REML log-likelihood"] == pytest.approx(ref["loglik", ""], rel=1e-3)
    fixed = next(f for f in shown_tables(page) if list(f.columns) == ["estimate", "SE"]
                 and "year" in f.index and len(f) == 2)
    for term in ("Intercept", "year"):
        assert fixed.loc[term, "estimate"] == pytest.approx(ref["fixef", term], rel=1e-3)
        assert fixed.loc[term, "SE"] == pytest.approx(ref["se", term], rel=1e-3)
    assert chart_specs(page)  # the variance partition is drawn


# Every control of every view, set off its default: (view, kind, key, value).
SHARED_SETTINGS = [
    ("1", "slider", "children", 120), ("1", "slider", "entry_spread", 2.0),
    ("1", "slider", "error_sd", 3.5), ("1", "slider", "growth_rate", 4.5),
    ("1", "slider", "cohort", 0.0), ("1", "slider", "sd_level", 6.0),
    ("1", "slider", "sd_growth", 0.5), ("1", "toggle", "child_lines", True),
    ("1", "toggle", "age_slope", True),
    ("2", "slider", "occasions", 7), ("2", "slider", "missing", 0.35),
    ("2", "slider", "irregular", 0.6),
    ("4", "select_slider", "rho", 0.3),
]
VIEWS = {"1": "1 · Reading and age", "2": "2 · Growth curves, unbalanced",
         "4": "4 · Autocorrelated errors"}


@pytest.mark.parametrize("name", sorted(VIEWS))
def test_a_shared_url_restores_every_control_in_a_fresh_session(page, name):
    """Set every control of a view, take the view's URL (what "Share this view" shows), open
    it in a new session: the same view, the same values, no warning; the old long_view tab
    names still work."""
    from urllib.parse import parse_qsl, urlsplit

    from ui import share

    settings = [s for s in SHARED_SETTINGS if s[0] == name]
    at = open_view(page, PAGE, VIEWS[name])
    for _, kind, key, value in settings:
        getattr(at, kind)(key=key).set_value(value).run()
        assert not at.exception, key
    url = share.view_url("/longitudinal", at.session_state)
    query = dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))
    assert set(query) == {key for _, _, key, _ in settings} | ({"long_view"} if name != "1"
                                                                else set())
    fresh = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    fresh.query_params.update(query)
    fresh.run()
    fresh.switch_page(PAGE).run()
    answer_every_question(fresh)
    assert not fresh.exception
    assert not [w.value for w in fresh.warning if "The link's" in w.value]
    assert fresh.session_state["long_view"] == VIEWS[name]
    for _, kind, key, value in settings:
        assert getattr(fresh, kind)(key=key).value == value, key


def test_the_egsingle_switch_is_in_the_url():
    fresh = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    fresh.query_params.update({"long_view": "3", "egsingle": "1"})
    fresh.run()
    fresh.switch_page(PAGE).run()
    assert not fresh.exception
    assert fresh.toggle(key="egsingle").value is True
    assert any("egsingle" in str(c.value) for c in fresh.markdown)
