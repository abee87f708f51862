"""hlmlab.analyses.foundations and lessons/foundations.md: the sources-of-variability and
experiment panels, their closed forms, figures and the lesson's questions and formulas.

Reference values and where they come from:
- lme4: tests/reference/lme4_reference.csv, cases foundations_* of tests/reference/cases.csv
  and cases_three_level.csv (lme4 1.1.31, R 4.2.2), written by lme4_reference.R from the
  data sets of tests/reference/reference_data.py.
- Theory: ICCs of nested random-intercept models (Snijders & Bosker 2012, ch. 4; Raudenbush &
  Bryk 2002, ch. 8); the design effect 1 + (n - 1) ICC (Kish 1965; Snijders & Bosker 2012,
  ch. 3); AR(1) correlations rho^k; the within-individual OLS slope's variance c'Sc/(J (c'c)^2)
  and -1/(T - 1), the correlation of two elements of a centred vector of T independent ones.
- Monte Carlo: the closed forms against repeated seeded samples, with tolerances of about
  three Monte Carlo standard errors (stated at each test).
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from hlmlab import stats
from hlmlab.analyses import why_multilevel as designs
from hlmlab.analyses import foundations as fnd
from hlmlab.glossary_terms import unlinked
from hlmlab.lesson_text import load_lesson
from hlmlab.threelevel import ThreeLevelFit
from hlmlab.twolevel import MultilevelFit, fit_multilevel

REFERENCE = pd.read_csv(Path(__file__).resolve().parents[1] / "reference" / "lme4_reference.csv",
                        keep_default_na=False)
LESSON = load_lesson("foundations")
# As a student reads it: glossary links by their words.
LESSON_TEXT = unlinked("\n".join(f"{s.title}\n{s.body}\n{s.answer}" for s in LESSON.values()))
RTOL = 1e-3


def lme4(case: str) -> dict:
    rows = REFERENCE[REFERENCE["case"] == case]
    assert len(rows), f"no lme4 reference for {case}: run tests/reference/make_reference.sh"
    return {(r.quantity, r.term) if r.term else r.quantity: float(r.value) for r in rows.itertuples()}


@pytest.fixture(scope="module")
def defaults():
    """compute_sources at the default settings of every design and reading count."""
    cache = {}

    def get(design: str, readings: int = 2) -> fnd.SourcesResult:
        if (design, readings) not in cache:
            cache[design, readings] = fnd.compute_sources(
                fnd.SourcesSettings(design=design, readings=readings))
        return cache[design, readings]

    return get


@pytest.fixture(scope="module")
def experiments():
    return {m: fnd.compute_experiment(fnd.ExperimentSettings(mechanism=m)) for m in fnd.MECHANISMS}


# --------------------------------------------------------------------------- settings


def test_settings_refuse_values_outside_their_sliders():
    with pytest.raises(ValueError, match="design"):
        fnd.SourcesSettings(design="V")
    with pytest.raises(ValueError, match="readings"):
        fnd.SourcesSettings(readings=5)
    with pytest.raises(ValueError, match="sd_measurement"):
        fnd.SourcesSettings(sd_measurement=0.0)
    with pytest.raises(ValueError, match="icc"):
        fnd.ExperimentSettings(icc=0.9)
    with pytest.raises(ValueError, match="mechanism"):
        fnd.ExperimentSettings(mechanism="osmosis")
    with pytest.raises(ValueError, match="seed"):
        fnd.ExperimentSettings(seed=-1)


def test_canonical_settings_forget_what_the_design_does_not_use():
    default = fnd.SourcesSettings()
    moved = fnd.SourcesSettings(design="I", sd_family=0.3, n_families=7, occasions=8,
                                serial_correlation=0.1)
    assert moved.canonical() == replace(default, design="I")
    four = fnd.SourcesSettings(design="IV", readings=3, n_individuals=10).canonical()
    assert four.readings == 1 and four.n_individuals == default.n_individuals
    three = fnd.SourcesSettings(design="III", members=5, readings=3).canonical()
    assert three.members == default.members and three.readings == 3
    # Equal canonical settings, equal data.
    pd.testing.assert_frame_equal(fnd.simulate_sources(moved), fnd.simulate_sources(default))


# --------------------------------------------------------------------------- simulation


@pytest.mark.parametrize("design, columns", [
    ("I", ["individual", "reading", "score"]),
    ("II", ["family", "member", "reading", "score"]),
    ("III", ["individual", "occasion", "time", "reading", "score"]),
    ("IV", ["family", "member", "occasion", "time", "reading", "score"]),
])
def test_simulated_designs_have_their_levels_and_are_labelled_synthetic(design, columns):
    s = fnd.SourcesSettings(design=design, n_families=7, members=4, n_individuals=15,
                            occasions=6, readings=3).canonical()
    data = fnd.simulate_sources(s)
    assert list(data.columns) == columns
    units = s.n_families * s.members if s.has_families else s.n_individuals
    assert len(data) == units * s.n_occasions * s.readings
    assert data.attrs["synthetic"] is True and "synthetic" in data.attrs["label"]
    pd.testing.assert_frame_equal(data, fnd.simulate_sources(s))  # seeded
    assert not data.equals(fnd.simulate_sources(replace(s, seed=s.seed + 1)))


def test_a_slider_rescales_the_same_draws():
    """Moving the individual SD changes each individual's readings by one constant."""
    s = fnd.SourcesSettings(design="III", readings=2)
    low = fnd.simulate_sources(replace(s, sd_individual=1.0))
    high = fnd.simulate_sources(replace(s, sd_individual=2.5))
    shift = (high["score"] - low["score"]).groupby(low["individual"]).agg(["min", "max"])
    np.testing.assert_allclose(shift["min"], shift["max"], atol=1e-12)
    assert shift["min"].abs().max() > 0


