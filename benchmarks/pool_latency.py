"""Pool the presses of several ``browser_latency.py`` runs, per page and tab.

    python benchmarks/browser_latency.py --presses 8 --pages macro_micro --out benchmarks/out/mm_1.json
    python benchmarks/browser_latency.py --presses 8 --pages macro_micro --out benchmarks/out/mm_2.json
    python benchmarks/pool_latency.py benchmarks/out/mm_*.json

One run's p95 over a tab's 40 presses moved by up to 100 ms between runs of the same code on
this 2-core machine (session 8, benchmarks/README.md): a budget is read from several runs pooled.
For each page and tab this prints the presses' latency (median / p95 / max), their parts on
the page's clock (key -> rerun request sent; sent -> script finished, which includes the
browser handling the deltas before that message; finished -> every chart redrawn, floored
at 0), and each run's own p95, so the spread between runs is in view.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

from browser_latency import BUDGET_P95_MS, summary


def pooled(reports: list[dict]) -> dict:
    """``{(page, tab): {"latency": [...], "sent": [...], "server": [...], "draw": [...],
    "runs": [[latencies of run 1], ...]}}`` over every press of every report."""
    out: dict = defaultdict(lambda: {"latency": [], "sent": [], "server": [], "draw": [],
                                     "runs": []})
    for report in reports:
        for stem, entry in report["pages"].items():
            this_run: dict = defaultdict(list)
            for slider in entry["sliders"]:
                key = (stem, slider.get("view") or "")
                for press in slider["samples"]:
                    if press.get("skipped"):
                        continue
                    parts = out[key]
                    parts["latency"].append(press["latency_ms"])
                    parts["sent"].append(press["sent_ms"])
                    parts["server"].append(press["finished_ms"] - press["sent_ms"])
                    if press["redrawn_ms"] is not None:
                        parts["draw"].append(max(0.0, press["redrawn_ms"] - press["finished_ms"]))
                    this_run[key].append(press["latency_ms"])
            for key, latencies in this_run.items():
                out[key]["runs"].append(latencies)
    return dict(out)


def pooled_by_slider(reports: list[dict]) -> dict:
    """``{(page, tab, slider label): [[latencies of run 1], ...]}``."""
    out: dict = defaultdict(list)
    for report in reports:
        for stem, entry in report["pages"].items():
            for slider in entry["sliders"]:
                out[(stem, slider.get("view") or "", slider["label"])].append(
                    [press["latency_ms"] for press in slider["samples"] if not press.get("skipped")])
    return dict(out)


def _p95(values: list[float]) -> float:
    return summary(values)["p95"]


def _triple(values: list[float]) -> str:
    stats = summary(values)
    if not stats["n"]:
        return "-"
    return f"{stats['median']:.0f} / {stats['p95']:.0f} / {stats['max']:.0f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("reports", nargs="+", type=Path, help="browser_latency.py --out files")
    parser.add_argument("--per-slider", action="store_true",
                        help="also each slider's presses pooled over the runs")
    args = parser.parse_args(argv)
    reports = [json.loads(path.read_text(encoding="utf-8")) for path in args.reports]
    print(f"{len(reports)} runs pooled; ms as median / p95 / max (budget p95 <= {BUDGET_P95_MS:.0f})")
    for (stem, tab), parts in pooled(reports).items():
        flag = "  OVER budget" if _p95(parts["latency"]) > BUDGET_P95_MS else ""
        print(f"\n{stem}{' · ' + tab if tab else ''}: {len(parts['latency'])} presses{flag}")
        print(f"  latency            {_triple(parts['latency'])}")
        print(f"  key -> sent        {_triple(parts['sent'])}")
        print(f"  sent -> finished   {_triple(parts['server'])}")
        print(f"  finished -> drawn  {_triple(parts['draw'])}")
        print("  each run's p95     " + ", ".join(f"{_p95(run):.0f}" for run in parts["runs"]))
    if args.per_slider:
        print("\neach slider, pooled: n, median / p95 / max; each run's p95")
        for (stem, tab, label), runs in pooled_by_slider(reports).items():
            presses = [value for run in runs for value in run]
            flag = "  OVER budget" if _p95(presses) > BUDGET_P95_MS else ""
            each_run = ", ".join(f"{_p95(run):.0f}" for run in runs)
            print(f"  {stem} {tab[:4]:4} {label[:44]:44} {len(presses):3d}  {_triple(presses):>15}"
                  f"  ({each_run}){flag}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
