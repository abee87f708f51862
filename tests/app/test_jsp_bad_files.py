"""The JSP page with original files it cannot fully use (issue 16, "Known failures today"):
each view says in plain words why it cannot be shown, and the session stays usable.

The files are the synthetic replica cut down and written in the original (faraway::jsp)
layout to ``jsp.csv`` in a temporary data folder, as tests/core/test_userdata_original.py
writes them for the core guards (``hlmlab.userdata.views``):

- one school: the "Schools kept" slider went from 2 to 1 (StreamlitInvalidMinMaxError) and
  the ranking raised an uncaught ModelDataError;
- two schools of two pupils: the "Schools kept" and "Pupils per school" sliders went from 2
  to 2;
- year 0 only: the pooling and ranking views raised an uncaught ModelDataError.
"""

from __future__ import annotations

import shutil

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

import hlmlab.datasets
from app_pages import APP, answer_every_question, chart_specs, lesson_views
from app_pages import open_view as open_page_view
from hlmlab import datasets

PAGE = "pages/jsp_schools.py"
ORIGINAL_COLUMNS = ["school", "class", "gender", "social", "raven", "id", "english", "math",
                    "year"]


def one_school(replica: pd.DataFrame) -> pd.DataFrame:
    return replica[replica["school"] == replica["school"].iloc[0]]


def two_schools_of_two_pupils(replica: pd.DataFrame) -> pd.DataFrame:
    first_two = replica[replica["school"].isin(sorted(replica["school"].unique())[:2])]
    pupils = first_two.groupby("school")["pupil"].unique().map(lambda p: p[:2]).explode()
    return first_two[first_two["pupil"].isin(pupils.tolist())]


def year_0_only(replica: pd.DataFrame) -> pd.DataFrame:
    return replica[replica["year"] == 0]


def open_with_file(tmp_path, monkeypatch, rows: pd.DataFrame) -> AppTest:
    """The page on a data folder holding the replica and ``rows`` as the original file,
    with the original file chosen."""
    shutil.copy(datasets.DATA_DIR / "jsp_synthetic.csv", tmp_path / "jsp_synthetic.csv")
    rows.rename(columns={"pupil": "id"})[ORIGINAL_COLUMNS].to_csv(tmp_path / "jsp.csv",
                                                                  index=False)
    monkeypatch.setattr(hlmlab.datasets, "DATA_DIR", tmp_path)
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.run()
    at.switch_page(PAGE).run()
    at.selectbox(key="jsp_source").set_value(datasets.JSP_ORIGINAL_LABEL).run()
    assert_clean(at, "original file")
    assert not any("could not be used" in e.value for e in at.error)
    return at


def assert_clean(at: AppTest, context: str) -> None:
    assert not at.exception, f"{context}: {[e.message for e in at.exception]}"
    assert not any("Traceback" in e.value for e in at.error), context


def messages(at: AppTest) -> list[str]:
    return [m.value for m in [*at.warning, *at.info, *at.caption]]


def walk_every_view(at: AppTest) -> dict[str, list[str]]:
    """Open every view, answer its questions, and return what each said."""
    said = {}
    for label in lesson_views(PAGE)[1]:
        open_page_view(at, PAGE, label)
        answer_every_question(at)
        assert_clean(at, label)
        said[label] = messages(at)
    return said


def test_one_school(tmp_path, monkeypatch):
    at = open_with_file(tmp_path, monkeypatch, one_school(datasets.load_jsp_replica()))
    said = walk_every_view(at)
    one_group = "These rows hold one group only (`school` is always"
    assert any(one_group in m for m in said["3 · Three kinds of lines"])
    assert any(m.startswith("No ranking of year 2: " + one_group)
               for m in said["4 · Ranking schools"])
    assert ("These data allow no setting for schools kept: it would need at least 2, and there "
            "are only 1.") in said["5 · When separate lines are fine"]
    # The session is still usable: back to the replica, the ranking is drawn.
    at.selectbox(key="jsp_source").set_value(datasets.JSP_REPLICA_LABEL).run()
    answer_every_question(open_page_view(at, PAGE, "4 · Ranking schools"))
    assert_clean(at, "back to the replica")
    assert any(m.label == "Schools" and int(m.value) > 40 for m in at.metric)


def test_two_schools_of_two_pupils(tmp_path, monkeypatch):
    at = open_with_file(tmp_path, monkeypatch,
                        two_schools_of_two_pupils(datasets.load_jsp_replica()))
    said = walk_every_view(at)["5 · When separate lines are fine"]
    assert "Only one setting is possible for schools kept (2), so it has no slider." in said
    assert "Only one setting is possible for pupils per school (2), so it has no slider." in said
    assert not [s for s in at.slider if s.key in ("jsp_keep", "jsp_pupils")]
    # The one setting left is still fitted and drawn (or its failure explained).
    assert chart_specs(at) or any(m.startswith("No fit:") for m in said)


def test_year_0_only(tmp_path, monkeypatch):
    at = open_with_file(tmp_path, monkeypatch, year_0_only(datasets.load_jsp_replica()))
    said = walk_every_view(at)
    flat = "`year` takes one value only (`0`) in these rows, so no line on it can be fitted."
    assert "No lines can be fitted: " + flat in said["3 · Three kinds of lines"]
    assert "No fit: No lines can be fitted: " + flat in said["5 · When separate lines are fine"]
    # Only year 0 is offered to rank on, and its ranking is drawn.
    open_page_view(at, PAGE, "4 · Ranking schools")
    assert at.selectbox(key="jsp_year").options == ["0"]
    assert any(m.label == "Schools" for m in at.metric)
    assert any("at least two values of 'year'" in m for m in said["6 · Three levels"])


@pytest.mark.parametrize("view", ["3 · Three kinds of lines", "5 · When separate lines are fine"])
def test_a_url_naming_a_slider_of_a_view_without_one_is_harmless(tmp_path, monkeypatch, view):
    """A shared link's slider value for a view whose data leave no slider is ignored."""
    at = open_with_file(tmp_path, monkeypatch, one_school(datasets.load_jsp_replica()))
    at.query_params.update({"jsp_drawn": "5", "jsp_keep": "9", "jsp_pupils": "4"})
    open_page_view(at, PAGE, view)
    assert_clean(at, view)