def test_simulated_covariance_is_the_stated_one():
    """Design III, one reading: cov of two occasions k apart of one individual is
    sd_i^2 + sd_s^2 rho^k (+ sd_e^2 on the diagonal), estimated over 150 individuals and 40
    seeds (6000 individuals: the SE of each covariance is about 0.1 at these sizes)."""
    s = fnd.SourcesSettings(design="III", readings=1, n_individuals=150, occasions=6,
                            sd_individual=1.2, sd_serial=1.5, serial_correlation=0.7,
                            sd_measurement=0.8)
    rows = []
    for seed in range(40):
        data = fnd.simulate_sources(replace(s, seed=seed))
        rows.append((data["score"] - data["time"]).to_numpy().reshape(s.n_individuals, s.occasions))
    sample = np.cov(np.vstack(rows), rowvar=False)
    lag = np.abs(np.subtract.outer(np.arange(6), np.arange(6)))
    truth = 1.2**2 + 1.5**2 * 0.7**lag + 0.8**2 * np.eye(6)
    np.testing.assert_allclose(sample, truth, atol=0.35)


# --------------------------------------------------------------------------- closed forms


def test_targets_are_the_truth_for_a_nested_covariance():
    """A family of 3 members with 2 readings each: sigma_f^2 on every pair, sigma_i^2 on a
    member's own pairs, sigma_e^2 on the diagonal. The targets are these three variances."""
    member = np.repeat(np.arange(3), 2)
    same = member[:, None] == member[None, :]
    cov = 2.0 + 3.0 * same + 0.5 * np.eye(6)
    np.testing.assert_allclose(fnd.variance_targets(cov, member), [2.0, 3.0, 0.5])
    np.testing.assert_allclose(fnd.variance_targets(cov, None), [2.0 + 3.0 * 1 / 5, 3.5 - 3.0 / 5])


def test_average_serial_correlation_by_hand():
    """Five occasions, rho = 0.6: pairs at lags 1-4 number 4, 3, 2, 1 of 10."""
    by_hand = (4 * 0.6 + 3 * 0.36 + 2 * 0.216 + 0.6**4) / 10
    assert fnd.average_serial_correlation(5, 0.6) == pytest.approx(by_hand, rel=1e-12)
    assert by_hand == pytest.approx(0.40416, abs=1e-5)
    assert fnd.average_serial_correlation(4, 0.0) == 0.0


