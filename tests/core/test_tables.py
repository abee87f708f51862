"""hlmlab.tables: display tables in their final form (escaped HTML) and the one number rule."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from hlmlab.tables import MISSING, DisplayTable, display_number, display_table


def test_display_number_keeps_five_significant_digits_and_whole_counts():
    assert display_number(0.0123456) == "0.012346"  # a small variance keeps its digits
    assert display_number(305.8512) == "305.85"
    assert display_number(12345.678) == "12,345.68"
    assert display_number(np.int64(2500)) == "2,500" and display_number(67.0) == "67"
    assert display_number(-0.25) == "-0.25"
    assert display_number(math.inf) == "not estimable"


def test_display_table_escapes_every_text_and_marks_numbers():
    frame = pd.DataFrame({"n": [12, 7], "slope <b>": [1.23456, math.nan],
                          "note": ["<script>alert(1)</script>", "a & b"]},
                         index=pd.Index(["school \"1\"", "<i>2</i>"], name="school"))
    table = display_table(frame, formats={"n": "{:,d}"}, label="Per <school>")
    assert isinstance(table, DisplayTable) and table._repr_html_() == table.html
    html = table.html
    for raw in ("<script>", "<b>", "<i>", "a & b", "Per <school>"):
        assert raw not in html
    assert "&lt;script&gt;" in html and "slope &lt;b&gt;" in html and "a &amp; b" in html
    assert 'aria-label="Per &lt;school&gt;"' in html
    assert '<th scope="row">school &quot;1&quot;</th>' in html
    assert '<td class="num">12</td>' in html and '<td class="num">1.2346</td>' in html
    assert f"<td>{MISSING}</td>" in html  # NaN: the empty mark, not "nan"
    assert html.count("<tr>") == 3  # the heading row and two rows


def test_display_table_headings_and_no_index():
    frame = pd.DataFrame({"shown": ["1,234.5", "0.5"]}, index=["a", "b"])
    html = display_table(frame, columns={"shown": "value"}, index=False).html
    assert '<th scope="col">value</th>' in html and "shown" not in html
    assert '<th scope="row">' not in html
    assert '<td class="num">1,234.5</td>' in html  # numbers given as text align as numbers


def test_a_float_column_has_one_number_of_decimals_and_ids_stay_as_they_are():
    frame = pd.DataFrame({"intercept": [50.684, 7.5], "lambda": [0.93388, 0.5],
                          "AIC": [1775.954, 12.0]},
                         index=pd.Index([7472, 62821], name="schid"))
    html = display_table(frame).html
    assert '<th scope="row">7472</th>' in html  # a school id, not "7,472"
    assert ">50.684<" in html and ">7.500<" in html  # decimal points line up
    assert ">0.93388<" in html and ">0.50000<" in html
    assert ">1,775.95<" in html  # from 1,000 up: two decimals, as display_number
