"""hlmlab.within_between: one raw-x slope is a blend of the within- and between-group slopes.

On the NELS88 replica (the numbers the NELS88 lesson's text states), with the fits checked
against lme4 in tests/reference (cases nels88_all_ri_reml, nels88_all_ri_ml,
nels88_deck2_ri_*): pooled OLS and the random-intercept slope are reproduced exactly by
their blends (Raudenbush & Bryk 2002, ch. 5; Snijders & Bosker 2012, sec. 4.6).
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from hlmlab import report
from hlmlab.analyses.nels88_two_schools import DECK_SCHOOLS
from hlmlab.errors import ModelDataError
from hlmlab.ols import fit_pooled
from hlmlab.twolevel import fit_multilevel
from hlmlab.within_between import decompose_slope, slope_blend


@pytest.mark.parametrize("reml", [True, False], ids=["REML", "ML"])
@pytest.mark.parametrize("schools", [None, DECK_SCHOOLS], ids=["all", "deck"])
def test_pooled_and_random_intercept_slopes_are_blends(nels, lme4, schools, reml):
    data = nels if schools is None else nels[nels["schid"].isin(schools)]
    d = decompose_slope(data, "math", "homework", "schid", reml=reml)
    case = f"nels88_{'all' if schools is None else 'deck2'}_ri_{'reml' if reml else 'ml'}"
    assert d.random_intercept_slope == pytest.approx(lme4(case, "fixef", "homework"), rel=1e-3)
    assert d.random_intercept_slope == pytest.approx(d.blend.blend, abs=1e-8)
    assert d.pooled_slope == pytest.approx(d.pooled_blend.blend, abs=1e-10)
    # The within slope is the OLS slope of school-mean-centred homework.
    centred = data.assign(
        homework=data["homework"] - data.groupby("schid")["homework"].transform("mean"),
        math=data["math"] - data.groupby("schid")["math"].transform("mean"))
    assert d.within == pytest.approx(fit_pooled(centred, "math", "homework").coef["homework"])
    # Size-weighted between slope: the regression of school means weighted by n_j.
    means = data.groupby("schid")[["math", "homework"]].mean()
    n = data.groupby("schid").size()
    between = np.polyfit(means["homework"], means["math"], 1, w=np.sqrt(n))[0]
    assert d.pooled_blend.between == pytest.approx(between, rel=1e-10)
    # Precision weights n_j / (sigma2 + n_j tau00) at the random-intercept fit.
    v = d.random_intercept.variance
    w = n / (v["sigma2"] + n * v["tau00"])
    assert d.blend.between == pytest.approx(
        np.polyfit(means["homework"], means["math"], 1, w=np.sqrt(w))[0], rel=1e-10)


def test_the_nels88_lesson_numbers(nels):
    """What lessons/nels88_two_schools.md says of all ten schools (REML): the random-intercept
    slope (2.21) sits close to the within slope (2.14): about 98 % within, 2 % between
    (5.16); pooled OLS (3.57) is about 71 % within and 29 % between (7.01)."""
    d = decompose_slope(nels, "math", "homework", "schid")
    assert round(d.random_intercept_slope, 2) == 2.21 and round(d.within, 2) == 2.14
    assert round(d.blend.between, 2) == 5.16 and round(100 * d.blend.within_weight) == 98
    assert round(d.pooled_slope, 2) == 3.57 and round(d.pooled_blend.between, 2) == 7.01
    assert round(100 * d.pooled_blend.within_weight) == 71


def test_decomposition_table_recipes_add_up(nels):
    """Every 'how it is made' recipe of the table, read back from its text, gives the
    estimate beside it (to the rounding of the numbers shown)."""
    d = decompose_slope(nels, "math", "homework", "schid")
    table = report.slope_decomposition_table(d, "school")
    assert table.index.tolist() == [
        "within schools", "between schools, weighted by size",
        "between schools, weighted by precision", "pooled OLS",
        "random intercept (fixed slope)"]
    for row in ("pooled OLS", "random intercept (fixed slope)"):
        w1, s1, w2, s2, total = map(float, re.findall(r"-?\d+\.\d+", table.loc[row, "how it is made"]))
        assert w1 + w2 == pytest.approx(1, abs=1e-3)
        assert w1 * s1 + w2 * s2 == pytest.approx(total, abs=0.01)
        assert total == pytest.approx(table.loc[row, "estimate"], abs=0.005)
    assert table.loc["within schools", "estimate"] == d.within
    assert table.loc["between schools, weighted by precision", "estimate"] == d.blend.between


def test_no_between_slope_without_variation_between_means(nels):
    same_mean = nels.assign(homework=nels["homework"] - nels.groupby("schid")["homework"]
                            .transform("mean"))
    with pytest.raises(ModelDataError, match="between"):
        slope_blend(same_mean, "math", "homework", "schid", 10.0, 50.0)
    fit = fit_multilevel(nels, "math", "homework", "schid", random_slope=False)
    assert slope_blend(nels, "math", "homework", "schid", fit.variance["tau00"],
                       fit.variance["sigma2"]).blend == pytest.approx(fit.fixed["homework"])
