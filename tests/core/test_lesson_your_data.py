"""The "Your data" page's computes (hlmlab.analyses.your_data) against lme4.

Reference values: tests/reference/lme4_reference.csv, written by lme4_reference.R from
tests/reference/cases.csv (exam_rs_reml, exam_rs_ml, yd_exam_ri_reml, yd_exam_ri_ml,
yd_exam_level2_rs_reml) and cases_three_level.csv (yd_jsp_school_class_empty_reml,
yd_jsp_school_class_raven_reml). Regenerate with ``bash tests/reference/make_reference.sh``.
The page reads the Exam sample as a CSV through the same reader as any upload, so these are
the numbers a student's own copy of Exam gets.
"""

from __future__ import annotations

import io
import pickle
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hlmlab.analyses import your_data as yd
from hlmlab.datasets import load_jsp_replica
from hlmlab.errors import ModelDataError
from hlmlab.pooling import compare_pooling
from hlmlab.userdata import ColumnRoles

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "app"))
from app_pages import _html_table, lme4_value  # noqa: E402

RTOL = 1e-3
EXAM_ROLES = ColumnRoles("normexam", "standLRT", "school")
# (case, random slope, REML, level-2 predictor)
EXAM_CASES = [("exam_rs_reml", True, True, None), ("exam_rs_ml", True, False, None),
              ("yd_exam_ri_reml", False, True, None), ("yd_exam_ri_ml", False, False, None),
              ("yd_exam_level2_rs_reml", True, True, "schavg")]


@pytest.fixture(scope="module")
def exam() -> yd.SessionTable:
    return yd.sample_table("exam")


def full_model(data: yd.SessionTable, roles: ColumnRoles, random_slope=True, reml=True):
    bounds = yd.slider_bounds(data, roles)
    return yd.Model(data, roles, bounds["groups"][1], bounds["per_group"][1], random_slope, reml)


def results(analysis: yd.Analysis) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(analysis.results_csv), dtype={"group": str})


def close(value: float, reference: float, scale: float | None = None) -> bool:
    return abs(value - reference) <= RTOL * (scale if scale is not None else abs(reference))


@pytest.mark.parametrize(("case", "random_slope", "reml", "level2"), EXAM_CASES)
def test_exam_fit_and_its_results_csv_agree_with_lme4(exam, case, random_slope, reml, level2):
    roles = ColumnRoles("normexam", "standLRT", "school", level2_predictor=level2)
    analysis = yd.analyse(full_model(exam, roles, random_slope, reml))
    table = results(analysis)
    fixed = table[table["section"] == "fixed effect"].set_index("term")
    for term in fixed.index:
        se = lme4_value(case, "se", term)
        assert close(fixed.loc[term, "estimate"], lme4_value(case, "fixef", term), se), term
        assert close(fixed.loc[term, "std_error"], se), term
    variance = table[table["section"] == "variance component"].set_index("term")["estimate"]
    assert close(variance["tau00"], lme4_value(case, "tau00"))
    assert close(variance["sigma2"], lme4_value(case, "sigma2"))
    if random_slope:
        assert close(variance["tau11"], lme4_value(case, "tau11"))
        scale = np.sqrt(lme4_value(case, "tau00") * lme4_value(case, "tau11"))
        assert close(variance["tau01"], lme4_value(case, "tau01"), scale)
    loglik = table[table["section"] == "fit"]["estimate"].iloc[0]
    assert close(loglik, lme4_value(case, "loglik"))
    assert analysis.icc == pytest.approx(
        lme4_value(case, "tau00") / (lme4_value(case, "tau00") + lme4_value(case, "sigma2")),
        rel=RTOL)
    # The table on screen shows the same numbers (to its decimals).
    shown = _html_table(analysis.fixed.html)
    for term in fixed.index:
        assert shown.loc[term, "estimate"] == pytest.approx(lme4_value(case, "fixef", term),
                                                            abs=1e-4)


def test_level2_predictor_lines_are_drawn_at_each_groups_own_value(exam):
    """compare_pooling(covariates=...): a group's multilevel line is its conditional line at
    its own value of the level-2 predictor: intercept g00 + g01 w_j + u0j."""
    rows = yd.model_rows(full_model(exam, ColumnRoles("normexam", "standLRT", "school",
                                                      level2_predictor="schavg")))
    comparison = compare_pooling(rows, "normexam", "standLRT", "school", True, True,
                                 covariates=("schavg",))
    fit = comparison.multilevel
    lines = comparison.lines[comparison.lines["family"] == "multilevel"]
    school = fit.blups.index[3]
    line = lines[lines["group"] == school].iloc[0]
    w = rows.loc[rows["school"] == school, "schavg"].iloc[0]
    expected = (fit.fixed["Intercept"] + fit.blups.loc[school, "u0"] + fit.fixed["schavg"] * w
                + (fit.fixed["standLRT"] + fit.blups.loc[school, "u1"]) * line["x"])
    assert line["y"] == pytest.approx(expected, rel=1e-9)


