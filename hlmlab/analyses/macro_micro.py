"""The "Macro and micro" lesson: multilevel propositions, contextual effects and centring,
cross-level interactions, and how measurement error creates a random intercept.

One pure function per panel of the page: a frozen settings dataclass in, a frozen result out.
A result holds its fits (each with ``code``, ``lme4`` and ``messages``), its display tables in
final form, its figure, ``messages`` (every fit's diagnostics, named by model) and
``evidence`` (formatted numbers that a question's answer names, see :mod:`hlmlab.questions`).

======================  ==============================  ===================================
panel                   settings                        compute
======================  ==============================  ===================================
propositions            PropositionSettings             compute_proposition
centring on Hsb82       CentringSettings                compute_centring
contextual simulation   ContextualSimulationSettings    compute_contextual_simulation
sector x SES on Hsb82   SectorInteractionSettings       compute_sector_interaction
ability grouping        AbilityGroupingSettings         compute_ability_grouping
measurement error       MeasurementErrorSettings        compute_measurement_error
======================  ==============================  ===================================

Each settings class has ``RANGES``: field -> (low, high, step) of its slider (the settings
refuse values outside). The simulations are seeded, and their random draws are made once
for the largest design and then scaled and cut, so a slider changes the data smoothly.

The algebra the lesson teaches is computed here, not only stated:
:func:`hlmlab.within_between.slope_blend` (core, shared with the NELS88 lesson) gives the
within- and between-group slopes and the precision weights with which a random-intercept
model of raw x blends them (exact at the fit's own variance components; Raudenbush & Bryk
2002, ch. 5; Snijders & Bosker 2012, sec. 4.6), and
:class:`CentringResult` ``identities`` checks that the two parametrisations of the
contextual model give the same numbers. No Streamlit.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, fields
from typing import ClassVar, Mapping

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from hlmlab.analyses.macro_micro_figures import (
    ARROW_COLOURS,
    DiagramArrow,
    DiagramNode,
    SlopeLine,
    intercept_recovery_figure,
    moderator_lines_figure,
    proposition_figure,
    within_between_figure,
)
from hlmlab import report
from hlmlab.datasets import hsb82_coded, load_rdataset, load_reference
from hlmlab.diagnostics import Diagnostic
from hlmlab.errors import ModelDataError
from hlmlab.ols import PooledFit, fit_pooled
from hlmlab.panels import Panel, SliderRange
from hlmlab.stats import likelihood_ratio_test
from hlmlab.style import BrowserFigure, browser_figure
from hlmlab.tables import DisplayTable, display_number, display_table
from hlmlab.twolevel import MultilevelFit, fit_multilevel
from hlmlab.within_between import SlopeBlend, slope_blend

__all__ = [
    "CENTRING",
    "CONTEXTUAL",
    "GROUPING",
    "HSB82_SETTINGS",
    "MEASUREMENT",
    "PROPOSITION",
    "SECTOR",
    "AbilityGroupingResult",
    "AbilityGroupingSettings",
    "CentringResult",
    "CentringSettings",
    "CentringView",
    "InteractionView",
    "PropositionView",
    "SimulationView",
    "combined_code",
    "centring_view",
    "contextual_view",
    "grouping_view",
    "measurement_view",
    "proposition_view",
    "question_settings",
    "sector_view",
    "ContextualSimulationResult",
    "ContextualSimulationSettings",
    "CrossLevelComparison",
    "HSB82_LABEL",
    "MeasurementErrorResult",
    "MeasurementErrorSettings",
    "PANELS",
    "PROPOSITIONS",
    "PropositionResult",
    "PropositionSettings",
    "QUESTION_PANELS",
    "SectorInteractionResult",
    "SectorInteractionSettings",
    "add_group_mean",
    "compute_ability_grouping",
    "compute_centring",
    "compute_contextual_simulation",
    "compute_measurement_error",
    "compute_proposition",
    "compute_sector_interaction",
    "fit_cross_level",
    "hsb82_columns",
    "question_evidence",
    "school_mean_check",
    "simulate_ability_grouping",
    "simulate_contextual",
    "simulate_measurement_error",
]

HSB82_LABEL = "Hsb82 (mlmRev), real data"
SYNTHETIC_LABEL = "simulated data (synthetic)"
CONTEXTUAL_SEED = 2012
GROUPING_SEED = 1986
MEASUREMENT_SEED = 2002
#: The largest design any simulation slider allows; draws are made for this many.
MAX_SCHOOLS = 100
MAX_PUPILS = 50
#: At most this many pupils are drawn as points (the lines and fits use every pupil). Each
#: point is an SVG node that plotly.js restyles on every redraw: the default design's 800
#: points cost ~80 ms a redraw in headless Chromium, 400 about half that (the tab's main
#: slider went from 260 / 382 to 164 / 267 ms median / p95, benchmarks/README.md, session 7).
MAX_POINTS_DRAWN = 400


# --------------------------------------------------------------------------- shared helpers


def _check_ranges(settings) -> None:
    for name, (low, high, _) in settings.RANGES.items():
        value = getattr(settings, name)
        if not low <= value <= high:
            raise ValueError(f"{name} must lie between {low} and {high}; got {value}.")


def _fmt(value: float, digits: int = 2) -> str:
    return "not estimable" if value is None or not np.isfinite(value) else f"{value:.{digits}f}"


def _coef(fit: MultilevelFit | PooledFit, term: str, se: bool = False) -> float:
    """A coefficient (or its SE) of a fit, NaN when the fit must not be shown."""
    if isinstance(fit, PooledFit):
        return float((fit.se if se else fit.coef)[term])
    if not fit.usable:
        return np.nan
    return float((fit.fixed_se if se else fit.fixed)[term])


def _labelled_messages(fits: Mapping[str, MultilevelFit]) -> tuple[Diagnostic, ...]:
    """Every fit's diagnostics, each headline naming the model it is about."""
    return tuple(
        Diagnostic(m.severity, f"{label}: {m.headline}", m.detail)
        for label, fit in fits.items() for m in fit.messages
    )


def _lme4_formula(fit: MultilevelFit) -> str:
    """A short model formula for a table row, e.g. ``mAch ~ ses + (1 | school)``; the
    lesson's own column names are plain identifiers, so nothing needs quoting."""
    terms = [fit.predictor] if fit.predictor else []
    random = f"({fit.predictor} | {fit.group})" if fit.random_slope else f"(1 | {fit.group})"
    return f"{fit.outcome} ~ {' + '.join([*terms, *fit.covariates]) or '1'} + {random}"


@functools.lru_cache(maxsize=32)
def _normal_draws(seed: int, stream: int, shape: tuple[int, ...]) -> np.ndarray:
    """Standard normal draws of one named stream of a seed; read-only, so safe to share."""
    draws = np.random.default_rng([seed, stream]).standard_normal(shape)
    draws.setflags(write=False)
    return draws


def add_group_mean(data: pd.DataFrame, column: str, group: str) -> pd.DataFrame:
    """Add ``mean_<column>`` (its group mean over the rows given) and ``<column>_within``.

    Parameters
    ----------
    data : one row per pupil.
    column, group : the micro variable and the grouping column.

    Returns
    -------
    A copy of ``data`` with the two columns added; ``<column>_within`` is the group-mean
    centred variable, ``mean_<column>`` the macro variable aggregated from it.
    """
    out = data.copy()
    means = out.groupby(group)[column].transform("mean")
    out[f"mean_{column}"] = means
    out[f"{column}_within"] = out[column] - means
    return out


def _mean_range(schools: pd.DataFrame) -> tuple[float, float]:
    """The range of the school means of x: where a between-school line has its data."""
    return float(schools["x_mean"].min()), float(schools["x_mean"].max())


def _school_summary(data: pd.DataFrame, x: str, y: str, group: str) -> pd.DataFrame:
    """One row per school: ``n, x_mean, y_mean, x_min, x_max`` (what the figures draw)."""
    grouped = data.groupby(group, sort=True)
    return pd.DataFrame({
        "n": grouped.size(),
        "x_mean": grouped[x].mean(),
        "y_mean": grouped[y].mean(),
        "x_min": grouped[x].min(),
        "x_max": grouped[x].max(),
    })


# --------------------------------------------------------------------------- Hsb82


def hsb82_columns(frame: pd.DataFrame | None = None) -> pd.DataFrame:
    """Hsb82 with every column the lesson's models use, school means from the rows given.

    Parameters
    ----------
    frame : ``load_reference("hsb82")`` (loaded when None).

    Returns
    -------
    DataFrame with ``school, mAch, ses, catholic`` (1 = Catholic, 0 = public), ``meanses``
    (Hsb82's own column), ``mean_ses`` (the school mean of ``ses`` over these rows: the
    lesson's macro variable), ``ses_within`` (group-mean centred), ``ses_grand_centred``
    (``ses`` minus its mean over all pupils), ``ses_x_catholic`` and
    ``ses_within_x_catholic``; ``attrs`` label it as real data.
    """
    coded = hsb82_coded(load_reference("hsb82") if frame is None else frame)
    out = add_group_mean(coded.rename(columns={"sector": "catholic"}), "ses", "school")
    out["ses_grand_centred"] = out["ses"] - out["ses"].mean()
    out["ses_x_catholic"] = out["ses"] * out["catholic"]
    out["ses_within_x_catholic"] = out["ses_within"] * out["catholic"]
    out.attrs = {"label": HSB82_LABEL, "synthetic": False}
    return out


def school_mean_check(frame: pd.DataFrame | None = None) -> pd.DataFrame:
    """Published school means of SES against the mean of the pupils in the file.

    Hsb82's ``meanses`` (mlmRev) and the school file of the same survey as nlme ships it
    (``MathAchSchool``, column ``MEANSES``) are compared with the school mean of ``ses``
    computed from the 7185 pupils.

    Parameters
    ----------
    frame : ``hsb82_columns()`` (built when None).

    Returns
    -------
    DataFrame indexed by source, with ``schools`` and the smallest, mean and largest
    difference (published minus sample mean) over schools.
    """
    data = hsb82_columns() if frame is None else frame
    sample = data.groupby("school")["mean_ses"].first()
    hsb82 = data.groupby("school")["meanses"].first() - sample
    school_file = load_rdataset("nlme", "MathAchSchool").set_index("School")["MEANSES"]
    school_file.index = school_file.index.astype(sample.index.dtype)
    published = (school_file - sample).dropna()
    rows = {
        "mlmRev::Hsb82 meanses": hsb82,
        "nlme::MathAchSchool MEANSES (the HS&B school file)": published,
    }
    return pd.DataFrame(
        {name: {"schools": len(diff), "smallest difference": diff.min(),
                "mean difference": diff.mean(), "largest difference": diff.max()}
         for name, diff in rows.items()}
    ).T.rename_axis("published school mean of SES")


# --------------------------------------------------------------------------- 1. propositions


