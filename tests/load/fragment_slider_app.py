"""A tiny Streamlit app for the load client's tests: a slider inside an st.fragment and a
metric that shows the slider's value squared (so a test can see that a move reached the
server and changed what it draws)."""

import streamlit as st

st.title("Class load test app")
st.checkbox("An unrelated checkbox", value=True, key="unrelated")


@st.fragment
def panel():
    value = st.slider("Students per school", 2, 40, 10, 1, key="per_school")
    st.metric("Squared", value * value)


panel()
