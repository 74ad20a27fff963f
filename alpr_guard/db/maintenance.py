"""Maintenance the purge needs: batched deletes of expired rows, giving freed pages back, and
WAL checkpoints (SQLite)."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Engine,
    Table,
    delete,
    select,
    text,
    tuple_,
)
from sqlalchemy.orm import Session

from alpr_guard.db.types import sqlite_utc_text


def reclaim_free_pages(engine: Engine) -> int:
    """SQLite: return the pages a purge freed to the file system (incremental auto-vacuum;
    ``schema.upgrade`` puts databases in that mode). Returns the pages freed. PostgreSQL: 0
    (autovacuum reuses the space; dropped partitions give theirs back at once)."""
    if engine.dialect.name != "sqlite":
        return 0
    raw = engine.raw_connection()
    try:
        driver = raw.driver_connection
        assert driver is not None
        free = int(driver.execute("PRAGMA freelist_count").fetchone()[0])
        if free:
            # The pragma frees one page per step of its statement; executescript steps it to
            # the end (execute() would free one page), in its own short write transaction.
            try:
                driver.executescript("PRAGMA incremental_vacuum;")
            except sqlite3.OperationalError:
                return 0  # busy: the pages stay free for reuse and the next purge returns them
        return free
    finally:
        raw.close()


# The purge walks several indexes of a large table; it runs in its own process (the CLI or the
# scheduler), so its connections get a bigger page cache than the ingester's.
SQLITE_PURGE_CACHE_KIB = 256 * 1024


def delete_expired(session: Session, table: Table, cutoff: datetime, limit: int) -> list[str]:
    """Delete up to ``limit`` rows of ``table`` whose ``expires_at`` is at or before ``cutoff``
    (NULL never is); return the deleted rows' ``retention_class``.

    SQLite deletes by rowid straight from the expiry index's matches (no id list through
    Python, no primary-key lookups, no bound-variable limit); PostgreSQL by the partitioned
    table's key (id, retention_class, observed_at).
    """
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql(f"PRAGMA cache_size=-{int(SQLITE_PURGE_CACHE_KIB)}")
        statement = text(
            f"DELETE FROM {table.name} WHERE rowid IN (SELECT rowid FROM {table.name} "  # noqa: S608
            "WHERE expires_at <= :cutoff LIMIT :limit) RETURNING retention_class"
        )
        params: dict[str, Any] = {"cutoff": sqlite_utc_text(cutoff), "limit": limit}
        return list(connection.execute(statement, params).scalars())
    key = tuple_(table.c.id, table.c.retention_class, table.c.observed_at)
    due = (
        select(table.c.id, table.c.retention_class, table.c.observed_at)
        .where(table.c.expires_at <= cutoff)
        .limit(limit)
    )
    deleted = connection.execute(
        delete(table).where(key.in_(due)).returning(table.c.retention_class)
    )
    return list(deleted.scalars())


def checkpoint_wal(engine: Engine) -> None:
    """SQLite: copy the WAL into the database now (PASSIVE: never waits for readers or
    writers), so that a bulk delete's commits do not each pay for an automatic checkpoint of
    pages written before it. PostgreSQL: nothing to do."""
    if engine.dialect.name != "sqlite":
        return
    raw = engine.raw_connection()
    try:
        driver = raw.driver_connection
        assert driver is not None
        driver.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
    finally:
        raw.close()
