"""Foundations: where the variability of multilevel data comes from, and where dependence
comes from. The analysis behind the Foundations lesson (``pages/foundations.py``); no
Streamlit.

One pure function per slider panel, each over a frozen settings dataclass:

:func:`compute_sources` (:class:`SourcesSettings` -> :class:`SourcesResult`)
    The course deck's table of sources of variability, live. Four designs:

    ====  ==========================================  =============================
    I     measured at the same time                    measurement error, between
                                                       individuals
    II    members of the same family                   + between families
    III   under different conditions or over time      + serial correlation
    IV    family members over time                     all four
    ====  ==========================================  =============================

    Seeded data are simulated with the size of each source set by a slider, the matching
    random-intercept model is fitted (two or three levels, :func:`hlmlab.twolevel.fit_multilevel`
    / :func:`hlmlab.threelevel.fit_three_level`), and the variance partition it recovers is set
    next to the truth with the ICCs it implies.

    *Identifiability.* Measurement error and between-individual variance are separable only
    with repeated measurements of the same individual *at the same time* (``readings``, for
    example two blood-pressure readings at one visit). With one reading the two add up to one
    variance that no model can split; the result says so instead of pretending.

    *Serial correlation* (designs III and IV) cannot be fitted by MixedLM or lme4. The
    occasion deviations are simulated as a stationary AR(1) series; the fitted model treats
    them as independent. The result shows what that does: part of the serial variance is
    reported as between-individual variance (a closed-form target for balanced data, below),
    the within-person residuals are correlated from one occasion to the next, and the standard
    error of the time slope is too small.

:func:`compute_experiment` (:class:`ExperimentSettings` -> :class:`ExperimentResult`)
    An experiment that creates dependence: a treatment delivered to whole classes, where the
    teacher's delivery differs (groups influence members), or pupils who shape their class
    (members influence groups). One simulated experiment is fitted with
    :func:`hlmlab.twolevel.fit_multilevel`; many replicate experiments are analysed with the
    balanced closed form of :mod:`hlmlab.designs` (proved equal to the MixedLM fit there),
    giving the rejection rate of a pupil-level t-test against the multilevel test, next to
    their closed-form expectations.

Closed forms, for balanced data (every cluster the same shape), used and tested here:

- *What a random-intercept model recovers when the truth has serial correlation.* The
  nested random-intercept model's REML estimates are ANOVA estimates (when positive); their
  large-sample targets match, level by level, the average covariance of the pairs of
  measurements that share that level but not the next lower one (:func:`variance_targets`).
  With occasion deviations of variance s2 and lag-k correlation rho^k, the individual level
  then holds s2 * cbar (cbar the average correlation between an individual's occasions) and
  the level below it s2 * (1 - cbar).
- *The time slope's SE.* With every individual measured at the same times, the GLS slope is
  the within-individual OLS slope, with actual variance c'Sc / (J (c'c)^2) (c the centred
  times of one individual, S their true within-individual covariance, J individuals); the
  model reports c'Vc / (J (c'c)^2) with V its own within-individual covariance at its targets.
- *A pupil-level t-test under clustering* rejects a true null with probability about
  2 Phi(-z / sqrt(deff)), deff = 1 + (n - 1) ICC (Kish 1965; Snijders & Bosker 2012, ch. 3):
  its SE is too small by the factor sqrt(deff).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, fields, replace
from typing import Mapping

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from scipy import stats as sps

from hlmlab import balanced as designs
from hlmlab import report
from hlmlab.analyses import foundations_figures as figures
from hlmlab.diagnostics import Diagnostic
from hlmlab.errors import ModelDataError
from hlmlab.ols import PooledFit, fit_pooled
from hlmlab.panels import Panel, SliderRange
from hlmlab.style import BrowserFigure, browser_figure
from hlmlab.tables import DisplayTable, display_table
from hlmlab.threelevel import ThreeLevelFit, fit_three_level
from hlmlab.twolevel import MultilevelFit, fit_multilevel
from hlmlab.stats import design_effect

__all__ = [
    "DESIGNS",
    "DESIGN_EFFECT",
    "DesignEffectSettings",
    "DesignEffectView",
    "EXPERIMENT",
    "ExperimentView",
    "SOURCES",
    "SourcesView",
    "design_effect_view",
    "experiment_view",
    "sources_view",
    "DESIGN_SOURCES",
    "EXPERIMENT_RANGES",
    "ExperimentResult",
    "ExperimentSettings",
    "FittedLevel",
    "MECHANISMS",
    "SOURCES_RANGES",
    "SOURCE_LABELS",
    "SerialEffect",
    "SourcesResult",
    "SourcesSettings",
    "average_serial_correlation",
    "compute_experiment",
    "compute_sources",
    "expected_rejection_rates",
    "lag1_residual_correlation",
    "peer_influence_for_icc",
    "simulate_experiment",
    "simulate_experiments",
    "simulate_sources",
    "variance_targets",
]

OUTCOME = "score"
#: Mean score and the true growth per occasion (designs III and IV) of the simulation.
SCORE_MEAN = 50.0
TIME_SLOPE = 1.0

DESIGNS = {
    "I": "I · Measured at the same time",
    "II": "II · Members of the same family",
    "III": "III · Under different conditions or over time",
    "IV": "IV · Family members over time",
}
SOURCE_LABELS = {
    "family": "between families",
    "individual": "between individuals",
    "serial": "serial correlation (occasion deviations)",
    "measurement": "measurement error",
}
DESIGN_SOURCES = {
    "I": ("individual", "measurement"),
    "II": ("family", "individual", "measurement"),
    "III": ("individual", "serial", "measurement"),
    "IV": ("family", "individual", "serial", "measurement"),
}
SOURCE_SD_FIELD = {"family": "sd_family", "individual": "sd_individual", "serial": "sd_serial",
                   "measurement": "sd_measurement"}

#: (low, high, step) of every numeric setting: the page's sliders and the settings' checks.
SOURCES_RANGES = {
    "sd_family": (0.0, 3.0, 0.1),
    "sd_individual": (0.0, 3.0, 0.1),
    "sd_serial": (0.0, 3.0, 0.1),
    "serial_correlation": (0.0, 0.95, 0.05),
    # Some noise is needed: with none, the readings of one individual agree exactly.
    "sd_measurement": (0.2, 3.0, 0.1),
    "n_families": (5, 80, 1),
    "members": (2, 6, 1),
    "n_individuals": (5, 150, 5),
    "occasions": (3, 8, 1),
    "readings": (1, 4, 1),
}
# The random draws are made once for the largest design and cut, so a slider that changes a
# size or an SD changes the data smoothly instead of drawing a new sample.
_MAX_FAMILIES = SOURCES_RANGES["n_families"][1]
_MAX_MEMBERS = SOURCES_RANGES["members"][1]
_MAX_OCCASIONS = SOURCES_RANGES["occasions"][1]
_MAX_READINGS = SOURCES_RANGES["readings"][1]
_MAX_INDIVIDUALS = _MAX_FAMILIES * _MAX_MEMBERS
_RHO_GRID = np.round(np.arange(0.0, 0.951, 0.05), 2)


def _check_settings(settings, ranges: Mapping[str, tuple], choice: str, choices: Mapping) -> None:
    """Refuse a settings object whose ``choice`` field is not one of ``choices`` or whose
    numbers lie outside their sliders' ``ranges`` (a programming error, not a student's)."""
    if getattr(settings, choice) not in choices:
        raise ValueError(f"{choice} must be one of {', '.join(choices)}.")
    for name, (low, high, _) in ranges.items():
        value = getattr(settings, name)
        if not low <= value <= high:
            raise ValueError(f"{name} = {value!r} is outside {low} to {high}.")
    if settings.seed < 0:
        raise ValueError("The seed must be a non-negative whole number.")


# --------------------------------------------------------------------------- sources: settings


@dataclass(frozen=True)
class SourcesSettings:
    """The sources-of-variability panel's sliders.

    Attributes
    ----------
    design : one of :data:`DESIGNS` ("I" to "IV").
    sd_family, sd_individual, sd_serial, sd_measurement : the SD of each source (a design
        uses only its own sources, :data:`DESIGN_SOURCES`).
    serial_correlation : correlation of an individual's occasion deviations one occasion
        apart (AR(1): rho^k at k occasions apart); designs III and IV.
    n_families, members : families and members per family (II, IV).
    n_individuals : individuals (I, III).
    occasions : measurement occasions per individual (III, IV), equally spaced.
    readings : repeated readings of an individual at the same time (per occasion in III);
        1 to 4. Design IV takes one reading per occasion (four levels would be needed).
    seed : random seed of the simulation.
    """

    design: str = "I"
    sd_family: float = 1.5
    sd_individual: float = 2.0
    sd_serial: float = 1.5
    serial_correlation: float = 0.6
    sd_measurement: float = 1.0
    n_families: int = 40
    members: int = 3
    n_individuals: int = 60
    occasions: int = 5
    readings: int = 2
    # A sample near the truth in every design, so the first view is typical; New sample
    # shows how far a sample can stray.
    seed: int = 28

    def __post_init__(self):
        _check_settings(self, SOURCES_RANGES, "design", DESIGNS)

    @property
    def has_families(self) -> bool:
        return self.design in ("II", "IV")

    @property
    def over_time(self) -> bool:
        return self.design in ("III", "IV")

    @property
    def n_occasions(self) -> int:
        """Occasions per individual: 1 when everyone is measured at the same time."""
        return self.occasions if self.over_time else 1

    @property
    def n_individuals_total(self) -> int:
        return self.n_families * self.members if self.has_families else self.n_individuals

    def variance(self, source: str) -> float:
        """The true variance of ``source`` in this design (0 for a source it does not have)."""
        if source not in DESIGN_SOURCES[self.design]:
            return 0.0
        return float(getattr(self, SOURCE_SD_FIELD[source])) ** 2

    def canonical(self) -> "SourcesSettings":
        """The same settings with every field this design does not use at its default, so
        equal simulations have equal settings (and equal cache keys)."""
        used = {"design", "seed", "sd_measurement", "sd_individual"}
        used |= {"n_families", "members", "sd_family"} if self.has_families else {"n_individuals"}
        used |= {"occasions", "sd_serial", "serial_correlation"} if self.over_time else set()
        used |= {"readings"} if self.design != "IV" else set()
        defaults = {f.name: f.default for f in fields(self) if f.name not in used}
        if self.design == "IV":
            defaults["readings"] = 1
        return replace(self, **defaults)


# --------------------------------------------------------------------------- sources: data


@functools.lru_cache(maxsize=8)
def _source_draws(seed: int) -> dict[str, np.ndarray]:
    """Standard normal draws for the largest design (read-only, shared by every call)."""
    rng = np.random.default_rng([seed, 1])
    draws = {
        "family": rng.standard_normal(_MAX_FAMILIES),
        "individual": rng.standard_normal(_MAX_INDIVIDUALS),
        "serial": rng.standard_normal((_MAX_INDIVIDUALS, _MAX_OCCASIONS)),
        "measurement": rng.standard_normal((_MAX_INDIVIDUALS, _MAX_OCCASIONS, _MAX_READINGS)),
    }
    for array in draws.values():
        array.flags.writeable = False
    return draws


def _ar1_from_innovations(z: np.ndarray, rho: float) -> np.ndarray:
    """A stationary AR(1) series with unit variance along the last axis (lag-k correlation
    rho^k), built from standard normal innovations so that it moves smoothly with rho."""
    series = np.empty_like(z)
    series[..., 0] = z[..., 0]
    scale = np.sqrt(1.0 - rho**2)
    for t in range(1, z.shape[-1]):
        series[..., t] = rho * series[..., t - 1] + scale * z[..., t]
    return series


def _score_array(settings: SourcesSettings) -> np.ndarray:
    """Scores as an array (individuals, occasions, readings), individuals family by family."""
    s = settings
    draws = _source_draws(s.seed)
    T, r = s.n_occasions, s.readings
    if s.has_families:
        family = np.repeat(np.arange(s.n_families), s.members)
        individual = family * _MAX_MEMBERS + np.tile(np.arange(s.members), s.n_families)
        level = np.sqrt(s.variance("family")) * draws["family"][family]
    else:
        individual = np.arange(s.n_individuals)
        level = np.zeros(len(individual))
    level = level + np.sqrt(s.variance("individual")) * draws["individual"][individual]
    scores = SCORE_MEAN + level[:, None, None] + np.zeros((len(individual), T, r))
    if s.over_time:
        serial = _ar1_from_innovations(draws["serial"][individual, :T], s.serial_correlation)
        scores = scores + (TIME_SLOPE * np.arange(T) + np.sqrt(s.variance("serial")) * serial)[..., None]
    return scores + np.sqrt(s.variance("measurement")) * draws["measurement"][individual, :T, :r]


def simulate_sources(settings: SourcesSettings) -> pd.DataFrame:
    """The simulated measurements of one design (seeded, synthetic).

    score = 50 + family + individual + [time + serial] + measurement error, every term
    normal with the settings' SD; ``time`` (occasion - 1) and the AR(1) serial deviations
    only in designs III and IV.

    Parameters
    ----------
    settings : SourcesSettings (its :meth:`~SourcesSettings.canonical` form is used).

    Returns
    -------
    DataFrame, one row per reading, ordered by family, individual, occasion and reading:
    ``family`` and ``member`` (II, IV) or ``individual`` (I, III), ``occasion`` and ``time``
    (III, IV), ``reading``, ``score``. ``attrs``: ``label`` and ``synthetic`` (True).
    """
    s = settings.canonical()
    return _sources_frame(s, _score_array(s))


def _sources_frame(s: SourcesSettings, scores: np.ndarray) -> pd.DataFrame:
    """The rows of :func:`simulate_sources` from the score array (individuals, occasions,
    readings) of canonical settings ``s``."""
    n_ind, T, r = scores.shape
    columns: dict[str, np.ndarray] = {}
    per_individual = T * r
    if s.has_families:
        columns["family"] = np.repeat(np.arange(1, s.n_families + 1), s.members * per_individual)
        columns["member"] = np.tile(np.repeat(np.arange(1, s.members + 1), per_individual),
                                    s.n_families)
    else:
        columns["individual"] = np.repeat(np.arange(1, n_ind + 1), per_individual)
    if s.over_time:
        occasion = np.tile(np.repeat(np.arange(1, T + 1), r), n_ind)
        columns["occasion"] = occasion
        columns["time"] = (occasion - 1).astype(float)
    columns["reading"] = np.tile(np.arange(1, r + 1), n_ind * T)
    columns[OUTCOME] = scores.ravel()
    frame = pd.DataFrame(columns)
    frame.attrs = {"label": f"Simulated design {s.design} (synthetic)", "synthetic": True}
    return frame


# --------------------------------------------------------------------------- sources: the model


@dataclass(frozen=True)
class FittedLevel:
    """One variance component of the fitted model.

    Attributes
    ----------
    key : its key in the fit's ``variance`` mapping (``tau00``/``sigma2`` for two levels,
        the column names and ``residual`` for three).
    unit : the level's unit ("family"), naming its ICC.
    label : what a student reads ("between families").
    symbol : its symbol in the ICC formulas.
    sources : the simulated sources it holds (:data:`SOURCE_LABELS` keys).
    pair : for a grouping level, who the pairs of readings sharing it are (its ICC's
        meaning); "" for the residual.
    """

    key: str
    unit: str
    label: str
    symbol: str
    sources: tuple[str, ...]
    pair: str = ""


@dataclass(frozen=True)
class _ModelPlan:
    kind: str  # "none", "two" or "three"
    group: str | None
    subgroup: str | None
    covariates: tuple[str, ...]
    levels: tuple[FittedLevel, ...]  # grouping levels top-down, then the residual
    formula: str


def _level(unit: str, label: str, symbol: str, sources: tuple[str, ...], pair: str = "") -> FittedLevel:
    return FittedLevel("", unit, label, symbol, sources, pair)


# The components a fitted model can have; each model sets the keys its fit reports them by.
_FAMILY = _level("family", "between families", "σ²_f", ("family",), "two members of the same family")
_INDIVIDUAL = _level("individual", "between individuals", "σ²_i", ("individual",),
                     "two readings of the same individual")
_INDIVIDUAL_OVER_TIME = replace(_INDIVIDUAL, pair="two readings of one individual at different occasions")
_MEMBER = _level("individual", "between individuals (family members)", "σ²_i", ("individual",),
                 "two readings of the same family member")
_OCCASION = _level("occasion", "between occasions (serial deviations)", "σ²_o", ("serial",),
                   "two readings of one individual at the same occasion")
_RESIDUAL = {
    "measurement": _level("reading", "measurement error (residual)", "σ²_e", ("measurement",)),
    "individual": _level("reading", "residual: individual + measurement error", "σ²_e",
                         ("individual", "measurement")),
    "serial": _level("reading", "residual: occasion deviations + measurement error", "σ²_e",
                     ("serial", "measurement")),
}


def _model_plan(s: SourcesSettings) -> _ModelPlan:
    """Which model matches the design, and which simulated sources each component holds."""
    time = ("time",) if s.over_time else ()
    fixed = "time" if s.over_time else "1"
    if s.design == "I" and s.readings == 1:
        total = _level("reading", "total (individual + measurement error)", "σ²",
                       ("individual", "measurement"))
        return _ModelPlan("none", None, None, (), (replace(total, key="total"),), f"{OUTCOME} ~ 1")
    if s.readings == 1 and s.design in ("II", "III"):  # two levels: the rest is residual
        group, top, rest = (("family", _FAMILY, "individual") if s.design == "II" else
                            ("individual", _INDIVIDUAL_OVER_TIME, "serial"))
        levels = (replace(top, key="tau00"), replace(_RESIDUAL[rest], key="sigma2"))
        return _ModelPlan("two", group, None, time, levels, f"{OUTCOME} ~ {fixed} + (1 | {group})")
    if s.design == "I":
        levels = (replace(_INDIVIDUAL, key="tau00"), replace(_RESIDUAL["measurement"], key="sigma2"))
        return _ModelPlan("two", "individual", None, (), levels, f"{OUTCOME} ~ 1 + (1 | individual)")
    if s.design == "III":
        group, subgroup, levels = "individual", "occasion", (_INDIVIDUAL_OVER_TIME, _OCCASION,
                                                             _RESIDUAL["measurement"])
    else:
        member = _MEMBER if s.design == "II" else replace(
            _MEMBER, pair="two readings of one family member at different occasions")
        residual = _RESIDUAL["measurement" if s.design == "II" else "serial"]
        group, subgroup, levels = "family", "member", (_FAMILY, member, residual)
    levels = tuple(replace(level, key=key) for level, key in zip(levels, (group, subgroup, "residual")))
    return _ModelPlan("three", group, subgroup, time, levels,
                      f"{OUTCOME} ~ {fixed} + (1 | {group}) + (1 | {group}:{subgroup})")


def _fit(data: pd.DataFrame, plan: _ModelPlan) -> MultilevelFit | ThreeLevelFit | None:
    if plan.kind == "two":
        predictor = plan.covariates[0] if plan.covariates else None
        return fit_multilevel(data, OUTCOME, predictor, plan.group, random_slope=False, reml=True)
    if plan.kind == "three":
        return fit_three_level(data, OUTCOME, plan.group, plan.subgroup,
                               covariates=plan.covariates, reml=True)
    return None


# --------------------------------------------------------------------------- sources: closed forms


def _cluster_layout(s: SourcesSettings) -> dict[str, np.ndarray]:
    """Member, occasion and reading of every reading in one top-level cluster (a family in
    II and IV, an individual in I and III)."""
    members = s.members if s.has_families else 1
    T, r = s.n_occasions, s.readings
    grid = np.indices((members, T, r)).reshape(3, -1)
    return {"member": grid[0], "occasion": grid[1], "reading": grid[2]}


def _true_cluster_covariance(s: SourcesSettings, rho: float | None = None) -> np.ndarray:
    """The true covariance of the readings of one top-level cluster."""
    rho = s.serial_correlation if rho is None else rho
    layout = _cluster_layout(s)
    same_member = layout["member"][:, None] == layout["member"][None, :]
    lag = np.abs(layout["occasion"][:, None] - layout["occasion"][None, :])
    k = len(layout["member"])
    return (s.variance("family") * np.ones((k, k))
            + same_member * (s.variance("individual") + s.variance("serial") * rho**lag)
            + s.variance("measurement") * np.eye(k))


def variance_targets(covariance: np.ndarray, subgroup: np.ndarray | None) -> np.ndarray:
    """What a nested random-intercept model recovers from balanced clusters in large samples.

    For balanced data the REML estimates of ``y ~ ... + (1 | group) [+ (1 | group:subgroup)]``
    are ANOVA estimates (when positive), whose expectations match, level by level, the
    average covariance of the pairs of readings sharing that level but not the next lower
    one. When the truth *is* such a model the targets are its variances; when it is not
    (serial correlation) they say what the model reports instead.

    Parameters
    ----------
    covariance : the true covariance of the readings of one group (all groups alike).
    subgroup : the subgroup of each reading of the group, or None for a two-level model.

    Returns
    -------
    array: the group variance, [the subgroup variance,] the residual variance.
    """
    k = covariance.shape[0]
    off = ~np.eye(k, dtype=bool)
    diagonal = float(np.mean(np.diag(covariance)))
    if subgroup is None:
        between = float(np.mean(covariance[off]))
        return np.array([between, diagonal - between])
    same = (subgroup[:, None] == subgroup[None, :]) & off
    between = float(np.mean(covariance[off & ~same]))
    within_pairs = float(np.mean(covariance[same]))
    return np.array([between, within_pairs - between, diagonal - within_pairs])


def _targets(s: SourcesSettings, plan: _ModelPlan, rho: float | None = None) -> np.ndarray:
    covariance = _true_cluster_covariance(s, rho)
    if plan.kind == "none":
        return np.array([float(np.mean(np.diag(covariance)))])
    layout = _cluster_layout(s)
    subgroup = None
    if plan.kind == "three":
        # The cluster is a family (subgroups its members) or an individual (its occasions).
        subgroup = layout["member"] if s.has_families else layout["occasion"]
    return variance_targets(covariance, subgroup)


def average_serial_correlation(occasions: int, rho: float) -> float:
    """cbar: the average correlation rho^|t - s| over the pairs of an individual's distinct
    occasions, the share of the serial variance a random intercept takes for itself."""
    t = np.arange(occasions)
    lag = np.abs(t[:, None] - t[None, :])
    return float((np.sum(rho**lag) - occasions) / (occasions * (occasions - 1)))


def lag1_residual_correlation(residuals: np.ndarray) -> float:
    """Correlation of consecutive within-person residuals.

    Parameters
    ----------
    residuals : array (individuals, occasions), each row already centred on its own mean.

    Returns
    -------
    The average product of residuals one occasion apart over the average squared residual.
    Without serial correlation its expectation is -1 / (T - 1), not 0: residuals centred on
    their own person's mean sum to zero, so each is pulled away from the others.
    """
    return float(np.mean(residuals[:, :-1] * residuals[:, 1:]) / np.mean(residuals**2))


# --------------------------------------------------------------------------- sources: results


@dataclass(frozen=True)
class SerialEffect:
    """What serial correlation, left out of the model, does (designs III and IV).

    Attributes
    ----------
    rho : the simulated lag-1 correlation of the occasion deviations.
    absorbed : serial variance reported as between-individual variance (large-sample),
        ``cbar * sd_serial^2``.
    lag1_observed : correlation of consecutive within-person residuals of this sample
        (residuals from the fitted fixed part, averaged over an occasion's readings,
        centred on the person's own mean; :func:`lag1_residual_correlation`).
    lag1_expected : its large-sample value under the simulated truth.
    lag1_without_serial : its value if there were no serial correlation, -1 / (T - 1).
    slope_se_fit : the SE of the time slope this fit reports.
    slope_se_reported : the SE the model reports in large samples (closed form).
    slope_se_actual : the true SD of the slope estimate (closed form).
    curve : DataFrame over rho from 0 to 0.95: ``rho, reported, actual`` (closed forms,
        everything else as set).
    residual_pairs : DataFrame ``earlier, later`` of consecutive within-person residuals.
    residual_table, se_table : the two display tables.
    """

    rho: float
    absorbed: float
    lag1_observed: float
    lag1_expected: float
    lag1_without_serial: float
    slope_se_fit: float
    slope_se_reported: float
    slope_se_actual: float
    curve: pd.DataFrame
    residual_pairs: pd.DataFrame
    residual_table: pd.DataFrame
    se_table: pd.DataFrame

    @property
    def se_ratio(self) -> float:
        """Reported over actual SE (large-sample): below 1, the model claims too much precision."""
        return self.slope_se_reported / self.slope_se_actual


@dataclass(frozen=True)
class SourcesResult:
    """Everything the sources-of-variability panel shows.

    Attributes
    ----------
    settings : the canonical settings used.
    data : the simulated readings (:func:`simulate_sources`).
    fit : the fitted model (MultilevelFit, ThreeLevelFit), or None when the design cannot
        separate any variance (design I with one reading).
    formula : the model in lme4 notation.
    levels : the fitted components, top-down, residual last.
    truth : DataFrame indexed by source: ``source, SD, variance, share`` (display).
    partition : DataFrame, one row per fitted component (display): ``component, holds,
        true variance, [target,] estimate, true share, estimated share``. ``target`` (designs
        III and IV) is what the model recovers in large samples when serial correlation is
        left out (:func:`variance_targets`).
    iccs : DataFrame, one row per grouping level (display): ``ICC, formula, correlation of,
        estimate, simulated population`` (the latter the average correlation of such pairs
        in the simulated population).
    serial : SerialEffect for designs III and IV, else None.
    messages : plain-language notes (identifiability, serial correlation, the fit's own).
    partition_figure, serial_figure, residual_figure : plotly figures (the last two None
        without serial correlation in the design).
    """

    settings: SourcesSettings
    data: pd.DataFrame
    fit: MultilevelFit | ThreeLevelFit | None
    formula: str
    levels: tuple[FittedLevel, ...]
    truth: pd.DataFrame
    partition: pd.DataFrame
    iccs: pd.DataFrame
    serial: SerialEffect | None
    messages: tuple[Diagnostic, ...]
    partition_figure: go.Figure
    serial_figure: go.Figure | None = None
    residual_figure: go.Figure | None = None

    def estimates(self) -> np.ndarray:
        """The fitted variance of every component, top-down (NaN when not fitted)."""
        return self.partition["estimate"].to_numpy(dtype=float)


def _estimates(fit, plan: _ModelPlan, data: pd.DataFrame) -> np.ndarray:
    if plan.kind == "none":
        return np.array([float(data[OUTCOME].var(ddof=1))])
    if fit is None or not fit.usable:
        return np.full(len(plan.levels), np.nan)
    return np.array([float(fit.variance[level.key]) for level in plan.levels])


def _icc_table(plan: _ModelPlan, estimates: np.ndarray, targets: np.ndarray) -> pd.DataFrame:
    """ICC of each grouping level: the variances of that level and every level above it over
    the total (Snijders & Bosker 2012, ch. 4, three-level models; Raudenbush & Bryk 2002,
    ch. 8): the correlation of two readings that share that level."""
    rows = []
    symbols = [level.symbol for level in plan.levels]
    for j, level in enumerate(plan.levels[:-1]):
        rows.append({
            "ICC": f"ICC ({level.unit})",
            "formula": f"({' + '.join(symbols[:j + 1])}) / ({' + '.join(symbols)})"
                       if j else f"{symbols[0]} / ({' + '.join(symbols)})",
            "correlation of": level.pair,
            "estimate": float(np.sum(estimates[:j + 1]) / np.sum(estimates)),
            "simulated population": float(np.sum(targets[:j + 1]) / np.sum(targets)),
        })
    return pd.DataFrame(rows, columns=["ICC", "formula", "correlation of", "estimate",
                                       "simulated population"])


def _partition_table(s: SourcesSettings, plan: _ModelPlan, estimates, targets) -> pd.DataFrame:
    truth = np.array([sum(s.variance(src) for src in level.sources) for level in plan.levels])
    table = pd.DataFrame({
        "component": [level.label for level in plan.levels],
        "holds": [" + ".join(SOURCE_LABELS[src] for src in level.sources) for level in plan.levels],
        "true variance": truth,
        "target": targets,
        "estimate": estimates,
        "true share": truth / truth.sum(),
        "estimated share": estimates / np.sum(estimates),
    })
    table.index = pd.Index([level.key for level in plan.levels], name="key")
    if not s.over_time:  # no serial correlation: the targets are the truth
        table = table.drop(columns="target")
    return table


def _truth_table(s: SourcesSettings) -> pd.DataFrame:
    sources = DESIGN_SOURCES[s.design]
    variance = np.array([s.variance(src) for src in sources])
    table = pd.DataFrame({
        "source": [SOURCE_LABELS[src] for src in sources],
        "SD": np.sqrt(variance),
        "variance": variance,
        "share": variance / variance.sum(),
    }, index=pd.Index(sources, name="key"))
    return table


def _within_individual(s: SourcesSettings):
    """Occasion of each reading of one individual, its centred times, and J."""
    occasion = np.repeat(np.arange(s.n_occasions), s.readings)
    centred = occasion - occasion.mean()
    return occasion, centred, s.n_individuals_total


def _slope_standard_errors(s: SourcesSettings, plan: _ModelPlan, rho: float) -> tuple[float, float]:
    """(reported, actual) SE of the time slope in large samples, for balanced times."""
    occasion, c, n_individuals = _within_individual(s)
    lag = np.abs(occasion[:, None] - occasion[None, :])
    truth = s.variance("serial") * rho**lag + s.variance("measurement") * np.eye(len(c))
    targets = _targets(s, plan, rho)
    if plan.kind == "three" and plan.subgroup == "occasion":
        working = targets[1] * (lag == 0) + targets[2] * np.eye(len(c))
    else:
        working = targets[-1] * np.eye(len(c))
    scale = n_individuals * (c @ c) ** 2
    return float(np.sqrt(c @ working @ c / scale)), float(np.sqrt(c @ truth @ c / scale))


def _serial_effect(s: SourcesSettings, plan: _ModelPlan, fit, targets, scores) -> SerialEffect:
    rho = s.serial_correlation
    T, r = s.n_occasions, s.readings
    # The level that holds the individuals' own variance takes part of the serial variance.
    individual_level = next(j for j, level in enumerate(plan.levels) if "individual" in level.sources)
    absorbed = float(targets[individual_level] - s.variance("individual"))
    lag = np.abs(np.arange(T)[:, None] - np.arange(T)[None, :])
    centring = np.eye(T) - 1.0 / T

    def expected_lag1(rho_value):
        occasion_means = s.variance("serial") * rho_value**lag + s.variance("measurement") / r * np.eye(T)
        m = centring @ occasion_means @ centring
        return float(np.mean(np.diag(m, 1)) / np.mean(np.diag(m)))

    reported, actual = _slope_standard_errors(s, plan, rho)
    curve = pd.DataFrame([(value, *_slope_standard_errors(s, plan, value)) for value in _RHO_GRID],
                         columns=["rho", "reported", "actual"])
    observed, pairs, slope_se = np.nan, pd.DataFrame(columns=["earlier", "later"]), np.nan
    if fit is not None and fit.usable:
        fixed_part = fit.fixed["Intercept"] + fit.fixed["time"] * np.arange(T)
        within = (scores - fixed_part[None, :, None]).mean(axis=2)
        within = within - within.mean(axis=1, keepdims=True)
        observed = lag1_residual_correlation(within)
        pairs = pd.DataFrame({"earlier": within[:, :-1].ravel(), "later": within[:, 1:].ravel()})
        slope_se = float(fit.fixed_se["time"])
    residual_table = pd.DataFrame({
        "lag-1 correlation of within-person residuals": [observed, expected_lag1(rho),
                                                          expected_lag1(0.0)],
    }, index=pd.Index(["this sample", f"expected with serial correlation {rho:.2f}",
                       "expected without serial correlation"], name="residuals"))
    se_table = pd.DataFrame({"SE of the time slope": [slope_se, reported, actual]},
                            index=pd.Index(["this fit reports", "the model reports (large sample)",
                                            "actual SD of the estimate"], name="standard error"))
    return SerialEffect(
        rho=rho, absorbed=absorbed, lag1_observed=observed, lag1_expected=expected_lag1(rho),
        lag1_without_serial=expected_lag1(0.0), slope_se_fit=slope_se,
        slope_se_reported=reported, slope_se_actual=actual, curve=curve, residual_pairs=pairs,
        residual_table=residual_table, se_table=se_table,
    )


def _design_messages(s: SourcesSettings, plan: _ModelPlan, serial: SerialEffect | None):
    messages = []
    if s.design == "I" and s.readings == 1:
        messages.append(Diagnostic(
            "teaching", "One reading per individual: nothing to split.",
            "Between-individual differences and measurement error add up to one variance, "
            "and no model can tell them apart: every individual contributes a single number. "
            "A second reading of the same individual at the same time separates them."))
    elif s.readings == 1 and s.design in ("II", "III"):
        lumped = "individual differences" if s.design == "II" else "occasion deviations"
        messages.append(Diagnostic(
            "teaching", f"One reading at a time: {lumped} and measurement error share the residual.",
            "Without a repeated reading of the same individual at the same time the model "
            "cannot split them; it estimates their sum."))
    if s.design == "IV":
        messages.append(Diagnostic(
            "info", "Four sources, three levels.",
            "Design IV takes one reading per occasion: splitting measurement error from the "
            "occasion deviations would need repeated readings and a fourth level, and the "
            "serial correlation would still be left out."))
    if serial is not None and s.variance("serial") > 0:
        messages.append(Diagnostic(
            "teaching", "Serial correlation is not in the model.",
            f"Occasions close in time are alike (correlation {s.serial_correlation:.2f} one "
            f"occasion apart). The random-intercept model has no term for that: about "
            f"{serial.absorbed:.2f} of the serial variance is reported as between-individual "
            f"variance, and the time slope's SE is {serial.se_ratio:.2f} times its actual "
            "size in large samples. nlme::lme (corAR1, corExp), glmmTMB (ar1), SAS PROC MIXED "
            "(TYPE=AR(1)) and MLwiN can fit it; MixedLM and lme4 cannot."))
    return messages


def compute_sources(settings: SourcesSettings) -> SourcesResult:
    """Simulate a design, fit its model, and set the variance partition next to the truth.

    Parameters
    ----------
    settings : SourcesSettings

    Returns
    -------
    SourcesResult
    """
    s = settings.canonical()
    plan = _model_plan(s)
    scores = _score_array(s)
    data = _sources_frame(s, scores)
    messages: list[Diagnostic] = []
    fit = None
    try:
        fit = _fit(data, plan)
    except ModelDataError as exc:
        messages.append(Diagnostic("error", "The model could not be fitted.", str(exc)))
    if fit is not None:
        messages.extend(fit.messages)
    estimates = _estimates(fit, plan, data)
    targets = _targets(s, plan)
    serial = None
    if s.over_time:
        serial = _serial_effect(s, plan, fit, targets, scores)
    messages[:0] = _design_messages(s, plan, serial)
    partition = _partition_table(s, plan, estimates, targets)
    truth = _truth_table(s)
    label = data.attrs["label"]
    return SourcesResult(
        settings=s,
        data=data,
        fit=fit,
        formula=plan.formula,
        levels=plan.levels,
        truth=truth,
        partition=partition,
        iccs=_icc_table(plan, estimates, targets),
        serial=serial,
        messages=tuple(messages),
        partition_figure=figures.sources_partition_figure(
            truth, partition, {level.key: level.sources for level in plan.levels}, label),
        serial_figure=(figures.serial_se_figure(serial.curve, serial.rho, serial.slope_se_fit,
                                                label) if serial else None),
        residual_figure=(figures.residual_lag_figure(serial.residual_pairs, serial.lag1_observed,
                                                     label) if serial else None),
    )


# --------------------------------------------------------------------------- experiment

MECHANISMS = {
    "teacher": "Groups influence members: each class gets the treatment from its own teacher",
    "peers": "Members influence groups: pupils shape their class, and the class every pupil",
}
EXPERIMENT_RANGES = {
    "classes_per_arm": (2, 25, 1),
    "pupils_per_class": (2, 30, 1),
    "icc": (0.0, 0.6, 0.05),
    "effect": (0.0, 10.0, 0.5),
    "n_experiments": (100, 1000, 100),
}
ALPHA = 0.05
ANALYSIS_LABELS = {
    "pupils_ols": "pupil-level t-test (ignores the classes)",
    "multilevel": "multilevel model (class random intercept)",
}


@dataclass(frozen=True)
class ExperimentSettings:
    """The experiment panel's sliders.

    Attributes
    ----------
    mechanism : one of :data:`MECHANISMS`: how the dependence arises.
    classes_per_arm : classes given the treatment, and as many controls.
    pupils_per_class : pupils in every class.
    icc : the intraclass correlation the group process creates.
    effect : the true treatment effect in score points (scores have SD 10; 0: no effect).
    n_experiments : replicate experiments for the rejection rates.
    seed : random seed.
    """

    mechanism: str = "teacher"
    classes_per_arm: int = 10
    pupils_per_class: int = 20
    icc: float = 0.2
    effect: float = 0.0
    n_experiments: int = 500
    # A first experiment whose estimated ICC is near the one set, with either mechanism.
    seed: int = 20

    def __post_init__(self):
        _check_settings(self, EXPERIMENT_RANGES, "mechanism", MECHANISMS)


def peer_influence_for_icc(icc: float, pupils_per_class: int) -> float:
    """The peer influence b that creates ``icc`` when every pupil's score is their own
    disposition plus b times their class's mean disposition, y = d + b * mean(d).

    Within a class the covariance is then sigma_d^2 ((2b + b^2) / n) between pupils and
    sigma_d^2 (1 + (2b + b^2) / n) for one pupil: ICC = (2b + b^2) / (n + 2b + b^2), so
    b = sqrt(1 + n ICC / (1 - ICC)) - 1. The same influence creates less ICC in a larger class.
    """
    if not 0.0 <= icc < 1.0:
        raise ValueError("The ICC must be at least 0 and below 1.")
    return float(np.sqrt(1.0 + pupils_per_class * icc / (1.0 - icc)) - 1.0)


def simulate_experiments(settings: ExperimentSettings) -> np.ndarray:
    """Scores of all replicate experiments, shape (experiments, classes, pupils).

    Control classes come first, as :func:`hlmlab.analyses.why_multilevel.class_level_design` orders them.
    Scores have mean 50 and total SD 10, split by the ICC the mechanism creates; the
    treatment adds ``effect`` to every pupil of a treated class.
    """
    s = settings
    n_classes, n = 2 * s.classes_per_arm, s.pupils_per_class
    # Class and pupil draws from streams of their own, filled experiment by experiment: the
    # first experiment (the one the panel shows) stays the same when the number of
    # replicate experiments changes.
    class_z = np.random.default_rng([s.seed, 2, 0]).standard_normal((s.n_experiments, n_classes))
    pupil_z = np.random.default_rng([s.seed, 2, 1]).standard_normal((s.n_experiments, n_classes, n))
    if s.mechanism == "teacher":
        standard = np.sqrt(s.icc) * class_z[..., None] + np.sqrt(1.0 - s.icc) * pupil_z
    else:
        b = peer_influence_for_icc(s.icc, n)
        shaped = pupil_z + b * pupil_z.mean(axis=-1, keepdims=True)
        standard = shaped / np.sqrt(1.0 + (2 * b + b**2) / n)
    treated = designs.class_level_design(s.classes_per_arm)[:, 1]
    return designs.SCORE_MEAN + designs.SCORE_SD * standard + s.effect * treated[:, None]


def _experiment_frame(scores: np.ndarray, classes_per_arm: int) -> pd.DataFrame:
    n_classes, n = scores.shape
    treated = designs.class_level_design(classes_per_arm)[:, 1]
    frame = pd.DataFrame({
        "class": np.repeat(np.arange(1, n_classes + 1), n),
        "arm": np.repeat(np.where(treated == 1, "treatment", "control"), n),
        "treated": np.repeat(treated, n),
        "pupil": np.tile(np.arange(1, n + 1), n_classes),
        OUTCOME: scores.ravel(),
    })
    frame.attrs = {"label": "Simulated experiment (synthetic)", "synthetic": True}
    return frame


def simulate_experiment(settings: ExperimentSettings) -> pd.DataFrame:
    """The first of :func:`simulate_experiments`, one row per pupil: the experiment the
    panel fits and shows.

    Returns
    -------
    DataFrame with ``class`` (1..2m, controls first), ``arm`` ("control"/"treatment"),
    ``treated`` (0/1), ``pupil`` and ``score``; ``attrs``: ``label`` and ``synthetic``.
    """
    return _experiment_frame(simulate_experiments(settings)[0], settings.classes_per_arm)


def expected_rejection_rates(settings: ExperimentSettings, alpha: float = ALPHA) -> dict[str, float]:
    """Closed-form rejection rates of the two tests (balanced classes).

    - True SE of the effect: sqrt((2 / m) (tau00 + sigma2 / n)) for m classes per arm.
    - Pupil-level t-test: its SE is too small by sqrt(deff), deff = 1 + (n - 1) ICC, so it
      rejects with probability Phi(d - z / sqrt(deff)) + Phi(-d - z / sqrt(deff)), d the
      effect over its true SE, z the normal 1 - alpha/2 quantile (large-sample: its t has
      N - 2 df). Under no effect, 2 Phi(-z / sqrt(deff)).
    - Multilevel test: t with 2m - 2 df and noncentrality d (exact for the class-means
      analysis, which it equals unless the class variance is estimated as zero).

    Returns
    -------
    dict with ``pupils_ols``, ``multilevel``, and ``true_se``, ``design_effect``.
    """
    s = settings
    m, n = s.classes_per_arm, s.pupils_per_class
    total = designs.SCORE_SD**2
    true_se = float(np.sqrt(2.0 / m * total * (s.icc + (1.0 - s.icc) / n)))
    deff = design_effect(s.icc, n)
    d = s.effect / true_se
    z = sps.norm.ppf(1 - alpha / 2)
    pupils = sps.norm.cdf(d - z / np.sqrt(deff)) + sps.norm.cdf(-d - z / np.sqrt(deff))
    df = 2 * m - 2
    crit = sps.t.ppf(1 - alpha / 2, df)
    multilevel = sps.nct.sf(crit, df, d) + sps.nct.cdf(-crit, df, d)
    return {"pupils_ols": float(pupils), "multilevel": float(multilevel),
            "true_se": true_se, "design_effect": float(deff)}


@dataclass(frozen=True)
class ExperimentResult:
    """Everything the experiment panel shows.

    Attributes
    ----------
    settings : ExperimentSettings
    data : the first simulated experiment, one row per pupil (``class, arm, treated, pupil,
        score``; synthetic).
    fit : its MultilevelFit, ``score ~ treated + (1 | class)`` (REML).
    pooled : its PooledFit, ``score ~ treated`` (every pupil independent).
    experiment_table : DataFrame indexed by analysis key (display): ``analysis, estimate,
        SE, df, t, p-value``.
    rates : DataFrame indexed by analysis key (display): ``analysis, rejection rate,
        Monte Carlo SE, expected rate, mean reported SE, actual SD of the estimate``.
    icc_estimated : the ICC of the first experiment's fit, tau00 / (tau00 + sigma2)
        (conditional on the treatment).
    design_effect : 1 + (n - 1) ICC at the ICC set.
    peer_influence : b of :func:`peer_influence_for_icc` (mechanism "peers"), else None.
    boundary_share : share of the replicate experiments whose class variance is estimated
        as zero.
    messages : the first experiment's fit notes.
    experiment_figure, rates_figure : plotly figures.
    """

    settings: ExperimentSettings
    data: pd.DataFrame
    fit: MultilevelFit
    pooled: PooledFit
    experiment_table: pd.DataFrame
    rates: pd.DataFrame
    icc_estimated: float
    design_effect: float
    peer_influence: float | None
    boundary_share: float
    messages: tuple[Diagnostic, ...]
    experiment_figure: go.Figure
    rates_figure: go.Figure


def _two_sided_p(t: float, df: float) -> float:
    return float(2 * sps.t.sf(abs(t), df))


def compute_experiment(settings: ExperimentSettings) -> ExperimentResult:
    """One simulated experiment fitted both ways, and rejection rates over many.

    Parameters
    ----------
    settings : ExperimentSettings

    Returns
    -------
    ExperimentResult
    """
    s = settings
    scores = simulate_experiments(s)
    data = _experiment_frame(scores[0], s.classes_per_arm)
    fit = fit_multilevel(data, OUTCOME, "treated", "class", random_slope=False, reml=True)
    pooled = fit_pooled(data, OUTCOME, "treated")
    n_classes = 2 * s.classes_per_arm
    rows = {
        "pupils_ols": (pooled.coef["treated"], pooled.se["treated"], len(data) - 2),
        "multilevel": (fit.fixed["treated"], fit.fixed_se["treated"], n_classes - 2),
    }
    experiment_table = pd.DataFrame(
        [{"analysis": ANALYSIS_LABELS[key], "estimate": float(est), "SE": float(se), "df": df,
          "t": float(est / se), "p-value": _two_sided_p(est / se, df)}
         for key, (est, se, df) in rows.items()],
        index=pd.Index(list(rows), name="key"))
    many = designs.classic_study_statistics(scores, s.classes_per_arm)
    expected = expected_rejection_rates(s)
    order = list(designs.ANALYSES)
    rates = []
    for key in rows:
        column = order.index(key)
        rate = float(np.mean(many["p_value"][:, column] < ALPHA))
        rates.append({
            "analysis": ANALYSIS_LABELS[key],
            "rejection rate": rate,
            "Monte Carlo SE": float(np.sqrt(rate * (1 - rate) / s.n_experiments)),
            "expected rate": expected[key],
            "mean reported SE": float(np.mean(many["se"][:, column])),
            "actual SD of the estimate": float(np.std(many["estimate"][:, column], ddof=1)),
        })
    rates = pd.DataFrame(rates, index=pd.Index(list(rows), name="key"))
    label = data.attrs["label"]
    return ExperimentResult(
        settings=s,
        data=data,
        fit=fit,
        pooled=pooled,
        experiment_table=experiment_table,
        rates=rates,
        icc_estimated=float(fit.icc),
        design_effect=expected["design_effect"],
        peer_influence=peer_influence_for_icc(s.icc, s.pupils_per_class)
        if s.mechanism == "peers" else None,
        boundary_share=float(np.mean(many["boundary"])),
        messages=fit.messages,
        experiment_figure=figures.experiment_figure(data, label),
        rates_figure=figures.rejection_rates_figure(rates, ALPHA, s.n_experiments, s.effect, label),
    )


# --------------------------------------------------------------------------- the page's panels
# Each panel's compute turns a result above into what the page draws, in final form (prepared
# charts, display tables, code, a few numbers for the questions' evidence), so a cached
# result is drawn without pandas or plotly work. Short column headings: the tables must fit a
# projected page's column.

_PARTITION_COLUMNS = {"true variance": "true", "target": "recoverable", "estimate": "estimate"}


@dataclass(frozen=True)
class SourcesView:
    """What the sources-of-variability panel draws, in final form.

    Attributes
    ----------
    settings : the canonical settings.
    formula : the fitted model in lme4 notation.
    data_label : the simulated data's label (it says "synthetic").
    messages : plain-language notes (identifiability, serial correlation, the fit's own:
        boundary fits included).
    partition_chart : the variance partition, truth beside estimate.
    partition, iccs : display tables of :attr:`SourcesResult.partition` and ``iccs``.
    code : the statsmodels and lme4 code of the fit, or None when nothing is fitted.
    components : per fitted component, top-down: (label, true variance, estimate).
    n_readings, n_individuals, n_occasions : the simulated design's counts.
    serial_chart, residual_chart, residual_table, se_table : designs III and IV (else None).
    slope_se_fit, slope_se_reported, slope_se_actual, lag1_observed, absorbed : the serial
        effect's numbers (NaN without serial correlation in the design).
    """

    settings: SourcesSettings
    formula: str
    data_label: str
    messages: tuple[Diagnostic, ...]
    partition_chart: BrowserFigure
    partition: DisplayTable
    iccs: DisplayTable | None
    code: report.FitCode | None
    components: tuple[tuple[str, float, float], ...]
    n_readings: int
    n_individuals: int
    n_occasions: int
    serial_chart: BrowserFigure | None = None
    residual_chart: BrowserFigure | None = None
    residual_table: DisplayTable | None = None
    se_table: DisplayTable | None = None
    slope_se_fit: float = float("nan")
    slope_se_reported: float = float("nan")
    slope_se_actual: float = float("nan")
    lag1_observed: float = float("nan")
    absorbed: float = float("nan")


def sources_view(settings: SourcesSettings) -> SourcesView:
    """The :data:`SOURCES` panel's compute: :func:`compute_sources` in final form."""
    result = compute_sources(settings)
    partition = result.partition.set_index("component")
    partition = partition[[c for c in _PARTITION_COLUMNS if c in partition]]
    iccs = result.iccs.set_index("ICC")[["correlation of", "estimate", "simulated population"]]
    fit = result.fit
    serial = result.serial
    extra = {}
    if serial is not None:
        extra = dict(
            serial_chart=browser_figure(result.serial_figure),
            residual_chart=browser_figure(result.residual_figure),
            residual_table=display_table(serial.residual_table,
                                         label="Lag-1 correlation of within-person residuals"),
            se_table=display_table(serial.se_table, label="Standard error of the time slope"),
            slope_se_fit=serial.slope_se_fit, slope_se_reported=serial.slope_se_reported,
            slope_se_actual=serial.slope_se_actual, lag1_observed=serial.lag1_observed,
            absorbed=serial.absorbed)
    return SourcesView(
        settings=result.settings,
        formula=result.formula,
        data_label=result.data.attrs["label"],
        messages=result.messages,
        partition_chart=browser_figure(result.partition_figure),
        partition=display_table(partition, columns=_PARTITION_COLUMNS,
                                label="Variance by component: truth and estimate"),
        iccs=(display_table(iccs.rename(columns={"simulated population": "population"}),
                            label="Intraclass correlations") if len(iccs) else None),
        code=report.fit_code(fit) if fit is not None and fit.usable else None,
        components=tuple((row["component"], float(row["true variance"]), float(row["estimate"]))
                         for _, row in result.partition.iterrows()),
        n_readings=len(result.data),
        n_individuals=result.settings.n_individuals_total,
        n_occasions=result.settings.n_occasions,
        **extra,
    )


@dataclass(frozen=True)
class ExperimentView:
    """What the experiment panel draws, in final form.

    Attributes
    ----------
    settings : ExperimentSettings
    data_label : the simulated experiment's label (it says "synthetic").
    messages : the first experiment's fit notes (a boundary fit explained).
    experiment_chart, rates_chart : the first experiment; the rejection rates.
    experiment_table, rates_table : display tables of :attr:`ExperimentResult.experiment_table`
        and ``rates``.
    code : the statsmodels and lme4 code of the first experiment's multilevel fit.
    icc_estimated, design_effect, peer_influence, boundary_share : as in
        :class:`ExperimentResult`.
    rejection : analysis key -> simulated rejection rate; ``expected`` the closed forms.
    se : analysis key -> the first experiment's SE of the effect.
    n_classes, n_pupils : classes and pupils of one experiment.
    multilevel_df : degrees of freedom of the multilevel test (2m - 2).
    """

    settings: ExperimentSettings
    data_label: str
    messages: tuple[Diagnostic, ...]
    experiment_chart: BrowserFigure
    rates_chart: BrowserFigure
    experiment_table: DisplayTable
    rates_table: DisplayTable
    code: report.FitCode
    icc_estimated: float
    design_effect: float
    peer_influence: float | None
    boundary_share: float
    rejection: Mapping[str, float]
    expected: Mapping[str, float]
    se: Mapping[str, float]
    n_classes: int
    n_pupils: int
    multilevel_df: int


_ANALYSIS_SHORT = {"pupils_ols": "pupil-level t-test", "multilevel": "multilevel model"}
_RATE_COLUMNS = {"rejection rate": "rejected", "Monte Carlo SE": "± MC SE",
                 "expected rate": "expected", "mean reported SE": "mean SE",
                 "actual SD of the estimate": "actual SD"}


def experiment_view(settings: ExperimentSettings) -> ExperimentView:
    """The :data:`EXPERIMENT` panel's compute: :func:`compute_experiment` in final form."""
    result = compute_experiment(settings)
    # No t column: the p-value says it, and the table must fit beside the chart.
    table = result.experiment_table.rename(index=_ANALYSIS_SHORT).drop(columns=["analysis", "t"])
    rates = result.rates.rename(index=_ANALYSIS_SHORT).drop(columns="analysis")
    percent = "{:.1%}".format
    return ExperimentView(
        settings=result.settings,
        data_label=result.data.attrs["label"],
        messages=result.messages,
        experiment_chart=browser_figure(result.experiment_figure),
        rates_chart=browser_figure(result.rates_figure),
        experiment_table=display_table(
            table.rename_axis("analysis"),
            formats={"estimate": "{:.3f}".format, "SE": "{:.3f}".format, "df": "{:,d}",
                     "p-value": "{:.3f}".format},
            label="The first experiment, two analyses"),
        rates_table=display_table(rates.rename_axis("analysis"), columns=_RATE_COLUMNS,
                                  formats={"rejection rate": percent, "Monte Carlo SE": percent,
                                           "expected rate": percent},
                                  label="Rejection rates over the replicate experiments"),
        code=report.fit_code(result.fit, result.pooled),
        icc_estimated=result.icc_estimated,
        design_effect=result.design_effect,
        peer_influence=result.peer_influence,
        boundary_share=result.boundary_share,
        rejection={k: float(v) for k, v in result.rates["rejection rate"].items()},
        expected={k: float(v) for k, v in result.rates["expected rate"].items()},
        se={k: float(v) for k, v in result.experiment_table["SE"].items()},
        n_classes=2 * settings.classes_per_arm,
        n_pupils=len(result.data),
        multilevel_df=int(result.experiment_table.loc["multilevel", "df"]),
    )


def _ranges(ranges: Mapping[str, tuple]) -> dict[str, SliderRange]:
    return {name: SliderRange(*spec) for name, spec in ranges.items()}


#: The sliders' grids, as the page's controls take them.
SOURCES_SLIDERS = _ranges(SOURCES_RANGES)
EXPERIMENT_SLIDERS = _ranges(EXPERIMENT_RANGES)

SOURCES = Panel("foundations.sources", sources_view, SourcesSettings, sliders=SOURCES_SLIDERS,
                canonical=SourcesSettings.canonical)
EXPERIMENT = Panel("foundations.experiment", experiment_view, ExperimentSettings,
                   sliders=EXPERIMENT_SLIDERS)


# --------------------------------------------------------------------------- design effect


@dataclass(frozen=True)
class DesignEffectSettings:
    """The "why take the structure in" calculator: pupils in schools, analysed by OLS.

    Attributes
    ----------
    schools : schools in the study.
    pupils_per_school : pupils in each school.
    icc : the intraclass correlation of the outcome.
    """

    schools: int = 40
    pupils_per_school: int = 50
    icc: float = 0.15


DESIGN_EFFECT_SLIDERS = {"schools": SliderRange(5, 200, 5),
                         "pupils_per_school": SliderRange(2, 100, 1),
                         "icc": SliderRange(0.0, 0.5, 0.01)}


@dataclass(frozen=True)
class DesignEffectView:
    """What the calculator shows: Kish's design effect, the factor by which OLS's SE of a
    school-level coefficient is too small, and the effective number of pupils.

    Attributes
    ----------
    settings : DesignEffectSettings
    pupils : pupils in all (schools × pupils per school).
    design_effect : 1 + (n - 1) ICC.
    se_factor : its square root.
    effective_pupils : pupils over the design effect.
    """

    settings: DesignEffectSettings
    pupils: int
    design_effect: float
    se_factor: float
    effective_pupils: float


def design_effect_view(settings: DesignEffectSettings) -> DesignEffectView:
    """The :data:`DESIGN_EFFECT` panel's compute (:func:`hlmlab.stats.design_effect`)."""
    s = settings
    deff = design_effect(s.icc, s.pupils_per_school)
    pupils = s.schools * s.pupils_per_school
    return DesignEffectView(s, pupils, deff, float(np.sqrt(deff)), pupils / deff)


DESIGN_EFFECT = Panel("foundations.design_effect", design_effect_view, DesignEffectSettings,
                      sliders=DESIGN_EFFECT_SLIDERS)
