"""Fast paths that differ per dialect: insert-or-ignore, bulk executemany with the column
converters applied once, prepared driver-level selects, ``OneOf`` (IN or = ANY), day buckets."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Dialect,
    FromClause,
    String,
    Table,
    Uuid,
    any_,
    bindparam,
    func,
    insert,
    type_coerce,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql.psycopg2 import PGDialect_psycopg2
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import QueryableAttribute, Session
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.dml import Insert
from sqlalchemy.sql.elements import ClauseElement
from sqlalchemy.sql.visitors import InternalTraversal

from alpr_guard.db.engine import is_sqlite
from alpr_guard.db.types import UTCDateTime, sqlite_utc_text


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


def _sqlite_uuid_hex(value: uuid.UUID | None) -> str | None:
    return None if value is None else value.hex


def _sqlite_bool(value: bool | None) -> int | None:
    return None if value is None else int(value)


def _sqlite_converter(column: Any) -> Callable[[Any], Any] | None:
    """The value SQLAlchemy itself would bind for this column type on SQLite."""
    if isinstance(column.type, UTCDateTime):
        return sqlite_utc_text
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


def _insert_sql(table: Table, cols: Sequence[Any]) -> str:
    """The SQLite INSERT of these columns, with one ``?`` each."""
    # Identifiers come from the table's own metadata, values are bound: no injection path.
    names = ", ".join(column.name for column in cols)
    return f"INSERT INTO {table.name} ({names}) VALUES ({', '.join('?' * len(cols))})"  # noqa: S608


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
    sql = _insert_sql(table, cols)
    values: list[Sequence[Any]] = list(zip(*rows, strict=True))
    for position, column in enumerate(cols):
        convert = _sqlite_converter(column)
        if convert is not None:
            values[position] = _convert_column(convert, values[position])
    session.connection().exec_driver_sql(sql, list(zip(*values, strict=True)))


class RowInsert:
    """One row into ``table`` (a tuple in ``columns`` order), in the session's transaction: the
    audit event and the access record every search writes.

    SQLite: the INSERT's text and each column's converter (``_sqlite_converter``, the stored
    forms SQLAlchemy's types would bind) are worked out once, and the row goes to the sqlite3
    connection in the transaction the session began, with driver errors wrapped as
    SQLAlchemy's: a one-row ``exec_driver_sql`` (or a Core insert) cost several times the
    insert itself. PostgreSQL: a Core insert, as ``insert_rows``."""

    def __init__(self, table: Table, columns: Sequence[str]) -> None:
        cols = [table.c[name] for name in columns]  # KeyError for anything not a column
        self.table = table
        self.columns = tuple(column.name for column in cols)
        self._converters = tuple(_sqlite_converter(column) for column in cols)
        self._sql = _insert_sql(table, cols)

    def __call__(self, session: Session, row: Sequence[Any]) -> None:
        connection = session.connection()
        if connection.dialect.name != "sqlite":
            connection.execute(insert(self.table), dict(zip(self.columns, row, strict=True)))
            return
        values = tuple(
            value if convert is None else convert(value)
            for convert, value in zip(self._converters, row, strict=True)
        )
        _on_driver(connection, self._sql, values)


# Compiles PostgreSQL SQL in pyformat style without bind casts (it is never connected).
_PG_PLAIN = PGDialect_psycopg2()  # type: ignore[no-untyped-call]


class DriverSelect:
    """A Core SELECT compiled once per dialect and run by the driver.

    For the few statements on a search's hot path (its keys and its SELECT): SQLAlchemy's
    per-call compile-cache lookup, parameter construction and per-value bind and result
    processors cost several times what the database spends running the query. The statement
    is still written in Core and still runs on the session's connection, inside its
    transaction.

    * SQLite: on the sqlite3 connection itself, in the transaction the session began, with
      driver errors wrapped as SQLAlchemy's (``_sqlite_fetch``; sqlite3 keeps its own
      statement cache).
    * PostgreSQL: as a server-side prepared statement (psycopg ``prepare=True``): after five
      custom plans PostgreSQL settles on the generic plan, which for these statements costs
      the same, and stops planning: planning the search's ten-branch UNION cost about 1.2 ms
      a time against 0.3 ms to run it (bench/search.py). Driver errors are wrapped as
      SQLAlchemy's, as ``exec_driver_sql`` would.

    Only statements whose generic plan is the right plan for every parameter belong here:
    exact lookups through an index. Parameters are converted as the column types would (see
    ``_sqlite_converter``); result values come back as the driver returns them, for
    ``from_driver_uuid`` and ``from_driver_utc``.

    A list bound through ``OneOf`` is expanded on SQLite into one placeholder per value.
    ``prepare=False`` keeps PostgreSQL on SQLAlchemy's ordinary path, for a statement whose
    plan should see its parameters (a range that prunes partitions).
    """

    def __init__(self, statement: ClauseElement, *, prepare: bool = True) -> None:
        self.statement = statement
        self.prepare = prepare
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

    def rows(self, bind: Session | Connection, params: dict[str, Any]) -> Sequence[Any]:
        """The result rows, each a tuple of the selected columns in order, on the session's
        connection (or a Core connection's) in its transaction."""
        connection = bind.connection() if isinstance(bind, Session) else bind
        if connection.dialect.name == "postgresql" and not self.prepare:
            return connection.execute(cast(Executable, self.statement), params).all()
        sql, order, defaults = self._for(connection.dialect)
        values = {**defaults, **params}
        if connection.dialect.name == "postgresql":
            return run_prepared(connection, sql, values)
        # Each value converted once, however many placeholders bind it (the search's branches
        # share the window and "now": a ten-branch UNION binds each of them ten times).
        converted = {
            name: [_sqlite_value(item) for item in value]
            if isinstance(value, list)
            else _sqlite_value(value)
            for name, value in values.items()
        }
        arguments: tuple[Any, ...] | dict[str, Any]
        if order is None:
            arguments = converted
        elif _EXPANDING not in sql:
            arguments = tuple(map(converted.__getitem__, order))
        else:
            flat: list[Any] = []
            for name in order:
                value = converted[name]
                token = f"{_EXPANDING}{name}]"
                if token in sql:  # OneOf's expanding IN: one placeholder per value
                    sql = sql.replace(token, ", ".join("?" * len(value)), 1)  # positional order
                    flat.extend(value)
                else:
                    flat.append(value)
            arguments = tuple(flat)
        return _sqlite_fetch(connection, sql, arguments)


_EXPANDING = "__[POSTCOMPILE_"


def _sqlite_fetch(
    connection: Connection, sql: str, arguments: tuple[Any, ...] | dict[str, Any]
) -> list[Any]:
    """Run a SELECT on the connection's sqlite3 connection, in the transaction it has begun.

    SQLAlchemy's execution context around ``exec_driver_sql`` (events, result metadata from
    the cursor description, row objects) cost more than the index lookups themselves: this
    path runs five of them per search. Nothing listens to statement events here; a driver
    error is wrapped as SQLAlchemy's (``DBAPIError``), as ``exec_driver_sql`` would, so the
    API still answers it 503. A connection not yet in a transaction goes the ordinary way,
    which begins one (``BEGIN IMMEDIATE`` or the read-only ``BEGIN``, ``db.engine``)."""
    if not connection.in_transaction():
        return list(connection.exec_driver_sql(sql, arguments).all())
    return list(_on_driver(connection, sql, arguments).fetchall())


def _on_driver(
    connection: Connection, sql: str, arguments: Sequence[Any] | dict[str, Any]
) -> sqlite3.Cursor:
    """Execute on the sqlite3 connection under ``connection``, in the transaction it has begun;
    a driver error raised as SQLAlchemy's (``DBAPIError``), as ``exec_driver_sql`` would."""
    driver = connection.connection.driver_connection
    assert driver is not None
    try:
        return cast(sqlite3.Cursor, driver.execute(sql, arguments))
    except sqlite3.Error as exc:
        raise DBAPIError.instance(sql, arguments, exc, sqlite3.Error) from exc


def run_prepared(connection: Connection, sql: str, values: dict[str, Any]) -> list[Any]:
    driver = connection.connection.driver_connection
    assert driver is not None
    error = connection.dialect.loaded_dbapi.Error
    try:
        # Binary results: no text parsing of bytea, uuid and timestamptz values.
        return list(driver.execute(sql, values, prepare=True, binary=True).fetchall())
    except error as exc:
        raise DBAPIError.instance(sql, values, exc, error) from exc


def _sqlite_value(value: Any) -> Any:
    """A parameter as the column types' converters (``_sqlite_converter``) would bind it."""
    if isinstance(value, datetime):
        return sqlite_utc_text(value)
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
    return {row[0] for row in run_prepared(session.connection(), sql, arrays)}


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
