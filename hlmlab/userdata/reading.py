"""Read a user's table file, whatever it holds, into cells; refuse it with a plain message.

One reader serves every file HLM Lab opens from outside its own ``data/`` replicas: a file
uploaded on the "Your data" page and a user's copy of an original NELS88 or JSP file
(:func:`hlmlab.datasets.read_original`). It reads

- delimited text (comma, semicolon, tab, pipe or runs of spaces, sniffed from the header):
  UTF-8 with or without BOM, UTF-16 with a BOM (or without one, from its zero bytes), and
  Windows-1252/Latin-1 when the bytes are not UTF-8 (a note says so); any line endings;
  quoted fields with newlines; decimal commas in files not separated by commas (detected,
  converted, and noted); R's row-name column;
- Excel ``.xlsx`` (values only, see :mod:`hlmlab.userdata.excel`) and ``.xls``;
- Stata ``.dta`` and SPSS ``.sav``/``.zsav`` (value labels are not applied: codes stay codes).

Nothing read is ever evaluated. Every limit below is checked before the work it bounds, and
every failure is a :class:`~hlmlab.userdata.text.UserDataError` whose message echoes the
file's own text only through :func:`~hlmlab.userdata.text.shown`.
"""

from __future__ import annotations

import csv
import io
import os
import re
import stat
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from hlmlab.userdata.text import UserDataError, refused_if_unreadable, shown

__all__ = [
    "MAX_CELLS",
    "MAX_CELL_CHARACTERS",
    "MAX_COLUMNS",
    "MAX_FILE_BYTES",
    "MAX_FILE_MEGABYTES",
    "MAX_ROWS",
    "MISSING_TOKENS",
    "SUPPORTED_EXTENSIONS",
    "RawTable",
    "ReadOptions",
    "limits_text",
    "read_cells",
    "read_file_bytes",
    "to_numbers",
    "workbook_sheets",
]

#: The largest file read, in megabytes of 1024 * 1024 bytes: Streamlit's upload limit
#: (``server.maxUploadSize`` in .streamlit/config.toml) is set to the same number.
MAX_FILE_MEGABYTES = 20
MAX_FILE_BYTES = MAX_FILE_MEGABYTES * 1024 * 1024
#: Data rows (the header not counted).
MAX_ROWS = 100_000
#: Columns. A wider file is refused from its header alone, before its rows are parsed.
MAX_COLUMNS = 500
#: Rows times columns: bounds the time (about 0.4 s per million cells) and memory of reading.
MAX_CELLS = 2_000_000
#: Characters in one cell or column name.
MAX_CELL_CHARACTERS = 1_000

#: Cell texts read as missing values (after surrounding spaces are removed).
MISSING_TOKENS = ("", ".", "NA", "na", "N/A", "n/a", "NaN", "nan", "NULL", "null", "#N/A")

#: Extension -> kind of reader.
SUPPORTED_EXTENSIONS = {
    ".csv": "text", ".tsv": "text", ".tab": "text", ".txt": "text", ".dat": "text",
    ".xlsx": "excel", ".xls": "xls", ".dta": "stata", ".sav": "spss", ".zsav": "spss",
}
_MACRO_EXTENSIONS = (".xlsm", ".xlsb", ".xltm")
_DELIMITERS = (",", ";", "\t", "|")
_WHITESPACE = r"\s+"  # R's write.table(): fields separated by runs of spaces
_DELIMITER_WORDS = {",": "commas", ";": "semicolons", "\t": "tabs", "|": "pipes",
                    _WHITESPACE: "spaces"}
# Whole numbers beyond 2^53 are not all distinct as floating-point numbers.
_EXACT_INTEGER_LIMIT = 2**53
_INTEGER_TEXT = re.compile(r"[+-]?\d+")
_COMMA_DECIMAL = re.compile(r"[+-]?(\d+,\d*|,\d+)([eE][+-]?\d+)?")


@dataclass(frozen=True)
class ReadOptions:
    """How a file was read: enough for a generated script to read it the same way.

    Attributes
    ----------
    kind : ``"text"``, ``"excel"``, ``"xls"``, ``"stata"`` or ``"spss"``.
    encoding : Python codec of a text file (``"utf-8-sig"``, ``"utf-16"``, ``"cp1252"``...).
    delimiter : a text file's field separator; ``r"\\s+"`` for runs of spaces.
    decimal_comma : numbers in a text file are written ``1,5``.
    row_names : the text file's rows have one field more than its header (R's
        ``write.table``): that first field holds row names and is not a column.
    sheet : the Excel worksheet read.
    """

    kind: str
    encoding: str | None = None
    delimiter: str | None = None
    decimal_comma: bool = False
    row_names: bool = False
    sheet: str | None = None


