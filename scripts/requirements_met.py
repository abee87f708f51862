#!/usr/bin/env python3
"""Exit 0 when every pin of a requirements file is installed at its version, else 1.

scripts/start.sh asks this before ``pip install -r requirements.txt``: pip takes 2-3 s of CPU
just to find everything already installed (on this 2-core machine; a minute of wall time when
the machine is busy), on the path from ``bash scripts/start.sh`` to the first lesson. This
reads the installed versions (``importlib.metadata``) in a few milliseconds. Anything it does
not understand (a line that is not ``name==version``, an environment marker, an option) is
left to pip: it exits 1.

Usage::

    python3 scripts/requirements_met.py requirements.txt || python3 -m pip install -r requirements.txt
"""

from __future__ import annotations

import re
import sys
from importlib import metadata
from pathlib import Path

PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([A-Za-z0-9.+!_-]+)$")


def pins_met(requirements: Path, seen: frozenset = frozenset()) -> bool:
    """Whether every ``name==version`` of ``requirements`` (and the files it includes with
    ``-r``) is installed at exactly that version; False for anything else it finds."""
    if requirements in seen:
        return True
    for raw in requirements.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("-r "):
            if not pins_met(requirements.parent / line[3:].strip(), seen | {requirements}):
                return False
            continue
        match = PIN.match(line)
        if match is None:
            return False  # not a plain pin: pip decides
        try:
            if metadata.version(match.group(1)) != match.group(2):
                return False
        except metadata.PackageNotFoundError:
            return False
    return True


if __name__ == "__main__":
    sys.exit(0 if all(pins_met(Path(name)) for name in sys.argv[1:]) else 1)
