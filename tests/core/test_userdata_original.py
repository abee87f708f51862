"""The known failures of the original-file path (issue 16), each fixed with a test.

``read_original`` (data/nels88.csv, data/jsp.csv) shares the "Your data" reader. What
crashed with a traceback now gets a plain message, or, where the crash was in a page (a
slider from 2 to 1, an uncaught ModelDataError), the core guard the page asks first
(``hlmlab.userdata.views``) says why the view cannot be shown.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hlmlab import datasets
from hlmlab.analyses import jsp_schools as schools
from hlmlab.errors import ModelDataError
from hlmlab.twolevel import fit_multilevel
from hlmlab.userdata import UserDataError, grouping_problem, nesting_problem, slider_problem
from hlmlab.userdata.text import shown, shown_list

JSP = schools.DATASETS["jsp"]
JSP_ORIGINAL_COLUMNS = ["school", "class", "gender", "social", "raven", "id", "english", "math",
                        "year"]


def jsp_original(frame: pd.DataFrame) -> pd.DataFrame:
    """The replica (synthetic) dressed as the original file: id for pupil, original order."""
    return frame.rename(columns={"pupil": "id"})[JSP_ORIGINAL_COLUMNS]


@pytest.fixture(scope="module")
def replica() -> pd.DataFrame:
    return datasets.load_jsp_replica()


def test_names_clashing_after_normalising(tmp_path):
    """math and Math (ses and SES) once raised AttributeError: 'DataFrame' object has no
    attribute 'str'."""
    nels = datasets.load_nels88_replica()
    for first, second in (("math", "Math"), ("ses", "SES")):
        path = tmp_path / "nels88.csv"
        nels.assign(**{second: nels[first]}).to_csv(path, index=False)
        with pytest.raises(UserDataError, match=rf"Columns `{first}` and `{second}` of "
                                                r"`nels88.csv` both read as"):
            datasets.read_original(path)


def test_jsp_with_one_school(tmp_path, replica):
    """One school: the page's sliders went from 2 to 1 and the ranking raised ModelDataError."""
    path = tmp_path / "jsp.csv"
    jsp_original(replica[replica["school"] == replica["school"].iloc[0]]).to_csv(path, index=False)
    data = datasets.read_original(path)
    sizes = schools.pupils_per_school(data, JSP)
    assert slider_problem(2, len(sizes), "schools kept") == (
        "These data allow no setting for schools kept: it would need at least 2, and there are "
        "only 1.")
    problem = grouping_problem(data, JSP.group, outcome=JSP.outcome)
    assert problem.startswith("These rows hold one group only (`school` is always")
    with pytest.raises(ModelDataError):  # what the ranking view called unguarded
        schools.school_rankings(data, JSP, 2, False)


def test_two_schools_of_two_pupils(tmp_path, replica):
    """The "when separate lines are fine" sliders went from 2 to 2."""
    first_two = replica[replica["school"].isin(sorted(replica["school"].unique())[:2])]
    pupils = first_two.groupby("school")["pupil"].unique().map(lambda p: p[:2]).explode()
    chosen = first_two[first_two["pupil"].isin(pupils.tolist())]
    path = tmp_path / "jsp.csv"
    jsp_original(chosen).to_csv(path, index=False)
    data = datasets.read_original(path)
    sizes = schools.pupils_per_school(data, JSP)
    assert len(sizes) == 2 and int(sizes.max()) == 2
    assert slider_problem(2, len(sizes), "schools kept") == (
        "Only one setting is possible for schools kept (2), so it has no slider.")
    assert slider_problem(2, int(sizes.max()), "pupils per school").startswith("Only one setting")
    assert slider_problem(2, 5, "pupils per school") == ""


def test_jsp_with_year_0_only(tmp_path, replica):
    """Year 0 only: lines on year and the year-2 ranking raised uncaught ModelDataError."""
    path = tmp_path / "jsp.csv"
    jsp_original(replica[replica["year"] == 0]).to_csv(path, index=False)
    data = datasets.read_original(path)
    assert grouping_problem(data, JSP.group, JSP.lines_predictor, JSP.outcome) == (
        "`year` takes one value only (`0`) in these rows, so no line on it can be fitted.")
    year2 = schools.rows_at_occasion(data, JSP, 2)
    assert grouping_problem(year2, JSP.group, outcome=JSP.outcome).startswith("No row has all of")


