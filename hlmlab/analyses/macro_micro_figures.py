"""Figures of the "Macro and micro" lesson. They take plain data, return ``go.Figure``.

Built for a projector in HLM Lab's one figure style (:mod:`hlmlab.style`:
``figure_layout`` and the named colours). Titles read "what · data", so ``ready_for_browser`` makes
the data (real Hsb82, or a synthetic simulation) the subtitle. Every trace carries a
``meta`` and every diagram annotation a ``name``, so tests read figures through their data.
No Streamlit.
"""

from __future__ import annotations

from typing import NamedTuple, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from hlmlab.style import (BLUE, GREEN, GREY, LIGHT_GREY, ORANGE, PINK, POOLED_COLOUR, figure_layout,
                          gapped_xy, narrow_text, wrapped)

__all__ = [
    "ARROW_COLOURS",
    "DiagramArrow",
    "DiagramNode",
    "SlopeLine",
    "intercept_recovery_figure",
    "moderator_lines_figure",
    "proposition_figure",
    "within_between_figure",
]

FADED = LIGHT_GREY
#: One colour per kind of arrow, the same in every diagram and in the coloured equation.
ARROW_COLOURS = {("x", "y"): BLUE, ("Z", "y"): ORANGE, ("Z", "x->y"): GREEN,
                 ("Z", "Y"): PINK, ("x", "Y"): GREY}
#: Where the within, between and blended slopes are drawn, in every chart of the lesson.
SLOPE_COLOURS = {"within": ORANGE, "between": GREEN, "blend": BLUE, "pooled": POOLED_COLOUR}

# The device: macro variables (capitals) on the upper band, micro ones on the lower band.
# The boxes sit low in their bands, so that each band's name above them stays clear of
# them when presenter mode draws the text 1.3 times larger.
_NODE_CENTRES = {"Z": (1.85, 4.45), "Y": (8.15, 4.45), "x": (1.85, 1.25), "y": (8.15, 1.25)}
_NODE_HALF = (1.7, 0.6)
# The cross-level arrow ends on the middle of the x -> y arrow: Z changes that slope.
_SLOPE_POINT = (5.0, 1.35)
# The diagram's text sizes are chosen for a chart this wide; a narrower one (a phone) scales
# them down to 0.75 (style.narrow_text), and every label is wrapped to fit it there: a node
# label's lines fill at most a box, an arrow's at most the room beside its arrow.
_DESIGN_WIDTH = 760
_NODE_LINE = 18  # characters
_ARROW_LINE = 22
# Label anchor of each arrow, placed so that no two labels of one diagram overlap.
_LABEL_AT = {
    ("x", "y"): (5.0, 0.62, "center"),
    ("Z", "Y"): (5.0, 5.3, "center"),
    ("Z", "y"): (5.55, 3.35, "left"),
    ("Z", "x->y"): (3.45, 2.75, "right"),
    ("x", "Y"): (5.55, 2.55, "left"),
}


class DiagramNode(NamedTuple):
    """A variable of the diagram: ``key`` one of Z, Y, x, y; ``active`` False draws it faded."""

    key: str
    label: str
    active: bool


class DiagramArrow(NamedTuple):
    """An arrow from ``source`` to ``target`` (a node key, or ``"x->y"`` for the slope).

    ``label`` names the model term that carries it (HTML as plotly annotations take it);
    ``dashed`` draws an arrow no term of the model carries.
    """

    source: str
    target: str
    label: str
    dashed: bool = False


class SlopeLine(NamedTuple):
    """A straight line to draw: ``key`` is its trace ``meta``; ``x_range`` (low, high), or
    None for the range of the whole chart."""

    key: str
    label: str
    intercept: float
    slope: float
    dash: str = "solid"
    x_range: tuple[float, float] | None = None


def _edge_point(centre, toward) -> tuple[float, float]:
    """Where the segment from a box's centre toward a point leaves the box."""
    (cx, cy), (tx, ty) = centre, toward
    dx, dy = tx - cx, ty - cy
    scale = min(_NODE_HALF[0] / abs(dx) if dx else np.inf, _NODE_HALF[1] / abs(dy) if dy else np.inf)
    return cx + dx * scale, cy + dy * scale


