"""Presenter mode, "share this view", keyboard steps and phones, in a real Chromium.

- ``test_presenter_mode_reads_from_the_back``: every lesson view in presenter mode
  (``?present=1``) at a projector's 1280x720. Minimum font sizes, measured as drawn: text of
  every kind (computed ``font-size`` of each element that holds text, times any CSS zoom
  around it), chart labels (the SVG text of each plotly chart) and tables (the data grid's
  canvas font, read from the grid's own theme variable, times its zoom). Nothing cut off: no
  element reaches past the viewport's right edge, the page does not scroll sideways, no
  chart title sticks out above its chart. Screenshots of each view go to benchmarks/out/
  (``presenter-<page>-<view>.png``, the first screen and the whole page).
- ``test_a_shared_link_restores_every_control``: Why multilevel's controls set by hand (by
  keyboard, as a student would), the link taken from the share dialog, opened in a *fresh
  browser context* (a new session, no cookies or storage): every control comes back.
- ``test_clicker_keys_step_through_the_lesson``: in presenter mode, PageDown / Right /
  PageUp move the tabs (Why multilevel, JSP) and NELS88's steps, the page does not scroll,
  and a key typed into a field is left alone.
- ``test_every_lesson_works_on_a_phone``: each lesson at 390x844: no sideways scrolling,
  its controls reachable, its chart visible and drawn, no exception.
"""

from __future__ import annotations

import re

import pytest

import browser_support as bs

pytestmark = pytest.mark.browser

PROJECTOR = {"width": 1280, "height": 720}
PHONE = {"width": 390, "height": 844}
# Smallest sizes, in CSS pixels at 1280x720, that presenter mode must reach. Streamlit's
# body text is 16 px and its captions, labels and tables 14 px: too small for a hall. Chart
# tick labels are 18 px in every figure (hlmlab.style), 23 px in presenter mode; 18 px is
# the floor a title too wide for its column may shrink to.
MIN_TEXT_PX = 20
MIN_CHART_PX = 18
MIN_TABLE_PX = 20
LESSONS = [p for p in bs.discover_pages() if not p.default]
# Tables that still scroll sideways in presenter mode, each with its reason; any other view
# whose table, equation or code scrolls out of sight fails. For the pages' owners to fix.
SCROLLING_TABLES = {
    ("jsp_schools", "3 · Three kinds of lines"):
        "the fixed-effects table (hlmlab.report.fixed_effects_table): 100 px too wide",
    ("jsp_schools", "6 · Three levels"):
        "the table of what ignoring a level does: 500 px too wide (long headers)",
    ("longitudinal", "4 · Autocorrelated errors"):
        "the autocorrelation table: 70 px too wide ('95 % intervals holding the truth')",
}

# Every element's own text: (its size as drawn, its text), a few per size; and its right edge.
TEXT_SIZES_JS = """
() => {
  const main = document.querySelector('[data-testid="stMain"]');
  const out = [];
  const walker = document.createTreeWalker(main, NodeFilter.SHOW_TEXT);
  const seen = new Set();
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    if (!node.textContent.trim() || seen.has(el)) continue;
    seen.add(el);
    // KaTeX's MathML copy is for screen readers only (clipped to nothing on screen).
    if (el.closest('svg, [data-testid="stDataFrame"], .modebar, [aria-hidden="true"], .katex-mathml, ' +
                   'style, script, [data-testid="stTooltipHoverTarget"] svg')) continue;
    const box = el.getBoundingClientRect();
    if (!box.width || !box.height || el.offsetParent === null) continue;
    let zoom = 1;
    for (let up = el; up; up = up.parentElement) zoom *= parseFloat(getComputedStyle(up).zoom) || 1;
    out.push({size: parseFloat(getComputedStyle(el).fontSize) * zoom,
              text: node.textContent.trim().slice(0, 40), tag: el.tagName,
              testid: (el.closest('[data-testid]') || {}).dataset?.testid || ""});
  }
  return out;
}
"""