@pytest.mark.parametrize("design, readings", [("III", 1), ("III", 2), ("IV", 1)])
def test_serial_variance_moves_to_the_individuals(defaults, design, readings):
    """The targets the lesson states: sigma_i^2 + cbar sigma_s^2 at the individual level,
    (1 - cbar) sigma_s^2 below it (plus measurement error where it shares the residual)."""
    result = defaults(design, readings)
    s = result.settings
    cbar = fnd.average_serial_correlation(s.occasions, s.serial_correlation)
    serial, error = s.sd_serial**2, s.sd_measurement**2
    target = result.partition["target"]
    individual = "member" if design == "IV" else ("tau00" if readings == 1 else "individual")
    assert target[individual] == pytest.approx(s.sd_individual**2 + cbar * serial, rel=1e-12)
    below = target.iloc[-1] if readings == 1 else target["occasion"]
    expected_below = (1 - cbar) * serial + (error if readings == 1 else 0.0)
    assert below == pytest.approx(expected_below, rel=1e-12)
    assert result.serial.absorbed == pytest.approx(cbar * serial, rel=1e-12)
    if design == "IV":
        assert target["family"] == pytest.approx(s.sd_family**2, rel=1e-12)


def test_lesson_numbers_for_the_serial_variance(defaults):
    """Prose: 'With five occasions and rho = 0.6, cbar = 0.40: about 0.91 of a serial
    variance of 2.25 moves to the individuals'."""
    s = defaults("III").settings
    assert (s.occasions, s.serial_correlation, s.sd_serial**2) == (5, 0.6, pytest.approx(2.25))
    assert round(fnd.average_serial_correlation(5, 0.6), 2) == 0.40
    assert round(defaults("III").serial.absorbed, 2) == 0.91
    assert "$\\bar c = 0.40$" in LESSON_TEXT and "about 0.91 of a serial variance of\n   2.25" in LESSON_TEXT


def test_large_samples_land_on_the_targets():
    """Averaged over 6 seeds of 150 individuals with 8 occasions and 3 readings, each
    estimate is within 8% of its target (their Monte Carlo SEs are about 2-3%)."""
    s = fnd.SourcesSettings(design="III", n_individuals=150, occasions=8, readings=3)
    runs = [fnd.compute_sources(replace(s, seed=seed)) for seed in range(6)]
    estimates = np.mean([run.estimates() for run in runs], axis=0)
    np.testing.assert_allclose(estimates, runs[0].partition["target"], rtol=0.08)


def test_lag1_correlation_without_serial_correlation_is_minus_one_over_t_minus_one():
    for occasions in range(3, 9):
        result = fnd.compute_sources(fnd.SourcesSettings(design="III", occasions=occasions,
                                                         readings=1))
        assert result.serial.lag1_without_serial == pytest.approx(-1 / (occasions - 1), rel=1e-12)
    # And the estimator on independent data, centred person by person (400 x 5 values; the
    # estimate's SE is about 0.025).
    rng = np.random.default_rng(5)
    residuals = rng.standard_normal((400, 5))
    residuals -= residuals.mean(axis=1, keepdims=True)
    assert fnd.lag1_residual_correlation(residuals) == pytest.approx(-0.25, abs=0.08)
    assert "$-1/(T-1)$" in LESSON_TEXT and "($-0.25$ with five)" in LESSON_TEXT


def test_lag1_expected_value_matches_samples():
    """The expected lag-1 correlation under serial correlation 0.6, against the mean over 30
    seeds of the residuals of each sample's fit (SE of that mean about 0.01)."""
    s = fnd.SourcesSettings(design="III", readings=1, n_individuals=100)
    runs = [fnd.compute_sources(replace(s, seed=seed)).serial for seed in range(30)]
    observed = np.mean([run.lag1_observed for run in runs])
    assert observed == pytest.approx(runs[0].lag1_expected, abs=0.03)
    assert runs[0].lag1_expected > runs[0].lag1_without_serial + 0.15


def _within_slopes(data: pd.DataFrame, s: fnd.SourcesSettings):
    """The within-individual OLS slope of each sample and the SE the random-intercept (or
    occasion) model reports for it: s2 / (J c'c) with s2 the residual mean square of the
    occasion means around each individual's own line."""
    means = data.groupby(["individual", "occasion"])["score"].mean().to_numpy()
    means = means.reshape(s.n_individuals, s.occasions)
    c = np.arange(s.occasions) - (s.occasions - 1) / 2
    centred = means - means.mean(axis=1, keepdims=True)
    slope = float(np.sum(centred @ c) / (s.n_individuals * (c @ c)))
    resid = centred - slope * c
    s2 = np.sum(resid**2) / (s.n_individuals * (s.occasions - 1) - 1)
    return slope, float(np.sqrt(s2 / (s.n_individuals * (c @ c))))


