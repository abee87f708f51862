"""The page helpers that hold logic of their own: slider grids, next steps, the prefetcher,
the publishing of plotly.js for the chart element."""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from pathlib import Path

from pages._widgets import SliderRange, _Prefetcher, next_steps, snap_all


def test_snap_puts_values_on_the_slider_grid():
    icc = SliderRange(0.0, 0.9, 0.05)
    assert 0.1 + 0.2 != 0.3  # the float sum a naive cache key would use
    assert icc.snap(0.1 + 0.2) == 0.3
    assert icc.snap(0.9) == 0.9 and icc.snap(0.0) == 0.0
    assert SliderRange(0.2, 3.0, 0.1).snap(1.5) == 1.5
    children = SliderRange(10, 200, 10)
    assert children.snap(40) == 40 and isinstance(children.snap(40), int)
    assert snap_all((40, 0.30000000000000004), (children, icc)) == (40, 0.3)


def test_next_steps_follow_the_moved_slider_onward_last():
    ranges = (SliderRange(2, 50, 1), SliderRange(0.0, 0.9, 0.05))
    # The second slider moved up: back to 0.25 first, then on to 0.35 (run first: LIFO).
    assert next_steps((10, 0.3), (10, 0.25), ranges) == [(10, 0.25), (10, 0.35)]
    # Moved down to the minimum: only the step back up stays in range.
    assert next_steps((2, 0.3), (3, 0.3), ranges) == [(3, 0.3)]
    # A first run: both neighbours of every slider, the first slider's last (so run first).
    assert next_steps((10, 0.3), None, ranges) == [(10, 0.25), (10, 0.35), (9, 0.3), (11, 0.3)]
    assert next_steps((2, 0.0), None, ranges) == [(2, 0.05), (3, 0.0)]
    assert next_steps((10, 0.3), (10, 0.3), ranges) == []


@contextmanager
def a_page_script_running():
    """A stand-in for a page script that runs until the block ends (Streamlit's thread name)."""
    release = threading.Event()
    script = threading.Thread(target=release.wait, name="ScriptRunner.scriptThread")
    script.start()
    try:
        yield
    finally:
        release.set()
        script.join()


def wait_until(condition, seconds: float = 5) -> None:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)


def test_prefetcher_waits_for_running_scripts_then_runs_newest_first():
    done = []
    with a_page_script_running():  # the prefetcher must not start meanwhile
        prefetcher = _Prefetcher()
        prefetcher.add(done.append, "older")
        prefetcher.add(done.append, "newer")
        time.sleep(0.2)
        assert done == []
    wait_until(lambda: len(done) == 2)
    assert done == ["newer", "older"]


def test_prefetcher_drops_tasks_that_waited_too_long():
    done = []
    with a_page_script_running():
        prefetcher = _Prefetcher(max_age=0.1)
        prefetcher.add(done.append, "stale")
        time.sleep(0.3)  # a long script run: the student has moved on
    prefetcher.add(done.append, "fresh")
    wait_until(lambda: done)
    time.sleep(0.1)
    assert done == ["fresh"]


def test_prefetcher_survives_a_failing_task():
    done = []
    prefetcher = _Prefetcher()

    def fails(_):
        raise ValueError("no fit")

    prefetcher.add(fails, 1)
    prefetcher.add(done.append, 2)
    wait_until(lambda: done)
    assert done == [2]


def test_plotly_js_is_published_for_the_chart_element_or_not_at_all(tmp_path, monkeypatch):
    import plotly

    from pages import _widgets

    shipped = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    monkeypatch.setattr(_widgets, "_STATIC_DIR", tmp_path / "static")
    _widgets._plotly_script_url.clear()
    try:
        url = _widgets._plotly_script_url()
        assert url == f"app/static/plotly-{plotly.__version__}.min.js"  # relative: base paths
        published = tmp_path / "static" / url.rsplit("/", 1)[1]
        assert published.read_bytes() == shipped.read_bytes()
        # Nowhere to write it (a read-only install): None, and show_chart falls back to
        # st.plotly_chart instead of drawing nothing.
        blocked = tmp_path / "not-a-directory"
        blocked.write_text("a file where the folder should be")
        monkeypatch.setattr(_widgets, "_STATIC_DIR", blocked)
        _widgets._plotly_script_url.clear()
        assert _widgets._plotly_script_url() is None
    finally:
        _widgets._plotly_script_url.clear()


def test_prepare_chart_serialises_a_shared_figure_once():
    import json

    import plotly.graph_objects as go

    from pages._widgets import prepare_chart

    figure = go.Figure(go.Scatter(x=[1, 2], y=[3, 4]), {"title": {"text": "Lines · a data set"}})
    assert prepare_chart(figure) is figure
    sent = figure._hlm_json
    spec = json.loads(sent)
    assert spec["layout"]["datarevision"] == figure.layout.datarevision  # ready_for_browser
    assert spec["layout"]["title"]["subtitle"]["text"] == "a data set"
    assert prepare_chart(figure)._hlm_json is sent  # a rerun sends it, it does not rebuild it
