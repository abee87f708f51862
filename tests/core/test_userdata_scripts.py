"""The generated Python and R scripts refit the model from the user's own file.

Each script is written next to a data file, run in a subprocess from that folder, and its
printed fixed effects, variance components and log-likelihood are compared with
``hlmlab.twolevel.fit_multilevel`` on the same rows (Python: relative 1e-6) and with lme4's
committed reference values (tests/reference/lme4_reference.csv, cases exam_rs_reml and
exam_rs_ml: normexam ~ standLRT + (standLRT | school) on mlmRev's Exam; relative 1e-3, with
near-zero values on the scale of their standard error as in test_reference_lme4.py). The R
script runs only where ``Rscript`` with lme4 is installed (CI has no R).

Hostile column names (Python and R code, quotes, backticks, backslashes, a line break) and a
semicolon-separated, decimal-comma, Windows-1252 file check the quoting; a canary marker file
that any evaluated name would create must never appear.
"""

from __future__ import annotations

import math
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hlmlab import datasets
from hlmlab.twolevel import fit_multilevel
from hlmlab.userdata import ColumnRoles, model_data, read_user_path, subsample
from hlmlab.reproduction import quote_python, quote_r, r_string
from hlmlab.userdata.scripts import (
    python_script,
    r_script,
    results_csv,
    results_table,
)

REFERENCE = pd.read_csv(Path(__file__).resolve().parents[1] / "reference" / "lme4_reference.csv",
                        keep_default_na=False)
EXAM_ROLES = ColumnRoles(outcome="normexam", predictor="standLRT", group="school")
HAS_R = shutil.which("Rscript") is not None and subprocess.run(
    ["Rscript", "-e", "library(lme4)"], capture_output=True).returncode == 0 \
    if shutil.which("Rscript") else False


def run(command: list[str], folder: Path) -> str:
    completed = subprocess.run(command, cwd=folder, capture_output=True, text=True, timeout=300,
                               env={"OPENBLAS_NUM_THREADS": "1", "PATH": "/usr/bin:/bin",
                                    "HOME": str(folder), "LANG": "C.UTF-8"})
    assert completed.returncode == 0, completed.stderr[-3000:]
    return completed.stdout


def printed_estimates(output: str) -> dict[str, float]:
    """The script's closing printout: fixed effects by position, then the variances."""
    lines = output[output.rindex("Fixed effects"):].splitlines()
    values: dict[str, float] = {}
    section = None
    fixed = 0
    for line in lines:
        if line in ("Fixed effects", "Variance components"):
            section = line
            continue
        if line.startswith("Log-likelihood"):
            values["loglik"] = float(line.split()[-1])
            continue
        number = float(line.split()[-1])
        if section == "Fixed effects":
            values[f"fixed{fixed}"] = number
            fixed += 1
        else:
            values[re.match(r"\s+(\w+)", line).group(1)] = number
    return values


def fit_values(fit) -> dict[str, float]:
    values = {f"fixed{i}": float(v) for i, v in enumerate(fit.fixed)}
    values.update({k: float(v) for k, v in fit.variance.items() if np.isfinite(v)})
    values["loglik"] = fit.loglik
    return values


def assert_close(printed: dict, expected: dict, rtol: float, scales: dict | None = None) -> None:
    assert set(printed) == set(expected), (printed, expected)
    for key, value in expected.items():
        atol = rtol * (scales or {}).get(key, 0.0)
        assert printed[key] == pytest.approx(value, rel=rtol, abs=atol), key


@pytest.fixture(scope="module")
def exam_folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("exam")
    exam = datasets.load_reference("exam")
    exam.to_csv(folder / "exam.csv", index=False, float_format="%.17g")
    return folder


def lme4_reference(case: str, fit) -> tuple[dict, dict]:
    rows = REFERENCE[REFERENCE["case"] == case]
    get = {(r.quantity, r.term): float(r.value) for r in rows.itertuples()}
    values = {"fixed0": get[("fixef", "Intercept")], "fixed1": get[("fixef", "standLRT")],
              "tau00": get[("tau00", "")], "tau11": get[("tau11", "")],
              "tau01": get[("tau01", "")], "sigma2": get[("sigma2", "")],
              "loglik": get[("loglik", "")]}
    scales = {"fixed0": get[("se", "Intercept")], "fixed1": get[("se", "standLRT")],
              "tau01": math.sqrt(values["tau00"] * values["tau11"])}
    return values, scales


@pytest.mark.parametrize("reml", [True, False], ids=["REML", "ML"])
def test_python_script_reproduces_exam(exam_folder, reml):
    table = read_user_path(exam_folder / "exam.csv")
    rows = model_data(table, EXAM_ROLES)
    fit = fit_multilevel(rows, "normexam", "standLRT", "school", random_slope=True, reml=reml)
    script = exam_folder / f"exam_{reml}.py"
    script.write_text(python_script(table, EXAM_ROLES, random_slope=True, reml=reml, start=fit))
    printed = printed_estimates(run([sys.executable, script.name], exam_folder))
    assert_close(printed, fit_values(fit), 1e-6)
    reference, scales = lme4_reference("exam_rs_reml" if reml else "exam_rs_ml", fit)
    assert_close(printed, reference, 1e-3, scales)


