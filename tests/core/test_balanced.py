"""hlmlab.balanced: the closed forms of balanced designs against MixedLM and lme4.

Reference values and where they come from:
- lme4: tests/reference/lme4_reference.csv, cases why_classic_study_reml (the Why multilevel
  page's default study, reference_data "why_classic_study") and why_icc_empty_reml (its
  default ICC classes, reference_data "why_icc_classes").
- fit_multilevel (deviance-based REML, itself checked against lme4 in test_twolevel.py) on
  seeded balanced draws, boundary fits included.
- Theory: the exact F interval of the ICC covers the truth 95% of the time, and its lower
  limit is 0 exactly when F <= F_0.975 (Searle 1971, sec. 9.7).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hlmlab import balanced
from hlmlab.errors import ModelDataError
from hlmlab.twolevel import fit_multilevel

REFERENCE_DIR = Path(__file__).resolve().parents[1] / "reference"
# As test_lesson_macro_micro.py: ``reference.reference_data`` (a site-packages "tests"
# package shadows ``tests.reference``).
if str(REFERENCE_DIR.parent) not in sys.path:
    sys.path.insert(0, str(REFERENCE_DIR.parent))
from reference.reference_data import load as load_reference_data  # noqa: E402


def balanced_scores(classes: int, pupils: int, icc: float, seed: int) -> np.ndarray:
    """Scores (classes, pupils) with total variance SCORE_SD², a share ``icc`` between
    classes."""
    rng = np.random.default_rng(seed)
    between = rng.standard_normal((classes, 1)) * np.sqrt(icc)
    within = rng.standard_normal((classes, pupils)) * np.sqrt(1 - icc)
    return balanced.SCORE_MEAN + balanced.SCORE_SD * (between + within)


def as_frame(scores: np.ndarray, formal: np.ndarray | None = None) -> pd.DataFrame:
    classes, pupils = scores.shape
    frame = pd.DataFrame({"class": np.repeat(np.arange(1, classes + 1), pupils),
                          "score": scores.ravel()})
    if formal is not None:
        frame["formal"] = np.repeat(formal, pupils)
    return frame


# (teachers per style, pupils per class, ICC, seed): small J and a low ICC give boundary fits.
CLASSIC_DRAWS = [(4, 5, 0.0, seed) for seed in range(6)] + [
    (3, 4, 0.05, 11), (10, 20, 0.2, 1976), (6, 2, 0.5, 7), (2, 30, 0.9, 3)]


def test_closed_form_equals_fit_multilevel_with_a_level2_predictor():
    boundaries = []
    for teachers, pupils, icc, seed in CLASSIC_DRAWS:
        design = balanced.class_level_design(teachers)
        scores = balanced_scores(2 * teachers, pupils, icc, seed)
        fit = fit_multilevel(as_frame(scores, design[:, 1]), "score", "formal", "class",
                             random_slope=False, reml=True)
        closed = balanced.balanced_random_intercept_reml(scores, design)
        sigma2 = fit.variance["sigma2"]
        np.testing.assert_allclose(closed.beta, fit.fixed.to_numpy(), rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(closed.se, fit.fixed_se.to_numpy(), rtol=1e-4)
        assert closed.sigma2 == pytest.approx(sigma2, rel=1e-4)
        assert closed.tau00 == pytest.approx(fit.variance["tau00"], rel=1e-4, abs=1e-6 * sigma2)
        assert bool(closed.boundary) == fit.singular
        boundaries.append(bool(closed.boundary))
    # The draws must exercise both branches of the closed form.
    assert any(boundaries) and not all(boundaries)


def test_closed_form_equals_fit_multilevel_for_the_empty_model():
    boundaries = []
    for icc, seed in [(0.0, 1), (0.0, 2), (0.0, 4), (0.3, 3), (0.9, 5), (0.05, 6)]:
        scores = balanced_scores(8, 4, icc, seed)
        fit = fit_multilevel(as_frame(scores), "score", None, "class", random_slope=False,
                             reml=True)
        closed = balanced.balanced_random_intercept_reml(scores, np.ones((8, 1)))
        assert closed.beta[0] == pytest.approx(fit.fixed["Intercept"], rel=1e-9)
        assert closed.se[0] == pytest.approx(fit.fixed_se["Intercept"], rel=1e-4)
        assert closed.sigma2 == pytest.approx(fit.variance["sigma2"], rel=1e-4)
        assert closed.tau00 == pytest.approx(fit.variance["tau00"], rel=1e-4,
                                             abs=1e-6 * fit.variance["sigma2"])
        boundaries.append(bool(closed.boundary))
    assert any(boundaries) and not all(boundaries)


def test_closed_form_matches_lme4_on_the_reference_study(lme4):
    data = load_reference_data("why_classic_study")
    closed = balanced.balanced_random_intercept_reml(
        data["score"].to_numpy().reshape(20, 20), balanced.class_level_design(10))
    case = "why_classic_study_reml"
    assert closed.beta[1] == pytest.approx(lme4(case, "fixef", "formal"), rel=1e-6)
    assert closed.se[1] == pytest.approx(lme4(case, "se", "formal"), rel=1e-5)
    assert closed.tau00 == pytest.approx(lme4(case, "tau00"), rel=1e-5)
    assert closed.sigma2 == pytest.approx(lme4(case, "sigma2"), rel=1e-5)


def test_closed_form_refuses_one_pupil_per_class_and_too_few_classes():
    with pytest.raises(ModelDataError):
        balanced.balanced_random_intercept_reml(np.ones((6, 1)), balanced.class_level_design(3))
    with pytest.raises(ModelDataError):
        balanced.balanced_random_intercept_reml(np.ones((2, 5)), balanced.class_level_design(1))


def test_class_level_design_puts_the_informal_classes_first():
    np.testing.assert_array_equal(balanced.class_level_design(2),
                                  [[1, 0], [1, 0], [1, 1], [1, 1]])


def test_classic_study_statistics_are_ols_on_pupils_the_closed_form_and_class_means():
    """Each analysis against its definition on one balanced study: pupil-level OLS (N - 2
    df), the closed-form REML fit (classes - 2), OLS on class means (classes - 2)."""
    import statsmodels.api as sm

    teachers, pupils = 5, 8
    design = balanced.class_level_design(teachers)
    scores = balanced_scores(2 * teachers, pupils, 0.3, 9)
    result = balanced.classic_study_statistics(scores[None], teachers)
    frame = as_frame(scores, design[:, 1])
    pupils_ols = sm.OLS(frame["score"], sm.add_constant(frame["formal"])).fit()
    means_ols = sm.OLS(scores.mean(axis=1), design).fit()
    reml = balanced.balanced_random_intercept_reml(scores, design)
    assert list(balanced.ANALYSES) == ["pupils_ols", "multilevel", "class_means_ols"]
    np.testing.assert_allclose(result["estimate"][0], pupils_ols.params["formal"], rtol=1e-9)
    np.testing.assert_allclose(result["se"][0], [pupils_ols.bse["formal"], reml.se[1],
                                                 means_ols.bse[1]], rtol=1e-9)
    np.testing.assert_allclose(result["df"], [2 * teachers * pupils - 2, 2 * teachers - 2,
                                              2 * teachers - 2])
    np.testing.assert_allclose(result["p_value"][0][[0, 2]],
                               [pupils_ols.pvalues["formal"], means_ols.pvalues[1]], rtol=1e-6)


def test_icc_interval_covers_the_true_icc_95_percent_of_the_time():
    rng = np.random.default_rng(0)
    true_icc, hits, draws = 0.3, 0, 1000
    for _ in range(draws):
        scores = (rng.standard_normal((20, 1)) * np.sqrt(true_icc)
                  + rng.standard_normal((20, 15)) * np.sqrt(1 - true_icc))
        _, low, high = balanced.balanced_icc_interval(scores)
        hits += low <= true_icc <= high
    assert 0.93 <= hits / draws <= 0.97


def test_icc_estimate_equals_mixedlm_and_lme4_on_the_reference_classes(lme4):
    data = load_reference_data("why_icc_classes")
    estimate, low, high = balanced.balanced_icc_interval(data["score"].to_numpy().reshape(20, 15))
    fit = fit_multilevel(data, "score", None, "class", random_slope=False)
    tau00, sigma2 = lme4("why_icc_empty_reml", "tau00"), lme4("why_icc_empty_reml", "sigma2")
    assert estimate == pytest.approx(tau00 / (tau00 + sigma2), rel=1e-5)
    assert fit.icc == pytest.approx(estimate, rel=1e-4)
    assert low < estimate < high


def test_icc_interval_at_zero_icc():
    """With no class variance the lower limit is 0 exactly when F <= F_0.975: 97.5% of draws."""
    rng = np.random.default_rng(1)
    lows = []
    for _ in range(1000):
        estimate, low, high = balanced.balanced_icc_interval(rng.standard_normal((20, 15)))
        assert 0.0 <= low <= estimate <= high <= 1.0
        lows.append(low)
    assert np.mean(np.asarray(lows) == 0.0) == pytest.approx(0.975, abs=0.02)
