"""Slider press -> redrawn chart, measured in a real Chromium, for every page of app.py.

    python benchmarks/browser_latency.py [--presses 30] [--pages nels88,longitudinal]
    python benchmarks/browser_latency.py --presses 0 --open-repeats 3   # start and opens only

Starts its own Streamlit server (fresh process: empty caches) and one headless Chromium
(tests/browser/browser_support.py: the project's flags, the websocket / plotly hooks). Then:

1. Cold start: the browser is already up; the clock starts when the server process is
   spawned and stops when the first page (the first one with a chart: NELS88 at ?step=4)
   is interactive: its first script run finished and every chart has drawn.
2. Each page, in a new tab of the warm server: open -> interactive.
   With ``--open-repeats R`` every page is opened R times (each in a new tab) and the
   report gives each time and their median: the first open of a page may compute its
   defaults, the later ones find them cached.
3. Each slider of each page (opening its tab first when it sits in one): up to ``--presses``
   arrow key presses. The first pass walks away from the start value, one step per press, so
   every press lands on a value never computed before (cold: cached fits miss); then the slider
   walks back, and back and forth again, over those values (warm: the cache hits), ending where
   it started. Home/End are not used, so values stay in range and the walk is reproducible.

For each press, on the page's own clock (performance.now, so no Python overhead counts):
    keydown -> script_finished of the rerun it started       ("finished")
    keydown -> every redrawn chart's last plotly_afterplot    ("redrawn")
    latency = the later of the two: the page is up to date and the chart shows it.
A chart's delta reaches the browser before its script ends, so the redraw usually comes
*before* script_finished; a press whose value draws the same chart (NELS88's "students per
school" above the largest school) redraws nothing and counts with its "finished" time.

With ``--warm`` the server is warmed after the cold start as ``scripts/start.sh`` warms every
server it starts (``scripts/warm_worker.py``: every lesson and view opened once, their
defaults computed and their neighbours prefetched), so the opens and presses are what a
class meets on a server started by the project's scripts; without it they are what the
first student of a bare ``streamlit run app.py`` meets.

With ``--answer`` every question of a view is answered (its first option) before the view's
sliders are pressed: each press then also redraws the numbers and tables the answers
revealed, as it does for a student who has answered, and a lab that waits for its question
(Macro and micro tab 6) can be pressed at all.

Prints a table (median, p95, max in ms per slider, cold and warm) and writes every sample to
benchmarks/out/latency.json. Budget (DEVELOPERS.md): p95 <= 250 ms, first page interactive
<= 3 s. On a shared 2-core machine the numbers are noisy: compare medians across runs.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "browser"))
import browser_support as bs  # noqa: E402

BUDGET_P95_MS = 250.0
BUDGET_FIRST_PAGE_S = 3.0
# The URL each page is measured at: its fullest view. Others open at their default URL.
# A page whose first view draws no chart opens on one that does (the cold start waits for it).
PAGE_QUERIES = {"nels88_two_schools": "?step=4", "foundations": "?foundations_view=2"}


def percentile(values: list[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def summary(values: list[float]) -> dict:
    if not values:
        return {"n": 0, "median": None, "p95": None, "max": None}
    return {"n": len(values), "median": statistics.median(values),
            "p95": percentile(values, 95), "max": max(values)}


def epoch_ms(page, page_ms: float) -> float:
    """A page clock reading as Unix epoch milliseconds (for comparing with the server start)."""
    return page.evaluate("(t) => performance.timeOrigin + t", page_ms)


def interactive_at(page) -> float:
    """Page time at which the first run finished and every chart had drawn once."""
    return page.evaluate(
        """() => {
            const h = window.__hlm;
            const first = new Map();
            for (const a of h.afterplot) if (!first.has(a.chart)) first.set(a.chart, a.t);
            return Math.max(h.finished[0].t, ...first.values());
        }"""
    )


def open_parts(page) -> dict:
    """Where an open's time went, on the page clock (ms from navigation start): the first
    script run finished, plotly.js fetched (its resource timing) and every chart drawn."""
    return page.evaluate(
        """() => {
            const h = window.__hlm;
            const script = performance.getEntriesByType("resource")
                .find((e) => /plotly[^/]*\\.js/.test(e.name));
            const first = new Map();
            for (const a of h.afterplot) if (!first.has(a.chart)) first.set(a.chart, a.t);
            return {first_run_finished_ms: h.finished[0].t,
                    charts_drawn_ms: first.size ? Math.max(...first.values()) : null,
                    plotly_js: script ? {name: script.name.split("/").pop(),
                                         fetch_start_ms: script.fetchStart,
                                         fetched_ms: script.responseEnd,
                                         transfer_bytes: script.transferSize,
                                         body_bytes: script.decodedBodySize} : null};
        }"""
    )


def open_page(context, url: str, timeout: float = 90, min_charts: int = 0):
    """A new tab at ``url``, once its first run finished and ``min_charts`` charts drew
    (interactive = what the student sees: a chart page is not ready before its chart)."""
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url)
    bs.wait_for_first_run(page, timeout=timeout, min_charts=min_charts)
    return page, errors


def slider_range(page, index: int) -> tuple[float, float, float, float]:
    """(value, min, max, step) of a slider thumb, from its range input or ARIA attributes."""
    values = page.locator(bs.SLIDER_THUMB).nth(index).evaluate(
        """(el) => {
            const get = (aria, prop) => el.getAttribute(aria) ?? el[prop] ?? el.getAttribute(prop);
            return [get("aria-valuenow", "value"), get("aria-valuemin", "min"),
                    get("aria-valuemax", "max"), el.getAttribute("step") || "1"];
        }"""
    )
    return tuple(float(v) for v in values)


def plan_presses(value: float, low: float, high: float, step: float, presses: int) -> list[tuple[str, bool]]:
    """(key, cold?) per press: away from ``value`` over new values, then back and forth."""
    left = round((value - low) / step)
    right = round((high - value) / step)
    out_key, back_key = ("ArrowRight", "ArrowLeft") if right >= left else ("ArrowLeft", "ArrowRight")
    reach = min(max(left, right), max(presses // 2, 1))
    if reach == 0:
        return []
    # Whole round trips only, so the slider ends where it started and the next slider of the
    # page is measured against the page's default settings.
    trips = max(1, presses // (2 * reach))
    plan = [(out_key, True)] * reach + [(back_key, False)] * reach
    plan += ([(out_key, False)] * reach + [(back_key, False)] * reach) * (trips - 1)
    return plan


def measure_press(page, index: int, key: str) -> dict:
    thumb = page.locator(bs.SLIDER_THUMB).nth(index)
    since = bs.now(page)
    before = bs.slider_value(page, index)
    thumb.press(key)
    after = bs.slider_value(page, index)
    if after == before:
        return {"key": key, "value": after, "skipped": True}
    finished = bs.wait_for_rerun(page, since, timeout=120)
    bs.wait_for_idle(page, timeout=60, settle_ms=50)
    timing = page.evaluate(
        """(since) => {
            const h = window.__hlm;
            const key = h.keys.find((k) => k.t >= since);
            // A chart's last draw: st.plotly_chart draws a remounted chart twice, the first
            // time hidden; a student sees the chart when its last draw is done.
            const last = new Map();
            let draws = 0;
            for (const a of h.afterplot) if (a.t >= key.t) { last.set(a.chart, a.t); draws++; }
            return {key_t: key.t, redrawn_t: last.size ? Math.max(...last.values()) : null,
                    charts: last.size, draws,
                    exceptions: document.querySelectorAll('[data-testid="stException"]').length};
        }""",
        since,
    )
    finished_ms = finished["t"] - timing["key_t"]
    redrawn_ms = None if timing["redrawn_t"] is None else timing["redrawn_t"] - timing["key_t"]
    return {
        "key": key, "from": before, "value": after,
        "sent_ms": finished["rerun_t"] - timing["key_t"],
        "finished_ms": finished_ms,
        "redrawn_ms": redrawn_ms,
        "latency_ms": max(finished_ms, redrawn_ms or 0.0),
        "charts_redrawn": timing["charts"],
        "draws": timing["draws"],
        "exceptions": timing["exceptions"],
    }


# The prefetcher drops a task that waited 5 s (ui.prefetch.Prefetcher's max_age): after this
# long the warm-up's last neighbours are computed or dropped.
PREFETCH_SETTLE_S = 6.0


def answer_questions(page, rounds: int = 3) -> None:
    """Answer every open question on the page (its first option, then "Check my answer"),
    waiting for each rerun; an answer can reveal a lab with a further question below it."""
    check = page.get_by_role("button", name="Check my answer")
    for _ in range(rounds):
        asked = check.count()
        if not asked:
            return
        for _ in range(asked):
            form = page.locator('[data-testid="stForm"]').filter(has=check.first).first
            options = form.locator('[role="radiogroup"] label')
            if options.count():
                options.first.click()
            # A numeric question (a guess on a slider) keeps its starting guess.
            check.first.click()
            bs.wait_for_idle(page, timeout=60, settle_ms=200)


def warm_up(port: int) -> float:
    """Warm the server on ``port`` as scripts/start.sh does, wait for its prefetcher to
    settle, and return the seconds the warm-up took."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, str(bs.APP_ROOT / "scripts" / "warm_worker.py"),
                           "--port", str(port)], capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        raise RuntimeError(f"warm_worker.py failed: {done.stderr.strip()}")
    took = time.perf_counter() - started
    time.sleep(PREFETCH_SETTLE_S)
    return took


