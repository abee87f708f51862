"""Read a page's settings from URL query parameters, so an instructor can share a link to a
particular view. Every value is parsed against an explicit list or range; nothing is
evaluated, and a bad value falls back to the default with a message saying why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Sequence

__all__ = ["UrlSettings"]


@dataclass
class UrlSettings:
    """Parse query parameters one by one, collecting plain-language problems.

    Parameters
    ----------
    params : mapping of parameter name to its (string) value, e.g. ``st.query_params``.
    """

    params: Mapping[str, str]
    problems: list[str] = field(default_factory=list)

    def _raw(self, name: str) -> str | None:
        value = self.params.get(name)
        if isinstance(value, (list, tuple)):
            value = value[-1] if value else None
        return None if value is None else str(value).strip()

    def choice(self, name: str, allowed: Sequence[str], default: str) -> str:
        """One of ``allowed`` (case-insensitive), else ``default``."""
        raw = self._raw(name)
        if raw is None:
            return default
        for option in allowed:
            if raw.lower() == option.lower():
                return option
        self.problems.append(
            f"URL parameter {name}={raw[:40]!r} is not one of {', '.join(allowed)}; using {default!r}."
        )
        return default

    def number(self, name: str, low: float, high: float, default: float, integer: bool = False):
        """A number within [low, high], else ``default``; integers when ``integer``."""
        raw = self._raw(name)
        if raw is None:
            return default
        try:
            value = float(raw)
            if value != value or value in (float("inf"), float("-inf")):
                raise ValueError
            if integer and value != int(value):
                raise ValueError
        except ValueError:
            kind = "a whole number" if integer else "a number"
            self.problems.append(f"URL parameter {name}={raw[:40]!r} is not {kind}; using {default}.")
            return default
        if not low <= value <= high:
            self.problems.append(
                f"URL parameter {name}={raw[:40]!r} is outside {low:g} to {high:g}; using {default}."
            )
            return default
        return int(value) if integer else value

    def subset(self, name: str, allowed: Sequence, default: Sequence) -> list:
        """A comma-separated subset of ``allowed`` (compared as text), else ``default``."""
        raw = self._raw(name)
        if raw is None:
            return list(default)
        by_text = {str(a): a for a in allowed}
        picked = [part.strip() for part in raw.split(",") if part.strip()]
        unknown = [p for p in picked if p not in by_text]
        if unknown or not picked:
            self.problems.append(
                f"URL parameter {name} lists {', '.join(unknown[:5]) or 'nothing'}, not among "
                f"{', '.join(by_text)}; using the default."
            )
            return list(default)
        return [by_text[p] for p in dict.fromkeys(picked)]
