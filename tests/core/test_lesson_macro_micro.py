"""The "Macro and micro" lesson: hlmlab/analyses/macro_micro.py, its figures and its text.

Every formula the lesson states is checked against the numbers the panels compute: the
two parametrisations of the contextual model (between = within + contextual), the
precision-weighted blend of a random-intercept slope, the SEs of the within and between
slopes, the share of tau11 explained, the reliability of school means, the truth of each
simulation. The panels' fits are the models of the lme4 reference cases ``mm_*`` of
tests/reference/cases.csv (checked here: same data, same model), which
tests/test_reference_lme4.py compares with lme4 at relative 1e-3; the Hsb82 within, between
and contextual estimates are also compared with lme4's numbers directly.
"""

from __future__ import annotations

import re
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hlmlab.analyses import macro_micro as mm
from hlmlab.lesson_text import load_lesson
from hlmlab.twolevel import fit_multilevel
from hlmlab.within_between import slope_blend
from hlmlab.questions import choice_question, fill_evidence

REFERENCE_DIR = Path(__file__).resolve().parents[1] / "reference"
# The reference data sets are imported as tests/test_reference_lme4.py imports them, as
# ``reference.reference_data`` (a site-packages "tests" package shadows ``tests.reference``).
if str(REFERENCE_DIR.parent) not in sys.path:
    sys.path.insert(0, str(REFERENCE_DIR.parent))
from reference.reference_data import load as load_reference_data  # noqa: E402
CASES = pd.read_csv(REFERENCE_DIR / "cases.csv", dtype=str, keep_default_na=False).set_index("case")
LME4 = pd.read_csv(REFERENCE_DIR / "lme4_reference.csv", keep_default_na=False)
LESSON = load_lesson("macro_micro")
RTOL = 1e-3


def lme4_value(case: str, quantity: str, term: str = "") -> float:
    row = LME4[(LME4["case"] == case) & (LME4["quantity"] == quantity) & (LME4["term"] == term)]
    assert len(row) == 1, (case, quantity, term)
    return float(row["value"].iloc[0])


@pytest.fixture(scope="module")
def centring():
    return {reml: mm.compute_centring(mm.CentringSettings(reml=reml)) for reml in (True, False)}


@pytest.fixture(scope="module")
def contextual():
    return mm.compute_contextual_simulation(mm.ContextualSimulationSettings())


@pytest.fixture(scope="module")
def sector():
    return {(reml, control): mm.compute_sector_interaction(mm.SectorInteractionSettings(reml, control))
            for reml in (True, False) for control in (False, True)}


@pytest.fixture(scope="module")
def grouping():
    return mm.compute_ability_grouping(mm.AbilityGroupingSettings())


@pytest.fixture(scope="module")
def measurement():
    return mm.compute_measurement_error(mm.MeasurementErrorSettings())


@pytest.fixture(scope="module")
def propositions():
    return {key: mm.compute_proposition(mm.PropositionSettings(key)) for key in mm.PROPOSITIONS}


# --------------------------------------------------------------------------- the panels are the reference cases


def assert_is_reference_case(fit, data: pd.DataFrame, case_id: str) -> None:
    """The fit is case ``case_id`` of cases.csv: same rows, same model; and it agrees with
    lme4's log-likelihood and fixed effects there."""
    case = CASES.loc[case_id]
    assert fit.outcome == case.outcome
    assert (fit.predictor or "") == case.predictor
    assert sorted(fit.covariates) == sorted(case.covariates.split())
    assert fit.random_slope == (case.random_slope == "TRUE")
    assert fit.reml == (case.reml == "TRUE")
    reference = load_reference_data(case.dataset)
    columns = [fit.outcome, fit.group, *([fit.predictor] if fit.predictor else []), *fit.covariates]
    pd.testing.assert_frame_equal(data[columns].reset_index(drop=True),
                                  reference[columns].reset_index(drop=True))
    assert fit.loglik == pytest.approx(lme4_value(case_id, "loglik"), rel=RTOL)
    for term in fit.fixed.index:
        se = lme4_value(case_id, "se", term)
        assert fit.fixed[term] == pytest.approx(lme4_value(case_id, "fixef", term),
                                                rel=RTOL, abs=RTOL * se), term


def test_centring_fits_are_the_reference_cases(centring):
    for reml, result in centring.items():
        for key, fit in result.fits.items():
            assert_is_reference_case(fit, result.data, f"mm_hsb82_{key}_{'reml' if reml else 'ml'}")


def test_proposition_fits_are_the_reference_cases(propositions):
    cases = {"micro": "mm_hsb82_raw_reml", "macro_to_micro": "mm_hsb82_macro_to_micro_reml",
             "macro_and_micro": "mm_hsb82_raw_mean_reml", "cross_level": "mm_sector_with_reml",
             "emergent": "mm_hsb82_ses_empty_reml"}
    data = mm.hsb82_columns()
    for key, case_id in cases.items():
        assert_is_reference_case(propositions[key].fit, data, case_id)


