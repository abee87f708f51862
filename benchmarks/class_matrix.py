#!/usr/bin/env python3
"""Run the lecture-hall scenarios of issue 11 with benchmarks/class_load.py, each on a fresh server.

For every scenario (page, slider, N, values) this starts a new server, so "cold" really is
cold (empty ``st.cache_data``), runs the class, stops the server and writes
``benchmarks/out/class/<tag>/<scenario>.json`` plus a Markdown table (``table.md``).

- ``--serve single``: one ``streamlit run app.py`` with scripts/start.sh's flags.
- ``--serve start``: ``bash scripts/start.sh`` itself (the README's one-process command, with
  its warm-up, scripts/warm_worker.py; ``--no-warm-workers`` turns that off).
- ``--serve class``: ``scripts/serve_class.sh`` (HAProxy in front of ``--workers`` workers);
  RSS and CPU are summed over the workers it lists in its pid file.

"warm" scenarios first send the same values once with one student (no think time), so the
measured class finds them cached, as a lecture does after the first few students.

Examples::

    python benchmarks/class_matrix.py --tag before --serve single --sizes 10,50,150
    python benchmarks/class_matrix.py --tag balanced --serve class --workers 2 --sizes 150
    python benchmarks/class_matrix.py --tag compare --compare-ws-load --sizes 50
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

import class_load  # noqa: E402  (a sibling script, not a package)

# (short name, page, query string, slider label, lock-step values): the table.
SCENARIOS = [
    ("nels88_per_school", "nels88_two_schools", "step=4", "Students per school", "30,20,45"),
    ("jsp_pupils", "jsp_schools", "jsp_view=5+·+When+separate+lines+are+fine",
     "Pupils per school", "30,20,45"),
    ("long_children", "longitudinal", "", "Number of children", "30,20,45"),
    ("jsp_drawn", "jsp_schools", "jsp_view=3+·+Three+kinds+of+lines", "Schools drawn", "3,7,5"),
    # The rest of app.py's pages, for the fresh-server first-load matrix (every lesson page).
    ("why_teachers", "why_multilevel", "", "Teachers per style", "30,20,45"),
    ("foundations_sd", "foundations", "foundations_view=2", "SD between individuals",
     "2.5,1.5,3.0"),
    ("macro_within", "macro_micro", "macro_view=3", "True within-school slope", "2.0,0.0,3.0"),
    ("home", "", "", "", ""),  # no slider: run with -k 0 (first loads only)
]
STREAMLIT_FLAGS = ["--server.headless", "true", "--browser.gatherUsageStats", "false"]


def wait_healthy_or_fail(port: int, timeout: float = 60.0) -> float:
    seconds = class_load.wait_healthy(port, timeout)
    if seconds is None:
        raise RuntimeError(f"no healthy server on port {port} after {timeout} s")
    return seconds


class Server:
    """A server started for one scenario: one Streamlit process or serve_class.sh."""

    def __init__(self, mode: str, workers: int, run_dir: Path, warm_workers: bool = True,
                 extra_flags: list | None = None):
        self.extra_flags = extra_flags or []
        self.mode = mode
        self.workers = workers
        self.warm_workers = warm_workers
        self.run_dir = run_dir
        self.port = class_load.free_port()
        self.process = None
        self.log = None

    def __enter__(self):
        # A result cache of this scenario's own (ui.panels' disk tier, shared by its workers):
        # with the machine's default one, "cold" would find the results of earlier runs.
        env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1",
                   HLMLAB_CACHE_DIR=str(self.run_dir / "results"))
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.log = open(self.run_dir / "server.log", "ab")
        if self.mode == "single":
            command = [sys.executable, "-m", "streamlit", "run", "app.py", *STREAMLIT_FLAGS,
                       "--server.port", str(self.port), *self.extra_flags]
        elif self.mode == "start":  # the README's one-process command, its warm-up included
            env.update(HLMLAB_WARM="1" if self.warm_workers else "0")
            command = ["bash", "scripts/start.sh", "--server.port", str(self.port),
                       *self.extra_flags]
        else:
            env.update(HLMLAB_PORT=str(self.port), HLMLAB_WORKERS=str(self.workers),
                       HLMLAB_RUN_DIR=str(self.run_dir / "serve"), HLMLAB_BIND="127.0.0.1",
                       HLMLAB_WORKER_BASE_PORT=str(class_load.free_port()),
                       HLMLAB_WARM="1" if self.warm_workers else "0")
            command = ["bash", "scripts/serve_class.sh"]
        self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=self.log,
                                        stderr=subprocess.STDOUT, start_new_session=True)
        started = time.monotonic()
        if self.mode == "class":
            self.wait_workers_ready()
        # through the balancer: healthy once a worker answers (with warm-up: once it is warm)
        wait_healthy_or_fail(self.port, 240)
        self.healthy_after = time.monotonic() - started
        return self

    def wait_workers_ready(self, timeout: float = 120.0) -> None:
        ready = self.run_dir / "serve" / "ready"
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if ready.exists():
                return
            if self.process.poll() is not None:
                raise RuntimeError(f"serve_class.sh exited: see {self.run_dir / 'server.log'}")
            time.sleep(0.2)
        raise RuntimeError("serve_class.sh never reported its workers ready")

    @property
    def pid_args(self) -> dict:
        if self.mode in ("single", "start"):  # start.sh execs the server: the same pid
            return {"server_pid": [self.process.pid], "pid_file": None}
        return {"server_pid": [], "pid_file": str(self.run_dir / "serve" / "workers.pids")}

    def __exit__(self, *exc):
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=20)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.log.close()


def class_options(port: int, scenario: tuple, n: int, values: str, args, pid_args: dict,
                  lockstep: bool = False, extra: list | None = None):
    name, page, query, slider, lockstep_values = scenario
    argv = ["--port", str(port), "--page", page, "--query", query, "--slider", slider,
            "-n", str(n), "-k", str(args.k if slider else 0), "--think", str(args.think), "--ramp", str(args.ramp),
            "--max-wall", str(args.max_wall), "--seed", str(args.seed)]
    if lockstep:
        argv += ["--lockstep", "--value-list", lockstep_values]
    else:
        argv += ["--values", values]
    if args.expect_chart and name not in ("jsp_pupils", "home"):
        argv += ["--expect-element", "bidi_component"]
    for pid in pid_args["server_pid"]:
        argv += ["--server-pid", str(pid)]
    if pid_args["pid_file"]:
        argv += ["--pid-file", pid_args["pid_file"]]
    return class_load.parse_options(argv + (extra or []))


def prewarm(port: int, scenario: tuple, args, lockstep: bool) -> None:
    """One student, no think time, the same values the class will send (fills the caches)."""
    options = class_options(port, scenario, 1, "warm", args, {"server_pid": [], "pid_file": None},
                            lockstep)
    options.think, options.ramp, options.lockstep = 0.0, 0.0, False
    asyncio.run(class_load.run_class(options))


def run_scenario(scenario, n, values, args, out_dir: Path, extra=None) -> dict:
    lockstep = values == "lockstep"
    label = f"{scenario[0]}_n{n}_{values}"
    with Server(args.serve, args.workers, out_dir / "runs" / label, args.warm_workers,
                args.streamlit_flag) as server:
        if values == "warm" and args.prewarm:
            prewarm(server.port, scenario, args, lockstep=False)
        options = class_options(server.port, scenario, n, "warm" if values != "cold" else "cold",
                                args, server.pid_args, lockstep, extra)
        summary = asyncio.run(class_load.run_class(options))
        summary["server_ready_after_s"] = round(server.healthy_after, 2)
        summary["serve"] = {"mode": args.serve, "workers": args.workers if args.serve == "class" else 1}
    (out_dir / f"{label}.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(summary["table_row"], flush=True)
    return summary


def render_table(out_dir: Path) -> str:
    """The Markdown table of every report in ``out_dir`` (re-rendered from the JSON files)."""
    def order(path: Path):
        name, _, rest = path.stem.rpartition("_n")
        size, _, values = rest.partition("_")
        names = [s[0] for s in SCENARIOS]
        return (names.index(name) if name in names else 99, int(size),
                ("cold", "warm", "lockstep").index(values) if values in ("cold", "warm", "lockstep") else 9)

    rows = []
    for path in sorted(out_dir.glob("*.json"), key=order):
        summary = json.loads(path.read_text())
        page = summary["url"].rsplit("/", 1)[1]
        options = argparse.Namespace(
            page=page, query=summary["query"], slider=summary["slider"], n=summary["n"],
            lockstep=summary["lockstep"], value_list=summary["value_list"] or [],
            values=summary["values"])
        rows.append(class_load.table_row(options, summary))
    return class_load.TABLE_HEADER + "\n" + "\n".join(rows) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tag", required=True, help="output folder under benchmarks/out/class/")
    parser.add_argument("--render", action="store_true",
                        help="only print the table of the reports already in the tag's folder")
    parser.add_argument("--serve", choices=("single", "start", "class"), default="single")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--sizes", default="10,50,150")
    parser.add_argument("--values", default="cold,warm,lockstep",
                        help="comma list of cold, warm, lockstep (lockstep only at the largest N)")
    parser.add_argument("--scenarios", default=",".join(s[0] for s in SCENARIOS))
    parser.add_argument("-k", type=int, default=5)
    parser.add_argument("--think", type=float, default=2.0)
    parser.add_argument("--ramp", type=float, default=10.0)
    parser.add_argument("--max-wall", type=float, default=300.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-expect-chart", dest="expect_chart", action="store_false")
    parser.add_argument("--no-warm-workers", dest="warm_workers", action="store_false",
                        help="--serve class: workers join as soon as they answer (no warm-up)")
    parser.add_argument("--streamlit-flag", action="append", default=[],
                        help="--serve single: an extra streamlit flag, e.g. "
                             "--streamlit-flag=--server.fileWatcherType=none (repeatable)")
    parser.add_argument("--no-prewarm", dest="prewarm", action="store_false",
                        help="warm scenarios: do not send the values once before the class")
    args = parser.parse_args()
    out_dir = ROOT / "benchmarks" / "out" / "class" / args.tag
    if args.render:
        print(render_table(out_dir), end="")
        return 0
    out_dir.mkdir(parents=True, exist_ok=True)
    sizes = [int(s) for s in args.sizes.split(",")]
    wanted = args.values.split(",")
    rows = []
    print(class_load.TABLE_HEADER, flush=True)
    for scenario in [s for s in SCENARIOS if s[0] in args.scenarios.split(",")]:
        for n in sizes:
            for values in wanted:
                if values == "lockstep" and n != max(sizes):
                    continue
                rows.append(run_scenario(scenario, n, values, args, out_dir)["table_row"])
                (out_dir / "table.md").write_text(class_load.TABLE_HEADER + "\n" + "\n".join(rows) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
