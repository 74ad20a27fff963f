"""DriverSelect, the search's hot-path statement runner, must bind and return what the ORM
types do: the same rows for the same parameters, and the same ids and instants once converted."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import bindparam, select

from alpr_guard.db import DriverSelect, from_driver_utc, from_driver_uuid
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
