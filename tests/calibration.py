"""The published figures the synthetic replicas are built from, in ../shared/calibration/.

Tests may read them there (the app never does); a test module skips with a clear reason
when the folder is not beside the repo.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

CALIBRATION_DIR = Path(__file__).resolve().parents[2] / "shared" / "calibration"


def calibration_path(name: str) -> Path:
    """``../shared/calibration/<name>.json``."""
    return CALIBRATION_DIR / f"{name}.json"


def skip_without(name: str):
    """A ``pytestmark`` that skips the module when the calibration file is absent."""
    path = calibration_path(name)
    return pytest.mark.skipif(
        not path.is_file(),
        reason=f"calibration file {path} is absent (../shared/ is not beside the repo)",
    )


def load(name: str) -> dict:
    """The calibration figures as a dict."""
    return json.loads(calibration_path(name).read_text(encoding="utf-8"))
