"""hlmlab.figures: the figures lessons share, checked through their data (never pixels)."""

from __future__ import annotations

import types

import numpy as np
import pandas as pd
import pytest

from hlmlab import figures, style
from hlmlab.pooling import compare_pooling
from hlmlab.ranking import rank_groups


def fake_fit(effects, sds):
    blups = pd.DataFrame({"n": 10, "u0": effects, "u0_sd": sds},
                         index=pd.Index(list("ABCD")[: len(effects)], name="school"))
    return types.SimpleNamespace(blups=blups)


def test_lines_figure_draws_each_group_and_line_with_true_values_on_hover(nels):
    two = nels[nels["schid"].isin([24725, 62821])]
    comparison = compare_pooling(two, "math", "homework", "schid")
    fig = figures.lines_figure(two, "math", "homework", "schid", comparison.lines,
                               style.group_styles([24725, 62821]), jitter=0.3)
    markers = [t for t in fig.data if t.mode == "markers"]
    lines = [t for t in fig.data if t.mode == "lines"]
    assert [t.meta for t in markers] == ["24725", "62821"]
    assert len(lines) == 1 + 2 + 2
    for trace in markers:
        true_x = np.asarray(trace.customdata)[:, 2].astype(float)
        assert np.all(np.abs(np.asarray(trace.x) - true_x) <= 0.3)
    grey = figures.lines_figure(two, "math", "homework", "schid", comparison.lines.iloc[:0],
                                style.group_styles([24725, 62821]), colour_by_group=False)
    assert {t.marker.color for t in grey.data} == {style.GREY}


def test_shrinkage_figure_draws_an_arrow_per_group_towards_the_fixed_effect():
    ols = pd.DataFrame({"slope": [1.0, 3.0, np.nan]}, index=["a", "b", "c"])
    multilevel = pd.DataFrame({"slope": [1.5, 2.5, 2.0]}, index=["a", "b", "c"])
    fig = figures.shrinkage_figure(ols, multilevel, 2.0, "slope", style.group_styles(["a", "b"]))
    assert [t.meta for t in fig.data] == ["a", "b"]  # c has no line of its own
    assert list(fig.data[1].x) == [3.0, 2.5]
    assert fig.layout.shapes[0].x0 == 2.0


def test_caterpillar_figure_data():
    table = rank_groups(fake_fit([2.0, -3.0, 0.5, 0.0], [0.5, 1.0, 1.0, 0.2]))
    fig = figures.caterpillar_figure(table, "t · JSP (synthetic replica)", "effect")
    by_meta = {t.meta: t for t in fig.data}
    assert set(by_meta) == {"above", "average", "below"}
    assert sum(len(t.x) for t in fig.data) == 4
    above = by_meta["above"]
    assert list(above.x) == [2.0] and above.error_x.array[0] == pytest.approx(1.959963984540054 * 0.5)
    assert "synthetic replica" in fig.layout.title.text
    assert fig.layout.yaxis.title.text == "School (ordered by effect)"


def test_rank_slope_figure_highlights_movers():
    left = pd.Series({"A": 1, "B": 2, "C": 3})
    right = pd.Series({"A": 3, "B": 2, "C": 1})
    fig = figures.rank_slope_figure(left, right, "t", "raw", "model", highlight=["A"])
    metas = [t.meta for t in fig.data]
    assert metas == ["others", "moved:A"]
    assert list(fig.data[1].y) == [1, 3]
    assert [y for y in fig.data[0].y if y is not None] == [2, 2, 3, 1]


def test_variance_partition_figure_stacks_shares_by_level():
    partition = pd.DataFrame({
        "model": ["three", "three", "three", "two", "two"],
        "level": ["school", "pupil", "occasion", "school", "occasion"],
        "variance": [1.0, 3.0, 4.0, 2.0, 6.0], "share": [0.125, 0.375, 0.5, 0.25, 0.75]})
    fig = figures.variance_partition_figure(partition, "t", {"occasion": "within"})
    assert [t.meta for t in fig.data] == ["school", "pupil", "occasion"]
    assert [t.name for t in fig.data] == ["school", "pupil", "within"]
    assert sum(float(t.x[0]) for t in fig.data) == pytest.approx(1.0)
    assert np.isnan(fig.data[1].x[1])  # the two-level model has no pupil level
    # The residual level takes the last colour whatever the number of levels.
    assert [t.marker.color for t in fig.data] == list(style.LEVEL_COLOURS)
    two = figures.variance_partition_figure(partition[partition["model"] == "two"], "t",
                                            interval=("two", 0.25, 0.1, 0.4))
    assert [t.marker.color for t in two.data[:2]] == [style.BLUE, style.GREEN]
    interval = two.data[-1]
    assert interval.meta == "interval" and list(interval.x) == [0.25]
    assert interval.error_x.array[0] == pytest.approx(0.15)
    assert interval.error_x.arrayminus[0] == pytest.approx(0.15)
