"""The "Why multilevel?" lab as a student uses it (AppTest): every control at its extremes,
the many-studies button, and the numbers shown against lme4.

lme4 values: tests/reference/lme4_reference.csv, cases why_classic_study_reml (the page's
default section 1 study), why_icc_empty_reml (its default section 3 classes) and
hsb82_coded_ri_reml / hsb82_coded_rs_reml (the section 5 table).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from app_pages import APP

PAGE = "pages/why_multilevel.py"
REFERENCE = pd.read_csv(Path(__file__).parent / "reference" / "lme4_reference.csv",
                        keep_default_na=False)


def lme4(case: str, quantity: str, term: str = "") -> float:
    rows = REFERENCE[(REFERENCE["case"] == case) & (REFERENCE["quantity"] == quantity)
                     & (REFERENCE["term"] == term)]
    return float(rows["value"].iloc[0])


def open_page() -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=180)
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def ok(at: AppTest) -> None:
    assert not at.exception, [e.message for e in at.exception]


def frame_with_index(at: AppTest, label: str, column: str | None = None) -> pd.DataFrame:
    for frame in at.dataframe:
        if any(label in str(i) for i in frame.value.index) and (
                column is None or column in frame.value.columns):
            return frame.value
    raise AssertionError(f"no table with a row {label!r}")


@pytest.fixture(scope="module")
def page():
    return open_page()


def test_default_page_shows_lme4_numbers(page):
    study = frame_with_index(page, "MixedLM")
    row = study.loc[[i for i in study.index if "MixedLM" in i][0]]
    assert row["estimate"] == pytest.approx(lme4("why_classic_study_reml", "fixef", "formal"),
                                            rel=1e-3)
    assert row["SE"] == pytest.approx(lme4("why_classic_study_reml", "se", "formal"), rel=1e-3)
    tau00, sigma2 = lme4("why_icc_empty_reml", "tau00"), lme4("why_icc_empty_reml", "sigma2")
    shown_icc = next(m for m in page.metric if m.label == "ICC, MixedLM").value
    assert float(shown_icc) == pytest.approx(tau00 / (tau00 + sigma2), abs=5e-4)
    hsb = frame_with_index(page, "meanses")
    for term in ("Intercept", "ses", "sector", "meanses"):
        assert hsb.loc[term, "MixedLM: estimate"] == pytest.approx(
            lme4("hsb82_coded_ri_reml", "fixef", term), rel=1e-3)
        assert hsb.loc[term, "MixedLM: SE"] == pytest.approx(
            lme4("hsb82_coded_ri_reml", "se", term), rel=1e-3)
    # Every figure uses the projector font.
    # (Read the spec directly: app_pages.chart_traces cannot decode 2-D customdata.)
    for chart in page.get("plotly_chart"):
        layout = json.loads(chart.proto.spec)["layout"]
        assert layout["font"]["size"] >= 18


def test_random_slope_toggle_matches_lme4():
    at = open_page()
    at.toggle(key="why_hsb_slope").set_value(True).run()
    ok(at)
    hsb = frame_with_index(at, "meanses")
    for term in ("ses", "sector", "meanses"):
        assert hsb.loc[term, "MixedLM: SE"] == pytest.approx(
            lme4("hsb82_coded_rs_reml", "se", term), rel=1e-3)


def test_run_many_studies_shows_rates():
    at = open_page()
    at.button(key="why_run_many").click().run()
    ok(at)
    rates = frame_with_index(at, "OLS on pupils", "rejection rate")
    rate = {name.split(" (")[0].split(",")[0]: value
            for name, value in rates["rejection rate"].items()}
    assert rate["OLS on pupils"] > 0.25  # ICC 0.2, 20 pupils per class
    assert 0.02 <= rate["MixedLM"] <= 0.09  # 500 studies: about +-3 Monte Carlo SE
    assert 0.02 <= rate["OLS on class means"] <= 0.09
    # Changing a slider marks the shown run as stale rather than silently mismatching.
    at.slider(key="why_icc").set_value(0.0).run()
    ok(at)
    assert any("settings changed" in i.value for i in at.info)


SLIDER_EXTREMES = {
    "why_teachers": (2, 50), "why_pupils": (2, 50), "why_icc": (0.0, 0.9),
    "why_precision_icc": (0.0, 0.9), "why_icc_seen": (0.0, 0.9),
    "why_school_share": (0.0, 0.5), "why_class_share": (0.0, 0.4),
    "why_schools": (5, 60), "why_classes": (1, 4), "why_sample_pupils": (2, 30),
}
SELECT_EXTREMES = {"why_n_studies": (100, 2000), "why_total": (120, 960)}


@pytest.mark.parametrize("end", [0, 1], ids=["minimum", "maximum"])
def test_every_control_at_its_extremes(end):
    at = open_page()
    for key, values in SLIDER_EXTREMES.items():
        at.slider(key=key).set_value(values[end]).run()
        ok(at)
    for key, values in SELECT_EXTREMES.items():
        at.select_slider(key=key).set_value(values[end]).run()
        ok(at)
    at.toggle(key="why_hsb_slope").set_value(bool(end)).run()
    ok(at)
    for key in ("why_new_study", "why_icc_new", "why_run_many"):
        at.button(key=key).click().run()
        ok(at)
    assert len(at.get("plotly_chart")) == 6
    for question in ("why_q_classic", "why_q_precision", "why_q_advantages"):
        at.text_input(key=f"{question}_guess").set_value("a guess").run()
        at.button(key=f"{question}_reveal").click().run()
        ok(at)
    assert len(at.success) >= 3
