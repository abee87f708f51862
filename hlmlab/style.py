"""THE figure style of HLM Lab: one layout, one palette, one way to draw many lines as one.

Figures are built for a projector: large fonts, thick lines, the Okabe-Ito colour-blind-safe
palette (then Paul Tol's muted colours for groups beyond six) and a different marker per
group, so groups stay apart in greyscale too. Every lesson's figures use :func:`figure_layout`
and the named colours below, and a name means one colour everywhere (``ORANGE`` is Okabe-Ito
orange in every figure). Tests check the figures' data, never pixels.

Looks are set directly, never through a named plotly template: a template is expanded
(deep-copied and validated) every time a figure is built, measured at 70-120 ms a figure
here, more than half of a slider's 250 ms budget.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

__all__ = [
    "AXIS_STYLE",
    "BLACK",
    "BOTTOM_LEGEND",
    "BrowserFigure",
    "BLUE",
    "DISTINCT_GROUP_STYLES",
    "FAMILY_STYLES",
    "FONT",
    "GREEN",
    "GREY",
    "LEVEL_COLOURS",
    "LIGHT_GREY",
    "LIGHT_LAYOUT",
    "ORANGE",
    "PALETTE",
    "PINK",
    "POOLED_COLOUR",
    "SKY",
    "TEXT_DESIGN_WIDTH",
    "VERMILLION",
    "browser_figure",
    "figure_layout",
    "gapped_xy",
    "group_styles",
    "jitter_offsets",
    "narrow_text",
    "ready_for_browser",
    "wrapped",
]

# Okabe & Ito (2008), "Color Universal Design": the eight colours, by their names.
BLACK = "#000000"
ORANGE = "#E69F00"
SKY = "#56B4E9"  # sky blue
GREEN = "#009E73"  # bluish green
BLUE = "#0072B2"
VERMILLION = "#D55E00"
PINK = "#CC79A7"  # reddish purple
# Context drawn behind the data that matter (each pupil, the other schools), and points
# not yet told apart by group; and fainter guides (a zero line, many people's paths).
GREY = "#777777"
LIGHT_GREY = "#BBBBBB"

#: Group colours: Okabe-Ito without yellow (unreadable on white) and black (the pooled
#: line), then Tol's muted colours.
PALETTE = (
    BLUE, VERMILLION, GREEN, PINK, ORANGE, SKY,
    "#882255", "#117733", "#332288", "#999933", "#44AA99", "#AA4499",
)
SYMBOLS = ("circle", "square", "diamond", "triangle-up", "x", "cross", "star", "hexagon",
           "triangle-down", "pentagon", "star-square", "hourglass")
#: How many groups a chart can tell apart: the 13th group would get the 1st group's colour
#: and marker (group_styles cycles through both together).
DISTINCT_GROUP_STYLES = min(len(PALETTE), len(SYMBOLS))

#: The pooled line and every reference line (y = x, zero, a nominal level): black.
POOLED_COLOUR = BLACK
#: The three line families every lesson contrasts.
FAMILY_STYLES = {
    "pooled": {"label": "Pooled OLS (one line, ignores groups)", "dash": "dash", "width": 5},
    "per_group": {"label": "Per-group OLS (no pooling)", "dash": "dot", "width": 3},
    "multilevel": {"label": "Multilevel (partial pooling)", "dash": "solid", "width": 4},
}
#: Levels of a variance partition, from the top level down; the last is always the
#: residual (lowest) level, so a two-level split uses the first and the last.
LEVEL_COLOURS = (BLUE, ORANGE, GREEN)
LEVEL_PATTERNS = ("", "/", ".")

FONT = {"size": 18}
AXIS_STYLE = {"gridcolor": "#EBF0F8", "zerolinecolor": "#EBF0F8", "linecolor": "#EBF0F8",
              "showgrid": True, "zeroline": True, "automargin": True}
#: plotly_white's look, set directly (see the module docstring).
LIGHT_LAYOUT = {"template": "none", "paper_bgcolor": "white", "plot_bgcolor": "white",
                "colorway": list(PALETTE), "xaxis": AXIS_STYLE, "yaxis": AXIS_STYLE}


def _merged(base, override):
    """``override`` on top of ``base``, dicts merged key by key at every depth."""
    if isinstance(base, Mapping) and isinstance(override, Mapping):
        return {**base, **{k: _merged(base.get(k), v) for k, v in override.items()}}
    return override


#: A legend under the plot, at the figure's bottom edge, clear of the x-axis title (see
#: ``_legend_at_bottom``).
BOTTOM_LEGEND = {"orientation": "h", "x": 0, "xanchor": "left", "y": 0, "yanchor": "bottom",
                 "yref": "container"}
#: The narrowest chart, in pixels, that shows every figure's text at its full size: a
#: phone's chart (about 360 px) scales it by its width over this (``narrow_text``).
TEXT_DESIGN_WIDTH = 440


def figure_layout(title: str = "", x_title: str = "", y_title: str = "", height: int = 560,
                  **overrides) -> dict:
    """The layout of every HLM Lab figure, as one dict.

    A figure built in one go (``go.Figure(data, layout)``) costs a fraction of one updated
    key by key, which matters within a slider's redraw budget.

    Parameters
    ----------
    title : the title; "what · which data" becomes title and subtitle in
        :func:`ready_for_browser`.
    x_title, y_title : axis titles.
    height : pixels.
    **overrides : any further layout keys; dicts (``xaxis``, ``legend``, ``margin``...) are
        merged into the defaults rather than replacing them.

    Returns
    -------
    dict for ``go.Figure(layout=...)`` or ``fig.update_layout(**...)``.
    """
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
        # On a phone, text a little smaller (category labels collided at full size) and
        # the legend below the plot (at the side it left a third of the width to the
        # plot); a desktop's or projector's chart, even in a half-width column, is wider.
        "meta": narrow_text(TEXT_DESIGN_WIDTH, layout={"legend": BOTTOM_LEGEND}),
    }
    return _merged(layout, overrides)


def narrow_text(design_width: int, min_scale: float = 0.75, layout: dict | None = None) -> dict:
    """Layout ``meta`` that has HLM Lab's chart element (``ui/plotly_chart.js``) scale a
    figure's text, line widths and margins on a chart narrower than ``design_width`` pixels.

    :func:`figure_layout` gives every figure this at :data:`TEXT_DESIGN_WIDTH` (a phone's
    chart). A figure drawn in data units, such as a diagram of boxes and arrows, asks for it
    at its own, larger width: on a phone its boxes shrink with the chart, but plotly's text
    keeps its size and ran out of them. The scale is the chart's width over
    ``design_width``, never below ``min_scale`` (on a phone, 12 px text of a 16 px design).

    Parameters
    ----------
    design_width : the width in pixels the figure's text sizes were chosen for.
    min_scale : the smallest scale, so that text stays legible.
    layout : layout changes for a chart narrower than ``design_width``, merged one level
        deep into the figure's layout (``{"legend": {...}}`` changes only those keys of the
        legend).

    Returns
    -------
    dict for ``layout.meta``.
    """
    narrow = {"width": int(design_width), "min_scale": float(min_scale)}
    if layout:
        narrow["layout"] = layout
    return {"narrow": narrow}


def wrapped(text: str, width: int) -> str:
    """``text`` broken at spaces into lines of at most ``width`` visible characters (tags
    such as ``<b>`` do not count; a longer word stays whole), joined by ``<br>`` as plotly's
    annotations take it. A tag must not span a space, or the break may fall inside it."""
    lines: list[str] = []
    for word in text.split(" "):
        if lines and _visible_length(lines[-1]) + 1 + _visible_length(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return "<br>".join(lines)


def _visible_length(text: str) -> int:
    return len(re.sub(r"<[^>]*>", "", text))


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
    """Fixed offsets in [-1, 1] per row, scaled by a jitter slider.

    The same draw is reused at every jitter amount, so moving the slider spreads the points
    smoothly instead of reshuffling them.
    """
    return np.random.default_rng(seed).uniform(-1.0, 1.0, n)


def gapped_xy(frame: pd.DataFrame, key: str, x: str, y: str) -> tuple[list, list, list]:
    """x, y and label lists for ONE trace of many lines: each ``key``'s points joined in
    order of ``x``, ``None`` between keys.

    Many pupils, children or schools drawn as one trace keep a figure light to send and
    redraw (a trace each made a 200-child figure slow).

    Returns
    -------
    (xs, ys, labels) : labels are the key as text (for hover), None at the gaps.
    """
    xs, ys, labels = [], [], []
    for label, part in frame.sort_values([key, x]).groupby(key, sort=True):
        xs += part[x].tolist() + [None]
        ys += part[y].tolist() + [None]
        labels += [str(label)] * len(part) + [None]
    return xs, ys, labels


@dataclass(frozen=True)
class BrowserFigure:
    """A figure in its final form for the browser (see :func:`browser_figure`).

    Attributes
    ----------
    json : the plotly JSON, UTF-8 encoded, exactly as the chart element draws it.
    revision : its ``layout.datarevision``, a hash of everything else in it.
    """

    json: bytes
    revision: str


# Stands in for the revision while the figure is encoded; replaced by the content's hash.
_REVISION_PLACEHOLDER = "hlmlab-revision-placeholder-3f9c2a"


def browser_figure(fig: go.Figure) -> BrowserFigure:
    """Finish a figure for the browser (:func:`ready_for_browser`) and encode it once.

    The ``datarevision`` is a hash of the figure's own JSON: equal figures get equal
    revisions in any process, different figures different ones. A process counter would
    not do: worker processes share prepared figures (``ui.panels``), and a tab that
    reconnects to another worker must never be sent a different figure under a revision it
    has drawn (plotly.js would skip the redraw).

    Parameters
    ----------
    fig : plotly Figure (changed in place, as :func:`ready_for_browser` does).

    Returns
    -------
    BrowserFigure
    """
    _finish(fig)
    fig.layout.datarevision = _REVISION_PLACEHOLDER
    text = fig.to_json(validate=False)
    revision = hashlib.blake2b(text.encode("utf-8"), digest_size=12).hexdigest()
    fig.layout.datarevision = revision
    return BrowserFigure(text.replace(_REVISION_PLACEHOLDER, revision, 1).encode("utf-8"),
                         revision)


def ready_for_browser(fig: go.Figure) -> go.Figure:
    """Finish a figure for the browser; returns the same figure, changed once (idempotent,
    so a figure shared across sessions is safe to pass again).

    - A ``datarevision`` of its own, a hash of its content (see :func:`browser_figure`):
      plotly.js then recognises a figure it has already drawn (a rerun that sends it again
      costs almost nothing) and never mistakes a new figure for an old one.
    - No ``template`` object: it was only needed while building (``LIGHT_LAYOUT``'s "none"
      keeps plotly.py's default one out), and plotly.js compares it by identity, so a copy
      of the figure would always look new.
    - The title fitted to narrow columns (:func:`_fit_title`) and a legend below the plot
      kept clear of the x-axis title (:func:`_legend_at_bottom`).
    """
    if fig.layout.datarevision is None:
        browser_figure(fig)
    return fig


def _finish(fig: go.Figure) -> None:
    """What :func:`ready_for_browser` changes besides the revision (each step idempotent)."""
    _fit_title(fig)
    _legend_at_bottom(fig)
    fig.layout.template = None


def _legend_at_bottom(fig: go.Figure) -> None:
    """A horizontal legend below the plot goes to the bottom edge of the figure. Placed in
    units of the plot's height (``y=-0.25``), it sat on the x-axis title whenever the plot
    was shorter than its author had in mind (a half-width column, a long legend)."""
    legend = fig.layout.legend
    if legend.orientation == "h" and legend.y is not None and legend.y < 0:
        legend.update({key: BOTTOM_LEGEND[key] for key in ("y", "yanchor", "yref")})


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
