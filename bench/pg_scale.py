"""PostgreSQL at scale: ingest, search and the purge of one day with N reads stored over 60 days,
each beside a plaintext baseline of the same schema in the same run.

Targets:
* ingest >= 50,000 reads/s at N stored reads (1,000-read batches, each committed);
* the search's data path p99 <= 2 ms (one plate, 7-day window, 60 daily partitions);
* the purge of one day <= 100 ms (the transaction that drops its partition).

The encrypted side is the application: ``plate_reads`` as the migrations make it (partitioned
by class, then by UTC day), one data key per day, ``record_reads`` (its prepared ``unnest``
insert), ``find_reads`` and ``purge_expired``. The baseline is ``plain_reads``: the same
columns with the plate as text instead of ciphertext, blind index and key id, the same primary
and replay keys, partitioned by the same UTC days, an index on (plate) where the application
has (key_id, plate_index), the same ``unnest`` insert, a prepared SELECT by plate and window,
and a partition detach and drop. The baseline is what the same rows cost without encryption.

Building N reads through ``record_reads`` would take hours on a small machine, so most of the
stored reads are bulk filler written by the server itself (``INSERT ... SELECT`` over
``generate_series``): rows of the same shape, with ciphertexts of the real length and random
blind-index values under that day's real key (so every index has the size and spread it would
have), and distinct plaintext plates in the baseline. A further ``--real`` reads per day go
through ``record_reads`` and into the baseline with the same plates and times: the searches
look for those. The two tables are written in alternating chunks, ingest and searches
alternate between the two sides, and the purge drops the oldest day from each.

Usage: .venv/bin/python bench/pg_scale.py [--rows 10000000] [--real 1000] [--ingest 50000]
                                          [--queries 1000]
"""

from __future__ import annotations

import argparse
import dataclasses
import random
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from _common import (
    PG_URL,
    BenchEnv,
    open_env,
    percentile,
    pg_probe,
    print_header,
    random_plate,
    rss_mb,
    verdict,
)
from sqlalchemy import text

from alpr_guard.api.parsing import parse_read_batch, parse_search_request
from alpr_guard.audit import AuditLog
from alpr_guard.clock import FixedClock
from alpr_guard.db.fastpaths import run_prepared
from alpr_guard.jobs.purge import purge_expired
from alpr_guard.runtime import Runtime
from alpr_guard.services import partitions
from alpr_guard.services.ingest import record_reads
from alpr_guard.services.search import find_reads

DAYS = 60
START = datetime(2026, 9, 1, tzinfo=UTC)
END = START + timedelta(days=DAYS)
BATCH = 1000
INGEST_TARGET = 50_000
SEARCH_P99_MS = 2.0
PURGE_DAY_MS = 100.0
WARMUP = 50
JUSTIFICATION = "Vehicle reported stolen from Main St lot, owner report filed"

