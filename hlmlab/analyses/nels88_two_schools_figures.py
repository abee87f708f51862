"""The figure of the NELS88 lesson (pages/nels88_two_schools.py): math against homework,
step by step from grey points to the three kinds of lines."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from hlmlab.analyses.nels88_two_schools import (
    GROUP,
    OUTCOME,
    PREDICTOR,
    deck_schools_first,
)
from hlmlab.figures import lines_figure
from hlmlab.style import group_styles

__all__ = ["selection_figure"]


def selection_figure(data: pd.DataFrame, chosen: pd.DataFrame, lines: pd.DataFrame,
                     jitter: float, colour_by_group: bool, source: str) -> go.Figure:
    """The chosen students with the lines asked for.

    Parameters
    ----------
    data : every school's rows (a school keeps its colour whatever is chosen).
    chosen : the rows drawn (:func:`hlmlab.analyses.nels88_two_schools.select_rows`).
    lines : the families to draw, from the selection's comparison (may be empty).
    jitter : horizontal jitter in hours (display only).
    colour_by_group : False for the deck's first, grey slide.
    source : the data's label, in the title.
    """
    return lines_figure(
        chosen, OUTCOME, PREDICTOR, GROUP, lines=lines,
        styles=group_styles(deck_schools_first(sorted(data[GROUP].unique().tolist()))),
        jitter=jitter, colour_by_group=colour_by_group,
        title=f"Math against homework · {source}",
        x_title="Hours of homework per week", y_title="Math achievement",
    )