def test_macro_proposition_is_ols_on_the_school_means(propositions):
    fit = propositions["macro"].fit
    data = mm.hsb82_columns()
    means = data.groupby("school").agg(y=("mAch", "mean"), x=("ses", "mean"))
    slope, intercept = np.polyfit(means["x"], means["y"], 1)
    assert fit.n_obs == 160
    assert fit.coef["mean_ses"] == pytest.approx(slope, rel=1e-10)
    assert fit.coef["Intercept"] == pytest.approx(intercept, rel=1e-10)
    # Its code builds the school means first, then regresses them, in Python and in R.
    namespace = {"data": data}
    exec(propositions["macro"].code.replace("print(result.summary())", ""), namespace)  # our own code text
    assert namespace["result"].params["mean_ses"] == pytest.approx(slope, rel=1e-10)
    assert "aggregate(" in propositions["macro"].lme4 and "lm(mAch ~ ses" in propositions["macro"].lme4
    assert propositions["micro"].lme4 == propositions["micro"].fit.lme4


def test_simulation_and_sector_fits_are_the_reference_cases(contextual, sector, grouping, measurement):
    assert_is_reference_case(contextual.raw, contextual.data, "mm_contextual_raw_reml")
    assert_is_reference_case(contextual.contextual, contextual.data, "mm_contextual_mean_reml")
    assert_is_reference_case(contextual.centred, contextual.data, "mm_contextual_centred_reml")
    for (reml, control), result in sector.items():
        tag = ("_mean" if control else "") + ("_reml" if reml else "_ml")
        assert_is_reference_case(result.comparison.without_z, result.data, f"mm_sector_without{tag}")
        assert_is_reference_case(result.comparison.with_z, result.data, f"mm_sector_with{tag}")
    assert_is_reference_case(grouping.comparison.without_z, grouping.data, "mm_grouping_without_reml")
    assert_is_reference_case(grouping.comparison.with_z, grouping.data, "mm_grouping_with_reml")
    assert_is_reference_case(measurement.fit, measurement.data, "mm_measurement_reml")


@pytest.mark.parametrize("reml", [True, False])
def test_hsb82_within_between_and_contextual_agree_with_lme4(centring, reml):
    """The numbers of the closing note: each estimate beside lme4's, from the case whose
    coefficient estimates it (lme4_reference.csv)."""
    tag = "reml" if reml else "ml"
    table = centring[reml].estimates
    expected = {
        "within-school slope": ("mm_hsb82_raw_mean", "ses"),
        "between-school slope": ("mm_hsb82_group_mean", "mean_ses"),
        "contextual effect (between − within)": ("mm_hsb82_raw_mean", "mean_ses"),
        "random intercept, raw SES (blend)": ("mm_hsb82_raw", "ses"),
    }
    for quantity, (case, term) in expected.items():
        assert table.loc[quantity, "estimate"] == pytest.approx(
            lme4_value(f"{case}_{tag}", "fixef", term), rel=RTOL), quantity
        assert table.loc[quantity, "SE"] == pytest.approx(
            lme4_value(f"{case}_{tag}", "se", term), rel=RTOL), quantity


# --------------------------------------------------------------------------- Hsb82 and its school means


def test_hsb82_columns_compute_school_means_from_the_rows_used():
    data = mm.hsb82_columns()
    assert len(data) == 7185 and data["school"].nunique() == 160  # the lesson's intro
    sizes = data.groupby("school").size()
    assert (sizes.min(), sizes.max()) == (14, 67)  # "schools of 14 to 67 pupils"
    means = data.groupby("school")["ses"].transform("mean")
    np.testing.assert_allclose(data["mean_ses"], means, rtol=0, atol=1e-15)
    np.testing.assert_allclose(data["ses_within"], data["ses"] - means, atol=1e-15)
    assert abs(data["ses_grand_centred"].mean()) < 1e-12
    np.testing.assert_array_equal(data["ses_within_x_catholic"], data["ses_within"] * data["catholic"])
    assert set(data["catholic"]) == {0.0, 1.0}
    assert data.attrs["synthetic"] is False and "real data" in data.attrs["label"]


def test_published_school_means_as_the_lesson_describes_them():
    check = mm.school_mean_check()
    hsb82 = check.loc["mlmRev::Hsb82 meanses"]
    assert max(abs(hsb82["smallest difference"]), abs(hsb82["largest difference"])) < 1e-12
    school_file = check.iloc[1]
    assert school_file["schools"] == 160
    # "larger ... by 0.0055 to 0.0065 in each of the 160 schools"
    assert 0.0055 - 1e-12 <= school_file["smallest difference"] <= school_file["largest difference"] <= 0.0065
    assert school_file["mean difference"] == pytest.approx(0.006, abs=1e-4)