PLAIN_DDL = (
    """CREATE TABLE plain_reads (
        id UUID NOT NULL,
        agency_id INTEGER NOT NULL REFERENCES agencies (id),
        camera_id VARCHAR(64) NOT NULL,
        observed_at TIMESTAMP WITH TIME ZONE NOT NULL,
        plate VARCHAR(16) NOT NULL,
        plate_state VARCHAR(3),
        latitude FLOAT,
        longitude FLOAT,
        confidence FLOAT,
        client_read_id VARCHAR(128),
        retention_class VARCHAR(16) NOT NULL,
        hit BOOLEAN NOT NULL,
        expires_at TIMESTAMP WITH TIME ZONE,
        ingested_at TIMESTAMP WITH TIME ZONE NOT NULL,
        PRIMARY KEY (id, retention_class, observed_at),
        UNIQUE (agency_id, client_read_id, camera_id, retention_class, observed_at)
    ) PARTITION BY RANGE (observed_at)""",
    "CREATE INDEX ix_plain_reads_plate ON plain_reads (plate)",
    "CREATE INDEX ix_plain_reads_expires_at ON plain_reads (expires_at)",
)
PLAIN_COLUMNS = (
    "id, agency_id, camera_id, observed_at, plate, plate_state, latitude, longitude, "
    "confidence, client_read_id, retention_class, hit, expires_at, ingested_at"
)
PLAIN_INSERT = (
    f"INSERT INTO plain_reads ({PLAIN_COLUMNS}) SELECT * FROM unnest("
    "CAST(%(c0)b AS uuid[]), CAST(%(c1)b AS integer[]), CAST(%(c2)b AS varchar[]), "
    "CAST(%(c3)b AS timestamptz[]), CAST(%(c4)b AS varchar[]), CAST(%(c5)b AS varchar[]), "
    "CAST(%(c6)b AS float8[]), CAST(%(c7)b AS float8[]), CAST(%(c8)b AS float8[]), "
    "CAST(%(c9)b AS varchar[]), CAST(%(c10)b AS varchar[]), CAST(%(c11)b AS boolean[]), "
    "CAST(%(c12)b AS timestamptz[]), CAST(%(c13)b AS timestamptz[])) "
    "ON CONFLICT (agency_id, client_read_id, camera_id, retention_class, observed_at) "
    "DO NOTHING RETURNING id"
)
PLAIN_SEARCH = (
    "SELECT id, plate_state, observed_at, camera_id, latitude, longitude, confidence "
    "FROM plain_reads WHERE plate = %(plate)s AND observed_at >= %(lo)s AND observed_at < %(hi)s "
    "AND expires_at > %(now)s ORDER BY observed_at DESC"
)
# Filler: server-generated rows for one day. :n rows spread over the day; ciphertexts of the
# real length, random 64-bit blind-index values under the day's key; distinct text plates.
FILL_ENCRYPTED = text(
    "INSERT INTO plate_reads (id, agency_id, camera_id, observed_at, plate_ct, plate_index, "
    "key_id, plate_state, latitude, longitude, confidence, client_read_id, retention_class, "
    "hit, expires_at, ingested_at) "
    "SELECT gen_random_uuid(), :agency, 'cam-' || lpad((g % 64)::text, 3, '0'), t, "
    "substring(sha256(int8send(g)) || sha256(int8send(-g - 1)) from 1 for :ctlen), "
    "('x' || substr(md5(g::text || :salt), 1, 16))::bit(64)::bigint, :key_id, 'CA', "
    "34 + random() * 0.5, -118.5 + random() * 0.5, 0.6 + random() * 0.39, "
    "'f' || :salt || '-' || g, 'unmatched', false, t + interval '60 days', t "
    "FROM (SELECT g, CAST(:day AS timestamptz) + g * CAST(:step AS interval) AS t "
    "FROM generate_series(:lo, :hi - 1) AS g) AS s"
)
FILL_PLAIN = text(
    f"INSERT INTO plain_reads ({PLAIN_COLUMNS}) "
    "SELECT gen_random_uuid(), :agency, 'cam-' || lpad((g % 64)::text, 3, '0'), t, "
    "upper(substr(md5(g::text || :salt), 1, 7)), 'CA', "
    "34 + random() * 0.5, -118.5 + random() * 0.5, 0.6 + random() * 0.39, "
    "'f' || :salt || '-' || g, 'unmatched', false, t + interval '60 days', t "
    "FROM (SELECT g, CAST(:day AS timestamptz) + g * CAST(:step AS interval) AS t "
    "FROM generate_series(:lo, :hi - 1) AS g) AS s"
)
FILL_CHUNK = 50_000


def with_clock(rt: Runtime, clock: FixedClock) -> Runtime:
    audit = AuditLog(rt.keyring, clock, rt.settings.database.audit_timeout_ms)
    return dataclasses.replace(rt, clock=clock, audit=audit)


def day_name(day: datetime) -> str:
    return f"plain_reads_p{day:%Y%m%d}"


def create_plain(env: BenchEnv) -> None:
    with env.rt.engine.begin() as conn:
        for ddl in PLAIN_DDL:
            conn.execute(text(ddl))
        for d in range(DAYS + 2):
            day = START + timedelta(days=d)
            conn.execute(
                text(
                    f"CREATE TABLE {day_name(day)} PARTITION OF plain_reads FOR VALUES FROM "
                    f"('{day.isoformat()}') TO ('{(day + timedelta(days=1)).isoformat()}')"
                )
            )


