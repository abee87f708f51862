"""Unit tests of hlmlab.models and hlmlab.deviance (lme4 agreement is in test_reference_lme4)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hlmlab import datasets
from hlmlab.deviance import GroupedDesign, ProfiledDeviance
from hlmlab.models import (
    ModelDataError,
    _verify_optimum,
    compare_pooling,
    fit_multilevel,
    fit_per_group,
    fit_pooled,

)


@pytest.fixture(scope="module")
def nels():
    return datasets.load_nels88_replica()


def grouped_data(n_groups=8, n_per=15, tau=4.0, sigma=2.0, slope=1.5, slope_sd=0.0, seed=1):
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(n_groups), n_per)
    x = rng.normal(size=g.size)
    slopes = slope + rng.normal(0, slope_sd, n_groups)
    y = 10 + slopes[g] * x + rng.normal(0, np.sqrt(tau), n_groups)[g] + rng.normal(0, sigma, g.size)
    return pd.DataFrame({"y": y, "x": x, "g": g})


def test_random_intercept_blups_are_shrunken_group_means(nels):
    """For a random-intercept model u_j = lambda_j * (mean residual of group j), exactly
    (Snijders & Bosker 2012, eq. 4.15), with lambda_j = tau00 / (tau00 + sigma2 / n_j)."""
    fit = fit_multilevel(nels, "math", "homework", "schid", random_slope=False)
    tau00, sigma2 = fit.variance["tau00"], fit.variance["sigma2"]
    resid = nels["math"] - fit.fixed["Intercept"] - fit.fixed["homework"] * nels["homework"]
    mean_resid = resid.groupby(nels["schid"]).mean()
    n = nels.groupby("schid").size()
    expected = tau00 / (tau00 + sigma2 / n) * mean_resid
    np.testing.assert_allclose(fit.blups["u0"], expected, rtol=1e-8)
    np.testing.assert_allclose(fit.blups["intercept"], fit.fixed["Intercept"] + expected, rtol=1e-8)


def test_no_between_group_variance_gives_a_boundary_fit_explained_in_words():
    data = grouped_data(tau=0.0, seed=3)
    # Remove every trace of a group effect so the optimum is exactly on the boundary.
    data["y"] -= data.groupby("g")["y"].transform("mean") - data["y"].mean()
    fit = fit_multilevel(data, "y", "x", "g", random_slope=False)
    assert fit.converged and fit.singular
    assert fit.variance["tau00"] == pytest.approx(0.0, abs=1e-8)
    np.testing.assert_allclose(fit.blups["u0"], 0.0, atol=1e-8)
    headlines = [m.headline for m in fit.messages if m.severity == "warning"]
    assert any("intercept variance" in h and "zero" in h for h in headlines)
    assert fit.usable  # a boundary fit is a legitimate estimate: its lines are drawn


def test_verify_optimum_rejects_a_point_that_is_not_the_optimum():
    data = grouped_data()
    fit = fit_multilevel(data, "y", "x", "g", random_slope=True)
    X = np.column_stack([np.ones(len(data)), data["x"]])
    design = GroupedDesign.from_arrays(data["y"].to_numpy(), X, X, data["g"].to_numpy(), 8)
    deviance = ProfiledDeviance(design, reml=True)
    theta = np.array(fit.theta)
    assert _verify_optimum(deviance, theta)[0]
    assert not _verify_optimum(deviance, theta * 1.3 + 0.05)[0]


def test_displayed_statsmodels_code_reproduces_the_fit():
    """Running the `.code` a student copies gives the numbers the page shows."""
    data = grouped_data(n_groups=12, slope_sd=1.0, seed=5)
    fit = fit_multilevel(data, "y", "x", "g", random_slope=True, reml=True)
    assert not fit.singular
    namespace = {"data": data}
    exec(fit.code.replace("print(result.summary())", ""), namespace)  # our own generated text
    result = namespace["result"]
    np.testing.assert_allclose(result.fe_params, fit.fixed, rtol=1e-3)
    assert result.llf == pytest.approx(fit.loglik, rel=1e-4)


def test_code_of_a_boundary_fit_warns_that_statsmodels_cannot_reproduce_it(nels):
    two = nels[nels["schid"].isin([24725, 62821])]  # singular in lme4 too (reference case)
    fit = fit_multilevel(two, "math", "homework", "schid", random_slope=True)
    assert fit.singular and "on the boundary" in fit.code


def test_column_names_are_quoted_in_code_and_never_executed():
    """A column name is data, not code: the fit uses arrays, the shown code quotes it with
    patsy's Q(), and running that code looks the name up instead of calling anything."""
    names = {"y": "math score", "x": "__import__('os').getpid()"}
    data = grouped_data(n_groups=12, slope_sd=1.0, seed=5).rename(columns=names)
    fit = fit_multilevel(data, "math score", names["x"], "g")
    assert fit.converged
    assert fit.code.count("Q(") == 3 and "`math score`" in fit.lme4
    namespace = {"data": data}
    exec(fit.code.replace("print(result.summary())", ""), namespace)  # our own generated text
    np.testing.assert_allclose(namespace["result"].fe_params, fit.fixed, rtol=1e-3)


