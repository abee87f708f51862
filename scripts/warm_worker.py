#!/usr/bin/env python3
"""Warm a Streamlit server as it starts: open every lesson once, then (optionally) mark it
ready for the load balancer.

scripts/start.sh runs this in the background beside the server it starts, so every server
(the one-process default and each of scripts/serve_class.sh's workers, which are start.sh
processes) warms itself the same way. It waits for the server's ``/_stcore/health``, then
opens each lesson page once as a browser tab would: the first run imports pandas, plotly and
statsmodels and computes the lesson's default panels into the result cache (memory, and the
machine's disk tier, where the other workers and a restarted server find them). The deck's
NELS88 step 4 goes first, then every page of app.py in its menu order; one page at a time,
so a student who arrives meanwhile competes with one run only, and shares its results.

With ``--ready-file`` it then writes that file (``static/ready/NAME.txt``): HAProxy's health
check asks for it through the worker's own static file serving, so a worker that is not warm
(or not running) receives no students. serve_class.sh removes it before a worker (re)starts.
``--parent-pid`` stops the warm-up when that process (the server) is gone.

Usage::

    python3 scripts/warm_worker.py --port 8501
    python3 scripts/warm_worker.py --port 8601 --ready-file static/ready/127.0.0.1_8601.txt
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from class_load import Disconnected, RunTimeout, open_page_once, wait_healthy  # noqa: E402

# Macro and micro fits real data in its Hsb82 views (0.5-3 s a setting) and has only 12
# settings of them: every one is computed here, as is each view's question settings (the
# results go to the machine's shared result cache, so one worker computes them for all).
MACRO_MICRO_PAGES = (
    "macro_micro", *(f"macro_micro?prop={key}" for key in
                     ("micro", "macro", "macro_to_micro", "cross_level", "emergent")),
    "macro_micro?macro_view=2", "macro_micro?macro_view=2&cent_method=ML",
    "macro_micro?macro_view=3", "macro_micro?macro_view=4",
    "macro_micro?macro_view=4&sector_method=ML", "macro_micro?macro_view=4&sector_mean=1",
    "macro_micro?macro_view=4&sector_method=ML&sector_mean=1",
    "macro_micro?macro_view=5", "macro_micro?macro_view=6",
)
# Foundations' labs open on tabs 2 and 3: their defaults are warmed too.
FOUNDATIONS_PAGES = ("foundations?foundations_view=2", "foundations?foundations_view=3")
# What a lecture opens first: the deck's NELS88 step 4 (README's example link).
FIRST_PAGES = ("nels88_two_schools?step=4",)


def app_pages(app_file: Path = ROOT / "app.py") -> list[str]:
    """The URL path of every page app.py lists (``st.Page("pages/x.py", ...)``), in its
    order; the default page is ``""``. Read from the source, so a new lesson is warmed too."""
    addresses = []
    for node in ast.walk(ast.parse(app_file.read_text(encoding="utf-8"))):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr == "Page" and node.args
                and isinstance(node.args[0], ast.Constant)):
            default = any(k.arg == "default" and isinstance(k.value, ast.Constant)
                          and k.value.value is True for k in node.keywords)
            addresses.append("" if default else Path(node.args[0].value).stem)
    return addresses


def default_pages() -> list[str]:
    """NELS88 step 4 first, then every page of app.py at its defaults, then the extra
    settings a page asks to have warmed (Macro and micro's real-data views)."""
    pages = list(FIRST_PAGES)
    pages += [page for page in app_pages() if page not in pages]
    return pages + [page for page in (*FOUNDATIONS_PAGES, *MACRO_MICRO_PAGES)
                    if page not in pages]


def alive(pid: int | None) -> bool:
    if pid is None:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


async def warm(port: int, pages: list[str], timeout: float) -> list[str]:
    """Open every page in turn; return the problems seen (empty when all ran cleanly)."""
    problems = []
    for address in pages:
        page, _, query = address.partition("?")
        try:
            outcome = await open_page_once(port, page, query, timeout=timeout)
        except (Disconnected, RunTimeout, OSError) as error:
            problems.append(f"/{address}: {error!r}")
            continue
        problems += [f"/{address}: {text}" for text in outcome.exceptions]
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--ready-file", type=Path,
                        help="write this file once warm (the balancer's readiness check)")
    parser.add_argument("--pages", default="",
                        help="comma-separated page addresses to open, e.g. "
                             "'nels88_two_schools?step=4,' (default: NELS88 step 4, then "
                             "every page of app.py)")
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--parent-pid", type=int,
                        help="the server's process: stop waiting when it has ended")
    args = parser.parse_args()
    pages = args.pages.split(",") if args.pages else default_pages()
    started = time.monotonic()
    # Polled often: the sooner the warm-up starts, the likelier it comes before a student.
    if wait_healthy(args.port, args.timeout, interval=0.05,
                    keep_waiting=lambda: alive(args.parent_pid)) is None:
        print(f"warm_worker: port {args.port} never became healthy", file=sys.stderr)
        return 1
    healthy = time.monotonic() - started
    problems = asyncio.run(warm(args.port, pages, args.timeout))
    for problem in problems:
        # A page that fails here fails for students too; the worker still serves the others.
        print(f"warm_worker: port {args.port}: {problem}", file=sys.stderr)
    if args.ready_file is None:
        print(f"warm_worker: port {args.port} warm after {time.monotonic() - started:.1f} s "
              f"(healthy after {healthy:.1f} s)", file=sys.stderr)
        return 0
    args.ready_file.parent.mkdir(parents=True, exist_ok=True)
    temporary = args.ready_file.with_suffix(".tmp")
    temporary.write_text(f"warm after {time.monotonic() - started:.1f} s "
                         f"(healthy after {healthy:.1f} s)\n")
    temporary.replace(args.ready_file)
    print(f"warm_worker: port {args.port} warm after {time.monotonic() - started:.1f} s "
          f"(healthy after {healthy:.1f} s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
