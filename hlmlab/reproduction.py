"""The code a student copies to reproduce a fit: statsmodels (Python) and lme4 (R) text.

Column names are data, never code: in Python they are quoted for patsy (``Q("...")``)
unless they are plain identifiers, in R with backticks unless they are syntactic names.
The text is generated here and nowhere else, for every fit the lessons show: pooled OLS, the
two-level model and the three-level model.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

__all__ = [
    "ols_code",
    "quote_python",
    "quote_r",
    "three_level_code",
    "three_level_lme4",
    "two_level_code",
    "two_level_lme4",
]


def quote_python(name: str) -> str:
    """A column name as patsy reads it: bare when it is a plain identifier, else Q('...')."""
    return name if name.isidentifier() else f"Q({name!r})"


def quote_r(name: str) -> str:
    """A column name as R reads it in a formula: bare when syntactic, else in backticks."""
    plain = name.replace("_", "a").replace(".", "a").isalnum() and not name[0].isdigit()
    return name if plain else "`" + name.replace("`", "\\`") + "`"


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