@pytest.mark.parametrize("readings", [1, 2])
def test_slope_standard_errors_closed_form_against_repeated_samples(defaults, readings):
    """Design III at its defaults: the SE the model reports (large-sample closed form) and the
    actual SD of the slope, against 400 seeded samples. The samples' formula is the fit's
    (checked on two samples); 400 samples give the SD within about 3.5% (one SE), the mean
    reported SE within about 0.5%."""
    s = defaults("III", readings).settings
    slopes, ses = [], []
    for seed in range(400):
        slope, se = _within_slopes(fnd.simulate_sources(replace(s, seed=seed)), s)
        slopes.append(slope)
        ses.append(se)
        if seed < 2:
            fit = fnd.compute_sources(replace(s, seed=seed)).fit
            assert fit.fixed["time"] == pytest.approx(slope, rel=1e-6)
            assert fit.fixed_se["time"] == pytest.approx(se, rel=1e-4)
    serial = defaults("III", readings).serial
    assert np.mean(ses) == pytest.approx(serial.slope_se_reported, rel=0.03)
    assert np.std(slopes, ddof=1) == pytest.approx(serial.slope_se_actual, rel=0.11)
    assert serial.slope_se_reported < 0.9 * serial.slope_se_actual


@pytest.mark.parametrize("design, readings", [("III", 1), ("III", 2), ("IV", 1)])
def test_reported_se_is_about_eight_tenths_of_the_actual_at_the_defaults(defaults, design, readings):
    """Prose: 'At the defaults the reported SE is about 0.8 of the actual one'; at no serial
    correlation the two meet; 'with five occasions they are furthest apart at a strong
    correlation, around 0.75, and draw together again as it nears 1'."""
    serial = defaults(design, readings).serial
    assert 0.75 < serial.se_ratio < 0.85
    first = serial.curve.iloc[0]
    assert first["rho"] == 0 and first["reported"] == pytest.approx(first["actual"], rel=1e-12)
    ratio = (serial.curve["reported"] / serial.curve["actual"]).to_numpy()
    assert np.all(ratio[1:] < 1)
    assert 0.7 <= serial.curve["rho"].iloc[int(np.argmin(ratio))] <= 0.8
    assert ratio[-1] > ratio.min() + 0.02
    assert serial.se_table.iloc[1, 0] == serial.slope_se_reported
    assert serial.se_table.iloc[0, 0] == pytest.approx(defaults(design, readings).fit.fixed_se["time"])


# --------------------------------------------------------------------------- the fitted models


THREE_LEVEL_CASES = {"II": "foundations_sources_II_reml", "III": "foundations_sources_III_reml",
                     "IV": "foundations_sources_IV_reml"}
TWO_LEVEL_CASES = {("I", 2): "foundations_sources_I_reml",
                   ("II", 1): "foundations_sources_II_one_reading_reml",
                   ("III", 1): "foundations_sources_III_one_reading_reml"}


@pytest.mark.parametrize("design", list(THREE_LEVEL_CASES))
def test_three_level_defaults_match_lme4(defaults, design):
    result, ref = defaults(design), lme4(THREE_LEVEL_CASES[design])
    fit = result.fit
    assert isinstance(fit, ThreeLevelFit) and fit.converged and not fit.singular
    np.testing.assert_allclose(result.estimates(), [ref["var_group"], ref["var_subgroup"], ref["sigma2"]],
                               rtol=RTOL)
    assert fit.loglik == pytest.approx(ref["loglik"], rel=RTOL)
    for term in fit.fixed.index:
        assert fit.fixed[term] == pytest.approx(ref[("fixef", term)], rel=RTOL)
        assert fit.fixed_se[term] == pytest.approx(ref[("se", term)], rel=RTOL)


@pytest.mark.parametrize("design, readings", list(TWO_LEVEL_CASES))
def test_two_level_defaults_match_lme4(defaults, design, readings):
    result, ref = defaults(design, readings), lme4(TWO_LEVEL_CASES[design, readings])
    assert isinstance(result.fit, MultilevelFit) and result.fit.converged
    np.testing.assert_allclose(result.estimates(), [ref["tau00"], ref["sigma2"]], rtol=RTOL)
    assert result.fit.loglik == pytest.approx(ref["loglik"], rel=RTOL)


