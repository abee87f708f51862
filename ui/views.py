"""A lesson's views as URL-bound tabs that run and draw only the open one."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ui import controls

__all__ = ["BUTTON_SUFFIX", "View", "show_views"]

# A reveal button's key ends with this (tests find the buttons of a question by it).
BUTTON_SUFFIX = "_reveal"


@dataclass(frozen=True)
class View:
    """One tab of a lesson page.

    Attributes
    ----------
    label : the tab's label, also its value in the URL (or its number: ``?why_view=3``).
    show : draws the view (usually a :func:`ui.script_runs.fragment`).
    """

    label: str
    show: Callable[[], None]


def show_views(views: Sequence[View], key: str) -> None:
    """A lesson's views as tabs that run and draw only the open one.

    A page with every tab drawn was measured 100-150 ms slower per slider press: the browser
    re-styles the whole document on every rerun. A closed tab's controls are not drawn;
    they keep their values because every control is made by :mod:`ui.controls`
    (``persist_state="session"``). The open tab is in the URL (``?<key>=<label>``, or its
    number), so an instructor can link to it, and presenter mode's arrow and page keys step
    through the tabs (ui/keys.py).

    Parameters
    ----------
    views : the lesson's views, in tab order.
    key : the tabs' widget key, also the URL parameter's name.
    """
    tabs = controls.tabs([view.label for view in views], key=key)
    for tab, view in zip(tabs, views):
        if tab.open:
            with tab:
                view.show()
