"""Fixtures shared by the app tests: the AppTest page tests and the tests of ui/.

Plain helpers (where app.py's pages are, a page's views and charts, lme4's reference values)
are in app_pages.py beside this file.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

import pytest


@pytest.fixture(scope="session", autouse=True)
def private_result_cache(tmp_path_factory):
    """Pages' results (ui.panels) go to a directory of this test session, not to the
    machine's shared cache, where a running server or another checkout's tests keep theirs."""
    os.environ["HLMLAB_CACHE_DIR"] = str(tmp_path_factory.mktemp("hlmlab-results"))


@pytest.fixture
def wait_until() -> Callable[..., bool]:
    """``wait_until(condition, seconds=5)``: poll until ``condition()`` is true or the time is
    up; returns its last value (work on a background thread finishes when it finishes)."""

    def wait(condition: Callable[[], object], seconds: float = 5.0) -> bool:
        deadline = time.monotonic() + seconds
        while not condition() and time.monotonic() < deadline:
            time.sleep(0.01)
        return bool(condition())

    return wait


@pytest.fixture
def write_app(tmp_path) -> Callable[[dict[str, str]], object]:
    """``write_app({"app.py": source, "pages/x.py": source, ...})``: a small Streamlit app in a
    temporary folder (its files as given); returns the folder. Its scripts import ``ui``
    from this checkout (pytest puts the repository on sys.path)."""

    def write(files: dict[str, str]):
        for name, source in files.items():
            path = tmp_path / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(source, encoding="utf-8")
        return tmp_path

    return write
