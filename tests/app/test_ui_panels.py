"""ui.panels: one cached entry point (memory, then the machine's disk tier), failures cached,
one computation per key, stable keys across processes, neighbours prefetched."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import panel_examples
from hlmlab.errors import ModelDataError
from panel_examples import DESIGN, Design
from ui import panels

TESTS_APP = Path(__file__).resolve().parent
REPO = TESTS_APP.parents[1]


@pytest.fixture
def fresh_results(tmp_path, monkeypatch):
    """An empty result cache of this process, in its own directory; no computes counted."""
    directory = tmp_path / "cache"
    monkeypatch.setenv("HLMLAB_CACHE_DIR", str(directory))
    monkeypatch.setattr(panels, "_served", panels._RecentKeys(panels.MEMORY_ITEMS))
    panels._results.clear()
    panel_examples.CALLS.clear()
    yield directory
    panels._results.clear()


def test_equal_settings_are_computed_once_and_shared_as_one_object(fresh_results):
    first = panels.run(DESIGN, Design(12, 0.1 + 0.2))
    again = panels.run(DESIGN, Design(12, 0.3))  # the same settings, once snapped
    assert again is first  # the memory tier: no pickling on a hit
    assert panel_examples.CALLS == [Design(12, 0.3)]  # the compute saw snapped settings
    assert list(fresh_results.rglob("*.pickle"))  # and the disk tier has it for others


def test_a_failure_is_cached_and_raised_again(fresh_results):
    for _ in range(3):
        with pytest.raises(ModelDataError, match="No pupils drawn"):
            panels.run(DESIGN, Design(0, 0.3))
    assert panel_examples.CALLS == [Design(0, 0.3)]


def test_concurrent_requests_for_one_result_share_one_computation(fresh_results, monkeypatch):
    monkeypatch.setenv("HLMLAB_TEST_COMPUTE_SECONDS", "0.3")
    results = []
    threads = [threading.Thread(target=lambda: results.append(panels.run(DESIGN, Design(5, 0.1))))
               for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert panel_examples.CALLS == [Design(5, 0.1)]
    assert len(results) == 6 and all(r is results[0] for r in results)


def run_in_another_process(cache: Path, calls: Path, settings: str) -> str:
    """A fresh interpreter (another worker) runs the panel; prints the result and its key."""
    code = ("import panel_examples as p; from ui import panels; s = p.Design(" + settings + "); "
            "print(panels.run(p.DESIGN, s).text); print(panels.cache_key(p.DESIGN, s))")
    env = dict(os.environ, HLMLAB_CACHE_DIR=str(cache), HLMLAB_TEST_CALLS=str(calls),
               PYTHONPATH=os.pathsep.join([str(REPO), str(TESTS_APP)]))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, cwd=REPO, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def test_worker_processes_share_results_through_the_disk_tier(tmp_path):
    cache, calls = tmp_path / "cache", tmp_path / "calls.txt"
    first = run_in_another_process(cache, calls, "7, 0.2")
    second = run_in_another_process(cache, calls, "7, 0.2")
    assert first == second == ["7 pupils, ICC 0.2", first[1]]  # the same key in each process
    assert calls.read_text().splitlines() == ["Design(size=7, icc=0.2)"]  # computed once


def test_keys_name_the_panel_the_settings_and_the_code(fresh_results, monkeypatch):
    key = panels.cache_key(DESIGN, Design(7, 0.2))
    assert key != panels.cache_key(DESIGN, Design(7, 0.25))
    monkeypatch.setattr(panels, "_code_version", lambda: "another checkout")
    assert panels.cache_key(DESIGN, Design(7, 0.2)) != key


def test_prefetch_computes_the_moved_sliders_neighbours(fresh_results, wait_until):
    """Through a real script run: the first run queues every slider's neighbours, a press
    the step back and the step onward of the slider that moved."""

    def lesson():
        import streamlit as st

        from panel_examples import DESIGN, Design
        from ui.panels import prefetch, run
        from ui.script_runs import page_run

        with page_run():
            settings = Design(st.slider("Pupils", 0, 20, 10, key="size"), 0.3)
            prefetch(DESIGN, settings, "design_last")
            st.write(run(DESIGN, settings).text)

    at = AppTest.from_function(lesson, default_timeout=30).run()
    assert not at.exception
    first_run = {Design(9, 0.3), Design(11, 0.3), Design(10, 0.25), Design(10, 0.35)}
    assert wait_until(lambda: first_run <= set(panel_examples.CALLS))
    at.slider(key="size").set_value(11).run()
    assert wait_until(lambda: Design(12, 0.3) in panel_examples.CALLS)
    assert at.session_state["design_last"] == Design(11, 0.3)
    # The step back (10) was cached already: computed once, by the first run.
    assert panel_examples.CALLS.count(Design(10, 0.3)) == 1


def test_prefetch_queues_no_task_for_a_result_already_served(fresh_results, monkeypatch):
    queued = []
    monkeypatch.setattr(panels, "enqueue", lambda task, argument: queued.append(argument[1]))

    def lesson():
        import streamlit as st

        from panel_examples import DESIGN, Design
        from ui.panels import prefetch, run

        run(DESIGN, Design(9, 0.3))  # seen before: in this process's memory
        prefetch(DESIGN, Design(st.slider("Pupils", 0, 20, 10, key="size"), 0.3), "last")

    at = AppTest.from_function(lesson, default_timeout=30).run()
    assert not at.exception
    assert set(queued) == {Design(11, 0.3), Design(10, 0.25), Design(10, 0.35)}
