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
