"""The JSP lesson page as a student uses it (AppTest), and its numbers against lme4.

Reference values: tests/reference/lme4_reference.csv and lme4_ranef.csv (lme4 1.1), cases
jsp_three_level_reml, jsp_year0_raven_ri_reml, jsp_growth_rs_reml and exam_rs_reml.
"""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

import hlmlab.datasets
from app_pages import (APP, REFERENCE_DIR, answer_every_question, chart_specs, chart_title,
                       chart_traces, shown_tables)
from app_pages import lme4_value as lme4
from hlmlab import datasets, style

PAGE = "pages/jsp_schools.py"
RANEF = pd.read_csv(REFERENCE_DIR / "lme4_ranef.csv", dtype={"group": str})
RTOL = 1e-3
EXAM = "Exam (real: mlmRev::Exam, London schools)"


# The page's views (tabs); only the open one runs, so a test opens the one it reads.
VIEWS = {"level1": "1 · Within one school", "level2": "2 · Between schools",
         "pooling": "3 · Three kinds of lines", "ranking": "4 · Ranking schools",
         "separate": "5 · When separate lines are fine", "levels": "6 · Three levels"}


def open_page() -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.run()
    at.switch_page(PAGE).run()
    assert_clean(at, "open")
    return at


def open_view(at: AppTest, view: str) -> AppTest:
    """Click a view's tab, as a student would (the tabs are bound to session state), and
    answer its question, so that everything the view can show is on the page
    (test_lesson_questions.py checks what a question hides before it is answered)."""
    at.session_state["jsp_view"] = VIEWS[view]
    at.query_params["jsp_view"] = VIEWS[view]
    at.run()
    answer_every_question(at)
    assert_clean(at, view)
    assert [t.label for t in at.tabs if t.label in VIEWS.values()], "no view tabs"
    return at


def assert_clean(at: AppTest, context: str) -> None:
    assert not at.exception, f"{context}: {[e.message for e in at.exception]}"
    assert not any("Traceback" in e.value for e in at.error), context


def variance_tables(at: AppTest) -> list[pd.Series]:
    """Every report.variance_display on the page, as numbers keyed by the first word."""
    tables = []
    for frame in shown_tables(at):
        if list(frame.columns) == ["value"] and any("tau00" in str(i) for i in frame.index):
            tables.append(pd.Series({("loglik" if "log-likelihood" in k else k.split(":")[0].split(" ")[0]): v
                                     for k, v in frame["value"].items()}))
    return tables


def check_two_level(table: pd.Series, case: str, slope: bool) -> None:
    for name in ("tau00", "sigma2", "loglik") + (("tau11", "tau01") if slope else ()):
        assert table[name] == pytest.approx(lme4(case, name), rel=RTOL), (case, name)


def check_three_level(at: AppTest) -> None:
    case = "jsp_three_level_reml"
    shown = next(f for f in shown_tables(at)
                 if list(f.columns) == ["value"] and "school variance (v_k)" in f.index)["value"]
    assert shown["school variance (v_k)"] == pytest.approx(lme4(case, "var_group"), rel=RTOL)
    assert shown["pupil variance (u_jk)"] == pytest.approx(lme4(case, "var_subgroup"), rel=RTOL)
    assert shown["occasion (residual) variance (e_ijk)"] == pytest.approx(lme4(case, "sigma2"),
                                                                          rel=RTOL)
    # The fitted equation beside the table: the same symbols, the same variances.
    tex = next(x.value for x in at.latex if "math}_{ijk}" in x.value)
    assert r"+ v_{k} + u_{jk} + e_{ijk}" in tex
    for symbol, row in (("v_{k}", "school variance (v_k)"), ("u_{jk}", "pupil variance (u_jk)"),
                        ("e_{ijk}", "occasion (residual) variance (e_ijk)")):
        assert f"{symbol} &\\sim N(0,\\ {shown[row]:.2f})" in tex
    assert shown["REML log-likelihood"] == pytest.approx(lme4(case, "loglik"), rel=RTOL)
    fixed = next(f for f in shown_tables(at)
                 if list(f.columns) == ["estimate", "SE"] and "year[2]" in f.index)
    for term in ("Intercept", "year[1]", "year[2]"):  # shown with four decimals
        assert fixed.loc[term, "SE"] == pytest.approx(lme4(case, "se", term), rel=RTOL,
                                                      abs=5e-5)
        se = lme4(case, "se", term)
        assert fixed.loc[term, "estimate"] == pytest.approx(lme4(case, "fixef", term), rel=RTOL,
                                                             abs=RTOL * se)


