"""Figures of the longitudinal lesson (pages/longitudinal.py): children's trajectories and
the lines fitted to them.

In the style of :mod:`hlmlab.style`. Many children are drawn as *one* trace with gaps
(:func:`hlmlab.style.gapped_xy`), which keeps a 200-child figure light to send and redraw.
Every trace carries a ``meta`` naming what it is, so tests check figures through their data.
No Streamlit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import plotly.graph_objects as go

# The analysis module builds its panels' charts here, so it is imported as a module (its
# names are looked up when a figure is drawn, after both modules have loaded).
from hlmlab.analyses import longitudinal as lesson
from hlmlab.figures import variance_partition_figure
from hlmlab.pooling import fitted_lines
from hlmlab.style import (
    BLUE,
    GREEN,
    GREY,
    LIGHT_GREY,
    PINK,
    POOLED_COLOUR,
    VERMILLION,
    figure_layout,
    gapped_xy,
)

if TYPE_CHECKING:
    from hlmlab.analyses.longitudinal import EgsingleGrowth, OxboysGrowth

__all__ = [
    "MODEL_LABELS",
    "ar1_figure",
    "egsingle_figure",
    "egsingle_partition_figure",
    "growth_figure",
    "oxboys_figure",
    "reading_figure",
    "slopes_figure",
    "trajectories_figure",
]

SLOPE_COLOURS = {"pooled": POOLED_COLOUR, "within": VERMILLION, "between": GREEN,
                 "growth": BLUE}
# Legends below the plot: beside it they took the chart's width or met the colour bar.
_LEGEND_BELOW = {"legend": {"orientation": "h", "y": -0.3}, "margin": {"b": 150}}


def _line(x_range, intercept, slope, name, meta, colour, dash, width=5) -> go.Scatter:
    x = np.asarray(x_range, dtype=float)
    return go.Scatter(
        x=x, y=intercept + slope * x, mode="lines", name=name, meta=meta,
        line={"color": colour, "dash": dash, "width": width},
        hovertemplate=f"{name}<br>slope {slope:.2f} per year<extra></extra>",
    )


def reading_figure(comparison, growth=None, show_decomposition: bool = False,
                   show_child_model_lines: bool = False, title: str = "") -> go.Figure:
    """Reading against age: each child's two points joined, and the fitted lines.

    Parameters
    ----------
    comparison : :class:`hlmlab.analyses.longitudinal.ReadingComparison`.
    growth : the growth model fit (``reading ~ age + (1 | child)`` or ``(age | child)``) or
        None; drawn only when usable: its average line, and each child's line when
        ``show_child_model_lines``.
    show_decomposition : add the within-child and between-child slopes, drawn through the
        grand mean so the three slopes can be compared by eye.
    title : figure title.

    Returns
    -------
    plotly Figure. Trace ``meta``: ``children`` (points joined per child: each child's own
    line), ``pooled``, ``growth``, ``growth_children``, ``within``, ``between``.
    """
    data = comparison.data
    xs, ys, who = gapped_xy(data, "child", "age", "reading")
    entry = data.groupby("child")["entry_age"].first().rename(index=str)
    colours = np.array([entry[w] if w is not None else np.nan for w in who], dtype=float)
    traces = [go.Scatter(
        x=xs, y=ys, mode="lines+markers", meta="children",
        name="Each child's two measurements, joined",
        line={"color": GREY, "width": 2},
        marker={"size": 11, "color": colours, "colorscale": "Cividis", "showscale": True,
                "colorbar": {"title": {"text": "age at<br>entry", "font": {"size": 16}},
                             "tickfont": {"size": 15}, "x": 1.02}},
        # No outline per marker: a stroke style per point cost 15-20% of a 400-point redraw
        # (benchmarks/README.md, session 4), the "Number of children" slider's budget.
        customdata=who,
        hovertemplate="child %{customdata}<br>age %{x:.2f}<br>reading %{y:.1f}<extra></extra>",
    )]
    age_range = (float(data["age"].min()), float(data["age"].max()))
    pooled = comparison.pooled
    traces.append(_line(age_range, pooled.coef["Intercept"], pooled.coef["age"],
                        "Pooled OLS: all measurements, one line", "pooled", POOLED_COLOUR,
                        "dash"))
    if growth is not None and growth.usable:
        if show_child_model_lines:
            ranges = data.groupby("child")["age"].agg(["min", "max"])
            lines = fitted_lines({"growth": growth},
                                 {"all": age_range, **{child: (lo, hi) for child, (lo, hi)
                                                       in ranges.iterrows()}})
            gx, gy, _ = gapped_xy(lines, "group", "x", "y")
            traces.append(go.Scatter(
                x=gx, y=gy, mode="lines", meta="growth_children", opacity=0.45,
                name="Multilevel: each child's predicted line", hoverinfo="skip",
                line={"color": BLUE, "width": 2},
            ))
        traces.append(_line(age_range, growth.fixed["Intercept"], growth.fixed["age"],
                            "Multilevel growth model: average child", "growth", BLUE, "solid", 6))
    slopes = comparison.slopes()
    if show_decomposition and {"within", "between"} <= set(slopes.index):
        x_bar, y_bar = float(data["age"].mean()), float(data["reading"].mean())
        for key, label, dash in (("within", "Within-child slope", "longdash"),
                                 ("between", "Between-child slope", "dashdot")):
            slope = float(slopes.loc[key, "estimate"])
            traces.append(_line(age_range, y_bar - slope * x_bar, slope, label, key,
                                SLOPE_COLOURS[key], dash, 5))
    # Legend under the plot, so it cannot collide with the colour bar on the right.
    return go.Figure(data=traces, layout=figure_layout(
        title, "Age (years)", "Reading score",
        **{**_LEGEND_BELOW, "legend": {"orientation": "h", "y": -0.28, "x": 0}}))


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
    traces = [go.Scatter(
        x=table["estimate"], y=names, mode="markers", meta="estimates", name="estimate ± 1.96 SE",
        marker={"size": 20, "color": colours, "symbol": "circle"},
        error_x={"type": "data", "array": 1.96 * table["se"], "thickness": 4, "width": 10},
        hovertemplate="%{y}: %{x:.2f} points per year<extra></extra>",
    )]
    if table["truth"].notna().any():
        traces.append(go.Scatter(
            x=table["truth"], y=names, mode="markers", meta="truth",
            name="true value in the simulation",
            marker={"size": 20, "color": PINK, "symbol": "x-thin-open", "line": {"width": 4}},
            hovertemplate="true %{y}: %{x:.2f}<extra></extra>",
        ))
    zero = {"type": "line", "xref": "x", "yref": "paper", "x0": 0, "x1": 0, "y0": 0, "y1": 1,
            "line": {"color": LIGHT_GREY, "width": 2}}
    return go.Figure(data=traces, layout=figure_layout(
        title, "Reading points per year of age", "", height=120 + 70 * len(names),
        shapes=[zero], yaxis={"tickfont": {"size": 18}},
        legend={"orientation": "h", "y": -0.35},
        margin={"l": 140, "r": 20, "t": 60, "b": 110}))


def growth_figure(data: pd.DataFrame, complete_children, mixed=None, title: str = "") -> go.Figure:
    """Part 2: every child's observed occasions joined; complete cases and the rest apart.

    Parameters
    ----------
    data : ``child, time, score`` (observed rows).
    complete_children : children with every planned occasion
        (:attr:`hlmlab.analyses.longitudinal.GrowthComparison.complete_children`).
    mixed : MixedLM growth fit (``score ~ time``) or None; its average line is drawn.

    Returns
    -------
    plotly Figure: traces ``complete``, ``incomplete`` and ``mixed``.
    """
    traces = []
    complete = data["child"].isin(set(complete_children))
    for meta, part, colour, dash, name in (
        ("complete", data[complete], BLUE, "solid", "Complete children (repeated measures keeps these)"),
        ("incomplete", data[~complete], VERMILLION, "dot", "Children with a missing occasion (dropped by it)"),
    ):
        xs, ys, who = gapped_xy(part, "child", "time", "score")
        traces.append(go.Scatter(
            x=xs, y=ys, mode="lines+markers", meta=meta, name=f"{name}: {part['child'].nunique()}",
            line={"color": colour, "width": 2, "dash": dash}, opacity=0.8,
            marker={"size": 9, "color": colour, "symbol": "circle" if meta == "complete" else "diamond"},
            customdata=who,
            hovertemplate="child %{customdata}<br>time %{x:.2f}<br>score %{y:.1f}<extra></extra>",
        ))
    if mixed is not None and mixed.usable and len(data):
        traces.append(_line((float(data["time"].min()), float(data["time"].max())),
                            mixed.fixed["Intercept"], mixed.fixed["time"],
                            "MixedLM (every observation): average growth", "mixed",
                            POOLED_COLOUR, "solid", 6))
    return go.Figure(data=traces, layout=figure_layout(
        title, "Years since the first planned occasion", "Score", **_LEGEND_BELOW))


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
    xs, ys, who = gapped_xy(data, person, x, y)
    traces = [go.Scatter(
        x=xs, y=ys, mode="lines+markers", meta="people", name=f"each {person} ({data[person].nunique()})",
        line={"color": LIGHT_GREY, "width": 1.5}, marker={"size": 6, "color": GREY},
        customdata=who,
        hovertemplate=f"{person} %{{customdata}}<br>{x} %{{x:.2f}}<br>{y} %{{y:.2f}}<extra></extra>",
    )]
    for label, (grid, values, colour, dash) in curves.items():
        traces.append(go.Scatter(x=grid, y=values, mode="lines", meta=label, name=label,
                                 line={"color": colour, "width": 6, "dash": dash}))
    return go.Figure(data=traces, layout=figure_layout(title, x_title or x, y_title or y,
                                                       **_LEGEND_BELOW))


#: The Oxford boys' curves: label, colour and dash of each model's average curve.
OXBOYS_CURVES = {"linear": ("Straight line (random slope)", VERMILLION, "dash"),
                 "quadratic": ("Quadratic: + age²", BLUE, "solid")}


def oxboys_figure(growth: OxboysGrowth) -> go.Figure:
    """Every boy's heights (grey) under the average boy's straight and quadratic curves."""
    curves = {OXBOYS_CURVES[key][0]: (grid, values, *OXBOYS_CURVES[key][1:])
              for key, (grid, values) in growth.curves().items()}
    return trajectories_figure(growth.data, "Subject", "age", "height", curves,
                               "Oxford boys' heights (nlme::Oxboys, real data)",
                               "Age (centred, scaled)", "Height (cm)")


def egsingle_figure(growth: EgsingleGrowth) -> go.Figure:
    """A seeded sample of Chicago pupils' math over the years, and the average child's line
    (:func:`hlmlab.analyses.longitudinal.egsingle_sample`; every child is fitted)."""
    sample = lesson.egsingle_sample(growth.data)
    line = growth.average_child()
    curves = {} if line is None else {
        "Average child (two-level growth model)": (*line, BLUE, "solid")}
    return trajectories_figure(
        sample, "childid", "year", "math", curves,
        f"{sample['childid'].nunique()} of {growth.data['childid'].nunique()} Chicago pupils "
        "(mlmRev::egsingle, real data)", "Study year (centred)", "Math score")


def egsingle_partition_figure(growth: EgsingleGrowth) -> go.Figure:
    """Where egsingle's variance lies: school, pupil and occasion."""
    return variance_partition_figure(
        growth.partition(), "Where the variance lies · Chicago pupils (egsingle, real data)")


