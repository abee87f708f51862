"""Figures of the JSP lesson (pages/jsp_schools.py). No Streamlit.

In the style of :mod:`hlmlab.style`; the figures any lesson can use (lines, caterpillar,
rank slopes, variance partition) are :mod:`hlmlab.figures`, assembled here with this lesson's
titles. Many pupils or schools are drawn as *one* trace with gaps (:func:`hlmlab.style.gapped_xy`),
which keeps the figures light to send and redraw. Every trace carries a ``meta`` saying what
it is, so tests check figures through their data.
"""

from __future__ import annotations

from typing import Collection

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from hlmlab.analyses.jsp_schools import LEVEL_NAMES, LevelComparison, SchoolDataSpec, SchoolLines
from hlmlab.figures import (
    caterpillar_figure,
    lines_figure,
    rank_slope_figure,
    variance_partition_figure,
)
from hlmlab.ols import PerGroupFit
from hlmlab.style import (
    BLUE,
    GREY,
    ORANGE,
    POOLED_COLOUR,
    SKY,
    VERMILLION,
    figure_layout,
    gapped_xy,
    group_styles,
)
from hlmlab.twolevel import MultilevelFit

__all__ = [
    "intake_lines_figure",
    "levels_figure",
    "per_school_lines_figure",
    "pooling_lines_figure",
    "pupil_trajectories_figure",
    "r2_histogram",
    "ranking_figures",
    "school_lines_figure",
    "school_trajectories_figure",
    "slope_pairs_figure",
    "slope_scatter_figure",
]

# Colours and markers of the within-school lines, fixed whichever years a school has.
OCCASION_STYLES = group_styles(["year 0", "year 1", "year 2"])
ALL_PUPILS_STYLES = group_styles(["all pupils"])
#: Legend names of the partition's levels.
LEVEL_LEGEND = {"occasion": "occasion (within pupil)"}


def pupil_trajectories_figure(rows: pd.DataFrame, pupil: str, occasion: str, outcome: str,
                              title: str, x_title: str, y_title: str) -> go.Figure:
    """One school's pupils across occasions, one grey line per pupil, and the school's mean.

    Traces: ``meta="pupils"`` (every pupil, one gapped trace) and ``meta="school mean"``.
    """
    xs, ys, who = gapped_xy(rows, pupil, occasion, outcome)
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
    layout = figure_layout(title, x_title, y_title,
                           xaxis={"tickvals": sorted(rows[occasion].unique().tolist())})
    return go.Figure(data=data, layout=layout)


def school_lines_figure(lines: pd.DataFrame, title: str, x_title: str, y_title: str,
                        points: pd.DataFrame | None = None, x: str = "x", y: str = "y",
                        group: str = "group", highlight=None) -> go.Figure:
    """Every school's own regression line in one panel (one gapped trace).

    Parameters
    ----------
    lines : from :func:`hlmlab.pooling.fitted_lines` (``family, group, x, y``).
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
    xs, ys, who = gapped_xy(lines, "group", "x", "y")
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
    return go.Figure(data=data, layout=figure_layout(title, x_title, y_title))


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
    layout = figure_layout(title, x_title, "Number of schools", height=420, shapes=[band_shape],
                           annotations=[label], xaxis={"range": [0, 1.0]})
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
    # The legend below the plot: at the side it took a third of a phone's width, and with
    # equal axis scales the plot was squeezed to a sliver. Equal scales on a wide chart made
    # plotly widen the x range instead (slopes of 0 to 6.5 drawn on an axis from -8 to 14):
    # both axes keep the data's range, and the plot area shrinks to a square instead.
    span = {"range": [low, high], "constrain": "domain"}
    layout = figure_layout(title, x_title, y_title, xaxis=dict(span),
                           yaxis={**span, "scaleanchor": "x", "scaleratio": 1},
                           legend={"orientation": "h", "yanchor": "top", "y": -0.2, "x": 0})
    return go.Figure(data=data, layout=layout)


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


def intake_lines_figure(rows: pd.DataFrame, fit: PerGroupFit, lines: pd.DataFrame,
                        spec: SchoolDataSpec, school, source: str) -> tuple[go.Figure, str]:
    """One school's outcome against intake with an OLS line per occasion.

    Parameters
    ----------
    rows, fit, lines : from :func:`hlmlab.analyses.jsp_schools.intake_lines_by_occasion`.

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
    return figure, caption


def per_school_lines_figure(school_lines: SchoolLines, spec: SchoolDataSpec, regression: str,
                            source: str) -> go.Figure:
    """Every school's own line (:func:`school_lines_figure`), over the school means when
    those were regressed.

    Parameters
    ----------
    school_lines : from :func:`hlmlab.analyses.jsp_schools.school_lines`.
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
    lines : from :func:`hlmlab.pooling.compare_pooling` (fitted to every school).
    predictor : the lines' predictor; occasions (whole numbers) are jittered sideways.
    drawn : how many schools, in label order, have their points and lines drawn.
    families : the families drawn: any of ``"pooled"``, ``"per_group"``, ``"multilevel"``.
        The one pooled line is drawn whichever schools are.

    Returns
    -------
    plotly Figure from :func:`hlmlab.figures.lines_figure`; a school keeps its colour
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
    return figure


def ranking_figures(ranking: pd.DataFrame, changes: pd.DataFrame | None, spec: SchoolDataSpec,
                    at_occasion: int | None, adjusted: bool,
                    source: str) -> tuple[go.Figure, go.Figure]:
    """The caterpillar plot of a ranking and its slope chart against the raw-mean ranks.

    Parameters
    ----------
    ranking : from :func:`hlmlab.ranking.rank_groups`, with raw means.
    changes : from :func:`hlmlab.ranking.rank_changes`, or None; its first three schools
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


def slope_pairs_figure(pairs: pd.DataFrame, fit: MultilevelFit | None, predictor: str,
                       source: str) -> go.Figure:
    """Each school's own OLS slope against its multilevel slope (:func:`slope_scatter_figure`).

    Parameters
    ----------
    pairs : from :func:`hlmlab.analyses.jsp_schools.slope_pairs`.
    fit : the multilevel fit; its average slope of ``predictor`` is drawn when it is usable.
    """
    return slope_scatter_figure(
        pairs, f"Each school's slope: own OLS vs multilevel · {source}",
        "Separate OLS slope", "Multilevel slope",
        fit.fixed[predictor] if fit is not None and fit.usable else None)


def levels_figure(comparison: LevelComparison, source: str) -> go.Figure:
    """Where the variance lies in the three-level model and in the models that ignore a
    level (:func:`hlmlab.figures.variance_partition_figure` of ``comparison.partition``)."""
    return variance_partition_figure(comparison.partition, f"Where the variance lies · {source}",
                                     LEVEL_LEGEND)
