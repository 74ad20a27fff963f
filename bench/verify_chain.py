"""Benchmark: audit-chain verification of N events (target: >= 50,000 events/s).

Builds a chain of N realistic events (search records' details, sealed terms) with the same
MAC the AuditLog uses, and the N search records they state (each event carrying its record's
content MAC), inserted with Core bulk inserts into a freshly migrated SQLite database (or
PostgreSQL with --db postgresql), then times verify_chain over it, with and without a
checkpoint anchor, and what ``audit verify`` does: the chain walk plus the access records'
walk (``record_chain.verify_records``). Prints figures.

    .venv/bin/python bench/verify_chain.py --events 1000000
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import make_url

from alpr_guard.audit import GENESIS, Anchor, _message, canonical_json, verify_chain
from alpr_guard.db import migrate as schema
from alpr_guard.models import Agency, AuditEvent, SearchRecord, User
from alpr_guard.record_chain import SEARCH_COLUMNS, content_mac, verify_records
from alpr_guard.runtime import build_runtime
from alpr_guard.settings import load_settings
from tests.conftest import write_config

PG_URL = os.environ.get(
    "ALPR_GUARD_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def build(url: str, events: int, cfg_dir: Path) -> tuple[object, Anchor]:
    schema.upgrade(url)
    rt = build_runtime(load_settings(write_config(cfg_dir, url)))
    start = datetime(2026, 1, 1, tzinfo=UTC)
    prev = GENESIS
    table = AuditEvent.__table__
    batch: list[dict[str, object]] = []
    anchor = Anchor(0, GENESIS)
    t0 = time.perf_counter()
    records: list[dict[str, object]] = []
    with rt.engine.begin() as conn:
        conn.execute(
            insert(Agency.__table__).values(
                id=1,
                ori="CA0199900",
                name="Bench PD",
                kind="local",
                jurisdiction="CA",
                vetted=True,
                created_at=start,
                updated_at=start,
            )
        )
        conn.execute(
            insert(User.__table__).values(
                id=1, username="officer-1", agency_id=1, role="officer", created_at=start
            )
        )
        for seq in range(1, events + 1):
            search_id = uuid.uuid4()
            occurred = start + timedelta(seconds=seq)
            sealed = rt.keyring.seal(b'{"plate":"BENCH01"}', search_id.bytes)
            record = {
                "created_at": occurred,
                "user_id": 1,
                "username": "officer-1",
                "agency_ori": "CA0199900",
                "purpose": "stolen_vehicle",
                "justification": "Vehicle reported stolen from Main St lot",
                "case_number": f"26-{seq:06d}",
                "on_behalf_of": None,
                "window_from": occurred - timedelta(days=7),
                "window_to": occurred,
                "terms_sealed": sealed,
                "terms_token": "0" * 32,
                "outcome": "allowed",
                "reason_code": None,
                "rule": "allowed",
                "matched": None,
                "result_count": 3,
            }
            mac = content_mac(
                rt.keyring, "search", str(search_id), [record[c.key] for c in SEARCH_COLUMNS]
            )
            records.append({**record, "id": search_id, "audit_seq": seq})
            details = canonical_json(
                {
                    "search_id": str(search_id),
                    "created_at": occurred.isoformat(),
                    "purpose": "stolen_vehicle",
                    "justification": "Vehicle reported stolen from Main St lot",
                    "case_number": f"26-{seq:06d}",
                    "outcome": "allowed",
                    "result_count": 3,
                    "record_mac": mac,
                }
            )
            digest = rt.keyring.audit_mac(
                _message(
                    seq,
                    occurred.isoformat(),
                    "search.allowed",
                    "officer-1",
                    "CA0199900",
                    f"search:{search_id}",
                    details,
                    sealed,
                    prev,
                )
            )
            batch.append(
                {
                    "seq": seq,
                    "occurred_at": occurred,
                    "kind": "search.allowed",
                    "actor": "officer-1",
                    "actor_agency": "CA0199900",
                    "subject": f"search:{search_id}",
                    "details": details,
                    "sealed": sealed,
                    "prev_hash": prev,
                    "hash": digest,
                }
            )
            prev = digest
            if seq == events * 9 // 10:
                anchor = Anchor(seq, digest)
            if len(batch) == 10_000:
                conn.execute(insert(table), batch)
                conn.execute(insert(SearchRecord.__table__), records)
                batch.clear()
                records.clear()
        if batch:
            conn.execute(insert(table), batch)
            conn.execute(insert(SearchRecord.__table__), records)
    print(f"built {events:,} events in {time.perf_counter() - t0:.1f}s")
    return rt, anchor


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    args = parser.parse_args()
    print(
        f"audit chain verification | cpus={os.cpu_count()} python={sys.version.split()[0]} "
        f"db={args.db}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        admin = None
        if args.db == "sqlite":
            url = f"sqlite:///{Path(tmp) / 'chain.db'}"
        else:
            name = f"alpr_bench_chain_{os.getpid()}"
            admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
        try:
            rt, anchor = build(url, args.events, Path(tmp) / "cfg")
            for label, anchors in (("no checkpoint", []), ("with checkpoint", [anchor])):
                with rt.sessions() as session:  # type: ignore[attr-defined]
                    t0 = time.perf_counter()
                    result = verify_chain(session, rt.keyring, anchors)  # type: ignore[attr-defined]
                    seconds = time.perf_counter() - t0
                rate = result.checked / seconds
                print(
                    f"verify ({label}): {result.checked:,} events in {seconds:.2f}s = "
                    f"{rate:,.0f} events/s  ok={result.ok}  "
                    f"{'PASS' if rate >= 50_000 and result.ok else 'FAIL'} (target >= 50,000/s)"
                )
            with rt.sessions() as session:  # type: ignore[attr-defined]
                t0 = time.perf_counter()
                chain = verify_chain(session, rt.keyring, [anchor])  # type: ignore[attr-defined]
                walked = verify_records(session, rt.keyring)  # type: ignore[attr-defined]
                seconds = time.perf_counter() - t0
            rate = chain.checked / seconds
            ok = chain.ok and walked.ok and walked.checked == chain.checked
            print(
                f"audit verify (chain + {walked.checked:,} access records): {chain.checked:,} "
                f"events in {seconds:.2f}s = {rate:,.0f} events/s  ok={ok}  "
                f"{'PASS' if rate >= 50_000 and ok else 'FAIL'} (target >= 50,000/s)"
            )
            rt.dispose()  # type: ignore[attr-defined]
        finally:
            if admin is not None:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                admin.dispose()


if __name__ == "__main__":
    main()