CHART_TEXT_JS = """
() => [...document.querySelectorAll('.js-plotly-plot .main-svg text')]
  .filter((t) => t.textContent.trim() && t.getBoundingClientRect().width > 0)
  .map((t) => ({size: parseFloat(t.style.fontSize || getComputedStyle(t).fontSize),
                text: t.textContent.trim().slice(0, 40)}))
"""

# The data grid draws its text on a canvas with the font of its theme, which it also
# publishes as the CSS variable --gdg-base-font-style on its own element ("14px", or "600 14px").
TABLE_FONT_JS = """
() => [...document.querySelectorAll('[data-testid="stDataFrame"]')]
  .filter((frame) => frame.getBoundingClientRect().width > 0)
  .map((frame) => {
    const themed = frame.querySelector('[style*="--gdg-base-font-style"]');
    const style = themed ? themed.style.getPropertyValue("--gdg-base-font-style") : "";
    const px = parseFloat((style.match(/([0-9.]+)px/) || [])[1]);
    const rem = parseFloat((style.match(/([0-9.]+)rem/) || [])[1]);
    const root = parseFloat(getComputedStyle(document.documentElement).fontSize);
    let zoom = 1;
    for (let up = frame; up; up = up.parentElement) zoom *= parseFloat(getComputedStyle(up).zoom) || 1;
    return {font: style, size: (px || rem * root) * zoom, zoom};
  }).concat(
    // ui.tables.show_table's HTML tables: the size their cells are drawn at (one per table).
    [...document.querySelectorAll('.hlm-table')]
      .map((table) => table.querySelector('td'))
      .filter((cell) => cell && cell.getBoundingClientRect().width > 0)
      .map((cell) => {
        let zoom = 1;
        for (let up = cell; up; up = up.parentElement) zoom *= parseFloat(getComputedStyle(up).zoom) || 1;
        return {font: "html", size: parseFloat(getComputedStyle(cell).fontSize) * zoom, zoom};
      }))
"""

OVERFLOW_JS = """
() => {
  const width = document.documentElement.clientWidth;
  const wide = [];
  // Inside a chart's SVG only the SVG itself counts (plotly clips its paths); the data
  // grid scrolls its own columns.
  const skip = '.modebar, [data-baseweb="popover"], [data-testid="stTooltipContent"], ' +
               '.katex-mathml, svg *, [data-testid="stDataFrameResizable"] *, ' +
               'input[type="range"]';  // a slider's range input is clipped to 1 px, for screen readers
  for (const el of document.querySelectorAll('[data-testid="stMain"] *')) {
    if (el.closest(skip) || el.matches(skip)) continue;
    const box = el.getBoundingClientRect();
    if (box.width && box.height && box.right > width + 1 && getComputedStyle(el).visibility !== "hidden") {
      wide.push(`${el.tagName}.${(el.getAttribute("data-testid") || el.className || "").toString().slice(0, 40)} right=${Math.round(box.right)}`);
    }
  }
  // Content that fits only by scrolling inside its box is cut off for a hall as well: an
  // equation, a table's columns, a code line.
  const scrollers = [...document.querySelectorAll('[data-testid="stMain"] *')].filter((el) => {
    if (el.closest('.modebar, svg, [data-testid="stTooltipContent"]')) return false;
    const overflow = getComputedStyle(el).overflowX;
    return (overflow === "auto" || overflow === "scroll") && !el.closest(".dvn-scroller *");
  });
  const scrolled = scrollers
    .filter((el) => el.getBoundingClientRect().width > 0 && el.scrollWidth > el.clientWidth + 2)
    .map((el) => `${el.className.toString().slice(0, 30)}: ${el.scrollWidth} > ${el.clientWidth} ` +
                 `(${(el.closest('[data-testid="stElementContainer"]') || el).innerText.slice(0, 50)})`);
  // Text or a button cut off by a box that hides its overflow (a row of pills in a column).
  for (const el of document.querySelectorAll('[data-testid="stMain"] button, [data-testid="stMain"] p')) {
    if (el.closest(skip)) continue;
    const box = el.getBoundingClientRect();
    if (!box.width || !box.height) continue;
    for (let up = el.parentElement; up && up.dataset.testid !== "stMain"; up = up.parentElement) {
      const style = getComputedStyle(up);
      if (style.overflowX === "visible") continue;
      if (box.right > up.getBoundingClientRect().right + 1 && style.overflowX !== "auto" &&
          style.overflowX !== "scroll") scrolled.push(`clipped: ${el.innerText.slice(0, 50)}`);
      break;
    }
  }
  // Text cut short with an ellipsis (a label or metric in a narrow column).
  for (const el of document.querySelectorAll('[data-testid="stMain"] *')) {
    const style = getComputedStyle(el);
    if (style.textOverflow === "ellipsis" && el.scrollWidth > el.clientWidth + 1 &&
        el.getBoundingClientRect().width > 0 && !el.closest(skip)) {
      scrolled.push(`ellipsis: ${el.innerText.slice(0, 50)}`);
    }
  }
  return {scroll: document.documentElement.scrollWidth, width, wide: wide.slice(0, 5), scrolled};
}
"""


