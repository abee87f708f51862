"""Figures of the school-effectiveness (JSP) lesson. No Streamlit.

Built for a projector like :mod:`hlmlab.plots`: the same font size, the Okabe-Ito palette and
thick lines; categories differ by marker shape as well as colour, so they survive greyscale
and colour blindness. Many pupils or schools are drawn as *one* trace with gaps (``None``)
between them, which keeps the figures light to send and redraw. Every trace carries a
``meta`` saying what it is, so tests check figures through their data.
"""

from __future__ import annotations

import textwrap
from typing import Collection, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from hlmlab import models
from hlmlab.plots import (AXIS_STYLE, FONT, LIGHT_LAYOUT, PALETTE, POOLED_COLOUR, group_styles,
                          lines_figure)
from hlmlab.schools import SchoolDataSpec, SchoolLines

__all__ = [
    "LIGHT_LAYOUT",
    "caterpillar_figure",
    "intake_lines_figure",
    "light",
    "per_school_lines_figure",
    "pooling_lines_figure",
    "pupil_trajectories_figure",
    "r2_histogram",
    "rank_slope_figure",
    "ranking_figures",
    "school_lines_figure",
    "school_trajectories_figure",
    "slope_pairs_figure",
    "slope_scatter_figure",
    "variance_partition_figure",
]

BLUE, VERMILLION, GREEN, PINK, ORANGE, SKY = PALETTE[:6]
GREY = "#8c8c8c"
POSITION_STYLES = {
    "above": {"colour": BLUE, "symbol": "triangle-up", "label": "Interval above the average"},
    "average": {"colour": GREY, "symbol": "circle", "label": "Interval overlaps the average"},
    "below": {"colour": VERMILLION, "symbol": "triangle-down", "label": "Interval below the average"},
}
LEVEL_COLOURS = {"school": BLUE, "pupil": ORANGE, "occasion": GREEN}
# Colours and markers of the within-school lines, fixed whichever years a school has.
OCCASION_STYLES = group_styles(["year 0", "year 1", "year 2"])
ALL_PUPILS_STYLES = group_styles(["all pupils"])


def light(fig: go.Figure) -> go.Figure:
    """Give a figure (e.g. from :func:`hlmlab.plots.lines_figure`) the light template-free
    look of this module's figures, so it is cheap to send; returns the same figure."""
    fig.update_layout(**LIGHT_LAYOUT)
    return fig


def _layout(title: str, x_title: str = "", y_title: str = "", height: int = 560,
            **extra) -> dict:
    """The layout as one dict: a figure built in one go (``go.Figure(data, layout)``) costs a
    fraction of one updated key by key, which matters within a slider's redraw budget."""
    layout = {
        **LIGHT_LAYOUT,
        "title": {"text": title, "font": {"size": 22}},
        "font": FONT,
        "xaxis": {**AXIS_STYLE, "title": {"text": x_title}},
        "yaxis": {**AXIS_STYLE, "title": {"text": y_title}},
        "height": height,
        "margin": {"l": 80, "r": 20, "t": 70, "b": 60},
        "legend": {"font": {"size": 16}},
        "hoverlabel": {"font": {"size": 16}},
    }
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(layout.get(key), dict):
            layout[key] = {**layout[key], **value}
        else:
            layout[key] = value
    return layout


def _vline(x: float, colour: str = POOLED_COLOUR, dash: str = "dash") -> dict:
    return {"type": "line", "xref": "x", "yref": "paper", "x0": x, "x1": x, "y0": 0, "y1": 1,
            "line": {"color": colour, "dash": dash, "width": 2}}


def _gapped(frame: pd.DataFrame, key: str, x: str, y: str) -> tuple[list, list, list]:
    """x, y and label lists for one trace: each key's points joined, None between keys."""
    xs, ys, who = [], [], []
    for label, part in frame.sort_values([key, x]).groupby(key, sort=True):
        xs += part[x].tolist() + [None]
        ys += part[y].tolist() + [None]
        who += [str(label)] * len(part) + [None]
    return xs, ys, who


