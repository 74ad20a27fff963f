"""Retention purge of one day's reads out of N retained, and 7-day search on partitions.

Targets (issue #3):
* SQLite: purge >= 50,000 rows/s, and no batch holds the writer longer than 250 ms.
* PostgreSQL: deleting one day takes <= 100 ms (a partition drop, the transaction that does
  it) and the whole run writes <= 1 MiB of WAL.
* PostgreSQL: the 7-day search's p99 on the partitioned table is <= 2x the unpartitioned one.

The database holds N reads spread evenly over 61 UTC days, ingested in time order through
``record_reads`` with the clock following the data (as cameras would write them; on PostgreSQL
the daily partitions are created ahead as the scheduled purge does). The purge then runs with
the clock at the instant the oldest day passes its 60-day window, so exactly one day is due.
Figures are for the whole ``purge_expired`` run: lease, deletes (or partition drop), key
shredding, access-record and audit retention, the receipt.

The search comparison runs the search's data path without decryption, as ``find_reads`` runs
it, against ``plate_reads`` and against an unpartitioned copy of the same rows with the same
indexes, alternating queries so noise hits both alike, in two passes over 1,000 windows: the
verdict is the second (warm) pass, and the first is printed too. Partitioned: the partition
lock, the live keys and the partitions that exist (``partitions.keys_and_tables_for_search``),
then the SELECT reading each key's partition by name. Unpartitioned: the live keys, then the same
SELECT with every branch reading the copy. Both run as the application runs them (prepared,
each search in its own committed transaction).

Usage: .venv/bin/python bench/purge.py [--reads 1000000] [--db sqlite|postgresql|both]
"""

from __future__ import annotations

import argparse
import dataclasses
import random
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from _common import BenchEnv, open_env, percentile, pg_probe, print_header, random_plate, verdict
from sqlalchemy import text
from sqlalchemy.orm import Session

from alpr_guard.api.parsing import parse_read_batch
from alpr_guard.audit import AuditLog
from alpr_guard.clock import FixedClock
from alpr_guard.jobs.purge import purge_expired
from alpr_guard.runtime import Runtime
from alpr_guard.services import partitions
from alpr_guard.services.ingest import record_reads
from alpr_guard.services.keys import days_between, keys_for_search
from alpr_guard.services.search import search_statement
from alpr_guard.services.windows import oldest_kept

DAYS = 61
START = datetime(2026, 9, 1, tzinfo=UTC)
BATCH = 1000
SQLITE_ROWS_PER_S = 50_000
SQLITE_BATCH_MS = 250.0
PG_DAY_MS = 100.0
PG_WAL_BYTES = 1 << 20
SEARCH_RATIO = 2.0


def with_clock(rt: Runtime, clock: FixedClock) -> Runtime:
    audit = AuditLog(rt.keyring, clock, rt.settings.database.audit_timeout_ms)
    return dataclasses.replace(rt, clock=clock, audit=audit)


