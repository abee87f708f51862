"""hlmlab.stats: ICC, design effect, effective sample size and shrinkage weights, against the
formulas of Snijders & Bosker (2012) and Raudenbush & Bryk (2002, eq. 3.56)."""

from __future__ import annotations

import numpy as np
import pytest

from hlmlab import stats


def test_icc_and_design_effect_formulas():
    assert stats.icc(1.0, 4.0) == pytest.approx(0.2)
    assert stats.design_effect(0.2, 20) == pytest.approx(1 + 19 * 0.2)
    assert stats.effective_sample_size(400, 0.2, 20) == pytest.approx(400 / 4.8)
    assert np.isnan(stats.icc(0.0, 0.0))


def test_shrinkage_weights_are_reliabilities_of_each_schools_own_estimate(nels):
    """lambda = tau / (tau + sampling variance of the school's own OLS estimate)."""
    variance = {"tau00": 20.0, "tau11": 5.0, "tau01": -3.0, "sigma2": 60.0}
    slope = stats.shrinkage_weights(nels, "homework", "schid", variance, random_slope=True)
    intercept_only = stats.shrinkage_weights(nels, "homework", "schid", variance, random_slope=False)
    n = nels.groupby("schid").size()
    np.testing.assert_allclose(intercept_only["lambda_intercept"], 20 / (20 + 60 / n))
    for school, part in nels.groupby("schid"):
        X = np.column_stack([np.ones(len(part)), part["homework"]])
        sampling = 60.0 * np.diag(np.linalg.inv(X.T @ X))
        assert slope.loc[school, "lambda_intercept"] == pytest.approx(20 / (20 + sampling[0]))
        assert slope.loc[school, "lambda_slope"] == pytest.approx(5 / (5 + sampling[1]))
    assert slope[["lambda_intercept", "lambda_slope"]].stack().between(0, 1).all()


def test_naive_rejection_rate_is_alpha_without_clustering_and_grows_with_the_design_effect():
    from scipy.stats import norm

    naive_rejection_rate = stats.naive_rejection_rate
    assert naive_rejection_rate(1.0) == pytest.approx(0.05)
    assert naive_rejection_rate(1.0, alpha=0.01) == pytest.approx(0.01)
    # deff 4.8: z-values sqrt(4.8) times too large, so |Z| > 1.96 / sqrt(4.8) rejects.
    assert naive_rejection_rate(4.8) == pytest.approx(2 * norm.sf(1.959964 / np.sqrt(4.8)))
    rates = [naive_rejection_rate(d) for d in (1, 2, 5, 20)]
    assert rates == sorted(rates) and rates[-1] < 1
