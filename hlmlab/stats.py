"""Small multilevel statistics: ICC, design effect, effective sample size, shrinkage weights.

Formulas follow Snijders & Bosker (2012), *Multilevel Analysis*, 2nd ed.: the ICC (eq. 3.3),
the design effect 1 + (n - 1) ICC (eq. 3.17), and the reliability of a group's OLS
estimate (eq. 4.9); the random-slope analogue is Raudenbush & Bryk (2002), eq. 3.56.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np
import pandas as pd

__all__ = ["design_effect", "effective_sample_size", "icc", "shrinkage_weights"]


def icc(tau00: float, sigma2: float) -> float:
    """Intraclass correlation tau00 / (tau00 + sigma2).

    Parameters
    ----------
    tau00 : between-group (intercept) variance.
    sigma2 : within-group residual variance.

    Returns
    -------
    float in [0, 1]; NaN when both variances are zero.
    """
    total = tau00 + sigma2
    return float(tau00 / total) if total > 0 else float("nan")


def design_effect(icc_value: float, cluster_size: float) -> float:
    """Kish's design effect 1 + (n - 1) ICC for clusters of size n.

    The factor by which clustering inflates the variance of a mean compared with a simple
    random sample of the same number of units.
    """
    return 1.0 + (cluster_size - 1.0) * icc_value


def effective_sample_size(n_total: float, icc_value: float, cluster_size: float) -> float:
    """The number of independent units worth as much as ``n_total`` clustered units."""
    return n_total / design_effect(icc_value, cluster_size)


def shrinkage_weights(
    data: pd.DataFrame,
    predictor: str | None,
    group: str,
    variance: Mapping[str, float],
    random_slope: bool,
) -> pd.DataFrame:
    """How much weight each group's own OLS estimate gets in its multilevel estimate.

    Random intercept: lambda_j = tau00 / (tau00 + sigma2 / n_j).
    Random slope: the matrix weight Lambda_j = T X_j'X_j (T X_j'X_j + sigma2 I)^-1, which
    equals T (T + sigma2 (X_j'X_j)^-1)^-1 when X_j'X_j is invertible; the table gives its
    diagonal, the weight on the group's own intercept and own slope.

    Parameters
    ----------
    data : the rows that were fitted.
    predictor : the level-1 predictor (None for the empty model).
    group : grouping column.
    variance : mapping with ``tau00, tau11, tau01, sigma2`` (as ``MultilevelFit.variance``).
    random_slope : whether the model has a random slope.

    Returns
    -------
    DataFrame indexed by group with ``n, lambda_intercept`` and, for random-slope models,
    ``lambda_slope``. 1 means no shrinkage (the group's own line), 0 complete pooling.
    """
    sigma2 = variance["sigma2"]
    rows = {}
    for label, part in data.groupby(group, sort=True):
        n = len(part)
        if random_slope:
            x = part[predictor].to_numpy(dtype=float)
            xtx = np.array([[n, x.sum()], [x.sum(), x @ x]])
            tau = np.array(
                [[variance["tau00"], variance["tau01"]], [variance["tau01"], variance["tau11"]]]
            )
            weight = tau @ xtx @ np.linalg.inv(tau @ xtx + sigma2 * np.eye(2))
            rows[label] = {"n": n, "lambda_intercept": weight[0, 0], "lambda_slope": weight[1, 1]}
        else:
            tau00 = variance["tau00"]
            rows[label] = {"n": n, "lambda_intercept": tau00 / (tau00 + sigma2 / n)}
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = group
    return table