def test_a_constant_shift_of_the_school_mean_changes_only_the_intercept(centring):
    data = mm.hsb82_columns()
    shifted = fit_multilevel(data.assign(mean_ses=data["mean_ses"] + 0.006), "mAch", "ses",
                             "school", random_slope=False, covariates=("mean_ses",))
    fit = centring[True].fits["raw_mean"]
    assert shifted.fixed[["ses", "mean_ses"]].to_numpy() == pytest.approx(
        fit.fixed[["ses", "mean_ses"]].to_numpy(), rel=1e-7)
    assert shifted.fixed["Intercept"] == pytest.approx(fit.fixed["Intercept"] - 0.006 * fit.fixed["mean_ses"], rel=1e-7)


# --------------------------------------------------------------------------- centring: the algebra


@pytest.mark.parametrize("reml", [True, False])
def test_centring_identities_hold_to_1e8(centring, reml):
    result = centring[reml]
    assert set(result.identities) >= {"between = within + contextual",
                                      "raw slope vs precision-weighted blend"}
    for name, difference in result.identities.items():
        assert difference < 1e-8, name
    table = result.estimates
    np.testing.assert_allclose(table["estimate"], table["check"], rtol=0, atol=1e-8)


def test_centring_table_says_which_coefficient_estimates_what(centring):
    models = centring[True].models
    assert models.loc["raw SES + school mean", "mean_ses coefficient estimates"].startswith("contextual")
    assert models.loc["group-mean centred SES + school mean", "mean_ses coefficient estimates"] \
        == "between-school slope"
    assert models.loc["raw SES", "SES coefficient estimates"].startswith("blend")
    fits = centring[True].fits
    # Without the school mean, group-mean centring leaves the between-school differences in
    # SES to the random intercept: tau00 grows (the lesson's last paragraph of the algebra).
    assert fits["group"].variance["tau00"] > fits["raw"].variance["tau00"] > fits["group_mean"].variance["tau00"]
    # Grand-mean centring only moves the intercept.
    assert fits["grand"].loglik == pytest.approx(fits["raw"].loglik, abs=1e-6)
    assert fits["grand"].fixed["Intercept"] != pytest.approx(fits["raw"].fixed["Intercept"], abs=1e-6)


def test_pooled_slope_is_steeper_than_the_within_slope_on_hsb82(centring):
    """The answer of question-centring-pooled, and the ordering the blend implies."""
    table = centring[True].estimates["estimate"]
    assert table["within-school slope"] < table["random intercept, raw SES (blend)"] \
        < table["pooled OLS, raw SES (blend)"] < table["between-school slope"]


@pytest.mark.parametrize("reml", [True, False])
def test_the_pooled_question_answers_numbers_add_up_as_its_sentence_says(centring, reml):
    """The reveal says each raw-SES slope is share x within + rest x its slope of the school
    means: the numbers it shows must recombine to the slope it shows (to their rounding)."""
    evidence = centring[reml].evidence
    number = lambda key: float(evidence[key])  # noqa: E731
    share = lambda key: float(evidence[key].rstrip(" %")) / 100  # noqa: E731
    for slope, within_share, between in (("pooled_slope", "pooled_within_share", "pooled_between_slope"),
                                         ("blend_slope", "blend_within_share", "blend_between_slope")):
        recombined = share(within_share) * number("within_slope") + (1 - share(within_share)) * number(between)
        # a share shown to 0.1 % moves the sum by up to 0.0005 x (between - within), and each
        # slope shown to 0.01 by up to 0.005
        tolerance = 0.0005 * abs(number(between) - number("within_slope")) + 0.01
        assert recombined == pytest.approx(number(slope), abs=tolerance), slope
    # OLS counts pupils alike: its slope of the means is not the model's between slope.
    assert abs(centring[reml].blend.between - float(evidence["between_slope"])) < 0.05
    assert abs(number("pooled_between_slope") - number("between_slope")) > 0.1


@pytest.mark.parametrize("settings", [
    mm.ContextualSimulationSettings(),
    mm.ContextualSimulationSettings(within_slope=-2.0, between_slope=6.0, icc_x=0.8,
                                    n_schools=15, pupils_per_school=5),
    mm.ContextualSimulationSettings(within_slope=3.0, between_slope=-1.0, icc_x=0.1,
                                    n_schools=60, pupils_per_school=35),
])
def test_blend_formula_reproduces_the_random_intercept_and_ols_slopes(settings):
    result = mm.compute_contextual_simulation(settings)
    raw, blend = result.raw, result.blend
    assert blend.tau00 == raw.variance["tau00"] and blend.sigma2 == raw.variance["sigma2"]
    assert blend.blend == pytest.approx(raw.fixed["x"], abs=1e-8)
    assert result.pooled_blend.blend == pytest.approx(result.pooled.coef["x"], abs=1e-10)
    assert min(blend.within, blend.between) <= raw.fixed["x"] <= max(blend.within, blend.between)