def read_dict(plate: str, at: datetime, n: int, rng: random.Random) -> dict[str, Any]:
    return {
        "plate": plate,
        "observed_at": at.isoformat(),
        "camera_id": f"cam-{n % 64:03d}",
        "plate_state": "CA",
        "latitude": 34.0 + rng.random() * 0.5,
        "longitude": -118.5 + rng.random() * 0.5,
        "confidence": round(0.6 + rng.random() * 0.39, 3),
        "client_read_id": f"r{n}",
    }


def plain_arrays(env: BenchEnv, raw: list[dict[str, Any]], now: datetime) -> dict[str, list[Any]]:
    """The baseline's columns for these reads, as ``record_reads`` gets them: parsed (the
    plate normalised) and with the same expiry rule."""
    reads = parse_read_batch({"reads": raw}, BATCH)
    window = timedelta(days=env.rt.settings.retention.unmatched.days)
    rows = [
        (
            uuid.uuid4(),
            env.ingest.agency_id,
            r.camera_id,
            r.observed_at,
            r.plate.value,
            r.plate_state,
            r.latitude,
            r.longitude,
            r.confidence,
            r.client_read_id,
            "unmatched",
            False,
            r.observed_at + window,
            now,
        )
        for r in reads
    ]
    return {f"c{i}": list(values) for i, values in enumerate(zip(*rows, strict=True))}


def plain_insert(env: BenchEnv, raw: list[dict[str, Any]], now: datetime) -> None:
    with env.rt.engine.connect() as conn:
        # The insert goes through the driver: begin through SQLAlchemy first, or its commit
        # below would be a no-op and the rows rolled back when the connection is returned.
        conn.exec_driver_sql("SELECT 1")
        inserted = run_prepared(conn, PLAIN_INSERT, plain_arrays(env, raw, now))
        conn.commit()
    assert len(inserted) == len(raw), (len(inserted), len(raw))


