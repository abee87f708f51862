"""hlmlab.report: LaTeX and display tables of fits.

The three-level table is checked against lme4 (tests/reference/lme4_reference.csv, case
jsp_three_level_reml); the rest against the fit objects they display.
"""

from __future__ import annotations

import re
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


def test_group_table_of_a_random_intercept_satisfies_the_lesson_s_formula(nels):
    """The columns of the NELS88 school table obey the formula the lesson states:
    multilevel intercept = λ × common-slope intercept + (1 − λ) × g00, with common-slope
    intercept = mean math − g10 × mean homework, and every school keeps the common slope."""
    comparison = compare_pooling(nels, "math", "homework", "schid", random_slope=False)
    fit = comparison.multilevel
    table = report.group_table(comparison.per_group, fit, comparison.shrinkage)
    assert list(table.columns) == ["n", "OLS intercept", "OLS slope", "mean math",
                                   "mean homework", "common-slope intercept", "λ",
                                   "multilevel intercept", "multilevel slope"]
    assert list(table.index) == sorted(nels["schid"].unique())
    g00, g10 = fit.fixed["Intercept"], fit.fixed["homework"]
    np.testing.assert_allclose(table["common-slope intercept"],
                               table["mean math"] - g10 * table["mean homework"], rtol=1e-12)
    np.testing.assert_allclose(
        table["λ"] * table["common-slope intercept"] + (1 - table["λ"]) * g00,
        table["multilevel intercept"], atol=1e-8)
    np.testing.assert_allclose(table["multilevel slope"], g10)
    assert table["λ"].between(0, 1).all()


def test_group_table_of_a_random_slope_names_reliabilities(nels):
    comparison = compare_pooling(nels, "math", "homework", "schid", random_slope=True)
    table = report.group_table(comparison.per_group, comparison.multilevel,
                               comparison.shrinkage)
    assert list(table.columns) == ["n", "OLS intercept", "OLS slope", "reliability (intercept)",
                                   "reliability (slope)", "multilevel intercept",
                                   "multilevel slope"]
    assert not any("λ" in c or "lambda" in c for c in table.columns)
    weights = report.weight_matrix_table(comparison.shrinkage)
    assert weights.columns[1:5].tolist() == [
        "Λ: intercept ← own intercept", "Λ: intercept ← own slope", "Λ: slope ← own intercept",
        "Λ: slope ← own slope"]
    np.testing.assert_allclose(weights["Λ: intercept ← own slope"],
                               comparison.shrinkage["Lambda_01"])
    plain = report.group_table(comparison.per_group, None, None)
    assert list(plain.columns) == ["n", "OLS intercept", "OLS slope"]


def _numbers(tex: str) -> list[float]:
    """The numbers of a LaTeX line, in order (signs attached to the number after them)."""
    flat = re.sub(r"\s+", " ", tex)
    return [float(x.replace(" ", "")) for x in re.findall(r"-\s?\d+\.\d+|\d+\.\d+", flat)]


@pytest.mark.parametrize("school", [24725, 62821, 7829])
def test_shrinkage_latex_random_intercept_reads_back_the_table(nels, school):
    """The formula with school j's numbers: the numbers are the table's (rounded as shown)
    and, read back, give the multilevel intercept to the rounding of the numbers shown."""
    comparison = compare_pooling(nels, "math", "homework", "schid", random_slope=False)
    fit, weights = comparison.multilevel, comparison.shrinkage
    tex = report.shrinkage_latex(fit, weights, school)
    assert r"\lambda_j\,(\bar y_j - \hat\gamma_{10}\,\bar x_j)" in tex
    assert rf"\text{{schid {school}}}" in tex
    steps = tex.split("\n")
    lam, y_bar, g10, x_bar, rest, g00 = _numbers(steps[1])
    row = weights.loc[school]
    assert (lam, y_bar, x_bar) == (round(row["lambda"], 3), round(row["y_mean"], 2),
                                   round(row["x_mean"], 2))
    assert (-g10, g00, rest) == (round(fit.fixed["homework"], 2),
                                 round(fit.fixed["Intercept"], 2), round(1 - row["lambda"], 3))
    shown = _numbers(steps[-1])[0]
    assert shown == round(fit.blups.loc[school, "intercept"], 2)
    assert lam * (y_bar + g10 * x_bar) + rest * g00 == pytest.approx(shown, abs=0.05)
    lam2, common, rest2, g00b = _numbers(steps[2])
    assert common == round(row["common_slope_intercept"], 2)
    assert lam2 * common + rest2 * g00b == pytest.approx(shown, abs=0.05)


