"""hlmlab.analyses.jsp_schools and jsp_schools_figures: the JSP lesson's analyses and figures.

Expected values and where they come from:
- hand-computed R² of a line through three points (in the test);
- lme4 1.1 conditional modes and SDs (``ranef(condVar = TRUE)``) in
  tests/reference/lme4_ranef.csv and lme4 fits in lme4_reference.csv (cases
  jsp_year0_raven_ri_reml, jsp_three_level_reml);
- lme4 fits of the two two-level models on data/jsp_synthetic.csv, not in the shared reference
  CSV, computed once with
  ``lmer(math ~ factor(year) + (1 | school), REML = TRUE)`` and
  ``lmer(math ~ factor(year) + (1 | school:pupil), REML = TRUE)`` (nloptwrap, xtol_abs 1e-12),
  values copied below.
"""

from __future__ import annotations

import types

import numpy as np
import pandas as pd
import pytest

from hlmlab import datasets, report
from hlmlab.analyses import jsp_schools as schools
from hlmlab.analyses import jsp_schools_figures as jsp_figures
from hlmlab.errors import ModelDataError
from hlmlab.lesson_text import load_lesson
from hlmlab.pooling import compare_pooling, fitted_lines
from hlmlab.ranking import rank_changes, rank_groups
from hlmlab.style import FAMILY_STYLES, group_styles

RTOL = 1e-3
JSP, EXAM = schools.DATASETS["jsp"], schools.DATASETS["exam"]
SOURCE = "JSP (synthetic replica)"

# lme4 on the replica (see the module docstring): (fixef, se) of factor(year)2, variances, logLik.
LME4_IGNORE_PUPIL = {"year2": 5.36187150002448, "year2_se": 0.305654342704,
                     "school": 4.1645147430, "residual": 48.3981272785, "loglik": -10912.6995489}
LME4_IGNORE_SCHOOL = {"year2": 5.30194330451078, "year2_se": 0.160182620440,
                      "pupil": 39.9339290804, "residual": 12.6243611073, "loglik": -10031.7771819}


@pytest.fixture(scope="module")
def replica(jsp):
    return jsp


# --------------------------------------------------------------------------- specs and rows


def test_spec_names_the_lines_predictor_and_the_axes():
    assert (JSP.lines_predictor, EXAM.lines_predictor) == ("year", "standLRT")
    assert JSP.axis_label("year") == "Junior school year"
    assert JSP.axis_label("raven") == "Raven ability at entry"
    assert JSP.axis_label("math") == "Math score (1-40)"
    assert EXAM.axis_label("standLRT") == "London Reading Test at 11 (standardised)"
    assert EXAM.axis_label("year") == "year"  # not a column of the Exam: its own name


def test_rows_at_occasion_keeps_the_source_label():
    frame = pd.DataFrame({"school": [1, 1, 2], "year": [0, 2, 2], "math": [10, 20, 30]})
    frame.attrs["label"] = SOURCE
    year2 = schools.rows_at_occasion(frame, JSP, 2)
    assert year2["math"].tolist() == [20, 30]
    assert year2.attrs["label"] == SOURCE
    assert schools.rows_at_occasion(frame, JSP, None) is frame
    assert schools.rows_at_occasion(frame, EXAM, 2) is frame  # no occasions: every row


def test_pupils_per_school_counts_pupils_not_records():
    frame = pd.DataFrame({"school": [1, 1, 1, 2], "pupil": [1, 1, 2, 3]})
    assert schools.pupils_per_school(frame, JSP).to_dict() == {1: 2, 2: 1}
    assert schools.pupils_per_school(frame, EXAM).to_dict() == {1: 3, 2: 1}  # a row a pupil


# --------------------------------------------------------------------------- level 1


def one_school_by_year() -> pd.DataFrame:
    """School 1: year 0 on the line 1 + 0.4 raven, year 1 on 4 + 0.4 raven over a narrower
    range, year 2 two pupils (no line). School 2 reaches intakes school 1 does not."""
    return pd.DataFrame({
        "school": [1] * 8 + [2] * 2,
        "year": [0, 0, 0, 1, 1, 1, 2, 2, 0, 0],
        "raven": [10, 20, 30, 15, 20, 25, 12, 14, 0, 100],
        "math": [5, 9, 13, 10, 12, 14, 8, 9, 1, 40],
    })


def test_intake_lines_by_occasion_by_hand():
    rows, fit, lines = schools.intake_lines_by_occasion(one_school_by_year(), JSP, 1)
    assert len(rows) == 8 and (rows["school"] == 1).all()
    assert rows["occasion"].tolist() == ["year 0"] * 3 + ["year 1"] * 3 + ["year 2"] * 2
    assert fit.table.loc["year 0", "slope"] == pytest.approx(0.4)
    assert fit.table.loc["year 1", "intercept"] == pytest.approx(4.0)
    assert np.isnan(fit.table.loc["year 2", "slope"]) and len(fit.messages) == 1
    # Each line spans the school's whole intake range (10-30), not its year's, nor the data's.
    year1 = lines[lines["group"] == "year 1"]
    assert year1["x"].tolist() == [10.0, 30.0]
    assert year1["y"].tolist() == pytest.approx([8.0, 16.0])
    assert set(lines["group"]) == {"year 0", "year 1"}


def test_intake_lines_without_occasions_are_one_line():
    rows, fit, lines = schools.intake_lines_by_occasion(
        pd.DataFrame({"school": [1, 1, 1], "standLRT": [-1.0, 0.0, 1.0],
                      "normexam": [-0.5, 0.0, 0.5]}), EXAM, 1)
    assert set(rows["occasion"]) == {"all pupils"}
    assert fit.table.loc["all pupils", "slope"] == pytest.approx(0.5)
    assert lines["x"].tolist() == [-1.0, 1.0]


