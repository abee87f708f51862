"""Seeded synthetic replicas of the course's classic data sets.

The original files behind the course's examples are not redistributed. Instead, each replica is
simulated from published figures kept in a calibration file (``../shared/calibration/`` beside
the repository) and committed under ``data/``. Every replica is labelled as synthetic wherever a
student sees it.

The shared machinery is :func:`integer_scores_on_line`: integer test scores for one group whose
mean, SD and within-group regression line on a predictor land on given figures. A NELS88 school
uses it for math on homework; a JSP replica can use it for math on year within a school.

Regenerate the committed replicas with::

    python -m hlmlab.synthetic nels88
    python -m hlmlab.synthetic jsp

The JSP replica (:func:`make_jsp_replica`) is built differently: its figures are per school and
year, so it hits each school-year's mean math with :func:`integer_scores_with_sum` and tunes a
few variance parameters on the whole sample (see :class:`JspDesign`).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np
import pandas as pd

from hlmlab.datasets import (
    DATA_DIR,
    JSP_REPLICA_COLUMNS,
    JSP_REPLICA_DTYPES,
    JSP_REPLICA_FILENAME,
    JSP_REPLICA_LABEL,
    NELS88_REPLICA_COLUMNS,
    NELS88_REPLICA_FILENAME,
)
from hlmlab.paths import CHECKOUT_DIR

__all__ = [
    "DEFAULT_CALIBRATION_DIR",
    "NELS88_SEED",
    "JSP_SEED",
    "JspDesign",
    "LineTargets",
    "integer_scores_on_line",
    "line_stats",
    "load_calibration",
    "make_nels88_replica",
    "jsp_design",
    "integer_scores_with_sum",
    "make_jsp_replica",
    "write_replica_csv",
    "main",
]

# The course's published figures sit in ../shared/calibration beside a checkout; only the
# generator reads them (the app never does).
DEFAULT_CALIBRATION_DIR = CHECKOUT_DIR.parent / "shared" / "calibration"

#: Seed of the committed ``data/nels88_synthetic.csv``; changing it changes the committed file.
NELS88_SEED = 1988
#: Seed of the committed ``data/jsp_synthetic.csv``; changing it changes the committed file.
JSP_SEED = 1987

SEX_MALE, SEX_FEMALE = 1, 2


@dataclass(frozen=True)
class LineTargets:
    """Figures that integer scores ``y`` of one group should reproduce against a predictor ``x``.

    Attributes
    ----------
    mean, sd : float
        Mean and sample SD (``ddof=1``) of ``y``.
    intercept, slope : float
        OLS line of ``y`` on ``x`` within the group.
    resid_sd : float
        OLS residual SD, ``sqrt(SSR / (n - 2))``.
    """

    mean: float
    sd: float
    intercept: float
    slope: float
    resid_sd: float


# How far each figure may drift, relative to the others, while the integer search trades them
# off. The ratios follow the tolerances the tests state, so no figure is sacrificed for another.
_SEARCH_SCALES = LineTargets(mean=0.1, sd=0.25, intercept=0.5, slope=0.15, resid_sd=0.25)
_STAT_NAMES = tuple(f.name for f in fields(LineTargets))
_REDRAW_ROUNDS = 20


def line_stats(x: Sequence[float], y: Sequence[float]) -> LineTargets:
    """Compute the figures of :class:`LineTargets` for one group.

    Parameters
    ----------
    x, y : sequence of float
        Predictor and score of the group's members (at least three, ``x`` not constant).

    Returns
    -------
    LineTargets
        Mean, SD, OLS intercept, slope and residual SD of ``y`` on ``x``.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    x_centred = x - x.mean()
    sxx = float(x_centred @ x_centred)
    return _stats_from_sums(len(x), x.sum(), sxx, y.sum(), float(x @ y), float(y @ y))


def _stats_from_sums(n, sum_x, sxx_centred, sum_y, sum_xy, sum_yy):
    # Works on scalars and on arrays of candidate sums alike, so the search can score every
    # candidate move at once from running sums instead of refitting.
    mean = sum_y / n
    syy_centred = sum_yy - sum_y * sum_y / n
    sxy_centred = sum_xy - sum_x * sum_y / n
    slope = sxy_centred / sxx_centred
    intercept = mean - slope * (sum_x / n)
    ssr = syy_centred - slope * sxy_centred
    return LineTargets(
        mean=mean,
        sd=np.sqrt(np.maximum(syy_centred, 0.0) / (n - 1)),
        intercept=intercept,
        slope=slope,
        resid_sd=np.sqrt(np.maximum(ssr, 0.0) / (n - 2)),
    )


def _search_loss(stats: LineTargets, targets: LineTargets):
    return sum(
        ((getattr(stats, name) - getattr(targets, name)) / getattr(_SEARCH_SCALES, name)) ** 2
        for name in _STAT_NAMES
    )


def _residuals_like(draw, x_centred, sxx, resid_sd):
    # Projecting by hand (not lstsq) keeps the draw free of LAPACK's platform-dependent rounding.
    residuals = draw - draw.mean()
    residuals = residuals - (x_centred @ residuals) / sxx * x_centred
    n = len(draw)
    return residuals * (resid_sd * np.sqrt(n - 2) / np.sqrt(residuals @ residuals))