@pytest.mark.parametrize("school", [24725, 62821])
def test_shrinkage_latex_random_slope_reads_back_lambda(nels, school):
    """Lambda_j, the school's own line, I - Lambda_j and gamma, read back from the LaTeX,
    give the school's multilevel line to the rounding of the numbers shown."""
    comparison = compare_pooling(nels, "math", "homework", "schid", random_slope=True)
    fit, weights = comparison.multilevel, comparison.shrinkage
    tex = report.shrinkage_latex(fit, weights, school)
    steps = tex.split("\n")
    values = _numbers(steps[1])
    assert len(values) == 12
    lam, own = np.array(values[:4]).reshape(2, 2), np.array(values[4:6])
    rest, gamma = np.array(values[6:10]).reshape(2, 2), np.array(values[10:12])
    row = weights.loc[school]
    np.testing.assert_allclose(lam, [[row["Lambda_00"], row["Lambda_01"]],
                                     [row["Lambda_10"], row["Lambda_11"]]], atol=5e-4)
    np.testing.assert_allclose(lam + rest, np.eye(2), atol=1e-3)
    result = np.array(_numbers(steps[-1])[:2])
    np.testing.assert_allclose(result, fit.blups.loc[school, ["intercept", "slope"]].to_numpy(float),
                               atol=5e-3)
    np.testing.assert_allclose(lam @ own + rest @ gamma, result, atol=0.1)


def test_shrinkage_latex_of_a_school_without_its_own_line(nels):
    data = nels.copy()
    data.loc[data["schid"] == 7472, "homework"] = 2.0
    comparison = compare_pooling(data, "math", "homework", "schid", random_slope=True)
    fit, weights = comparison.multilevel, comparison.shrinkage
    tex = report.shrinkage_latex(fit, weights, 7472)
    assert r"\frac{T z_j}" in tex
    steps = tex.split("\n")
    g0, g1, w0, w1, y_bar, minus_g0, minus_g1, c = _numbers(steps[1])
    assert c == 2.0 and (minus_g0, minus_g1) == (-g0, -g1)
    result = np.array(_numbers(steps[-1])[:2])
    residual = y_bar + minus_g0 + minus_g1 * c
    np.testing.assert_allclose([g0 + w0 * residual, g1 + w1 * residual], result, atol=0.05)


def test_full_information_ses_are_slightly_larger_than_lme4_s(nels):
    """statsmodels' bse_fe inverts the whole observed information matrix, whose fixed-effect
    and variance blocks are slightly correlated at the estimates, so its SEs are never smaller
    than lme4's fixed-effects block sigma2 (X'V^-1 X)^-1, and on NELS88 larger by under 1 %
    (lessons/glossary.md, fixed-effect-se)."""
    for slope in (False, True):
        for reml in (True, False):
            fit = fit_multilevel(nels, "math", "homework", "schid", random_slope=slope, reml=reml)
            table = report.fixed_effects_table(fit)
            lme4_se = table["SE (lme4: fixed-effects block)"]
            full = table["SE (statsmodels bse_fe: full information)"]
            assert (full >= lme4_se * (1 - 1e-9)).all()
            assert (full / lme4_se - 1).max() < 0.01


