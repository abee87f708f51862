#!/usr/bin/env python3
"""Warm one Streamlit worker, then mark it ready for the load balancer.

scripts/serve_class.sh runs this beside every worker it starts. It waits for the worker's
``/_stcore/health``, opens each lesson page once as a browser tab would (that first run
imports statsmodels and computes the default fits into the worker's ``st.cache_data``), and
only then writes the worker's readiness file under ``static/ready/``. HAProxy's health check
asks for that file through the worker's own static file serving, so a worker that is not warm
(or not running) receives no students. The file is removed before a worker (re)starts.

Usage::

    python3 scripts/warm_worker.py --port 8601 --ready-file static/ready/127.0.0.1_8601.txt
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from class_load import Disconnected, RunTimeout, open_page_once, wait_healthy  # noqa: E402

# The pages a lecture opens first: each lesson at its defaults, and the deck's step 4.
DEFAULT_PAGES = ("", "nels88_two_schools?step=4", "nels88_two_schools", "jsp_schools",
                 "why_multilevel", "longitudinal", "foundations",
                 "foundations?foundations_view=2", "foundations?foundations_view=3")


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
    parser.add_argument("--ready-file", type=Path, required=True)
    parser.add_argument("--pages", default=",".join(DEFAULT_PAGES),
                        help="comma-separated page addresses to open, e.g. 'nels88_two_schools?step=4'")
    parser.add_argument("--timeout", type=float, default=120.0)
    args = parser.parse_args()
    started = time.monotonic()
    if wait_healthy(args.port, args.timeout) is None:
        print(f"warm_worker: port {args.port} never became healthy", file=sys.stderr)
        return 1
    healthy = time.monotonic() - started
    problems = asyncio.run(warm(args.port, args.pages.split(","), args.timeout))
    for problem in problems:
        # A page that fails here fails for students too; the worker still serves the others.
        print(f"warm_worker: port {args.port}: {problem}", file=sys.stderr)
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