def pupil_trajectories_figure(rows: pd.DataFrame, pupil: str, occasion: str, outcome: str,
                              title: str, x_title: str, y_title: str) -> go.Figure:
    """One school's pupils across occasions, one grey line per pupil, and the school's mean.

    Traces: ``meta="pupils"`` (every pupil, one gapped trace) and ``meta="school mean"``.
    """
    xs, ys, who = _gapped(rows, pupil, occasion, outcome)
    means = rows.groupby(occasion)[outcome].mean()
    data = [
        {"type": "scatter", "x": xs, "y": ys, "customdata": who, "mode": "lines+markers",
         "meta": "pupils", "name": f"One pupil (n={rows[pupil].nunique()})",
         "line": {"color": GREY, "width": 1.5}, "marker": {"size": 7, "color": GREY},
         "opacity": 0.7,
         "hovertemplate": f"pupil %{{customdata}}<br>{occasion} %{{x}}<br>{outcome} %{{y}}<extra></extra>"},
        {"type": "scatter", "x": means.index.tolist(), "y": means.to_numpy(),
         "mode": "lines+markers", "meta": "school mean", "name": "School mean",
         "line": {"color": BLUE, "width": 6}, "marker": {"size": 14, "color": BLUE},
         "hovertemplate": f"mean {outcome} %{{y:.2f}}<extra></extra>"},
    ]
    layout = _layout(title, x_title, y_title,
                     xaxis={"tickvals": sorted(rows[occasion].unique().tolist())})
    return go.Figure(data=data, layout=layout)


def school_lines_figure(lines: pd.DataFrame, title: str, x_title: str, y_title: str,
                        points: pd.DataFrame | None = None, x: str = "x", y: str = "y",
                        group: str = "group", highlight=None) -> go.Figure:
    """Every school's own regression line in one panel (one gapped trace).

    Parameters
    ----------
    lines : from :func:`hlmlab.models.fitted_lines` (``family, group, x, y``).
    points : optional rows drawn as small markers (e.g. each school's yearly means) with
        columns ``x``, ``y`` and ``group`` as named.
    highlight : a school drawn thick in colour on top.

    Traces: ``meta="points"`` (if any), ``meta="school lines"``, ``meta="highlight:<school>"``.
    """
    data = []
    if points is not None and len(points):
        data.append({"type": "scatter", "x": points[x], "y": points[y], "mode": "markers",
                     "meta": "points", "name": "School means",
                     "marker": {"size": 7, "color": GREY, "opacity": 0.6},
                     "customdata": points[group].astype(str),
                     "hovertemplate": "school %{customdata}: %{y:.2f}<extra></extra>"})
    xs, ys, who = _gapped(lines, "group", "x", "y")
    data.append({"type": "scatter", "x": xs, "y": ys, "customdata": who, "mode": "lines",
                 "meta": "school lines",
                 "name": f"One school's line ({lines['group'].nunique()} schools)",
                 "line": {"color": SKY, "width": 2}, "opacity": 0.8,
                 "hovertemplate": "school %{customdata}<extra></extra>"})
    if highlight is not None:
        part = lines[lines["group"] == highlight]
        if len(part):
            data.append({"type": "scatter", "x": part["x"], "y": part["y"], "mode": "lines",
                         "meta": f"highlight:{highlight}", "name": f"School {highlight}",
                         "line": {"color": VERMILLION, "width": 6}})
    return go.Figure(data=data, layout=_layout(title, x_title, y_title))


