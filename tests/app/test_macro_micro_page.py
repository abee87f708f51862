"""The "Macro and micro" page as a student uses it (AppTest): the numbers on screen against
lme4, the Hsb82 within, between and contextual estimates, labels of real and synthetic
data, plain words for a boundary fit, and a shared link that opens a prepared lab.

lme4 values: tests/reference/lme4_reference.csv, cases ``mm_*`` of tests/reference/cases.csv
(written by tests/reference/lme4_reference.R): ``mm_hsb82_<model>_<reml|ml>`` (the six
centring models), ``mm_hsb82_macro_to_micro_reml``, ``mm_hsb82_ses_empty_reml``,
``mm_sector_<without|with>[_mean]_<reml|ml>``, and the simulations at their default
settings, ``mm_contextual_*``, ``mm_grouping_*``, ``mm_measurement_reml``. Every other
control at its extremes is test_app_pages.py's test_every_control_at_its_extremes.
"""

from __future__ import annotations

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from app_pages import (
    APP,
    answer_every_question,
    answer_question,
    chart_specs,
    chart_title,
    lesson_views,
    open_questions,
    open_view,
    shown_tables,
)
from app_pages import lme4_value as lme4

PAGE = "pages/macro_micro.py"
RTOL = 1e-3
# The six centring models of the page (its table's row labels) and their lme4 cases.
CENTRING_CASES = {"raw SES": "raw", "raw SES + school mean": "raw_mean",
                  "grand-mean centred SES": "grand",
                  "grand-mean centred SES + school mean": "grand_mean",
                  "group-mean centred SES": "group",
                  "group-mean centred SES + school mean": "group_mean"}


def ok(at: AppTest) -> None:
    assert not at.exception, [e.message for e in at.exception]


def open_page(query: dict | None = None) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=300)
    at.run()
    for name, value in (query or {}).items():
        at.query_params[name] = value
    at.switch_page(PAGE).run()
    ok(at)
    return at


def view(at: AppTest, number: int) -> AppTest:
    """Open tab ``number`` (1-6) and answer every question in it (twice: an answer can
    reveal a lab with a further question below it)."""
    open_view(at, PAGE, lesson_views(PAGE)[1][number - 1])
    ok(at)
    answer_every_question(at)
    answer_every_question(at)
    ok(at)
    return at


def table_with(at: AppTest, row: str) -> pd.DataFrame:
    """The table on screen with a row labelled ``row``."""
    for frame in shown_tables(at):
        if row in [str(label) for label in frame.index]:
            return frame
    raise AssertionError(f"no table with a row {row!r}")


def table_with_column(at: AppTest, column: str) -> pd.DataFrame:
    for frame in shown_tables(at):
        if column in frame.columns:
            return frame
    raise AssertionError(f"no table with a column {column!r}")


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


@pytest.fixture(scope="module")
def page():
    return open_page()


def test_views_are_the_lesson_s_tabs():
    key, labels = lesson_views(PAGE)
    assert key == "macro_view"
    assert labels == ["1 · Propositions", "2 · Centring on Hsb82", "3 · Within, between, blended",
                      "4 · Sector × SES", "5 · Ability grouping", "6 · Measurement error"]


@pytest.mark.parametrize("method", ["REML", "ML"])
def test_hsb82_within_between_and_contextual_on_screen_are_lme4_s(page, method):
    at = view(page, 2)
    at.radio(key="cent_method").set_value(method).run()
    ok(at)
    suffix = method.lower()
    estimates = table_with(at, "within-school slope")
    within = lme4(f"mm_hsb82_raw_mean_{suffix}", "fixef", "ses")
    contextual = lme4(f"mm_hsb82_raw_mean_{suffix}", "fixef", "mean_ses")
    between = lme4(f"mm_hsb82_group_mean_{suffix}", "fixef", "mean_ses")
    shown = estimates["estimate"]
    assert shown["within-school slope"] == pytest.approx(within, rel=RTOL)
    assert shown["between-school slope"] == pytest.approx(between, rel=RTOL)
    assert shown["contextual effect (between − within)"] == pytest.approx(contextual, rel=RTOL)
    assert shown["random intercept, raw SES (blend)"] == pytest.approx(
        lme4(f"mm_hsb82_raw_{suffix}", "fixef", "ses"), rel=RTOL)
    se = estimates["SE"]
    assert se["within-school slope"] == pytest.approx(
        lme4(f"mm_hsb82_raw_mean_{suffix}", "se", "ses"), rel=RTOL)
    assert se["between-school slope"] == pytest.approx(
        lme4(f"mm_hsb82_group_mean_{suffix}", "se", "mean_ses"), rel=RTOL)
    assert se["contextual effect (between − within)"] == pytest.approx(
        lme4(f"mm_hsb82_raw_mean_{suffix}", "se", "mean_ses"), rel=RTOL)
    # The metrics above the table say the same three numbers (three decimals).
    shown_metrics = metrics(at)
    for label, value in (("Within-school slope", within), ("Between-school slope", between),
                         ("Contextual effect", contextual)):
        assert float(shown_metrics[label]) == pytest.approx(value, abs=5e-4)
    # Between = within + contextual, on screen.
    assert shown["between-school slope"] == pytest.approx(
        shown["within-school slope"] + shown["contextual effect (between − within)"], abs=2e-4)