def test_python_script_needs_no_start(exam_folder):
    """Without HLM Lab's optimum as a start, statsmodels' own start (its lbfgs alone returns
    a log-likelihood of +inf here, which the script refuses) still ends at the optimum within
    the project's 1e-3 (fixed effects on the scale of their standard errors): the start only
    sharpens the agreement to 1e-6."""
    table = read_user_path(exam_folder / "exam.csv")
    fit = fit_multilevel(model_data(table, EXAM_ROLES), "normexam", "standLRT", "school",
                         random_slope=False)
    script = exam_folder / "exam_no_start.py"
    script.write_text(python_script(table, EXAM_ROLES, random_slope=False, reml=True))
    scales = {f"fixed{i}": float(se) for i, se in enumerate(fit.fixed_se)}
    assert_close(printed_estimates(run([sys.executable, script.name], exam_folder)),
                 fit_values(fit), 1e-3, scales)


def test_python_script_reproduces_a_subsample(exam_folder):
    table = read_user_path(exam_folder / "exam.csv")
    rows = subsample(model_data(table, EXAM_ROLES), "school", 20, 15, seed=5)
    fit = fit_multilevel(rows, "normexam", "standLRT", "school", random_slope=True)
    script = exam_folder / "exam_sample.py"
    script.write_text(python_script(table, EXAM_ROLES, random_slope=True, reml=True,
                                    rows=rows.index, start=fit))
    assert_close(printed_estimates(run([sys.executable, script.name], exam_folder)),
                 fit_values(fit), 1e-6)


HOSTILE = {
    "outcome": "__import__('os').system('touch {marker}')",
    "predictor": "it's \"x\" `I(x)` back\\slash\nsystem(\"touch {marker}\")",
    "level2": "C(x) + Q('y') ~ $x^2$ [a](http://evil.example) é",
    "group": "`school`\t=cmd|' /C calc'!A0",
}


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """Exam with hostile names, written as semicolon-separated Windows-1252 text with decimal
    commas (the read options the scripts must repeat)."""
    folder = tmp_path_factory.mktemp("hostile")
    marker = folder / "MARKER"
    names = {key: value.format(marker=marker) for key, value in HOSTILE.items()}
    exam = datasets.load_reference("exam")
    frame = pd.DataFrame({names["group"]: exam["school"], names["outcome"]: exam["normexam"],
                          names["predictor"]: exam["standLRT"], names["level2"]: exam["schavg"]})
    frame.to_csv(folder / "données d'examen.csv", index=False, sep=";", decimal=",",
                 float_format="%.17g", encoding="cp1252")
    roles = ColumnRoles(outcome=names["outcome"], predictor=names["predictor"],
                        group=names["group"], level2_predictor=names["level2"])
    table = read_user_path(folder / "données d'examen.csv")
    assert table.raw.options.decimal_comma and table.raw.options.encoding == "cp1252"
    return folder, marker, table, roles


def test_python_script_with_hostile_names(hostile):
    folder, marker, table, roles = hostile
    rows = model_data(table, roles)
    fit = fit_multilevel(rows, roles.outcome, roles.predictor, roles.group, random_slope=True,
                         covariates=[roles.level2_predictor])
    script = folder / "hostile.py"
    script.write_text(python_script(table, roles, random_slope=True, reml=True, start=fit))
    assert_close(printed_estimates(run([sys.executable, script.name], folder)), fit_values(fit),
                 1e-6)
    assert not marker.exists()


@pytest.mark.skipif(not HAS_R, reason="Rscript with lme4 is not installed (CI has no R)")
def test_r_script_reproduces_exam_and_lme4(exam_folder):
    table = read_user_path(exam_folder / "exam.csv")
    script = exam_folder / "exam.R"
    script.write_text(r_script(table, EXAM_ROLES, random_slope=True, reml=True))
    printed = printed_estimates(run(["Rscript", script.name], exam_folder))
    fit = fit_multilevel(model_data(table, EXAM_ROLES), "normexam", "standLRT", "school")
    reference, scales = lme4_reference("exam_rs_reml", fit)
    assert_close(printed, reference, 1e-3, scales)


@pytest.mark.skipif(not HAS_R, reason="Rscript with lme4 is not installed (CI has no R)")
def test_r_script_with_hostile_names_and_subsample(hostile):
    folder, marker, table, roles = hostile
    rows = subsample(model_data(table, roles), roles.group, 40, 30, seed=2)
    fit = fit_multilevel(rows, roles.outcome, roles.predictor, roles.group, random_slope=False,
                         reml=False, covariates=[roles.level2_predictor])
    script = folder / "hostile.R"
    script.write_text(r_script(table, roles, random_slope=False, reml=False, rows=rows.index),
                      encoding="utf-8")
    printed = printed_estimates(run(["Rscript", script.name], folder))
    scales = {f"fixed{i}": float(se) for i, se in enumerate(fit.fixed_se)}
    assert_close(printed, fit_values(fit), 1e-3, scales)
    assert not marker.exists()


