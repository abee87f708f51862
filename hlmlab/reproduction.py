"""The code a student copies to reproduce a fit: statsmodels (Python) and lme4 (R) text.

Column names are data, never code: in Python they are quoted for patsy (``Q("...")``)
unless they are plain identifiers, in R with backticks unless they are syntactic names.
The text is generated here and nowhere else, for every fit the lessons show: pooled OLS, the
two-level model and the three-level model.
"""

from __future__ import annotations

import keyword
from typing import Sequence

import numpy as np

__all__ = [
    "ols_code",
    "quote_python",
    "quote_r",
    "r_string",
    "three_level_code",
    "three_level_lme4",
    "two_level_code",
    "two_level_lme4",
]


# Names patsy's formula evaluation would read as its own functions, not as a column.
_PATSY_BUILTINS = {"C", "I", "Q", "np", "center", "standardize", "scale", "bs", "cr", "cc",
                   "te", "Treatment", "Sum", "Poly", "Helmert", "Diff"}
_R_RESERVED = {"if", "else", "repeat", "while", "function", "for", "next", "break", "TRUE",
               "FALSE", "NULL", "Inf", "NaN", "NA", "NA_integer_", "NA_real_",
               "NA_character_", "NA_complex_", "in"}


def quote_python(name: str) -> str:
    """A column name as a patsy formula reads it: bare when it is a plain identifier that
    is not a keyword or a patsy function, else ``Q('...')`` with a Python string literal.

    patsy looks names up in the data before its own functions: a column called ``Q`` is
    written bare (it names the column), but it hides ``Q()`` from every other name in the
    same formula. That is one reason the generated scripts build models from arrays.
    """
    if name == "Q" or (name.isidentifier() and name.isascii() and not keyword.iskeyword(name)
                       and name not in _PATSY_BUILTINS):
        return name
    return f"Q({name!r})"


