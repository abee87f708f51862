"""Turn fits into what a student reads: LaTeX equations and display tables. No Streamlit.

Every number here comes straight from a fit object (or a ranking made from one); nothing is
recomputed, so what the reference tests check is what the page shows. Every display table
of a fit lives here, whichever lesson shows it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Mapping

import numpy as np
import pandas as pd

from hlmlab.diagnostics import Diagnostic
from hlmlab.ols import PerGroupFit, PooledFit
from hlmlab.tables import DisplayTable, display_number, display_table
from hlmlab.threelevel import ThreeLevelFit
from hlmlab.twolevel import MultilevelFit

__all__ = [
    "RANKING_COLUMNS",
    "RANK_CHANGE_COLUMNS",
    "FitCode",
    "FitSummary",
    "fit_code",
    "fit_summary",
    "fixed_effects_table",
    "group_table",
    "model_latex",
    "rank_changes_table",
    "ranking_table",
    "three_level_tables",
    "variance_display",
    "variance_table",
]


def _tex_name(name: str) -> str:
    """A column name as upright LaTeX text, TeX's special characters escaped or dropped."""
    kept = "".join(ch for ch in name if ch not in "\\^~")
    escaped = re.sub(r"([{}$&#_%])", r"\\\1", kept)
    return r"\text{" + escaped + "}"


def _num(value: float, digits: int = 2) -> str:
    return f"{value:.{digits}f}"


def model_latex(fit: MultilevelFit, digits: int = 2) -> str:
    """The fitted model as a LaTeX ``aligned`` block with the estimates filled in.

    Parameters
    ----------
    fit : MultilevelFit
    digits : decimals shown.

    Returns
    -------
    str for ``st.latex``.
    """
    y = _tex_name(fit.outcome) + "_{ij}"
    b0 = _num(fit.fixed["Intercept"], digits)
    lines = []
    if fit.predictor:
        x = _tex_name(fit.predictor) + "_{ij}"
        b1 = fit.fixed[fit.predictor]
        sign = "+" if b1 >= 0 else "-"
        fixed_part = f"{b0} {sign} {_num(abs(b1), digits)}\\,{x}"
    else:
        x = ""
        fixed_part = b0
    for cov in fit.covariates:
        c = fit.fixed[cov]
        fixed_part += f" {'+' if c >= 0 else '-'} {_num(abs(c), digits)}\\,{_tex_name(cov)}_{{ij}}"
    random_part = "u_{0j}" + (f" + u_{{1j}}\\,{x}" if fit.random_slope else "")
    # Two lines so the equation fits a narrow column on a projector.
    lines.append(f"{y} &= {fixed_part}")
    lines.append(f"&\\quad + {random_part} + e_{{ij}}")
    v = fit.variance
    if fit.random_slope:
        lines.append(
            r"\begin{pmatrix}u_{0j}\\u_{1j}\end{pmatrix} &\sim N\!\left(\mathbf{0},"
            r"\begin{pmatrix}" + f"{_num(v['tau00'])} & {_num(v['tau01'])}\\\\"
            f"{_num(v['tau01'])} & {_num(v['tau11'])}" + r"\end{pmatrix}\right)"
        )
    else:
        lines.append(f"u_{{0j}} &\\sim N(0,\\ {_num(v['tau00'])})")
    lines.append(f"e_{{ij}} &\\sim N(0,\\ {_num(v['sigma2'])})")
    return "\\begin{aligned}" + "\\\\".join(lines) + "\\end{aligned}"


def fixed_effects_table(fit: MultilevelFit, pooled: PooledFit | None = None) -> pd.DataFrame:
    """Fixed effects with lme4-style SEs, statsmodels' full-information SEs and t values.

    Parameters
    ----------
    fit : MultilevelFit
    pooled : optional PooledFit shown alongside for comparison.

    Returns
    -------
    DataFrame indexed by term.
    """
    table = pd.DataFrame(
        {
            "estimate": fit.fixed,
            "SE (lme4: fixed-effects block)": fit.fixed_se,
            "t": fit.fixed / fit.fixed_se,
        }
    )
    if fit.fixed_se_full_information is not None:
        table["SE (statsmodels bse_fe: full information)"] = fit.fixed_se_full_information
    if pooled is not None:
        table["pooled OLS estimate"] = pooled.coef.reindex(table.index)
        table["pooled OLS SE"] = pooled.se.reindex(table.index)
    table.index.name = "term"
    return table


