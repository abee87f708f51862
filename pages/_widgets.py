"""Display helpers shared by the lesson pages: presentation only, no maths."""

from __future__ import annotations

import gc
import json
import logging
import os
import shutil
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from hlmlab import report, style
from hlmlab.lesson_text import LessonSection
from hlmlab.twolevel import warm_up



def _route_through_app_py() -> None:
    """Run every page through app.py's st.navigation, even on a fresh server's first request.

    Streamlit decides at its first session whether the app uses the legacy ``pages/``
    auto-discovery, before app.py has had a chance to call ``st.navigation``. A deep link
    (``/nels88_two_schools?step=4``) as the first request would then run the page on its own,
    without app.py's page setup, sidebar and page list. Clearing the flag and rerunning lets
    app.py's navigation take over.
    """
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


_route_through_app_py()


@st.cache_resource(show_spinner=False)
def prepare_process() -> threading.Thread:
    """Once per server process: single-threaded BLAS, then a background warm-up fit.

    Many sessions fit small models at once; OpenBLAS's own threads only fight over the two
    cores (measured here: a three-level fit took 0.20 s with them, 0.04 s without). The
    warm-up imports statsmodels (about 2 s cold) before the first student needs it.
    """
    import scipy.linalg  # noqa: F401  (load scipy's BLAS so the limit reaches it too)
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)
    thread = threading.Thread(target=_warm_up_and_freeze, name="hlmlab-warm-up", daemon=True)
    thread.start()
    return thread


def _warm_up_and_freeze() -> None:
    """Warm up, then move every object alive now (modules, statsmodels, plotly) out of the
    garbage collector's reach. A full collection then walks only what later runs create:
    with .streamlit/config.toml's postScriptGC off, the collections Python still starts
    itself stay short instead of holding the GIL for a tenth of a second mid-rerun."""
    warm_up()
    gc.collect()
    gc.freeze()


# --------------------------------------------------------------------------- prefetch

_PREFETCH_THREAD = "hlmlab-prefetch"
_SCRIPT_THREAD = "ScriptRunner.scriptThread"  # Streamlit's name for a running page script


class _Prefetcher:
    """One background thread that warms the shared caches while no page script runs.

    A student who moves a slider one step usually moves it again: computing the next
    step's fits now turns that press from a fit (60-200 ms here) into a cache hit. Tasks
    run only while no script is running, newest first, at most ``capacity`` waiting, so a
    busy server (a lecture hall of students) does no speculative work at all. A task is a
    call of the page's own cached functions, so what it computes is exactly what a later
    press would have computed, shared by every session. A task still waiting after
    ``max_age`` seconds is dropped: the student has moved on (another slider, another page),
    and a stale fit would only take the CPU from what they do now.
    """

    def __init__(self, capacity: int = 32, max_age: float = 5.0):
        self._tasks: deque = deque(maxlen=capacity)
        self._max_age = max_age
        self._wake = threading.Condition()
        threading.Thread(target=self._run, name=_PREFETCH_THREAD, daemon=True).start()

    def add(self, task: Callable, argument) -> None:
        with self._wake:
            if not any(t == task and a == argument for t, a, _ in self._tasks):
                self._tasks.append((task, argument, time.monotonic()))
                self._wake.notify()

    def _run(self) -> None:
        _lower_this_threads_priority()
        while True:
            with self._wake:
                while not self._tasks:
                    self._wake.wait()
                task, argument, added = self._tasks.pop()
            while _a_script_is_running():
                time.sleep(0.01)
            if time.monotonic() - added > self._max_age:
                continue
            try:
                task(argument)
            except Exception:  # noqa: BLE001  the page reports it if a student asks for it
                pass


def _lower_this_threads_priority() -> None:
    """Speculative work yields the CPU to what a student waits for: page scripts and, on a
    machine that also runs the browser, the browser drawing the last press's chart (first
    visits of a slider's values were 50-100 ms slower than repeat visits while the prefetch
    of the next value ran beside the draw)."""
    try:  # Linux: a thread id sets that thread's own nice value
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
    except (AttributeError, OSError):
        pass


