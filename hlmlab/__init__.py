"""HLM Lab's core: data, multilevel models, statistics and figures for teaching them.

The names most people need are importable from the package itself::

    from hlmlab import fit_multilevel, load_nels88
    fit = fit_multilevel(load_nels88(), "math", "homework", "schid")

They are loaded on first use (PEP 562 ``__getattr__``), so ``import hlmlab`` stays cheap:
statsmodels alone takes about 2 s to import in a cold interpreter. Submodules import as
usual (``from hlmlab import datasets``). The package never imports Streamlit.

Layout: ``paths``, ``errors``, ``frames`` (data in), ``deviance`` and ``optimum`` (the
maths), ``ols``, ``twolevel``, ``threelevel``, ``pooling`` (the models), ``diagnostics``
(what the fits mean, in words), ``reproduction`` (statsmodels and lme4 code), ``report``,
``ranking``, ``stats``, ``shrinkage``, ``within_between`` (numbers shown), ``style`` and
``figures`` (plots), ``datasets``, ``synthetic``, ``lesson_text`` (files), and
``analyses/`` (one module pair per lesson).
"""

from __future__ import annotations

import importlib

#: Public name -> the module that defines it.
_EXPORTS = {
    "fit_multilevel": "twolevel",
    "MultilevelFit": "twolevel",
    "fit_three_level": "threelevel",
    "ThreeLevelFit": "threelevel",
    "fit_pooled": "ols",
    "fit_per_group": "ols",
    "PooledFit": "ols",
    "PerGroupFit": "ols",
    "compare_pooling": "pooling",
    "fitted_lines": "pooling",
    "PoolingComparison": "pooling",
    "ModelDataError": "errors",
    "Diagnostic": "diagnostics",
    "FitStatus": "diagnostics",
    "icc": "stats",
    "design_effect": "stats",
    "effective_sample_size": "stats",
    "shrinkage_weights": "shrinkage",
    "decompose_slope": "within_between",
    "rank_groups": "ranking",
    "load_nels88": "datasets",
    "load_nels88_replica": "datasets",
    "load_jsp": "datasets",
    "load_jsp_replica": "datasets",
    "load_reference": "datasets",
    "load_lesson": "lesson_text",
    "DATA_DIR": "paths",
    "LESSONS_DIR": "paths",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    """Import the module defining ``name`` on first use (PEP 562)."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'hlmlab' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"hlmlab.{module}"), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
