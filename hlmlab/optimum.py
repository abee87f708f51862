"""Optimise, verify, fall back: the one route from a profiled deviance to a trusted optimum.

Every mixed model in HLM Lab (two-level, three-level) reaches its estimates the same way:

1. :func:`hlmlab.deviance.optimize_theta` from the model's own starting values (bounded
   quasi-Newton, then Newton steps on finite-difference derivatives);
2. :func:`verify_optimum` checks the point: finite deviance, no coordinate where a Newton
   step or a small move could still gain 1e-6 deviance units, inward moves only on a zero
   bound;
3. if the check fails, the search runs again from that point and the model's fallback
   starts, with a derivative-free polish, and the result is checked again.

A point proposed by somebody else (statsmodels' refit) replaces the optimum only when it is
better and passes the same check (:func:`adopt_if_better`). :func:`is_singular` is lme4's
boundary test on the relative covariance factor.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Sequence

import numpy as np

from hlmlab.deviance import optimize_theta

__all__ = [
    "IMPROVEMENT_TOLERANCE",
    "Optimum",
    "SINGULAR_TOLERANCE",
    "adopt_if_better",
    "find_optimum",
    "is_singular",
    "verify_optimum",
]

# lme4's isSingular() tolerance on theta.
SINGULAR_TOLERANCE = 1e-4
# Deviance units a verified optimum may still leave on the table (the digits shown).
IMPROVEMENT_TOLERANCE = 1e-6
# A proposed point must beat the optimum by this much to replace it (not rounding noise).
REPLACEMENT_MARGIN = 1e-7


@dataclass(frozen=True)
class Optimum:
    """Where the search ended.

    Attributes
    ----------
    theta : the relative covariance parameters.
    deviance : the profiled deviance there.
    finite : the deviance is finite.
    verified : :func:`verify_optimum` accepted the point.
    """

    theta: np.ndarray
    deviance: float
    finite: bool
    verified: bool

    @property
    def converged(self) -> bool:
        """A finite, verified optimum: the only kind whose estimates are shown as fine."""
        return bool(self.finite and self.verified)


def verify_optimum(deviance, theta: np.ndarray) -> tuple[bool, float]:
    """Is ``theta`` a (bounded) local minimum of the deviance? Checked coordinate by coordinate.

    From central differences, the gradient g and curvature h of each coordinate give the
    improvement a Newton step could still make, g^2 / 2h: below 1e-6 deviance units the
    point is the optimum to the digits shown, whatever the scale of the parameter (a
    covariance factor for a predictor like Raven, 4-36, is very sharply curved). A
    coordinate resting on its zero bound may only be non-decreasing inward. Any neighbour
    better by more than 1e-6 also fails the check.

    Parameters
    ----------
    deviance : callable of theta with a ``bounds`` list (:mod:`hlmlab.deviance`).
    theta : the point to check.

    Returns
    -------
    (is_optimum, worst) : whether it is an optimum, and the largest improvement found or
        predicted.
    """
    base = deviance(theta)
    if not np.isfinite(base):
        return False, np.inf
    bounds = deviance.bounds
    worst = 0.0
    for k in range(len(theta)):
        step = 1e-4 * max(1.0, abs(theta[k]))
        up, down = theta.copy(), theta.copy()
        up[k] += step
        down[k] -= step
        f_up = deviance(up)
        if bounds[k][0] is not None and down[k] < bounds[k][0]:
            # On (or at) the bound: only moving inward is allowed, and it must not help.
            worst = max(worst, base - f_up)
            if (f_up - base) / step < -1e-3:
                worst = np.inf
            continue
        f_down = deviance(down)
        if not (np.isfinite(f_up) and np.isfinite(f_down)):
            return False, np.inf  # the deviance is undefined right next to this point
        gradient = (f_up - f_down) / (2 * step)
        curvature = (f_up - 2 * base + f_down) / step**2
        predicted = gradient**2 / (2 * curvature) if curvature > 0 else np.inf
        worst = max(worst, base - f_up, base - f_down, predicted)
    return bool(worst < IMPROVEMENT_TOLERANCE), float(worst)


def find_optimum(deviance, start: np.ndarray, fallback_starts: Sequence[np.ndarray]) -> Optimum:
    """Minimise ``deviance`` from ``start``; if that point fails :func:`verify_optimum`, search
    again from it and ``fallback_starts`` with a derivative-free polish.

    Parameters
    ----------
    deviance : a :class:`hlmlab.deviance.ProfiledDeviance` or
        :class:`hlmlab.deviance.NestedInterceptDeviance`.
    start : the model's own starting theta (moment-based, or typical values).
    fallback_starts : further starts for the second search (e.g. lme4's default).

    Returns
    -------
    Optimum
    """
    theta, value, finite = optimize_theta(deviance, [start])
    verified = finite and verify_optimum(deviance, theta)[0]
    if not verified:
        theta, value, finite = optimize_theta(deviance, [theta, *fallback_starts], polish=True)
        verified = finite and verify_optimum(deviance, theta)[0]
    return Optimum(np.asarray(theta, dtype=float), float(value), bool(finite), bool(verified))


def adopt_if_better(deviance, optimum: Optimum, candidate: np.ndarray | None) -> Optimum:
    """``candidate`` as the new optimum when it is clearly better and passes
    :func:`verify_optimum`; otherwise ``optimum`` itself (the same object).

    Used for the point statsmodels' own optimiser reaches when refitting from ours.
    """
    if candidate is None:
        return optimum
    value = deviance(candidate)
    if value < optimum.deviance - REPLACEMENT_MARGIN and verify_optimum(deviance, candidate)[0]:
        return replace(optimum, theta=np.asarray(candidate, dtype=float), deviance=float(value),
                       verified=True)
    return optimum


def is_singular(lam: np.ndarray) -> bool:
    """lme4's isSingular(): a diagonal element of the relative covariance factor near 0.

    Parameters
    ----------
    lam : the lower-triangular relative covariance factor Lambda (for independent random
        intercepts, the diagonal matrix of theta).
    """
    lam = np.atleast_2d(np.asarray(lam, dtype=float))
    return bool(np.any(np.abs(np.diag(lam)) < SINGULAR_TOLERANCE * max(1.0, np.abs(lam).max())))
