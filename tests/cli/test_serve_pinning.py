"""``alpr-guard serve`` pins a lone worker to one CPU (its threads take turns on one interpreter
lock, and a hand-over to a thread on the other core wakes it there with cold caches); several
workers only when asked; ``--no-pin`` never."""

from __future__ import annotations

import http.client
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from alpr_guard.server import allowed_cpus, cpu_for_worker, pinned_cpus
from tests.conftest import write_config


def test_a_lone_worker_is_pinned_by_default_and_several_only_when_asked() -> None:
    assert pinned_cpus(1, None, {0, 1, 2, 3}) == [3, 2, 1, 0]
    assert pinned_cpus(4, None, {0, 1, 2, 3}) == []
    assert pinned_cpus(4, True, {0, 1}) == [1, 0]
    assert pinned_cpus(1, False, {0, 1}) == []
    # One CPU to run on: pinning would change nothing.
    assert pinned_cpus(1, True, {5}) == []
    assert pinned_cpus(1, None, set()) == []


def test_workers_take_the_pinned_cpus_in_turn() -> None:
    cpus = [3, 1]
    assert [cpu_for_worker(age, cpus) for age in (1, 2, 3, 4)] == [3, 1, 3, 1]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _worker_affinity(config: Path, *extra: str) -> tuple[set[int], str]:
    """Start the server, wait until it answers; its worker's CPUs and the server's log."""
    port = _free_port()
    log_path = config.parent / f"server-{port}.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            [
                *(sys.executable, "-m", "alpr_guard", "--config", str(config), "serve"),
                *("--port", str(port), "--threads", "2", "--log-format", "text", *extra),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                try:
                    conn.request("GET", "/healthz")
                    assert conn.getresponse().status == 200
                    break
                except OSError:
                    assert time.monotonic() < deadline and server.poll() is None
                    time.sleep(0.1)
                finally:
                    conn.close()
            (worker,) = psutil.Process(server.pid).children()
            # Every thread of the worker, not only its main one.
            cpus = {
                cpu
                for thread in worker.threads()
                for cpu in psutil.Process(thread.id).cpu_affinity()
            }
        finally:
            server.terminate()
            server.wait(timeout=30)
    return cpus, log_path.read_text()


@pytest.fixture
def config(tmp_path: Path) -> Path:
    cfg = write_config(tmp_path / "cfg", f"sqlite:///{tmp_path / 'pin.db'}")
    done = subprocess.run(
        [sys.executable, "-m", "alpr_guard", "--config", str(cfg), "db", "upgrade"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return cfg


def test_the_sqlite_worker_runs_on_one_cpu(config: Path) -> None:
    allowed = allowed_cpus()
    cpus, log = _worker_affinity(config)
    if len(allowed) < 2:
        assert cpus == allowed  # nothing to choose between
        return
    assert cpus == {max(allowed)}
    assert f"pinned to CPU {max(allowed)}" in log


def test_no_pin_leaves_the_worker_free(config: Path) -> None:
    cpus, log = _worker_affinity(config, "--no-pin")
    assert cpus == allowed_cpus()
    assert "pinned to CPU" not in log