@dataclass(frozen=True)
class Arrow:
    """An arrow of a proposition and the model term that carries it.

    Attributes
    ----------
    source, target : node keys (``Z, Y, x, y``) or ``"x->y"`` (the slope, for Z changing it).
    term : the fitted model's column whose coefficient carries the arrow; None when no
        term of the model does (the emergent proposition).
    symbol : the coefficient's name as HTML (diagram) and ``latex`` (equation).
    meaning : what the arrow says, in words.
    """

    source: str
    target: str
    term: str | None
    symbol: str
    latex: str
    meaning: str


@dataclass(frozen=True)
class Proposition:
    """One of Snijders & Bosker's multilevel propositions, with its live Hsb82 example.

    Attributes
    ----------
    key, title : id and heading.
    nodes : node key -> what the variable is in the Hsb82 example (only these are active).
    arrows : the arrows and the terms that carry them.
    equation : the model as LaTeX, ``[[0]], [[1]], ...`` standing for the arrows' terms
        (coloured as their arrows when filled in).
    """

    key: str
    title: str
    nodes: Mapping[str, str]
    arrows: tuple[Arrow, ...]
    equation: str


_SES, _MEAN_SES = r"\text{ses}_{ij}", r"\overline{\text{ses}}_{j}"
_CATH = r"\text{catholic}_{j}"
_SES_WITHIN = r"(\text{ses}_{ij} - \overline{\text{ses}}_{j})"
PROPOSITIONS: Mapping[str, Proposition] = {p.key: p for p in (
    Proposition(
        "micro", "Micro: x → y",
        {"x": "pupil SES", "y": "pupil math achievement"},
        (Arrow("x", "y", "ses", "γ<sub>10</sub>", r"\gamma_{10}\," + _SES,
               "a pupil with one unit more SES scores this much higher"),),
        r"\text{mAch}_{ij} = \gamma_{00} + [[0]] + u_{0j} + e_{ij}",
    ),
    Proposition(
        "macro", "Macro: Z → Y",
        {"Z": "school mean SES", "Y": "school mean math"},
        (Arrow("Z", "Y", "mean_ses", "γ<sub>1</sub>", r"\gamma_{1}\," + _MEAN_SES,
               "a school with one unit more mean SES has this much higher mean math"),),
        r"\overline{\text{mAch}}_{j} = \gamma_{0} + [[0]] + r_{j}",
    ),
    Proposition(
        "macro_to_micro", "Macro to micro: Z → y",
        {"Z": "school mean SES", "y": "pupil math achievement"},
        (Arrow("Z", "y", "mean_ses", "γ<sub>01</sub>", r"\gamma_{01}\," + _MEAN_SES,
               "a pupil in a school with one unit more mean SES scores this much higher"),),
        r"\text{mAch}_{ij} = \gamma_{00} + [[0]] + u_{0j} + e_{ij}",
    ),
    Proposition(
        "macro_and_micro", "Macro and micro to micro: Z → y and x → y",
        {"Z": "school mean SES", "x": "pupil SES", "y": "pupil math achievement"},
        (Arrow("x", "y", "ses", "γ<sub>10</sub>", r"\gamma_{10}\," + _SES,
               "given the school's mean SES, one unit more pupil SES"),
         Arrow("Z", "y", "mean_ses", "γ<sub>01</sub>", r"\gamma_{01}\," + _MEAN_SES,
               "given the pupil's own SES, one unit more school mean SES")),
        r"\text{mAch}_{ij} = \gamma_{00} + [[0]] + [[1]] + u_{0j} + e_{ij}",
    ),
    Proposition(
        "cross_level", "Macro-micro interaction: Z changes the x → y slope",
        {"Z": "Catholic school (sector)", "x": "pupil SES − school mean",
         "y": "pupil math achievement"},
        (Arrow("x", "y", "ses_within", "γ<sub>10</sub>", r"\gamma_{10}\," + _SES_WITHIN,
               "the within-school SES slope in public schools (catholic = 0)"),
         Arrow("Z", "y", "catholic", "γ<sub>01</sub>", r"\gamma_{01}\," + _CATH,
               "Catholic minus public schools, for a pupil at the school's mean SES"),
         Arrow("Z", "x->y", "ses_within_x_catholic", "γ<sub>11</sub>",
               r"\gamma_{11}\," + _CATH + r"\," + _SES_WITHIN,
               "the SES slope in Catholic minus that in public schools")),
        r"\text{mAch}_{ij} = \gamma_{00} + [[0]] + [[1]] + [[2]] + u_{0j} + u_{1j}"
        + _SES_WITHIN + r" + e_{ij}",
    ),
    Proposition(
        "emergent", "Emergent, micro to macro: x → Y",
        {"x": "pupil SES", "Y": "school's social composition"},
        (Arrow("x", "Y", None, "no term", "",
               "pupils' SES make up the school's composition: a macro variable as outcome"),),
        r"\text{ses}_{ij} = \gamma_{00} + u_{0j} + e_{ij}",
    ),
)}
_NODE_KEYS = ("Z", "Y", "x", "y")


@dataclass(frozen=True)
class PropositionSettings:
    """Which proposition to draw (a key of :data:`PROPOSITIONS`)."""

    proposition: str = "macro_and_micro"
    RANGES: ClassVar[dict] = {}

    def __post_init__(self):
        if self.proposition not in PROPOSITIONS:
            raise ValueError(f"Unknown proposition {self.proposition!r}; one of {list(PROPOSITIONS)}.")


@dataclass(frozen=True)
class PropositionResult:
    """A proposition drawn as the diagram, with the Hsb82 model whose terms carry its arrows.

    Attributes
    ----------
    settings, proposition : what was asked for.
    fit : the REML random-intercept (or, for the interaction, random-slope) fit on Hsb82;
        for the macro proposition, OLS on the 160 school means (a PooledFit); for the
        emergent one, the empty model of pupil SES.
    arrows : display table, one row per arrow: ``arrow, term, coefficient, estimate, SE,
        meaning``.
    details : display table of further numbers the proposition needs (``quantity,
        value``): tau11 for the interaction, R² for the macro regression, the ICC of SES
        and the reliability of school means for the emergent proposition.
    equation : the model as LaTeX, each arrow's term in its arrow's colour.
    figure : the diagram.
    messages, evidence : see the module docstring.
    code, lme4 : the Python and R code that reproduce the fit (the fit's own, or for the
        macro proposition, the school means and the regression on them).
    """

    settings: PropositionSettings
    proposition: Proposition
    fit: MultilevelFit | PooledFit
    arrows: pd.DataFrame
    details: pd.DataFrame
    equation: str
    figure: go.Figure
    messages: tuple[Diagnostic, ...]
    evidence: Mapping[str, str]
    code: str
    lme4: str


# The macro proposition is a regression on school means: its code builds them first.
_MACRO_CODE = (
    "import statsmodels.formula.api as smf\n\n"
    "schools = data.groupby('school').agg(mean_mAch=('mAch', 'mean'), mean_ses=('ses', 'mean'))\n"
    "result = smf.ols('mean_mAch ~ mean_ses', data=schools).fit()\n"
    "print(result.summary())"
)
_MACRO_R = (
    "schools <- aggregate(cbind(mAch, ses) ~ school, data = data, FUN = mean)\n"
    "fit <- lm(mAch ~ ses, data = schools)  # school mean math on school mean SES\n"
    "summary(fit)"
)


def _proposition_fit(key: str, data: pd.DataFrame) -> MultilevelFit | PooledFit:
    if key == "macro":
        schools = data.groupby("school", sort=True).agg(mean_mAch=("mAch", "mean"),
                                                        mean_ses=("mean_ses", "first"))
        return fit_pooled(schools, "mean_mAch", "mean_ses")
    if key == "emergent":
        return fit_multilevel(data, "ses", None, "school", random_slope=False)
    if key == "cross_level":
        return fit_multilevel(data, "mAch", "ses_within", "school", random_slope=True,
                              covariates=("catholic", "ses_within_x_catholic"))
    predictor = "mean_ses" if key == "macro_to_micro" else "ses"
    covariates = ("mean_ses",) if key == "macro_and_micro" else ()
    return fit_multilevel(data, "mAch", predictor, "school", random_slope=False,
                          covariates=covariates)


def _aggregate_reliability(fit: MultilevelFit) -> pd.Series:
    """Per school, the reliability of the observed group mean as a measure of the group's
    true mean: n_j tau00 / (n_j tau00 + sigma2) (Snijders & Bosker 2012, ch. 3)."""
    tau00, sigma2 = fit.variance["tau00"], fit.variance["sigma2"]
    n = fit.blups["n"].astype(float)
    return n * tau00 / (n * tau00 + sigma2)


def compute_proposition(settings: PropositionSettings) -> PropositionResult:
    """Draw one multilevel proposition and fit the Hsb82 model that carries its arrows.

    Parameters
    ----------
    settings : PropositionSettings

    Returns
    -------
    PropositionResult
    """
    proposition = PROPOSITIONS[settings.proposition]
    data = hsb82_columns()
    fit = _proposition_fit(proposition.key, data)
    rows, labels, coloured = [], [], []
    for arrow in proposition.arrows:
        colour = ARROW_COLOURS[(arrow.source, arrow.target)]
        name = f"{arrow.source} → {arrow.target.replace('->', ' → ')}"
        if arrow.term is None:
            rows.append({"arrow": name, "term": "none in a model of y", "coefficient": "",
                         "estimate": np.nan, "SE": np.nan, "meaning": arrow.meaning})
            labels.append("no term of a two-level model of y")
            continue
        estimate, se = _coef(fit, arrow.term), _coef(fit, arrow.term, se=True)
        rows.append({"arrow": name, "term": arrow.term, "coefficient": arrow.symbol
                     .replace("<sub>", "").replace("</sub>", ""), "estimate": estimate,
                     "SE": se, "meaning": arrow.meaning})
        # An interaction reads "a × b" on the diagram (its column is a_x_b), each factor
        # bold on its own: the label may break at the ×, and a tag must not span a break.
        term = " × ".join(f"<b>{factor}</b>" for factor in arrow.term.split("_x_"))
        labels.append(f"{arrow.symbol} · {term}<br>= {_fmt(estimate)}")
        coloured.append(rf"\textcolor{{{colour}}}{{{arrow.latex}}}")
    equation = proposition.equation
    for position, term in enumerate(coloured):
        equation = equation.replace(f"[[{position}]]", term)
    details, evidence = _proposition_details(proposition.key, fit)
    evidence.update({f"{row['term']}_estimate": _fmt(row["estimate"]) for row in rows
                     if np.isfinite(row["estimate"])})
    figure = _diagram(proposition, labels)
    if isinstance(fit, PooledFit):
        messages, code, lme4 = (), _MACRO_CODE, _MACRO_R
    else:
        messages, code, lme4 = _labelled_messages({proposition.title: fit}), fit.code, fit.lme4
    return PropositionResult(settings, proposition, fit, pd.DataFrame(rows), details, equation,
                             figure, messages, evidence, code, lme4)