@pytest.mark.parametrize("method", ["REML", "ML"])
def test_every_centring_model_on_screen_is_lme4_s(page, method):
    at = view(page, 2)
    at.radio(key="cent_method").set_value(method).run()
    ok(at)
    variances = table_with_column(at, "lme4 formula")
    coefficients = table_with_column(at, "SES coef.")
    for label, key in CENTRING_CASES.items():
        case = f"mm_hsb82_{key}_{method.lower()}"
        x = {"raw": "ses", "grand": "ses_grand_centred", "group": "ses_within"}[key.split("_")[0]]
        assert variances.loc[label, "τ₀₀"] == pytest.approx(lme4(case, "tau00"), rel=RTOL)
        assert variances.loc[label, "σ²"] == pytest.approx(lme4(case, "sigma2"), rel=RTOL)
        assert variances.loc[label, "log-likelihood"] == pytest.approx(lme4(case, "loglik"),
                                                                       rel=RTOL)
        assert variances.loc[label, "intercept"] == pytest.approx(
            lme4(case, "fixef", "Intercept"), rel=RTOL)
        assert coefficients.loc[label, "SES coef."] == pytest.approx(lme4(case, "fixef", x),
                                                                     rel=RTOL)
        assert coefficients.loc[label, "SES SE"] == pytest.approx(lme4(case, "se", x), rel=RTOL)
        if key.endswith("_mean"):
            assert coefficients.loc[label, "mean_ses coef."] == pytest.approx(
                lme4(case, "fixef", "mean_ses"), rel=RTOL)
        else:
            assert pd.isna(coefficients.loc[label, "mean_ses coef."])


@pytest.mark.parametrize(("method", "control"), [("REML", False), ("ML", False), ("REML", True),
                                                 ("ML", True)])
def test_sector_interaction_on_screen_is_lme4_s(page, method, control):
    at = view(page, 4)
    at.radio(key="sector_method").set_value(method).run()
    at.toggle(key="sector_mean").set_value(control).run()
    ok(at)
    mean = "_mean" if control else ""
    with_case, without_case = (f"mm_sector_with{mean}_{method.lower()}",
                               f"mm_sector_without{mean}_{method.lower()}")
    coefficients = table_with(at, "ses_within_x_catholic")
    terms = ["Intercept", "ses_within", "catholic", "ses_within_x_catholic"]
    terms += ["mean_ses"] if control else []
    for term in terms:
        assert coefficients.loc[term, "estimate"] == pytest.approx(lme4(with_case, "fixef", term),
                                                                   rel=RTOL)
        assert coefficients.loc[term, "SE"] == pytest.approx(lme4(with_case, "se", term), rel=RTOL)
    variances = table_with(at, "with Z and x·Z")
    for row, case in (("without Z", without_case), ("with Z and x·Z", with_case)):
        for column, quantity in (("τ₀₀", "tau00"), ("τ₁₁", "tau11"), ("τ₀₁", "tau01"),
                                 ("σ²", "sigma2"), ("log-lik.", "loglik")):
            assert variances.loc[row, column] == pytest.approx(lme4(case, quantity), rel=RTOL), \
                (row, column)
    explained = table_with(at, "share of tau11 explained by Z")["estimate"]
    tau11_without, tau11_with = lme4(without_case, "tau11"), lme4(with_case, "tau11")
    assert explained["share of tau11 explained by Z"] == pytest.approx(
        (tau11_without - tau11_with) / tau11_without, rel=RTOL)
    texts = [m.value for m in at.markdown]
    has_test = any("Likelihood-ratio test of sector" in text for text in texts)
    assert has_test == (method == "ML")  # REML likelihoods of these two models do not compare


@pytest.mark.parametrize(("proposition", "case", "terms"), [
    ("micro", "mm_hsb82_raw_reml", ["ses"]),
    ("macro_to_micro", "mm_hsb82_macro_to_micro_reml", ["mean_ses"]),
    ("macro_and_micro", "mm_hsb82_raw_mean_reml", ["ses", "mean_ses"]),
    ("cross_level", "mm_sector_with_reml", ["ses_within", "catholic", "ses_within_x_catholic"]),
])
def test_each_proposition_s_arrows_carry_lme4_s_coefficients(page, proposition, case, terms):
    at = view(page, 1)
    at.radio(key="prop").set_value(proposition).run()
    ok(at)
    arrows = table_with_column(at, "term").set_index("term")
    assert list(arrows.index) == terms
    for term in terms:
        assert arrows.loc[term, "estimate"] == pytest.approx(lme4(case, "fixef", term), rel=RTOL)
        assert arrows.loc[term, "SE"] == pytest.approx(lme4(case, "se", term), rel=RTOL)
    assert chart_specs(at), "no diagram"
    assert "real data" in chart_title(chart_specs(at)[0]["layout"])


