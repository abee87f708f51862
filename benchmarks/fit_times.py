"""How long the model fits behind the lessons take, without Streamlit or a browser.

    python benchmarks/fit_times.py [--repeats 5] [--max-seconds 10] [--skip-reference]

Times, in this process after one untimed warm-up fit (imports and first-call costs excluded):

- every fit the NELS88 page can ask for: the deck's two schools and all ten schools x random
  intercept / random intercept and slope x REML / ML x at most 5, 10, 20 or 70 students per
  school (``hlmlab.datasets.subsample_groups(data, "schid", k, seed=88)`` as the page does),
  each with ``hlmlab.twolevel.fit_multilevel`` and with ``compare_pooling`` (pooled, per-school
  and multilevel fits plus their lines: what one slider move costs the server when its
  cache misses);
- ``fit_multilevel`` on every lme4 reference case of tests/reference/cases.csv.

Each is run ``--repeats`` times (fewer when a case has used up ``--max-seconds``, never less
than twice) and reported as median and min in ms, with BLAS limited to one thread as the
app's server does (``--blas-threads 0`` for the library default). Then, separately, the import time of
statsmodels and of hlmlab.twolevel in a fresh interpreter (the cost a cold server pays once).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))
sys.path.insert(0, str(REPO_ROOT / "tests"))

DECK_SCHOOLS = (24725, 62821)
PER_SCHOOL = (5, 10, 20, 70)
SUBSAMPLE_SEED = 88  # pages/nels88_two_schools.py


def time_calls(call, repeats: int, max_seconds: float) -> list[float]:
    """Wall times in ms of ``call()``, ``repeats`` times or until ``max_seconds`` (>= 2 runs)."""
    times: list[float] = []
    started = time.perf_counter()
    while len(times) < repeats:
        t0 = time.perf_counter()
        call()
        times.append((time.perf_counter() - t0) * 1000)
        if len(times) >= 2 and time.perf_counter() - started > max_seconds:
            break
    return times


def import_seconds(module: str, runs: int = 3) -> list[float]:
    """Seconds to import ``module`` in a fresh interpreter, ``runs`` times."""
    code = (f"import time; t = time.perf_counter(); import {module}; "
            "print(time.perf_counter() - t)")
    out = []
    for _ in range(runs):
        result = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, check=True,
                                capture_output=True, text=True)
        out.append(float(result.stdout.strip().splitlines()[-1]))
    return out


def nels88_cases(data):
    from hlmlab.datasets import subsample_groups

    school_sets = {"deck's two schools": DECK_SCHOOLS, "all schools": tuple(sorted(data["schid"].unique()))}
    for set_name, schools in school_sets.items():
        chosen = data[data["schid"].isin(schools)]
        for random_slope in (False, True):
            for reml in (True, False):
                for k in PER_SCHOOL:
                    frame = subsample_groups(chosen, "schid", k, seed=SUBSAMPLE_SEED)
                    label = (f"{set_name}, {'RI+slope' if random_slope else 'RI'}, "
                             f"{'REML' if reml else 'ML'}, <= {k}/school")
                    yield label, frame, random_slope, reml


def reference_cases():
    import pandas as pd

    from reference.reference_data import load

    cases = pd.read_csv(REPO_ROOT / "tests" / "reference" / "cases.csv", dtype=str,
                        keep_default_na=False)
    loaded = {}
    for case in cases.itertuples(index=False):
        if case.dataset not in loaded:
            loaded[case.dataset] = load(case.dataset)
        data = loaded[case.dataset]
        if case.groups_subset:
            data = data[data[case.group].astype(str).isin(case.groups_subset.split())]
        yield case, data


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--max-seconds", type=float, default=10.0,
                        help="stop repeating a case after this long (default 10)")
    parser.add_argument("--skip-reference", action="store_true")
    parser.add_argument("--blas-threads", type=int, default=1,
                        help="BLAS threads; 1 (default) as the app's server sets them, 0 = library default")
    args = parser.parse_args(argv)

    import os

    from hlmlab import datasets
    from hlmlab.pooling import compare_pooling
    from hlmlab.twolevel import fit_multilevel, warm_up

    if args.blas_threads:
        # As ui/process.py prepare_process() does in the server: load scipy's BLAS, then
        # limit every BLAS / OpenMP pool, so these times are the ones a session waits for.
        import scipy.linalg  # noqa: F401
        from threadpoolctl import threadpool_limits

        threadpool_limits(args.blas_threads)

    load = os.getloadavg()
    print(f"HLM Lab fit times · {os.cpu_count()} CPUs · load average {load[0]:.2f} · "
          f"BLAS threads {args.blas_threads or 'default'} · "
          f"{args.repeats} repeats (fewer past {args.max_seconds:g} s per case) · ms")
    warm_start = time.perf_counter()
    warm_up()
    print(f"untimed warm-up fit (imports statsmodels in this process): "
          f"{(time.perf_counter() - warm_start) * 1000:.0f} ms\n")

    data = datasets.load_nels88_replica()
    header = f"{'':<52} {'rows':>5} {'fit_multilevel':>16} {'compare_pooling':>17}"
    print("NELS88 lesson fits (synthetic replica)")
    print(header)
    print(f"{'':<52} {'':>5} {'median':>8}{'min':>8} {'median':>9}{'min':>8}")
    all_fit, all_compare = [], []
    for label, frame, random_slope, reml in nels88_cases(data):
        fit = time_calls(lambda: fit_multilevel(frame, "math", "homework", "schid", random_slope, reml),
                         args.repeats, args.max_seconds)
        compare = time_calls(lambda: compare_pooling(frame, "math", "homework", "schid", random_slope,
                                        reml),
                             args.repeats, args.max_seconds)
        all_fit.append(statistics.median(fit))
        all_compare.append(statistics.median(compare))
        print(f"{label:<52} {len(frame):>5} {statistics.median(fit):8.0f}{min(fit):8.0f} "
              f"{statistics.median(compare):9.0f}{min(compare):8.0f}")
    print(f"{'over the 32 cases: median of medians / max median':<52} {'':>5} "
          f"{statistics.median(all_fit):8.0f}{max(all_fit):8.0f} "
          f"{statistics.median(all_compare):9.0f}{max(all_compare):8.0f}")

    if not args.skip_reference:
        print("\nlme4 reference cases (tests/reference/cases.csv), fit_multilevel")
        print(f"{'':<34} {'rows':>6} {'groups':>6} {'median':>8} {'min':>8} {'runs':>5}")
        for case, frame in reference_cases():
            covariates = tuple(case.covariates.split())
            predictor = case.predictor or None
            times = time_calls(
                lambda: fit_multilevel(frame, case.outcome, predictor, case.group,
                                       random_slope=case.random_slope == "TRUE",
                                       reml=case.reml == "TRUE", covariates=covariates),
                args.repeats, args.max_seconds)
            print(f"{case.case:<34} {len(frame):>6} {frame[case.group].nunique():>6} "
                  f"{statistics.median(times):8.0f} {min(times):8.0f} {len(times):>5}")

    print("\nimport in a fresh interpreter (3 runs, s):")
    for module in ("statsmodels.formula.api", "hlmlab.twolevel"):
        runs = import_seconds(module)
        print(f"  import {module:<28} median {statistics.median(runs):.2f} s, "
              f"min {min(runs):.2f} s  ({', '.join(f'{r:.2f}' for r in runs)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
