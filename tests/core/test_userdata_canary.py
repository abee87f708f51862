"""The canary: no file's content is ever executed.

The corpus files whose names and values are Python, R, patsy, spreadsheet or shell code are
written with a temporary marker path in them. Each is read, profiled, given roles (the
code-bearing columns in every role), fitted, turned into Python and R scripts and a results
CSV, and the scripts are run. Any evaluation of any name or value would create the marker;
the test fails if it exists.
"""

from __future__ import annotations

import shutil
import subprocess
import sys

import pandas as pd
import pytest

from corpus_files import MARKER_PLACEHOLDER, small_files
from hlmlab.twolevel import fit_multilevel
from hlmlab.userdata import (
    ColumnRoles,
    check_roles,
    model_data,
    profile_columns,
    propose_roles,
    read_user_path,
)
from hlmlab.userdata.scripts import python_script, r_script, results_csv

CODE_FILES = ["python_code_names.csv", "r_code_names.csv", "newline_in_name.csv",
              "spaces_and_quotes_in_names.csv", "markdown_and_html_names.csv",
              "html_in_values.csv", "formula_values.csv"]
HAS_R = shutil.which("Rscript") is not None
# R reads these too (the R-quoting cases; an R run takes a few seconds).
R_FILES = {"r_code_names.csv", "newline_in_name.csv", "spaces_and_quotes_in_names.csv",
           "markdown_and_html_names.csv"}


def run(command, folder):
    return subprocess.run(command, cwd=folder, capture_output=True, text=True, timeout=300,
                          env={"OPENBLAS_NUM_THREADS": "1", "PATH": "/usr/bin:/bin",
                               "HOME": str(folder), "LANG": "C.UTF-8"})


@pytest.mark.parametrize("name", CODE_FILES)
def test_no_content_is_ever_executed(name, tmp_path):
    marker = tmp_path / "MARKER"
    path = tmp_path / name
    path.write_bytes(small_files()[name].replace(MARKER_PLACEHOLDER.encode(), str(marker).encode()))
    table = read_user_path(path)
    profile_columns(table)
    proposed = propose_roles(table)
    check_roles(table, proposed)
    # The file's first three columns are its group, predictor and outcome; in the Markdown
    # file the hostile names are further right.
    columns = list(table.frame.columns)
    group, predictor, outcome = (columns[0], columns[4], columns[5]) \
        if name == "markdown_and_html_names.csv" else columns[:3]
    roles = ColumnRoles(outcome=outcome, predictor=predictor, group=group)
    if not check_roles(table, roles).ok:  # e.g. text in the outcome: the message is the answer
        assert not marker.exists()
        return
    rows = model_data(table, roles)
    fit = fit_multilevel(rows, outcome, predictor, group, random_slope=False)
    results_csv(fit)
    (tmp_path / "refit.py").write_text(python_script(table, roles, random_slope=False, reml=True,
                                                     start=fit))
    completed = run([sys.executable, "refit.py"], tmp_path)
    assert completed.returncode == 0, completed.stderr[-2000:]
    if HAS_R and name in R_FILES:
        (tmp_path / "refit.R").write_text(r_script(table, roles, random_slope=False, reml=True),
                                          encoding="utf-8")
        completed = run(["Rscript", "refit.R"], tmp_path)
        assert completed.returncode == 0, completed.stderr[-2000:]
    assert not marker.exists()


def test_canary_would_sing(tmp_path):
    """The marker path really is in the files, and executing a name would create it."""
    marker = tmp_path / "MARKER"
    content = small_files()["python_code_names.csv"].replace(
        MARKER_PLACEHOLDER.encode(), str(marker).encode())
    name = pd.read_csv(pd.io.common.BytesIO(content)).columns[2]
    eval(name)  # noqa: S307 - the test's own control: this is what the app must never do
    assert marker.exists()
