"""hlmlab.ols: pooled and per-group least squares, checked against numpy's polyfit."""

from __future__ import annotations

import numpy as np
import pytest

from hlmlab.errors import ModelDataError
from hlmlab.ols import fit_per_group, fit_pooled, least_squares


def test_pooled_and_per_group_lines_are_ols(grouped_data):
    data = grouped_data()
    pooled = fit_pooled(data, "y", "x")
    slope, intercept = np.polyfit(data["x"], data["y"], 1)
    assert pooled.coef["x"] == pytest.approx(slope) and pooled.coef["Intercept"] == pytest.approx(intercept)
    per = fit_per_group(data, "y", "x", "g")
    for g, part in data.groupby("g"):
        s, i = np.polyfit(part["x"], part["y"], 1)
        assert per.table.loc[g, "slope"] == pytest.approx(s)
        assert per.table.loc[g, "intercept"] == pytest.approx(i)


def test_a_group_without_spread_in_x_gets_no_separate_line_but_a_message(grouped_data):
    data = grouped_data()
    data.loc[data["g"] == 2, "x"] = 0.5
    per = fit_per_group(data, "y", "x", "g")
    assert np.isnan(per.table.loc[2, "slope"])
    assert 2 not in per.coefficients_by_group().index
    assert "No separate line" in per.messages[0].headline


def test_least_squares_standard_errors_and_r2_by_hand():
    # y = 1 + 2x + (1, -1, -1, 1) at x = 0..3: those residuals sum to 0 and so does x times
    # them, so by hand the OLS line is 1 + 2x exactly, with SSR = 4.
    x = np.arange(4.0)
    y = 1 + 2 * x + np.array([1.0, -1.0, -1.0, 1.0])
    coef, se, r2, sigma = least_squares(y, np.column_stack([np.ones(4), x]))
    np.testing.assert_allclose(coef, [1.0, 2.0])
    assert sigma == pytest.approx(np.sqrt(4 / 2))  # SSR 4 on 2 df
    assert se[1] == pytest.approx(np.sqrt(2 / 5))  # sigma^2 / Sxx, Sxx = 5
    assert r2 == pytest.approx(1 - 4 / (4 * 5 + 4))  # SST = 2^2 Sxx + SSR
    flat, flat_se, flat_r2, _ = least_squares(np.array([1.0, 3.0]), np.ones((2, 2)))
    assert flat[0] == 2.0 and np.isnan(flat[1]) and np.isnan(flat_se).all() and np.isnan(flat_r2)


def test_a_constant_predictor_cannot_give_a_pooled_line(grouped_data):
    with pytest.raises(ModelDataError, match="two different values"):
        fit_pooled(grouped_data().assign(x=1.0), "y", "x")
