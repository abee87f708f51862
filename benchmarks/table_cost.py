#!/usr/bin/env python3
"""Server cost per slider move of each way to show a table (issue 11's investigation (b)).

Starts benchmarks/table_cost_app.py once, then for each way (st.dataframe with a pandas
frame, st.dataframe with a cached pyarrow Table, st.table, a precomputed HTML table through
st.html and through st.markdown, and no table at all) and each size (10, 50 rows) runs
benchmarks/class_load.py: a few students moving the slider many times with a short think
time. Reports the server's CPU seconds per move and the move latency, and the ForwardMsg
bytes the way sends. ::

    python benchmarks/table_cost.py                 # ~3 min
    python benchmarks/table_cost.py --moves 60 --students 4
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

import class_load  # noqa: E402

WAYS = ("none", "dataframe", "arrow", "table", "html", "markdown")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=3)
    parser.add_argument("--moves", type=int, default=40)
    parser.add_argument("--think", type=float, default=0.15)
    parser.add_argument("--sizes", default="10,50")
    args = parser.parse_args()
    port = class_load.free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "benchmarks/table_cost_app.py",
         "--server.headless", "true", "--browser.gatherUsageStats", "false",
         "--server.port", str(port), "--server.address", "127.0.0.1"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True)
    results = []
    try:
        if class_load.wait_healthy(port, 60) is None:
            raise RuntimeError("the table app did not start")
        print("| way | rows | server CPU per move | move p50 | move p95 |")
        print("|---|---|---|---|---|")
        for rows in [int(r) for r in args.sizes.split(",")]:
            for way in WAYS:
                argv = ["--port", str(port), "--slider", "Table seed", "-n", str(args.students),
                        "-k", str(args.moves), "--think", str(args.think), "--ramp", "0.3",
                        "--values", "random", "--query", f"way={way}&rows={rows}",
                        "--server-pid", str(server.pid)]
                # once untimed (fills the per-value caches), then measured
                asyncio.run(class_load.run_class(class_load.parse_options(argv)))
                report = asyncio.run(class_load.run_class(class_load.parse_options(argv)))
                assert report["errors_total"] == 0, report["errors"]
                row = {"way": way, "rows": rows,
                       "cpu_ms_per_move": round(1000 * report["server_cpu_s_per_move"], 1),
                       "p50_ms": report["move"]["p50_ms"], "p95_ms": report["move"]["p95_ms"]}
                results.append(row)
                print(f"| {way} | {rows} | {row['cpu_ms_per_move']} ms | {row['p50_ms']} ms "
                      f"| {row['p95_ms']} ms |", flush=True)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(20)
    out = ROOT / "benchmarks" / "out" / "table_cost.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
