"""hlmlab.deviance: lme4's profiled deviance, against the textbook formula computed densely.

With V = I + Z Lambda Lambda' Z' (the marginal covariance over sigma^2), the profiled
deviance is (Bates et al. 2015, JSS 67(1), eqs. 34 and 41)
    ML:   log|V| + n (1 + log(2 pi r / n))
    REML: log|V| + log|X'V^-1 X| + (n - p)(1 + log(2 pi r / (n - p)))
with r = (y - X b)' V^-1 (y - X b) at the GLS estimate b. Computed here with dense numpy,
independently of the per-group algebra of hlmlab.deviance.
"""

from __future__ import annotations

import numpy as np
import pytest

from hlmlab.deviance import (
    GroupedDesign,
    NestedDesign,
    NestedInterceptDeviance,
    ProfiledDeviance,
    lambda_to_theta,
    theta_to_lambda,
)


def dense_deviance(y, X, Z_full, psi_relative, reml):
    n, p = X.shape
    V = np.eye(n) + Z_full @ psi_relative @ Z_full.T
    V_inv = np.linalg.inv(V)
    xtvx = X.T @ V_inv @ X
    beta = np.linalg.solve(xtvx, X.T @ V_inv @ y)
    resid = y - X @ beta
    r = resid @ V_inv @ resid
    logdet_v = np.linalg.slogdet(V)[1]
    if reml:
        return logdet_v + np.linalg.slogdet(xtvx)[1] + (n - p) * (1 + np.log(2 * np.pi * r / (n - p))), beta
    return logdet_v + n * (1 + np.log(2 * np.pi * r / n)), beta


@pytest.mark.parametrize("reml", [True, False])
def test_two_level_deviance_equals_the_dense_formula(grouped_data, reml):
    data = grouped_data(n_groups=6, n_per=5, slope_sd=0.5, seed=2)
    y, g = data["y"].to_numpy(), data["g"].to_numpy()
    X = np.column_stack([np.ones(len(y)), data["x"]])
    deviance = ProfiledDeviance(GroupedDesign.from_arrays(y, X, X, g, 6), reml)
    for theta in (np.array([0.8, 0.2, 0.4]), np.array([1.5, -0.3, 0.0])):
        lam = theta_to_lambda(theta, 2)
        # Z for all groups: block diagonal, one (intercept, x) pair of columns per group.
        Z_full = np.zeros((len(y), 12))
        for j in range(6):
            rows = g == j
            Z_full[rows, 2 * j:2 * j + 2] = X[rows]
        psi = np.kron(np.eye(6), lam @ lam.T)
        expected, beta = dense_deviance(y, X, Z_full, psi, reml)
        assert deviance(theta) == pytest.approx(expected, rel=1e-10)
        np.testing.assert_allclose(deviance.solve(theta).beta, beta, rtol=1e-8)
    np.testing.assert_array_equal(lambda_to_theta(theta_to_lambda(theta, 2)), theta)


@pytest.mark.parametrize("reml", [True, False])
def test_nested_deviance_equals_the_dense_formula(reml):
    rng = np.random.default_rng(4)
    school = np.repeat(np.arange(4), 9)
    pupil = np.repeat(np.arange(12), 3)
    X = np.column_stack([np.ones(36), rng.normal(size=36)])
    y = X @ [5.0, 1.0] + rng.normal(size=4)[school] + rng.normal(size=12)[pupil] + rng.normal(size=36)
    deviance = NestedInterceptDeviance(
        NestedDesign.from_arrays(y, X, school, pupil, 4, 12), reml)
    Zs, Zp = np.eye(4)[school], np.eye(12)[pupil]
    for ts, tp in ((0.7, 1.2), (0.0, 0.5), (1.0, 0.0)):
        Z_full = np.column_stack([Zs, Zp])
        psi = np.diag([ts**2] * 4 + [tp**2] * 12)
        expected, beta = dense_deviance(y, X, Z_full, psi, reml)
        assert deviance(np.array([ts, tp])) == pytest.approx(expected, rel=1e-10)
        np.testing.assert_allclose(deviance.solve(np.array([ts, tp])).beta, beta, rtol=1e-8)