# --------------------------------------------------------------------------- level 2


def test_r2_of_school_means_on_year_by_hand():
    # School 1: yearly means 10, 12, 17 -> slope 3.5, R² = 24.5 / 26 (by hand: SSR = 3.5² × 2,
    # SST = 9 + 1 + 16). School 2: seen in two years only -> R² undefined, not 1.
    frame = pd.DataFrame({
        "school": [1] * 6 + [2] * 4,
        "year": [0, 0, 1, 1, 2, 2, 0, 0, 1, 1],
        "math": [9, 11, 11, 13, 16, 18, 20, 22, 25, 27],
    })
    rows, fit = schools.per_school_regressions(frame, "math", "year", "school",
                                               on_school_means=True)
    assert rows.loc[rows["school"] == 1, "math"].tolist() == [10, 12, 17]
    assert fit.table.loc[1, "slope"] == pytest.approx(3.5)
    assert fit.table.loc[1, "r2"] == pytest.approx(24.5 / 26)
    assert np.isnan(fit.table.loc[2, "r2"])
    # The pupils' own regression: same slope, R² lowered by the spread around each mean.
    _, pupils = schools.per_school_regressions(frame, "math", "year", "school")
    assert pupils.table.loc[1, "slope"] == pytest.approx(3.5)
    assert pupils.table.loc[1, "r2"] == pytest.approx(24.5 * 2 / (26 * 2 + 6))


def test_the_deck_r2_comes_from_school_means_not_pupils(replica):
    _, means = schools.per_school_regressions(replica, "math", "year", "school", True)
    _, pupils = schools.per_school_regressions(replica, "math", "year", "school")
    on_means, on_pupils = schools.r2_summary(means.table["r2"]), schools.r2_summary(pupils.table["r2"])
    # Independent computation, as tests/reference/test_replica_jsp.py does it: squared correlation of the
    # three yearly means with year, schools seen in all three years.
    direct = []
    for _, rows in replica.groupby("school"):
        m = rows.groupby("year")["math"].mean()
        if len(m) == 3:
            direct.append(np.corrcoef(m.index.to_numpy(float), m.to_numpy())[0, 1] ** 2)
    assert on_means["n"] == len(direct)
    assert on_means["quantiles"]["q50"] == pytest.approx(np.median(direct))
    assert 0.6 <= on_means["quantiles"]["q50"] <= 0.9
    assert on_pupils["quantiles"]["q90"] < 0.3 < on_means["quantiles"]["q25"]


def test_r2_summary_counts_the_band_inclusively():
    summary = schools.r2_summary(pd.Series([0.1, 0.6, 0.75, 0.9, 0.95, np.nan]))
    assert (summary["n"], summary["in_band"], summary["below_band"], summary["above_band"]) == (5, 3, 1, 1)
    assert summary["undefined"] == 1
    assert summary["share_in_band"] == pytest.approx(0.6)


def test_coefficient_spread_matches_the_per_school_lines(replica):
    _, fit = schools.per_school_regressions(replica, "math", "year", "school", True)
    spread = schools.coefficient_spread(fit)
    slopes = fit.table["slope"].dropna()
    assert spread.loc["slope", "schools"] == len(slopes)
    assert spread.loc["slope", "SD"] == pytest.approx(slopes.std())
    assert spread.loc["intercept", "median"] == pytest.approx(fit.table["intercept"].dropna().median())


def yearly_math() -> pd.DataFrame:
    # As in test_r2_of_school_means_on_year_by_hand: school 1's yearly means 10, 12, 17,
    # school 2's (two years only) 21, 26.
    return pd.DataFrame({
        "school": [1] * 6 + [2] * 4,
        "year": [0, 0, 1, 1, 2, 2, 0, 0, 1, 1],
        "math": [9, 11, 11, 13, 16, 18, 20, 22, 25, 27],
    })


def test_school_lines_on_the_school_means_by_hand():
    lines = schools.school_lines(yearly_math(), JSP, "year", school_means=True)
    assert lines.school_means and lines.predictor == "year"
    assert lines.rows.loc[lines.rows["school"] == 2, "math"].tolist() == [21, 26]
    assert lines.fit.table.loc[1, "slope"] == pytest.approx(3.5)
    assert set(lines.lines["group"]) == {1}  # two means are no line
    assert lines.lines["y"].tolist() == pytest.approx([13 - 3.5, 13 + 3.5])  # mean 13 at year 1
    pd.testing.assert_frame_equal(lines.spread, schools.coefficient_spread(lines.fit))
    pupils = schools.school_lines(yearly_math(), JSP, "year")
    assert not pupils.school_means and len(pupils.rows) == 10
    assert pupils.fit.table.loc[1, "r2"] == pytest.approx(24.5 * 2 / (26 * 2 + 6))
    # School 2, seen in years 0-1, is drawn over all three years: 21 + 5 x year.
    school2 = pupils.lines[pupils.lines["group"] == 2]
    assert school2["x"].tolist() == [0.0, 2.0] and school2["y"].tolist() == pytest.approx([21, 31])


def test_school_lines_at_one_occasion(replica):
    lines = schools.school_lines(replica, JSP, "raven", at_occasion=2)
    year2 = replica[replica["year"] == 2]
    assert len(lines.rows) == len(year2) == lines.fit.table["n"].sum()
    school1 = year2[year2["school"] == 1]
    assert lines.fit.table.loc[1, "slope"] == pytest.approx(
        np.polyfit(school1["raven"], school1["math"], 1)[0])
    assert lines.lines["x"].min() == year2["raven"].min()


# --------------------------------------------------------------------------- ranking


def fake_fit(effects, sds):
    blups = pd.DataFrame({"n": 10, "u0": effects, "u0_sd": sds},
                         index=pd.Index(list("ABCD")[: len(effects)], name="school"))
    return types.SimpleNamespace(blups=blups)


