"""Figures of the Foundations lesson, in HLM Lab's one figure style (:mod:`hlmlab.style`).

Builders take the tables of :mod:`hlmlab.analyses.foundations` and return ``go.Figure``; no
Streamlit. Every trace carries ``meta`` naming what it shows, so tests read the figures'
data. Titles are "what · data", the data label saying the data are synthetic.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from hlmlab.style import (
    BLUE,
    GREEN,
    ORANGE,
    PINK,
    POOLED_COLOUR,
    SKY,
    VERMILLION,
    figure_layout,
    jitter_offsets,
)

__all__ = [
    "ARM_COLOURS",
    "SOURCE_COLOURS",
    "experiment_figure",
    "rejection_rates_figure",
    "residual_lag_figure",
    "serial_se_figure",
    "sources_partition_figure",
]

# One colour per source of variability, the same in the truth and in the fitted bars.
SOURCE_COLOURS = {"family": PINK, "individual": BLUE, "serial": ORANGE,
                  "measurement": SKY}
ARM_COLOURS = {"control": BLUE, "treatment": VERMILLION}
ANALYSIS_COLOURS = {"pupils_ols": VERMILLION, "multilevel": GREEN}
LEGEND_BELOW = {"font": {"size": 16}, "orientation": "h", "yanchor": "top", "y": -0.25, "x": 0}


def _figure(traces: list, title: str, height: int, **layout) -> go.Figure:
    """Traces as plain dicts (validated once) and the one figure layout."""
    return go.Figure(data=traces, layout=figure_layout(
        title, height=height,
        margin={"l": 80, "r": 30, "t": 70, "b": 70}, hoverlabel={"font_size": 16}, **layout))


def sources_partition_figure(truth: pd.DataFrame, partition: pd.DataFrame,
                             sources: Mapping[str, Sequence[str]], label: str) -> go.Figure:
    """Stacked bars: the true variance of every source, what the model can recover (designs
    with serial correlation) and what it estimates, component by component.

    Parameters
    ----------
    truth : ``SourcesResult.truth`` (indexed by source key: ``source, variance``).
    partition : ``SourcesResult.partition`` (indexed by component key: ``component,
        estimate`` and optionally ``target``).
    sources : the source keys each component holds, by component key.
    label : the data's label.

    Returns
    -------
    go.Figure with bar traces ``meta`` = ``"truth:<source>"``, ``"target:<component>"`` and
    ``"estimate:<component>"``; x is the variance. A component holding several sources is
    hatched in the colour of its first source.
    """
    # Short row names: long ones took half of a phone's width from the bars.
    rows = {"truth": "truth", "target": "recoverable", "estimate": "MixedLM"}
    traces = []
    for key, row in truth.iterrows():
        traces.append({
            "type": "bar", "orientation": "h", "y": [rows["truth"]], "x": [row["variance"]],
            "name": row["source"], "meta": f"truth:{key}", "legendgroup": key,
            "marker": {"color": SOURCE_COLOURS[key]}, "text": [f"{row['variance']:.2f}"],
            "textposition": "inside", "insidetextanchor": "middle",
            "hovertemplate": f"{row['source']}: true variance %{{x:.3f}}<extra></extra>"})
    for column in ("target", "estimate"):
        if column not in partition:
            continue
        for key, row in partition.iterrows():
            held = sources[key]
            colour = SOURCE_COLOURS[held[0]]
            value = row[column]
            traces.append({
                "type": "bar", "orientation": "h", "y": [rows[column]],
                "x": [value if np.isfinite(value) else 0.0], "name": row["component"],
                "meta": f"{column}:{key}", "showlegend": False,
                # Hatched over its own colour, so the number on it stays readable.
                "marker": {"color": colour,
                           "pattern": {"shape": "/" if len(held) > 1 else "",
                                       "fillmode": "overlay", "fgcolor": "white",
                                       "solidity": 0.25}},
                "text": [f"{value:.2f}" if np.isfinite(value) else ""],
                "textposition": "inside", "insidetextanchor": "middle",
                "hovertemplate": f"{row['component']}: {column} %{{x:.3f}}<extra></extra>"})
    order = [rows[c] for c in ("estimate", "target", "truth") if c == "truth" or c in partition]
    return _figure(traces, f"Where the variance lies · {label}", 340, barmode="stack",
                   xaxis={"title": "variance (score points squared)", "rangemode": "tozero"},
                   yaxis={"categoryorder": "array", "categoryarray": order},
                   legend=LEGEND_BELOW)


def serial_se_figure(curve: pd.DataFrame, rho: float, slope_se_fit: float, label: str) -> go.Figure:
    """The time slope's SE as the model reports it and as it really is, over the serial
    correlation.

    Parameters
    ----------
    curve : ``SerialEffect.curve`` (``rho, reported, actual``).
    rho : the serial correlation set (a dotted line).
    slope_se_fit : the SE this sample's fit reports (a marker at ``rho``; NaN: none).
    label : the data's label.

    Returns
    -------
    go.Figure with traces ``meta`` = ``"actual"``, ``"reported"`` and ``"this fit"``.
    """
    traces = [
        {"type": "scatter", "x": curve["rho"], "y": curve["actual"], "mode": "lines",
         "meta": "actual", "name": "actual SD of the slope estimate",
         "line": {"color": VERMILLION, "width": 5},
         "hovertemplate": "serial correlation %{x:.2f}<br>actual SD %{y:.3f}<extra></extra>"},
        {"type": "scatter", "x": curve["rho"], "y": curve["reported"], "mode": "lines",
         "meta": "reported", "name": "SE the model reports (large sample)",
         "line": {"color": BLUE, "width": 4, "dash": "dash"},
         "hovertemplate": "serial correlation %{x:.2f}<br>reported SE %{y:.3f}<extra></extra>"},
    ]
    if np.isfinite(slope_se_fit):
        traces.append({
            "type": "scatter", "x": [rho], "y": [slope_se_fit], "mode": "markers",
            "meta": "this fit", "name": "SE this fit reports",
            "marker": {"color": POOLED_COLOUR, "size": 14, "symbol": "diamond"},
            "hovertemplate": "this fit: SE %{y:.3f}<extra></extra>"})
    return _figure(traces, f"SE of the time slope, reported and actual · {label}", 440,
                   xaxis={"title": "serial correlation one occasion apart", "range": [0, 0.96]},
                   yaxis={"title": "standard error of the slope", "rangemode": "tozero"},
                   shapes=[{"type": "line", "xref": "x", "yref": "paper", "x0": rho, "x1": rho,
                            "y0": 0, "y1": 1, "line": {"color": "#777777", "dash": "dot"}}],
                   legend=LEGEND_BELOW)


def residual_lag_figure(pairs: pd.DataFrame, lag1: float, label: str) -> go.Figure:
    """Each within-person residual against the same person's next one.

    Parameters
    ----------
    pairs : ``SerialEffect.residual_pairs`` (``earlier, later``).
    lag1 : their correlation (in the title).
    label : the data's label.

    Returns
    -------
    go.Figure with one marker trace, ``meta`` = ``"pairs"``.
    """
    # The same range on both axes, so a correlation looks like one.
    reach = float(np.nanmax(np.abs(pairs.to_numpy(dtype=float)))) * 1.1 if len(pairs) else 1.0
    trace = {"type": "scatter", "x": pairs["earlier"], "y": pairs["later"], "mode": "markers",
             "meta": "pairs", "name": "consecutive residuals",
             "marker": {"color": ORANGE, "size": 8, "opacity": 0.6, "line": {"width": 0}},
             "hovertemplate": "occasion t: %{x:.2f}<br>occasion t + 1: %{y:.2f}<extra></extra>"}
    return _figure([trace], f"Consecutive within-person residuals, r = {lag1:.2f} · {label}", 440,
                   xaxis={"title": "residual at occasion t", "range": [-reach, reach]},
                   yaxis={"title": "residual at occasion t + 1", "range": [-reach, reach]},
                   showlegend=False)


def experiment_figure(data: pd.DataFrame, label: str) -> go.Figure:
    """Pupils' scores class by class, control classes left, treated right.

    Parameters
    ----------
    data : ``ExperimentResult.data`` (``class, arm, score``).
    label : the data's label.

    Returns
    -------
    go.Figure: one marker trace per arm (``meta`` = arm), the class means (``meta`` =
    ``"class means"``) and one line per arm mean (``meta`` = ``"mean:<arm>"``).
    """
    classes = data["class"].to_numpy()
    x = classes + jitter_offsets(len(data), seed=13) * 0.25
    traces = []
    for arm in ("control", "treatment"):
        rows = data["arm"].to_numpy() == arm
        traces.append({
            "type": "scatter", "x": x[rows], "y": data["score"].to_numpy()[rows],
            "mode": "markers", "meta": arm, "name": f"{arm} pupils",
            "marker": {"color": ARM_COLOURS[arm], "size": 8, "opacity": 0.6,
                       "symbol": "circle" if arm == "control" else "square", "line": {"width": 0}},
            "hovertemplate": f"{arm}<br>class %{{x:.0f}}<br>score %{{y:.1f}}<extra></extra>"})
    means = data.groupby("class", sort=True).agg(score=("score", "mean"), arm=("arm", "first"))
    traces.append({
        "type": "scatter", "x": means.index.to_numpy(), "y": means["score"].to_numpy(),
        "mode": "markers", "meta": "class means", "name": "class mean",
        "marker": {"color": POOLED_COLOUR, "symbol": "line-ew-open", "size": 24, "line": {"width": 4}},
        "hovertemplate": "class %{x} mean %{y:.2f}<extra></extra>"})
    for arm in ("control", "treatment"):
        part = means[means["arm"] == arm]
        level = float(data.loc[data["arm"] == arm, "score"].mean())
        traces.append({
            "type": "scatter", "x": [part.index.min() - 0.4, part.index.max() + 0.4],
            "y": [level, level], "mode": "lines", "meta": f"mean:{arm}",
            "name": f"{arm} mean {level:.1f}", "line": {"color": ARM_COLOURS[arm], "width": 5}})
    centres = means.reset_index().groupby("arm")["class"].mean()
    return _figure(traces, f"One experiment, class by class · {label}", 520,
                   yaxis={"title": "score"},
                   xaxis={"tickvals": centres.tolist(),
                          "ticktext": [f"{arm} classes" for arm in centres.index], "tickangle": 0},
                   legend={**LEGEND_BELOW, "y": -0.12})


def rejection_rates_figure(rates: pd.DataFrame, alpha: float, n_experiments: int, effect: float,
                           label: str) -> go.Figure:
    """Each test's rejection rate over the replicate experiments, with its 95% Monte Carlo
    interval and its closed-form expectation, against the nominal level.

    Parameters
    ----------
    rates : ``ExperimentResult.rates`` (indexed by analysis key).
    alpha : nominal level (a dashed line).
    n_experiments, effect : for the title.
    label : the data's label.

    Returns
    -------
    go.Figure with a bar trace ``meta`` = ``"simulated"`` and a marker trace ``meta`` =
    ``"expected"`` (x in %).
    """
    keys = list(rates.index)[::-1]
    simulated = rates.loc[keys, "rejection rate"].to_numpy() * 100
    # The rate in the label: written at the bar's end it collided with the error bar and
    # the expected-rate marker.
    names = [f"{name}<br><b>{rate:.1f}%</b>"
             for name, rate in zip(rates.loc[keys, "analysis"], simulated)]
    interval = 1.96 * rates.loc[keys, "Monte Carlo SE"].to_numpy() * 100
    expected = rates.loc[keys, "expected rate"].to_numpy() * 100
    traces = [
        {"type": "bar", "orientation": "h", "x": simulated, "y": names, "meta": "simulated",
         "name": "simulated", "marker": {"color": [ANALYSIS_COLOURS.get(k, ORANGE) for k in keys]},
         "error_x": {"type": "data", "array": interval, "thickness": 2, "width": 8},
         "hovertemplate": "%{y}: %{x:.1f}% of the experiments<extra></extra>"},
        {"type": "scatter", "mode": "markers", "x": expected, "y": names, "meta": "expected",
         "name": "expected (closed form)",
         "marker": {"color": POOLED_COLOUR, "symbol": "diamond-open", "size": 16,
                    "line": {"width": 3}},
         "hovertemplate": "%{y}: expected %{x:.1f}%<extra></extra>"},
    ]
    top = float(np.nanmax(np.concatenate([simulated + interval, expected, [alpha * 100]])))
    what = "no true effect" if effect == 0 else f"a true effect of {effect:g} points"
    return _figure(traces, f"Experiments with p < {alpha:g}, {what} · {n_experiments} replicates of the {label[0].lower() + label[1:]}",
                   380, xaxis={"title": "rejection rate (%)", "range": [0, min(100.0, top * 1.2 + 8)]},
                   yaxis={"automargin": True},
                   shapes=[{"type": "line", "xref": "x", "yref": "paper", "x0": alpha * 100,
                            "x1": alpha * 100, "y0": 0, "y1": 1,
                            "line": {"color": POOLED_COLOUR, "dash": "dash", "width": 3}}],
                   legend=LEGEND_BELOW)
