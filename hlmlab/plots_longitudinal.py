"""Figures of the longitudinal lesson: children's trajectories and the lines fitted to them.

Built for a projector like :mod:`hlmlab.plots` (same font size, palette and thick lines).
Many children are drawn as *one* trace with gaps (``None``) between children, which keeps a
200-child figure light to send and redraw. Every trace carries a ``meta`` naming what it is,
so tests check figures through their data. No Streamlit.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from hlmlab.plots import FONT, LIGHT_LAYOUT, PALETTE, POOLED_COLOUR

__all__ = [
    "ar1_figure",
    "growth_figure",
    "reading_figure",
    "slopes_figure",
    "trajectories_figure",
]

BLUE, ORANGE, GREEN, PINK = PALETTE[0], PALETTE[1], PALETTE[2], PALETTE[3]
GREY = "#888888"
SLOPE_COLOURS = {"pooled": POOLED_COLOUR, "within": ORANGE, "between": GREEN,
                 "growth": BLUE}


def _layout(fig: go.Figure, title: str, x_title: str, y_title: str, height: int = 560) -> go.Figure:
    fig.update_layout(
        **LIGHT_LAYOUT,
        title={"text": title, "font": {"size": 22}},
        font=FONT,
        xaxis_title=x_title,
        yaxis_title=y_title,
        height=height,
        margin={"l": 80, "r": 20, "t": 70, "b": 60},
        legend={"font": {"size": 16}},
        hoverlabel={"font_size": 16},
    )
    return fig


def _joined(data: pd.DataFrame, person: str, x: str, y: str) -> tuple[list, list, list]:
    """x, y and person lists for one trace, each person's points joined, None between people."""
    xs, ys, who = [], [], []
    for label, part in data.sort_values([person, x]).groupby(person, sort=True):
        xs += part[x].tolist() + [None]
        ys += part[y].tolist() + [None]
        who += [label] * len(part) + [None]
    return xs, ys, who


def _segments(lines: pd.DataFrame) -> tuple[list, list]:
    """Lines ``intercept, slope, x_min, x_max`` (one per row) as one gapped trace."""
    xs, ys = [], []
    for row in lines.itertuples():
        xs += [row.x_min, row.x_max, None]
        ys += [row.intercept + row.slope * row.x_min, row.intercept + row.slope * row.x_max, None]
    return xs, ys


def _line(fig, x_range, intercept, slope, name, meta, colour, dash, width=5):
    x = np.asarray(x_range, dtype=float)
    fig.add_trace(go.Scatter(
        x=x, y=intercept + slope * x, mode="lines", name=name, meta=meta,
        line={"color": colour, "dash": dash, "width": width},
        hovertemplate=f"{name}<br>slope {slope:.2f} per year<extra></extra>",
    ))


