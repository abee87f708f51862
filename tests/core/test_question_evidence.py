"""The live evidence of every question of the four lesson pages (hlmlab.analyses.*_questions):
one evidence function per question, giving every name the question's text uses, with numbers
equal to the fits they come from and, where the model is a reference case, to lme4
(tests/reference/lme4_reference.csv, written by tests/reference/lme4_reference.R).

Evidence is computed at each page's default settings, from the same core calls the pages make
(tests/question_evidence.py). A formula a question's text states is checked against the
numbers it shows.
"""

from __future__ import annotations

import numpy as np
import pytest

from hlmlab.analyses import nels88_two_schools, why_multilevel
from hlmlab.lesson_text import load_lesson
from hlmlab.questions import NumericQuestion, fill_evidence, parse_question
from hlmlab.stats import design_effect, naive_rejection_rate
from question_evidence import MODULES, default_evidence


def shown(text: str, value: float, digits: int) -> bool:
    """Whether ``text`` is ``value`` rounded to ``digits`` decimals."""
    return float(text) == pytest.approx(value, abs=0.5 * 10 ** -digits + 1e-9)


@pytest.fixture(scope="module")
def evidence():
    return {lesson: default_evidence(lesson) for lesson in MODULES}


# --------------------------------------------------------------------------- every question


@pytest.mark.parametrize("lesson", MODULES)
def test_each_page_lesson_has_an_evidence_function_for_exactly_its_questions(lesson):
    questions = {key for key, section in load_lesson(lesson).items() if section.is_question}
    assert set(MODULES[lesson].QUESTIONS) == questions


@pytest.mark.parametrize("lesson", MODULES)
def test_every_name_a_question_uses_is_in_its_evidence(lesson, evidence):
    for key, section in load_lesson(lesson).items():
        if not section.is_question:
            continue
        question, values = parse_question(section), evidence[lesson][key]
        assert question.evidence_names, f"{key}: the reveal must show live numbers"
        assert set(question.evidence_names) <= set(values), key
        assert all(isinstance(v, str) and v for v in values.values()), key
        options = question.bands if isinstance(question, NumericQuestion) else question.choices
        for text in (question.answer, *(option.feedback for option in options)):
            assert "{{" not in fill_evidence(text, values)
        if isinstance(question, NumericQuestion):
            target = float(values[question.target])
            assert question.low <= target <= question.high, (key, target)


# --------------------------------------------------------------------------- NELS88


def test_nels88_one_line_is_the_pooled_slope_and_mixes_within_and_between(evidence, nels):
    nels_evidence = evidence["nels88_two_schools"]
    from hlmlab.ols import fit_pooled

    values = nels_evidence["question-one-line"]
    rows = nels88_two_schools.select_rows(nels, nels88_two_schools.DECK_SCHOOLS, 70)
    assert shown(values["pooled_slope"], fit_pooled(rows, "math", "homework").coef["homework"], 2)
    share = float(values["pooled_within_share"]) / 100
    mixed = share * float(values["within_slope"]) + (1 - share) * float(values["between_slope"])
    assert mixed == pytest.approx(float(values["pooled_slope"]), abs=0.07)  # shares are rounded
    # The question's right answer: steeper, because the between slope is steeper.
    assert float(values["pooled_slope"]) > float(values["within_slope"])
    assert values["schools"] == "schools 24725 and 62821"


def test_nels88_random_intercept_slope_is_lme4_s_and_a_precision_weighted_mix(evidence, lme4):
    nels_evidence = evidence["nels88_two_schools"]
    values = nels_evidence["question-pooled-slope"]
    case = "nels88_all_ri_reml"
    assert shown(values["ri_slope"], lme4(case, "fixef", "homework"), 2)
    within, between = float(values["within_slope"]), float(values["between_slope"])
    within_share, between_share = (float(values["ri_within_share"]) / 100,
                                   float(values["ri_between_share"]) / 100)
    assert within_share + between_share == pytest.approx(1.0, abs=1e-3)
    assert within_share * within + between_share * between == pytest.approx(
        lme4(case, "fixef", "homework"), abs=0.01)
    # The right option: between the within slope and the pooled slope, nearer the within one.
    pooled, ri = float(values["pooled_slope"]), float(values["ri_slope"])
    assert within < ri < pooled and ri - within < pooled - ri
    assert float(values["ri_within_share"]) > float(values["pooled_within_share"])


