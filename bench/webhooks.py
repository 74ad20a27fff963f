"""Cameras in: vendor webhooks one read per request, the image path, and a CSV back-fill.

Targets (issue), side by side in one run on SQLite:

* Rekor Scout ``alpr_group`` posts, one read per request, 8 concurrent senders, through the
  real server (``alpr-guard serve``, gunicorn gthread), with a camera credential, encryption,
  replay detection and the audit event: >= 1,000 reads/s, p99 <= 50 ms. The native endpoint
  (``POST /api/v1/reads``, a user's ingest token, one read per request) is measured in the same
  run with the same senders, for the ratio.
* Image path: the same posts carrying a 100 KB vehicle image, one sender: >= 200 reads/s.
* Bulk import: ``alpr-guard import reads --format csv`` of ``--rows`` rows (1,000,000 by
  default) in its own process: >= 20,000 reads/s, peak RSS <= 150 MB.

The senders (8 threads in this process) share the machine's two cores with the server. By
default (``--client raw``) each request's bytes are built before the clock starts and written
to a plain keep-alive socket, the answer read by its Content-Length: the server receives the
same request line and headers as from ``http.client`` and does the same work, while the
senders use about a third of ``http.client``'s CPU (0.08 against 0.22 ms a post, measured in
one sitting). ``--client http.client`` keeps the standard library's client, for comparison.
The ``cli_cpu`` column is the senders' CPU in each phase.

The peer figure the issue quotes (an open-source Flask + SQLite webhook receiver, about 28
reads/s on a 2-core machine, plates in clear) is not measured here.

Usage: .venv/bin/python bench/webhooks.py [--requests 20000] [--senders 8]
       [--image-requests 2000] [--rows 1000000] [--threads 8] [--client raw|http.client]
"""

from __future__ import annotations

import argparse
import base64
import csv
import http.client
import json
import os
import random
import re
import resource
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import psutil
from _common import operating_ori, percentile, print_header, random_plate, rss_mb, verdict
from _common import write_config as write_bench_config
from http_ingest import CLI, HOST, child_env, cli, free_port, wait_healthy, worker_rss_mb

WEBHOOK_RATE = 1_000
WEBHOOK_P99_MS = 50.0
IMAGE_RATE = 200
IMPORT_RATE = 20_000
IMPORT_RSS_MB = 150.0
IMAGE_BYTES = 100 * 1024
CAMERAS = [str(1000 + n) for n in range(16)]
WEBHOOK = "webhook rekor, 1 read/request"
NATIVE = "native /reads, 1 read/request"
IMAGE_ONE = "webhook + 100 KB image, 1 sender"
IMAGE = "webhook + 100 KB image, all senders"


def rekor_bodies(count: int, seed: int, image: bytes | None = None) -> list[bytes]:
    """Pre-serialised alpr_group bodies, one read each, observed over the last hour."""
    rng = random.Random(seed)
    now_ms = int(time.time() * 1000)
    crop = base64.b64encode(image).decode() if image is not None else None
    bodies = []
    for n in range(count):
        at = now_ms - rng.randrange(60_000, 3_600_000)
        plate = random_plate(rng)
        body: dict[str, object] = {
            "data_type": "alpr_group",
            "version": 2,
            "agent_uid": "bench-agent",
            "camera_id": int(rng.choice(CAMERAS)),
            "epoch_start": at,
            "epoch_end": at + 2500,
            "best_plate_number": plate,
            "best_confidence": round(rng.uniform(70, 99), 3),
            "best_region": "us-ca",
            "best_uuid": f"bench-agent-{seed}-{n}",
            "uuids": [f"bench-agent-{seed}-{n}"],
            "gps_latitude": 37.6,
            "gps_longitude": -122.4,
        }
        if crop is not None:
            body["vehicle_crop_jpeg"] = crop
        bodies.append(json.dumps(body).encode())
    return bodies


def native_bodies(count: int, seed: int) -> list[bytes]:
    rng = random.Random(seed)
    now = time.time()
    bodies = []
    for n in range(count):
        at = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(now - rng.randrange(60, 3600)))
        read = {
            "plate": random_plate(rng),
            "observed_at": at,
            "camera_id": rng.choice(CAMERAS),
            "confidence": round(rng.uniform(0.7, 0.99), 3),
            "client_read_id": f"native-{seed}-{n}",
        }
        bodies.append(json.dumps({"reads": [read]}).encode())
    return bodies