def _diagram(proposition: Proposition, labels: list[str]) -> go.Figure:
    """The proposition's diagram, its arrows labelled ``labels``."""
    nodes = [DiagramNode(k, proposition.nodes.get(k, _DEFAULT_NODE_LABELS[k]), k in proposition.nodes)
             for k in _NODE_KEYS]
    arrows = [DiagramArrow(a.source, a.target, label, dashed=a.term is None)
              for a, label in zip(proposition.arrows, labels)]
    return proposition_figure(nodes, arrows, f"{proposition.title} · {HSB82_LABEL}")


def preview_diagram(proposition: Proposition) -> go.Figure:
    """The diagram before its question is answered: each arrow named by its coefficient's
    symbol only (no model term, no estimate: those are the answer)."""
    return _diagram(proposition, [a.symbol if a.term is not None else "no term"
                                  for a in proposition.arrows])


_DEFAULT_NODE_LABELS = {"Z": "a school variable", "Y": "a school outcome",
                        "x": "a pupil variable", "y": "a pupil outcome"}


def _proposition_details(key: str, fit) -> tuple[pd.DataFrame, dict]:
    rows: list[tuple[str, float]] = []
    if key == "macro":
        rows = [("schools (the macro regression's n)", fit.n_obs), ("R²", fit.r2)]
    elif key == "cross_level":
        rows = [("tau11: slope variance sector leaves unexplained", fit.variance["tau11"]),
                ("tau00", fit.variance["tau00"]), ("sigma2", fit.variance["sigma2"])]
    elif key == "emergent":
        reliability = _aggregate_reliability(fit)
        rows = [("ICC of pupil SES", fit.icc),
                ("tau00: variance of schools' true mean SES", fit.variance["tau00"]),
                ("sigma2: variance of SES within schools", fit.variance["sigma2"]),
                ("reliability of a school's mean SES, average over schools", reliability.mean()),
                ("reliability, smallest school", reliability.min())]
    else:
        rows = [("tau00", fit.variance["tau00"]), ("sigma2", fit.variance["sigma2"])]
    table = pd.DataFrame(rows, columns=["quantity", "value"])
    evidence = {}
    if key == "emergent":
        evidence = {"ses_icc": _fmt(fit.icc), "mean_reliability": _fmt(rows[3][1]),
                    "smallest_reliability": _fmt(rows[4][1])}
    if key == "cross_level":
        evidence = {"tau11_with_sector": _fmt(fit.variance["tau11"], 3)}
    return table, evidence


# --------------------------------------------------------------------------- 2. centring


#: The six Hsb82 models of the centring table: key -> (label, SES column, covariates).
CENTRING_MODELS: Mapping[str, tuple[str, str, tuple[str, ...]]] = {
    "raw": ("raw SES", "ses", ()),
    "raw_mean": ("raw SES + school mean", "ses", ("mean_ses",)),
    "grand": ("grand-mean centred SES", "ses_grand_centred", ()),
    "grand_mean": ("grand-mean centred SES + school mean", "ses_grand_centred", ("mean_ses",)),
    "group": ("group-mean centred SES", "ses_within", ()),
    "group_mean": ("group-mean centred SES + school mean", "ses_within", ("mean_ses",)),
}
# What the SES column's and the school mean's coefficients estimate, model by model.
_ESTIMATES = {
    "raw": ("blend of within and between", ""),
    "raw_mean": ("within-school slope", "contextual effect (between − within)"),
    "grand": ("blend of within and between", ""),
    "grand_mean": ("within-school slope", "contextual effect (between − within)"),
    "group": ("within-school slope", ""),
    "group_mean": ("within-school slope", "between-school slope"),
}


@dataclass(frozen=True)
class CentringSettings:
    """REML (lme4's default) or ML for the six random-intercept models of Hsb82."""

    reml: bool = True
    RANGES: ClassVar[dict] = {}


@dataclass(frozen=True)
class CentringResult:
    """Raw, grand-mean and group-mean centred SES, each with and without the school mean.

    Attributes
    ----------
    settings : CentringSettings
    data : ``hsb82_columns()``.
    fits : model key of :data:`CENTRING_MODELS` -> MultilevelFit (random intercept).
    pooled : OLS ``mAch ~ ses``.
    blend : :func:`slope_blend` at the raw model's variance components.
    models : display table, one row per model: its lme4 formula, the SES coefficient and
        what it estimates, the school mean's coefficient and what it estimates, tau00,
        sigma2 and the log-likelihood.
    estimates : display table indexed by ``within-school slope, between-school slope,
        contextual effect (between − within), random intercept, raw SES (blend), pooled
        OLS``: ``estimate, SE, from`` (model and coefficient), ``check`` (the same number
        another way) and ``check from``.
    identities : name -> absolute difference of two routes to one number (all ~1e-12).
    figure : within-school lines and the between-school line.
    messages, evidence : see the module docstring.
    """

    settings: CentringSettings
    data: pd.DataFrame
    fits: Mapping[str, MultilevelFit]
    pooled: PooledFit
    blend: SlopeBlend
    models: pd.DataFrame
    estimates: pd.DataFrame
    identities: Mapping[str, float]
    figure: go.Figure
    messages: tuple[Diagnostic, ...]
    evidence: Mapping[str, str]


def compute_centring(settings: CentringSettings) -> CentringResult:
    """Fit the six centring models of Hsb82 and say which coefficient estimates what.

    Parameters
    ----------
    settings : CentringSettings

    Returns
    -------
    CentringResult
    """
    data = hsb82_columns()
    fits = {key: fit_multilevel(data, "mAch", x, "school", random_slope=False,
                                reml=settings.reml, covariates=covariates)
            for key, (_, x, covariates) in CENTRING_MODELS.items()}
    pooled = fit_pooled(data, "mAch", "ses")
    raw = fits["raw"]
    blend = slope_blend(data, "mAch", "ses", "school", raw.variance["tau00"], raw.variance["sigma2"])
    ols_blend = slope_blend(data, "mAch", "ses", "school", 0.0, 1.0)
    models = pd.DataFrame([
        {"model": label,
         "lme4 formula": _lme4_formula(fits[key]),
         "SES coefficient": _coef(fits[key], x), "SES SE": _coef(fits[key], x, se=True),
         "SES coefficient estimates": _ESTIMATES[key][0],
         "mean_ses coefficient": _coef(fits[key], "mean_ses") if covariates else np.nan,
         "mean_ses SE": _coef(fits[key], "mean_ses", se=True) if covariates else np.nan,
         "mean_ses coefficient estimates": _ESTIMATES[key][1],
         "intercept": _coef(fits[key], "Intercept"),
         "tau00": fits[key].variance["tau00"], "sigma2": fits[key].variance["sigma2"],
         "log-likelihood": fits[key].loglik}
        for key, (label, x, covariates) in CENTRING_MODELS.items()
    ]).set_index("model")
    rm, gm = fits["raw_mean"], fits["group_mean"]
    within, contextual = _coef(rm, "ses"), _coef(rm, "mean_ses")
    between = _coef(gm, "mean_ses")
    estimates = pd.DataFrame([
        ("within-school slope", within, _coef(rm, "ses", se=True),
         "raw SES + school mean · ses", _coef(gm, "ses_within"),
         "group-mean centred SES + school mean · ses_within"),
        ("between-school slope", between, _coef(gm, "mean_ses", se=True),
         "group-mean centred SES + school mean · mean_ses", within + contextual,
         "raw SES + school mean · ses + mean_ses"),
        ("contextual effect (between − within)", contextual, _coef(rm, "mean_ses", se=True),
         "raw SES + school mean · mean_ses", between - _coef(gm, "ses_within"),
         "group-mean centred SES + school mean · mean_ses − ses_within"),
        ("random intercept, raw SES (blend)", _coef(raw, "ses"), _coef(raw, "ses", se=True),
         "raw SES · ses", blend.blend,
         f"{blend.within_weight:.3f} × within + {blend.between_weight:.3f} × between "
         "(precision weights at this model's tau00, sigma2)"),
        ("pooled OLS, raw SES (blend)", _coef(pooled, "ses"), _coef(pooled, "ses", se=True),
         "OLS mAch ~ ses", ols_blend.blend,
         f"{ols_blend.within_weight:.3f} × within + {ols_blend.between_weight:.3f} × "
         "between (sums-of-squares weights)"),
    ], columns=["quantity", "estimate", "SE", "from", "check", "check from"]).set_index("quantity")
    identities = {
        "between = within + contextual": abs(between - (within + contextual)),
        "within: raw+mean vs group+mean": abs(within - _coef(gm, "ses_within")),
        "within: raw+mean vs group-centred alone": abs(within - _coef(fits["group"], "ses_within")),
        "within: model vs within-school OLS": abs(within - blend.within),
        "raw vs grand-mean centred slope": abs(_coef(raw, "ses") - _coef(fits["grand"], "ses_grand_centred")),
        "contextual: raw vs grand-mean centred": abs(contextual - _coef(fits["grand_mean"], "mean_ses")),
        "raw slope vs precision-weighted blend": abs(_coef(raw, "ses") - blend.blend),
        "pooled OLS slope vs sums-of-squares blend": abs(_coef(pooled, "ses") - ols_blend.blend),
        "log-likelihood: raw+mean vs group+mean": abs(rm.loglik - gm.loglik),
    }
    schools = _school_summary(data, "ses", "mAch", "school")
    lines = [SlopeLine("between", f"Between schools: slope {between:.2f}",
                       _coef(gm, "Intercept"), between, "dashdot", _mean_range(schools)),
             SlopeLine("blend", f"Random intercept, raw SES: slope {_coef(raw, 'ses'):.2f}",
                       _coef(raw, "Intercept"), _coef(raw, "ses"), "solid"),
             SlopeLine("pooled", f"Pooled OLS: slope {_coef(pooled, 'ses'):.2f}",
                       _coef(pooled, "Intercept"), _coef(pooled, "ses"), "dash")]
    figure = within_between_figure(
        schools, within, [line for line in lines if np.isfinite(line.slope)],
        title=f"Within and between schools · {HSB82_LABEL}",
        x_title="SES", y_title="math achievement (mAch)")
    method = "REML" if settings.reml else "ML"
    evidence = {
        "within_slope": _fmt(within), "between_slope": _fmt(between),
        "contextual_effect": _fmt(contextual), "blend_slope": _fmt(_coef(raw, "ses")),
        "pooled_slope": _fmt(_coef(pooled, "ses")),
        "blend_within_share": f"{100 * blend.within_weight:.1f} %",
        "pooled_within_share": f"{100 * ols_blend.within_weight:.1f} %",
        # The slopes of the school means each blend uses (pupil-weighted for OLS, precision-
        # weighted for the random-intercept model): the shares apply to these, and with the
        # model's between slope in their place the sentence's numbers would not add up.
        "pooled_between_slope": _fmt(ols_blend.between),
        "blend_between_slope": _fmt(blend.between),
        "tau00_group_centred": _fmt(fits["group"].variance["tau00"]),
        "tau00_group_mean": _fmt(gm.variance["tau00"]),
        "method": method,
    }
    return CentringResult(settings, data, fits, pooled, blend, models, estimates, identities,
                          figure, _labelled_messages({CENTRING_MODELS[k][0]: f for k, f in fits.items()}),
                          evidence)