@pytest.mark.parametrize("design", ["I", "II", "III", "IV"])
def test_the_lesson_names_each_design_s_model(defaults, design):
    assert f"{design}: `{defaults(design).formula}`" in LESSON["sources"].body


def test_icc_formulas_of_the_lesson(defaults):
    """Prose: rho_family = s_f / (s_f + s_i + s_e), rho_individual = (s_f + s_i) / (...), from
    the fit's own variances, and in the simulated population from the true ones."""
    result = defaults("II")
    v = result.fit.variance
    total = v["family"] + v["member"] + v["residual"]
    np.testing.assert_allclose(result.iccs["estimate"],
                               [v["family"] / total, (v["family"] + v["member"]) / total], rtol=1e-12)
    s = result.settings
    true_total = s.sd_family**2 + s.sd_individual**2 + s.sd_measurement**2
    np.testing.assert_allclose(result.iccs["simulated population"],
                               [s.sd_family**2 / true_total,
                                (s.sd_family**2 + s.sd_individual**2) / true_total], rtol=1e-12)
    assert result.iccs["formula"].tolist() == ["σ²_f / (σ²_f + σ²_i + σ²_e)",
                                               "(σ²_f + σ²_i) / (σ²_f + σ²_i + σ²_e)"]
    assert (r"\rho_{\text{family}} = \frac{\sigma^2_f}{\sigma^2_f + \sigma^2_i + \sigma^2_e}"
            in LESSON_TEXT)
    # Design I: the ICC is the reliability of one reading, the fit's own ICC.
    one = defaults("I")
    assert one.iccs["estimate"].iloc[0] == pytest.approx(one.fit.icc, rel=1e-12)


def test_one_reading_per_individual_is_not_split(defaults):
    result = defaults("I", 1)
    assert result.fit is None and result.iccs.empty
    assert len(result.partition) == 1
    assert result.partition["estimate"].iloc[0] == pytest.approx(result.data["score"].var(ddof=1))
    assert result.partition["true variance"].iloc[0] == pytest.approx(2.0**2 + 1.0**2)
    assert result.messages[0].severity == "teaching" and "nothing to split" in result.messages[0].headline


def test_one_reading_in_families_lumps_individuals_with_error(defaults):
    result = defaults("II", 1)
    residual = result.partition.loc["sigma2"]
    assert residual["true variance"] == pytest.approx(2.0**2 + 1.0**2)
    assert "between individuals + measurement error" == residual["holds"]
    assert any("share the residual" in m.headline for m in result.messages)


def test_design_iv_says_what_it_cannot_split(defaults):
    result = defaults("IV")
    assert result.settings.readings == 1
    headlines = [m.headline for m in result.messages]
    assert "Four sources, three levels." in headlines
    assert "Serial correlation is not in the model." in headlines


def test_a_source_of_size_zero_is_a_boundary_fit_explained():
    result = fnd.compute_sources(fnd.SourcesSettings(design="II", sd_family=0.0))
    assert result.fit.singular or result.partition.loc["family", "estimate"] < 0.3
    if result.fit.singular:
        assert any(m.severity == "warning" and "Boundary" in m.headline for m in result.messages)
    assert result.partition.loc["family", "true variance"] == 0.0


def test_truth_table_and_shares(defaults):
    result = defaults("IV")
    assert result.truth.index.tolist() == ["family", "individual", "serial", "measurement"]
    np.testing.assert_allclose(result.truth["variance"], [1.5**2, 2.0**2, 1.5**2, 1.0**2])
    assert result.truth["share"].sum() == pytest.approx(1.0)
    assert result.partition["estimated share"].sum() == pytest.approx(1.0)


# --------------------------------------------------------------------------- figures


@pytest.mark.parametrize("design", ["I", "III"])
def test_partition_figure_draws_the_tables(defaults, design):
    result = defaults(design)
    traces = {t.meta: t for t in result.partition_figure.data}
    truth = [traces[f"truth:{k}"].x[0] for k in result.truth.index]
    np.testing.assert_allclose(truth, result.truth["variance"])
    estimates = [traces[f"estimate:{k}"].x[0] for k in result.partition.index]
    np.testing.assert_allclose(estimates, result.partition["estimate"])
    assert any(m.startswith("target:") for m in traces) == (design == "III")
    title = result.partition_figure.layout.title.text
    assert " · " in title and "synthetic" in title


