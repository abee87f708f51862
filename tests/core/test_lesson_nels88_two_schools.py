"""hlmlab.analyses.nels88_two_schools and its figure: the NELS88 lesson's choices.

The comparison of the deck's two schools is checked against lme4 (reference case
nels88_deck2_rs_reml: random slope, REML, on the same rows)."""

from __future__ import annotations

import json
import re

import pytest

from hlmlab import datasets
from hlmlab.analyses import nels88_two_schools as nels88
from hlmlab.analyses.nels88_two_schools_figures import selection_figure
from hlmlab.errors import ModelDataError
from hlmlab.style import PALETTE


def test_select_rows_is_a_nested_seeded_subsample(nels):
    small = nels88.select_rows(nels, nels88.DECK_SCHOOLS, 5)
    large = nels88.select_rows(nels, nels88.DECK_SCHOOLS, 8)
    assert set(small["schid"]) == set(nels88.DECK_SCHOOLS)
    assert small.groupby("schid").size().max() == 5
    assert set(small["stuid"]) <= set(large["stuid"])
    assert small.equals(nels88.select_rows(nels, nels88.DECK_SCHOOLS, 5))


def test_per_school_cap_stops_at_the_largest_chosen_school(nels):
    sizes = nels[nels["schid"].isin(nels88.DECK_SCHOOLS)].groupby("schid").size()
    assert nels88.per_school_cap(nels, nels88.DECK_SCHOOLS, 70) == sizes.max()
    assert nels88.per_school_cap(nels, nels88.DECK_SCHOOLS, 3) == 3


def test_the_deck_s_two_schools_match_lme4(nels, lme4):
    comparison = nels88.compare_selection(nels, nels88.DECK_SCHOOLS, 70, True, True)
    case = "nels88_deck2_rs_reml"
    fit = comparison.multilevel
    assert fit.fixed["homework"] == pytest.approx(lme4(case, "fixef", "homework"), rel=1e-3)
    assert fit.variance["sigma2"] == pytest.approx(lme4(case, "sigma2"), rel=1e-3)
    assert fit.singular == bool(lme4(case, "singular"))
    assert comparison.per_group.table.index.tolist() == sorted(nels88.DECK_SCHOOLS)


def test_a_selection_without_a_line_is_refused(nels):
    flat = nels.assign(homework=2)
    with pytest.raises(ModelDataError, match="homework"):
        nels88.compare_selection(flat, nels88.DECK_SCHOOLS, 10, False, True)


def test_the_deck_s_schools_get_the_first_colours(nels):
    ids = sorted(nels["schid"].unique().tolist())
    ordered = nels88.deck_schools_first(ids)
    assert ordered[:2] == list(nels88.DECK_SCHOOLS) and sorted(ordered) == ids
    chosen = nels88.select_rows(nels, nels88.DECK_SCHOOLS, 10)
    comparison = nels88.compare_selection(nels, nels88.DECK_SCHOOLS, 10, False, True)
    figure = selection_figure(nels, chosen, comparison.lines, 0.0, True,
                              "NELS88 (synthetic replica)")
    colours = {t.meta: t.marker.color for t in figure.data if t.mode == "markers"}
    assert colours == {"24725": PALETTE[0], "62821": PALETTE[1]}
    assert figure.layout.title.text == "Math against homework · NELS88 (synthetic replica)"
    assert {t.meta.split(":")[0] for t in figure.data if t.mode == "lines"} == {
        "pooled", "per_group", "multilevel"}


# --------------------------------------------------------------------------- what the text states


def pooling_text() -> str:
    from hlmlab.glossary_terms import unlinked
    from hlmlab.lesson_text import load_lesson

    return unlinked(load_lesson("nels88_two_schools")["pooling"].body)  # as a student reads it


def test_pooling_text_states_the_identities_the_core_checks():
    """The formulas of the 'What pooling means' section are the ones hlmlab.shrinkage computes
    and tests/core/test_shrinkage.py checks against the drawn lines (to 1e-8 and 1e-6)."""
    text = pooling_text()
    for formula in (
        r"\hat u_{0j} = \lambda_j\,(\bar y_j - \hat\gamma_{00} - \hat\gamma_{10}\,\bar x_j)",
        r"\lambda_j = \frac{\tau_{00}}{\tau_{00} + \sigma^2 / n_j}",
        r"\hat\beta^{*}_{0j} = \lambda_j\,(\bar y_j - \hat\gamma_{10}\,\bar x_j)"
        r" + (1 - \lambda_j)\,\hat\gamma_{00}",
        r"\hat\beta^{*}_j = \Lambda_j\,\hat\beta_j + (I - \Lambda_j)\,\hat\gamma",
        r"\Lambda_j = T\,\bigl(T + \sigma^2 (X_j'X_j)^{-1}\bigr)^{-1}",
    ):
        assert formula in text, formula
    assert "**not** a weighted average of the school's own\nOLS intercept" in text
    assert "**reliabilities**" in text and "common-slope\nintercept" in text
    # The old, wrong sentence is gone.
    assert "weight on the school's own intercept" not in text
    assert "diagonal of that matrix" not in text


