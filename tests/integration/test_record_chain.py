"""Access records are bound to the audit chain: ``audit verify`` names every edited, flipped,
deleted or inserted search, share, hold and finding by id and kind of damage, on SQLite and
PostgreSQL; records removed by retention are not reported; the access report marks rows that
fail verification."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

import pytest
from flask.testing import FlaskClient
from sqlalchemy import Table, delete, insert, select, update
from sqlalchemy.engine import Connection

from alpr_guard.checkpoints import verify_with_checkpoints
from alpr_guard.clock import FixedClock
from alpr_guard.jobs.review import review_access
from alpr_guard.models import Finding, HoldRead, LegalHold, SearchRecord, Share
from alpr_guard.record_chain import verify_records
from alpr_guard.runtime import Runtime
from alpr_guard.services.records_retention import expire_access_records
from tests.conftest import NOW, auth, read, search_body


@dataclass
class World:
    allowed_search: str
    refused_search: str
    allowed_share: str
    refused_share: str
    hold: str
    finding: str  # "<search id>/<rule>", resolved
    finding_id: int


def build_world(
    client: FlaskClient, tokens: dict[str, str], rt: Runtime, clock: FixedClock
) -> World:
    officer, supervisor = auth(tokens["officer"]), auth(tokens["supervisor"])
    read_id = client.post(
        "/api/v1/reads", json={"reads": [read()]}, headers=auth(tokens["ingest"])
    ).get_json()["ids"][0]
    allowed = client.post("/api/v1/searches", json=search_body(), headers=officer)
    assert allowed.status_code == 200
    refused = client.post(
        "/api/v1/searches",
        json=search_body(justification="ICE asked us to find this car"),
        headers=officer,
    )
    assert refused.status_code == 403
    share_ok = client.post(
        "/api/v1/shares",
        json={
            "recipient": "CA0000HP0",
            "search_id": allowed.get_json()["search_id"],
            "purpose": "stolen_vehicle",
            "justification": "CHP recovering the stolen car on I-80",
            "case_number": "26-004512",
        },
        headers=supervisor,
    )
    assert share_ok.status_code == 201
    share_refused = client.post(
        "/api/v1/shares",
        json={
            "recipient": "VTICE0900",
            "read_ids": [read_id],
            "purpose": "stolen_vehicle",
            "justification": "federal request",
        },
        headers=supervisor,
    )
    assert share_refused.status_code == 403
    hold = client.post(
        "/api/v1/holds",
        json={
            "case_number": "26-004512",
            "reason": "Evidence for the Main St case",
            "read_ids": [read_id],
            "review_by": (NOW + timedelta(days=30)).isoformat(),
        },
        headers=supervisor,
    )
    assert hold.status_code == 201
    released = client.post(
        f"/api/v1/holds/{hold.get_json()['id']}/release",
        json={"reason": "case closed"},
        headers=supervisor,
    )
    assert released.status_code == 200
    clock.advance(timedelta(minutes=10))
    review_access(rt)
    findings = client.get("/api/v1/review/findings", headers=auth(tokens["auditor"])).get_json()
    (flagged,) = [
        f
        for f in findings["findings"]
        if f["search_id"] == refused.get_json()["error"]["details"]["search_id"]
    ][:1]
    resolved = client.post(
        f"/api/v1/review/findings/{flagged['id']}/resolve",
        json={"verdict": "misuse", "note": "referred to internal affairs"},
        headers=auth(tokens["auditor"]),
    )
    assert resolved.status_code == 200
    return World(
        allowed.get_json()["search_id"],
        refused.get_json()["error"]["details"]["search_id"],
        share_ok.get_json()["share_id"],
        share_refused.get_json()["error"]["details"]["share_id"],
        hold.get_json()["id"],
        f"{flagged['search_id']}/{flagged['rule']}",
        flagged["id"],
    )


@pytest.fixture
def world(client: FlaskClient, tokens: dict[str, str], rt: Runtime, clock: FixedClock) -> World:
    built = build_world(client, tokens, rt, clock)
    with rt.sessions() as session:
        result = verify_with_checkpoints(session, rt)
    assert result.ok, result.describe()
    assert result.records_checked >= 6  # 2 searches, 2 shares, a hold, a finding
    return built


def _table(model: Any) -> Table:
    return cast(Table, model.__table__)


def _copy(conn: Connection, model: Any, where: Any, **changes: Any) -> None:
    row = dict(conn.execute(select(_table(model)).where(where)).mappings().one())
    row.update(changes)
    conn.execute(insert(_table(model)).values(**row))


Tamper = Callable[[Connection, World], str]  # returns the damaged record's id as reported

TAMPERS: dict[tuple[str, str], Tamper] = {}


def tamper(table: str, damage: str) -> Callable[[Tamper], Tamper]:
    def register(fn: Tamper) -> Tamper:
        TAMPERS[(table, damage)] = fn
        return fn

    return register


def _uid(value: str) -> uuid.UUID:
    return uuid.UUID(value)


@tamper("searches", "edited")
def _edit_search(conn: Connection, w: World) -> str:
    conn.execute(
        update(SearchRecord)
        .where(SearchRecord.id == _uid(w.allowed_search))
        .values(justification="Forged: routine patrol")
    )
    return w.allowed_search


@tamper("searches", "flipped")
def _flip_search(conn: Connection, w: World) -> str:
    conn.execute(
        update(SearchRecord)
        .where(SearchRecord.id == _uid(w.refused_search))
        .values(outcome="allowed", reason_code=None)
    )
    return w.refused_search


@tamper("searches", "deleted")
def _delete_search(conn: Connection, w: World) -> str:
    conn.execute(delete(SearchRecord).where(SearchRecord.id == _uid(w.allowed_search)))
    return w.allowed_search


@tamper("searches", "inserted")
def _insert_search(conn: Connection, w: World) -> str:
    forged = uuid.uuid4()
    _copy(conn, SearchRecord, SearchRecord.id == _uid(w.allowed_search), id=forged)
    return str(forged)


@tamper("shares", "edited")
def _edit_share(conn: Connection, w: World) -> str:
    conn.execute(
        update(Share).where(Share.id == _uid(w.allowed_share)).values(case_number="26-999999")
    )
    return w.allowed_share


@tamper("shares", "flipped")
def _flip_share(conn: Connection, w: World) -> str:
    conn.execute(update(Share).where(Share.id == _uid(w.refused_share)).values(outcome="allowed"))
    return w.refused_share


@tamper("shares", "deleted")
def _delete_share(conn: Connection, w: World) -> str:
    conn.execute(delete(Share).where(Share.id == _uid(w.refused_share)))
    return w.refused_share


@tamper("shares", "inserted")
def _insert_share(conn: Connection, w: World) -> str:
    forged = uuid.uuid4()
    _copy(conn, Share, Share.id == _uid(w.allowed_share), id=forged)
    return str(forged)


@tamper("legal_holds", "edited")
def _edit_hold(conn: Connection, w: World) -> str:
    conn.execute(
        update(LegalHold).where(LegalHold.id == _uid(w.hold)).values(reason="Forged reason")
    )
    return w.hold


@tamper("legal_holds", "flipped")
def _flip_hold(conn: Connection, w: World) -> str:
    conn.execute(update(LegalHold).where(LegalHold.id == _uid(w.hold)).values(status="active"))
    return w.hold


@tamper("legal_holds", "deleted")
def _delete_hold(conn: Connection, w: World) -> str:
    conn.execute(delete(HoldRead).where(HoldRead.hold_id == _uid(w.hold)))
    conn.execute(delete(LegalHold).where(LegalHold.id == _uid(w.hold)))
    return w.hold


@tamper("legal_holds", "inserted")
def _insert_hold(conn: Connection, w: World) -> str:
    forged = uuid.uuid4()
    _copy(conn, LegalHold, LegalHold.id == _uid(w.hold), id=forged, key_id=f"hold-{forged}")
    return str(forged)


@tamper("review_findings", "edited")
def _edit_finding(conn: Connection, w: World) -> str:
    conn.execute(update(Finding).where(Finding.id == w.finding_id).values(note="nothing to see"))
    return w.finding


@tamper("review_findings", "flipped")
def _flip_finding(conn: Connection, w: World) -> str:
    conn.execute(
        update(Finding).where(Finding.id == w.finding_id).values(status="open", verdict=None)
    )
    return w.finding


@tamper("review_findings", "deleted")
def _delete_finding(conn: Connection, w: World) -> str:
    conn.execute(delete(Finding).where(Finding.id == w.finding_id))
    return w.finding


@tamper("review_findings", "inserted")
def _insert_finding(conn: Connection, w: World) -> str:
    row = dict(
        conn.execute(select(_table(Finding)).where(Finding.id == w.finding_id)).mappings().one()
    )
    row.pop("id")
    row["rule"] = "off_hours"
    conn.execute(insert(_table(Finding)).values(**row))
    return f"{row['search_id']}/off_hours"


@pytest.mark.parametrize(("table", "damage"), sorted(TAMPERS))
def test_audit_verify_names_each_tampered_access_record(
    rt: Runtime, world: World, table: str, damage: str
) -> None:
    with rt.engine.begin() as conn:
        record_id = TAMPERS[(table, damage)](conn, world)
    with rt.sessions() as session:
        result = verify_with_checkpoints(session, rt)
    assert not result.ok
    assert result.problem is None  # the audit chain itself is intact
    assert len(result.record_damage) == 1, result.record_damage
    assert result.record_damage[0].startswith(f"{table} {record_id}: {damage}")
    assert f"access record {table} {record_id}: {damage}" in result.describe()


def test_the_verify_endpoint_and_cli_report_record_damage(
    rt: Runtime, world: World, client: FlaskClient, tokens: dict[str, str]
) -> None:
    with rt.engine.begin() as conn:
        _flip_search(conn, world)
    body = client.get("/api/v1/audit/verify", headers=auth(tokens["auditor"])).get_json()
    assert body["ok"] is False
    assert body["record_damage"] == [
        next(d for d in body["record_damage"] if world.refused_search in d)
    ]
    assert "flipped" in body["record_damage"][0]


def test_records_removed_by_retention_are_not_reported_deleted(
    rt: Runtime, world: World, clock: FixedClock
) -> None:
    later = NOW + timedelta(days=rt.settings.retention.access_records.days + 1)
    with rt.sessions.begin() as session:
        removed = expire_access_records(session, rt, later)
    assert removed.searches_deleted >= 1 and removed.shares_deleted == 2
    with rt.sessions() as session:
        gone = session.get(SearchRecord, _uid(world.allowed_search))
        result = verify_records(session, rt.keyring)
    assert gone is None
    assert result.ok, [d.describe() for d in result.damage]


def test_a_search_deleted_by_hand_is_reported_even_after_a_retention_run(
    rt: Runtime, world: World
) -> None:
    # Retention's cutoff is three years back: a fresh record deleted now is not its doing.
    with rt.sessions.begin() as session:
        expire_access_records(session, rt, NOW + timedelta(days=1))
    with rt.engine.begin() as conn:
        _delete_search(conn, world)
    with rt.sessions() as session:
        result = verify_records(session, rt.keyring)
    assert [d.describe() for d in result.damage] == [
        next(d.describe() for d in result.damage if d.record == world.allowed_search)
    ]
    assert result.damage[0].damage == "deleted"


def test_the_access_report_marks_rows_that_fail_verification(
    rt: Runtime, world: World, client: FlaskClient, tokens: dict[str, str]
) -> None:
    with rt.engine.begin() as conn:
        _flip_search(conn, world)
    response = client.get(
        "/api/v1/audit/access-report?from=2026-11-01T00:00:00Z&to=2026-12-01T00:00:00Z&format=json",
        headers=auth(tokens["auditor"]),
    )
    rows = {r["search_id"]: r for r in json.loads(response.get_data(as_text=True))["rows"]}
    assert rows[world.refused_search]["record_check"] == "flipped"
    assert rows[world.allowed_search]["record_check"] == "verified"


def test_records_written_before_binding_are_counted_unbound_not_damaged(
    rt: Runtime, tokens: dict[str, str]
) -> None:
    """A search and a hold as the previous release wrote them: the search's event states no
    ``record_mac``, the hold has no ``audit_seq``. They keep working and are not reported."""
    from alpr_guard.services.principals import authenticate

    with rt.sessions() as session:
        officer = authenticate(session, rt, tokens["officer"])
    search_id, hold_id = uuid.uuid4(), uuid.uuid4()
    with rt.sessions.begin() as session:
        event = rt.audit.append(
            session,
            "search.allowed",
            officer.actor,
            subject=f"search:{search_id}",
            details={"search_id": str(search_id), "outcome": "allowed"},
        )
        session.add(
            SearchRecord(
                id=search_id,
                created_at=NOW,
                user_id=officer.user_id,
                username=officer.username,
                agency_ori=officer.agency_ori,
                purpose="stolen_vehicle",
                justification="as stored by the previous release",
                terms_sealed=rt.keyring.seal(b'{"plate": "7ABC123"}', search_id.bytes),
                terms_token="0" * 32,
                outcome="allowed",
                result_count=0,
                audit_seq=event.seq,
            )
        )
        rt.audit.append(
            session, "hold.placed", officer.actor, subject=f"hold:{hold_id}", details={}
        )
        session.add(
            LegalHold(
                id=hold_id,
                case_number="26-000001",
                reason="as stored by the previous release",
                status="active",
                agency_ori=officer.agency_ori,
                requested_by="t-supervisor",
                created_at=NOW - timedelta(days=1),
                review_by=NOW + timedelta(days=30),
                read_count=0,
                key_id=f"hold-{hold_id}",
            )
        )
    with rt.sessions() as session:
        result = verify_records(session, rt.keyring)
    assert result.ok, [d.describe() for d in result.damage]
    assert result.unbound == 2