def integer_scores_on_line(
    x: Sequence[float],
    targets: LineTargets,
    *,
    low: int,
    high: int,
    rng: np.random.Generator,
    max_moves: int = 5000,
) -> np.ndarray:
    """Simulate integer scores whose group figures land on ``targets``.

    A continuous draw ``intercept + slope * x + e`` is built with noise ``e`` orthogonal to
    ``[1, x]`` and scaled to the residual SD, so it hits the line exactly. Rounding to integers
    and clipping to ``[low, high]`` then shift the figures a little; a greedy search of +-1
    changes (single scores, or one up and another down) undoes that drift.

    Parameters
    ----------
    x : sequence of float
        Predictor values of the group, in row order.
    targets : LineTargets
        Figures to reproduce.
    low, high : int
        Inclusive range of the scores.
    rng : numpy.random.Generator
        Source of randomness; the result depends only on its state and the other arguments.
    max_moves : int, default 5000
        Upper bound on the number of +-1 changes of the repair search.

    Returns
    -------
    numpy.ndarray
        Integer scores (``int64``), one per element of ``x``.
    """
    x = np.asarray(x, dtype=float)
    n = len(x)
    if n < 3 or np.ptp(x) == 0:
        raise ValueError("integer_scores_on_line needs at least 3 members and a non-constant x.")
    x_centred = x - x.mean()
    sxx = float(x_centred @ x_centred)

    line = targets.intercept + targets.slope * x
    draw = rng.standard_normal(n)
    for _ in range(_REDRAW_ROUNDS):
        continuous = line + _residuals_like(draw, x_centred, sxx, targets.resid_sd)
        outside = (continuous < low - 0.5) | (continuous > high + 0.5)
        if not outside.any():
            break
        # Redrawing the few pupils beyond the range, rather than clipping them all, avoids an
        # artificial pile of identical scores at the floor and ceiling; what clipping remains
        # reads as the test's real floor or ceiling.
        draw[outside] = rng.standard_normal(int(outside.sum()))
    scores = np.rint(np.clip(continuous, low, high)).astype(np.int64)

    sum_x = float(x.sum())
    sum_y, sum_xy, sum_yy = (float(v) for v in (scores.sum(), x @ scores, scores @ scores))
    not_self = ~np.eye(n, dtype=bool)
    for _ in range(max_moves):
        current = _search_loss(_stats_from_sums(n, sum_x, sxx, sum_y, sum_xy, sum_yy), targets)
        y = scores.astype(float)
        # Candidates: each score +1, each score -1, and each pair (i up by 1, j down by 1).
        d_sum_y = np.concatenate([np.ones(n), -np.ones(n), np.zeros(n * n)])
        d_sum_xy = np.concatenate([x, -x, (x[:, None] - x[None, :]).ravel()])
        d_sum_yy = np.concatenate(
            [2 * y + 1, -2 * y + 1, (2 * (y[:, None] - y[None, :]) + 2).ravel()]
        )
        can_rise, can_fall = scores < high, scores > low
        allowed = np.concatenate(
            [can_rise, can_fall, (can_rise[:, None] & can_fall[None, :] & not_self).ravel()]
        )
        losses = _search_loss(
            _stats_from_sums(n, sum_x, sxx, sum_y + d_sum_y, sum_xy + d_sum_xy, sum_yy + d_sum_yy),
            targets,
        )
        losses = np.where(allowed, losses, np.inf)
        best = int(np.argmin(losses))
        if not losses[best] < current - 1e-12:
            break
        if best < n:
            scores[best] += 1
        elif best < 2 * n:
            scores[best - n] -= 1
        else:
            up, down = divmod(best - 2 * n, n)
            scores[up] += 1
            scores[down] -= 1
        sum_y += d_sum_y[best]
        sum_xy += d_sum_xy[best]
        sum_yy += d_sum_yy[best]
    return scores


def _values_from_counts(counts: Mapping[str, int], rng: np.random.Generator) -> np.ndarray:
    # Sorting first makes the result independent of the JSON's key order.
    ordered = sorted((int(value), int(count)) for value, count in counts.items())
    values = np.concatenate([np.full(count, value, dtype=np.int64) for value, count in ordered])
    return rng.permutation(values)


def _indicator_with_share(n: int, share: float, rng: np.random.Generator) -> np.ndarray:
    # Half-up rounding, not Python's banker's rounding, so a share of exactly k + 0.5 pupils
    # does not depend on the parity of k.
    ones = int(np.floor(share * n + 0.5))
    indicator = np.zeros(n, dtype=np.int64)
    indicator[:ones] = 1
    return rng.permutation(indicator)


