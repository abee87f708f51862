"""benchmarks/class_load.py against a real, small Streamlit app: it sees its moves take effect."""

from __future__ import annotations

import asyncio
import threading
import time

import class_load
from conftest import stop, streamlit_server

SLIDER = "Students per school"


def run(argv: list[str]) -> dict:
    return asyncio.run(class_load.run_class(class_load.parse_options(argv)))


def test_the_class_moves_a_fragment_slider_and_the_metric_follows(tiny_app):
    with streamlit_server(tiny_app) as (port, process):
        report = run(["--port", str(port), "--slider", SLIDER, "-n", "6", "-k", "4",
                      "--think", "0.1", "--ramp", "0.5", "--values", "cold",
                      "--server-pid", str(process.pid), "--expect-element", "metric"])
    assert report["errors"] == {}
    assert report["first_load"]["n"] == 6 and report["students_done"] == 6
    assert report["moves_done"] == 24
    # the slider sits in an st.fragment: every move is a fragment rerun, as the browser sends
    assert report["moves_sent"] == {"fragment": 24, "full": 0}
    # cold: on-grid values (2..40) nobody had asked for, while any were left
    assert report["cold_moves"] == 24
    # the metric is the slider's value squared: the server saw the moved values, not only
    # the default 10 (100), and only squares of on-grid values came back
    seen = {int(v) for v in report["metric_values_seen"]}
    assert len(seen - {100}) >= 20
    assert seen <= {v * v for v in range(2, 41)}
    assert report["server"]["cpu_s"] > 0 and report["server"]["rss_peak_mb"] > 20
    assert report["server_cpu_s_per_move"] > 0
    assert report["table_row"].startswith("| /") and "| 6 | cold |" in report["table_row"]


def test_lockstep_sends_everyone_to_the_same_values(tiny_app):
    with streamlit_server(tiny_app) as (port, _):
        report = run(["--port", str(port), "--slider", SLIDER, "-n", "5", "-k", "3",
                      "--think", "0.5", "--ramp", "0.5", "--lockstep", "--value-list", "30,20,35",
                      "--lockstep-spread", "0.2"])
    assert report["errors"] == {} and report["moves_done"] == 15
    assert {"900", "400", "1225"} <= set(report["metric_values_seen"])
    assert report["lockstep_due_to_answer"]["n"] == 15


def test_a_missing_slider_is_an_error_not_a_crash(tiny_app):
    with streamlit_server(tiny_app) as (port, _):
        report = run(["--port", str(port), "--slider", "No such slider", "-n", "2", "-k", "1",
                      "--think", "0", "--ramp", "0"])
    assert report["errors"] == {"missing_slider": 2}
    assert report["moves_done"] == 0


def test_students_reconnect_when_their_server_goes_away(tiny_app, tmp_path):
    """The server is killed mid-run and started again on the same port: every student
    reconnects by itself, re-opens the page and finishes its moves."""
    port = class_load.free_port()
    restarted = {}

    def restart_soon(process):
        time.sleep(2.0)
        stop(process)
        with streamlit_server(tiny_app, port) as (_, again):
            restarted["pid"] = again.pid
            while not restarted.get("done"):
                time.sleep(0.1)

    with streamlit_server(tiny_app, port) as (_, process):
        killer = threading.Thread(target=restart_soon, args=(process,))
        killer.start()
        try:
            report = run(["--port", str(port), "--slider", SLIDER, "-n", "4", "-k", "8",
                          "--think", "0.6", "--ramp", "0.2", "--values", "random"])
        finally:
            restarted["done"] = True
            killer.join()
    assert "pid" in restarted
    assert report["students_done"] == 4
    reconnects = report["errors"].get("disconnect", 0)
    assert reconnects >= 1 and report["reconnect"]["n"] == reconnects
    assert report["moves_failed"] == reconnects  # each drop cost the move in flight, no more
    assert report["moves_done"] == 32 - report["moves_failed"]
    assert set(report["errors"]) == {"disconnect"}