def _a_script_is_running() -> bool:
    return any(t.name == _SCRIPT_THREAD for t in threading.enumerate())


class _NoContextWarning(logging.Filter):
    """Cached functions called by the prefetch thread have no script context, and say so."""

    def filter(self, record: logging.LogRecord) -> bool:
        return threading.current_thread().name != _PREFETCH_THREAD


@st.cache_resource(show_spinner=False)
def _prefetcher() -> _Prefetcher:
    logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").addFilter(
        _NoContextWarning())
    return _Prefetcher()


@dataclass(frozen=True)
class SliderRange:
    """A slider's ``min``, ``max`` and ``step``, to put values on its grid."""

    low: float
    high: float
    step: float

    def snap(self, value: float) -> float:
        """``value`` on the slider's grid, rounded so equal settings make equal cache keys."""
        snapped = self.low + round((value - self.low) / self.step) * self.step
        return type(self.step)(round(snapped, 10))


def snap_all(values: Sequence[float], ranges: Sequence[SliderRange]) -> tuple:
    """Each slider value on its slider's grid (see :meth:`SliderRange.snap`)."""
    return tuple(r.snap(v) for v, r in zip(values, ranges))


def prefetch_next_steps(key: str, values: tuple, ranges: Sequence[SliderRange],
                        warm: Callable[[tuple], object]) -> None:
    """After a slider press, warm the caches for that slider's next step, in the background.

    Parameters
    ----------
    key : session-state key under which the panel's last values are kept.
    values : the panel's slider values, on their grids (:func:`snap_all`).
    ranges : each slider's range, in the same order.
    warm : called (in the background, when the server is idle) with a neighbouring values
        tuple; it calls the page's cached functions for those values.
    """
    previous = st.session_state.get(key)
    st.session_state[key] = values
    for neighbour in next_steps(values, previous, ranges):
        _prefetcher().add(warm, neighbour)


def next_steps(values: tuple, previous: tuple | None, ranges: Sequence[SliderRange]) -> list:
    """The settings one step away along each slider that moved from ``previous`` to
    ``values``: back, then onward (the likeliest next press, so the one to run first).

    With no ``previous`` (a panel's first run) every slider's two neighbours: the first
    press of any slider then finds its fits ready. A panel's default settings are the same
    for every student, so across a server's life this is done once, not per student.
    """
    if previous is not None and len(previous) != len(values):
        return []
    out = []
    positions = list(enumerate(zip(values, ranges)))
    # The task added last runs first: on a first run, the first slider's neighbours.
    for position, (now, grid) in positions if previous is not None else positions[::-1]:
        before = now - grid.step if previous is None else previous[position]
        if now == before:
            continue
        onward = 1 if now > before else -1
        for direction in (-onward, onward):
            value = grid.snap(now + direction * grid.step)
            if grid.low <= value <= grid.high and value != now:
                out.append(values[:position] + (value,) + values[position + 1:])
    return out


_SEVERITY = {"error": st.error, "warning": st.warning, "teaching": st.info, "info": st.caption}
_ICONS = {"error": ":material/error:", "warning": ":material/warning:", "teaching": ":material/school:"}


_CHART_CONFIG = {"displaylogo": False}
_CHART_SCRIPT = Path(__file__).with_name("_plotly_chart.js").read_text(encoding="utf-8")
_chart_element = st.components.v2.component("hlmlab_plotly_chart", js=_CHART_SCRIPT,
                                            isolate_styles=False)
# Where Streamlit serves the app's own files (.streamlit/config.toml: enableStaticServing).
_STATIC_DIR = Path(__file__).resolve().parents[1] / "static"


@st.cache_resource(show_spinner=False)
def _plotly_script_url() -> str | None:
    """The URL of plotly.js for the chart element, or None when it cannot be served.

    The file is the one the installed plotly package ships, copied once per process into
    ``static/`` (not committed: it always matches the plotly that builds the figures). The
    name carries the version, so a browser never runs a cached older copy.
    """
    import plotly

    source = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
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