@dataclass(frozen=True)
class RawTable:
    """A file's cells, before any column is given a meaning.

    Attributes
    ----------
    cells : DataFrame with columns ``0..k-1``: text (``str``, missing as NaN) for text and
        Excel files, the stored values for Stata and SPSS files.
    names : each column's name as the header wrote it (surrounding spaces removed); may be
        empty or repeated: callers decide what that means for them.
    positions : each column's position in the table pandas reads from the file (with
        ``header=0`` for text, ``header=None`` for Excel): columns that are only R row
        names or trailing empty separators are not in ``cells``.
    filename : the file's own name, without folders.
    options : :class:`ReadOptions`.
    notes : plain sentences about what the reader did (an encoding guessed, decimal commas,
        a formula without a saved value...).
    sheets : an Excel file's worksheet names.
    """

    cells: pd.DataFrame
    names: tuple[str, ...]
    positions: tuple[int, ...]
    filename: str
    options: ReadOptions
    notes: tuple[str, ...] = ()
    sheets: tuple[str, ...] = field(default=())


def limits_text() -> list[str]:
    """The reader's limits as sentences a page can show next to its upload box."""
    return [
        f"Files of up to {MAX_FILE_MEGABYTES} MB: CSV, TSV or semicolon-separated text, "
        "Excel (.xlsx, .xls), Stata (.dta) or SPSS (.sav).",
        f"At most {MAX_ROWS:,} rows, {MAX_COLUMNS:,} columns and {MAX_CELLS:,} cells "
        f"(rows × columns); at most {MAX_CELL_CHARACTERS:,} characters in one cell.",
        "The first row holds the column names. Formulas are never computed: an Excel "
        "file's saved values are read.",
    ]


# --------------------------------------------------------------------------- bytes


