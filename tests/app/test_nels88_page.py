"""The NELS88 lesson as a student uses it (AppTest), and its numbers against lme4."""

from __future__ import annotations


import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from app_pages import (
    APP,
    answer_every_question,
    answer_question,
    chart_title,
    chart_traces,
    latex_numbers,
    lme4_value,
    shown_tables,
)
from hlmlab import datasets
from hlmlab.errors import ModelDataError
from hlmlab.pooling import compare_pooling
from hlmlab.within_between import decompose_slope

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
        ({}, "nels88_deck2_ri_reml"),
        ({"slope": "1"}, "nels88_deck2_rs_reml"),
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


def test_step_4_opens_on_the_random_intercept_the_two_schools_can_carry():
    """Issue 12 (item 5's principle): the default view is the model the data carry, no
    boundary warning; asking for the random slope is where a student meets the boundary."""
    at = open_lab()
    assert at.radio(key="slope").value == "Random intercept"
    assert not any("Boundary fit" in w.value for w in at.warning)
    at.radio(key="slope").set_value("Random intercept and slope").run()
    assert any("Boundary fit" in w.value for w in at.warning)


def test_two_school_random_slope_is_explained_not_hidden():
    at = open_lab({"slope": "1"})
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


# --------------------------------------------------------------------------- teach it right
# Issue 12, items 1-3 on this page: the school table, its caption and formula, the weight
# matrices, the within/between slope table (tests/core/test_report.py, test_shrinkage.py and
# test_within_between.py check the core functions; these check what the page shows).

DECK_RI, DECK_RS = "nels88_deck2_ri_reml", "nels88_deck2_rs_reml"
OLD_CAPTION = "λ is the weight a school's own OLS estimate gets"


def answered_lab(query: dict | None = None) -> AppTest:
    at = open_lab(query)
    answer_every_question(at)
    assert not at.exception, [e.message for e in at.exception]
    return at


def table_with(at: AppTest, column: str) -> pd.DataFrame:
    found = [t for t in shown_tables(at) if column in t.columns]
    assert len(found) == 1, [list(t.columns) for t in shown_tables(at)]
    return found[0]


def shrinkage_formula(at: AppTest) -> str:
    found = [t.value for t in at.latex if r"(j = \text{schid" in t.value]
    assert len(found) == 1, [t.value[:80] for t in at.latex]
    return found[0].strip("$").strip()  # st.latex wraps it in $$ lines


def deck_comparison(random_slope: bool):
    replica = datasets.load_nels88_replica()
    rows = replica[replica["schid"].isin([24725, 62821])]
    return compare_pooling(rows, "math", "homework", "schid", random_slope=random_slope)


def test_random_intercept_school_table_satisfies_its_caption():
    at = answered_lab()
    table = table_with(at, "λ")
    assert list(table.columns) == [
        "n", "OLS intercept", "OLS slope", "mean math", "mean homework",
        "common-slope intercept", "λ", "multilevel intercept", "multilevel slope"]
    fixed = table_with(at, "pooled OLS estimate")["estimate"]
    # λ is shown to 3 decimals, the other columns to 5 significant digits: the identity holds
    # to what that rounding allows (tests/core/test_report.py checks it to 1e-6 unrounded).
    g00 = fixed["Intercept"]
    made = table["λ"] * table["common-slope intercept"] + (1 - table["λ"]) * g00
    slack = 5e-4 * (table["common-slope intercept"] - g00).abs() + 5e-3
    assert ((made - table["multilevel intercept"]).abs() <= slack).all(), (made, table)
    # Both show the same estimate (each column rounded to its own digits).
    assert np.allclose(table["multilevel slope"], fixed["homework"], atol=5e-4)
    assert fixed["homework"] == pytest.approx(lme4_value(DECK_RI, "fixef", "homework"), rel=1e-3)
    # The values behind the rounding, from the core at the same fit.
    comparison = deck_comparison(False)
    np.testing.assert_allclose(table["λ"], comparison.shrinkage["lambda"].round(3), atol=1e-12)
    captions = " ".join(c.value for c in at.caption)
    assert OLD_CAPTION not in captions
    assert "NELS88 (synthetic replica). Each school keeps the common slope" in captions
    assert "λ × common-slope intercept + (1 − λ) × $\\hat\\gamma_{00}$" in captions


