"""hlmlab.style: the one layout, the named colour-blind-safe palette, the gapped trace, and
how a figure is made ready for the browser."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

from hlmlab import style

# Okabe & Ito (2008), "Color Universal Design", the eight colours by name.
OKABE_ITO = {"BLACK": "#000000", "ORANGE": "#E69F00", "SKY": "#56B4E9", "GREEN": "#009E73",
             "BLUE": "#0072B2", "VERMILLION": "#D55E00", "PINK": "#CC79A7"}


def test_named_colours_are_okabe_ito_and_the_palette_is_distinct():
    for name, colour in OKABE_ITO.items():
        assert getattr(style, name).upper() == colour, name
    assert len(set(style.PALETTE)) == len(style.PALETTE) == style.DISTINCT_GROUP_STYLES
    assert style.PALETTE[:6] == (style.BLUE, style.VERMILLION, style.GREEN, style.PINK,
                                 style.ORANGE, style.SKY)
    assert style.POOLED_COLOUR == style.BLACK not in style.PALETTE
    assert style.LEVEL_COLOURS == (style.BLUE, style.ORANGE, style.GREEN)


def test_group_styles_are_stable_and_distinct():
    styles = style.group_styles(list(range(10)))
    assert len({s["colour"] for s in styles.values()}) == 10
    assert style.group_styles(list(range(10)))[3] == styles[3]
    assert style.jitter_offsets(5, 1).tolist() == style.jitter_offsets(5, 1).tolist()
    assert abs(style.jitter_offsets(100)).max() <= 1


def test_figure_layout_merges_overrides_into_the_one_look():
    layout = style.figure_layout("t", "x", "y", height=300, xaxis={"range": [0, 1]},
                                 margin={"b": 150}, barmode="stack")
    assert layout["font"] == style.FONT and layout["template"] == "none"
    assert layout["xaxis"]["range"] == [0, 1] and layout["xaxis"]["title"] == {"text": "x"}
    assert layout["xaxis"]["gridcolor"] == style.AXIS_STYLE["gridcolor"]
    assert layout["margin"] == {"l": 80, "r": 20, "t": 70, "b": 150}
    assert (layout["height"], layout["barmode"]) == (300, "stack")
    go.Figure(layout=layout)  # plotly accepts it as it is
    nested = style.figure_layout(xaxis={"title": {"font": {"size": 19}}})
    assert nested["xaxis"]["title"] == {"text": "", "font": {"size": 19}}


def test_gapped_xy_joins_each_key_in_order_with_gaps_between():
    frame = pd.DataFrame({"who": [2, 1, 2, 1], "x": [1, 1, 0, 0], "y": [4, 2, 3, 1]})
    xs, ys, labels = style.gapped_xy(frame, "who", "x", "y")
    assert xs == [0, 1, None, 0, 1, None]
    assert ys == [1, 2, None, 3, 4, None]
    assert labels == ["1", "1", None, "2", "2", None]


def test_ready_for_browser_drops_the_template_and_sets_one_revision():
    first = style.ready_for_browser(go.Figure(data=[{"type": "scatter", "x": [1], "y": [2]}],
                                              layout=style.LIGHT_LAYOUT))
    second = style.ready_for_browser(go.Figure(data=[{"type": "scatter", "x": [1], "y": [3]}],
                                               layout=style.LIGHT_LAYOUT))
    layout = json.loads(pio.to_json(first, validate=False))["layout"]
    assert "template" not in layout  # a template object makes plotly.js redraw a copy in full
    assert layout["plot_bgcolor"] == "white"  # the light look itself stays
    assert first.layout.datarevision != second.layout.datarevision
    revision = first.layout.datarevision
    assert style.ready_for_browser(first).layout.datarevision == revision  # idempotent


def test_ready_for_browser_keeps_the_data_label_as_a_subtitle():
    fig = style.ready_for_browser(go.Figure(layout={
        **style.LIGHT_LAYOUT, "title": {"text": "Three kinds of lines · JSP (synthetic replica)"}}))
    assert fig.layout.title.text == "Three kinds of lines"
    assert fig.layout.title.subtitle.text == "JSP (synthetic replica)"
    assert (fig.layout.title.x, fig.layout.title.xanchor) == (0.0, "left")


def test_ready_for_browser_moves_a_legend_below_the_plot_to_the_bottom_edge():
    below = style.ready_for_browser(go.Figure(layout={"legend": {"orientation": "h", "y": -0.3}}))
    assert (below.layout.legend.yref, below.layout.legend.y, below.layout.legend.yanchor) == (
        "container", 0, "bottom")
    beside = style.ready_for_browser(go.Figure(layout={"legend": {"y": 0.5}}))
    assert beside.layout.legend.yref is None and beside.layout.legend.y == 0.5


def test_browser_figure_revision_is_a_hash_of_the_content():
    """Workers share prepared figures: equal figures must carry equal revisions in any
    process, and different figures different ones (plotly.js skips a revision it drew)."""
    import subprocess
    import sys

    def build(y):
        return go.Figure(data=[{"type": "scatter", "x": [1, 2], "y": y}],
                         layout={**style.LIGHT_LAYOUT, "title": {"text": "Lines · data"}})

    first, again, other = (style.browser_figure(build(y)) for y in ([2, 3], [2, 3], [2, 4]))
    assert first == again and first.revision != other.revision
    spec = json.loads(first.json)
    assert spec["layout"]["datarevision"] == first.revision
    assert "template" not in spec["layout"] and spec["layout"]["title"]["subtitle"]["text"] == "data"
    code = ("import plotly.graph_objects as go; from hlmlab import style; "
            "print(style.browser_figure(go.Figure(data=[{'type': 'scatter', 'x': [1, 2], "
            "'y': [2, 3]}], layout={**style.LIGHT_LAYOUT, 'title': {'text': 'Lines · data'}}))"
            ".revision)")
    elsewhere = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                               check=True, cwd=Path(__file__).resolve().parents[2])
    assert elsewhere.stdout.strip() == first.revision


def test_wrapped_counts_visible_characters_and_keeps_long_words_whole():
    assert style.wrapped("y: pupil math achievement", 18) == "y: pupil math<br>achievement"
    # Tags do not count: "<b>ses</b>" is 3 characters wide.
    assert style.wrapped("γ<sub>10</sub> · <b>ses</b> × <b>catholic</b>", 12) == \
        "γ<sub>10</sub> · <b>ses</b> ×<br><b>catholic</b>"
    assert style.wrapped("ses_within_x_catholic", 5) == "ses_within_x_catholic"
    assert style.wrapped("short", 18) == "short"


def test_narrow_text_is_layout_meta_the_chart_element_reads():
    meta = style.narrow_text(760)
    assert meta == {"narrow": {"width": 760, "min_scale": 0.75}}
    assert style.figure_layout("t")["meta"]["narrow"]["layout"] == {"legend": style.BOTTOM_LEGEND}
    figure = go.Figure(layout=style.figure_layout("t", meta=meta))
    assert style.browser_figure(figure).json.count(b'"narrow"') == 1  # sent to the browser
