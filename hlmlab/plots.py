"""Plotly figure builders. They take data and fits and return ``go.Figure``; no Streamlit.

Figures are built for a projector: large fonts, thick lines, a colour-blind-safe palette
(Okabe & Ito, then Paul Tol's muted colours) and a different marker per group, so groups
stay apart in greyscale too. Tests check the figures' data, never pixels.
"""

from __future__ import annotations

import itertools
from typing import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

__all__ = [
    "AXIS_STYLE",
    "FAMILY_STYLES",
    "LIGHT_LAYOUT",
    "PALETTE",
    "group_styles",
    "jitter_offsets",
    "light_layout",
    "lines_figure",
    "ready_for_browser",
    "shrinkage_figure",
]

# Okabe-Ito without yellow (unreadable on white) and black (the pooled line), then Tol muted.
PALETTE = (
    "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9",
    "#882255", "#117733", "#332288", "#999933", "#44AA99", "#AA4499",
)
SYMBOLS = ("circle", "square", "diamond", "triangle-up", "x", "cross", "star", "hexagon",
           "triangle-down", "pentagon", "star-square", "hourglass")
# How many groups a chart can tell apart: the 13th group would get the 1st group's colour
# and marker (group_styles cycles through both together).
DISTINCT_GROUP_STYLES = min(len(PALETTE), len(SYMBOLS))

FAMILY_STYLES = {
    "pooled": {"label": "Pooled OLS (one line, ignores groups)", "dash": "dash", "width": 5},
    "per_group": {"label": "Per-group OLS (no pooling)", "dash": "dot", "width": 3},
    "multilevel": {"label": "Multilevel (partial pooling)", "dash": "solid", "width": 4},
}
POOLED_COLOUR = "#000000"
FONT = {"size": 18}

# plotly_white's look, set directly. A named template is expanded (deep-copied and validated)
# every time a figure is built: measured at 70-120 ms a figure here, more than half of a
# slider's 250 ms budget. "none" plus these few settings costs nothing.
AXIS_STYLE = {"gridcolor": "#EBF0F8", "zerolinecolor": "#EBF0F8", "linecolor": "#EBF0F8",
              "showgrid": True, "zeroline": True, "automargin": True}
LIGHT_LAYOUT = {"template": "none", "paper_bgcolor": "white", "plot_bgcolor": "white",
                "colorway": list(PALETTE), "xaxis": AXIS_STYLE, "yaxis": AXIS_STYLE}


_REVISIONS = itertools.count(1)


def ready_for_browser(fig: go.Figure) -> go.Figure:
    """Finish a figure for the browser; returns the same figure, changed once (idempotent,
    so a figure shared across sessions is safe to pass again).

    - A ``datarevision`` of its own: plotly.js then recognises a figure it has already
      drawn (a rerun that sends it again costs almost nothing) and never mistakes a new
      figure for an old one.
    - No ``template`` object: it was only needed while building (``LIGHT_LAYOUT``'s "none"
      keeps plotly.py's default one out), and plotly.js compares it by identity, so a copy
      of the figure would always look new.
    - The title fitted to narrow columns (:func:`_fit_title`) and a legend below the plot
      kept clear of the x-axis title (:func:`_legend_at_bottom`).
    """
    if fig.layout.datarevision is None:
        _fit_title(fig)
        _legend_at_bottom(fig)
        fig.layout.template = None
        fig.layout.datarevision = next(_REVISIONS)
    return fig


def _legend_at_bottom(fig: go.Figure) -> None:
    """A horizontal legend below the plot goes to the bottom edge of the figure. Placed in
    units of the plot's height (``y=-0.25``), it sat on the x-axis title whenever the plot
    was shorter than its author had in mind (a half-width column, a long legend)."""
    legend = fig.layout.legend
    if legend.orientation == "h" and legend.y is not None and legend.y < 0:
        legend.update(yref="container", y=0, yanchor="bottom")


def _fit_title(fig: go.Figure) -> None:
    """Titles start at the left edge, and "what · which data" becomes a title with the data
    as its subtitle: centred one-line titles were cut off at both ends in a half-width
    column, taking "synthetic replica" with them."""
    title = fig.layout.title
    if not title.text:
        return
    if " · " in title.text and not title.subtitle.text:
        main, source = title.text.split(" · ", 1)
        title.update(text=main, subtitle={"text": source, "font": {"size": 17}})
    title.update(x=0.0, xanchor="left", xref="paper", automargin=True)


