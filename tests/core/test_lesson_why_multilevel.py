"""hlmlab.analyses.why_multilevel: rejection rates, design effects, sampling designs and the
Hsb82 comparison, the section results and panels the page shows;
hlmlab.analyses.why_multilevel_figures' figure data. (The balanced-design closed forms it
uses are tested in test_balanced.py.)

Reference values and where they come from:
- lme4: tests/reference/lme4_reference.csv, cases why_classic_study_reml, why_icc_empty_reml,
  hsb82_coded_ri_reml and hsb82_coded_rs_reml (tests/reference/cases.csv).
- Theory: the design effect 1 + (n - 1) ICC (Kish 1965; Snijders & Bosker 2012, eq. 3.17),
  the SE of a difference of two means, and the nominal 5% of a correct t test.
- Hsb82 counts: 7,185 pupils in 160 schools, 70 Catholic and 90 public (Raudenbush & Bryk
  2002, *Hierarchical Linear Models*, 2nd ed., ch. 4).
"""

from __future__ import annotations

import types

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from hlmlab import balanced, datasets
from hlmlab.analyses import why_multilevel as designs
from hlmlab.analyses import why_multilevel_figures as design_figures
from hlmlab.errors import ModelDataError
from hlmlab.twolevel import fit_multilevel


# --------------------------------------------------------------------------- section 1


@pytest.mark.parametrize("settings", [(10, 20, 0.2, 1976), (3, 4, 0.05, 11), (2, 2, 0.0, 5)])
def test_many_studies_statistics_equal_the_single_study_analyses(settings):
    """The vectorised run analyses a study exactly as the page's three analyses do."""
    teachers, pupils, icc, seed = settings
    data = designs.simulate_classic_study(teachers, pupils, icc, seed)
    table, _ = designs.analyse_classic_study(data)
    scores = data["score"].to_numpy().reshape(1, 2 * teachers, pupils)
    vectorised = balanced.classic_study_statistics(scores, teachers)
    order = list(balanced.ANALYSES)
    np.testing.assert_allclose(vectorised["estimate"][0], table.loc[order, "estimate"], rtol=1e-9)
    np.testing.assert_allclose(vectorised["se"][0], table.loc[order, "SE"], rtol=1e-4)
    np.testing.assert_allclose(vectorised["df"], table.loc[order, "df"])
    np.testing.assert_allclose(vectorised["p_value"][0], table.loc[order, "p-value"],
                               rtol=1e-3, atol=1e-6)


def test_single_study_table_is_consistent(lme4):
    data = designs.simulate_classic_study(10, 20, 0.2, 1976)
    table, fit = designs.analyse_classic_study(data)
    # The difference of the style means, computed directly.
    means = data.groupby("style")["score"].mean()
    assert table["estimate"].to_numpy() == pytest.approx(means["formal"] - means["informal"])
    crit = sps.t.ppf(0.975, table["df"].to_numpy())
    np.testing.assert_allclose(table["CI high"] - table["estimate"], crit * table["SE"])
    assert table.loc["multilevel", "SE"] == pytest.approx(lme4("why_classic_study_reml", "se",
                                                               "formal"), rel=1e-3)


def test_rejection_rates_at_icc_02_with_20_pupils_per_class():
    """OLS on pupils rejects far too often; MixedLM and class means stay near 5%.

    4,000 studies (fixed seed): the Monte Carlo SE of a 5% rate is 0.34 points, so the
    band 3.5%..6.5% is about +-4 SE. Theory for OLS on pupils: its SE is too small by
    sqrt(deff) = sqrt(1 + 19 * 0.2) = 2.19, so it rejects about P(|Z| > 1.96 / 2.19) = 37%.
    """
    result = designs.run_many_studies(10, 20, 0.2, n_studies=4000, seed=20240501)
    rates = result.summary["rejection_rate"]
    expected_naive = 2 * sps.norm.sf(1.96 / np.sqrt(1 + 19 * 0.2))
    assert rates["pupils_ols"] > 0.25
    assert rates["pupils_ols"] == pytest.approx(expected_naive, abs=0.04)
    assert 0.035 <= rates["multilevel"] <= 0.065
    assert 0.035 <= rates["class_means_ols"] <= 0.065
    # The honest SEs match the actual spread of the estimates; the naive one does not.
    summary = result.summary
    assert summary.loc["multilevel", "mean_se"] == pytest.approx(
        summary.loc["multilevel", "sd_estimate"], rel=0.05)
    assert summary.loc["pupils_ols", "mean_se"] < 0.6 * summary.loc["pupils_ols", "sd_estimate"]


