"""The three-level JSP fit: HLM Lab against lme4, and statsmodels' own optimiser (numbers, not
pass/fail).

    OPENBLAS_NUM_THREADS=1 python benchmarks/three_level_vs_lme4.py [--statsmodels-timeout S]

Model: ``math ~ factor(year) + (1 | school) + (1 | school:pupil)``, REML, on the JSP synthetic
replica (3236 records, 1192 pupils, 49 schools).

1. ``hlmlab.threelevel.fit_three_level``: median of 7 fits after one warm-up (the app's fit: the
   optimum on lme4's profiled deviance, then statsmodels' likelihood at that point as a check).
2. lme4 ``lmer`` with its default control, via ``Rscript`` when R and lme4 are installed:
   median of 7 fits after one warm-up, timed inside R (R's start-up is not counted).
3. statsmodels ``MixedLM.fit`` with a variance component for pupils (what the issue names),
   timed once in a subprocess with a timeout: it documents why the app does not use
   statsmodels' optimiser for this model.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from hlmlab import datasets  # noqa: E402
from hlmlab.threelevel import ThreeLevelFit, fit_three_level  # noqa: E402

REPEATS = 7

R_SCRIPT = r"""
suppressPackageStartupMessages(library(lme4))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1])
d$school <- factor(d$school)
d$pupil <- factor(d$pupil)
fit <- function() lmer(math ~ factor(year) + (1 | school) + (1 | school:pupil), data = d, REML = TRUE)
f <- fit()  # warm-up
times <- numeric(as.integer(args[2]))
for (i in seq_along(times)) {
  start <- proc.time()[["elapsed"]]
  f <- fit()
  times[i] <- proc.time()[["elapsed"]] - start
}
vc <- as.data.frame(VarCorr(f))
cat(sprintf("{\"median\": %.6f, \"times\": [%s], \"loglik\": %.6f, \"school\": %.6f, \"pupil\": %.6f, \"lme4\": \"%s\"}\n",
            median(times), paste(sprintf("%.6f", times), collapse = ", "), as.numeric(logLik(f)),
            vc$vcov[vc$grp == "school"], vc$vcov[vc$grp == "school:pupil"],
            as.character(packageVersion("lme4"))))
"""

STATSMODELS_CODE = textwrap.dedent("""
    import json, sys, time, warnings
    import pandas as pd
    import statsmodels.formula.api as smf
    data = pd.read_csv(sys.argv[1])
    model = smf.mixedlm("math ~ C(year)", data, groups=data["school"], re_formula="1",
                        vc_formula={"pupil": "0 + C(pupil)"})
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = model.fit(reml=True, method=["lbfgs"])
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "loglik": float(result.llf),
                      "converged": bool(result.converged)}))
""")


def time_hlmlab(data) -> tuple[float, list[float], ThreeLevelFit]:
    fit = fit_three_level(data, "math", "school", "pupil", categorical=("year",))
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        fit = fit_three_level(data, "math", "school", "pupil", categorical=("year",))
        times.append(time.perf_counter() - start)
    return float(np.median(times)), times, fit


def time_lme4(csv: Path) -> dict | None:
    if shutil.which("Rscript") is None:
        print("lme4: Rscript not found; skipped.")
        return None
    with tempfile.NamedTemporaryFile("w", suffix=".R", delete=False) as handle:
        handle.write(R_SCRIPT)
        script = handle.name
    try:
        run = subprocess.run(["Rscript", script, str(csv), str(REPEATS)], capture_output=True,
                             text=True, timeout=600)
    finally:
        os.unlink(script)
    if run.returncode != 0:
        print("lme4: R failed:", run.stderr.strip()[-500:])
        return None
    return json.loads(run.stdout.strip().splitlines()[-1])


def time_statsmodels(csv: Path, timeout: float) -> dict | None:
    env = dict(os.environ, OPENBLAS_NUM_THREADS=os.environ.get("OPENBLAS_NUM_THREADS", "1"))
    try:
        run = subprocess.run([sys.executable, "-c", STATSMODELS_CODE, str(csv)],
                             capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return {"timeout": timeout}
    if run.returncode != 0:
        return {"error": run.stderr.strip()[-300:]}
    return json.loads(run.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--statsmodels-timeout", type=float, default=300.0,
                        help="seconds to allow statsmodels' own MixedLM.fit (default 300)")
    parser.add_argument("--skip-statsmodels", action="store_true")
    args = parser.parse_args()

    data = datasets.load_jsp_replica()
    print(f"JSP synthetic replica: {len(data)} records, {data['pupil'].nunique()} pupils, "
          f"{data['school'].nunique()} schools; math ~ factor(year) + (1|school) + (1|school:pupil), REML")
    print(f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}")
    ours, times, fit = time_hlmlab(data)
    print(f"hlmlab fit_three_level: median {ours * 1000:.1f} ms of {REPEATS} "
          f"({', '.join(f'{t * 1000:.1f}' for t in times)}); logLik {fit.loglik:.4f}, "
          f"school {fit.variance['school']:.4f}, pupil {fit.variance['pupil']:.4f}, "
          f"statsmodels logLik at that point {fit.statsmodels_loglik:.4f}")

    with tempfile.TemporaryDirectory() as folder:
        csv = Path(folder) / "jsp.csv"
        data.to_csv(csv, index=False)
        reference = time_lme4(csv)
        if reference is not None:
            print(f"lme4 {reference['lme4']} lmer (default control): median "
                  f"{reference['median'] * 1000:.1f} ms of {REPEATS} "
                  f"({', '.join(f'{t * 1000:.1f}' for t in reference['times'])}); logLik "
                  f"{reference['loglik']:.4f}, school {reference['school']:.4f}, "
                  f"pupil {reference['pupil']:.4f}")
            print(f"ratio hlmlab / lme4: {ours / reference['median']:.2f}")
        if not args.skip_statsmodels:
            result = time_statsmodels(csv, args.statsmodels_timeout)
            if "timeout" in result:
                print(f"statsmodels MixedLM.fit (variance component, lbfgs): did not finish in "
                      f"{result['timeout']:.0f} s")
            elif "error" in result:
                print(f"statsmodels MixedLM.fit failed: {result['error']}")
            else:
                print(f"statsmodels MixedLM.fit (variance component, lbfgs): "
                      f"{result['seconds']:.1f} s once; logLik {result['loglik']:.4f}, "
                      f"converged={result['converged']}; ratio to lme4 "
                      + (f"{result['seconds'] / reference['median']:.0f}x" if reference else "n/a"))


if __name__ == "__main__":
    main()