def test_within_and_between_slopes_and_their_ses_are_the_formulas(contextual):
    """The within coefficient is the within-school OLS slope with SE sqrt(sigma2 / SSW); the
    between coefficient is the w_j-weighted regression of school means, SE sqrt(1 / W_b),
    at the contextual model's own variance components."""
    fit = contextual.centred
    at_fit = slope_blend(contextual.data, "y", "x", "school", fit.variance["tau00"],
                            fit.variance["sigma2"])
    assert fit.fixed["x_within"] == pytest.approx(at_fit.within, abs=1e-10)
    assert fit.fixed["mean_x"] == pytest.approx(at_fit.between, abs=1e-8)
    assert fit.fixed_se["x_within"] == pytest.approx(at_fit.within_se, rel=1e-8)
    assert fit.fixed_se["mean_x"] == pytest.approx(at_fit.between_se, rel=1e-8)
    assert contextual.contextual.fixed["x"] == pytest.approx(at_fit.within, abs=1e-10)


def test_contextual_simulation_truth_and_table(contextual):
    settings, truth = contextual.settings, contextual.data.attrs["truth"]
    assert truth["contextual"] == settings.between_slope - settings.within_slope
    table = contextual.slopes
    assert table.loc["within-school slope", "truth"] == settings.within_slope
    assert table.loc["between-school slope", "truth"] == settings.between_slope
    # Seeded data, so these are fixed facts of the default sample: each estimate is within
    # 2.5 SE of its truth, and the blend sits near the within slope (the question's answer).
    for quantity in ("within-school slope", "between-school slope",
                     "contextual effect (between − within)"):
        row = table.loc[quantity]
        assert abs(row["estimate"] - row["truth"]) < 2.5 * row["SE"], quantity
    assert contextual.blend.within_weight > 0.9
    assert contextual.pooled_blend.within_weight < contextual.blend.within_weight
    # The question-contextual-blend text states the default design.
    assert (settings.within_slope, settings.between_slope, settings.icc_x, settings.n_schools,
            settings.pupils_per_school) == (1.0, 4.0, 0.3, 40, 20)


def test_simulated_x_has_the_icc_the_slider_sets():
    settings = mm.ContextualSimulationSettings(icc_x=0.6, n_schools=100, pupils_per_school=50)
    data = mm.simulate_contextual(settings)
    fit = fit_multilevel(data, "x", None, "school", random_slope=False)
    assert fit.icc == pytest.approx(0.6, abs=0.1)
    assert np.var(data["x"]) == pytest.approx(1.0, abs=0.2)


# --------------------------------------------------------------------------- simulations: seeds, sliders, labels


@pytest.mark.parametrize("simulate, settings_class, sizes", [
    (mm.simulate_contextual, mm.ContextualSimulationSettings, {"n_schools": 20, "pupils_per_school": 10}),
    (mm.simulate_ability_grouping, mm.AbilityGroupingSettings, {"n_schools": 20, "pupils_per_school": 10}),
    (mm.simulate_measurement_error, mm.MeasurementErrorSettings, {"n_schools": 20, "pupils_per_school": 10}),
])
def test_simulations_are_seeded_nested_and_labelled_synthetic(simulate, settings_class, sizes):
    small = settings_class(**sizes)
    first, again = simulate(small), simulate(small)
    pd.testing.assert_frame_equal(first, again)
    assert first.attrs["synthetic"] is True and "synthetic" in first.attrs["label"]
    # A larger design keeps the first schools' pupils: a slider adds schools, it does not redraw.
    larger = simulate(replace(small, n_schools=sizes["n_schools"] + 20))
    x = [c for c in ("x", "iq", "x_measured") if c in first][0]
    kept = larger[(larger["school"] <= sizes["n_schools"])]
    np.testing.assert_array_equal(kept[x].to_numpy(), first[x].to_numpy())
    other_seed = simulate(replace(small, seed=small.seed + 1))
    assert not np.allclose(other_seed[x], first[x])


@pytest.mark.parametrize("settings_class", [mm.ContextualSimulationSettings, mm.AbilityGroupingSettings,
                                            mm.MeasurementErrorSettings])
def test_settings_outside_the_sliders_are_refused(settings_class):
    for name, (low, high, step) in settings_class.RANGES.items():
        assert low < high and step > 0
        default = getattr(settings_class(), name)
        assert low <= default <= high
        with pytest.raises(ValueError, match=name):
            settings_class(**{name: high + step})
    with pytest.raises(ValueError, match="proposition"):
        mm.PropositionSettings("nonsense")


def test_ability_grouping_needs_an_even_number_of_schools():
    with pytest.raises(ValueError, match="even"):
        mm.AbilityGroupingSettings(n_schools=15)


def test_figures_of_synthetic_data_say_so_and_hsb82_figures_say_real(contextual, grouping, measurement,
                                                                    centring, sector, propositions):
    for result in (contextual, grouping, measurement):
        assert "synthetic" in result.figure.layout.title.text
    for result in (centring[True], sector[(True, False)], *propositions.values()):
        assert "real data" in result.figure.layout.title.text


# --------------------------------------------------------------------------- cross-level interactions


