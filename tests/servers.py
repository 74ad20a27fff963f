"""A real server and real commands in child processes, for the tests that only they can
answer (worker processes, the request log, metrics across workers, the vendors' bodies through
gunicorn): a free loopback port, ``db upgrade`` and other commands as an operator runs them, and
``alpr-guard serve`` started and stopped around a test."""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def cli_in_child(config: Path, *args: str) -> str:
    """``alpr-guard`` with ``args`` in a child process, as an operator would run it; the last line
    it printed (a command that makes a secret prints it last)."""
    done = subprocess.run(
        [sys.executable, "-m", "alpr_guard", "--config", str(config), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=dict(os.environ),
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    return lines[-1] if lines else ""


def migrate_in_child(config: Path) -> None:
    """``db upgrade`` in a child process, as an operator would run it before ``serve``."""
    cli_in_child(config, "db", "upgrade")


def free_port() -> int:
    """A loopback port nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def served(
    config: Path, *args: str, threads: int = 2
) -> Iterator[tuple[subprocess.Popen[bytes], int, Path]]:
    """``alpr-guard serve`` (``threads`` threads, on a free loopback port, with ``args``) in a
    child process, answering ``/healthz`` once this is entered and stopped by SIGTERM on
    leaving; the process, its port and the file its output goes to."""
    port = free_port()
    log_path = config.parent / f"server-{port}.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            [
                *(sys.executable, "-m", "alpr_guard", "--config", str(config), "serve"),
                *("--port", str(port), "--threads", str(threads), *args),
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
                    response = conn.getresponse()
                    response.read()
                    assert response.status == 200
                    break
                except OSError:
                    assert time.monotonic() < deadline and server.poll() is None
                    time.sleep(0.1)
                finally:
                    conn.close()
            yield server, port, log_path
        finally:
            server.terminate()
            server.wait(timeout=30)