def test_serial_figures_draw_the_serial_effect(defaults):
    result = defaults("III")
    traces = {t.meta: t for t in result.serial_figure.data}
    np.testing.assert_allclose(traces["actual"].y, result.serial.curve["actual"])
    np.testing.assert_allclose(traces["reported"].y, result.serial.curve["reported"])
    assert traces["this fit"].y[0] == pytest.approx(result.fit.fixed_se["time"])
    pairs = result.residual_figure.data[0]
    assert len(pairs.x) == result.settings.n_individuals * (result.settings.occasions - 1)
    assert np.corrcoef(pairs.x, pairs.y)[0, 1] == pytest.approx(result.serial.lag1_observed, abs=0.05)
    assert defaults("II").serial is None and defaults("II").serial_figure is None


# --------------------------------------------------------------------------- the experiment


def test_peer_influence_creates_the_icc_the_lesson_states():
    """Prose: ICC = (2b + b^2) / (n + 2b + b^2) for y = d + b * class mean of d."""
    for icc in (0.05, 0.2, 0.5):
        for n in (5, 20, 30):
            b = fnd.peer_influence_for_icc(icc, n)
            assert (2 * b + b**2) / (n + 2 * b + b**2) == pytest.approx(icc, rel=1e-12)
    assert "$(2b + b^2) / (n + 2b + b^2)$" in LESSON_TEXT


@pytest.mark.parametrize("mechanism", list(fnd.MECHANISMS))
def test_experiments_create_the_icc_set(mechanism):
    """Over 1000 experiments of 20 classes of 20 the mean balanced REML ICC lands within 0.01
    of the ICC set (its Monte Carlo SE is about 0.002; REML's small-sample bias about -0.005),
    and the total variance is 100."""
    s = fnd.ExperimentSettings(mechanism=mechanism, n_experiments=1000, icc=0.3)
    scores = fnd.simulate_experiments(s)
    reml = designs.balanced_random_intercept_reml(scores, designs.class_level_design(10))
    assert np.mean(reml.tau00 / (reml.tau00 + reml.sigma2)) == pytest.approx(0.3, abs=0.01)
    assert np.mean(reml.tau00 + reml.sigma2) == pytest.approx(100.0, rel=0.02)


def test_the_shown_experiment_does_not_change_with_the_number_of_replicates():
    few = fnd.simulate_experiment(fnd.ExperimentSettings(n_experiments=100))
    many = fnd.simulate_experiment(fnd.ExperimentSettings(n_experiments=1000))
    pd.testing.assert_frame_equal(few, many)
    assert few.attrs["synthetic"] is True


@pytest.mark.parametrize("mechanism", list(fnd.MECHANISMS))
def test_experiment_fit_matches_lme4_and_the_table(experiments, mechanism):
    result, ref = experiments[mechanism], lme4(f"foundations_experiment_{mechanism}_reml")
    fit = result.fit
    assert fit.variance["tau00"] == pytest.approx(ref["tau00"], rel=RTOL)
    assert fit.fixed_se["treated"] == pytest.approx(ref[("se", "treated")], rel=RTOL)
    assert result.icc_estimated == pytest.approx(ref["tau00"] / (ref["tau00"] + ref["sigma2"]), rel=RTOL)
    table = result.experiment_table
    assert table.loc["multilevel", "SE"] == fit.fixed_se["treated"]
    assert table.loc["pupils_ols", "SE"] == result.pooled.se["treated"]
    assert table.loc["multilevel", "df"] == 18 and table.loc["pupils_ols", "df"] == 398
    p = 2 * sps.t.sf(abs(fit.fixed["treated"] / fit.fixed_se["treated"]), 18)
    assert table.loc["multilevel", "p-value"] == pytest.approx(p, rel=1e-12)
    # The replicates' closed form analyses the same first experiment the same way.
    closed = designs.classic_study_statistics(fnd.simulate_experiments(result.settings)[:1], 10)
    assert closed["se"][0, 1] == pytest.approx(fit.fixed_se["treated"], rel=1e-4)
    assert closed["se"][0, 0] == pytest.approx(result.pooled.se["treated"], rel=1e-9)


