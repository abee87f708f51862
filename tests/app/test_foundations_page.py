"""The Foundations page as a student uses it (AppTest): the numbers its tables show against
lme4, the synthetic label beside every simulation, a boundary fit explained in words, and
a design's sliders only.

lme4 values: tests/reference/lme4_reference.csv, cases foundations_sources_I_reml (design I
at the defaults), foundations_sources_III_reml (design III, three levels) and
foundations_experiment_teacher_reml (the default experiment), written by
tests/reference/lme4_reference.R.
"""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from app_pages import APP, answer_every_question, element_texts, open_view, shown_tables
from app_pages import lme4_value as lme4

PAGE = "pages/foundations.py"
SOURCES, DEPENDENCE = "2 · Sources of variability", "3 · Where dependence comes from"


def ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.message for e in at.exception]
    return at


@pytest.fixture
def page() -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=180).run()
    at.switch_page(PAGE).run()
    return ok(at)


def partition(at: AppTest):
    return next(t for t in shown_tables(at) if "estimate" in t.columns and "true" in t.columns)


def test_design_i_partition_is_lme4_s(page):
    at = ok(answer_every_question(open_view(page, PAGE, SOURCES)))
    table = partition(at)
    case = "foundations_sources_I_reml"
    assert table["estimate"].iloc[0] == pytest.approx(lme4(case, "tau00"), rel=1e-3)
    assert table["estimate"].iloc[1] == pytest.approx(lme4(case, "sigma2"), rel=1e-3)
    texts = "\n".join(element_texts(at.main))
    assert "Synthetic: simulated by the app" in texts
    assert {s.key for s in at.slider} >= {"fnd_sd_indiv", "fnd_sd_error", "fnd_people",
                                           "fnd_readings"}
    assert not {"fnd_sd_family", "fnd_rho", "fnd_families"} & {s.key for s in at.slider}


def test_design_iii_three_levels_are_lme4_s(page):
    at = open_view(page, PAGE, SOURCES)
    at.button_group(key="fnd_design").set_value("III · Under different conditions or over time").run()
    at = ok(answer_every_question(at))
    table = partition(at)
    case = "foundations_sources_III_reml"
    for row, quantity in enumerate(("var_group", "var_subgroup", "sigma2")):
        assert table["estimate"].iloc[row] == pytest.approx(lme4(case, quantity), rel=1e-3)
    texts = "\n".join(element_texts(at.main))
    assert "Serial correlation is not in the model." in texts
    assert "fnd_rho" in {s.key for s in at.slider}


def test_a_source_of_size_zero_is_a_boundary_fit_explained_in_words(page):
    at = open_view(page, PAGE, SOURCES)
    at.slider(key="fnd_sd_indiv").set_value(0.0).run()
    ok(at)
    texts = "\n".join(element_texts(at.main))
    assert "boundary" in texts.lower() and "Traceback" not in texts


def test_the_experiment_s_multilevel_se_is_lme4_s(page):
    at = ok(answer_every_question(open_view(page, PAGE, DEPENDENCE)))
    table = next(t for t in shown_tables(at) if "SE" in t.columns)
    case = "foundations_experiment_teacher_reml"
    assert table.loc["multilevel model", "SE"] == pytest.approx(lme4(case, "se", "treated"),
                                                                rel=1e-3)
    assert table.loc["multilevel model", "df"] == 18
    assert "Synthetic: simulated by the app" in "\n".join(element_texts(at.main))