def fmt(value, width: int = 6) -> str:
    return f"{value:{width}.0f}" if isinstance(value, (int, float)) and not math.isnan(value) else " " * (width - 1) + "-"


def row(name: str, stats: dict) -> str:
    return (f"  {name:<44.44} {stats['n']:>4} {fmt(stats['median'])} {fmt(stats['p95'])} "
            f"{fmt(stats['max'])}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--presses", type=int, default=30,
                        help="key presses per slider (30; 0: no slider presses, only the cold "
                             "start and the page opens)")
    parser.add_argument("--open-repeats", type=int, default=1,
                        help="open every page this many times, each in a new tab (1)")
    parser.add_argument("--pause-ms", type=int, default=0,
                        help="wait this long before each press, as a student reading the chart "
                             "does (default 0: each press as soon as the last one is drawn); "
                             "the background prefetcher then has time for the next step")
    parser.add_argument("--query", action="append", default=[], metavar="STEM=QUERY",
                        help="open a page with this query string instead of its default one, "
                             "e.g. foundations=foundations_view=2&fnd_design=IV (repeatable)")
    parser.add_argument("--pages", default="", help="comma-separated page stems (default: all)")
    parser.add_argument("--sliders", default="",
                        help="comma-separated slider labels to press, each matching the "
                             "labels that start with it (default: every slider)")
    parser.add_argument("--warm", action="store_true",
                        help="after the cold start, warm the server as scripts/start.sh does "
                             "(scripts/warm_worker.py opens every lesson and view), then wait "
                             f"{PREFETCH_SETTLE_S:.0f} s for its prefetcher: the server a class "
                             "meets, not a bare `streamlit run`")
    parser.add_argument("--answer", action="store_true",
                        help="answer every question of a view (its first option) before "
                             "pressing its sliders, as a student who has: the numbers and "
                             "tables an answer reveals are then redrawn on every press, and "
                             "a lab that waits for its question (Macro and micro tab 6) "
                             "is there to press")
    parser.add_argument("--out", type=Path, default=bs.OUT_DIR / "latency.json")
    args = parser.parse_args(argv)
    for item in args.query:
        stem, _, query = item.partition("=")
        PAGE_QUERIES[stem] = "?" + query.lstrip("?")
    only_sliders = {s.strip() for s in args.sliders.split(",") if s.strip()}

    from playwright.sync_api import sync_playwright

    pages = bs.discover_pages()
    if args.pages:
        wanted = {p.strip() for p in args.pages.split(",") if p.strip()}
        pages = [p for p in pages if p.stem in wanted]
    chart_pages = [p for p in pages if bs.draws_charts(p.source())]
    first = chart_pages[0] if chart_pages else pages[0]

    report: dict = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "load_average_at_start": os.getloadavg()},
        "budget": {"p95_ms": BUDGET_P95_MS, "first_page_interactive_s": BUDGET_FIRST_PAGE_S},
        "presses_per_slider": args.presses,
        "pause_before_press_ms": args.pause_ms,
        "warmed": args.warm,
        "questions_answered": args.answer,
        "pages": {},
    }
    server = bs.StreamlitServer()
    started = time.perf_counter()
    with sync_playwright() as playwright:
        browser = bs.launch_chromium(playwright)
        context = browser.new_context(viewport=bs.VIEWPORT)
        bs.install_hooks(context)
        try:
            # 1. Cold start. The tab exists before the server does, so only the server's start,
            # the page's first run and the browser's first render of Streamlit count.
            page = context.new_page()
            spawn_epoch = time.time() * 1000
            server.start()
            health_s = server.ready_at - server.started_at
            page.goto(first.url(server.base_url, PAGE_QUERIES.get(first.stem, "")))
            bs.wait_for_first_run(page, timeout=120, min_charts=1 if first in chart_pages else 0)
            cold_s = (epoch_ms(page, interactive_at(page)) - spawn_epoch) / 1000
            first_run_s = (epoch_ms(page, page.evaluate("window.__hlm.finished.at(-1).t"))
                           - spawn_epoch) / 1000
            page.close()
            report["cold_start"] = {"page": first.stem, "server_healthy_s": health_s,
                                    "first_run_finished_s": first_run_s,
                                    "first_page_interactive_s": cold_s}
            if args.warm:
                report["warm_up_s"] = warm_up(server.port)

            for app_page in pages:
                query = PAGE_QUERIES.get(app_page.stem, "")
                t0 = time.perf_counter()
                opens_ms, parts = [], []
                charts = 1 if app_page in chart_pages else 0
                for _ in range(args.open_repeats - 1):  # the extra opens, each tab closed
                    extra, extra_errors = open_page(context, app_page.url(server.base_url, query),
                                                    min_charts=charts)
                    opens_ms.append(interactive_at(extra))
                    parts.append(open_parts(extra))
                    extra.close()
                page, errors = open_page(context, app_page.url(server.base_url, query),
                                         min_charts=charts)
                opened_ms = interactive_at(page)  # the page clock starts at navigation
                opens_ms.append(opened_ms)
                parts.append(open_parts(page))
                entry = {"query": query, "open_ms": opens_ms[0], "opens_ms": opens_ms,
                         "open_parts": parts,
                         "sliders": []}
                report["pages"][app_page.stem] = entry
                if args.presses == 0:
                    entry["page_errors"] = errors
                    entry["wall_s"] = time.perf_counter() - t0
                    page.close()
                    continue
                # Pages drawn with show_views hold only the open tab's sliders: open each.
                for view in range(len(bs.view_tabs(page))) or [None]:
                    view_label = "" if view is None else bs.open_view(page, view)
                    if args.answer:
                        answer_questions(page)
                    for index in range(bs.slider_count(page)):
                        thumb = page.locator(bs.SLIDER_THUMB).nth(index)
                        if thumb.evaluate("(e) => !!e.closest('[data-testid=\"stForm\"]')"):
                            continue  # a question's guess: it waits for its form's button
                        bs.reveal(page, thumb)
                        bs.wait_for_idle(page, timeout=60, settle_ms=50)
                        label = bs.slider_label(page, index)
                        # A prefix: "Students per school" is enough for "Students per
                        # school (at most; a seeded random subsample)".
                        if only_sliders and not any(label.startswith(s) for s in only_sliders):
                            continue
                        if any(s["label"] == label for s in entry["sliders"]):
                            label += f" (slider {index + 1})"  # two sliders share a label
                        plan = plan_presses(*slider_range(page, index), args.presses)
                        samples = []
                        for key, cold in plan:
                            if args.pause_ms:  # a student's pace: reading the chart first
                                page.wait_for_timeout(args.pause_ms)
                            samples.append(dict(measure_press(page, index, key), cold=cold))
                        entry["sliders"].append({"label": label, "view": view_label,
                                                 "samples": samples})
                entry["page_errors"] = errors
                entry["wall_s"] = time.perf_counter() - t0
                page.close()
        finally:
            context.close()
            browser.close()
            server.stop()
    report["total_wall_s"] = time.perf_counter() - started
    report["machine"]["load_average_at_end"] = os.getloadavg()

    print_report(report)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1), encoding="utf-8")
    print(f"\nraw samples: {args.out}")
    return 0