def test_pooling_text_numbers_are_the_fits(nels):
    """The numbers the section states, from the core on all ten schools (REML): the
    intercept-slope correlation, a diagonal entry of Lambda_j above 1, and the slope blends
    (also in tests/core/test_within_between.py)."""
    from hlmlab.shrinkage import shrinkage_weights
    from hlmlab.twolevel import fit_multilevel
    from hlmlab.within_between import decompose_slope

    text = pooling_text()
    fit = fit_multilevel(nels, "math", "homework", "schid", random_slope=True)
    assert round(fit.correlation, 1) == -0.8 and "about −0.8 on all ten\nschools" in text
    weights = shrinkage_weights(nels, fit)
    assert weights[["Lambda_00", "Lambda_11"]].max().max() > 1
    split = decompose_slope(nels, "math", "homework", "schid")
    stated = {
        f"{split.random_intercept_slope:.2f}": "2.21", f"{split.within:.2f}": "2.14",
        f"{split.blend.between:.2f}": "5.16", f"{split.pooled_slope:.2f}": "3.57",
        f"{split.pooled_blend.between:.2f}": "7.01",
        f"{100 * split.blend.within_weight:.0f} %": "98 %",
        f"{100 * split.blend.between_weight:.0f} %": "2 %",
        f"{100 * split.pooled_blend.within_weight:.0f} %": "71 %",
        f"{100 * split.pooled_blend.between_weight:.0f} %": "29 %",
    }
    for computed, in_text in stated.items():
        assert computed == in_text and in_text in text.replace("\n", " "), (computed, in_text)
    assert "*2 · Centring on Hsb82*" in text and "*3 · Within, between,\nblended*" in text
    from hlmlab.lesson_text import load_lesson

    titles = [section.title for section in load_lesson("macro_micro").values()]
    assert {"2 · Centring on Hsb82", "3 · Within, between, blended"} <= set(titles)


def test_the_page_captions_state_the_same_formulas():
    """The captions the NELS88 page will show under its school table and slope table
    (sections school-table-intercept, school-table-slope, slope-table) say what the table's
    columns satisfy (tests/core/test_report.py checks the columns against the formula)."""
    from hlmlab.lesson_text import load_lesson

    lesson = load_lesson("nels88_two_schools")
    intercept = lesson["school-table-intercept"].body
    assert "common-slope intercept* is mean\nmath − $\\hat\\gamma_{10}$ × mean homework" in intercept
    assert "λ × common-slope intercept + (1 − λ) × $\\hat\\gamma_{00}$" in intercept
    assert "not of its own OLS line" in intercept
    slope = lesson["school-table-slope"].body
    assert "they are not the weights" in slope and "$\\Lambda_j$ × own OLS line" in slope
    assert "Macro and micro" in lesson["slope-table"].body


# ---------------------------------------------------------------------------------------------
# The page's two panels

def replica_source(folder=None) -> nels88.DataSource:
    path = (folder or datasets.DATA_DIR) / "nels88_synthetic.csv"
    return nels88.DataSource(datasets.NELS88_REPLICA_LABEL, str(path), path.stat().st_mtime)


def test_panel_settings_past_the_largest_school_are_one_setting(nels):
    largest = int(nels[nels["schid"].isin(nels88.DECK_SCHOOLS)].groupby("schid").size().max())
    at = {n: nels88.Selection(replica_source(), nels88.DECK_SCHOOLS, n, True, True)
          for n in (largest, largest + 1, 70)}
    assert nels88.NUMBERS.snapped(at[70]) == nels88.NUMBERS.snapped(at[largest + 1]) == at[largest]
    drawn = at[70].drawn_as(("pooled",), 0.15, 2)
    # Before the lines step, neither the families nor the model change the chart.
    assert nels88.CHART.snapped(drawn) == nels88.CHART.snapped(
        nels88.ChartSettings(*(getattr(at[largest], f) for f in ("source", "schools",
                                                                  "per_school")),
                             random_slope=False, reml=False, families=(), jitter=0.15, step=2))
    assert nels88.CHART.snapped(at[70].drawn_as((), 0.3, 1)).jitter == 0.0  # step 1: no jitter


