"""A tiny Streamlit app for the balancer's browser test: an upload, and the uploaded picture
shown back (served from the worker's /media endpoint)."""

import streamlit as st

st.title("Upload and media through the balancer")
picture = st.file_uploader("A picture", type=["png"])
if picture is not None:
    data = picture.getvalue()
    st.image(data, caption=f"uploaded, {len(data)} bytes")
