"""The hostile-file corpus: every malformed or hostile file the "Your data" reader must answer
with a plain message.

Small text files are committed in ``userdata_corpus/`` (``python3 tests/core/corpus_files.py``
rewrites them). Files that would be large (over 20 MB, 10,000 columns, zip bombs) or binary
(workbooks, Stata and SPSS files, symbolic links) are made by :func:`write_generated` into a
temporary folder at test time: no megabytes are committed.

Names and values that are code (Python, R, spreadsheet formulas, Markdown, HTML) would, if
anything ever evaluated them, create the file named by :data:`MARKER_PLACEHOLDER` (the tests
put a temporary path there): the canary.
"""

from __future__ import annotations

import io
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

CORPUS_DIR = Path(__file__).resolve().parent / "userdata_corpus"
#: Replaced by the canary's marker path when a test writes the code-bearing files.
MARKER_PLACEHOLDER = "/tmp/hlmlab-canary-MARKER"


def _grouped(n_groups: int = 4, per_group: int = 5, seed: int = 0) -> pd.DataFrame:
    """A small valid two-level data set: y on x in groups g (synthetic)."""
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(1, n_groups + 1), per_group)
    x = rng.normal(size=g.size).round(3)
    y = (1 + 0.5 * x + rng.normal(size=n_groups)[g - 1] + rng.normal(size=g.size)).round(3)
    return pd.DataFrame({"g": g, "x": x, "y": y})


def _code_names() -> dict[str, str]:
    marker = MARKER_PLACEHOLDER
    return {
        "python": f"__import__('os').system('touch {marker}')",
        "python_eval": f"eval(compile('open(\"{marker}\",\"w\")','x','exec'))",
        "r": f"system(\"touch {marker}\")",
        "backtick": "`x`",
        "patsy_i": "I(x)",
        "patsy_c": "C(x)",
        "newline": f"a\nimport os; os.system('touch {marker}')",
    }


