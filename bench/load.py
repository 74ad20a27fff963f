"""Many concurrent clients against the real server on SQLite: nothing acknowledged is lost, and
nothing answers 5xx other than 503 with Retry-After.

Target (issue): 32 concurrent ingest clients plus a few searching clients: 0 lost reads, 0 5xx
other than 503 with ``Retry-After``, 0 503 for ingest; the server's memory returns near its idle
size after the load.

A temporary config and SQLite database are created with the CLI, ``alpr-guard serve`` (waitress)
is started on 127.0.0.1 on a free port, and ``--clients`` ingest threads each POST
``--batches`` batches of ``--batch`` reads over their own keep-alive connection while
``--searchers`` threads run justified searches (a recorded write each) until the ingest
clients are done. A client that gets 503 waits ``Retry-After`` and sends the same batch again
(``client_read_id`` makes that idempotent), at most ``--retries`` times. Afterwards every id
the server acknowledged is looked up in the database file: an acknowledged read that is not
there is a lost read. The server's RSS is sampled when idle, throughout, and ``--settle``
seconds after the load. Everything is bounded: requests by count, the run by ``--max-seconds``
(clients stop early when it is reached), loopback only. The server is always terminated.

Usage: .venv/bin/python bench/load.py [--clients 32] [--searchers 4] [--batches 25]
       [--batch 200] [--threads 8]
"""

from __future__ import annotations

import argparse
import http.client
import json
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from _common import ReadSource, operating_ori, percentile, print_header, rss_mb, verdict
from _common import write_config as write_bench_config
from http_ingest import CLI, HOST, child_env, cli, free_port, wait_healthy

JUSTIFICATION = "Vehicle reported stolen from Main St lot, owner report filed"