def test_ranking_intervals_match_lme4_conditional_modes(replica, lme4, lme4_ranef):
    case = "jsp_year0_raven_ri_reml"
    year0 = replica[replica["year"] == 0]
    fit = schools.fit_ranking_model(year0, "math", "school", "raven")
    assert fit.variance["tau00"] == pytest.approx(lme4(case, "tau00"), rel=RTOL)
    table = rank_groups(fit)
    table.index = table.index.astype(str)
    ref = lme4_ranef[lme4_ranef["case"] == case].set_index("group")
    ours = table.loc[ref.index]
    spread = ref["mode"].std()
    np.testing.assert_allclose(ours["effect"], ref["mode"], rtol=RTOL, atol=RTOL * spread)
    np.testing.assert_allclose(ours["sd"], ref["condsd"], rtol=RTOL)
    np.testing.assert_allclose(ours["lower"], ref["mode"] - 1.959963984540054 * ref["condsd"],
                               rtol=RTOL, atol=RTOL * spread)
    # Ranks from lme4's modes (1 = highest).
    lme4_rank = ref["mode"].rank(ascending=False, method="min").astype(int)
    assert (ours["rank"] == lme4_rank).mean() > 0.95  # ties within 1e-3 may swap


def test_exam_ranking_uses_the_random_slope_model_checked_against_lme4(exam, lme4, lme4_ranef):
    fit = schools.fit_ranking_model(exam, "normexam", "school", "standLRT", random_slope=True)
    for name in ("tau00", "tau11", "sigma2"):
        assert fit.variance[name] == pytest.approx(lme4("exam_rs_reml", name), rel=RTOL)
    table = rank_groups(fit)
    table.index = table.index.astype(str)
    ref = lme4_ranef[(lme4_ranef["case"] == "exam_rs_reml") & (lme4_ranef["term"] == "Intercept")].set_index("group")
    np.testing.assert_allclose(table.loc[ref.index, "sd"], ref["condsd"], rtol=RTOL)


def test_unadjusted_ranking_is_the_empty_model(replica):
    year0 = replica[replica["year"] == 0]
    fit = schools.fit_ranking_model(year0, "math", "school", None, random_slope=True)
    assert fit.predictor is None and not fit.random_slope
    assert list(fit.fixed.index) == ["Intercept"]


def test_school_rankings_with_and_without_intake_match_lme4(replica, lme4):
    rankings, changes = schools.school_rankings(replica, JSP, 0, random_slope=False)
    case = "jsp_year0_raven_ri_reml"
    adjusted_fit, adjusted = rankings["adjusted"]
    unadjusted_fit, unadjusted = rankings["unadjusted"]
    assert adjusted_fit.variance["tau00"] == pytest.approx(lme4(case, "tau00"), rel=RTOL)
    assert adjusted_fit.fixed["raven"] == pytest.approx(lme4(case, "fixef", "raven"), rel=RTOL)
    assert list(unadjusted_fit.fixed.index) == ["Intercept"]
    year0 = replica[replica["year"] == 0]
    assert adjusted["n"].sum() == lme4(case, "n_obs") == len(year0)
    raw = year0.groupby("school")["math"].mean()
    np.testing.assert_allclose(adjusted["raw_mean"], raw.loc[adjusted.index])
    np.testing.assert_allclose(unadjusted["raw_mean"], raw.loc[unadjusted.index])
    pd.testing.assert_frame_equal(changes, rank_changes(adjusted, unadjusted))


def test_no_ranking_from_an_unusable_fit(replica, monkeypatch):
    fit_model = schools.fit_ranking_model
    unusable = types.SimpleNamespace(usable=False)

    def fit_or_fail(data, outcome, group, intake, random_slope=False):
        return unusable if intake else fit_model(data, outcome, group, intake, random_slope)

    monkeypatch.setattr(schools, "fit_ranking_model", fit_or_fail)
    rankings, changes = schools.school_rankings(replica, JSP, 2, random_slope=True)
    assert rankings["adjusted"] == (unusable, None) and changes is None
    year2 = replica[replica["year"] == 2]
    assert len(rankings["unadjusted"][1]) == year2["school"].nunique()


# --------------------------------------------------------------------------- separate vs multilevel


def test_sample_groups_is_nested_and_keeps_whole_pupils(replica):
    small = datasets.sample_groups(replica, "school", 5, 4, seed=3, subgroup="pupil")
    large = datasets.sample_groups(replica, "school", 6, 5, seed=3, subgroup="pupil")
    assert small["school"].nunique() == 5
    assert set(small["school"]) <= set(large["school"])
    assert set(small["pupil"]) <= set(large["pupil"])
    assert small.groupby("school")["pupil"].nunique().max() <= 4
    # Every kept pupil keeps all their records.
    records = replica.groupby("pupil").size()
    assert (small.groupby("pupil").size() == records.loc[small["pupil"].unique()]).all()
    assert small.attrs["synthetic"]


def test_sample_groups_rows_as_pupils(exam):
    sample = datasets.sample_groups(exam, "school", 10, 3, seed=1)
    assert sample["school"].nunique() == 10 and sample.groupby("school").size().max() <= 3


def test_slope_pairs_are_the_own_ols_and_multilevel_slopes(replica):
    chosen = datasets.sample_groups(replica, "school", 12, 30, seed=2, subgroup="pupil")
    comparison = compare_pooling(chosen, "math", "year", "school", random_slope=True)
    pairs = schools.slope_pairs(comparison)
    school = pairs.index[0]
    rows = chosen[chosen["school"] == school]
    assert pairs.loc[school, "ols_slope"] == pytest.approx(np.polyfit(rows["year"], rows["math"], 1)[0])
    assert pairs.loc[school, "multilevel_slope"] == pytest.approx(
        comparison.multilevel.blups.loc[school, "slope"])
    # Partial pooling: the multilevel slopes vary less than the schools' own.
    assert pairs["multilevel_slope"].std() < pairs["ols_slope"].std()