def small_files() -> dict[str, bytes]:
    """The committed text files, name -> bytes (the marker placeholder still in them)."""
    base = _grouped()
    text = base.to_csv(index=False)
    files: dict[str, bytes] = {}
    files["empty.csv"] = b""
    files["blank_lines.csv"] = b"\n  \n\t\n"
    files["bom_only.csv"] = b"\xef\xbb\xbf"
    files["header_only.csv"] = b"g,x,y\n"
    files["header_only_crlf.csv"] = b"g,x,y\r\n\r\n"
    rng = np.random.default_rng(16)
    files["binary_garbage.csv"] = rng.integers(0, 256, 4096, dtype=np.uint8).tobytes()
    files["binary_no_zero_bytes.csv"] = bytes(
        rng.choice([1, 2, 3, 4, 5, 6, 7, 8, 14, 15, 16, 17, 18, 19, 200, 201], 4096).astype(np.uint8))
    files["png_renamed.csv"] = b"\x89PNG\r\n\x1a\n" + bytes(64)
    files["pdf_renamed.csv"] = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n"
    files["xlsx_renamed.csv"] = b"PK\x03\x04" + bytes(64)
    files["gzip_renamed.csv"] = b"\x1f\x8b\x08\x00" + bytes(32)
    latin = base.assign(région=np.where(base["g"] % 2 == 0, "Île-de-France", "Rhône"))
    files["latin1.csv"] = latin.to_csv(index=False).encode("latin-1")
    files["latin1_undefined_in_cp1252.csv"] = b"g,x,y,note\n" + b"".join(
        f"{g},{x},{y},".encode() + b"caf\x81\n" for g, x, y in base.itertuples(index=False))
    files["utf16_bom.csv"] = text.encode("utf-16")
    files["utf16_be_bom.csv"] = b"\xfe\xff" + text.encode("utf-16-be")
    files["utf16_truncated.csv"] = text.encode("utf-16")[:-1]
    files["utf16_no_bom.csv"] = text.encode("utf-16-le")
    files["utf8_bom.csv"] = text.encode("utf-8-sig")
    files["utf8_bom_broken.csv"] = text.encode("utf-8-sig") + b"caf\xe9\n"
    lines = text.splitlines()
    endings = ["\r\n", "\n", "\r"]
    files["mixed_line_endings.csv"] = "".join(
        line + endings[i % 3] for i, line in enumerate(lines)).encode()
    files["cr_line_endings.csv"] = "\r".join(lines).encode()
    files["decimal_comma_semicolon.csv"] = base.to_csv(index=False, sep=";", decimal=",").encode()
    files["decimal_comma_tab.tsv"] = base.to_csv(index=False, sep="\t", decimal=",").encode()
    quoted = base.assign(comment=[f"line one\nline two {i}" for i in range(len(base))])
    files["quoted_newlines.csv"] = quoted.to_csv(index=False).encode()
    files["unclosed_quote.csv"] = b'g,x,y\n1,2,"3\n4,5,6\n'
    files["ragged_rows.csv"] = b"g,x,y\n1,2,3\n1,2,3,4,5\n2,3,4\n"
    files["duplicate_names.csv"] = b"g,math,x,math\n1,2,3,4\n2,3,4,5\n"
    files["names_differing_in_case.csv"] = base.rename(columns={"y": "Math"}).assign(
        math=base["y"] + 1).to_csv(index=False).encode()
    files["empty_name_with_data.csv"] = b"g,,y\n1,2,3\n2,3,4\n"
    files["trailing_delimiters.csv"] = "".join(line + ",,\n" for line in lines).encode()
    files["rownames_write_csv.csv"] = ('"",' + lines[0] + "\n" + "".join(
        f'"{i + 1}",{line}\n' for i, line in enumerate(lines[1:]))).encode()
    files["rownames_write_table.txt"] = (" ".join(f'"{c}"' for c in base.columns) + "\n" + "".join(
        f'"{i + 1}" ' + " ".join(str(v) for v in row) + "\n"
        for i, row in enumerate(base.itertuples(index=False)))).encode()
    code = _code_names()
    files["python_code_names.csv"] = base.rename(
        columns={"g": code["python_eval"], "x": code["patsy_i"], "y": code["python"]}
    ).to_csv(index=False).encode()
    files["r_code_names.csv"] = base.rename(
        columns={"g": code["backtick"], "x": code["patsy_c"], "y": code["r"]}
    ).to_csv(index=False).encode()
    files["newline_in_name.csv"] = base.rename(columns={"y": code["newline"]}).to_csv(
        index=False).encode()
    files["spaces_and_quotes_in_names.csv"] = base.rename(
        columns={"g": "my school", "x": "it's \"x\"", "y": "back\\slash y"}).to_csv(
        index=False).encode()
    files["markdown_and_html_names.csv"] = base.assign(
        **{"[click](http://evil.example)": 5.0, "![img](http://evil.example/a.png)": base["x"],
           "<img src=x onerror=alert(1)>": base["y"], "$x^2$ :red[alert]": base["y"]}
    ).to_csv(index=False).encode()
    html = base.astype({"y": object})
    html.loc[3, "y"] = "<script>alert(1)</script> **bold** [link](http://evil.example)"
    files["html_in_values.csv"] = html.to_csv(index=False).encode()
    files["very_long_name.csv"] = base.rename(columns={"y": "y" * 500}).to_csv(index=False).encode()
    files["formula_values.csv"] = base.assign(
        note=["=HYPERLINK(\"http://evil.example\",\"x\")", "=cmd|' /C calc'!A0", "+1+1", "@SUM(1)",
              "-2+3"] * 4).to_csv(index=False).encode()
    files["one_group.csv"] = base.assign(g=7).to_csv(index=False).encode()
    files["all_singletons.csv"] = base.assign(g=range(len(base))).to_csv(index=False).encode()
    files["constant_outcome.csv"] = base.assign(y=5).to_csv(index=False).encode()
    files["constant_predictor.csv"] = base.assign(x=2).to_csv(index=False).encode()
    files["outcome_all_missing.csv"] = base.assign(y="NA").to_csv(index=False).encode()
    infinite = base.astype({"y": object})
    infinite.loc[[2, 9], "y"] = "inf"
    files["infinite_values.csv"] = infinite.to_csv(index=False).encode()
    worded = base.astype({"x": object})
    worded.loc[[2, 11], "x"] = "abc"
    files["text_in_numeric_column.csv"] = worded.to_csv(index=False).encode()
    gaps = base.astype(object)
    gaps.loc[1, "y"], gaps.loc[4, "x"], gaps.loc[6, "g"] = "NA", ".", ""
    files["missing_value_codes.csv"] = gaps.to_csv(index=False).encode()
    files["ids_2_to_the_63.csv"] = base.assign(g=[str(2**63 + int(v)) for v in base["g"]]).to_csv(
        index=False).encode()
    files["ids_1e300.csv"] = base.assign(g=[f"{int(v)}e300" for v in base["g"]]).to_csv(
        index=False).encode()
    files["ids_300_digits.csv"] = base.assign(g=[str(10**299 * int(v)) for v in base["g"]]).to_csv(
        index=False).encode()
    files["level3_not_nesting.csv"] = base.assign(area=[1, 2] * 10).to_csv(index=False).encode()
    files["level3_one_unit.csv"] = base.assign(area=1).to_csv(index=False).encode()
    within = base.assign(x=base["g"] * 1.5)
    files["predictor_constant_within_groups.csv"] = within.to_csv(index=False).encode()
    files["level2_varies_within_groups.csv"] = base.assign(w=base["x"] * 2).to_csv(
        index=False).encode()
    files["long_cell.csv"] = base.assign(note="z" * 1001).to_csv(index=False).encode()
    files["unsupported.json"] = b'{"g": [1, 2]}'
    files["macro_workbook.xlsm"] = b"PK\x03\x04" + bytes(64)
    files["not_a_zip.xlsx"] = text.encode()
    files["ole_renamed.xlsx"] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)
    files["damaged.dta"] = b"<stata_dta><header>garbage"
    files["damaged.sav"] = b"$FL2garbage" + bytes(100)
    files["damaged.xls"] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100)
    return files


