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

import os
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import (
    Boolean,
    ColumnElement,
    DateTime,
    Dialect,
    Engine,
    FromClause,
    MetaData,
    String,
    Table,
    Uuid,
    any_,
    bindparam,
    create_engine,
    delete,
    event,
    func,
    select,
    text,
    tuple_,
    type_coerce,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql.psycopg2 import PGDialect_psycopg2
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase, QueryableAttribute, Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.dml import Insert
from sqlalchemy.sql.elements import ClauseElement
from sqlalchemy.sql.visitors import InternalTraversal
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

READ_ONLY = "alpr_guard_read_only"
# Execution option: how long (ms) this transaction's BEGIN IMMEDIATE may wait for SQLite's write
# lock, instead of the engine's audit timeout (ingest waits longer than a search).
WRITE_WAIT_MS = "alpr_guard_write_wait_ms"
# Any constant works; it names the one advisory lock that orders audit-chain appends.
AUDIT_CHAIN_LOCK = 0x41_4C_50_52  # "ALPR"
# The advisory lock that orders searches against partition maintenance (lock_partitions).
PARTITIONS_LOCK = 0x50_41_52_54  # "PART"


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

    def bind_processor(self, dialect: Dialect) -> Callable[[datetime | None], Any] | None:
        if dialect.name == "sqlite":
            # The text process_bind_param + SQLite's DATETIME processor produce, in one C-level
            # isoformat instead of two Python steps: a search binds a couple of dozen of these.
            return _sqlite_utc_text
        return super().bind_processor(dialect)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


# UUID version 7 layout: 48-bit Unix milliseconds, version 7, then 74 random bits around the
# RFC 4122 variant. Time-ordered, so B-tree inserts of new ids stay near the right edge.
_UUID7_FIXED = (0x7 << 76) | (0x2 << 62)
_UUID7_RANDOM = (0xFFF << 64) | ((1 << 62) - 1)
_UUID7_RANDOM_BYTES = 10


def new_ids(count: int) -> list[uuid.UUID]:
    """``count`` time-ordered UUIDs (version 7 layout) for one batch: one clock read and one
    ``os.urandom`` call for all of them."""
    head = ((time.time_ns() // 1_000_000) & ((1 << 48) - 1)) << 80 | _UUID7_FIXED
    step = _UUID7_RANDOM_BYTES
    raw = os.urandom(step * count)
    from_bytes, make = int.from_bytes, uuid.UUID
    return [
        make(int=head | (from_bytes(raw[at : at + step], "big") & _UUID7_RANDOM))
        for at in range(0, step * count, step)
    ]


def new_id() -> uuid.UUID:
    """A time-ordered UUID (version 7 layout): B-tree inserts stay near the right edge."""
    return new_ids(1)[0]


# SQLite page cache per connection, in KiB. It is per connection, so a pool of N connections
# can hold N times this. 16 MiB holds the upper levels of every plate_reads B-tree; the leaves
# a search touches are a few pages per day key, read from the OS page cache when not here.
# bench/search.py at 1M reads: p50/p99 of the data path the same within noise at 64, 16 and
# 8 MiB; bench/ingest.py: peak RSS 182 MB at 64 MiB, 123 MB at 16 MiB, same throughput.
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


def _sqlite_utc_text(value: datetime | None) -> str | None:
    """What UTCDateTime + SQLite's DATETIME store: naive UTC text, microseconds always shown."""
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("naive datetime given to a UTCDateTime column")
    # isoformat is a single C call (strftime with %f is several times slower); [:26] drops the
    # "+00:00" that an aware UTC datetime renders.
    return value.astimezone(UTC).isoformat(" ", "microseconds")[:26]


def _sqlite_uuid_hex(value: uuid.UUID | None) -> str | None:
    return None if value is None else value.hex


def _sqlite_bool(value: bool | None) -> int | None:
    return None if value is None else int(value)


def _sqlite_converter(column: Any) -> Callable[[Any], Any] | None:
    """The value SQLAlchemy itself would bind for this column type on SQLite."""
    if isinstance(column.type, UTCDateTime):
        return _sqlite_utc_text
    if isinstance(column.type, Uuid):
        return _sqlite_uuid_hex
    if isinstance(column.type, Boolean):
        return _sqlite_bool
    return None


def _convert_column(convert: Callable[[Any], Any], values: Sequence[Any]) -> list[Any]:
    """``convert`` applied to each value; a run of one same object (a batch's ingest time) is
    converted once."""
    out: list[Any] = []
    append = out.append
    last: object = _convert_column  # no value is this function
    done: Any = None
    for value in values:
        if value is not last:
            last, done = value, convert(value)
        append(done)
    return out


def _sqlite_executemany(
    session: Session, table: Table, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """Bulk insert through the driver's executemany with values converted once per column.

    SQLAlchemy's per-value bind processors cost more than SQLite's insert itself at ingest
    rates; these converters produce the same stored forms (tests read the rows back through
    the ORM types), so nothing else changes. Conversion is column by column: the transposes
    are C loops, and columns that need nothing are passed through untouched.
    """
    cols = [table.c[name] for name in columns]  # KeyError for anything not a column
    names = [column.name for column in cols]
    # Identifiers come from the table's own metadata, values are bound: no injection path.
    sql = f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"  # noqa: S608
    values: list[Sequence[Any]] = list(zip(*rows, strict=True))
    for position, column in enumerate(cols):
        convert = _sqlite_converter(column)
        if convert is not None:
            values[position] = _convert_column(convert, values[position])
    session.connection().exec_driver_sql(sql, list(zip(*values, strict=True)))


# Compiles PostgreSQL SQL in pyformat style without bind casts (it is never connected).
_PG_PLAIN = PGDialect_psycopg2()  # type: ignore[no-untyped-call]


class DriverSelect:
    """A Core SELECT compiled once per dialect and run by the driver.

    For the few statements on a search's hot path (its keys and its SELECT): SQLAlchemy's
    per-call compile-cache lookup, parameter construction and per-value bind and result
    processors cost several times what the database spends running the query. The statement
    is still written in Core and still runs on the session's connection, inside its
    transaction.

    * SQLite: through ``exec_driver_sql`` (SQLAlchemy's events and error wrapping; sqlite3
      keeps its own statement cache).
    * PostgreSQL: as a server-side prepared statement (psycopg ``prepare=True``): after five
      custom plans PostgreSQL settles on the generic plan, which for these statements costs
      the same, and stops planning: planning the search's ten-branch UNION cost about 1.2 ms
      a time against 0.3 ms to run it (bench/search.py). Driver errors are wrapped as
      SQLAlchemy's, as ``exec_driver_sql`` would.

    Only statements whose generic plan is the right plan for every parameter belong here:
    exact lookups through an index. Parameters are converted as the column types would (see
    ``_sqlite_converter``); result values come back as the driver returns them, for
    ``from_driver_uuid`` and ``from_driver_utc``.
    """

    def __init__(self, statement: ClauseElement) -> None:
        self.statement = statement
        self._compiled: dict[str, tuple[str, tuple[str, ...] | None, dict[str, Any]]] = {}

    def _for(self, dialect: Dialect) -> tuple[str, tuple[str, ...] | None, dict[str, Any]]:
        found = self._compiled.get(dialect.name)
        if found is None:
            # PostgreSQL: the generic dialect's SQL, without the psycopg dialect's explicit bind
            # casts; the driver types each value itself. Shorter SQL: psycopg caches its own
            # parsing only for statements under 4 KiB.
            target = _PG_PLAIN if dialect.name == "postgresql" else dialect
            compiled = cast(SQLCompiler, self.statement.compile(dialect=target))
            order = tuple(compiled.positiontup) if compiled.positiontup is not None else None
            found = (compiled.string, order, dict(compiled.params))
            self._compiled[dialect.name] = found
        return found

    def rows(self, session: Session, params: dict[str, Any]) -> Sequence[Any]:
        """The result rows, each a tuple of the selected columns in order."""
        connection = session.connection()
        sql, order, defaults = self._for(connection.dialect)
        values = {**defaults, **params}
        if connection.dialect.name == "postgresql":
            return _run_prepared(connection, sql, values)
        values = {name: _sqlite_value(value) for name, value in values.items()}
        arguments: Any = values if order is None else tuple(values[name] for name in order)
        return connection.exec_driver_sql(sql, arguments).all()


# psycopg's threshold for preparing a statement implicitly: never, in practice.
_NEVER_IMPLICITLY = 2**31 - 1


def _run_prepared(connection: Connection, sql: str, values: dict[str, Any]) -> list[Any]:
    driver = connection.connection.driver_connection
    assert driver is not None
    error = connection.dialect.loaded_dbapi.Error
    try:
        # Binary results: no text parsing of bytea, uuid and timestamptz values.
        return list(driver.execute(sql, values, prepare=True, binary=True).fetchall())
    except error as exc:
        raise DBAPIError.instance(sql, values, exc, error) from exc


_LOCK_SQL = {
    True: "SELECT pg_advisory_xact_lock_shared(%(k)s)",
    False: "SELECT pg_advisory_xact_lock(%(k)s)",
}
_TRY_LOCK_SQL = {
    True: "SELECT pg_try_advisory_xact_lock_shared(%(k)s)",
    False: "SELECT pg_try_advisory_xact_lock(%(k)s)",
}


def lock_partitions(session: Session, *, shared: bool, timeout_ms: int | None = None) -> None:
    """PostgreSQL: order searches against partition changes until this transaction ends.

    A search picks the partitions it reads by name
    (``services.partitions.keys_and_tables_for_search``),
    so between that choice and its SELECT no partition may be dropped, created or filled from
    a DEFAULT partition. Searches hold this lock shared; partition maintenance holds it
    exclusively, waiting for running searches and holding new ones for the few milliseconds
    it takes. SQLite: nothing to do (not partitioned).

    ``timeout_ms`` bounds the wait (a search passes the audit timeout, so a search stuck behind
    maintenance fails closed like one stuck behind the audit chain; maintenance passes none,
    searches being short). A free lock is taken in one round trip either way; only a wait
    pays for setting the timeout."""
    if is_sqlite(session):
        return
    connection = session.connection()
    values = {"k": PARTITIONS_LOCK}
    if timeout_ms is None:
        _run_prepared(connection, _LOCK_SQL[shared], values)
        return
    if _run_prepared(connection, _TRY_LOCK_SQL[shared], values)[0][0]:
        return
    # The bound stays until the transaction ends: a search that waited here may not then wait
    # unbounded elsewhere (the audit chain sets its own).
    connection.exec_driver_sql(f"SET LOCAL lock_timeout = {int(timeout_ms)}")
    _run_prepared(connection, _LOCK_SQL[shared], values)  # OperationalError after timeout_ms


def _sqlite_value(value: Any) -> Any:
    """A parameter as the column types' converters (``_sqlite_converter``) would bind it."""
    if isinstance(value, datetime):
        return _sqlite_utc_text(value)
    if isinstance(value, uuid.UUID):
        return _sqlite_uuid_hex(value)
    if isinstance(value, bool):
        return _sqlite_bool(value)
    return value


def from_driver_uuid(value: Any) -> uuid.UUID:
    """A Uuid column's value as the driver returned it (SQLite: 32 hex digits)."""
    return value if isinstance(value, uuid.UUID) else uuid.UUID(hex=value)


def from_driver_utc(value: Any) -> datetime:
    """A UTCDateTime column's value as the driver returned it (SQLite: naive UTC text)."""
    if isinstance(value, str):
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    if value.tzinfo is None:
        return cast(datetime, value.replace(tzinfo=UTC))
    return cast(datetime, value.astimezone(UTC))


def insert_ignore_returning(
    session: Session,
    table: Table,
    conflict_columns: Sequence[str],
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    returning: str,
) -> set[Any]:
    """Bulk insert of ``rows`` (tuples in ``columns`` order); the ``returning`` values of the
    rows actually inserted.

    PostgreSQL: INSERT ... ON CONFLICT DO NOTHING RETURNING, because a concurrent transaction
    may insert the same key first; the caller resolves the rows that lost.
    SQLite: the transaction holds the write lock from BEGIN IMMEDIATE, so the caller's replay
    lookup is authoritative and nothing can race it. A plain executemany (the driver's C loop,
    several times faster than multi-row VALUES with RETURNING) inserts every row, and a
    conflict, which would mean a bug, raises instead of being dropped.
    """
    if not rows:
        return set()
    at = list(columns).index(returning)
    if is_sqlite(session):
        _sqlite_executemany(session, table, columns, rows)
        return {row[at] for row in rows}
    # One statement whatever the batch size: each column travels as one array parameter and
    # unnest() turns them back into rows. The statement text stays short and the same for
    # every batch (multi-row VALUES made the driver re-parse a statement with thousands of
    # placeholders on every batch: most of PostgreSQL's ingest time). The arrays travel in
    # binary (text arrays cost a quoting check per element: a quarter of the client's time)
    # and the statement is prepared on the connection: once per set of columns that are NULL
    # throughout a batch (psycopg sends such an array untyped, and keys its prepared statements
    # on the parameter types), a handful in practice. The values are the Python objects the
    # column types take (UUIDs, aware datetimes, bytes, floats for Float columns, ...); psycopg
    # dumps them directly and refuses a list mixing types (int and float, say).
    sql = _pg_unnest_insert(table, tuple(conflict_columns), tuple(columns), returning)
    arrays = {f"c{i}": list(values) for i, values in enumerate(zip(*rows, strict=True))}
    return {row[0] for row in _run_prepared(session.connection(), sql, arrays)}


@lru_cache(maxsize=32)
def _pg_unnest_insert(
    table: Table, conflict_columns: tuple[str, ...], columns: tuple[str, ...], returning: str
) -> str:
    """The driver-level INSERT for ``insert_ignore_returning``: ``%(cN)b`` binds the N-th
    column's array in binary; the CAST gives it the column's type (an all-NULL array arrives
    untyped)."""
    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    casts = ", ".join(
        f"CAST(%(c{i})b AS {table.c[name].type.compile(dialect=dialect)}[])"
        for i, name in enumerate(columns)
    )
    names = ", ".join(columns)
    return (
        f"INSERT INTO {table.name} ({names}) SELECT * FROM unnest({casts}) "  # noqa: S608
        f"ON CONFLICT ({', '.join(conflict_columns)}) DO NOTHING RETURNING {returning}"
    )


class OneOf(ColumnElement[bool]):
    """``column`` equal to one of the list bound as ``name``, written per dialect: SQLite an
    expanding ``IN (?, ?, ...)``; PostgreSQL ``= ANY(:name)`` with the list as one array, so
    the statement's text is the same for every length and the driver parses it once."""

    inherit_cache = True
    type = Boolean()
    _is_implicitly_boolean = True  # a comparison: no "= 1" where booleans are integers
    # SQLAlchemy's cache key walks these (the name SQLAlchemy declares, so no ClassVar).
    _traverse_internals = [  # noqa: RUF012
        ("column", InternalTraversal.dp_clauseelement),
        ("name", InternalTraversal.dp_string),
    ]

    def __init__(self, column: ColumnElement[Any] | QueryableAttribute[Any], name: str) -> None:
        self.column = column.expression if isinstance(column, QueryableAttribute) else column
        self.name = name

    @property
    def _from_objects(self) -> list[FromClause]:  # its column's table is a FROM source
        return self.column._from_objects


@compiles(OneOf)
def _one_of_expanding(element: OneOf, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.column.in_(bindparam(element.name, expanding=True)), **kw)


@compiles(OneOf, "postgresql")
def _one_of_array(element: OneOf, compiler: SQLCompiler, **kw: Any) -> str:
    element_type = element.column.type
    if isinstance(element_type, String) and element_type.length is not None:
        # Not VARCHAR(n)[]: an explicit cast cuts longer values short, and a value whose first
        # n characters are stored would match.
        element_type = String()
    values = bindparam(element.name, type_=postgresql.ARRAY(element_type))
    return compiler.process(element.column == any_(values), **kw)


def lock_audit_chain(session: Session, timeout_ms: int) -> None:
    """Serialise appends to the audit chain until this transaction ends.

    SQLite already holds the database write lock (BEGIN IMMEDIATE). PostgreSQL takes a
    transaction-scoped advisory lock, waiting at most ``timeout_ms``.
    """
    if is_sqlite(session):
        return
    # A transaction begun with WRITE_WAIT_MS (ingest) waits that long here too.
    timeout_ms = int(session.connection().get_execution_options().get(WRITE_WAIT_MS, timeout_ms))
    session.execute(text(f"SET LOCAL lock_timeout = {int(timeout_ms)}"))
    session.execute(text(f"SET LOCAL statement_timeout = {int(timeout_ms) * 2}"))
    session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": AUDIT_CHAIN_LOCK})


def day_bucket(session: Session, column: Any) -> Any:
    """The UTC calendar day of a UTCDateTime column, for GROUP BY."""
    if is_sqlite(session):
        return func.substr(column, 1, 10)  # stored as naive UTC "YYYY-MM-DD HH:MM:SS"
    return func.date(func.timezone("UTC", column))


def plus_days(session: Session, column: Any, days: int) -> Any:
    """A UTCDateTime column plus a whole number of days, in SQL, exact to the microsecond.

    SQLite stores naive UTC text with microseconds always shown; whole days never change the
    time of day, so the new date is joined to the column's own time text. PostgreSQL adds
    hours, which do not depend on the session's time zone (days would, across DST)."""
    if is_sqlite(session):
        shifted = func.date(column, f"{int(days):+d} days").op("||")(func.substr(column, 11))
        return type_coerce(shifted, UTCDateTime())
    return type_coerce(
        column.op("+")(func.make_interval(0, 0, 0, 0, int(days) * 24)), UTCDateTime()
    )


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
        params: dict[str, Any] = {"cutoff": _sqlite_utc_text(cutoff), "limit": limit}
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
