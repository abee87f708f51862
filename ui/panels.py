"""Run a lesson's panels (:class:`hlmlab.panels.Panel`): the one cached entry point for
rendering and prefetching.

- :func:`run` returns ``panel.compute(settings)`` for the settings snapped onto their grids,
  computed at most once per machine:

  - **memory tier**: results live in this process as objects, shared by every session and
    handed out without pickling (never mutate one);
  - **disk tier**: ``ui.result_cache.ResultCache`` (``$HLMLAB_CACHE_DIR``), so a result one
    worker process computed is read, not recomputed, by the others;
  - **one computation per key**: a session asking for a result another thread or worker is
    computing waits for it and then reads it (``ResultCache``'s locks: a thread lock, then
    an ``flock``, each chosen by the key, so equal keys always share one; two different
    keys share a thread lock 1 time in 256 and then wait for each other's compute);
  - **stable keys**: the panel's name, the canonical text of the settings
    (``ui.result_cache.canonical_text``, never Python's salted ``hash()``) and a version of
    the code that computes results (a hash of the ``hlmlab`` and ``ui`` sources and the
    library versions, computed once per process): a new checkout never reads an old
    result;
  - **failures cached too**: a compute that raises :class:`hlmlab.errors.ModelDataError`
    is remembered as that failure (a bad selection is not recomputed on every rerun), and
    :func:`run` raises it again. The page catches ``ModelDataError`` and shows its message:
    :func:`run_or_explain` does both, the one way a page says why a view has no result.

- :func:`run_in_session` is :func:`run` for a panel whose settings carry a user's own data
  (the "Your data" page): its results are kept in the session's own state only, never in
  the process's memory tier, on disk or in the prefetcher, so they are gone when the
  session ends and no other session can read them.

- :func:`prefetch` remembers a panel's last settings in the session and queues
  ``run(panel, neighbour)`` on the background prefetcher (``ui.prefetch``) for the settings
  one slider step away (``Panel.neighbours``): the next press finds its result ready.

A compute runs on the prefetcher's thread too, without a script context: it must not call
Streamlit (computes live in ``hlmlab``, which never imports it), and must not call
:func:`run` (a compute that needs another's work calls that pure function).
"""

from __future__ import annotations

import functools
import logging
import tempfile
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from hlmlab.errors import ModelDataError
from hlmlab.panels import Panel
from ui.prefetch import enqueue
from ui.result_cache import ResultCache, UnsafeCacheDirectory, code_version, stable_key

__all__ = ["prefetch", "run", "run_in_session"]

_LOG = logging.getLogger(__name__)
# Results kept as objects in one process. A NELS88 chart is ~40 kB, its numbers ~10 kB:
# a lecture's few hundred settings fit many times over.
MEMORY_ITEMS = 2048


class _RecentKeys:
    """The keys of the last ``limit`` results this process served (a bounded LRU set, as
    large as the memory tier): what the prefetcher need not compute again."""

    def __init__(self, limit: int):
        self._keys: OrderedDict[str, None] = OrderedDict()
        self._limit = limit
        self._lock = threading.Lock()

    def note(self, key: str) -> None:
        with self._lock:
            self._keys[key] = None
            self._keys.move_to_end(key)
            if len(self._keys) > self._limit:
                self._keys.popitem(last=False)

    def recently(self, key: str) -> bool:
        with self._lock:
            return key in self._keys


_served = _RecentKeys(MEMORY_ITEMS)


@dataclass(frozen=True)
class _Failed:
    """A cached ModelDataError: the settings cannot give a result, and this says why."""

    message: str


@st.cache_resource(show_spinner=False)
def _results() -> ResultCache:
    """The process's result cache: memory, then the machine's shared directory. When that
    directory cannot be used (another user's, or not writable), a private one of this
    process: results are then shared within the process only."""
    try:
        return ResultCache(memory_items=MEMORY_ITEMS)
    except (UnsafeCacheDirectory, OSError) as error:
        private = tempfile.mkdtemp(prefix="hlmlab-cache-private-")
        _LOG.warning("Shared result cache unavailable (%s); this process uses %s", error,
                     private)
        return ResultCache(private, memory_items=MEMORY_ITEMS)


@functools.cache
def _code_version() -> str:
    """What the cached results were computed by: the ``hlmlab`` and ``ui`` sources and the
    versions of the libraries that build them (figures: plotly; pickles: pandas, numpy)."""
    import hlmlab
    import plotly

    sources = [Path(hlmlab.__file__).parent, Path(__file__).parent]
    return f"{code_version(*sources)}-plotly{plotly.__version__}"


def cache_key(panel: Panel, settings) -> str:
    """The stable key of ``panel``'s result for ``settings`` (already snapped)."""
    version = _code_version()
    try:
        return _remembered_key(panel, settings, version)
    except TypeError:  # settings with an unhashable value: made afresh each time
        return stable_key(panel.name, settings, version)