MODEL_LABELS = {
    "pooled": "Pooled OLS (ignores children)",
    "ri": "Random intercept (1 | child)",
    "rs": "Random intercept and slope (time | child)",
}


def ar1_figure(summary: pd.DataFrame, title: str = "") -> go.Figure:
    """Reported SE over the actual SD of the growth estimate, against the error correlation.

    Parameters
    ----------
    summary : from :func:`hlmlab.analyses.longitudinal.summarise_ar1`.

    Returns
    -------
    plotly Figure: one line per model (``meta`` = model key), a reference line at 1.
    """
    fig = go.Figure()
    for (model, part), colour, symbol in zip(summary.groupby("model", sort=False),
                                             (POOLED_COLOUR, VERMILLION, BLUE),
                                             ("square", "diamond", "circle")):
        fig.add_trace(go.Scatter(
            x=part["rho"], y=part["ratio"], mode="lines+markers", meta=model,
            name=MODEL_LABELS.get(model, model),
            line={"color": colour, "width": 5}, marker={"size": 16, "symbol": symbol},
            hovertemplate="rho %{x}<br>reported SE / actual SD = %{y:.2f}<extra></extra>",
        ))
    fig.add_hline(y=1.0, line={"color": GREEN, "dash": "dash", "width": 3},
                  annotation_text="honest SE", annotation_font_size=16)
    return fig.update_layout(**figure_layout(
        title, "Lag-one correlation of a child's errors (rho)", "Reported SE / actual SD",
        height=500, legend={"orientation": "h", "y": -0.25}))
