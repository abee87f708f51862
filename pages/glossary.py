"""The glossary: the course's terms, one anchored entry each, for every lesson to link to
(``/glossary#icc``)."""

import streamlit as st

from hlmlab.lesson_text import load_lesson
from ui.navigation import ensure_app_frame

ensure_app_frame(__file__)
GLOSSARY = load_lesson("glossary")

st.title("Glossary")
st.markdown(GLOSSARY["intro"].body)
for key, entry in GLOSSARY.items():
    if key == "intro":
        continue
    # The entry's id is its anchor: the lessons link to /glossary#<id>.
    st.subheader(entry.title, anchor=key)
    st.markdown(entry.body)