def test_nels88_shrinkage_weights_follow_the_formula_the_answer_states(evidence, nels, lme4):
    nels_evidence = evidence["nels88_two_schools"]
    values = nels_evidence["question-shrink"]
    tau00, sigma2 = lme4("nels88_all_ri_reml", "tau00"), lme4("nels88_all_ri_reml", "sigma2")
    sizes = nels.groupby("schid").size()
    weights = tau00 / (tau00 + sigma2 / sizes)
    assert shown(values["lambda_full_min"], weights.min(), 2)
    assert shown(values["lambda_full_max"], weights.max(), 2)
    assert values["largest_school"] == str(sizes.idxmax()) and values["largest_n"] == "67"
    # With 5 students each: lambda = tau00 / (tau00 + sigma2 / 5), as the answer writes it.
    tau_small, noise = float(values["tau00_small"]), float(values["noise_small"])
    assert noise == pytest.approx(float(values["sigma2_small"]) / 5, abs=0.06)
    assert float(values["lambda_small"]) == pytest.approx(tau_small / (tau_small + noise), abs=0.01)
    # The right option: the weights fall, and the per-school slopes swing about more.
    assert float(values["lambda_small"]) < float(values["lambda_full_min"])
    assert float(values["ols_slope_sd_small"]) > float(values["ols_slope_sd_full"])


# --------------------------------------------------------------------------- JSP


def test_jsp_evidence_equals_the_fits(evidence, lme4):
    jsp_evidence = evidence["jsp_schools"]
    intake = jsp_evidence["question-intake"]
    assert intake["rising_lines"] == intake["lines"] and int(intake["lines"]) > 140
    r2 = jsp_evidence["question-r2"]
    assert float(r2["pupils_median_r2"]) < 0.2 < 0.6 < float(r2["means_median_r2"])
    lines = jsp_evidence["question-lines"]
    assert shown(lines["tau00_sd"], np.sqrt(lme4("jsp_growth_rs_reml", "tau00")), 2)
    assert (float(lines["multilevel_intercept_sd"]) < float(lines["tau00_sd"])
            < float(lines["ols_intercept_sd"]))
    assert float(lines["multilevel_slope_sd"]) < float(lines["ols_slope_sd"])
    rank = jsp_evidence["question-rank"]
    assert rank["schools"] == "48" and int(rank["median_rank_span"]) >= 20
    assert int(rank["overlap"]) + int(rank["above"]) + int(rank["below"]) == 48
    separate = jsp_evidence["question-separate"]
    assert float(separate["gap_few_pupils"]) > float(separate["gap_every_pupil"])
    levels = jsp_evidence["question-levels"]
    assert levels["term"] == "year[2]"
    assert shown(levels["se_three_level"], lme4("jsp_three_level_reml", "se", "year[2]"), 3)
    assert shown(levels["se_pupil_ignored"], lme4("jsp_ignore_pupil_reml", "se", "year2"), 3)
    assert shown(levels["ratio_pupil_ignored"], lme4("jsp_ignore_pupil_reml", "se", "year2")
                 / lme4("jsp_three_level_reml", "se", "year[2]"), 2)


# --------------------------------------------------------------------------- Why multilevel


def test_the_false_alarm_rate_of_ols_on_pupils_matches_the_simulation(evidence):
    """The guess is judged against 2 (1 - Phi(1.96 / sqrt(deff))); 500 simulated studies at the
    defaults reject at a rate within three Monte Carlo SEs of it."""
    why_evidence = evidence["why_multilevel"]
    values = why_evidence["question-classic"]
    deff = design_effect(0.2, 20)
    assert values["design_effect"] == "4.8" and shown(values["se_inflation"], np.sqrt(deff), 2)
    assert values["ols_rejection_percent"] == "37"
    many = why_multilevel.run_many_studies(10, 20, 0.2, n_studies=500)
    ols = many.summary.loc["pupils_ols"]
    assert abs(ols["rejection_rate"] - naive_rejection_rate(deff)) < 3 * ols["mc_se"]
    assert naive_rejection_rate(1.0) == pytest.approx(0.05)