def post_all(
    port: int, path: str, token: str, bodies: list[bytes], senders: int, client: str = "raw"
) -> tuple[float, list[float], int, list[str]]:
    """POST every body over keep-alive connections from ``senders`` threads; returns
    (seconds, latencies in ms, reads accepted, errors).

    ``client="raw"`` (the default): each request's bytes are built before the clock starts and
    written to a plain keep-alive socket, and the answer is read by its Content-Length. The
    server gets the same request as from ``http.client`` (the same request line and headers,
    in the same order), so it does the same work; the senders, which share the machine's
    cores with the server, spend a fraction of ``http.client``'s CPU (no header objects, no
    email parser per answer). ``client="http.client"``: the standard library's client, as
    before, for comparison."""
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
    sender: Callable[[], None]

    def record(elapsed: float, status: int, payload: bytes) -> None:
        with lock:
            latencies.append(elapsed)
            if status == 201:
                accepted[0] += int(json.loads(payload)["accepted"])
            else:
                errors.append(f"HTTP {status}: {payload[:200]!r}")

    def library_sender() -> None:
        conn = http.client.HTTPConnection(HOST, port, timeout=120)
        try:
            while True:
                with lock:
                    i = next(cursor, None)
                if i is None:
                    return
                t0 = time.perf_counter()
                conn.request("POST", path, body=bodies[i], headers=headers)
                response = conn.getresponse()
                payload = response.read()
                record((time.perf_counter() - t0) * 1000, response.status, payload)
        finally:
            conn.close()

    # What http.client writes for conn.request("POST", path, body=..., headers=headers).
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\nAccept-Encoding: identity\r\n"
        + "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    ).encode()
    requests = [head + b"Content-Length: %d\r\n\r\n" % len(body) + body for body in bodies]

    def raw_sender() -> None:
        sock = socket.create_connection((HOST, port), timeout=120)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        buffer = b""
        try:
            while True:
                with lock:
                    i = next(cursor, None)
                if i is None:
                    return
                t0 = time.perf_counter()
                sock.sendall(requests[i])
                while (end := buffer.find(b"\r\n\r\n")) < 0:
                    buffer += _received(sock)
                header = buffer[:end].decode("latin-1")
                length = int(_LENGTH.search(header).group(1))  # type: ignore[union-attr]
                while len(buffer) < end + 4 + length:
                    buffer += _received(sock)
                payload = buffer[end + 4 : end + 4 + length]
                buffer = buffer[end + 4 + length :]
                record((time.perf_counter() - t0) * 1000, int(header[9:12]), payload)
        finally:
            sock.close()

    sender = raw_sender if client == "raw" else library_sender
    threads = [threading.Thread(target=sender) for _ in range(senders)]
    t0 = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - t0, latencies, accepted[0], errors


_LENGTH = re.compile(r"(?im)^content-length:\s*(\d+)")


def _received(sock: socket.socket) -> bytes:
    chunk = sock.recv(65536)
    if not chunk:
        raise ConnectionError("the server closed the connection")
    return chunk


def worker_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) used so far by the server's worker processes."""
    procs = psutil.Process(pid).children(recursive=True) or [psutil.Process(pid)]
    return sum(p.cpu_times().user + p.cpu_times().system for p in procs)


