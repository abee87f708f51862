"""Balanced designs in closed form: J groups of n rows each, predictors constant within groups.

For *balanced* data with predictors that are constant within groups, the REML fit of a
random-intercept model is the one-way ANOVA split of the sums of squares, truncated at zero
(:func:`balanced_random_intercept_reml`). Thousands of simulated studies are then a few array
operations, which is how the lessons that repeat a study many times (Why multilevel?'s
many-studies run, Foundations' experiments) count rejection rates in a fraction of a second.

- :func:`balanced_random_intercept_reml`: the closed-form REML fit (``BalancedREML``);
- :func:`class_level_design`: the class-level design of a two-arm study, one row per class;
- :func:`classic_study_statistics`: OLS on pupils, the random-intercept model and OLS on
  class means of a stack of such studies (:data:`ANALYSES`, in display order);
- :func:`balanced_icc_interval`: the ICC of balanced one-way data with its exact F interval.

Scores are simulated on a reading-test scale (:data:`SCORE_MEAN`, :data:`SCORE_SD`).
``tests/core/test_balanced.py`` proves the closed form equals
:func:`hlmlab.twolevel.fit_multilevel` (boundary fits included) and lme4 on a reference study.
No Streamlit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats as sps

from hlmlab.errors import ModelDataError

__all__ = [
    "ANALYSES",
    "BalancedREML",
    "SCORE_MEAN",
    "SCORE_SD",
    "balanced_icc_interval",
    "balanced_random_intercept_reml",
    "class_level_design",
    "classic_study_statistics",
]

# Scores on a reading-test scale: mean 50, total SD 10 (tau00 + sigma2 = 100).
SCORE_MEAN = 50.0
SCORE_SD = 10.0

# The three analyses of a two-arm class study (classic_study_statistics), in display order.
ANALYSES = {
    "pupils_ols": "OLS on pupils (Bennett)",
    "multilevel": "MixedLM, class random intercept (Aitkin)",
    "class_means_ols": "OLS on class means",
}


@dataclass(frozen=True)
class BalancedREML:
    """REML estimates of a balanced random-intercept model, for a stack of data sets.

    Every array has the leading shape of the stacked data (e.g. ``(n_studies,)``); ``beta``
    and ``se`` add a last axis over the fixed effects.

    Attributes
    ----------
    beta : fixed effects (GLS = OLS on group means, since the design is balanced).
    se : lme4-style standard errors, sqrt(diag((tau00 + sigma2/n) (X_c'X_c)^-1)).
    tau00, sigma2 : between- and within-group variance.
    boundary : True where tau00 is estimated as exactly zero (a singular fit).
    ms_between, ms_within : the ANOVA mean squares behind the estimates.
    df_between, df_within : their degrees of freedom, J - p and J (n - 1).
    """

    beta: np.ndarray
    se: np.ndarray
    tau00: np.ndarray
    sigma2: np.ndarray
    boundary: np.ndarray
    ms_between: np.ndarray
    ms_within: np.ndarray
    df_between: int
    df_within: int


def balanced_random_intercept_reml(scores: np.ndarray, group_design: np.ndarray) -> BalancedREML:
    """REML fit of ``y ~ X + (1 | group)`` in closed form, for balanced data.

    With J groups of n rows each and fixed effects that are constant within groups (a
    J x p design ``X_c``), the restricted likelihood splits into two independent parts: the
    within-group sum of squares SSW (J(n-1) df, variance sigma2) and the residual sum of
    squares of the group means around their OLS fit, SSB = n * RSS (J - p df, variance
    sigma2 + n tau00). Maximising under tau00 >= 0 gives (Searle, Casella & McCulloch 1992,
    *Variance Components*, sec. 3.8 and 6.7):

    - MSB > MSW: sigma2 = MSW, tau00 = (MSB - MSW) / n;
    - otherwise (the boundary): tau00 = 0, sigma2 = (SSB + SSW) / (N - p).

    The fixed effects are OLS on the group means and their covariance is
    (tau00 + sigma2 / n) (X_c'X_c)^-1.

    Parameters
    ----------
    scores : array (..., J, n)
        The outcome, one row per group; leading axes stack independent data sets.
    group_design : array (J, p)
        The fixed-effects design, one row per group (first column usually ones).

    Returns
    -------
    BalancedREML

    Raises
    ------
    ModelDataError
        When n < 2 (no within-group variation to separate) or J <= p.
    """
    scores = np.asarray(scores, dtype=float)
    X = np.asarray(group_design, dtype=float)
    n_groups, n = scores.shape[-2], scores.shape[-1]
    p = X.shape[1]
    if X.shape[0] != n_groups:
        raise ValueError("group_design needs one row per group.")
    if n < 2:
        raise ModelDataError(
            "With one row per group the model cannot tell between-group from within-group "
            "variance: every group needs at least two rows."
        )
    if n_groups <= p:
        raise ModelDataError("There must be more groups than fixed effects.")
    xtx_inv = np.linalg.inv(X.T @ X)
    means = scores.mean(axis=-1)
    ss_within = ((scores - means[..., None]) ** 2).sum(axis=(-2, -1))
    beta = means @ (xtx_inv @ X.T).T
    resid = means - beta @ X.T
    ss_between = n * (resid**2).sum(axis=-1)
    df_between, df_within = n_groups - p, n_groups * (n - 1)
    ms_between, ms_within = ss_between / df_between, ss_within / df_within
    interior = ms_between > ms_within
    sigma2 = np.where(interior, ms_within, (ss_between + ss_within) / (df_between + df_within))
    tau00 = np.where(interior, (ms_between - ms_within) / n, 0.0)
    scale = tau00 + sigma2 / n
    se = np.sqrt(scale[..., None] * np.diag(xtx_inv))
    return BalancedREML(beta, se, tau00, sigma2, ~interior, ms_between, ms_within,
                        df_between, df_within)


def class_level_design(teachers_per_style: int) -> np.ndarray:
    """Intercept and ``formal`` (0 informal, 1 formal), one row per class: informal first."""
    formal = np.repeat([0.0, 1.0], teachers_per_style)
    return np.column_stack([np.ones_like(formal), formal])


def classic_study_statistics(scores: np.ndarray, teachers_per_style: int) -> dict:
    """The three analyses of ``hlmlab.analyses.why_multilevel.analyse_classic_study`` for a
    stack of balanced studies.

    Parameters
    ----------
    scores : array (S, J, n): S studies of J = 2 * teachers_per_style classes (informal
        classes first) with n pupils each.
    teachers_per_style : classes per style.

    Returns
    -------
    dict with arrays ``estimate, se, p_value`` of shape (S, 3) in :data:`ANALYSES` order,
    ``df`` (3,) and ``boundary`` (S,): MixedLM's tau00 estimated as zero.
    """
    X = class_level_design(teachers_per_style)
    n_classes, n = scores.shape[-2], scores.shape[-1]
    reml = balanced_random_intercept_reml(scores, X)
    estimate = reml.beta[..., 1]
    contrast = np.linalg.inv(X.T @ X)[1, 1]  # 2 / teachers_per_style
    # Pupil-level OLS: residual variance over N - 2 df, and X'X = n X_c'X_c.
    ss_resid = reml.ms_between * reml.df_between + reml.ms_within * reml.df_within
    pupils_se = np.sqrt(ss_resid / (n_classes * n - 2) * contrast / n)
    # OLS on class means: the means' residual variance is MSB / n.
    means_se = np.sqrt(reml.ms_between / n * contrast)
    estimates = np.column_stack([estimate, estimate, estimate])
    ses = np.column_stack([pupils_se, reml.se[..., 1], means_se])
    dfs = np.array([n_classes * n - 2, n_classes - 2, n_classes - 2], dtype=float)
    return {
        "estimate": estimates,
        "se": ses,
        "df": dfs,
        "p_value": 2 * sps.t.sf(np.abs(estimates / ses), dfs),
        "boundary": reml.boundary,
    }


def balanced_icc_interval(scores: np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    """The ICC of balanced one-way data with its exact F-based confidence interval.

    With F = MSB / MSW on (J - 1, J(n - 1)) df, the estimate is (F - 1) / (F + n - 1), which
    is the REML estimate tau00 / (tau00 + sigma2) when it is positive, and the interval
    replaces F by F / F_(1 - a/2) and F / F_(a/2) (Searle 1971, *Linear Models*, sec. 9.7;
    Shrout & Fleiss 1979, ICC(1)). Limits are truncated to [0, 1].

    Parameters
    ----------
    scores : array (J, n), one row per group.
    level : confidence level.

    Returns
    -------
    (estimate, low, high)
    """
    reml = balanced_random_intercept_reml(scores, np.ones((scores.shape[0], 1)))
    n = scores.shape[1]
    f = reml.ms_between / reml.ms_within
    a = 1 - level
    f_low = f / sps.f.ppf(1 - a / 2, reml.df_between, reml.df_within)
    f_high = f / sps.f.ppf(a / 2, reml.df_between, reml.df_within)

    def to_icc(value):
        return float(np.clip((value - 1) / (value + n - 1), 0.0, 1.0))

    return to_icc(f), to_icc(f_low), to_icc(f_high)
