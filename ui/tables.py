"""The one way a page shows a table: :func:`show_table`.

A table arrives in its final form, a :class:`hlmlab.tables.DisplayTable` (escaped HTML, made
once when a panel's result was computed), and is handed to ``st.html``: a rerun that shows a
cached result does no pandas work and no Arrow conversion. The look is set here (a light
grid, numbers right-aligned in tabular figures, a sticky heading, scrolling past about
twenty rows); the table's text takes the page's font size, so the lecture mode's larger type
reaches tables too (``st.dataframe`` draws on a canvas that page CSS does not reach).
Tests read the tables with ``tests/app/app_pages.shown_tables``.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from hlmlab.tables import DisplayTable, display_table

__all__ = ["show_table"]

# Sent with each table (about 600 bytes) rather than once per page: a fragment's rerun
# redraws only the fragment, and a table must look the same drawn either way.
_STYLE = """<style>
.hlm-table {overflow: auto; max-height: 34em; margin-bottom: 1rem;}
.hlm-table table {border-collapse: collapse; width: 100%; font-size: 0.95em;
  font-variant-numeric: tabular-nums;}
.hlm-table th, .hlm-table td {padding: 0.25em 0.6em; border-bottom: 1px solid #e6e6e6;
  text-align: left; white-space: nowrap;}
.hlm-table thead th {position: sticky; top: 0; background: #f6f6f6; font-weight: 600;
  border-bottom: 1px solid #cfcfcf; white-space: normal; vertical-align: bottom;}
.hlm-table tbody th {font-weight: 600; white-space: normal;}
.hlm-table .num {text-align: right;}
.hlm-table tbody tr:hover {background: #fafafa;}
</style>"""


def show_table(table: DisplayTable | pd.DataFrame, where=None, **options) -> None:
    """Draw a table.

    Parameters
    ----------
    table : a :class:`hlmlab.tables.DisplayTable` (a panel's result: drawn as it is), or a
        pandas frame, turned into one on every run by
        :func:`hlmlab.tables.display_table` with ``options`` (for pages that have no panel
        yet; a panel does it once per result instead).
    where : a container (default: the current one).
    options : passed to :func:`hlmlab.tables.display_table` for a frame.
    """
    if isinstance(table, pd.DataFrame):
        table = display_table(table, **options)
    elif options:
        raise TypeError("options apply to a pandas frame; a DisplayTable is already final")
    (where or st).html(_STYLE + table.html)
