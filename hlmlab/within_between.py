"""Within- and between-group slopes, and the blends of them that one raw-x slope makes.

With a raw level-1 predictor and no group mean in the model, one coefficient does two jobs:
pooled OLS and a random-intercept model both estimate a weighted average of the
within-group slope (x - xbar_j against y inside groups) and the between-group slope (group
means against group means), with different weights (Raudenbush & Bryk 2002, ch. 5;
Snijders & Bosker 2012, sec. 4.6). :func:`slope_blend` computes the two slopes and the
weights at given variance components; :func:`decompose_slope` fits pooled OLS and the
random-intercept model to a data set and sets their slopes beside the blends that reproduce
them exactly. The model that separates the two slopes adds the group mean of x (the
contextual model, the "Macro and micro" lesson). No Streamlit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from hlmlab.errors import ModelDataError
from hlmlab.ols import PooledFit, fit_pooled
from hlmlab.twolevel import MultilevelFit, fit_multilevel

__all__ = ["SlopeBlend", "SlopeDecomposition", "decompose_slope", "slope_blend"]


@dataclass(frozen=True)
class SlopeBlend:
    """The within- and between-group slopes and how a random-intercept model blends them.

    For ``y ~ x + (1 | group)`` with raw x, at variance components ``tau00, sigma2``, the
    generalised least squares slope is exactly

        (W_within * within + W_between * between) / (W_within + W_between)

    with ``within`` the within-group OLS slope, W_within = sum (x_ij - xbar_j)^2 / sigma2
    its precision, ``between`` the regression of group means ybar_j on xbar_j weighted by
    w_j = n_j / (sigma2 + n_j tau00) = 1 / var(ybar_j), and W_between = sum w_j (xbar_j -
    xbar_w)^2 its precision (Raudenbush & Bryk 2002, ch. 5, who state it for balanced data;
    the weights w_j make it exact for unbalanced groups too). With ``tau00 = 0`` the same
    formula gives the pooled OLS slope, weighted by the within and between sums of squares.

    Attributes
    ----------
    within, between : the two slopes (``between`` depends on ``tau00`` through w_j).
    within_se, between_se : their standard errors at these variance components.
    within_weight : W_within / (W_within + W_between).
    tau00, sigma2 : the variance components used.
    """

    within: float
    between: float
    within_se: float
    between_se: float
    within_weight: float
    tau00: float
    sigma2: float

    @property
    def between_weight(self) -> float:
        """1 - ``within_weight``: the share of the between slope in the blend."""
        return 1.0 - self.within_weight

    @property
    def blend(self) -> float:
        """The precision-weighted blend of the two slopes."""
        return self.within_weight * self.within + self.between_weight * self.between


def slope_blend(data: pd.DataFrame, outcome: str, predictor: str, group: str,
                tau00: float, sigma2: float) -> SlopeBlend:
    """Within and between slopes and their precision-weighted blend (see :class:`SlopeBlend`).

    Parameters
    ----------
    data : one row per pupil.
    outcome, predictor, group : column names.
    tau00, sigma2 : variance components, e.g. a random-intercept fit's; ``tau00 = 0`` gives
        the weights of pooled OLS.

    Returns
    -------
    SlopeBlend

    Raises
    ------
    ModelDataError
        When x does not vary within groups or its group means do not vary.
    """
    frame = data[[outcome, predictor, group]].dropna()
    grouped = frame.groupby(group, sort=True)
    n = grouped.size().to_numpy(float)
    x_bar = grouped[predictor].mean().to_numpy()
    y_bar = grouped[outcome].mean().to_numpy()
    dx = (frame[predictor] - grouped[predictor].transform("mean")).to_numpy()
    dy = (frame[outcome] - grouped[outcome].transform("mean")).to_numpy()
    ss_within = float(dx @ dx)
    weights = n / (sigma2 + n * tau00)
    x_w = weights @ x_bar / weights.sum()
    y_w = weights @ y_bar / weights.sum()
    ss_between = float(weights @ (x_bar - x_w) ** 2)
    # Relative to x's own spread: means equal up to rounding are equal.
    spread = float(np.var(frame[predictor].to_numpy(float)))
    if (ss_within <= 1e-12 * spread * len(frame)
            or ss_between <= 1e-12 * spread * float(weights.sum())):
        raise ModelDataError(
            f"{predictor!r} must vary both within groups and between group means to have "
            "a within and a between slope."
        )
    precision_within = ss_within / sigma2
    return SlopeBlend(
        within=float(dx @ dy) / ss_within,
        between=float(weights @ ((x_bar - x_w) * (y_bar - y_w))) / ss_between,
        within_se=float(np.sqrt(1.0 / precision_within)),
        between_se=float(np.sqrt(1.0 / ss_between)),
        within_weight=precision_within / (precision_within + ss_between),
        tau00=float(tau00),
        sigma2=float(sigma2),
    )


@dataclass(frozen=True)
class SlopeDecomposition:
    """Pooled OLS and random-intercept slopes of raw x, and the blends that reproduce them.

    Attributes
    ----------
    outcome, predictor, group : column names.
    pooled : OLS ``outcome ~ predictor``.
    random_intercept : ``outcome ~ predictor + (1 | group)``.
    blend : :func:`slope_blend` at the random-intercept fit's tau00 and sigma2: its
        ``between`` weights each group by the precision of its mean, 1 / var(ybar_j), and
        its ``blend`` equals the random-intercept slope.
    pooled_blend : :func:`slope_blend` at tau00 = 0: ``between`` weights each group by its
        size n_j, and ``blend`` equals the pooled OLS slope.
    """

    outcome: str
    predictor: str
    group: str
    pooled: PooledFit
    random_intercept: MultilevelFit
    blend: SlopeBlend
    pooled_blend: SlopeBlend

    @property
    def within(self) -> float:
        """The within-group slope (the same at any variance components)."""
        return self.blend.within

    @property
    def pooled_slope(self) -> float:
        """The pooled OLS slope."""
        return float(self.pooled.coef[self.predictor])

    @property
    def random_intercept_slope(self) -> float:
        """The random-intercept model's fixed slope."""
        return float(self.random_intercept.fixed[self.predictor])


def decompose_slope(data: pd.DataFrame, outcome: str, predictor: str, group: str,
                    reml: bool = True) -> SlopeDecomposition:
    """Fit pooled OLS and a random intercept on raw ``predictor``; split both slopes.

    Parameters
    ----------
    data : one row per level-1 unit.
    outcome, predictor, group : column names.
    reml : REML (default) or ML for the random-intercept model.

    Returns
    -------
    SlopeDecomposition

    Raises
    ------
    ModelDataError
        When a model cannot be fitted, or x does not vary both within groups and between
        group means (then there are not two slopes to blend).
    """
    frame = data[[outcome, predictor, group]].dropna()
    pooled = fit_pooled(frame, outcome, predictor)
    fit = fit_multilevel(frame, outcome, predictor, group, random_slope=False, reml=reml)
    return SlopeDecomposition(
        outcome, predictor, group, pooled, fit,
        slope_blend(frame, outcome, predictor, group, fit.variance["tau00"],
                    fit.variance["sigma2"]),
        slope_blend(frame, outcome, predictor, group, 0.0, 1.0))