def test_multilevel_slopes_approach_own_slopes_as_schools_grow(exam):
    gaps = []
    for per_school in (10, 200):
        chosen = datasets.sample_groups(exam, "school", 65, per_school, seed=0)
        pairs = schools.slope_pairs(compare_pooling(chosen, "normexam", "standLRT", "school"))
        gaps.append(pairs["gap"].abs().median())
    assert gaps[1] < gaps[0] / 2


def test_compare_sampled_slopes_is_the_sample_s_pooling_comparison(replica):
    sampled = schools.compare_sampled_slopes(replica, JSP, 12, 30, seed=2)
    comparison, pairs = sampled.comparison, sampled.pairs
    assert sampled.predictor == "year" and comparison.messages == ()
    chosen = datasets.sample_groups(replica, "school", 12, 30, seed=2, subgroup="pupil")
    assert comparison.per_group.table.index.tolist() == sorted(chosen["school"].unique())
    direct = compare_pooling(chosen, "math", "year", "school", random_slope=True)
    assert comparison.multilevel.random_slope
    assert comparison.multilevel.variance["tau11"] == pytest.approx(direct.multilevel.variance["tau11"])
    pd.testing.assert_frame_equal(pairs, schools.slope_pairs(direct))


def test_compare_sampled_slopes_explains_what_cannot_be_fitted(replica):
    with pytest.raises(ModelDataError, match="two different values") as raised:
        schools.compare_sampled_slopes(replica[replica["year"] == 0], JSP, 5, 5)
    assert "'year'" in str(raised.value)


def test_slope_pairs_summary_by_hand():
    pairs = pd.DataFrame({"ols_slope": [0.0, 2.0, 4.0], "multilevel_slope": [1.0, 2.0, 3.0],
                          "gap": [1.0, 0.0, -1.0]})
    assert schools.slope_pairs_summary(pairs) == {"median_gap": 1.0, "ols_sd": 2.0,
                                                  "multilevel_sd": 1.0}


# --------------------------------------------------------------------------- three levels


@pytest.fixture(scope="module")
def levels(replica):
    return schools.compare_levels(replica, "math", "school", "pupil", "year")


def test_three_level_model_matches_lme4(levels, lme4):
    case, three = "jsp_three_level_reml", levels.three_level
    assert three.variance["school"] == pytest.approx(lme4(case, "var_group"), rel=RTOL)
    assert three.variance["pupil"] == pytest.approx(lme4(case, "var_subgroup"), rel=RTOL)
    assert three.fixed_se["year[2]"] == pytest.approx(lme4(case, "se", "year[2]"), rel=RTOL)
    row = levels.table.iloc[0]
    assert row["year[2] SE"] == pytest.approx(lme4(case, "se", "year[2]"), rel=RTOL)


def test_two_level_models_match_lme4(levels):
    table = levels.table.set_index(levels.table.index.str.split(":").str[0])
    no_pupil = table.loc["Two levels, pupil ignored"]
    no_school = table.loc["Two levels, school ignored"]
    assert no_pupil["year[2] estimate"] == pytest.approx(LME4_IGNORE_PUPIL["year2"], rel=RTOL)
    assert no_pupil["year[2] SE"] == pytest.approx(LME4_IGNORE_PUPIL["year2_se"], rel=RTOL)
    assert no_pupil["school variance"] == pytest.approx(LME4_IGNORE_PUPIL["school"], rel=RTOL)
    assert no_pupil["occasion (residual) variance"] == pytest.approx(LME4_IGNORE_PUPIL["residual"], rel=RTOL)
    assert no_pupil["log-likelihood"] == pytest.approx(LME4_IGNORE_PUPIL["loglik"], rel=RTOL)
    assert no_school["year[2] SE"] == pytest.approx(LME4_IGNORE_SCHOOL["year2_se"], rel=RTOL)
    assert no_school["pupil variance"] == pytest.approx(LME4_IGNORE_SCHOOL["pupil"], rel=RTOL)
    assert no_school["log-likelihood"] == pytest.approx(LME4_IGNORE_SCHOOL["loglik"], rel=RTOL)


def test_ignoring_the_pupils_inflates_the_year_standard_error(levels):
    se = levels.table["year[2] SE"]
    three, no_school, no_pupil, ols = se.iloc[0], se.iloc[1], se.iloc[2], se.iloc[3]
    assert no_pupil > 1.5 * three and ols > 1.5 * three
    assert no_school == pytest.approx(three, rel=0.01)


def test_partition_shares_sum_to_one_per_model(levels):
    shares = levels.partition.groupby("model")["share"].sum()
    np.testing.assert_allclose(shares, 1.0)
    three = levels.partition[levels.partition["model"] == levels.table.index[0]].set_index("level")
    np.testing.assert_allclose(three["share"], [levels.three_level.shares[k]
                                                for k in ("school", "pupil", "residual")])


def test_pupil_labels_are_nested_in_schools(replica):
    # Pupil numbers that repeat across schools must not be merged in the pupil-only model.
    frame = replica.copy()
    frame["pupil"] = frame.groupby("school")["pupil"].rank(method="dense").astype(int)
    comparison = schools.compare_levels(frame, "math", "school", "pupil", "year")
    assert comparison.ignore_school.n_groups == replica["pupil"].nunique()


def test_compare_levels_needs_two_occasions(replica):
    with pytest.raises(ModelDataError):
        schools.compare_levels(replica[replica["year"] == 0], "math", "school", "pupil", "year")
    with pytest.raises(ModelDataError, match="at least two values of 'year'"):
        schools.compare_school_levels(replica[replica["year"] == 0], JSP)