def _endpoints(arrow: DiagramArrow) -> tuple[tuple[float, float], tuple[float, float]]:
    start_centre = _NODE_CENTRES[arrow.source]
    if arrow.target == "x->y":
        end = (_SLOPE_POINT[0], _SLOPE_POINT[1] + 0.08)
        return _edge_point(start_centre, end), end
    end_centre = _NODE_CENTRES[arrow.target]
    return _edge_point(start_centre, end_centre), _edge_point(end_centre, start_centre)


def proposition_figure(nodes: Sequence[DiagramNode], arrows: Sequence[DiagramArrow],
                       title: str = "") -> go.Figure:
    """One multilevel proposition drawn as the course's device: "arrow = coefficient".

    Parameters
    ----------
    nodes : the four variables Z, Y (macro, upper band) and x, y (micro, lower band).
    arrows : the proposition's arrows, each labelled with the model term that carries it,
        in :data:`ARROW_COLOURS`.
    title : figure title.

    Returns
    -------
    plotly Figure with no traces: bands, boxes and arrows are shapes and annotations.
    Annotation ``name``: ``node:<key>``, ``arrow:<source>-><target>`` (the arrow head),
    ``label:<source>-><target>`` (its term), ``band:macro`` / ``band:micro``.
    """
    shapes, notes = [], []
    # Short band names: at the upper right of the micro band a longer one met the head of
    # the arrow Z -> y on a phone.
    for band, (low, high), text in (("macro", (3.55, 5.65), "macro: schools"),
                                    ("micro", (0.35, 2.45), "micro: pupils")):
        shapes.append({"type": "rect", "x0": -0.2, "x1": 10.2, "y0": low, "y1": high,
                       "fillcolor": "#F4F6FA", "line": {"width": 0}, "layer": "below"})
        notes.append({"x": 10.15, "y": high - 0.08, "text": text, "name": f"band:{band}",
                      "showarrow": False, "xanchor": "right", "yanchor": "top",
                      "font": {"size": 15, "color": GREY}})
    for node in nodes:
        cx, cy = _NODE_CENTRES[node.key]
        colour = "#222222" if node.active else FADED
        shapes.append({"type": "rect", "x0": cx - _NODE_HALF[0], "x1": cx + _NODE_HALF[0],
                       "y0": cy - _NODE_HALF[1], "y1": cy + _NODE_HALF[1],
                       "line": {"color": colour, "width": 2}, "fillcolor": "white"})
        text = wrapped(f"{node.key}: {node.label}", _NODE_LINE).replace(
            f"{node.key}:", f"<b>{node.key}</b>:", 1)
        notes.append({"x": cx, "y": cy, "text": text,
                      "name": f"node:{node.key}", "showarrow": False,
                      "font": {"size": 15, "color": colour}})
    for arrow in arrows:
        kind = (arrow.source, arrow.target)
        colour = ARROW_COLOURS[kind]
        (x0, y0), (x1, y1) = _endpoints(arrow)
        name = f"{arrow.source}->{arrow.target}"
        if arrow.dashed:
            # Annotations cannot be dashed: a dashed line, then a short arrow for its head.
            shapes.append({"type": "line", "x0": x0, "y0": y0, "x1": x1, "y1": y1,
                           "line": {"color": colour, "width": 3, "dash": "dash"}})
            x0, y0 = x1 - 0.25 * (x1 - x0), y1 - 0.25 * (y1 - y0)
        notes.append({"x": x1, "y": y1, "ax": x0, "ay": y0, "xref": "x", "yref": "y",
                      "axref": "x", "ayref": "y", "text": "", "name": f"arrow:{name}",
                      "showarrow": True, "arrowhead": 2, "arrowsize": 1.1,
                      "arrowwidth": 3 if arrow.dashed else 5, "arrowcolor": colour})
        lx, ly, anchor = _LABEL_AT[kind]
        label = "<br>".join(wrapped(line, _ARROW_LINE) for line in arrow.label.split("<br>"))
        notes.append({"x": lx, "y": ly, "text": label, "name": f"label:{name}",
                      "showarrow": False, "xanchor": anchor, "align": anchor,
                      "font": {"size": 16, "color": colour},
                      "bgcolor": "rgba(255,255,255,0.85)"})
    hidden = {"visible": False, "fixedrange": True}
    layout = figure_layout(
        title,
        height=470,
        margin={"l": 10, "r": 10, "t": 90, "b": 10},
        xaxis={**hidden, "range": [-0.3, 10.3]},
        yaxis={**hidden, "range": [0.0, 6.0]},
        shapes=shapes,
        annotations=notes,
        showlegend=False,
        meta=narrow_text(_DESIGN_WIDTH),
    )
    return go.Figure(layout=layout)