def open_url(page, app_server, url: str, charts: int = 0) -> None:
    page.goto(app_server.base_url + url)
    bs.wait_for_first_run(page, timeout=90, min_charts=charts)


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()[:40]


@pytest.fixture
def projector_tab(app_server, browser_context):
    page = browser_context.new_page()
    page.set_viewport_size(PROJECTOR)
    errors = bs.ConsoleErrors().attach(page)
    try:
        yield page, errors
    finally:
        page.close()


def sidebar_is_folded(page) -> bool:
    return page.evaluate("""() => {
        const bar = document.querySelector('[data-testid="stSidebar"]');
        return !bar || bar.getAttribute("aria-expanded") === "false"
               || bar.getBoundingClientRect().right <= 0;
    }""")


def check_readable(page, where: str, scrolling_tables: bool = False) -> dict:
    """Minimum sizes of text, chart labels and tables as drawn, and nothing cut off."""
    texts = page.evaluate(TEXT_SIZES_JS)
    charts = page.evaluate(CHART_TEXT_JS)
    tables = page.evaluate(TABLE_FONT_JS)
    small = [t for t in texts if t["size"] < MIN_TEXT_PX - 0.01]
    assert not small, f"text under {MIN_TEXT_PX}px {where}: {small[:6]}"
    small_labels = [t for t in charts if t["size"] < MIN_CHART_PX - 0.01]
    assert not small_labels, f"chart labels under {MIN_CHART_PX}px {where}: {small_labels[:6]}"
    assert all(t["size"] >= MIN_TABLE_PX - 0.01 for t in tables), f"small tables {where}: {tables}"
    overflow = page.evaluate(OVERFLOW_JS)
    assert overflow["scroll"] <= overflow["width"], f"the page scrolls sideways {where}: {overflow}"
    assert not overflow["wide"], f"elements past the right edge {where}: {overflow['wide']}"
    scrolled = [item for item in overflow["scrolled"]
                if not (scrolling_tables and item.startswith("dvn-scroller"))]
    assert not scrolled, f"content scrolled out of sight {where}: {scrolled}"
    assert not bs.clipped_titles(page), f"chart titles cut off {where}"
    return {"text": min((t["size"] for t in texts), default=None),
            "chart": min((t["size"] for t in charts), default=None),
            "table": min((t["size"] for t in tables), default=None)}


@pytest.mark.parametrize("lesson", LESSONS, ids=[p.stem for p in LESSONS])
def test_presenter_mode_reads_from_the_back(projector_tab, app_server, lesson):
    page, errors = projector_tab
    query = "?present=1" + ("&step=4" if lesson.stem == "nels88_two_schools" else "")
    open_url(page, app_server, f"/{lesson.url_path}{query}", bs.first_view_charts(lesson))
    assert sidebar_is_folded(page), "presenter mode did not fold the sidebar away"
    assert page.get_by_text("Deploy", exact=True).count() == 0, "the toolbar offers Deploy"
    views = bs.view_tabs(page) or [None]
    sizes = {}
    bs.OUT_DIR.mkdir(parents=True, exist_ok=True)
    for index, label in enumerate(views):
        where = f"on {lesson.stem}" + (f", view {label!r}" if label else "")
        if label is not None:
            bs.open_view(page, index, timeout=90)
        bs.assert_clean(page, errors, where)
        name = f"presenter-{lesson.stem}" + (f"-{slug(label)}" if label else "")
        page.screenshot(path=str(bs.OUT_DIR / f"{name}.png"))
        bs.save_full_page_screenshot(page, bs.OUT_DIR / f"{name}-full.png")
        sizes[label or lesson.stem] = check_readable(
            page, where, scrolling_tables=(lesson.stem, label) in SCROLLING_TABLES)
    print(lesson.stem, sizes)


