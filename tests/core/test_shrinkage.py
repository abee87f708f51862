"""hlmlab.shrinkage: the empirical Bayes identities the NELS88 lesson states, checked against
the lines the lesson draws (the fit's BLUP lines, ``fixed + u``).

The fits themselves are checked against lme4 in tests/reference/test_lme4_twolevel.py
(cases nels88_all_* and nels88_deck2_*, the same rows and models as here), so an identity
that holds for them holds for the numbers lme4 gives. Formulas: Snijders & Bosker (2012,
sec. 4.8) for the random intercept; Raudenbush & Bryk (2002, eq. 3.54-3.56) for the random
slope.
"""

from __future__ import annotations

import dataclasses
import numpy as np
import pandas as pd
import pytest

from hlmlab.analyses.nels88_two_schools import DECK_SCHOOLS
from hlmlab.shrinkage import SHRINKAGE_COLUMNS, shrinkage_weights
from hlmlab.twolevel import fit_multilevel

SELECTIONS = {"all ten schools": None, "the deck's two schools": DECK_SCHOOLS}


def rows(nels, selection):
    schools = SELECTIONS[selection]
    return nels if schools is None else nels[nels["schid"].isin(schools)]


@pytest.mark.parametrize("reml", [True, False], ids=["REML", "ML"])
@pytest.mark.parametrize("selection", list(SELECTIONS))
def test_random_intercept_line_is_lambda_times_the_common_slope_intercept(nels, selection, reml):
    """u0j = lambda_j (ybar_j - g00 - g10 xbar_j): the school keeps the common slope, and its
    intercept is lambda_j (ybar_j - g10 xbar_j) + (1 - lambda_j) g00, to 1e-8 of the BLUPs,
    at the fit's own tau00, sigma2 and (GLS) fixed effects."""
    data = rows(nels, selection)
    fit = fit_multilevel(data, "math", "homework", "schid", random_slope=False, reml=reml)
    table = shrinkage_weights(data, fit)
    assert tuple(table.columns) == SHRINKAGE_COLUMNS["random intercept"]
    assert table.index.tolist() == fit.blups.index.tolist()
    g00, g10 = fit.fixed["Intercept"], fit.fixed["homework"]
    tau00, sigma2 = fit.variance["tau00"], fit.variance["sigma2"]
    by_school = data.groupby("schid")
    n = by_school.size()
    np.testing.assert_array_equal(table["n"], n)
    np.testing.assert_allclose(table["y_mean"], by_school["math"].mean(), rtol=1e-12)
    np.testing.assert_allclose(table["x_mean"], by_school["homework"].mean(), rtol=1e-12)
    np.testing.assert_allclose(table["lambda"], tau00 / (tau00 + sigma2 / n), rtol=1e-12)
    np.testing.assert_allclose(table["common_slope_intercept"],
                               table["y_mean"] - g10 * table["x_mean"], rtol=1e-12)
    # The identity, against the lines drawn.
    np.testing.assert_allclose(
        table["lambda"] * table["common_slope_intercept"] + (1 - table["lambda"]) * g00,
        fit.blups["intercept"], rtol=0, atol=1e-8)
    np.testing.assert_allclose(table["lambda"] * table["mean_residual"], fit.blups["u0"],
                               rtol=0, atol=1e-8)
    np.testing.assert_allclose(fit.blups["slope"], g10, rtol=0, atol=1e-12)
    np.testing.assert_allclose(table["intercept"], fit.blups["intercept"], rtol=0, atol=1e-8)


def test_the_school_s_own_ols_intercept_is_not_what_is_shrunk(nels):
    """The old text said the multilevel intercept averages the school's own OLS intercept
    and g00 with weight lambda_j; on the replica that misses the drawn lines by points."""
    fit = fit_multilevel(nels, "math", "homework", "schid", random_slope=False)
    table = shrinkage_weights(nels, fit)
    own = nels.groupby("schid").apply(
        lambda s: np.polyfit(s["homework"], s["math"], 1)[1], include_groups=False)
    wrong = table["lambda"] * own + (1 - table["lambda"]) * fit.fixed["Intercept"]
    assert (wrong - fit.blups["intercept"]).abs().max() > 5


