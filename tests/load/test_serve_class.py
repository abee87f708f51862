"""scripts/serve_class.sh: HAProxy in front of two real HLM Lab workers.

One module-scoped run of the lecture-hall command (2 workers, warm-up limited to the home page
to keep the test short) checks, in order:
- both workers are up only once warm, and a class from ONE address spreads over both;
- each tab's websocket goes to the worker its cookie names (stickiness without source IP);
- a student whose worker was killed is redispatched to the live one and given its cookie;
- the killed worker is started again and rejoins only once its readiness file exists;
- SIGTERM stops HAProxy and every worker (no orphans).
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import psutil
import pytest

import class_load
from conftest import ROOT

COOKIE = "hlmlab_worker"
# HAProxy's statuses of a server that receives no students: put in maintenance by
# serve_class.sh, or found dead by the health checks.
OUT = ("MAINT", "DOWN")


def haproxy_servers(run_dir: Path) -> dict[str, str]:
    """Server name -> status (UP, DOWN, ...) from HAProxy's admin socket."""
    with socket.socket(socket.AF_UNIX) as sock:
        sock.settimeout(5)
        sock.connect(str(run_dir / "haproxy.sock"))
        sock.sendall(b"show stat\n")
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    rows = [line.split(",") for line in data.decode().splitlines() if line and not line.startswith("#")]
    return {row[1]: row[17] for row in rows
            if row[0] == "streamlit_workers" and row[1] not in ("BACKEND", "FRONTEND")}


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")


def get(port: int, path: str = "/", cookies: dict | None = None) -> tuple[int, dict]:
    jar = dict(cookies or {})
    answer = asyncio.run(class_load.http_get("127.0.0.1", port, path, jar, 20))
    return answer["status"], jar


@pytest.fixture(scope="module")
def lecture_hall(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("serve_class")
    port = class_load.free_port()
    base = class_load.free_port()
    env = dict(os.environ, HLMLAB_WARM_PAGES="/", OPENBLAS_NUM_THREADS="1")
    process = subprocess.Popen(
        ["bash", "scripts/serve_class.sh", "--workers", "2", "--port", str(port), "--bind",
         "127.0.0.1", "--worker-base-port", str(base), "--run-dir", str(run_dir)],
        cwd=ROOT, env=env, stdout=open(run_dir / "serve.out", "wb"), stderr=subprocess.STDOUT,
        start_new_session=True)
    try:
        wait_for(lambda: (run_dir / "ready").exists() or process.poll() is not None, 240,
                 "serve_class.sh to report ready")
        assert process.poll() is None, (run_dir / "serve.out").read_text()
        yield {"port": port, "run_dir": run_dir, "process": process,
               "names": [f"127.0.0.1_{base}", f"127.0.0.1_{base + 1}"]}
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)


def test_workers_join_only_when_warm_and_a_class_from_one_address_spreads(lecture_hall):
    run_dir, names = lecture_hall["run_dir"], lecture_hall["names"]
    for name in names:
        assert (ROOT / "static" / "ready" / f"{name}.txt").read_text().startswith("warm after")
    wait_for(lambda: set(haproxy_servers(run_dir).values()) == {"UP"}, 20, "both workers UP")
    assert set(haproxy_servers(run_dir)) == set(names)
    cookies_given = []
    for _ in range(8):  # eight new tabs, all from 127.0.0.1
        status, jar = get(lecture_hall["port"])
        assert status == 200
        cookies_given.append(jar[COOKIE])
    assert set(cookies_given) == set(names)


