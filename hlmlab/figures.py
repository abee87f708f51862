"""Figures every lesson can use: scatter with the three kinds of lines, shrinkage arrows,
group rankings, and the variance partition. They take data and fits and return
``go.Figure`` in the one style of :mod:`hlmlab.style`; no Streamlit.

Every trace carries a ``meta`` saying what it is, so tests check figures through their data.
"""

from __future__ import annotations

import textwrap
from typing import Mapping, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from hlmlab.style import (
    BLUE,
    FAMILY_STYLES,
    GREY,
    LEVEL_COLOURS,
    LEVEL_PATTERNS,
    PALETTE,
    POOLED_COLOUR,
    VERMILLION,
    figure_layout,
    gapped_xy,
    jitter_offsets,
)

__all__ = [
    "POSITION_STYLES",
    "caterpillar_figure",
    "lines_figure",
    "rank_slope_figure",
    "shrinkage_figure",
    "variance_partition_figure",
    "vertical_line",
]

#: Where a group's interval lies against the average (0), as the caterpillar draws it.
POSITION_STYLES = {
    "above": {"colour": BLUE, "symbol": "triangle-up", "label": "Interval above the average"},
    "average": {"colour": GREY, "symbol": "circle", "label": "Interval overlaps the average"},
    "below": {"colour": VERMILLION, "symbol": "triangle-down",
              "label": "Interval below the average"},
}
# Tick labels as large as the text around them, for the back of a lecture hall.
_LARGE_TICKS = {"tickfont": {"size": 17}, "title": {"font": {"size": 19}}}


def vertical_line(x: float, colour: str = POOLED_COLOUR, dash: str = "dash") -> dict:
    """A full-height reference line at ``x``, as a layout shape."""
    return {"type": "line", "xref": "x", "yref": "paper", "x0": x, "x1": x, "y0": 0, "y1": 1,
            "line": {"color": colour, "dash": dash, "width": 2}}


def lines_figure(
    data: pd.DataFrame,
    outcome: str,
    predictor: str,
    group: str,
    lines: pd.DataFrame,
    styles: dict,
    jitter: float = 0.0,
    jitter_seed: int = 0,
    title: str = "",
    x_title: str | None = None,
    y_title: str | None = None,
    colour_by_group: bool = True,
    group_legend: bool = True,
) -> go.Figure:
    """Scatter of the data with pooled, per-group and multilevel lines.

    Parameters
    ----------
    data : rows to draw.
    outcome, predictor, group : column names.
    lines : frame from :func:`hlmlab.pooling.fitted_lines` (``family, group, x, y``).
    styles : from :func:`hlmlab.style.group_styles`.
    jitter : half-width of the uniform horizontal jitter, in predictor units. Hover shows
        the true value.
    title, x_title, y_title : labels.
    colour_by_group : False draws every point in grey, as the deck's first slide does.
    group_legend : False leaves the groups out of the legend (hover still names each point's
        group and its size): a dozen entries took four rows under the chart, and plotly.js
        measures every entry's text on each redraw (a quarter of a 12-school redraw).

    Returns
    -------
    plotly.graph_objects.Figure
        One marker trace per group (``meta`` = group label), then one line trace per
        (family, group) with ``meta`` = ``"family:group"``.
    """
    offsets = jitter_offsets(len(data), jitter_seed) * jitter
    counts = data.groupby(group).size()
    data = data.assign(_x=data[predictor].to_numpy(dtype=float) + offsets)
    # Traces as plain dicts, validated once by go.Figure: adding them one by one validates
    # the growing figure each time (3x slower for ten groups).
    traces = []
    for label, part in data.groupby(group, sort=False):
        style = styles.get(label, {"colour": GREY, "symbol": "circle"})
        traces.append({
            "type": "scatter",
            "x": part["_x"].to_numpy(),
            "y": part[outcome].to_numpy(),
            "mode": "markers",
            "name": f"{label} (n={counts[label]})",
            "legendgroup": f"group-{label}",
            "legendrank": 1,
            "showlegend": group_legend,
            "meta": str(label),
            "marker": {
                "color": style["colour"] if colour_by_group else GREY,
                "symbol": style["symbol"] if colour_by_group else "circle",
                "size": 11,
                "opacity": 0.75,
                # No outline: an outlined marker costs plotly.js a stroke style per point
                # (measured: 15-20% of a redraw of a few hundred points).
                "line": {"width": 0},
            },
            "customdata": np.column_stack(
                [np.full(len(part), str(label)), np.full(len(part), counts[label]),
                 part[predictor].to_numpy()]
            ),
            "hovertemplate": (
                f"{group} %{{customdata[0]}} (n=%{{customdata[1]}})<br>"
                f"{predictor} = %{{customdata[2]}}<br>{outcome} = %{{y}}<extra></extra>"
            ),
        })
    # One legend entry per line family (clicking it toggles all that family's lines); the
    # group is told by colour, as its points are. Keeps the legend short for ten schools.
    shown_families = set()
    for (family, label), part in lines.groupby(["family", "group"], sort=False):
        fam = FAMILY_STYLES[family]
        colour = POOLED_COLOUR if family == "pooled" else styles.get(label, {}).get("colour", GREY)
        traces.append({
            "type": "scatter",
            "x": part["x"].to_numpy(),
            "y": part["y"].to_numpy(),
            "mode": "lines",
            "name": fam["label"],
            "legendgroup": family,
            "showlegend": family not in shown_families,
            "meta": f"{family}:{label}",
            "line": {"color": colour, "dash": fam["dash"], "width": fam["width"]},
            "hovertemplate": (
                f"{fam['label']}<br>{group} {label}<br>{predictor} = %{{x:.2f}}<br>"
                f"predicted {outcome} = %{{y:.2f}}<extra></extra>"
            ),
        })
        shown_families.add(family)
    layout = figure_layout(
        title, x_title or predictor, y_title or outcome, height=640,
        xaxis=_LARGE_TICKS, yaxis=_LARGE_TICKS,
        margin={"l": 70, "r": 20, "t": 60, "b": 40},
        # Below the plot: a side legend of ten schools would take a third of the width.
        legend={"font": {"size": 15}, "groupclick": "togglegroup", "orientation": "h",
                "yanchor": "top", "y": -0.2, "x": 0},
    )
    return go.Figure(data=traces, layout=layout)


