"""Compute times of the Foundations lesson's panels (numbers, not pass/fail).

    OPENBLAS_NUM_THREADS=1 python benchmarks/foundations_compute_times.py [repeats]

Each call is what one uncached slider press costs (wall time, and the process's CPU time,
which a machine busy with other work inflates less): ``compute_sources`` / ``compute_experiment``
with a fresh seed every repeat (so the simulation's draws are not cached either), fits and
figures included. Rows: every design at its defaults (and with one reading where that changes
the model), the heaviest slider settings, and the experiment with either mechanism.
"""

from __future__ import annotations

import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from hlmlab.analyses import foundations as F  # noqa: E402

SOURCES = {
    "sources I (defaults)": F.SourcesSettings(design="I"),
    "sources I, one reading": F.SourcesSettings(design="I", readings=1),
    "sources II (defaults)": F.SourcesSettings(design="II"),
    "sources II, one reading": F.SourcesSettings(design="II", readings=1),
    "sources III (defaults)": F.SourcesSettings(design="III"),
    "sources III, one reading": F.SourcesSettings(design="III", readings=1),
    "sources IV (defaults)": F.SourcesSettings(design="IV"),
    "sources II, largest (80 x 6 x 4 readings)": F.SourcesSettings(
        design="II", n_families=80, members=6, readings=4),
    "sources III, largest (150 x 8 x 4 readings)": F.SourcesSettings(
        design="III", n_individuals=150, occasions=8, readings=4),
    "sources IV, largest (80 x 6 x 8 occasions)": F.SourcesSettings(
        design="IV", n_families=80, members=6, occasions=8),
}
EXPERIMENTS = {
    "experiment, teacher (defaults)": F.ExperimentSettings(),
    "experiment, peers (defaults)": F.ExperimentSettings(mechanism="peers"),
    "experiment, largest (25 x 2 classes of 30, 1000 runs)": F.ExperimentSettings(
        classes_per_arm=25, pupils_per_class=30, n_experiments=1000),
}


def summary(name: str, seconds: list[float], cpu: list[float]) -> None:
    ms, cpu_ms = np.asarray(seconds) * 1000, np.asarray(cpu) * 1000
    print(f"{name:54s} wall median {np.median(ms):4.0f} ms  p95 {np.percentile(ms, 95):4.0f} ms  "
          f"| CPU median {np.median(cpu_ms):4.0f} ms  p95 {np.percentile(cpu_ms, 95):4.0f} ms")


def main(repeats: int = 10) -> None:
    F.compute_sources(F.SourcesSettings(seed=10_000))  # imports and statsmodels warm-up
    F.compute_experiment(F.ExperimentSettings(seed=10_000))
    for panel, compute in ((SOURCES, F.compute_sources), (EXPERIMENTS, F.compute_experiment)):
        for name, settings in panel.items():
            times, cpu = [], []
            for seed in range(repeats):
                fresh = replace(settings, seed=1000 + seed)
                start, start_cpu = time.perf_counter(), time.process_time()
                compute(fresh)
                times.append(time.perf_counter() - start)
                cpu.append(time.process_time() - start_cpu)
            summary(name, times, cpu)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10)
