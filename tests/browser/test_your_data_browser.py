"""The "Your data" page in Chromium: a real data set uploaded through the file chooser gives
lme4's numbers, its downloaded Python script prints them again, a sample of the hostile
corpus gets its messages, and two browser contexts never see each other's file.

lme4 values: tests/reference/lme4_reference.csv, case exam_rs_reml (mlmRev::Exam,
normexam ~ standLRT + (standLRT | school), REML; tests/reference/cases.csv). Corpus and
expected messages: tests/core/test_userdata_corpus.py.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

import browser_support as bs

sys.path.insert(0, str(bs.REPO_ROOT / "tests" / "core"))
sys.path.insert(0, str(bs.REPO_ROOT / "tests" / "app"))
from app_pages import lme4_value  # noqa: E402
from corpus_files import CORPUS_DIR, write_generated  # noqa: E402
from test_userdata_corpus import CORPUS  # noqa: E402

from hlmlab.analyses.your_data import sample_file  # noqa: E402

pytestmark = pytest.mark.browser

CASE = "exam_rs_reml"
PAGE = next(p for p in bs.discover_pages() if p.stem == "your_data")
GOOD_CSV = (b"g,x,y\n1,1,2.5\n1,2,3.1\n1,3,4.2\n2,1,1.1\n2,2,2.4\n2,3,2.9\n3,1,3.3\n"
            b"3,2,4.1\n3,3,5.6\n")
SECRET_CSV = (b"secret_cohort,dosage_x,result_y\n" + b"".join(
    f"alpha_site_{g},{x},{1 + g + 0.5 * x + (x * g) % 3}\n".encode()
    for g in range(1, 6) for x in range(1, 7)))
# A sample of the corpus (the rest runs in AppTest): empty, binary, UTF-16, names that are
# code, one group, duplicate names, a zip bomb renamed .xlsx, an Excel file with formulas.
BROWSER_SAMPLE = ["empty.csv", "binary_garbage.csv", "utf16_bom.csv", "python_code_names.csv",
                  "one_group.csv", "duplicate_names.csv", "zip_bomb_ratio.xlsx",
                  "formulas_without_saved_values.xlsx", "latin1.csv"]


def open_page(page, app_server, query: str = "") -> None:
    page.goto(PAGE.url(app_server.base_url, query))
    bs.wait_for_first_run(page, timeout=120)


def choose_your_file(page) -> None:
    since = bs.now(page)
    page.get_by_text("Your file", exact=True).click()
    bs.wait_for_rerun(page, since, timeout=60)
    bs.wait_for_idle(page, timeout=60)


def upload(page, path: Path, charts: int = 0) -> None:
    """Upload through Chromium's file chooser, as a student's click on "Browse files" does."""
    remove = page.locator('[data-testid="stFileChipDeleteBtn"] button')
    if remove.count():  # a file is there: remove it first, as a student would
        since = bs.now(page)
        remove.first.click()
        bs.wait_for_rerun(page, since, timeout=60)
        bs.wait_for_idle(page, timeout=60)
    since = bs.now(page)
    with page.expect_file_chooser() as chooser:
        page.locator('[data-testid="stFileUploaderDropzone"] '
                     '[data-testid="stBaseButton-secondary"]').click()
    chooser.value.set_files(str(path))
    bs.wait_for_rerun(page, since, timeout=120)
    bs.wait_for_idle(page, timeout=120, min_charts=charts)


def main_text(page) -> str:
    return page.locator('[data-testid="stMain"]').inner_text()


def table_values(page, label: str) -> dict[str, list[str]]:
    """A show_table table's rows: row heading -> its cells' texts."""
    rows = page.locator(f'.hlm-table[aria-label="{label}"] tbody tr')
    values = {}
    for i in range(rows.count()):
        row = rows.nth(i)
        values[row.locator("th").inner_text().strip()] = [
            cell.inner_text().strip() for cell in row.locator("td").all()]
    return values


def number(text: str) -> float:
    return float(text.replace(",", "").replace("−", "-"))


def test_an_uploaded_exam_csv_shows_lme4s_numbers_and_its_script_prints_them(
        tab, app_server, tmp_path):
    page, errors = tab
    exam = tmp_path / "exam.csv"
    exam.write_bytes(sample_file("exam"))
    open_page(page, app_server)
    choose_your_file(page)
    upload(page, exam, charts=1)
    bs.assert_clean(page, errors, "Exam uploaded")
    variance = table_values(page, "Variance components and fit statistics")
    shown = {key.split(":")[0].split(" ")[0]: number(cells[0]) for key, cells in variance.items()}
    for quantity in ("tau00", "tau11", "sigma2"):
        assert shown[quantity] == pytest.approx(lme4_value(CASE, quantity), rel=2e-3), quantity
    assert shown["REML"] == pytest.approx(lme4_value(CASE, "loglik"), rel=1e-4)
    fixed = table_values(page, "Fixed effects")
    for term in ("Intercept", "standLRT"):
        assert number(fixed[term][0]) == pytest.approx(lme4_value(CASE, "fixef", term), abs=1e-4)
        assert number(fixed[term][1]) == pytest.approx(lme4_value(CASE, "se", term), rel=1e-3)

    # The Python script, downloaded from the page and run on its own beside the file.
    bs.open_view(page, 4, timeout=120)
    with page.expect_download() as download:
        page.get_by_role("button", name="Python script").click()
    script = tmp_path / "refit.py"
    download.value.save_as(script)
    run = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True,
                         text=True, timeout=300, env={"OPENBLAS_NUM_THREADS": "1",
                                                      "PATH": "/usr/bin:/bin"})
    assert run.returncode == 0, run.stderr
    printed = dict(re.findall(r"^  (\S+)\s.*?(-?[\d.]+(?:e[-+]?\d+)?)$", run.stdout, re.M))
    # The Exam intercept is near 0: compared on the scale of its SE, as the reference tests do.
    intercept_se = lme4_value(CASE, "se", "Intercept")
    assert float(printed["Intercept"]) == pytest.approx(lme4_value(CASE, "fixef", "Intercept"),
                                                        abs=1e-3 * intercept_se)
    assert float(printed["standLRT"]) == pytest.approx(lme4_value(CASE, "fixef", "standLRT"),
                                                       rel=1e-3)
    for word, quantity in (("tau00", "tau00"), ("tau11", "tau11"), ("sigma2", "sigma2")):
        assert float(printed[word]) == pytest.approx(lme4_value(CASE, quantity), rel=1e-3)
    loglik = float(re.search(r"Log-likelihood \(REML\) (\S+)", run.stdout).group(1))
    assert loglik == pytest.approx(lme4_value(CASE, "loglik"), rel=1e-3)


def test_a_sample_of_the_corpus_gets_its_messages_and_a_good_file_loads_after(
        tab, app_server, tmp_path):
    page, errors = tab
    generated = write_generated(tmp_path / "generated")
    open_page(page, app_server)
    choose_your_file(page)
    for name in BROWSER_SAMPLE:
        path = generated.get(name, CORPUS_DIR / name)
        upload(page, path)
        assert not page.locator(bs.EXCEPTION).count(), name
        text = main_text(page)
        fragment = CORPUS[name][0].replace("`", "")
        # Role-dependent messages need the corpus's roles; the reader's own always show.
        if CORPUS[name][1] is None and name not in ("python_code_names.csv",):
            assert fragment in text.replace("\n", " "), (name, fragment, text[:600])
        assert "Traceback" not in text, name
    good = tmp_path / "good.csv"
    good.write_bytes(GOOD_CSV)
    upload(page, good, charts=1)
    assert "Variance components" in main_text(page) or table_values(
        page, "Variance components and fit statistics")
    bs.assert_clean(page, errors, "after the corpus")


def test_two_browser_contexts_never_see_each_others_file(app_server, browser_context, tmp_path):
    secret = tmp_path / "secret.csv"
    secret.write_bytes(SECRET_CSV)
    first = browser_context.new_page()
    other_context = browser_context.browser.new_context(viewport=bs.VIEWPORT)
    bs.install_hooks(other_context)
    second = other_context.new_page()
    try:
        open_page(first, app_server)
        choose_your_file(first)
        upload(first, secret, charts=1)
        assert "alpha_site_1" in first.content()  # the chart's legend, the menus
        open_page(second, app_server, "?yd_data=file")
        assert "secret_cohort" not in second.content()
        good = tmp_path / "good.csv"
        good.write_bytes(GOOD_CSV)
        upload(second, good, charts=1)
        text = second.content()
        assert "secret_cohort" not in text and "alpha_site" not in text
        # The same session's own reload keeps nothing either once the tab is gone.
        first.close()
        third = browser_context.new_page()
        open_page(third, app_server, "?yd_data=file")
        assert "secret_cohort" not in third.content()
        third.close()
    finally:
        second.close()
        other_context.close()