def test_rejection_rates_agree_when_there_is_no_clustering():
    result = designs.run_many_studies(10, 20, 0.0, n_studies=4000, seed=7)
    rates = result.summary["rejection_rate"]
    assert 0.035 <= rates["pupils_ols"] <= 0.065
    assert result.boundary_share > 0.3  # with no class variance, MixedLM often estimates zero


def test_many_studies_reports_progress_and_is_reproducible():
    seen = []
    first = designs.run_many_studies(4, 5, 0.3, n_studies=105, seed=3, chunks=10,
                                     progress=seen.append)
    second = designs.run_many_studies(4, 5, 0.3, n_studies=105, seed=3, chunks=10)
    assert len(seen) == 10 and seen == sorted(seen) and seen[-1] == 1.0
    assert first.estimates.shape == (105, 3)
    np.testing.assert_array_equal(first.p_values, second.p_values)


def test_a_true_effect_is_found():
    result = designs.run_many_studies(20, 20, 0.1, n_studies=400, seed=1, effect=5.0)
    assert result.summary.loc["multilevel", "rejection_rate"] > 0.8
    assert result.estimates.mean() == pytest.approx(5.0, abs=0.3)


# --------------------------------------------------------------------------- section 2


def test_splits_multiply_to_the_total():
    splits = designs.study_splits(240)
    assert all(t * n == 240 and t % 2 == 0 and t >= 4 for t, n in splits)
    assert (4, 60) in splits and (240, 1) in splits and (6, 40) in splits
    assert len(splits) == 15  # even divisors of 240 that are at least 4


def test_precision_by_split_matches_the_design_effect_and_the_simulation():
    table = designs.precision_by_split(240, 0.2, n_studies=400, seed=2)
    deff = 1 + (table["pupils_per_teacher"] - 1) * 0.2
    np.testing.assert_allclose(table["design_effect"], deff)
    np.testing.assert_allclose(table["effective_n"], 240 / deff)
    # True SE = SE with independent pupils * sqrt(deff); SE(independent) = sqrt(4 * 100 / 240).
    np.testing.assert_allclose(table["se_true"], np.sqrt(4 * 100 / 240 * deff))
    # 400 studies: the SD's relative Monte Carlo error is about 1/sqrt(800) = 3.5%.
    np.testing.assert_allclose(table["se_simulated"], table["se_true"], rtol=0.15)
    np.testing.assert_allclose(table["deff_simulated"], deff, rtol=0.3)
    # OLS on pupils reports about the independent-pupils SE whatever the split.
    np.testing.assert_allclose(table["se_naive_ols"], np.sqrt(4 * 100 / 240), rtol=0.06)


# --------------------------------------------------------------------------- section 3


# --------------------------------------------------------------------------- section 4


def test_sampling_designs_behave():
    population = designs.make_population(0.15, 0.10, seed=4)
    result = designs.compare_sampling_designs(population, 20, 2, 10, n_samples=500, seed=8)
    s = result.summary
    assert result.sample_size == 400
    # Theory (ignoring the finite population): Var(mean) = 100 * (0.15/20 + 0.10/40 + 0.75/400).
    theory = np.sqrt(100 * (0.15 / 20 + 0.10 / 40 + 0.75 / 400))
    assert s.loc["multistage", "sd_of_mean"] == pytest.approx(theory, rel=0.2)
    assert s.loc["srs", "sd_of_mean"] == pytest.approx(np.sqrt(100 / 400), rel=0.15)
    assert 0.92 <= s.loc["srs", "naive_coverage"] <= 0.98
    assert s.loc["multistage", "naive_coverage"] < 0.8
    assert 0.92 <= s.loc["multistage", "multilevel_coverage"] <= 0.98
    assert s.loc["multistage", "multilevel_se"] == pytest.approx(s.loc["multistage", "sd_of_mean"],
                                                                 rel=0.15)


def test_multistage_sample_has_the_requested_structure():
    population = designs.make_population(0.2, 0.1)
    sample = designs.multistage_sample(population, 7, 3, 5, seed=1)
    assert len(sample) == 7 * 3 * 5
    assert sample["school"].nunique() == 7 and sample["class"].nunique() == 21
    assert (sample.groupby("class").size() == 5).all()
    assert np.isin(sample["score"], population).all()


# --------------------------------------------------------------------------- section 5


@pytest.fixture(scope="module")
def hsb82():
    return datasets.hsb82_coded(datasets.load_reference("hsb82"))


