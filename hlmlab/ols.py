"""Ordinary least squares: one line for everybody (complete pooling) and one line per group
(no pooling). Results are frozen dataclasses so they can be cached and shared."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd

from hlmlab.diagnostics import Diagnostic, no_separate_lines
from hlmlab.errors import ModelDataError
from hlmlab.frames import prepare_columns
from hlmlab.reproduction import ols_code

__all__ = ["PerGroupFit", "PooledFit", "fit_per_group", "fit_pooled", "least_squares"]


@dataclass(frozen=True)
class PooledFit:
    """One OLS line for all rows, ignoring groups (complete pooling).

    Attributes
    ----------
    outcome, predictor : column names.
    coef, se : Series indexed by ``Intercept`` and the predictor (and covariates).
    r2, sigma : R squared and residual standard deviation.
    n_obs : rows used.
    code : the statsmodels call as text.
    """

    outcome: str
    predictor: str
    coef: pd.Series
    se: pd.Series
    r2: float
    sigma: float
    n_obs: int
    code: str

    def coefficients_by_group(self) -> pd.DataFrame:
        """One row, group ``"all"``, with the line's intercept and slope."""
        return pd.DataFrame(
            {"intercept": [self.coef["Intercept"]], "slope": [self.coef[self.predictor]]},
            index=pd.Index(["all"], name="group"),
        )


def least_squares(y: np.ndarray, X: np.ndarray) -> tuple[np.ndarray, np.ndarray, float, float]:
    """Coefficients, standard errors, R squared and residual SD (NaN where not estimable).

    With fewer rows than columns, or collinear columns, every coefficient but the first (set
    to the mean of ``y``) and every SE is NaN.
    """
    n, p = X.shape
    if n <= p or np.linalg.matrix_rank(X) < p:
        coef = np.full(p, np.nan)
        if n >= 1 and p >= 1:
            coef[0] = y.mean()
        return coef, np.full(p, np.nan), np.nan, np.nan
    coef, *_ = np.linalg.lstsq(X, y, rcond=None)
    resid = y - X @ coef
    sigma2 = resid @ resid / (n - p)
    se = np.sqrt(np.diag(sigma2 * np.linalg.inv(X.T @ X)))
    tss = np.sum((y - y.mean()) ** 2)
    r2 = 1.0 - (resid @ resid) / tss if tss > 0 else np.nan
    return coef, se, float(r2), float(np.sqrt(sigma2))


def fit_pooled(
    data: pd.DataFrame, outcome: str, predictor: str, covariates: Sequence[str] = ()
) -> PooledFit:
    """Ordinary least squares on all rows, as if every row were an independent unit.

    Parameters
    ----------
    data : DataFrame
    outcome, predictor : column names.
    covariates : further fixed-effect columns.

    Returns
    -------
    PooledFit

    Raises
    ------
    ModelDataError
        When a column is missing or not numeric, or the predictor does not vary.
    """
    columns = [outcome, predictor, *covariates]
    frame, _ = prepare_columns(data, columns, columns)
    X = np.column_stack([np.ones(len(frame)), frame[[predictor, *covariates]].to_numpy()])
    coef, se, r2, sigma = least_squares(frame[outcome].to_numpy(), X)
    if np.isnan(coef[1:]).any():
        raise ModelDataError(
            f"A line needs {predictor!r} to take at least two different values; "
            "with the rows selected it does not."
        )
    names = ["Intercept", predictor, *covariates]
    return PooledFit(
        outcome=outcome,
        predictor=predictor,
        coef=pd.Series(coef, index=names),
        se=pd.Series(se, index=names),
        r2=r2,
        sigma=sigma,
        n_obs=len(frame),
        code=ols_code(outcome, [predictor, *covariates]),
    )


@dataclass(frozen=True)
class PerGroupFit:
    """A separate OLS line in every group (no pooling).

    Attributes
    ----------
    table : DataFrame indexed by group with ``n, intercept, slope, intercept_se, slope_se,
        r2, resid_sd``. The slope is NaN where the predictor does not vary in the group.
    messages : tuple of Diagnostic
    """

    outcome: str
    predictor: str
    group: str
    table: pd.DataFrame
    messages: tuple[Diagnostic, ...] = ()

    def coefficients_by_group(self) -> pd.DataFrame:
        """Intercept and slope of every group whose line is estimable."""
        return self.table.loc[self.table["slope"].notna(), ["intercept", "slope"]]


def fit_per_group(data: pd.DataFrame, outcome: str, predictor: str, group: str) -> PerGroupFit:
    """One OLS regression of ``outcome`` on ``predictor`` inside each group.

    Parameters
    ----------
    data : DataFrame
    outcome, predictor, group : column names.

    Returns
    -------
    PerGroupFit
    """
    frame, _ = prepare_columns(data, [outcome, predictor, group], [outcome, predictor])
    rows = {}
    for label, part in frame.groupby(group, sort=True):
        y = part[outcome].to_numpy()
        X = np.column_stack([np.ones(len(part)), part[predictor].to_numpy()])
        coef, se, r2, sigma = least_squares(y, X)
        rows[label] = {
            "n": len(part),
            "intercept": coef[0] if not np.isnan(coef[1]) else np.nan,
            "slope": coef[1],
            "intercept_se": se[0],
            "slope_se": se[1],
            "r2": r2,
            "resid_sd": sigma,
        }
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = group
    flat = table.index[table["slope"].isna()].tolist()
    messages = (no_separate_lines(flat, predictor),) if flat else ()
    return PerGroupFit(outcome, predictor, group, table, messages)