def test_compare_school_levels_with_intake_by_ml(replica):
    comparison = schools.compare_school_levels(replica, JSP, reml=False, with_intake=True)
    three = comparison.three_level
    assert not three.reml
    assert list(three.fixed.index) == ["Intercept", "raven", "year[1]", "year[2]"]
    assert "raven estimate" not in comparison.table  # the table follows the occasion terms
    summary, _ = report.three_level_tables(three, schools.LEVEL_NAMES)
    assert "log-likelihood" in summary.index and "REML log-likelihood" not in summary.index
    assert summary.loc["log-likelihood", "value"] == three.loglik


def test_occasion_effect_se_against_lme4(levels, lme4):
    se = schools.occasion_effect_se(levels)
    assert se.index.tolist() == levels.table.index.tolist()
    three = lme4("jsp_three_level_reml", "se", "year[2]")
    assert se["SE"].iloc[0] == pytest.approx(three, rel=RTOL)
    assert se["ratio"].iloc[0] == 1.0
    no_pupil = se.loc[schools.MODEL_NAMES["ignore_pupil"], "ratio"]
    assert no_pupil == pytest.approx(LME4_IGNORE_PUPIL["year2_se"] / three, rel=2 * RTOL)
    assert se.loc[schools.MODEL_NAMES["ignore_school"], "ratio"] == pytest.approx(
        LME4_IGNORE_SCHOOL["year2_se"] / three, rel=2 * RTOL)


# --------------------------------------------------------------------------- figures


def test_slope_scatter_has_the_diagonal_and_the_schools():
    pairs = pd.DataFrame({"n": [5, 50], "ols_slope": [0.0, 2.0], "multilevel_slope": [0.8, 1.9]},
                         index=[1, 2])
    fig = jsp_figures.slope_scatter_figure(pairs, "t", "x", "y", fixed_slope=1.0)
    by_meta = {t.meta: t for t in fig.data}
    assert list(by_meta["y=x"].x) == list(by_meta["y=x"].y)
    assert list(by_meta["schools"].x) == [0.0, 2.0]
    assert list(by_meta["average slope"].y) == [1.0, 1.0]
    empty = jsp_figures.slope_scatter_figure(pairs.iloc[:0], "t", "x", "y")
    assert len(empty.data[-1].x) == 0


def test_slope_scatter_axes_span_the_slopes_not_the_charts_width():
    # Equal scales on a chart wider than tall: plotly would widen the x range to fill the
    # width (session 6 saw -8 to 14 for slopes of 0 to 6.5); the plot area shrinks instead.
    pairs = pd.DataFrame({"n": [5, 50, 20], "ols_slope": [0.0, 6.5, 3.0],
                          "multilevel_slope": [2.0, 3.0, 2.5]}, index=[1, 2, 3])
    layout = jsp_figures.slope_scatter_figure(pairs, "t", "x", "y", fixed_slope=2.5).layout
    pad = 0.05 * 6.5
    for axis in (layout.xaxis, layout.yaxis):
        assert list(axis.range) == pytest.approx([-pad, 6.5 + pad])
        assert axis.constrain == "domain"
    assert layout.yaxis.scaleanchor == "x" and layout.yaxis.scaleratio == 1


def test_partition_figure_and_histogram(levels):
    fig = jsp_figures.levels_figure(levels, SOURCE)
    assert fig.layout.title.text == f"Where the variance lies · {SOURCE}"
    assert [t.meta for t in fig.data] == ["school", "pupil", "occasion"]
    assert fig.data[2].name == "occasion (within pupil)"
    three_level_total = sum(float(t.x[0]) for t in fig.data)
    assert three_level_total == pytest.approx(1.0)
    hist = jsp_figures.r2_histogram(pd.Series([0.1, 0.7, np.nan]), (0.6, 0.9), "t")
    assert list(hist.data[0].x) == [0.1, 0.7]
    assert (hist.layout.shapes[0].x0, hist.layout.shapes[0].x1) == (0.6, 0.9)


def test_trajectory_and_lines_figures(replica):
    school = replica[replica["school"] == 1]
    fig = jsp_figures.pupil_trajectories_figure(school, "pupil", "year", "math", "t", "x", "y")
    pupils = fig.data[0]
    assert pupils.meta == "pupils"
    assert sum(v is None for v in pupils.y) == school["pupil"].nunique()
    assert list(fig.data[1].y) == pytest.approx(school.groupby("year")["math"].mean().tolist())
    rows, fit = schools.per_school_regressions(replica, "math", "year", "school", True)
    lines = fitted_lines({"per_group": fit}, {"all": (0, 2)})
    fig = jsp_figures.school_lines_figure(lines, "t", "x", "y", points=rows, x="year",
                                            y="math", group="school", highlight=1)
    assert [t.meta for t in fig.data] == ["points", "school lines", "highlight:1"]
    assert sum(v is None for v in fig.data[1].y) == lines["group"].nunique()


def test_school_trajectories_figure_and_caption(replica):
    figure, caption = jsp_figures.school_trajectories_figure(replica, JSP, 3, SOURCE)
    school = replica[replica["school"] == 3]
    assert caption == f"{SOURCE}. {school['pupil'].nunique()} pupils, {len(school)} scores."
    assert figure.layout.title.text == f"School 3: each pupil's math over the years · {SOURCE}"
    assert (figure.layout.xaxis.title.text, figure.layout.yaxis.title.text) == (
        "Junior school year", "Math score (1-40)")
    assert list(figure.data[1].y) == pytest.approx(school.groupby("year")["math"].mean().tolist())