def variance_table(fit: MultilevelFit) -> pd.DataFrame:
    """Variance components, ICC and fit statistics: ``value`` (float) and ``shown`` (text)."""
    v = fit.variance
    rows = [
        ("tau00: variance of intercepts between groups", v["tau00"]),
    ]
    if fit.random_slope:
        rows += [
            ("tau11: variance of slopes between groups", v["tau11"]),
            ("tau01: intercept-slope covariance", v["tau01"]),
            ("intercept-slope correlation", fit.correlation),
        ]
    rows += [
        ("sigma2: residual variance within groups", v["sigma2"]),
        (
            "ICC: tau00 / (tau00 + sigma2)" + (" at predictor = 0" if fit.random_slope else ""),
            fit.icc,
        ),
        (("REML " if fit.reml else "") + "log-likelihood", fit.loglik),
        ("AIC", fit.aic),
        ("BIC", fit.bic),
        ("rows", fit.n_obs),
        ("groups", fit.n_groups),
    ]
    table = pd.DataFrame(rows, columns=["quantity", "value"]).set_index("quantity")
    table["shown"] = [display_number(v) for v in table["value"]]
    return table


def variance_display(fit: MultilevelFit) -> DisplayTable:
    """:func:`variance_table` as shown beside a chart: the quantities and their ``shown``
    text under the heading "value"."""
    return display_table(variance_table(fit)[["shown"]], columns={"shown": "value"},
                         label="Variance components and fit statistics")


@dataclass(frozen=True)
class FitSummary:
    """What a lesson shows beside its chart about a pooling comparison, in final form.

    Attributes
    ----------
    messages : the comparison's notes (why there is no multilevel fit), then the fit's own.
    latex : the fitted model as LaTeX, or None when there is no usable fit.
    variance : :func:`variance_display` of the fit, or None when there is no usable fit.
    """

    messages: tuple[Diagnostic, ...]
    latex: str | None
    variance: DisplayTable | None


def fit_summary(comparison) -> FitSummary:
    """The :class:`FitSummary` of a :class:`hlmlab.pooling.PoolingComparison` (anything with
    ``multilevel`` and ``messages``)."""
    fit = comparison.multilevel
    messages = tuple(comparison.messages) + (tuple(fit.messages) if fit is not None else ())
    if fit is None or not fit.usable:
        return FitSummary(messages, None, None)
    return FitSummary(messages, model_latex(fit), variance_display(fit))


@dataclass(frozen=True)
class FitCode:
    """The code that reproduces a fit, as the code tabs show it.

    Attributes
    ----------
    code : the statsmodels call (Python).
    lme4 : the lme4 call (R).
    optimizer_note : how the estimates were found and checked ("" when there is nothing
        to say).
    pooled_code : the pooled OLS line's statsmodels call, when the lesson shows it.
    """

    code: str
    lme4: str
    optimizer_note: str = ""
    pooled_code: str | None = None


def fit_code(fit, pooled: PooledFit | None = None) -> FitCode:
    """The :class:`FitCode` of a fit (anything with ``code`` and ``lme4``) and, optionally,
    of the pooled line shown beside it."""
    return FitCode(fit.code, fit.lme4, getattr(fit, "optimizer_note", "") or "",
                   pooled.code if pooled is not None else None)


