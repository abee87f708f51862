"""Scripts that reproduce a fit from the user's own file, and a CSV of the fit's results.

:func:`python_script` writes a self-contained Python script (pandas, numpy, statsmodels) and
:func:`r_script` an R script (lme4). Each reads the user's file by name exactly as HLM Lab
read it (:class:`~hlmlab.userdata.reading.ReadOptions`: encoding, separator, decimal
commas, sheet), takes the chosen columns *by position* (so a column name can be anything),
keeps the same rows, fits the same model and prints the fixed effects, the variance
components and the log-likelihood.

Every piece of user text in a script is a literal: Python names and the file name through
``repr`` (which never leaves a raw line break, so a name cannot end a comment or a string
and start code), R strings through :func:`hlmlab.reproduction.r_string`, R formula names in backticks through
:func:`hlmlab.reproduction.quote_r`. The Python model is built from arrays; :func:`hlmlab.reproduction.quote_python` gives the quoting
for a formula (``Q('my col')``) where one is shown.
"""

from __future__ import annotations

import csv
import io
import textwrap
from collections.abc import Sequence

import numpy as np
import pandas as pd

from hlmlab.reproduction import quote_python, quote_r, r_string
from hlmlab.userdata.reading import MISSING_TOKENS, ReadOptions, pandas_text_options
from hlmlab.userdata.roles import ColumnRoles
from hlmlab.userdata.table import UserTable
from hlmlab.userdata.text import UserDataError

__all__ = ["python_script", "r_script", "results_csv", "results_table"]

_R_ENCODINGS = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8-BOM", "utf-16": "UTF-16",
                "utf-16-le": "UTF-16LE", "utf-16-be": "UTF-16BE", "utf-32": "UTF-32",
                "cp1252": "CP1252", "latin-1": "latin1"}


# --------------------------------------------------------------------------- quoting


def _shown_in_script(name: str) -> str:
    return name if name.isprintable() else repr(name)


# --------------------------------------------------------------------------- shared parts


def _model_columns(table: UserTable, roles: ColumnRoles) -> list[tuple[str, str]]:
    """(column, how to read it) for outcome, fixed predictors and group, in that order."""
    if not (roles.outcome and roles.predictor and roles.group):
        raise UserDataError("Choose the outcome, the level-1 predictor and the group first.")
    if roles.level3_group:
        raise UserDataError("The scripts reproduce two-level fits; leave the third level out.")
    columns = [(roles.outcome, "numbers"), (roles.predictor, "numbers")]
    if roles.level2_predictor:
        columns.append((roles.level2_predictor, "numbers"))
    columns.append((roles.group, "numbers" if table.is_number_column(roles.group) else "cells"))
    return columns


def _fixed_names(roles: ColumnRoles) -> list[str]:
    return [c for c in (roles.predictor, roles.level2_predictor) if c]


def _rows_literal(rows: Sequence[int] | None, indent: str) -> str | None:
    if rows is None:
        return None
    body = ", ".join(str(int(r)) for r in sorted(rows))
    return textwrap.fill(body, width=96, initial_indent=indent, subsequent_indent=indent)


def _python_read(options: ReadOptions) -> str:
    if options.kind == "text":
        arguments = pandas_text_options(options)
        arguments = {"encoding": options.encoding, **arguments}
        listed = ", ".join(f"{key}={value!r}" if not isinstance(value, type) else f"{key}=str"
                           for key, value in arguments.items())
        return (f"table = pd.read_csv(FILE, {listed})\n"
                "# A header one field shorter than the rows (R's write.table) puts row names\n"
                "# in the index: they are not data.\n"
                "table = table.reset_index(drop=True)\n")
    if options.kind in ("excel", "xls"):
        engine = "openpyxl" if options.kind == "excel" else "xlrd"
        return (f"table = pd.read_excel(FILE, sheet_name={options.sheet!r}, header=None, "
                f"dtype=object, engine={engine!r})\n"
                "table = table.iloc[1:].reset_index(drop=True)  # the first row holds the names\n")
    if options.kind == "stata":
        return "table = pd.read_stata(FILE, convert_categoricals=False)\n"
    return "table = pd.read_spss(FILE, convert_categoricals=False)\n"