def test_emergent_proposition_shows_the_empty_model_of_ses(page):
    at = view(page, 1)
    at.radio(key="prop").set_value("emergent").run()
    ok(at)
    details = table_with_column(at, "value")["value"]
    case = "mm_hsb82_ses_empty_reml"
    tau00, sigma2 = lme4(case, "tau00"), lme4(case, "sigma2")
    assert details["tau00: variance of schools' true mean SES"] == pytest.approx(tau00, rel=RTOL)
    assert details["sigma2: variance of SES within schools"] == pytest.approx(sigma2, rel=RTOL)
    assert details["ICC of pupil SES"] == pytest.approx(tau00 / (tau00 + sigma2), rel=RTOL)


def test_simulations_at_their_defaults_are_lme4_s_and_say_synthetic(page):
    at = view(page, 3)
    slopes = table_with(at, "within-school slope")["estimate"]
    assert slopes["within-school slope"] == pytest.approx(
        lme4("mm_contextual_mean_reml", "fixef", "x"), rel=RTOL)
    assert slopes["contextual effect (between − within)"] == pytest.approx(
        lme4("mm_contextual_mean_reml", "fixef", "mean_x"), rel=RTOL)
    assert slopes["between-school slope"] == pytest.approx(
        lme4("mm_contextual_centred_reml", "fixef", "mean_x"), rel=RTOL)
    assert slopes["random intercept, raw x (blend)"] == pytest.approx(
        lme4("mm_contextual_raw_reml", "fixef", "x"), rel=RTOL)
    assert "synthetic" in chart_title(chart_specs(at)[0]["layout"])

    at = view(page, 5)
    coefficients = table_with(at, "iq_x_grouping")
    for term in ("Intercept", "iq", "grouping", "iq_x_grouping"):
        assert coefficients.loc[term, "estimate"] == pytest.approx(
            lme4("mm_grouping_with_reml", "fixef", term), rel=RTOL)
        assert coefficients.loc[term, "SE"] == pytest.approx(
            lme4("mm_grouping_with_reml", "se", term), rel=RTOL)
    explained = table_with(at, "tau11 without Z")["estimate"]
    assert explained["tau11 without Z"] == pytest.approx(lme4("mm_grouping_without_reml", "tau11"),
                                                         rel=RTOL)
    assert explained["tau11 with Z and x·Z"] == pytest.approx(lme4("mm_grouping_with_reml", "tau11"),
                                                              rel=RTOL)
    assert "synthetic" in chart_title(chart_specs(at)[0]["layout"])

    at = view(page, 6)
    table = table_with(at, "slope of x_recorded")["estimate"]
    case = "mm_measurement_reml"
    assert table["slope of x_recorded"] == pytest.approx(lme4(case, "fixef", "x_recorded"), rel=RTOL)
    assert table["tau00: random-intercept variance"] == pytest.approx(lme4(case, "tau00"), rel=RTOL)
    assert table["sigma2: residual variance"] == pytest.approx(lme4(case, "sigma2"), rel=RTOL)
    assert float(metrics(at)["Estimated τ₀₀"]) == pytest.approx(lme4(case, "tau00"), abs=0.005)
    assert "synthetic" in chart_title(chart_specs(at)[0]["layout"])


def test_a_boundary_fit_is_explained_in_words(page):
    """With no slope variation left within each kind of school (SD 0), the model with
    grouping lands on the boundary (intercept-slope correlation +-1): the page says so in
    words, naming the model, and still draws its chart and tables (no traceback)."""
    at = view(page, 5)
    at.slider(key="grp_sd").set_value(0.0).run()
    ok(at)
    warnings = [m.value for m in at.warning]
    assert any("with Z: Boundary fit" in text and "perfectly correlated" in text
               for text in warnings), warnings
    assert chart_specs(at) and table_with(at, "iq_x_grouping") is not None


def test_a_shared_link_opens_the_lab_with_its_settings():
    at = open_page({"macro_view": "3", "ctx_within": "-2", "ctx_schools": "100"})
    answer_every_question(at)
    ok(at)
    assert at.slider(key="ctx_within").value == -2.0
    assert at.slider(key="ctx_schools").value == 100
    truth = table_with(at, "within-school slope")["truth"]
    assert truth["within-school slope"] == -2.0


def test_the_measurement_lab_waits_for_its_question_and_keeps_a_shared_links_settings():
    """Tab 6's chart draws each school's estimated intercept, whose spread is the τ₀₀ its
    question asks about: sliders, chart and numbers appear once it is answered, and a
    shared link's settings are still there then."""
    at = open_page({"macro_view": lesson_views(PAGE)[1][5], "me_slope": "3"})
    ok(at)
    assert "mm_me_q" in open_questions(at)
    assert not chart_specs(at)
    assert not [s for s in at.slider if s.key.startswith("me_")]
    assert any("once you have answered" in c.value and "τ₀₀" in c.value for c in at.caption)
    answer_question(at, "mm_me_q")
    ok(at)
    assert at.slider(key="me_slope").value == 3.0
    assert "synthetic" in chart_title(chart_specs(at)[0]["layout"])
    truth = table_with(at, "slope of x_recorded")["truth"]
    assert truth["slope of x_recorded"] == 3.0