def test_each_tab_keeps_its_worker_for_the_websocket(lecture_hall):
    port, run_dir = lecture_hall["port"], lecture_hall["run_dir"]
    opened = []
    for _ in range(4):
        outcome = asyncio.run(class_load.open_page_once(port, "", timeout=60))
        assert outcome.exceptions == [] and outcome.status == class_load.FINISHED_RUN
    # the client keeps the cookie from its GET of the page and sends it on the upgrade;
    # HAProxy logs, for every request, the cookie received and the server that answered
    time.sleep(1.0)
    log = (run_dir / "haproxy.log").read_text()
    streams = re.findall(r"streamlit_workers/(\S+) .*? (\S+=\S+|-) (\S+|-) .*?\"GET /_stcore/stream", log)
    assert len(streams) >= 4
    for server, sent_cookie, _ in streams:
        assert sent_cookie == f"{COOKIE}={server}"
        opened.append(server)
    assert set(opened) <= set(lecture_hall["names"])


def test_a_killed_workers_students_are_redispatched_and_it_rejoins_once_warm(lecture_hall):
    port, run_dir, names = lecture_hall["port"], lecture_hall["run_dir"], lecture_hall["names"]
    victim_name, survivor = names[0], names[1]
    victim_port = int(victim_name.rsplit("_", 1)[1])
    victim = next(p for p in psutil.process_iter(["pid"])
                  if p.pid in {int(x) for x in (run_dir / "workers.pids").read_text().split()}
                  and any(c.laddr.port == victim_port for c in p.net_connections("inet")
                          if c.status == psutil.CONN_LISTEN))
    ready_file = ROOT / "static" / "ready" / f"{victim_name}.txt"
    # From the kill on, HAProxy's view of the victim every 0.1 s, with the worker processes
    # and the ready file at that moment. Sampled in the background from the start: a
    # restarted worker that finds the machine's result cache full warms in a few seconds,
    # which the steps below (a page load, the health checks) may outlast.
    samples: list[tuple[set[int], bool, str]] = []
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            pids = {int(x) for x in (run_dir / "workers.pids").read_text().split()}
            ready = ready_file.exists()
            try:
                status = haproxy_servers(run_dir).get(victim_name, "")
            except OSError as error:
                status = f"no answer ({error})"
            samples.append((pids, ready, status))
            time.sleep(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    victim.kill()
    victim.wait(10)
    sampler.start()
    try:
        # at once, before any health check noticed: the tab pinned to the dead worker loads
        status, jar = get(port, "/", {COOKIE: victim_name})
        assert status == 200 and jar[COOKIE] == survivor
        outcome = asyncio.run(class_load.open_page_once(port, "", timeout=60))
        assert outcome.status == class_load.FINISHED_RUN
        # serve_class.sh puts it in maintenance and starts it again; it stays out of the
        # balancer until warm
        wait_for(lambda: any(status.startswith(OUT) for _, _, status in samples), 10,
                 "the dead worker out of the balancer")
        wait_for(lambda: any(victim.pid not in pids for pids, _, _ in samples), 20,
                 "a new worker process")
        wait_for(ready_file.exists, 120, "the restarted worker warm")
        assert lecture_hall["process"].poll() is None
    finally:
        done.set()
        sampler.join(5)
    restarted_pids = next(pids for pids, _, _ in samples if victim.pid not in pids)
    statuses_before_ready = [status for pids, ready, status in samples
                             if victim.pid not in pids and not ready]
    assert statuses_before_ready and all(s.startswith(OUT) for s in statuses_before_ready)
    wait_for(lambda: haproxy_servers(run_dir)[victim_name] == "UP", 15, "the warm worker UP")
    assert restarted_pids


def test_sigterm_stops_everything(lecture_hall):
    run_dir, process = lecture_hall["run_dir"], lecture_hall["process"]
    pids = {int(x) for x in (run_dir / "workers.pids").read_text().split()}
    pids.add(int((run_dir / "haproxy.pid").read_text()))
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=60)
    time.sleep(0.5)
    alive = [pid for pid in pids if psutil.pid_exists(pid)
             and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE]
    assert alive == []
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", lecture_hall["port"])) != 0
    for name in lecture_hall["names"]:
        assert not (ROOT / "static" / "ready" / f"{name}.txt").exists()