def build(env: BenchEnv, total: int) -> tuple[Runtime, FixedClock, list[tuple[str, datetime]]]:
    """N reads over DAYS days, in time order, the clock following the data."""
    clock = FixedClock(START)
    rt = with_clock(env.rt, clock)
    rng = random.Random(3)
    pool = [random_plate(rng) for _ in range(max(1000, total // 4))]
    step = timedelta(days=DAYS) / total
    sample: list[tuple[str, datetime]] = []
    t0 = time.perf_counter()
    last_day = None
    for start in range(0, total, BATCH):
        raw: list[dict[str, Any]] = []
        for n in range(start, min(total, start + BATCH)):
            at = START + step * n
            plate = rng.choice(pool)
            raw.append(
                {
                    "plate": plate,
                    "observed_at": at.isoformat(),
                    "camera_id": f"cam-{n % 64:03d}",
                    "client_read_id": f"p{n}",
                    "hit": {"list": "SVS", "entry": f"E{n}"} if rng.random() < 0.005 else False,
                }
            )
            if n % max(1, total // 4000) == 0:
                sample.append((plate, at))
        clock.set(START + step * min(total - 1, start + BATCH) + timedelta(seconds=1))
        day = clock.now().date()
        with rt.sessions() as session:
            if day != last_day:
                # As the nightly purge would have; the first call must not make partitions for
                # days before the data (they would be dropped with the first day, empty).
                partitions.ensure_partitions(
                    session, max(clock.now(), START + timedelta(days=partitions.BEHIND_DAYS))
                )
                last_day = day
            record_reads(session, rt, env.ingest, parse_read_batch({"reads": raw}, BATCH))
            session.commit()
    rate = total / (time.perf_counter() - t0)
    print(f"  .. built {env.backend}: {total:,} reads over {DAYS} days at {rate:,.0f} reads/s")
    return rt, clock, sample


def wal_lsn(env: BenchEnv) -> str:
    with env.rt.engine.connect() as conn:
        return str(conn.execute(text("SELECT pg_current_wal_lsn()")).scalar_one())


def wal_bytes(env: BenchEnv, since: str) -> int:
    with env.rt.engine.connect() as conn:
        return int(
            conn.execute(
                text("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), CAST(:lsn AS pg_lsn))"),
                {"lsn": since},
            ).scalar_one()
        )


def purge_one_day(env: BenchEnv, rt: Runtime, clock: FixedClock) -> bool:
    # The oldest day's unmatched reads are all past 60 days once its last instant is.
    clock.set(datetime.combine(START.date(), datetime.min.time(), UTC) + timedelta(days=61))
    lsn = wal_lsn(env) if env.backend == "postgresql" else ""
    receipt = purge_expired(rt, trigger="bench")
    deleted = sum(receipt.deleted_by_class.values())
    ms = receipt.duration_s * 1000
    delete_rate = deleted / (receipt.delete_ms / 1000) if receipt.delete_ms else 0.0
    print(
        f"  {env.backend:<10} purge run: {deleted:,} reads deleted, {receipt.batches} row "
        f"batches, {receipt.partitions_dropped} partitions dropped, keys destroyed "
        f"{list(receipt.keys_destroyed)}"
    )
    print(
        f"  {env.backend:<10} deleting: {receipt.delete_ms:,.1f} ms ({delete_rate:,.0f} rows/s), "
        f"slowest transaction {receipt.max_batch_ms:.1f} ms; whole run (lease, deletes, key "
        f"shredding, record retention, receipt) {ms:,.1f} ms ({deleted / receipt.duration_s:,.0f} "
        "rows/s)"
    )
    if env.backend == "sqlite":
        ok = delete_rate >= SQLITE_ROWS_PER_S and receipt.max_batch_ms <= SQLITE_BATCH_MS
        print(
            f"  {verdict(ok)}: {delete_rate:,.0f} rows/s deleting (target >= "
            f"{SQLITE_ROWS_PER_S:,}), slowest batch {receipt.max_batch_ms:.1f} ms (target <= "
            f"{SQLITE_BATCH_MS:.0f})"
        )
        return ok
    wal = wal_bytes(env, lsn)
    # Each partition (one day) is dropped in its own transaction; the slowest is the figure.
    ok = receipt.max_batch_ms <= PG_DAY_MS and wal <= PG_WAL_BYTES
    print(
        f"  {verdict(ok)}: one day deleted in {receipt.max_batch_ms:.1f} ms by partition drop "
        f"(target <= {PG_DAY_MS:.0f}); WAL of the whole run {wal / 1024:,.0f} KiB (target <= "
        f"{PG_WAL_BYTES // 1024:,} KiB)"
    )
    return ok


def compare_search(env: BenchEnv, rt: Runtime, sample: list[tuple[str, datetime]]) -> bool:
    """p99 of the search's data path (no decryption) on the partitioned ``plate_reads`` and on
    an unpartitioned copy of the same rows with the same indexes."""
    with env.rt.engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS reads_flat"))
        conn.execute(text("CREATE TABLE reads_flat AS SELECT * FROM plate_reads"))
        conn.execute(text("CREATE INDEX ON reads_flat (key_id, plate_index)"))
        conn.execute(text("CREATE INDEX ON reads_flat (expires_at)"))
        conn.execute(text("ANALYZE reads_flat"))
        conn.execute(text("ANALYZE plate_reads"))
    rng = random.Random(9)
    now = rt.clock.now()
    oldest = oldest_kept(rt.settings.retention, now)
    windows = []
    for plate, at in rng.sample(sample, min(1000, len(sample))):
        lo = max(at - timedelta(days=3), now - timedelta(days=58))
        windows.append((plate, lo, lo + timedelta(days=7)))

    def partitioned(session: Session, plate: str, lo: datetime, hi: datetime) -> list[Any]:
        keys, tables = partitions.keys_and_tables_for_search(session, rt, days_between(lo, hi))
        statement, params = search_statement(keys, plate, lo, hi, now, tables, oldest=oldest)
        return list(statement.rows(session, params))

    def unpartitioned(session: Session, plate: str, lo: datetime, hi: datetime) -> list[Any]:
        keys = keys_for_search(session, rt, days_between(lo, hi))
        flat = {key.key_id: "reads_flat" for key in keys} | {"held": "reads_flat"}
        statement, params = search_statement(keys, plate, lo, hi, now, flat, oldest=oldest)
        return list(statement.rows(session, params))

    paths = {"plate_reads": partitioned, "reads_flat": unpartitioned}
    times: dict[str, list[float]] = {name: [] for name in paths}
    cold: dict[str, list[float]] = {name: [] for name in paths}
    rows: dict[str, int] = dict.fromkeys(paths, 0)
    # Two passes over the same windows; the first warms both sides and is reported apart. The
    # copy was written just now and sits in shared buffers while plate_reads was written long
    # before, and each distinct statement is planned on its first runs on a connection
    # (prepared statements: a server that has run a while has planned them long ago).
    for i, (plate, lo, hi) in enumerate(windows * 2):
        order = ("plate_reads", "reads_flat") if i % 2 else ("reads_flat", "plate_reads")
        for name in order:
            with rt.sessions() as session:
                session.connection().exec_driver_sql("SELECT 1")  # BEGIN, outside the clock
                t0 = time.perf_counter()
                got = paths[name](session, plate, lo, hi)
                elapsed = (time.perf_counter() - t0) * 1000
                session.commit()
            if i < len(windows):
                cold[name].append(elapsed)
            else:
                times[name].append(elapsed)
                rows[name] += len(got)
    assert rows["plate_reads"] == rows["reads_flat"], rows
    print(
        f"  first pass (cold): partitioned p50 {percentile(cold['plate_reads'], 50):.3f} ms "
        f"p99 {percentile(cold['plate_reads'], 99):.3f} ms; unpartitioned p50 "
        f"{percentile(cold['reads_flat'], 50):.3f} ms "
        f"p99 {percentile(cold['reads_flat'], 99):.3f} ms"
    )
    p99 = {t: percentile(v, 99) for t, v in times.items()}
    p50 = {t: percentile(v, 50) for t, v in times.items()}
    ratio = p99["plate_reads"] / p99["reads_flat"]
    ok = ratio <= SEARCH_RATIO
    print(
        f"  second pass, 7-day search data path, {len(times['reads_flat'])} queries each, "
        f"{rows['reads_flat'] / max(1, len(times['reads_flat'])):.1f} rows/query: "
        f"partitioned p50 {p50['plate_reads']:.3f} ms p99 {p99['plate_reads']:.3f} ms; "
        f"unpartitioned p50 {p50['reads_flat']:.3f} ms p99 {p99['reads_flat']:.3f} ms"
    )
    print(
        f"  {verdict(ok)}: partitioned/unpartitioned p99 = {ratio:.2f}x (target <= {SEARCH_RATIO}x)"
    )
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reads", type=int, default=1_000_000)
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    args = parser.parse_args()
    _, pg_version = pg_probe()
    print_header(
        "bench/purge.py",
        f"purge of one day out of {args.reads:,} reads over {DAYS} days",
        pg_version=pg_version,
    )
    results = []
    for backend in ("sqlite", "postgresql"):
        if args.db not in (backend, "both"):
            continue
        env = open_env(backend, label="purge")
        try:
            rt, clock, sample = build(env, args.reads)
            if backend == "postgresql":
                results.append(compare_search(env, rt, sample))
            results.append(purge_one_day(env, rt, clock))
        finally:
            env.close()
    raise SystemExit(0 if all(results) else 1)


if __name__ == "__main__":
    main()