def shrinkage_figure(
    ols: pd.DataFrame, multilevel: pd.DataFrame, fixed_value: float, column: str, styles: dict,
    title: str = "",
) -> go.Figure:
    """Arrows from each group's own OLS estimate to its multilevel estimate.

    Parameters
    ----------
    ols, multilevel : frames indexed by group with the coefficient ``column``.
    fixed_value : the fixed effect the estimates shrink toward (drawn as a line).
    column : ``"intercept"`` or ``"slope"``.
    styles : from :func:`hlmlab.style.group_styles`.

    Returns
    -------
    plotly.graph_objects.Figure with one trace per group (``meta`` = group label).
    """
    common = [g for g in multilevel.index if g in ols.index and np.isfinite(ols.loc[g, column])]
    traces = []
    for position, label in enumerate(common):
        colour = styles.get(label, {}).get("colour", GREY)
        traces.append({
            "type": "scatter",
            "x": [ols.loc[label, column], multilevel.loc[label, column]],
            "y": [position, position],
            "mode": "lines+markers",
            "meta": str(label),
            "name": str(label),
            "showlegend": False,
            "marker": {"symbol": ["circle-open", "arrow"], "size": [14, 18],
                       "angleref": "previous", "color": colour},
            "line": {"color": colour, "width": 3},
            "hovertemplate": f"{label}: %{{x:.2f}}<extra></extra>",
        })
    layout = figure_layout(
        title, f"{column}: own OLS (open circle) to multilevel (arrow head)", "",
        height=120 + 40 * len(common),
        yaxis={"tickvals": list(range(len(common))), "ticktext": [str(g) for g in common]},
        margin={"l": 90, "r": 20, "t": 50, "b": 60},
        shapes=[vertical_line(fixed_value)],
    )
    layout["title"]["font"] = {"size": 20}  # a smaller title: this figure sits beside others
    return go.Figure(data=traces, layout=layout)