# --------------------------------------------------------------------------- share


def press_slider(page, label: str, key: str, times: int) -> None:
    """Move the slider labelled ``label`` by ``times`` presses of ``key``, as a student."""
    slider = page.locator('[data-testid="stSlider"]', has_text=label).first
    thumb = slider.locator('input[type="range"], [role="slider"]').first
    value = slider.locator('[data-testid="stSliderThumbValue"]').first
    for _ in range(times):
        before = value.inner_text()
        since = bs.now(page)
        thumb.press(key)
        page.wait_for_timeout(150)
        if value.inner_text() == before:  # at its end already: a press there sends nothing
            continue
        bs.wait_for_rerun(page, since, timeout=90)
    bs.wait_for_idle(page, timeout=90)


def control_values(page) -> dict:
    """Every control on the page by its label: sliders' values, number inputs' values,
    the open tab."""
    return page.evaluate("""() => {
        const out = {};
        for (const s of document.querySelectorAll('[data-testid="stSlider"]')) {
          const label = s.querySelector('[data-testid="stWidgetLabel"]').innerText.trim();
          out[label] = s.querySelector('[data-testid="stSliderThumbValue"]').innerText.trim();
        }
        for (const n of document.querySelectorAll('[data-testid="stNumberInput"]')) {
          const label = n.querySelector('[data-testid="stWidgetLabel"]').innerText.trim();
          out[label] = n.querySelector("input").value;
        }
        for (const t of document.querySelectorAll('[data-testid="stCheckbox"]')) {
          const label = t.innerText.trim();
          out[label] = t.querySelector("input").checked;
        }
        const tab = document.querySelector('[role="tab"][aria-selected="true"]');
        out.tab = tab && tab.innerText.trim();
        return out;
    }""")


def shared_link(page) -> str:
    since = bs.now(page)
    page.get_by_role("button", name="Share this view").click()
    bs.wait_for_rerun(page, since, timeout=90)
    dialog = page.locator('[role="dialog"]')
    dialog.wait_for(state="visible", timeout=30_000)
    dialog.locator("img").first.wait_for(state="visible", timeout=30_000)
    url = dialog.locator("code").first.inner_text().strip()
    page.keyboard.press("Escape")
    return url


@pytest.mark.parametrize("view", ["1 · The classic study", "4 · Sampling designs"])
def test_a_shared_link_restores_every_control(app_server, browser_context, view):
    from playwright.sync_api import sync_playwright  # noqa: F401  (the context is Playwright's)

    page = browser_context.new_page()
    errors = bs.ConsoleErrors().attach(page)
    why = next(p for p in LESSONS if p.stem == "why_multilevel")
    open_url(page, app_server, f"/{why.url_path}", charts=1)
    bs.open_view(page, bs.view_tabs(page).index(view), timeout=90)
    # The lesson's own sliders; a question's "Guess" slider sits in a form and sends nothing
    # until the student submits, so it is not a control a link carries.
    sliders = page.locator('[data-testid="stMain"] [data-testid="stSlider"]:not('
                           '[data-testid="stForm"] [data-testid="stSlider"])'
                           ' [data-testid="stWidgetLabel"]').all_inner_texts()
    for position, label in enumerate(sliders):
        press_slider(page, label.strip(), "ArrowRight" if position % 2 else "ArrowLeft",
                     position % 3 + 1)
    if view.startswith("1"):  # the seeded study: "New study" draws the next one
        since = bs.now(page)
        page.get_by_role("button", name="New study").click()
        bs.wait_for_rerun(page, since, timeout=90)
        bs.wait_for_idle(page, timeout=90)
    set_by_hand = control_values(page)
    link = shared_link(page)
    page.close()
    assert "present" not in link and link.startswith(app_server.base_url + "/why_multilevel?")
    assert len(link) < 200, link

    browser = browser_context.browser
    fresh = browser.new_context(viewport=bs.VIEWPORT)  # a new session: nothing carried over
    try:
        bs.install_hooks(fresh)
        student = fresh.new_page()
        fresh_errors = bs.ConsoleErrors().attach(student)
        student.goto(link)
        bs.wait_for_first_run(student, timeout=90, min_charts=1)
        bs.assert_clean(student, fresh_errors, f"opening {link}")
        assert control_values(student) == set_by_hand, link
        assert not student.get_by_text("The link's").count(), "a good link got a warning"
    finally:
        fresh.close()
    assert not errors, errors


