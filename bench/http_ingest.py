"""Ingest throughput through HTTP: the real server (``alpr-guard serve``, gunicorn) on SQLite.

Targets (issue): through HTTP with 1,000-read batches, >= 10,000 reads/s; the server's RSS
<= 120 MB while it ingests (measure it with ``--clients 4``: four concurrent 1,000-read
batches); then, with the reads stored, ``--searches`` justified searches through
``POST /api/v1/searches`` one after another on a keep-alive connection: p99 <= 3 ms (at 1M
reads: ``--reads 1000000``). Each search is recorded (its access record and audit event
commit before the answer), as in production. Beside the latencies: the server workers' CPU
time per search (less sensitive than latency to a shared machine), and what one fdatasync
costs on the database's disk, the floor under every search's latency (synchronous=FULL).

A temporary config and SQLite database are created with the CLI (``db upgrade``, ``agencies add``,
``users add``), the server is started on 127.0.0.1 on a free port, and the bench process POSTs
pre-serialised 1,000-read JSON batches to ``/api/v1/reads`` over keep-alive connections
(``http.client``), from ``--clients`` threads. The server's RSS is sampled while it works. The
server is always terminated. The server's RSS is its worker processes' (gunicorn's master only
forks and watches them).

Usage: .venv/bin/python bench/http_ingest.py [--reads 200000] [--batch 1000] [--clients 2]
       [--searches 1000]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psutil
from _common import REPO, ReadSource, operating_ori, percentile, print_header, rss_mb, verdict
from _common import write_config as write_bench_config

TARGET_RATE = 10_000
TARGET_RSS_MB = 120.0
TARGET_SEARCH_P99_MS = 3.0
SEARCH_WARMUP = 50
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


def worker_cpu_s(pid: int) -> float:
    """CPU seconds (user and system) used so far by the server's worker processes."""
    children = psutil.Process(pid).children(recursive=True) or [psutil.Process(pid)]
    return sum(sum(child.cpu_times()[:2]) for child in children)


def flush_ms(directory: Path, count: int = 100) -> list[float]:
    """What one durable write costs on this disk: a page overwritten in a file of the
    database's directory, then fdatasync, ``count`` times (ms). Every search commits once with
    synchronous=FULL, so this is the floor under its latency whatever the server does."""
    path = directory / "flush_probe"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        os.pwrite(fd, b"\0" * 4096, 0)
        os.fsync(fd)
        times = []
        for i in range(count):
            os.pwrite(fd, i.to_bytes(4, "big") * 1024, 0)
            t0 = time.perf_counter()
            os.fdatasync(fd)
            times.append((time.perf_counter() - t0) * 1000)
        return times
    finally:
        os.close(fd)
        path.unlink()


def search_all(
    port: int, token: str, sample: list[tuple[str, datetime]], count: int
) -> tuple[list[float], int, list[str]]:
    """``count`` searches after a warm-up, one at a time: latencies (ms), rows, errors."""
    headers = {
        "Authorization": f"Bearer {token}",
        "Content-Type": "application/json",
        "Connection": "keep-alive",
    }
    rng = random.Random(5)
    now = datetime.now(UTC)
    conn = http.client.HTTPConnection(HOST, port, timeout=60)
    latencies: list[float] = []
    rows = 0
    errors: list[str] = []
    try:
        for i in range(count + SEARCH_WARMUP):
            plate, at = rng.choice(sample)
            hi = min(now, at + timedelta(days=3))
            body = json.dumps(
                {
                    "plate": plate,
                    "from": (hi - timedelta(days=7)).isoformat(),
                    "to": hi.isoformat(),
                    "purpose": "stolen_vehicle",
                    "justification": "Vehicle reported stolen from Main St lot, owner report filed",
                    "case_number": "26-004512",
                }
            ).encode()
            t0 = time.perf_counter()
            conn.request("POST", "/api/v1/searches", body=body, headers=headers)
            response = conn.getresponse()
            payload = response.read()
            elapsed = (time.perf_counter() - t0) * 1000
            if response.status != 200:
                errors.append(f"HTTP {response.status}: {payload[:200]!r}")
                continue
            if i >= SEARCH_WARMUP:
                latencies.append(elapsed)
                rows += int(json.loads(payload)["result_count"])
    finally:
        conn.close()
    return latencies, rows, errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reads", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8, help="server threads per worker")
    parser.add_argument("--searches", type=int, default=1000, help="0 skips the searches")
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

        source = ReadSource(total=args.reads, days=DAYS, seed=3, keep=5000)
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
        ok_search = True
        if args.searches:
            officer = cli(
                config, "users", "add", "--username", "bench-officer", "--role", "officer"
            )
            cpu0 = worker_cpu_s(server.pid)
            found, rows, search_errors = search_all(
                port, officer.strip().splitlines()[-1], source.sample, args.searches
            )
            cpu_ms = (worker_cpu_s(server.pid) - cpu0) * 1000 / (args.searches + SEARCH_WARMUP)
            flushes = flush_ms(workdir)
            p99 = percentile(found, 99)
            ok_search = not search_errors and p99 <= TARGET_SEARCH_P99_MS
            print(
                f"searches: {len(found):,} after {SEARCH_WARMUP} warm-up, 7-day windows, "
                f"{rows / max(1, len(found)):.1f} rows each: p50 {percentile(found, 50):.2f} ms "
                f"p95 {percentile(found, 95):.2f} ms p99 {p99:.2f} ms max "
                f"{max(found, default=0):.2f} ms; errors {len(search_errors)}"
                + (f" (first: {search_errors[0]})" if search_errors else "")
            )
            print(
                f"server CPU per search (workers' user+system, warm-up included): {cpu_ms:.2f} ms; "
                f"this disk's flush (fdatasync of one page, {len(flushes)} times): "
                f"p50 {percentile(flushes, 50):.2f} ms p99 {percentile(flushes, 99):.2f} ms"
            )
        print()
        print(
            f"{verdict(rate >= TARGET_RATE and not errors)}  HTTP ingest >= {TARGET_RATE:,} "
            f"reads/s: {rate:,.0f}"
        )
        peak = max(server_rss)
        print(
            f"{verdict(peak <= TARGET_RSS_MB)}  server RSS <= {TARGET_RSS_MB:.0f} MB under "
            f"{args.clients} concurrent {args.batch:,}-read batches: peak {peak:.1f} MB "
            f"(idle {server_rss[0]:.1f} MB)"
        )
        if args.searches:
            print(
                f"{verdict(ok_search)}  HTTP search p99 <= {TARGET_SEARCH_P99_MS} ms at "
                f"{accepted:,} reads: {percentile(found, 99):.2f} ms"
            )
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=60)  # a loaded machine stops it slowly
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        if log is not None:
            log.close()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
