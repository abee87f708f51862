"""ui.urlstate: a page's settings read from the URL, every value checked, none evaluated."""

from __future__ import annotations

from ui.urlstate import UrlSettings


def test_url_settings_accept_good_values_and_explain_bad_ones():
    url = UrlSettings({"step": "3", "method": "ml", "schools": "2,1", "x": "nan", "y": "0.5"})
    assert url.number("step", 1, 4, 1, integer=True) == 3
    assert url.choice("method", ("REML", "ML"), "REML") == "ML"
    assert url.subset("schools", [1, 2, 3], [1]) == [2, 1]
    assert url.number("x", 0, 1, 0.1) == 0.1
    assert url.number("y", 1, 4, 2, integer=True) == 2
    assert len(url.problems) == 2 and "x=" in url.problems[0]
    bad = UrlSettings({"schools": "1,__import__('os')"})
    assert bad.subset("schools", [1, 2], [1]) == [1] and bad.problems