def caterpillar_figure(ranking: pd.DataFrame, title: str, x_title: str,
                       unit: str = "school") -> go.Figure:
    """Group effects with 95% intervals, sorted, coloured and shaped by where the interval
    lies: above, overlapping or below the average (0, the dashed line).

    Parameters
    ----------
    ranking : from :func:`hlmlab.ranking.rank_groups`.
    title, x_title : labels.
    unit : what a group is, for the hover and the y-axis title.

    Returns
    -------
    go.Figure: one trace per position present, ``meta`` = ``"above"``, ``"average"`` or
    ``"below"``; each point's ``customdata`` holds group, rank, rank_low, rank_high, n.
    """
    ordered = ranking.sort_values("effect", ascending=True, kind="stable")
    positions = np.arange(len(ordered))
    ordered = ordered.assign(_y=positions)
    data = []
    for position, style in POSITION_STYLES.items():
        part = ordered[ordered["position"] == position]
        if part.empty:
            continue
        custom = np.column_stack([part.index.astype(str), part["rank"], part["rank_low"],
                                  part["rank_high"], part["n"]])
        data.append({
            "type": "scatter", "x": part["effect"], "y": part["_y"], "mode": "markers",
            "meta": position, "name": f"{style['label']} ({len(part)})",
            "marker": {"color": style["colour"], "symbol": style["symbol"], "size": 11},
            "error_x": {"type": "data", "symmetric": False,
                        "array": part["upper"] - part["effect"],
                        "arrayminus": part["effect"] - part["lower"], "color": style["colour"],
                        "thickness": 2.5, "width": 0},
            "customdata": custom,
            "hovertemplate": (f"{unit} %{{customdata[0]}} (n=%{{customdata[4]}})<br>effect "
                              "%{x:.2f}<br>rank %{customdata[1]}, plausibly %{customdata[2]} "
                              "to %{customdata[3]}<extra></extra>"),
        })
    many = len(ordered) > 40
    # A labelled row needs room for its tick label at presenter size (23 px): at 11 px a row
    # the labels of 18 groups overprinted each other on a projector.
    row = 11 if many else 26
    layout = figure_layout(
        title, x_title, f"{unit.capitalize()} (ordered by effect)",
        height=max(420, 120 + row * len(ordered)), shapes=[vertical_line(0)],
        yaxis={"tickvals": positions, "ticktext": [str(s) for s in ordered.index],
               "showticklabels": not many},
        legend={"orientation": "h", "y": -0.12, "font": {"size": 15}})
    return go.Figure(data=data, layout=layout)


def rank_slope_figure(left: pd.Series, right: pd.Series, title: str, left_label: str,
                      right_label: str, highlight: Sequence = (),
                      unit: str = "school") -> go.Figure:
    """A slope chart: each group's rank on the left axis joined to its rank on the right.

    Parameters
    ----------
    left, right : ranks indexed by group (1 = best, drawn at the top).
    highlight : groups drawn thick in colour (e.g. those that move most); the rest grey.
    unit : what a group is, for the hover and the names.

    Returns
    -------
    go.Figure: ``meta="others"`` (one gapped trace) and ``meta="moved:<group>"`` per
    highlight.
    """
    common = [s for s in right.index if s in left.index]
    others = [s for s in common if s not in set(highlight)]
    ends = pd.DataFrame({"group": np.repeat(others, 2), "x": np.tile([0, 1], len(others)),
                         "rank": np.ravel([[left[s], right[s]] for s in others])})
    xs, ys, labels = gapped_xy(ends, "group", "x", "rank")
    data = [{"type": "scatter", "x": xs, "y": ys, "customdata": labels,
             "mode": "lines+markers", "meta": "others", "name": f"Other {unit}s",
             "line": {"color": GREY, "width": 1.5}, "marker": {"size": 6}, "opacity": 0.6,
             "hovertemplate": f"{unit} %{{customdata}}: rank %{{y}}<extra></extra>"}]
    colours = PALETTE[:6]
    for i, school in enumerate([s for s in highlight if s in common]):
        data.append({
            "type": "scatter", "x": [0, 1], "y": [left[school], right[school]],
            "mode": "lines+markers+text", "meta": f"moved:{school}",
            "name": f"{unit.capitalize()} {school}: {int(left[school])} → {int(right[school])}",
            "line": {"color": colours[i % len(colours)], "width": 5}, "marker": {"size": 12},
            "text": [str(school), str(school)], "textposition": ["middle left", "middle right"],
        })
    n = max(len(common), 1)
    layout = figure_layout(
        title, "", "Rank (1 = top)", height=max(480, 120 + 9 * n),
        yaxis={"range": [n + 1, 0]},
        # Level labels: angled, two long ones ran into each other and the chart.
        xaxis={"tickvals": [0, 1], "ticktext": [left_label, right_label], "tickangle": 0,
               "range": [-0.3, 1.3], "showgrid": False, "zeroline": False},
        # Below: at the side the legend left the chart a strip 60 px wide.
        legend={"orientation": "h", "y": -0.1, "font": {"size": 15}})
    return go.Figure(data=data, layout=layout)