# --------------------------------------------------------------------------- 3. contextual simulation

# Outcome scale of the simulated schools: a school SD of 2 and a pupil SD of 4 around 50.
CONTEXTUAL_TAU00 = 4.0
CONTEXTUAL_SIGMA2 = 16.0


@dataclass(frozen=True)
class ContextualSimulationSettings:
    """Settings of the seeded within/between simulation (see :func:`simulate_contextual`)."""

    within_slope: float = 1.0
    between_slope: float = 4.0
    icc_x: float = 0.3
    n_schools: int = 40
    pupils_per_school: int = 20
    seed: int = CONTEXTUAL_SEED
    RANGES: ClassVar[dict] = {
        "within_slope": (-4.0, 4.0, 0.5),
        "between_slope": (-4.0, 8.0, 0.5),
        "icc_x": (0.05, 0.9, 0.05),
        "n_schools": (10, MAX_SCHOOLS, 5),
        "pupils_per_school": (5, MAX_PUPILS, 5),
    }

    def __post_init__(self):
        _check_ranges(self)

    @property
    def contextual_effect(self) -> float:
        """The true contextual effect, between minus within."""
        return self.between_slope - self.within_slope


def simulate_contextual(settings: ContextualSimulationSettings) -> pd.DataFrame:
    """Seeded schools whose within- and between-school slopes differ.

    The truth, for pupil i in school j (a_j, d_ij, u_j, e_ij standard normal)::

        x_ij = sqrt(icc_x) a_j + sqrt(1 - icc_x) d_ij     (var x = 1, ICC of x = icc_x)
        y_ij = 50 + within (x_ij - xbar_j) + between xbar_j + 2 u_j + 4 e_ij

    with xbar_j the school's mean x over its simulated pupils, so the contextual model
    ``y ~ x + xbar + (1 | school)`` is the true model (tau00 = 4, sigma2 = 16), its
    coefficient of x is ``within`` and that of xbar is ``between - within``.

    Parameters
    ----------
    settings : ContextualSimulationSettings

    Returns
    -------
    DataFrame with ``school, pupil, x, y, mean_x, x_within``; ``attrs``: ``label``,
    ``synthetic`` (True) and ``truth`` (within, between, contextual, icc_x, tau00, sigma2).
    """
    j, n = settings.n_schools, settings.pupils_per_school
    a = _normal_draws(settings.seed, 0, (MAX_SCHOOLS,))[:j]
    d = _normal_draws(settings.seed, 1, (MAX_SCHOOLS, MAX_PUPILS))[:j, :n]
    u = _normal_draws(settings.seed, 2, (MAX_SCHOOLS,))[:j]
    e = _normal_draws(settings.seed, 3, (MAX_SCHOOLS, MAX_PUPILS))[:j, :n]
    x = np.sqrt(settings.icc_x) * a[:, None] + np.sqrt(1 - settings.icc_x) * d
    x_bar = x.mean(axis=1, keepdims=True)
    y = (50.0 + settings.within_slope * (x - x_bar) + settings.between_slope * x_bar
         + np.sqrt(CONTEXTUAL_TAU00) * u[:, None] + np.sqrt(CONTEXTUAL_SIGMA2) * e)
    frame = pd.DataFrame({"school": np.repeat(np.arange(1, j + 1), n),
                          "pupil": np.tile(np.arange(1, n + 1), j),
                          "x": x.ravel(), "y": y.ravel()})
    frame = add_group_mean(frame, "x", "school")
    frame.attrs = {
        "label": f"Contextual-effect simulation, {SYNTHETIC_LABEL}, seed {settings.seed}",
        "synthetic": True,
        "truth": {"within": settings.within_slope, "between": settings.between_slope,
                  "contextual": settings.contextual_effect, "icc_x": settings.icc_x,
                  "tau00": CONTEXTUAL_TAU00, "sigma2": CONTEXTUAL_SIGMA2},
    }
    return frame


@dataclass(frozen=True)
class ContextualSimulationResult:
    """A random intercept with raw x blends the slopes; adding the school mean separates them.

    Attributes
    ----------
    settings, data : the settings and the simulated pupils.
    pooled : OLS ``y ~ x``.
    raw : ``y ~ x + (1 | school)``: its slope is the blend.
    contextual : ``y ~ x + mean_x + (1 | school)``: within slope and contextual effect.
    centred : ``y ~ x_within + mean_x + (1 | school)``: within and between slopes.
    blend, pooled_blend : :func:`slope_blend` at the raw model's variance components and
        at tau00 = 0 (the weights of pooled OLS).
    slopes : display table indexed by quantity: ``truth, estimate, SE, from, formula``.
    figure : the pupils, each school's within line, the between line, the blend and OLS.
    messages, evidence : see the module docstring.
    """

    settings: ContextualSimulationSettings
    data: pd.DataFrame
    pooled: PooledFit
    raw: MultilevelFit
    contextual: MultilevelFit
    centred: MultilevelFit
    blend: SlopeBlend
    pooled_blend: SlopeBlend
    slopes: pd.DataFrame
    figure: go.Figure
    messages: tuple[Diagnostic, ...]
    evidence: Mapping[str, str]


def _points_to_draw(data: pd.DataFrame, group: str) -> tuple[pd.DataFrame, str]:
    """The pupils of as many whole schools as keep the chart light, and their legend name."""
    sizes = data.groupby(group, sort=True).size()
    keep = sizes.index[sizes.cumsum() <= MAX_POINTS_DRAWN]
    if len(keep) == len(sizes):
        return data, "Pupils"
    return data[data[group].isin(keep)], f"Pupils of the first {len(keep)} schools"


def compute_contextual_simulation(settings: ContextualSimulationSettings) -> ContextualSimulationResult:
    """Simulate, then fit the blend (raw x) and both parametrisations of the contextual model.

    Parameters
    ----------
    settings : ContextualSimulationSettings

    Returns
    -------
    ContextualSimulationResult
    """
    data = simulate_contextual(settings)
    truth = data.attrs["truth"]
    pooled = fit_pooled(data, "y", "x")
    raw = fit_multilevel(data, "y", "x", "school", random_slope=False)
    contextual = fit_multilevel(data, "y", "x", "school", random_slope=False, covariates=("mean_x",))
    centred = fit_multilevel(data, "y", "x_within", "school", random_slope=False,
                             covariates=("mean_x",))
    blend = slope_blend(data, "y", "x", "school", raw.variance["tau00"], raw.variance["sigma2"])
    pooled_blend = slope_blend(data, "y", "x", "school", 0.0, 1.0)
    slopes = pd.DataFrame([
        ("within-school slope", truth["within"], _coef(contextual, "x"),
         _coef(contextual, "x", se=True), "y ~ x + mean_x + (1 | school) · x", ""),
        ("between-school slope", truth["between"], _coef(centred, "mean_x"),
         _coef(centred, "mean_x", se=True), "y ~ x_within + mean_x + (1 | school) · mean_x", ""),
        ("contextual effect (between − within)", truth["contextual"],
         _coef(contextual, "mean_x"), _coef(contextual, "mean_x", se=True),
         "y ~ x + mean_x + (1 | school) · mean_x", ""),
        ("random intercept, raw x (blend)", np.nan, _coef(raw, "x"), _coef(raw, "x", se=True),
         "y ~ x + (1 | school) · x",
         f"{blend.within_weight:.3f} × {blend.within:.3f} + {blend.between_weight:.3f} × "
         f"{blend.between:.3f} = {blend.blend:.3f}"),
        ("pooled OLS, raw x (blend)", np.nan, _coef(pooled, "x"), _coef(pooled, "x", se=True),
         "OLS y ~ x",
         f"{pooled_blend.within_weight:.3f} × {pooled_blend.within:.3f} + "
         f"{pooled_blend.between_weight:.3f} × {pooled_blend.between:.3f} = {pooled_blend.blend:.3f}"),
    ], columns=["quantity", "truth", "estimate", "SE", "from", "precision-weighted formula"]
    ).set_index("quantity")
    points, points_label = _points_to_draw(data, "school")
    schools = _school_summary(data, "x", "y", "school")
    # The chart is on screen before the question about these slopes: its legend names the
    # lines, the table below it (once answered) gives their slopes.
    lines = [SlopeLine("between", "Between schools", _coef(centred, "Intercept"),
                       _coef(centred, "mean_x"), "dashdot", _mean_range(schools)),
             SlopeLine("blend", "Random intercept, raw x", _coef(raw, "Intercept"),
                       _coef(raw, "x"), "solid"),
             SlopeLine("pooled", "Pooled OLS", _coef(pooled, "Intercept"), _coef(pooled, "x"),
                       "dash")]
    figure = within_between_figure(
        schools, _coef(contextual, "x"),
        [line for line in lines if np.isfinite(line.slope)],
        points=points, points_label=points_label, slopes_in_legend=False,
        title=f"Within and between schools · {SYNTHETIC_LABEL}, seed {settings.seed}",
        x_title="x (pupil level)", y_title="y")
    evidence = {
        "sim_within": _fmt(_coef(contextual, "x")), "sim_between": _fmt(_coef(centred, "mean_x")),
        "sim_contextual": _fmt(_coef(contextual, "mean_x")),
        "sim_blend": _fmt(_coef(raw, "x")), "sim_pooled": _fmt(_coef(pooled, "x")),
        "sim_formula": _fmt(blend.blend),
        "sim_within_share": f"{100 * blend.within_weight:.0f} %",
        "sim_pooled_within_share": f"{100 * pooled_blend.within_weight:.0f} %",
        "true_within": _fmt(truth["within"]), "true_between": _fmt(truth["between"]),
    }
    messages = _labelled_messages({"y ~ x": raw, "y ~ x + mean_x": contextual,
                                   "y ~ x_within + mean_x": centred})
    return ContextualSimulationResult(settings, data, pooled, raw, contextual, centred, blend,
                                      pooled_blend, slopes, figure, messages, evidence)


# --------------------------------------------------------------------------- cross-level interactions


