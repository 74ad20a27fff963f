"""Ingest throughput through the service, its cost over plain inserts, memory, synchronous=FULL.

Targets (issue): through ``record_reads`` (validate, normalise, encrypt, index, Core bulk insert,
one commit per batch) on SQLite, up to 1M retained reads: >= 25,000 reads/s on one core, and
within 1.5x of the same inserts without encryption; ingester RSS <= 150 MB with batches
streaming through. Also: the cost of ``synchronous=FULL`` against ``NORMAL``.

The plain baseline is ``record_reads`` itself on a second, identically migrated database, with
the day- and period-key lookups, AES-GCM and the blind index replaced by no-ops (the normalised
plate bytes go into ``plate_ct``, 0 into ``plate_index``, every row under one fixed
``data_keys`` row): the same parsing, validation, replay check, insert statement, audit event
and commits. Generating the synthetic batches is timed separately and not counted as service time.

The reads arrive as cameras send them (``ReadSource(arrival="stream")``): in time order over the
30 days, each late by its upload delay (seconds; 1% by up to six hours). That is the workload
the target describes. A third run ingests the same number of reads scattered uniformly over the
30 days in every batch (a bulk backfill, the worst case for the time-keyed indexes) and its
rate is printed for comparison; ``--backfill-reads 0`` skips it.

On PostgreSQL each run starts with the day and month partitions of the 30 days in place and
refreshes planner statistics every 100,000 reads outside the timed part, as on a server that has
run for those days with autovacuum on (``_common.prepare_time_partitions``, ``_common.analyze``).

Usage: .venv/bin/python bench/ingest.py [--reads N] [--batch 1000] [--db sqlite|postgresql]
       [--backfill-reads N]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from unittest import mock

from _common import (
    PG_URL,
    BenchEnv,
    ReadSource,
    analyze,
    base_settings,
    open_env,
    pg_probe,
    prepare_time_partitions,
    print_header,
    rss_mb,
    verdict,
)
from sqlalchemy import Engine, event, insert

from alpr_guard.api.parsing import parse_read_batch
from alpr_guard.crypto import DataKey, KeyRing
from alpr_guard.models import DataKeyRecord
from alpr_guard.runtime import Runtime
from alpr_guard.services import ingest as ingest_service
from alpr_guard.services.ingest import record_reads

TARGET_RATE = 25_000
TARGET_RATIO = 1.5
TARGET_RSS_MB = 150
PLAIN_KEY_ID = "bench-plain"
ANALYZE_EVERY = 100_000
DAYS = 30


@dataclass
class RunResult:
    label: str
    reads: int
    accepted: int
    service_s: float
    cpu_s: float
    gen_s: float
    start_rss: float
    peak_rss: float
    db_mb: float = 0.0

    @property
    def rate(self) -> float:
        return self.reads / self.service_s if self.service_s else 0.0


def ingest_batch(env: BenchEnv, raw: list[dict[str, Any]]) -> int:
    """One API request's worth of work: parse, record_reads, commit (one transaction)."""
    rt = env.rt
    with rt.sessions() as session:
        reads = parse_read_batch({"reads": raw}, rt.settings.ingest.max_batch)
        result = record_reads(session, rt, env.ingest, reads)
        session.commit()
    return result.accepted