def test_expected_rejection_rates_and_the_lesson_s_numbers(experiments):
    """Prose: deff 4.8, the pupil-level test rejects about 37% (2 Phi(-1.96 / sqrt(4.8))),
    its SE too small by about sqrt(4.8) = 2.2; the multilevel test 5%."""
    result = experiments["teacher"]
    assert result.design_effect == pytest.approx(stats.design_effect(0.2, 20)) == pytest.approx(4.8)
    expected = result.rates["expected rate"]
    assert expected["pupils_ols"] == pytest.approx(2 * sps.norm.cdf(-sps.norm.ppf(0.975) / np.sqrt(4.8)))
    assert round(expected["pupils_ols"], 2) == 0.37 and expected["multilevel"] == pytest.approx(0.05)
    assert round(np.sqrt(4.8), 1) == 2.2
    from hlmlab.analyses import foundations_questions as fq
    from hlmlab.questions import fill_evidence

    answer = fill_evidence(LESSON["question-experiment"].answer,
                           fq.experiment_evidence(fnd.experiment_view(fq.EXPERIMENT_PREMISE)))
    for text in ("design effect is 4.8", "About 37%", "√4.8 ≈ 2.2"):
        assert text in answer, text
    assert "about 2Φ(−1.96/2.2) ≈ 37%" in LESSON_TEXT  # the right option's feedback


@pytest.mark.parametrize("settings", [
    fnd.ExperimentSettings(),
    fnd.ExperimentSettings(mechanism="peers", icc=0.4, pupils_per_class=10, n_experiments=1000),
    fnd.ExperimentSettings(effect=5.0, n_experiments=1000),
    fnd.ExperimentSettings(classes_per_arm=4, pupils_per_class=30, icc=0.1, effect=4.0,
                           n_experiments=1000, seed=3),
])
def test_simulated_rejection_rates_agree_with_the_closed_forms(settings):
    """Within four Monte Carlo SEs plus 0.02 (the pupil-level closed form is a large-sample
    normal approximation)."""
    rates = fnd.compute_experiment(settings).rates
    gap = np.abs(rates["rejection rate"] - rates["expected rate"])
    assert np.all(gap <= 4 * rates["Monte Carlo SE"] + 0.02), rates


def test_experiment_figures_draw_the_tables(experiments):
    result = experiments["peers"]
    traces = {t.meta: t for t in result.rates_figure.data}
    np.testing.assert_allclose(traces["simulated"].x[::-1], result.rates["rejection rate"] * 100)
    np.testing.assert_allclose(traces["expected"].x[::-1], result.rates["expected rate"] * 100)
    means = {t.meta: t for t in result.experiment_figure.data}["class means"]
    np.testing.assert_allclose(means.y, result.data.groupby("class")["score"].mean())
    for figure in (result.rates_figure, result.experiment_figure):
        assert "synthetic" in figure.layout.title.text and " · " in figure.layout.title.text
    assert result.peer_influence == pytest.approx(fnd.peer_influence_for_icc(0.2, 20))


def test_hsb82_numbers_quoted_in_the_lesson():
    """Prose: 'the SEs of the school-level predictors grow by a factor of about 1.6 to 1.9'
    (cluster-robust over naive OLS, Hsb82); and a design effect of 1 + 49 x 0.15 = 8.35."""
    from hlmlab import datasets

    table, _ = designs.compare_hsb82_analyses(designs.hsb82_coded(datasets.load_reference("hsb82")))
    ratios = table[("SE ÷ OLS SE", "cluster-robust")][["sector", "meanses"]]
    assert ratios.between(1.55, 1.95).all()
    assert stats.design_effect(0.15, 50) == pytest.approx(8.35)
    assert round(np.sqrt(8.35), 1) == 2.9
    # The answer states it with its live evidence (the design-effect panel at the question's
    # premise), filled in as the page shows it.
    from hlmlab.analyses import foundations_questions as fq
    from hlmlab.questions import fill_evidence

    values = fq.reasons_evidence(fnd.design_effect_view(fq.REASONS_PREMISE))
    assert "= 8.35:" in fill_evidence(LESSON["question-reasons"].answer, values)
    assert "√8.35 ≈ 2.9" in fill_evidence(LESSON["question-reasons"].answer, values)