# --------------------------------------------------------------------------- keys


def scroll_top(page) -> float:
    return page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollTop")


def press_and_wait(page, key: str) -> None:
    """Press a key that moves a step; wait for its run and for ui/keys.js to let go of the
    page's height (it holds it while the next step is drawn)."""
    since = bs.now(page)
    page.keyboard.press(key)
    bs.wait_for_rerun(page, since, timeout=90)
    bs.wait_for_idle(page, timeout=90)
    page.wait_for_function("() => !document.querySelector("
                           "'[data-testid=\"stMainBlockContainer\"]').style.minHeight",
                           timeout=40_000)


def selected_tab(page) -> str:
    return page.locator('[role="tab"][aria-selected="true"]').first.inner_text().strip()


def test_clicker_keys_step_through_the_lesson(projector_tab, app_server):
    page, errors = projector_tab
    why = next(p for p in LESSONS if p.stem == "why_multilevel")
    open_url(page, app_server, f"/{why.url_path}?present=1", charts=1)
    page.locator('[data-testid="stMain"] h1').click()  # focus the page, not a control
    # The tabs sit below the lesson's introduction: scroll so they are at the top.
    page.evaluate("""() => document.querySelector('[role="tablist"]').scrollIntoView()""")
    page.wait_for_timeout(300)
    before = scroll_top(page)
    assert before > 100
    for key, expected in (("PageDown", "2 · Precision"), ("ArrowRight", "3 · The ICC"),
                          ("PageUp", "2 · Precision")):
        press_and_wait(page, key)
        assert selected_tab(page) == expected, key
        assert abs(scroll_top(page) - before) <= 2, f"the page jumped after {key}"
    assert "why_view=2" in page.url
    # A key pressed on a control that uses it is the control's.
    thumb = page.locator(bs.SLIDER_THUMB).first
    since = bs.now(page)
    thumb.press("ArrowRight")
    bs.wait_for_rerun(page, since, timeout=90)
    bs.wait_for_idle(page, timeout=90)
    assert selected_tab(page) == "2 · Precision"

    nels = next(p for p in LESSONS if p.stem == "nels88_two_schools")
    open_url(page, app_server, f"/{nels.url_path}?present=1", charts=1)
    page.locator('[data-testid="stMain"] h1').click()
    press_and_wait(page, "PageDown")
    step = page.locator('[data-testid="stButtonGroup"] [aria-checked="true"], '
                        '[data-testid="stButtonGroup"] [kind$="Active"]').first.inner_text()
    assert step.strip().startswith("2"), step
    assert "step=2" in page.url

    # Without presenter mode the keys are the browser's.
    open_url(page, app_server, f"/{why.url_path}", charts=1)
    page.locator('[data-testid="stMain"] h1').click()
    page.keyboard.press("PageDown")
    page.wait_for_timeout(800)
    assert selected_tab(page) == "1 · The classic study"
    bs.assert_clean(page, errors, "after the keys")


# --------------------------------------------------------------------------- phones


