"""Every page runs inside app.py's navigation, even when Streamlit's legacy ``pages/``
discovery starts it on its own.

Why this module exists. Streamlit 1.67 offers no supported way to keep a folder named
``pages/`` beside the entry script and still have a fresh server's first request go
through that script's ``st.navigation``:

- ``streamlit/runtime/pages_manager.py`` lines 60-63: the first session a server process
  creates sets the class-wide flag ``PagesManager.uses_pages_directory`` to whether
  ``pages/`` exists beside the entry script.
- ``streamlit/runtime/scriptrunner/script_runner.py`` lines 933-934: while that flag is
  true, every run goes through ``_mpa_v1`` (lines 144-181), which lists ``pages/*.py``
  itself and runs the page the URL names *instead of* the entry script. app.py (its page
  config, sidebar, page list and process set-up) does not run at all.
- ``streamlit/commands/navigation.py`` line 399: only a call of ``st.navigation`` clears
  the flag ("as soon as any session of your app executes the st.navigation command, your
  app will ignore the pages/ directory (across all sessions)", st.navigation's docs), and
  under ``_mpa_v1`` app.py gets to make that call only for a URL that names no page file.
- No config option changes this (``client.showSidebarNavigation`` only hides the menu).

So a deep link (``/nels88_two_schools?step=4``) as a fresh server's first request would
draw the lesson bare. The one supported cure, no ``pages/`` beside app.py, conflicts with the
project's layout, which names ``pages/``. Hence the workaround :func:`ensure_app_frame`,
which uses public API only (``st.navigation``, ``st.rerun``) but calls ``st.navigation``
from a page, which Streamlit's docs say to do from the entry script only.
"""

from __future__ import annotations

import streamlit as st

from ui.script_runs import run_through_app_navigation

__all__ = ["ensure_app_frame"]

# Set in a session once this module has rerouted a run of it through app.py.
_REROUTED_KEY = "hlmlab_rerouted_through_app"


def ensure_app_frame(page_file: str) -> None:
    """Make sure this page is drawn inside app.py's frame; a page calls it first, in its
    body (never while a module is being imported: ``st.rerun`` raises).

    When the run did not come through app.py's navigation (see the module docstring), this
    calls ``st.navigation`` with this page (so the page the URL names is still known and no
    "page not found" is sent), which makes Streamlit ignore ``pages/`` in every session from
    now on, and reruns: app.py then draws this page in its frame, with the URL's query
    string kept.

    Once per session: on a server that can only happen on a session's first run (the flag
    never comes back), and a second time would mean the rerun cannot help (the page is
    itself the entry script, as in ``streamlit run pages/x.py``, or Streamlit's AppTest,
    which turns the legacy discovery on again before every run): the page is then drawn
    as it is, not rerun forever. A rerun also drops a button's click, so rerunning on
    every run would lose clicks.

    Parameters
    ----------
    page_file : the page's own path (its ``__file__``).
    """
    if run_through_app_navigation() or st.session_state.get(_REROUTED_KEY):
        return
    st.session_state[_REROUTED_KEY] = True
    # The URL's page must not be the default page: a default page's URL path is "", so the
    # page the URL names would not be found (Streamlit would send "page not found").
    st.navigation([st.Page(_default_page, title="HLM Lab", default=True), st.Page(page_file)],
                  position="hidden")
    st.rerun()


def _default_page() -> None:
    """Never run: ``st.navigation`` needs a default page beside the one the URL names."""