def reading_figure(comparison, growth=None, show_decomposition: bool = False,
                   show_child_model_lines: bool = False, title: str = "") -> go.Figure:
    """Reading against age: each child's two points joined, and the fitted lines.

    Parameters
    ----------
    comparison : :class:`hlmlab.longitudinal.ReadingComparison`.
    growth : the growth model fit ``reading ~ age + (age | child)`` or None; drawn only when
        usable: its average line, and each child's line when ``show_child_model_lines``.
    show_decomposition : add the within-child and between-child slopes, drawn through the
        grand mean so the three slopes can be compared by eye.
    title : figure title.

    Returns
    -------
    plotly Figure. Trace ``meta``: ``children`` (points joined per child: each child's own
    line), ``pooled``, ``growth``, ``growth_children``, ``within``, ``between``.
    """
    data = comparison.data
    fig = go.Figure()
    xs, ys, who = _joined(data, "child", "age", "reading")
    entry = data.groupby("child")["entry_age"].first()
    colours = np.array([entry[w] if w is not None else np.nan for w in who], dtype=float)
    fig.add_trace(go.Scatter(
        x=xs, y=ys, mode="lines+markers", meta="children",
        name="Each child: two measurements joined (the child's own line)",
        line={"color": GREY, "width": 2},
        marker={"size": 11, "color": colours, "colorscale": "Cividis", "showscale": True,
                "colorbar": {"title": {"text": "age at<br>entry", "font": {"size": 16}},
                             "tickfont": {"size": 15}, "x": 1.02},
                "line": {"width": 1, "color": "white"}},
        customdata=who,
        hovertemplate="child %{customdata}<br>age %{x:.2f}<br>reading %{y:.1f}<extra></extra>",
    ))
    age_range = (float(data["age"].min()), float(data["age"].max()))
    pooled = comparison.pooled
    _line(fig, age_range, pooled.coef["Intercept"], pooled.coef["age"],
          "Pooled OLS: all measurements, one line", "pooled", POOLED_COLOUR, "dash")
    if growth is not None and growth.usable:
        if show_child_model_lines:
            lines = growth.blups[["intercept", "slope"]].join(
                data.groupby("child")["age"].agg(x_min="min", x_max="max"))
            gx, gy = _segments(lines)
            fig.add_trace(go.Scatter(
                x=gx, y=gy, mode="lines", meta="growth_children", opacity=0.45,
                name="Multilevel: each child's predicted line", hoverinfo="skip",
                line={"color": BLUE, "width": 2},
            ))
        _line(fig, age_range, growth.fixed["Intercept"], growth.fixed["age"],
              "Multilevel growth model: average child", "growth", BLUE, "solid", 6)
    slopes = comparison.slopes()
    if show_decomposition and {"within", "between"} <= set(slopes.index):
        x_bar, y_bar = float(data["age"].mean()), float(data["reading"].mean())
        for key, label, dash in (("within", "Within-child slope", "longdash"),
                                 ("between", "Between-child slope", "dashdot")):
            slope = float(slopes.loc[key, "estimate"])
            _line(fig, age_range, y_bar - slope * x_bar, slope, label, key,
                  SLOPE_COLOURS[key], dash, 5)
    fig = _layout(fig, title, "Age (years)", "Reading score")
    # Legend under the plot, so it cannot collide with the colour bar on the right.
    fig.update_layout(legend={"orientation": "h", "y": -0.28, "x": 0, "font": {"size": 16}},
                      margin={"b": 150})
    return fig


def slopes_figure(slopes: pd.DataFrame, title: str = "") -> go.Figure:
    """Slopes side by side: estimate with a 95 % interval, and the true value if known.

    Parameters
    ----------
    slopes : from :meth:`ReadingComparison.slopes` (index: slope name; ``estimate, se,
        truth``), optionally with a ``growth`` row.

    Returns
    -------
    plotly Figure: trace ``estimates`` (one point per slope) and ``truth``.
    """
    names = list(slopes.index)[::-1]
    table = slopes.loc[names]
    colours = [SLOPE_COLOURS.get(n.split(": ")[-1], GREY) for n in names]
    fig = go.Figure()
    fig.add_trace(go.Scatter(
        x=table["estimate"], y=names, mode="markers", meta="estimates", name="estimate ± 1.96 SE",
        marker={"size": 20, "color": colours, "symbol": "circle"},
        error_x={"type": "data", "array": 1.96 * table["se"], "thickness": 4, "width": 10},
        hovertemplate="%{y}: %{x:.2f} points per year<extra></extra>",
    ))
    if table["truth"].notna().any():
        fig.add_trace(go.Scatter(
            x=table["truth"], y=names, mode="markers", meta="truth",
            name="true value in the simulation",
            marker={"size": 20, "color": PINK, "symbol": "x-thin-open", "line": {"width": 4}},
            hovertemplate="true %{y}: %{x:.2f}<extra></extra>",
        ))
    fig.add_vline(x=0, line={"color": "#bbbbbb", "width": 2})
    fig = _layout(fig, title, "Reading points per year of age", "", height=120 + 70 * len(names))
    fig.update_layout(legend={"orientation": "h", "y": -0.35, "font": {"size": 16}},
                      margin={"l": 140, "r": 20, "t": 60, "b": 110})
    fig.update_yaxes(tickfont={"size": 18})
    return fig