@pytest.mark.parametrize("lesson", LESSONS, ids=[p.stem for p in LESSONS])
def test_every_lesson_works_on_a_phone(app_server, browser_context, lesson):
    page = browser_context.new_page()
    page.set_viewport_size(PHONE)
    errors = bs.ConsoleErrors().attach(page)
    try:
        query = "?step=4" if lesson.stem == "nels88_two_schools" else ""
        open_url(page, app_server, f"/{lesson.url_path}{query}",
                 charts=bs.first_view_charts(lesson))
        views = bs.view_tabs(page) or [None]
        for index, label in enumerate(views):
            where = f"on {lesson.stem} at 390x844" + (f", view {label!r}" if label else "")
            if label is not None:
                bs.open_view(page, index, timeout=90)
            bs.assert_clean(page, errors, where)
            overflow = page.evaluate(OVERFLOW_JS)
            assert overflow["scroll"] <= overflow["width"], f"sideways scroll {where}: {overflow}"
            controls = page.locator('[data-testid="stMain"]').locator(
                '[data-testid="stSlider"], [data-testid="stRadio"], [data-testid="stSelectbox"], '
                '[data-testid="stCheckbox"], [data-testid="stButtonGroup"], '
                '[data-testid="stSelectSlider"], [data-testid="stNumberInput"]')
            for position in range(controls.count()):
                control = controls.nth(position)
                if not control.is_visible():
                    continue  # inside a closed expander
                control.scroll_into_view_if_needed()
                box = control.bounding_box()
                assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"] + 1, \
                    f"control {position} out of reach {where}: {box}"
            charts = page.locator(bs.PLOTLY_CHART)
            if charts.count():
                chart = charts.first
                chart.scroll_into_view_if_needed()
                box = chart.bounding_box()
                assert box["width"] >= PHONE["width"] * 0.8 and box["height"] > 200, (where, box)
                assert bs.charts_drawn(page) == charts.count(), where
            if label is None or index == 0:
                page.screenshot(path=str(bs.OUT_DIR / f"phone-{lesson.stem}.png"))
    finally:
        page.close()


# Each diagram annotation's text and, for a node label ("y: pupil math achievement"), the
# smallest shape around its centre: the node's box (the band behind it is larger).
DIAGRAM_TEXT_JS = """
(root) => {
  const frame = root.querySelector('.main-svg').getBoundingClientRect();
  const shapes = [...root.querySelectorAll('.shapelayer path')]
    .map((p) => p.getBoundingClientRect()).filter((b) => b.width > 0 && b.height > 0);
  const edges = (b) => [b.left, b.right, b.top, b.bottom];
  return [...root.querySelectorAll('g.annotation text')].filter((t) => t.textContent)
    .map((t) => {
      const b = t.getBoundingClientRect(), x = b.left + b.width / 2, y = b.top + b.height / 2;
      const around = shapes.filter((s) => s.left <= x && x <= s.right && s.top <= y && y <= s.bottom)
        .sort((p, q) => p.width * p.height - q.width * q.height)[0];
      return {text: t.textContent, edges: edges(b), box: around ? edges(around) : null,
              frame: edges(frame)};
    });
}
"""


def test_the_proposition_diagrams_text_fits_their_boxes_on_a_phone(app_server, browser_context):
    # The diagram's boxes shrink with a phone's chart; its text is scaled down and wrapped
    # (hlmlab.style.narrow_text, style.wrapped) so that labels stay inside their boxes and
    # no label runs off the chart. Answered first, so arrows carry their longest labels.
    from hlmlab.analyses import macro_micro as mm

    page = browser_context.new_page()
    page.set_viewport_size(PHONE)
    errors = bs.ConsoleErrors().attach(page)
    try:
        open_url(page, app_server, "/macro_micro", charts=1)
        check = page.get_by_role("button", name="Check my answer")
        while check.count():
            form = page.locator('[data-testid="stForm"]').filter(has=check.first).first
            form.locator('[role="radiogroup"] label').first.click()
            check.first.click()
            bs.wait_for_idle(page, timeout=60)
        picker = page.get_by_role("radiogroup", name="Proposition")
        for proposition in mm.PROPOSITIONS.values():
            picker.locator("label").filter(has_text=proposition.title).first.click()
            bs.wait_for_idle(page, timeout=60, min_charts=1)
            chart = page.locator(bs.PLOTLY_CHART).first
            chart.scroll_into_view_if_needed()
            notes = chart.evaluate(DIAGRAM_TEXT_JS)
            nodes = [n for n in notes if re.match(r"^[ZYxy]: ", n["text"])]
            assert len(nodes) == 4, (proposition.key, notes)
            for note in notes:
                left, right, top, bottom = note["edges"]
                frame = note["frame"]
                assert frame[0] - 1 <= left and right <= frame[1] + 1, (proposition.key, note)
                if note in nodes:
                    box = note["box"]
                    assert box and box[0] - 1 <= left and right <= box[1] + 1 \
                        and box[2] - 1 <= top and bottom <= box[3] + 1, (proposition.key, note)
        bs.assert_clean(page, errors, "macro_micro's diagrams at 390x844")
    finally:
        page.close()