def variance_partition_figure(partition: pd.DataFrame, title: str,
                              level_names: Mapping[str, str] | None = None,
                              interval: tuple[str, float, float, float] | None = None
                              ) -> go.Figure:
    """Horizontal stacked bars: each model's variance split into its levels, top level first.

    Parameters
    ----------
    partition : long frame ``model, level, variance, share`` (from
        :func:`hlmlab.threelevel.variance_partition` or
        :meth:`hlmlab.threelevel.ThreeLevelFit.partition`); levels in the order of their
        first appearance, the last one the residual. A NaN variance is shown as its share
        alone.
    title : the figure's title.
    level_names : legend names of the levels (default: the level itself).
    interval : ``(model, estimate, low, high)``: an interval for the first level's share
        of that model (e.g. the ICC's), drawn as an error bar.

    Returns
    -------
    go.Figure: one bar trace per level (``meta`` = the level, ``x`` = shares), then the
    interval (``meta="interval"``) if given.
    """
    models_order = list(dict.fromkeys(partition["model"]))
    levels = list(dict.fromkeys(partition["level"]))
    # The residual level always takes the last colour, whatever the number of levels.
    colours = list(LEVEL_COLOURS[:len(levels) - 1]) + [LEVEL_COLOURS[-1]]
    patterns = list(LEVEL_PATTERNS[:len(levels) - 1]) + [LEVEL_PATTERNS[-1]]
    data = []
    for index, level in enumerate(levels):
        part = partition[partition["level"] == level].set_index("model").reindex(models_order)
        data.append({
            "type": "bar", "y": models_order, "x": part["share"], "orientation": "h",
            "meta": level, "name": (level_names or {}).get(level, level),
            # A faint pattern over the solid colour: it tells the levels apart in greyscale
            # without hiding the text.
            "marker": {"color": colours[index],
                       "pattern": {"shape": patterns[index], "fillmode": "overlay",
                                   "fgopacity": 0.25}},
            # Three significant digits: JSP variances are tens, egsingle's tenths.
            "text": [("" if not np.isfinite(s) else f"{s:.0%}" if not np.isfinite(v)
                      else f"{s:.0%}<br>{v:.3g}")
                     for s, v in zip(part["share"], part["variance"])],
            "textposition": "inside", "insidetextanchor": "middle",
            "insidetextfont": {"color": "white" if index == 0 else "black"},
            "hovertemplate": f"{level}: %{{x:.1%}}<extra></extra>",
        })
    if interval is not None:
        model, estimate, low, high = interval
        data.append({
            "type": "scatter", "y": [model], "x": [estimate], "mode": "markers",
            "meta": "interval", "name": "95% interval",
            "marker": {"color": POOLED_COLOUR, "size": 12},
            "error_x": {"type": "data", "symmetric": False, "array": [high - estimate],
                        "arrayminus": [estimate - low], "thickness": 3, "width": 12,
                        "color": POOLED_COLOUR}})
    layout = figure_layout(
        title, "Share of the total variance", "", height=200 + 90 * len(models_order),
        barmode="stack", legend={"orientation": "h", "y": -0.25},
        margin={"l": 20, "r": 20, "t": 70, "b": 60},
        xaxis={"range": [0, 1], "tickformat": ".0%"},
        # Model names on short lines: on one line they took most of a half-width column
        # from the bars.
        yaxis={"autorange": "reversed", "automargin": True, "tickvals": models_order,
               "ticktext": ["<br>".join(textwrap.wrap(str(m), 20)) for m in models_order]})
    return go.Figure(data=data, layout=layout)