def test_the_formula_line_reads_back_to_the_school_s_row():
    at = answered_lab()
    picker = at.selectbox(key="school")
    assert picker.options == ["24725", "62821"] and picker.value == 24725
    table = table_with(at, "λ")
    for school in (24725, 62821):
        if school != 24725:
            at.selectbox(key="school").set_value(school).run()
        tex = shrinkage_formula(at)
        assert rf"\text{{schid {school}}}" in tex
        row = table.loc[str(school)]
        steps = tex.split("\n")
        lam, y_bar, minus_g10, x_bar, rest, g00 = latex_numbers(steps[1])
        assert lam == row["λ"] and rest == pytest.approx(1 - row["λ"], abs=1e-9)
        # The formula shows 2 decimals, the table 5 significant digits: the same numbers to
        # the formula's rounding (half a unit, plus the table's own rounding).
        same = {"abs": 0.0051}
        assert y_bar == pytest.approx(row["mean math"], **same)
        assert x_bar == pytest.approx(row["mean homework"], **same)
        assert -minus_g10 == pytest.approx(row["multilevel slope"], **same)
        assert latex_numbers(steps[2])[1] == pytest.approx(row["common-slope intercept"], **same)
        assert latex_numbers(steps[-1])[0] == pytest.approx(row["multilevel intercept"], **same)
    assert r"\text{schid 62821}" in shrinkage_formula(at)


def test_the_school_picked_falls_back_when_it_leaves_the_selection():
    at = answered_lab({"schools": "7472,24725,62821"})
    at.selectbox(key="school").set_value(62821).run()
    at.multiselect(key="schools").set_value([7472, 24725]).run()
    assert at.selectbox(key="school").value == 24725
    at.multiselect(key="schools").set_value([7472, 7829]).run()
    assert at.selectbox(key="school").value == 7472  # no 24725: the first school
    assert r"\text{schid 7472}" in shrinkage_formula(at)


def test_random_slope_shows_reliabilities_and_every_weight_matrix():
    at = answered_lab({"slope": "1"})
    table = table_with(at, "multilevel slope")
    assert "λ" not in table.columns and "reliability (slope)" in table.columns and "reliability (intercept)" in table.columns
    comparison = deck_comparison(True)
    weights = comparison.shrinkage
    assert [e.label for e in at.expander].count("Every school's weight matrix Λⱼ") == 1
    matrices = table_with(at, "Λ: intercept ← own slope")
    entries = {"Λ: intercept ← own intercept": "Lambda_00", "Λ: intercept ← own slope":
               "Lambda_01", "Λ: slope ← own intercept": "Lambda_10",
               "Λ: slope ← own slope": "Lambda_11", "reliability (intercept)":
               "reliability_intercept", "reliability (slope)": "reliability_slope"}
    for column, name in entries.items():
        np.testing.assert_allclose(matrices[column].to_numpy(float),
                                   weights[name].to_numpy(float), atol=5e-4)
    # The caption names reliabilities, not weights.
    assert "they are not the weights" in " ".join(c.value for c in at.caption)
    # The formula with 24725's Lambda_j reads back to the expander's row and the line drawn.
    tex = shrinkage_formula(at)
    values = latex_numbers(tex.split("\n")[1])
    lam, own = np.array(values[:4]).reshape(2, 2), np.array(values[4:6])
    rest, gamma = np.array(values[6:10]).reshape(2, 2), np.array(values[10:12])
    row = matrices.loc["24725"]
    np.testing.assert_allclose(lam.ravel(), row[list(entries)[:4]].to_numpy(float), atol=1e-12)
    np.testing.assert_allclose(lam + rest, np.eye(2), atol=1e-3)
    line = np.array(latex_numbers(tex.split("\n")[-1])[:2])
    shown = table.loc["24725", ["multilevel intercept", "multilevel slope"]].to_numpy(float)
    np.testing.assert_allclose(line, shown, atol=5e-3)
    np.testing.assert_allclose(lam @ own + rest @ gamma, line, atol=0.15)


def test_a_school_with_constant_homework_gets_the_t_z_formula(tmp_path, monkeypatch):
    flat = datasets.load_nels88_replica()
    flat.loc[flat["schid"] == 7472, "homework"] = 2
    flat.to_csv(tmp_path / "nels88_synthetic.csv", index=False)
    monkeypatch.setattr(datasets, "DATA_DIR", tmp_path)
    at = answered_lab({"slope": "1", "schools": "7472,24725,62821"})
    at.selectbox(key="school").set_value(7472).run()
    tex = shrinkage_formula(at)
    assert r"\frac{T z_j}{z_j' T z_j + \sigma^2 / n_j}" in tex and r"\Lambda_j" not in tex
    matrices = table_with(at, "Λ: intercept ← own slope")
    assert np.isnan(matrices.loc["7472", "Λ: intercept ← own intercept"])