@pytest.mark.parametrize("reml", [True, False], ids=["REML", "ML"])
@pytest.mark.parametrize("selection", list(SELECTIONS))
def test_random_slope_line_is_lambda_j_times_the_own_line(nels, selection, reml):
    """beta*_j = Lambda_j betahat_j + (I - Lambda_j) gamma, Lambda_j = T (T + sigma2
    (X_j'X_j)^-1)^-1, for every school (all have two different homework values), to 1e-6
    of the BLUP lines; the deck's two schools give a boundary fit, where it holds too."""
    data = rows(nels, selection)
    fit = fit_multilevel(data, "math", "homework", "schid", random_slope=True, reml=reml)
    table = shrinkage_weights(data, fit)
    assert tuple(table.columns) == SHRINKAGE_COLUMNS["random slope"]
    assert table["full_rank"].all()
    v = fit.variance
    T = np.array([[v["tau00"], v["tau01"]], [v["tau01"], v["tau11"]]])
    gamma = fit.fixed[["Intercept", "homework"]].to_numpy()
    for school, part in data.groupby("schid"):
        X = np.column_stack([np.ones(len(part)), part["homework"]])
        own = np.linalg.lstsq(X, part["math"].to_numpy(), rcond=None)[0]
        lam = T @ np.linalg.inv(T + v["sigma2"] * np.linalg.inv(X.T @ X))
        row = table.loc[school]
        np.testing.assert_allclose([row["own_intercept"], row["own_slope"]], own, rtol=1e-10)
        np.testing.assert_allclose(
            [[row["Lambda_00"], row["Lambda_01"]], [row["Lambda_10"], row["Lambda_11"]]],
            lam, rtol=1e-10, atol=1e-12)
        drawn = fit.blups.loc[school, ["intercept", "slope"]].to_numpy(float)
        np.testing.assert_allclose(lam @ own + (np.eye(2) - lam) @ gamma, drawn, atol=1e-6)
        np.testing.assert_allclose([row["intercept"], row["slope"]], drawn, atol=1e-6)


def test_lambda_j_diagonal_is_not_the_reliabilities(nels):
    """With tau01 != 0 (correlation about -0.8 here) the diagonal of Lambda_j differs from
    tau_kk / (tau_kk + V_kk,j); a diagonal entry can even exceed 1. They coincide when T and
    V_j are both diagonal (tau01 = 0 and the school's homework mean at 0)."""
    fit = fit_multilevel(nels, "math", "homework", "schid", random_slope=True)
    assert fit.correlation == pytest.approx(-0.8, abs=0.05)
    table = shrinkage_weights(nels, fit)
    gap = np.abs(np.r_[table["Lambda_00"] - table["reliability_intercept"],
                       table["Lambda_11"] - table["reliability_slope"]])
    assert gap.max() > 0.05
    assert table["Lambda_11"].max() > 1
    assert table[["reliability_intercept", "reliability_slope"]].stack().between(0, 1).all()
    # Reliabilities are tau_kk / (tau_kk + V_kk,j), V_j = sigma2 (X_j'X_j)^-1.
    v = fit.variance
    for school, part in nels.groupby("schid"):
        X = np.column_stack([np.ones(len(part)), part["homework"]])
        sampling = v["sigma2"] * np.diag(np.linalg.inv(X.T @ X))
        assert table.loc[school, "reliability_intercept"] == pytest.approx(
            v["tau00"] / (v["tau00"] + sampling[0]))
        assert table.loc[school, "reliability_slope"] == pytest.approx(
            v["tau11"] / (v["tau11"] + sampling[1]))
    # Centred within schools and with a diagonal T the two agree.
    centred = nels.assign(homework=nels["homework"] - nels.groupby("schid")["homework"]
                          .transform("mean"))
    diagonal = fit_multilevel(centred, "math", "homework", "schid", random_slope=True)
    agreed = shrinkage_weights(
        centred, dataclasses.replace(diagonal, variance={**diagonal.variance, "tau01": 0.0}))
    np.testing.assert_allclose(agreed["Lambda_00"], agreed["reliability_intercept"], rtol=1e-10)
    np.testing.assert_allclose(agreed["Lambda_11"], agreed["reliability_slope"], rtol=1e-10)
    np.testing.assert_allclose(agreed[["Lambda_01", "Lambda_10"]], 0.0, atol=1e-12)


