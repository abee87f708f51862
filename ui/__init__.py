"""HLM Lab's Streamlit layer: everything the lesson pages draw with, split by job.

- ``ui.process``: once per server process (single-threaded BLAS, warm-up, gc.freeze).
- ``ui.script_runs``: our own count of running page scripts and fragments (app.py's
  ``page_run``, the ``fragment`` decorator), read by the prefetcher and ``ui.navigation``.
- ``ui.navigation``: ``ensure_app_frame``, which keeps a page inside app.py's navigation when
  Streamlit's legacy ``pages/`` discovery starts it on its own.
- ``ui.chart`` (+ ``plotly_chart.js``): the chart element, plotly.js publishing, preload.
- ``ui.plotly_bundle``: which plotly.js is served (the pinned cartesian partial bundle, or
  the full one), and ``python3 -m ui.plotly_bundle``, its install-time fetch (no Streamlit).
- ``ui.panels``: ``run`` / ``prefetch``, the one cached entry point of a lesson's panels
  (``hlmlab.panels.Panel``): a memory tier, the machine's shared disk tier
  (``ui.result_cache``), failures cached, neighbours prefetched.
- ``ui.prefetch``: the background prefetcher of a slider's next step.
- ``ui.result_cache``: the per-machine on-disk result cache shared by worker processes.
- ``ui.tables``: ``show_table``, the one way a page shows a table (prepared HTML).
- ``ui.widgets``: lesson sections, diagnostics, fit summary, code tabs, source note.
- ``ui.questions``: ``ask``, the one predict-then-reveal question widget of every lesson.
- ``ui.controls``: the one way a page makes a control (URL-bound, kept for the session, its
  URL value checked first), and the current view's URL.
- ``ui.views``: ``show_views`` / ``View``, a lesson's URL-bound lazy tabs.
- ``ui.presenter``: presenter mode (large text, tables and charts; the sidebar folded).
- ``ui.share``: "Share this view": the view's URL as text and as a QR code.
- ``ui.keys`` (+ ``keys.js``): presenter mode's clicker keys step through a lesson.

Importing this package does nothing; no module of it raises while being imported.
"""