_PYTHON_CELLS = '''

def cell_text(value):
    """A cell as text, as HLM Lab reads it (whole numbers from a spreadsheet without .0)."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    return str(value)


def cells(position):
    """The column at this position as text: spaces trimmed, missing-value codes as NaN."""
    column = table.iloc[:, position]
    if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
        return column.astype(float)
    text = column.map(cell_text, na_action="ignore").astype("str").str.strip()
    return text.where(column.notna() & ~text.isin(MISSING))


def numbers(position):
    """The column at this position as numbers; stops on a cell that is not a number."""
    text = cells(position)
    if pd.api.types.is_float_dtype(text):
        return text
    if DECIMAL_COMMA:
        text = text.str.replace(",", ".", regex=False)
    return pd.to_numeric(text, errors="raise").astype(float)
'''


def python_script(table: UserTable, roles: ColumnRoles, *, random_slope: bool, reml: bool,
                  rows: Sequence[int] | None = None, start=None) -> str:
    """A self-contained Python script that refits the model from the user's file.

    Parameters
    ----------
    table : the user's table (its file name and read options are used).
    roles : outcome, predictor, group and, optionally, a level-2 predictor.
    random_slope, reml : the model, as in :func:`hlmlab.twolevel.fit_multilevel`.
    rows : the file's data rows (from 0) the fit used, when it used a subsample.
    start : a :class:`~hlmlab.twolevel.MultilevelFit` of the same model: its optimum becomes a
        second starting point (statsmodels' default start can stop short of the optimum);
        the script keeps whichever start ends with the higher log-likelihood.

    Returns
    -------
    str
        Python source. Run in the folder holding the file, it prints the fixed effects,
        the variance components and the log-likelihood.
    """
    columns = _model_columns(table, roles)
    fixed = _fixed_names(roles)
    options = table.raw.options
    data_lines = "\n".join(
        f"    {name!r}: {how}({table.position(name)}),  # column {table.position(name) + 1}"
        for name, how in columns)
    keep = _rows_literal(rows, "    ")
    keep_block = (f"# HLM Lab's subsample: the file's data rows (counted from 0) the fit used.\n"
                  f"KEEP = [\n{keep}\n]\ndata = data.loc[KEEP]\n") if keep else ""
    start_block = ""
    if start is not None:
        variance = start.variance
        sigma2 = variance["sigma2"]
        if random_slope:
            cov = [[variance["tau00"], variance["tau01"]], [variance["tau01"], variance["tau11"]]]
        else:
            cov = [[variance["tau00"]]]
        relative = ", ".join("[" + ", ".join(f"{c / sigma2:.17g}" for c in row) + "]"
                             for row in cov)
        fe = ", ".join(f"{b:.17g}" for b in start.fixed)
        start_block = (
            "# HLM Lab's optimum (checked against lme4's deviance), a second start: statsmodels'\n"
            "# default start can stop short of the optimum. cov_re is relative to the\n"
            "# residual variance.\n"
            f"START = MixedLMParams.from_components(fe_params=np.array([{fe}]),\n"
            f"                                      cov_re=np.array([{relative}]))\n"
            "starts.append(START)\n")
    slope_lines = ("print(f\"  {'tau11 (slope variance)':<34} {cov[1, 1]:.12g}\")\n"
                   "print(f\"  {'tau01 (intercept-slope covariance)':<34} {cov[0, 1]:.12g}\")\n"
                   if random_slope else "")
    source = (
        f'"""Refit HLM Lab\'s multilevel model from the file {table.filename!r}.\n\n'
        "Generated by HLM Lab. Run it in the folder that holds the file:\n"
        "    python3 this_script.py\n"
        "Needs pandas, numpy and statsmodels"
        + {"excel": " (and openpyxl for .xlsx)", "xls": " (and xlrd for .xls)",
           "spss": " (and pyreadstat for .sav)"}.get(options.kind, "") + ".\n"
        '"""\n\n'
        "import numpy as np\n"
        "import pandas as pd\n"
        "from statsmodels.regression.mixed_linear_model import MixedLM, MixedLMParams\n\n"
        f"FILE = {table.filename!r}\n"
        f"MISSING = {MISSING_TOKENS!r}  # cells read as missing\n"
        f"DECIMAL_COMMA = {options.decimal_comma!r}\n"
        f"REML = {bool(reml)!r}\n"
        f"RANDOM_SLOPE = {bool(random_slope)!r}\n\n"
        "# Read the file as HLM Lab did.\n"
        + _python_read(options)
        + _PYTHON_CELLS
        + "\n\n# The model's columns, taken by their position in the file; the names are labels.\n"
        "data = pd.DataFrame({\n" + data_lines + "\n})\n"
        + keep_block
        + "data = data.dropna()  # rows with a missing value in a model column are left out\n\n"
        f"OUTCOME = {roles.outcome!r}\n"
        f"FIXED = {fixed!r}  # fixed-effect predictors after the intercept\n"
        f"GROUP = {roles.group!r}\n"
        "y = data[OUTCOME].to_numpy(dtype=float)\n"
        "X = np.column_stack([np.ones(len(data))] + [data[c].to_numpy(dtype=float) for c in FIXED])\n"
        "Z = X[:, :2] if RANDOM_SLOPE else X[:, :1]  # random intercept (and slope of FIXED[0])\n"
        "model = MixedLM(y, X, groups=data[GROUP].to_numpy(), exog_re=Z)\n\n"
        "starts = [None]  # statsmodels' own start\n"
        + start_block
        + "fits = []\n"
        "for start in starts:\n"
        "    try:\n"
        "        # From its own start, statsmodels' default optimisers; from a given one, lbfgs.\n"
        "        method = None if start is None else ['lbfgs']\n"
        "        fits.append(model.fit(start_params=start, reml=REML, method=method))\n"
        "    except (np.linalg.LinAlgError, ValueError) as error:\n"
        "        print('A start failed:', error)\n"
        "# A log-likelihood of +inf or NaN is statsmodels failing, not an optimum.\n"
        "fits = [fit for fit in fits if np.isfinite(fit.llf)]\n"
        "if not fits:\n"
        "    raise SystemExit('statsmodels found no optimum with a finite log-likelihood.')\n"
        "result = max(fits, key=lambda fit: fit.llf)\n\n"
        "def label(name):\n"
        "    return name if name.isprintable() else repr(name)\n\n"
        "print(result.summary())\n"
        "print('Fixed effects')\n"
        "for name, value in zip(['Intercept'] + FIXED, np.asarray(result.fe_params)):\n"
        "    print(f'  {label(name):<34} {value:.12g}')\n"
        "cov = np.atleast_2d(np.asarray(result.cov_re, dtype=float))\n"
        "print('Variance components')\n"
        "print(f\"  {'tau00 (intercept variance)':<34} {cov[0, 0]:.12g}\")\n"
        + slope_lines
        + "print(f\"  {'sigma2 (residual variance)':<34} {result.scale:.12g}\")\n"
        "print(f\"Log-likelihood ({'REML' if REML else 'ML'}) {result.llf:.12g}\")\n"
    )
    compile(source, "<generated script>", "exec")  # a bug here must never reach a user
    return source