@dataclass(frozen=True)
class CrossLevelComparison:
    """A random slope without and with a macro variable Z explaining it.

    ``without_z``: ``y ~ x + controls + (x | group)``; ``with_z``: the same plus ``Z`` and
    ``x·Z``. The two differ only by Z's terms, so the change in tau11 is Z's doing.

    Attributes
    ----------
    without_z, with_z : the two fits (same REML/ML).
    predictor, moderator, interaction : column names of x, Z and x·Z.
    controls : further fixed effects in both fits (e.g. the school mean of x).
    """

    without_z: MultilevelFit
    with_z: MultilevelFit
    predictor: str
    moderator: str
    interaction: str
    controls: tuple[str, ...] = ()

    @property
    def tau11_without(self) -> float:
        """Slope variance before Z."""
        return float(self.without_z.variance["tau11"])

    @property
    def tau11_with(self) -> float:
        """Slope variance left once Z and x·Z are in the model."""
        return float(self.with_z.variance["tau11"])

    @property
    def proportion_explained(self) -> float:
        """(tau11 without Z - tau11 with Z) / tau11 without Z (Raudenbush & Bryk 2002, ch. 4);
        NaN when the slope variance without Z is zero. Can be negative in a sample."""
        if self.tau11_without <= 0:
            return np.nan
        return (self.tau11_without - self.tau11_with) / self.tau11_without

    def level_lines(self, levels: Mapping[str, float], x_range: tuple[float, float]) -> pd.DataFrame:
        """The average line at each value of Z (controls at 0):
        ``level, z, intercept, slope, x_min, x_max``."""
        fixed = self.with_z.fixed
        return pd.DataFrame([
            {"level": label, "z": z,
             "intercept": fixed["Intercept"] + fixed[self.moderator] * z,
             "slope": fixed[self.predictor] + fixed[self.interaction] * z,
             "x_min": x_range[0], "x_max": x_range[1]}
            for label, z in levels.items()
        ])

    def school_lines(self, data: pd.DataFrame, group: str, labels: Mapping[float, str]) -> pd.DataFrame:
        """Every school's line from the model with Z: ``level, intercept, slope, x_min, x_max``
        (fixed effects at the school's own Z and controls, plus its conditional modes)."""
        grouped = data.groupby(group, sort=True)
        z = grouped[self.moderator].first()
        x = grouped[self.predictor].agg(["min", "max"])
        fixed, blups = self.with_z.fixed, self.with_z.blups
        intercept = blups["intercept"] + fixed[self.moderator] * z
        for control in self.controls:
            intercept = intercept + fixed[control] * grouped[control].first()
        return pd.DataFrame({
            "level": z.map(labels),
            "intercept": intercept,
            "slope": blups["slope"] + fixed[self.interaction] * z,
            "x_min": x["min"], "x_max": x["max"],
        })

    def variance_table(self) -> pd.DataFrame:
        """Display table: tau00, tau11, tau01, the intercept-slope correlation, sigma2 and
        the log-likelihood of both fits."""
        rows = {}
        for label, fit in (("without Z", self.without_z), ("with Z and x·Z", self.with_z)):
            v = fit.variance
            rows[label] = {"tau00": v["tau00"], "tau11": v["tau11"], "tau01": v["tau01"],
                           "correlation": fit.correlation, "sigma2": v["sigma2"],
                           "log-likelihood": fit.loglik}
        table = pd.DataFrame(rows).T
        table.index.name = "model"
        return table

    def likelihood_ratio(self) -> tuple[float, int, float] | None:
        """ML only: deviance difference, its degrees of freedom (2: Z and x·Z) and p-value.
        None for REML fits, whose likelihoods cannot be compared across fixed effects."""
        if self.with_z.reml:
            return None
        return likelihood_ratio_test(self.without_z, self.with_z)


def fit_cross_level(data: pd.DataFrame, outcome: str, predictor: str, moderator: str,
                    interaction: str, group: str, reml: bool = True,
                    controls: tuple[str, ...] = ()) -> CrossLevelComparison:
    """Fit a random slope of ``predictor`` without and with a cross-level interaction.

    Parameters
    ----------
    data : one row per pupil, with the interaction column already computed (e.g.
        ``ses_within_x_catholic``: models are built from columns, never from formula text).
    outcome, predictor, group : column names.
    moderator : the macro variable Z (constant within groups).
    interaction : the column holding predictor x moderator.
    reml : REML or ML for both fits.
    controls : further fixed-effect columns of both fits.

    Returns
    -------
    CrossLevelComparison
    """
    without_z = fit_multilevel(data, outcome, predictor, group, random_slope=True, reml=reml,
                               covariates=controls)
    with_z = fit_multilevel(data, outcome, predictor, group, random_slope=True, reml=reml,
                            covariates=(*controls, moderator, interaction))
    return CrossLevelComparison(without_z, with_z, predictor, moderator, interaction, tuple(controls))


def _cross_level_messages(comparison: CrossLevelComparison) -> tuple[Diagnostic, ...]:
    extra = []
    if not np.isfinite(comparison.proportion_explained):
        extra.append(Diagnostic(
            "warning", "No slope variance to explain.",
            "Without the macro variable the slopes' variance is estimated as zero, so there "
            "is no share of it that the macro variable could explain."))
    elif comparison.proportion_explained < 0:
        extra.append(Diagnostic(
            "info", "The 'explained' share is negative.",
            "The slope variance came out larger with the macro variable than without it. "
            "That happens by chance when the macro variable explains little: the share is a "
            "difference of two estimates, not a squared correlation."))
    return _labelled_messages({"without Z": comparison.without_z,
                               "with Z": comparison.with_z}) + tuple(extra)


def _interaction_coefficients(comparison: CrossLevelComparison, names: Mapping[str, str]) -> pd.DataFrame:
    """Display table: fixed effects of the model with Z, each with the arrow it carries."""
    fit = comparison.with_z
    return pd.DataFrame(
        {"estimate": fit.fixed, "SE": fit.fixed_se, "carries": pd.Series(names)}
    ).rename_axis("term")


def _explained_table(comparison: CrossLevelComparison,
                     truth: Mapping[str, float] | None = None) -> pd.DataFrame:
    rows = [("tau11 without Z", comparison.tau11_without),
            ("tau11 with Z and x·Z", comparison.tau11_with),
            ("share of tau11 explained by Z", comparison.proportion_explained)]
    table = pd.DataFrame(rows, columns=["quantity", "estimate"]).set_index("quantity")
    if truth is not None:
        table["truth"] = [truth["tau11_without"], truth["tau11_with"], truth["explained"]]
    return table


# --------------------------------------------------------------------------- 4. sector x SES


@dataclass(frozen=True)
class SectorInteractionSettings:
    """The Hsb82 cross-level interaction: REML (lme4's default) or ML, and whether the school
    mean of SES is a control in both models (Raudenbush & Bryk's choice)."""

    reml: bool = True
    control_school_mean: bool = False
    RANGES: ClassVar[dict] = {}


@dataclass(frozen=True)
class SectorInteractionResult:
    """Sector x SES on Hsb82 with a random slope for group-mean centred SES.

    SES enters centred on its school mean (``ses_within``), so the random slope is each
    school's within-school slope. (With raw SES the model with sector lands on the boundary:
    an intercept-slope correlation of +1.)

    Attributes
    ----------
    settings, data : what was fitted.
    comparison : :class:`CrossLevelComparison` (``mAch ~ ses_within [+ mean_ses] +
        (ses_within | school)``, and with ``catholic + ses_within_x_catholic`` added).
    coefficients : display table of the model with sector: ``estimate, SE, carries``.
    variances : display table of both fits' variance components and log-likelihoods.
    sector_lines : the average line of public and of Catholic schools.
    explained : display table: tau11 without sector, with sector, the share explained.
    likelihood_ratio : (statistic, df, p) for ML fits, else None.
    figure : every school's line, coloured by sector, and the two average lines.
    messages, evidence : see the module docstring.
    """

    settings: SectorInteractionSettings
    data: pd.DataFrame
    comparison: CrossLevelComparison
    coefficients: pd.DataFrame
    variances: pd.DataFrame
    sector_lines: pd.DataFrame
    explained: pd.DataFrame
    likelihood_ratio: tuple[float, int, float] | None
    figure: go.Figure
    messages: tuple[Diagnostic, ...]
    evidence: Mapping[str, str]


def compute_sector_interaction(settings: SectorInteractionSettings) -> SectorInteractionResult:
    """Fit the sector x SES cross-level interaction on Hsb82, and tau11 with and without it.

    Parameters
    ----------
    settings : SectorInteractionSettings

    Returns
    -------
    SectorInteractionResult
    """
    data = hsb82_columns()
    controls = ("mean_ses",) if settings.control_school_mean else ()
    comparison = fit_cross_level(data, "mAch", "ses_within", "catholic", "ses_within_x_catholic",
                                 "school", reml=settings.reml, controls=controls)
    labels = {"Public": 0.0, "Catholic": 1.0}
    x_range = (float(data["ses_within"].min()), float(data["ses_within"].max()))
    sector_lines = comparison.level_lines(labels, x_range)
    at_mean = "school mean SES 0, " if controls else ""
    names = {
        "Intercept": f"mean mAch in public schools ({at_mean}pupil at the school's mean SES)",
        "ses_within": "x → y: the within-school SES slope in public schools",
        "catholic": "Z → y: Catholic minus public, pupil at the school's mean SES",
        "ses_within_x_catholic": "Z → (x → y): Catholic slope minus public slope",
    }
    if controls:
        names["mean_ses"] = "control: school mean SES (between-school part of SES)"
    coefficients = _interaction_coefficients(comparison, names)
    school_lines = comparison.school_lines(data, "school", {v: k for k, v in labels.items()})
    figure = moderator_lines_figure(school_lines, sector_lines,
                                    title=f"SES slopes by sector · {HSB82_LABEL}",
                                    x_title="SES − school mean SES",
                                    y_title="math achievement (mAch)")
    slopes = sector_lines.set_index("level")["slope"]
    fixed, se = comparison.with_z.fixed, comparison.with_z.fixed_se
    evidence = {
        "public_slope": _fmt(slopes["Public"]), "catholic_slope": _fmt(slopes["Catholic"]),
        "interaction": _fmt(fixed["ses_within_x_catholic"]),
        "interaction_se": _fmt(se["ses_within_x_catholic"]),
        "tau11_without": _fmt(comparison.tau11_without, 3),
        "tau11_with": _fmt(comparison.tau11_with, 3),
        "tau11_explained": f"{100 * comparison.proportion_explained:.0f} %",
        "method": "REML" if settings.reml else "ML",
    }
    return SectorInteractionResult(settings, data, comparison, coefficients,
                                   comparison.variance_table(), sector_lines,
                                   _explained_table(comparison), comparison.likelihood_ratio(),
                                   figure, _cross_level_messages(comparison), evidence)


# --------------------------------------------------------------------------- 5. ability grouping

# Achievement scale: 50 on average, school intercept SD 3, pupil SD 5; IQ in SD units.
GROUPING_TAU00 = 9.0
GROUPING_SIGMA2 = 25.0


@dataclass(frozen=True)
class AbilityGroupingSettings:
    """Settings of the seeded ability-grouping simulation (:func:`simulate_ability_grouping`)."""

    slope_without_grouping: float = 6.0
    slope_with_grouping: float = 2.0
    slope_sd: float = 1.0
    n_schools: int = 40
    pupils_per_school: int = 25
    seed: int = GROUPING_SEED
    RANGES: ClassVar[dict] = {
        "slope_without_grouping": (0.0, 10.0, 0.5),
        "slope_with_grouping": (0.0, 10.0, 0.5),
        "slope_sd": (0.0, 3.0, 0.25),
        "n_schools": (10, MAX_SCHOOLS, 10),
        "pupils_per_school": (5, MAX_PUPILS, 5),
    }

    def __post_init__(self):
        _check_ranges(self)
        if self.n_schools % 2:
            raise ValueError("n_schools must be even: half the schools group by ability.")

    @property
    def truth(self) -> dict[str, float]:
        """The true fixed effects, slope variances and share of tau11 explained.

        With half the schools grouping (var of the 0/1 indicator 1/4), the slope variance of
        a model without grouping is slope_sd^2 + gamma11^2 / 4 (population value).
        """
        gamma11 = self.slope_with_grouping - self.slope_without_grouping
        with_z = self.slope_sd ** 2
        without_z = with_z + gamma11 ** 2 / 4.0
        return {"gamma10": self.slope_without_grouping, "gamma11": gamma11,
                "tau11_with": with_z, "tau11_without": without_z,
                "explained": (without_z - with_z) / without_z if without_z > 0 else np.nan}


