"""hlmlab.reproduction: the statsmodels and lme4 code shown beside every fit.

The generated Python is run here (it is our own text, built from quoted names) and must
reproduce the fit's numbers: fixed effects at relative 1e-3 and the log-likelihood at 1e-4,
the tolerances at which the page shows them.
"""

from __future__ import annotations

import numpy as np
import pytest

from hlmlab.ols import fit_pooled
from hlmlab.reproduction import quote_python, quote_r, three_level_lme4
from hlmlab.threelevel import fit_three_level
from hlmlab.twolevel import fit_multilevel


def run(code: str, data) -> dict:
    namespace = {"data": data}
    exec(code.replace("print(result.summary())", ""), namespace)  # our own generated text
    return namespace


def test_quoting_keeps_plain_names_bare_and_quotes_the_rest():
    assert quote_python("math") == "math" and quote_python("math score") == "Q('math score')"
    assert quote_r("mAch") == "mAch" and quote_r("a.b_c") == "a.b_c"
    assert quote_r("math score") == "`math score`" and quote_r("2nd") == "`2nd`"
    assert quote_r("a`b") == "`a\\`b`"


def test_displayed_statsmodels_code_reproduces_the_fit(grouped_data):
    """Running the `.code` a student copies gives the numbers the page shows."""
    data = grouped_data(n_groups=12, slope_sd=1.0, seed=5)
    fit = fit_multilevel(data, "y", "x", "g", random_slope=True, reml=True)
    assert not fit.singular
    result = run(fit.code, data)["result"]
    np.testing.assert_allclose(result.fe_params, fit.fixed, rtol=1e-3)
    assert result.llf == pytest.approx(fit.loglik, rel=1e-4)
    assert fit.lme4 == ("library(lme4)\nfit <- lmer(y ~ x + (x | g), data = data, REML = TRUE)\n"
                        "summary(fit)")


def test_code_of_a_boundary_fit_warns_that_statsmodels_cannot_reproduce_it(nels):
    two = nels[nels["schid"].isin([24725, 62821])]  # singular in lme4 too (reference case)
    fit = fit_multilevel(two, "math", "homework", "schid", random_slope=True)
    assert fit.singular and "on the boundary" in fit.code


def test_column_names_are_quoted_in_code_and_never_executed(grouped_data):
    """A column name is data, not code: the fit uses arrays, the shown code quotes it with
    patsy's Q(), and running that code looks the name up instead of calling anything."""
    names = {"y": "math score", "x": "__import__('os').getpid()"}
    data = grouped_data(n_groups=12, slope_sd=1.0, seed=5).rename(columns=names)
    fit = fit_multilevel(data, "math score", names["x"], "g")
    assert fit.converged
    assert fit.code.count("Q(") == 3 and "`math score`" in fit.lme4
    np.testing.assert_allclose(run(fit.code, data)["result"].fe_params, fit.fixed, rtol=1e-3)


def test_pooled_code_reproduces_the_ols_line(grouped_data):
    data = grouped_data().rename(columns={"x": "hours of homework"})
    pooled = fit_pooled(data, "y", "hours of homework")
    result = run(pooled.code, data)["result"]
    np.testing.assert_allclose(result.params.to_numpy(), pooled.coef.to_numpy(), rtol=1e-10)


def test_three_level_code_reproduces_the_fit():
    """A small nested data set (seeded): statsmodels' own optimiser, run from the shown code,
    reaches the log-likelihood and fixed effects of fit_three_level."""
    rng = np.random.default_rng(11)
    school = np.repeat(np.arange(8), 24)
    pupil = np.tile(np.repeat(np.arange(8), 3), 8)  # labels repeat across schools
    year = np.tile([0, 1, 2], 64)
    pupil_effect = rng.normal(0, 2.0, 64)[school * 8 + pupil]
    y = 20 + 3 * year + rng.normal(0, 1.5, 8)[school] + pupil_effect + rng.normal(0, 1, 192)
    import pandas as pd

    data = pd.DataFrame({"score": y, "school": school, "pupil": pupil, "year": year})
    fit = fit_three_level(data, "score", "school", "pupil", categorical=("year",))
    result = run(fit.code, data)["result"]
    assert result.llf == pytest.approx(fit.loglik, rel=1e-4)
    np.testing.assert_allclose(result.fe_params.to_numpy(), fit.fixed.to_numpy(), rtol=1e-3)
    assert three_level_lme4("score", (), ("year",), "school", "pupil", True) == fit.lme4
    assert "(1 | school) + (1 | school:pupil)" in fit.lme4 and "factor(year)" in fit.lme4
