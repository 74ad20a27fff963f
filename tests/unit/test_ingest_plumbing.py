"""The fast paths under record_reads: batch ids, the blind index, SQLite value conversion and the
SQLite write-lock handover. Each must give what the slow path gave."""

from __future__ import annotations

import hashlib
import hmac
import os
import sqlite3
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import DateTime, Engine, column, create_engine, select, table, text
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from alpr_guard.crypto import DataKey, KeyRing, _hmac_pads
from alpr_guard.db import (
    UTCDateTime,
    make_engine,
    make_session_factory,
    new_id,
    new_ids,
)
from alpr_guard.db import (
    sqlite_utc_text as _sqlite_utc_text,
)


def test_new_ids_are_uuid7_unique_and_time_ordered() -> None:
    before = int(time.time() * 1000)
    ids = new_ids(2000)
    after = int(time.time() * 1000)
    assert len(set(ids)) == 2000
    for value in ids:
        assert value.version == 7 and value.variant == uuid.RFC_4122
        assert before <= value.int >> 80 <= after
    time.sleep(0.002)
    assert max(ids) < new_id()


def test_blind_index_from_hmac_pads_is_hmac_sha256() -> None:
    for size in range(12):
        key = os.urandom(32)
        plate = "7ABC123XYZ"[:size]
        with_pads = DataKey("day-x", None, hmac.new(key, digestmod=hashlib.sha256), _hmac_pads(key))  # type: ignore[arg-type]
        without = DataKey("day-x", None, hmac.new(key, digestmod=hashlib.sha256))  # type: ignore[arg-type]
        expected = int.from_bytes(
            hmac.new(key, plate.encode(), hashlib.sha256).digest()[:8], "big", signed=True
        )
        assert KeyRing.blind_index(with_pads, plate) == expected
        assert KeyRing.blind_index(without, plate) == expected


@pytest.mark.parametrize(
    "value",
    [
        datetime(2026, 11, 20, 12, 0, tzinfo=UTC),
        datetime(2026, 11, 20, 12, 0, 0, 1, tzinfo=UTC),
        datetime(2026, 11, 20, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(2026, 11, 21, 1, 30, 0, 250000, tzinfo=timezone(timedelta(hours=2))),
    ],
)
def test_sqlite_text_is_what_sqlalchemy_stores(value: datetime) -> None:
    """The bulk path's text for a UTCDateTime must equal SQLAlchemy's own DATETIME rendering
    of the naive UTC value, or range comparisons in SQL would go wrong."""
    engine = create_engine("sqlite://")
    probe = table("probe", column("at", DateTime()))
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE probe (at DATETIME)"))
        conn.execute(probe.insert(), {"at": value.astimezone(UTC).replace(tzinfo=None)})
        stored = conn.execute(text("SELECT at FROM probe")).scalar()
        assert stored == _sqlite_utc_text(value)
        assert conn.execute(select(probe.c.at)).scalar() == value.astimezone(UTC).replace(
            tzinfo=None
        )
    with pytest.raises(ValueError, match="naive"):
        _sqlite_utc_text(value.replace(tzinfo=None))


@pytest.mark.parametrize(
    "value",
    [
        None,
        datetime(2026, 11, 20, 12, 0, tzinfo=UTC),
        datetime(2026, 11, 20, 12, 0, 0, 123456, tzinfo=UTC),
        datetime(2026, 11, 19, 20, 0, 0, 5, tzinfo=timezone(timedelta(hours=-8))),
    ],
)
def test_utc_datetime_fused_sqlite_bind_matches_the_two_step_one(value: datetime | None) -> None:
    dialect = sqlite_dialect.dialect()
    fused = UTCDateTime().bind_processor(dialect)
    assert fused is not None
    inner = sqlite_dialect.DATETIME().bind_processor(dialect)
    assert inner is not None
    two_step = inner(UTCDateTime().process_bind_param(value, dialect))
    assert fused(value) == two_step
    with pytest.raises(ValueError, match="naive"):
        fused(datetime(2026, 11, 20, 12, 0))


def _held_write_lock(
    tmp_path: Path, timeout_ms: int
) -> tuple[Engine, sessionmaker[Session], sqlite3.Connection]:
    """An engine on a fresh database with table ``t``, and another connection that holds the
    write lock (BEGIN IMMEDIATE) until the test commits it."""
    path = tmp_path / "lock.db"
    engine = make_engine(f"sqlite:///{path}", audit_timeout_ms=timeout_ms)
    sessions = make_session_factory(engine)
    with sessions.begin() as session:
        session.execute(text("CREATE TABLE t (x INTEGER)"))
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    return engine, sessions, holder


def test_sqlite_writer_waits_for_the_lock_then_takes_it(tmp_path: Path) -> None:
    engine, sessions, holder = _held_write_lock(tmp_path, 2000)
    released = threading.Event()

    def release() -> None:
        holder.execute("COMMIT")
        released.set()

    timer = threading.Timer(0.3, release)
    timer.start()
    started = time.monotonic()
    with sessions.begin() as session:
        session.execute(text("INSERT INTO t VALUES (1)"))
    waited = time.monotonic() - started
    timer.join()
    assert released.is_set()
    assert 0.25 <= waited < 1.5  # waited for the holder, then got the lock (no timeout)
    with sessions() as session:
        assert session.execute(text("PRAGMA busy_timeout")).scalar() == 2000
    holder.close()
    engine.dispose()


def test_sqlite_writer_gives_up_at_the_timeout_with_the_usual_error(tmp_path: Path) -> None:
    engine, sessions, holder = _held_write_lock(tmp_path, 200)
    started = time.monotonic()
    with pytest.raises(OperationalError, match="locked"), sessions.begin() as session:
        session.execute(text("INSERT INTO t VALUES (1)"))
    assert 0.15 <= time.monotonic() - started < 1.0
    holder.execute("COMMIT")
    holder.close()
    # The pooled connection is usable afterwards, with its busy timeout restored.
    with sessions.begin() as session:
        session.execute(text("INSERT INTO t VALUES (2)"))
        assert session.execute(text("PRAGMA busy_timeout")).scalar() == 200
    engine.dispose()
