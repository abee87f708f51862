"""The one error convention of HLM Lab's core and lesson analyses.

1. A function that cannot produce its result at all raises :class:`ModelDataError`, with a
   message written for a student (what is wrong with the data and what to try), never a
   traceback's words. Example: a multilevel model asked of a single group.
2. A result made of several parts that is still partly usable is returned, with each part
   that could not be produced set to ``None`` and the reason carried as a
   :class:`hlmlab.diagnostics.Diagnostic` of severity ``"error"`` in the result's
   ``messages`` tuple (``"error"``: that part must not be drawn). Example: a pooling
   comparison whose pooled and per-group lines exist but whose multilevel model does not.
3. A fit that exists but should be read with care (on the boundary, not converged, few
   groups) says so in its own ``messages`` tuple, made from its structured ``status`` by
   :func:`hlmlab.diagnostics.describe`.

There are no ``(value, error)`` tuples and no ``.error`` string attributes: a caller either
catches :class:`ModelDataError` or shows a result's ``messages``.
"""

from __future__ import annotations

__all__ = ["ModelDataError"]


class ModelDataError(ValueError):
    """The data cannot support the requested model; the message is written for a student."""