def ranking_table(at: AppTest) -> pd.DataFrame:
    return next(f for f in shown_tables(at) if "effect (mode)" in f.columns)


def check_ranking_effects(at: AppTest, case: str) -> None:
    table = ranking_table(at)
    table.index = table.index.astype(str)
    ref = RANEF[(RANEF["case"] == case) & (RANEF["term"] == "Intercept")].set_index("group")
    ours = table.loc[ref.index]
    spread = ref["mode"].std()
    np.testing.assert_allclose(ours["effect (mode)"], ref["mode"], rtol=RTOL, atol=RTOL * spread)
    np.testing.assert_allclose(ours["95% upper"], ref["mode"] + 1.959963984540054 * ref["condsd"],
                               rtol=RTOL, atol=RTOL * spread)


# --------------------------------------------------------------------------- numbers vs lme4


def test_replica_numbers_match_lme4():
    at = open_page()
    assert at.title[0].value == "JSP: school effectiveness"
    check_three_level(open_view(at, "levels"))
    tables = variance_tables(open_view(at, "pooling"))
    growth = next(t for t in tables if "tau11" in t)
    check_two_level(growth, "jsp_growth_rs_reml", slope=True)
    open_view(at, "ranking")
    at.selectbox(key="jsp_year").set_value(0).run()
    assert_clean(at, "year 0")
    ranking = next(t for t in variance_tables(at) if "tau11" not in t)
    check_two_level(ranking, "jsp_year0_raven_ri_reml", slope=False)
    check_ranking_effects(at, "jsp_year0_raven_ri_reml")
    metrics = {m.label: m.value for m in at.metric}
    assert int(metrics["Schools"]) == 49


def test_exam_numbers_match_lme4():
    at = open_page()
    at.selectbox(key="jsp_source").set_value(EXAM).run()
    assert_clean(at, "exam")
    # The pooling view and the ranking model: both exam_rs_reml.
    for view in ("pooling", "ranking"):
        tables = variance_tables(open_view(at, view))
        assert len(tables) == 1, view
        check_two_level(tables[0], "exam_rs_reml", slope=True)
    check_ranking_effects(at, "exam_rs_reml")
    open_view(at, "levels")
    assert any("JSP" in i.value for i in at.info)  # the three-level view explains itself


# --------------------------------------------------------------------------- every control


def _widgets(at: AppTest) -> list:
    return [*at.slider, *at.select_slider, *at.radio, *at.selectbox, *at.multiselect,
            *at.toggle, *at.checkbox, *at.button_group, *at.number_input]


def _find(at: AppTest, key: str):
    return next((w for w in _widgets(at) if w.key == key), None)


def _extremes(widget) -> list:
    kind = type(widget).__name__
    if kind == "Slider":
        return [widget.min, widget.max]
    if kind in ("Radio", "Selectbox"):
        return list(widget.options)
    if kind in ("Toggle", "Checkbox"):
        return [True, False]
    if kind == "ButtonGroup":
        return [[], list(widget.options)]
    return []


@pytest.mark.parametrize("source", ["JSP (synthetic replica)", EXAM])
def test_every_control_at_its_extremes(source):
    at = open_page()
    at.selectbox(key="jsp_source").set_value(source).run()
    assert_clean(at, source)
    every_key = []
    for view in VIEWS:
        open_view(at, view)
        keys = [w.key for w in _widgets(at) if w.key and w.key.startswith("jsp_")
                and w.key != "jsp_source" and not w.key.endswith("_pick")]
        every_key += keys
        for key in keys:
            for value in _extremes(_find(at, key)):
                widget = _find(at, key)
                if widget is None or getattr(widget, "disabled", False):
                    break
                widget.set_value(value).run()
                assert_clean(at, f"{source}, {view}: {key}={value!r}")
    assert len(every_key) >= 8, every_key