def test_intake_lines_figure_draws_each_year_and_says_what_is_missing():
    rows, fit, lines = schools.intake_lines_by_occasion(one_school_by_year(), JSP, 1)
    figure, caption = jsp_figures.intake_lines_figure(rows, fit, lines, JSP, 1, SOURCE)
    by_meta = {t.meta: t for t in figure.data}
    assert set(by_meta) == {"year 0", "year 1", "year 2", "per_group:year 0", "per_group:year 1"}
    assert list(by_meta["per_group:year 0"].y) == pytest.approx([5.0, 13.0])
    # A year's colour is its own whichever years the school has.
    assert by_meta["year 1"].marker.color == group_styles(["year 0", "year 1"])["year 1"]["colour"]
    assert figure.layout.title.text == f"School 1: score against intake · {SOURCE}"
    assert caption == (f"{SOURCE}. Lines: ordinary least squares in each year of this school. "
                       f"{fit.messages[0]}")
    exam = pd.DataFrame({"school": [1, 1, 1], "standLRT": [-1.0, 0.0, 1.0], "normexam": [0, 1, 1]})
    _, caption = jsp_figures.intake_lines_figure(
        *schools.intake_lines_by_occasion(exam, EXAM, 1), EXAM, 1, "Exam")
    assert caption == "Exam. Lines: ordinary least squares in this school."


def test_per_school_lines_figure_titles_and_points():
    means = schools.school_lines(yearly_math(), JSP, "year", school_means=True)
    figure = jsp_figures.per_school_lines_figure(means, JSP, "School mean math on year", SOURCE)
    assert [t.meta for t in figure.data] == ["points", "school lines"]
    assert list(figure.data[0].y) == [10, 12, 17, 21, 26]
    assert figure.layout.title.text == f"School mean math on year: one line per school · {SOURCE}"
    assert figure.layout.yaxis.title.text == "Mean Math score (1-40)"
    assert figure.layout.xaxis.title.text == "Junior school year"
    pupils = schools.school_lines(yearly_math(), JSP, "year")
    figure = jsp_figures.per_school_lines_figure(pupils, JSP, "Pupils' math on year", SOURCE)
    assert [t.meta for t in figure.data] == ["school lines"]
    assert figure.layout.yaxis.title.text == "Math score (1-40)"


def test_pooling_lines_figure_draws_the_chosen_schools_and_families(replica, exam):
    few = replica[replica["school"].isin([1, 2, 3, 4])]
    comparison = compare_pooling(few, "math", "year", "school", random_slope=False)
    figure = jsp_figures.pooling_lines_figure(few, JSP, comparison.lines, "year", 2,
                                                ["pooled", "multilevel"], SOURCE)
    metas = [t.meta for t in figure.data]
    assert metas == ["1", "2", "pooled:all", "multilevel:1", "multilevel:2"]
    school2 = few[few["school"] == 2]
    assert len(figure.data[1].x) == len(school2)
    jitter = np.asarray(figure.data[1].x) - school2["year"].to_numpy()
    assert 0 < np.abs(jitter).max() <= 0.15  # years jittered sideways
    assert figure.data[1].marker.color == group_styles([1, 2, 3, 4])[2]["colour"]
    # The legend names the line families; a point's school and size are in its hover.
    assert [t.name for t in figure.data if t.showlegend is not False] == [
        FAMILY_STYLES[f]["label"] for f in ("pooled", "multilevel")]
    assert "(n=" in figure.data[1].name and "customdata[0]" in figure.data[1].hovertemplate
    assert figure.layout.title.text == f"Pooled, per-school and multilevel lines · {SOURCE}"
    assert figure.layout.xaxis.title.text == "Junior school year"
    exam = exam[exam["school"].isin(sorted(exam["school"].unique())[:3])]
    comparison = compare_pooling(exam, "normexam", "standLRT", "school", random_slope=False)
    figure = jsp_figures.pooling_lines_figure(exam, EXAM, comparison.lines, "standLRT", 1,
                                                ["per_group"], "Exam")
    first = exam[exam["school"] == exam["school"].min()]
    assert [t.meta for t in figure.data] == [str(first["school"].iloc[0]),
                                             f"per_group:{first['school'].iloc[0]}"]
    np.testing.assert_allclose(figure.data[0].x, first["standLRT"])  # no jitter
    assert figure.layout.xaxis.title.text == "London Reading Test at 11 (standardised)"


def test_ranking_figures_titles_and_movers():
    table = rank_groups(fake_fit([2.0, -3.0, 0.5, 0.0], [0.5, 1.0, 1.0, 0.2]),
                                 raw_means=pd.Series({"A": 20, "B": 30, "C": 25, "D": 10}))
    changes = rank_changes(table, table.assign(rank=table["naive_rank"]))
    caterpillar, slope = jsp_figures.ranking_figures(table, changes, JSP, 2, True, SOURCE)
    assert caterpillar.layout.title.text == (
        f"School effects, adjusted for intake, 95% intervals · {SOURCE}")
    assert caterpillar.layout.xaxis.title.text == "School effect on Math score (1-40), year 2"
    assert slope.layout.title.text == f"Raw mean vs model · {SOURCE}"
    assert list(slope.layout.xaxis.ticktext) == ["raw mean", "model (adjusted)"]
    assert [t.meta for t in slope.data] == ["others"] + [f"moved:{s}" for s in changes.index[:3]]
    caterpillar, slope = jsp_figures.ranking_figures(table, None, EXAM, None, False, "Exam")
    assert caterpillar.layout.xaxis.title.text == "School effect on Normalised exam score at 16"
    assert "not adjusted" in caterpillar.layout.title.text
    assert [t.meta for t in slope.data] == ["others"]