def group_table(
    per_group: PerGroupFit, fit: MultilevelFit | None, shrinkage: pd.DataFrame | None
) -> pd.DataFrame:
    """Per group: n, own OLS line, multilevel line and the shrinkage weight(s).

    Parameters
    ----------
    per_group : PerGroupFit
    fit : MultilevelFit or None (not usable fits are left out)
    shrinkage : from :func:`hlmlab.stats.shrinkage_weights`, or None

    Returns
    -------
    DataFrame indexed by group.
    """
    table = pd.DataFrame(
        {
            "n": per_group.table["n"],
            "OLS intercept": per_group.table["intercept"],
            "OLS slope": per_group.table["slope"],
        }
    )
    if fit is not None:
        table["multilevel intercept"] = fit.blups["intercept"].reindex(table.index)
        table["multilevel slope"] = fit.blups["slope"].reindex(table.index)
    if shrinkage is not None:
        table["lambda (intercept)"] = shrinkage["lambda_intercept"].reindex(table.index)
        if "lambda_slope" in shrinkage:
            table["lambda (slope)"] = shrinkage["lambda_slope"].reindex(table.index)
    return table.replace([np.inf, -np.inf], np.nan)


def three_level_tables(three: ThreeLevelFit,
                       level_names: Mapping[str, str] | None = None
                       ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A three-level model as two tables.

    Parameters
    ----------
    three : ThreeLevelFit
    level_names : words for the levels, keyed by ``three.group``, ``three.subgroup`` and
        ``"residual"`` (default: the column names and "residual").

    Returns
    -------
    (summary, fixed) : ``summary`` indexed by ``<group> variance, <subgroup> variance,
        <residual> (residual) variance, [REML ]log-likelihood, records, <subgroup>s,
        <group>s`` with the number in ``value`` and as shown in ``shown`` (four decimals,
        counts whole, both with thousands separators); ``fixed`` indexed by term with
        ``estimate, SE``.
    """
    names = {three.group: three.group, three.subgroup: three.subgroup, "residual": "residual",
             **(level_names or {})}
    top, middle, bottom = names[three.group], names[three.subgroup], names["residual"]
    residual_row = ("residual variance" if bottom == "residual"
                    else f"{bottom} (residual) variance")
    estimates = [three.variance[three.group], three.variance[three.subgroup],
                 three.variance["residual"], three.loglik]
    counts = [three.n_obs, three.n_subgroups, three.n_groups]
    summary = pd.DataFrame(
        {"value": estimates + counts},
        index=[f"{top} variance", f"{middle} variance", residual_row,
               ("REML " if three.reml else "") + "log-likelihood", "records", f"{middle}s",
               f"{top}s"])
    summary["shown"] = ([f"{v:,.4f}" for v in summary["value"].iloc[:len(estimates)]]
                        + [f"{int(v):,d}" for v in summary["value"].iloc[len(estimates):]])
    return summary, pd.DataFrame({"estimate": three.fixed, "SE": three.fixed_se})


RANKING_COLUMNS = {
    "n": "n", "raw_mean": "raw mean", "naive_rank": "rank by raw mean",
    "effect": "effect (mode)", "lower": "95% lower", "upper": "95% upper", "rank": "rank",
    "rank_low": "rank range from", "rank_high": "rank range to",
}
RANK_CHANGE_COLUMNS = {
    "rank_unadjusted": "rank, not adjusted", "rank_adjusted": "rank, adjusted",
    "change": "places moved up", "moved": "places moved",
}


def ranking_table(ranking: pd.DataFrame) -> pd.DataFrame:
    """A :func:`hlmlab.ranking.rank_groups` table (with raw means) as students read it: the
    columns of ``RANKING_COLUMNS`` in that order, under their words."""
    return ranking[list(RANKING_COLUMNS)].rename(columns=RANKING_COLUMNS)


def rank_changes_table(changes: pd.DataFrame, top: int = 8) -> pd.DataFrame:
    """The ``top`` rows of a :func:`hlmlab.ranking.rank_changes` table (the groups that move
    most), with the column names of ``RANK_CHANGE_COLUMNS``."""
    return changes.head(top).rename(columns=RANK_CHANGE_COLUMNS)
