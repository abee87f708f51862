"""How a two-level model's group lines are made from each group's own data and the fixed
effects: the empirical Bayes weights, computed from a fit and exact for it.

A multilevel fit's group line (fixed effects plus the group's conditional modes, what
``MultilevelFit.blups`` holds and the lessons draw) is a weighted average. Which average
depends on the model, and the lessons must say the right one:

Random intercept, ``y_ij = g00 + g10 x_ij + u0j + e_ij``
    The group keeps the common slope g10. What is shrunk is the group's mean residual from
    the common-slope line (Snijders & Bosker 2012, sec. 4.8; Raudenbush & Bryk 2002,
    sec. 3.5)::

        u0j = lambda_j (ybar_j - g00 - g10 xbar_j),  lambda_j = tau00 / (tau00 + sigma2 / n_j)

    so the group's intercept is ``lambda_j (ybar_j - g10 xbar_j) + (1 - lambda_j) g00``: a
    weighted average of the group's intercept *under the common slope* and the overall
    intercept, not of the group's own OLS intercept.

Random intercept and slope (``Z_j = X_j = [1, x]``)
    For a group whose ``X_j`` has full rank (two different x values) the exact identity is
    (Raudenbush & Bryk 2002, eq. 3.54-3.56)::

        beta*_j = Lambda_j betahat_j + (I - Lambda_j) gamma,
        Lambda_j = T (T + sigma2 (X_j'X_j)^-1)^-1

    with ``betahat_j`` the group's own OLS line and ``T`` the random-effects covariance. Its
    diagonal is not the reliabilities ``tau_kk / (tau_kk + V_kk,j)`` (``V_j = sigma2
    (X_j'X_j)^-1``): they coincide only when both T and V_j are diagonal (tau01 = 0 and the
    group's mean of x at 0). A group whose x never varies has no OLS line; its data fix only
    its mean at its one x value c, and the model moves intercept and slope together::

        beta*_j = gamma + T z (ybar_j - z'gamma) / (z'T z + sigma2 / n_j),  z = (1, c)

Both identities hold exactly for every value of T, sigma2 and gamma, so in particular at
the REML or ML estimates with gamma their generalised least squares estimate, which is
what lme4's (and this app's) conditional modes are computed at. Fixed covariates without a
random slope are subtracted first (``y - w'gamma_w`` in place of ``y``). No Streamlit.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from hlmlab.frames import prepare_columns
from hlmlab.twolevel import MultilevelFit

__all__ = ["SHRINKAGE_COLUMNS", "shrinkage_weights"]

#: The columns of :func:`shrinkage_weights`, by model.
SHRINKAGE_COLUMNS = {
    "random intercept": ("n", "y_mean", "x_mean", "mean_residual", "common_slope_intercept",
                         "lambda", "intercept", "slope"),
    "random slope": ("n", "y_mean", "x_mean", "mean_residual", "full_rank", "own_intercept",
                     "own_slope", "Lambda_00", "Lambda_01", "Lambda_10", "Lambda_11",
                     "reliability_intercept", "reliability_slope", "weight_intercept",
                     "weight_slope", "intercept", "slope"),
}


def shrinkage_weights(data: pd.DataFrame, fit: MultilevelFit) -> pd.DataFrame:
    """Per group: the inputs, the empirical Bayes weights and the group line they give.

    Parameters
    ----------
    data : the rows the fit was made from (rows with a missing value in the model's columns
        are left out, as the fit left them out).
    fit : a two-level fit of ``data`` (random intercept, or random intercept and slope).

    Returns
    -------
    DataFrame indexed by group (sorted, as ``fit.blups``), with the columns of
    ``SHRINKAGE_COLUMNS`` for the fit's model:

    ``n, y_mean, x_mean, mean_residual``
        The group's size, mean outcome (less the covariates' fixed part, if any), mean
        predictor (NaN for the empty model) and mean residual from the fixed line,
        ``y_mean - g00 - g10 x_mean``.
    ``common_slope_intercept, lambda`` (random intercept)
        ``y_mean - g10 x_mean``, the intercept of the line with the common slope through the
        group's means, and lambda_j = tau00 / (tau00 + sigma2 / n_j).
    ``full_rank, own_intercept, own_slope`` (random slope)
        Whether x varies in the group, and its own OLS line (NaN when it does not).
    ``Lambda_00, Lambda_01, Lambda_10, Lambda_11`` (random slope)
        The entries of Lambda_j (row, column; 0 = intercept, 1 = slope), NaN for a group
        without full rank.
    ``reliability_intercept, reliability_slope`` (random slope)
        tau_kk / (tau_kk + V_kk,j), the reliability of the group's own OLS intercept and
        slope (Raudenbush & Bryk 2002, eq. 3.56); NaN without full rank.
    ``weight_intercept, weight_slope`` (random slope)
        For a group without full rank, T z / (z'T z + sigma2 / n_j): how much of its mean
        residual moves its intercept and its slope; NaN for a group with full rank.
    ``intercept, slope``
        The group's line from the formulas above: equal to ``fit.blups`` (tested to 1e-8).
    """
    slope_name = fit.predictor
    covariates = list(fit.covariates)
    x_columns = ([slope_name] if slope_name else []) + covariates
    frame, _ = prepare_columns(data, [fit.outcome, *x_columns, fit.group],
                               [fit.outcome, *x_columns])
    gamma = fit.fixed
    # The covariates' fixed part is no group's own business: take it off the outcome.
    response = frame[fit.outcome].to_numpy(float)
    for column in covariates:
        response = response - gamma[column] * frame[column].to_numpy(float)
    x = frame[slope_name].to_numpy(float) if slope_name else np.zeros(len(frame))
    grouped = pd.DataFrame({"r": response, "x": x, "xx": x * x, "xr": x * response,
                            "g": frame[fit.group].to_numpy()}).groupby("g", sort=True)
    sums = grouped.sum()
    n = grouped.size().to_numpy(float)
    y_mean = sums["r"].to_numpy() / n
    x_mean = sums["x"].to_numpy() / n
    slope = gamma[slope_name] if slope_name else 0.0
    shared = {"n": n.astype(int), "y_mean": y_mean,
              "x_mean": x_mean if slope_name else np.full(len(n), np.nan),
              "mean_residual": y_mean - gamma["Intercept"] - slope * x_mean}
    if fit.random_slope:
        own = _random_slope(fit, n, y_mean, x_mean, sums)
    else:
        own = _random_intercept(fit, n, y_mean - slope * x_mean, slope)
    table = pd.DataFrame({**shared, **own}, index=pd.Index(sums.index.to_numpy(), name=fit.group))
    return table[list(SHRINKAGE_COLUMNS["random slope" if fit.random_slope
                                        else "random intercept"])]


def _random_intercept(fit: MultilevelFit, n, common_slope_intercept, slope: float) -> dict:
    """lambda_j and the group intercept lambda_j c_j + (1 - lambda_j) g00 (c_j the
    common-slope intercept)."""
    tau00, sigma2 = fit.variance["tau00"], fit.variance["sigma2"]
    lam = tau00 / (tau00 + sigma2 / n)
    return {"common_slope_intercept": common_slope_intercept, "lambda": lam,
            "intercept": lam * common_slope_intercept + (1.0 - lam) * fit.fixed["Intercept"],
            "slope": np.full(len(n), slope)}


def _random_slope(fit: MultilevelFit, n, y_mean, x_mean, sums: pd.DataFrame) -> dict:
    """Lambda_j, the reliabilities and beta*_j for every group (see the module docstring)."""
    v = fit.variance
    T = np.array([[v["tau00"], v["tau01"]], [v["tau01"], v["tau11"]]])
    sigma2 = v["sigma2"]
    gamma = np.array([fit.fixed["Intercept"], fit.fixed[fit.predictor]])
    sum_x, sum_xx = sums["x"].to_numpy(), sums["xx"].to_numpy()
    sum_r, sum_xr = sums["r"].to_numpy(), sums["xr"].to_numpy()
    k = len(n)
    # Full rank: x varies in the group. sum (x - xbar)^2 on the scale of sum x^2, so a
    # constant x with rounding noise in its sums is not taken for a line.
    spread = sum_xx - sum_x * x_mean
    full_rank = spread > 1e-12 * np.maximum(sum_xx, 1.0)
    own = np.full((k, 2), np.nan)
    lam = np.full((k, 2, 2), np.nan)
    reliability = np.full((k, 2), np.nan)
    line = np.empty((k, 2))
    weight = np.full((k, 2), np.nan)
    for j in range(k):
        if full_rank[j]:
            cross = np.array([[n[j], sum_x[j]], [sum_x[j], sum_xx[j]]])
            own[j] = np.linalg.solve(cross, [sum_r[j], sum_xr[j]])
            sampling = sigma2 * np.linalg.inv(cross)  # V_j
            # T (T + V_j)^-1 as a solve: (T + V_j) is symmetric, so Lambda' = (T + V_j)^-1 T.
            lam[j] = np.linalg.solve(T + sampling, T).T
            reliability[j] = np.diag(T) / (np.diag(T) + np.diag(sampling))
            line[j] = lam[j] @ own[j] + (np.eye(2) - lam[j]) @ gamma
        else:
            z = np.array([1.0, x_mean[j]])
            weight[j] = T @ z / (z @ T @ z + sigma2 / n[j])
            line[j] = gamma + weight[j] * (y_mean[j] - z @ gamma)
    return {"full_rank": full_rank, "own_intercept": own[:, 0], "own_slope": own[:, 1],
            "Lambda_00": lam[:, 0, 0], "Lambda_01": lam[:, 0, 1],
            "Lambda_10": lam[:, 1, 0], "Lambda_11": lam[:, 1, 1],
            "reliability_intercept": reliability[:, 0], "reliability_slope": reliability[:, 1],
            "weight_intercept": weight[:, 0], "weight_slope": weight[:, 1],
            "intercept": line[:, 0], "slope": line[:, 1]}
