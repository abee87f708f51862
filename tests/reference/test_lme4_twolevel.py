"""fit_multilevel against lme4 on the same data and model.

Reference values: tests/reference/lme4_reference.csv and lme4_ranef.csv, written by
tests/reference/lme4_reference.R (lme4 1.1.31, R 4.2.2; see lme4_versions.txt) from the
cases in tests/reference/cases.csv. Regenerate with ``bash tests/reference/make_reference.sh``.

Tolerance: relative 1e-3 for fixed effects, standard errors, variance components, sigma^2
and log-likelihood. A value near zero (an Exam intercept of -0.01, a covariance) is compared
on the scale of its own quantity instead: for fixed effects 1e-3 of the standard error, for
covariances 1e-3 of sqrt(tau00 * tau11). Those are the scales at which a student reads them.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hlmlab.twolevel import fit_multilevel
from reference_data import load as load_reference_data

REFERENCE_DIR = Path(__file__).resolve().parent
CASES = pd.read_csv(REFERENCE_DIR / "cases.csv", dtype=str, keep_default_na=False)
VALUES = pd.read_csv(REFERENCE_DIR / "lme4_reference.csv", keep_default_na=False)
RANEF = pd.read_csv(REFERENCE_DIR / "lme4_ranef.csv", dtype={"group": str})
RTOL = 1e-3


def load_case_data(case: pd.Series) -> pd.DataFrame:
    data = load_reference_data(case.dataset)
    if case.groups_subset:
        keep = case.groups_subset.split()
        data = data[data[case.group].astype(str).isin(keep)]
    return data


@pytest.fixture(scope="module")
def fits():
    cache = {}

    def get(case_id: str):
        if case_id not in cache:
            case = CASES.set_index("case").loc[case_id]
            data = load_case_data(case)
            cache[case_id] = fit_multilevel(
                data, case.outcome, case.predictor, case.group,
                random_slope=case.random_slope == "TRUE", reml=case.reml == "TRUE",
                covariates=tuple(case.covariates.split()),
            )
        return cache[case_id]

    return get


def reference(case_id: str) -> dict:
    rows = VALUES[VALUES["case"] == case_id]
    out = {}
    for _, row in rows.iterrows():
        key = row["quantity"] if not row["term"] else (row["quantity"], row["term"])
        out[key] = float(row["value"])
    return out


@pytest.mark.parametrize("case_id", CASES["case"].tolist())
def test_fixed_effects_and_standard_errors(fits, case_id):
    fit, ref = fits(case_id), reference(case_id)
    for term in fit.fixed.index:
        se = ref[("se", term)]
        assert fit.fixed[term] == pytest.approx(ref[("fixef", term)], rel=RTOL, abs=RTOL * se), term
        assert fit.fixed_se[term] == pytest.approx(se, rel=RTOL), term


@pytest.mark.parametrize("case_id", CASES["case"].tolist())
def test_variance_components_and_loglik(fits, case_id):
    fit, ref = fits(case_id), reference(case_id)
    assert fit.n_obs == ref["n_obs"]
    assert fit.loglik == pytest.approx(ref["loglik"], rel=RTOL)
    assert fit.variance["sigma2"] == pytest.approx(ref["sigma2"], rel=RTOL)
    assert fit.variance["tau00"] == pytest.approx(ref["tau00"], rel=RTOL)
    if "tau11" in ref:
        scale = math.sqrt(ref["tau00"] * ref["tau11"])
        assert fit.variance["tau11"] == pytest.approx(ref["tau11"], rel=RTOL)
        assert fit.variance["tau01"] == pytest.approx(ref["tau01"], rel=RTOL, abs=RTOL * scale)
    else:
        assert math.isnan(fit.variance["tau11"])


@pytest.mark.parametrize("case_id", CASES["case"].tolist())
def test_singular_flag_matches_lme4(fits, case_id):
    fit, ref = fits(case_id), reference(case_id)
    assert fit.singular == bool(ref["singular"])
    assert fit.converged
    if fit.singular:
        assert any(m.severity == "warning" and "Boundary" in m.headline for m in fit.messages)


@pytest.mark.parametrize("case_id", CASES["case"].tolist())
def test_conditional_modes_and_sds(fits, case_id):
    """BLUPs and their conditional SDs as ranef(fit, condVar = TRUE).

    Compared at 1e-3 of the spread of the modes (their SD across groups), the scale on which
    a caterpillar plot or a shrinkage table reads them.
    """
    fit = fits(case_id)
    ref = RANEF[RANEF["case"] == case_id]
    columns = {"Intercept": ("u0", "u0_sd")}
    if fit.random_slope:
        columns[fit.predictor] = ("u1", "u1_sd")
    blups = fit.blups.copy()
    blups.index = blups.index.astype(str)
    for term, (mode_col, sd_col) in columns.items():
        part = ref[ref["term"] == term].set_index("group")
        assert len(part) == fit.n_groups
        ours = blups.loc[part.index]
        spread = max(part["mode"].std(), 1e-12)
        np.testing.assert_allclose(ours[mode_col], part["mode"], rtol=RTOL, atol=RTOL * spread)
        np.testing.assert_allclose(ours[sd_col], part["condsd"], rtol=RTOL, atol=RTOL * spread)