def r2_histogram(r2: pd.Series, band: tuple[float, float], title: str,
                 x_title: str = "R² of the school's own line") -> go.Figure:
    """Histogram of per-school R² (bins of 0.05 on 0-1) with the deck's band shaded.

    Traces: ``meta="r2"``; the band is the layout's first shape.
    """
    values = pd.Series(r2, dtype=float).dropna()
    data = [{"type": "histogram", "x": values, "meta": "r2", "name": "schools",
             "xbins": {"start": 0.0, "end": 1.0 + 1e-9, "size": 0.05},
             "marker": {"color": BLUE, "line": {"color": "white", "width": 1}},
             "hovertemplate": "R² %{x}: %{y} schools<extra></extra>"}]
    band_shape = {"type": "rect", "xref": "x", "yref": "paper", "x0": band[0], "x1": band[1],
                  "y0": 0, "y1": 1, "fillcolor": ORANGE, "opacity": 0.18, "line": {"width": 0},
                  "layer": "below"}
    # Inside the band's top (above the plot it ran into the subtitle).
    label = {"x": band[0], "xref": "x", "y": 1, "yref": "paper", "xanchor": "left",
             "yanchor": "top", "showarrow": False, "text": f" {band[0]:g} to {band[1]:g}"}
    layout = _layout(title, x_title, "Number of schools", height=420, shapes=[band_shape],
                     annotations=[label], xaxis={"range": [0, 1.0]})
    return go.Figure(data=data, layout=layout)