def growth_figure(data: pd.DataFrame, complete_children, mixed=None, title: str = "") -> go.Figure:
    """Part 2: every child's observed occasions joined; complete cases and the rest apart.

    Parameters
    ----------
    data : ``child, time, score`` (observed rows).
    complete_children : children with every planned occasion.
    mixed : MixedLM growth fit (``score ~ time``) or None; its average line is drawn.

    Returns
    -------
    plotly Figure: traces ``complete``, ``incomplete`` and ``mixed``.
    """
    fig = go.Figure()
    complete = data["child"].isin(set(complete_children))
    for meta, part, colour, dash, name in (
        ("complete", data[complete], BLUE, "solid", "Complete children (repeated measures keeps these)"),
        ("incomplete", data[~complete], ORANGE, "dot", "Children with a missing occasion (dropped by it)"),
    ):
        xs, ys, who = _joined(part, "child", "time", "score")
        fig.add_trace(go.Scatter(
            x=xs, y=ys, mode="lines+markers", meta=meta, name=f"{name}: {part['child'].nunique()}",
            line={"color": colour, "width": 2, "dash": dash}, opacity=0.8,
            marker={"size": 9, "color": colour, "symbol": "circle" if meta == "complete" else "diamond"},
            customdata=who,
            hovertemplate="child %{customdata}<br>time %{x:.2f}<br>score %{y:.1f}<extra></extra>",
        ))
    if mixed is not None and mixed.usable and len(data):
        _line(fig, (float(data["time"].min()), float(data["time"].max())),
              mixed.fixed["Intercept"], mixed.fixed["time"],
              "MixedLM (every observation): average growth", "mixed", POOLED_COLOUR, "solid", 6)
    fig = _layout(fig, title, "Years since the first planned occasion", "Score")
    fig.update_layout(legend={"orientation": "h", "y": -0.3, "font": {"size": 16}},
                      margin={"b": 150})
    return fig


def trajectories_figure(data: pd.DataFrame, person: str, x: str, y: str, curves: dict,
                        title: str = "", x_title: str = "", y_title: str = "") -> go.Figure:
    """Real growth data: each person's trajectory in grey, fixed-effect curves on top.

    Parameters
    ----------
    data : the rows to draw (a sample, for large data).
    person, x, y : column names.
    curves : mapping of label to ``(x grid, y values, colour, dash)``.

    Returns
    -------
    plotly Figure: trace ``people`` then one trace per curve (``meta`` = label).
    """
    fig = go.Figure()
    xs, ys, who = _joined(data, person, x, y)
    fig.add_trace(go.Scatter(
        x=xs, y=ys, mode="lines+markers", meta="people", name=f"each {person} ({data[person].nunique()})",
        line={"color": "#aaaaaa", "width": 1.5}, marker={"size": 6, "color": "#777777"},
        customdata=who,
        hovertemplate=f"{person} %{{customdata}}<br>{x} %{{x:.2f}}<br>{y} %{{y:.2f}}<extra></extra>",
    ))
    for label, (grid, values, colour, dash) in curves.items():
        fig.add_trace(go.Scatter(x=grid, y=values, mode="lines", meta=label, name=label,
                                 line={"color": colour, "width": 6, "dash": dash}))
    fig = _layout(fig, title, x_title or x, y_title or y)
    fig.update_layout(legend={"orientation": "h", "y": -0.3, "font": {"size": 16}},
                      margin={"b": 150})
    return fig


MODEL_LABELS = {
    "pooled": "Pooled OLS (ignores children)",
    "ri": "Random intercept (1 | child)",
    "rs": "Random intercept and slope (time | child)",
}


def ar1_figure(summary: pd.DataFrame, title: str = "") -> go.Figure:
    """Reported SE over the actual SD of the growth estimate, against the error correlation.

    Parameters
    ----------
    summary : from :func:`hlmlab.longitudinal.summarise_ar1`.

    Returns
    -------
    plotly Figure: one line per model (``meta`` = model key), a reference line at 1.
    """
    fig = go.Figure()
    for (model, part), colour, symbol in zip(summary.groupby("model", sort=False),
                                             (POOLED_COLOUR, ORANGE, BLUE), ("square", "diamond", "circle")):
        fig.add_trace(go.Scatter(
            x=part["rho"], y=part["ratio"], mode="lines+markers", meta=model,
            name=MODEL_LABELS.get(model, model),
            line={"color": colour, "width": 5}, marker={"size": 16, "symbol": symbol},
            hovertemplate="rho %{x}<br>reported SE / actual SD = %{y:.2f}<extra></extra>",
        ))
    fig.add_hline(y=1.0, line={"color": GREEN, "dash": "dash", "width": 3},
                  annotation_text="honest SE", annotation_font_size=16)
    fig = _layout(fig, title, "Lag-one correlation of a child's errors (rho)",
                  "Reported SE / actual SD", height=500)
    fig.update_layout(legend={"orientation": "h", "y": -0.25, "font": {"size": 16}})
    return fig