def _gapped_segments(x0, x1, y0, y1) -> tuple[list, list]:
    """Many straight segments as one trace, through the one gapped-trace helper."""
    n = len(x0)
    ends = pd.DataFrame({"segment": np.repeat(np.arange(n), 2),
                         "x": np.column_stack([x0, x1]).ravel(),
                         "y": np.column_stack([y0, y1]).ravel()})
    xs, ys, _ = gapped_xy(ends, "segment", "x", "y")
    return xs, ys


def _figure_layout(title: str, x_title: str, y_title: str, height: int = 600) -> dict:
    ticks = {"tickfont": {"size": 17}, "title": {"font": {"size": 19}}}
    return figure_layout(
        title,
        xaxis={**ticks, "title": {**ticks["title"], "text": x_title}},
        yaxis={**ticks, "title": {**ticks["title"], "text": y_title}},
        height=height,
        margin={"l": 70, "r": 20, "t": 90, "b": 40},
        legend={"font": {"size": 15}, "orientation": "h", "yanchor": "top", "y": -0.2, "x": 0},
        hoverlabel={"font_size": 16},
    )


def within_between_figure(
    school_means: pd.DataFrame,
    within_slope: float,
    lines: Sequence[SlopeLine],
    points: pd.DataFrame | None = None,
    title: str = "",
    x_title: str = "x",
    y_title: str = "y",
    points_label: str = "Pupils",
    slopes_in_legend: bool = True,
) -> go.Figure:
    """Within-school lines and the between-school line in one chart.

    Parameters
    ----------
    school_means : one row per school: ``x_mean, y_mean, x_min, x_max, n``.
    within_slope : the within-school slope; each school gets a segment with this slope
        through its means, over its own x range.
    lines : lines (between, blend, pooled), coloured by ``SLOPE_COLOURS[key]``; a line
        without ``x_range`` spans the chart (a between-school line is best drawn over the
        range of the school means, where its data are).
    points : optional pupils (``x, y``) drawn faintly behind.
    title, x_title, y_title : labels.
    points_label : legend name of the points (say when only some are drawn).
    slopes_in_legend : name the within-school slope in the legend (False where the chart
        is on screen before a question whose answer is that number).

    Returns
    -------
    plotly Figure; trace ``meta``: ``pupils``, ``within`` (all segments, one trace),
    ``school_means``, then each line's ``key``.
    """
    traces = []
    if points is not None and len(points):
        traces.append({"type": "scatter", "x": points["x"].to_numpy(), "y": points["y"].to_numpy(),
                       "mode": "markers", "name": points_label, "meta": "pupils",
                       "marker": {"color": "#9A9A9A", "size": 6, "opacity": 0.45,
                                  "line": {"width": 0}},
                       "hoverinfo": "skip"})
    x0, x1 = school_means["x_min"].to_numpy(float), school_means["x_max"].to_numpy(float)
    xm, ym = school_means["x_mean"].to_numpy(float), school_means["y_mean"].to_numpy(float)
    sx, sy = _gapped_segments(x0, x1, ym + within_slope * (x0 - xm), ym + within_slope * (x1 - xm))
    traces.append({"type": "scatter", "x": sx, "y": sy, "mode": "lines", "meta": "within",
                   "name": (f"Within each school: slope {within_slope:.2f}" if slopes_in_legend
                            else "Within each school"),
                   "line": {"color": SLOPE_COLOURS["within"], "width": 2}, "opacity": 0.4,
                   "hoverinfo": "skip"})
    traces.append({"type": "scatter", "x": xm, "y": ym, "mode": "markers", "meta": "school_means",
                   "name": "School means", "customdata": school_means["n"].to_numpy(),
                   "marker": {"color": SLOPE_COLOURS["within"], "size": 8,
                              "line": {"width": 1, "color": "white"}},
                   "hovertemplate": (f"school mean {x_title} %{{x:.2f}}<br>mean {y_title} "
                                     "%{y:.2f}<br>n = %{customdata}<extra></extra>")})
    low = float(np.nanmin(x0)) if points is None or not len(points) else float(points["x"].min())
    high = float(np.nanmax(x1)) if points is None or not len(points) else float(points["x"].max())
    grid = np.array([low, high])
    widths = {"between": 7, "blend": 5, "pooled": 5}
    for line in lines:
        span = grid if line.x_range is None else np.asarray(line.x_range, dtype=float)
        traces.append({"type": "scatter", "x": span, "y": line.intercept + line.slope * span,
                       "mode": "lines", "meta": line.key, "name": line.label,
                       "line": {"color": SLOPE_COLOURS.get(line.key, GREY), "dash": line.dash,
                                "width": widths.get(line.key, 4)},
                       "hovertemplate": f"{line.label}<extra></extra>"})
    return go.Figure(data=traces, layout=_figure_layout(title, x_title, y_title))


