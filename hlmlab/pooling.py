"""The three families every lesson contrasts: no, complete and partial pooling, and the
lines they draw."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from hlmlab.diagnostics import Diagnostic, not_fitted
from hlmlab.errors import ModelDataError
from hlmlab.ols import PerGroupFit, PooledFit, fit_per_group, fit_pooled
from hlmlab.shrinkage import shrinkage_weights
from hlmlab.twolevel import MultilevelFit, fit_multilevel

__all__ = ["PoolingComparison", "compare_pooling", "fitted_lines"]


def fitted_lines(
    fits: Mapping[str, PooledFit | PerGroupFit | MultilevelFit],
    x_ranges: Mapping[object, tuple[float, float]],
    points: int = 2,
) -> pd.DataFrame:
    """Evaluate every fit's lines on an x grid: the one place lines are made.

    Parameters
    ----------
    fits : mapping of family name (e.g. ``"pooled"``) to a fit with ``coefficients_by_group``.
    x_ranges : mapping of group label to (x_min, x_max); the key ``"all"`` gives the range of
        a pooled line. A group missing from the mapping gets the ``"all"`` range.
    points : grid points per line (2 suffices for straight lines).

    Returns
    -------
    DataFrame with columns ``family, group, x, y``, one row per grid point.
    """
    pieces = []
    steps = np.linspace(0.0, 1.0, points)
    for family, fit in fits.items():
        coefs = fit.coefficients_by_group()
        if coefs.empty:
            continue
        everywhere = x_ranges["all"]
        ranges = np.array([x_ranges.get(label, everywhere) for label in coefs.index], dtype=float)
        # One row per (group, grid point), built with arrays: a frame per group cost ~1 ms
        # each, a tenth of a second for fifty schools.
        x = ranges[:, :1] + (ranges[:, 1:] - ranges[:, :1]) * steps
        y = (coefs["intercept"].to_numpy(float)[:, None]
             + coefs["slope"].to_numpy(float)[:, None] * x)
        pieces.append(pd.DataFrame({
            "family": family,
            "group": np.repeat(coefs.index.to_numpy(dtype=object), points),
            "x": x.ravel(), "y": y.ravel()}))
    if not pieces:
        return pd.DataFrame(columns=["family", "group", "x", "y"])
    return pd.concat(pieces, ignore_index=True)


@dataclass(frozen=True)
class _LinesAtGroupMeans:
    """A multilevel fit's group lines with its covariates held at each group's mean: the
    line of the predictor a group's own covariate values give it (a level-2 predictor is
    one value per group, so its mean is that value)."""

    coefficients: pd.DataFrame

    @classmethod
    def of(cls, fit: MultilevelFit, data: pd.DataFrame) -> "_LinesAtGroupMeans":
        covariates = list(fit.covariates)
        means = data.groupby(fit.group)[covariates].mean().reindex(fit.blups.index)
        lines = fit.coefficients_by_group().copy()
        effects = fit.fixed[covariates].to_numpy(float)
        lines["intercept"] = lines["intercept"] + means.to_numpy(float) @ effects
        return cls(lines)

    def coefficients_by_group(self) -> pd.DataFrame:
        return self.coefficients


@dataclass(frozen=True)
class PoolingComparison:
    """Pooled, per-group and multilevel fits of one data selection, with their lines.

    Attributes
    ----------
    pooled, per_group : the two OLS families.
    multilevel : MultilevelFit, or None when the data cannot support it (``messages`` says
        why).
    messages : why a part is missing: a :class:`hlmlab.diagnostics.Diagnostic` of severity
        ``"error"`` when there is no multilevel fit; empty otherwise (each fit carries its own
        notes).
    shrinkage : per-group empirical Bayes weights and the lines they give (see
        :func:`hlmlab.shrinkage.shrinkage_weights`), or None without a usable multilevel fit.
    lines : every family's lines over each group's x range (``fitted_lines``); the
        multilevel lines are left out when the fit is not usable.
    """

    pooled: PooledFit
    per_group: PerGroupFit
    multilevel: MultilevelFit | None
    messages: tuple[Diagnostic, ...]
    shrinkage: pd.DataFrame | None
    lines: pd.DataFrame


def compare_pooling(
    data: pd.DataFrame,
    outcome: str,
    predictor: str,
    group: str,
    random_slope: bool = True,
    reml: bool = True,
    covariates: Sequence[str] = (),
) -> PoolingComparison:
    """Fit the three families every lesson contrasts: no, complete and partial pooling.

    Parameters
    ----------
    data : DataFrame
    outcome, predictor, group : column names.
    random_slope, reml : passed to :func:`hlmlab.twolevel.fit_multilevel`.
    covariates : further fixed effects of the multilevel model only (e.g. a level-2
        predictor); its line for a group is drawn at the group's mean of each.

    Returns
    -------
    PoolingComparison

    Raises
    ------
    ModelDataError
        When not even the pooled line can be fitted (no rows, or a constant predictor).
    """
    pooled = fit_pooled(data, outcome, predictor)
    per_group = fit_per_group(data, outcome, predictor, group)
    multilevel, messages, shrinkage = None, (), None
    try:
        multilevel = fit_multilevel(data, outcome, predictor, group, random_slope, reml,
                                    covariates=covariates)
    except ModelDataError as exc:
        messages = (not_fitted("multilevel model", str(exc)),)
    fits: dict = {"pooled": pooled, "per_group": per_group}
    if multilevel is not None and multilevel.usable:
        fits["multilevel"] = (_LinesAtGroupMeans.of(multilevel, data) if multilevel.covariates
                              else multilevel)
        shrinkage = shrinkage_weights(data, multilevel)
    x = data[predictor].astype(float)
    x_ranges = {"all": (float(x.min()), float(x.max()))}
    x_ranges.update(
        {g: (float(lo), float(hi))
         for g, (lo, hi) in x.groupby(data[group]).agg(["min", "max"]).iterrows()}
    )
    return PoolingComparison(
        pooled=pooled,
        per_group=per_group,
        multilevel=multilevel,
        messages=messages,
        shrinkage=shrinkage,
        lines=fitted_lines(fits, x_ranges),
    )
