"""HLM Lab's chart element: plotly.js published into static/, preloaded by app.py's sidebar,
and one plotly chart per key that redraws in place (``ui/plotly_chart.js``)."""

from __future__ import annotations

import functools
import json
import logging
import shutil
import threading
from pathlib import Path

import streamlit as st

from hlmlab import style
from ui import plotly_bundle, presenter

_CHART_CONFIG = {"displaylogo": False}
_CHART_SCRIPT = Path(__file__).with_name("plotly_chart.js").read_text(encoding="utf-8")
_chart_element = st.components.v2.component("hlmlab_plotly_chart", js=_CHART_SCRIPT,
                                            isolate_styles=False)
# Where Streamlit serves the app's own files (.streamlit/config.toml: enableStaticServing).
_STATIC_DIR = plotly_bundle.STATIC_DIR


@st.cache_resource(show_spinner=False)
def _plotly_script_url() -> str | None:
    """The URL of plotly.js for the chart element, or None when it cannot be served.

    The cartesian partial bundle when it is installed and checked (``ui.plotly_bundle``:
    a third of the full bundle's size, every trace type the lessons draw); otherwise the file
    the installed plotly package ships, copied once per process into ``static/`` (not
    committed: it always matches the plotly that builds the figures). The names carry the
    version, so a browser never runs a cached older copy.
    """
    partial = plotly_bundle.partial_bundle(_STATIC_DIR)
    if partial is not None:
        return f"app/static/{partial.name}"
    import plotly

    source = plotly_bundle.full_bundle()
    name = f"plotly-{plotly.__version__}.min.js"
    target = _STATIC_DIR / name
    try:
        if not target.exists() or target.stat().st_size != source.stat().st_size:
            _STATIC_DIR.mkdir(exist_ok=True)
            partial_copy = target.with_suffix(".part")
            shutil.copyfile(source, partial_copy)
            partial_copy.replace(target)  # atomic: a browser never gets half a file
    except OSError as error:  # a read-only install: Streamlit's own chart still works
        logging.getLogger(__name__).warning("plotly.js not published (%s): st.plotly_chart "
                                            "draws the charts instead", error)
        return None
    return f"app/static/{name}"  # relative: also right under a server.baseUrlPath


_PREPARE_LOCK = threading.Lock()


def prepare_chart(figure) -> style.BrowserFigure:
    """A figure's final form for the chart element (:func:`hlmlab.style.browser_figure`),
    made once per figure object and kept on it: a shared cached figure is serialised once,
    not on every rerun of every session. The prefetcher calls this too, so the next slider
    step's figure is ready before the press.

    Parameters
    ----------
    figure : plotly Figure, or a :class:`hlmlab.style.BrowserFigure` (returned as it is).

    Returns
    -------
    hlmlab.style.BrowserFigure
    """
    if isinstance(figure, style.BrowserFigure):
        return figure
    prepared = getattr(figure, "_hlm_browser", None)
    if prepared is None:  # the usual case on a press takes no lock
        with _PREPARE_LOCK:  # the prefetcher and a page script may prepare one figure at once
            prepared = getattr(figure, "_hlm_browser", None)
            if prepared is None:
                prepared = style.browser_figure(figure)
                figure._hlm_browser = prepared
    return prepared


def preload_chart_library() -> None:
    """Have the browser fetch and compile plotly.js now, while the page's script is still
    fitting: otherwise that only starts when the first chart arrives (1-3 s on a fresh tab
    here). Draws nothing; call it once per run, early (app.py's sidebar does).

    A small inline script (:func:`_preload_html`), not the chart element itself: a custom
    component's own code is fetched only once React has rendered the page around it, and
    in a new tab that came 300-900 ms after the page's run had finished (CPU profile and
    request timeline in Chromium, benchmarks/README.md, session 7). The script is constant
    text of this module: no user input reaches it.
    """
    script = _plotly_script_url()
    if script is not None:
        st.html(_preload_html(script), unsafe_allow_javascript=True)


@functools.cache
def _preload_html(script: str) -> str:
    """An inline script that starts loading plotly.js as ``ui/plotly_chart.js``'s
    ``loadPlotly`` does, and leaves its promise where ``loadPlotly`` finds and reuses it."""
    url = json.dumps(script)
    return (
        "<script>(() => {"
        f"const url = {url};"
        "if (window.Plotly || (window.__hlmlabPlotly && window.__hlmlabPlotly.url === url)) return;"
        "const promise = new Promise((resolve, reject) => {"
        "const tag = document.createElement('script'); tag.src = url; tag.async = true;"
        "tag.onload = () => (window.Plotly ? resolve(window.Plotly) : reject(new Error('plotly.js did not load')));"
        "tag.onerror = () => { delete window.__hlmlabPlotly; reject(new Error('could not load ' + url)); };"
        "document.head.appendChild(tag);});"
        "promise.catch(() => {});"  # a chart that needs it reports the error itself
        "window.__hlmlabPlotly = {url, promise};"
        "})();</script>"
    )


@functools.cache
def _payload_start(script: str) -> bytes:
    """The chart element's payload up to its figure: ``{"script": URL``."""
    return b'{"script":' + json.dumps(script).encode("utf-8")


def show_chart(figure, key: str, where=None) -> None:
    """Draw a plotly figure in HLM Lab's chart element (``ui/plotly_chart.js``).

    The element stays on the page across reruns and redraws in place with
    ``Plotly.react``: one draw per slider press. ``st.plotly_chart`` remounts the chart for
    every new figure and draws it twice (hidden at a default width, then at the column's),
    which doubled the redraw time of every chart. The figure is drawn as built (our figures
    carry their own fonts and colours), made ready by :func:`prepare_chart`; a rerun that
    sends the same figure again costs plotly.js almost nothing (same ``datarevision``).

    The payload is bytes (``{"script": URL, "figure": <plotly JSON>}``), joined from the
    prepared figure's JSON: a cached :class:`hlmlab.style.BrowserFigure` is sent without
    being encoded again (a ``str`` payload is JSON-encoded by Streamlit twice per run).

    Parameters
    ----------
    figure : plotly Figure, or a prepared :class:`hlmlab.style.BrowserFigure` (a panel's
        result: nothing left to do but send it).
    key : unique on the page; a chart keeps its key across reruns to be updated in place.
    where : a container or placeholder (default: the current one).
    """
    prepared = prepare_chart(figure)
    script = _plotly_script_url()
    if script is None:
        (where or st).plotly_chart(json.loads(prepared.json), key=key, config=_CHART_CONFIG,
                                   theme=None)
        return
    # Presenter mode enlarges fonts, markers and lines in the browser, so the figure and
    # its cached JSON stay the same for every session.
    scale = json.dumps(presenter.chart_scale()).encode("utf-8")
    payload = b"".join((_payload_start(script), b',"scale":', scale, b',"figure":',
                        prepared.json, b"}"))
    if where is None:
        _chart_element(key=key, data=payload)
    else:
        with where:
            _chart_element(key=key, data=payload)