@pytest.mark.parametrize("key", [(True, False), (False, False), (True, True), (False, True)])
def test_sector_interaction_lines_and_explained_share(sector, key):
    result = sector[key]
    comparison, fixed = result.comparison, result.comparison.with_z.fixed
    lines = result.sector_lines.set_index("level")
    assert lines.loc["Public", "slope"] == pytest.approx(fixed["ses_within"], abs=1e-12)
    assert lines.loc["Catholic", "slope"] == pytest.approx(
        fixed["ses_within"] + fixed["ses_within_x_catholic"], abs=1e-12)
    assert lines.loc["Catholic", "intercept"] - lines.loc["Public", "intercept"] == pytest.approx(
        fixed["catholic"], abs=1e-12)
    variances = result.variances
    tau11_without, tau11_with = variances["tau11"]
    assert result.explained.loc["share of tau11 explained by Z", "estimate"] == pytest.approx(
        (tau11_without - tau11_with) / tau11_without, rel=1e-12)
    # The lesson's claims: public slope steeper, by several SEs; tau11 shrinks.
    assert lines.loc["Public", "slope"] > lines.loc["Catholic", "slope"]
    assert abs(fixed["ses_within_x_catholic"]) > 3 * comparison.with_z.fixed_se["ses_within_x_catholic"]
    assert 0 < comparison.proportion_explained < 1
    assert not comparison.with_z.singular and not comparison.without_z.singular
    reml = key[0]
    if reml:
        assert result.likelihood_ratio is None
    else:
        statistic, df, p = result.likelihood_ratio
        assert statistic == pytest.approx(2 * (comparison.with_z.loglik - comparison.without_z.loglik))
        assert df == 2 and p < 1e-6


def test_sector_school_lines_are_fixed_effects_plus_conditional_modes(sector):
    result = sector[(True, True)]
    comparison = result.comparison
    fit, data = comparison.with_z, result.data
    lines = comparison.school_lines(data, "school", {0.0: "Public", 1.0: "Catholic"})
    school = data["school"].iloc[0]
    rows = data[data["school"] == school]
    z, mean_ses = rows["catholic"].iloc[0], rows["mean_ses"].iloc[0]
    expected_intercept = (fit.fixed["Intercept"] + fit.fixed["catholic"] * z
                          + fit.fixed["mean_ses"] * mean_ses + fit.blups.loc[school, "u0"])
    expected_slope = (fit.fixed["ses_within"] + fit.fixed["ses_within_x_catholic"] * z
                      + fit.blups.loc[school, "u1"])
    assert lines.loc[school, "intercept"] == pytest.approx(expected_intercept, abs=1e-10)
    assert lines.loc[school, "slope"] == pytest.approx(expected_slope, abs=1e-10)


def test_raw_ses_with_sector_lands_on_the_boundary_as_the_lesson_says():
    fit = fit_multilevel(mm.hsb82_columns(), "mAch", "ses", "school", random_slope=True,
                         covariates=("catholic", "ses_x_catholic"))
    assert fit.singular and fit.correlation == pytest.approx(1.0, abs=1e-3)
    assert any("Boundary" in m.headline for m in fit.messages)
    assert lme4_value("mm_sector_raw_ses_with_reml", "singular") == 1


def test_ability_grouping_truth_and_estimates(grouping):
    settings = grouping.settings
    truth = settings.truth
    # The question's feedback: (4² / 4) / (1 + 4² / 4) = 0.8 at the defaults.
    assert (settings.slope_without_grouping, settings.slope_with_grouping, settings.slope_sd) == (6.0, 2.0, 1.0)
    assert truth["explained"] == pytest.approx(0.8)
    assert truth["tau11_without"] == pytest.approx(settings.slope_sd ** 2 + truth["gamma11"] ** 2 / 4)
    coefficients = grouping.coefficients
    for term in ("iq", "iq_x_grouping", "grouping"):
        row = coefficients.loc[term]
        assert abs(row["estimate"] - row["truth"]) < 2.5 * row["SE"], term
    share = grouping.comparison.proportion_explained
    assert 0.5 < share < 1.0  # "most of it"
    lines = grouping.group_lines.set_index("level")["slope"]
    assert lines["Ability grouping"] < lines["No grouping"]
    assert grouping.data.groupby("school")["grouping"].first().mean() == 0.5


def test_no_slope_variance_is_explained_in_plain_words():
    result = mm.compute_ability_grouping(mm.AbilityGroupingSettings(
        slope_without_grouping=3.0, slope_with_grouping=3.0, slope_sd=0.0))
    headlines = " ".join(m.headline for m in result.messages)
    assert "Boundary" in headlines or "explained" in headlines
    assert np.isnan(result.explained.loc["share of tau11 explained by Z", "truth"])


# --------------------------------------------------------------------------- measurement error