def test_slope_pairs_figure_draws_the_average_slope_of_a_usable_fit():
    pairs = pd.DataFrame({"n": [5, 50], "ols_slope": [0.0, 2.0], "multilevel_slope": [0.8, 1.9]},
                         index=[1, 2])
    fit = types.SimpleNamespace(usable=True, fixed=pd.Series({"Intercept": 20.0, "year": 1.5}))
    figure = jsp_figures.slope_pairs_figure(pairs, fit, "year", SOURCE)
    by_meta = {t.meta: t for t in figure.data}
    assert list(by_meta["average slope"].y) == [1.5, 1.5]
    assert figure.layout.title.text == f"Each school's slope: own OLS vs multilevel · {SOURCE}"
    assert (figure.layout.xaxis.title.text, figure.layout.yaxis.title.text) == (
        "Separate OLS slope", "Multilevel slope")
    for unusable in (None, types.SimpleNamespace(usable=False, fixed=fit.fixed)):
        figure = jsp_figures.slope_pairs_figure(pairs, unusable, "year", SOURCE)
        assert [t.meta for t in figure.data] == ["y=x", "schools"]


# --------------------------------------------------------------------------- what the text states


def _lme4_only(case: str) -> dict:
    """The lme4-only reference (tests/reference/cases_lme4_only.csv) of ``case``: fixef/se
    by term and variance components keyed ``vcov:<group>|<var1>|<var2>``."""
    from pathlib import Path

    reference_dir = Path(__file__).resolve().parents[1] / "reference"
    values = pd.read_csv(reference_dir / "lme4_reference.csv", keep_default_na=False)
    rows = values[values["case"] == case]
    assert len(rows), case
    return {(r.quantity if not r.term else f"{r.quantity}:{r.term}"): float(r.value)
            for r in rows.itertuples()}


def test_pupils_ignored_note_states_lme4_s_numbers(replica, lme4, lme4_ranef):
    """lessons/jsp_schools.md (pupils-ignored): the page's growth lines, math ~ year +
    (year | school) (lme4 case jsp_growth_rs_reml), against lme4's model with the pupil level,
    math ~ year + (year | school) + (1 | school:pupil) (lme4-only case
    jsp_growth_with_pupils_reml): year slope 2.62 vs 2.58, SE 0.18 vs 0.16, slope variance
    between schools 0.33 vs 0.90 (about a third), spread of the schools' multilevel slopes
    SD 0.27 vs 0.79."""
    comparison = compare_pooling(replica, "math", "year", "school", random_slope=True)
    fit = comparison.multilevel
    assert fit.fixed["year"] == pytest.approx(lme4("jsp_growth_rs_reml", "fixef", "year"),
                                              rel=RTOL)
    with_pupils = _lme4_only("jsp_growth_with_pupils_reml")
    assert round(fit.fixed["year"], 2) == 2.62 and round(with_pupils["fixef:year"], 2) == 2.58
    assert round(fit.fixed_se["year"], 2) == 0.18 and round(with_pupils["se:year"], 2) == 0.16
    tau11_with = with_pupils["vcov:school|year|"]
    assert round(fit.variance["tau11"], 2) == 0.33 and round(tau11_with, 2) == 0.90
    assert 0.3 < fit.variance["tau11"] / tau11_with < 0.4  # "about a third"
    ranef = lme4_ranef[(lme4_ranef["case"] == "jsp_growth_with_pupils_reml")
                       & (lme4_ranef["term"] == "year")]
    assert len(ranef) == replica["school"].nunique()
    slopes_with = with_pupils["fixef:year"] + ranef["mode"]
    assert round(fit.blups["slope"].std(), 2) == 0.27 and round(slopes_with.std(), 2) == 0.79
    lesson = load_lesson("jsp_schools")["pupils-ignored"].body
    for number in ("2.58", "2.62", "0.16", "0.18", "0.33", "0.90", "0.27", "0.79"):
        assert number in lesson, number


def test_level2_text_calls_the_school_means_regression_a_reconstruction(replica):
    """The deck does not say which regression gave 'most R² between .6 and .9': the text and
    the page call the school-means regression this app's reconstruction, the one that comes
    closest (its median R² in the band); with the pupils' regression no school reaches .6."""
    lesson = load_lesson("jsp_schools")["level2"].body
    assert "reconstruction" in lesson and "does not say which regression" in lesson
    means = schools.r2_summary(schools.school_lines(replica, JSP, "year", True).fit.table["r2"])
    pupils = schools.r2_summary(schools.school_lines(replica, JSP, "year", False).fit.table["r2"])
    assert 0.6 <= means["quantiles"]["q50"] <= 0.9
    assert means["in_band"] > 0 and pupils["in_band"] == 0 and pupils["above_band"] == 0
    # What the pupils' regression gives is the answer of question-r2: it is stated there,
    # from the live fit, not in the text shown before the question.
    assert "not one school" not in lesson
    answer = load_lesson("jsp_schools")["question-r2"].answer
    assert "{{pupils_in_band}} schools reach .6" in answer


def test_three_level_equation_uses_one_set_of_subscripts():
    """lessons/jsp_schools.md (levels): the equation and the prose use i (occasion), j (pupil),
    k (school) as report.THREE_LEVEL_SYMBOLS does, which the table's rows and the fitted
    equation beside it use; the old mixed t/i/j subscripts are gone."""
    body = load_lesson("jsp_schools")["levels"].body
    equation = body[body.index("$$") + 2:body.rindex("$$")]
    assert r"\text{math}_{ijk}" in equation
    for latex, _ in report.THREE_LEVEL_SYMBOLS.values():
        assert latex in equation
    assert "_{tij}" not in body and "_{tjk}" not in body
    for term in ("year[1]", "year[2]"):
        assert rf"\text{{{term}}}_{{ijk}}" in equation
    assert "$i$ the occasion, $j$ the pupil and $k$ the school" in body


# --------------------------------------------------------------------------- the page's panels
# Each view's compute (hlmlab.panels.Panel) on the replica: results in final form, settings
# that give the same result equal, and a student's words where a file cannot give a view.
# Their numbers on screen are checked against lme4 in tests/app/test_jsp_page.py.