def prepare_chart(figure):
    """Make a figure ready to draw: :func:`hlmlab.style.ready_for_browser`, then its plotly
    JSON, kept on the figure. A shared cached figure is serialised once, not on every rerun
    of every session; the prefetcher calls this too, so the next slider step's figure is
    ready before the press. Returns the same figure."""
    if not _prepared(figure):  # the usual case on a press takes no lock
        with _PREPARE_LOCK:  # the prefetcher and a page script may prepare one figure at once
            if not _prepared(figure):
                style.ready_for_browser(figure)
                figure._hlm_json = figure.to_json(validate=False)
                figure._hlm_json_revision = figure.layout.datarevision
    return figure


def _prepared(figure) -> bool:
    revision = getattr(figure, "_hlm_json_revision", None)
    return revision is not None and revision == figure.layout.datarevision


def preload_chart_library() -> None:
    """Have the browser fetch and compile plotly.js now, while the page's script is still
    fitting: otherwise that only starts when the first chart arrives (1-3 s on a fresh tab
    here). Draws nothing; call it once per run, early (app.py's sidebar does)."""
    script = _plotly_script_url()
    if script is not None:
        _chart_element(key="hlmlab_plotly_preload", data=json.dumps({"script": script}),
                       height=0)


def show_chart(figure, key: str, where=None) -> None:
    """Draw a plotly figure in HLM Lab's chart element (``pages/_plotly_chart.js``).

    The element stays on the page across reruns and redraws in place with
    ``Plotly.react``: one draw per slider press. ``st.plotly_chart`` remounts the chart for
    every new figure and draws it twice (hidden at a default width, then at the column's),
    which doubled the redraw time of every chart. The figure is drawn as built (our figures
    carry their own fonts and colours), made ready by :func:`prepare_chart`; a rerun that
    sends the same figure again costs plotly.js almost nothing (same ``datarevision``).

    Parameters
    ----------
    figure : plotly Figure.
    key : unique on the page; a chart keeps its key across reruns to be updated in place.
    where : a container or placeholder (default: the current one).
    """
    figure = prepare_chart(figure)
    script = _plotly_script_url()
    if script is None:
        (where or st).plotly_chart(figure, key=key, config=_CHART_CONFIG, theme=None)
        return
    payload = json.dumps({"figure": figure._hlm_json, "script": script})
    if where is None:
        _chart_element(key=key, data=payload)
    else:
        with where:
            _chart_element(key=key, data=payload)


def show_lesson_section(section: LessonSection) -> None:
    """A lesson section's heading (if any) and body."""
    if section.title:
        st.subheader(section.title)
    if section.body:
        st.markdown(section.body)


@dataclass(frozen=True)
class View:
    """One tab of a lesson page.

    Attributes
    ----------
    label : the tab's label, also its value in the URL.
    show : draws the view (usually an ``st.fragment``).
    state_prefix : every widget key of the view starts with it, so its state can be kept
        while the tab is closed. Buttons' keys end with ``_button`` (or ``_reveal``).
    """

    label: str
    show: Callable[[], None]
    state_prefix: str


# Buttons hold no state worth keeping, and Streamlit refuses a button value set by hand:
# a button's key ends with one of these, so the state keeper can leave it alone.
_BUTTON_SUFFIX = "_reveal"
_BUTTON_SUFFIXES = (_BUTTON_SUFFIX, "_button")


def show_views(views: Sequence[View], key: str) -> None:
    """A lesson's views as tabs that run and draw only the open one.

    A page with every tab drawn was measured 100-150 ms slower per slider press: the browser
    re-styles the whole document on every rerun. A closed tab's widgets are not drawn, so
    Streamlit would forget their values; writing them back through session state keeps a
    student's settings for when they return. The open tab is in the URL (``?<key>=<label>``),
    so an instructor can link to it.
    """
    tabs = st.tabs([view.label for view in views], key=key, bind="query-params")
    for tab, view in zip(tabs, views):
        if tab.open:
            with tab:
                view.show()
        else:
            _keep_widget_state(view.state_prefix)