def test_hsb82_coding(hsb82):
    assert len(hsb82) == 7185 and hsb82["school"].nunique() == 160
    sector = hsb82.groupby("school")["sector"].agg(["min", "max"])
    assert (sector["min"] == sector["max"]).all()
    assert int(sector["max"].sum()) == 70  # Catholic schools


@pytest.mark.parametrize(("random_slope", "case"),
                         [(False, "hsb82_coded_ri_reml"), (True, "hsb82_coded_rs_reml")])
def test_hsb82_table(hsb82, random_slope, case, lme4):
    table, fit = designs.compare_hsb82_analyses(hsb82, random_slope)
    for term in designs.HSB82_TERMS:
        assert table.loc[term, ("MixedLM", "estimate")] == pytest.approx(
            lme4(case, "fixef", term), rel=1e-3)
        assert table.loc[term, ("MixedLM", "SE")] == pytest.approx(lme4(case, "se", term),
                                                                   rel=1e-3)
    # OLS and the CR1 cluster-robust sandwich, computed here from their textbook formulas
    # (Cameron & Miller 2015, J. Human Resources 50(2), eq. 11 with the Stata-style factor).
    X = np.column_stack([np.ones(len(hsb82)), hsb82[["ses", "sector", "meanses"]]])
    y = hsb82["mAch"].to_numpy()
    beta, *_ = np.linalg.lstsq(X, y, rcond=None)
    resid = y - X @ beta
    n, k = X.shape
    bread = np.linalg.inv(X.T @ X)
    naive_se = np.sqrt(np.diag(bread) * (resid @ resid) / (n - k))
    codes = pd.factorize(hsb82["school"])[0]
    scores = np.zeros((codes.max() + 1, k))
    np.add.at(scores, codes, X * resid[:, None])
    g = scores.shape[0]
    robust_cov = bread @ (scores.T @ scores) @ bread * g / (g - 1) * (n - 1) / (n - k)
    np.testing.assert_allclose(table[("OLS", "estimate")], beta, rtol=1e-8)
    np.testing.assert_allclose(table[("OLS", "SE")], naive_se, rtol=1e-8)
    np.testing.assert_allclose(table[("OLS cluster-robust", "SE")], np.sqrt(np.diag(robust_cov)),
                               rtol=1e-8)
    # The lesson's words: level-2 SEs grow under clustering, ses's much less.
    ratio = table[("SE ÷ OLS SE", "cluster-robust")]
    assert ratio["sector"] > 1.4 and ratio["meanses"] > 1.4 and ratio["ses"] < ratio["sector"]
    sentences = designs.explain_hsb82_standard_errors(table, fit)
    assert len(sentences) == 4 and f"{ratio['sector']:.1f}×" in sentences[1]


# --------------------------------------------------------------------------- figures


def test_rejection_figure_shows_the_rates():
    result = designs.run_many_studies(5, 10, 0.3, n_studies=200, seed=1)
    fig = design_figures.rejection_figure(result.summary, 0.05, 200)
    bar = next(t for t in fig.data if t.meta == "rates")
    np.testing.assert_allclose(bar.x, result.summary["rejection_rate"].to_numpy()[::-1] * 100)
    assert fig.layout.font.size >= 18


def test_precision_and_partition_figures():
    table = designs.precision_by_split(120, 0.4, n_studies=50)
    fig = design_figures.precision_figure(table, 120, 0.4)
    traces = {t.meta: t for t in fig.data}
    np.testing.assert_allclose(traces["se_true"].y, table["se_true"])
    assert list(traces["se_true"].x) == table["label"].tolist()
    sample = designs.IccSample(data=None, fit=types.SimpleNamespace(icc=0.25), true_icc=0.3,
                               estimate=0.25, low=0.1, high=0.5)
    part = design_figures.icc_partition_figure(sample)
    bars = {t.meta: t for t in part.data}
    assert list(bars["between"].y) == ["true", "MixedLM estimate"]
    np.testing.assert_allclose(np.asarray(bars["between"].x) + np.asarray(bars["within"].x), 1)
    assert bars["between"].x[1] == pytest.approx(0.25)
    interval = bars["interval"]
    assert list(interval.x) == [0.25] and interval.error_x.array[0] == pytest.approx(0.25)
    assert interval.error_x.arrayminus[0] == pytest.approx(0.15)


