"""ui.navigation.ensure_app_frame: a page started by Streamlit's legacy pages/ discovery
(a fresh server's first request for it) is drawn inside app.py's navigation all the same.

AppTest resets Streamlit's "this app uses pages/" flag before every run, so every AppTest
run of an app with a pages/ folder starts as a fresh server's first request does: the
legacy discovery runs the page the URL names on its own. That is the case tested here.
"""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

APP = '''
import streamlit as st
from ui.script_runs import page_run

navigation = st.navigation([
    st.Page("pages/first.py", title="First", default=True),
    st.Page("pages/framed.py", title="Framed"),
    st.Page("pages/bare.py", title="Bare"),
])
st.sidebar.markdown("app.py's sidebar")
with page_run():
    navigation.run()
'''
FRAMED = '''
import streamlit as st
from ui.navigation import ensure_app_frame

ensure_app_frame(__file__)
st.title("Framed page")
st.markdown(f"step={st.query_params.get('step')}")
'''
FILES = {
    "app.py": APP,
    "pages/first.py": "import streamlit as st\nst.title('First page')\n",
    "pages/framed.py": FRAMED,
    # The same page without the call: what legacy discovery does to a page.
    "pages/bare.py": "import streamlit as st\nst.title('Bare page')\n",
}
REROUTED_KEY = "hlmlab_rerouted_through_app"


@pytest.fixture
def app(write_app):
    return write_app(FILES)


def sidebar_texts(at: AppTest) -> list[str]:
    return [m.value for m in at.sidebar.markdown]


def test_legacy_discovery_runs_a_page_without_app_py(app):
    """The failure this module works around: the page is drawn, app.py is not."""
    at = AppTest.from_file(str(app / "app.py"), default_timeout=30).run()
    at.switch_page("pages/bare.py").run()
    assert not at.exception and at.title[0].value == "Bare page"
    assert "app.py's sidebar" not in sidebar_texts(at)


def test_a_page_started_on_its_own_is_drawn_inside_app_py(app):
    at = AppTest.from_file(str(app / "app.py"), default_timeout=30)
    at.query_params["step"] = "4"
    at.run()
    assert "app.py's sidebar" in sidebar_texts(at) and at.title[0].value == "First page"
    assert REROUTED_KEY not in at.session_state  # app.py ran: nothing to reroute
    at.switch_page("pages/framed.py").run()
    assert not at.exception, [e.message for e in at.exception]
    assert [t.value for t in at.title] == ["Framed page"]
    assert "app.py's sidebar" in sidebar_texts(at)
    assert "step=4" in [m.value for m in at.markdown]  # the URL's query string is kept
    assert at.session_state[REROUTED_KEY]


def test_a_page_reroutes_a_session_once_and_keeps_its_clicks(write_app):
    """AppTest starts every run with the legacy discovery (a server does so only until
    the first st.navigation call): after the first reroute a page is drawn as it is, so a
    click is not lost to a rerun."""
    files = dict(FILES)
    files["pages/framed.py"] = FRAMED + (
        "if st.button('Reveal', key='reveal_button'):\n    st.success('revealed')\n")
    folder = write_app(files)
    at = AppTest.from_file(str(folder / "app.py"), default_timeout=30).run()
    at.switch_page("pages/framed.py").run()
    assert "app.py's sidebar" in sidebar_texts(at)
    at.button(key="reveal_button").click().run()
    assert not at.exception and [s.value for s in at.success] == ["revealed"]


def test_a_page_that_is_itself_the_entry_script_is_drawn_once_as_it_is(app):
    """No app.py to go through: one rerun, then the page as it is (no endless reruns)."""
    at = AppTest.from_file(str(app / "pages" / "framed.py"), default_timeout=30).run()
    assert not at.exception, [e.message for e in at.exception]
    assert [t.value for t in at.title] == ["Framed page"]
    at.run()
    assert [t.value for t in at.title] == ["Framed page"]
