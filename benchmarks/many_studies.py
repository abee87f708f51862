"""Time the "Why multilevel?" lab's "Run many studies" button (numbers, not pass/fail).

Budget (issue 5): the default run, 500 studies of 10 teachers per style x 20 pupils per
class at ICC 0.2, within 5 s on the 2-core machine. Also times the largest run the sliders
allow (50 teachers per style x 50 pupils, 2000 studies).

    python benchmarks/many_studies.py [--repeats 7]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hlmlab.analyses.why_multilevel import run_many_studies  # noqa: E402

RUNS = {
    "default (10 teachers/style x 20 pupils, ICC 0.2, 500 studies)": (10, 20, 0.2, 500),
    "largest (50 teachers/style x 50 pupils, ICC 0.9, 2000 studies)": (50, 50, 0.9, 2000),
}


def time_run(teachers, pupils, icc, n_studies, repeats):
    times = []
    for repeat in range(repeats):
        start = time.perf_counter()
        run_many_studies(teachers, pupils, icc, n_studies=n_studies, seed=repeat,
                         progress=lambda done: None)
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    run_many_studies(2, 2, 0.1, n_studies=10)  # warm up imports
    for label, settings in RUNS.items():
        times = time_run(*settings, args.repeats)
        print(f"{label}: median {statistics.median(times) * 1000:.1f} ms, "
              f"max {max(times) * 1000:.1f} ms over {args.repeats} runs")


if __name__ == "__main__":
    main()
