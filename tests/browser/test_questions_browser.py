"""Every question of every lesson page in a real Chromium: its answer is not on screen until
the student has answered (issue 12), then it is, and it stays after a page switch.

For each question (tests/question_places.py says where it is asked and which charts it
hides): before the answer, no ``.st-key-<key>_answer`` element and none of its charts exist;
the student picks the first option (or keeps the guess), presses "Check my answer", and the
answer container appears with its charts drawn and no exception box or console error.
Screenshots of every question before and after go to a temporary folder (printed; set
``HLMLAB_QUESTION_SHOTS`` to choose it), to be looked at: would a student understand it?

Run with ``python -m pytest -q -m browser tests/browser/test_questions_browser.py``.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

import browser_support as bs
from question_places import PAGES, Asked

pytestmark = pytest.mark.browser

BY_STEM = {page.stem: page for page in bs.discover_pages()}


def rerun_after(page, action, timeout: float = 120.0) -> None:
    """Do ``action`` (a click that reruns the script) and wait until the app is idle."""
    since = bs.now(page)
    action()
    bs.wait_for_rerun(page, since, timeout=timeout)
    bs.wait_for_idle(page, timeout=timeout)


def go_to(page, asked: Asked) -> None:
    if asked.view is not None:
        bs.open_view(page, bs.view_tabs(page).index(asked.view), timeout=120)
    if asked.step is not None:
        step = page.locator('[data-testid="stButtonGroup"] button').filter(has_text=asked.step)
        if step.get_attribute("aria-checked") != "true":
            rerun_after(page, step.click)
    for toggle in asked.switch_on:
        switch = page.locator(f".st-key-{toggle} label")
        bs.reveal(page, switch)  # a toggle inside a closed st.tabs tab
        rerun_after(page, switch.click)


def answer(page, asked: Asked) -> None:
    """Pick the first option (a guess keeps the slider's starting value) and press the
    button, as a student does."""
    question = page.locator(f".st-key-{asked.key}_question")
    options = question.locator('[data-testid="stRadio"] [role="radiogroup"] label')
    if options.count():
        options.first.click()
    rerun_after(page, question.get_by_role("button", name="Check my answer").click)


@pytest.fixture(scope="module")
def shots() -> Path:
    """The folder of this run's screenshots (made only when a test runs)."""
    folder = os.environ.get("HLMLAB_QUESTION_SHOTS")
    folder = Path(folder) if folder else Path(tempfile.mkdtemp(prefix="hlmlab-questions-"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def screenshot(page, locator, path: Path) -> None:
    """A screenshot of one element, whole: the viewport is made taller than the element for
    the shot (Streamlit's fixed header would cover the top of a tall one), then restored."""
    original = page.viewport_size
    height = locator.evaluate("(el) => el.getBoundingClientRect().height")
    page.set_viewport_size({"width": original["width"],
                            "height": max(original["height"], int(height) + 200)})
    try:
        bs.wait_for_idle(page, timeout=15, settle_ms=200)
        locator.scroll_into_view_if_needed()
        locator.screenshot(path=str(path))
    finally:
        page.set_viewport_size(original)


def navigate(page, title: str) -> None:
    link = page.locator('[data-testid="stSidebarNav"] a').filter(has_text=title)
    rerun_after(page, link.click)


@pytest.mark.parametrize(("path", "lesson"), list(PAGES), ids=[stem for _, stem in PAGES])
def test_every_answer_is_hidden_until_the_student_answers(tab, app_server, shots, path, lesson):
    page, errors = tab
    app_page = BY_STEM[lesson]
    page.goto(app_page.url(app_server.base_url))
    bs.wait_for_first_run(page, timeout=90)
    for number, asked in enumerate(PAGES[path, lesson], 1):
        where = f"{lesson}: {asked.key}"
        go_to(page, asked)
        question = page.locator(f".st-key-{asked.key}_question")
        question.scroll_into_view_if_needed()
        assert question.is_visible(), f"{where}: not asked"
        assert page.locator(f".st-key-{asked.key}_answer").count() == 0, f"{where}: shown early"
        for chart in asked.hides:
            assert page.locator(f".st-key-{chart}").count() == 0, f"{where}: {chart} drawn"
        shot = f"{lesson}-{number}-{asked.key}"
        screenshot(page, question, shots / f"{shot}-asked.png")

        answer(page, asked)
        revealed = page.locator(f".st-key-{asked.key}_answer")
        revealed.wait_for(state="visible", timeout=30_000)
        bs.assert_clean(page, errors, f"after answering {where}")
        for chart in asked.hides:
            assert revealed.locator(f".st-key-{chart}").count() == 1, f"{where}: no {chart}"
        assert bs.charts_drawn(page) == page.locator(bs.PLOTLY_CHART).count(), where
        screenshot(page, question, shots / f"{shot}-answered-question.png")
        screenshot(page, revealed, shots / f"{shot}-answer.png")
    # The last answer is still there after a visit to another page.
    last = PAGES[path, lesson][-1]
    navigate(page, "Welcome")
    navigate(page, app_page.title)
    go_to(page, Asked(last.key, last.section, view=last.view, step=last.step))
    assert page.locator(f".st-key-{last.key}_answer").count() == 1, "answer lost on a page switch"
    print(f"question screenshots: {shots}")
