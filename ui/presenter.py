"""Presenter mode: one switch that makes a lesson readable from the back of a lecture hall.

On (the sidebar's toggle, or ``?present=1`` in the URL), for this browser tab only:

- text, headings, widget labels, metrics, captions, alerts and code blocks grow with the
  page's root font size: Streamlit sizes all of them in ``rem``;
- tables too: ``st.dataframe`` draws on a canvas (the glide data grid), where CSS fonts do
  not reach, but Streamlit builds the grid's theme (font and row height) from the root font
  size, so the grid's text grows with it, sharp (measured in Chromium: 14 px becomes 21 px;
  a CSS ``zoom`` of the grid, tried first, enlarged a blurred bitmap and pushed its columns
  past the page's edge); HTML tables (``st.table``) grow with the text;
- charts: HLM Lab's chart element scales every font size, marker size and line width of a
  figure by :data:`CHART_SCALE` as it draws it (ui/plotly_chart.js), so the cached figures
  stay as they are;
- the sidebar collapses (its ">" reopens it; the switch is at its top);
- wide rows (a chart, table or equation beside another) stack, code and labels wrap.

Switching it on or off in the sidebar reloads the page, whose URL holds the view, every
bound control and ``present``: the data grid converts its rem sizes to pixels once per page
load, so without a reload its tables kept their old size (measured: a remounted grid too).

Deploy is hidden for everyone by ``[client] toolbarMode = "viewer"`` (.streamlit/config.toml).
"""

from __future__ import annotations

import streamlit as st

from ui import controls

__all__ = ["CHART_SCALE", "PRESENT_KEY", "ROOT_FONT_PX", "chart_scale", "presenter_switch"]

PRESENT_KEY = "present"  # the switch's key and URL parameter: ?present=1
#: The root font size in presenter mode (Streamlit's default is 16 px): body text 24 px,
#: labels, captions and tables 21 px.
ROOT_FONT_PX = 24
#: Chart fonts (18 px and up in hlmlab.style), markers and lines times this.
CHART_SCALE = 1.3

# What needs a row of its own in presenter mode.
_WIDE = '[data-testid="stDataFrame"], [data-testid="hlmChart"], .katex-display'
_STYLE = f"""
<style>
/* Everything Streamlit sizes in rem: text, headings, labels, metrics, code, alerts. */
html {{ font-size: {ROOT_FONT_PX}px !important; }}
/* Streamlit's page margins are in rem too: at this size they took a fifth of the width. */
.stApp [data-testid="stMainBlockContainer"] {{
  padding: 3rem 1.5rem 4rem 1.5rem !important; max-width: none !important;
}}
/* Captions, code blocks and inline code, smaller than body text, still read from the back. */
.stApp [data-testid="stCaptionContainer"], .stApp [data-testid="stCode"] pre,
.stApp [data-testid="stCode"] code {{ font-size: 0.875rem !important; }}
.stApp :not(pre) > code {{ font-size: 1em !important; }}
/* Side-by-side columns holding a chart, a table or an equation go one under the other:
   at this size a chart needs the page's width, and a table beside it showed two of its
   columns. Rows of controls stay side by side. */
.stApp [data-testid="stHorizontalBlock"]:has({_WIDE}) {{ flex-wrap: wrap; }}
.stApp [data-testid="stHorizontalBlock"]:has({_WIDE}) > [data-testid="stColumn"] {{
  flex: 1 1 100% !important; width: 100% !important; min-width: 100% !important;
}}
/* Equations a little smaller than KaTeX's 1.21em: they must fit half a page's width. */
.stApp .katex {{ font-size: 1em !important; }}
/* Code wraps: a line scrolled out of sight cannot be read from the back. */
.stApp [data-testid="stCode"] pre, .stApp [data-testid="stCode"] code {{
  white-space: pre-wrap !important; overflow-wrap: anywhere;
}}
/* Labels of controls and metrics wrap rather than end in "…" in a narrow column. */
.stApp [data-testid="stWidgetLabel"] *, .stApp [data-testid="stMetricLabel"] *,
.stApp [data-testid="stMetricValue"] * {{
  white-space: normal !important; overflow: visible !important; text-overflow: clip !important;
}}
/* Pills and segmented controls wrap instead of scrolling sideways in a narrow column. */
.stApp [data-testid="stButtonGroup"] div {{ flex-wrap: wrap !important; overflow-x: visible !important; }}
/* A lesson's tabs at this size need two rows rather than a sideways scroll. */
.stApp [data-testid="stTabs"] [role="tablist"] {{ flex-wrap: wrap; }}
/* Streamlit sets a few sizes in px: slider ends and values, tab labels, widget help. */
.stApp [data-testid="stSliderTickBarMin"], .stApp [data-testid="stSliderTickBarMax"],
.stApp [data-testid="stSliderThumbValue"], .stApp [data-testid="stTab"] p,
.stApp [data-testid="stTab"] {{ font-size: 1rem !important; }}
</style>
"""


_SWITCHED = "_hlm_presenter_switched"
_RELOAD = st.components.v2.component(
    "hlmlab_reload", js="export default function () { window.location.reload(); }")


def _switched() -> None:
    st.session_state[_SWITCHED] = True


def presenter_switch() -> bool:
    """The sidebar's presenter-mode switch (call it inside ``st.sidebar``); when it is on,
    apply presenter mode to the page. Returns whether it is on."""
    on = controls.toggle("Presenter mode", key=PRESENT_KEY, in_share_link=False,
                         on_change=_switched,
                         help="Large text, tables and charts for a projector; the sidebar "
                              "folds away, and the arrow and page keys step through the "
                              "lesson. The page reloads with its link, which keeps the "
                              "lesson's settings. Also ?present=1 in the address.")
    if st.session_state.pop(_SWITCHED, False):
        # The browser's address already says present=...: reloading it draws every element
        # at the new size (see the module docstring).
        _RELOAD(key="hlmlab_reload", height=0)
    # Every run says which state the sidebar should be in: Streamlit's frontend acts when
    # the requested state changes, so switching presenter mode on folds the sidebar away.
    st.set_page_config(initial_sidebar_state="collapsed" if on else "auto")
    if on:
        st.html(_STYLE)
    return on


def chart_scale() -> float:
    """How much the chart element enlarges fonts, markers and lines: :data:`CHART_SCALE` in
    presenter mode, else 1."""
    return CHART_SCALE if st.session_state.get(PRESENT_KEY) else 1.0
