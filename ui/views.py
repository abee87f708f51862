"""A lesson's views as URL-bound tabs that run and draw only the open one."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import streamlit as st

__all__ = ["BUTTON_SUFFIX", "View", "show_views"]

# Buttons hold no state worth keeping, and Streamlit refuses a button value set by hand:
# a button's key ends with one of these, so the state keeper can leave it alone.
BUTTON_SUFFIX = "_reveal"
_BUTTON_SUFFIXES = (BUTTON_SUFFIX, "_button")


@dataclass(frozen=True)
class View:
    """One tab of a lesson page.

    Attributes
    ----------
    label : the tab's label, also its value in the URL.
    show : draws the view (usually a :func:`ui.script_runs.fragment`).
    state_prefix : every widget key of the view starts with it, so its state can be kept
        while the tab is closed. Buttons' keys end with ``_button`` (or ``_reveal``).
    """

    label: str
    show: Callable[[], None]
    state_prefix: str


def show_views(views: Sequence[View], key: str) -> None:
    """A lesson's views as tabs that run and draw only the open one.

    A page with every tab drawn was measured 100-150 ms slower per slider press: the browser
    re-styles the whole document on every rerun. A closed tab's widgets are not drawn, so
    Streamlit would forget their values; writing them back through session state keeps a
    student's settings for when they return. The open tab is in the URL (``?<key>=<label>``),
    so an instructor can link to it.

    Parameters
    ----------
    views : the lesson's views, in tab order.
    key : the tabs' widget key, also the URL parameter's name.
    """
    tabs = st.tabs([view.label for view in views], key=key, bind="query-params")
    for tab, view in zip(tabs, views):
        if tab.open:
            with tab:
                view.show()
        else:
            _keep_widget_state(view.state_prefix)


def _keep_widget_state(prefix: str) -> None:
    for name in [k for k in st.session_state if isinstance(k, str) and k.startswith(prefix)]:
        if not name.endswith(_BUTTON_SUFFIXES):
            st.session_state[name] = st.session_state[name]