def test_icc_and_design_effect_of_a_fit_follow_the_glossary():
    """Glossary: ICC = tau00 / (tau00 + sigma2); design effect 1 + (n - 1) ICC; effective
    sample size N / deff."""
    data = fnd.simulate_sources(fnd.SourcesSettings(design="I"))
    fit = fit_multilevel(data, "score", None, "individual", random_slope=False)
    v = fit.variance
    assert fit.icc == pytest.approx(v["tau00"] / (v["tau00"] + v["sigma2"]), rel=1e-12)
    deff = stats.design_effect(fit.icc, 2)
    assert deff == pytest.approx(1 + fit.icc, rel=1e-12)
    assert stats.effective_sample_size(120, fit.icc, 2) == pytest.approx(120 / deff, rel=1e-12)


# --------------------------------------------------------------------------- the lesson text

OPTION = re.compile(r"^- \((?P<mark>[ x])\) (?P<text>.+?) :: (?P<feedback>.+)$")


def choices(section) -> list[tuple[bool, str, str]]:
    """A question's options ``- ( ) option :: feedback`` (``(x)`` for the right one)."""
    options = []
    for line in section.body.splitlines():
        if line.startswith("- ("):
            match = OPTION.match(line)
            assert match, f"{section.key}: malformed option {line!r}"
            options.append((match["mark"] == "x", match["text"], match["feedback"]))
    return options


def test_tabs_of_the_lesson():
    from hlmlab.course_map import lesson_tabs

    tabs = lesson_tabs(LESSON)
    assert list(tabs) == ["1 · What a multilevel model is", "2 · Sources of variability",
                          "3 · Where dependence comes from", "4 · Why take the structure in",
                          "5 · The course in summary"]
    for label, keys in tabs.items():
        assert any(key.startswith("question") for key in keys), f"{label} asks nothing"


def test_questions_are_multiple_choice_with_feedback_for_every_option():
    questions = [s for s in LESSON.values() if s.is_question]
    assert len(questions) >= 6
    for question in questions:
        options = choices(question)
        assert len(options) >= 3, question.key
        assert sum(correct for correct, _, _ in options) == 1, question.key
        assert all(len(feedback.split()) >= 5 for _, _, feedback in options), question.key
        assert question.answer and "- (" not in question.answer, question.key


def test_definitions_examples_and_terminology_are_all_there():
    body = unlinked(LESSON["definitions"].body)
    for name in ("Hierarchical linear model", "Multilevel model", "Mixed(-effects) model",
                 "Random coefficient model", "Variance component model", "Random-effects ANOVA",
                 "random-effects ANCOVA", "generalized linear mixed models"):
        assert name in body, name
    examples = LESSON["examples"].body
    for row in ("Pupils in classes in schools", "Employees in firms", "Patients in hospitals",
                "Children within families", "Repeated measures within persons",
                "Longitudinal occasions within children", "Respondents within neighbourhoods"):
        line = next(line for line in examples.splitlines() if row in line)
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        assert cells[1] and cells[2], f"{row}: levels 1 and 2 are named"
    terms = unlinked(LESSON["terminology"].body)
    for term in ("Level 1 is the lowest", "Micro and macro", "primary units", "secondary units",
                 "first level sampled", "last level sampled"):
        assert term in terms, term
    assert "Sampling" in LESSON["summary"].body or "sampling" in LESSON["summary"].body
    assert "overwhelmingly complex" in LESSON["summary"].body


@pytest.mark.parametrize("design", ["I", "II", "III", "IV"])
@pytest.mark.parametrize("extreme", [
    dict(sd_family=0.0, sd_individual=0.0, sd_serial=0.0, sd_measurement=0.2),
    dict(n_families=5, members=2, n_individuals=5, occasions=3, readings=1, serial_correlation=0.95),
    dict(sd_family=3.0, sd_individual=3.0, sd_serial=3.0, sd_measurement=3.0, readings=4),
])
def test_every_slider_extreme_gives_a_result_or_a_plain_message(design, extreme):
    """Zero variances (boundary fits), the smallest designs and the largest SDs: a result
    whose problems are Diagnostics, never an exception."""
    result = fnd.compute_sources(fnd.SourcesSettings(design=design, **extreme))
    assert result.partition_figure is not None and len(result.partition)
    if result.fit is not None and not result.fit.usable:
        assert any(m.severity == "error" for m in result.messages)
    if result.fit is not None and result.fit.singular:
        assert any("Boundary" in m.headline for m in result.messages)