@functools.lru_cache(maxsize=4096)
def _remembered_key(panel: Panel, settings, version: str) -> str:
    # The canonical text and its SHA-256 took ~5 % of a rerun's GIL time (two panels and
    # their neighbours per press); equal settings hash alike, so each is made once.
    return stable_key(panel.name, settings, version)


def run(panel: Panel, settings, spinner: str | None = None):
    """``panel.compute(settings)``, computed once per machine and shared (module docstring).

    Parameters
    ----------
    panel : the panel.
    settings : an instance of ``panel.settings_type``; snapped (``Panel.snapped``) before
        it becomes a key, so equal settings share one result.
    spinner : shown (by ``st.spinner``, after half a second) while this call computes; a
        result already cached shows none.

    Returns
    -------
    The panel's result (shared: never change it).

    Raises
    ------
    ModelDataError
        The settings cannot give a result (the message is for the student).
    """
    return _result(panel, panel.snapped(settings), spinner)


def run_or_explain(panel: Panel, settings, spinner: str | None = None, prefix: str = ""):
    """:func:`run`, or None after showing in words why these settings give no result.

    Parameters
    ----------
    panel, settings, spinner : as for :func:`run`.
    prefix : put before the message (e.g. ``"No fit: "``).

    Returns
    -------
    The panel's result, or None when its compute raised :class:`ModelDataError` (its
    message is shown as a warning: the student's words, never a traceback).
    """
    try:
        return run(panel, settings, spinner=spinner)
    except ModelDataError as exc:
        st.warning(f"{prefix}{exc}")
        return None


def _result(panel: Panel, settings, spinner: str | None = None):
    key = cache_key(panel, settings)
    value = _results().get_or_compute(key, lambda: _computed(panel, settings, spinner))
    _served.note(key)
    if isinstance(value, _Failed):
        raise ModelDataError(value.message)
    return value


def _computed(panel: Panel, settings, spinner: str | None):
    """The result to store: the compute's, or the failure it explained."""
    try:
        if spinner is None:
            return panel.compute(settings)
        with st.spinner(spinner):
            return panel.compute(settings)
    except ModelDataError as error:
        return _Failed(str(error))


def prefetch(panel: Panel, settings, state_key: str) -> None:
    """After a run, have the background prefetcher compute the panel's results one slider
    step away (``Panel.neighbours`` of these settings and the session's previous ones).

    Parameters
    ----------
    panel : the panel.
    settings : its settings in this run.
    state_key : session-state key under which the panel's last settings are kept (one per
        panel on the page).
    """
    settings = panel.snapped(settings)
    previous = st.session_state.get(state_key)
    st.session_state[state_key] = settings
    if previous == settings:  # a rerun that moved nothing of this panel: queued already
        return
    for neighbour in panel.neighbours(settings, previous):
        # A result this process has served is (almost always) still in its memory: no task.
        # Waking the prefetcher for nothing cost ~2 ms of a warm press's GIL time.
        if not _served.recently(cache_key(panel, neighbour)):
            enqueue(_prefetch_one, (panel, neighbour))


def _prefetch_one(task: tuple) -> None:
    """The prefetcher's task: a result into the caches (a failure is a result too)."""
    panel, settings = task
    try:
        _result(panel, settings)
    except ModelDataError:
        pass  # cached as a failure: the press that asks for it shows the message


#: Results a session keeps of one private panel (the last settings it showed; a student moving
#: a slider back and forth finds them again).
SESSION_ITEMS = 8


def run_in_session(panel: Panel, settings, state_key: str, spinner: str | None = None):
    """``panel.compute(settings)``, kept in this session's state only (privacy).

    For a panel whose settings hold a user's data (an uploaded file): the result never
    enters the machine's shared caches (:func:`run`), the disk or the prefetcher's thread;
    the session keeps its last :data:`SESSION_ITEMS` results under ``state_key``, and
    Streamlit drops them with the session.

    Parameters
    ----------
    panel : the panel.
    settings : an instance of ``panel.settings_type`` (snapped, as :func:`run` does).
    state_key : session-state key of this panel's results (one per panel on the page).
    spinner : shown while this call computes.

    Returns
    -------
    The panel's result (this session's own).

    Raises
    ------
    ModelDataError
        The settings cannot give a result (the message is for the student).
    """
    settings = panel.snapped(settings)
    kept = st.session_state.get(state_key)
    if not isinstance(kept, OrderedDict):
        kept = st.session_state[state_key] = OrderedDict()
    if settings in kept:
        kept.move_to_end(settings)
        value = kept[settings]
    else:
        value = _computed(panel, settings, spinner)
        kept[settings] = value
        while len(kept) > SESSION_ITEMS:
            kept.popitem(last=False)
    if isinstance(value, _Failed):
        raise ModelDataError(value.message)
    return value