def test_the_sidebar_switch_turns_presenter_mode_on_and_off(projector_tab, app_server):
    """The switch in the sidebar, mid-lesson: the page reloads with its link (the data
    grid sizes its font once per page load), the sidebar folds away, text, tables and
    charts grow, the lesson's settings stay; off again, all is as before."""
    page, errors = projector_tab
    why = next(p for p in LESSONS if p.stem == "why_multilevel")
    # View 1 draws its chart and table before its question (view 2's wait for the answer).
    open_url(page, app_server, f"/{why.url_path}?why_view=1&icc=0.4", charts=1)
    assert not sidebar_is_folded(page)
    before = {"table": page.evaluate(TABLE_FONT_JS)[0]["size"],
              "chart": min(t["size"] for t in page.evaluate(CHART_TEXT_JS))}
    switch = page.locator('[data-testid="stSidebar"] [data-testid="stCheckbox"]',
                          has_text="Presenter mode")
    with page.expect_event("load", timeout=60_000):  # the reload
        switch.click()
    bs.wait_for_first_run(page, timeout=90, min_charts=1)
    page.wait_for_function("""() => {
        const bar = document.querySelector('[data-testid="stSidebar"]');
        return bar.getAttribute("aria-expanded") === "false" || bar.getBoundingClientRect().right <= 0;
    }""", timeout=10_000)
    assert "present=true" in page.url
    assert selected_tab(page) == "1 · The classic study" and "icc=0.4" in page.url
    sizes = check_readable(page, "after the switch")
    assert sizes["table"] > before["table"] and sizes["chart"] > before["chart"], (before, sizes)
    # Off again (the switch is in the folded sidebar: open it first).
    page.locator('[data-testid="stExpandSidebarButton"], [data-testid="stSidebarCollapsedControl"] button').first.click()
    with page.expect_event("load", timeout=60_000):
        switch.click()
    bs.wait_for_first_run(page, timeout=90, min_charts=1)
    assert "present" not in page.url and not sidebar_is_folded(page)
    assert page.evaluate(TABLE_FONT_JS)[0]["size"] == before["table"]
    bs.assert_clean(page, errors, "after presenter mode on and off")


def test_a_folded_sidebar_stays_folded_while_the_lesson_is_used(projector_tab, app_server):
    """Every run tells Streamlit which sidebar state presenter mode wants; out of presenter
    mode that must not reopen a sidebar the student folded away."""
    page, errors = projector_tab
    why = next(p for p in LESSONS if p.stem == "why_multilevel")
    open_url(page, app_server, f"/{why.url_path}", charts=1)
    assert not sidebar_is_folded(page)
    page.hover('[data-testid="stSidebar"]')  # the fold button shows on hover
    page.locator('[data-testid="stSidebarCollapseButton"] button').first.click()
    page.wait_for_function("""() => {
        const bar = document.querySelector('[data-testid="stSidebar"]');
        return bar.getAttribute("aria-expanded") === "false" || bar.getBoundingClientRect().right <= 0;
    }""", timeout=10_000)
    press_slider(page, "Teachers per style", "ArrowRight", 1)
    page.wait_for_timeout(500)
    assert sidebar_is_folded(page), "a rerun reopened the sidebar"
    bs.assert_clean(page, errors, "after folding the sidebar")
