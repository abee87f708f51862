"""The reader's limits and its refusals that do not fit the corpus table."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import pytest

from hlmlab.userdata import MAX_FILE_MEGABYTES, UserDataError, limits_text, read_user_file
from hlmlab.userdata.reading import read_file_bytes

REPO = Path(__file__).resolve().parents[2]


def test_streamlit_upload_limit_is_the_readers_limit():
    config = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text())
    assert config["server"]["maxUploadSize"] == MAX_FILE_MEGABYTES


def test_limits_are_stated_in_words():
    text = " ".join(limits_text())
    assert "20 MB" in text and "100,000 rows" in text and "500 columns" in text
    assert "2,000,000 cells" in text and "1,000 characters" in text


def test_defusedxml_guards_openpyxl():
    from openpyxl.xml import DEFUSEDXML

    assert DEFUSEDXML


def test_fifo_is_not_read(tmp_path):
    fifo = tmp_path / "data.csv"
    os.mkfifo(fifo)
    with pytest.raises(UserDataError, match="is not a regular file"):
        read_file_bytes(fifo)


def test_missing_file(tmp_path):
    with pytest.raises(UserDataError, match="does not exist"):
        read_file_bytes(tmp_path / "nothing.csv")


def test_uploaded_name_keeps_no_folders():
    table = read_user_file(b"g,x,y\n1,2,3\n2,3,4\n", "../../etc/pass wd.csv")
    assert table.filename == "pass wd.csv"
    table = read_user_file(b"g,x,y\n1,2,3\n2,3,4\n", "C:\\Users\\me\\data.csv")
    assert table.filename == "data.csv"


def test_decimal_commas_only_outside_comma_separated_files():
    semicolon = read_user_file(b"g;x;y\n1;2,5;3\n2;3,25;4\n", "a.csv")
    assert semicolon.frame["x"].tolist() == [2.5, 3.25]
    comma = read_user_file(b'g,x,y\n1,"2,5",3\n2,"3,25",4\n', "a.csv")
    assert comma.frame["x"].tolist() == ["2,5", "3,25"]  # text: the role check says so


def test_subsample_is_nested_and_seeded():
    from hlmlab.userdata import ColumnRoles, model_data, subsample, subsample_bounds

    lines = ["g,x,y"] + [f"{g},{i % 5},{(i * 7) % 11}" for g in range(1, 9) for i in range(g + 3)]
    table = read_user_file("\n".join(lines).encode(), "groups.csv")
    rows = model_data(table, ColumnRoles("y", "x", "g"))
    assert subsample_bounds(rows, "g") == {"groups": (2, 8), "per_group": (2, 11)}
    small = subsample(rows, "g", 3, 4, seed=1)
    large = subsample(rows, "g", 5, 6, seed=1)
    assert set(small.index) <= set(large.index)
    assert small["g"].nunique() == 3 and small.groupby("g").size().max() <= 4
    assert subsample(rows, "g", 3, 4, seed=1).index.equals(small.index)


def two_sheet_workbook(copy: bool = False, data=None) -> bytes:
    """A workbook whose first sheet, "Read me", is a note and whose second, "Scores 2025",
    holds the data (``data``, a DataFrame; 12 rows of three schools by default): a common
    layout, and the case where reading only the first sheet fails. ``copy`` adds a third
    sheet, "Scores copy", with the same data."""
    import io

    import pandas as pd

    if data is None:
        data = pd.DataFrame({"school": [row % 3 + 1 for row in range(12)],
                             "ses": [row / 4 for row in range(12)],
                             "score": [10 + row + row % 3 for row in range(12)]})
    out = io.BytesIO()
    with pd.ExcelWriter(out, engine="openpyxl") as writer:
        pd.DataFrame([["Scores of three schools, collected in 2025."]]).to_excel(
            writer, sheet_name="Read me", header=False, index=False)
        for name in ("Scores 2025", "Scores copy") if copy else ("Scores 2025",):
            data.to_excel(writer, sheet_name=name, index=False)
    return out.getvalue()


def test_workbook_sheets_names_each_sheet_in_order_and_nothing_for_other_files():
    from hlmlab.userdata import workbook_sheets

    book = two_sheet_workbook()
    assert workbook_sheets(book, "survey.xlsx") == ("Read me", "Scores 2025")
    assert workbook_sheets(b"a,b\n1,2\n", "survey.csv") == ()
    assert workbook_sheets(b"not a zip", "survey.xlsx") == ()  # read_user_file says why


def test_a_chosen_sheet_is_read_and_named_in_the_notes():
    book = two_sheet_workbook()
    table = read_user_file(book, "survey.xlsx", sheet="Scores 2025")
    assert list(table.frame.columns) == ["school", "ses", "score"] and len(table.frame) == 12
    assert any("2 sheets" in note and "Scores 2025" in note for note in table.notes)
    with pytest.raises(UserDataError, match="no sheet called"):
        read_user_file(book, "survey.xlsx", sheet="Scores 2024")


def test_two_sheets_of_one_file_are_two_tables():
    from hlmlab.analyses.your_data import session_table

    book = two_sheet_workbook(copy=True)
    first = session_table(book, "survey.xlsx", sheet="Scores 2025")
    again = session_table(book, "survey.xlsx", sheet="Scores 2025")
    copy = session_table(book, "survey.xlsx", sheet="Scores copy")
    assert first.digest == again.digest != copy.digest
    assert first.table.frame.equals(copy.table.frame)
    with pytest.raises(UserDataError):
        session_table(book, "survey.xlsx")  # the note sheet: one column, no data