def caterpillar_figure(ranking: pd.DataFrame, title: str, x_title: str) -> go.Figure:
    """School effects with 95% intervals, sorted, coloured and shaped by where the interval
    lies: above, overlapping or below the average (0, the dashed line).

    Parameters
    ----------
    ranking : from :func:`hlmlab.schools.rank_schools`.

    Traces: one per position present, ``meta`` = ``"above"``, ``"average"`` or ``"below"``;
    each point's ``customdata`` holds school, rank, rank_low, rank_high, n.
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
            "hovertemplate": ("school %{customdata[0]} (n=%{customdata[4]})<br>effect %{x:.2f}"
                              "<br>rank %{customdata[1]}, plausibly %{customdata[2]} to "
                              "%{customdata[3]}<extra></extra>"),
        })
    many = len(ordered) > 40
    layout = _layout(
        title, x_title, "", height=max(420, 120 + 11 * len(ordered)), shapes=[_vline(0)],
        yaxis={"tickvals": positions, "ticktext": [str(s) for s in ordered.index],
               "showticklabels": not many, "title": {"text": "School (ordered by effect)"}},
        legend={"orientation": "h", "y": -0.12, "font": {"size": 15}})
    return go.Figure(data=data, layout=layout)


def rank_slope_figure(left: pd.Series, right: pd.Series, title: str, left_label: str,
                      right_label: str, highlight: Sequence = ()) -> go.Figure:
    """A slope chart: each school's rank on the left axis joined to its rank on the right.

    Parameters
    ----------
    left, right : ranks indexed by school (1 = best, drawn at the top).
    highlight : schools drawn thick in colour (e.g. those that move most); the rest grey.

    Traces: ``meta="others"`` (one gapped trace) and ``meta="moved:<school>"`` per highlight.
    """
    common = [s for s in right.index if s in left.index]
    others = [s for s in common if s not in set(highlight)]
    xs, ys, who = [], [], []
    for school in others:
        xs += [0, 1, None]
        ys += [left[school], right[school], None]
        who += [str(school)] * 2 + [None]
    data = [{"type": "scatter", "x": xs, "y": ys, "customdata": who, "mode": "lines+markers",
             "meta": "others", "name": "Other schools", "line": {"color": GREY, "width": 1.5},
             "marker": {"size": 6}, "opacity": 0.6,
             "hovertemplate": "school %{customdata}: rank %{y}<extra></extra>"}]
    colours = [BLUE, VERMILLION, GREEN, PINK, ORANGE, SKY]
    for i, school in enumerate([s for s in highlight if s in common]):
        data.append({
            "type": "scatter", "x": [0, 1], "y": [left[school], right[school]],
            "mode": "lines+markers+text", "meta": f"moved:{school}",
            "name": f"School {school}: {int(left[school])} → {int(right[school])}",
            "line": {"color": colours[i % len(colours)], "width": 5}, "marker": {"size": 12},
            "text": [str(school), str(school)], "textposition": ["middle left", "middle right"],
        })
    n = max(len(common), 1)
    layout = _layout(title, "", "", height=max(480, 120 + 9 * n),
                     yaxis={"range": [n + 1, 0], "title": {"text": "Rank (1 = top)"}},
                     # Level labels: angled, two long ones ran into each other and the chart.
                     xaxis={"tickvals": [0, 1], "ticktext": [left_label, right_label],
                            "tickangle": 0, "range": [-0.3, 1.3], "showgrid": False,
                            "zeroline": False},
                     # Below: at the side the legend left the chart a strip 60 px wide.
                     legend={"orientation": "h", "y": -0.1, "font": {"size": 15}})
    return go.Figure(data=data, layout=layout)


def slope_scatter_figure(pairs: pd.DataFrame, title: str, x_title: str, y_title: str,
                         fixed_slope: float | None = None) -> go.Figure:
    """Each school's own OLS slope (x) against its multilevel slope (y), with y = x.

    Points on the diagonal: the multilevel slope equals the school's own. Points pulled to the
    horizontal line: the school's slope shrunk to the average slope ``fixed_slope``.

    Traces: ``meta="y=x"``, ``meta="average slope"`` (if given) and ``meta="schools"``.
    """
    if len(pairs):
        low = float(min(pairs["ols_slope"].min(), pairs["multilevel_slope"].min()))
        high = float(max(pairs["ols_slope"].max(), pairs["multilevel_slope"].max()))
    else:
        low, high = -1.0, 1.0
    pad = 0.05 * (high - low or 1.0)
    low, high = low - pad, high + pad
    data = [{"type": "scatter", "x": [low, high], "y": [low, high], "mode": "lines",
             "meta": "y=x", "name": "y = x (no shrinkage)",
             "line": {"color": POOLED_COLOUR, "dash": "dash", "width": 2}}]
    if fixed_slope is not None and np.isfinite(fixed_slope):
        data.append({"type": "scatter", "x": [low, high], "y": [fixed_slope, fixed_slope],
                     "mode": "lines", "meta": "average slope",
                     "name": "Average slope (complete pooling)",
                     "line": {"color": ORANGE, "dash": "dot", "width": 3}})
    sizes = (8 + 14 * np.sqrt(pairs["n"] / max(pairs["n"].max(), 1))).tolist() if len(pairs) else []
    data.append({
        "type": "scatter", "x": pairs["ols_slope"], "y": pairs["multilevel_slope"],
        "mode": "markers", "meta": "schools", "name": f"Schools ({len(pairs)}; size = pupils)",
        "marker": {"color": BLUE, "size": sizes, "opacity": 0.8,
                   "line": {"color": "white", "width": 1}},
        "customdata": np.column_stack([pairs.index.astype(str), pairs["n"]]) if len(pairs) else None,
        "hovertemplate": ("school %{customdata[0]} (n=%{customdata[1]})<br>own %{x:.3f}<br>"
                          "multilevel %{y:.3f}<extra></extra>"),
    })
    layout = _layout(title, x_title, y_title, yaxis={"scaleanchor": "x", "scaleratio": 1})
    return go.Figure(data=data, layout=layout)


def variance_partition_figure(partition: pd.DataFrame, title: str) -> go.Figure:
    """Horizontal stacked bars: each model's variance split into school, pupil and occasion.

    Parameters
    ----------
    partition : ``model, level, variance, share`` (from :class:`hlmlab.schools.LevelComparison`).

    Traces: one per level, ``meta`` = the level.
    """
    models_order = list(dict.fromkeys(partition["model"]))
    data = []
    for level in ("school", "pupil", "occasion"):
        part = partition[partition["level"] == level].set_index("model").reindex(models_order)
        data.append({
            "type": "bar", "y": models_order, "x": part["share"], "orientation": "h",
            "meta": level, "name": {"occasion": "occasion (within pupil)"}.get(level, level),
            # A faint pattern over the solid colour: it tells the levels apart in greyscale
            # without hiding the text.
            "marker": {"color": LEVEL_COLOURS[level],
                       "pattern": {"shape": {"school": "", "pupil": "/", "occasion": "."}[level],
                                   "fillmode": "overlay", "fgopacity": 0.25}},
            # Three significant digits: JSP variances are tens, egsingle's tenths.
            "text": [f"{s:.0%}<br>{v:.3g}" if np.isfinite(s) else ""
                     for s, v in zip(part["share"], part["variance"])],
            "textposition": "inside", "insidetextanchor": "middle",
            "insidetextfont": {"color": "white" if level == "school" else "black"},
            "hovertemplate": f"{level}: %{{x:.1%}}<extra></extra>",
        })
    layout = _layout(title, "Share of the total variance", "",
                     height=200 + 90 * len(models_order), barmode="stack",
                     legend={"orientation": "h", "y": -0.25},
                     margin={"l": 20, "r": 20, "t": 70, "b": 60},
                     xaxis={"range": [0, 1], "tickformat": ".0%"},
                     # Model names on short lines: on one line they took most of a
                     # half-width column from the bars.
                     yaxis={"autorange": "reversed", "automargin": True,
                            "tickvals": models_order,
                            "ticktext": ["<br>".join(textwrap.wrap(str(m), 20))
                                         for m in models_order]})
    return go.Figure(data=data, layout=layout)


# --------------------------------------------------------------------------- the lesson's views
# Each takes a school data spec and ``source``, the data's label that every title carries
# (e.g. "JSP (synthetic replica)"), and assembles one of the page's charts.


def school_trajectories_figure(data: pd.DataFrame, spec: SchoolDataSpec, school,
                               source: str) -> tuple[go.Figure, str]:
    """One school's pupils over the occasions (:func:`pupil_trajectories_figure`).

    Returns
    -------
    (figure, caption) : the caption counts the school's pupils and scores.
    """
    rows = data[data[spec.group] == school]
    figure = pupil_trajectories_figure(
        rows, spec.subgroup, spec.occasion, spec.outcome,
        f"School {school}: each pupil's math over the years · {source}",
        spec.occasion_label, spec.outcome_label)
    return figure, f"{source}. {rows[spec.subgroup].nunique()} pupils, {len(rows)} scores."


def intake_lines_figure(rows: pd.DataFrame, fit: models.PerGroupFit, lines: pd.DataFrame,
                        spec: SchoolDataSpec, school, source: str) -> tuple[go.Figure, str]:
    """One school's outcome against intake with an OLS line per occasion.

    Parameters
    ----------
    rows, fit, lines : from :func:`hlmlab.schools.intake_lines_by_occasion`.

    Returns
    -------
    (figure, caption) : the caption says what the lines are and adds the fit's messages
        (e.g. a year with too few pupils for a line).
    """
    years = spec.occasion is not None
    figure = lines_figure(
        rows, spec.outcome, spec.intake, "occasion", lines,
        OCCASION_STYLES if years else ALL_PUPILS_STYLES,
        title=f"School {school}: score against intake · {source}",
        x_title=spec.intake_label, y_title=spec.outcome_label)
    caption = (f"{source}. Lines: ordinary least squares "
               + ("in each year of this school." if years else "in this school.")
               + "".join(f" {m}" for m in fit.messages))
    return light(figure), caption


def per_school_lines_figure(school_lines: SchoolLines, spec: SchoolDataSpec, regression: str,
                            source: str) -> go.Figure:
    """Every school's own line (:func:`school_lines_figure`), over the school means when
    those were regressed.

    Parameters
    ----------
    school_lines : from :func:`hlmlab.schools.school_lines`.
    regression : the regression's name, the start of the title.
    """
    means = school_lines.school_means
    return school_lines_figure(
        school_lines.lines, f"{regression}: one line per school · {source}",
        spec.axis_label(school_lines.predictor), ("Mean " if means else "") + spec.outcome_label,
        points=school_lines.rows if means else None, x=school_lines.predictor, y=spec.outcome,
        group=spec.group)


def pooling_lines_figure(data: pd.DataFrame, spec: SchoolDataSpec, lines: pd.DataFrame,
                         predictor: str, drawn: int, families: Collection[str],
                         source: str) -> go.Figure:
    """Pooled, per-school and multilevel lines with the pupils of the first ``drawn`` schools.

    Parameters
    ----------
    data : every school's rows.
    lines : from :func:`hlmlab.models.compare_pooling` (fitted to every school).
    predictor : the lines' predictor; occasions (whole numbers) are jittered sideways.
    drawn : how many schools, in label order, have their points and lines drawn.
    families : the families drawn: any of ``"pooled"``, ``"per_group"``, ``"multilevel"``.
        The one pooled line is drawn whichever schools are.

    Returns
    -------
    plotly Figure from :func:`hlmlab.plots.lines_figure`; a school keeps its colour
    whatever is drawn. The legend lists the line families only: hover names a point's school.
    """
    school_ids = sorted(data[spec.group].unique().tolist())
    shown = school_ids[:drawn]
    lines = lines[lines["family"].isin(list(families))
                  & (lines["group"].isin(shown) | (lines["family"] == "pooled"))]
    figure = lines_figure(
        data[data[spec.group].isin(shown)], spec.outcome, predictor, spec.group, lines,
        group_styles(school_ids), jitter=0.15 if predictor == spec.occasion else 0.0,
        title=f"Pooled, per-school and multilevel lines · {source}",
        x_title=spec.axis_label(predictor), y_title=spec.outcome_label, group_legend=False)
    return light(figure)


def ranking_figures(ranking: pd.DataFrame, changes: pd.DataFrame | None, spec: SchoolDataSpec,
                    at_occasion: int | None, adjusted: bool,
                    source: str) -> tuple[go.Figure, go.Figure]:
    """The caterpillar plot of a ranking and its slope chart against the raw-mean ranks.

    Parameters
    ----------
    ranking : from :func:`hlmlab.schools.rank_schools`, with raw means.
    changes : from :func:`hlmlab.schools.rank_changes`, or None; its first three schools
        (those that move most with the intake adjustment) are highlighted.
    at_occasion : the occasion ranked on (JSP: the year), for the axis; None for all rows.
    adjusted : whether the ranking is adjusted for intake, for the titles.

    Returns
    -------
    (caterpillar, slope) : :func:`caterpillar_figure` and :func:`rank_slope_figure`.
    """
    which = "adjusted for intake" if adjusted else "not adjusted"
    outcome_words = spec.outcome_label + (f", year {at_occasion}" if at_occasion is not None
                                          else "")
    movers = changes.index[:3].tolist() if changes is not None else []
    caterpillar = caterpillar_figure(
        ranking, f"School effects, {which}, 95% intervals · {source}",
        f"School effect on {outcome_words}")
    slope = rank_slope_figure(
        ranking["naive_rank"], ranking["rank"], f"Raw mean vs model · {source}",
        "raw mean", "model" + (" (adjusted)" if adjusted else ""), highlight=movers)
    return caterpillar, slope


def slope_pairs_figure(pairs: pd.DataFrame, fit: models.MultilevelFit | None, predictor: str,
                       source: str) -> go.Figure:
    """Each school's own OLS slope against its multilevel slope (:func:`slope_scatter_figure`).

    Parameters
    ----------
    pairs : from :func:`hlmlab.schools.slope_pairs`.
    fit : the multilevel fit; its average slope of ``predictor`` is drawn when it is usable.
    """
    return slope_scatter_figure(
        pairs, f"Each school's slope: own OLS vs multilevel · {source}",
        "Separate OLS slope", "Multilevel slope",
        fit.fixed[predictor] if fit is not None and fit.usable else None)