@dataclass
class Tally:
    """What the clients saw, under one lock."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)
    latencies: dict[str, list[float]] = field(default_factory=lambda: {"ingest": [], "search": []})
    acknowledged: set[str] = field(default_factory=set)
    bad_5xx: list[str] = field(default_factory=list)  # 5xx other than 503 with Retry-After
    unfinished_batches: int = 0

    def add(self, kind: str, status: int, ms: float, retry_after: str | None, body: bytes) -> None:
        with self.lock:
            self.statuses[kind, status] += 1
            self.latencies[kind].append(ms)
            if status >= 500 and not (status == 503 and retry_after):
                self.bad_5xx.append(f"{kind} HTTP {status}: {body[:200]!r}")


@dataclass
class Result:
    statuses: dict[str, int]
    acknowledged: int
    stored: int
    lost: int
    bad_5xx: list[str]
    ingest_503: int
    unfinished_batches: int
    seconds: float
    p50: dict[str, float]
    p99: dict[str, float]
    rss_idle: float
    rss_peak: float
    rss_after: float

    @property
    def ok(self) -> bool:
        return (
            self.lost == 0
            and not self.bad_5xx
            and self.ingest_503 == 0
            and self.unfinished_batches == 0
        )


def _request(
    conn: http.client.HTTPConnection, path: str, body: bytes, headers: dict[str, str]
) -> tuple[int, str | None, bytes, float]:
    t0 = time.perf_counter()
    conn.request("POST", path, body=body, headers=headers)
    response = conn.getresponse()
    payload = response.read()
    return (
        response.status,
        response.getheader("Retry-After"),
        payload,
        (time.perf_counter() - t0) * 1000,
    )


def _headers(token: str) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {token}",
        "Content-Type": "application/json",
        "Connection": "keep-alive",
    }


def ingest_client(
    port: int, token: str, bodies: list[bytes], tally: Tally, deadline: float, retries: int
) -> None:
    conn = http.client.HTTPConnection(HOST, port, timeout=120)
    headers = _headers(token)
    try:
        for body in bodies:
            for _attempt in range(retries + 1):
                if time.monotonic() > deadline:
                    with tally.lock:
                        tally.unfinished_batches += 1
                    break
                status, retry_after, payload, ms = _request(conn, "/api/v1/reads", body, headers)
                tally.add("ingest", status, ms, retry_after, payload)
                if status == 201:
                    with tally.lock:
                        tally.acknowledged.update(json.loads(payload)["ids"])
                    break
                if status == 503 and retry_after:
                    time.sleep(min(float(retry_after), 5.0))
                    continue
                with tally.lock:
                    tally.unfinished_batches += 1
                break
            else:
                with tally.lock:
                    tally.unfinished_batches += 1
    finally:
        conn.close()


def search_client(
    port: int, token: str, plates: list[str], tally: Tally, stop: threading.Event, pause: float
) -> None:
    conn = http.client.HTTPConnection(HOST, port, timeout=120)
    headers = _headers(token)
    now = datetime.now(UTC)
    i = 0
    try:
        while not stop.is_set():
            body = {
                "plate": plates[i % len(plates)],
                "from": (now - timedelta(days=6)).isoformat(),
                "to": (now + timedelta(minutes=1)).isoformat(),
                "purpose": "stolen_vehicle",
                "justification": JUSTIFICATION,
                "case_number": f"26-{i:06d}",
            }
            status, retry_after, payload, ms = _request(
                conn, "/api/v1/searches", json.dumps(body).encode(), headers
            )
            tally.add("search", status, ms, retry_after, payload)
            i += 1
            stop.wait(pause)
    finally:
        conn.close()


def stored_ids(database: Path) -> set[str]:
    """Every read id in the database file, as the API spells it (SQLite stores UUID hex)."""
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as conn:
        return {str(uuid.UUID(hex=row[0])) for row in conn.execute("SELECT id FROM plate_reads")}


def run(
    *,
    clients: int,
    searchers: int,
    batches: int,
    batch: int,
    threads: int,
    max_seconds: float,
    settle: float,
    retries: int = 5,
    search_pause: float = 0.02,
    quiet: bool = False,
) -> Result:
    say = (lambda *_a, **_k: None) if quiet else print
    workdir = Path(tempfile.mkdtemp(prefix="alpr_bench_load_"))
    database = workdir / "alpr_guard.db"
    server: subprocess.Popen[bytes] | None = None
    log = None
    try:
        config = write_bench_config(workdir / "cfg", f"sqlite:///{database}")
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
        tokens = {
            role: cli(config, "users", "add", "--username", f"load-{role}", "--role", role)
            .strip()
            .splitlines()[-1]
            for role in ("ingest", "officer")
        }
        source = ReadSource(total=clients * batches * batch, days=5, seed=11, keep=200)
        per_client = [
            [json.dumps({"reads": source.batch(batch)}).encode() for _ in range(batches)]
            for _ in range(clients)
        ]
        plates = [plate for plate, _at in source.sample] or ["7ABC123"]

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
                str(threads),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=config.parent,
            env=child_env(),
        )
        wait_healthy(port, server, workdir / "server.log")
        time.sleep(0.5)
        rss_idle = rss_mb(server.pid)
        samples = [rss_idle]
        sampling = threading.Event()
        pid = server.pid

        def sample() -> None:
            while not sampling.wait(0.1):
                try:
                    samples.append(rss_mb(pid))
                except Exception:
                    return

        tally = Tally()
        stop = threading.Event()
        deadline = time.monotonic() + max_seconds
        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        searching = [
            threading.Thread(
                target=search_client,
                args=(port, tokens["officer"], plates[n::searchers] or plates, tally, stop),
                kwargs={"pause": search_pause},
            )
            for n in range(searchers)
        ]
        ingesting = [
            threading.Thread(
                target=ingest_client,
                args=(port, tokens["ingest"], bodies, tally, deadline, retries),
            )
            for bodies in per_client
        ]
        t0 = time.perf_counter()
        for thread in searching + ingesting:
            thread.start()
        for thread in ingesting:
            thread.join()
        seconds = time.perf_counter() - t0
        stop.set()
        for thread in searching:
            thread.join()
        sampling.set()
        sampler.join()
        time.sleep(settle)
        rss_after = rss_mb(server.pid)

        stored = stored_ids(database)
        lost = len(tally.acknowledged - stored)
        statuses = {f"{k} {s}": n for (k, s), n in sorted(tally.statuses.items())}
        result = Result(
            statuses=statuses,
            acknowledged=len(tally.acknowledged),
            stored=len(stored),
            lost=lost,
            bad_5xx=tally.bad_5xx,
            ingest_503=tally.statuses["ingest", 503],
            unfinished_batches=tally.unfinished_batches,
            seconds=seconds,
            p50={k: percentile(v, 50) for k, v in tally.latencies.items()},
            p99={k: percentile(v, 99) for k, v in tally.latencies.items()},
            rss_idle=rss_idle,
            rss_peak=max(samples),
            rss_after=rss_after,
        )
        if result.bad_5xx or not result.ok:
            log.flush()
            for line in (workdir / "server.log").read_text(errors="replace").splitlines():
                if "ERROR" in line:
                    say(f"  server log: {line[:300]}")
        return result
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=32, help="concurrent ingest clients")
    parser.add_argument("--searchers", type=int, default=4, help="concurrent search clients")
    parser.add_argument("--batches", type=int, default=25, help="batches per ingest client")
    parser.add_argument("--batch", type=int, default=200, help="reads per batch")
    parser.add_argument("--threads", type=int, default=8, help="waitress threads")
    parser.add_argument("--max-seconds", type=float, default=300.0, help="bound on the load")
    parser.add_argument("--settle", type=float, default=5.0, help="idle seconds before 'after'")
    args = parser.parse_args()
    total = args.clients * args.batches * args.batch
    print_header(
        "bench/load.py",
        f"{args.clients} ingest clients x {args.batches} batches x {args.batch} reads "
        f"({total:,} reads) + {args.searchers} searching clients, server: alpr-guard serve "
        f"(waitress, {args.threads} threads), sqlite",
    )
    result = run(
        clients=args.clients,
        searchers=args.searchers,
        batches=args.batches,
        batch=args.batch,
        threads=args.threads,
        max_seconds=args.max_seconds,
        settle=args.settle,
    )
    print()
    print("status counts: " + ", ".join(f"{k}: {n:,}" for k, n in result.statuses.items()))
    print(
        f"acknowledged reads {result.acknowledged:,}, stored {result.stored:,}, "
        f"lost {result.lost:,}; unfinished batches {result.unfinished_batches}; "
        f"{result.seconds:.1f} s ({result.acknowledged / result.seconds:,.0f} reads/s)"
    )
    for kind in ("ingest", "search"):
        print(f"{kind:>7} p50 {result.p50[kind]:8.1f} ms   p99 {result.p99[kind]:8.1f} ms")
    print(
        f"server rss: idle {result.rss_idle:.1f} MB, peak {result.rss_peak:.1f} MB, "
        f"after {result.rss_after:.1f} MB ({args.settle:.0f} s after the load)"
    )
    for line in result.bad_5xx[:5]:
        print(f"  {line}")
    print()
    print(f"{verdict(result.lost == 0)}  lost reads: {result.lost}")
    bad = len(result.bad_5xx)
    print(f"{verdict(not bad)}  5xx other than 503 with Retry-After: {bad}")
    print(f"{verdict(result.ingest_503 == 0)}  ingest 503s: {result.ingest_503}")
    unfinished = result.unfinished_batches
    print(f"{verdict(unfinished == 0)}  unfinished batches: {unfinished}")
    sys.exit(0 if result.ok else 1)


if __name__ == "__main__":
    main()
