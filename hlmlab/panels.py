"""Slider panels as plain values: a slider's grid, settings on it, the settings one step
away, and :class:`Panel`, the descriptor of one interactive panel of a lesson. Pure Python
(no Streamlit), so the pages and the prefetcher share one definition of "the same settings",
"the next press" and "what this panel computes".

A panel is one pure function ``compute(settings) -> result`` of a frozen settings dataclass,
plus the grids of the settings' slider fields. The Streamlit layer (``ui.panels.run``) caches
results by the panel's name and the settings; rendering and prefetching both go through it,
so nothing else needs to know what a panel calls.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

__all__ = ["Panel", "SliderRange", "next_steps", "snap_all"]


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


@dataclass(frozen=True, eq=False)
class Panel:
    """One interactive panel of a lesson: what it computes from which settings.

    Parameters
    ----------
    name : unique and stable across processes (it is part of every cache key), e.g.
        ``"nels88_two_schools.numbers"``.
    compute : a pure function of a ``settings_type`` instance returning everything the
        panel draws, in final form (prepared chart, display tables, texts). It raises
        :class:`hlmlab.errors.ModelDataError` when the settings cannot give a result.
    settings_type : a frozen dataclass; its fields are the panel's settings.
    sliders : ``{field name: SliderRange}`` for the fields a slider sets.
    canonical : optional ``settings -> settings`` that makes settings which give the same
        result equal (e.g. a subsample size capped at the largest group), applied after the
        values are put on their grids.

    Notes
    -----
    Panels compare by identity: each is declared once, at module level.
    """

    name: str
    compute: Callable[[Any], Any]
    settings_type: type
    sliders: Mapping[str, SliderRange] = dataclasses.field(default_factory=dict)
    canonical: Callable[[Any], Any] | None = None

    def __post_init__(self):
        if not (dataclasses.is_dataclass(self.settings_type)
                and self.settings_type.__dataclass_params__.frozen):
            raise TypeError(f"{self.name}: settings must be a frozen dataclass, so equal "
                            "settings are equal cache keys and no caller can change them")
        fields = {field.name for field in dataclasses.fields(self.settings_type)}
        unknown = set(self.sliders) - fields
        if unknown:
            raise ValueError(f"{self.name}: no settings field for the sliders {sorted(unknown)}")
        object.__setattr__(self, "sliders", MappingProxyType(dict(self.sliders)))

    def snapped(self, settings):
        """``settings`` with every slider value on its grid, then made canonical: settings
        that give the same result are equal (and so are their cache keys).

        Parameters
        ----------
        settings : an instance of ``settings_type``.

        Returns
        -------
        A new instance of the same type (or ``settings`` itself when nothing changed).
        """
        if not isinstance(settings, self.settings_type):
            raise TypeError(f"{self.name} takes {self.settings_type.__name__}, "
                            f"not {type(settings).__name__}")
        on_grid = {name: grid.snap(getattr(settings, name)) for name, grid in self.sliders.items()}
        if any(on_grid[name] != getattr(settings, name) for name in on_grid):
            settings = dataclasses.replace(settings, **on_grid)
        return self.canonical(settings) if self.canonical is not None else settings

    def neighbours(self, settings, previous=None) -> list:
        """The settings one step away along each slider that moved from ``previous`` to
        ``settings`` (see :func:`next_steps`), snapped, without ``settings`` itself or
        repeats, in the order a last-in-first-out queue should receive them.

        With no ``previous``, or one that differs in a field no slider sets (another data
        source, another model), every slider's two neighbours: the first press of any slider
        then finds its result ready.

        Parameters
        ----------
        settings : the panel's settings now.
        previous : its settings at the last run, or None.

        Returns
        -------
        list of ``settings_type`` instances.
        """
        settings = self.snapped(settings)
        names = tuple(self.sliders)
        if previous is not None:
            previous = self.snapped(previous) if isinstance(previous, self.settings_type) else None
        if previous is not None and _without(previous, names) != _without(settings, names):
            previous = None
        values = tuple(getattr(settings, name) for name in names)
        before = None if previous is None else tuple(getattr(previous, name) for name in names)
        out = []
        for step in next_steps(values, before, tuple(self.sliders.values())):
            neighbour = self.snapped(dataclasses.replace(settings, **dict(zip(names, step))))
            if neighbour != settings and neighbour not in out:
                out.append(neighbour)
        return out


def _without(settings, names: Sequence[str]) -> dict:
    """The settings' fields other than ``names``, to tell whether anything but a slider
    changed."""
    return {field.name: getattr(settings, field.name) for field in dataclasses.fields(settings)
            if field.name not in names}
