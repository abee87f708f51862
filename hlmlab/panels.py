"""Slider panels as plain values: a slider's grid, settings on it, and the settings one step
away. Pure Python (no Streamlit), so the pages and the prefetcher share one definition of
"the same settings" and "the next press".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["SliderRange", "next_steps", "snap_all"]


@dataclass(frozen=True)
class SliderRange:
    """A slider's ``min``, ``max`` and ``step``, to put values on its grid.

    Attributes
    ----------
    low, high : the slider's ends.
    step : its step; an ``int`` step makes :meth:`snap` return ints.
    """

    low: float
    high: float
    step: float

    def snap(self, value: float) -> float:
        """``value`` on the slider's grid, rounded so equal settings make equal cache keys.

        Parameters
        ----------
        value : a value the slider may hold (float sums such as ``0.1 + 0.2`` included).

        Returns
        -------
        The nearest grid value, of the step's type.
        """
        snapped = self.low + round((value - self.low) / self.step) * self.step
        return type(self.step)(round(snapped, 10))


def snap_all(values: Sequence[float], ranges: Sequence[SliderRange]) -> tuple:
    """Each slider value on its slider's grid (see :meth:`SliderRange.snap`).

    Parameters
    ----------
    values : one value per slider.
    ranges : each slider's range, in the same order.

    Returns
    -------
    tuple of the snapped values.
    """
    return tuple(r.snap(v) for v, r in zip(values, ranges))


def next_steps(values: tuple, previous: tuple | None, ranges: Sequence[SliderRange]) -> list:
    """The settings one step away along each slider that moved from ``previous`` to
    ``values``: back, then onward (the likeliest next press, so the one to run first).

    With no ``previous`` (a panel's first run) every slider's two neighbours: the first
    press of any slider then finds its fits ready. A panel's default settings are the same
    for every student, so across a server's life this is done once, not per student.

    Parameters
    ----------
    values : the panel's slider values now, on their grids.
    previous : its values at the last run, or None on its first run.
    ranges : each slider's range, in the same order.

    Returns
    -------
    list of settings tuples, in the order a last-in-first-out queue should receive them
    (the one to compute first is last). Empty when ``previous`` has another length.
    """
    if previous is not None and len(previous) != len(values):
        return []
    out = []
    positions = list(enumerate(zip(values, ranges)))
    # The task added last runs first: on a first run, the first slider's neighbours.
    for position, (now, grid) in positions if previous is not None else positions[::-1]:
        before = now - grid.step if previous is None else previous[position]
        if now == before:
            continue
        onward = 1 if now > before else -1
        for direction in (-onward, onward):
            value = grid.snap(now + direction * grid.step)
            if grid.low <= value <= grid.high and value != now:
                out.append(values[:position] + (value,) + values[position + 1:])
    return out