def test_a_closed_view_keeps_its_settings():
    """Only the open tab runs; a student's settings in another tab survive the visit."""
    at = open_view(open_page(), "separate")
    at.slider(key="jsp_keep").set_value(7).run()
    at.slider(key="jsp_pupils").set_value(3).run()
    open_view(at, "ranking")
    assert not [s for s in at.slider if s.key in ("jsp_keep", "jsp_pupils")]  # not drawn
    at.toggle(key="jsp_adjust").set_value(False).run()
    open_view(at, "separate")
    assert at.slider(key="jsp_keep").value == 7
    assert at.slider(key="jsp_pupils").value == 3
    assert_clean(at, "back to separate")
    open_view(at, "ranking")
    assert at.toggle(key="jsp_adjust").value is False


def test_small_samples_are_explained_not_crashed():
    at = open_view(open_page(), "separate")
    at.slider(key="jsp_keep").set_value(2).run()
    at.slider(key="jsp_pupils").set_value(2).run()
    assert_clean(at, "2 schools x 2 pupils")
    open_view(at, "ranking")
    at.toggle(key="jsp_rslope").set_value(True).run()
    assert_clean(at, "random slope ranking")


def test_charts_are_labelled_synthetic_replica():
    at = open_page()
    titles = []
    for view in VIEWS:
        open_view(at, view)
        titles += [chart_title(spec["layout"]) for spec in chart_specs(at)]
    assert len(titles) >= 7
    assert all("synthetic replica" in t for t in titles), titles


def test_every_drawn_school_has_its_own_colour_and_marker():
    at = open_view(open_page(), "pooling")
    slider = at.slider(key="jsp_drawn")
    assert 6 <= slider.max <= style.DISTINCT_GROUP_STYLES
    slider.set_value(slider.max).run()
    assert_clean(at, "most schools drawn")
    traces, _ = chart_traces(at)
    points = [t for t in traces if t.get("mode") == "markers"]
    assert len(points) == slider.max
    styles = {(t["marker"]["color"], t["marker"]["symbol"]) for t in points}
    assert len(styles) == len(points)


def test_the_lessons_corrections_are_on_the_page():
    """Issue 12: the deck's R² regression is labelled this app's reconstruction; the school-only
    growth fits of tabs 3 and 5 say they leave out the pupils (JSP only: Exam has one record
    per pupil); the ICC of a model with predictors is the residual ICC; the estimation note
    sits where REML/ML, log-likelihoods and the two SE columns are shown."""
    at = open_page()
    open_view(at, "level2")
    regression = at.radio(key="jsp_reg")
    assert regression.value == "School mean math on year (our reconstruction of the deck's R²)"
    assert any("this app's reconstruction" in c.value for c in at.caption)
    for view in ("pooling", "separate"):
        open_view(at, view)
        assert any(i.value.startswith("**These lines ignore the pupils.**") for i in at.info), view
    open_view(at, "pooling")
    icc_rows = [row for f in shown_tables(at) if list(f.columns) == ["value"]
                for row in f.index if "ICC" in str(row)]
    assert icc_rows == ["residual ICC (given the predictors): tau00 / (tau00 + sigma2), "
                        "at year = 0"]
    for view in ("pooling", "ranking", "levels"):
        open_view(at, view)
        assert any(e.label == "REML or ML? Why two standard errors?" for e in at.expander), view
    at.selectbox(key="jsp_source").set_value(EXAM).run()
    assert_clean(at, "exam")
    for view in ("pooling", "separate"):
        open_view(at, view)
        assert not any("ignore the pupils" in i.value for i in at.info), view


# --------------------------------------------------------------------------- original file


