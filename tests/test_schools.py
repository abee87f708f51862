"""hlmlab.schools and hlmlab.plots_schools: the JSP lesson's analyses and figures.

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
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hlmlab import datasets, models, plots_schools, schools

REFERENCE_DIR = Path(__file__).resolve().parent / "reference"
VALUES = pd.read_csv(REFERENCE_DIR / "lme4_reference.csv", keep_default_na=False)
RANEF = pd.read_csv(REFERENCE_DIR / "lme4_ranef.csv", dtype={"group": str})
RTOL = 1e-3

# lme4 on the replica (see the module docstring): (fixef, se) of factor(year)2, variances, logLik.
LME4_IGNORE_PUPIL = {"year2": 5.36187150002448, "year2_se": 0.305654342704,
                     "school": 4.1645147430, "residual": 48.3981272785, "loglik": -10912.6995489}
LME4_IGNORE_SCHOOL = {"year2": 5.30194330451078, "year2_se": 0.160182620440,
                      "pupil": 39.9339290804, "residual": 12.6243611073, "loglik": -10031.7771819}


def lme4(case: str, quantity: str, term: str = "") -> float:
    rows = VALUES[(VALUES["case"] == case) & (VALUES["quantity"] == quantity)
                  & (VALUES["term"] == term)]
    assert len(rows) == 1, (case, quantity, term)
    return float(rows["value"].iloc[0])


@pytest.fixture(scope="module")
def replica():
    return datasets.load_jsp_replica()


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
    # Independent computation, as tests/test_jsp_replica.py does it: squared correlation of the
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
    assert summary["share_in_band"] == pytest.approx(0.6)


def test_coefficient_spread_matches_the_per_school_lines(replica):
    _, fit = schools.per_school_regressions(replica, "math", "year", "school", True)
    spread = schools.coefficient_spread(fit)
    slopes = fit.table["slope"].dropna()
    assert spread.loc["slope", "schools"] == len(slopes)
    assert spread.loc["slope", "SD"] == pytest.approx(slopes.std())
    assert spread.loc["intercept", "median"] == pytest.approx(fit.table["intercept"].dropna().median())


# --------------------------------------------------------------------------- ranking


def fake_fit(effects, sds):
    blups = pd.DataFrame({"n": 10, "u0": effects, "u0_sd": sds},
                         index=pd.Index(list("ABCD")[: len(effects)], name="school"))
    return types.SimpleNamespace(blups=blups)


def test_rank_schools_intervals_positions_and_ranks():
    table = schools.rank_schools(fake_fit([2.0, -3.0, 0.5, 0.0], [0.5, 1.0, 1.0, 1e-9]),
                                 raw_means=pd.Series({"A": 20, "B": 30, "C": 25, "D": 10}))
    assert table.index.tolist() == ["A", "C", "D", "B"]  # sorted by effect
    assert table.loc["A", "lower"] == pytest.approx(2.0 - 1.959963984540054 * 0.5)
    assert table.loc["B", "upper"] == pytest.approx(-3.0 + 1.959963984540054)
    assert table["position"].to_dict() == {"A": "above", "C": "average", "D": "average",
                                           "B": "below"}
    assert table["rank"].to_dict() == {"A": 1, "C": 2, "D": 3, "B": 4}
    assert table["naive_rank"].to_dict() == {"A": 3, "C": 2, "D": 4, "B": 1}
    # B is far below everyone: its rank never moves. C and D overlap: both can take 2 or 3.
    assert (table.loc["B", "rank_low"], table.loc["B", "rank_high"]) == (4, 4)
    assert table.loc["C", "rank_low"] <= 2 and table.loc["C", "rank_high"] >= 3
    summary = schools.ranking_summary(table)
    assert (summary["overlap_average"], summary["above"], summary["below"]) == (2, 1, 1)


def test_rank_ranges_are_seeded_and_shrink_with_precision():
    wide = schools.rank_schools(fake_fit([0.0, 0.1, 0.2, 0.3], [1.0] * 4), seed=7)
    again = schools.rank_schools(fake_fit([0.0, 0.1, 0.2, 0.3], [1.0] * 4), seed=7)
    narrow = schools.rank_schools(fake_fit([0.0, 0.1, 0.2, 0.3], [0.001] * 4), seed=7)
    pd.testing.assert_frame_equal(wide, again)
    assert (wide["rank_high"] - wide["rank_low"]).min() >= 2
    assert (narrow["rank_high"] == narrow["rank_low"]).all()
    assert (narrow["rank"] == narrow["rank_low"]).all()


def test_ranking_intervals_match_lme4_conditional_modes(replica):
    case = "jsp_year0_raven_ri_reml"
    year0 = replica[replica["year"] == 0]
    fit = schools.fit_ranking_model(year0, "math", "school", "raven")
    assert fit.variance["tau00"] == pytest.approx(lme4(case, "tau00"), rel=RTOL)
    table = schools.rank_schools(fit)
    table.index = table.index.astype(str)
    ref = RANEF[RANEF["case"] == case].set_index("group")
    ours = table.loc[ref.index]
    spread = ref["mode"].std()
    np.testing.assert_allclose(ours["effect"], ref["mode"], rtol=RTOL, atol=RTOL * spread)
    np.testing.assert_allclose(ours["sd"], ref["condsd"], rtol=RTOL)
    np.testing.assert_allclose(ours["lower"], ref["mode"] - 1.959963984540054 * ref["condsd"],
                               rtol=RTOL, atol=RTOL * spread)
    # Ranks from lme4's modes (1 = highest).
    lme4_rank = ref["mode"].rank(ascending=False, method="min").astype(int)
    assert (ours["rank"] == lme4_rank).mean() > 0.95  # ties within 1e-3 may swap


def test_exam_ranking_uses_the_random_slope_model_checked_against_lme4():
    exam = datasets.load_reference("exam")
    fit = schools.fit_ranking_model(exam, "normexam", "school", "standLRT", random_slope=True)
    for name in ("tau00", "tau11", "sigma2"):
        assert fit.variance[name] == pytest.approx(lme4("exam_rs_reml", name), rel=RTOL)
    table = schools.rank_schools(fit)
    table.index = table.index.astype(str)
    ref = RANEF[(RANEF["case"] == "exam_rs_reml") & (RANEF["term"] == "Intercept")].set_index("group")
    np.testing.assert_allclose(table.loc[ref.index, "sd"], ref["condsd"], rtol=RTOL)


def test_unadjusted_ranking_is_the_empty_model(replica):
    year0 = replica[replica["year"] == 0]
    fit = schools.fit_ranking_model(year0, "math", "school", None, random_slope=True)
    assert fit.predictor is None and not fit.random_slope
    assert list(fit.fixed.index) == ["Intercept"]


def test_rank_changes_sign_and_order():
    adjusted = pd.DataFrame({"rank": [1, 2, 3]}, index=["A", "B", "C"])
    unadjusted = pd.DataFrame({"rank": [3, 2, 1]}, index=["A", "B", "C"])
    changes = schools.rank_changes(adjusted, unadjusted)
    assert changes.index.tolist() == ["A", "C", "B"]
    assert changes.loc["A", "change"] == 2 and changes.loc["C", "change"] == -2
    assert changes.loc["B", "moved"] == 0


# --------------------------------------------------------------------------- separate vs multilevel


def test_sample_schools_is_nested_and_keeps_whole_pupils(replica):
    small = schools.sample_schools(replica, "school", 5, 4, seed=3, subgroup="pupil")
    large = schools.sample_schools(replica, "school", 6, 5, seed=3, subgroup="pupil")
    assert small["school"].nunique() == 5
    assert set(small["school"]) <= set(large["school"])
    assert set(small["pupil"]) <= set(large["pupil"])
    assert small.groupby("school")["pupil"].nunique().max() <= 4
    # Every kept pupil keeps all their records.
    records = replica.groupby("pupil").size()
    assert (small.groupby("pupil").size() == records.loc[small["pupil"].unique()]).all()
    assert small.attrs["synthetic"]


def test_sample_schools_rows_as_pupils():
    exam = datasets.load_reference("exam")
    sample = schools.sample_schools(exam, "school", 10, 3, seed=1)
    assert sample["school"].nunique() == 10 and sample.groupby("school").size().max() <= 3


def test_slope_pairs_are_the_own_ols_and_multilevel_slopes(replica):
    chosen = schools.sample_schools(replica, "school", 12, 30, seed=2, subgroup="pupil")
    comparison = models.compare_pooling(chosen, "math", "year", "school", random_slope=True)
    pairs = schools.slope_pairs(comparison)
    school = pairs.index[0]
    rows = chosen[chosen["school"] == school]
    assert pairs.loc[school, "ols_slope"] == pytest.approx(np.polyfit(rows["year"], rows["math"], 1)[0])
    assert pairs.loc[school, "multilevel_slope"] == pytest.approx(
        comparison.multilevel.blups.loc[school, "slope"])
    # Partial pooling: the multilevel slopes vary less than the schools' own.
    assert pairs["multilevel_slope"].std() < pairs["ols_slope"].std()


def test_multilevel_slopes_approach_own_slopes_as_schools_grow():
    exam = datasets.load_reference("exam")
    gaps = []
    for per_school in (10, 200):
        chosen = schools.sample_schools(exam, "school", 65, per_school, seed=0)
        pairs = schools.slope_pairs(models.compare_pooling(chosen, "normexam", "standLRT", "school"))
        gaps.append(pairs["gap"].abs().median())
    assert gaps[1] < gaps[0] / 2


# --------------------------------------------------------------------------- three levels


@pytest.fixture(scope="module")
def levels(replica):
    return schools.compare_levels(replica, "math", "school", "pupil", "year")


def test_three_level_model_matches_lme4(levels):
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
    with pytest.raises(models.ModelDataError):
        schools.compare_levels(replica[replica["year"] == 0], "math", "school", "pupil", "year")


# --------------------------------------------------------------------------- figures


def test_caterpillar_figure_data():
    table = schools.rank_schools(fake_fit([2.0, -3.0, 0.5, 0.0], [0.5, 1.0, 1.0, 0.2]))
    fig = plots_schools.caterpillar_figure(table, "t · JSP (synthetic replica)", "effect")
    by_meta = {t.meta: t for t in fig.data}
    assert set(by_meta) == {"above", "average", "below"}
    assert sum(len(t.x) for t in fig.data) == 4
    above = by_meta["above"]
    assert list(above.x) == [2.0] and above.error_x.array[0] == pytest.approx(1.959963984540054 * 0.5)
    assert "synthetic replica" in fig.layout.title.text


def test_rank_slope_figure_highlights_movers():
    left = pd.Series({"A": 1, "B": 2, "C": 3})
    right = pd.Series({"A": 3, "B": 2, "C": 1})
    fig = plots_schools.rank_slope_figure(left, right, "t", "raw", "model", highlight=["A"])
    metas = [t.meta for t in fig.data]
    assert metas == ["others", "moved:A"]
    assert list(fig.data[1].y) == [1, 3]
    assert [y for y in fig.data[0].y if y is not None] == [2, 2, 3, 1]


def test_slope_scatter_has_the_diagonal_and_the_schools():
    pairs = pd.DataFrame({"n": [5, 50], "ols_slope": [0.0, 2.0], "multilevel_slope": [0.8, 1.9]},
                         index=[1, 2])
    fig = plots_schools.slope_scatter_figure(pairs, "t", "x", "y", fixed_slope=1.0)
    by_meta = {t.meta: t for t in fig.data}
    assert list(by_meta["y=x"].x) == list(by_meta["y=x"].y)
    assert list(by_meta["schools"].x) == [0.0, 2.0]
    assert list(by_meta["average slope"].y) == [1.0, 1.0]
    empty = plots_schools.slope_scatter_figure(pairs.iloc[:0], "t", "x", "y")
    assert len(empty.data[-1].x) == 0


def test_partition_figure_and_histogram(levels):
    fig = plots_schools.variance_partition_figure(levels.partition, "t")
    assert [t.meta for t in fig.data] == ["school", "pupil", "occasion"]
    three_level_total = sum(float(t.x[0]) for t in fig.data)
    assert three_level_total == pytest.approx(1.0)
    hist = plots_schools.r2_histogram(pd.Series([0.1, 0.7, np.nan]), (0.6, 0.9), "t")
    assert list(hist.data[0].x) == [0.1, 0.7]
    assert (hist.layout.shapes[0].x0, hist.layout.shapes[0].x1) == (0.6, 0.9)


def test_trajectory_and_lines_figures(replica):
    school = replica[replica["school"] == 1]
    fig = plots_schools.pupil_trajectories_figure(school, "pupil", "year", "math", "t", "x", "y")
    pupils = fig.data[0]
    assert pupils.meta == "pupils"
    assert sum(v is None for v in pupils.y) == school["pupil"].nunique()
    assert list(fig.data[1].y) == pytest.approx(school.groupby("year")["math"].mean().tolist())
    rows, fit = schools.per_school_regressions(replica, "math", "year", "school", True)
    lines = models.fitted_lines({"per_group": fit}, {"all": (0, 2)})
    fig = plots_schools.school_lines_figure(lines, "t", "x", "y", points=rows, x="year",
                                            y="math", group="school", highlight=1)
    assert [t.meta for t in fig.data] == ["points", "school lines", "highlight:1"]
    assert sum(v is None for v in fig.data[1].y) == lines["group"].nunique()