def test_measurement_error_simulation_follows_the_derivation(measurement):
    settings, data = measurement.settings, measurement.data
    # x*_ij = x_ij + u_j: the error is one shift per school, and with no true school
    # differences (sd_school = 0) the school's intercept is beta1 u_j.
    error = data["x_true"] - data["x_measured"]
    assert error.groupby(data["school"]).std().max() < 1e-12
    np.testing.assert_allclose(data["intercept_truth"], settings.slope * error, atol=1e-12)
    # What is left, y - 10 - beta1 x*, is the pupil noise 3 e_ij (variance 9).
    noise = data["y"] - 10.0 - settings.slope * data["x_true"]
    assert noise.var() == pytest.approx(9.0, rel=0.15)
    np.testing.assert_array_equal(data["x_recorded"], data["x_measured"])  # no pupil-level error
    truth = settings.truth
    assert truth["tau00"] == settings.sd_school ** 2 + settings.slope ** 2 * settings.sd_group_error ** 2
    # The question's premise: beta1 = 2, SD(u) = 1, no true school differences, 50 x 20.
    assert (settings.slope, settings.sd_group_error, settings.sd_school, settings.n_schools,
            settings.pupils_per_school) == (2.0, 1.0, 0.0, 50, 20)
    assert truth["tau00"] == 4.0


def test_estimated_intercepts_track_the_errors(measurement):
    intercepts = measurement.intercepts
    assert np.corrcoef(intercepts["truth"], intercepts["estimate"])[0, 1] > 0.9
    assert measurement.sample_tau00 == pytest.approx(intercepts["truth"].var(ddof=1))
    # The estimate follows this sample's intercepts more closely than the population value.
    tau00 = measurement.fit.variance["tau00"]
    assert abs(tau00 - measurement.sample_tau00) < abs(tau00 - measurement.settings.truth["tau00"])
    figure_points = next(t for t in measurement.figure.data if t.meta == "schools")
    np.testing.assert_allclose(figure_points.x, intercepts["truth"])
    np.testing.assert_allclose(figure_points.y, intercepts["estimate"])


def test_tau00_tracks_beta1_squared_var_u_in_a_large_sample():
    for slope, sd_u in ((1.0, 1.5), (3.0, 0.5), (2.0, 1.0)):
        settings = mm.MeasurementErrorSettings(slope=slope, sd_group_error=sd_u, sd_school=0.5,
                                               n_schools=100, pupils_per_school=30)
        result = mm.compute_measurement_error(settings)
        truth = settings.truth["tau00"]
        assert truth == pytest.approx(0.25 + slope ** 2 * sd_u ** 2)
        # tau00's sampling SD with 100 schools is about truth * sqrt(2 / 99).
        assert abs(result.fit.variance["tau00"] - truth) < 3 * truth * np.sqrt(2 / 99)


def test_pupil_level_error_attenuates_by_the_reliability():
    settings = mm.MeasurementErrorSettings(sd_individual_error=1.0, n_schools=100, pupils_per_school=50)
    result = mm.compute_measurement_error(settings)
    assert settings.reliability == 0.5
    truth = settings.truth
    assert truth["slope"] == pytest.approx(1.0) and truth["sigma2"] == pytest.approx(9.0 + 4.0 * 0.5)
    fit = result.fit
    assert abs(fit.fixed["x_recorded"] - truth["slope"]) < 3 * fit.fixed_se["x_recorded"]
    assert fit.variance["sigma2"] == pytest.approx(truth["sigma2"], rel=0.06)


def test_no_error_and_no_school_differences_is_explained_not_raised():
    result = mm.compute_measurement_error(mm.MeasurementErrorSettings(sd_group_error=0.0, sd_school=0.0))
    assert result.table.loc["tau00: random-intercept variance", "truth"] == 0.0
    fit = result.fit
    assert fit.usable
    if fit.singular:
        assert any("Boundary" in m.headline for m in result.messages)


# --------------------------------------------------------------------------- propositions


def test_every_proposition_draws_its_arrows_with_the_terms_that_carry_them(propositions):
    for key, result in propositions.items():
        names = {a.name for a in result.figure.layout.annotations}
        assert {"node:Z", "node:Y", "node:x", "node:y"} <= names
        for arrow in result.proposition.arrows:
            name = f"{arrow.source}->{arrow.target}"
            assert f"arrow:{name}" in names and f"label:{name}" in names, (key, name)
            label = next(a.text for a in result.figure.layout.annotations if a.name == f"label:{name}")
            row = result.arrows.set_index("term").loc[arrow.term or "none in a model of y"]
            if arrow.term is None:
                assert "no term" in label and np.isnan(row["estimate"])
            else:
                visible = re.sub(r"<[^>]*>", "", label.replace("<br>", " "))
                assert arrow.term.replace("_x_", " × ") in visible, (key, label)
                assert f"{row['estimate']:.2f}" in label
                assert arrow.latex in result.equation and r"\textcolor" in result.equation
        assert "[[" not in result.equation


