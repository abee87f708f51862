"""Seeded synthetic replicas of the course's classic data sets.

The original files behind the course's examples are not redistributed. Instead, each replica is
simulated from published figures kept in a calibration file (``../shared/calibration/`` beside
the repository) and committed under ``data/``. Every replica is labelled as synthetic wherever a
student sees it.

The shared machinery is :func:`integer_scores_on_line`: integer test scores for one group whose
mean, SD and within-group regression line on a predictor land on given figures. A NELS88 school
uses it for math on homework; a JSP replica can use it for math on year within a school.

Regenerate the committed NELS88 replica with::

    python -m hlmlab.synthetic nels88
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

from hlmlab.datasets import DATA_DIR, NELS88_REPLICA_COLUMNS, NELS88_REPLICA_FILENAME

__all__ = [
    "DEFAULT_CALIBRATION_DIR",
    "NELS88_SEED",
    "LineTargets",
    "integer_scores_on_line",
    "line_stats",
    "load_calibration",
    "make_nels88_replica",
    "write_replica_csv",
    "main",
]

_REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CALIBRATION_DIR = _REPO_ROOT.parent / "shared" / "calibration"

#: Seed of the committed ``data/nels88_synthetic.csv``; changing it changes the committed file.
NELS88_SEED = 1988

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
    parser.add_argument("dataset", choices=["nels88"], help="which replica to build")
    parser.add_argument(
        "--calibration",
        type=Path,
        default=DEFAULT_CALIBRATION_DIR / "nels88.json",
        help="calibration JSON (default: ../shared/calibration/nels88.json beside the repo)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=DATA_DIR / NELS88_REPLICA_FILENAME,
        help="CSV to write (default: data/nels88_synthetic.csv in the repo)",
    )
    parser.add_argument("--seed", type=int, default=NELS88_SEED, help="random seed")
    args = parser.parse_args(argv)

    if not args.calibration.is_file():
        parser.error(f"calibration file not found: {args.calibration}")
    frame = make_nels88_replica(load_calibration(args.calibration), seed=args.seed)
    written = write_replica_csv(frame, args.out)
    print(
        f"wrote {written} ({len(frame)} pupils, {frame['schid'].nunique()} schools, "
        f"seed {args.seed})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