def _keep_widget_state(prefix: str) -> None:
    for name in [k for k in st.session_state if isinstance(k, str) and k.startswith(prefix)]:
        if not name.endswith(_BUTTON_SUFFIXES):
            st.session_state[name] = st.session_state[name]


def show_question(section: LessonSection, key: str) -> None:
    """Predict, then reveal: the answer opens only after the student has committed."""
    st.subheader(section.title or "Question")
    st.markdown(section.body)
    guess = st.text_input("Your prediction (a few words)", key=f"{key}_guess")
    if st.button("Reveal the answer", key=key + _BUTTON_SUFFIX, disabled=not guess.strip()):
        st.session_state[f"{key}_shown"] = True
    if st.session_state.get(f"{key}_shown"):
        st.success(section.answer)


def show_diagnostics(messages) -> None:
    """Plain-language notes about a fit, coloured by how much they matter."""
    for message in messages:
        show = _SEVERITY.get(message.severity, st.info)
        if message.severity == "info":
            show(f"**{message.headline}** {message.detail}")
        else:
            show(f"**{message.headline}** {message.detail}", icon=_ICONS[message.severity])


def show_source_note(data, synthetic_note: str) -> None:
    """Say plainly whether the rows on screen are real.

    ``synthetic_note`` is the lesson's own words about its replica (a section of its
    Markdown file), shown when the data are synthetic.
    """
    label = data.attrs.get("label", "data")
    if data.attrs.get("synthetic"):
        st.info(synthetic_note, icon=":material/science:")
    else:
        dropped = data.attrs.get("dropped_rows", 0)
        extra = f" {dropped} rows with missing values were left out." if dropped else ""
        st.caption(f"**{label}**: real data.{extra}")


def show_fit_summary(comparison) -> None:
    """Beside a chart: why there is no multilevel fit, or its diagnostics, equation and
    variance components (all numbers from the fit object, as the reference tests check)."""
    fit = comparison.multilevel
    show_diagnostics(comparison.messages)
    if fit is None:
        return
    show_diagnostics(fit.messages)
    if fit.usable:
        st.latex(report.model_latex(fit))
        st.dataframe(report.variance_table(fit)[["shown"]], width="stretch",
                     column_config={"shown": "value"})


def show_code_tabs(fit, pooled=None) -> None:
    """The exact calls that reproduce a fit (anything with ``.code`` and ``.lme4``), in
    Python and in R, folded away so they do not crowd a projected page."""
    with st.expander("Run it yourself: the statsmodels and lme4 code", icon=":material/code:"):
        python_tab, r_tab = st.tabs(["statsmodels (Python)", "lme4 (R)"])
        with python_tab:
            st.code(fit.code, language="python")
            if pooled is not None:
                st.caption("The pooled line:")
                st.code(pooled.code, language="python")
            if getattr(fit, "optimizer_note", ""):
                st.caption(fit.optimizer_note)
        with r_tab:
            st.code(fit.lme4, language="r")


def show_choice_question(section: LessonSection, key: str) -> bool:
    """Predict, then reveal, with a multiple choice: lines ``- ( ) text`` of the body are the
    choices. The choice is locked once the answer is shown. Returns whether it is shown.
    """
    marker = "- ( ) "
    lines = section.body.splitlines()
    choices = [line[len(marker):].strip() for line in lines if line.startswith(marker)]
    st.subheader(section.title or "Question")
    st.markdown("\n".join(line for line in lines if not line.startswith(marker)))
    shown_key = f"{key}_shown"

    def reveal():  # a callback runs before the next script run, so the radio locks at once
        st.session_state[shown_key] = True

    shown = bool(st.session_state.get(shown_key))
    pick = st.radio("Your explanation", choices, index=None, key=f"{key}_pick", disabled=shown)
    st.button("Reveal the answer", key=key + _BUTTON_SUFFIX, disabled=shown or pick is None,
              on_click=reveal)
    if shown:
        if pick is not None:
            st.caption(f"You chose: *{pick}*")
        st.success(section.answer)
    return shown
