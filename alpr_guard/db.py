"""Database plumbing: Base, engine and session factories, and every per-dialect difference.

House rule 5: code that must differ between SQLite and PostgreSQL lives here and nowhere else.

SQLite (the embedded default) runs in WAL mode with ``synchronous=FULL`` so that a search that
was answered never loses its access record to a power cut, and every transaction starts with
``BEGIN IMMEDIATE``: almost every transaction here appends to the audit chain, and taking the
write lock up front turns would-be deadlocks into a bounded wait (``busy_timeout``).

PostgreSQL serialises appends to the audit chain with a transaction-scoped advisory lock; the
wait is bounded by ``lock_timeout`` so a stuck writer makes searches fail closed (503), not hang.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    DateTime,
    Dialect,
    Engine,
    MetaData,
    Table,
    create_engine,
    event,
    func,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.sql.dml import Insert
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

READ_ONLY = "alpr_guard_read_only"
# Any constant works; it names the one advisory lock that orders audit-chain appends.
AUDIT_CHAIN_LOCK = 0x41_4C_50_52  # "ALPR"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on both databases.

    PostgreSQL stores ``timestamptz``; SQLite stores naive UTC text that sorts correctly.
    Naive datetimes are refused on the way in: a read's time must never be guessed.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def new_id() -> uuid.UUID:
    """A time-ordered UUID (version 7 layout): B-tree inserts stay near the right edge."""
    ms = int(datetime.now(UTC).timestamp() * 1000)
    rand = int.from_bytes(uuid.uuid4().bytes[6:], "big") & ((1 << 80) - 1)
    value = (ms & ((1 << 48) - 1)) << 80 | rand
    value = (value & ~(0xF << 76)) | (0x7 << 76)  # version 7
    value = (value & ~(0x3 << 62)) | (0x2 << 62)  # RFC 4122 variant
    return uuid.UUID(int=value)


def _sqlite_on_connect(timeout_ms: int) -> Any:
    def on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        # Take transaction control from the driver so we can issue BEGIN IMMEDIATE ourselves.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(timeout_ms)}")
        cursor.execute("PRAGMA cache_size=-65536")  # 64 MiB: keeps the index B-trees hot
        cursor.execute("PRAGMA temp_store=MEMORY")
        cursor.close()

    return on_connect


def make_engine(
    url: str, *, audit_timeout_ms: int = 2000, pool_size: int = 10, echo: bool = False
) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            echo=echo,
            connect_args={"check_same_thread": False, "timeout": audit_timeout_ms / 1000},
            pool_size=pool_size,
            max_overflow=pool_size,
        )
        event.listen(engine, "connect", _sqlite_on_connect(audit_timeout_ms))

        @event.listens_for(engine, "begin")
        def _begin(conn: Any) -> None:
            # Read-only work (a chain walk, a report) must not hold the write lock for seconds.
            read_only = conn.get_execution_options().get(READ_ONLY, False)
            conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

        return engine
    return create_engine(
        url, echo=echo, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True
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


class _InsertIgnore:
    """Defers the dialect choice to execution time so services stay dialect-free."""

    def __init__(self, table: Table, columns: tuple[str, ...]) -> None:
        self.table = table
        self.columns = columns

    def for_dialect(self, name: str) -> Insert:
        if name == "postgresql":
            return postgresql.insert(self.table).on_conflict_do_nothing(
                index_elements=list(self.columns)
            )
        return sqlite.insert(self.table).on_conflict_do_nothing(index_elements=list(self.columns))


def execute_insert_ignore(
    session: Session, table: Table, conflict_columns: Sequence[str], rows: Sequence[dict[str, Any]]
) -> None:
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    stmt = _InsertIgnore(table, tuple(conflict_columns)).for_dialect(dialect)
    session.execute(stmt, list(rows))


def insert_ignore_returning(
    session: Session,
    table: Table,
    conflict_columns: Sequence[str],
    rows: Sequence[dict[str, Any]],
    returning: str,
) -> set[Any]:
    """Bulk INSERT ... ON CONFLICT DO NOTHING RETURNING; the values of rows actually inserted.

    One round trip per page of rows ("insertmanyvalues") on both databases.
    """
    if not rows:
        return set()
    dialect = session.get_bind().dialect.name
    stmt = _InsertIgnore(table, tuple(conflict_columns)).for_dialect(dialect)
    result = session.execute(stmt.returning(table.c[returning]), list(rows))
    return set(result.scalars().all())


def lock_audit_chain(session: Session, timeout_ms: int) -> None:
    """Serialise appends to the audit chain until this transaction ends.

    SQLite already holds the database write lock (BEGIN IMMEDIATE). PostgreSQL takes a
    transaction-scoped advisory lock, waiting at most ``timeout_ms``.
    """
    if is_sqlite(session):
        return
    session.execute(text(f"SET LOCAL lock_timeout = {int(timeout_ms)}"))
    session.execute(text(f"SET LOCAL statement_timeout = {int(timeout_ms) * 2}"))
    session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": AUDIT_CHAIN_LOCK})


def day_bucket(session: Session, column: Any) -> Any:
    """The UTC calendar day of a UTCDateTime column, for GROUP BY."""
    if is_sqlite(session):
        return func.substr(column, 1, 10)  # stored as naive UTC "YYYY-MM-DD HH:MM:SS"
    return func.date(func.timezone("UTC", column))
