"""Once per server process: single-threaded BLAS, a background warm-up, then gc.freeze."""

from __future__ import annotations

import gc
import threading

import streamlit as st

from hlmlab.twolevel import warm_up


@st.cache_resource(show_spinner=False)
def prepare_process() -> threading.Thread:
    """Once per server process: single-threaded BLAS, then a background warm-up fit.

    Many sessions fit small models at once; OpenBLAS's own threads only fight over the two
    cores (measured here: a three-level fit took 0.20 s with them, 0.04 s without). The
    warm-up imports statsmodels (about 2 s cold) before the first student needs it.

    Returns
    -------
    The warm-up thread (already started).
    """
    import scipy.linalg  # noqa: F401  (load scipy's BLAS so the limit reaches it too)
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)
    thread = threading.Thread(target=_warm_up_and_freeze, name="hlmlab-warm-up", daemon=True)
    thread.start()
    return thread


def _warm_up_and_freeze() -> None:
    """Warm up, then move every object alive now (modules, statsmodels, plotly) out of the
    garbage collector's reach. A full collection then walks only what later runs create:
    with .streamlit/config.toml's postScriptGC off, the collections Python still starts
    itself stay short instead of holding the GIL for a tenth of a second mid-rerun."""
    warm_up()
    gc.collect()
    gc.freeze()
