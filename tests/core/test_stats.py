"""hlmlab.stats: ICC, design effect and effective sample size, against the formulas of
Snijders & Bosker (2012). Shrinkage weights: tests/core/test_shrinkage.py."""

from __future__ import annotations

import numpy as np
import pytest

from hlmlab import stats


def test_icc_and_design_effect_formulas():
    assert stats.icc(1.0, 4.0) == pytest.approx(0.2)
    assert stats.design_effect(0.2, 20) == pytest.approx(1 + 19 * 0.2)
    assert stats.effective_sample_size(400, 0.2, 20) == pytest.approx(400 / 4.8)
    assert np.isnan(stats.icc(0.0, 0.0))


def test_likelihood_ratio_test_needs_nested_ml_fits(nels):
    """2 (logLik larger - logLik smaller) on the difference in parameters; REML fits are
    refused because their likelihoods depend on the fixed-effects design."""
    from scipy import stats as sps

    from hlmlab.twolevel import fit_multilevel

    small = fit_multilevel(nels, "math", "homework", "schid", random_slope=False, reml=False)
    large = fit_multilevel(nels, "math", "homework", "schid", random_slope=False, reml=False,
                           covariates=("ses",))
    result = stats.likelihood_ratio_test(small, large)
    assert result.df == 1
    assert result.statistic == pytest.approx(2 * (large.loglik - small.loglik))
    assert result.p_value == pytest.approx(sps.chi2.sf(result.statistic, 1))
    reml = fit_multilevel(nels, "math", "homework", "schid", random_slope=False)
    with pytest.raises(ValueError, match="ML"):
        stats.likelihood_ratio_test(reml, large)
    with pytest.raises(ValueError, match="more parameters"):
        stats.likelihood_ratio_test(large, small)


def test_naive_rejection_rate_is_alpha_without_clustering_and_grows_with_the_design_effect():
    from scipy.stats import norm

    naive_rejection_rate = stats.naive_rejection_rate
    assert naive_rejection_rate(1.0) == pytest.approx(0.05)
    assert naive_rejection_rate(1.0, alpha=0.01) == pytest.approx(0.01)
    # deff 4.8: z-values sqrt(4.8) times too large, so |Z| > 1.96 / sqrt(4.8) rejects.
    assert naive_rejection_rate(4.8) == pytest.approx(2 * norm.sf(1.959964 / np.sqrt(4.8)))
    rates = [naive_rejection_rate(d) for d in (1, 2, 5, 20)]
    assert rates == sorted(rates) and rates[-1] < 1
