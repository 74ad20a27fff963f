"""DriverSelect, the search's hot-path statement runner, must bind and return what the ORM
types do: the same rows for the same parameters, and the same ids and instants once converted."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import cast

import pytest
from sqlalchemy import Table, bindparam, literal_column, select, table
from sqlalchemy.exc import DBAPIError, IntegrityError

from alpr_guard.db import DriverSelect, RowInsert, from_driver_utc, from_driver_uuid
from alpr_guard.models import SearchRecord, User
from alpr_guard.runtime import Runtime
from alpr_guard.services.principals import add_user
from tests.conftest import OPERATING_ORI

_BY_WINDOW = select(SearchRecord.id, SearchRecord.window_from).where(
    SearchRecord.window_from >= bindparam("lo"),
    SearchRecord.window_from < bindparam("hi"),
    SearchRecord.outcome == "allowed",
    SearchRecord.id != bindparam("not_id"),
)


def _record(record_id: uuid.UUID, at: datetime, outcome: str, user_id: int) -> SearchRecord:
    return SearchRecord(
        id=record_id,
        created_at=at,
        user_id=user_id,
        username="t-officer",
        agency_ori=OPERATING_ORI,
        purpose="stolen_vehicle",
        justification="x",
        case_number=None,
        on_behalf_of=None,
        window_from=at,
        window_to=at + timedelta(days=1),
        terms_sealed=b"x",
        terms_token="t",
        outcome=outcome,
        reason_code=None,
        rule=None,
        matched=None,
        result_count=0,
        audit_seq=0,
    )


def test_driver_select_binds_and_returns_what_the_orm_types_do(rt: Runtime) -> None:
    base = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    instants = [
        base,  # no microseconds: SQLite text must still carry ".000000" to compare right
        base + timedelta(microseconds=1),
        base + timedelta(hours=2),
        base + timedelta(hours=3, microseconds=999_999),
        base + timedelta(days=1),  # outside [lo, hi)
    ]
    ids = [uuid.uuid4() for _ in instants]
    with rt.sessions.begin() as session:
        add_user(session, rt, username="t-officer", role="officer", agency_ori=OPERATING_ORI)
        user_id = session.scalars(select(User.id).where(User.username == "t-officer")).one()
        for record_id, at in zip(ids, instants, strict=True):
            session.add(_record(record_id, at, "allowed", user_id))
        session.add(_record(uuid.uuid4(), base + timedelta(hours=1), "refused", user_id))

    # An aware non-UTC bound is converted to UTC on the way in, as UTCDateTime does: compared
    # as local text it would also admit instants[0].
    params = {
        "lo": (base + timedelta(microseconds=1)).astimezone(timezone(timedelta(hours=-8))),
        "hi": base + timedelta(days=1),
        "not_id": ids[3],
    }
    statement = DriverSelect(_BY_WINDOW)
    with rt.sessions() as session:
        raw = statement.rows(session, params)
        orm = session.execute(_BY_WINDOW, params).all()
    got = sorted((from_driver_uuid(i), from_driver_utc(at)) for i, at in raw)
    assert got == sorted((r.id, r.window_from) for r in orm)
    assert got == sorted([(ids[1], instants[1]), (ids[2], instants[2])])
    assert all(at.tzinfo is not None and at.utcoffset() == timedelta(0) for _, at in got)


def test_row_insert_stores_what_the_orm_reads_back(rt: Runtime) -> None:
    """The one-row insert the search path writes its record with converts ids, instants and
    bytes as the ORM types would: the row reads back through the ORM equal to what went in."""
    at = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    with rt.sessions.begin() as session:
        add_user(session, rt, username="t-officer", role="officer", agency_ori=OPERATING_ORI)
        user_id = session.scalars(select(User.id).where(User.username == "t-officer")).one()
    written = _record(uuid.uuid4(), at, "refused", user_id)
    # A non-UTC instant goes in as the same instant in UTC.
    written.window_to = (at + timedelta(hours=5, microseconds=7)).astimezone(
        timezone(timedelta(hours=-8))
    )
    written.terms_sealed = bytes(range(256))
    insert_one = RowInsert(cast(Table, SearchRecord.__table__), _COLUMNS)
    with rt.sessions.begin() as session:
        insert_one(session, [getattr(written, name) for name in _COLUMNS])
    with rt.sessions() as session:
        read = session.get(SearchRecord, written.id)
        assert read is not None
        assert {name: getattr(read, name) for name in _COLUMNS} == {
            name: getattr(written, name) for name in _COLUMNS
        }
        assert read.window_to.utcoffset() == timedelta(0)


_COLUMNS = [column.name for column in SearchRecord.__table__.columns]


def test_driver_errors_are_sqlalchemy_errors(rt: Runtime) -> None:
    """A driver error on either fast path is raised as SQLAlchemy's (the API answers those
    503, fail closed), not as the driver's own exception."""
    with rt.sessions.begin() as session:
        add_user(session, rt, username="t-officer", role="officer", agency_ori=OPERATING_ORI)
        user_id = session.scalars(select(User.id).where(User.username == "t-officer")).one()
    row = _record(uuid.uuid4(), datetime(2026, 11, 20, tzinfo=UTC), "allowed", user_id)
    insert_one = RowInsert(cast(Table, SearchRecord.__table__), _COLUMNS)
    values = [getattr(row, name) for name in _COLUMNS]
    with rt.sessions.begin() as session:
        insert_one(session, values)
    with rt.sessions() as session, pytest.raises(IntegrityError):
        insert_one(session, values)  # the same primary key again
    missing = DriverSelect(select(literal_column("1")).select_from(table("no_such_table")))
    with rt.sessions() as session, pytest.raises(DBAPIError):
        missing.rows(session, {})


def test_driver_select_on_a_connection_without_a_transaction(rt: Runtime) -> None:
    """A Core connection that has not begun a transaction is served too (the statement
    begins one, as any statement would)."""
    statement = DriverSelect(select(User.username).where(User.username == bindparam("name")))
    with rt.sessions.begin() as session:
        add_user(session, rt, username="t-officer", role="officer", agency_ori=OPERATING_ORI)
    with rt.engine.connect() as connection:
        assert not connection.in_transaction()
        assert [tuple(r) for r in statement.rows(connection, {"name": "t-officer"})] == [
            ("t-officer",)
        ]
        assert statement.rows(connection, {"name": "nobody"}) == []
