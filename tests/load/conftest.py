"""Shared pieces of the lecture-hall tests: start a real Streamlit server on a free port."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))

import class_load  # noqa: E402  (benchmarks/ is a folder of scripts, not a package)

HERE = Path(__file__).resolve().parent


@contextmanager
def streamlit_server(app: Path, port: int | None = None, log: Path | None = None):
    """``streamlit run APP`` from the repository root (its .streamlit/config.toml applies),
    headless, on ``port`` (a free one by default). Yields (port, process)."""
    port = port or class_load.free_port()
    out = open(log, "ab") if log else subprocess.DEVNULL
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(app), "--server.headless", "true",
         "--browser.gatherUsageStats", "false", "--server.port", str(port),
         "--server.address", "127.0.0.1"],
        cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        env=dict(os.environ, OPENBLAS_NUM_THREADS="1"))
    try:
        if class_load.wait_healthy(port, 60) is None:
            raise RuntimeError(f"streamlit run {app} never became healthy")
        yield port, process
    finally:
        stop(process)
        if log:
            out.close()


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture
def tiny_app() -> Path:
    return HERE / "fragment_slider_app.py"


@pytest.fixture(scope="session")
def haproxy_installed() -> None:
    """Debian's HAProxy, installed by the lecture-hall command itself when it is missing."""
    subprocess.run(["bash", "scripts/serve_class.sh", "--install-only"], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)
