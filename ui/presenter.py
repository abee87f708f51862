"""Presenter mode: one switch that makes a lesson readable from the back of a lecture hall.

On (the sidebar's toggle, or ``?present=1`` in the URL), for this browser tab only:

- text, headings, widget labels, metrics, captions, alerts and code blocks grow with the
  page's root font size: Streamlit sizes all of them in ``rem``;
- tables drawn by ``st.dataframe`` grow by CSS ``zoom``: they are drawn on a canvas (the
  glide data grid), which takes its 13-14 px font from JavaScript, not from CSS, so only a
  zoom of the whole grid enlarges its text; HTML tables (``st.table``) grow with the text;
- charts: HLM Lab's chart element scales every font size, marker size and line width of a
  figure by :data:`CHART_SCALE` as it draws it (ui/plotly_chart.js), so the cached figures
  stay as they are;
- the sidebar collapses (its ">" reopens it; the switch is at its top).

Deploy is hidden for everyone by ``[client] toolbarMode = "viewer"`` (.streamlit/config.toml).
"""

from __future__ import annotations

import streamlit as st

from ui import controls

__all__ = ["CHART_SCALE", "PRESENT_KEY", "ROOT_FONT_PX", "TABLE_ZOOM", "chart_scale",
           "presenter_switch"]

PRESENT_KEY = "present"  # the switch's key and URL parameter: ?present=1
#: The root font size in presenter mode (Streamlit's default is 16 px): body text 24 px.
ROOT_FONT_PX = 24
#: st.dataframe's canvas text (14 px) times this: 21 px.
TABLE_ZOOM = 1.5
#: Chart fonts (18 px and up in hlmlab.style), markers and lines times this.
CHART_SCALE = 1.3

_STYLE = f"""
<style>
/* Everything Streamlit sizes in rem: text, headings, labels, metrics, code, alerts. */
html {{ font-size: {ROOT_FONT_PX}px !important; }}
/* The data grid draws on a canvas; zoom it, and narrow it by as much so it still fits. */
.stApp [data-testid="stDataFrame"] {{
  zoom: {TABLE_ZOOM};
  width: calc(100% / {TABLE_ZOOM}) !important;
}}
/* Streamlit sets a few sizes in px: slider ends and values, tab labels, widget help. */
.stApp [data-testid="stSliderTickBarMin"], .stApp [data-testid="stSliderTickBarMax"],
.stApp [data-testid="stSliderThumbValue"], .stApp [data-testid="stTab"] p,
.stApp [data-testid="stTab"] {{ font-size: 1rem !important; }}
</style>
"""


def presenter_switch() -> bool:
    """The sidebar's presenter-mode switch (call it inside ``st.sidebar``); when it is on,
    apply presenter mode to the page. Returns whether it is on."""
    on = controls.toggle("Presenter mode", key=PRESENT_KEY, in_share_link=False,
                         help="Large text, tables and charts for a projector; the sidebar "
                              "folds away, and the arrow and page keys step through the "
                              "lesson. Also ?present=1 in the address.")
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
