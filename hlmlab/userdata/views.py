"""Can a view be shown for these data? Cheap checks that say why not, before any widget or
fit: a page asks them first and shows the reason instead of a slider that cannot slide or a
fit that cannot run.

They answer the crashes found in the lessons with unusual original files: a JSP file with
one school (sliders from 2 to 1, a ranking of one school), two schools of two pupils (a
slider from 2 to 2), a JSP file with year 0 only (lines on a predictor that never varies).
Every answer is ``""`` when the view can be shown, else one plain sentence.
"""

from __future__ import annotations

import pandas as pd

from hlmlab.userdata.text import shown

__all__ = ["grouping_problem", "nesting_problem", "slider_problem"]


def slider_problem(low: float, high: float, what: str) -> str:
    """Why a slider from ``low`` to ``high`` cannot be drawn (Streamlit refuses min >= max).

    Parameters
    ----------
    low, high : the slider's bounds.
    what : what it sets, in words ("schools kept").

    Returns
    -------
    str
        ``""`` when ``low < high``; else a sentence naming the one value left, which the page
        uses as a fixed setting.
    """
    if low < high:
        return ""
    if low == high:
        return f"Only one setting is possible for {what} ({low:g}), so it has no slider."
    return (f"These data allow no setting for {what}: it would need at least {low:g}, and "
            f"there are only {high:g}.")


def grouping_problem(data: pd.DataFrame, group: str, predictor: str | None = None,
                     outcome: str | None = None) -> str:
    """Why a multilevel line of ``outcome`` on ``predictor`` by ``group`` cannot be fitted.

    Checks, on the rows where those columns are all filled in: at least two groups, a
    predictor with at least two values (a line needs them), an outcome with at least two
    values, and not every group a single row.

    Returns
    -------
    str
        ``""`` when a fit can be attempted; else one sentence for the student.
    """
    columns = [c for c in (outcome, predictor, group) if c is not None]
    rows = data[columns].dropna()
    if rows.empty:
        return ("No row has all of " + ", ".join(shown(c) for c in columns)
                + " filled in, so there is nothing to fit.")
    groups = rows[group].nunique()
    if groups < 2:
        return (f"These rows hold one group only ({shown(group)} is always "
                f"{shown(rows[group].iloc[0])}); a multilevel model needs at least two groups "
                "to compare.")
    if predictor is not None and rows[predictor].nunique() < 2:
        return (f"{shown(predictor)} takes one value only ({shown(rows[predictor].iloc[0])}) "
                "in these rows, so no line on it can be fitted.")
    if outcome is not None and rows[outcome].nunique() < 2:
        return (f"The outcome {shown(outcome)} has the same value "
                f"({shown(rows[outcome].iloc[0])}) in every row: there is no variation to "
                "explain.")
    if groups == len(rows):
        return (f"Every group of {shown(group)} has a single row, so no variation within groups "
                "can be told apart from variation between them. Choose a column whose values "
                "repeat (the groups), not one that identifies each row.")
    return ""


def nesting_problem(data: pd.DataFrame, group: str, top: str) -> str:
    """Why ``top`` does not nest ``group`` (each group must lie in exactly one top unit).

    Returns
    -------
    str
        ``""`` when every group lies inside one unit of ``top``; else a sentence naming the
        first group found in two units.
    """
    rows = data[[group, top]].dropna()
    units = rows.groupby(group, sort=True)[top].nunique()
    spread = units[units > 1]
    if spread.empty:
        return ""
    first = spread.index[0]
    where = rows.loc[rows[group] == first, top].unique()[:2]
    return (f"{shown(group)} is not nested in {shown(top)}: group {shown(first)} appears in "
            f"{shown(where[0])} and in {shown(where[1])} ({len(spread):,} groups span several "
            f"units). If group labels restart in each unit (class 1 in every school), give "
            "each group a label of its own, e.g. school and class together.")