def test_proposition_estimates_are_the_fits_coefficients(propositions):
    result = propositions["macro_and_micro"]
    arrows = result.arrows.set_index("term")
    assert arrows.loc["ses", "estimate"] == result.fit.fixed["ses"]
    assert arrows.loc["mean_ses", "SE"] == result.fit.fixed_se["mean_ses"]
    assert arrows.loc["mean_ses", "estimate"] > 0  # the answer of question-propositions-school-mean
    cross = propositions["cross_level"]
    assert set(cross.arrows["term"]) == {"ses_within", "catholic", "ses_within_x_catholic"}
    details = cross.details.set_index("quantity")["value"]
    assert details.iloc[0] == cross.fit.variance["tau11"]


def test_emergent_proposition_reliability_is_the_stated_formula(propositions):
    result = propositions["emergent"]
    fit = result.fit
    assert fit.predictor is None and fit.outcome == "ses"
    n = fit.blups["n"].astype(float)
    tau00, sigma2 = fit.variance["tau00"], fit.variance["sigma2"]
    reliability = n * tau00 / (n * tau00 + sigma2)
    details = result.details.set_index("quantity")["value"]
    assert details["reliability of a school's mean SES, average over schools"] == pytest.approx(reliability.mean())
    assert details["reliability, smallest school"] == pytest.approx(reliability.min())
    assert 0.2 < fit.icc < 0.3  # "about a quarter of the variation in SES lies between schools"
    assert any(shape.line.dash == "dash" for shape in result.figure.layout.shapes)


# --------------------------------------------------------------------------- figures


def test_within_between_figure_draws_the_estimates(centring, contextual):
    for result, within in ((centring[True], centring[True].estimates.loc["within-school slope", "estimate"]),
                           (contextual, contextual.contextual.fixed["x"])):
        traces = {t.meta: t for t in result.figure.data}
        assert {"within", "school_means", "between", "blend", "pooled"} <= set(traces)
        xs, ys = traces["within"].x, traces["within"].y
        assert (ys[1] - ys[0]) / (xs[1] - xs[0]) == pytest.approx(within)
        means = traces["school_means"]
        between = traces["between"]
        assert between.x[0] == pytest.approx(min(means.x)) and between.x[-1] == pytest.approx(max(means.x))
    assert "pupils" in {t.meta for t in contextual.figure.data}


def test_contextual_chart_draws_whole_schools_of_pupils_and_says_which(contextual):
    pupils = next(t for t in contextual.figure.data if t.meta == "pupils")
    per_school = contextual.settings.pupils_per_school
    drawn = mm.MAX_POINTS_DRAWN // per_school
    assert len(pupils.x) == drawn * per_school < len(contextual.data)
    assert pupils.name == f"Pupils of the first {drawn} schools"
    # the within-school segments still cover every school (two ends and a gap each)
    within = next(t for t in contextual.figure.data if t.meta == "within")
    assert len(within.x) == 3 * contextual.settings.n_schools
    small = mm.compute_contextual_simulation(
        mm.ContextualSimulationSettings(n_schools=15, pupils_per_school=10))
    assert next(t for t in small.figure.data if t.meta == "pupils").name == "Pupils"


def test_moderator_figure_has_school_lines_and_averages(sector, grouping):
    metas = {t.meta for t in sector[(True, False)].figure.data}
    assert {"schools:Public", "schools:Catholic", "average:Public", "average:Catholic"} == metas
    average = next(t for t in grouping.figure.data if t.meta == "average:Ability grouping")
    slope = grouping.group_lines.set_index("level").loc["Ability grouping", "slope"]
    assert (average.y[1] - average.y[0]) / (average.x[1] - average.x[0]) == pytest.approx(slope)


# --------------------------------------------------------------------------- the lesson text and its questions


def test_lesson_has_a_section_per_view_and_per_proposition():
    titles = [section.title for section in LESSON.values()]
    for label in ("1 · Propositions", "2 · Centring on Hsb82", "3 · Within, between, blended",
                  "4 · Sector × SES", "5 · Ability grouping", "6 · Measurement error"):
        assert label in titles
    for key, proposition in mm.PROPOSITIONS.items():
        assert LESSON[f"proposition-{key}"].title == proposition.title


def test_every_question_has_feedback_per_option_and_live_evidence():
    questions = {key: choice_question(section) for key, section in LESSON.items() if section.is_question}
    assert set(questions) == set(mm.QUESTION_PANELS)
    for key, question in questions.items():
        assert len(question.choices) >= 2 and all(c.feedback for c in question.choices)
        assert question.evidence_names, f"{key}: the reveal must show live numbers"
        evidence = mm.question_evidence(key)
        answer = fill_evidence(question.answer, evidence)
        assert "{{" not in answer
        for choice in question.choices:
            fill_evidence(choice.feedback, evidence)


def test_panel_evidence_names_what_the_questions_use():
    for key, (panel, fixed) in mm.QUESTION_PANELS.items():
        assert panel in mm.PANELS
        assert fixed is None or isinstance(fixed, mm.PANELS[panel].settings_type)