def _r_read(options: ReadOptions) -> str:
    if options.kind == "text":
        sep = "" if options.delimiter == r"\s+" else options.delimiter
        encoding = _R_ENCODINGS[options.encoding]
        return (
            f"table <- read.table(file, header = TRUE, sep = {r_string(sep)}, quote = \"\\\"\",\n"
            f"                    fileEncoding = {r_string(encoding)}, colClasses = \"character\",\n"
            "                    check.names = FALSE, na.strings = character(0),\n"
            "                    strip.white = TRUE, comment.char = \"\", blank.lines.skip = TRUE)\n"
            "rownames(table) <- NULL  # R's row names, if the file has them, are not data\n")
    if options.kind in ("excel", "xls"):
        return (f"table <- readxl::read_excel(file, sheet = {r_string(options.sheet)}, "
                "col_names = FALSE, col_types = \"text\")\n"
                "table <- as.data.frame(table)[-1, , drop = FALSE]  # the first row holds the names\n")
    reader = "read_dta" if options.kind == "stata" else "read_sav"
    return f"table <- as.data.frame(haven::{reader}(file))\n"


def r_script(table: UserTable, roles: ColumnRoles, *, random_slope: bool, reml: bool,
             rows: Sequence[int] | None = None) -> str:
    """An R script (lme4) that refits the model from the user's file.

    Parameters are those of :func:`python_script` (without ``start``: lme4's optimiser
    finds the optimum on its own). The formula quotes names with backticks
    (:func:`hlmlab.reproduction.quote_r`); the data frame's names are set from R string literals
    (:func:`hlmlab.reproduction.r_string`).

    Returns
    -------
    str
        R source. Run with ``Rscript`` in the folder holding the file, it prints lme4's
        summary, then the fixed effects, variance components and log-likelihood.
    """
    columns = _model_columns(table, roles)
    fixed = _fixed_names(roles)
    options = table.raw.options
    reader = {"numbers": "numbers", "cells": "cells"}
    data_lines = ",\n".join(f"  {reader[how]}({table.position(name) + 1})" for name, how in columns)
    names = ", ".join(r_string(name) for name, _ in columns)
    keep = _rows_literal(rows, "  ")
    keep_block = (f"# HLM Lab's subsample: the file's data rows (counted from 0) the fit used.\n"
                  f"keep <- c(\n{keep}\n)\ndata <- data[keep + 1, , drop = FALSE]\n") if keep else ""
    rhs = " + ".join(quote_r(c) for c in fixed)
    random = f"(1 + {quote_r(roles.predictor)} | {quote_r(roles.group)})" if random_slope \
        else f"(1 | {quote_r(roles.group)})"
    formula = f"{quote_r(roles.outcome)} ~ 1 + {rhs} + {random}"
    labels = ", ".join(r_string(name) for name in ["Intercept", *fixed])
    missing = ", ".join(r_string(token) for token in MISSING_TOKENS)
    slope_lines = ("cat(sprintf(\"  %-34s %.12g\\n\", \"tau11 (slope variance)\", vc[2, 2]))\n"
                   "cat(sprintf(\"  %-34s %.12g\\n\", \"tau01 (intercept-slope covariance)\", "
                   "vc[1, 2]))\n" if random_slope else "")
    return (
        f"# Refit HLM Lab's multilevel model from the file {_r_comment(table.filename)}.\n"
        "# Generated by HLM Lab. Run it in the folder that holds the file:\n"
        "#     Rscript this_script.R\n"
        "# Needs lme4" + {"excel": " and readxl", "xls": " and readxl",
                          "stata": " and haven", "spss": " and haven"}.get(options.kind, "")
        + ".\n"
        "suppressPackageStartupMessages(library(lme4))\n\n"
        f"file <- {r_string(table.filename)}\n"
        f"missing_codes <- c({missing})  # cells read as missing\n"
        f"decimal_comma <- {'TRUE' if options.decimal_comma else 'FALSE'}\n\n"
        "# Read the file as HLM Lab did.\n"
        + _r_read(options)
        + "\ncells <- function(position) {\n"
        "  column <- table[[position]]\n"
        "  if (is.numeric(column)) return(as.numeric(column))\n"
        "  text <- trimws(as.character(column))\n"
        "  text[text %in% missing_codes] <- NA\n"
        "  text\n"
        "}\n"
        "numbers <- function(position) {\n"
        "  text <- cells(position)\n"
        "  if (is.numeric(text)) return(text)\n"
        "  if (decimal_comma) text <- gsub(\",\", \".\", text, fixed = TRUE)\n"
        "  value <- suppressWarnings(as.numeric(text))\n"
        "  if (any(is.na(value) & !is.na(text))) stop(\"column \", position, \" holds text\")\n"
        "  value\n"
        "}\n\n"
        "# The model's columns, taken by their position in the file.\n"
        "data <- data.frame(\n" + data_lines + ",\n  check.names = FALSE, stringsAsFactors = FALSE\n)\n"
        f"names(data) <- c({names})\n"
        + keep_block
        + "data <- data[complete.cases(data), , drop = FALSE]\n\n"
        f"fit <- lmer({formula},\n"
        f"            data = data, REML = {'TRUE' if reml else 'FALSE'})\n"
        "print(summary(fit))\n"
        f"labels <- c({labels})\n"
        "fe <- fixef(fit)\n"
        "vc <- as.matrix(VarCorr(fit)[[1]])\n"
        "cat(\"Fixed effects\\n\")\n"
        "for (i in seq_along(fe)) cat(sprintf(\"  %-34s %.12g\\n\", encodeString(labels[i]), fe[[i]]))\n"
        "cat(\"Variance components\\n\")\n"
        "cat(sprintf(\"  %-34s %.12g\\n\", \"tau00 (intercept variance)\", vc[1, 1]))\n"
        + slope_lines
        + "cat(sprintf(\"  %-34s %.12g\\n\", \"sigma2 (residual variance)\", sigma(fit)^2))\n"
        f"cat(sprintf(\"Log-likelihood ({'REML' if reml else 'ML'}) %.12g\\n\", "
        "as.numeric(logLik(fit))))\n"
    )