def simulate_ability_grouping(settings: AbilityGroupingSettings) -> pd.DataFrame:
    """Seeded schools, half of them grouping pupils by ability (the deck's example).

    The truth, for pupil i in school j (u0, u1, q, e standard normal; G_j = 1 in every
    second school)::

        achievement_ij = 50 + 3 u0_j
                         + (slope_without + (slope_with - slope_without) G_j
                            + slope_sd u1_j) iq_ij + 5 e_ij,     iq_ij = q_ij

    so grouping has no effect at average IQ and changes the IQ slope; tau00 = 9,
    tau11 = slope_sd^2 (given G), tau01 = 0, sigma2 = 25.

    Returns
    -------
    DataFrame with ``school, pupil, iq, achievement, grouping, iq_x_grouping``; ``attrs``:
    ``label``, ``synthetic`` (True), ``truth`` (:attr:`AbilityGroupingSettings.truth`).
    """
    j, n = settings.n_schools, settings.pupils_per_school
    u0 = _normal_draws(settings.seed, 0, (MAX_SCHOOLS,))[:j]
    u1 = _normal_draws(settings.seed, 1, (MAX_SCHOOLS,))[:j]
    iq = _normal_draws(settings.seed, 2, (MAX_SCHOOLS, MAX_PUPILS))[:j, :n]
    e = _normal_draws(settings.seed, 3, (MAX_SCHOOLS, MAX_PUPILS))[:j, :n]
    grouping = (np.arange(j) % 2).astype(float)
    slope = (settings.slope_without_grouping
             + (settings.slope_with_grouping - settings.slope_without_grouping) * grouping
             + settings.slope_sd * u1)
    achievement = (50.0 + np.sqrt(GROUPING_TAU00) * u0[:, None] + slope[:, None] * iq
                   + np.sqrt(GROUPING_SIGMA2) * e)
    frame = pd.DataFrame({"school": np.repeat(np.arange(1, j + 1), n),
                          "pupil": np.tile(np.arange(1, n + 1), j),
                          "iq": iq.ravel(), "achievement": achievement.ravel(),
                          "grouping": np.repeat(grouping, n)})
    frame["iq_x_grouping"] = frame["iq"] * frame["grouping"]
    frame.attrs = {"label": f"Ability-grouping simulation, {SYNTHETIC_LABEL}, seed {settings.seed}",
                   "synthetic": True, "truth": settings.truth}
    return frame


@dataclass(frozen=True)
class AbilityGroupingResult:
    """Ability grouping as a macro-micro interaction, with a known truth.

    Attributes
    ----------
    settings, data : the settings and the simulated pupils.
    comparison : :class:`CrossLevelComparison` (``achievement ~ iq + (iq | school)`` and
        ``achievement ~ iq + grouping + iq_x_grouping + (iq | school)``, REML).
    coefficients : display table of the model with grouping: ``estimate, SE, carries,
        truth``.
    explained : tau11 without and with grouping and the share explained, ``estimate, truth``.
    group_lines : the average line with and without grouping.
    figure : every school's line, coloured by grouping, and the two average lines.
    messages, evidence : see the module docstring.
    """

    settings: AbilityGroupingSettings
    data: pd.DataFrame
    comparison: CrossLevelComparison
    coefficients: pd.DataFrame
    explained: pd.DataFrame
    group_lines: pd.DataFrame
    figure: go.Figure
    messages: tuple[Diagnostic, ...]
    evidence: Mapping[str, str]


def compute_ability_grouping(settings: AbilityGroupingSettings) -> AbilityGroupingResult:
    """Simulate the ability-grouping schools and explain their IQ slopes by grouping.

    Parameters
    ----------
    settings : AbilityGroupingSettings

    Returns
    -------
    AbilityGroupingResult
    """
    data = simulate_ability_grouping(settings)
    truth = data.attrs["truth"]
    comparison = fit_cross_level(data, "achievement", "iq", "grouping", "iq_x_grouping", "school")
    labels = {"No grouping": 0.0, "Ability grouping": 1.0}
    group_lines = comparison.level_lines(labels, (-2.5, 2.5))
    coefficients = _interaction_coefficients(comparison, {
        "Intercept": "mean achievement at average IQ, no grouping",
        "iq": "x → y: the IQ slope without grouping",
        "grouping": "Z → y: grouping at average IQ",
        "iq_x_grouping": "Z → (x → y): slope with grouping minus slope without",
    })
    coefficients["truth"] = pd.Series({"Intercept": 50.0, "iq": truth["gamma10"], "grouping": 0.0,
                                       "iq_x_grouping": truth["gamma11"]})
    school_lines = comparison.school_lines(data, "school", {v: k for k, v in labels.items()})
    figure = moderator_lines_figure(
        school_lines, group_lines,
        title=f"IQ slopes with and without ability grouping · {SYNTHETIC_LABEL}, seed {settings.seed}",
        x_title="IQ (SD units)", y_title="achievement")
    slopes = group_lines.set_index("level")["slope"]
    evidence = {
        "slope_grouping": _fmt(slopes["Ability grouping"]),
        "slope_no_grouping": _fmt(slopes["No grouping"]),
        "grouping_tau11_without": _fmt(comparison.tau11_without),
        "grouping_tau11_with": _fmt(comparison.tau11_with),
        "grouping_explained": f"{100 * comparison.proportion_explained:.0f} %",
        "grouping_explained_truth": f"{100 * truth['explained']:.0f} %",
    }
    return AbilityGroupingResult(settings, data, comparison, coefficients,
                                 _explained_table(comparison, truth), group_lines, figure,
                                 _cross_level_messages(comparison), evidence)


# --------------------------------------------------------------------------- 6. measurement error

MEASUREMENT_SIGMA2 = 9.0


@dataclass(frozen=True)
class MeasurementErrorSettings:
    """Settings of the seeded measurement-error simulation (:func:`simulate_measurement_error`)."""

    slope: float = 2.0
    sd_group_error: float = 1.0
    sd_school: float = 0.0
    sd_individual_error: float = 0.0
    n_schools: int = 50
    pupils_per_school: int = 20
    seed: int = MEASUREMENT_SEED
    RANGES: ClassVar[dict] = {
        "slope": (0.0, 5.0, 0.25),
        "sd_group_error": (0.0, 2.0, 0.1),
        "sd_school": (0.0, 3.0, 0.25),
        "sd_individual_error": (0.0, 1.5, 0.1),
        "n_schools": (10, MAX_SCHOOLS, 10),
        "pupils_per_school": (5, MAX_PUPILS, 5),
    }

    def __post_init__(self):
        _check_ranges(self)

    @property
    def reliability(self) -> float:
        """Reliability of the recorded x: var(x) / (var(x) + var(individual error)), var(x) = 1."""
        return 1.0 / (1.0 + self.sd_individual_error ** 2)

    @property
    def truth(self) -> dict[str, float]:
        """What ``y ~ x_recorded + (1 | school)`` should find (population values).

        slope = reliability * beta1 (attenuation; no attenuation without individual error);
        tau00 = sd_school^2 + beta1^2 var(u); sigma2 = 9 + beta1^2 (1 - reliability).
        """
        b1, lam = self.slope, self.reliability
        tau00 = self.sd_school ** 2 + b1 ** 2 * self.sd_group_error ** 2
        sigma2 = MEASUREMENT_SIGMA2 + b1 ** 2 * (1.0 - lam)
        return {"slope": lam * b1, "tau00": tau00, "tau00_from_error": b1 ** 2 * self.sd_group_error ** 2,
                "tau00_without_error": self.sd_school ** 2, "sigma2": sigma2, "reliability": lam}


def simulate_measurement_error(settings: MeasurementErrorSettings) -> pd.DataFrame:
    """Seeded pupils whose predictor is measured with a school-level error (the deck's case).

    The truth, for pupil i in school j (x, u, v, e, q standard normal)::

        x_ij       the measured value (the deck's x_i), var 1
        x*_ij = x_ij + sd_group_error u_j       the true value: a school-level error u_j
        y_ij  = 10 + beta1 x*_ij + sd_school v_j + 3 e_ij
              = (10 + beta1 sd_group_error u_j + sd_school v_j) + beta1 x_ij + 3 e_ij
        x_recorded_ij = x_ij + sd_individual_error q_ij   (classical pupil-level error)

    So the model of y on the recorded x has a random intercept beta1 u_j + v_j with variance
    sd_school^2 + beta1^2 var(u): the error creates it; ``sd_school`` is the school variance
    that exists without any error.

    Returns
    -------
    DataFrame with ``school, pupil, x_measured, x_true, x_recorded, y`` and
    ``intercept_truth`` (each school's beta1 u_j + sd_school v_j); ``attrs``: ``label``,
    ``synthetic`` (True), ``truth`` (:attr:`MeasurementErrorSettings.truth`).
    """
    j, n = settings.n_schools, settings.pupils_per_school
    x = _normal_draws(settings.seed, 0, (MAX_SCHOOLS, MAX_PUPILS))[:j, :n]
    u = settings.sd_group_error * _normal_draws(settings.seed, 1, (MAX_SCHOOLS,))[:j]
    v = settings.sd_school * _normal_draws(settings.seed, 2, (MAX_SCHOOLS,))[:j]
    e = _normal_draws(settings.seed, 3, (MAX_SCHOOLS, MAX_PUPILS))[:j, :n]
    q = _normal_draws(settings.seed, 4, (MAX_SCHOOLS, MAX_PUPILS))[:j, :n]
    x_true = x + u[:, None]
    y = 10.0 + settings.slope * x_true + v[:, None] + np.sqrt(MEASUREMENT_SIGMA2) * e
    frame = pd.DataFrame({
        "school": np.repeat(np.arange(1, j + 1), n),
        "pupil": np.tile(np.arange(1, n + 1), j),
        "x_measured": x.ravel(),
        "x_true": x_true.ravel(),
        "x_recorded": (x + settings.sd_individual_error * q).ravel(),
        "y": y.ravel(),
        "intercept_truth": np.repeat(settings.slope * u + v, n),
    })
    frame.attrs = {"label": f"Measurement-error simulation, {SYNTHETIC_LABEL}, seed {settings.seed}",
                   "synthetic": True, "truth": settings.truth}
    return frame


