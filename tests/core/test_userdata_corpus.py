"""The hostile-file corpus: every file gets its plain message, never a traceback, never code
execution.

``CORPUS`` is the table of file -> expected message fragment. Files are in
``userdata_corpus/`` or made at test time by ``corpus_files.write_generated`` (huge, very
wide, workbooks, zip bombs, Stata/SPSS, a symbolic link). A file's messages are what the
page shows: the reader's refusal, or its notes, the role check's errors and notes, and the
one-line summary. Unless a row names other roles, the roles are outcome ``y``, level-1
predictor ``x`` and group ``g`` (the corpus's small synthetic data set).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from corpus_files import CORPUS_DIR, small_files, write_generated
from hlmlab.userdata import (
    ColumnRoles,
    UserDataError,
    check_roles,
    model_data,
    read_user_path,
)
from hlmlab.userdata.text import ECHO_LIMIT

DEFAULT_ROLES = ColumnRoles(outcome="y", predictor="x", group="g")
MARKER = "/tmp/hlmlab-canary-MARKER"

# file -> (expected fragment of one of its messages, roles when not DEFAULT_ROLES)
CORPUS: dict[str, tuple[str, ColumnRoles | None]] = {
    # empty, header only, binary with a .csv name
    "empty.csv": ("`empty.csv` is empty; expected a header row and data rows", None),
    "blank_lines.csv": ("is empty; expected a header row", None),
    "bom_only.csv": ("is empty; expected a header row", None),
    "header_only.csv": ("has a header but no data rows", None),
    "header_only_crlf.csv": ("has a header but no data rows", None),
    "binary_garbage.csv": ("holds binary data, not a text table", None),
    "binary_no_zero_bytes.csv": ("holds binary data, not a text table", None),
    "png_renamed.csv": ("is not a text table: it is a PNG image", None),
    "pdf_renamed.csv": ("it is a PDF document", None),
    "xlsx_renamed.csv": ("it is a zip archive (an Excel .xlsx workbook?)", None),
    "gzip_renamed.csv": ("it is a gzip archive", None),
    "unsupported.json": ("has an extension HLM Lab does not read", None),
    # encodings, line endings, decimal commas, quotes
    "latin1.csv": ("is not UTF-8 text; it was read as Windows-1252",
                   ColumnRoles("y", "x", "région")),
    "latin1_undefined_in_cp1252.csv": ("it was read as Latin-1", None),
    "utf16_bom.csv": ("Read `utf16_bom.csv`: 20 rows, 3 columns.", None),
    "utf16_be_bom.csv": ("Read `utf16_be_bom.csv`: 20 rows, 3 columns.", None),
    "utf16_no_bom.csv": ("Read `utf16_no_bom.csv`: 20 rows, 3 columns.", None),
    "utf16_truncated.csv": ("is UTF-16 text that ends in the middle of a character", None),
    "utf8_bom.csv": ("Read `utf8_bom.csv`: 20 rows, 3 columns.", None),
    "utf8_bom_broken.csv": ("starts like UTF-8 text but holds bytes that are not UTF-8", None),
    "mixed_line_endings.csv": ("Read `mixed_line_endings.csv`: 20 rows, 3 columns.", None),
    "cr_line_endings.csv": ("Read `cr_line_endings.csv`: 20 rows, 3 columns.", None),
    "decimal_comma_semicolon.csv": ("Numbers use decimal commas (1,5 means 1.5)", None),
    "decimal_comma_tab.tsv": ("Numbers use decimal commas (1,5 means 1.5)", None),
    "quoted_newlines.csv": ("Read `quoted_newlines.csv`: 20 rows, 4 columns.", None),
    "unclosed_quote.csv": ("has a double quote that is never closed", None),
    "ragged_rows.csv": ("Line 3 of `ragged_rows.csv` has 5 fields but the header has 3", None),
    "rownames_write_csv.csv": ("as R's write.csv() writes row names; it is not used", None),
    "rownames_write_table.txt": ("as R's write.table() writes row names", None),
    "trailing_delimiters.csv": ("Read `trailing_delimiters.csv`: 20 rows, 3 columns.", None),
    "missing_value_codes.csv": ("3 rows with a missing value in a chosen column are left out; "
                                "17 remain", None),
    # names: duplicate, empty, code, quotes, Markdown and HTML
    "duplicate_names.csv": ("Columns 2 and 4 of `duplicate_names.csv` are both called `math`",
                            None),
    "names_differing_in_case.csv": ("Read `names_differing_in_case.csv`: 20 rows, 4 columns.",
                                    ColumnRoles("math", "x", "g")),
    "empty_name_with_data.csv": ("Column 2 of `empty_name_with_data.csv` has no name", None),
    "python_code_names.csv": (
        "`__import__('os').system('touch /tmp/hlml…` is chosen as both the outcome and the "
        "level-1 predictor",
        ColumnRoles(f"__import__('os').system('touch {MARKER}')",
                    f"__import__('os').system('touch {MARKER}')",
                    f"eval(compile('open(\"{MARKER}\",\"w\")','x','exec'))")),
    "r_code_names.csv": ("Read `r_code_names.csv`: 20 rows, 3 columns.",
                         ColumnRoles(f'system("touch {MARKER}")', "C(x)", "`x`")),
    "newline_in_name.csv": (r"`a\nimport os; os.system('touch /tmp/hlmla…` is chosen as both",
                            ColumnRoles(f"a\nimport os; os.system('touch {MARKER}')",
                                        f"a\nimport os; os.system('touch {MARKER}')", "g")),
    "spaces_and_quotes_in_names.csv": ("Read `spaces_and_quotes_in_names.csv`",
                                       ColumnRoles("back\\slash y", "it's \"x\"", "my school")),
    "markdown_and_html_names.csv": (
        "`[click](http://evil.example)`, the outcome, has the same value (5) in every row",
        ColumnRoles("[click](http://evil.example)", "x", "g")),
    "html_in_values.csv": ("(the first in data row 4: `<script>alert(1)</script> **bold** [link…`)",
                           None),
    "very_long_name.csv": ("`" + "y" * ECHO_LIMIT + "…` is chosen as both the outcome and",
                           ColumnRoles("y" * 500, "y" * 500, "g")),
    "formula_values.csv": ("Read `formula_values.csv`: 20 rows, 4 columns.", None),
    # what the model needs
    "one_group.csv": ("These rows hold one group only (`g` is always `7`)", None),
    "all_singletons.csv": ("Every group of `g` has a single row", None),
    "constant_outcome.csv": ("`y`, the outcome, has the same value (5) in every row", None),
    "constant_predictor.csv": ("`x`, the level-1 predictor, has the same value (2)", None),
    "outcome_all_missing.csv": ("`y`, the outcome, is empty in every row", None),
    "infinite_values.csv": ("`y`, the outcome, holds infinity in 2 rows (the first is data row 3)",
                            None),
    "text_in_numeric_column.csv": ("`x`, the level-1 predictor, must hold numbers, but 2 cells "
                                   "hold text (the first in data row 3: `abc`)", None),
    "ids_2_to_the_63.csv": ("hold whole numbers too large to compute with exactly", None),
    "ids_300_digits.csv": ("hold whole numbers too large to compute with exactly", None),
    "ids_1e300.csv": ("Read `ids_1e300.csv`: 20 rows, 3 columns.", None),
    "level3_not_nesting.csv": ("`g` is not nested in `area`: group `1` appears in `1` and in `2`",
                               ColumnRoles("y", "x", "g", level3_group="area")),
    "level3_one_unit.csv": ("The third-level group `area` has one unit only",
                            ColumnRoles("y", "x", "g", level3_group="area")),
    "predictor_constant_within_groups.csv": ("`x` never varies within a group", None),
    "level2_varies_within_groups.csv": ("`w` varies within groups; a level-2 predictor is usually",
                                        ColumnRoles("y", "x", "g", level2_predictor="w")),
    "long_cell.csv": ("Row 1 of column `note` holds a text of 1,001 characters", None),
    # workbooks, statistical packages
    "macro_workbook.xlsm": ("is a macro-enabled Excel workbook", None),
    "not_a_zip.xlsx": ("`not_a_zip.xlsx` is not an .xlsx workbook.", None),
    "ole_renamed.xlsx": ("it may be password-protected, or an old .xls file renamed", None),
    "damaged.dta": ("could not be read as a Stata .dta file", None),
    "damaged.sav": ("could not be read as a SPSS .sav file", None),
    "damaged.xls": ("could not be read as an Excel workbook", None),
    # generated at test time
    "huge.csv": ("`huge.csv` is 21.0 MB; HLM Lab reads files of up to 20 MB", None),
    "too_many_rows.csv": ("has more than 100,000 data rows", None),
    "ten_thousand_columns.csv": ("has 10,000 columns; HLM Lab reads at most 500", None),
    "twenty_thousand_columns.csv": ("has 20,000 columns; HLM Lab reads at most 500", None),
    "too_many_cells.csv": ("5,001 rows × 400 columns = 2,000,400 cells", None),
    "formulas_without_saved_values.xlsx": ("20 formulas had no saved value and read as missing "
                                           "(HLM Lab never computes formulas), the first in cell "
                                           "D2", None),
    "formulas_with_saved_values.xlsx": ("20 cells of the sheet hold formulas; their saved values "
                                        "are read", None),
    "good.xlsx": ("Read `good.xlsx`: 20 rows, 3 columns.", None),
    "two_sheets.xlsx": ("The workbook has 2 sheets; the sheet `Data` was read.", None),
    "error_cells.xlsx": ("1 row with a missing value in a chosen column is left out", None),
    "with_macros.xlsx": ("contains macros; HLM Lab does not open workbooks with macros", None),
    "zip_bomb_ratio.xlsx": ("it looks like a zip bomb, so HLM Lab does not open it", None),
    "zip_bomb_size.xlsx": ("would unpack to 150 MB; HLM Lab opens workbooks that unpack to at "
                           "most 100 MB", None),
    "good.dta": ("Value labels are not applied", None),
    "good.sav": ("Value labels are not applied", None),
    "symlink.csv": ("`symlink.csv` is a symbolic link; HLM Lab does not follow links", None),
}


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> dict[str, Path]:
    return write_generated(tmp_path_factory.mktemp("generated_corpus"))


def corpus_path(name: str, generated: dict[str, Path]) -> Path:
    return generated[name] if name in generated else CORPUS_DIR / name


def messages_for(path: Path, roles: ColumnRoles) -> list[str]:
    """What the page shows for this file: the refusal, or notes, role problems and summary."""
    try:
        table = read_user_path(path)
    except UserDataError as error:
        return [str(error)]
    check = check_roles(table, roles)
    return [*table.notes, *check.errors, *check.notes, table.summary()]


def test_corpus_is_large_and_complete(generated):
    assert len(CORPUS) >= 60
    files = set(small_files()) | set(generated)
    assert set(CORPUS) <= files, set(CORPUS) - files
    # Every committed file is in the table, and is what corpus_files.py writes.
    committed = {p.name for p in CORPUS_DIR.iterdir()}
    assert committed == set(small_files())
    assert committed <= set(CORPUS)
    for name, content in small_files().items():
        assert (CORPUS_DIR / name).read_bytes() == content, name


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_each_file_gets_its_message(name, generated):
    fragment, roles = CORPUS[name]
    messages = messages_for(corpus_path(name, generated), roles or DEFAULT_ROLES)
    assert any(fragment in message for message in messages), messages


# Markdown and HTML that Streamlit's st.error/st.warning would render, outside code spans.
_ACTIVE_OUTSIDE_CODE = re.compile(r"[\[\]<>*_$#|~]|https?:|:[a-z]+\[|:material/")


def assert_plain(message: str) -> None:
    assert "Traceback" not in message and "codec" not in message and "Errno" not in message
    assert "\n" not in message and len(message) <= 420, message
    outside = re.sub(r"(`+)(.+?)\1(?!`)", "", message)
    assert "`" not in outside, message
    assert not _ACTIVE_OUTSIDE_CODE.search(outside), (message, outside)
    for fence, body in re.findall(r"(`+)(.+?)\1(?!`)", message):
        body = body.strip(" ")
        assert len(body.rstrip("…")) <= ECHO_LIMIT + 12, body  # escapes may lengthen it


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_every_message_is_plain_and_inert(name, generated):
    _, roles = CORPUS[name]
    for message in messages_for(corpus_path(name, generated), roles or DEFAULT_ROLES):
        assert_plain(message)


def test_wide_file_message_is_short(generated):
    """A 20,000-column file once produced a 149,000-character error."""
    for name in ("ten_thousand_columns.csv", "twenty_thousand_columns.csv"):
        with pytest.raises(UserDataError) as caught:
            read_user_path(generated[name])
        assert len(str(caught.value)) < 120


@pytest.mark.parametrize("name", ["ids_2_to_the_63.csv", "ids_300_digits.csv", "ids_1e300.csv"])
def test_huge_identifiers_stay_distinct_groups(name):
    """Ids of 2^63 + k, 10^299 k or k e300 must not merge into one group (they did, cast to
    -9223372036854775808)."""
    table = read_user_path(CORPUS_DIR / name)
    rows = model_data(table, DEFAULT_ROLES)
    assert rows["g"].nunique() == 4
    written = small_files()[name].decode().splitlines()[1:]
    labels = {line.split(",")[0] for line in written}
    if name != "ids_1e300.csv":
        assert set(rows["g"]) == labels  # kept exactly, as text


def test_formula_cells_are_never_computed(generated):
    """openpyxl writes formulas without saved values: they read as missing, not computed."""
    table = read_user_path(generated["formulas_without_saved_values.xlsx"])
    assert table.frame["total"].isna().all()
    saved = read_user_path(generated["formulas_with_saved_values.xlsx"])
    assert saved.frame["copy_of_x"].tolist() == saved.frame["x"].tolist()


def test_excel_error_cell_reads_as_missing(generated):
    table = read_user_path(generated["error_cells.xlsx"])
    assert table.frame["y"].isna().sum() == 1 and table.frame["y"].isna().iloc[2]


def test_readers_agree_on_the_same_data(generated):
    """CSV, UTF-16, decimal commas, row names, Excel, Stata and SPSS give the same numbers."""
    reference = read_user_path(CORPUS_DIR / "utf8_bom.csv").frame[["g", "x", "y"]]
    for name in ("utf16_bom.csv", "utf16_be_bom.csv", "utf16_no_bom.csv", "mixed_line_endings.csv",
                 "cr_line_endings.csv", "decimal_comma_semicolon.csv", "decimal_comma_tab.tsv",
                 "rownames_write_csv.csv", "rownames_write_table.txt", "trailing_delimiters.csv",
                 "good.xlsx", "good.dta", "good.sav"):
        frame = read_user_path(corpus_path(name, generated)).frame[["g", "x", "y"]]
        assert frame.astype(float).equals(reference.astype(float)), name


def test_quoted_newlines_stay_in_their_cell():
    table = read_user_path(CORPUS_DIR / "quoted_newlines.csv")
    assert table.frame["comment"].iloc[3] == "line one\nline two 3"
