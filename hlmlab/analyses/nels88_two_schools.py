"""The NELS88 lesson (pages/nels88_two_schools.py): math against homework in the course
deck's two schools, then all ten, with the three kinds of lines.

The lesson's choices live here: which columns, which schools the deck shows, how a
"students per school" slider subsamples (seeded and nested, so shrinkage can be watched as
schools shrink), and the comparison fitted to the selection. Its figure is in
:mod:`hlmlab.analyses.nels88_two_schools_figures`.
"""

from __future__ import annotations

from typing import Sequence

import pandas as pd

from hlmlab.datasets import subsample_groups
from hlmlab.pooling import PoolingComparison, compare_pooling

__all__ = [
    "DECK_SCHOOLS",
    "GROUP",
    "OUTCOME",
    "PREDICTOR",
    "SUBSAMPLE_SEED",
    "compare_selection",
    "deck_schools_first",
    "per_school_cap",
    "select_rows",
]

OUTCOME, PREDICTOR, GROUP = "math", "homework", "schid"
#: The two schools of the course deck's slides.
DECK_SCHOOLS = (24725, 62821)
SUBSAMPLE_SEED = 88


def select_rows(data: pd.DataFrame, schools: Sequence, per_school: int) -> pd.DataFrame:
    """The chosen schools, each cut to at most ``per_school`` students (a seeded subsample,
    nested: the students kept at k are among those kept at k + 1)."""
    chosen = data[data[GROUP].isin(schools)]
    return subsample_groups(chosen, GROUP, per_school, seed=SUBSAMPLE_SEED)


def per_school_cap(data: pd.DataFrame, schools: Sequence, per_school: int) -> int:
    """``per_school``, but no more than the largest chosen school has: past that size the
    rows, and so the fits, are the same (one cache entry, not many)."""
    largest = data[data[GROUP].isin(schools)].groupby(GROUP).size().max()
    return min(int(per_school), int(largest))


def compare_selection(data: pd.DataFrame, schools: Sequence, per_school: int,
                      random_slope: bool, reml: bool) -> PoolingComparison:
    """Pooled, per-school and multilevel fits of math on homework in the selection.

    Raises
    ------
    ModelDataError
        When not even the pooled line can be fitted (e.g. every chosen student reports the
        same homework).
    """
    return compare_pooling(select_rows(data, schools, per_school), OUTCOME, PREDICTOR, GROUP,
                           random_slope, reml)


def deck_schools_first(school_ids: Sequence) -> list:
    """Every school, the deck's two first, so they get the two most distinct colours."""
    return ([s for s in DECK_SCHOOLS if s in school_ids]
            + [s for s in school_ids if s not in DECK_SCHOOLS])
