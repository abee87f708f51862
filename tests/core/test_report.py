"""hlmlab.report: LaTeX and display tables of fits.

The three-level table is checked against lme4 (tests/reference/lme4_reference.csv, case
jsp_three_level_reml); the rest against the fit objects they display.
"""

from __future__ import annotations

import types

import numpy as np
import pandas as pd
import pytest

from hlmlab import report
from hlmlab.pooling import compare_pooling
from hlmlab.ranking import rank_changes, rank_groups
from hlmlab.threelevel import fit_three_level
from hlmlab.twolevel import fit_multilevel

JSP_LEVELS = {"school": "school", "pupil": "pupil", "residual": "occasion"}


def test_model_latex_carries_the_estimates(nels):
    fit = fit_multilevel(nels, "math", "homework", "schid", random_slope=True)
    tex = report.model_latex(fit)
    assert f"{fit.fixed['Intercept']:.2f}" in tex and f"{fit.variance['tau11']:.2f}" in tex
    assert r"\text{homework}_{ij}" in tex and "pmatrix" in tex
    assert report._tex_name("a_b%c") == r"\text{a\_b\%c}"


def test_group_table_lines_up_ols_multilevel_and_lambda(nels):
    comparison = compare_pooling(nels, "math", "homework", "schid", random_slope=False)
    table = report.group_table(comparison.per_group, comparison.multilevel, comparison.shrinkage)
    assert list(table.index) == sorted(nels["schid"].unique())
    assert table["lambda (intercept)"].between(0, 1).all()
    # Multilevel intercepts lie between each school's own line and the overall one.
    own = table["OLS intercept"] + table["OLS slope"] * 0  # at homework = 0
    fixed = comparison.multilevel.fixed["Intercept"]
    ml = table["multilevel intercept"]
    assert ((ml - fixed).abs() <= (own - fixed).abs() + 1e-9).mean() > 0.5


def test_variance_table_shows_the_fit_s_numbers(nels):
    fit = fit_multilevel(nels, "math", "homework", "schid", random_slope=True, reml=False)
    table = report.variance_table(fit)
    assert table.loc["tau00: variance of intercepts between groups", "value"] == fit.variance["tau00"]
    assert table.loc["intercept-slope correlation", "value"] == pytest.approx(fit.correlation)
    assert table.loc["log-likelihood", "value"] == fit.loglik and "AIC" in table.index
    assert table.loc["groups", "shown"] == "10"


def test_three_level_tables_match_lme4(jsp, lme4):
    case = "jsp_three_level_reml"
    three = fit_three_level(jsp, "math", "school", "pupil", categorical=("year",))
    summary, fixed = report.three_level_tables(three, JSP_LEVELS)
    assert summary.index.tolist() == ["school variance", "pupil variance",
                                      "occasion (residual) variance", "REML log-likelihood",
                                      "records", "pupils", "schools"]
    for row, quantity in (("school variance", "var_group"), ("pupil variance", "var_subgroup"),
                          ("occasion (residual) variance", "sigma2"),
                          ("REML log-likelihood", "loglik")):
        assert summary.loc[row, "value"] == pytest.approx(lme4(case, quantity), rel=1e-3)
        assert summary.loc[row, "shown"] == f"{summary.loc[row, 'value']:,.4f}"
    assert summary.loc["REML log-likelihood", "shown"].startswith("-10,01")
    assert summary.loc["records":, "shown"].tolist() == [
        f"{len(jsp):,d}", f"{jsp['pupil'].nunique():,d}", str(jsp["school"].nunique())]
    assert summary.loc["records", "shown"] == "3,236"
    assert list(fixed.columns) == ["estimate", "SE"]
    for term in ("Intercept", "year[1]", "year[2]"):
        assert fixed.loc[term, "SE"] == pytest.approx(lme4(case, "se", term), rel=1e-3)
    # Without words for the levels, the columns name them.
    plain, _ = report.three_level_tables(three)
    assert plain.index[:3].tolist() == ["school variance", "pupil variance", "residual variance"]


def test_ranking_tables_for_display():
    blups = pd.DataFrame({"n": 10, "u0": [2.0, -3.0, 0.5, 0.0], "u0_sd": [0.5, 1.0, 1.0, 0.2]},
                         index=pd.Index(list("ABCD"), name="school"))
    table = rank_groups(types.SimpleNamespace(blups=blups),
                        raw_means=pd.Series({"A": 20, "B": 30, "C": 25, "D": 10}))
    shown = report.ranking_table(table)
    assert list(shown.columns) == ["n", "raw mean", "rank by raw mean", "effect (mode)",
                                   "95% lower", "95% upper", "rank", "rank range from",
                                   "rank range to"]
    assert shown.index.tolist() == ["A", "C", "D", "B"]
    assert shown["effect (mode)"].tolist() == [2.0, 0.5, 0.0, -3.0]
    assert shown.loc["B", "rank by raw mean"] == 1 and shown.loc["A", "95% lower"] == table.loc["A", "lower"]
    labels = list("ABCDEFGHIJ")
    changes = rank_changes(pd.DataFrame({"rank": range(1, 11)}, index=labels),
                           pd.DataFrame({"rank": range(10, 0, -1)}, index=labels))
    moved = report.rank_changes_table(changes)
    assert list(moved.columns) == ["rank, not adjusted", "rank, adjusted", "places moved up",
                                   "places moved"]
    assert len(moved) == 8 and moved.index[:2].tolist() == ["A", "J"]
    assert moved.loc["A"].tolist() == [10, 1, 9, 9]
    assert len(report.rank_changes_table(changes, top=3)) == 3
    assert np.isfinite(shown.to_numpy(dtype=float)).all()
