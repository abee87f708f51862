"""Figures of the "Why multilevel?" lesson (pages/why_multilevel.py), in the style of
:mod:`hlmlab.style`.

Builders take data from :mod:`hlmlab.analyses.why_multilevel` and return ``go.Figure``; no
Streamlit. Every trace carries ``meta`` naming what it shows, so tests can read the figures'
data.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from hlmlab.figures import variance_partition_figure
from hlmlab.style import (
    BLUE,
    GREEN,
    GREY,
    ORANGE,
    PALETTE,
    POOLED_COLOUR,
    VERMILLION,
    figure_layout,
    jitter_offsets,
)

if TYPE_CHECKING:  # the analysis module imports this one to build its panels' charts
    from hlmlab.analyses.why_multilevel import IccSample

__all__ = [
    "ANALYSIS_COLOURS",
    "MAX_PUPILS_DRAWN",
    "STYLE_COLOURS",
    "classic_study_figure",
    "grouped_scores_figure",
    "icc_partition_figure",
    "precision_figure",
    "pupils_drawn_per_class",
    "rejection_figure",
    "sampling_figure",
]

STYLE_COLOURS = {"informal": BLUE, "formal": VERMILLION}
ANALYSIS_COLOURS = {"pupils_ols": VERMILLION, "multilevel": GREEN, "class_means_ols": BLUE}
#: Legend names of the ICC's two levels.
ICC_LEVELS = {"between": "between classes (τ₀₀)", "within": "within classes (σ²)"}


#: At most this many pupils are drawn as points in the classic study's chart (a random,
#: seeded subset of the same size in every class beyond it). Every marker is an SVG element
#: that plotly.js restyles on each redraw: 1,000 pupils (25 teachers per style) took the
#: "Teachers per style" slider over the 250 ms budget; every pupil still counts in each
#: class's range line and mean.
MAX_PUPILS_DRAWN = 480


def pupils_drawn_per_class(classes: int, pupils_per_class: int) -> int:
    """How many pupils of each class :func:`classic_study_figure` draws as points: all of
    them up to :data:`MAX_PUPILS_DRAWN` in total, else the same share of every class (at
    least 3, so each class still shows a spread)."""
    return min(pupils_per_class, max(3, MAX_PUPILS_DRAWN // max(classes, 1)))


def classic_study_figure(data: pd.DataFrame, title: str = "") -> go.Figure:
    """Pupils' scores grouped by class, informal classes left, formal right.

    Every class gets a vertical line from its lowest to its highest pupil and a mark at its
    mean (from every pupil); pupils are drawn as points up to :data:`MAX_PUPILS_DRAWN` in
    total, beyond that a seeded random subset of each class (the legend says how many).

    Parameters
    ----------
    data : frame from :func:`hlmlab.analyses.why_multilevel.simulate_classic_study`.

    Returns
    -------
    go.Figure: one marker trace per style (``meta`` = style), one range trace per style
    (``meta`` = ``"range:<style>"``, one segment per class, ``None`` between classes), a
    class-mean trace (``meta`` = ``"class means"``) and one line per style mean
    (``meta`` = ``"mean:<style>"``).
    """
    fig = go.Figure()
    classes = data["class"].to_numpy()
    scores = data["score"].to_numpy()
    styles = data["style"].to_numpy()
    sizes = data.groupby("class", sort=True)["score"].size()
    per_class = int(sizes.max()) if len(sizes) else 0
    drawn = pupils_drawn_per_class(len(sizes), per_class)
    # The first `drawn` pupils of each class in a seeded shuffle: the same pupils at every
    # redraw of one study, a different subset per class.
    order = np.random.default_rng(5).permutation(len(data))
    position = pd.Series(order).groupby(classes[order]).cumcount().to_numpy()
    shown = np.zeros(len(data), dtype=bool)
    shown[order[position < drawn]] = True
    offsets = jitter_offsets(len(data), seed=5) * 0.25
    label = "pupils" if drawn >= per_class else f"pupils ({drawn} of {per_class} per class)"
    ranges = data.groupby("class", sort=True).agg(low=("score", "min"), high=("score", "max"),
                                                  style=("style", "first"))
    for style in ("informal", "formal"):
        part = (styles == style) & shown
        fig.add_trace(
            go.Scatter(
                x=classes[part] + offsets[part], y=scores[part], mode="markers",
                name=f"{style} {label}", meta=style, opacity=0.6,
                marker={"color": STYLE_COLOURS[style], "size": 8,
                        "symbol": "circle" if style == "informal" else "square"},
                hovertemplate=f"{style} style<br>class %{{x:.0f}}<br>score %{{y:.1f}}<extra></extra>",
            )
        )
        spans = ranges[ranges["style"] == style]
        xs = np.repeat(spans.index.to_numpy(dtype=float), 3)
        ys = np.column_stack([spans["low"], spans["high"], np.full(len(spans), np.nan)]).ravel()
        fig.add_trace(
            go.Scatter(
                x=xs, y=ys, mode="lines", name=f"{style} class range", meta=f"range:{style}",
                line={"color": STYLE_COLOURS[style], "width": 2}, connectgaps=False,
                showlegend=False, hoverinfo="skip",
            )
        )
    means = data.groupby("class", sort=True).agg(score=("score", "mean"), style=("style", "first"))
    fig.add_trace(
        go.Scatter(
            x=means.index, y=means["score"], mode="markers", name="class mean", meta="class means",
            marker={"color": POOLED_COLOUR, "symbol": "line-ew-open", "size": 26,
                    "line": {"width": 4}},
            hovertemplate="class %{x} mean %{y:.2f}<extra></extra>",
        )
    )
    for style in ("informal", "formal"):
        part = means[means["style"] == style]
        if part.empty:
            continue
        level = data.loc[data["style"] == style, "score"].mean()
        fig.add_trace(
            go.Scatter(
                x=[part.index.min() - 0.4, part.index.max() + 0.4], y=[level, level],
                mode="lines", name=f"{style} mean {level:.1f}", meta=f"mean:{style}",
                line={"color": STYLE_COLOURS[style], "width": 5},
            )
        )
    # One label per style under its classes (they are the axis title too): a number per
    # class overlapped at 20 or more classes in a half-width column; the hover still names
    # each pupil's class.
    style_centres = means.reset_index().groupby("style")["class"].mean()
    return fig.update_layout(**figure_layout(
        title, "", "reading score", 560,
        xaxis={"tickvals": style_centres.tolist(),
               "ticktext": [f"{style} classes" for style in style_centres.index],
               "tickangle": 0},
        # Below the plot: at the side, the legend took half of a half-width column.
        legend={"orientation": "h", "yanchor": "top", "y": -0.12, "x": 0}))


def rejection_figure(summary: pd.DataFrame, alpha: float, n_studies: int) -> go.Figure:
    """Each analysis's rejection rate with its 95% Monte Carlo interval, against alpha.

    Parameters
    ----------
    summary : ``ManyStudies.summary``.
    alpha : the nominal level, drawn as a line.
    n_studies : number of studies (for the title).

    Returns
    -------
    go.Figure with one bar trace (``meta`` = ``"rates"``, x = rates in %).
    """
    labels = summary["analysis"].tolist()[::-1]
    rates = (summary["rejection_rate"] * 100).to_numpy()[::-1]
    errors = (1.96 * summary["mc_se"] * 100).to_numpy()[::-1]
    colours = [ANALYSIS_COLOURS.get(k, ORANGE) for k in summary.index[::-1]]
    fig = go.Figure(
        go.Bar(
            x=rates, y=labels, orientation="h", meta="rates", marker_color=colours,
            error_x={"type": "data", "array": errors, "thickness": 2, "width": 8},
            text=[f"{r:.1f}%" for r in rates], textposition="outside", textfont={"size": 20},
            hovertemplate="%{y}: %{x:.1f}% of studies found a 'significant' effect<extra></extra>",
            cliponaxis=False,
        )
    )
    fig.add_vline(x=alpha * 100, line={"color": POOLED_COLOUR, "dash": "dash", "width": 3},
                  annotation_text=f"nominal {alpha:.0%}", annotation_font_size=18,
                  annotation_position="top right")
    top = max(float(np.nanmax(rates + errors)) if len(rates) else 0.0, alpha * 100) * 1.25 + 2
    return fig.update_layout(**figure_layout(
        f"Studies with p < {alpha:g} when style has no effect ({n_studies} studies)",
        "rejection rate (%)", "", 360, xaxis={"range": [0, min(100, top) + 8]},
        showlegend=False))


def precision_figure(table: pd.DataFrame, total_pupils: int, icc: float) -> go.Figure:
    """SE of the style effect for every split of a fixed number of pupils.

    Parameters
    ----------
    table : frame from :func:`hlmlab.analyses.why_multilevel.precision_by_split`.

    Returns
    -------
    go.Figure with traces ``meta`` = ``"se_true"``, ``"se_simulated"``,
    ``"se_naive_ols"``, ``"se_srs"``; x is the split label "teachers × pupils".
    """
    x = table["label"].tolist()
    fig = go.Figure()
    custom = np.column_stack([table["design_effect"], table["effective_n"]])
    fig.add_trace(go.Scatter(
        x=x, y=table["se_true"], mode="lines", meta="se_true", customdata=custom,
        name="true SE: √(4/J · (τ₀₀ + σ²/n))", line={"color": GREEN, "width": 5},
        hovertemplate="%{x}<br>true SE %{y:.2f}<br>design effect %{customdata[0]:.2f}"
                      "<br>effective N %{customdata[1]:.0f}<extra></extra>"))
    fig.add_trace(go.Scatter(
        x=x, y=table["se_simulated"], mode="markers", meta="se_simulated",
        name="SD of the estimate in simulated studies",
        marker={"color": GREEN, "size": 14, "symbol": "diamond",
                "line": {"width": 2, "color": "white"}},
        hovertemplate="%{x}<br>simulated SD %{y:.2f}<extra></extra>"))
    fig.add_trace(go.Scatter(
        x=x, y=table["se_naive_ols"], mode="lines+markers", meta="se_naive_ols",
        name="SE that OLS on pupils reports", line={"color": VERMILLION, "width": 4, "dash": "dash"},
        marker={"size": 9}, hovertemplate="%{x}<br>naive OLS SE %{y:.2f}<extra></extra>"))
    fig.add_trace(go.Scatter(
        x=x, y=table["se_srs"], mode="lines", meta="se_srs",
        name=f"{total_pupils} independent pupils", line={"color": POOLED_COLOUR, "width": 2,
                                                          "dash": "dot"},
        hovertemplate="independent pupils: SE %{y:.2f}<extra></extra>"))
    return fig.update_layout(**figure_layout(
        f"{total_pupils} pupils, ICC {icc:.2f}: SE of the style effect by design",
        "teachers (J) × pupils per teacher (n)", "standard error (score points)", 520,
        xaxis={"type": "category", "tickangle": -45}, yaxis={"rangemode": "tozero"},
        legend={"orientation": "h", "y": -0.35}))


def grouped_scores_figure(data: pd.DataFrame, title: str = "") -> go.Figure:
    """Pupils' scores by class, classes sorted by their mean, one colour per class.

    Returns
    -------
    go.Figure: a marker trace (``meta`` = ``"pupils"``) and a class-mean trace
    (``meta`` = ``"class means"``); x is the class's rank by mean.
    """
    means = data.groupby("class")["score"].mean().sort_values()
    rank = pd.Series(np.arange(1, len(means) + 1), index=means.index)
    x = rank.reindex(data["class"]).to_numpy() + jitter_offsets(len(data), seed=7) * 0.2
    colours = [PALETTE[(int(r) - 1) % len(PALETTE)] for r in rank.reindex(data["class"])]
    fig = go.Figure()
    fig.add_trace(go.Scatter(
        x=x, y=data["score"], mode="markers", meta="pupils", name="pupils",
        marker={"color": colours, "size": 9, "opacity": 0.7},
        hovertemplate="score %{y:.1f}<extra></extra>"))
    fig.add_trace(go.Scatter(
        x=rank.to_numpy(), y=means.to_numpy(), mode="markers", meta="class means",
        name="class mean", marker={"color": POOLED_COLOUR, "symbol": "line-ew-open", "size": 26,
                                   "line": {"width": 4}},
        hovertemplate="class mean %{y:.1f}<extra></extra>"))
    fig.add_hline(y=data["score"].mean(), line={"color": GREY, "dash": "dot", "width": 2})
    return fig.update_layout(**figure_layout(title, "class, sorted by its mean", "score", 480,
                                             showlegend=False))


def icc_partition_figure(sample: IccSample) -> go.Figure:
    """Stacked bars: the share of variance between and within classes, true and estimated,
    with the ICC's 95% interval (:func:`hlmlab.figures.variance_partition_figure`).

    Returns
    -------
    go.Figure with bar traces ``meta`` = ``"between"`` and ``"within"`` (rows "true" and
    "MixedLM estimate", x in shares) and an interval trace ``meta`` = ``"interval"``.
    """
    return variance_partition_figure(
        sample.partition(), "Where the variance lies", ICC_LEVELS,
        interval=("MixedLM estimate", sample.fit.icc, sample.low, sample.high))


def sampling_figure(means: pd.DataFrame, population_mean: float, sample_size: int) -> go.Figure:
    """Histograms of the sample means of repeated multi-stage and simple random samples.

    Returns
    -------
    go.Figure with histogram traces ``meta`` = ``"multistage"`` and ``"srs"``.
    """
    fig = go.Figure()
    names = {"multistage": "multi-stage samples", "srs": "simple random samples"}
    colours = {"multistage": VERMILLION, "srs": BLUE}
    low, high = float(means.min().min()), float(means.max().max())
    size = (high - low) / 40 if high > low else 0.1
    for key in ("srs", "multistage"):
        fig.add_trace(go.Histogram(
            x=means[key], name=names[key], meta=key, marker_color=colours[key], opacity=0.6,
            xbins={"start": low, "end": high + size, "size": size},
            hovertemplate="mean %{x}<br>%{y} samples<extra></extra>"))
    fig.add_vline(x=population_mean, line={"color": POOLED_COLOUR, "width": 3, "dash": "dash"},
                  annotation_text="population mean", annotation_font_size=16)
    return fig.update_layout(**figure_layout(
        f"Sample means of {len(means)} repeated samples of {sample_size} pupils",
        "sample mean score", "number of samples", 440, barmode="overlay",
        legend={"orientation": "h", "y": -0.25}))