from dataclasses import fields, replace  # noqa: E402

from hlmlab.style import BrowserFigure  # noqa: E402
from hlmlab.tables import DisplayTable  # noqa: E402

REPLICA = schools.DataSource(datasets.JSP_REPLICA_LABEL,
                             str(datasets.DATA_DIR / "jsp_synthetic.csv"), 0.0)
EXAM_SOURCE = schools.DataSource(schools.EXAM_LABEL, "", 0.0)


def test_a_source_knows_its_data_set_and_counts():
    facts = schools.source_facts(REPLICA)
    assert REPLICA.spec is JSP and EXAM_SOURCE.spec is EXAM
    assert len(facts.schools) == 49 and facts.years == (2, 1, 0)
    assert facts.max_pupils == int(schools.pupils_per_school(schools.load_source(REPLICA),
                                                             JSP).max())
    assert schools.source_facts(EXAM_SOURCE).years == ()
    assert "synthetic replica" in schools.source_label(REPLICA)


@pytest.mark.parametrize(("panel", "settings"), [
    (schools.LEVEL1, schools.Level1(REPLICA, 1, True)),
    (schools.LEVEL2, schools.Level2(REPLICA, next(iter(schools.REGRESSIONS["jsp"])))),
    (schools.POOLING, schools.PoolingFit(REPLICA, True)),
    (schools.POOL_CHART, schools.PoolChart(REPLICA, True, ("pooled", "multilevel"), 6)),
    (schools.RANKING, schools.Ranking(REPLICA, 2, False, True)),
    (schools.SEPARATE, schools.Separate(REPLICA, 49, 30)),
    (schools.LEVELS, schools.Levels(REPLICA, True, False)),
])
def test_every_panel_result_is_in_final_form(panel, settings):
    """No DataFrame or plotly figure in a result: what the page draws is ready to send."""
    result = panel.compute(panel.snapped(settings))
    kinds = (BrowserFigure, DisplayTable, report.FitSummary, report.FitCode, str, bool,
             tuple, type(None))
    for field in fields(result):
        value = getattr(result, field.name)
        assert isinstance(value, kinds), (panel.name, field.name, type(value))


def test_equal_results_have_equal_settings():
    """Past the data's counts a slider changes nothing: one cache key, not many."""
    facts = schools.source_facts(REPLICA)
    capped = schools.SEPARATE.snapped(schools.Separate(REPLICA, 400, 10_000))
    assert (capped.n_schools, capped.per_school) == (49, facts.max_pupils)
    assert sorted(schools.SEPARATE.neighbours(capped), key=str) == sorted(
        [replace(capped, n_schools=48), replace(capped, per_school=facts.max_pupils - 1)], key=str)
    chart = schools.POOL_CHART.snapped(
        schools.PoolChart(REPLICA, True, ("multilevel", "pooled"), 12))
    assert chart.families == ("pooled", "multilevel") and chart.drawn == 12


def test_ranking_panel_numbers_are_the_fit_and_its_ranking():
    result = schools.ranking(schools.Ranking(REPLICA, 0, False, True))
    fits, _ = schools.fitted_rankings(REPLICA, 0, False)
    fit, table = fits["adjusted"]
    assert dict(result.metrics)["Schools"] == str(len(table)) == "49"
    assert result.latex == report.model_latex(fit)
    assert result.code.lme4 == fit.lme4


def test_separate_evidence_premises_are_every_pupil_and_few():
    every, few = schools.separate_premises(REPLICA, 5)
    facts = schools.source_facts(REPLICA)
    assert (every.n_schools, every.per_school) == (49, facts.max_pupils)
    assert (few.n_schools, few.per_school) == (49, 5)


def test_a_regression_of_another_data_set_is_refused():
    with pytest.raises(ModelDataError, match="not one of this data set's"):
        schools.level2(schools.Level2(EXAM_SOURCE, "Pupils' math on year"))


def test_views_a_file_cannot_give_say_why(tmp_path, jsp):
    """Issue 16: one school, and year 0 only, raised uncaught ModelDataErrors in the pooling
    and ranking views; now each compute raises one with a student's words."""
    columns = ["school", "class", "gender", "social", "raven", "id", "english", "math", "year"]
    (tmp_path / "jsp_synthetic.csv").write_bytes(
        (datasets.DATA_DIR / "jsp_synthetic.csv").read_bytes())
    original = tmp_path / "jsp.csv"
    jsp[jsp["school"] == 1].rename(columns={"pupil": "id"})[columns].to_csv(original, index=False)
    one = schools.DataSource(datasets.JSP_ORIGINAL_LABEL, str(original), 1.0)
    with pytest.raises(ModelDataError, match=r"^No ranking of year 2: These rows hold one group"):
        schools.ranking(schools.Ranking(one, 2, False, True))
    with pytest.raises(ModelDataError, match=r"^No lines can be fitted: These rows hold one"):
        schools.pooling_numbers(schools.PoolingFit(one, True))
    jsp[jsp["year"] == 0].rename(columns={"pupil": "id"})[columns].to_csv(original, index=False)
    year0 = schools.DataSource(datasets.JSP_ORIGINAL_LABEL, str(original), 2.0)
    assert schools.source_facts(year0).years == (0,)
    flat = r"`year` takes one value only \(`0`\)"
    with pytest.raises(ModelDataError, match=flat):
        schools.pooling_numbers(schools.PoolingFit(year0, False))
    with pytest.raises(ModelDataError, match=flat):
        schools.separate(schools.Separate(year0, 10, 10))
    with pytest.raises(ModelDataError, match="No ranking of year 2: No row has all of"):
        schools.ranking(schools.Ranking(year0, 2, False, True))
    assert dict(schools.ranking(schools.Ranking(year0, 0, False, True)).metrics)["Schools"]