def test_study_and_sampling_figures():
    data = designs.simulate_classic_study(3, 4, 0.2, 1)
    fig = design_figures.classic_study_figure(data)
    points = sum(len(t.y) for t in fig.data if t.meta in ("formal", "informal"))
    assert points == len(data)
    means = next(t for t in fig.data if t.meta == "class means")
    np.testing.assert_allclose(means.y, data.groupby("class")["score"].mean())
    # The axis names the two groups of classes, one label each, under their classes.
    assert sorted(fig.layout.xaxis.ticktext) == ["formal classes", "informal classes"]
    for style, tick in zip(fig.layout.xaxis.ticktext, fig.layout.xaxis.tickvals):
        classes = data.loc[data["style"] == style.split()[0], "class"].unique()
        assert tick == pytest.approx(classes.mean())
    grouped = design_figures.grouped_scores_figure(designs.simulate_grouped_scores(0.5))
    assert len(grouped.data[0].y) == 300
    comparison = designs.compare_sampling_designs(designs.make_population(0.1, 0.1), 5, 1, 2,
                                                  n_samples=50)
    hist = design_figures.sampling_figure(comparison.means, comparison.population_mean, 10)
    assert {t.meta for t in hist.data} == {"multistage", "srs"}


# --------------------------------------------------------------------------- what each section shows


def test_classic_study_is_the_three_analyses_and_the_closed_form(lme4):
    """The page's default study is lme4 reference case why_classic_study_reml."""
    study = designs.classic_study(10, 20, 0.2, 1976)
    table, _ = designs.analyse_classic_study(study.data)
    pd.testing.assert_frame_equal(study.table, table)
    assert study.closed_form_estimate == pytest.approx(lme4("why_classic_study_reml", "fixef",
                                                            "formal"), rel=1e-6)
    assert study.closed_form_se == pytest.approx(study.fit.fixed_se["formal"], rel=1e-5)
    assert study.data.attrs["synthetic"] is True


def test_icc_sample_fits_the_empty_model_and_the_exact_interval(lme4):
    """The page's default sample is lme4 reference case why_icc_empty_reml."""
    sample = designs.icc_sample(0.3, 3)
    tau00, sigma2 = lme4("why_icc_empty_reml", "tau00"), lme4("why_icc_empty_reml", "sigma2")
    assert sample.fit.icc == pytest.approx(tau00 / (tau00 + sigma2), rel=1e-3)
    expected = balanced.balanced_icc_interval(sample.data["score"].to_numpy().reshape(20, 15))
    assert (sample.estimate, sample.low, sample.high) == expected
    partition = sample.partition()
    assert partition["share"].tolist() == pytest.approx([0.3, 0.7, sample.fit.icc,
                                                         1 - sample.fit.icc])


def test_sampling_study_reports_the_design_effect_and_one_fit():
    study = designs.sampling_study(0.15, 0.10, 20, 2, 10)
    summary = study.comparison.summary
    ratio = summary.loc["multistage", "sd_of_mean"] / summary.loc["srs", "sd_of_mean"]
    assert study.comparison.sd_ratio == pytest.approx(ratio)
    assert study.comparison.effective_sample_size == pytest.approx(400 / ratio**2)
    assert study.fit is not None and study.messages == ()
    assert study.fit.n_groups == 20 and study.sample["school"].nunique() == 20


def test_sampling_study_explains_a_sample_it_cannot_fit(monkeypatch):
    def refuse(*args, **kwargs):
        raise ModelDataError("A multilevel model needs at least two groups.")

    monkeypatch.setattr(designs, "fit_multilevel", refuse)
    study = designs.sampling_study(0.15, 0.10, 5, 1, 2)
    assert study.fit is None and study.comparison.sample_size == 10
    (message,) = study.messages
    assert message.severity == "error" and "two groups" in message.detail


def test_hsb82_analyses_are_the_table_and_its_explanation(hsb82):
    analyses = designs.hsb82_analyses()
    table, fit = designs.compare_hsb82_analyses(hsb82)
    pd.testing.assert_frame_equal(analyses.table, table)
    assert analyses.sentences == designs.explain_hsb82_standard_errors(table, fit)


