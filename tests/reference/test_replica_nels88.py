"""The committed NELS88 replica against the published figures in ``../shared/calibration``.

Every expected value comes from ``nels88.json``; nothing here is copied from the replica.

Tolerances (absolute unless stated), per school:

- id, size n, sector, homework counts: exact; math: integers within ``math_range``.
- math mean, math SD (ddof=1), OLS slope, OLS residual SD (``sqrt(SSR/(n-2))``): 0.02.
  OLS intercept: 0.05. R^2: 0.01. The calibration rounds to 0.01, so 0.005 is the floor;
  integer scores cost a little more (the slope's resolution is 1/Sxx of homework).
- ses mean and SD: 0.01. White and female counts: within half a pupil of share * n.

Whole replica:

- pooled OLS of math on homework: intercept and slope within 0.01 of the published fit.
- random-slope REML fit ``math ~ homework + (homework | schid)``: fixed effects within 0.1
  published SE; tau00, tau11, tau01 and sigma2 within 5 % of published. The random-intercept
  REML fit: fixed effects within 0.02 (published to two decimals, without SEs), tau00 and
  sigma2 within 5 %. These are far tighter than a fresh sample would land,
  on purpose: a Gaussian REML fit depends on the data only through each school's n, homework
  distribution, OLS line and residual sum of squares, which the replica reproduces.
"""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import calibration as published

from hlmlab import synthetic
from hlmlab.datasets import DATA_DIR, NELS88_REPLICA_COLUMNS, load_nels88_replica

REPO_ROOT = Path(__file__).resolve().parents[2]
CALIBRATION_PATH = published.calibration_path("nels88")
COMMITTED_CSV = DATA_DIR / "nels88_synthetic.csv"

MEAN_TOL = 0.02
SD_TOL = 0.02
INTERCEPT_TOL = 0.05
SLOPE_TOL = 0.02
RESID_SD_TOL = 0.02
R2_TOL = 0.01
SES_TOL = 0.01
POOLED_TOL = 0.01
FIXED_EFFECT_TOL_IN_SE = 0.1
VARIANCE_REL_TOL = 0.05
RI_FIXED_EFFECT_TOL = 0.02

pytestmark = published.skip_without("nels88")


@pytest.fixture(scope="module")
def calibration() -> dict:
    return published.load("nels88")


@pytest.fixture(scope="module")
def replica() -> pd.DataFrame:
    return load_nels88_replica()


def school_ids(calibration) -> list[int]:
    return [school["schid"] for school in calibration["schools"]]


def ols_figures(homework: np.ndarray, math: np.ndarray) -> dict[str, float]:
    design = np.column_stack([np.ones(len(homework)), homework])
    (intercept, slope), *_ = np.linalg.lstsq(design, math, rcond=None)
    residuals = math - design @ np.array([intercept, slope])
    ssr = float(residuals @ residuals)
    sst = float(((math - math.mean()) ** 2).sum())
    return {
        "math_mean": math.mean(),
        "math_sd": math.std(ddof=1),
        "ols_intercept": intercept,
        "ols_slope": slope,
        "ols_resid_sd": np.sqrt(ssr / (len(math) - 2)),
        "ols_r2": 1 - ssr / sst,
    }


def assert_school_figures(frame: pd.DataFrame, calibration: dict) -> None:
    tolerances = {
        "math_mean": MEAN_TOL,
        "math_sd": SD_TOL,
        "ols_intercept": INTERCEPT_TOL,
        "ols_slope": SLOPE_TOL,
        "ols_resid_sd": RESID_SD_TOL,
        "ols_r2": R2_TOL,
    }
    for school in calibration["schools"]:
        rows = frame[frame["schid"] == school["schid"]]
        figures = ols_figures(rows["homework"].to_numpy(float), rows["math"].to_numpy(float))
        for name, tolerance in tolerances.items():
            assert figures[name] == pytest.approx(school[name], abs=tolerance), (
                f"school {school['schid']}: {name}"
            )


def test_columns_order_dtypes_and_sorting(replica):
    assert tuple(replica.columns) == NELS88_REPLICA_COLUMNS
    assert all(replica[c].dtype == np.int64 for c in replica.columns if c not in ("ses", "meanses"))
    assert replica["stuid"].is_unique
    assert replica.equals(replica.sort_values(["schid", "stuid"]).reset_index(drop=True))


def test_schools_sizes_and_sectors_exact(replica, calibration):
    assert len(replica) == calibration["n_students"]
    assert replica["schid"].nunique() == calibration["n_schools"]
    assert sorted(replica["schid"].unique()) == sorted(school_ids(calibration))
    for school in calibration["schools"]:
        rows = replica[replica["schid"] == school["schid"]]
        assert len(rows) == school["n"]
        expected_public = 1 if school["sector"] == "public" else 0
        assert set(rows["public"]) == {expected_public}


def test_homework_counts_exact(replica, calibration):
    for school in calibration["schools"]:
        rows = replica[replica["schid"] == school["schid"]]
        counts = rows["homework"].value_counts().to_dict()
        assert counts == {int(k): v for k, v in school["homework_counts"].items()}
    overall = replica["homework"].value_counts().to_dict()
    assert overall == {int(k): v for k, v in calibration["homework_counts"].items()}


def test_math_integers_in_published_range(replica, calibration):
    low, high = calibration["math_range"]
    assert replica["math"].between(low, high).all()
    # The published range is the observed one, so the replica reaches both ends too.
    assert (replica["math"].min(), replica["math"].max()) == (low, high)


