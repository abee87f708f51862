"""Fit times behind the longitudinal page's sliders (numbers, not pass/fail).

    python benchmarks/longitudinal_fit_times.py [draws]

For random slider settings (seeded) it times what one uncached slider change costs: Part 1's
fast fits (pooled + the two decomposition models; the chart is drawn after these), Part 1's
growth model (random intercept, the default, and random slope, the toggle: drawn when
ready), Part 2's two analyses, and the real data fits (Oxford boys by REML and by ML).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from hlmlab.analyses import longitudinal as L  # noqa: E402
from hlmlab.twolevel import fit_multilevel  # noqa: E402


def timed(function, *args):
    start = time.perf_counter()
    function(*args)
    return time.perf_counter() - start


def summary(name, seconds):
    s = np.asarray(seconds) * 1000
    print(f"{name:44s} n={len(s):3d}  median {np.median(s):7.0f} ms  p95 {np.percentile(s, 95):7.0f} ms  max {s.max():7.0f} ms")


def main(draws: int = 20) -> None:
    rng = np.random.default_rng(0)
    fast, intercept, slow, part2 = [], [], [], []
    fit_multilevel(L.simulate_growth(), "score", "time", "child")  # warm imports
    for _ in range(draws):
        settings = (int(rng.choice(np.arange(10, 201, 10))), float(rng.choice(np.arange(0.2, 3.01, 0.1))),
                    float(rng.choice(np.arange(0, 12.1, 0.5))), float(rng.choice(np.arange(-15, 10.1, 0.5))),
                    float(rng.choice(np.arange(0, 10.1, 0.5))), float(rng.choice(np.arange(0, 4.01, 0.25))),
                    float(rng.choice(np.arange(0.5, 8.1, 0.5))))
        data = L.simulate_reading(*settings)
        fast.append(timed(L.reading_comparison, data))
        intercept.append(timed(L.fit_reading_growth, data))
        slow.append(timed(L.fit_reading_growth, data, True))
        growth = L.simulate_growth(60, int(rng.integers(2, 9)), float(rng.choice(np.arange(0, 0.61, 0.05))),
                                   float(rng.choice(np.arange(0, 1.01, 0.1))))
        part2.append(timed(L.growth_comparison, growth))
    summary("Part 1 chart (pooled + 2 decompositions)", fast)
    summary("Part 1 growth model (1 | child), default", intercept)
    summary("Part 1 growth model (age | child), toggle", slow)
    summary("Part 2 (complete cases + MixedLM)", part2)
    summary("Oxboys: 2 models by REML and by ML", [timed(L.oxboys_growth)])
    eg = L.load_egsingle()
    summary("egsingle (year | childid)", [timed(fit_multilevel, eg, "math", "year", "childid")])
    summary("egsingle (year | schoolid)", [timed(fit_multilevel, eg, "math", "year", "schoolid")])


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
