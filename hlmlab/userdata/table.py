"""A user's file as a table of named, typed columns: what the "Your data" page works on.

:func:`read_user_file` reads the file's cells (:func:`hlmlab.userdata.reading.read_cells`),
refuses names that are empty or repeated, and gives each column a type: a column whose
every cell is a number becomes float64, except whole numbers too large for a float to keep
apart (identifiers of 2^63 or 20 digits): those stay text, so that distinct identifiers
stay distinct groups. Every other column stays text, exactly as written.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from hlmlab.userdata.reading import (
    RawTable,
    exact_integer_overflow,
    read_cells,
    read_file_bytes,
    to_numbers,
)
from hlmlab.userdata.text import UserDataError, count_phrase, shown, shown_list

__all__ = ["UserTable", "read_user_file", "read_user_path"]


@dataclass(frozen=True)
class UserTable:
    """A user's file, read.

    Attributes
    ----------
    frame : DataFrame with the file's column names: float64 for number columns, ``str``
        for the rest (missing cells NaN). Its index is the data row's number in the file,
        from 0 (what subsamples and generated scripts refer to).
    raw : the :class:`~hlmlab.userdata.reading.RawTable` it was built from (the read
        options and column positions that generated scripts use).
    notes : plain sentences about the reading, for the page to show.
    """

    frame: pd.DataFrame
    raw: RawTable
    notes: tuple[str, ...]

    @property
    def filename(self) -> str:
        """The file's name, without folders."""
        return self.raw.filename

    def position(self, column: str) -> int:
        """The column's position in the table a generated script reads (see RawTable)."""
        return self.raw.positions[list(self.frame.columns).index(column)]

    def summary(self) -> str:
        """One sentence for the page: ``Read `exam.csv`: 4,059 rows, 10 columns.``"""
        rows, columns = self.frame.shape
        return (f"Read {shown(self.filename)}: {count_phrase(rows, 'row')}, "
                f"{count_phrase(columns, 'column')}.")

    def is_number_column(self, column: str) -> bool:
        """True when every cell of the column that is not missing is a number."""
        return pd.api.types.is_float_dtype(self.frame[column])


def read_user_file(data: bytes, filename: str, sheet: str | None = None) -> UserTable:
    """Read an uploaded file into a :class:`UserTable`.

    Parameters
    ----------
    data : the file's bytes.
    filename : its name as uploaded (the extension chooses the reader).
    sheet : an Excel file's worksheet (the first when omitted).

    Returns
    -------
    UserTable

    Raises
    ------
    UserDataError
        The file cannot be read, exceeds a limit, or has empty or repeated column names.
    """
    raw = read_cells(data, filename, sheet)
    _check_names(raw)
    notes = list(raw.notes)
    columns = {}
    kept_as_text = []
    for position, name in enumerate(raw.names):
        values = raw.cells[position]
        numbers = to_numbers(values, raw.options.decimal_comma)
        every_cell_a_number = (numbers.notna() == values.notna()).all() and numbers.notna().any()
        too_big = exact_integer_overflow(values) if every_cell_a_number else None
        if too_big is not None:
            kept_as_text.append(name)
        if every_cell_a_number and too_big is None:
            columns[name] = numbers
        else:
            columns[name] = values.astype("str").where(values.notna())
    if kept_as_text:
        notes.append(
            f"Column(s) {shown_list(kept_as_text)} hold whole numbers too large to compute "
            "with exactly (beyond 2^53); they are kept as text labels, so each value stays "
            "its own group."
        )
    frame = pd.DataFrame(columns, index=raw.cells.index)
    frame.attrs.update(label=raw.filename, synthetic=False)
    return UserTable(frame=frame, raw=raw, notes=tuple(notes))


def read_user_path(path: str | Path, sheet: str | None = None) -> UserTable:
    """:func:`read_user_file` for a file on disk (symbolic links refused)."""
    return read_user_file(read_file_bytes(path), Path(path).name, sheet)


def _check_names(raw: RawTable) -> None:
    empty = [position for position, name in enumerate(raw.names) if name == ""]
    if empty:
        column = raw.positions[empty[0]] + 1
        raise UserDataError(
            f"Column {column} of {shown(raw.filename)} has no name in the header row, but "
            "holds data. Give every column a name in the first row."
        )
    seen: dict[str, int] = {}
    for position, name in enumerate(raw.names):
        if name in seen:
            raise UserDataError(
                f"Columns {raw.positions[seen[name]] + 1} and {raw.positions[position] + 1} of "
                f"{shown(raw.filename)} are both called {shown(name)}. Give every column its "
                "own name."
            )
        seen[name] = position