# --------------------------------------------------------------------------- generated files


def _minimal_xlsx(sheet_xml: str, extra: dict[str, bytes] | None = None,
                  sheets: tuple[str, ...] = ("Data",)) -> bytes:
    """An .xlsx written part by part, for what openpyxl cannot write (saved formula values)."""
    workbook_sheets = "".join(
        f'<sheet name="{name}" sheetId="{i + 1}" r:id="rId{i + 1}"/>' for i, name in enumerate(sheets))
    rels = "".join(
        f'<Relationship Id="rId{i + 1}" Type="http://schemas.openxmlformats.org/officeDocument/'
        f'2006/relationships/worksheet" Target="worksheets/sheet{i + 1}.xml"/>'
        for i in range(len(sheets)))
    overrides = "".join(
        f'<Override PartName="/xl/worksheets/sheet{i + 1}.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>' for i in range(len(sheets)))
    parts = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
            'package/2006/content-types"><Default Extension="rels" ContentType="application/'
            'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" '
            'ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType='
            '"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            + overrides + "</Types>"),
        "_rels/.rels": (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
            'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://'
            'schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
            'Target="xl/workbook.xml"/></Relationships>'),
        "xl/workbook.xml": (
            '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.'
            'org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/'
            f'officeDocument/2006/relationships"><sheets>{workbook_sheets}</sheets></workbook>'),
        "xl/_rels/workbook.xml.rels": (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
            f'openxmlformats.org/package/2006/relationships">{rels}</Relationships>'),
    }
    for i in range(len(sheets)):
        parts[f"xl/worksheets/sheet{i + 1}.xml"] = (
            '<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.'
            f'openxmlformats.org/spreadsheetml/2006/main"><sheetData>{sheet_xml}</sheetData>'
            "</worksheet>")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in parts.items():
            archive.writestr(name, content)
        for name, content in (extra or {}).items():
            archive.writestr(name, content)
    return buffer.getvalue()


def _sheet_rows(frame: pd.DataFrame, formula_column: str | None = None,
                error_cell: str | None = None) -> str:
    """Sheet XML rows with inline strings and numbers; ``formula_column`` as formulas with
    their saved values; ``error_cell`` (e.g. ``"C4"``) holding the error ``#DIV/0!``."""
    def cell(ref, value):
        if isinstance(value, str):
            return f'<c r="{ref}" t="inlineStr"><is><t>{value}</t></is></c>'
        return f'<c r="{ref}"><v>{value!r}</v></c>'

    letters = "ABCDEFGHIJ"
    rows = ["<row r=\"1\">" + "".join(cell(f"{letters[j]}1", name)
                                      for j, name in enumerate(frame.columns)) + "</row>"]
    for i, values in enumerate(frame.itertuples(index=False), start=2):
        cells = []
        for j, (name, value) in enumerate(zip(frame.columns, values)):
            ref = f"{letters[j]}{i}"
            if ref == error_cell:
                cells.append(f'<c r="{ref}" t="e"><v>#DIV/0!</v></c>')
            elif name == formula_column:
                cells.append(f'<c r="{ref}"><f>B{i}+0</f><v>{float(value)!r}</v></c>')
            else:
                cells.append(cell(ref, value))
        rows.append(f'<row r="{i}">' + "".join(cells) + "</row>")
    return "".join(rows)


