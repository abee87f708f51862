"""Ranking groups (schools, hospitals, classes) by their effect, with honest intervals.

Conventions (Goldstein & Spiegelhalter 1996, "League tables and their limitations", JRSS A
159, 385-443): a group's effect is its conditional mode u0_j with the 95% interval
u0_j ± 1.96 × conditional SD (lme4's ``ranef(condVar = TRUE)``); rank 1 is the highest
effect; the plausible range of a group's rank comes from seeded draws of every group's effect
from its conditional distribution, ranked draw by draw. Nothing here is specific to one
lesson: any two-level fit with conditional modes can be ranked.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["Z95", "rank_changes", "rank_groups", "ranking_summary"]

Z95 = 1.959963984540054  # the standard normal 97.5% quantile


def _normal_quantile(p: float) -> float:
    if abs(p - 0.975) < 1e-12:
        return Z95
    from scipy.stats import norm

    return float(norm.ppf(p))


def rank_groups(fit, raw_means: pd.Series | None = None, draws: int = 2000, seed: int = 1996,
                level: float = 0.95) -> pd.DataFrame:
    """Rank groups by their effect, with intervals and the plausible range of each rank.

    Parameters
    ----------
    fit : a :class:`hlmlab.twolevel.MultilevelFit` (anything with ``blups`` holding each
        group's conditional mode ``u0``, conditional SD ``u0_sd`` and size ``n``): the
        effect at predictor 0, i.e. at the predictor's mean when it is centred.
    raw_means : optional Series of each group's raw mean outcome, for the naive ranking.
    draws, seed : number and seed of the joint draws used for the rank ranges.
    level : coverage of the effect intervals and of the rank ranges.

    Returns
    -------
    DataFrame indexed by group, sorted by effect (highest first), with ``n, effect, sd,
    lower, upper, rank`` (1 = highest effect), ``rank_low, rank_high`` (the central ``level``
    range of the group's rank over the draws), ``covers_average`` (the interval holds 0, the
    average group), ``position`` (``"above"``, ``"below"`` or ``"average"``) and, with
    ``raw_means``, ``raw_mean, naive_rank``.
    """
    blups = fit.blups
    z = _normal_quantile(0.5 + level / 2)
    table = pd.DataFrame({
        "n": blups["n"].astype(int),
        "effect": blups["u0"].astype(float),
        "sd": blups["u0_sd"].astype(float),
    })
    table["lower"] = table["effect"] - z * table["sd"]
    table["upper"] = table["effect"] + z * table["sd"]
    table["rank"] = table["effect"].rank(ascending=False, method="min").astype(int)
    rng = np.random.default_rng(seed)
    sampled = (table["effect"].to_numpy()
               + rng.standard_normal((draws, len(table))) * table["sd"].to_numpy())
    # Rank within each draw: 1 for the highest effect.
    ranks = (-sampled).argsort(axis=1).argsort(axis=1) + 1
    tail = (1 - level) / 2
    table["rank_low"] = np.quantile(ranks, tail, axis=0, method="inverted_cdf").astype(int)
    table["rank_high"] = np.quantile(ranks, 1 - tail, axis=0, method="inverted_cdf").astype(int)
    table["covers_average"] = (table["lower"] <= 0) & (table["upper"] >= 0)
    table["position"] = np.where(table["lower"] > 0, "above",
                                 np.where(table["upper"] < 0, "below", "average"))
    if raw_means is not None:
        table["raw_mean"] = pd.Series(raw_means, dtype=float).reindex(table.index)
        table["naive_rank"] = table["raw_mean"].rank(ascending=False, method="min").astype(int)
    table.index.name = blups.index.name
    return table.sort_values(["effect"], ascending=False, kind="stable")


def ranking_summary(ranking: pd.DataFrame) -> dict:
    """Counts a student reads off the caterpillar plot.

    Returns
    -------
    dict with ``groups``, ``overlap_average`` (intervals holding 0), ``above``, ``below``,
    ``median_rank_span`` and ``max_rank_span``
    (``rank_high - rank_low``), and ``widest_group`` (the group whose rank can move most).
    """
    span = ranking["rank_high"] - ranking["rank_low"]
    widest = span.idxmax() if len(span) else None
    return {
        "groups": int(len(ranking)),
        "overlap_average": int(ranking["covers_average"].sum()),
        "above": int((ranking["position"] == "above").sum()),
        "below": int((ranking["position"] == "below").sum()),
        "median_rank_span": float(span.median()) if len(span) else float("nan"),
        "max_rank_span": int(span.max()) if len(span) else 0,
        "widest_group": widest,
    }


def rank_changes(adjusted: pd.DataFrame, unadjusted: pd.DataFrame) -> pd.DataFrame:
    """How each group's rank changes when an adjustment (e.g. for intake) is added.

    Returns
    -------
    DataFrame indexed by group with ``rank_unadjusted, rank_adjusted, change`` (positive =
    moves up, towards rank 1, once the adjustment is made) and ``moved`` (``|change|``),
    sorted by ``moved``, largest first.
    """
    table = pd.DataFrame({"rank_unadjusted": unadjusted["rank"],
                          "rank_adjusted": adjusted["rank"].reindex(unadjusted.index)}).dropna()
    table = table.astype(int)
    table["change"] = table["rank_unadjusted"] - table["rank_adjusted"]
    table["moved"] = table["change"].abs()
    return table.sort_values(["moved", "rank_adjusted"], ascending=[False, True], kind="stable")
