"""Small multilevel statistics: ICC, design effect, effective sample size, shrinkage weights.

Formulas follow Snijders & Bosker (2012), *Multilevel Analysis*, 2nd ed.: the ICC (eq. 3.3),
the design effect 1 + (n - 1) ICC (eq. 3.17), and the shrinkage weight of a group's mean
(eq. 4.15); the random-slope analogue is Raudenbush & Bryk (2002), eq. 3.56.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np
import pandas as pd

__all__ = ["design_effect", "effective_sample_size", "icc", "naive_rejection_rate",
           "shrinkage_weights"]


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


def shrinkage_weights(
    data: pd.DataFrame,
    predictor: str | None,
    group: str,
    variance: Mapping[str, float],
    random_slope: bool,
) -> pd.DataFrame:
    """How much weight each group's own OLS estimate gets in its multilevel estimate.

    Random intercept: lambda_j = tau00 / (tau00 + sigma2 / n_j), exactly the factor by which
    the group's mean residual is shrunk (Snijders & Bosker 2012, eq. 4.15).

    Random slope: the reliability of each OLS coefficient, Raudenbush & Bryk (2002, eq. 3.56):
    lambda_kj = tau_kk / (tau_kk + V_kkj) with V_j = sigma2 (X_j'X_j)^-1, the sampling variance
    of the group's own OLS coefficient. It reads like the random-intercept weight (between 0
    and 1, falling as the group's own estimate gets noisier); the empirical Bayes estimate
    itself uses the whole matrix T (T + V_j)^-1, whose off-diagonal terms mix intercept and
    slope when they are correlated.

    Parameters
    ----------
    data : the rows that were fitted.
    predictor : the level-1 predictor (None for the empty model).
    group : grouping column.
    variance : mapping with ``tau00, tau11, tau01, sigma2`` (as ``MultilevelFit.variance``).
    random_slope : whether the model has a random slope.

    Returns
    -------
    DataFrame indexed by group with ``n, lambda_intercept`` and, for random-slope models,
    ``lambda_slope`` (NaN where the predictor does not vary within the group). 1 means the
    group keeps its own estimate, 0 complete pooling.
    """
    sigma2, tau00 = variance["sigma2"], variance["tau00"]
    rows = {}
    for label, part in data.groupby(group, sort=True):
        n = len(part)
        if not random_slope:
            rows[label] = {"n": n, "lambda_intercept": tau00 / (tau00 + sigma2 / n)}
            continue
        x = part[predictor].to_numpy(dtype=float)
        sxx = float(np.sum((x - x.mean()) ** 2))
        if sxx <= 0:
            rows[label] = {"n": n, "lambda_intercept": np.nan, "lambda_slope": np.nan}
            continue
        # Diagonal of sigma2 (X'X)^-1 for X = [1, x]: intercept and slope sampling variances.
        var_intercept = sigma2 * (1.0 / n + x.mean() ** 2 / sxx)
        var_slope = sigma2 / sxx
        rows[label] = {
            "n": n,
            "lambda_intercept": tau00 / (tau00 + var_intercept),
            "lambda_slope": variance["tau11"] / (variance["tau11"] + var_slope),
        }
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = group
    return table
