"""Made-up panels for the tests of ui.panels (importable in a subprocess too: the disk tier
is shared by processes). Each compute appends its settings to ``CALLS`` and, when
``HLMLAB_TEST_CALLS`` names a file, a line to that file, so tests count computations."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

from hlmlab.errors import ModelDataError
from hlmlab.panels import Panel, SliderRange

CALLS: list = []
SIZES = SliderRange(0, 20, 1)
ICCS = SliderRange(0.0, 0.9, 0.05)


@dataclass(frozen=True)
class Design:
    """Settings: a sample size (0 cannot be fitted) and an ICC."""

    size: int
    icc: float


@dataclass(frozen=True)
class Summary:
    text: str


def summarise(design: Design) -> Summary:
    CALLS.append(design)
    calls_file = os.environ.get("HLMLAB_TEST_CALLS")
    if calls_file:
        with open(calls_file, "a", encoding="utf-8") as file:
            file.write(f"{design}\n")
    time.sleep(float(os.environ.get("HLMLAB_TEST_COMPUTE_SECONDS", "0")))
    if design.size == 0:
        raise ModelDataError("No pupils drawn: move the slider up.")
    return Summary(f"{design.size} pupils, ICC {design.icc}")


DESIGN = Panel("tests.design", summarise, Design, sliders={"size": SIZES, "icc": ICCS})
