#!/usr/bin/env python3
"""What a hit of ui/result_cache.py costs, for a real HLM Lab result.

Fits the NELS88 lesson's three families (``hlmlab.models.compare_pooling`` on the synthetic
replica, all ten schools) and times, for that result: computing it, storing it, a disk hit
(a new worker: unpickle from the OS page cache) and a memory hit (the same worker again). ::

    python benchmarks/result_cache_timing.py
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hlmlab import datasets, models  # noqa: E402
from ui.result_cache import ResultCache, stable_key  # noqa: E402


def best_of(repeats: int, action) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> int:
    data = datasets.load_nels88_replica()
    compute = lambda: models.compare_pooling(data, "math", "homework", "schid")  # noqa: E731
    compute()  # imports and first-call costs out of the way
    key = stable_key("compare_pooling", ("nels88 replica", "math", "homework", "schid", True, True))
    with tempfile.TemporaryDirectory() as directory:
        fit_s = best_of(3, compute)
        first = ResultCache(directory)
        value = compute()
        store_s = best_of(5, lambda: first._write(key, value))
        first.get_or_compute(key, compute)  # into the memory tier (a disk hit)
        size = first.path_for(key).stat().st_size
        disk_s = best_of(20, lambda: ResultCache(directory).get_or_compute(key, compute))
        memory_s = best_of(200, lambda: first.get_or_compute(key, compute))
    print(f"| fit (compare_pooling, NELS88 replica, 10 schools) | {fit_s * 1000:.1f} ms |")
    print(f"| store: pickle + atomic write ({size / 1024:.0f} KiB) | {store_s * 1000:.1f} ms |")
    print(f"| disk hit (new worker: open + unpickle) | {disk_s * 1000:.2f} ms |")
    print(f"| memory hit (same worker) | {memory_s * 1e6:.0f} µs |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