def test_variance_table_shows_the_fit_s_numbers(nels):
    fit = fit_multilevel(nels, "math", "homework", "schid", random_slope=True, reml=False)
    table = report.variance_table(fit)
    assert table.loc["tau00: variance of intercepts between groups", "value"] == fit.variance["tau00"]
    assert table.loc["intercept-slope correlation", "value"] == pytest.approx(fit.correlation)
    assert table.loc["log-likelihood", "value"] == fit.loglik and "AIC" in table.index
    assert table.loc["groups", "shown"] == "10"


def test_icc_row_says_residual_icc_when_the_model_has_predictors(nels):
    """Only the empty model's tau00 / (tau00 + sigma2) is the ICC; with predictors it is the
    residual (conditional) ICC, and with a random slope it holds where the predictor is 0
    (Snijders & Bosker 2012, sec. 3.3, 5.1). The row's value is that ratio of the fit's own
    variances in every case."""
    models = {
        "empty": (fit_multilevel(nels, "math", None, "schid", random_slope=False),
                  "ICC: tau00 / (tau00 + sigma2)"),
        "intercept": (fit_multilevel(nels, "math", "homework", "schid", random_slope=False),
                      "residual ICC (given the predictors): tau00 / (tau00 + sigma2)"),
        "slope": (fit_multilevel(nels, "math", "homework", "schid", random_slope=True),
                  "residual ICC (given the predictors): tau00 / (tau00 + sigma2), "
                  "at homework = 0"),
        "covariate only": (fit_multilevel(nels, "math", None, "schid", random_slope=False,
                                          covariates=("ses",)),
                           "residual ICC (given the predictors): tau00 / (tau00 + sigma2)"),
    }
    for name, (fit, label) in models.items():
        table = report.variance_table(fit)
        assert report.icc_label(fit) == label, name
        icc_rows = [row for row in table.index if "ICC" in row]
        assert icc_rows == [label], name
        v = fit.variance
        assert table.loc[label, "value"] == pytest.approx(v["tau00"] / (v["tau00"] + v["sigma2"]))


def test_three_level_tables_match_lme4(jsp, lme4):
    case = "jsp_three_level_reml"
    three = fit_three_level(jsp, "math", "school", "pupil", categorical=("year",))
    summary, fixed = report.three_level_tables(three, JSP_LEVELS)
    assert summary.index.tolist() == ["school variance (v_k)", "pupil variance (u_jk)",
                                      "occasion (residual) variance (e_ijk)",
                                      "REML log-likelihood", "records", "pupils", "schools"]
    for row, quantity in (("school variance (v_k)", "var_group"),
                          ("pupil variance (u_jk)", "var_subgroup"),
                          ("occasion (residual) variance (e_ijk)", "sigma2"),
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
    assert plain.index[:3].tolist() == ["school variance (v_k)", "pupil variance (u_jk)",
                                        "residual variance (e_ijk)"]


def test_three_level_latex_uses_the_table_s_subscripts(jsp):
    """One set of subscripts: i occasion, j pupil, k school; the LaTeX's random terms are
    the symbols the table's rows name, with the variances the table shows."""
    three = fit_three_level(jsp, "math", "school", "pupil", categorical=("year",))
    tex = report.three_level_latex(three, JSP_LEVELS)
    summary, _ = report.three_level_tables(three, JSP_LEVELS)
    lines = tex.split("\n")
    assert lines[0].startswith(r"\begin{aligned}\text{math}_{ijk} &=")
    assert r"\text{year[2]}_{ijk}" in lines[0] and "_{tij}" not in tex and "e_{tjk}" not in tex
    assert lines[1] == r"&\quad + v_{k} + u_{jk} + e_{ijk}\\"
    for line, (row, value) in zip(lines[2:], summary["value"].iloc[:3].items()):
        latex_symbol = line.split(" ")[0]
        plain = row[row.rindex("(") + 1:-1]
        assert latex_symbol.replace("{", "").replace("}", "") == plain
        assert f"N(0,\\ {value:.2f})" in line


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
