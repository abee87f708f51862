"""The NELS88 lesson as a student uses it (AppTest), and its numbers against lme4."""

from __future__ import annotations


import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from app_pages import APP, chart_title, chart_traces, lme4_value, shown_tables
from hlmlab import datasets

PAGE = "pages/nels88_two_schools.py"


def open_lab(query: dict | None = None) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.query_params.update({"step": "4", **(query or {})})
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def shown_variance_table(at: AppTest) -> pd.Series:
    for table in shown_tables(at):
        if list(table.columns) == ["value"] and any("tau00" in str(i) for i in table.index):
            return table["value"]
    raise AssertionError("no variance table on the page")


@pytest.mark.parametrize(
    ("query", "case"),
    [
        ({}, "nels88_deck2_rs_reml"),
        ({"method": "ML", "slope": "0"}, "nels88_deck2_ri_ml"),
        ({"schools": ",".join(map(str, [7472, 7829, 7930, 24725, 25456, 25642, 62821, 68448,
                                        68493, 72292])), "slope": "1"}, "nels88_all_rs_reml"),
    ],
)
def test_numbers_on_the_page_match_lme4(query, case):
    at = open_lab(query)
    if "schools" in query:
        at.radio(key="school_set").set_value("All schools").run()
    shown = shown_variance_table(at)
    by_start = {name.split(":")[0].split(" ")[0]: value for name, value in shown.items()}
    for quantity in ("tau00", "sigma2"):
        assert by_start[quantity] == pytest.approx(lme4_value(case, quantity), rel=1e-3)
    loglik = next(v for k, v in shown.items() if "log-likelihood" in k)
    assert loglik == pytest.approx(lme4_value(case, "loglik"), rel=1e-3)
    if case.split("_")[2] == "rs":
        assert by_start["tau11"] == pytest.approx(lme4_value(case, "tau11"), rel=1e-3)


def test_chart_has_points_and_three_line_families_for_the_deck_schools():
    at = open_lab()
    traces, layout = chart_traces(at)
    metas = [t.get("meta") for t in traces]
    assert metas[:2] == ["24725", "62821"]
    for family in ("pooled", "per_group", "multilevel"):
        assert any(str(m).startswith(family + ":") for m in metas), family
    replica = datasets.load_nels88_replica()
    for trace in traces[:2]:
        school = replica[replica["schid"] == int(trace["meta"])]
        assert len(trace["y"]) == len(school)
        # Jitter moves points sideways by at most the slider's amount (0.15 by default);
        # the hover data keep the true hours, and the y values are untouched.
        true_hours = np.asarray(trace["customdata"])[:, 2].astype(float)
        assert sorted(true_hours) == sorted(school["homework"])
        offsets = np.asarray(trace["x"], dtype=float) - true_hours
        assert np.all(np.abs(offsets) <= 0.15 + 1e-9) and np.any(offsets != 0)
        assert sorted(trace["y"]) == sorted(school["math"])
    assert "synthetic replica" in chart_title(layout)


def test_line_family_buttons_filter_the_chart():
    at = open_lab()
    at.button_group(key="lines").set_value(["Pooled"]).run()
    traces, _ = chart_traces(at)
    line_metas = [t["meta"] for t in traces if t.get("mode") == "lines"]
    assert line_metas == ["pooled:all"]


def test_students_per_school_subsamples_every_school():
    at = open_lab()
    at.slider(key="per_school").set_value(5).run()
    traces, _ = chart_traces(at)
    marker_traces = [t for t in traces if t.get("mode") == "markers"]
    assert [len(t["y"]) for t in marker_traces] == [5, 5]
    assert not at.exception


def test_two_school_random_slope_is_explained_not_hidden():
    at = open_lab()
    infos = " ".join(i.value for i in at.info)
    warnings = " ".join(w.value for w in at.warning)
    assert "Only 2 groups" in infos
    assert "Boundary fit" in warnings and "perfectly correlated" in warnings


def test_bad_url_parameters_get_a_message_and_defaults():
    at = open_lab({"per_school": "lots", "method": "Bayes", "schools": "1,2", "jitter": "9"})
    messages = " ".join(w.value for w in at.warning)
    for name in ("per_school", "method", "schools", "jitter"):
        assert f"The link's `{name}` value" in messages
    assert at.slider(key="per_school").value == 70
    assert at.radio(key="method").value == "REML"
    assert at.multiselect(key="schools").value == [24725, 62821]  # the deck's two, defaults
    assert at.slider(key="jitter").value == 0.15


