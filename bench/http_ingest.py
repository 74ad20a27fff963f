"""Ingest throughput through HTTP: the real server (``alpr-guard serve``, gunicorn) on SQLite.

Target (issue): through HTTP with 1,000-read batches, >= 10,000 reads/s.

A temporary config and SQLite database are created with the CLI (``db upgrade``, ``agencies add``,
``users add``), the server is started on 127.0.0.1 on a free port, and the bench process POSTs
pre-serialised 1,000-read JSON batches to ``/api/v1/reads`` over keep-alive connections
(``http.client``), from ``--clients`` threads. The server's RSS is sampled while it works. The
server is always terminated. The server's RSS is its worker processes' (gunicorn's master only
forks and watches them).

Usage: .venv/bin/python bench/http_ingest.py [--reads 200000] [--batch 1000] [--clients 2]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import psutil
from _common import REPO, ReadSource, operating_ori, percentile, print_header, rss_mb, verdict
from _common import write_config as write_bench_config

TARGET_RATE = 10_000
CLI = REPO / ".venv" / "bin" / "alpr-guard"
HOST = "127.0.0.1"
DAYS = 7


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def child_env() -> dict[str, str]:
    """The CLI's own script path comes first on sys.path, not the checkout: put the checkout
    first so ``alpr_guard`` is the package (the editable install may see a namespace)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH")) if p)
    return env


def worker_rss_mb(pid: int) -> float:
    """The RSS of the server's worker processes (the process itself if it has none)."""
    children = psutil.Process(pid).children(recursive=True)
    return sum(rss_mb(child.pid) for child in children) if children else rss_mb(pid)


def cli(config: Path, *args: str) -> str:
    done = subprocess.run(
        [str(CLI), "--config", str(config), *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=config.parent,
        env=child_env(),
    )
    if done.returncode != 0:
        raise SystemExit(f"alpr-guard {' '.join(args[:2])} failed:\n{done.stderr[-2000:]}")
    return done.stdout


def wait_healthy(
    port: int, server: subprocess.Popen[bytes], log: Path, timeout: float = 30.0
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:]
            raise SystemExit(f"server exited with {server.returncode}:\n{tail}")
        # Closed on every path: a probe that times out (a worker still importing, on a busy
        # machine) must not leave its socket behind.
        conn = http.client.HTTPConnection(HOST, port, timeout=2)
        try:
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        finally:
            conn.close()
        time.sleep(0.1)
    raise SystemExit("server did not become healthy")


def post_all(
    port: int, token: str, bodies: list[bytes], clients: int
) -> tuple[float, list[float], int, list[str]]:
    """POST every body; returns (seconds, per-request latencies in ms, accepted, errors)."""
    headers = {
        "Authorization": f"Bearer {token}",
        "Content-Type": "application/json",
        "Connection": "keep-alive",
    }
    lock = threading.Lock()
    cursor = iter(range(len(bodies)))
    latencies: list[float] = []
    errors: list[str] = []
    accepted = [0]

    def worker() -> None:
        conn = http.client.HTTPConnection(HOST, port, timeout=120)
        try:
            while True:
                with lock:
                    i = next(cursor, None)
                if i is None:
                    return
                t0 = time.perf_counter()
                conn.request("POST", "/api/v1/reads", body=bodies[i], headers=headers)
                response = conn.getresponse()
                payload = response.read()
                elapsed = (time.perf_counter() - t0) * 1000
                with lock:
                    latencies.append(elapsed)
                    if response.status == 201:
                        accepted[0] += int(json.loads(payload)["accepted"])
                    else:
                        errors.append(f"HTTP {response.status}: {payload[:200]!r}")
        finally:
            conn.close()

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    t0 = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - t0, latencies, accepted[0], errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reads", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8, help="server threads per worker")
    args = parser.parse_args()
    print_header(
        "bench/http_ingest.py",
        f"POST /api/v1/reads, {args.reads:,} reads in {args.batch:,}-read JSON batches, "
        f"{args.clients} keep-alive client thread(s), server: alpr-guard serve "
        f"(gunicorn, {args.threads} threads), sqlite",
    )
    workdir = Path(tempfile.mkdtemp(prefix="alpr_bench_http_"))
    server: subprocess.Popen[bytes] | None = None
    log = None
    try:
        config = write_bench_config(workdir / "cfg", f"sqlite:///{workdir / 'alpr_guard.db'}")
        cli(config, "db", "upgrade")
        cli(
            config,
            "agencies",
            "add",
            "--ori",
            operating_ori(),
            "--name",
            "Bench City Police Department",
            "--kind",
            "local",
            "--jurisdiction",
            "CA",
            "--vetted",
        )
        token = cli(config, "users", "add", "--username", "bench-ingest", "--role", "ingest")
        token = token.strip().splitlines()[-1]

        source = ReadSource(total=args.reads, days=DAYS, seed=3)
        t0 = time.perf_counter()
        bodies = [
            json.dumps({"reads": raw}).encode() for raw in source.batches(args.reads, args.batch)
        ]
        print(
            f"client: {len(bodies):,} bodies, {sum(map(len, bodies)) / 2**20:.1f} MB JSON, "
            f"made in {time.perf_counter() - t0:.1f} s (not timed); client rss {rss_mb():.0f} MB"
        )

        port = free_port()
        log = (workdir / "server.log").open("wb")
        server = subprocess.Popen(
            [
                str(CLI),
                "--config",
                str(config),
                "serve",
                "--host",
                HOST,
                "--port",
                str(port),
                "--threads",
                str(args.threads),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=config.parent,
            env=child_env(),
        )
        wait_healthy(port, server, workdir / "server.log")
        server_rss = [worker_rss_mb(server.pid)]
        stop = threading.Event()

        def sample() -> None:
            while not stop.wait(0.2):
                try:
                    server_rss.append(worker_rss_mb(server.pid))
                except Exception:
                    return

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        seconds, latencies, accepted, errors = post_all(port, token, bodies, args.clients)
        stop.set()
        sampler.join()

        rate = accepted / seconds if seconds else 0.0
        print()
        print(
            f"{'reads':>10}{'accepted':>10}{'seconds':>9}{'reads/s':>10}{'p50_ms':>9}"
            f"{'p99_ms':>9}{'max_ms':>9}{'srv_rss0':>10}{'srv_peak':>10}"
        )
        print(
            f"{args.reads:>10,}{accepted:>10,}{seconds:>9.2f}{rate:>10,.0f}"
            f"{percentile(latencies, 50):>9.1f}{percentile(latencies, 99):>9.1f}"
            f"{max(latencies, default=0):>9.1f}{server_rss[0]:>10.1f}{max(server_rss):>10.1f}"
        )
        if errors:
            print(f"errors: {len(errors)}; first: {errors[0]}")
            log.flush()
            logged = (workdir / "server.log").read_text(errors="replace").splitlines()
            for line in [x for x in logged if "error" in x.lower()][:5]:
                print(f"  server log: {line[:300]}")
        print()
        print(
            f"{verdict(rate >= TARGET_RATE and not errors)}  HTTP ingest >= {TARGET_RATE:,} "
            f"reads/s: {rate:,.0f}"
        )
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        if log is not None:
            log.close()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