def light_layout(**layout) -> dict:
    """``LIGHT_LAYOUT`` with ``layout`` on top; ``xaxis`` / ``yaxis`` dicts are merged into
    the axis style rather than replacing it."""
    merged = {**LIGHT_LAYOUT, **layout}
    for axis in ("xaxis", "yaxis"):
        merged[axis] = {**AXIS_STYLE, **layout.get(axis, {})}
    return merged


def group_styles(all_groups: Sequence) -> dict:
    """Colour and marker per group, fixed by the group's place in the full data set.

    Passing every group of the data set (not only the selected ones) keeps a group's colour
    the same when the selection changes.
    """
    return {
        g: {"colour": PALETTE[i % len(PALETTE)], "symbol": SYMBOLS[i % len(SYMBOLS)]}
        for i, g in enumerate(all_groups)
    }


def jitter_offsets(n: int, seed: int = 0) -> np.ndarray:
    """Fixed offsets in [-1, 1] per row, scaled by the jitter slider.

    The same draw is reused at every jitter amount, so moving the slider spreads the points
    smoothly instead of reshuffling them.
    """
    return np.random.default_rng(seed).uniform(-1.0, 1.0, n)


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
    lines : frame from :func:`hlmlab.models.fitted_lines` (``family, group, x, y``).
    styles : from :func:`group_styles`.
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
        style = styles.get(label, {"colour": "#555555", "symbol": "circle"})
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
                "color": style["colour"] if colour_by_group else "#777777",
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
    # school is told by colour, as its points are. Keeps the legend short for ten schools.
    shown_families = set()
    for (family, label), part in lines.groupby(["family", "group"], sort=False):
        fam = FAMILY_STYLES[family]
        colour = POOLED_COLOUR if family == "pooled" else styles.get(label, {}).get("colour", "#555")
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
    # Tick labels as large as the text around them, for the back of a lecture hall.
    ticks = {"tickfont": {"size": 17}, "title": {"font": {"size": 19}}}
    layout = light_layout(
        title={"text": title, "font": {"size": 22}},
        font=FONT,
        xaxis={**ticks, "title": {**ticks["title"], "text": x_title or predictor}},
        yaxis={**ticks, "title": {**ticks["title"], "text": y_title or outcome}},
        height=640,
        margin={"l": 70, "r": 20, "t": 60, "b": 40},
        # Below the plot: a side legend of ten schools would take a third of the width.
        legend={"font": {"size": 15}, "groupclick": "togglegroup", "orientation": "h",
                "yanchor": "top", "y": -0.2, "x": 0},
        hoverlabel={"font_size": 16},
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
    styles : from :func:`group_styles`.

    Returns
    -------
    plotly.graph_objects.Figure with one trace per group (``meta`` = group label).
    """
    fig = go.Figure()
    common = [g for g in multilevel.index if g in ols.index and np.isfinite(ols.loc[g, column])]
    for position, label in enumerate(common):
        colour = styles.get(label, {}).get("colour", "#555")
        fig.add_trace(
            go.Scatter(
                x=[ols.loc[label, column], multilevel.loc[label, column]],
                y=[position, position],
                mode="lines+markers",
                meta=str(label),
                name=str(label),
                showlegend=False,
                marker={"symbol": ["circle-open", "arrow"], "size": [14, 18],
                        "angleref": "previous", "color": colour},
                line={"color": colour, "width": 3},
                hovertemplate=f"{label}: %{{x:.2f}}<extra></extra>",
            )
        )
    fig.add_vline(x=fixed_value, line={"color": POOLED_COLOUR, "dash": "dash", "width": 2})
    fig.update_layout(**light_layout(
        title={"text": title, "font": {"size": 20}},
        font=FONT,
        height=120 + 40 * len(common),
        yaxis={"tickvals": list(range(len(common))), "ticktext": [str(g) for g in common]},
        xaxis_title=f"{column}: own OLS (open circle) to multilevel (arrow head)",
        margin={"l": 90, "r": 20, "t": 50, "b": 60},
    ))
    return fig