def read_file_bytes(path: str | Path) -> bytes:
    """A file's bytes, refusing symbolic links, non-regular files and files over the limit.

    The link check is made on the open file descriptor (``O_NOFOLLOW`` and ``fstat``), so a
    link swapped in between a check and the read is refused too.

    Raises
    ------
    UserDataError
        A symbolic link, not a regular file, a file that cannot be opened, or one larger than
        :data:`MAX_FILE_BYTES`.
    """
    path = Path(path)
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        descriptor = os.open(path, flags)
    except FileNotFoundError:
        raise UserDataError(f"The file {shown(path.name)} does not exist.") from None
    except OSError:
        if path.is_symlink():
            raise UserDataError(
                f"{shown(path.name)} is a symbolic link; HLM Lab does not follow links. "
                "Copy the file itself into the data folder."
            ) from None
        raise UserDataError(f"The file {shown(path.name)} could not be opened.") from None
    with os.fdopen(descriptor, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise UserDataError(f"{shown(path.name)} is not a regular file.")
        _check_size(info.st_size, path.name)
        return handle.read(MAX_FILE_BYTES + 1)


def _check_size(size: int, filename: str) -> None:
    if size > MAX_FILE_BYTES:
        raise UserDataError(
            f"{shown(filename)} is {size / 2**20:,.1f} MB; HLM Lab reads files of up to "
            f"{MAX_FILE_MEGABYTES} MB. Keep only the columns and rows you need."
        )


def _extension_kind(filename: str) -> str:
    suffix = Path(filename).suffix.lower()
    if suffix in _MACRO_EXTENSIONS:
        raise UserDataError(
            f"{shown(filename)} is a macro-enabled Excel workbook; HLM Lab does not open "
            "files with macros. Save a copy as an ordinary workbook (.xlsx) or as CSV."
        )
    if suffix not in SUPPORTED_EXTENSIONS:
        known = ", ".join(sorted(SUPPORTED_EXTENSIONS))
        raise UserDataError(
            f"{shown(filename)} has an extension HLM Lab does not read; expected one of "
            f"{known}."
        )
    return SUPPORTED_EXTENSIONS[suffix]


def workbook_sheets(data: bytes, filename: str) -> tuple[str, ...]:
    """The worksheet names of an Excel file, so that a student can pick one to read.

    Parameters
    ----------
    data : the file's content.
    filename : its name; the extension says whether it is a workbook.

    Returns
    -------
    tuple of str: empty for a file that is not a workbook, or one that cannot be opened
    (reading it with :func:`read_cells` then says why).
    """
    filename = Path(str(filename).replace("\\", "/")).name or "file"
    try:
        kind = _extension_kind(filename)
        if kind not in ("excel", "xls"):
            return ()
        _check_size(len(data), filename)
        from hlmlab.userdata.excel import sheet_names

        return sheet_names(data, filename, kind)
    except UserDataError:
        return ()


def read_cells(data: bytes, filename: str, sheet: str | None = None) -> RawTable:
    """Read a file's bytes into cells, by the kind its extension names.

    Parameters
    ----------
    data : the file's content (at most :data:`MAX_FILE_BYTES`).
    filename : its name; only the extension and the name itself are used, never a folder.
    sheet : for Excel files, the worksheet to read (the first when omitted).

    Returns
    -------
    RawTable

    Raises
    ------
    UserDataError
        Any file that cannot be read, with a message for a student.
    """
    filename = Path(str(filename).replace("\\", "/")).name or "file"
    kind = _extension_kind(filename)
    _check_size(len(data), filename)
    if not data.strip():
        raise UserDataError(f"{shown(filename)} is empty; expected a header row and data rows.")
    if kind == "text":
        table = _read_text(data, filename)
    elif kind in ("excel", "xls"):
        from hlmlab.userdata.excel import read_workbook

        grid, options, sheets, notes = read_workbook(data, filename, kind, sheet)
        table = _from_grid(grid, filename, options, notes, sheets)
    else:
        table = _read_statistical(data, filename, kind)
    _check_shape(len(table.cells), len(table.names), filename)
    _check_cell_lengths(table)
    return table


def _check_shape(rows: int, columns: int, filename: str) -> None:
    if columns > MAX_COLUMNS:
        raise UserDataError(
            f"{shown(filename)} has {columns:,} columns; HLM Lab reads at most "
            f"{MAX_COLUMNS:,}. Keep only the columns you need."
        )
    if rows == 0:
        raise UserDataError(f"{shown(filename)} has a header but no data rows; expected data rows.")
    if rows > MAX_ROWS:
        raise UserDataError(
            f"{shown(filename)} has more than {MAX_ROWS:,} data rows; HLM Lab reads at most "
            f"{MAX_ROWS:,}. Take a sample of the groups first."
        )
    if rows * columns > MAX_CELLS:
        raise UserDataError(
            f"{shown(filename)} has {rows:,} rows × {columns:,} columns = {rows * columns:,} "
            f"cells; HLM Lab reads at most {MAX_CELLS:,}. Keep only the columns you need."
        )


def _check_cell_lengths(table: RawTable) -> None:
    for position, name in enumerate(table.names):
        if len(name) > MAX_CELL_CHARACTERS:
            raise UserDataError(
                f"The name of column {position + 1} of {shown(table.filename)} is "
                f"{len(name):,} characters long; HLM Lab reads at most "
                f"{MAX_CELL_CHARACTERS:,} characters in a cell."
            )
    for position in table.cells.columns:
        values = table.cells[position]
        if pd.api.types.is_numeric_dtype(values):
            continue
        lengths = values.astype("str").str.len().where(values.notna(), 0)
        if len(lengths) and lengths.max() > MAX_CELL_CHARACTERS:
            row = int(np.argmax(lengths.to_numpy()))
            raise UserDataError(
                f"Row {row + 1} of column {shown(table.names[position])} holds a text of "
                f"{int(lengths.iloc[row]):,} characters; HLM Lab reads at most "
                f"{MAX_CELL_CHARACTERS:,} characters in a cell."
            )


# --------------------------------------------------------------------------- text files

_SIGNATURES = (
    (b"PK\x03\x04", "a zip archive (an Excel .xlsx workbook?)"),
    (b"\xd0\xcf\x11\xe0", "an Office file (an Excel .xls workbook?)"),
    (b"$FL2", "an SPSS .sav file"),
    (b"$FL3", "an SPSS .zsav file"),
    (b"%PDF", "a PDF document"),
    (b"\x89PNG", "a PNG image"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"\x7fELF", "a program"),
)


def _decode(data: bytes, filename: str) -> tuple[str, str, list[str]]:
    """The text, the codec that read it, and a note when it was a guess."""
    notes: list[str] = []
    if data.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        encoding = "utf-32"
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = "utf-16"
    elif data.startswith(b"\xef\xbb\xbf"):
        encoding = "utf-8-sig"
    else:
        for signature, what in _SIGNATURES:
            if data.startswith(signature):
                raise UserDataError(
                    f"{shown(filename)} is not a text table: it is {what}. Save the data as "
                    "CSV, or upload the file under its own extension."
                )
        encoding = _guess_encoding(data, filename)
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:
        if encoding.startswith("utf-16") or encoding == "utf-32":
            raise UserDataError(
                f"{shown(filename)} is UTF-16 text that ends in the middle of a character: the "
                "file looks cut short. Save it again (as UTF-8 CSV if you can)."
            ) from None
        if encoding == "utf-8-sig":
            raise UserDataError(
                f"{shown(filename)} starts like UTF-8 text but holds bytes that are not "
                "UTF-8. Save it again as UTF-8 CSV."
            ) from None
        # No BOM and not UTF-8: Windows spreadsheets save Windows-1252; Latin-1 reads any byte.
        try:
            text, encoding = data.decode("cp1252"), "cp1252"
        except UnicodeDecodeError:
            text, encoding = data.decode("latin-1"), "latin-1"
        notes.append(
            f"{shown(filename)} is not UTF-8 text; it was read as "
            f"{'Windows-1252' if encoding == 'cp1252' else 'Latin-1'} (Western European), "
            "as spreadsheets saved on Windows usually are. If accented letters look wrong, "
            "save the file as UTF-8."
        )
    _refuse_binary(text, filename)
    return text, encoding, notes


def _guess_encoding(data: bytes, filename: str) -> str:
    """UTF-16 without a BOM shows as zero bytes at every other position; else UTF-8."""
    if b"\x00" not in data:
        return "utf-8"
    sample = data[:4096]
    even, odd = sample[0::2], sample[1::2]
    if odd and odd.count(0) > 0.9 * len(odd) and even.count(0) < 0.1 * len(even):
        return "utf-16-le"
    if even and even.count(0) > 0.9 * len(even) and odd.count(0) < 0.1 * len(odd):
        return "utf-16-be"
    raise UserDataError(
        f"{shown(filename)} holds binary data, not a text table. Save the data as CSV, or "
        "upload the file under its own extension (.xlsx, .dta, .sav)."
    )


def _refuse_binary(text: str, filename: str) -> None:
    sample = text[:65536]
    # C0 control characters (and DEL) do not occur in text tables; C1 ones (U+0080-U+009F)
    # do, in Latin-1 files written with Windows-1252's extra characters.
    control = sum(1 for char in sample if (char < " " and char not in "\t\n\r\f") or char == "\x7f")
    if "\x00" in text or control > 0.01 * max(len(sample), 1):
        raise UserDataError(
            f"{shown(filename)} holds binary data, not a text table. Save the data as CSV, "
            "or upload the file under its own extension (.xlsx, .dta, .sav)."
        )


def _first_record(text: str) -> str:
    """The first non-blank record, which may span lines inside quotes."""
    start = 0
    while True:
        end = start
        quoted = False
        while end < len(text):
            char = text[end]
            if char == '"':
                quoted = not quoted
            elif char in "\r\n" and not quoted:
                break
            end += 1
        record = text[start:end]
        if record.strip() or end >= len(text):
            return record
        start = end + 1


def _count_outside_quotes(line: str, delimiter: str) -> int:
    count, quoted = 0, False
    for char in line:
        if char == '"':
            quoted = not quoted
        elif char == delimiter and not quoted:
            count += 1
    return count


def _sniff_delimiter(header: str) -> str:
    counts = {delimiter: _count_outside_quotes(header, delimiter) for delimiter in _DELIMITERS}
    delimiter = max(_DELIMITERS, key=lambda d: counts[d])
    if counts[delimiter] == 0 and len(header.split()) > 1:
        return _WHITESPACE
    return delimiter


def _header_names(header: str, delimiter: str) -> list[str]:
    if delimiter == _WHITESPACE:
        fields = re.findall(r'"((?:[^"]|"")*)"|(\S+)', header)
        return [(quoted.replace('""', '"') if quoted or not bare else bare) for quoted, bare in fields]
    return next(csv.reader(io.StringIO(header), delimiter=delimiter, skipinitialspace=True),
                [])


def pandas_text_options(options: ReadOptions) -> dict:
    """The ``pandas.read_csv`` arguments (besides the file) that read a text file as HLM Lab
    does; the generated Python script passes the same ones."""
    return dict(sep=options.delimiter, header=0, dtype=str, keep_default_na=False,
                na_filter=False, skipinitialspace=True, skip_blank_lines=True)


def _read_text(data: bytes, filename: str) -> RawTable:
    text, encoding, notes = _decode(data, filename)
    header = _first_record(text)
    if not header.strip():
        raise UserDataError(f"{shown(filename)} is empty; expected a header row and data rows.")
    delimiter = _sniff_delimiter(header)
    names = [name.strip() for name in _header_names(header, delimiter)]
    # Refused from the header alone: a 20,000-column file is never parsed.
    if len(names) > MAX_COLUMNS:
        _check_shape(1, len(names), filename)
    options = ReadOptions(kind="text", encoding=encoding, delimiter=delimiter)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            frame = pd.read_csv(io.StringIO(text), nrows=MAX_ROWS + 1,
                                **pandas_text_options(options))
    except (pd.errors.ParserError, csv.Error, ValueError) as error:
        raise UserDataError(_parser_message(str(error), filename)) from None
    # A header one field shorter than the rows (R's write.table) makes pandas use the first
    # field of each row as the index: row names, not data.
    row_names = not isinstance(frame.index, pd.RangeIndex)
    frame = frame.reset_index(drop=True)
    if len(names) != frame.shape[1]:
        # The header could not be split as pandas split it (unbalanced quotes, say).
        names = [str(name).strip() for name in frame.columns]
    cells = pd.DataFrame({position: _clean_text(frame.iloc[:, position])
                          for position in range(frame.shape[1])})
    decimal_comma = delimiter != "," and _has_decimal_commas(cells)
    options = ReadOptions(kind="text", encoding=encoding, delimiter=delimiter,
                          decimal_comma=decimal_comma, row_names=row_names)
    if row_names:
        notes.append("Each row starts with one field more than the header has, as R's "
                     "write.table() writes row names; that first field is not used.")
    if decimal_comma:
        notes.append("Numbers use decimal commas (1,5 means 1.5); they were read as such.")
    return _drop_unusable_columns(cells, names, filename, options, notes)


def _parser_message(error: str, filename: str) -> str:
    # pandas: "Error tokenizing data. C error: Expected 3 fields in line 5, saw 7"
    match = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", error)
    if match:
        expected, line, saw = match.groups()
        return (f"Line {line} of {shown(filename)} has {saw} fields but the header has "
                f"{expected}; every row needs the same number of fields. A value holding the "
                "separator must be in double quotes.")
    if "EOF inside string" in error or "EOF" in error:
        return (f"{shown(filename)} has a double quote that is never closed, so the rest of "
                "the file reads as one cell. Check the quotes in the file.")
    return (f"{shown(filename)} could not be read as a table of delimited text; expected one "
            "header row and rows with the same number of fields.")


def _clean_text(values: pd.Series) -> pd.Series:
    """Cells without surrounding spaces, the missing-value tokens as NaN."""
    text = values.astype("str").str.strip()
    return text.where(~text.isin(MISSING_TOKENS))


def _has_decimal_commas(cells: pd.DataFrame) -> bool:
    for position in cells.columns:
        values = cells[position].dropna()
        if values.empty:
            continue
        commas = values.str.fullmatch(_COMMA_DECIMAL.pattern)
        if commas.any() and (commas | values.str.fullmatch(r"[+-]?\d+")).all():
            return True
    return False


def _drop_unusable_columns(cells: pd.DataFrame, names: list[str], filename: str,
                           options: ReadOptions, notes: list[str],
                           sheets: tuple[str, ...] = ()) -> RawTable:
    """Drop a nameless first column (R's write.csv row names) and nameless empty columns
    (trailing separators); keep every other column with its position."""
    kept = []
    for position, name in enumerate(names):
        if name == "" and cells[position].isna().all():
            continue
        if name == "" and position == 0:
            notes.append("The first column has no name, as R's write.csv() writes row names; "
                         "it is not used.")
            continue
        kept.append(position)
    table = cells[kept]
    table.columns = range(len(kept))
    return RawTable(cells=table, names=tuple(names[p] for p in kept), positions=tuple(kept),
                    filename=filename, options=options, notes=tuple(notes), sheets=sheets)


def _from_grid(grid: pd.DataFrame, filename: str, options: ReadOptions, notes: list[str],
               sheets: tuple[str, ...]) -> RawTable:
    """An Excel sheet's grid (header in its first row) as a RawTable of text cells."""
    if grid.empty:
        raise UserDataError(f"The sheet {shown(options.sheet)} of {shown(filename)} is empty; "
                            "expected a header row and data rows.")
    _check_shape(max(len(grid) - 1, 1), grid.shape[1], filename)
    names = [excel_cell_text(value) for value in grid.iloc[0]]
    names = ["" if name is None else name.strip() for name in names]
    body = grid.iloc[1:].reset_index(drop=True)
    cells = pd.DataFrame(
        {position: _clean_text(pd.Series([excel_cell_text(v) for v in body.iloc[:, position]],
                                         dtype="str"))
         for position in range(body.shape[1])},
        index=body.index,
    )
    return _drop_unusable_columns(cells, names, filename, options, notes, sheets)


def excel_cell_text(value) -> str | None:
    """An Excel cell as text, as the generated script converts it: whole numbers without
    ``.0``, other numbers with every digit Python keeps, empty cells as None."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    return str(value)


# --------------------------------------------------------------------------- Stata and SPSS


def _read_statistical(data: bytes, filename: str, kind: str) -> RawTable:
    label = "Stata .dta" if kind == "stata" else "SPSS .sav"
    with refused_if_unreadable(
            f"{shown(filename)} could not be read as a {label} file: it may be damaged or "
            "saved by a version HLM Lab does not know. Save it again, or as CSV."):
        if kind == "stata":
            # Value labels would turn coded columns into words; keep the codes.
            frame = pd.read_stata(io.BytesIO(data), convert_categoricals=False)
        else:
            frame = _read_spss(data, Path(filename).suffix.lower())
    names = [str(name).strip() for name in frame.columns]
    if len(names) > MAX_COLUMNS:
        _check_shape(1, len(names), filename)
    cells = frame.copy()
    cells.columns = range(frame.shape[1])
    for position in cells.columns:
        if not pd.api.types.is_numeric_dtype(cells[position]):
            cells[position] = _clean_text(cells[position].where(cells[position].notna(), ""))
    options = ReadOptions(kind=kind)
    notes = ["Value labels are not applied: coded columns keep their numeric codes."]
    return _drop_unusable_columns(cells, names, filename, options, notes)


def _read_spss(data: bytes, suffix: str) -> pd.DataFrame:
    """pyreadstat reads only from a path: a private temporary file, removed at once."""
    import pyreadstat  # noqa: F401 - pandas.read_spss needs it; fail here, not inside pandas

    handle, temporary = tempfile.mkstemp(suffix=suffix, prefix="hlmlab-")  # mode 0600
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        return pd.read_spss(temporary, convert_categoricals=False)
    finally:
        os.unlink(temporary)


# --------------------------------------------------------------------------- numbers


def to_numbers(values: pd.Series, decimal_comma: bool = False) -> pd.Series:
    """Text cells as floating-point numbers, NaN where a cell is missing or not a number.

    Parameters
    ----------
    values : a column of text cells (or numbers, returned as floats).
    decimal_comma : read ``1,5`` as 1.5.

    Returns
    -------
    Series of float64, same index.
    """
    if pd.api.types.is_bool_dtype(values):
        return pd.Series(np.nan, index=values.index)
    if pd.api.types.is_numeric_dtype(values):
        return values.astype(float)
    text = values.astype("str").where(values.notna())
    if decimal_comma:
        text = text.str.replace(",", ".", regex=False)
    return pd.to_numeric(text, errors="coerce").astype(float)


def exact_integer_overflow(values: pd.Series) -> str | None:
    """The first whole number written in ``values`` that a float cannot keep exactly
    (beyond 2^53), else None: such identifiers must stay text or they merge."""
    if pd.api.types.is_integer_dtype(values):
        big = values[(values.abs() > _EXACT_INTEGER_LIMIT)]
        return None if big.empty else str(big.iloc[0])
    if pd.api.types.is_numeric_dtype(values):
        return None
    text = values.dropna().astype("str")
    integers = text[text.str.fullmatch(_INTEGER_TEXT.pattern)]
    digits = integers.str.lstrip("+-").str.lstrip("0")
    long = integers[digits.str.len() >= 16]
    for value in long:
        if abs(int(value)) > _EXACT_INTEGER_LIMIT:
            return value
    return None
