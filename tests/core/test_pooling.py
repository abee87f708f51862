"""hlmlab.pooling: the three families and the lines they draw."""

from __future__ import annotations

import numpy as np
import pytest

from hlmlab.errors import ModelDataError
from hlmlab.pooling import compare_pooling, fitted_lines


def test_fitted_lines_evaluate_each_family_over_its_range(grouped_data):
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
    assert comparison.messages == ()


def test_unusable_multilevel_fit_draws_no_multilevel_lines(grouped_data):
    data = grouped_data()
    comparison = compare_pooling(data[data["g"] == 0], "y", "x", "g")
    assert comparison.multilevel is None and comparison.shrinkage is None
    (message,) = comparison.messages
    assert message.severity == "error" and "two groups" in message.detail
    assert "multilevel" not in set(comparison.lines["family"])


def test_no_comparison_without_a_pooled_line(grouped_data):
    with pytest.raises(ModelDataError, match="two different values"):
        compare_pooling(grouped_data().assign(x=2.0), "y", "x", "g")


def test_fitted_lines_on_a_grid_and_without_fits():
    class Line:
        def coefficients_by_group(self):
            import pandas as pd
            return pd.DataFrame({"intercept": [1.0], "slope": [2.0]}, index=["a"])

    lines = fitted_lines({"f": Line()}, {"all": (0.0, 4.0)}, points=5)
    assert lines["x"].tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert lines["y"].tolist() == [1.0, 3.0, 5.0, 7.0, 9.0]
    assert list(fitted_lines({}, {"all": (0, 1)}).columns) == ["family", "group", "x", "y"]