def moderator_lines_figure(
    school_lines: pd.DataFrame,
    level_lines: pd.DataFrame,
    title: str = "",
    x_title: str = "x",
    y_title: str = "y",
) -> go.Figure:
    """Each school's line, coloured by its macro variable Z, and the average line per level.

    Parameters
    ----------
    school_lines : one row per school: ``level`` (the label of its Z value), ``intercept,
        slope, x_min, x_max`` (the school's multilevel line).
    level_lines : one row per level of Z: ``level, intercept, slope, x_min, x_max``, in
        drawing order (the first level gets the first colour).
    title, x_title, y_title : labels.

    Returns
    -------
    plotly Figure; trace ``meta``: ``schools:<level>`` (one gapped trace per level) and
    ``average:<level>``.
    """
    traces, colours = [], {}
    for position, row in enumerate(level_lines.itertuples()):
        colours[row.level] = (BLUE, ORANGE, GREEN, PINK)[position % 4]
    for level, part in school_lines.groupby("level", sort=False):
        x0, x1 = part["x_min"].to_numpy(float), part["x_max"].to_numpy(float)
        a, b = part["intercept"].to_numpy(float), part["slope"].to_numpy(float)
        sx, sy = _gapped_segments(x0, x1, a + b * x0, a + b * x1)
        traces.append({"type": "scatter", "x": sx, "y": sy, "mode": "lines",
                       "meta": f"schools:{level}", "name": f"{level}: each school's line",
                       "legendgroup": str(level), "opacity": 0.35,
                       "line": {"color": colours.get(level, GREY), "width": 1.5},
                       "hoverinfo": "skip"})
    for row in level_lines.itertuples():
        grid = np.array([row.x_min, row.x_max], dtype=float)
        traces.append({"type": "scatter", "x": grid, "y": row.intercept + row.slope * grid,
                       "mode": "lines", "meta": f"average:{row.level}",
                       "name": f"{row.level}: average line, slope {row.slope:.2f}",
                       "legendgroup": str(row.level),
                       "line": {"color": colours[row.level], "width": 7},
                       "hovertemplate": (f"{row.level}<br>{y_title} = {row.intercept:.2f} + "
                                         f"{row.slope:.2f} × {x_title}<extra></extra>")})
    return go.Figure(data=traces, layout=_figure_layout(title, x_title, y_title))


def intercept_recovery_figure(
    table: pd.DataFrame, title: str = "", x_title: str = "true", y_title: str = "estimated",
) -> go.Figure:
    """Each school's estimated random intercept against the one the simulation built in.

    Parameters
    ----------
    table : one row per school: ``truth`` (the intercept deviation the simulation made),
        ``estimate`` (the conditional mode) and ``estimate_sd`` (its conditional SD).
    title, x_title, y_title : labels.

    Returns
    -------
    plotly Figure; trace ``meta``: ``identity`` (the line estimate = truth), ``schools``.
    """
    truth, estimate = table["truth"].to_numpy(float), table["estimate"].to_numpy(float)
    span = np.array([min(truth.min(), estimate.min()), max(truth.max(), estimate.max())])
    traces = [
        {"type": "scatter", "x": span, "y": span, "mode": "lines", "meta": "identity",
         "name": "estimate = truth", "line": {"color": POOLED_COLOUR, "dash": "dash", "width": 3},
         "hoverinfo": "skip"},
        {"type": "scatter", "x": truth, "y": estimate, "mode": "markers", "meta": "schools",
         "name": "Schools (bars: ± 1 conditional SD)",
         "error_y": {"type": "data", "array": table["estimate_sd"].to_numpy(float),
                     "color": FADED, "thickness": 1.5, "width": 0},
         "marker": {"color": BLUE, "size": 10, "line": {"width": 1, "color": "white"}},
         "hovertemplate": "true %{x:.2f}<br>estimated %{y:.2f}<extra></extra>"},
    ]
    return go.Figure(data=traces, layout=_figure_layout(title, x_title, y_title, height=560))