def test_school_math_figures(replica, calibration):
    assert_school_figures(replica, calibration)


def test_background_variables(replica, calibration):
    assert set(replica["white"]) <= {0, 1}
    assert set(replica["sex"]) <= {1, 2}
    for school in calibration["schools"]:
        rows = replica[replica["schid"] == school["schid"]]
        n = len(rows)
        assert rows["ses"].mean() == pytest.approx(school["ses_mean"], abs=SES_TOL)
        assert rows["ses"].std(ddof=1) == pytest.approx(school["ses_sd"], abs=SES_TOL)
        assert abs(rows["white"].sum() - school["white_share"] * n) <= 0.5
        assert abs((rows["sex"] == 2).sum() - school["female_share"] * n) <= 0.5
        assert rows["meanses"].to_numpy() == pytest.approx(rows["ses"].mean(), abs=1e-9)


def test_pooled_ols(replica, calibration):
    published = calibration["published_fits"]["pooled_ols"]
    figures = ols_figures(replica["homework"].to_numpy(float), replica["math"].to_numpy(float))
    assert figures["ols_intercept"] == pytest.approx(published["intercept"], abs=POOLED_TOL)
    assert figures["ols_slope"] == pytest.approx(published["slope"], abs=POOLED_TOL)


def fit_reml(frame: pd.DataFrame, random_slope: bool, method: list[str]):
    from statsmodels.regression.mixed_linear_model import MixedLM, MixedLMParams

    math = frame["math"].to_numpy(float)
    design = np.column_stack([np.ones(len(frame)), frame["homework"].to_numpy(float)])
    exog_re = design if random_slope else design[:, :1]
    model = MixedLM(math, design, groups=frame["schid"].to_numpy(), exog_re=exog_re)
    ols, *_ = np.linalg.lstsq(design, math, rcond=None)
    start = MixedLMParams.from_components(fe_params=ols, cov_re=np.eye(exog_re.shape[1]))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = model.fit(reml=True, method=method, start_params=start)
    # On this data a clean fit emits no warning at all; any warning means it is not to be trusted.
    assert not caught, [str(w.message) for w in caught]
    assert result.converged
    return result


def test_random_slope_reml_fit(replica, calibration):
    published = calibration["published_fits"]["random_slope_reml"]
    result = fit_reml(replica, random_slope=True, method=["lbfgs", "bfgs"])
    intercept, slope = result.fe_params
    assert abs(intercept - published["intercept"]) <= FIXED_EFFECT_TOL_IN_SE * published[
        "intercept_se"
    ]
    assert abs(slope - published["slope"]) <= FIXED_EFFECT_TOL_IN_SE * published["slope_se"]
    cov_re = np.asarray(result.cov_re)
    fitted = {
        "tau00": cov_re[0, 0],
        "tau11": cov_re[1, 1],
        "tau01": cov_re[0, 1],
        "sigma2": result.scale,
    }
    for name, value in fitted.items():
        assert value == pytest.approx(published[name], rel=VARIANCE_REL_TOL), name


def test_random_intercept_reml_fit(replica, calibration):
    published = calibration["published_fits"]["random_intercept_reml"]
    # Not lbfgs: on this data its first step from the default start lands exactly on
    # tau00 = 0, where statsmodels 0.15 reports llf = +inf and "converges" to nonsense.
    result = fit_reml(replica, random_slope=False, method=["bfgs"])
    intercept, slope = result.fe_params
    # Published to two decimals without SEs; allow a little more than that rounding.
    assert intercept == pytest.approx(published["intercept"], abs=RI_FIXED_EFFECT_TOL)
    assert slope == pytest.approx(published["slope"], abs=RI_FIXED_EFFECT_TOL)
    assert np.asarray(result.cov_re)[0, 0] == pytest.approx(
        published["tau00"], rel=VARIANCE_REL_TOL
    )
    assert result.scale == pytest.approx(published["sigma2"], rel=VARIANCE_REL_TOL)


def test_function_regenerates_committed_file(tmp_path, calibration):
    frame = synthetic.make_nels88_replica(calibration)
    written = synthetic.write_replica_csv(frame, tmp_path / "replica.csv")
    assert written.read_bytes() == COMMITTED_CSV.read_bytes()


def test_cli_regenerates_committed_file(tmp_path):
    out = tmp_path / "cli.csv"
    completed = subprocess.run(
        [sys.executable, "-m", "hlmlab.synthetic", "nels88",
         "--calibration", str(CALIBRATION_PATH), "--out", str(out)],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    assert out.read_bytes() == COMMITTED_CSV.read_bytes()


def test_cli_default_calibration_is_shared_beside_repo():
    assert synthetic.DEFAULT_CALIBRATION_DIR.resolve() == published.CALIBRATION_DIR.resolve()


def test_deterministic_and_seed_matters(calibration):
    first = synthetic.make_nels88_replica(calibration, seed=7)
    second = synthetic.make_nels88_replica(calibration, seed=7)
    pd.testing.assert_frame_equal(first, second)
    assert not first.equals(synthetic.make_nels88_replica(calibration))
    # Another seed still meets every figure: the method, not a lucky draw, does the work.
    assert_school_figures(first, calibration)


def test_inconsistent_calibration_is_refused(calibration):
    broken = json.loads(json.dumps(calibration))
    broken["schools"][0]["n"] += 1
    with pytest.raises(ValueError, match="homework_counts"):
        synthetic.make_nels88_replica(broken)


