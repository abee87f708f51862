"""The "Your data" page in AppTest: the sample's numbers against lme4, an upload, the hostile
corpus (each file its message, the session usable after it), privacy between sessions, a
shared link without its file, and the canary.

lme4 values: tests/reference/lme4_reference.csv (cases exam_rs_reml, yd_exam_ri_reml; see
tests/reference/cases.csv). Corpus and expected messages: tests/core/test_userdata_corpus.py.
"""

from __future__ import annotations

import ast
import io
import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from app_pages import APP, REPO, element_texts, lesson_views, lme4_value, open_view, shown_tables

sys.path.insert(0, str(REPO / "tests" / "core"))
from corpus_files import CORPUS_DIR, MARKER_PLACEHOLDER, small_files, write_generated  # noqa: E402
from test_userdata_corpus import CORPUS, DEFAULT_ROLES  # noqa: E402
from test_userdata_reading import two_sheet_workbook  # noqa: E402

from hlmlab.analyses.your_data import sample_file  # noqa: E402

PAGE = "pages/your_data.py"
TIMEOUT = 180
VIEWS = lesson_views(PAGE)[1]
ROLE_KEYS = {"outcome": "yd_role_outcome", "predictor": "yd_role_predictor",
             "group": "yd_role_group", "level2_predictor": "yd_role_level2_predictor",
             "level3_group": "yd_role_level3_group"}
GOOD = ("good.csv", b"g,x,y\n1,1,2.5\n1,2,3.1\n1,3,4.2\n2,1,1.1\n2,2,2.4\n2,3,2.9\n3,1,3.3\n"
        b"3,2,4.1\n3,3,5.6\n4,1,0.4\n4,2,1.9\n4,3,2.2\n", "text/csv")


def open_page(query: dict | None = None) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    if query:
        at.query_params.update(query)
    at.run()
    at.switch_page(PAGE).run()
    assert_clean(at, "open")
    return at


def assert_clean(at: AppTest, context: str) -> None:
    assert not at.exception, f"{context}: {[e.message for e in at.exception]}"
    assert not any("Traceback" in e.value for e in at.error), context


def texts(at: AppTest) -> list[str]:
    return element_texts(at.main)


def choose_file(at: AppTest) -> AppTest:
    at.radio(key="yd_data").set_value("Your file").run()
    assert_clean(at, "Your file")
    return at


def upload(at: AppTest, name: str, content: bytes, mime: str = "text/csv") -> AppTest:
    at.get("file_uploader")[0].set_value((name, content, mime))
    return at.run()


def offered(menu, column) -> bool:
    """Whether a role menu lists the column (its options are the formatted labels)."""
    try:
        return menu.format_func(column) in menu.options
    except KeyError:  # a column the file does not have
        return False


def table_columns(at: AppTest) -> list[str]:
    """The uploaded file's columns, as the session read them."""
    return list(at.session_state["yd_table"][1].table.frame.columns)


def set_roles(at: AppTest, roles) -> AppTest:
    """Set each role menu that offers the column (one rerun for all)."""
    changed = False
    for field, column in roles.chosen().items():
        menu = next((m for m in at.selectbox if m.key == ROLE_KEYS[field]), None)
        if menu is not None and offered(menu, column):
            menu.set_value(column)
            changed = True
    return at.run() if changed else at


def variance_numbers(at: AppTest) -> dict[str, float]:
    """The variance table beside the chart, by its quantities' first word."""
    for table in shown_tables(at):
        if "value" in table.columns and any(str(i).startswith("tau00") for i in table.index):
            return {str(i).split(":")[0].split(" ")[0]: v for i, v in table["value"].items()}
    raise AssertionError("no variance table on the page")


# --------------------------------------------------------------------------- numbers


def check_exam_numbers(at: AppTest, case: str) -> None:
    shown = variance_numbers(at)
    for quantity in ("tau00", "sigma2"):
        assert shown[quantity] == pytest.approx(lme4_value(case, quantity), rel=2e-3), quantity
    assert shown["REML"] == pytest.approx(lme4_value(case, "loglik"), rel=1e-4)
    fixed = next(t for t in shown_tables(at) if "estimate" in t.columns)
    for term in ("Intercept", "standLRT"):
        assert fixed.loc[term, "estimate"] == pytest.approx(lme4_value(case, "fixef", term),
                                                            abs=1e-4)
        assert fixed.loc[term, "SE (lme4: fixed-effects block)"] == pytest.approx(
            lme4_value(case, "se", term), rel=1e-3)


def test_the_exam_sample_shows_lme4s_numbers_and_every_view_runs():
    at = open_page({"yd_data": "exam"})
    check_exam_numbers(at, "exam_rs_reml")
    for label in VIEWS[1:]:
        open_view(at, PAGE, label)
        assert_clean(at, label)


