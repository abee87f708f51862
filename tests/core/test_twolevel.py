"""hlmlab.twolevel: the two-level mixed model (lme4 agreement is in reference/test_lme4_twolevel.py).

Expected values come from identities that hold whatever the data: a random-intercept BLUP is
the shrunken group-mean residual (Snijders & Bosker 2012, eq. 4.15), and lme4's parameter
count for AIC/BIC (fixed effects + covariance parameters + sigma).
"""

from __future__ import annotations

import numpy as np
import pytest

from hlmlab.diagnostics import StatsmodelsCheck
from hlmlab.errors import ModelDataError
from hlmlab.twolevel import fit_multilevel


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


def test_no_between_group_variance_gives_a_boundary_fit_explained_in_words(grouped_data):
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
    # On the boundary statsmodels' likelihood is not defined: it is not asked.
    assert fit.status.statsmodels is StatsmodelsCheck.NOT_ASKED
    assert fit.statsmodels_loglik is None and "boundary" in fit.optimizer_note


def test_an_interior_fit_is_confirmed_by_statsmodels(grouped_data):
    fit = fit_multilevel(grouped_data(n_groups=12, slope_sd=1.0, seed=5), "y", "x", "g")
    assert not fit.singular and fit.status.statsmodels is StatsmodelsCheck.AGREES
    assert fit.statsmodels_loglik == pytest.approx(fit.loglik, abs=1e-4)
    assert fit.status.loglik_gap <= 1e-4 and "confirms" in fit.optimizer_note
    assert fit.fixed_se_full_information is not None


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
def test_impossible_data_raise_a_readable_error(grouped_data, frame_change, message):
    with pytest.raises(ModelDataError, match=message):
        fit_multilevel(frame_change(grouped_data()), "y", "x", "g")


def test_a_random_slope_needs_a_predictor(grouped_data):
    with pytest.raises(ModelDataError, match="needs a predictor"):
        fit_multilevel(grouped_data(), "y", None, "g", random_slope=True)


def test_missing_values_are_dropped_and_counted(grouped_data):
    data = grouped_data()
    data.loc[[0, 5, 9], "x"] = np.nan
    fit = fit_multilevel(data, "y", "x", "g", random_slope=False)
    assert fit.rows_dropped == 3 and fit.n_obs == len(data) - 3


def test_aic_bic_follow_lme4_parameter_count(nels):
    fit = fit_multilevel(nels, "math", "homework", "schid", random_slope=True, reml=False)
    # 2 fixed effects + 3 covariance parameters + sigma = 6, as lme4 counts (df in logLik).
    assert fit.aic == pytest.approx(-2 * fit.loglik + 12)
    assert fit.bic == pytest.approx(-2 * fit.loglik + 6 * np.log(fit.n_obs))


def test_correlation_and_icc_follow_the_variances(nels):
    fit = fit_multilevel(nels, "math", "homework", "schid", random_slope=True)
    v = fit.variance
    assert fit.correlation == pytest.approx(v["tau01"] / np.sqrt(v["tau00"] * v["tau11"]))
    assert fit.icc == pytest.approx(v["tau00"] / (v["tau00"] + v["sigma2"]))
    intercept_only = fit_multilevel(nels, "math", "homework", "schid", random_slope=False)
    assert np.isnan(intercept_only.correlation) and np.isnan(intercept_only.variance["tau11"])
