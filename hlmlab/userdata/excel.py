"""Excel workbooks, read for their values only, after the archive has been checked.

An ``.xlsx`` file is a zip archive of XML files. Before any XML is parsed, the archive's own
directory is checked: how many members, their total uncompressed size and each member's
compression ratio (a zip bomb renamed ``.xlsx`` declares gigabytes in a few kilobytes), and
whether it carries macros (``vbaProject.bin``), which HLM Lab refuses. Python's ``zipfile``
never inflates a member past its declared size, so the declared sizes checked here bound
what parsing can inflate. openpyxl then parses the XML with defusedxml (entity expansion
refused) and ``data_only=True``: a formula cell yields the value Excel saved with it and is
never computed. A formula saved without a value (files written by some programs) reads as
missing, and a note says how many there are and where the first one is.

``.xls`` files (the old binary format) are read by xlrd, also for saved values only.
"""

from __future__ import annotations

import io
import re
import warnings
import zipfile

import pandas as pd

from hlmlab.userdata.reading import MAX_CELLS, MAX_ROWS, ReadOptions
from hlmlab.userdata.text import UserDataError, count_phrase, refused_if_unreadable, shown

__all__ = ["MAX_ARCHIVE_MEMBERS", "MAX_COMPRESSION_RATIO", "MAX_UNCOMPRESSED_BYTES",
           "check_archive", "read_workbook", "sheet_names"]

#: Total uncompressed size of an .xlsx archive's members.
MAX_UNCOMPRESSED_BYTES = 100 * 1024 * 1024
#: Uncompressed / compressed size of any member larger than a megabyte. Spreadsheet XML
#: compresses about 5-30 times; zip bombs, thousands of times.
MAX_COMPRESSION_RATIO = 100
_RATIO_CHECKED_ABOVE = 1024 * 1024
#: Members in the archive (a workbook has a few dozen).
MAX_ARCHIVE_MEMBERS = 2_000