def build(
    env: BenchEnv, rt: Runtime, clock: FixedClock, rows: int, real_per_day: int
) -> tuple[list[tuple[str, datetime]], float]:
    """Partitions, then per day: the real reads (both sides), then the filler (both sides)."""
    rng = random.Random(7)
    pool = [random_plate(rng) for _ in range(max(100, real_per_day * DAYS // 4))]
    with rt.sessions.begin() as session:
        step = partitions.AHEAD_DAYS + partitions.BEHIND_DAYS
        for d in range(partitions.BEHIND_DAYS, DAYS + step, step):
            partitions.ensure_partitions(session, START + timedelta(days=d))
    create_plain(env)
    real_total = real_per_day * DAYS
    filler = max(0, rows - real_total)
    per_day = [filler // DAYS + (1 if d < filler % DAYS else 0) for d in range(DAYS)]
    sample: list[tuple[str, datetime]] = []
    t0 = time.perf_counter()
    n = 0
    ctlen = 0
    for d in range(DAYS):
        day = START + timedelta(days=d)
        for lo in range(0, real_per_day, BATCH):
            raw = []
            for _ in range(lo, min(real_per_day, lo + BATCH)):
                at = day + timedelta(seconds=86_399 * rng.random())
                plate = rng.choice(pool)
                raw.append(read_dict(plate, at, n, rng))
                n += 1
                if rng.random() < 0.05:
                    sample.append((plate, at))
            clock.set(day + timedelta(days=1))
            with rt.sessions() as session:
                record_reads(session, rt, env.ingest, parse_read_batch({"reads": raw}, BATCH))
                session.commit()
            plain_insert(env, raw, clock.now())
        with env.rt.engine.connect() as conn:
            key_id, ctlen_now = conn.execute(
                text(
                    "SELECT key_id, length(plate_ct) FROM plate_reads "
                    "WHERE observed_at >= :lo AND observed_at < :hi LIMIT 1"
                ),
                {"lo": day, "hi": day + timedelta(days=1)},
            ).one()
            ctlen = ctlen_now or ctlen
            spacing = timedelta(seconds=86_400 / max(1, per_day[d]))
            for lo in range(0, per_day[d], FILL_CHUNK):
                hi = min(per_day[d], lo + FILL_CHUNK)
                common = {"agency": env.ingest.agency_id, "salt": f"d{d}", "day": day}
                common |= {"step": spacing, "lo": lo, "hi": hi}
                conn.execute(FILL_ENCRYPTED, common | {"ctlen": ctlen, "key_id": key_id})
                conn.execute(FILL_PLAIN, common)
                conn.commit()
        if d % 10 == 9 or d == DAYS - 1:
            done = real_per_day * (d + 1) + sum(per_day[: d + 1])
            rate = done / (time.perf_counter() - t0)
            print(
                f"  .. built {d + 1} days: {done:,} reads per side "
                f"({rate:,.0f} reads/s per side, both sides written)",
                flush=True,
            )
    with env.rt.engine.connect() as conn:
        conn.execute(text("ANALYZE plate_reads"))
        conn.execute(text("ANALYZE plain_reads"))
        conn.commit()
    return sample, time.perf_counter() - t0


def ingest(env: BenchEnv, rt: Runtime, clock: FixedClock, count: int) -> tuple[float, float]:
    """``count`` reads into each side in 1,000-read batches, alternating sides batch by batch;
    the reads fall on the last day, as live cameras' reads do."""
    rng = random.Random(13)
    last = END - timedelta(days=1)
    clock.set(END)
    spent = {"encrypted": 0.0, "plain": 0.0}
    done = 0
    n = 10_000_000_000
    while done < count:
        size = min(BATCH, count - done)
        raw = []
        for _ in range(size):
            at = last + timedelta(seconds=86_399 * rng.random())
            raw.append(read_dict(random_plate(rng), at, n, rng))
            n += 1
        # Parsing is part of both sides (the baseline parses too), outside neither clock.
        for side in ("encrypted", "plain") if done // BATCH % 2 else ("plain", "encrypted"):
            t0 = time.perf_counter()
            if side == "encrypted":
                with rt.sessions() as session:
                    reads = parse_read_batch({"reads": raw}, BATCH)
                    record_reads(session, rt, env.ingest, reads)
                    session.commit()
            else:
                plain_insert(env, raw, clock.now())
            spent[side] += time.perf_counter() - t0
        done += size
    return count / spent["encrypted"], count / spent["plain"]


def search(
    env: BenchEnv, rt: Runtime, sample: list[tuple[str, datetime]], queries: int
) -> tuple[list[float], list[float], int, int]:
    rng = random.Random(5)
    now = rt.clock.now()
    max_page = rt.settings.search.max_page_size
    enc: list[float] = []
    plain: list[float] = []
    rows = {"encrypted": 0, "plain": 0}
    for i in range(queries + WARMUP):
        plate, at = rng.choice(sample)
        hi = min(now, at + timedelta(seconds=1 + rng.random() * 7 * 86_400))
        lo = hi - timedelta(days=7)
        request = parse_search_request(
            {
                "plate": plate,
                "from": lo.isoformat(),
                "to": hi.isoformat(),
                "purpose": "stolen_vehicle",
                "justification": JUSTIFICATION,
                "case_number": "26-004512",
            },
            max_page,
        )
        params = {"plate": request.plate.value, "lo": lo, "hi": hi, "now": now}
        for side in ("encrypted", "plain") if i % 2 else ("plain", "encrypted"):
            with rt.sessions() as session:
                session.connection().exec_driver_sql("SELECT 1")  # BEGIN, outside the clock
                t0 = time.perf_counter()
                if side == "encrypted":
                    got = len(find_reads(session, rt, request))
                else:
                    got = len(run_prepared(session.connection(), PLAIN_SEARCH, params))
                elapsed = (time.perf_counter() - t0) * 1000
                session.commit()
            if i >= WARMUP:
                (enc if side == "encrypted" else plain).append(elapsed)
                rows[side] += got
    return enc, plain, rows["encrypted"], rows["plain"]


def purge(env: BenchEnv, rt: Runtime, clock: FixedClock) -> tuple[float, float, float, int]:
    """The oldest day out of each side: the application's purge (its slowest transaction is
    the partition drop) and the baseline's detach and drop of the same day."""
    clock.set(START + timedelta(days=DAYS + 1))
    receipt = purge_expired(rt, trigger="bench")
    deleted = sum(receipt.deleted_by_class.values())
    with env.rt.engine.connect() as conn:
        t0 = time.perf_counter()
        conn.execute(text(f"ALTER TABLE plain_reads DETACH PARTITION {day_name(START)}"))
        conn.execute(text(f"DROP TABLE {day_name(START)}"))
        conn.commit()
        plain_ms = (time.perf_counter() - t0) * 1000
    return receipt.max_batch_ms, receipt.duration_s * 1000, plain_ms, deleted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000, help="reads stored per side")
    parser.add_argument("--real", type=int, default=1000, help="real reads per day per side")
    parser.add_argument("--ingest", type=int, default=50_000, help="reads ingested per side")
    parser.add_argument("--queries", type=int, default=1000)
    args = parser.parse_args()
    version, problem = pg_probe()
    if version is None:
        raise SystemExit(f"PostgreSQL unreachable at {PG_URL} ({problem})")
    print_header(
        "bench/pg_scale.py",
        f"{args.rows:,} stored reads over {DAYS} daily partitions, encrypted beside plaintext: "
        f"ingest of {args.ingest:,}, {args.queries:,} 7-day searches, purge of one day",
        pg_version=version,
    )
    env = open_env("postgresql", label="scale")
    try:
        clock = FixedClock(START + timedelta(hours=1))
        rt = with_clock(env.rt, clock)
        sample, build_s = build(env, rt, clock, args.rows, args.real)
        print(
            f"built: {args.rows:,} reads per side in {build_s:,.0f} s; database "
            f"{env.db_size_mb():,.0f} MB (both sides); client rss {rss_mb():.0f} MB",
            flush=True,
        )
        enc_rate, plain_rate = ingest(env, rt, clock, args.ingest)
        ok_ingest = enc_rate >= INGEST_TARGET
        print(
            f"ingest at {args.rows:,} stored, {BATCH:,}-read batches each committed: encrypted "
            f"(record_reads) {enc_rate:,.0f} reads/s; plaintext baseline {plain_rate:,.0f} "
            f"reads/s; ratio {plain_rate / enc_rate:.2f}x",
            flush=True,
        )
        enc, plain, enc_rows, plain_rows = search(env, rt, sample, args.queries)
        assert enc_rows == plain_rows, (enc_rows, plain_rows)
        p99 = percentile(enc, 99)
        print(
            f"search, 7-day window, {len(enc):,} queries per side, "
            f"{enc_rows / max(1, len(enc)):.1f} rows/query: encrypted data path (find_reads, "
            f"decryption included) p50 {percentile(enc, 50):.3f} ms p99 {p99:.3f} ms; "
            f"plaintext p50 {percentile(plain, 50):.3f} ms p99 {percentile(plain, 99):.3f} ms",
            flush=True,
        )
        drop_ms, run_ms, plain_ms, deleted = purge(env, rt, clock)
        print(
            f"purge of one day ({deleted:,} reads): encrypted partition drop {drop_ms:.1f} ms "
            f"(whole purge_expired run {run_ms:,.1f} ms: lease, drop, key shredding, record "
            f"retention, receipt); plaintext detach and drop {plain_ms:.1f} ms"
        )
        print(
            f"{verdict(ok_ingest)}  ingest >= {INGEST_TARGET:,} reads/s at {args.rows:,} "
            f"stored: {enc_rate:,.0f}"
        )
        print(f"{verdict(p99 <= SEARCH_P99_MS)}  search p99 <= {SEARCH_P99_MS} ms: {p99:.3f}")
        print(
            f"{verdict(drop_ms <= PURGE_DAY_MS)}  purge of one day <= {PURGE_DAY_MS:.0f} ms: "
            f"{drop_ms:.1f}"
        )
        ok = ok_ingest and p99 <= SEARCH_P99_MS and drop_ms <= PURGE_DAY_MS
    finally:
        env.close()
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