def test_the_slope_table_adds_up_and_matches_the_fixed_effects_and_lme4():
    at = answered_lab()
    slopes = table_with(at, "how it is made")
    fixed = table_with(at, "pooled OLS estimate").loc["homework"]
    for name in ("pooled OLS", "random intercept (fixed slope)"):
        recipe = slopes.loc[name, "how it is made"]
        w, within, rest, between, blend = latex_numbers(recipe.replace("−", "-"))
        assert w + rest == pytest.approx(1, abs=1e-3)
        assert w * within + rest * between == pytest.approx(blend, abs=0.01)
        assert blend == round(slopes.loc[name, "estimate"], 2)
        assert within == round(slopes.loc["within schools", "estimate"], 2)
    # The same estimates as the fixed-effects table (each table rounds to its own digits).
    assert slopes.loc["random intercept (fixed slope)", "estimate"] == pytest.approx(
        fixed["estimate"], abs=5e-4)
    assert slopes.loc["pooled OLS", "estimate"] == pytest.approx(fixed["pooled OLS estimate"],
                                                                 abs=5e-4)
    assert slopes.loc["random intercept (fixed slope)", "estimate"] == pytest.approx(
        lme4_value(DECK_RI, "fixef", "homework"), rel=1e-3)
    assert "Macro and micro" in " ".join(c.value for c in at.caption)
    # With a random slope chosen, the slope table still shows the random intercept's slope.
    at.radio(key="slope").set_value("Random intercept and slope").run()
    again = table_with(at, "how it is made")
    assert again.loc["random intercept (fixed slope)", "estimate"] == pytest.approx(
        lme4_value(DECK_RI, "fixef", "homework"), rel=1e-3)


def test_the_slope_table_of_all_schools_matches_lme4_under_ml():
    at = answered_lab({"method": "ML"})
    at.radio(key="school_set").set_value("All schools").run()
    slopes = table_with(at, "how it is made")
    assert slopes.loc["random intercept (fixed slope)", "estimate"] == pytest.approx(
        lme4_value("nels88_all_ri_ml", "fixef", "homework"), rel=1e-3)


def test_the_slope_table_waits_for_the_pooled_slope_question():
    at = open_lab()
    assert not any("how it is made" in t.columns for t in shown_tables(at))
    assert any("within- and between-school slopes" in c.value for c in at.caption)
    answer_question(at, "nels_q_pooled")
    assert any("how it is made" in t.columns for t in shown_tables(at))


def test_a_slope_table_that_cannot_be_made_says_why():
    at = answered_lab({"schools": "24725"})
    assert not any("how it is made" in t.columns for t in shown_tables(at))
    replica = datasets.load_nels88_replica()
    with pytest.raises(ModelDataError) as why:
        decompose_slope(replica[replica["schid"] == 24725], "math", "homework", "schid")
    assert str(why.value) in [i.value for i in at.info]
    assert not at.exception


def test_icc_is_named_residual_and_estimation_is_explained():
    at = answered_lab()
    names = shown_variance_table(at).index
    assert any(name.startswith("residual ICC") for name in names)
    assert "REML or ML? Why two standard errors?" in [e.label for e in at.expander]


def test_the_data_source_is_a_url_control(tmp_path, monkeypatch):
    (tmp_path / "nels88_synthetic.csv").write_bytes(
        (datasets.DATA_DIR / "nels88_synthetic.csv").read_bytes())
    replica = datasets.load_nels88_replica()
    replica.to_csv(tmp_path / "nels88.csv", index=False)
    monkeypatch.setattr(datasets, "DATA_DIR", tmp_path)
    at = open_lab({"nels_source": "original"})
    assert at.selectbox(key="nels_source").value == datasets.NELS88_ORIGINAL_LABEL
    _, layout = chart_traces(at)
    assert "original file" in chart_title(layout)


def test_the_code_is_drawn_only_once_its_expander_is_opened_and_stays_open():
    # Closed, the code blocks are not sent at all (their syntax highlighting was the largest
    # single cost of a new tab's first render); opened, both languages show the fit.
    at = open_lab()
    expander = next(e for e in at.expander if "Run it yourself" in e.label)
    assert len(expander.code) == 0
    at.session_state["nels_code"] = True
    at.run()
    expander = next(e for e in at.expander if "Run it yourself" in e.label)
    blocks = [block.value for block in expander.code]
    python_code, r_code = blocks[0], blocks[-1]  # the pooled line's code sits between
    assert "MixedLM" in python_code or "mixedlm" in python_code
    assert "lmer(" in r_code
    # moving a control keeps it open
    at.slider(key="per_school").set_value(20).run()
    assert not at.exception
    assert len(next(e for e in at.expander if "Run it yourself" in e.label).code) >= 2