def test_subsample_keeps_the_chosen_groups_and_rows_and_the_scripts_list_them(exam):
    model = yd.Model(exam, EXAM_ROLES, 10, 5, False, True)
    rows = yd.model_rows(model)
    assert rows["school"].nunique() == 10
    assert rows.groupby("school").size().max() == 5
    analysis = yd.analyse(model)
    assert "10 of 65 groups, at most 5 rows each (50 of 4,059 rows)" in analysis.notes[-1]
    listed = analysis.python_script.split("KEEP = [")[1].split("]")[0]
    assert sorted(int(r) for r in listed.replace("\n", " ").split(",")) == sorted(rows.index)


def test_a_fit_that_cannot_run_is_a_plain_message(exam):
    with pytest.raises(ModelDataError, match="chosen as both"):
        yd.analyse(full_model(exam, EXAM_ROLES, True, True).__class__(
            exam, ColumnRoles("normexam", "normexam", "school"), 65, 198, True, True))


def jsp_with_classes() -> yd.SessionTable:
    """The JSP replica (synthetic) as a user's CSV, with a class label of its own per school
    (the page asks groups to be labelled uniquely within the third level's units)."""
    frame = load_jsp_replica()
    frame["school_class"] = frame["school"] * 100 + frame["class"]
    return yd.session_table(frame.to_csv(index=False).encode(), "jsp_synthetic.csv")


def test_three_levels_agree_with_lme4():
    data = jsp_with_classes()
    roles = ColumnRoles("math", "raven", "school_class", level3_group="school")
    result = yd.three_levels(full_model(data, roles, random_slope=False, reml=True))
    table = _html_table(result.table.html)
    for model, case in (("empty model", "yd_jsp_school_class_empty_reml"),
                        ("with the predictors", "yd_jsp_school_class_raven_reml")):
        row = table.loc[model]
        assert row["school variance"] == pytest.approx(lme4_value(case, "var_group"), rel=RTOL)
        assert row["school_class variance"] == pytest.approx(lme4_value(case, "var_subgroup"),
                                                             rel=RTOL)
        assert row["residual variance"] == pytest.approx(lme4_value(case, "sigma2"), rel=RTOL)
        assert row["REML log-likelihood"] == pytest.approx(lme4_value(case, "loglik"), rel=RTOL)
        total = (lme4_value(case, "var_group") + lme4_value(case, "var_subgroup")
                 + lme4_value(case, "sigma2"))
        assert row["share at school"] == pytest.approx(lme4_value(case, "var_group") / total,
                                                       abs=1e-3)


def test_a_users_table_is_never_pickled_and_compares_by_content():
    first = yd.session_table(b"g,x,y\n1,1,2\n1,2,3\n2,1,1\n2,2,5\n", "a.csv")
    again = yd.session_table(b"g,x,y\n1,1,2\n1,2,3\n2,1,1\n2,2,5\n", "a.csv")
    other = yd.session_table(b"g,x,y\n1,1,2\n1,2,3\n2,1,1\n2,2,6\n", "a.csv")
    assert first == again and hash(first) == hash(again) and first != other
    with pytest.raises(TypeError, match="never pickled"):
        pickle.dumps(first)
    with pytest.raises(TypeError):
        pickle.dumps(yd.Model(first, ColumnRoles("y", "x", "g"), 2, 2, False, True))
    assert "1,2,3" not in repr(first)
    # Only the public samples are kept per process; a user's table is not.
    assert not hasattr(yd.session_table, "cache_info")


@pytest.mark.parametrize("text", ["[click](http://evil.example)", "![x](http://e/x.png)",
                                  "<b>bold</b>", "$x^2$", "**strong** _em_", "`code`"])
def test_file_text_is_inert_in_markdown_and_charts(text):
    escaped = yd.inert(text)
    for active in "[]()<>$*_`!":
        assert active not in escaped.replace("\\" + active, "")
    shown = yd.figure_text(text + "%{y}")
    assert "<" not in shown and ">" not in shown and "%{" not in shown
