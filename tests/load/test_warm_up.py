"""Every server warms itself: scripts/start.sh starts scripts/warm_worker.py beside it, which
opens the lessons once the server answers and (given HLMLAB_READY_FILE) writes the file the
balancer's health check asks for. serve_class.sh's workers are start.sh, so this is their
warm-up too (tests/load/test_serve_class.py)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import psutil
import pytest

import class_load
from conftest import ROOT

sys.path.insert(0, str(ROOT / "scripts"))
import warm_worker  # noqa: E402  (a script beside start.sh)

pytestmark = pytest.mark.browser  # starts a real server


def test_the_warm_up_opens_the_decks_step_then_every_page_of_app_py():
    pages = warm_worker.default_pages()
    assert pages[0] == "nels88_two_schools?step=4"
    lessons = {path.stem for path in (ROOT / "pages").glob("*.py")} - {"home"}
    # Every page at its defaults (the default page, home, is "/"), then the extra settings
    # pages ask to have warmed: each of those is one of the app's pages with a query.
    at_defaults = [page for page in pages[1:] if "?" not in page]
    assert set(at_defaults) == lessons | {""}
    extras = [page for page in pages[1:] if "?" in page]
    assert set(extras) == {page for page in warm_worker.FOUNDATIONS_PAGES + warm_worker.MACRO_MICRO_PAGES
                           if "?" in page}
    assert all(page.split("?")[0] in lessons for page in extras)
    assert len(pages) == len(set(pages))


def test_start_sh_warms_its_server_and_then_writes_the_ready_file(tmp_path):
    port = class_load.free_port()
    ready = tmp_path / "ready.txt"
    env = dict(os.environ, HLMLAB_INSTALLED="1", HLMLAB_READY_FILE=str(ready),
               HLMLAB_WARM_PAGES="nels88_two_schools?step=4", HLMLAB_CACHE_DIR=str(tmp_path / "cache"),
               OPENBLAS_NUM_THREADS="1")
    server = subprocess.Popen(["bash", "scripts/start.sh", f"--server.port={port}"], cwd=ROOT,
                              env=env, stdout=open(tmp_path / "server.log", "wb"),
                              stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 240
        while not ready.exists() and time.monotonic() < deadline and server.poll() is None:
            time.sleep(0.2)
        assert ready.read_text().startswith("warm after"), (tmp_path / "server.log").read_text()
        # start.sh exec'd the server; the warm-up, a process of its own, ends once warm
        assert "streamlit" in " ".join(psutil.Process(server.pid).cmdline())
        warmers = [p for p in psutil.process_iter(["cmdline"])
                   if "warm_worker.py" in " ".join(p.info["cmdline"] or [])
                   and str(port) in (p.info["cmdline"] or [])]
        gone, alive = psutil.wait_procs(warmers, timeout=20)
        assert alive == []
        assert not [c for c in psutil.Process(server.pid).children()
                    if c.status() == psutil.STATUS_ZOMBIE]  # nothing left for the server to reap
        # the lesson's default panels were computed into the result cache's disk tier
        assert any((tmp_path / "cache").rglob("*")), "no result cached by the warm-up"
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(30)