def print_report(report: dict) -> None:
    cold = report["cold_start"]
    load = report["machine"]["load_average_at_start"]
    print(f"HLM Lab browser latency · {report['machine']['cpus']} CPUs · load average at start "
          f"{load[0]:.2f} · {report['presses_per_slider']} presses per slider"
          + (f", {report['pause_before_press_ms']} ms pause before each"
             if report.get("pause_before_press_ms") else ""))
    verdict = "within" if cold["first_page_interactive_s"] <= BUDGET_FIRST_PAGE_S else "OVER"
    print(f"cold start: first page ({cold['page']}) interactive "
          f"{cold['first_page_interactive_s']:.2f} s after the server was spawned ({verdict} the "
          f"{BUDGET_FIRST_PAGE_S:.0f} s budget): server healthy at {cold['server_healthy_s']:.2f} s, "
          f"its script run finished at {cold['first_run_finished_s']:.2f} s, charts drawn at "
          f"{cold['first_page_interactive_s']:.2f} s")
    if "warm_up_s" in report:
        print(f"then warmed as scripts/start.sh does (scripts/warm_worker.py): "
              f"{report['warm_up_s']:.1f} s, and {PREFETCH_SETTLE_S:.0f} s for its prefetcher")
    print("\nopen -> interactive, warm server, new tab:")
    for stem, entry in report["pages"].items():
        opens = entry.get("opens_ms", [entry["open_ms"]])
        others = (f"  (opens: {', '.join(f'{v:.0f}' for v in opens)}; median "
                  f"{statistics.median(opens):.0f} ms)" if len(opens) > 1 else "")
        print(f"  {stem + entry['query']:<44} {entry['open_ms']:6.0f} ms{others}")
        for part in entry.get("open_parts", []):
            script = part["plotly_js"]
            print(f"      run finished {part['first_run_finished_ms']:6.0f} ms, charts drawn "
                  + (f"{part['charts_drawn_ms']:6.0f} ms" if part["charts_drawn_ms"] else "     -")
                  + (f"; {script['name']} fetched {script['fetch_start_ms']:.0f}-"
                     f"{script['fetched_ms']:.0f} ms ({script['transfer_bytes'] / 1e6:.2f} MB "
                     f"sent)" if script else ""))
    if report["presses_per_slider"] == 0:
        print(f"\n(no slider presses); wall time {report['total_wall_s']:.0f} s")
        return
    header = f"  {'slider (latency = key -> rerun finished and chart redrawn)':<44.44} {'n':>4} {'median':>6} {'p95':>6} {'max':>6}"
    all_latencies = []
    for stem, entry in report["pages"].items():
        print(f"\n{stem}{entry['query']}  (ms)")
        if not entry["sliders"]:
            print("  no sliders")
            continue
        print(header)
        for slider in entry["sliders"]:
            done = [s for s in slider["samples"] if not s.get("skipped")]
            lat = [s["latency_ms"] for s in done]
            all_latencies += lat
            stats_all = summary(lat)
            flag = "  OVER budget" if stats_all["p95"] is not None and stats_all["p95"] > BUDGET_P95_MS else ""
            print(row(slider["label"], stats_all) + flag)
            print(row("    cold (first visit of each value)", summary([s["latency_ms"] for s in done if s["cold"]])))
            print(row("    warm (values seen before)", summary([s["latency_ms"] for s in done if not s["cold"]])))
            print(row("    of which rerun finished (all)", summary([s["finished_ms"] for s in done])))
            no_redraw = sum(1 for s in done if s["redrawn_ms"] is None)
            exceptions = sum(1 for s in done if s["exceptions"])
            if no_redraw or exceptions:
                print(f"      {no_redraw} presses redrew no chart; {exceptions} showed an exception box")
        if entry["page_errors"]:
            print(f"  page errors: {entry['page_errors']}")
    total = summary(all_latencies)
    print(f"\nall presses: n={total['n']} median {fmt(total['median'], 0)} ms, p95 "
          f"{fmt(total['p95'], 0)} ms, max {fmt(total['max'], 0)} ms (budget p95 <= "
          f"{BUDGET_P95_MS:.0f} ms); wall time {report['total_wall_s']:.0f} s")


if __name__ == "__main__":
    sys.exit(main())