def test_classic_chart_draws_a_capped_subset_of_pupils_but_ranges_and_means_of_all():
    """Beyond MAX_PUPILS_DRAWN pupils the chart draws the same number from every class; each
    class's range line and mean still use every pupil."""
    data = designs.simulate_classic_study(25, 20, 0.2, 1)  # 50 classes, 1,000 pupils
    fig = design_figures.classic_study_figure(data)
    drawn = design_figures.pupils_drawn_per_class(50, 20)
    assert drawn == design_figures.MAX_PUPILS_DRAWN // 50 < 20
    points = [t for t in fig.data if t.meta in ("formal", "informal")]
    assert sum(len(t.y) for t in points) == 50 * drawn <= design_figures.MAX_PUPILS_DRAWN
    assert all(f"{drawn} of 20 per class" in t.name for t in points)
    x = np.concatenate([np.asarray(t.x) for t in points])
    assert np.bincount(np.rint(x).astype(int))[1:].tolist() == [drawn] * 50
    # The points drawn are pupils of the data (none invented).
    y = np.concatenate([np.asarray(t.y) for t in points])
    assert np.isin(y, data["score"].to_numpy()).all()
    spans = data.groupby("class")["score"].agg(["min", "max"])
    for style in ("informal", "formal"):
        line = next(t for t in fig.data if t.meta == f"range:{style}")
        ys = np.asarray(line.y, dtype=float).reshape(-1, 3)
        classes = np.asarray(line.x, dtype=float).reshape(-1, 3)[:, 0].astype(int)
        np.testing.assert_allclose(ys[:, :2], spans.loc[classes, ["min", "max"]].to_numpy())
        assert np.isnan(ys[:, 2]).all()
    means = next(t for t in fig.data if t.meta == "class means")
    np.testing.assert_allclose(means.y, data.groupby("class")["score"].mean())
    assert design_figures.pupils_drawn_per_class(20, 20) == 20  # the default: every pupil


# --------------------------------------------------------------------------- the page's panels


def test_every_panel_has_frozen_settings_and_its_sliders_grids():
    assert designs.CLASSIC.sliders == {"teachers": designs.TEACHERS_RANGE,
                                       "pupils": designs.PUPILS_RANGE, "icc": designs.ICC_RANGE}
    assert set(designs.SAMPLING.sliders) == {"school_share", "class_share", "schools",
                                             "classes", "pupils"}
    # A slider's float arithmetic lands on its grid: equal settings, equal cache keys.
    assert designs.ICC.snapped(designs.Icc(0.1 + 0.2, 3)) == designs.Icc(0.3, 3)


def test_classic_panel_is_the_default_study_in_final_form(lme4):
    """The page's default study (lme4 reference case why_classic_study_reml), as shown."""
    from hlmlab.tables import DisplayTable
    from hlmlab.style import BrowserFigure

    view = designs.classic_view(designs.Classic(10, 20, 0.2, designs.CLASSIC_SEED))
    study = designs.classic_study(10, 20, 0.2, designs.CLASSIC_SEED)
    assert isinstance(view.chart, BrowserFigure) and isinstance(view.table, DisplayTable)
    assert view.mixed_se == pytest.approx(lme4("why_classic_study_reml", "se", "formal"),
                                          rel=1e-3)
    assert view.ols_se == study.table.loc["pupils_ols", "SE"]
    assert view.false_alarms == tuple(study.table.loc[study.table["p-value"] < 0.05,
                                                      "analysis"])
    assert f"{study.closed_form_estimate:.4f}" in view.closed_form_note
    assert "study #1976" in view.chart.json.decode()


def test_many_studies_panel_is_the_seeded_run():
    view = designs.many_studies_view(designs.ManyStudiesSettings(4, 5, 0.3, 100))
    run = designs.run_many_studies(4, 5, 0.3, n_studies=100)
    assert view.rejection_rates == tuple(run.summary["rejection_rate"])
    assert view.boundary_share == run.boundary_share
    assert "Monte Carlo SE" in view.rates.html


def test_icc_sampling_precision_and_hsb82_panels_carry_their_evidence(hsb82):
    icc = designs.icc_view(designs.Icc(0.3, designs.ICC_SEED))
    sample = designs.icc_sample(0.3, designs.ICC_SEED)
    assert (icc.estimate, icc.low, icc.high, icc.true_icc) == (
        sample.estimate, sample.low, sample.high, 0.3)
    assert icc.fit_icc == sample.fit.icc
    sampling = designs.sampling_view(designs.Sampling(0.15, 0.10, 20, 2, 10))
    assert sampling.comparison.sd_ratio == designs.sampling_study(
        0.15, 0.10, 20, 2, 10).comparison.sd_ratio
    assert sampling.fit_sentence is not None and "1 + (1 | school)" in sampling.fit_sentence
    precision = designs.precision_view(designs.Precision(240, 0.2))
    pd.testing.assert_frame_equal(precision.splits, designs.precision_by_split(240, 0.2))
    hsb = designs.hsb82_view(designs.Hsb82(False))
    table, fit = designs.compare_hsb82_analyses(hsb82)
    pd.testing.assert_frame_equal(hsb.ratios, table["SE ÷ OLS SE"])
    assert (hsb.schools, hsb.pupils) == (fit.n_groups, fit.n_obs) == (160, 7185)
    assert "lmer(" in hsb.code.lme4
