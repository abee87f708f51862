"""A tiny app for benchmarks/table_cost.py: one fragment with a slider and one table, drawn
in the way the query string names, so the server's cost per move of each way can be measured.

``?way=dataframe|arrow|table|html|markdown|none&rows=10|50``. Every table is built once per
slider value and cached (as HLM Lab's panels would after "tables built once per fit"), so a
move costs only the element's conversion and sending. The numbers are synthetic.
"""

import numpy as np
import pandas as pd
import pyarrow as pa
import streamlit as st

WAY = st.query_params.get("way", "dataframe")
ROWS = int(st.query_params.get("rows", "10"))


@st.cache_resource
def frame(value: int, rows: int) -> pd.DataFrame:
    """A per-school table shaped like HLM Lab's (ids, sizes, OLS and multilevel lines)."""
    rng = np.random.default_rng(value)
    return pd.DataFrame({
        "school": [f"school {i + 1}" for i in range(rows)],
        "n": rng.integers(5, 70, rows),
        "OLS intercept": rng.normal(50, 5, rows).round(2),
        "OLS slope": rng.normal(2, 1, rows).round(3),
        "multilevel intercept": rng.normal(50, 4, rows).round(2),
        "multilevel slope": rng.normal(2, 0.7, rows).round(3),
        "shrinkage weight": rng.uniform(0.2, 1.0, rows).round(3),
    })


@st.cache_resource
def arrow_table(value: int, rows: int) -> pa.Table:
    return pa.Table.from_pandas(frame(value, rows), preserve_index=False)


@st.cache_resource
def html_table(value: int, rows: int) -> str:
    return frame(value, rows).to_html(index=False, border=0)


@st.fragment
def panel():
    value = st.slider("Table seed", 1, 40, 1)
    if WAY == "dataframe":
        st.dataframe(frame(value, ROWS), hide_index=True)
    elif WAY == "arrow":
        st.dataframe(arrow_table(value, ROWS), hide_index=True)
    elif WAY == "table":
        st.table(frame(value, ROWS))
    elif WAY == "html":
        st.html(html_table(value, ROWS))
    elif WAY == "markdown":
        st.markdown(html_table(value, ROWS), unsafe_allow_html=True)
    st.caption(f"{WAY}, {ROWS} rows (synthetic numbers)")


panel()
