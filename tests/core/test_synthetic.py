"""hlmlab.synthetic's building blocks: integer scores that hit a line's figures, and integer
scores with a given sum. (The committed replicas against the published figures are
reference/test_replica_nels88.py and reference/test_replica_jsp.py.)

Expected values are the targets passed in: a sample with these figures is what the helpers
promise, within the resolution that integer scores allow (0.02 for line figures).
"""

from __future__ import annotations

import numpy as np
import pytest

from hlmlab import synthetic


def test_integer_scores_on_line_general_case():
    # The helper a JSP replica will reuse: scores 1-40 against year 0-2 in one school.
    rng = np.random.default_rng(3)
    year = np.repeat([0.0, 1.0, 2.0], [30, 25, 20])
    n, slope, resid_sd = len(year), 2.6, 6.6
    sxx = ((year - year.mean()) ** 2).sum()
    targets = synthetic.LineTargets(
        mean=23.6 + slope * year.mean(),
        sd=np.sqrt((slope**2 * sxx + resid_sd**2 * (n - 2)) / (n - 1)),
        intercept=23.6,
        slope=slope,
        resid_sd=resid_sd,
    )
    scores = synthetic.integer_scores_on_line(year, targets, low=1, high=40, rng=rng)
    assert scores.dtype == np.int64 and scores.min() >= 1 and scores.max() <= 40
    achieved = synthetic.line_stats(year, scores)
    for name in ("mean", "sd", "intercept", "slope", "resid_sd"):
        assert getattr(achieved, name) == pytest.approx(getattr(targets, name), abs=0.02), name


def test_integer_scores_with_sum():
    continuous = np.array([0.2, 39.9, 41.0, 12.5, 20.4, -3.0])
    scores = synthetic.integer_scores_with_sum(continuous, 118, low=1, high=40)
    assert scores.dtype == np.int64 and scores.sum() == 118
    assert scores.min() >= 1 and scores.max() <= 40
    assert np.abs(scores - np.clip(continuous, 1, 40)).max() < 1.5
    with pytest.raises(ValueError, match="out of reach"):
        synthetic.integer_scores_with_sum(continuous, 300, low=1, high=40)
