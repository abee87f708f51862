"""Lesson-specific analyses: one module per lesson page (named after the page's file stem),
holding pure ``compute(settings) -> result`` functions, and a ``<stem>_figures`` module with
that lesson's figures. No Streamlit."""