@pytest.mark.parametrize(
    ("frame_change", "message"),
    [
        (lambda d: d.assign(g=0), "at least two groups"),
        (lambda d: d.assign(x=1.0), "do not vary"),
        (lambda d: d.assign(y="high"), "must hold numbers"),
        (lambda d: d.drop(columns="x"), "no column named"),
        (lambda d: d.assign(y=3.0 + 2.0 * d["x"]), "exactly on one line"),
    ],
)
def test_impossible_data_raise_a_readable_error(frame_change, message):
    with pytest.raises(ModelDataError, match=message):
        fit_multilevel(frame_change(grouped_data()), "y", "x", "g")


def test_missing_values_are_dropped_and_counted():
    data = grouped_data()
    data.loc[[0, 5, 9], "x"] = np.nan
    fit = fit_multilevel(data, "y", "x", "g", random_slope=False)
    assert fit.rows_dropped == 3 and fit.n_obs == len(data) - 3


def test_pooled_and_per_group_lines_are_ols():
    data = grouped_data()
    pooled = fit_pooled(data, "y", "x")
    slope, intercept = np.polyfit(data["x"], data["y"], 1)
    assert pooled.coef["x"] == pytest.approx(slope) and pooled.coef["Intercept"] == pytest.approx(intercept)
    per = fit_per_group(data, "y", "x", "g")
    for g, part in data.groupby("g"):
        s, i = np.polyfit(part["x"], part["y"], 1)
        assert per.table.loc[g, "slope"] == pytest.approx(s)
        assert per.table.loc[g, "intercept"] == pytest.approx(i)


def test_a_group_without_spread_in_x_gets_no_separate_line_but_a_message():
    data = grouped_data()
    data.loc[data["g"] == 2, "x"] = 0.5
    per = fit_per_group(data, "y", "x", "g")
    assert np.isnan(per.table.loc[2, "slope"])
    assert 2 not in per.coefficients_by_group().index
    assert "No separate line" in per.messages[0].headline


def test_fitted_lines_evaluate_each_family_over_its_range():
    data = grouped_data()
    comparison = compare_pooling(data, "y", "x", "g", random_slope=True)
    lines = comparison.lines
    assert set(lines["family"]) == {"pooled", "per_group", "multilevel"}
    ml = comparison.multilevel.blups
    for g, part in lines[lines["family"] == "multilevel"].groupby("group"):
        np.testing.assert_allclose(part["y"], ml.loc[g, "intercept"] + ml.loc[g, "slope"] * part["x"])
        assert part["x"].min() == pytest.approx(data.loc[data["g"] == g, "x"].min())
    pooled = lines[lines["family"] == "pooled"]
    assert pooled["x"].min() == pytest.approx(data["x"].min())


def test_unusable_multilevel_fit_draws_no_multilevel_lines():
    data = grouped_data()
    comparison = compare_pooling(data[data["g"] == 0], "y", "x", "g")
    assert comparison.multilevel is None and "two groups" in comparison.error
    assert "multilevel" not in set(comparison.lines["family"])


def test_random_slope_with_two_groups_is_a_teaching_point(nels):
    two = nels[nels["schid"].isin([24725, 62821])]
    fit = fit_multilevel(two, "math", "homework", "schid", random_slope=True)
    assert any(m.severity == "teaching" and "Only 2 groups" in m.headline for m in fit.messages)


def test_aic_bic_follow_lme4_parameter_count(nels):
    fit = fit_multilevel(nels, "math", "homework", "schid", random_slope=True, reml=False)
    # 2 fixed effects + 3 covariance parameters + sigma = 6, as lme4 counts (df in logLik).
    assert fit.aic == pytest.approx(-2 * fit.loglik + 12)
    assert fit.bic == pytest.approx(-2 * fit.loglik + 6 * np.log(fit.n_obs))


def test_three_level_partition_splits_the_total_variance():
    from hlmlab import datasets
    from hlmlab.models import fit_three_level

    jsp = datasets.load_jsp_replica()
    fit = fit_three_level(jsp, "math", "school", "pupil", categorical=("year",))
    part = fit.partition("Three levels", {"school": "school", "pupil": "pupil",
                                          "residual": "occasion"})
    assert list(part["level"]) == ["school", "pupil", "occasion"]
    assert set(part["model"]) == {"Three levels"}
    total = fit.variance["school"] + fit.variance["pupil"] + fit.variance["residual"]
    np.testing.assert_allclose(part["variance"], [fit.variance["school"], fit.variance["pupil"],
                                                  fit.variance["residual"]])
    np.testing.assert_allclose(part["share"], part["variance"] / total, rtol=1e-12)
    assert part["share"].sum() == pytest.approx(1.0)
