"""Which page scripts are running in this process, by HLM Lab's own count.

app.py runs every page inside :func:`page_run`, and every panel that reruns on its own is
declared with :func:`fragment` (``st.fragment``, counted). Background work (the prefetcher)
asks :func:`wait_until_idle` instead of looking for Streamlit's script threads, which are
Streamlit's internals. The count is kept with try/finally: a run ended by a rerun request
(RerunException), by ``st.stop`` (StopException) or by an error is uncounted all the same.

:func:`page_run` also marks the run as one that came through app.py's ``st.navigation``;
:func:`ui.navigation.ensure_app_frame` reads that mark.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import streamlit as st

__all__ = ["fragment", "page_run", "run_through_app_navigation", "script_running",
           "scripts_running", "wait_until_idle"]

_changed = threading.Condition()
_running = 0
# Set while app.py's navigation runs a page in this thread (a page script is run by the
# same call that app.py makes, so it sees the value app.py set).
_through_app_navigation: ContextVar[bool] = ContextVar("hlmlab_through_app_navigation",
                                                       default=False)


@contextmanager
def script_running() -> Iterator[None]:
    """Count the enclosed block as a running page script (nested blocks count once each)."""
    global _running
    with _changed:
        _running += 1
    try:
        yield
    finally:
        with _changed:
            _running -= 1
            _changed.notify_all()


def scripts_running() -> int:
    """How many page scripts or fragments are running now."""
    with _changed:
        return _running


def wait_until_idle(timeout: float | None = None) -> bool:
    """Block until no page script or fragment runs.

    Parameters
    ----------
    timeout : seconds to wait at most; None waits as long as it takes.

    Returns
    -------
    True when idle, False when ``timeout`` passed first.
    """
    with _changed:
        return _changed.wait_for(lambda: _running == 0, timeout)


@contextmanager
def page_run() -> Iterator[None]:
    """app.py's frame around ``navigation.run()``: the page counts as a running script, and
    :func:`run_through_app_navigation` is true inside it."""
    token = _through_app_navigation.set(True)
    try:
        with script_running():
            yield
    finally:
        _through_app_navigation.reset(token)


def run_through_app_navigation() -> bool:
    """Whether the code calling this runs inside app.py's :func:`page_run`."""
    return _through_app_navigation.get()


def fragment(func: Callable | None = None, **options) -> Callable:
    """``st.fragment`` whose reruns count as running scripts (a slider press in a fragment
    reruns only the fragment: app.py's :func:`page_run` does not see it).

    Used as ``@fragment`` or ``@fragment(run_every=...)``; ``options`` go to
    ``st.fragment``. The wrapper keeps the function's module and qualified name, from which
    Streamlit derives the fragment's identity.
    """
    if func is None:
        return functools.partial(fragment, **options)

    @functools.wraps(func)
    def counted(*args, **kwargs):
        with script_running():
            return func(*args, **kwargs)

    return st.fragment(counted, **options)
