"""ui.script_runs: our own count of running page scripts and fragments, which the prefetcher
waits on, and the mark of a run that came through app.py's navigation."""

from __future__ import annotations

import threading

import pytest
from streamlit.testing.v1 import AppTest

from ui import script_runs


def test_the_count_nests_and_wait_until_idle_waits_for_the_last_block():
    assert script_runs.scripts_running() == 0
    assert script_runs.wait_until_idle(timeout=0)
    outer_left = threading.Event()
    with script_runs.script_running():
        with script_runs.script_running():
            assert script_runs.scripts_running() == 2
        assert not script_runs.wait_until_idle(timeout=0.05)  # still one running
        waiter = threading.Thread(target=lambda: script_runs.wait_until_idle() and outer_left.set())
        waiter.start()
        assert not outer_left.wait(0.1)
    waiter.join(5)
    assert outer_left.is_set() and script_runs.scripts_running() == 0


class StopForRerun(BaseException):
    """Like Streamlit's RerunException and StopException: not an Exception."""


@pytest.mark.parametrize("stop", [ValueError("a page error"), StopForRerun()])
def test_a_run_ended_by_an_exception_is_uncounted(stop):
    with pytest.raises(type(stop)):
        with script_runs.page_run():
            assert script_runs.run_through_app_navigation()
            raise stop
    assert script_runs.scripts_running() == 0
    assert not script_runs.run_through_app_navigation()


APP = '''
import streamlit as st
from ui.script_runs import fragment, page_run, run_through_app_navigation, scripts_running

seen = st.session_state.setdefault("seen", [])


@fragment
def panel():
    seen.append(("fragment", scripts_running()))
    if st.button("Stop", key="stop_button"):
        st.stop()
    if st.button("Rerun", key="rerun_button"):
        st.session_state["rerun_asked"] = True
        st.rerun()
    st.slider("A slider", 0, 10, 5, key="value")


with page_run():
    seen.append(("page", scripts_running(), run_through_app_navigation()))
    panel()
    if st.session_state.pop("raise", False):
        raise ValueError("an error in the page")
'''


def test_pages_and_fragments_count_while_they_run_and_not_after(write_app):
    """In a real script run: a page in app.py's page_run and a fragment inside it both count;
    st.stop, st.rerun and an uncaught error leave nothing counted."""
    at = AppTest.from_file(str(write_app({"app.py": APP}) / "app.py"), default_timeout=30).run()
    assert not at.exception
    assert at.session_state["seen"] == [("page", 1, True), ("fragment", 2)]
    assert script_runs.scripts_running() == 0

    at.button(key="stop_button").click().run()
    assert script_runs.scripts_running() == 0
    at.run()  # st.stop ended the last run before the later buttons were drawn
    at.button(key="rerun_button").click().run()
    assert at.session_state["rerun_asked"] and script_runs.scripts_running() == 0
    at.session_state["raise"] = True
    at.run()
    assert at.exception and "an error in the page" in at.exception[0].message
    assert script_runs.scripts_running() == 0
    assert all(entry[1] >= 1 for entry in at.session_state["seen"])
    assert not script_runs.run_through_app_navigation()  # the mark ended with the run


def test_a_fragment_keeps_its_name_for_streamlit():
    """Streamlit derives a fragment's identity from the function's module and name."""

    def chart_panel():
        """Its docstring."""

    wrapped = script_runs.fragment(chart_panel)
    assert wrapped.__name__ == "chart_panel" and wrapped.__doc__ == "Its docstring."
    assert wrapped.__qualname__ == chart_panel.__qualname__
    assert callable(script_runs.fragment(run_every=None))  # @fragment(...) form
