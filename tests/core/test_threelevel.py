"""hlmlab.threelevel: nested random intercepts (lme4 agreement is in
reference/test_lme4_threelevel.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hlmlab.diagnostics import StatsmodelsCheck
from hlmlab.errors import ModelDataError
from hlmlab.threelevel import design_matrix, fit_three_level, variance_partition


def test_three_level_partition_splits_the_total_variance(jsp):
    fit = fit_three_level(jsp, "math", "school", "pupil", categorical=("year",))
    part = fit.partition("Three levels", {"school": "school", "pupil": "pupil",
                                          "residual": "occasion"})
    assert list(part["level"]) == ["school", "pupil", "occasion"]
    assert set(part["model"]) == {"Three levels"}
    total = fit.variance["school"] + fit.variance["pupil"] + fit.variance["residual"]
    np.testing.assert_allclose(part["variance"], [fit.variance["school"], fit.variance["pupil"],
                                                  fit.variance["residual"]])
    np.testing.assert_allclose(part["share"], part["variance"] / total, rtol=1e-12)
    assert part["share"].sum() == pytest.approx(1.0)
    assert fit.status.statsmodels is StatsmodelsCheck.AGREES and fit.messages == ()
    assert "confirms" in fit.optimizer_note


def test_variance_partition_leaves_out_levels_a_model_does_not_have():
    part = variance_partition("two levels", {"school": 1.0, "pupil": np.nan, "occasion": 3.0})
    assert part["level"].tolist() == ["school", "occasion"]
    assert part["share"].tolist() == [0.25, 0.75]


def test_design_matrix_codes_categories_as_patsy_does():
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0], "year": [2, 0, 1]})
    X, names = design_matrix(frame, ("x",), ("year",))
    assert names == ["Intercept", "x", "year[1]", "year[2]"]
    np.testing.assert_array_equal(X[:, 2:], [[0, 1], [0, 0], [1, 0]])


def test_no_school_variance_is_a_boundary_fit_in_words():
    """Schools drawn with no effect at all, and pupil means balanced to leave none: the
    school variance sits on its zero bound and the fit says so."""
    rng = np.random.default_rng(3)
    school = np.repeat(np.arange(6), 30)
    pupil = np.repeat(np.arange(60), 3)
    y = rng.normal(0, 2, 60)[pupil] + rng.normal(0, 1, 180)
    frame = pd.DataFrame({"y": y, "school": school, "pupil": pupil})
    frame["y"] -= frame.groupby("school")["y"].transform("mean")
    fit = fit_three_level(frame, "y", "school", "pupil")
    assert fit.converged and fit.singular and fit.variance["school"] < 1e-8
    assert fit.status.statsmodels is StatsmodelsCheck.NOT_ASKED and fit.statsmodels_loglik is None
    (message,) = fit.messages
    assert message.severity == "warning" and "between school units" in message.headline


def test_one_school_is_refused(jsp):
    with pytest.raises(ModelDataError, match="at least two groups"):
        fit_three_level(jsp[jsp["school"] == 1], "math", "school", "pupil")