def test_a_school_without_its_own_line_moves_intercept_and_slope_together(nels):
    """A school whose students all report the same homework c has no OLS line and no
    Lambda_j; its line is gamma + T z (ybar - z'gamma) / (z'T z + sigma2 / n), z = (1, c)."""
    data = nels.copy()
    flat = data["schid"] == 7472
    data.loc[flat, "homework"] = 2.0
    fit = fit_multilevel(data, "math", "homework", "schid", random_slope=True)
    table = shrinkage_weights(data, fit)
    row = table.loc[7472]
    assert not row["full_rank"] and table.drop(index=7472)["full_rank"].all()
    assert np.isnan([row["Lambda_00"], row["own_slope"], row["reliability_slope"]]).all()
    v = fit.variance
    T = np.array([[v["tau00"], v["tau01"]], [v["tau01"], v["tau11"]]])
    z = np.array([1.0, 2.0])
    gamma = fit.fixed[["Intercept", "homework"]].to_numpy()
    n = flat.sum()
    weight = T @ z / (z @ T @ z + v["sigma2"] / n)
    np.testing.assert_allclose([row["weight_intercept"], row["weight_slope"]], weight)
    expected = gamma + weight * (data.loc[flat, "math"].mean() - z @ gamma)
    drawn = fit.blups.loc[7472, ["intercept", "slope"]].to_numpy(float)
    np.testing.assert_allclose(expected, drawn, atol=1e-6)
    np.testing.assert_allclose([row["intercept"], row["slope"]], drawn, atol=1e-6)
    assert table.drop(index=7472)["weight_intercept"].isna().all()


def test_two_students_per_school_still_make_own_lines(nels):
    """With two students of different homework a school's OLS line goes through both points
    (no residual degrees of freedom, so PerGroupFit reports none), and the identity holds."""
    from hlmlab.analyses.nels88_two_schools import select_rows
    data = select_rows(nels, sorted(nels["schid"].unique()), 3)
    fit = fit_multilevel(data, "math", "homework", "schid", random_slope=True)
    table = shrinkage_weights(data, fit)
    np.testing.assert_allclose(table[["intercept", "slope"]], fit.blups[["intercept", "slope"]],
                               atol=1e-6)


def test_empty_model_and_covariates(nels):
    """The empty model shrinks the school mean: lambda_j ybar_j + (1 - lambda_j) g00. A
    covariate without a random slope is taken off the outcome before the same identity."""
    empty = fit_multilevel(nels, "math", None, "schid", random_slope=False)
    table = shrinkage_weights(nels, empty)
    assert table["x_mean"].isna().all()
    np.testing.assert_allclose(
        table["lambda"] * nels.groupby("schid")["math"].mean()
        + (1 - table["lambda"]) * empty.fixed["Intercept"], empty.blups["intercept"], atol=1e-8)
    for slope in (False, True):
        fit = fit_multilevel(nels, "math", "homework", "schid", random_slope=slope,
                             covariates=("ses",))
        table = shrinkage_weights(nels, fit)
        np.testing.assert_allclose(table[["intercept", "slope"]],
                                   fit.blups[["intercept", "slope"]], atol=1e-6)


def test_rows_with_missing_values_are_left_out_as_the_fit_leaves_them(nels):
    data = nels.copy()
    data.loc[data.index[:7], "homework"] = np.nan
    fit = fit_multilevel(data, "math", "homework", "schid", random_slope=False)
    table = shrinkage_weights(data, fit)
    assert table["n"].sum() == fit.n_obs == len(nels) - 7
    np.testing.assert_allclose(table["intercept"], fit.blups["intercept"], atol=1e-8)
    assert isinstance(table, pd.DataFrame)
