"""hlmlab.panels: slider grids, the settings one step away (what the prefetcher warms), and
Panel, a compute of frozen settings with its sliders."""

from __future__ import annotations

import dataclasses

import pytest

from hlmlab.panels import Panel, SliderRange, next_steps, snap_all


def test_snap_puts_values_on_the_slider_grid():
    icc = SliderRange(0.0, 0.9, 0.05)
    assert 0.1 + 0.2 != 0.3  # the float sum a naive cache key would use
    assert icc.snap(0.1 + 0.2) == 0.3
    assert icc.snap(0.9) == 0.9 and icc.snap(0.0) == 0.0
    assert SliderRange(0.2, 3.0, 0.1).snap(1.5) == 1.5
    children = SliderRange(10, 200, 10)
    assert children.snap(40) == 40 and isinstance(children.snap(40), int)
    assert snap_all((40, 0.30000000000000004), (children, icc)) == (40, 0.3)


def test_next_steps_follow_the_moved_slider_onward_last():
    ranges = (SliderRange(2, 50, 1), SliderRange(0.0, 0.9, 0.05))
    # The second slider moved up: back to 0.25 first, then on to 0.35 (run first: LIFO).
    assert next_steps((10, 0.3), (10, 0.25), ranges) == [(10, 0.25), (10, 0.35)]
    # Moved down to the minimum: only the step back up stays in range.
    assert next_steps((2, 0.3), (3, 0.3), ranges) == [(3, 0.3)]
    # A first run: both neighbours of every slider, the first slider's last (so run first).
    assert next_steps((10, 0.3), None, ranges) == [(10, 0.25), (10, 0.35), (9, 0.3), (11, 0.3)]
    assert next_steps((2, 0.0), None, ranges) == [(2, 0.05), (3, 0.0)]
    assert next_steps((10, 0.3), (10, 0.3), ranges) == []
    # A panel whose sliders changed in number (another lesson step): nothing to prefetch.
    assert next_steps((10, 0.3), (10,), ranges) == []


# ---------------------------------------------------------------------------------------------
# Panel: a pure compute of frozen settings, with its sliders' grids

@dataclasses.dataclass(frozen=True)
class Sample:
    """Settings of a made-up panel: a data set, a sample size and an ICC."""

    data: str
    size: int
    icc: float


def sample_summary(settings: Sample) -> str:
    return f"{settings.data}: {settings.size} at {settings.icc}"


SIZES = SliderRange(2, 50, 1)
ICCS = SliderRange(0.0, 0.9, 0.05)


def capped_at_30(settings: Sample) -> Sample:
    """A data set of 30 rows: larger samples are the whole set, so one result."""
    return dataclasses.replace(settings, size=min(settings.size, 30))


PANEL = Panel("test.sample", sample_summary, Sample, sliders={"size": SIZES, "icc": ICCS},
              canonical=capped_at_30)


def test_a_panel_takes_frozen_settings_and_names_only_their_fields():
    @dataclasses.dataclass
    class Loose:
        size: int

    with pytest.raises(TypeError, match="frozen dataclass"):
        Panel("test.loose", str, Loose, sliders={"size": SIZES})
    with pytest.raises(ValueError, match="sliders"):
        Panel("test.typo", sample_summary, Sample, sliders={"sizes": SIZES})
    with pytest.raises(TypeError, match="takes Sample"):
        PANEL.snapped((10, 0.3))
    with pytest.raises(TypeError):
        PANEL.sliders["other"] = SIZES  # the grids are read-only


def test_snapped_settings_are_on_their_grids_and_canonical():
    drifted = Sample("exam", 12, 0.1 + 0.2)
    assert PANEL.snapped(drifted) == Sample("exam", 12, 0.3)
    assert PANEL.snapped(Sample("exam", 45, 0.3)) == PANEL.snapped(Sample("exam", 31, 0.3))


def test_neighbours_follow_the_moved_slider_as_next_steps_does():
    now, before = Sample("exam", 10, 0.3), Sample("exam", 10, 0.25)
    assert PANEL.neighbours(now, before) == [Sample("exam", 10, 0.25), Sample("exam", 10, 0.35)]
    # First run: both neighbours of every slider, the first slider's last (run first: LIFO).
    assert PANEL.neighbours(now) == [Sample("exam", 10, 0.25), Sample("exam", 10, 0.35),
                                     Sample("exam", 9, 0.3), Sample("exam", 11, 0.3)]
    # Nothing moved: nothing to prefetch.
    assert PANEL.neighbours(now, now) == []


def test_neighbours_after_another_choice_are_a_first_run_and_skip_equal_settings():
    now = Sample("exam", 29, 0.3)
    after_new_data = PANEL.neighbours(now, Sample("jsp", 29, 0.3))
    assert after_new_data == PANEL.neighbours(now)
    # At the cap, the step onward (31 -> 30) gives the same result as 30: asked for once.
    at_cap = PANEL.neighbours(Sample("exam", 30, 0.3), Sample("exam", 29, 0.3))
    assert at_cap == [Sample("exam", 29, 0.3)]
    # Past the cap a press changes nothing (44 and 45 are both the whole set): no work.
    assert PANEL.neighbours(Sample("exam", 45, 0.3), Sample("exam", 44, 0.3)) == []