@dataclass(frozen=True)
class MeasurementErrorResult:
    """A school-level error in x shows up as a random intercept of size beta1^2 var(u).

    Attributes
    ----------
    settings, data : the settings and the simulated pupils.
    fit : ``y ~ x_recorded + (1 | school)`` (REML).
    table : display table indexed by quantity (slope, tau00, sigma2, reliability):
        ``truth, estimate, truth from``.
    intercepts : per school ``truth`` (beta1 u_j + sd_school v_j, centred on its mean over
        schools, as the fixed intercept absorbs that mean), ``estimate`` (conditional mode)
        and ``estimate_sd``.
    sample_tau00 : the variance over this sample's schools of their intercept truth (the
        population tau00 is what a larger sample would approach).
    figure : estimated against true school intercepts.
    messages, evidence : see the module docstring.
    """

    settings: MeasurementErrorSettings
    data: pd.DataFrame
    fit: MultilevelFit
    table: pd.DataFrame
    intercepts: pd.DataFrame
    sample_tau00: float
    figure: go.Figure
    messages: tuple[Diagnostic, ...]
    evidence: Mapping[str, str]


def compute_measurement_error(settings: MeasurementErrorSettings) -> MeasurementErrorResult:
    """Simulate the school-level measurement error and fit the random-intercept model.

    Parameters
    ----------
    settings : MeasurementErrorSettings

    Returns
    -------
    MeasurementErrorResult
    """
    data = simulate_measurement_error(settings)
    truth = data.attrs["truth"]
    fit = fit_multilevel(data, "y", "x_recorded", "school", random_slope=False)
    school_truth = data.groupby("school", sort=True)["intercept_truth"].first()
    intercepts = pd.DataFrame({"truth": school_truth - school_truth.mean(),
                               "estimate": fit.blups["u0"], "estimate_sd": fit.blups["u0_sd"]})
    sample_tau00 = float(school_truth.var(ddof=1))
    noise = data["y"] - 10.0 - settings.slope * data["x_measured"] - data["intercept_truth"]
    table = pd.DataFrame([
        ("slope of x_recorded", truth["slope"], _coef(fit, "x_recorded"),
         "β₁ × reliability (β₁ when there is no pupil-level error)"),
        ("tau00: random-intercept variance", truth["tau00"], fit.variance["tau00"],
         "sd_school² + β₁² var(u)"),
        ("  of which created by the school-level error", truth["tau00_from_error"], np.nan,
         "β₁² var(u)"),
        ("  variance of this sample's school intercepts", sample_tau00, np.nan,
         "var over schools of β₁ u_j + sd_school v_j"),
        ("sigma2: residual variance", truth["sigma2"], fit.variance["sigma2"],
         "9 + β₁² (1 − reliability)"),
        ("  variance of this sample's pupil noise 3 e_ij", float(noise.var(ddof=1)), np.nan,
         "var over pupils of 3 e_ij (the part of sigma2 that is not attenuation)"),
        ("reliability of the recorded x", truth["reliability"], np.nan,
         "1 / (1 + sd_individual_error²)"),
    ], columns=["quantity", "truth", "estimate", "truth from"]).set_index("quantity")
    figure = intercept_recovery_figure(
        intercepts, title=f"The error becomes a random intercept · {SYNTHETIC_LABEL}, seed {settings.seed}",
        x_title="true school intercept: β₁uⱼ + school effect (centred)",
        y_title="estimated random intercept u₀ⱼ")
    evidence = {
        "me_tau00": _fmt(fit.variance["tau00"]), "me_tau00_truth": _fmt(truth["tau00"]),
        "me_tau00_sample": _fmt(sample_tau00),
        "me_slope": _fmt(_coef(fit, "x_recorded")), "me_slope_truth": _fmt(truth["slope"]),
        "me_reliability": _fmt(truth["reliability"]),
    }
    return MeasurementErrorResult(settings, data, fit, table, intercepts, sample_tau00, figure,
                                  _labelled_messages({"y ~ x_recorded": fit}), evidence)


# --------------------------------------------------------------------------- panels: final form


# The data each panel's code starts from: the Hsb82 columns, or the simulated pupils.
_HSB82_DATA = ("# data: Hsb82 with the lesson's columns, e.g.\n"
               "# from hlmlab.analyses.macro_micro import hsb82_columns; data = hsb82_columns()\n")
_HSB82_R_DATA = ("# data: mlmRev's Hsb82 with the lesson's columns (mean_ses = school mean of ses,\n"
                 "# ses_within = ses - mean_ses, catholic = 1 for Catholic schools)\n")


def _simulated_data_note(function: str, settings) -> tuple[str, str]:
    """The first lines of a simulation's code: how to get the very pupils on screen."""
    call = f"{function}({type(settings).__name__}({_settings_text(settings)}))"
    python = (f"# data: the simulated pupils on screen (synthetic), e.g.\n"
              f"# from hlmlab.analyses.macro_micro import *; data = {call}\n")
    r = (f"# data: the simulated pupils on screen (synthetic), written from Python by\n"
         f"# {call}.to_csv('pupils.csv'); data <- read.csv('pupils.csv')\n")
    return python, r


def _settings_text(settings) -> str:
    return ", ".join(f"{f.name}={getattr(settings, f.name)!r}" for f in fields(settings))


def combined_code(fits: Mapping[str, MultilevelFit | PooledFit], data_note: tuple[str, str]
                  ) -> report.FitCode:
    """One :class:`hlmlab.report.FitCode` for the several fits of a panel, each under a
    comment naming its model, after a note on where ``data`` comes from.

    Parameters
    ----------
    fits : model label -> fit (a :class:`MultilevelFit`, or a pooled OLS fit, whose R code
        is ``lm``).
    data_note : the Python and R comment lines that say what ``data`` is.

    Returns
    -------
    FitCode
    """
    python, r, notes = [data_note[0]], [data_note[1]], []
    for label, fit in fits.items():
        python.append(f"# {label}\n{fit.code}\n")
        if isinstance(fit, PooledFit):
            r.append(f"# {label}\nfit <- lm({fit.outcome} ~ {fit.predictor}, data = data)\n"
                     "summary(fit)\n")
        else:
            r.append(f"# {label}\n{fit.lme4}\n")
            note = getattr(fit, "optimizer_note", "") or ""
            if note and note not in notes:
                notes.append(note)
    return report.FitCode("\n".join(python).rstrip() + "\n", "\n".join(r).rstrip() + "\n",
                          " ".join(notes))


def _difference(value: float) -> str:
    """A difference of school means to four decimals, never "-0.0000"."""
    return f"{round(value, 4) + 0.0:.4f}"


def _metric(value: float, digits: int = 2) -> str:
    return _fmt(value, digits)


@dataclass(frozen=True)
class PropositionView:
    """What the propositions tab draws, in final form (:data:`PROPOSITION`).

    Attributes
    ----------
    title : the proposition's heading.
    chart : the diagram, each arrow labelled with its term and estimate.
    preview : the diagram with each arrow named by its coefficient's symbol only (shown
        while the proposition's question waits for an answer).
    equation : the model as LaTeX, each arrow's term in its arrow's colour.
    arrows : per arrow: the term carrying it, its coefficient, estimate, SE and meaning.
    details : further numbers the proposition needs (variance components, R², ICC...).
    code : the statsmodels and R code of the fit.
    messages, evidence : the fit's diagnostics and the numbers the questions name.
    """

    title: str
    chart: BrowserFigure
    preview: BrowserFigure
    equation: str
    arrows: DisplayTable
    details: DisplayTable
    code: report.FitCode
    messages: tuple[Diagnostic, ...]
    evidence: Mapping[str, str]


def proposition_view(settings: PropositionSettings) -> PropositionView:
    """The :data:`PROPOSITION` panel's compute: :func:`compute_proposition` in final form."""
    result = compute_proposition(settings)
    arrows = result.arrows.set_index("arrow")
    if settings.proposition == "macro":
        code = report.FitCode(_MACRO_CODE, _MACRO_R)
    else:
        code = combined_code({result.proposition.title: result.fit}, (_HSB82_DATA, _HSB82_R_DATA))
    return PropositionView(
        result.proposition.title, browser_figure(result.figure),
        browser_figure(preview_diagram(result.proposition)), result.equation,
        display_table(arrows, label="Each arrow and the model term that carries it"),
        display_table(result.details.set_index("quantity"), label="More numbers of this model",
                      formats={"value": display_number}),
        code, result.messages, dict(result.evidence))


@dataclass(frozen=True)
class CentringView:
    """What the centring tab draws, in final form (:data:`CENTRING`).

    Attributes
    ----------
    headline : (label, value) of the within-school slope, the between-school slope and the
        contextual effect, as the metrics show them.
    chart : school means, the within-school slope through each, the between line, the
        random-intercept blend and pooled OLS.
    coefficients : per model, the SES and school-mean coefficients and what each estimates.
    variances : per model, its lme4 formula, tau00, sigma2 and log-likelihood.
    estimates : within, between, contextual, blend and pooled slopes, with their SEs and the
        model and coefficient each comes from.
    checks : each of those numbers computed a second way, and how.
    school_means : the published school means of SES against the pupils' mean.
    code : the six fits' and pooled OLS' code.
    messages, evidence : every fit's diagnostics; the numbers the questions name.
    """

    headline: tuple[tuple[str, str], ...]
    chart: BrowserFigure
    coefficients: DisplayTable
    variances: DisplayTable
    estimates: DisplayTable
    checks: DisplayTable
    school_means: DisplayTable
    code: report.FitCode
    messages: tuple[Diagnostic, ...]
    evidence: Mapping[str, str]


def centring_view(settings: CentringSettings) -> CentringView:
    """The :data:`CENTRING` panel's compute: :func:`compute_centring` in final form."""
    result = compute_centring(settings)
    models = result.models
    coefficients = models[["SES coefficient", "SES SE", "SES coefficient estimates",
                           "mean_ses coefficient", "mean_ses SE",
                           "mean_ses coefficient estimates"]]
    variances = models[["lme4 formula", "intercept", "tau00", "sigma2", "log-likelihood"]]
    estimates = result.estimates.loc[:, ["estimate", "SE", "from"]]
    # Apart, so that neither table is too wide for a projected page.
    checks = result.estimates.loc[:, ["check", "check from"]]
    within = estimates.loc["within-school slope"]
    between = estimates.loc["between-school slope"]
    contextual = estimates.loc["contextual effect (between − within)"]
    headline = (("Within-school slope", f"{within['estimate']:.3f}"),
                ("Between-school slope", f"{between['estimate']:.3f}"),
                ("Contextual effect", f"{contextual['estimate']:.3f}"))
    fits = {f"{CENTRING_MODELS[key][0]}: {_lme4_formula(fit)}": fit
            for key, fit in result.fits.items()}
    fits["pooled OLS: mAch ~ ses"] = result.pooled
    return CentringView(
        headline, browser_figure(result.figure),
        display_table(coefficients, label="What each model's coefficients estimate",
                      columns={"SES coefficient": "SES coef.",
                               "SES coefficient estimates": "SES coef. estimates",
                               "mean_ses coefficient": "mean_ses coef.",
                               "mean_ses coefficient estimates": "mean_ses coef. estimates"}),
        display_table(variances, label="Variance components of the six models",
                      columns={"lme4 formula": "lme4 formula", "tau00": "τ₀₀", "sigma2": "σ²"}),
        display_table(estimates, label="Within, between and contextual estimates on Hsb82",
                      columns={"from": "model · coefficient"}),
        display_table(checks, label="Each estimate computed a second way",
                      columns={"check": "the same, another way", "check from": "how"}),
        display_table(school_mean_check(result.data), label="Published school means of SES",
                      formats={"schools": "{:,.0f}".format,
                               **dict.fromkeys(("smallest difference", "mean difference",
                                                "largest difference"), _difference)}),
        combined_code(fits, (_HSB82_DATA, _HSB82_R_DATA)), result.messages,
        dict(result.evidence))