def test_why_multilevel_evidence_equals_the_fits(evidence, lme4):
    why_evidence = evidence["why_multilevel"]
    classic = why_evidence["question-classic"]
    assert shown(classic["study_mixed_se"], lme4("why_classic_study_reml", "se", "formal"), 2)
    precision = why_evidence["question-precision"]
    # The answer's formula: the SE ratio is the square root of the design effects' ratio.
    assert shown(precision["se_ratio"], np.sqrt(12.8 / 1.2), 2)
    assert (precision["deff_few"], precision["deff_many"]) == ("12.8", "1.2")
    assert (precision["effective_few"], precision["effective_many"]) == ("19", "200")
    icc = why_evidence["question-icc"]
    tau00, sigma2 = lme4("why_icc_empty_reml", "tau00"), lme4("why_icc_empty_reml", "sigma2")
    assert shown(icc["icc_estimate"], tau00 / (tau00 + sigma2), 2)
    assert float(icc["icc_low"]) < float(icc["icc_estimate"]) < float(icc["icc_high"])
    # The answer's bound: the sample variance of 20 normal class means has a relative SE of
    # sqrt(2 / 19); checked by simulation (seeded) against that formula.
    draws = np.random.default_rng(12).normal(size=(20000, 20)).var(axis=1, ddof=1)
    assert shown(icc["best_relative_se"], draws.std() / draws.mean(), 2)
    sampling = why_evidence["question-sampling"]
    assert int(sampling["naive_coverage"]) < 90 <= int(sampling["multilevel_coverage"])
    advantages = why_evidence["question-advantages"]
    naive_se = why_multilevel.hsb82_analyses(False).table[("OLS", "SE")]
    for term in ("ses", "sector", "meanses"):
        assert shown(advantages[f"mixed_{term}"],
                     lme4("hsb82_coded_ri_reml", "se", term) / naive_se[term], 2)
    assert min(float(advantages["robust_sector"]), float(advantages["robust_meanses"])) > \
        1.3 * float(advantages["robust_ses"])


# --------------------------------------------------------------------------- longitudinal


def test_longitudinal_evidence_equals_the_fits(evidence, lme4):
    long_evidence = evidence["longitudinal"]
    explanations = long_evidence["question-explanations"]
    case = "long_reading_person_mean_reml"
    assert shown(explanations["within_slope"], lme4(case, "fixef", "age_within"), 2)
    assert shown(explanations["between_slope"], lme4(case, "fixef", "age_mean"), 2)
    growth = long_evidence["question-complete-case"]
    assert shown(growth["mixed_slope"], lme4("long_growth_rs_reml", "fixef", "time"), 2)
    assert shown(growth["mixed_se"], lme4("long_growth_rs_reml", "se", "time"), 3)
    assert float(growth["cc_se"]) > float(growth["mixed_se"])  # the right option: less precise
    boys = long_evidence["question-boys-differ"]
    case = "oxboys_quadratic_rs_reml"
    assert shown(boys["sd_boys"], np.sqrt(lme4(case, "tau00")), 1)
    assert shown(boys["sd_growth"], np.sqrt(lme4(case, "tau11")), 1)
    assert shown(boys["sd_residual"], np.sqrt(lme4(case, "sigma2")), 1)
    levels = long_evidence["question-three-levels"]
    case = "egsingle_three_level_reml"
    variances = {"school": lme4(case, "var_group"), "pupil": lme4(case, "var_subgroup"),
                 "occasion": lme4(case, "sigma2")}
    total = sum(variances.values())
    for level, variance in variances.items():
        assert shown(levels[f"{level}_share"], 100 * variance / total, 0)
    assert max(variances, key=variances.get) == "pupil"  # the right option
    ar1 = long_evidence["question-autocorrelation"]
    assert float(ar1["ri_ratio_max"]) < float(ar1["ri_ratio_0"]) < 1  # too small, more so


