"""The longitudinal lesson's core: simulations, decompositions, complete cases, AR(1), loaders.

Where expected values come from:

- the simulations' true slopes are their own parameters (``simulate_reading``'s docstring:
  within = growth, between = growth + cohort), checked within a few standard errors;
- identities of least squares / GLS that hold whatever the data (Mundlak: the coefficient of
  a person-mean-centred predictor in a random-intercept model is the fixed-effects "within"
  estimator; with balanced data and a common design, GLS = OLS), computed here independently
  with numpy;
- data set sizes from the R documentation of ``nlme::Oxboys`` (26 boys, 234 rows) and
  ``mlmRev::egsingle`` (7230 rows, 1721 pupils, 60 schools);
- the precomputed AR(1) file is checked by recomputing some of its replicates, and against
  theory where the fitted model is the true one (rho = 0: 95 % intervals cover 95 %).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hlmlab.analyses import longitudinal as L
from hlmlab.analyses import longitudinal_figures as lplots
from hlmlab.errors import ModelDataError


# --------------------------------------------------------------------------- Part 1


def test_reading_simulation_is_seeded_nested_and_labelled():
    a = L.simulate_reading(40)
    b = L.simulate_reading(40)
    pd.testing.assert_frame_equal(a, b)
    more = L.simulate_reading(80)
    pd.testing.assert_frame_equal(more.iloc[: len(a)].reset_index(drop=True), a)
    assert (a.groupby("child").size() == 2).all()
    assert a.attrs["synthetic"] is True and "simulated" in a.attrs["label"].lower()
    gaps = a.groupby("child")["time"].max()
    assert gaps.between(0.8, 1.2).all()
    np.testing.assert_allclose(a["age"], a["entry_age"] + a["time"])
    assert L.simulate_reading(30, seed=1)["reading"].ne(L.simulate_reading(30)["reading"]).any()


@pytest.mark.parametrize("bad", [dict(n_children=1), dict(n_children=L.MAX_CHILDREN + 1),
                                 dict(noise=-1.0)])
def test_reading_simulation_rejects_impossible_settings(bad):
    with pytest.raises(ValueError):
        L.simulate_reading(**bad)


def test_decompose_age_both_ways():
    data = L.simulate_reading(25)
    out = L.decompose_age(data)
    np.testing.assert_allclose(out.groupby("child")["age_within"].sum(), 0.0, atol=1e-12)
    np.testing.assert_allclose(out["age_mean"] + out["age_within"], out["age"])
    np.testing.assert_allclose(out["entry_age"] + out["time_since_entry"], out["age"])
    # Without an entry column the first age is the entry age.
    derived = L.decompose_age(data.drop(columns="entry_age"), entry=None)
    np.testing.assert_allclose(derived["entry_age"], data["entry_age"])


def test_within_slope_is_the_fixed_effects_estimator():
    """Mundlak: in y ~ x_within + x_mean + (1|child) the x_within coefficient is the within
    (fixed-effects) OLS estimator, computed here from demeaned data."""
    comparison = L.reading_comparison(L.simulate_reading(60, noise=3.0))
    d = comparison.data
    y_within = d["reading"] - d.groupby("child")["reading"].transform("mean")
    x_within = d["age_within"]
    within_ols = float((x_within @ y_within) / (x_within @ x_within))
    assert comparison.slopes().loc["within", "estimate"] == pytest.approx(within_ols, rel=1e-6)


def test_slopes_recover_the_simulation_truth_and_separate_under_confounding():
    data = L.simulate_reading(L.MAX_CHILDREN, growth=6.0, cohort=-9.0)
    slopes = L.reading_comparison(data).slopes()
    for name, truth in (("within", 6.0), ("between", -3.0), ("entry: within", 6.0),
                        ("entry: between", -3.0)):
        row = slopes.loc[name]
        assert abs(row["estimate"] - truth) < 4 * row["se"], name
        assert row["truth"] == truth
    pooled = slopes.loc["pooled", "estimate"]
    # The pooled slope mixes the two: it lies between them, far from the growth rate.
    assert slopes.loc["between", "estimate"] < pooled < slopes.loc["within", "estimate"]
    assert pooled < 6.0 - 3 * slopes.loc["within", "se"]


def test_slopes_converge_without_the_confound():
    slopes = L.reading_comparison(L.simulate_reading(L.MAX_CHILDREN, cohort=0.0)).slopes()
    within, between = slopes.loc["within"], slopes.loc["between"]
    assert abs(within["estimate"] - between["estimate"]) < 3 * np.hypot(within["se"], between["se"])
    assert abs(slopes.loc["pooled", "estimate"] - 6.0) < 4 * slopes.loc["pooled", "se"]


def test_child_lines_join_each_childs_two_points():
    comparison = L.reading_comparison(L.simulate_reading(12))
    d = comparison.data.sort_values(["child", "age"])
    first, last = d.groupby("child").first(), d.groupby("child").last()
    expected = (last["reading"] - first["reading"]) / (last["age"] - first["age"])
    np.testing.assert_allclose(comparison.child_lines["slope"], expected, rtol=1e-9)


@pytest.mark.parametrize("settings", [
    dict(n_children=10, entry_spread=0.2, growth=0.0, cohort=-15.0, sd_level=0.0,
         sd_growth=0.0, noise=0.0),
    dict(n_children=10, entry_spread=3.0, growth=12.0, cohort=10.0, sd_level=10.0,
         sd_growth=4.0, noise=8.0),
])
def test_extreme_reading_settings_fit_or_explain(settings):
    data = L.simulate_reading(**settings)
    comparison = L.reading_comparison(data)
    missing = [name for name in ("person_mean", "entry_time")
               if getattr(comparison, name) is None]
    assert len(comparison.messages) == len(missing)
    assert all(m.severity == "error" and m.detail.endswith(".") for m in comparison.messages)
    assert len(comparison.slopes()) >= 1
    for random_slope in (False, True):
        try:
            fit = L.fit_reading_growth(data, random_slope)
        except ModelDataError as exc:  # explained in words, not a traceback
            assert str(exc).endswith(".")
        else:
            if not fit.usable:
                assert fit.messages


def test_random_intercept_growth_slope_is_a_blend_pulled_toward_the_within_slope():
    """lessons/longitudinal.md (growth-model): the random-intercept slope of age is a
    precision-weighted mix of the within- and between-child slopes, pulled toward the
    within one (hlmlab.within_between, exact at the fit's variances)."""
    from hlmlab.within_between import decompose_slope

    data = L.simulate_reading()
    fit = L.fit_reading_growth(data)
    split = decompose_slope(data, "reading", "age", "child")
    assert split.random_intercept_slope == pytest.approx(fit.fixed["age"], rel=1e-10)
    assert split.blend.blend == pytest.approx(fit.fixed["age"], abs=1e-8)
    assert split.blend.within_weight > 0.9
    assert abs(fit.fixed["age"] - split.within) < abs(fit.fixed["age"] - split.blend.between)


def test_growth_model_opens_on_the_random_intercept_the_data_can_carry(lme4):
    """At the page's default sliders (the reference data set long_reading) the random
    intercept fits cleanly and agrees with lme4 (case long_reading_ri_reml); asking for the
    random slope gives four variance parameters, as many random effects as measurements, and
    a boundary fit, as lme4 finds (case long_reading_rs_reml, fitted with lme4's
    check.nobs.vs.nRE switched off)."""
    data = L.decompose_age(L.simulate_reading())
    default = L.fit_reading_growth(data)
    assert not default.random_slope and not default.singular and default.converged
    assert not default.messages
    assert default.fixed["age"] == pytest.approx(lme4("long_reading_ri_reml", "fixef", "age"),
                                                 rel=1e-3)
    for quantity in ("tau00", "sigma2", "loglik"):
        ours = default.loglik if quantity == "loglik" else default.variance[quantity]
        assert ours == pytest.approx(lme4("long_reading_ri_reml", quantity), rel=1e-3)
    assert lme4("long_reading_ri_reml", "singular") == 0
    slope = L.fit_reading_growth(data, random_slope=True)
    variance_parameters = slope.n_params - len(slope.fixed)
    assert variance_parameters == 4  # tau00, tau11, tau01, sigma2
    random_effects = 2 * slope.n_groups
    assert random_effects == slope.n_obs == len(data)
    assert slope.singular and lme4("long_reading_rs_reml", "singular") == 1
    assert any(m.severity == "warning" and "Boundary" in m.headline for m in slope.messages)


# --------------------------------------------------------------------------- Part 2


def test_growth_simulation_missing_is_nested_and_timing_bounded():
    full = L.simulate_growth(missing_share=0.0, irregular=0.0)
    assert len(full) == 60 * 5
    assert (full["time"] == full["wave"] - 1).all()
    some = L.simulate_growth(missing_share=0.3)
    more = L.simulate_growth(missing_share=0.5)
    key = ["child", "wave"]
    assert set(map(tuple, more[key].to_numpy())) <= set(map(tuple, some[key].to_numpy()))
    assert 0.2 < 1 - len(some) / len(full) < 0.4
    jittered = L.simulate_growth(irregular=1.0)
    offset = jittered["time"] - (jittered["wave"] - 1)
    assert offset.abs().max() <= 0.5 and offset.abs().max() > 0.3


def test_complete_case_counts_and_estimates():
    data = L.simulate_growth(n_occasions=4, missing_share=0.25, irregular=0.5)
    cc = L.complete_case_analysis(data, 4, 60)
    per_child = data.groupby("child")["wave"].nunique().reindex(range(1, 61), fill_value=0)
    complete = per_child.index[per_child == 4]
    assert cc["children_used"] == len(complete)
    assert cc["children_dropped"] == 60 - len(complete)
    assert cc["rows_used"] == 4 * len(complete)
    # Independently: each complete child's OLS slope on the planned wave, averaged.
    slopes = []
    for child in complete:
        part = data[data["child"] == child].sort_values("wave")
        X = np.column_stack([np.ones(4), np.arange(4.0)])
        slopes.append(np.linalg.lstsq(X, part["score"].to_numpy(), rcond=None)[0][1])
    assert cc["slope"] == pytest.approx(np.mean(slopes), rel=1e-9)
    assert cc["slope_se"] == pytest.approx(np.std(slopes, ddof=1) / np.sqrt(len(slopes)), rel=1e-9)


def test_balanced_data_complete_cases_and_mixedlm_agree():
    """With every child at the same times, GLS equals OLS: the mixed model's growth rate is
    the average of the children's own slopes."""
    result = L.growth_comparison(L.simulate_growth(missing_share=0.0, irregular=0.0))
    assert result.mixed is not None and result.mixed.usable
    assert result.mixed.fixed["time"] == pytest.approx(result.complete_case["slope"], rel=1e-6)
    table = result.table()
    assert table.loc["children used", "MixedLM, every observation"] == 60


def test_mixedlm_uses_every_observation_when_occasions_are_missing():
    data = L.simulate_growth(missing_share=0.4, irregular=0.6)
    result = L.growth_comparison(data)
    assert result.mixed.n_obs == len(data)
    assert result.complete_case["rows_used"] < len(data)
    table = result.table()
    assert table.loc["measurements used", "MixedLM, every observation"] == len(data)
    assert abs(result.mixed.fixed["time"] - 3.0) < 4 * result.mixed.fixed_se["time"]


def test_no_complete_child_gives_nan_not_an_error():
    data = L.simulate_growth(n_occasions=8, missing_share=0.6)
    result = L.growth_comparison(data)
    if result.complete_case["children_used"] < 2:
        assert np.isnan(result.complete_case["slope"])


# --------------------------------------------------------------------------- AR(1)


def test_ar1_errors_have_the_requested_lag_one_correlation_and_sd():
    rng = np.random.default_rng(0)
    e = L._ar1_errors(rng, 20000, 6, 0.6, 2.0)
    assert e.std() == pytest.approx(2.0, rel=0.02)
    lag1 = np.corrcoef(e[:, :-1].ravel(), e[:, 1:].ravel())[0, 1]
    lag2 = np.corrcoef(e[:, :-2].ravel(), e[:, 2:].ravel())[0, 1]
    assert lag1 == pytest.approx(0.6, abs=0.02)
    assert lag2 == pytest.approx(0.36, abs=0.02)


@pytest.fixture(scope="module")
def ar1_runs():
    return L.load_ar1_simulation()


def test_precomputed_ar1_file_is_reproducible(ar1_runs):
    fresh = L.ar1_simulation(rhos=(0.0, 0.9), replicates=2, first_replicate=5)
    stored = ar1_runs[ar1_runs["replicate"].isin([5, 6]) & ar1_runs["rho"].isin([0.0, 0.9])]
    merged = fresh.merge(stored, on=["rho", "replicate", "model"], suffixes=("", "_stored"))
    assert len(merged) == len(fresh) == 2 * 2 * 3
    # 1e-5: the random-slope SEs depend on where the optimiser stops (about 1e-7 apart
    # between runs); a different draw would differ by several per cent.
    np.testing.assert_allclose(merged["estimate"], merged["estimate_stored"], rtol=1e-5)
    np.testing.assert_allclose(merged["se"], merged["se_stored"], rtol=1e-5)


def test_precomputed_ar1_file_is_complete_and_converged(ar1_runs):
    counts = ar1_runs.groupby(["rho", "model"]).size()
    assert (counts == 200).all() and len(counts) == 4 * 3
    assert ar1_runs["converged"].all()


def test_correct_model_is_honest_without_autocorrelation(ar1_runs):
    """At rho = 0 the random-slope model is the true model: its 95 % intervals should cover
    about 95 %. Allowed: 0.88 to 0.99, i.e. the binomial SE with 200 replicates (1.5 %) three
    times below, plus the known small-sample undercoverage of +-1.96 SE Wald intervals with 40
    children (a t interval on 39 df would use 2.02); its SE should match the actual SD within
    15 % (the SD of an SD estimated from 200 replicates is about 5 %)."""
    summary = L.summarise_ar1(ar1_runs).set_index(["rho", "model"])
    honest = summary.loc[(0.0, "rs")]
    assert 0.88 <= honest["coverage"] <= 0.99
    assert honest["ratio"] == pytest.approx(1.0, abs=0.15)
    # Balanced data, same times for every child: all three models give the same estimate.
    wide = ar1_runs.pivot_table(index=["rho", "replicate"], columns="model", values="estimate")
    np.testing.assert_allclose(wide["ri"], wide["pooled"], rtol=1e-6)
    np.testing.assert_allclose(wide["rs"], wide["pooled"], rtol=1e-6)


def test_summarise_ar1_by_hand():
    runs = pd.DataFrame({"rho": [0.5] * 4, "replicate": range(4), "model": ["ri"] * 4,
                         "estimate": [0.8, 1.0, 1.2, 1.4], "se": [0.1, 0.2, 0.3, 0.2],
                         "converged": True})
    row = L.summarise_ar1(runs).iloc[0]
    assert row["actual_sd"] == pytest.approx(np.std([0.8, 1.0, 1.2, 1.4], ddof=1))
    assert row["mean_reported_se"] == pytest.approx(0.2)
    # |est - 1| <= 1.96 se: 0.2<=0.196 no; 0<=0.392 yes; 0.2<=0.588 yes; 0.4<=0.392 no
    assert row["coverage"] == pytest.approx(0.5)


# --------------------------------------------------------------------------- real data


def test_oxboys_loader():
    data = L.load_oxboys()
    assert data.shape[0] == 234 and data["Subject"].nunique() == 26
    assert "rownames" not in data.columns
    np.testing.assert_allclose(data["age2"], data["age"] ** 2)
    assert data.attrs["synthetic"] is False
    data["height"] = 0.0  # a copy: the cached frame is not changed
    assert L.load_oxboys()["height"].gt(100).all()


def test_egsingle_loader():
    data = L.load_egsingle()
    assert data.shape[0] == 7230
    assert data["childid"].nunique() == 1721 and data["schoolid"].nunique() == 60
    assert "rownames" not in data.columns
    assert not any(data[c].dtype == object for c in data.columns)


# --------------------------------------------------------------------------- figures


def test_reading_figure_traces():
    comparison = L.reading_comparison(L.simulate_reading(20))
    fig = lplots.reading_figure(comparison)
    metas = [t.meta for t in fig.data]
    assert metas == ["children", "pooled"]
    # 20 children x (2 points + 1 gap)
    assert len(fig.data[0].x) == 60
    growth = L.fit_reading_growth(comparison.data)
    fig = lplots.reading_figure(comparison, growth, show_decomposition=True,
                                show_child_model_lines=True)
    metas = [t.meta for t in fig.data]
    if growth.usable:
        assert {"growth", "growth_children"} <= set(metas)
    assert {"within", "between"} <= set(metas)
    within = next(t for t in fig.data if t.meta == "within")
    slope = (within.y[1] - within.y[0]) / (within.x[1] - within.x[0])
    assert slope == pytest.approx(comparison.slopes().loc["within", "estimate"])


def test_slopes_and_growth_figures():
    comparison = L.reading_comparison(L.simulate_reading(20))
    fig = lplots.slopes_figure(comparison.slopes())
    assert [t.meta for t in fig.data] == ["estimates", "truth"]
    assert len(fig.data[0].x) == 5
    result = L.growth_comparison(L.simulate_growth(missing_share=0.3))
    counts = result.data.groupby("child")["wave"].nunique()
    complete = counts.index[counts == 5]
    assert result.complete_children.tolist() == complete.tolist()
    fig = lplots.growth_figure(result.data, complete, result.mixed)
    traces = {t.meta: t for t in fig.data}
    assert sum(x is None for x in traces["complete"].x) == len(complete)
    assert sum(x is None for x in traces["incomplete"].x) == result.data["child"].nunique() - len(complete)
    assert "mixed" in traces


def test_random_slider_settings_never_raise():
    """A seeded sweep over the page's slider ranges: every fit returns or explains itself."""
    rng = np.random.default_rng(4)
    for _ in range(5):
        settings = dict(
            n_children=int(rng.choice(np.arange(10, 201, 10))),
            entry_spread=float(rng.choice(np.arange(0.2, 3.01, 0.1))),
            growth=float(rng.choice(np.arange(0, 12.1, 0.5))),
            cohort=float(rng.choice(np.arange(-15, 10.1, 0.5))),
            sd_level=float(rng.choice(np.arange(0, 10.1, 0.5))),
            sd_growth=float(rng.choice(np.arange(0, 4.01, 0.25))),
            noise=float(rng.choice(np.arange(0, 8.1, 0.5))),
        )
        data = L.simulate_reading(**settings)
        L.reading_comparison(data).slopes()
        for random_slope in (False, True):
            try:
                L.fit_reading_growth(data, random_slope)
            except ModelDataError as exc:
                assert str(exc), settings
        growth = L.simulate_growth(60, int(rng.integers(2, 9)),
                                   float(rng.choice(np.arange(0, 0.61, 0.05))),
                                   float(rng.choice(np.arange(0, 1.01, 0.1))))
        result = L.growth_comparison(growth)
        result.table()
        assert (result.mixed is None) == bool(result.messages)


def test_quick_paths_skip_only_the_slow_fits():
    reading = L.reading_comparison(L.simulate_reading(20), decompose=False)
    assert reading.person_mean is None and reading.entry_time is None
    assert list(reading.slopes().index) == ["pooled"]
    quick = L.growth_comparison(L.simulate_growth(missing_share=0.3), fit=False)
    full = L.growth_comparison(L.simulate_growth(missing_share=0.3))
    assert quick.mixed is None and quick.complete_case == full.complete_case
    assert quick.table()["MixedLM, every observation"].iloc[2:].isna().all()


def test_a_fit_that_breaks_down_numerically_is_explained(monkeypatch):
    def broken(*args, **kwargs):
        raise ValueError("array must not contain infs or NaNs")

    monkeypatch.setattr(L, "fit_multilevel", broken)
    data = L.simulate_reading(20)
    for random_slope in (False, True):
        with pytest.raises(ModelDataError, match="broke down numerically"):
            L.fit_reading_growth(data, random_slope)
    comparison = L.reading_comparison(data)
    assert comparison.person_mean is None and comparison.entry_time is None
    assert [m.headline for m in comparison.messages] == [
        "The person-mean model could not be fitted.",
        "The entry-and-time model could not be fitted."]
    assert list(comparison.slopes().index) == ["pooled"]
    growth = L.growth_comparison(L.simulate_growth())
    assert growth.mixed is None and "broke down numerically" in growth.messages[0].detail


# --------------------------------------------------------------------------- real data models


def test_oxboys_growth_curves_follow_the_fixed_effects():
    growth = L.oxboys_growth()
    assert growth.linear.converged and growth.quadratic.converged
    assert growth.quadratic.covariates == ("age2",)
    curves = growth.curves(points=5)
    grid, height = curves["quadratic"]
    f = growth.quadratic.fixed
    np.testing.assert_allclose(height, f["Intercept"] + f["age"] * grid + f["age2"] * grid**2)
    assert grid[0] == growth.data["age"].min() and grid[-1] == growth.data["age"].max()
    fig = lplots.oxboys_figure(growth)
    assert [t.meta for t in fig.data] == ["people", "Straight line (random slope)",
                                          "Quadratic: + age²"]


def test_oxboys_models_are_compared_on_their_ml_fits(lme4):
    """The table's every number is lme4's: residual variances of the REML fits (cases
    oxboys_linear_rs_reml, oxboys_quadratic_rs_reml), log-likelihoods, AIC and BIC of the ML
    fits (oxboys_linear_rs_ml, oxboys_quadratic_rs_ml); the likelihood-ratio test of the
    quadratic term is 2 (logLik quadratic - logLik linear) of the ML fits on 1 df."""
    from scipy import stats as sps

    growth = L.oxboys_growth()
    table = growth.comparison_table()
    cases = {"straight line": "oxboys_linear_rs", "quadratic": "oxboys_quadratic_rs"}
    for column, case in cases.items():
        assert table.loc["residual variance sigma2 (REML)", column] == pytest.approx(
            lme4(f"{case}_reml", "sigma2"), rel=1e-3)
        loglik = lme4(f"{case}_ml", "loglik")
        k = table.loc["parameters", column]
        assert table.loc["log-likelihood (ML)", column] == pytest.approx(loglik, rel=1e-3)
        assert table.loc["AIC (ML)", column] == pytest.approx(-2 * loglik + 2 * k, rel=1e-3)
        assert table.loc["BIC (ML)", column] == pytest.approx(
            -2 * loglik + k * np.log(lme4(f"{case}_ml", "n_obs")), rel=1e-3)
    assert list(table.loc["parameters"]) == [6, 7]
    statistic, df, p_value = growth.likelihood_ratio()
    expected = 2 * (lme4("oxboys_quadratic_rs_ml", "loglik") - lme4("oxboys_linear_rs_ml", "loglik"))
    assert statistic == pytest.approx(expected, rel=1e-3) and df == 1
    assert p_value == pytest.approx(sps.chi2.sf(expected, 1), rel=1e-2) and p_value < 1e-6
    # The REML log-likelihoods are another criterion, never compared across the two models.
    assert not growth.linear_ml.reml and growth.linear.reml
    assert growth.linear.loglik != pytest.approx(growth.linear_ml.loglik, rel=1e-4)


def test_egsingle_sample_is_seeded_and_whole_children():
    data = L.load_egsingle()
    sample = L.egsingle_sample(data)
    assert sample["childid"].nunique() == L.EGSINGLE_SAMPLE
    pd.testing.assert_frame_equal(sample, L.egsingle_sample(data))
    records = data.groupby("childid").size()
    kept = sample.groupby("childid").size()
    assert kept.equals(records.loc[kept.index])  # every record of a drawn child


# --------------------------------------------------------------------------- the page's panels


def test_panels_snap_their_sliders_and_compare_by_value():
    assert set(L.READING.sliders) == {"children", "entry_spread", "growth", "cohort",
                                      "sd_level", "sd_growth", "noise"}
    assert L.READING.snapped(L.Reading(entry_spread=1.4 + 0.1)) == L.Reading(entry_spread=1.5)
    assert set(L.GROWTH.sliders) == {"occasions", "missing", "irregular"}
    assert L.OXBOYS.snapped(L.RealData()) == L.RealData()


def test_reading_panel_at_the_defaults_is_lme4s_random_intercept(lme4):
    """Part 1 at the page's defaults (reference data long_reading, case
    long_reading_ri_reml): the growth slope shown, the pooled slope, no decomposition until
    the question is answered."""
    view = L.reading_view(L.Reading())
    assert view.growth_slope == pytest.approx(lme4("long_reading_ri_reml", "fixef", "age"),
                                              rel=1e-3)
    comparison = L.reading_comparison(L.simulate_reading(), decompose=False)
    assert view.pooled_slope == comparison.pooled.coef["age"]
    assert view.growth_formula == "reading ~ age + (1 | child)" and not view.growth_error
    assert view.slopes_chart is None and view.slopes_table is None and view.person_mean is None
    assert list(view.slopes.index) == ["pooled"]
    metas = [trace["meta"] for trace in __import__("json").loads(view.chart.json)["data"]]
    assert metas == ["children", "pooled", "growth"]


def test_reading_panel_revealed_shows_the_decomposition_and_the_slope_boundary():
    view = L.reading_view(L.Reading(revealed=True, child_lines=True, random_slope=True))
    comparison = L.reading_comparison(L.simulate_reading(), decompose=True)
    pd.testing.assert_frame_equal(view.slopes, comparison.slopes())
    assert view.slopes_chart is not None and "what age means here" in view.slopes_table.html
    assert view.person_mean is not None and "lmer(" in view.person_mean.code.lme4
    assert view.growth_formula == "reading ~ age + (age | child)"
    # The random slope with two measurements per child: the boundary, said in words.
    assert any(m.severity == "warning" and "Boundary" in m.headline for m in view.messages)
    metas = [trace["meta"] for trace in __import__("json").loads(view.chart.json)["data"]]
    assert {"growth_children", "within", "between"} <= set(metas)


def test_reading_panel_explains_a_growth_model_it_cannot_fit(monkeypatch):
    def refuse(*args, **kwargs):
        raise ModelDataError("The fit broke down numerically.")

    monkeypatch.setattr(L, "fit_reading_growth", refuse)
    L.reading_growth.cache_clear()
    try:
        view = L.reading_view(L.Reading(children=30, noise=0.5))
    finally:
        L.reading_growth.cache_clear()
    assert view.growth_slope is None and "broke down" in view.growth_error


def test_growth_panel_is_the_comparison_in_final_form():
    view = L.growth_view(L.Growth(5, 0.2, 0.0))
    result = L.growth_comparison(L.simulate_growth(L.GROWTH_CHILDREN, 5, 0.2, 0.0))
    assert view.complete_case == result.complete_case
    assert view.mixed_rows == result.mixed.n_obs == result.complete_case["rows_available"]
    assert view.mixed_slope == result.mixed.fixed["time"]
    assert view.mixed_se == result.mixed.fixed_se["time"] and view.true_slope == 3.0
    assert "complete-case repeated measures" in view.table.html


def test_ar1_panel_tables_each_rho_and_refuses_another():
    summary = L.summarise_ar1(L.load_ar1_simulation())
    assert tuple(sorted(summary["rho"].unique())) == L.AR1_RHOS
    for rho in L.AR1_RHOS:
        view = L.ar1_view(L.Ar1(rho))
        assert view.table.html.count("<tr>") == 1 + 3  # heading + three models
        pd.testing.assert_frame_equal(view.summary, summary)
    with pytest.raises(ModelDataError):
        L.ar1_view(L.Ar1(0.5))


def test_oxboys_panel_says_the_ml_test_and_carries_the_variances():
    view = L.oxboys_view(L.RealData())
    growth = L.oxboys_growth()
    test = growth.likelihood_ratio()
    assert f"χ² = {test.statistic:.1f} on 1 df" in view.test_sentence
    assert view.variance["tau00"] == growth.quadratic.variance["tau00"]
    assert "AIC (ML)" in view.comparison.html and "AIC (REML)" not in view.comparison.html
