"""Small multilevel statistics: ICC, design effect, effective sample size, the
likelihood-ratio test of nested ML fits.

Formulas follow Snijders & Bosker (2012), *Multilevel Analysis*, 2nd ed.: the ICC (eq. 3.3),
the design effect 1 + (n - 1) ICC (eq. 3.17) and the deviance test (sec. 6.2). A fit's shrinkage weights, which need its
fixed effects too, are in :mod:`hlmlab.shrinkage`.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy import stats as sps

__all__ = ["LikelihoodRatio", "design_effect", "effective_sample_size", "icc",
           "likelihood_ratio_test", "naive_rejection_rate"]


def icc(tau00: float, sigma2: float) -> float:
    """Intraclass correlation tau00 / (tau00 + sigma2).

    Parameters
    ----------
    tau00 : between-group (intercept) variance.
    sigma2 : within-group residual variance.

    Returns
    -------
    float in [0, 1]; NaN when both variances are zero.
    """
    total = tau00 + sigma2
    return float(tau00 / total) if total > 0 else float("nan")


def design_effect(icc_value: float, cluster_size: float) -> float:
    """Kish's design effect 1 + (n - 1) ICC for clusters of size n.

    The factor by which clustering inflates the variance of a mean compared with a simple
    random sample of the same number of units.
    """
    return 1.0 + (cluster_size - 1.0) * icc_value


def naive_rejection_rate(design_effect_value: float, alpha: float = 0.05) -> float:
    """How often a test that ignores clustering rejects a true null hypothesis.

    A z-test that takes clustered units as independent uses a standard error sqrt(deff)
    times too small, so its z-value is sqrt(deff) times too large: it rejects whenever the
    correct z-value exceeds z_(1 - alpha/2) / sqrt(deff), with probability
    2 (1 - Phi(z_(1 - alpha/2) / sqrt(deff))). A large-sample approximation (the test's own
    variance estimate and t degrees of freedom are taken as exact); it gives ``alpha`` at
    deff = 1.

    Parameters
    ----------
    design_effect_value : the variance inflation of the estimate, e.g. :func:`design_effect`.
    alpha : the test's nominal level.

    Returns
    -------
    float, the rejection rate under the null.
    """
    from scipy.stats import norm

    critical = norm.ppf(1.0 - alpha / 2.0)
    return float(2.0 * norm.sf(critical / np.sqrt(design_effect_value)))


def effective_sample_size(n_total: float, icc_value: float, cluster_size: float) -> float:
    """The number of independent units worth as much as ``n_total`` clustered units."""
    return n_total / design_effect(icc_value, cluster_size)


class LikelihoodRatio(NamedTuple):
    """A likelihood-ratio test of two nested models: ``(statistic, df, p_value)``."""

    statistic: float
    df: int
    p_value: float


def likelihood_ratio_test(smaller, larger) -> LikelihoodRatio:
    """Deviance difference of two nested maximum-likelihood fits and its chi-square p-value.

    The statistic 2 (logLik larger - logLik smaller) is referred to a chi-square with as many
    degrees of freedom as extra parameters (Snijders & Bosker 2012, sec. 6.2). Only ML fits
    qualify when the fixed effects differ: a REML likelihood is that of residual contrasts
    that depend on the fixed-effects design, so the REML likelihoods of two models with
    different fixed effects are likelihoods of different data.

    Parameters
    ----------
    smaller, larger : fits with ``loglik``, ``n_params``, ``n_obs`` and ``reml`` (e.g.
        :class:`hlmlab.twolevel.MultilevelFit`), ``smaller`` nested in ``larger``.

    Returns
    -------
    LikelihoodRatio

    Raises
    ------
    ValueError
        When either fit is REML, the fits have different rows, or ``larger`` has no more
        parameters than ``smaller``.
    """
    if smaller.reml or larger.reml:
        raise ValueError("Compare models by likelihood only with ML fits (reml=False).")
    if smaller.n_obs != larger.n_obs:
        raise ValueError("The two fits must use the same rows.")
    df = larger.n_params - smaller.n_params
    if df < 1:
        raise ValueError("The larger model must have more parameters than the smaller one.")
    statistic = max(2.0 * (larger.loglik - smaller.loglik), 0.0)
    return LikelihoodRatio(float(statistic), int(df), float(sps.chi2.sf(statistic, df)))
