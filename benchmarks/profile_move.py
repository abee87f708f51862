#!/usr/bin/env python3
"""Where a warm slider move's server time goes (issue 11's investigation (a)).

Starts one HLM Lab server (scripts/start.sh's flags), warms the page's slider values, then
samples the server with py-spy (``--gil``: only the thread holding the GIL, so the samples
are GIL time) while benchmarks/class_load.py moves the slider. Prints the share of GIL
samples under each part of the run (inclusive: a sample counts for every bucket its stack
passes through) and the hottest functions by own time. Needs ``py-spy`` (not a project
dependency: ``pip install --target /tmp/pyspy py-spy`` and ``--py-spy /tmp/pyspy/bin/py-spy``).

    python benchmarks/profile_move.py --page nels88_two_schools --query step=4 \\
        --slider "Students per school" --py-spy /tmp/pyspy/bin/py-spy
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

import class_load  # noqa: E402

RATE_HZ = 250
SAMPLING_DELAY_S = 3.0

# (bucket, pattern on one frame "function (file:line)"): first match per frame wins
BUCKETS = [
    ("Streamlit's source file watcher (sys.modules scan)", r"local_sources_watcher"),
    ("building tables (hlmlab/report.py)", r"hlmlab/report\.py"),
    ("st.dataframe / st.table: pandas -> Arrow", r"dataframe_util|elements/arrow\.py|arrow_table|pyarrow|marshall"),
    # pickle.loads is C: py-spy shows the Python line that calls it, DataCache.read_result
    ("st.cache_data hit: unpickle", r"DataCache\.read_result|_pickle|pickle\.loads"),
    ("cache key hashing", r"hashing\.py"),
    ("chart: show_chart / figure JSON", r"show_chart|prepare_chart|_plotly_chart|plotly|bidi_component|to_json"),
    ("pandas work in the page", r"pandas/core"),
    ("statsmodels / scipy (a fit)", r"statsmodels|scipy"),
    ("prefetch thread", r"hlmlab-prefetch|_Prefetcher"),
    ("protobuf / websocket send", r"protobuf|google/|tornado|websocket|forward_msg"),
    ("widgets and layout (streamlit/elements, st.fragment)", r"streamlit/elements|streamlit/delta_generator"),
]


def bucket_shares(collapsed: str) -> tuple[dict, list, int]:
    """Inclusive share per bucket and the top own-time functions, from py-spy's raw output."""
    inclusive = collections.Counter()
    own = collections.Counter()
    total = 0
    for line in collapsed.splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        count = int(count)
        total += count
        frames = stack.split(";")
        seen = set()
        for frame in frames:
            for name, pattern in BUCKETS:
                if name not in seen and re.search(pattern, frame):
                    seen.add(name)
                    break
        for name in seen:
            inclusive[name] += count
        own[frames[-1]] += count
    shares = {name: round(100.0 * inclusive[name] / total, 1) for name, _ in BUCKETS if total}
    return shares, own.most_common(15), total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--analyse", metavar="RAW",
                        help="only re-read a saved py-spy raw file and print its buckets")
    parser.add_argument("--page")
    parser.add_argument("--query", default="")
    parser.add_argument("--slider")
    parser.add_argument("--students", type=int, default=4)
    parser.add_argument("--moves", type=int, default=25)
    parser.add_argument("--think", type=float, default=0.3)
    parser.add_argument("--full-reruns", action="store_true")
    parser.add_argument("--py-spy", default="py-spy")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "out" / "profile"))
    args = parser.parse_args()
    if args.analyse:
        shares, hottest, samples = bucket_shares(Path(args.analyse).read_text())
        print(json.dumps({"gil_samples": samples, "inclusive_share_pct": shares,
                          "hottest_own": hottest}, indent=2))
        return 0
    if not (args.page and args.slider):
        parser.error("--page and --slider are needed (or --analyse RAW)")
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    port = class_load.free_port()
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
         "--browser.gatherUsageStats", "false", "--server.port", str(port)],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
        start_new_session=True)
    try:
        if class_load.wait_healthy(port, 60) is None:
            raise RuntimeError("server did not start")
        argv = ["--port", str(port), "--page", args.page, "--query", args.query, "--slider",
                args.slider, "-n", str(args.students), "-k", str(args.moves), "--think",
                str(args.think), "--ramp", "1", "--values", "warm", "--server-pid", str(server.pid)]
        if args.full_reruns:
            argv.append("--full-reruns")
        asyncio.run(class_load.run_class(class_load.parse_options(argv)))  # warm every value
        time.sleep(6)  # let the prefetcher finish (it drops tasks older than 5 s)
        tag = f"{args.page}{'_full' if args.full_reruns else ''}"
        raw = out_dir / f"{tag}.txt"
        spy_holder = {}

        def start_sampling_after_the_opens():
            # the students open their pages in the first second; sample only their moves
            time.sleep(SAMPLING_DELAY_S)
            spy_holder["process"] = subprocess.Popen(
                [args.py_spy, "record", "--pid", str(server.pid), "--gil", "--rate",
                 str(RATE_HZ), "--format", "raw", "--output", str(raw), "--duration", "600",
                 "--nonblocking"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            spy_holder["started"] = time.monotonic()

        sampler = threading.Thread(target=start_sampling_after_the_opens)
        class_started = time.monotonic()
        sampler.start()
        report = asyncio.run(class_load.run_class(class_load.parse_options(argv + ["--timeline"])))
        sampler.join()
        spy = spy_holder["process"]
        spy.send_signal(signal.SIGINT)
        spy.wait(30)
        window_start = spy_holder["started"] - class_started + 0.5  # py-spy's own start-up
        moves_in_window = sum(1 for finished, _ in report["timeline"] if finished >= window_start)
        shares, hottest, samples = bucket_shares(raw.read_text())
        result = {"page": args.page, "query": args.query, "slider": args.slider,
                  "moves": report["moves_done"], "moves_sampled": moves_in_window,
                  "full_reruns": args.full_reruns,
                  "server_cpu_ms_per_move": round(1000 * report["server_cpu_s_per_move"], 1),
                  "gil_ms_per_move": round(1000 * samples / RATE_HZ / max(moves_in_window, 1), 1),
                  "move_p50_ms": report["move"]["p50_ms"], "gil_samples": samples,
                  "inclusive_share_pct": shares,
                  "hottest_own": [[frame[:160], count] for frame, count in hottest]}
        (out_dir / f"{tag}.json").write_text(json.dumps(result, indent=2) + "\n")
        print(json.dumps(result, indent=2))
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(20)
    return 0


if __name__ == "__main__":
    sys.exit(main())