def _normal_in_thousandths(
    n: int, mean: float, sd: float, rng: np.random.Generator
) -> tuple[np.ndarray, float]:
    draw = rng.standard_normal(n)
    draw = (draw - draw.mean()) / draw.std(ddof=1)
    thousandths = np.rint((mean + sd * draw) * 1000).astype(np.int64)
    # Nudge a few values by 0.001 so the group mean is itself a 3-decimal number: then the
    # written meanses equals the mean of the written ses exactly, and centring gives exact zeros.
    excess = int(thousandths.sum() % n)
    if excess:
        thousandths[rng.choice(n, size=excess, replace=False)] -= 1
    return thousandths / 1000, int(thousandths.sum() // n) / 1000


def load_calibration(path: str | Path) -> dict:
    """Read a calibration JSON file.

    Parameters
    ----------
    path : str or pathlib.Path
        Path of the JSON file, e.g. ``../shared/calibration/nels88.json``.

    Returns
    -------
    dict
        The parsed calibration.
    """
    with Path(path).open(encoding="utf-8") as handle:
        return json.load(handle)


def make_nels88_replica(calibration: dict, seed: int = NELS88_SEED) -> pd.DataFrame:
    """Simulate the NELS88 10-school sample from its calibration figures.

    Per school the replica has exactly the published id, size, sector and homework counts,
    white and female counts (share times n, rounded half up), and comes close to the
    published math mean, SD, and OLS line of math on homework (intercept, slope, residual SD).
    ``ses`` is normal with the school's mean and SD, drawn independently of math within
    the school, so only its school means carry information.

    Parameters
    ----------
    calibration : dict
        Parsed ``nels88.json`` (see :func:`load_calibration`).
    seed : int, default NELS88_SEED
        Seed; each school draws from its own stream ``(seed, schid)``.

    Returns
    -------
    pandas.DataFrame
        Columns ``schid, stuid, ses, meanses, homework, white, public, math, sex`` with
        ``public`` 1 = public, ``white`` 0/1, ``sex`` 1 = male, 2 = female, ``math`` integer
        within ``calibration["math_range"]``. Sorted by ``schid`` then ``stuid``;
        ``attrs`` holds ``synthetic=True``, ``label`` and ``seed``.
    """
    low, high = (int(v) for v in calibration["math_range"])
    blocks = []
    for school in sorted(calibration["schools"], key=lambda s: int(s["schid"])):
        schid, n = int(school["schid"]), int(school["n"])
        counted = sum(int(c) for c in school["homework_counts"].values())
        if counted != n:
            raise ValueError(
                f"Calibration of school {schid} is inconsistent: homework_counts add up to "
                f"{counted} pupils but n is {n}."
            )
        rng = np.random.default_rng([seed, schid])
        homework = _values_from_counts(school["homework_counts"], rng)
        targets = LineTargets(
            mean=school["math_mean"],
            sd=school["math_sd"],
            intercept=school["ols_intercept"],
            slope=school["ols_slope"],
            resid_sd=school["ols_resid_sd"],
        )
        math = integer_scores_on_line(homework, targets, low=low, high=high, rng=rng)
        ses, meanses = _normal_in_thousandths(n, school["ses_mean"], school["ses_sd"], rng)
        white = _indicator_with_share(n, school["white_share"], rng)
        female = _indicator_with_share(n, school["female_share"], rng)
        blocks.append(
            pd.DataFrame(
                {
                    "schid": np.full(n, schid, dtype=np.int64),
                    "ses": ses,
                    "meanses": np.full(n, meanses),
                    "homework": homework,
                    "white": white,
                    "public": np.full(n, int(school["sector"] == "public"), dtype=np.int64),
                    "math": math,
                    "sex": np.where(female == 1, SEX_FEMALE, SEX_MALE).astype(np.int64),
                }
            )
        )
    frame = pd.concat(blocks, ignore_index=True)
    frame["stuid"] = np.arange(1, len(frame) + 1, dtype=np.int64)
    frame = frame[list(NELS88_REPLICA_COLUMNS)]
    frame.attrs.update(synthetic=True, label="NELS88 (synthetic replica)", seed=seed)
    return frame


# ---------------------------------------------------------------------------------------------
# The Junior School Project (JSP) replica

_JSP_YEARS = (0, 1, 2)
_JSP_MATH_RANGE = (1, 40)
_JSP_RAVEN_RANGE = (4, 36)
_JSP_ENGLISH_RANGE = (0, 98)
# Shape of the within-school Raven distribution: a gamma with this shape, mirrored, so the
# scores are skewed towards the test's ceiling of 36 (few pupils at the ceiling, a longer tail
# of low scorers) instead of piling up at 36 as a clipped normal would.
_JSP_RAVEN_GAMMA_SHAPE = 8.0
# Fixed-point steps that bring each year's SD to the published one despite rounding and clipping.
_JSP_SD_ROUNDS = 4
# Fixed-point steps that bring the covariance of a pupil's years to the published pupil variance.
_JSP_PUPIL_ROUNDS = 3


@dataclass(frozen=True)
class JspDesign:
    """Variance design of the JSP replica, derived from the calibration by :func:`jsp_design`.

    Math deviates from its school-year mean by
    ``raven_slope[year] * (raven - school's raven mean) + loading[year] * (class + pupil) +
    noise``. :func:`make_jsp_replica` starts from these figures and then refines the year-0
    slope, the pupil effect's scale and the noise per year on the drawn sample, so that the
    published correlation, pupil covariance and year SDs come out after rounding.

    Attributes
    ----------
    raven_within_var : float
        Pooled within-school variance of Raven: the published total sum of squares less the
        part due to the published school means, over ``n_pupils - n_schools``.
    raven_slopes : tuple of float
        Within-school slope of math on Raven per year. Year 0 is set by the published
        correlation less the between-school part fixed by the published school means (here
        approximated with the school means over all pupils); year 2 is the published year-2
        ``craven`` coefficient; year 1, unpublished, keeps year 0's.
    loadings : tuple of float
        Weight of the class and pupil effects per year: year 2's slope over year 0's for year
        2 (the whole ability spread narrows under the ceiling of 40), else 1.
    class_var : float
        Variance of the class effect: the published year-2 class variance over year 2's
        loading squared.
    pupil_var : float
        Starting variance of the pupil effect, so that a pupil's scores in two years covary by
        the published three-level pupil variance.
    """

    raven_within_var: float
    raven_slopes: tuple[float, float, float]
    loadings: tuple[float, float, float]
    class_var: float
    pupil_var: float


def _jsp_school_arrays(calibration: dict) -> dict[str, np.ndarray]:
    schools = sorted(calibration["schools"], key=lambda s: int(s["school"]))
    records = np.array(
        [[int(s["records_by_year"].get(str(y), 0)) for y in _JSP_YEARS] for s in schools]
    )
    means = np.array(
        [[float(s["math_mean_by_year"].get(str(y), np.nan)) for y in _JSP_YEARS] for s in schools]
    )
    return {
        "school": np.array([int(s["school"]) for s in schools]),
        "pupils": np.array([int(s["pupils"]) for s in schools]),
        "classes": np.array([int(s["classes"]) for s in schools]),
        "records": np.array([int(s["records"]) for s in schools]),
        "records_by_year": records,
        "math_mean_by_year": means,
        "raven_mean": np.array([float(s["raven_mean"]) for s in schools]),
    }


def jsp_design(calibration: dict) -> JspDesign:
    """Derive the replica's variance design from the JSP calibration figures.

    Parameters
    ----------
    calibration : dict
        Parsed ``jsp.json``.

    Returns
    -------
    JspDesign
        Every figure follows from the calibration (see its attributes); nothing is fitted to a
        simulated sample.
    """
    arrays = _jsp_school_arrays(calibration)
    pupils, raven_means = arrays["pupils"], arrays["raven_mean"]
    n_pupils = int(pupils.sum())
    raven_centre = np.average(raven_means, weights=pupils)
    raven_between_ss = float(pupils @ (raven_means - raven_centre) ** 2)
    raven_within = ((n_pupils - 1) * calibration["raven"]["sd"] ** 2 - raven_between_ss) / (
        n_pupils - len(pupils)
    )

    weights = arrays["records_by_year"][:, 0]
    present = weights > 0
    w, m, r = weights[present], arrays["math_mean_by_year"][present, 0], raven_means[present]
    between_cp = float(w @ ((m - np.average(m, weights=w)) * (r - np.average(r, weights=w))))
    n0 = int(w.sum())
    total_cp = (
        calibration["corr_math_raven_year0"]
        * calibration["year"]["0"]["math_sd"]
        * calibration["raven"]["sd"]
        * (n0 - 1)
    )
    slope0 = (total_cp - between_cp) / (raven_within * (n0 - len(w)))

    fits = calibration["fits"]
    slope2 = fits["year2_ability"]["craven"]
    loadings = (1.0, 1.0, slope2 / slope0)
    slopes = (slope0, slope0, slope2)
    # Covariance of two years y, z of a pupil: s_y s_z raven_within + l_y l_z (class + pupil).
    pairs = ((0, 1), (0, 2), (1, 2))
    raven_cov = np.mean([slopes[a] * slopes[b] for a, b in pairs]) * raven_within
    loading_cov = np.mean([loadings[a] * loadings[b] for a, b in pairs])
    class_var = fits["year2_ability"]["class_var"] / loadings[2] ** 2
    pupil_var = (fits["three_level_variance"]["pupil_var"] - raven_cov) / loading_cov - class_var
    return JspDesign(
        raven_within_var=float(raven_within),
        raven_slopes=tuple(float(v) for v in slopes),
        loadings=tuple(float(v) for v in loadings),
        class_var=float(class_var),
        pupil_var=float(pupil_var),
    )


def _round_half_up(value: float) -> int:
    return int(np.floor(value + 0.5))


def integer_scores_with_sum(
    continuous: np.ndarray, target_sum: int, *, low: int, high: int
) -> np.ndarray:
    """Round continuous scores to integers in ``[low, high]`` that add up to ``target_sum``.

    The scores are clipped and rounded; then the members whose rounding cost the most move by
    one, up or down, until the sum is the target. Each score moves as little as it can, so
    the spread and the relations with other variables barely change.

    Parameters
    ----------
    continuous : numpy.ndarray
        Unrounded scores.
    target_sum : int
        Required sum, between ``low * n`` and ``high * n``.
    low, high : int
        Inclusive range of the scores.

    Returns
    -------
    numpy.ndarray
        Integer scores (``int64``).
    """
    continuous = np.asarray(continuous, dtype=float)
    n = len(continuous)
    if not low * n <= target_sum <= high * n:
        raise ValueError(f"A sum of {target_sum} is out of reach of {n} scores in {low}-{high}.")
    scores = np.rint(np.clip(continuous, low, high)).astype(np.int64)
    while (gap := target_sum - int(scores.sum())) != 0:
        step = 1 if gap > 0 else -1
        movable = scores < high if step > 0 else scores > low
        # How far each score's integer sits from its continuous value, in the wanted direction;
        # a stable sort keeps ties in row order, so the result is platform independent.
        shortfall = np.where(movable, step * (continuous - scores), -np.inf)
        order = np.argsort(-shortfall, kind="stable")[: min(abs(gap), int(movable.sum()))]
        scores[order] += step
    return scores


def _jsp_triples(arrays: dict[str, np.ndarray], n_three: int) -> np.ndarray:
    """Number of pupils with all three years per school, adding up to ``n_three``."""
    pupils, records = arrays["pupils"], arrays["records"]
    by_year = arrays["records_by_year"]
    # With t three-record pupils a school has records - pupils - 2t two-record pupils and
    # 2 pupils - records + t one-record pupils; both counts must be >= 0, and t <= each year.
    lowest = np.maximum(records - 2 * pupils, 0)
    highest = np.minimum((records - pupils) // 2, by_year.min(axis=1))
    if not lowest.sum() <= n_three <= highest.sum():
        raise ValueError(
            f"Calibration is inconsistent: {n_three} pupils with three records cannot be spread "
            f"over schools that allow between {lowest.sum()} and {highest.sum()}."
        )
    # Spread the spare three-record pupils in proportion to each school's room (largest
    # remainders), so every school sits at the same fraction of its feasible range.
    room = highest - lowest
    share = (n_three - lowest.sum()) * room / room.sum()
    extra = np.floor(share).astype(np.int64)
    remainder_order = np.argsort(-(share - extra), kind="stable")
    extra[remainder_order[: n_three - lowest.sum() - extra.sum()]] += 1
    return lowest + extra


def _jsp_year_patterns(by_year: np.ndarray, n_three: int, n_two: int, n_one: int) -> list[tuple]:
    """Years present for each pupil of one school, matching its records per year."""
    remaining = by_year.astype(np.int64) - n_three
    patterns = [_JSP_YEARS] * n_three
    for size, count in ((2, n_two), (1, n_one)):
        for _ in range(count):
            # Most-needed years first (earlier year on ties): pupils who left after year 1
            # come out as (0, 1), those who joined late as (1, 2); Gale-Ryser greedy.
            chosen = tuple(sorted(np.argsort(-remaining, kind="stable")[:size].tolist()))
            if any(remaining[y] <= 0 for y in chosen):
                raise ValueError("Calibration is inconsistent: records by year cannot be met.")
            remaining[list(chosen)] -= 1
            patterns.append(chosen)
    if remaining.any():
        raise ValueError("Calibration is inconsistent: records by year cannot be met.")
    return patterns


def _jsp_raven_draw(n: int, rng: np.random.Generator) -> np.ndarray:
    # A mirrored gamma, standardised within the school: mean 0 and SD 1 exactly.
    shape = _JSP_RAVEN_GAMMA_SHAPE
    draw = -(rng.gamma(shape, size=n) - shape)
    return (draw - draw.mean()) / draw.std(ddof=1)


def _jsp_raven(
    draws: list[np.ndarray], school_means: np.ndarray, within_sd: float
) -> list[np.ndarray]:
    """Integer Raven scores per school with the published school means and overall range."""
    low, high = _JSP_RAVEN_RANGE
    continuous = [mean + within_sd * draw for mean, draw in zip(school_means, draws)]
    targets = [_round_half_up(mean * len(draw)) for mean, draw in zip(school_means, draws)]
    scores = [
        integer_scores_with_sum(values, target, low=low, high=high)
        for values, target in zip(continuous, targets)
    ]
    # The published range is the observed one: the lowest and the highest pupil of the whole
    # sample take the range's ends, and the rest of their school makes up the difference.
    for pick, end in ((np.argmin, low), (np.argmax, high)):
        flat = np.concatenate(continuous)
        school = int(np.searchsorted(np.cumsum([len(d) for d in draws]), pick(flat), "right"))
        pupil = int(pick(continuous[school]))
        if scores[school][pupil] == end:
            continue
        others = np.arange(len(draws[school])) != pupil
        continuous[school][pupil] = end
        scores[school][pupil] = end
        scores[school][others] = integer_scores_with_sum(
            continuous[school][others], targets[school] - end, low=low, high=high
        )
    return scores


def _residual_on(values: np.ndarray, centred: np.ndarray) -> np.ndarray:
    # Remove the chance association with a centred covariate (and the mean), so the designed
    # slopes on Raven are not blurred by sampling noise; by hand, to stay LAPACK-free.
    values = values - values.mean()
    denominator = float(centred @ centred)
    if denominator > 0:
        values = values - (centred @ values) / denominator * centred
    return values


def _noise_scale(ability_part: np.ndarray, noise: np.ndarray, target_ss: float) -> float:
    """Scale c >= 0 with sum((ability_part + c noise)^2) = target_ss."""
    a, b, d = float(noise @ noise), float(ability_part @ noise), float(ability_part @ ability_part)
    discriminant = b * b - a * (d - target_ss)
    if discriminant <= 0 or a == 0:
        return 0.0
    return max((-b + np.sqrt(discriminant)) / a, 0.0)


def _jsp_math(
    groups: np.ndarray,
    year: np.ndarray,
    raven_unit: np.ndarray,
    random_unit: np.ndarray,
    noise_unit: np.ndarray,
    pairs: tuple[np.ndarray, np.ndarray],
    group_means: np.ndarray,
    calibration: dict,
    slopes: Sequence[float],
) -> np.ndarray:
    """Integer math scores from the three standardised parts of each record.

    ``groups`` numbers the school-years 0..G-1; ``group_means`` holds their published means.
    ``raven_unit`` is Raven centred within the school-year, ``random_unit`` the loaded class
    and pupil effects and ``noise_unit`` the noise, both centred within the school-year. Score
    = school-year mean + slope * f_y * raven_unit + g * random_unit + k_y * noise_unit, with
    f_y, k_y (per year) and g found by fixed-point steps so that, after rounding, clipping and
    the repair of each school-year's sum, every year's within-school Raven slope is
    ``slopes[y]``, every year's SD is published, and two years of a pupil covary by the
    published three-level pupil variance.
    """
    low, high = _JSP_MATH_RANGE
    members = [np.flatnonzero(groups == g) for g in range(len(group_means))]
    sums = [_round_half_up(group_means[g] * len(rows)) for g, rows in enumerate(members)]
    group_year = np.array([year[rows[0]] for rows in members])
    math = np.zeros(len(year), dtype=np.int64)
    raven_part = np.zeros(len(year))
    target_pupil_cov = calibration["fits"]["three_level_variance"]["pupil_var"]
    first, second = pairs
    pupil_scale = 1.0
    for pupil_round in range(_JSP_PUPIL_ROUNDS):
        for y in _JSP_YEARS:
            year_groups = np.flatnonzero(group_year == y)
            rows = np.concatenate([members[g] for g in year_groups])
            counts = np.array([len(members[g]) for g in year_groups])
            means = group_means[year_groups]
            total_ss = (len(rows) - 1) * calibration["year"][str(y)]["math_sd"] ** 2
            within_ss = total_ss - float(counts @ (means - np.average(means, weights=counts)) ** 2)
            raven_factor = 1.0
            for _ in range(_JSP_SD_ROUNDS):
                ability = (
                    slopes[y] * raven_factor * raven_unit[rows] + pupil_scale * random_unit[rows]
                )
                scale = _noise_scale(ability, noise_unit[rows], within_ss)
                continuous = np.zeros(len(year))
                continuous[rows] = ability + scale * noise_unit[rows]
                for g in year_groups:
                    math[members[g]] = integer_scores_with_sum(
                        group_means[g] + continuous[members[g]], sums[g], low=low, high=high
                    )
                achieved = math[rows].astype(float)
                within_ss += total_ss - float(((achieved - achieved.mean()) ** 2).sum())
                slope = float(raven_unit[rows] @ achieved) / float(
                    raven_unit[rows] @ raven_unit[rows]
                )
                raven_factor *= slopes[y] / slope
            raven_part[rows] = slopes[y] * raven_factor * raven_unit[rows]
        if pupil_round == _JSP_PUPIL_ROUNDS - 1:
            break
        deviation = math - np.array([sums[g] / len(members[g]) for g in groups])
        achieved_cov = float(np.mean(deviation[first] * deviation[second]))
        raven_cov = float(np.mean(raven_part[first] * raven_part[second]))
        pupil_scale *= np.sqrt(
            max(target_pupil_cov - raven_cov, 1e-6) / max(achieved_cov - raven_cov, 1e-6)
        )
    return math


def make_jsp_replica(calibration: dict, seed: int = JSP_SEED) -> pd.DataFrame:
    """Simulate the Junior School Project from its calibration figures.

    Exactly as published: each school's pupils, classes, records and records per year; the
    numbers of pupils with 1, 2 and 3 records; the gender and social-class counts; Raven's
    range. Closely: each school's mean math per year (integer sums, so within
    ``0.5 / records``) and mean Raven score (within ``0.5 / pupils``), the year means and SDs,
    the Raven mean and SD, the year-0 math-Raven correlation and, through the design of
    :func:`jsp_design`, the published growth, three-level and year-2 ability fits.

    Math of pupil ``i`` in school ``s``, class ``c``, year ``y`` is
    ``mean[s, y] + loading[y] * a_i + k_y * e_iy`` centred within the school-year, with ability
    ``a_i = raven_slope * (raven_i - raven mean of s) + class_c + u_i``. The class and pupil
    effects and the noise are drawn at random, then cleared of their chance association with
    Raven within the school (school-year for the noise); ``k_y`` is set so the year's SD comes
    out as published after scores are made integers in 1-40 whose school-year sum is the
    published mean times the records. Gender and social class are drawn independently of
    everything else; ``english`` is not calibrated (see ``data/README.md``).

    Parameters
    ----------
    calibration : dict
        Parsed ``jsp.json`` (see :func:`load_calibration`).
    seed : int, default JSP_SEED
        Seed; the pupils' gender and social class come from stream ``(seed, 0)``, each school
        from its own stream ``(seed, school)``.

    Returns
    -------
    pandas.DataFrame
        One row per pupil and year, columns ``school, class, pupil, gender, social, raven,
        english, math, year`` (the tidy columns :func:`hlmlab.datasets.read_original` gives an
        original JSP file; ``gender`` is ``boy``/``girl``, the rest ``int64``), sorted by
        school, class, pupil and year. Class ids run 1..classes within a school; pupil ids
        1..n_pupils over the file, in that order. ``attrs`` holds ``synthetic=True``,
        ``label``, ``dataset`` and ``seed``.
    """
    arrays = _jsp_school_arrays(calibration)
    design = jsp_design(calibration)
    if (
        arrays["pupils"].sum() != calibration["n_pupils"]
        or arrays["records"].sum() != calibration["n_records"]
        or not np.array_equal(arrays["records_by_year"].sum(axis=1), arrays["records"])
    ):
        raise ValueError(
            "Calibration is inconsistent: the schools' pupils and records by year do not add "
            "up to n_pupils, n_records and each school's records."
        )
    per_pupil = {int(k): int(v) for k, v in calibration["records_per_pupil"].items()}
    triples = _jsp_triples(arrays, per_pupil.get(3, 0))

    # 1. Who is where: classes, years present, and the random draws, school by school.
    schools = []
    for index, school in enumerate(arrays["school"]):
        rng = np.random.default_rng([seed, int(school)])
        n, n_classes = int(arrays["pupils"][index]), int(arrays["classes"][index])
        n_three = int(triples[index])
        n_two = int(arrays["records"][index] - n - 2 * n_three)
        patterns = _jsp_year_patterns(
            arrays["records_by_year"][index], n_three, n_two, n - n_two - n_three
        )
        patterns = [patterns[i] for i in rng.permutation(n)]
        lengths = [len(p) for p in patterns]
        schools.append(
            {
                "school": int(school),
                "classes": np.sort(rng.permutation(np.arange(n) % n_classes)) + 1,
                "pupil_of_record": np.repeat(np.arange(n), lengths),
                "year_of_record": np.concatenate([np.array(p, dtype=np.int64) for p in patterns]),
                "raven_draw": _jsp_raven_draw(n, rng),
                "class_draw": rng.standard_normal(n_classes),
                "pupil_draw": rng.standard_normal(n),
                "noise_draw": rng.standard_normal(sum(lengths)),
                "english_pupil": rng.standard_normal(n),
                "english_draw": rng.standard_normal(sum(lengths)),
            }
        )

    # 2. Raven. Rounding adds about 1/12 to the variance; the continuous SD leaves room for it.
    raven_sd = np.sqrt(design.raven_within_var - 1 / 12)
    ravens = _jsp_raven([s["raven_draw"] for s in schools], arrays["raven_mean"], raven_sd)

    # 3. The parts of each record's math score, each centred within its school-year.
    loadings = np.asarray(design.loadings)
    parts = {name: [] for name in ("group", "year", "raven", "random", "noise", "pupil")}
    offset = 0
    for index, (s, raven) in enumerate(zip(schools, ravens)):
        s["raven"] = raven
        craven = raven - raven.mean()
        random_pupil = _residual_on(
            np.sqrt(design.class_var) * s["class_draw"][s["classes"] - 1]
            + np.sqrt(design.pupil_var) * s["pupil_draw"],
            craven,
        )
        pupil, year = s["pupil_of_record"], s["year_of_record"]
        raven_unit, random_unit = np.zeros(len(year)), np.zeros(len(year))
        noise_unit = np.zeros(len(year))
        for y in _JSP_YEARS:
            rows = year == y
            if not rows.any():
                continue
            record_raven = raven[pupil[rows]].astype(float)
            raven_unit[rows] = record_raven - record_raven.mean()
            random_unit[rows] = _residual_on(
                loadings[y] * random_pupil[pupil[rows]], raven_unit[rows]
            )
            noise_unit[rows] = _residual_on(s["noise_draw"][rows], raven_unit[rows])
        parts["group"].append(3 * index + year)
        parts["year"].append(year)
        parts["raven"].append(raven_unit)
        parts["random"].append(random_unit)
        parts["noise"].append(noise_unit)
        parts["pupil"].append(offset + pupil)
        offset += len(raven)
    flat = {name: np.concatenate(values) for name, values in parts.items()}
    # School-years that exist, renumbered 0..G-1 (school 10 has no year 2).
    present, groups = np.unique(flat["group"], return_inverse=True)
    group_means = arrays["math_mean_by_year"].ravel()[present]
    # Every pair of records of one pupil (a pupil has at most three), for the pupil covariance.
    order = np.argsort(flat["pupil"], kind="stable")
    sorted_pupil = flat["pupil"][order]
    pairs = tuple(
        np.concatenate(side)
        for side in zip(
            *(
                (order[:-lag][same], order[lag:][same])
                for lag in (1, 2)
                for same in [sorted_pupil[:-lag] == sorted_pupil[lag:]]
            )
        )
    )

    # 4. The exact year-0 slope: the one that, with the between-school part of this sample's
    # Raven means, gives the published correlation.
    year0 = flat["year"] == 0
    raven0 = np.concatenate(
        [s["raven"][s["pupil_of_record"][s["year_of_record"] == 0]] for s in schools]
    ).astype(float)
    counts0 = np.bincount(groups[year0])
    groups0 = np.flatnonzero(counts0)
    means0 = group_means[groups0]
    school_raven0 = np.bincount(groups[year0], weights=raven0)[groups0] / counts0[groups0]
    weights0 = counts0[groups0]
    between_cp = float(
        weights0
        @ ((means0 - np.average(means0, weights=weights0)) * (school_raven0 - raven0.mean()))
    )
    total_cp = (
        calibration["corr_math_raven_year0"]
        * calibration["year"]["0"]["math_sd"]
        * raven0.std(ddof=1)
        * (len(raven0) - 1)
    )
    raven_unit0 = flat["raven"][year0]
    slope0 = (total_cp - between_cp) / float(raven_unit0 @ raven_unit0)
    slopes = (
        slope0,
        slope0 * design.raven_slopes[1] / design.raven_slopes[0],
        design.raven_slopes[2],
    )
    math = _jsp_math(
        groups, flat["year"], flat["raven"], flat["random"], flat["noise"], pairs,
        group_means, calibration, slopes,
    )
    start = 0
    for s in schools:
        s["math"] = math[start : start + len(s["year_of_record"])]
        start += len(s["year_of_record"])

    frame = pd.concat(
        [
            pd.DataFrame(
                {
                    "school": np.full(len(s["year_of_record"]), s["school"], dtype=np.int64),
                    "class": s["classes"][s["pupil_of_record"]],
                    "local_pupil": s["pupil_of_record"],
                    "raven": s["raven"][s["pupil_of_record"]],
                    "english_pupil": s["english_pupil"][s["pupil_of_record"]],
                    "english_draw": s["english_draw"],
                    "math": s["math"],
                    "year": s["year_of_record"],
                }
            )
            for s in schools
        ],
        ignore_index=True,
    )
    frame = frame.sort_values(["school", "class", "local_pupil", "year"], kind="stable")
    frame = frame.reset_index(drop=True)
    frame["pupil"] = (~frame.duplicated(["school", "local_pupil"])).cumsum().astype(np.int64)

    rng = np.random.default_rng([seed, 0])
    counts = calibration["gender_counts"]
    girl = _values_from_counts({"0": int(counts["boy"]), "1": int(counts["girl"])}, rng)
    social = _values_from_counts(calibration["social_counts"], rng)
    pupil_index = frame["pupil"].to_numpy() - 1
    frame["gender"] = np.array(["boy", "girl"])[girl[pupil_index]]
    frame["social"] = social[pupil_index]
    frame["english"] = _jsp_english(frame)
    frame = frame[list(JSP_REPLICA_COLUMNS)].astype(dict(JSP_REPLICA_DTYPES))
    frame.attrs.update(synthetic=True, label=JSP_REPLICA_LABEL, dataset="jsp", seed=seed)
    return frame


def _jsp_english(frame: pd.DataFrame) -> np.ndarray:
    # Not calibrated: a plausible 0-98 score that rises with math (correlation about 0.6) and
    # has a persistent pupil component, so that it reads like the original's English test.
    low, high = _JSP_ENGLISH_RANGE
    continuous = (
        16.0
        + 1.3 * frame["math"].to_numpy(float)
        + 7.0 * frame["english_pupil"].to_numpy()
        + 8.0 * frame["english_draw"].to_numpy()
    )
    return np.rint(np.clip(continuous, low, high)).astype(np.int64)


def write_replica_csv(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write a replica as CSV with byte-for-byte reproducible formatting.

    Floats get three decimals, lines end with ``\\n``, there is no index column and the file
    is UTF-8 without BOM, whatever the platform.

    Parameters
    ----------
    frame : pandas.DataFrame
        The replica, e.g. from :func:`make_nels88_replica`.
    path : str or pathlib.Path
        Destination; parent folders are created.

    Returns
    -------
    pathlib.Path
        The path written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = frame.to_csv(index=False, lineterminator="\n", float_format="%.3f")
    path.write_bytes(text.encode("utf-8"))
    return path


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: regenerate a committed replica.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments without the program name; ``sys.argv[1:]`` when omitted.

    Returns
    -------
    int
        Exit status, 0 on success.
    """
    parser = argparse.ArgumentParser(
        prog="python -m hlmlab.synthetic",
        description="Regenerate a seeded synthetic replica from its calibration file.",
    )
    builders = {
        "nels88": (make_nels88_replica, NELS88_REPLICA_FILENAME, NELS88_SEED),
        "jsp": (make_jsp_replica, JSP_REPLICA_FILENAME, JSP_SEED),
    }
    parser.add_argument("dataset", choices=list(builders), help="which replica to build")
    parser.add_argument(
        "--calibration",
        type=Path,
        default=None,
        help="calibration JSON (default: ../shared/calibration/<dataset>.json beside the repo)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="CSV to write (default: data/nels88_synthetic.csv or data/jsp_synthetic.csv)",
    )
    parser.add_argument(
        "--seed", type=int, default=None, help=f"random seed (default: {NELS88_SEED} for "
        f"nels88, {JSP_SEED} for jsp)"
    )
    args = parser.parse_args(argv)
    build, filename, default_seed = builders[args.dataset]
    calibration = args.calibration or DEFAULT_CALIBRATION_DIR / f"{args.dataset}.json"
    out = args.out or DATA_DIR / filename
    seed = default_seed if args.seed is None else args.seed

    if not calibration.is_file():
        parser.error(f"calibration file not found: {calibration}")
    frame = build(load_calibration(calibration), seed=seed)
    written = write_replica_csv(frame, out)
    group = "schid" if args.dataset == "nels88" else "school"
    units = (
        f"{len(frame)} pupils"
        if args.dataset == "nels88"
        else f"{len(frame)} records of {frame['pupil'].nunique()} pupils"
    )
    print(f"wrote {written} ({units}, {frame[group].nunique()} schools, seed {seed})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
