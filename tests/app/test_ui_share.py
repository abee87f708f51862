"""ui.share: the view's link and its QR code. (The dialog itself, opened from the sidebar, is
tested in Chromium: tests/browser/test_presenter.py, test_a_shared_link_restores_every_control.)"""

from __future__ import annotations

import io

import segno
from ui import share


def test_the_qr_code_holds_the_link():
    url = "http://lecture.example:8501/why_multilevel?why_view=3&icc_seen=0.45&sample=4"
    png = share.qr_png(url)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    # segno encodes deterministically: the same link gives the same symbol, made with error
    # correction M and the standard 4-module quiet zone.
    expected = io.BytesIO()
    segno.make(url, error="m", micro=False).save(expected, kind="png", scale=10, border=4)
    assert png == expected.getvalue()
    assert segno.make(url, error="m", micro=False).designator.endswith("-M")


def test_the_view_url_lists_what_is_off_its_default_in_short_spellings():
    state = {"_hlm_view_query": {"why_view": ["3"], "icc_seen": ["0.45"], "sample": None,
                                 "schools": ["7472,24725"]}}
    assert share.view_url("http://h/why_multilevel", state) == \
        "http://h/why_multilevel?why_view=3&icc_seen=0.45&schools=7472,24725"
    assert share.view_url("http://h/why_multilevel", {}) == "http://h/why_multilevel"
