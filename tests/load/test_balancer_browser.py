"""Chromium through HAProxy (scripts/serve_class.sh's configuration) in front of two workers:
the balancer's cookie travels with the websocket upgrade, the upload and the media request,
so each tab's traffic reaches the worker that holds its session, and two tabs from one
address land on different workers."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import sys
import time
from contextlib import ExitStack

import pytest
from PIL import Image

import class_load
from conftest import HERE, ROOT, stop, streamlit_server

sys.path.insert(0, str(ROOT / "tests"))
import browser_support as bs  # noqa: E402

pytestmark = pytest.mark.browser

LINE = re.compile(r"streamlit_workers/(\S+) \S+ (\d+) \d+ (\S+) \S+ \S+ \S+ \S+ \"(\S+) (\S+)")


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_cookie_keeps_websocket_upload_and_media_on_one_worker(tmp_path, haproxy_installed):
    from playwright.sync_api import sync_playwright

    app_dir = tmp_path / "app"
    (app_dir / "static" / "ready").mkdir(parents=True)
    shutil.copy(HERE / "upload_media_app.py", app_dir / "app.py")
    ports = [class_load.free_port(), class_load.free_port()]
    for port in ports:  # the readiness files the health check asks for (no warm-up here)
        (app_dir / "static" / "ready" / f"127.0.0.1_{port}.txt").write_text("ready\n")
    workers_file = tmp_path / "workers.conf"
    workers_file.write_text("# two local workers\n" + "".join(f"127.0.0.1:{p}\n" for p in ports))
    balancer_port = class_load.free_port()
    config = subprocess.run(
        ["bash", "scripts/serve_class.sh", "--config-only", "--workers-file", str(workers_file),
         "--port", str(balancer_port), "--bind", "127.0.0.1", "--run-dir", str(tmp_path / "run")],
        cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
    log = tmp_path / "haproxy.log"
    picture = tmp_path / "picture.png"
    picture.write_bytes(png_bytes())
    with ExitStack() as stack:
        for port in ports:
            stack.enter_context(streamlit_server(app_dir / "app.py", port))
        haproxy = subprocess.Popen(["haproxy", "-db", "-f", config], stdout=open(log, "wb"),
                                   stderr=subprocess.STDOUT, start_new_session=True)
        stack.callback(stop, haproxy)
        assert class_load.wait_healthy(balancer_port, 20) is not None
        time.sleep(1.5)  # the first health checks
        with sync_playwright() as playwright:
            browser = bs.launch_chromium(playwright)
            tabs = []
            for _ in range(2):  # two students behind one address: two cookie jars
                context = browser.new_context()
                page = context.new_page()
                page.goto(f"http://127.0.0.1:{balancer_port}/")
                page.get_by_text("Upload and media through the balancer").wait_for(timeout=30000)
                tabs.append((context, page))
            for _, page in tabs:
                page.locator('input[type="file"]').set_input_files(str(picture))
                image = page.locator('[data-testid="stImage"] img')
                image.wait_for(timeout=30000)
                page.wait_for_function("img => img.complete && img.naturalWidth === 40",
                                       arg=image.element_handle(), timeout=30000)
                assert "/media/" in image.get_attribute("src")
            cookies = [{c["name"]: c["value"] for c in context.cookies()} for context, _ in tabs]
            browser.close()
    requests = [LINE.search(line).groups() for line in log.read_text().splitlines()
                if LINE.search(line)]
    by_kind = {"stream": [], "upload": [], "media": []}
    for server, status, cookie_sent, method, path in requests:
        if cookie_sent != "-":  # every request after the tab's first carries the cookie ...
            assert cookie_sent == f"hlmlab_worker={server}", (server, method, path)
        kind = ("stream" if path.startswith("/_stcore/stream") else
                "upload" if path.startswith("/_stcore/upload_file") else
                "media" if path.startswith("/media/") else None)
        if kind:  # ... and these three always do
            assert cookie_sent == f"hlmlab_worker={server}", (kind, server, path)
            by_kind[kind].append((server, method, int(status)))
    assert len(by_kind["stream"]) == 2
    assert any(m == "PUT" and s < 300 for _, m, s in by_kind["upload"])
    assert all(s == 200 for _, _, s in by_kind["media"]) and len(by_kind["media"]) >= 2
    # the two tabs (one address) were given different workers, each kept throughout
    assert {c["hlmlab_worker"] for c in cookies} == {f"127.0.0.1_{p}" for p in ports}