def _r_comment(text: str) -> str:
    """Text safe inside an R comment: a string literal (never a raw line break)."""
    return r_string(text)


# --------------------------------------------------------------------------- results


def results_table(fit) -> pd.DataFrame:
    """A fit's results in one long table, as the results CSV holds them.

    Parameters
    ----------
    fit : :class:`~hlmlab.twolevel.MultilevelFit`.

    Returns
    -------
    DataFrame with columns ``section, group, term, estimate, std_error, n``: the fixed
    effects (lme4-style standard errors), the variance components (tau00, tau11, tau01,
    sigma2, and the log-likelihood), and each group's estimates (its conditional modes
    ``u0``/``u1`` with conditional SDs, and its own intercept and slope).
    """
    rows = [{"section": "fixed effect", "group": "", "term": term,
             "estimate": float(fit.fixed[term]), "std_error": float(fit.fixed_se[term]),
             "n": fit.n_obs} for term in fit.fixed.index]
    for key, value in fit.variance.items():
        if np.isfinite(value):
            rows.append({"section": "variance component", "group": "", "term": key,
                         "estimate": float(value), "std_error": np.nan, "n": fit.n_groups})
    rows.append({"section": "fit", "group": "", "term": "log-likelihood (REML)" if fit.reml
                 else "log-likelihood (ML)", "estimate": fit.loglik, "std_error": np.nan,
                 "n": fit.n_obs})
    terms = [("u0", "u0_sd"), ("intercept", None)]
    if fit.random_slope:
        terms[1:1] = [("u1", "u1_sd")]
    if fit.predictor:
        terms.append(("slope", None))
    for label, row in fit.blups.iterrows():
        for term, sd in terms:
            rows.append({"section": "group", "group": str(label), "term": term,
                         "estimate": float(row[term]),
                         "std_error": float(row[sd]) if sd else np.nan, "n": int(row["n"])})
    return pd.DataFrame(rows, columns=["section", "group", "term", "estimate", "std_error", "n"])


_FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def _spreadsheet_safe(text: str) -> str:
    """Text a spreadsheet will not run as a formula (a name like ``=HYPERLINK(...)``):
    prefixed with an apostrophe when it starts like one and is not a plain number."""
    if text.startswith(_FORMULA_TRIGGERS):
        try:
            float(text)
        except ValueError:
            return "'" + text
    return text


def results_csv(fit) -> str:
    """:func:`results_table` as CSV text (UTF-8), safe to open in a spreadsheet: a group
    label or term that starts like a formula (``=``, ``+``, ``-``, ``@``) is prefixed with
    an apostrophe; numbers keep 17 significant digits."""
    table = results_table(fit)
    for column in ("group", "term"):
        table[column] = table[column].map(_spreadsheet_safe)
    buffer = io.StringIO()
    table.to_csv(buffer, index=False, float_format="%.17g", quoting=csv.QUOTE_NONNUMERIC)
    return buffer.getvalue()