def r_string(text: str) -> str:
    """An R string literal: backslashes, quotes and control characters escaped, and every
    non-ASCII character as ``\\u{...}`` so the script reads the same in any locale."""
    out = []
    for char in text:
        code = ord(char)
        if char in "\\\"":
            out.append("\\" + char)
        elif char == "\n":
            out.append("\\n")
        elif char == "\r":
            out.append("\\r")
        elif char == "\t":
            out.append("\\t")
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\x{code:02x}")
        elif code > 0x7F:
            out.append(f"\\u{{{code:04x}}}" if code <= 0xFFFF else f"\\U{{{code:08x}}}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def quote_r(name: str) -> str:
    """A column name in an R formula: bare when syntactic, else in backticks with
    backslashes, backticks and ASCII control characters escaped (R reads escapes inside
    backticks, but not ``\\u``: other characters are written as they are, in UTF-8)."""
    if name.isascii() and name.replace("_", "a").replace(".", "a").isalnum() \
            and name[0].isalpha() and name not in _R_RESERVED:
        return name
    out = []
    for char in name:
        code = ord(char)
        if char in "\\`":
            out.append("\\" + char)
        elif char in "\n\r\t":
            out.append({"\n": "\\n", "\r": "\\r", "\t": "\\t"}[char])
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\x{code:02x}")
        else:
            out.append(char)
    return "`" + "".join(out) + "`"


def _r_bool(value: bool) -> str:
    return str(bool(value)).upper()


def ols_code(outcome: str, predictors: Sequence[str]) -> str:
    """``smf.ols`` of ``outcome`` on ``predictors``, with the summary printed."""
    formula = quote_python(outcome) + " ~ " + " + ".join(quote_python(c) for c in predictors)
    return (
        "import statsmodels.formula.api as smf\n"
        f"result = smf.ols({formula!r}, data=data).fit()\n"
        "print(result.summary())"
    )


def two_level_code(outcome: str, x_columns: Sequence[str], group: str, random_slope: bool,
                   reml: bool, beta: np.ndarray, cov_re_relative: np.ndarray,
                   singular: bool) -> str:
    """The statsmodels ``mixedlm`` call that reproduces a two-level fit, started where
    HLM Lab's search ended (statsmodels' default start can stop short of the optimum).

    Parameters
    ----------
    outcome, x_columns, group : the model's columns (the first of ``x_columns`` has the
        random slope when ``random_slope``).
    random_slope, reml : the model.
    beta : the fixed effects found, the start of statsmodels' search.
    cov_re_relative : the random-effects covariance over the residual variance.
    singular : the optimum is on the boundary (the code then warns that statsmodels cannot
        reproduce it exactly).
    """
    rhs = " + ".join(quote_python(c) for c in x_columns) or "1"
    formula = f"{quote_python(outcome)} ~ {rhs}"
    re_formula = f", re_formula={'~' + quote_python(x_columns[0])!r}" if random_slope else ""
    fe = ", ".join(f"{b:.12g}" for b in beta)
    cov = ", ".join("[" + ", ".join(f"{c:.12g}" for c in row) + "]" for row in cov_re_relative)
    caveat = (
        "# This optimum is on the boundary (a singular covariance matrix), where statsmodels'\n"
        "# likelihood is not defined: expect warnings and slightly different numbers.\n"
        if singular else ""
    )
    return (
        "import numpy as np\n"
        "import statsmodels.formula.api as smf\n"
        "from statsmodels.regression.mixed_linear_model import MixedLMParams\n\n"
        f"model = smf.mixedlm({formula!r}, data, groups=data[{group!r}]{re_formula})\n"
        "# From statsmodels' default start the optimiser can stop short of the optimum, so\n"
        "# start where HLM Lab's search (checked against lme4's deviance) ended. cov_re is\n"
        "# the random-effects covariance divided by the residual variance.\n"
        f"start = MixedLMParams.from_components(fe_params=np.array([{fe}]),\n"
        f"                                      cov_re=np.array([{cov}]))\n"
        f"{caveat}"
        f"result = model.fit(start_params=start, reml={bool(reml)}, method=['lbfgs'])\n"
        "print(result.summary())"
    )


def _lmer(outcome: str, fixed_terms: Sequence[str], random_terms: Sequence[str],
          reml: bool) -> str:
    """``lmer(outcome ~ fixed + random, ...)``, every name already quoted for R."""
    formula = f"{quote_r(outcome)} ~ {' + '.join(fixed_terms) or '1'} + {' + '.join(random_terms)}"
    return (
        "library(lme4)\n"
        f"fit <- lmer({formula}, data = data, REML = {_r_bool(reml)})\n"
        "summary(fit)"
    )


def two_level_lme4(outcome: str, x_columns: Sequence[str], group: str, random_slope: bool,
                   reml: bool) -> str:
    """The equivalent ``lmer`` call."""
    slope = quote_r(x_columns[0]) if random_slope else "1"
    return _lmer(outcome, [quote_r(c) for c in x_columns], [f"({slope} | {quote_r(group)})"],
                 reml)


def three_level_code(outcome: str, covariates: Sequence[str], categorical: Sequence[str],
                     group: str, subgroup: str, reml: bool) -> str:
    """statsmodels ``mixedlm`` with a variance component for the subgroups nested in groups."""
    terms = [quote_python(c) for c in covariates] + [f"C({quote_python(c)})" for c in categorical]
    formula = f"{quote_python(outcome)} ~ {' + '.join(terms) or '1'}"
    vc = {"pupil": f"0 + C({quote_python(subgroup)})"}
    return (
        "import statsmodels.formula.api as smf\n"
        f"model = smf.mixedlm({formula!r}, data, groups=data[{group!r}],\n"
        f"                    re_formula='1', vc_formula={vc!r})\n"
        f"result = model.fit(reml={bool(reml)}, method=['lbfgs'])\n"
        "print(result.summary())"
    )


def three_level_lme4(outcome: str, covariates: Sequence[str], categorical: Sequence[str],
                     group: str, subgroup: str, reml: bool) -> str:
    """``lmer`` with ``(1 | group) + (1 | group:subgroup)``."""
    terms = [quote_r(c) for c in covariates] + [f"factor({quote_r(c)})" for c in categorical]
    return _lmer(outcome, terms, [f"(1 | {quote_r(group)})",
                                  f"(1 | {quote_r(group)}:{quote_r(subgroup)})"], reml)
