"""Welcome page: what HLM Lab is and where to start."""

import streamlit as st

from hlmlab.lesson_text import load_lesson
from ui.navigation import ensure_app_frame
from ui.widgets import show_lesson_section

ensure_app_frame(__file__)
LESSON = load_lesson("home")

st.title("HLM Lab")
show_lesson_section(LESSON["intro"])
st.page_link("pages/nels88_two_schools.py", label="Start: NELS88, math and homework in two schools",
             icon=":material/scatter_plot:")
show_lesson_section(LESSON["how"])