def check_archive(data: bytes, filename: str) -> zipfile.ZipFile:
    """Open an .xlsx file's zip archive after checking its directory; refuse bombs and macros.

    Raises
    ------
    UserDataError
        Not a zip archive (a renamed or password-protected file), too many members, too large
        uncompressed, a member compressed suspiciously well, encrypted members, or macros.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError):
        protected = data.startswith(b"\xd0\xcf\x11\xe0")
        raise UserDataError(
            f"{shown(filename)} is not an .xlsx workbook"
            + (" (it may be password-protected, or an old .xls file renamed)" if protected
               else "")
            + ". Open it in a spreadsheet program and save it as .xlsx or CSV."
        ) from None
    if len(members) > MAX_ARCHIVE_MEMBERS:
        raise UserDataError(
            f"{shown(filename)} holds {len(members):,} files inside; a workbook holds a few "
            "dozen. HLM Lab does not open it."
        )
    total = sum(member.file_size for member in members)
    if total > MAX_UNCOMPRESSED_BYTES:
        raise UserDataError(
            f"{shown(filename)} would unpack to {total / 2**20:,.0f} MB; HLM Lab opens "
            f"workbooks that unpack to at most {MAX_UNCOMPRESSED_BYTES // 2**20} MB. Save the "
            "sheet you need as CSV."
        )
    for member in members:
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > _RATIO_CHECKED_ABOVE and ratio > MAX_COMPRESSION_RATIO:
            raise UserDataError(
                f"{shown(filename)} holds a part compressed {ratio:,.0f} times (a real "
                f"workbook's are under {MAX_COMPRESSION_RATIO}): it looks like a zip bomb, "
                "so HLM Lab does not open it."
            )
        if member.flag_bits & 0x1:
            raise UserDataError(
                f"{shown(filename)} is encrypted; save an unprotected copy as .xlsx or CSV."
            )
        if member.filename.lower().endswith("vbaproject.bin"):
            raise UserDataError(
                f"{shown(filename)} contains macros; HLM Lab does not open workbooks with "
                "macros. Save a copy without them (.xlsx) or as CSV."
            )
    return archive


def _sheet_parts(archive: zipfile.ZipFile) -> list[bytes]:
    return [archive.read(name) for name in archive.namelist()
            if name.startswith("xl/worksheets/") and name.endswith(".xml")]


def _unreadable(filename: str) -> str:
    return (f"{shown(filename)} could not be read as an Excel workbook: it may be damaged. "
            "Open it in a spreadsheet program and save it again, or as CSV.")


def _open_book(data: bytes, kind: str) -> pd.ExcelFile:
    return pd.ExcelFile(io.BytesIO(data), engine="openpyxl" if kind == "excel" else "xlrd")


def sheet_names(data: bytes, filename: str, kind: str) -> tuple[str, ...]:
    """A workbook's worksheet names, in the workbook's order; an .xlsx archive is checked
    first (:func:`check_archive`). ``kind`` is ``"excel"`` (.xlsx) or ``"xls"``.

    Raises
    ------
    UserDataError
        The archive is refused, or the workbook cannot be opened.
    """
    if kind == "excel":
        check_archive(data, filename)
    with refused_if_unreadable(_unreadable(filename)):
        return tuple(str(name) for name in _open_book(data, kind).sheet_names)


def read_workbook(data: bytes, filename: str, kind: str, sheet: str | None
                  ) -> tuple[pd.DataFrame, ReadOptions, tuple[str, ...], list[str]]:
    """One worksheet's grid of values (header row included), its options, every sheet's name
    and notes. ``kind`` is ``"excel"`` (.xlsx) or ``"xls"``."""
    notes: list[str] = []
    if kind == "excel":
        archive = check_archive(data, filename)
        parts = _sheet_parts(archive)
        # Counted in the XML before parsing: openpyxl reads about 100,000 cells a second.
        stored = max((part.count(b"<c ") + part.count(b"<c>") for part in parts), default=0)
        rows = max((part.count(b"<row ") + part.count(b"<row>") for part in parts), default=0)
        if rows > MAX_ROWS + 1 or stored > MAX_CELLS:
            raise UserDataError(
                f"A sheet of {shown(filename)} stores {count_phrase(rows, 'row')} and "
                f"{count_phrase(stored, 'cell')}; HLM Lab reads at most {MAX_ROWS:,} rows and "
                f"{MAX_CELLS:,} cells. Keep only the rows and columns you need."
            )
        has_formulas = any(re.search(rb"<f[ >/]", part) for part in parts)
    with refused_if_unreadable(_unreadable(filename)):
        book = _open_book(data, kind)
        sheets = tuple(str(name) for name in book.sheet_names)
        if sheet is not None and sheet not in sheets:
            raise UserDataError(f"{shown(filename)} has no sheet called {shown(sheet)}.")
        chosen = sheet if sheet is not None else sheets[0]
        grid = book.parse(chosen, header=None, dtype=object)
    if len(sheets) > 1:
        notes.append(f"The workbook has {len(sheets)} sheets; the sheet {shown(chosen)} was read.")
    if kind == "excel" and has_formulas:
        notes.extend(_formula_notes(data, chosen))
    elif kind == "xls":
        notes.append("Cells with formulas are read as the values Excel saved with them.")
    return grid, ReadOptions(kind=kind, sheet=chosen), sheets, notes


def _formula_notes(data: bytes, sheet: str) -> list[str]:
    """Which cells hold formulas, and which of those have no saved value (read as missing).

    The sheet is read twice, for its formulas and for their saved values, cell by cell.
    """
    from openpyxl import load_workbook
    from openpyxl.utils import get_column_letter

    books = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for data_only in (False, True):
            books.append(load_workbook(io.BytesIO(data), read_only=True, data_only=data_only,
                                       keep_links=False))
    formulas, unsaved = 0, []
    try:
        for formula_row, value_row in zip(books[0][sheet].iter_rows(),
                                          books[1][sheet].iter_rows()):
            for formula_cell, value_cell in zip(formula_row, value_row):
                if getattr(formula_cell, "data_type", None) != "f":
                    continue
                formulas += 1
                if value_cell.value is None:
                    unsaved.append(f"{get_column_letter(formula_cell.column)}{formula_cell.row}")
    finally:
        for book in books:
            book.close()
    notes = []
    saved = formulas - len(unsaved)
    if saved:
        notes.append(f"{count_phrase(saved, 'cell')} of the sheet hold formulas; their saved "
                     "values are read (HLM Lab never computes formulas).")
    if unsaved:
        notes.append(f"{count_phrase(len(unsaved), 'formula')} had no saved value and read as "
                     f"missing (HLM Lab never computes formulas), the first in cell {unsaved[0]}. "
                     "Open the file in Excel and save it again to store the values.")
    return notes