def own_cpu_s() -> float:
    """CPU seconds (user + system) used so far by this process: the senders."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def row(
    label: str,
    reads: int,
    seconds: float,
    latencies: list[float],
    rss: float,
    cpu: float,
    client_cpu: float,
) -> float:
    rate = reads / seconds if seconds else 0.0
    print(
        f"{label:<34}{reads:>9,}{seconds:>9.2f}{rate:>10,.0f}{percentile(latencies, 50):>9.1f}"
        f"{percentile(latencies, 99):>9.1f}{max(latencies, default=0):>9.1f}{rss:>10.1f}"
        f"{cpu:>9.2f}{reads / cpu if cpu else 0:>13,.0f}{client_cpu:>9.2f}"
    )
    return rate


def write_import_csv(path: Path, rows: int) -> None:
    rng = random.Random(11)
    now = time.time()
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["plate", "observed_at", "camera_id", "confidence", "client_read_id"])
        for n in range(rows):
            # Spread over the last 30 days, as a back-fill would be.
            at = time.strftime(
                "%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(now - rng.randrange(3600, 30 * 86400))
            )
            writer.writerow(
                [
                    random_plate(rng),
                    at,
                    rng.choice(CAMERAS),
                    round(rng.uniform(0.7, 0.99), 3),
                    f"old-{n}",
                ]
            )


def run_import(config: Path, source: Path) -> tuple[float, float, float, dict[str, object]]:
    """(seconds, CPU seconds, peak RSS MB, summary) of ``alpr-guard import reads``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    process = subprocess.Popen(
        [str(CLI), "--config", str(config), "import", "reads", str(source), "--format", "csv"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=config.parent,
        env=child_env(),
    )
    peak = [0.0]
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(0.1):
            try:
                peak[0] = max(peak[0], rss_mb(process.pid))
            except psutil.Error:
                return

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = process.communicate()
    stop.set()
    sampler.join()
    seconds = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if process.returncode != 0:
        raise SystemExit(f"import failed:\n{err.decode(errors='replace')[-2000:]}")
    summary = json.loads(out.decode().strip().splitlines()[-1])
    return seconds, cpu, peak[0], summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20_000, help="one read each")
    parser.add_argument("--senders", type=int, default=8)
    parser.add_argument("--image-requests", type=int, default=2_000)
    parser.add_argument("--rows", type=int, default=1_000_000, help="CSV rows to import")
    parser.add_argument("--threads", type=int, default=8, help="server threads")
    parser.add_argument(
        "--client",
        choices=("raw", "http.client"),
        default="raw",
        help="the senders: pre-built requests on raw keep-alive sockets, or http.client",
    )
    parser.add_argument(
        "--phases",
        default="webhook,native,image,import",
        help="comma-separated subset of webhook,native,image,import",
    )
    args = parser.parse_args()
    phases = set(args.phases.split(","))
    print_header(
        "bench/webhooks.py",
        f"{args.requests:,} one-read webhook posts from {args.senders} senders (and the native "
        f"endpoint alike), {args.image_requests:,} posts with a 100 KB image, import of "
        f"{args.rows:,} CSV rows; server: alpr-guard serve (gunicorn, {args.threads} threads), "
        "sqlite",
    )
    workdir = Path(tempfile.mkdtemp(prefix="alpr_bench_webhooks_"))
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
        ids = [arg for camera in CAMERAS for arg in ("--camera-id", camera)]
        camera_secret = cli(config, "cameras", "add", "bench-agent", *ids).strip().splitlines()[-1]
        user_token = (
            cli(config, "users", "add", "--username", "bench-ingest", "--role", "ingest")
            .strip()
            .splitlines()[-1]
        )

        rng = random.Random(5)
        image = b"\xff\xd8\xff\xe0" + rng.randbytes(IMAGE_BYTES - 6) + b"\xff\xd9"
        webhook = rekor_bodies(args.requests, seed=1)
        native = native_bodies(args.requests, seed=2)
        with_image = rekor_bodies(args.image_requests, seed=3, image=image)
        with_image_many = rekor_bodies(args.image_requests, seed=4, image=image)
        print(
            f"client: bodies made (not timed): webhook {len(webhook):,}, native {len(native):,}, "
            f"with image {len(with_image):,} ({len(with_image[0]) / 1024:.0f} KB each)"
            if with_image
            else "client: bodies made"
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

        print()
        print(
            f"{'path':<34}{'reads':>9}{'seconds':>9}{'reads/s':>10}{'p50_ms':>9}{'p99_ms':>9}"
            f"{'max_ms':>9}{'srv_rss':>10}{'srv_cpu':>9}{'reads/cpu_s':>13}{'cli_cpu':>9}"
        )
        results = {}
        all_errors: list[str] = []
        hook = "/api/v1/webhooks/rekor"
        runs = (
            ("webhook", WEBHOOK, hook, camera_secret, webhook, args.senders),
            ("native", NATIVE, "/api/v1/reads", user_token, native, args.senders),
            # One sender: each request is its own commit (no group to share an fsync with).
            ("image", IMAGE_ONE, hook, camera_secret, with_image, 1),
            # The server is one worker process: one core's worth of Python, 8 senders at it.
            ("image", IMAGE, hook, camera_secret, with_image_many, args.senders),
        )
        for phase, label, path, token, bodies, senders in runs:
            if phase not in phases:
                continue
            cpu0, client0 = worker_cpu_s(server.pid), own_cpu_s()
            seconds, latencies, accepted, errors = post_all(
                port, path, token, bodies, senders, args.client
            )
            cpu, client_cpu = worker_cpu_s(server.pid) - cpu0, own_cpu_s() - client0
            all_errors.extend(errors)
            results[label] = (
                row(
                    label,
                    accepted,
                    seconds,
                    latencies,
                    worker_rss_mb(server.pid),
                    cpu,
                    client_cpu,
                ),
                percentile(latencies, 99),
            )
        server.terminate()
        server.wait(timeout=60)  # a loaded machine stops it slowly
        server = None
        if all_errors:
            print(f"errors: {len(all_errors)}; first: {all_errors[0]}")
        print()
        print(
            "srv_cpu: CPU seconds the server's worker used in the phase (import: the import "
            "process); reads/cpu_s: reads per CPU second, which a shared machine's load does "
            "not change as much as the wall-clock rate; cli_cpu: CPU seconds the senders (this "
            f"process, client {args.client}) used in the phase, on the same cores as the server"
        )
        if WEBHOOK in results and NATIVE in results:
            hook_rate, native_rate = results[WEBHOOK][0], results[NATIVE][0]
            print(
                f"ratio: webhook / native, one read per request, {args.senders} senders: "
                f"{hook_rate / native_rate if native_rate else 0:.1f}x"
            )
        if WEBHOOK in results:
            hook_rate, hook_p99 = results[WEBHOOK]
            print(
                f"{verdict(hook_rate >= WEBHOOK_RATE and not all_errors)}  webhook one "
                f"read/request, {args.senders} senders >= {WEBHOOK_RATE:,} reads/s: "
                f"{hook_rate:,.0f}"
            )
            print(
                f"{verdict(hook_p99 <= WEBHOOK_P99_MS)}  webhook p99 <= {WEBHOOK_P99_MS:.0f} ms: "
                f"{hook_p99:.1f} ms"
            )
        if IMAGE in results:
            image_rate = results[IMAGE][0]
            print(
                f"{verdict(image_rate >= IMAGE_RATE)}  100 KB image path, one server worker, "
                f"{args.senders} senders >= {IMAGE_RATE} reads/s: {image_rate:,.0f}"
            )
        if "import" in phases:
            run_import_phase(config, workdir, args.rows)
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


def run_import_phase(config: Path, workdir: Path, rows: int) -> None:
    source = workdir / "backfill.csv"
    t0 = time.perf_counter()
    write_import_csv(source, rows)
    print(
        f"\nimport: {rows:,} rows, {source.stat().st_size / 2**20:.0f} MB CSV, written in "
        f"{time.perf_counter() - t0:.1f} s (not timed)"
    )
    seconds, cpu, peak, summary = run_import(config, source)
    imported = int(str(summary["accepted"]))
    import_rate = imported / seconds if seconds else 0.0
    print(
        f"{'alpr-guard import reads --format csv':<34}{imported:>9,}{seconds:>9.2f}"
        f"{import_rate:>10,.0f}{'':>27}{peak:>10.1f}{cpu:>9.2f}"
        f"{imported / cpu if cpu else 0:>13,.0f}  (whole process: start-up included)"
    )
    print(
        f"{verdict(import_rate >= IMPORT_RATE)}  CSV import >= {IMPORT_RATE:,} reads/s: "
        f"{import_rate:,.0f} ({rows:,} rows)"
    )
    print(
        f"{verdict(peak <= IMPORT_RSS_MB)}  CSV import peak RSS <= {IMPORT_RSS_MB:.0f} MB: "
        f"{peak:.1f} MB"
    )


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