def test_the_numbers_panel_shows_the_deck_schools_as_lme4_fits_them(lme4):
    case = "nels88_deck2_rs_reml"
    selection = nels88.NUMBERS.snapped(
        nels88.Selection(replica_source(), nels88.DECK_SCHOOLS, 70, True, True))
    result = nels88.numbers(selection)
    shown = dict(re.findall(r'<th scope="row">(\w+)[^<]*</th><td class="num">([^<]+)</td>',
                            result.summary.variance.html))
    for quantity in ("tau00", "sigma2", "tau11"):
        assert float(shown[quantity].replace(",", "")) == pytest.approx(
            lme4(case, quantity), rel=1e-3), quantity
    assert result.summary.latex.startswith("\\begin{aligned}")
    assert "Boundary fit" in " ".join(m.headline for m in result.summary.messages)
    assert result.schools.html.count('<th scope="row">') == 2
    assert result.fixed is not None and "pooled OLS estimate" in result.fixed.html
    assert "MixedLM" in result.code.code and "lmer" in result.code.lme4


def test_the_chart_panel_draws_the_lines_asked_for_with_a_content_revision():
    settings = nels88.CHART.snapped(nels88.Selection(
        replica_source(), nels88.DECK_SCHOOLS, 10, False, True).drawn_as(("pooled",), 0.0, 4))
    chart = nels88.chart(settings)
    spec = json.loads(chart.json)
    metas = [t["meta"] for t in spec["data"]]
    assert metas == ["24725", "62821", "pooled:all"]
    assert spec["layout"]["datarevision"] == chart.revision
    assert nels88.chart(settings) == chart  # the same settings, the same figure and revision


def test_a_selection_the_pooled_line_cannot_fit_fails_in_words(tmp_path, nels):
    nels.assign(homework=2).to_csv(tmp_path / "nels88_synthetic.csv", index=False)
    selection = nels88.Selection(replica_source(tmp_path), nels88.DECK_SCHOOLS, 10, True, True)
    with pytest.raises(ModelDataError, match="homework"):
        nels88.numbers(selection)
    # The chart still shows the students, without lines.
    spec = json.loads(nels88.chart(selection.drawn_as(("pooled",), 0.0, 4)).json)
    assert [t["mode"] for t in spec["data"]] == ["markers", "markers"]


@pytest.mark.parametrize("random_slope", [False, True])
def test_the_numbers_panel_takes_every_school_apart(nels, lme4, random_slope):
    """Issue 12 items 1-3: the caption section by model, every school's formula (the core's
    shrinkage_latex, tested in test_report.py), Lambda_j only with a random slope, and the
    slope table whose random-intercept row is lme4's (case nels88_all_ri_reml)."""
    from hlmlab import report

    ids = tuple(sorted(nels["schid"].unique()))
    selection = nels88.NUMBERS.snapped(
        nels88.Selection(replica_source(), ids, 70, random_slope, True))
    result = nels88.numbers(selection)
    comparison = nels88.fitted_selection(selection)
    assert result.schools_section == ("school-table-slope" if random_slope
                                      else "school-table-intercept")
    assert result.formula_schools == ids
    for school in (24725, 7472):
        assert result.formula(school) == report.shrinkage_latex(
            comparison.multilevel, comparison.shrinkage, school)
    assert (result.weight_matrices is not None) == random_slope
    assert not result.slopes_problem
    ri_row = re.search(r'random intercept \(fixed slope\)</th><td class="num">([^<]+)</td>',
                       result.slopes.html)
    assert float(ri_row.group(1)) == pytest.approx(
        lme4("nels88_all_ri_reml", "fixef", "homework"), rel=1e-3)
    # lambda and the reliabilities to three decimals
    weight = "λ" if not random_slope else "reliability (slope)"
    headings = re.findall(r'<th scope="col">([^<]*)</th>', result.schools.html)
    position = headings.index(weight)
    first_row = re.findall(r"<t[hd][^>]*>([^<]*)</t[hd]>",
                           result.schools.html.split("<tbody>")[1].split("</tr>")[0])
    assert re.fullmatch(r"\d\.\d{3}", first_row[position])


def test_take_one_school_apart_opens_on_24725():
    assert nels88.default_school([7472, 24725, 62821]) == 24725
    assert nels88.default_school([7472, 62821]) == 7472
    assert nels88.default_school([]) is None
