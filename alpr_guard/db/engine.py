"""Engines and sessions: SQLite in WAL mode with ``BEGIN IMMEDIATE`` and a large page cache on
the writer only; PostgreSQL with bounded lock waits. ``session_scope`` and ``read_only_session``
are the two ways a unit of work begins."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import (
    Engine,
    create_engine,
    event,
)
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry

READ_ONLY = "alpr_guard_read_only"
# Execution option: how long (ms) this transaction's BEGIN IMMEDIATE may wait for SQLite's write
# lock, instead of the engine's audit timeout (ingest waits longer than a search).
WRITE_WAIT_MS = "alpr_guard_write_wait_ms"
SQLITE_CACHE_KIB = 16 * 1024
# Only the connection that holds the write lock has that cache (set once its BEGIN IMMEDIATE
# succeeds, given back when it returns to the pool); every other connection keeps this much.
# Under 32 concurrent ingest clients, 16 MiB on every pooled connection kept the server's RSS
# 60-90 MB above idle after the load (bench/load.py).
SQLITE_IDLE_CACHE_KIB = 2 * 1024
_BIG_CACHE = "alpr_guard_big_cache"
# WAL pages after which a commit checkpoints (SQLite's default is 1000). A 1,000-read batch
# dirties a couple of thousand index pages, so at 1000 every ingest commit also copied its
# pages back into the database and fsynced it; at 8192 a checkpoint runs every few batches
# and copies each page once however often it changed (bench/ingest.py: about 1.3x the
# throughput). Durability is unchanged: synchronous=FULL syncs the WAL at every commit.
SQLITE_WAL_AUTOCHECKPOINT_PAGES = 8192
# After a checkpoint, a WAL file that grew beyond this (a long reader held checkpoints back)
# is truncated to it.
SQLITE_JOURNAL_SIZE_LIMIT = 64 * 1024 * 1024


# psycopg's threshold for preparing a statement implicitly: never, in practice.
_NEVER_IMPLICITLY = 2**31 - 1


def _sqlite_on_connect(timeout_ms: int) -> Any:
    def on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        # Take transaction control from the driver so we can issue BEGIN IMMEDIATE ourselves.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(timeout_ms)}")
        cursor.execute(f"PRAGMA cache_size=-{int(SQLITE_IDLE_CACHE_KIB)}")
        cursor.execute(f"PRAGMA wal_autocheckpoint={int(SQLITE_WAL_AUTOCHECKPOINT_PAGES)}")
        cursor.execute(f"PRAGMA journal_size_limit={int(SQLITE_JOURNAL_SIZE_LIMIT)}")
        cursor.execute("PRAGMA temp_store=MEMORY")
        cursor.close()

    return on_connect


def _begin_immediate(conn: Any, timeout_ms: int) -> None:
    """BEGIN IMMEDIATE, waiting at most ``timeout_ms`` for the write lock, polled every few ms.

    SQLite's own busy handler backs off to 100 ms sleeps, so a writer waiting behind another
    oversleeps the moment the lock is free, and the holder's next transaction often takes it
    again first: concurrent ingest requests then queue for seconds (and fail closed at the
    timeout) while the lock sits idle. Polling in short sleeps hands the lock over within a
    few ms. The wait is still bounded by the same timeout, with the same error at the end.
    """
    cursor = conn.connection.dbapi_connection.cursor()
    deadline = time.monotonic() + timeout_ms / 1000
    pause = _BEGIN_POLL_FIRST_S
    cursor.execute("PRAGMA busy_timeout=0")
    try:
        while True:
            try:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
                info = conn.connection.info
                if not info.get(_BIG_CACHE):
                    cursor.execute(f"PRAGMA cache_size=-{int(SQLITE_CACHE_KIB)}")
                    info[_BIG_CACHE] = True
                return
            except OperationalError as exc:
                if not _is_busy(exc) or time.monotonic() + pause >= deadline:
                    raise
            time.sleep(pause)
            pause = min(pause * 2, _BEGIN_POLL_MAX_S)
    finally:
        cursor.execute(f"PRAGMA busy_timeout={int(timeout_ms)}")
        cursor.close()


_BEGIN_POLL_FIRST_S = 0.0005
_BEGIN_POLL_MAX_S = 0.004


def _is_busy(exc: OperationalError) -> bool:
    orig = exc.orig
    return isinstance(orig, sqlite3.OperationalError) and getattr(
        orig, "sqlite_errorname", ""
    ).startswith("SQLITE_BUSY")


def make_engine(
    url: str,
    *,
    audit_timeout_ms: int = 2000,
    pool_size: int = 10,
    echo: bool = False,
    max_connections: int | None = None,
) -> Engine:
    """``pool_size`` connections are kept open when idle; at most ``max_connections`` (default
    twice ``pool_size``) are open at once, the ones above ``pool_size`` closed when returned."""
    overflow = pool_size if max_connections is None else max(0, max_connections - pool_size)
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            echo=echo,
            connect_args={"check_same_thread": False, "timeout": audit_timeout_ms / 1000},
            pool_size=pool_size,
            max_overflow=overflow,
            # The connection used last is handed out next. A SQLite connection throws its whole
            # page cache away when it begins a transaction after another connection has
            # written, and almost every transaction writes: handed out in turn (the pool's
            # default order), every search read its index and table pages again from the OS.
            pool_use_lifo=True,
        )
        event.listen(engine, "connect", _sqlite_on_connect(audit_timeout_ms))

        @event.listens_for(engine, "checkin")
        def _checkin(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
            # The writer's large cache goes back when its connection does (SQLite frees the
            # pages above the new size at once).
            if record.info.pop(_BIG_CACHE, False):
                dbapi_connection.execute(f"PRAGMA cache_size=-{int(SQLITE_IDLE_CACHE_KIB)}")

        @event.listens_for(engine, "begin")
        def _begin(conn: Any) -> None:
            # Read-only work (a chain walk, a report) must not hold the write lock for seconds.
            options = conn.get_execution_options()
            if options.get(READ_ONLY, False):
                conn.exec_driver_sql("BEGIN")
            else:
                _begin_immediate(conn, int(options.get(WRITE_WAIT_MS, audit_timeout_ms)))

        return engine
    return create_engine(
        url,
        echo=echo,
        pool_size=pool_size,
        max_overflow=overflow,
        pool_pre_ping=True,
        # psycopg would prepare any statement after 5 runs, and PostgreSQL might then pick a
        # generic plan: for ingest's replay lookup (then hundreds of IN parameters) that plan scans
        # the agency's reads (found by bench/search.py's build). So nothing is prepared
        # implicitly; DriverSelect prepares its own statements explicitly. (plan_cache_mode
        # stays "auto": forcing generic plans applies to unnamed statements too, and gave the
        # replay lookup that plan again.)
        connect_args=(
            {"prepare_threshold": _NEVER_IMPLICITLY} if url.startswith("postgresql+psycopg") else {}
        ),
    )


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=False)


@contextmanager
def read_only_session(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session for reading only: on SQLite it takes no write lock; it never commits."""
    session = factory()
    try:
        session.connection(execution_options={READ_ONLY: True})
        yield session
    finally:
        session.rollback()
        session.close()


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One transaction for jobs and CLI commands: commit on success, roll back on error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


# -- per-dialect helpers ---------------------------------------------------------------------


def is_sqlite(session: Session) -> bool:
    return session.get_bind().dialect.name == "sqlite"