def test_the_documented_url_parameters_still_work():
    """README: /nels88_two_schools?step=4&schools=24725,62821&per_school=10&slope=0&method=ML"""
    at = open_lab({"schools": "7472,24725,62821", "per_school": "10", "slope": "0",
                   "method": "ml", "jitter": "0.3"})
    assert not at.warning or not any("The link's" in w.value for w in at.warning)
    assert at.segmented_control(key="step").value == "4 · Three kinds of lines"
    assert at.radio(key="school_set").value == "Choose schools"
    assert at.multiselect(key="schools").value == [7472, 24725, 62821]
    assert at.slider(key="per_school").value == 10
    assert at.radio(key="slope").value == "Random intercept"
    assert at.radio(key="method").value == "ML"
    assert at.slider(key="jitter").value == 0.3
    # The URL now holds each value in the control's own spelling.
    assert at.query_params["schools"] == ["7472", "24725", "62821"]
    assert at.query_params["method"] == "ML"


def test_a_huge_url_value_is_not_echoed():
    """A 100 000-character schools= was echoed in full in the warning (issue 16)."""
    at = open_lab({"schools": "1" * 100_000})
    messages = [w.value for w in at.warning if "The link's" in w.value]
    assert len(messages) == 1 and len(messages[0]) < 200, messages
    assert at.multiselect(key="schools").value == [24725, 62821]


@pytest.mark.parametrize("text", ["[click](https://example.com)", "![x](https://example.com/a.png)",
                                  "<b>bold</b>", "**x**", "`x` [y](http://e)"])
def test_url_text_is_never_markdown_in_a_message(text):
    """URL text was rendered as Markdown in warnings: links and images passed (issue 16)."""
    at = open_lab({"method": text})
    message = next(w.value for w in at.warning if "The link's" in w.value)
    shown = message.split("value ", 1)[1].split(" is not", 1)[0]
    # One code span: inside it, Markdown and HTML are plain text.
    fence = shown[: len(shown) - len(shown.lstrip("`"))]
    assert shown.startswith(fence) and shown.endswith(fence) and fence
    assert "`" * len(fence) not in shown[len(fence):-len(fence)]
    assert at.radio(key="method").value == "REML"


def test_the_first_step_shows_only_grey_points():
    at = AppTest.from_file(str(APP), default_timeout=120).run()
    at.switch_page(PAGE).run()
    traces, _ = chart_traces(at)
    assert all(t.get("mode") == "markers" for t in traces)
    assert {t["marker"]["color"] for t in traces} == {"#777777"}


def test_an_original_file_in_data_is_offered_and_used(tmp_path, monkeypatch):
    replica = datasets.load_nels88_replica()
    (tmp_path / "nels88_synthetic.csv").write_bytes(
        (datasets.DATA_DIR / "nels88_synthetic.csv").read_bytes()
    )
    # The alternative column names some copies of the original use.
    original = replica.rename(columns={"schid": "id_school", "stuid": "id_student"})[
        ["id_school", "id_student", "math", "homework", "ses", "public"]
    ]
    original.to_csv(tmp_path / "nels88.csv", index=False)
    monkeypatch.setattr(datasets, "DATA_DIR", tmp_path)
    at = open_lab()
    source = at.selectbox(key="nels_source")
    assert source.options == [datasets.NELS88_REPLICA_LABEL, datasets.NELS88_ORIGINAL_LABEL]
    source.set_value(datasets.NELS88_ORIGINAL_LABEL).run()
    assert not at.exception
    _, layout = chart_traces(at)
    assert "original file" in chart_title(layout)
    assert not any("simulated students" in i.value for i in at.info)


def test_a_broken_original_file_falls_back_to_the_replica(tmp_path, monkeypatch):
    (tmp_path / "nels88_synthetic.csv").write_bytes(
        (datasets.DATA_DIR / "nels88_synthetic.csv").read_bytes()
    )
    (tmp_path / "nels88.csv").write_text("school;score\n1;2\n", encoding="utf-8")
    monkeypatch.setattr(datasets, "DATA_DIR", tmp_path)
    at = open_lab()
    at.selectbox(key="nels_source").set_value(datasets.NELS88_ORIGINAL_LABEL).run()
    assert not at.exception
    assert any("could not be used" in e.value for e in at.error)
    _, layout = chart_traces(at)
    assert "synthetic replica" in chart_title(layout)


def test_a_selection_that_cannot_be_fitted_says_why_and_still_shows_the_students(
        tmp_path, monkeypatch):
    flat = datasets.load_nels88_replica().assign(homework=2)
    flat.to_csv(tmp_path / "nels88_synthetic.csv", index=False)
    monkeypatch.setattr(datasets, "DATA_DIR", tmp_path)
    at = open_lab()
    assert any("homework" in w.value for w in at.warning), [w.value for w in at.warning]
    traces, _ = chart_traces(at)
    assert [t["mode"] for t in traces] == ["markers", "markers"]  # the students, no lines
    assert not shown_tables(at)  # no numbers to show
    at.slider(key="per_school").set_value(10).run()  # the failure is cached: same words
    assert not at.exception and any("homework" in w.value for w in at.warning)
