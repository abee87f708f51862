"""Share this view: the URL of what is on screen, as text to copy and as a QR code.

The sidebar's button opens a dialog after the page has run, so the link holds every control
the page drew in this run (:func:`ui.controls.view_query`: those off their default, in
their shortest spelling) and the open tab, on the page's own path. Presenter mode is left
out: a student scanning the projector gets the view, not the projector's settings. The QR
code is made in Python (segno, pure Python) as a PNG; in presenter mode it is drawn large
enough to scan from the back of a hall.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from urllib.parse import quote, urlencode

import segno
import streamlit as st

from ui import controls

__all__ = ["share_button", "share_dialog_if_asked", "view_url"]

_ASKED = "hlmlab_share_button"
#: QR code width on screen, in pixels: normal, and in presenter mode.
QR_PIXELS, QR_PIXELS_PRESENTING = 260, 460


def view_url(page_url: str, state: Mapping | None = None) -> str:
    """The current view's URL.

    Parameters
    ----------
    page_url : the page's address without a query (``st.context.url``, or its path).
    state : the session state to read (default: this session's; a test passes its own).
    """
    query = urlencode(controls.view_query(state), quote_via=quote, safe=",")
    return f"{page_url}?{query}" if query else page_url


def qr_png(url: str) -> bytes:
    """``url`` as a QR code PNG (error correction M: readable from a projected, slightly
    blurred image), black on white with the standard quiet zone."""
    code = segno.make(url, error="m", micro=False)
    out = io.BytesIO()
    code.save(out, kind="png", scale=10, border=4)
    return out.getvalue()


def share_button() -> None:
    """The sidebar's "Share this view" button (call it inside ``st.sidebar``); app.py calls
    :func:`share_dialog_if_asked` after the page has run."""
    st.button("Share this view", icon=":material/qr_code_2:", key=_ASKED, width="stretch",
              help="A link to exactly this view (page, tab and every setting), to copy or "
                   "to scan as a QR code.")


def share_dialog_if_asked(page_path: str, presenting: bool) -> None:
    """Open the share dialog when the button was pressed in this run.

    Parameters
    ----------
    page_path : the page's URL path (``st.navigation``'s page ``url_path``), used when the
        browser's address is not known (a test).
    presenting : presenter mode is on: a large QR code.
    """
    if st.session_state.get(_ASKED):
        _share_dialog(view_url(st.context.url or f"/{page_path}"), presenting)


@st.dialog("Share this view", width="large")
def _share_dialog(url: str, presenting: bool) -> None:
    st.markdown("Open this link, or scan the code, to see this view with every setting as "
                "it is now:")
    st.code(url, language=None, wrap_lines=True)
    st.image(qr_png(url), width=QR_PIXELS_PRESENTING if presenting else QR_PIXELS)
    st.caption(f"{len(url)} characters. Settings left at their defaults are not in the link.")
