"""The two-level linear mixed model:
``outcome ~ predictor + covariates + (1 [+ predictor] | group)``.

Every lesson fits its multilevel models here; no page has fitting code of its own.

The recipe (:func:`fit_multilevel`)
-----------------------------------
statsmodels' defaults are not safe: on Hsb82 ``mAch ~ ses + (1|school)`` the default
optimiser stops short of lme4's optimum while reporting convergence, ``lbfgs`` from the
default start returns a log-likelihood of +inf, and on the boundary (a zero variance, a
correlation of +-1) its likelihood, which inverts the random-effects covariance, is not
defined. So:

1. The estimates come from lme4's profiled deviance (:mod:`hlmlab.deviance`), exact on the
   boundary: :func:`hlmlab.optimum.find_optimum` optimises from moment-based starting
   values, verifies the point and falls back to lme4's default start if it must. A fit that
   fails the check is returned with ``converged=False`` and an error message; pages do not
   draw it.
2. statsmodels ``MixedLM``, built from arrays (never from a formula string, so a user's
   column name is never executed), refits from that optimum with ``lbfgs``: exactly the
   code the student is shown. Its log-likelihood must agree (the fit's ``status`` records
   whether it did); if it found a better point, that point is verified and used. On the
   boundary statsmodels is not asked.
3. Reported numbers follow lme4's conventions: fixed-effect standard errors from the
   fixed-effects block alone, sigma^2 (X'V^-1 X)^-1; conditional modes and conditional
   variances of the random effects as ``ranef(condVar = TRUE)``. statsmodels' ``bse_fe``
   (full information matrix) is kept alongside, labelled as such.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from hlmlab.deviance import GroupedDesign, ProfiledDeviance, lambda_to_theta, theta_to_lambda
from hlmlab.diagnostics import (
    DescribedFit,
    FitStatus,
    ZeroVariance,
    is_zero_variance,
    statsmodels_check,
)
from hlmlab.errors import ModelDataError
from hlmlab.frames import FrozenMapping, group_codes, prepare_columns
from hlmlab.optimum import adopt_if_better, find_optimum, is_singular
from hlmlab.reproduction import two_level_code, two_level_lme4

__all__ = ["MultilevelFit", "fit_multilevel", "warm_up"]


@dataclass(frozen=True)
class MultilevelFit(DescribedFit):
    """A fitted two-level linear mixed model, frozen for caching.

    Attributes
    ----------
    fixed : Series of fixed effects (``Intercept``, predictor, covariates).
    fixed_se : Series of lme4-style standard errors, sqrt(diag(sigma^2 (X'V^-1 X)^-1)).
    fixed_se_full_information : Series of statsmodels' ``bse_fe`` (inverse of the full
        information matrix, covariance parameters included), or None when statsmodels could
        not compute it (a boundary fit).
    variance : mapping with ``tau00, tau11, tau01, sigma2`` (``tau11``/``tau01`` are NaN
        for a random-intercept model).
    loglik : log-likelihood (the REML criterion's for REML fits, as lme4's ``logLik``).
    blups : DataFrame indexed by group: ``n, u0, u1, u0_sd, u1_sd, intercept, slope``;
        ``u`` are conditional modes, ``*_sd`` conditional SDs, ``intercept``/``slope`` the
        group's own line (fixed effects plus its random effects).
    status : :class:`hlmlab.diagnostics.FitStatus`, the facts behind ``converged``,
        ``singular``, ``messages`` and ``optimizer_note``.
    code : the statsmodels call as text; lme4 : the equivalent lme4 call.
    statsmodels_loglik : statsmodels' log-likelihood after refitting from the optimum (None
        when it was not asked or failed).
    """

    outcome: str
    predictor: str | None
    group: str
    covariates: tuple[str, ...]
    random_slope: bool
    reml: bool
    fixed: pd.Series
    fixed_se: pd.Series
    fixed_se_full_information: pd.Series | None
    variance: Mapping[str, float]
    loglik: float
    n_obs: int
    n_groups: int
    n_params: int
    blups: pd.DataFrame
    status: FitStatus
    code: str
    lme4: str
    theta: tuple[float, ...]
    statsmodels_loglik: float | None = None
    rows_dropped: int = 0

    @property
    def aic(self) -> float:
        """Akaike information criterion, -2 logLik + 2 k, with k fixed + covariance + 1."""
        return -2.0 * self.loglik + 2.0 * self.n_params

    @property
    def bic(self) -> float:
        """Bayesian information criterion, -2 logLik + k log n."""
        return -2.0 * self.loglik + self.n_params * np.log(self.n_obs)

    @property
    def icc(self) -> float:
        """tau00 / (tau00 + sigma2): for a random-slope model, at predictor = 0."""
        tau00, sigma2 = self.variance["tau00"], self.variance["sigma2"]
        return tau00 / (tau00 + sigma2)

    @property
    def correlation(self) -> float:
        """Correlation of random intercepts and slopes (NaN without a random slope)."""
        return _correlation(self.variance, self.random_slope)

    def coefficients_by_group(self) -> pd.DataFrame:
        """Each group's line: fixed effects plus its conditional modes."""
        return self.blups[["intercept", "slope"]]


def _correlation(variance: Mapping[str, float], random_slope: bool) -> float:
    if not random_slope or variance["tau00"] <= 0 or variance["tau11"] <= 0:
        return np.nan
    return variance["tau01"] / np.sqrt(variance["tau00"] * variance["tau11"])


def _require_residual_variation(y: np.ndarray, X: np.ndarray) -> None:
    """A variance needs noise: refuse data that the fixed line alone fits exactly."""
    resid = y - X @ np.linalg.lstsq(X, y, rcond=None)[0]
    if resid @ resid <= 1e-20 * max(1.0, float(y @ y)):
        raise ModelDataError(
            "Every point lies exactly on one line, so there is no variation left to split "
            "between and within groups. Add some noise (measurement error) or more data."
        )


def _moment_start(y, X, Z, codes, n_groups) -> np.ndarray:
    """theta from OLS and a method-of-moments split of the residual variance.

    The between-group variance of group-mean OLS residuals, less their sampling variance,
    over the residual variance, gives the intercept's relative SD. Slopes start at a tenth
    of it so the optimiser is not started on the boundary.
    """
    coef, *_ = np.linalg.lstsq(X, y, rcond=None)
    resid = y - X @ coef
    counts = np.bincount(codes, minlength=n_groups).astype(float)
    means = np.bincount(codes, weights=resid, minlength=n_groups) / np.maximum(counts, 1)
    within = resid - means[codes]
    dof = max(len(y) - n_groups, 1)
    sigma2 = max(within @ within / dof, 1e-12)
    between = np.var(means, ddof=1) if n_groups > 1 else 0.0
    tau00 = max(between - sigma2 * np.mean(1.0 / np.maximum(counts, 1)), 0.05 * sigma2)
    q = Z.shape[1]
    lam = np.eye(q) * 0.1 * np.sqrt(tau00 / sigma2)
    lam[0, 0] = np.sqrt(tau00 / sigma2)
    return lambda_to_theta(lam)


def _statsmodels_fit(y, X, Z, groups, reml, start_theta, start_beta):
    """statsmodels MixedLM from arrays with lbfgs from our start; returns (result, warnings)."""
    from statsmodels.regression.mixed_linear_model import MixedLM, MixedLMParams

    model = MixedLM(y, X, groups=groups, exog_re=Z)
    lam = theta_to_lambda(start_theta, Z.shape[1])
    start = MixedLMParams.from_components(fe_params=start_beta, cov_re=lam @ lam.T)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = model.fit(start_params=start, reml=reml, method=["lbfgs"])
        except (np.linalg.LinAlgError, ValueError, ZeroDivisionError, FloatingPointError):
            result = None
    return result, [str(w.message) for w in caught]


def _theta_from_statsmodels(result, q: int) -> np.ndarray | None:
    cov = np.asarray(result.cov_re_unscaled, dtype=float).reshape(q, q)
    if not np.all(np.isfinite(cov)):
        return None
    try:
        lam = np.linalg.cholesky(cov)
    except np.linalg.LinAlgError:
        return None
    return lambda_to_theta(lam)


def _solve_or_refuse(deviance: ProfiledDeviance, theta: np.ndarray):
    """The solution at ``theta``, or a student-readable error when there is none."""
    try:
        solution = deviance.solve(theta)
        if not np.all(np.isfinite(solution.beta)) or not np.isfinite(solution.deviance):
            raise ValueError("non-finite estimates")
    except (np.linalg.LinAlgError, ValueError):
        raise ModelDataError(
            "This model could not be fitted to these data: the likelihood has no finite "
            "maximum. Try a random-intercept model or more rows per group."
        ) from None
    return solution


def _zero_variances(variance: Mapping[str, float], predictor: str | None, group: str,
                    random_slope: bool) -> tuple[ZeroVariance, ...]:
    zeros = []
    if is_zero_variance(variance["tau00"], variance["sigma2"]):
        zeros.append(ZeroVariance("Intercept", group))
    if random_slope and is_zero_variance(variance["tau11"], variance["sigma2"]):
        zeros.append(ZeroVariance(predictor, group))
    return tuple(zeros)


def fit_multilevel(
    data: pd.DataFrame,
    outcome: str,
    predictor: str | None,
    group: str,
    random_slope: bool = True,
    reml: bool = True,
    covariates: Sequence[str] = (),
) -> MultilevelFit:
    """Fit ``outcome ~ predictor + covariates + (1 [+ predictor] | group)``.

    Parameters
    ----------
    data : DataFrame
    outcome : column name of the response.
    predictor : column name of the level-1 predictor that may have a random slope, or None
        for the empty model ``outcome ~ 1 + (1 | group)``.
    group : column name of the grouping factor.
    random_slope : bool, default True
        Random intercept and slope for ``predictor`` (correlated), else random intercept.
    reml : bool, default True
        REML (lme4's default) or maximum likelihood.
    covariates : sequence of str
        Further fixed-effect columns without random slopes.

    Returns
    -------
    MultilevelFit

    Raises
    ------
    ModelDataError
        Missing or non-numeric columns, fewer than two groups, or a predictor that does not
        vary: problems of the data, explained for a student.
    """
    if predictor is None and random_slope:
        raise ModelDataError("A random slope needs a predictor.")
    covariates = tuple(covariates)
    x_columns = ([predictor] if predictor else []) + list(covariates)
    frame, dropped = prepare_columns(data, [outcome, *x_columns, group], [outcome, *x_columns])
    frame = frame.sort_values(group, kind="stable")
    labels, codes = group_codes(frame[group])
    n_groups = len(labels)
    if n_groups < 2:
        raise ModelDataError(
            "A multilevel model needs at least two groups: with one group there is no "
            "between-group variation to estimate."
        )
    y = frame[outcome].to_numpy()
    X = np.column_stack([np.ones(len(frame)), frame[x_columns].to_numpy()])
    if np.linalg.matrix_rank(X) < X.shape[1]:
        raise ModelDataError(
            "The predictors do not vary enough for a line: "
            + ", ".join(repr(c) for c in x_columns)
            + " is constant or duplicated in the rows selected."
        )
    Z = X[:, :2] if random_slope else X[:, :1]
    q = Z.shape[1]
    deviance = ProfiledDeviance(GroupedDesign.from_arrays(y, X, Z, codes, n_groups), reml)
    _require_residual_variation(y, X)
    start_theta = _moment_start(y, X, Z, codes, n_groups)
    # Fallback: our start again, and lme4's default start (identity relative covariance).
    optimum = find_optimum(deviance, start_theta, [start_theta, lambda_to_theta(np.eye(q))])
    solution = _solve_or_refuse(deviance, optimum.theta)
    singular = is_singular(solution.Lambda)

    # statsmodels refits from that optimum, exactly as the code shown to the student does,
    # and must agree. On the boundary its likelihood (which inverts the random-effects
    # covariance) is not defined, so it is not asked.
    sm_result, sm_loglik, sm_theta = None, None, None
    if not singular:
        sm_result, _ = _statsmodels_fit(y, X, Z, frame[group].to_numpy(), reml, optimum.theta,
                                        solution.beta)
    if sm_result is not None:
        sm_loglik = float(sm_result.llf)
        sm_theta = _theta_from_statsmodels(sm_result, q)
        better = adopt_if_better(deviance, optimum, sm_theta)
        if better is not optimum:
            optimum = better
            solution = _solve_or_refuse(deviance, optimum.theta)
            singular = is_singular(solution.Lambda)
    lam = solution.Lambda
    psi = solution.sigma2 * lam @ lam.T
    variance = FrozenMapping({
        "tau00": float(psi[0, 0]),
        "tau11": float(psi[1, 1]) if q == 2 else np.nan,
        "tau01": float(psi[0, 1]) if q == 2 else np.nan,
        "sigma2": solution.sigma2,
    })
    names = ["Intercept", *x_columns]
    fixed = pd.Series(solution.beta, index=names)
    fixed_se = pd.Series(np.sqrt(np.diag(solution.beta_cov)), index=names)
    full_info_se = None
    if sm_result is not None and sm_theta is not None and not singular:
        bse = np.asarray(sm_result.bse_fe, dtype=float)
        if np.all(np.isfinite(bse)):
            full_info_se = pd.Series(bse, index=names)

    counts = np.bincount(codes, minlength=n_groups)
    b = solution.random_effects
    b_sd = np.sqrt(np.clip(np.diagonal(solution.random_effects_cov, axis1=1, axis2=2), 0, None))
    slope_fixed = fixed[predictor] if predictor else 0.0
    blups = pd.DataFrame(
        {
            "n": counts,
            "u0": b[:, 0],
            "u1": b[:, 1] if q == 2 else 0.0,
            "u0_sd": b_sd[:, 0],
            "u1_sd": b_sd[:, 1] if q == 2 else 0.0,
            "intercept": fixed["Intercept"] + b[:, 0],
            "slope": slope_fixed + (b[:, 1] if q == 2 else 0.0),
        },
        index=pd.Index(labels, name=group),
    )

    loglik = -0.5 * solution.deviance
    check, gap = statsmodels_check(sm_loglik, loglik, singular)
    zeros = _zero_variances(variance, predictor, group, random_slope) if singular else ()
    status = FitStatus(
        converged=optimum.converged,
        singular=singular,
        zero_variances=zeros,
        perfect_correlation=singular and random_slope and not zeros,
        correlation=np.nan if singular else _correlation(variance, random_slope),
        n_groups=n_groups,
        random_slope=random_slope,
        levels=2,
        predictor=predictor,
        group=group,
        statsmodels=check,
        loglik_gap=gap,
    )
    return MultilevelFit(
        outcome=outcome,
        predictor=predictor,
        group=group,
        covariates=covariates,
        random_slope=random_slope,
        reml=reml,
        fixed=fixed,
        fixed_se=fixed_se,
        fixed_se_full_information=full_info_se,
        variance=variance,
        loglik=loglik,
        n_obs=len(frame),
        n_groups=n_groups,
        n_params=X.shape[1] + q * (q + 1) // 2 + 1,
        blups=blups,
        status=status,
        code=two_level_code(outcome, x_columns, group, random_slope, reml, solution.beta,
                            lam @ lam.T, singular),
        lme4=two_level_lme4(outcome, x_columns, group, random_slope, reml),
        theta=tuple(float(t) for t in optimum.theta),
        statsmodels_loglik=sm_loglik,
        rows_dropped=dropped,
    )


def warm_up() -> None:
    """Import statsmodels and run one small fit, so a server's first student does not wait.

    ``import statsmodels`` alone takes about 2 s in a cold interpreter; a background thread
    calls this at server start.
    """
    rng = np.random.default_rng(0)
    groups = np.repeat(np.arange(6), 8)
    x = rng.normal(size=groups.size)
    frame = pd.DataFrame({"y": x + rng.normal(size=6)[groups] + rng.normal(size=groups.size),
                          "x": x, "g": groups})
    fit_multilevel(frame, "y", "x", "g", random_slope=True)
