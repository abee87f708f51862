"""hlmlab.analyses.nels88_two_schools and its figure: the NELS88 lesson's choices.

The comparison of the deck's two schools is checked against lme4 (reference case
nels88_deck2_rs_reml: random slope, REML, on the same rows)."""

from __future__ import annotations

import pytest

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
