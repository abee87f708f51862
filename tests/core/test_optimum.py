"""hlmlab.optimum: optimise, verify, fall back; and lme4's singularity test."""

from __future__ import annotations

import numpy as np
import pytest

from hlmlab.deviance import GroupedDesign, ProfiledDeviance, lambda_to_theta
from hlmlab.optimum import (
    SINGULAR_TOLERANCE,
    Optimum,
    adopt_if_better,
    find_optimum,
    is_singular,
    verify_optimum,
)
from hlmlab.twolevel import fit_multilevel


@pytest.fixture()
def slope_model(grouped_data):
    data = grouped_data()
    X = np.column_stack([np.ones(len(data)), data["x"]])
    design = GroupedDesign.from_arrays(data["y"].to_numpy(), X, X, data["g"].to_numpy(), 8)
    return data, ProfiledDeviance(design, reml=True)


def test_verify_optimum_rejects_a_point_that_is_not_the_optimum(slope_model):
    data, deviance = slope_model
    fit = fit_multilevel(data, "y", "x", "g", random_slope=True)
    theta = np.array(fit.theta)
    assert verify_optimum(deviance, theta)[0]
    assert not verify_optimum(deviance, theta * 1.3 + 0.05)[0]


def test_find_optimum_reaches_the_fit_s_optimum_from_a_poor_start(slope_model):
    """From lme4's default start and with a far-off fallback, the routine ends where the
    model's own fit ends (the deviance to 1e-6) and says it is verified."""
    data, deviance = slope_model
    fit = fit_multilevel(data, "y", "x", "g", random_slope=True)
    optimum = find_optimum(deviance, lambda_to_theta(np.eye(2)), [np.array([5.0, 0.0, 5.0])])
    assert optimum.converged and optimum.verified and optimum.finite
    assert optimum.deviance == pytest.approx(-2 * fit.loglik, abs=1e-6)


def test_adopt_if_better_takes_only_a_better_verified_point(slope_model):
    _, deviance = slope_model
    best = find_optimum(deviance, lambda_to_theta(np.eye(2)), [])
    worse = Optimum(best.theta * 1.5, float(deviance(best.theta * 1.5)), True, False)
    assert adopt_if_better(deviance, best, worse.theta) is best  # not better
    assert adopt_if_better(deviance, best, None) is best
    adopted = adopt_if_better(deviance, worse, best.theta)
    assert adopted is not worse and adopted.verified
    np.testing.assert_allclose(adopted.theta, best.theta)
    assert adopted.deviance == pytest.approx(best.deviance)


def test_is_singular_is_lme4_s_test_on_the_diagonal():
    assert is_singular(np.diag([0.5, 0.0]))
    assert is_singular(np.array([[0.5, 0.0], [0.3, SINGULAR_TOLERANCE / 2]]))
    assert not is_singular(np.array([[0.5, 0.0], [0.3, 0.2]]))
    assert not is_singular(np.array([[2 * SINGULAR_TOLERANCE]]))
    # The tolerance scales with the factor's largest element above 1.
    assert is_singular(np.diag([100.0, 5e-3]))