def test_quoting_helpers():
    assert quote_python("math") == "math"
    for name in ("my col", "C", "I", "lambda", "np", "x'y", "é"):
        assert quote_python(name).startswith("Q(")
    assert quote_r("normexam") == "normexam"
    assert quote_r("my col") == "`my col`"
    assert quote_r("a`b\\c\nd") == "`a\\`b\\\\c\\nd`"
    assert quote_r("TRUE") == "`TRUE`" and quote_r("_x") == "`_x`" and quote_r("2x") == "`2x`"
    assert r_string('a"b\\c\né') == '"a\\"b\\\\c\\n\\u{00e9}"'


def test_patsy_quoting_reads_columns_and_runs_nothing(tmp_path):
    """patsy evaluates formula code: every hostile name, quoted, must only name its column.
    (A column called Q would hide patsy's Q(): see quote_python.)"""
    import patsy

    marker = tmp_path / "MARKER"
    names = [value.format(marker=marker) for value in HOSTILE.values()] + ["C", "I", "np", "if"]
    frame = pd.DataFrame({name: np.arange(4.0) + i for i, name in enumerate(names)})
    formula = " + ".join(quote_python(name) for name in names)
    design = patsy.dmatrix(formula, frame, return_type="dataframe")
    assert design.shape == (4, len(names) + 1)
    assert not marker.exists()


def test_results_csv(exam_folder):
    table = read_user_path(exam_folder / "exam.csv")
    fit = fit_multilevel(model_data(table, EXAM_ROLES), "normexam", "standLRT", "school")
    results = results_table(fit)
    fixed = results[results["section"] == "fixed effect"].set_index("term")
    assert fixed["estimate"].to_dict() == pytest.approx(fit.fixed.to_dict(), rel=1e-15)
    groups = results[results["section"] == "group"]
    assert groups["group"].nunique() == 65 and set(groups["term"]) == {
        "u0", "u1", "intercept", "slope"}
    text = results_csv(fit)
    back = pd.read_csv(pd.io.common.StringIO(text), keep_default_na=False)
    assert len(back) == len(results)
    assert back.loc[back["term"] == "sigma2", "estimate"].item() == fit.variance["sigma2"]


def test_results_csv_defuses_spreadsheet_formulas():
    frame = pd.DataFrame({"y": [1.0, 2.1, 2.9, 4.2, 0.5, 1.4, 2.2, 3.1],
                          "x": [1.0, 2.0, 3.0, 4.0, 1.0, 2.0, 3.0, 4.0],
                          "g": ["=1+1", "=1+1", "=1+1", "=1+1", "-7", "-7", "-7", "-7"]})
    fit = fit_multilevel(frame, "y", "x", "g", random_slope=False)
    text = results_csv(fit)
    assert "\"'=1+1\"" in text and "\"-7\"" in text


@pytest.mark.parametrize("extension", [".xlsx", ".dta", ".sav", ".tsv"])
def test_scripts_read_every_format(tmp_path, extension):
    """lme4's sleepstudy (Reaction ~ Days + (Days | Subject)) saved as a workbook, Stata,
    SPSS and UTF-16 tab-separated text: the Python script reads each as HLM Lab did (1e-6 of
    fit_multilevel), the R script too where R runs (lme4's reference, 1e-3)."""
    sleep = datasets.load_reference("sleepstudy")
    path = tmp_path / f"sleep{extension}"
    if extension == ".xlsx":
        sleep.to_excel(path, index=False, sheet_name="Sleep data")
    elif extension == ".dta":
        sleep.to_stata(path, write_index=False)
    elif extension == ".sav":
        import pyreadstat

        pyreadstat.write_sav(sleep, str(path))
    else:
        path.write_bytes(sleep.to_csv(index=False, sep="\t", float_format="%.17g").encode("utf-16"))
    roles = ColumnRoles(outcome="Reaction", predictor="Days", group="Subject")
    table = read_user_path(path)
    fit = fit_multilevel(model_data(table, roles), "Reaction", "Days", "Subject")
    (tmp_path / "refit.py").write_text(python_script(table, roles, random_slope=True, reml=True,
                                                     start=fit))
    assert_close(printed_estimates(run([sys.executable, "refit.py"], tmp_path)), fit_values(fit),
                 1e-6)
    if HAS_R:
        (tmp_path / "refit.R").write_text(r_script(table, roles, random_slope=True, reml=True))
        scales = {f"fixed{i}": float(se) for i, se in enumerate(fit.fixed_se)}
        scales["tau01"] = math.sqrt(fit.variance["tau00"] * fit.variance["tau11"])
        assert_close(printed_estimates(run(["Rscript", "refit.R"], tmp_path)), fit_values(fit),
                     1e-3, scales)
