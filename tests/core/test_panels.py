"""hlmlab.panels: slider grids and the settings one step away (what the prefetcher warms)."""

from __future__ import annotations

from hlmlab.panels import SliderRange, next_steps, snap_all


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