def test_the_sleepstudy_sample_opens_first_and_shows_lme4s_numbers():
    at = open_page()
    assert at.radio(key="yd_data").value.startswith("Sample: sleepstudy")
    shown = variance_numbers(at)
    for quantity in ("tau00", "tau11", "sigma2"):
        assert shown[quantity] == pytest.approx(lme4_value("sleepstudy_rs_reml", quantity),
                                                rel=2e-3)


def test_an_uploaded_exam_csv_gives_the_same_numbers():
    at = choose_file(open_page())
    upload(at, "exam.csv", sample_file("exam"))
    assert_clean(at, "upload")
    at.selectbox(key="yd_role_predictor").set_value("standLRT")
    at.selectbox(key="yd_role_group").set_value("school")
    at.selectbox(key="yd_role_outcome").set_value("normexam").run()
    check_exam_numbers(at, "exam_rs_reml")


def test_the_shrinkage_table_follows_the_formula_in_the_text():
    """λ_j = τ00 / (τ00 + σ²/n_j), and the multilevel intercept = λ_j × the common-slope
    intercept + (1 − λ_j) γ00 (lessons/your_data.md, "Shrinkage"), on the numbers shown."""
    at = open_page({"yd_data": "exam"})
    at.radio(key="yd_slope").set_value("Random intercept").run()
    case = "yd_exam_ri_reml"
    check_exam_numbers(at, case)
    tau00, sigma2 = lme4_value(case, "tau00"), lme4_value(case, "sigma2")
    g00 = lme4_value(case, "fixef", "Intercept")
    open_view(at, PAGE, VIEWS[1])
    table = next(t for t in shown_tables(at) if "λ" in t.columns)
    n = table["n"].astype(float)
    assert np.allclose(table["λ"], tau00 / (tau00 + sigma2 / n), atol=2e-3)
    pulled = table["λ"] * table["common-slope intercept"] + (1 - table["λ"]) * g00
    assert np.allclose(table["multilevel intercept"], pulled, atol=5e-3)


def test_the_icc_shown_is_tau00_over_the_total():
    at = open_page({"yd_data": "exam"})
    open_view(at, PAGE, VIEWS[3])
    metric = next(m for m in at.metric if m.label.startswith("Residual ICC"))
    tau00, sigma2 = lme4_value("exam_rs_reml", "tau00"), lme4_value("exam_rs_reml", "sigma2")
    assert float(metric.value) == pytest.approx(tau00 / (tau00 + sigma2), abs=6e-4)


# --------------------------------------------------------------------------- bad input


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> dict[str, Path]:
    return write_generated(tmp_path_factory.mktemp("page_corpus"))


def corpus_bytes(name: str, generated: dict[str, Path]) -> bytes:
    if name == "symlink.csv":  # an upload is bytes: the link's target arrives, not a link
        return generated[name].resolve().read_bytes()
    return (generated[name] if name in generated else CORPUS_DIR / name).read_bytes()


# A symbolic link cannot be uploaded (the browser sends the target's bytes): the reader's
# refusal of links is the original-file path's, tested in tests/core.
PAGE_CORPUS = sorted(name for name in CORPUS if name != "symlink.csv")


def test_the_corpus_each_file_its_message_and_the_session_usable_after(generated):
    """One session takes every corpus file in turn: each shows its message (the reader's
    refusal, a note, or the role check's words, with the corpus's roles chosen), never a
    traceback; then a good file loads and is fitted."""
    at = choose_file(open_page())
    failures = []
    for name in PAGE_CORPUS:
        fragment, roles = CORPUS[name]
        upload(at, name, corpus_bytes(name, generated))
        set_roles(at, roles or DEFAULT_ROLES)
        if at.exception or any("Traceback" in e.value for e in at.error):
            failures.append((name, "exception", [e.message for e in at.exception]))
        elif not any(fragment in text for text in texts(at)):
            failures.append((name, fragment, [t for t in texts(at) if len(t) < 400][:12]))
        upload(at, *GOOD)
        if at.exception or not any("tau00" in str(i) for t in shown_tables(at) for i in t.index):
            failures.append((name, "the good file after it did not fit", texts(at)[:8]))
    assert not failures, failures


@pytest.mark.parametrize("name", ["python_code_names.csv", "r_code_names.csv",
                                  "newline_in_name.csv", "spaces_and_quotes_in_names.csv",
                                  "markdown_and_html_names.csv", "html_in_values.csv",
                                  "formula_values.csv"])
