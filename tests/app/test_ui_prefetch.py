"""ui.prefetch: the background prefetcher of a slider's next step."""

from __future__ import annotations

import logging
import time

from streamlit.testing.v1 import AppTest

from ui.prefetch import Prefetcher
from ui.script_runs import script_running


def test_prefetcher_waits_for_running_scripts_then_runs_newest_first(wait_until):
    done = []
    with script_running():  # a page script runs: the prefetcher must not start meanwhile
        prefetcher = Prefetcher()
        prefetcher.add(done.append, "older")
        prefetcher.add(done.append, "newer")
        prefetcher.add(done.append, "newer")  # already waiting: not queued twice
        time.sleep(0.2)
        assert done == []
    assert wait_until(lambda: len(done) == 2)
    time.sleep(0.1)
    assert done == ["newer", "older"]


def test_prefetcher_drops_tasks_that_waited_too_long(wait_until):
    done = []
    with script_running():
        prefetcher = Prefetcher(max_age=0.1)
        prefetcher.add(done.append, "stale")
        time.sleep(0.3)  # a long script run: the student has moved on
    prefetcher.add(done.append, "fresh")
    assert wait_until(lambda: done)
    time.sleep(0.1)
    assert done == ["fresh"]


def test_prefetcher_keeps_at_most_its_capacity_newest_first(wait_until):
    done = []
    with script_running():
        prefetcher = Prefetcher(capacity=2)
        for value in range(5):
            prefetcher.add(done.append, value)
    assert wait_until(lambda: len(done) == 2)
    time.sleep(0.1)
    assert done == [4, 3]


def test_prefetcher_logs_a_failing_task_and_goes_on(wait_until, caplog):
    done = []
    prefetcher = Prefetcher()

    def fails(_):
        raise ValueError("no fit for these settings")

    with caplog.at_level(logging.WARNING, logger="ui.prefetch"):
        prefetcher.add(fails, 1)
        prefetcher.add(done.append, 2)
        assert wait_until(lambda: done and "no fit" in caplog.text)
    assert done == [2]
    failure = next(r for r in caplog.records if r.exc_info)
    assert "fails" in failure.getMessage() and "(1)" in failure.getMessage()