def write_generated(folder: Path) -> dict[str, Path]:
    """Write the large and binary corpus files into ``folder``; name -> path."""
    folder.mkdir(parents=True, exist_ok=True)
    base = _grouped()
    paths: dict[str, Path] = {}

    def put(name: str, content: bytes) -> None:
        paths[name] = folder / name
        paths[name].write_bytes(content)

    # Over the 20 MB limit: 21 MB of valid rows.
    row = b"1,0.5,1.5\n"
    put("huge.csv", b"g,x,y\n" + row * (21 * 2**20 // len(row)))
    put("too_many_rows.csv", b"g,x,y\n" + b"".join(
        f"{i % 50},{i % 7},{i % 11}\n".encode() for i in range(100_001)))
    put("ten_thousand_columns.csv",
        (",".join(f"c{i}" for i in range(10_000)) + "\n" + ",".join("1" for _ in range(10_000))
         + "\n").encode())
    put("twenty_thousand_columns.csv",
        (",".join(f"c{i}" for i in range(20_000)) + "\n" + ",".join("1" for _ in range(20_000))
         + "\n").encode())
    put("too_many_cells.csv", (",".join(f"c{i}" for i in range(400)) + "\n" + (
        ",".join("1" for _ in range(400)) + "\n") * 5_001).encode())

    # Workbooks.
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "Data"
    sheet.append(list(base.columns) + ["total"])
    for i, values in enumerate(base.itertuples(index=False), start=2):
        sheet.append([*values, f"=B{i}+C{i}"])
    buffer = io.BytesIO()
    book.save(buffer)
    put("formulas_without_saved_values.xlsx", buffer.getvalue())
    put("formulas_with_saved_values.xlsx", _minimal_xlsx(_sheet_rows(
        base.assign(copy_of_x=base["x"]), formula_column="copy_of_x")))
    put("good.xlsx", _minimal_xlsx(_sheet_rows(base)))
    put("two_sheets.xlsx", _minimal_xlsx(_sheet_rows(base), sheets=("Data", "Notes")))
    put("error_cells.xlsx", _minimal_xlsx(_sheet_rows(base, error_cell="C4")))
    put("with_macros.xlsx", _minimal_xlsx(_sheet_rows(base),
                                          extra={"xl/vbaProject.bin": b"\x00" * 64}))
    # Zip bombs renamed .xlsx: one member compressed ~1000 times; one that unpacks past 100 MB.
    for name, size in (("zip_bomb_ratio.xlsx", 40 * 2**20), ("zip_bomb_size.xlsx", 150 * 2**20)):
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            with archive.open("xl/worksheets/sheet1.xml", "w") as member:
                chunk = b"\x00" * 2**20
                for _ in range(size // len(chunk)):
                    member.write(chunk)
        put(name, buffer.getvalue())

    # Statistical packages.
    buffer = io.BytesIO()
    base.to_stata(buffer, write_index=False)
    put("good.dta", buffer.getvalue())
    import pyreadstat

    pyreadstat.write_sav(base, str(folder / "good.sav"))
    paths["good.sav"] = folder / "good.sav"

    # A symbolic link to a file outside the data folder: never followed.
    secret = folder / "secret.txt"
    secret.write_text("g,x,y\n1,2,3\n")
    link = folder / "symlink.csv"
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(secret)
    paths["symlink.csv"] = link
    return paths


def write_small_files(folder: Path = CORPUS_DIR) -> None:
    """(Re)write the committed corpus files."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in small_files().items():
        (folder / name).write_bytes(content)


if __name__ == "__main__":
    write_small_files(Path(sys.argv[1]) if len(sys.argv) > 1 else CORPUS_DIR)