def test_canary_nothing_in_a_file_runs_on_the_page(name, tmp_path):
    """The code-bearing files, their hostile columns in the roles, every view drawn (the
    scripts and results CSV made): the marker file never appears."""
    marker = tmp_path / "MARKER"
    content = small_files()[name].replace(MARKER_PLACEHOLDER.encode(), str(marker).encode())
    at = choose_file(open_page())
    upload(at, name, content)
    assert_clean(at, name)
    columns = table_columns(at)
    if len(columns) >= 3:
        hostile = [c for c in columns if "(" in c or "`" in c or "[" in c or "\\" in c]
        for field, column in zip(("outcome", "predictor", "group"), hostile):
            at.selectbox(key=ROLE_KEYS[field]).set_value(column)
        at.run()
    for label in VIEWS:
        open_view(at, PAGE, label)
        assert_clean(at, f"{name}: {label}")
    assert not marker.exists()


# --------------------------------------------------------------------------- privacy


SECRET = (b"secret_cohort,dosage_x,result_y\n" + b"".join(
    f"alpha_site_{g},{x},{1 + g + 0.5 * x + (x * g) % 3}\n".encode()
    for g in range(1, 6) for x in range(1, 7)))


def everything_shown(at: AppTest) -> str:
    shown = texts(at) + [str(t.to_dict()) for t in shown_tables(at)]
    shown += [str(w.options) for w in at.selectbox]
    if "yd_table" in at.session_state:  # the table the session holds
        shown.append(at.session_state["yd_table"][1].table.frame.to_csv())
    return "\n".join(shown)


def test_two_sessions_never_see_each_others_file():
    cache_dir = Path(os.environ["HLMLAB_CACHE_DIR"])
    first = choose_file(open_page())
    second = choose_file(open_page())
    before = sorted(p.name for p in cache_dir.rglob("*"))  # the samples' results may be there
    upload(first, "secret.csv", SECRET)
    assert_clean(first, "secret")
    assert "secret_cohort" in everything_shown(first)
    open_view(first, PAGE, VIEWS[1])
    assert any("alpha_site_1" in str(t.index.tolist()) for t in shown_tables(first))

    second.run()
    assert "secret_cohort" not in everything_shown(second)
    upload(second, *GOOD)
    for label in VIEWS:
        open_view(second, PAGE, label)
        shown = everything_shown(second)
        assert "secret_cohort" not in shown and "alpha_site" not in shown, label
    # Nothing of the page went to the machine's result cache (ui.panels' disk tier).
    assert sorted(p.name for p in cache_dir.rglob("*")) == before
    # The first session still has its own file.
    first.run()
    assert "secret_cohort" in everything_shown(first)


def test_only_the_public_samples_reach_the_shared_result_cache():
    """ui.panels.run shares results between sessions: the page calls it only for a
    SampleData; a user's SessionTable goes to run_in_session (and cannot be pickled)."""
    source = (REPO / PAGE).read_text(encoding="utf-8")
    tree = ast.parse(source)
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                and node.module == "ui.panels" for alias in node.names}
    assert imported == {"run", "run_in_session"}
    calls = [node for node in ast.walk(tree) if isinstance(node, ast.Call)
             and getattr(node.func, "id", None) == "run"]
    assert len(calls) == 1
    assert "if isinstance(settings.data, yd.SampleData):\n            return run(panel" in source
    assert "cache_data" not in source and "cache_resource" not in source


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def test_a_workbooks_sheet_is_chosen_from_a_menu_and_a_bad_sheet_loses_nothing():
    at = choose_file(open_page())
    exam = pd.read_csv(io.BytesIO(sample_file("exam")))
    upload(at, "survey.xlsx", two_sheet_workbook(data=exam), XLSX)
    menu = at.selectbox(key="yd_sheet")
    assert menu.label == "Sheet" and list(menu.options) == ["Read me", "Scores 2025"]
    # The first sheet is a note: its message names the sheet and points to the menu.
    assert [e.value for e in at.error if "`Read me`" in e.value and "menu above" in e.value]
    assert_clean(at, "the note sheet")
    menu.set_value("Scores 2025").run()
    assert_clean(at, "the data sheet")
    assert not at.error
    assert table_columns(at) == list(exam.columns)
    assert any("2 sheets" in i.value and "Scores 2025" in i.value for i in at.info)
    at.selectbox(key="yd_role_predictor").set_value("standLRT")
    at.selectbox(key="yd_role_group").set_value("school")
    at.selectbox(key="yd_role_outcome").set_value("normexam").run()
    check_exam_numbers(at, "exam_rs_reml")  # the sheet's data give lme4's numbers
    # A file that is not a workbook: no menu.
    upload(at, *GOOD)
    assert_clean(at, "a CSV after the workbook")
    assert not [box for box in at.selectbox if box.key == "yd_sheet"]


def test_a_shared_link_without_its_file_says_so():
    at = open_page({"yd_data": "file", "yd_slope": "0", "yd_view": "3"})
    assert any("never carries the file" in text for text in texts(at))
    at = open_page({"yd_data": "file"})
    assert not any("never carries the file" in text for text in texts(at))
