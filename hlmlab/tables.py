"""Display tables in their final form: escaped HTML, built once per result. No Streamlit.

A panel's result holds its tables as :class:`DisplayTable` (see :mod:`hlmlab.panels`), so
drawing a cached result does no pandas work: ``ui.tables.show_table`` hands the ready HTML to
``st.html``. Measured on the NELS88 page (benchmarks/README.md, "Tables"): building three
pandas tables and converting them for ``st.dataframe`` was about 37 % of a warm slider move's
server time; a prepared HTML table costs the server nothing but sending it, is plain text
that scales with the page's CSS (the lecture mode's larger type), and needs none of the data
grid's JavaScript in the browser.

Numbers are shown by :func:`display_number`, the one rule of how many digits a student sees.
"""

from __future__ import annotations

import html
import math
import numbers
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["MISSING", "DisplayTable", "display_number", "display_table"]

#: What a cell with no value shows (NaN, None, an infinite weight).
MISSING = "—"
# A cell that reads as a number is right-aligned, so digits line up in a column.
_NUMBER_TEXT = re.compile(r"[-+−]?[\d,]*\.?\d+(e[-+]?\d+)?%?")


@dataclass(frozen=True)
class DisplayTable:
    """A table ready for the browser: escaped HTML (``html``) inside a ``div`` of class
    ``hlm-table``. Build it with :func:`display_table`; draw it with
    ``ui.tables.show_table``."""

    html: str

    def _repr_html_(self) -> str:  # what st.html and notebooks draw
        return self.html


def display_number(value) -> str:
    """A number as a student reads it: five significant digits (variances of about 0.01 keep
    their digits, where fixed decimals would not), two decimals from 1,000 up, whole numbers
    and counts without decimals, thousands separated by commas. Not finite: "not estimable".
    """
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, numbers.Integral):
        return f"{int(value):,d}"
    value = float(value)
    if not math.isfinite(value):
        return "not estimable"
    if value.is_integer() and abs(value) >= 1:
        return f"{int(value):,d}"
    return f"{value:,.2f}" if abs(value) >= 1000 else f"{value:,.5g}"


def _cell(value, formatter: Callable | None) -> str:
    if value is None or (isinstance(value, (float, np.floating)) and not math.isfinite(value)):
        return MISSING
    if value is pd.NA or value is pd.NaT:
        return MISSING
    if formatter is not None:
        return formatter(value)
    if isinstance(value, (numbers.Number, np.number)):
        return display_number(value)
    return str(value)


def _formatter(spec) -> Callable | None:
    if spec is None or callable(spec):
        return spec
    return spec.format


def _float_column(values: pd.Series) -> Callable | None:
    """One number of decimals for a column of floats, so its decimal points line up: five
    significant digits of its largest value (as :func:`display_number` gives it), at most
    six decimals. None for any other column."""
    if not pd.api.types.is_float_dtype(values.dtype):
        return None
    finite = np.abs(values.to_numpy(dtype=float))
    finite = finite[np.isfinite(finite) & (finite > 0)]
    if finite.size == 0:
        return None
    largest = float(finite.max())
    if largest >= 1000:
        return display_number
    decimals = int(min(6, max(0, 4 - math.floor(math.log10(largest)))))
    return f"{{:,.{decimals}f}}".format


def _td(text: str, tag: str = "td", scope: str = "") -> str:
    # Headings (labels, ids) stay left; a cell holding a number goes right.
    classes = ' class="num"' if tag == "td" and _NUMBER_TEXT.fullmatch(text.strip()) else ""
    scope_attr = f' scope="{scope}"' if scope else ""
    return f"<{tag}{scope_attr}{classes}>{html.escape(text)}</{tag}>"


def display_table(frame: pd.DataFrame, *, label: str = "", index: bool = True,
                  formats: Mapping[str, str | Callable] | None = None,
                  columns: Mapping[str, str] | None = None) -> DisplayTable:
    """A pandas frame as a :class:`DisplayTable`.

    Parameters
    ----------
    frame : the rows and columns to show, in order.
    label : what the table is, for screen readers (``aria-label``).
    index : show the index as the first column (row headers), headed by its name.
    formats : per column, a ``str.format`` spec (``"{:,d}"``) or a function of the value.
        Otherwise a column of floats gets one number of decimals (five significant digits
        of its largest value, so decimal points line up), other numbers
        :func:`display_number`, text as it is; row labels (ids) are shown as they are.
    columns : per column, the heading shown (default: the column's name).

    Returns
    -------
    DisplayTable
        Every text escaped (a user's file may name its columns and groups anything).
    """
    formatters = {name: _float_column(frame[name]) for name in frame.columns}
    formatters.update({name: _formatter(spec) for name, spec in (formats or {}).items()})
    headings = columns or {}
    head = []
    if index:
        head.append(_td(str(frame.index.name or ""), "th", "col"))
    head += [_td(str(headings.get(name, name)), "th", "col") for name in frame.columns]
    body = []
    cells = [frame[name].tolist() for name in frame.columns]
    row_labels = frame.index.tolist()
    for position, row_label in enumerate(row_labels):
        row = [_td(_cell(row_label, str), "th", "row")] if index else []
        row += [_td(_cell(values[position], formatters.get(name)))
                for name, values in zip(frame.columns, cells)]
        body.append("<tr>" + "".join(row) + "</tr>")
    aria = f' aria-label="{html.escape(label)}"' if label else ""
    return DisplayTable(
        f'<div class="hlm-table" role="region"{aria} tabindex="0"><table>'
        f"<thead><tr>{''.join(head)}</tr></thead><tbody>{''.join(body)}</tbody>"
        "</table></div>")
