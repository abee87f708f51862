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
from hlmlab.within_between import SlopeDecomposition

__all__ = [
    "RANKING_COLUMNS",
    "RANK_CHANGE_COLUMNS",
    "FitCode",
    "FitSummary",
    "THREE_LEVEL_SYMBOLS",
    "fit_code",
    "fit_summary",
    "fixed_effects_table",
    "group_table",
    "icc_label",
    "model_latex",
    "rank_changes_table",
    "ranking_table",
    "shrinkage_latex",
    "slope_decomposition_table",
    "three_level_latex",
    "three_level_tables",
    "variance_display",
    "variance_table",
    "weight_matrix_table",
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


def icc_label(fit: MultilevelFit) -> str:
    """The name of ``fit.icc`` as a student must read it.

    tau00 / (tau00 + sigma2) is the intraclass correlation only in the empty model. With
    predictors it is the residual (conditional) ICC: the share between groups of the
    variance the predictors leave; with a random slope, also only where the predictor is 0
    (Snijders & Bosker 2012, sec. 3.3 and 5.1).
    """
    if not fit.predictor and not fit.covariates:
        return "ICC: tau00 / (tau00 + sigma2)"
    label = "residual ICC (given the predictors): tau00 / (tau00 + sigma2)"
    if fit.random_slope:
        label += f", at {fit.predictor} = 0"
    return label


def variance_table(fit: MultilevelFit) -> pd.DataFrame:
    """Variance components, ICC and fit statistics: ``value`` (float) and ``shown`` (text).

    The ICC row is named by :func:`icc_label`: a model with predictors shows the residual
    (conditional) ICC, and says so.
    """
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
        (icc_label(fit), fit.icc),
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
    """Per group: n, own OLS line, what the multilevel line is made of, and that line.

    Random intercept: the group's means, its intercept under the common slope
    (``mean y - g10 mean x``), lambda_j and the multilevel intercept, which equals
    ``lambda_j * common-slope intercept + (1 - lambda_j) * g00`` (the slope is the common
    one). Random slope: the reliabilities of the group's own OLS intercept and slope, named
    as such; the matrix weight Lambda_j that makes its line is in :func:`weight_matrix_table`
    and :func:`shrinkage_latex`.

    Parameters
    ----------
    per_group : PerGroupFit
    fit : MultilevelFit or None (not usable fits are left out)
    shrinkage : from :func:`hlmlab.shrinkage.shrinkage_weights` of ``fit``, or None

    Returns
    -------
    DataFrame indexed by group: ``n, OLS intercept, OLS slope``, then for a random
    intercept ``mean <outcome>, mean <predictor>, common-slope intercept, λ``, for a random
    slope ``reliability (intercept), reliability (slope)``, then ``multilevel intercept,
    multilevel slope`` (the lines drawn: ``fit.blups``).
    """
    table = pd.DataFrame(
        {
            "n": per_group.table["n"],
            "OLS intercept": per_group.table["intercept"],
            "OLS slope": per_group.table["slope"],
        }
    )
    if fit is not None and shrinkage is not None:
        weights = shrinkage.reindex(table.index)
        if fit.random_slope:
            table["reliability (intercept)"] = weights["reliability_intercept"]
            table["reliability (slope)"] = weights["reliability_slope"]
        else:
            outcome = (f"mean {fit.outcome}" if not fit.covariates
                       else f"mean {fit.outcome} less the covariates' part")
            table[outcome] = weights["y_mean"]
            if fit.predictor:
                table[f"mean {fit.predictor}"] = weights["x_mean"]
                table["common-slope intercept"] = weights["common_slope_intercept"]
            table["λ"] = weights["lambda"]
    if fit is not None:
        table["multilevel intercept"] = fit.blups["intercept"].reindex(table.index)
        table["multilevel slope"] = fit.blups["slope"].reindex(table.index)
    return table.replace([np.inf, -np.inf], np.nan)


def weight_matrix_table(shrinkage: pd.DataFrame) -> pd.DataFrame:
    """A random-slope fit's matrix weight Lambda_j per group, beside the reliabilities.

    Parameters
    ----------
    shrinkage : :func:`hlmlab.shrinkage.shrinkage_weights` of a random-slope fit.

    Returns
    -------
    DataFrame indexed by group: ``n``, the four entries of Lambda_j (``Λ: intercept ← own
    slope`` is row 0, column 1: how much of the group's own OLS slope goes into its
    multilevel intercept; and so on) and the two reliabilities, which are not its diagonal.
    Groups without an OLS line of their own have no Lambda_j (NaN).
    """
    return pd.DataFrame({
        "n": shrinkage["n"],
        "Λ: intercept ← own intercept": shrinkage["Lambda_00"],
        "Λ: intercept ← own slope": shrinkage["Lambda_01"],
        "Λ: slope ← own intercept": shrinkage["Lambda_10"],
        "Λ: slope ← own slope": shrinkage["Lambda_11"],
        "reliability (intercept)": shrinkage["reliability_intercept"],
        "reliability (slope)": shrinkage["reliability_slope"],
    })


#: Between the lines of an ``aligned`` block (a newline too, so a test can split the lines
#: without splitting a matrix's rows).
_LINE_BREAK = "\\\\\n"


def _signed(value: float, digits: int) -> str:
    """`` + 1.23`` or `` - 1.23``: a term added to what precedes it."""
    return f" {'-' if value < 0 else '+'} {abs(value):.{digits}f}"


def _column(*values: str) -> str:
    return r"\begin{pmatrix}" + r"\\ ".join(values) + r"\end{pmatrix}"


def _matrix(m: np.ndarray, digits: int) -> str:
    rows = [" & ".join(f"{v:.{digits}f}" for v in row) for row in m]
    return r"\begin{pmatrix}" + r"\\ ".join(rows) + r"\end{pmatrix}"


def shrinkage_latex(fit: MultilevelFit, shrinkage: pd.DataFrame, group,
                    digits: int = 2, weight_digits: int = 3) -> str:
    """How one group's multilevel line is made: the formula, then its numbers plugged in.

    Random intercept: beta*_0j = lambda_j (ybar_j - g10 xbar_j) + (1 - lambda_j) g00.
    Random slope, a group with its own OLS line: beta*_j = Lambda_j betahat_j + (I -
    Lambda_j) gamma; without one (x constant at c_j): beta*_j = gamma + w_j (ybar_j - g00 -
    g10 c_j), w_j = T z_j / (z_j'T z_j + sigma2 / n_j). See :mod:`hlmlab.shrinkage`.

    Parameters
    ----------
    fit : the fit.
    shrinkage : :func:`hlmlab.shrinkage.shrinkage_weights` of ``fit``.
    group : the group's label (an index value of ``shrinkage``).
    digits, weight_digits : decimals of values and of weights.

    Returns
    -------
    str for ``st.latex``: the formula, the group's numbers (rounded as shown), and the
    group's multilevel line as the table shows it (``fit.blups``).
    """
    row = shrinkage.loc[group]
    gamma = fit.fixed
    value = f"{{:.{digits}f}}".format
    weight = f"{{:.{weight_digits}f}}".format
    which = r"\quad(j = " + _tex_name(f"{fit.group} {group}") + ")"
    if not fit.random_slope:
        lam, g00 = row["lambda"], value(gamma["Intercept"])
        if fit.predictor:
            symbolic = (r"\lambda_j\,(\bar y_j - \hat\gamma_{10}\,\bar x_j)"
                        r" + (1 - \lambda_j)\,\hat\gamma_{00}")
            inside = (value(row["y_mean"]) + _signed(-gamma[fit.predictor], digits)
                      + r" \times " + value(row["x_mean"]))
            steps = [rf"{weight(lam)} \times ({inside}) + {weight(1 - lam)} \times {g00}",
                     rf"{weight(lam)} \times {value(row['common_slope_intercept'])}"
                     rf" + {weight(1 - lam)} \times {g00}"]
        else:
            symbolic = r"\lambda_j\,\bar y_j + (1 - \lambda_j)\,\hat\gamma_{00}"
            steps = [rf"{weight(lam)} \times {value(row['y_mean'])}"
                     rf" + {weight(1 - lam)} \times {g00}"]
        lines = [r"\hat\beta^{*}_{0j} &= " + symbolic, *("&= " + s for s in steps),
                 "&= " + value(fit.blups.loc[group, "intercept"]) + which]
        return r"\begin{aligned}" + _LINE_BREAK.join(lines) + r"\end{aligned}"
    fixed = _column(value(gamma["Intercept"]), value(gamma[fit.predictor]))
    result = _column(value(fit.blups.loc[group, "intercept"]),
                     value(fit.blups.loc[group, "slope"]))
    left = r"\begin{pmatrix}\beta^{*}_{0j}\\ \beta^{*}_{1j}\end{pmatrix}"
    if row["full_rank"]:
        lam = np.array([[row["Lambda_00"], row["Lambda_01"]],
                        [row["Lambda_10"], row["Lambda_11"]]])
        own = _column(value(row["own_intercept"]), value(row["own_slope"]))
        lines = [left + r" &= \Lambda_j \begin{pmatrix}\hat\beta_{0j}\\ \hat\beta_{1j}"
                 r"\end{pmatrix} + (I - \Lambda_j) \begin{pmatrix}\hat\gamma_{00}\\ "
                 r"\hat\gamma_{10}\end{pmatrix}",
                 "&= " + _matrix(lam, weight_digits) + own + " + "
                 + _matrix(np.eye(2) - lam, weight_digits) + fixed,
                 "&= " + result + which]
    else:
        moves = _column(weight(row["weight_intercept"]), weight(row["weight_slope"]))
        inside = (value(row["y_mean"]) + _signed(-gamma["Intercept"], digits)
                  + _signed(-gamma[fit.predictor], digits) + r" \times " + value(row["x_mean"]))
        lines = [left + r" &= \hat\gamma + \frac{T z_j}{z_j' T z_j + \sigma^2 / n_j}\,"
                 r"(\bar y_j - \hat\gamma_{00} - \hat\gamma_{10}\,c_j),\quad z_j = (1, c_j)",
                 "&= " + fixed + " + " + moves + r" \times (" + inside + ")",
                 "&= " + result + which]
    return r"\begin{aligned}" + _LINE_BREAK.join(lines) + r"\end{aligned}"


def slope_decomposition_table(decomposition: SlopeDecomposition,
                              group_word: str = "group") -> pd.DataFrame:
    """The within and between slopes, and the blends pooled OLS and a random intercept are.

    Parameters
    ----------
    decomposition : :func:`hlmlab.within_between.decompose_slope`.
    group_word : what a group is called on the page (``"school"``).

    Returns
    -------
    DataFrame indexed by slope with ``estimate`` and ``how it is made``; for the pooled and
    random-intercept slopes that is ``w × within + (1 − w) × between = blend`` with the
    numbers (weights to three decimals, slopes to two), so a student can check the sum.
    """
    d = decomposition
    plural = f"{group_word}s"

    def recipe(blend) -> str:
        return (f"{blend.within_weight:.3f} × {blend.within:.2f} + "
                f"{blend.between_weight:.3f} × {blend.between:.2f} = {blend.blend:.2f}")

    rows = [
        (f"within {plural}", d.within,
         f"{d.outcome} on {d.predictor} minus its {group_word} mean, inside {plural}"),
        (f"between {plural}, weighted by size", d.pooled_blend.between,
         f"{group_word} mean {d.outcome} on {group_word} mean {d.predictor}, "
         "each weighted by n_j"),
        (f"between {plural}, weighted by precision", d.blend.between,
         f"{group_word} mean {d.outcome} on {group_word} mean {d.predictor}, each weighted by "
         "1 / var(its mean) = n_j / (sigma2 + n_j tau00)"),
        ("pooled OLS", d.pooled_slope, recipe(d.pooled_blend)),
        ("random intercept (fixed slope)", d.random_intercept_slope, recipe(d.blend)),
    ]
    return pd.DataFrame(rows, columns=["slope", "estimate", "how it is made"]).set_index("slope")


#: One set of subscripts for every three-level model: i a level-1 unit (an occasion), j a
#: level-2 unit (a pupil), k a level-3 unit (a school); v_k, u_jk and e_ijk their random
#: terms (Goldstein's notation; Snijders & Bosker 2012, sec. 4.9, write V_0k, U_0jk, R_ijk).
#: Key -> (LaTeX, plain text). The tables, the LaTeX and the lessons' prose use these.
THREE_LEVEL_SYMBOLS = {"group": ("v_{k}", "v_k"), "subgroup": ("u_{jk}", "u_jk"),
                       "residual": ("e_{ijk}", "e_ijk")}


def three_level_latex(three: ThreeLevelFit, level_names: Mapping[str, str] | None = None,
                      digits: int = 2) -> str:
    """The fitted three-level model as a LaTeX ``aligned`` block, estimates filled in,
    in the subscripts of ``THREE_LEVEL_SYMBOLS`` (as :func:`three_level_tables` names its
    rows).

    Parameters
    ----------
    three : ThreeLevelFit
    level_names : words for the levels, as :func:`three_level_tables` takes them.
    digits : decimals shown.

    Returns
    -------
    str for ``st.latex``.
    """
    names = {three.group: three.group, three.subgroup: three.subgroup, "residual": "residual",
             **(level_names or {})}
    fixed = three.fixed
    terms = _num(fixed["Intercept"], digits)
    for term in fixed.index.drop("Intercept"):
        terms += _signed(fixed[term], digits) + r"\," + _tex_name(term) + "_{ijk}"
    v, u, e = (THREE_LEVEL_SYMBOLS[key][0] for key in ("group", "subgroup", "residual"))
    lines = [_tex_name(three.outcome) + "_{ijk} &= " + terms,
             rf"&\quad + {v} + {u} + {e}"]
    for symbol, key in ((v, three.group), (u, three.subgroup), (e, "residual")):
        lines.append(rf"{symbol} &\sim N(0,\ {_num(three.variance[key], digits)})"
                     + r"\quad" + _tex_name(names[key]))
    return r"\begin{aligned}" + _LINE_BREAK.join(lines) + r"\end{aligned}"


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
    (summary, fixed) : ``summary`` indexed by ``<group> variance (v_k), <subgroup>
        variance (u_jk), <residual> (residual) variance (e_ijk), [REML ]log-likelihood,
        records, <subgroup>s, <group>s`` (the symbols of ``THREE_LEVEL_SYMBOLS``, as
        :func:`three_level_latex` writes them) with the number in ``value`` and as shown in
        ``shown`` (four decimals,
        counts whole, both with thousands separators); ``fixed`` indexed by term with
        ``estimate, SE``.
    """
    names = {three.group: three.group, three.subgroup: three.subgroup, "residual": "residual",
             **(level_names or {})}
    top, middle, bottom = names[three.group], names[three.subgroup], names["residual"]
    v, u, e = (THREE_LEVEL_SYMBOLS[key][1] for key in ("group", "subgroup", "residual"))
    residual_row = (f"residual variance ({e})" if bottom == "residual"
                    else f"{bottom} (residual) variance ({e})")
    estimates = [three.variance[three.group], three.variance[three.subgroup],
                 three.variance["residual"], three.loglik]
    counts = [three.n_obs, three.n_subgroups, three.n_groups]
    summary = pd.DataFrame(
        {"value": estimates + counts},
        index=[f"{top} variance ({v})", f"{middle} variance ({u})", residual_row,
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