def test_original_format_file_is_offered_and_works(tmp_path, monkeypatch):
    replica = datasets.load_jsp_replica()
    shutil.copy(datasets.DATA_DIR / "jsp_synthetic.csv", tmp_path / "jsp_synthetic.csv")
    # The original (faraway::jsp) layout: pupil id called `id`, columns in the original order.
    original = replica.rename(columns={"pupil": "id"})[
        ["school", "class", "gender", "social", "raven", "id", "english", "math", "year"]]
    original.to_csv(tmp_path / "jsp.csv", index=False)
    monkeypatch.setattr(hlmlab.datasets, "DATA_DIR", tmp_path)
    at = open_page()
    source = at.selectbox(key="jsp_source")
    assert datasets.JSP_ORIGINAL_LABEL in source.options
    source.set_value(datasets.JSP_ORIGINAL_LABEL).run()
    assert_clean(at, "original")
    assert not any("could not be used" in e.value for e in at.error)
    # Same pupils as the replica, so the same lme4 numbers; labelled as the original file.
    check_three_level(open_view(at, "levels"))
    assert any("JSP (original file)" in c.value for c in at.caption)
    for view, key in (("separate", "jsp_keep"), ("pooling", "jsp_drawn")):
        open_view(at, view)
        slider = at.slider(key=key)
        slider.set_value(slider.min).run()
        assert_clean(at, key)


@pytest.mark.parametrize(("view", "heading"), [("4 · Ranking schools", "Ranking"),
                                               ("no such tab", "Level 1")])
def test_the_url_opens_a_view_and_ignores_an_unknown_one(view, heading):
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.query_params["jsp_view"] = view
    at.run()
    at.switch_page(PAGE).run()
    assert_clean(at, view)
    assert any(heading in s.value for s in at.subheader), [s.value for s in at.subheader]


# --------------------------------------------------------------------------- the URL


def open_url(query: dict) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.query_params.update(query)
    at.run()
    at.switch_page(PAGE).run()
    assert_clean(at, str(query))
    return at


@pytest.mark.parametrize(("query", "expected"), [
    ({"jsp_view": "1", "jsp_school": "5", "jsp_show": "raven"},
     {"jsp_school": 5, "jsp_show": "Math against Raven ability"}),
    ({"jsp_view": "2", "jsp_reg": "pupils"}, {"jsp_reg": "Pupils' math on year"}),
    ({"jsp_view": "3", "jsp_model": "0", "jsp_lines": "Pooled,Multilevel", "jsp_drawn": "4"},
     {"jsp_model": "Random intercept", "jsp_lines": ["Pooled", "Multilevel"], "jsp_drawn": 4}),
    ({"jsp_view": "4", "jsp_year": "0", "jsp_adjust": "1", "jsp_rslope": "1"},
     {"jsp_year": 0, "jsp_adjust": True, "jsp_rslope": True}),
    ({"jsp_view": "5", "jsp_keep": "7", "jsp_pupils": "3"}, {"jsp_keep": 7, "jsp_pupils": 3}),
    ({"jsp_view": "6", "jsp_method": "ml", "jsp_intake": "1"},
     {"jsp_method": "ML", "jsp_intake": True}),
    ({"jsp_source": "exam", "jsp_view": "3", "jsp_drawn": "9"},
     {"jsp_source": EXAM, "jsp_drawn": 9}),
])
def test_a_link_restores_every_control_of_its_view(query, expected):
    """Every control is bound to the URL under its short name (DEVELOPERS.md, controls):
    a shared link opens the same view with the same settings."""
    at = open_url(query)
    for key, value in expected.items():
        widget = _find(at, key)
        assert widget is not None, key
        assert widget.value == value, (key, widget.value)


def test_a_bad_link_value_gets_a_message_and_the_default():
    at = open_url({"jsp_view": "5", "jsp_keep": "500", "jsp_pupils": "x"})
    assert at.slider(key="jsp_keep").value == 49
    assert at.slider(key="jsp_pupils").value == at.slider(key="jsp_pupils").max
    problems = [w.value for w in at.warning if "The link's" in w.value]
    assert len(problems) == 2, problems