def run(
    env: BenchEnv,
    label: str,
    total: int,
    batch: int,
    *,
    seed: int,
    progress: bool,
    arrival: str = "stream",
) -> RunResult:
    if prepare_time_partitions(env, DAYS):  # PostgreSQL: a server that has run DAYS days
        analyze(env)
    source = ReadSource(total=total, days=DAYS, seed=seed, arrival=arrival)
    batches = source.batches(total, batch)
    start_rss = peak = rss_mb()
    gen = service = 0.0
    accepted = done = 0
    cpu0 = time.process_time()
    step = max(batch, total // 5)
    while True:
        g0 = time.perf_counter()
        raw = next(batches, None)
        g1 = time.perf_counter()
        gen += g1 - g0
        if raw is None:
            break
        accepted += ingest_batch(env, raw)
        service += time.perf_counter() - g1
        done += len(raw)
        del raw
        if done % ANALYZE_EVERY < batch:
            analyze(env)  # PostgreSQL: what autovacuum does in the background; not timed
        peak = max(peak, rss_mb())
        if progress and done % step < batch:
            print(
                f"  .. {label:<9} {done:>9,} reads  {done / service:>9,.0f} reads/s  "
                f"rss {peak:.0f} MB"
            )
    cpu = time.process_time() - cpu0 - gen  # generation runs in this process too
    return RunResult(label, done, accepted, service, cpu, gen, start_rss, peak, env.db_size_mb())


def _no_aad(*_args: object) -> bytes:
    return b""


def _no_encrypt(_key: DataKey, plaintext: bytes, _aad: bytes) -> bytes:
    return plaintext


def _no_index(_key: DataKey, _plate: str) -> int:
    return 0


@contextmanager
def without_encryption(env: BenchEnv) -> Iterator[None]:
    """record_reads with no day keys, no AES-GCM and no blind index (see module docstring)."""
    now = datetime.now(UTC)
    with env.rt.sessions.begin() as session:
        session.execute(
            insert(DataKeyRecord),
            [
                {
                    "key_id": PLAIN_KEY_ID,
                    "scope": "day",
                    "epoch_start": now,
                    "epoch_end": now,
                    "created_at": now,
                    "destroyed_at": None,
                }
            ],
        )
    plain_key = DataKey(key_id=PLAIN_KEY_ID, aead=None, index_mac=None)  # type: ignore[arg-type]

    def keys_for_ingest(
        _session: object, _rt: Runtime, days: Any
    ) -> tuple[dict[date, DataKey], set[date]]:
        return dict.fromkeys(days, plain_key), set()

    with (
        mock.patch.object(ingest_service, "keys_for_ingest", keys_for_ingest),
        mock.patch.object(ingest_service, "hit_keys_for_ingest", keys_for_ingest),
        mock.patch.object(ingest_service, "read_aad", _no_aad),
        mock.patch.object(KeyRing, "encrypt", staticmethod(_no_encrypt)),
        mock.patch.object(KeyRing, "blind_index", staticmethod(_no_index)),
    ):
        yield


def _synchronous_normal(engine: Engine) -> None:
    """Registered after the app's own "connect" listener, so it runs after it and wins."""

    @event.listens_for(engine, "connect")
    def _normal(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


def _synchronous(env: BenchEnv) -> str:
    with env.rt.engine.connect() as conn:
        value = conn.exec_driver_sql("PRAGMA synchronous").scalar()
    return {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}.get(int(value or 0), str(value))


def sync_cost(total: int, batch: int) -> None:
    """Same batches, interleaved, into a FULL and a NORMAL database (noise hits both alike)."""
    full = open_env("sqlite", label="full")
    normal = open_env("sqlite", label="normal", configure_engine=_synchronous_normal)
    try:
        modes = (_synchronous(full), _synchronous(normal))
        source = ReadSource(total=total, days=DAYS, seed=7, arrival="stream")
        times = [0.0, 0.0]
        for i, raw in enumerate(source.batches(total, batch)):
            order = (0, 1) if i % 2 == 0 else (1, 0)
            for which in order:
                env = (full, normal)[which]
                t0 = time.perf_counter()
                ingest_batch(env, raw)
                times[which] += time.perf_counter() - t0
        print()
        print(f"synchronous cost, sqlite, {total:,} reads in batches of {batch:,} (interleaved)")
        print(f"{'pragma':<10}{'seconds':>10}{'reads/s':>12}")
        for mode, seconds in zip(modes, times, strict=True):
            print(f"{mode:<10}{seconds:>10.2f}{total / seconds:>12,.0f}")
        print(f"ratio FULL/NORMAL time: {times[0] / times[1]:.3f}")
    finally:
        full.close()
        normal.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reads", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--sync-reads", type=int, default=50_000, help="0 skips the FULL test")
    parser.add_argument(
        "--backfill-reads", type=int, default=None, help="scattered-order run (default: --reads)"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    args = parser.parse_args()

    pg_version = None
    if args.db == "postgresql":
        pg_version, problem = pg_probe()
        if pg_version is None:
            print(f"PostgreSQL unreachable at {PG_URL}: {problem}")
            return
    base_settings()  # parse the config now, not after a long run
    print_header(
        "bench/ingest.py",
        f"record_reads + commit per batch, {args.db}, {args.reads:,} reads over {DAYS} days, "
        f"batches of {args.batch:,}; plain baseline; RSS",
        pg_version=pg_version,
    )

    env = open_env(args.db, label="encrypted")
    try:
        encrypted = run(env, "encrypted", args.reads, args.batch, seed=1, progress=not args.quiet)
    finally:
        env.close()
    env = open_env(args.db, label="plain")
    try:
        with without_encryption(env):
            plain = run(env, "plain", args.reads, args.batch, seed=1, progress=not args.quiet)
    finally:
        env.close()
    backfill_reads = args.reads if args.backfill_reads is None else args.backfill_reads
    backfill = None
    if backfill_reads > 0:
        env = open_env(args.db, label="backfill")
        try:
            backfill = run(
                env,
                "backfill",
                backfill_reads,
                args.batch,
                seed=1,
                progress=not args.quiet,
                arrival="scattered",
            )
        finally:
            env.close()

    print()
    print(
        f"{'run':<11}{'reads':>11}{'accepted':>11}{'service_s':>11}{'cpu_s':>9}{'reads/s':>10}"
        f"{'gen_s':>8}{'rss0_MB':>9}{'peak_MB':>9}{'db_MB':>8}"
    )
    runs = (encrypted, plain) if backfill is None else (encrypted, plain, backfill)
    for r in runs:
        print(
            f"{r.label:<11}{r.reads:>11,}{r.accepted:>11,}{r.service_s:>11.2f}{r.cpu_s:>9.2f}"
            f"{r.rate:>10,.0f}{r.gen_s:>8.2f}{r.start_rss:>9.1f}{r.peak_rss:>9.1f}{r.db_mb:>8.1f}"
        )
    print("encrypted, plain: camera stream order; backfill: encrypted, scattered over 30 days")
    ratio = encrypted.service_s / plain.service_s
    print(f"ratio encrypted/plain time: {ratio:.3f}")
    per_read_us = (encrypted.service_s - plain.service_s) / encrypted.reads * 1e6
    print(f"encryption+index cost: {per_read_us:.1f} us/read")

    if args.db == "sqlite" and args.sync_reads > 0:
        sync_cost(args.sync_reads, args.batch)

    print()
    if args.db == "sqlite":
        print(
            f"{verdict(encrypted.rate >= TARGET_RATE)}  ingest rate (sqlite) "
            f">= {TARGET_RATE:,} reads/s: {encrypted.rate:,.0f}"
        )
    else:  # the rate target is SQLite's, on one core
        print(f"info  ingest rate ({args.db}, not a target): {encrypted.rate:,.0f} reads/s")
    print(f"{verdict(ratio <= TARGET_RATIO)}  encrypted/plain <= {TARGET_RATIO}: {ratio:.3f}")
    print(
        f"{verdict(encrypted.peak_rss <= TARGET_RSS_MB)}  peak RSS <= {TARGET_RSS_MB} MB: "
        f"{encrypted.peak_rss:.1f} MB"
    )


if __name__ == "__main__":
    main()