def test_every_panel_runs_at_its_defaults_without_errors():
    for key, panel in mm.PANELS.items():
        result = panel.compute(panel.settings_type())
        assert not [m for m in result.messages if m.severity == "error"], key
        assert result.evidence and all(isinstance(v, str) for v in result.evidence.values())


# --------------------------------------------------------------------------- the panels in final form


@pytest.mark.parametrize("key", list(mm.PANELS))
def test_panel_results_are_in_final_form_and_picklable(key):
    """What a panel's fragment draws arrives ready: a prepared chart, HTML tables, code
    text; no fits, frames or plotly figures (the disk tier pickles results for the other
    workers, and a warm press must not rebuild anything)."""
    import pickle

    from hlmlab.report import FitCode
    from hlmlab.style import BrowserFigure
    from hlmlab.tables import DisplayTable

    panel = mm.PANELS[key]
    result = panel.compute(panel.settings_type())
    allowed = (BrowserFigure, DisplayTable, FitCode, str, tuple, dict)
    for name, value in vars(result).items():
        assert isinstance(value, allowed), (key, name, type(value))
    assert isinstance(result.chart, BrowserFigure) and isinstance(result.code, FitCode)
    assert len(pickle.dumps(result)) < 200_000


def test_slider_panels_use_the_settings_ranges():
    for panel in (mm.CONTEXTUAL, mm.GROUPING, mm.MEASUREMENT):
        ranges = panel.settings_type.RANGES
        assert set(panel.sliders) == set(ranges)
        for name, grid in panel.sliders.items():
            assert (grid.low, grid.high, grid.step) == ranges[name]
            # Every value on the grid is a valid setting (the ends included).
            for value in (grid.low, grid.high):
                panel.settings_type(**{name: grid.snap(value)})
    for panel in (mm.PROPOSITION, mm.CENTRING, mm.SECTOR):
        assert not panel.sliders  # a click reruns the page; these are warmed, not prefetched


def test_every_hsb82_setting_is_warmed_by_the_workers():
    """scripts/warm_worker.py opens one URL per setting of the Hsb82 panels (the page
    computes the open view's result, and its questions', in its own run)."""
    import importlib.util

    path = Path(__file__).resolve().parents[2] / "scripts" / "warm_worker.py"
    spec = importlib.util.spec_from_file_location("warm_worker_for_macro_micro", path)
    warm_worker = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(warm_worker)
    urls = set(warm_worker.MACRO_MICRO_PAGES)
    assert set(warm_worker.MACRO_MICRO_PAGES) <= set(warm_worker.default_pages())
    propositions = {s.proposition for s in mm.HSB82_SETTINGS if isinstance(s, mm.PropositionSettings)}
    assert {f"macro_micro?prop={p}" for p in propositions - {"macro_and_micro"}} <= urls
    assert "macro_micro" in urls  # the default proposition
    assert {"macro_micro?macro_view=2", "macro_micro?macro_view=2&cent_method=ML"} <= urls
    assert {"macro_micro?macro_view=4", "macro_micro?macro_view=4&sector_method=ML",
            "macro_micro?macro_view=4&sector_mean=1",
            "macro_micro?macro_view=4&sector_method=ML&sector_mean=1"} <= urls
    assert len(mm.HSB82_SETTINGS) == 12


def test_combined_code_runs_every_fit_of_a_panel():
    result = mm.CENTRING.compute(mm.CentringSettings())
    for label, (_, x, covariates) in mm.CENTRING_MODELS.items():
        formula = f"mAch ~ {' + '.join([x, *covariates])} + (1 | school)"
        assert f"lmer({formula}, data = data, REML = TRUE)" in result.code.lme4
        assert f"smf.mixedlm('mAch ~ {' + '.join([x, *covariates])}'" in result.code.code
    assert "lm(mAch ~ ses, data = data)" in result.code.lme4
    assert result.code.code.startswith("# data: Hsb82")
    simulated = mm.MEASUREMENT.compute(mm.MeasurementErrorSettings())
    assert "synthetic" in simulated.code.code.splitlines()[0]
    assert "simulate_measurement_error(MeasurementErrorSettings(slope=2.0" in simulated.code.code


def test_question_evidence_functions_take_the_names_their_questions_use():
    from hlmlab.analyses import macro_micro_questions as mmq
    from hlmlab.errors import ModelDataError

    assert set(mmq.QUESTIONS) == set(mm.QUESTION_PANELS)
    panel, settings = mm.question_settings("question-measurement-tau00")
    result = panel.compute(settings)
    values = mmq.QUESTIONS["question-measurement-tau00"](result)
    assert set(values) == {"me_tau00", "me_tau00_truth", "me_tau00_sample"}
    broken = replace(result, evidence={**result.evidence, "me_tau00": "not estimable"})
    with pytest.raises(ModelDataError, match="me_tau00"):
        mmq.QUESTIONS["question-measurement-tau00"](broken)