# --------------------------------------------------------------------------- Foundations


def test_foundations_levels_are_lme4_s_two_level_fit_of_occasions_in_individuals(evidence, lme4):
    values = evidence["foundations"]["question-levels"]
    case = "foundations_sources_III_one_reading_reml"
    assert (values["individuals"], values["occasions"], values["readings"]) == ("60", "5", "300")
    assert shown(values["tau00"], lme4(case, "tau00"), 2)
    assert shown(values["sigma2"], lme4(case, "sigma2"), 2)


def test_foundations_identify_one_reading_is_the_total_two_readings_are_lme4_s(evidence, lme4):
    from hlmlab.analyses import foundations as fnd
    from hlmlab.analyses import foundations_questions as fq

    values = evidence["foundations"]["question-identify"]
    one = fnd.simulate_sources(fq.IDENTIFY_PREMISES[0])
    assert shown(values["total"], one["score"].var(ddof=1), 2)
    assert values["true_total"] == "5.00"  # 2^2 + 1^2 at the defaults
    assert shown(values["individual"], lme4("foundations_sources_I_reml", "tau00"), 2)
    assert shown(values["measurement"], lme4("foundations_sources_I_reml", "sigma2"), 2)
    assert (values["true_individual"], values["true_measurement"]) == ("4.00", "1.00")


def test_foundations_serial_se_is_lme4_s_and_the_ratio_the_closed_forms(evidence, lme4):
    from hlmlab.analyses import foundations as fnd
    from hlmlab.analyses import foundations_questions as fq

    values = evidence["foundations"]["question-serial"]
    assert shown(values["fit_se"], lme4("foundations_sources_III_reml", "se", "time"), 3)
    serial = fnd.compute_sources(fq.SERIAL_PREMISE).serial
    assert shown(values["se_ratio"], serial.slope_se_reported / serial.slope_se_actual, 2)
    assert shown(values["actual_se"], serial.slope_se_actual, 3)
    assert float(values["se_ratio"]) < 1  # the question's right answer: too small


def test_foundations_experiment_rates_follow_the_design_effect_and_lme4(evidence, lme4):
    from hlmlab.analyses import foundations as fnd
    from hlmlab.analyses import foundations_questions as fq

    values = evidence["foundations"]["question-experiment"]
    # The answer's formula: 2 Phi(-1.96 / sqrt(deff)), deff = 1 + 19 * 0.2 = 4.8.
    assert values["expected_percent"] == "37"
    assert shown(values["expected_percent"], 100 * naive_rejection_rate(design_effect(0.2, 20)), 0)
    assert shown(values["multilevel_se"],
                 lme4("foundations_experiment_teacher_reml", "se", "treated"), 2)
    result = fnd.compute_experiment(fq.EXPERIMENT_PREMISE)
    assert shown(values["pupils_se"], result.pooled.se["treated"], 2)
    rates = result.rates["rejection rate"]
    assert shown(values["pupils_percent"], 100 * rates["pupils_ols"], 1)
    assert shown(values["multilevel_percent"], 100 * rates["multilevel"], 1)
    assert values["replicates"] == "500"


def test_foundations_reasons_and_assumptions_state_their_formulas(evidence):
    values = evidence["foundations"]["question-reasons"]
    assert values["design_effect"] == "8.35" == f"{1 + 49 * 0.15:.2f}"  # 1 + (n - 1) ICC
    assert shown(values["se_factor"], np.sqrt(8.35), 1)
    assert shown(values["effective_pupils"], 2000 / 8.35, 0)
    assumptions = evidence["foundations"]["question-assumptions"]
    assert (assumptions["pupils"], assumptions["classes"], assumptions["df"]) == ("400", "20", "18")
