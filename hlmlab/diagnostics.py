"""What a fit's numbers mean for a student: structured status in, plain words out.

A fitting function records what it found in a frozen :class:`FitStatus` (converged? on the
boundary? which variance is zero? a correlation at +-1? how few groups? did statsmodels
agree?). :func:`describe` is the one place that turns a status into student-facing
:class:`Diagnostic` messages, and :func:`statsmodels_note` the one place that words the
statsmodels cross-check for the code tab. No message is chosen by matching text.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum
from typing import Sequence

__all__ = [
    "CORRELATION_BOUNDARY",
    "Diagnostic",
    "DescribedFit",
    "FEW_GROUPS_FOR_SLOPES",
    "FitStatus",
    "StatsmodelsCheck",
    "ZERO_VARIANCE_SHARE",
    "ZeroVariance",
    "describe",
    "is_zero_variance",
    "no_separate_lines",
    "not_fitted",
    "statsmodels_check",
    "statsmodels_note",
]

# A correlation this close to +-1 is reported as (nearly) a boundary fit.
CORRELATION_BOUNDARY = 0.99
# Below this many groups a random-slope covariance matrix is a teaching point, not an estimate.
FEW_GROUPS_FOR_SLOPES = 5
# A variance below this share of the residual variance is reported as estimated zero.
ZERO_VARIANCE_SHARE = 1e-6
# statsmodels' log-likelihood may differ from ours by this much and still agree.
LOGLIK_AGREEMENT = 1e-4


@dataclass(frozen=True)
class Diagnostic:
    """A plain-language note about a fit or an analysis.

    Attributes
    ----------
    severity : {"info", "teaching", "warning", "error"}
        ``error`` means that part must not be shown as if it were fine (or is missing).
    headline : str
        One short sentence.
    detail : str
        What it means and what to try.
    """

    severity: str
    headline: str
    detail: str

    def __str__(self) -> str:
        return f"{self.headline} {self.detail}"


class StatsmodelsCheck(Enum):
    """The outcome of asking statsmodels ``MixedLM`` about our optimum."""

    AGREES = "agrees"  # its log-likelihood there equals ours
    DIFFERS = "differs"  # it ended elsewhere, or computes another log-likelihood
    FAILED = "failed"  # it could not fit or evaluate the model there
    NOT_ASKED = "not asked"  # on the boundary, where its likelihood is not defined


@dataclass(frozen=True)
class ZeroVariance:
    """A variance component estimated as zero: the random ``term`` of grouping ``level``
    (``"Intercept"`` or the predictor with a random slope)."""

    term: str
    level: str


@dataclass(frozen=True)
class FitStatus:
    """Everything a student should be told about a mixed-model fit, as facts.

    Attributes
    ----------
    converged : the optimum passed every check (:mod:`hlmlab.optimum`).
    singular : on the boundary (lme4's ``isSingular``).
    zero_variances : the variance components estimated as zero (only on the boundary).
    perfect_correlation : on the boundary with every variance positive: the intercept-slope
        correlation is +-1.
    correlation : the intercept-slope correlation of a random-slope fit (NaN otherwise, and
        on the boundary).
    n_groups : groups of the top level.
    random_slope : the model has a random slope.
    levels : 2 or 3.
    predictor, group : names used in the words.
    statsmodels : what statsmodels made of the optimum.
    loglik_gap : |our log-likelihood - statsmodels'| (NaN when not compared).
    """

    converged: bool
    singular: bool = False
    zero_variances: tuple[ZeroVariance, ...] = ()
    perfect_correlation: bool = False
    correlation: float = math.nan
    n_groups: int = 0
    random_slope: bool = False
    levels: int = 2
    predictor: str | None = None
    group: str = ""
    statsmodels: StatsmodelsCheck = StatsmodelsCheck.NOT_ASKED
    loglik_gap: float = math.nan


class DescribedFit:
    """What every mixed-model fit says about itself, read from its ``status`` field (a
    :class:`FitStatus`): mixed into the fit dataclasses of :mod:`hlmlab.twolevel` and
    :mod:`hlmlab.threelevel`."""

    status: FitStatus

    @property
    def converged(self) -> bool:
        """The optimum passed every check."""
        return self.status.converged

    @property
    def singular(self) -> bool:
        """The optimum is on the boundary (lme4's ``isSingular``)."""
        return self.status.singular

    @property
    def messages(self) -> tuple[Diagnostic, ...]:
        """Plain-language notes for the student (:func:`describe`)."""
        return describe(self.status)

    @property
    def optimizer_note(self) -> str:
        """How the estimates relate to statsmodels' own (for the code tab)."""
        return statsmodels_note(self.status)

    @property
    def usable(self) -> bool:
        """True when the fit may be drawn and its estimates shown as fine: converged, and no
        error-level message."""
        return self.converged and not any(m.severity == "error" for m in self.messages)


def is_zero_variance(variance: float, residual_variance: float) -> bool:
    """A variance component is reported as zero below ``ZERO_VARIANCE_SHARE`` of the
    residual variance."""
    return variance < ZERO_VARIANCE_SHARE * residual_variance


def statsmodels_check(statsmodels_loglik: float | None, loglik: float,
                      singular: bool) -> tuple[StatsmodelsCheck, float]:
    """Classify statsmodels' log-likelihood at (or from) our optimum against ours.

    Returns
    -------
    (check, gap) : the outcome and |loglik - statsmodels_loglik| (NaN when not compared).
    """
    if singular:
        return StatsmodelsCheck.NOT_ASKED, math.nan
    if statsmodels_loglik is None or not math.isfinite(statsmodels_loglik):
        return StatsmodelsCheck.FAILED, math.nan
    gap = abs(loglik - statsmodels_loglik)
    return (StatsmodelsCheck.DIFFERS if gap > LOGLIK_AGREEMENT else StatsmodelsCheck.AGREES), gap


def statsmodels_note(status: FitStatus) -> str:
    """One sentence for the code tab: how the estimates relate to statsmodels' own."""
    check = status.statsmodels
    if check is StatsmodelsCheck.NOT_ASKED:
        return ("The optimum is on the boundary, where statsmodels' likelihood is not defined; "
                "the estimates come from lme4's profiled deviance (hlmlab.deviance).")
    if check is StatsmodelsCheck.FAILED:
        return ("statsmodels could not refit from this optimum; the estimates follow lme4's "
                "deviance." if status.levels == 2 else
                "statsmodels could not evaluate its likelihood at these estimates; they follow "
                "lme4's deviance.")
    if check is StatsmodelsCheck.DIFFERS:
        if status.levels == 2:
            return (f"statsmodels, started at this optimum, ended {status.loglik_gap:.2g} "
                    "log-likelihood units away; the estimates shown follow lme4's deviance.")
        return (f"statsmodels' log-likelihood at these estimates differs by "
                f"{status.loglik_gap:.2g} units; the estimates shown follow lme4's deviance.")
    if status.levels == 2:
        return "statsmodels, started at this optimum, confirms it: the log-likelihoods agree."
    return "statsmodels' log-likelihood at these estimates confirms them: the two agree."


def _what_to_try(status: FitStatus) -> str:
    options = (["the two-level models"] if status.levels == 3 else []) + (
        ["a random-intercept model"] if status.random_slope else []) + [
        "more groups", "more rows per group"]
    return ", ".join(options[:-1]) + ", or " + options[-1]


def _zero_variance_message(zero: ZeroVariance, status: FitStatus) -> Diagnostic:
    if status.levels == 3:
        return Diagnostic(
            "warning",
            f"Boundary fit: the variance between {zero.level} units is estimated as zero.",
            f"Once the other levels are accounted for, {zero.level} units differ no more than "
            "chance would make them. The level adds nothing here; lme4 would report "
            "'boundary (singular) fit'.")
    if zero.term == "Intercept":
        return Diagnostic(
            "warning",
            "Boundary fit: the intercept variance between groups is estimated as zero.",
            "Given the spread within groups, the group means differ no more than "
            "chance alone would make them. The multilevel lines collapse onto the "
            "fixed line (complete pooling). This is a legitimate estimate, not a "
            "crash, but it usually means too few groups or too few rows per group "
            "to see the differences. lme4 would report 'boundary (singular) fit'.")
    return Diagnostic(
        "warning",
        f"Boundary fit: the slope variance of {zero.term!r} is estimated as zero.",
        "The groups' slopes differ no more than chance would make them, so every "
        "multilevel line has the same slope. A random-intercept model describes "
        "these data as well and is easier to interpret. lme4 would report "
        "'boundary (singular) fit'.")


def describe(status: FitStatus) -> tuple[Diagnostic, ...]:
    """The plain-language messages for a fit with this status, most important first.

    Not converged: one ``error`` (the fit's lines and estimates are not shown), nothing else.
    Otherwise, in order: few groups for a random slope (``teaching``); each zero variance
    and a correlation of +-1 on the boundary, or a correlation within 0.01 of +-1 off it
    (``warning``); statsmodels disagreeing or failing (``info``).
    """
    if not status.converged:
        return (Diagnostic(
            "error",
            "The fit did not reach a trustworthy optimum, so its lines and estimates are "
            "not shown.",
            "The likelihood could not be maximised reliably for these data. Try "
            f"{_what_to_try(status)}."),)
    messages: list[Diagnostic] = []
    if status.random_slope and status.n_groups < FEW_GROUPS_FOR_SLOPES:
        n = status.n_groups
        messages.append(Diagnostic(
            "teaching",
            f"Only {n} groups ({status.group}): the slope variance is barely estimable.",
            f"A random slope adds three numbers (tau00, tau11, tau01) that must be "
            f"estimated from just {n} group lines. The fit runs, but those "
            "variances are illustrations rather than estimates. Multilevel models pay "
            "off with many groups; with a handful, separate regressions (or fixed group "
            "effects) are the honest choice."))
    if status.singular:
        messages += [_zero_variance_message(zero, status) for zero in status.zero_variances]
        if status.perfect_correlation:
            messages.append(Diagnostic(
                "warning",
                "Boundary fit: intercepts and slopes are perfectly correlated.",
                "The estimated intercept-slope correlation is +1 or -1: the data cannot "
                "separate how much groups differ in level from how much they differ in "
                "slope, so the lines are forced into a fan. Usually too few groups, or too "
                "few observations per group, to estimate a 2x2 covariance matrix; try the "
                "random-intercept model. lme4 would report 'boundary (singular) fit'."))
    elif abs(status.correlation) > CORRELATION_BOUNDARY:
        messages.append(Diagnostic(
            "warning",
            f"Nearly on the boundary: intercept-slope correlation {status.correlation:+.3f}.",
            "A correlation this close to +-1 means the covariance matrix is barely "
            "estimable from these groups; read tau01 with caution."))
    if status.statsmodels in (StatsmodelsCheck.DIFFERS, StatsmodelsCheck.FAILED):
        messages.append(Diagnostic("info", "Optimiser note.", statsmodels_note(status)))
    return tuple(messages)


def no_separate_lines(groups: Sequence, predictor: str) -> Diagnostic:
    """Why some groups have no OLS line of their own (per-group regressions)."""
    return Diagnostic(
        "info",
        f"No separate line for {len(groups)} group(s): {', '.join(map(str, groups))}.",
        f"A line needs at least three rows with two different values of {predictor!r} "
        "(two points always fit exactly). The multilevel model still uses these "
        "groups: it borrows the slope from the others.")


def not_fitted(model: str, reason: str) -> Diagnostic:
    """A part of an analysis that could not be fitted at all: ``model`` names it (e.g.
    ``"multilevel model"``), ``reason`` is the :class:`hlmlab.errors.ModelDataError` message."""
    return Diagnostic("error", f"The {model} could not be fitted.", reason)
