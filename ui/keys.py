"""Keyboard steps for presenter mode: a clicker's keys advance the lesson's steps or tabs.

``ui/keys.js`` listens on the document (Right / PageDown: next, Left / PageUp: back; not
while typing, not on a slider or tab that uses the key itself) and sends a trigger value.
Its callback runs before the next script run, so it sets the step's or tab's value through
session state before that control is drawn: the page opens the new step in the same run,
and the URL follows (the control is bound to it).

Which control moves: the one the page registered last through :mod:`ui.controls`, its view
tabs (``show_views``) or a step control (``controls.segmented_control(..., steps=True)``);
a page with neither ignores the keys.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from ui import controls

__all__ = ["keyboard_steps", "step"]

_KEYS_ELEMENT = st.components.v2.component(
    "hlmlab_keys", js=Path(__file__).with_name("keys.js").read_text(encoding="utf-8"),
    isolate_styles=False)


def step(direction: int) -> None:
    """Move the page's steps ``direction`` places (+1 next, -1 back), stopping at the ends.
    A callback: it runs before the script, so the control is drawn with the new value."""
    steps = controls.steps_of_this_page()
    if steps is None:
        return
    key, options = steps
    current = st.session_state.get(key)
    position = options.index(current) if current in options else 0
    st.session_state[key] = options[max(0, min(len(options) - 1, position + direction))]


def keyboard_steps() -> None:
    """Listen for the clicker's keys (call it while presenter mode is on; it draws
    nothing). Off, the element is not drawn and the browser has its keys back."""
    _KEYS_ELEMENT(key="hlmlab_keys", height=0, on_next_change=lambda: step(+1),
                  on_previous_change=lambda: step(-1))
