"""Welcome page: what HLM Lab is, and the course map: every section of the course deck in the
deck's order, each linking to the lesson tab that teaches it or saying it is not covered yet."""

from pathlib import Path

import streamlit as st

from hlmlab.course_map import load_course_map
from hlmlab.lesson_text import load_lesson
from ui.navigation import ensure_app_frame
from ui.widgets import show_lesson_section

ensure_app_frame(__file__)
LESSON = load_lesson("home")
PAGES_DIR = Path(__file__).parent


def map_link_key(part_key: str, position: int) -> str:
    """The keyed container of one map entry (tests and the browser find the links by it)."""
    return f"map_{part_key}_{position}"


def where_it_opens(query: dict) -> str:
    """The tab or step a link opens, as the student reads it ("2 · Sources of variability",
    "step 4")."""
    if "step" in query:
        return f"step {query['step']}"
    return next(iter(query.values()), "")


def show_course_map() -> None:
    _, parts = load_course_map()
    for part in parts:
        st.subheader(part.title, anchor=f"map-{part.key}")
        if part.note:
            st.markdown(part.note)
        for position, entry in enumerate(part.entries, 1):
            with st.container(key=map_link_key(part.key, position)):
                if not entry.covered:
                    st.markdown(f":material/block: {entry.title}: **not covered yet**")
                elif (PAGES_DIR / f"{entry.page}.py").exists():
                    opens = where_it_opens(entry.query)
                    st.page_link(f"pages/{entry.page}.py",
                                 label=f"{entry.title} · {opens}" if opens else entry.title,
                                 icon=":material/arrow_forward:", query_params=entry.query)
                else:  # the map already names a lesson this copy of the app does not have
                    st.markdown(f":material/block: {entry.title}: **not in this version of "
                                "the app yet**")


st.title("HLM Lab")
show_lesson_section(LESSON["intro"])
show_lesson_section(LESSON["map"])
show_course_map()
show_lesson_section(LESSON["how"])
