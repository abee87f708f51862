"""hlmlab.diagnostics: from a fit's structured status to the words a student reads.

The statuses here are written by hand, so each message is tied to the fact that causes it;
the last tests check that fits produce the statuses (two schools of NELS88 are a boundary
fit in lme4 too: reference case nels88_deck2_rs_reml).
"""

from __future__ import annotations

import math

import pytest

from hlmlab.diagnostics import (
    FitStatus,
    StatsmodelsCheck,
    ZeroVariance,
    describe,
    no_separate_lines,
    not_fitted,
    statsmodels_check,
    statsmodels_note,
)
from hlmlab.twolevel import fit_multilevel

HEALTHY = FitStatus(converged=True, n_groups=10, random_slope=True, predictor="x", group="g",
                    correlation=0.3, statsmodels=StatsmodelsCheck.AGREES, loglik_gap=0.0)


def severities(status: FitStatus) -> list[str]:
    return [m.severity for m in describe(status)]


def test_a_healthy_fit_has_nothing_to_say():
    assert describe(HEALTHY) == ()
    assert "confirms" in statsmodels_note(HEALTHY)


def test_a_fit_that_did_not_converge_says_only_that_and_what_to_try():
    for status, advice in (
        (FitStatus(converged=False, random_slope=True), "a random-intercept model"),
        (FitStatus(converged=False, levels=3), "the two-level models"),
    ):
        messages = describe(status)
        assert [m.severity for m in messages] == ["error"]
        assert "trustworthy" in messages[0].headline and advice in messages[0].detail
    assert "random-intercept" not in describe(FitStatus(converged=False))[0].detail


def test_few_groups_for_a_random_slope_is_a_teaching_point():
    status = FitStatus(converged=True, n_groups=3, random_slope=True, group="school")
    (message,) = describe(status)
    assert message.severity == "teaching" and message.headline.startswith("Only 3 groups (school)")
    assert describe(FitStatus(converged=True, n_groups=3, random_slope=False)) == ()


@pytest.mark.parametrize(("zero", "levels", "words"), [
    (ZeroVariance("Intercept", "g"), 2, "intercept variance between groups"),
    (ZeroVariance("x", "g"), 2, "slope variance of 'x'"),
    (ZeroVariance("Intercept", "school"), 3, "variance between school units"),
])
def test_each_zero_variance_is_a_boundary_warning(zero, levels, words):
    status = FitStatus(converged=True, singular=True, zero_variances=(zero,), levels=levels,
                       n_groups=20)
    (message,) = describe(status)
    assert message.severity == "warning" and words in message.headline
    assert "boundary (singular) fit" in message.detail


def test_correlation_at_one_on_and_near_the_boundary():
    on = FitStatus(converged=True, singular=True, perfect_correlation=True, random_slope=True,
                   n_groups=20)
    assert "perfectly correlated" in describe(on)[0].headline
    near = FitStatus(converged=True, random_slope=True, n_groups=20, correlation=-0.995)
    assert describe(near)[0].headline == "Nearly on the boundary: intercept-slope correlation -0.995."
    assert describe(FitStatus(converged=True, random_slope=True, n_groups=20,
                              correlation=0.98)) == ()


def test_statsmodels_check_classifies_and_words_the_outcome():
    assert statsmodels_check(-100.0, -100.00005, singular=False) == (StatsmodelsCheck.AGREES,
                                                                     pytest.approx(5e-5))
    check, gap = statsmodels_check(-101.0, -100.0, singular=False)
    assert check is StatsmodelsCheck.DIFFERS and gap == pytest.approx(1.0)
    assert statsmodels_check(None, -100.0, singular=False)[0] is StatsmodelsCheck.FAILED
    assert statsmodels_check(math.inf, -100.0, singular=False)[0] is StatsmodelsCheck.FAILED
    check, gap = statsmodels_check(-101.0, -100.0, singular=True)
    assert check is StatsmodelsCheck.NOT_ASKED and math.isnan(gap)
    for outcome in (StatsmodelsCheck.DIFFERS, StatsmodelsCheck.FAILED):
        status = FitStatus(converged=True, statsmodels=outcome, loglik_gap=0.5)
        (message,) = describe(status)
        assert message.severity == "info" and message.detail == statsmodels_note(status)
    assert "ended 0.5 log-likelihood units away" in statsmodels_note(
        FitStatus(converged=True, statsmodels=StatsmodelsCheck.DIFFERS, loglik_gap=0.5))
    assert describe(FitStatus(converged=True, statsmodels=StatsmodelsCheck.NOT_ASKED)) == ()


def test_other_parts_of_an_analysis_explain_themselves():
    message = no_separate_lines([3, 7], "homework")
    assert message.severity == "info" and message.headline == "No separate line for 2 group(s): 3, 7."
    missing = not_fitted("multilevel model", "A multilevel model needs at least two groups.")
    assert missing.severity == "error" and str(missing) == (
        "The multilevel model could not be fitted. A multilevel model needs at least two groups.")


def test_two_schools_with_a_random_slope_produce_the_boundary_status(nels):
    two = nels[nels["schid"].isin([24725, 62821])]
    fit = fit_multilevel(two, "math", "homework", "schid", random_slope=True)
    assert fit.status.singular and fit.status.n_groups == 2
    assert fit.status.statsmodels is StatsmodelsCheck.NOT_ASKED
    assert any(m.severity == "teaching" and "Only 2 groups" in m.headline for m in fit.messages)
    assert fit.messages == describe(fit.status)
