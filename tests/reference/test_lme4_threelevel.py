"""fit_three_level against lme4: ``y ~ ... + (1 | group) + (1 | group:subgroup)``.

Reference values: tests/reference/lme4_reference.csv and lme4_ranef.csv, rows whose case is
listed in tests/reference/cases_three_level.csv, written by lme4_reference.R (lme4 1.1.31).
Tolerance: relative 1e-3, as for the two-level cases (near-zero fixed effects on the scale of
their SE; conditional modes on the scale of their spread across groups).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hlmlab.threelevel import fit_three_level
from reference_data import load as load_reference_data

REFERENCE_DIR = Path(__file__).resolve().parent
CASES = pd.read_csv(REFERENCE_DIR / "cases_three_level.csv", dtype=str, keep_default_na=False)
VALUES = pd.read_csv(REFERENCE_DIR / "lme4_reference.csv", keep_default_na=False)
RANEF = pd.read_csv(REFERENCE_DIR / "lme4_ranef.csv", dtype={"group": str})
RTOL = 1e-3


@pytest.fixture(scope="module")
def fits():
    cache = {}

    def get(case_id):
        if case_id not in cache:
            case = CASES.set_index("case").loc[case_id]
            data = load_reference_data(case.dataset)
            if case.subset:
                column, value = case.subset.split("=")
                data = data[data[column].astype(str) == value]
            cache[case_id] = fit_three_level(
                data, case.outcome, case.group, case.subgroup,
                covariates=tuple(case.covariates.split()),
                categorical=tuple(case.categorical.split()),
                reml=case.reml == "TRUE",
            )
        return cache[case_id]

    return get


def reference(case_id):
    rows = VALUES[VALUES["case"] == case_id]
    assert len(rows), f"no lme4 reference for {case_id}: run make_reference.sh"
    return {(r.quantity, r.term) if r.term else r.quantity: float(r.value) for r in rows.itertuples()}


@pytest.mark.parametrize("case_id", CASES["case"].tolist())
def test_three_level_fit_matches_lme4(fits, case_id):
    fit, ref = fits(case_id), reference(case_id)
    assert fit.converged and fit.n_obs == ref["n_obs"]
    for term in fit.fixed.index:
        se = ref[("se", term)]
        assert fit.fixed[term] == pytest.approx(ref[("fixef", term)], rel=RTOL, abs=RTOL * se)
        assert fit.fixed_se[term] == pytest.approx(se, rel=RTOL)
    assert fit.variance[fit.group] == pytest.approx(ref["var_group"], rel=RTOL)
    assert fit.variance[fit.subgroup] == pytest.approx(ref["var_subgroup"], rel=RTOL)
    assert fit.variance["residual"] == pytest.approx(ref["sigma2"], rel=RTOL)
    assert fit.loglik == pytest.approx(ref["loglik"], rel=RTOL)
    assert fit.singular == bool(ref["singular"])


@pytest.mark.parametrize("case_id", CASES["case"].tolist())
def test_statsmodels_agrees_at_the_optimum(fits, case_id):
    """statsmodels' own likelihood, evaluated at our estimates, is the same number."""
    fit = fits(case_id)
    assert fit.statsmodels_loglik == pytest.approx(fit.loglik, rel=1e-8)


@pytest.mark.parametrize("case_id", CASES["case"].tolist())
def test_group_effects_match_lme4_conditional_modes(fits, case_id):
    fit = fits(case_id)
    ref = RANEF[RANEF["case"] == case_id].set_index("group")
    ours = fit.group_effects.copy()
    ours.index = ours.index.astype(str)
    ours = ours.loc[ref.index]
    spread = ref["mode"].std()
    np.testing.assert_allclose(ours["effect"], ref["mode"], rtol=RTOL, atol=RTOL * spread)
    np.testing.assert_allclose(ours["effect_sd"], ref["condsd"], rtol=RTOL, atol=RTOL * spread)
