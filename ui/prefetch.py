"""Background prefetching: a slider panel's next step is computed while the server is idle.

Every page is on panels: it calls ``ui.panels.prefetch``, which queues the panel's own
neighbouring settings here.

A student who moves a slider one step usually moves it again: computing the next step's
fits now turns that press from a fit (60-200 ms here) into a cache hit, shared by every
session. The :class:`Prefetcher` itself knows nothing of pages: it runs ``task(argument)``
calls, newest first, only while no page script runs (``ui.script_runs``' own count), and
logs any exception a task raises.

A task runs on the prefetcher's thread, which has no Streamlit script context: it must call
only functions that need none. Cached functions qualify when they show no spinner
(``show_spinner=False``; a page that wants a spinner wraps its own call in ``st.spinner``).
A cached function with a spinner message asks for the script context on a miss, and
Streamlit logs "missing ScriptRunContext" for it.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable

import streamlit as st

from ui import script_runs

__all__ = ["Prefetcher", "enqueue"]

_LOG = logging.getLogger(__name__)


class Prefetcher:
    """One background thread that runs tasks while no page script runs.

    Tasks run newest first, at most ``capacity`` waiting (the oldest is dropped), so a busy
    server (a lecture hall of students) does no speculative work at all. A task still
    waiting after ``max_age`` seconds is dropped: the student has moved on (another slider,
    another page), and a stale fit would only take the CPU from what they do now. The
    thread runs at nice 10.

    Parameters
    ----------
    wait_until_idle : blocks until no page script runs (default: ``ui.script_runs``).
    capacity : how many tasks may wait.
    max_age : seconds after which a waiting task is dropped.
    """

    def __init__(self, wait_until_idle: Callable[[], object] = script_runs.wait_until_idle,
                 capacity: int = 32, max_age: float = 5.0):
        self._tasks: deque = deque(maxlen=capacity)
        self._wait_until_idle = wait_until_idle
        self._max_age = max_age
        self._wake = threading.Condition()
        threading.Thread(target=self._run, name="hlmlab-prefetch", daemon=True).start()

    def add(self, task: Callable, argument) -> None:
        """Queue ``task(argument)`` unless the same call is already waiting."""
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
            self._wait_until_idle()
            if time.monotonic() - added > self._max_age:
                continue
            try:
                task(argument)
            except Exception:  # noqa: BLE001  a page reports its own errors; log it and go on
                _LOG.exception("Prefetch task %s(%r) failed",
                               getattr(task, "__qualname__", task), argument)


def _lower_this_threads_priority() -> None:
    """Speculative work yields the CPU to what a student waits for: page scripts and, on a
    machine that also runs the browser, the browser drawing the last press's chart (first
    visits of a slider's values were 50-100 ms slower than repeat visits while the prefetch
    of the next value ran beside the draw)."""
    try:  # Linux: a thread id sets that thread's own nice value
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
    except (AttributeError, OSError) as error:
        _LOG.warning("The prefetch thread runs at normal priority (%s)", error)


@st.cache_resource(show_spinner=False)
def _shared_prefetcher() -> Prefetcher:
    return Prefetcher()


def enqueue(task: Callable, argument) -> None:
    """Queue ``task(argument)`` on the process's prefetcher (it runs while no script runs;
    see :class:`Prefetcher`). ``ui.panels.prefetch`` queues a panel's neighbours this way."""
    _shared_prefetcher().add(task, argument)