@pytest.mark.parametrize("big", ["1e300", str(2**63)])
def test_school_ids_too_large_are_refused_not_merged(tmp_path, replica, big):
    """Ids of 1e300 or 2^63 once became -9223372036854775808: every school merged into one."""
    frame = jsp_original(replica).astype({"school": object})
    frame["school"] = [f"{s}e300" if big == "1e300" else str(2**63 + s)
                       for s in replica["school"]]
    path = tmp_path / "jsp.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(UserDataError, match=r"Column school holds the identifier `.+`, too large "
                                            r"to keep exactly"):
        datasets.read_original(path)


def test_symlinked_data_file_is_not_followed(tmp_path, replica):
    """A symlinked data/jsp.csv was followed (it could point anywhere on the server)."""
    (tmp_path / "jsp_synthetic.csv").write_bytes(
        (datasets.DATA_DIR / "jsp_synthetic.csv").read_bytes())
    outside = tmp_path / "elsewhere.csv"
    jsp_original(replica).to_csv(outside, index=False)
    (tmp_path / "jsp.csv").symlink_to(outside)
    with pytest.raises(UserDataError, match="`jsp.csv` is a symbolic link; HLM Lab does not "
                                            "follow links"):
        datasets.load_jsp(datasets.JSP_ORIGINAL_LABEL, tmp_path)


def test_truncated_utf16_has_no_codec_message(tmp_path, replica):
    path = tmp_path / "jsp.csv"
    path.write_bytes(jsp_original(replica.head(30)).to_csv(index=False).encode("utf-16")[:-1])
    with pytest.raises(UserDataError) as caught:
        datasets.read_original(path)
    message = str(caught.value)
    assert "ends in the middle of a character" in message
    assert "codec" not in message and "utf-16-le" not in message and "0x" not in message


def test_twenty_thousand_columns_message_is_short(tmp_path):
    """Once a 149,000-character error."""
    path = tmp_path / "nels88.csv"
    path.write_text(",".join(f"c{i}" for i in range(20_000)) + "\n" + ",".join(["1"] * 20_000))
    with pytest.raises(UserDataError) as caught:
        datasets.read_original(path)
    assert str(caught.value) == ("`nels88.csv` has 20,000 columns; HLM Lab reads at most 500. "
                                 "Keep only the columns you need.")


def test_unrecognised_file_lists_few_columns(tmp_path):
    path = tmp_path / "nels88.csv"
    path.write_text(",".join(f"c{i}" for i in range(400)) + "\n" + ",".join(["1"] * 400))
    with pytest.raises(UserDataError) as caught:
        datasets.read_original(path)
    assert "c0, c1, c2, c3, c4, c5, c6, c7 and 392 more" in str(caught.value)
    assert len(str(caught.value)) < 300


def test_grouping_and_nesting_guards_match_what_the_fit_refuses():
    frame = pd.DataFrame({"y": [1.0, 2.0, 3.0, 2.5, 1.5, 3.5], "x": [0.0, 1, 2, 0, 1, 2],
                          "g": [1, 1, 1, 2, 2, 2], "area": [1, 1, 1, 1, 2, 2]})
    assert grouping_problem(frame, "g", "x", "y") == ""
    one = frame.assign(g=1)
    assert grouping_problem(one, "g", "x", "y")
    with pytest.raises(ModelDataError):
        fit_multilevel(one, "y", "x", "g")
    flat = frame.assign(x=3.0)
    assert grouping_problem(flat, "g", "x", "y")
    with pytest.raises(ModelDataError):
        fit_multilevel(flat, "y", "x", "g")
    assert nesting_problem(frame, "g", "area").startswith("`g` is not nested in `area`: group `2`")
    assert nesting_problem(frame.assign(area=frame["g"] * 10), "g", "area") == ""


@pytest.mark.parametrize(("text", "expected"), [
    ("math", "`math`"),
    ("", "(empty)"),
    ("a`b", "``a`b``"),
    ("`x`", "`` `x` ``"),
    ("x" * 50, "`" + "x" * 40 + "…`"),
    ("a\nb\x00c", r"`a\nb\x00c`"),
    ("[link](http://e.x)", "`[link](http://e.x)`"),
])
def test_shown(text, expected):
    assert shown(text) == expected


def test_shown_list_is_capped():
    assert shown_list([f"c{i}" for i in range(12)]) == "`c0`, `c1`, `c2`, `c3`, `c4` and 7 more"
    assert np.isclose(len(shown_list(["z" * 10_000] * 10_000)), 242, atol=10)