@dataclass(frozen=True)
class SimulationView:
    """What a one-model simulation lab draws, in final form (:data:`CONTEXTUAL`,
    :data:`MEASUREMENT`).

    Attributes
    ----------
    headline : (label, value) of the few numbers the metrics show: for the within/between
        simulation the blend (random intercept, raw x), the within and the between slope;
        for measurement error the estimated tau00, its truth and the slope.
    chart : the within/between chart (pupils, each school's within line, the between line,
        the blend and OLS), or the estimated against the true school intercepts.
    table : the truth beside the estimates (slopes with their precision-weighted formula;
        slope, tau00, sigma2 and the reliability).
    code, messages, evidence : as :class:`CentringView`.
    """

    headline: tuple[tuple[str, str], ...]
    chart: BrowserFigure
    table: DisplayTable
    code: report.FitCode
    messages: tuple[Diagnostic, ...]
    evidence: Mapping[str, str]


def contextual_view(settings: ContextualSimulationSettings) -> SimulationView:
    """The :data:`CONTEXTUAL` panel's compute: :func:`compute_contextual_simulation` in
    final form."""
    result = compute_contextual_simulation(settings)
    slopes = result.slopes
    headline = (
        ("Random intercept, raw x", _metric(slopes.loc["random intercept, raw x (blend)", "estimate"])),
        ("Within-school slope", _metric(slopes.loc["within-school slope", "estimate"])),
        ("Between-school slope", _metric(slopes.loc["between-school slope", "estimate"])),
    )
    fits = {"y ~ x + (1 | school): the blend": result.raw,
            "y ~ x + mean_x + (1 | school): within slope and contextual effect": result.contextual,
            "y ~ x_within + mean_x + (1 | school): within and between slopes": result.centred,
            "pooled OLS: y ~ x": result.pooled}
    return SimulationView(
        headline, browser_figure(result.figure),
        display_table(slopes, label="Slopes: truth and estimates"),
        combined_code(fits, _simulated_data_note("simulate_contextual", settings)),
        result.messages, dict(result.evidence))


@dataclass(frozen=True)
class InteractionView:
    """What a cross-level interaction tab draws, in final form (:data:`SECTOR` and
    :data:`GROUPING`).

    Attributes
    ----------
    headline : (label, value) of the two average slopes and the share of tau11 explained.
    chart : every school's line coloured by Z, and the average line of each value of Z.
    coefficients : the fixed effects of the model with Z, each with the arrow it carries.
    variances : both fits' variance components and log-likelihoods (None: not shown).
    explained : tau11 without and with Z, and the share explained.
    likelihood_ratio : the ML likelihood-ratio test of Z and x·Z in words, or "".
    code, messages, evidence : as :class:`CentringView`.
    """

    headline: tuple[tuple[str, str], ...]
    chart: BrowserFigure
    coefficients: DisplayTable
    variances: DisplayTable
    explained: DisplayTable
    likelihood_ratio: str
    code: report.FitCode
    messages: tuple[Diagnostic, ...]
    evidence: Mapping[str, str]


def _likelihood_ratio_text(comparison: CrossLevelComparison, z_name: str) -> str:
    test = comparison.likelihood_ratio()
    if test is None:
        return ""
    p = f"p = {test.p_value:.3g}" if test.p_value >= 1e-4 else "p < 0.0001"
    return (f"Likelihood-ratio test of {z_name} and its interaction (ML fits): "
            f"χ² = {test.statistic:.1f} on {test.df} df, {p}.")


def _interaction_view(comparison: CrossLevelComparison, lines: pd.DataFrame, figure: go.Figure,
                      coefficients: pd.DataFrame, explained: pd.DataFrame,
                      messages, evidence, z_name: str, data_note) -> InteractionView:
    slopes = lines.set_index("level")["slope"]
    headline = tuple((f"{level}: average slope", _metric(slope)) for level, slope in slopes.items())
    share = comparison.proportion_explained
    headline += (("Share of τ₁₁ explained", "not estimable" if not np.isfinite(share)
                  else f"{100 * share:.0f} %"),)
    code = combined_code({f"without {z_name}: {_lme4_formula(comparison.without_z)}":
                          comparison.without_z,
                          f"with {z_name}: {_lme4_formula(comparison.with_z)}": comparison.with_z},
                         data_note)
    variances = comparison.variance_table().rename(
        columns={"tau00": "τ₀₀", "tau11": "τ₁₁", "tau01": "τ₀₁", "sigma2": "σ²",
                 "log-likelihood": "log-lik."})
    return InteractionView(
        headline, browser_figure(figure),
        display_table(coefficients, label=f"Fixed effects of the model with {z_name}"),
        display_table(variances, label="Variance components without and with " + z_name),
        display_table(explained, label="Slope variance explained"),
        _likelihood_ratio_text(comparison, z_name), code, messages, dict(evidence))


def sector_view(settings: SectorInteractionSettings) -> InteractionView:
    """The :data:`SECTOR` panel's compute: :func:`compute_sector_interaction` in final
    form."""
    result = compute_sector_interaction(settings)
    return _interaction_view(result.comparison, result.sector_lines, result.figure,
                             result.coefficients, result.explained, result.messages,
                             result.evidence, "sector", (_HSB82_DATA, _HSB82_R_DATA))


def grouping_view(settings: AbilityGroupingSettings) -> InteractionView:
    """The :data:`GROUPING` panel's compute: :func:`compute_ability_grouping` in final form."""
    result = compute_ability_grouping(settings)
    return _interaction_view(result.comparison, result.group_lines, result.figure,
                             result.coefficients, result.explained, result.messages,
                             result.evidence, "grouping",
                             _simulated_data_note("simulate_ability_grouping", settings))


def measurement_view(settings: MeasurementErrorSettings) -> SimulationView:
    """The :data:`MEASUREMENT` panel's compute: :func:`compute_measurement_error` in final
    form."""
    result = compute_measurement_error(settings)
    truth = result.data.attrs["truth"]
    headline = (("Estimated τ₀₀", _metric(result.fit.variance["tau00"])),
                ("β₁² var(u) + sd²school", _metric(truth["tau00"])),
                ("Slope of the recorded x", _metric(_coef(result.fit, "x_recorded"))))
    return SimulationView(
        headline, browser_figure(result.figure),
        display_table(result.table, label="Truth and estimates"),
        combined_code({"y ~ x_recorded + (1 | school)": result.fit},
                      _simulated_data_note("simulate_measurement_error", settings)),
        result.messages, dict(result.evidence))


def _slider_ranges(settings_type) -> dict[str, SliderRange]:
    """A settings class's ``RANGES`` as the panel's slider grids."""
    return {name: SliderRange(*grid) for name, grid in settings_type.RANGES.items()}


PROPOSITION = Panel("macro_micro.proposition", proposition_view, PropositionSettings)
CENTRING = Panel("macro_micro.centring", centring_view, CentringSettings)
CONTEXTUAL = Panel("macro_micro.contextual", contextual_view, ContextualSimulationSettings,
                   sliders=_slider_ranges(ContextualSimulationSettings))
SECTOR = Panel("macro_micro.sector", sector_view, SectorInteractionSettings)
GROUPING = Panel("macro_micro.grouping", grouping_view, AbilityGroupingSettings,
                 sliders=_slider_ranges(AbilityGroupingSettings))
MEASUREMENT = Panel("macro_micro.measurement", measurement_view, MeasurementErrorSettings,
                    sliders=_slider_ranges(MeasurementErrorSettings))

#: Panel key (as :data:`QUESTION_PANELS` names it) -> the page's panel.
PANELS: Mapping[str, Panel] = {
    "propositions": PROPOSITION,
    "centring": CENTRING,
    "contextual": CONTEXTUAL,
    "sector": SECTOR,
    "grouping": GROUPING,
    "measurement": MEASUREMENT,
}

#: Every setting of the Hsb82 panels (each fit of real data takes 0.3-3 s: a worker
#: computes them all while it warms up, scripts/warm_worker.py).
HSB82_SETTINGS: tuple = (
    *(PropositionSettings(key) for key in PROPOSITIONS),
    *(CentringSettings(reml) for reml in (True, False)),
    *(SectorInteractionSettings(reml, control) for reml in (True, False)
      for control in (False, True)),
)

#: Question id of lessons/macro_micro.md -> (panel whose result holds its evidence, the
#: settings its answer needs, or None for the panel's current settings). Questions about a
#: simulation ask about its default settings, so their evidence is computed there: the
#: right option must not change when a student has moved the sliders first.
QUESTION_PANELS: Mapping[str, tuple[str, object | None]] = {
    "question-propositions-school-mean": ("propositions", PropositionSettings("macro_and_micro")),
    "question-propositions-interaction-term": ("propositions", PropositionSettings("cross_level")),
    "question-propositions-emergent": ("propositions", PropositionSettings("emergent")),
    "question-centring-pooled": ("centring", None),
    "question-centring-mean-coefficient": ("centring", None),
    "question-contextual-blend": ("contextual", ContextualSimulationSettings()),
    "question-sector-slopes": ("sector", None),
    "question-sector-tau11": ("sector", None),
    "question-grouping-explained": ("grouping", AbilityGroupingSettings()),
    "question-measurement-tau00": ("measurement", MeasurementErrorSettings()),
    "question-measurement-attenuation": ("measurement", MeasurementErrorSettings(sd_individual_error=1.0)),
}


def question_settings(question_key: str, settings=None):
    """The settings whose panel result holds a question's evidence.

    Parameters
    ----------
    question_key : a key of :data:`QUESTION_PANELS`.
    settings : the panel's current settings; ignored for questions tied to fixed settings
        (e.g. a proposition other than the one drawn), default settings when None.

    Returns
    -------
    (Panel, settings)
    """
    panel_key, fixed = QUESTION_PANELS[question_key]
    panel = PANELS[panel_key]
    chosen = fixed if fixed is not None else (settings if settings is not None else panel.settings_type())
    return panel, chosen


def question_evidence(question_key: str, settings=None) -> Mapping[str, str]:
    """The live numbers a question's answer names (its panel's ``evidence``), computed
    afresh (the page reads them from its cached panel results instead).

    Parameters
    ----------
    question_key, settings : see :func:`question_settings`.

    Returns
    -------
    Mapping of evidence name to formatted value, for :func:`hlmlab.questions.fill_evidence`.
    """
    panel, chosen = question_settings(question_key, settings)
    return panel.compute(chosen).evidence
