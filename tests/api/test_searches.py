"""Justified search through HTTP: screening, refusals with reason codes, records, fail closed."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select, text, update

from alpr_guard.audit import verify_chain
from alpr_guard.models import Agency, AuditEvent, SearchRecord
from alpr_guard.policy.decisions import ReasonCode
from alpr_guard.record_chain import search_mac, verify_records
from alpr_guard.runtime import Runtime
from tests.conftest import auth, read, search_body


def ingest(client: FlaskClient, tokens: dict[str, str], *reads: dict[str, Any]) -> list[str]:
    response = client.post(
        "/api/v1/reads", json={"reads": list(reads)}, headers=auth(tokens["ingest"])
    )
    assert response.status_code == 201, response.get_json()
    ids: list[str] = response.get_json()["ids"]
    return ids


def records(rt: Runtime) -> list[SearchRecord]:
    with rt.sessions() as session:
        return list(session.scalars(select(SearchRecord).order_by(SearchRecord.created_at)))


def test_allowed_search_returns_reads_newest_first_and_is_recorded(
    client: FlaskClient, tokens: dict[str, str], rt: Runtime
) -> None:
    ids = ingest(
        client,
        tokens,
        read(
            at="2026-11-15T08:00:00Z",
            camera="cam-a",
            latitude=37.77,
            longitude=-122.42,
            confidence=91,
            plate_state="ca",
        ),
        read(at="2026-11-18T09:30:00Z", camera="cam-b"),
        read(plate="8XYZ999", at="2026-11-18T09:31:00Z"),
        read(at="2026-11-01T08:00:00Z"),
    )  # outside the window
    response = client.post(
        "/api/v1/searches", json=search_body(plate="7abc 123"), headers=auth(tokens["officer"])
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert [r["id"] for r in body["results"]] == [ids[1], ids[0]]
    assert body["result_count"] == 2
    first, second = body["results"]
    assert first["plate"] == "7ABC123" and first["camera_id"] == "cam-b"
    assert second["confidence"] == pytest.approx(0.91)
    assert second["plate_state"] == "CA"
    assert (second["latitude"], second["longitude"]) == (37.77, -122.42)

    (record,) = records(rt)
    assert str(record.id) == body["search_id"]
    assert (record.outcome, record.reason_code, record.result_count) == ("allowed", None, 2)
    assert (record.username, record.agency_ori, record.purpose) == (
        "t-officer",
        "CA0199900",
        "stolen_vehicle",
    )
    assert record.case_number == "26-004512"
    with rt.sessions() as session:
        event = session.get_one(AuditEvent, record.audit_seq)
        assert event.kind == "search.allowed"
        assert json.loads(event.details)["result_count"] == 2
        # The plate used to query and the free text as typed are in the record, sealed for
        # auditors only.
        opened = json.loads(rt.keyring.unseal(record.terms_sealed, record.id.bytes))
        assert opened["plate"] == "7ABC123"
        assert opened["case_number"] == "26-004512"
        assert verify_chain(session, rt.keyring).ok


def test_pagination_with_cursor_records_every_page(
    client: FlaskClient, tokens: dict[str, str], rt: Runtime
) -> None:
    ingest(
        client,
        tokens,
        *[
            read(at=f"2026-11-1{d}T0{h}:00:00Z", camera=f"c{d}{h}")
            for d in range(4, 8)
            for h in range(3)
        ],
    )
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        body = search_body(page_size=5, **({"cursor": cursor} if cursor else {}))
        response = client.post("/api/v1/searches", json=body, headers=auth(tokens["officer"]))
        assert response.status_code == 200
        page = response.get_json()
        pages += 1
        seen += [r["observed_at"] for r in page["results"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert len(seen) == 12 and seen == sorted(seen, reverse=True)
    assert len(records(rt)) == 3


@pytest.mark.parametrize(
    ("body", "code", "status"),
    [
        (search_body(purpose="immigration_enforcement"), ReasonCode.PROHIBITED_PURPOSE, 403),
        (
            search_body(purpose="reproductive_care_investigation"),
            ReasonCode.PROHIBITED_PURPOSE,
            403,
        ),
        (
            search_body(justification="ICE asked us to find this car"),
            ReasonCode.PROHIBITED_PURPOSE,
            403,
        ),
        (search_body(purpose="curiosity"), ReasonCode.UNKNOWN_PURPOSE, 422),
        (search_body(justification=""), ReasonCode.JUSTIFICATION_REQUIRED, 422),
        (search_body(justification=" . "), ReasonCode.JUSTIFICATION_REQUIRED, 422),
        (search_body(justification="x"), ReasonCode.JUSTIFICATION_REQUIRED, 422),
        (search_body(justification="12345"), ReasonCode.JUSTIFICATION_REQUIRED, 422),
        (
            search_body(**{"from": "2026-11-20T00:00:00Z", "to": "2026-11-10T00:00:00Z"}),
            ReasonCode.INVALID_WINDOW,
            422,
        ),
        (search_body(**{"from": "2026-01-01T00:00:00Z"}), ReasonCode.WINDOW_TOO_LONG, 422),
        (search_body(on_behalf_of="CAZZZ9999"), ReasonCode.UNKNOWN_AGENCY, 403),
        (search_body(on_behalf_of="CA0190200"), ReasonCode.AGENCY_NOT_VETTED, 403),
        (search_body(on_behalf_of="CAFBISF00"), ReasonCode.FEDERAL_AGENCY, 403),
        (search_body(on_behalf_of="CAICE0100"), ReasonCode.FEDERAL_AGENCY, 403),
        (search_body(on_behalf_of="VTICE0900"), ReasonCode.FEDERAL_AGENCY, 403),
        (search_body(on_behalf_of="NV0020000"), ReasonCode.OUT_OF_STATE_AGENCY, 403),
        (search_body(on_behalf_of="CAREPO001"), ReasonCode.PRIVATE_ENTITY, 403),
        (search_body(on_behalf_of="CATRB0001"), ReasonCode.KIND_NOT_ALLOWED, 403),
        # the justification says who the search is for: the on_behalf_of codes
        (search_body(justification="per FBI, locate vehicle"), ReasonCode.FEDERAL_AGENCY, 403),
        (search_body(justification="Texas DPS request"), ReasonCode.OUT_OF_STATE_AGENCY, 403),
        (search_body(justification="repo company asked"), ReasonCode.PRIVATE_ENTITY, 403),
        (search_body(justification="I-C-E request"), ReasonCode.PROHIBITED_PURPOSE, 403),
    ],
)
def test_refusals_carry_reason_codes_and_are_recorded(
    client: FlaskClient,
    tokens: dict[str, str],
    rt: Runtime,
    body: dict[str, Any],
    code: ReasonCode,
    status: int,
) -> None:
    ingest(client, tokens, read())
    response = client.post("/api/v1/searches", json=body, headers=auth(tokens["officer"]))
    assert response.status_code == status
    error = response.get_json()["error"]
    assert error["code"] == code.value
    assert error["request_id"] and error["message"]
    assert "results" not in response.get_json()
    assert "7ABC123" not in response.get_data(as_text=True)
    (record,) = records(rt)
    assert (record.outcome, record.reason_code, record.result_count) == ("refused", code.value, 0)
    assert str(record.id) == error["details"]["search_id"]
    with rt.sessions() as session:
        assert session.get_one(AuditEvent, record.audit_seq).kind == "search.refused"


def test_search_on_behalf_of_vetted_in_state_agency_is_allowed(
    client: FlaskClient, tokens: dict[str, str], rt: Runtime
) -> None:
    ingest(client, tokens, read())
    response = client.post(
        "/api/v1/searches",
        json=search_body(on_behalf_of="CA0190100"),
        headers=auth(tokens["officer"]),
    )
    assert response.status_code == 200
    assert response.get_json()["result_count"] == 1
    assert records(rt)[0].on_behalf_of == "CA0190100"


@pytest.mark.parametrize(
    ("who", "code"),
    [
        ("officer@NV0020000", "out_of_state_agency"),
        ("officer@CAFBISF00", "federal_agency"),
    ],
)
def test_users_of_forbidden_agencies_are_refused(
    client: FlaskClient, tokens: dict[str, str], who: str, code: str
) -> None:
    ingest(client, tokens, read())
    response = client.post("/api/v1/searches", json=search_body(), headers=auth(tokens[who]))
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == code


def test_prohibited_text_wins_over_other_problems_and_names_matched_words(
    client: FlaskClient, tokens: dict[str, str], rt: Runtime
) -> None:
    body = search_body(
        purpose="nonsense", justification="per HSI request, overstay", on_behalf_of="VTICE0900"
    )
    response = client.post("/api/v1/searches", json=body, headers=auth(tokens["officer"]))
    assert response.status_code == 403
    error = response.get_json()["error"]
    assert error["code"] == "prohibited_purpose"
    assert error["details"]["matched"]
    assert records(rt)[0].matched is not None


def test_ice_cream_van_is_not_immigration(client: FlaskClient, tokens: dict[str, str]) -> None:
    ingest(client, tokens, read())
    body = search_body(
        purpose="criminal_investigation",
        justification="ice cream van broken into overnight, suspect vehicle",
    )
    response = client.post("/api/v1/searches", json=body, headers=auth(tokens["officer"]))
    assert response.status_code == 200, response.get_json()


def test_plate_typed_into_justification_is_masked_in_the_record(
    client: FlaskClient, tokens: dict[str, str], rt: Runtime
) -> None:
    body = search_body(justification="Stolen vehicle 7abc-123 seen near Main St")
    assert (
        client.post("/api/v1/searches", json=body, headers=auth(tokens["officer"])).status_code
        == 200
    )
    (record,) = records(rt)
    assert "7abc" not in record.justification.lower()
    assert "[plate]" in record.justification


@pytest.mark.parametrize("role", ["ingest", "auditor", "admin"])
def test_roles_that_may_not_search(client: FlaskClient, tokens: dict[str, str], role: str) -> None:
    response = client.post("/api/v1/searches", json=search_body(), headers=auth(tokens[role]))
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "forbidden"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**search_body(), "agency_id": 1}, "agency_id"),
        ({**search_body(), "outcome": "allowed"}, "outcome"),
        (search_body(plate="7ABC#123"), "plate"),
        (search_body(**{"from": "2026-11-13T00:00:00"}), "from"),
        (search_body(page_size=0), "page_size"),
        (search_body(on_behalf_of="ICE"), "on_behalf_of"),
        ({k: v for k, v in search_body().items() if k != "justification"}, "justification"),
    ],
)
def test_malformed_search_requests_name_the_field(
    client: FlaskClient, tokens: dict[str, str], rt: Runtime, body: dict[str, Any], field: str
) -> None:
    response = client.post("/api/v1/searches", json=body, headers=auth(tokens["officer"]))
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "invalid_request"
    assert field in error["details"]["fields"]
    assert "7ABC" not in response.get_data(as_text=True)
    # The attempt is on record all the same: a refused access record and its audit event.
    (record,) = records(rt)
    assert (record.outcome, record.reason_code) == ("refused", "invalid_request")
    assert str(record.id) == error["details"]["search_id"]
    with rt.sessions() as session:
        event = session.get_one(AuditEvent, record.audit_seq)
    assert event.kind == "search.refused"
    assert field in json.loads(event.details)["fields"]


def test_bad_cursor_is_a_validation_error(client: FlaskClient, tokens: dict[str, str]) -> None:
    response = client.post(
        "/api/v1/searches", json=search_body(cursor="not-a-cursor"), headers=auth(tokens["officer"])
    )
    assert response.status_code == 422
    assert "cursor" in response.get_json()["error"]["details"]["fields"]


def test_search_fails_closed_when_the_access_record_cannot_be_written(
    client: FlaskClient, tokens: dict[str, str], rt: Runtime
) -> None:
    ingest(client, tokens, read())
    # Make every write to the audit log fail at commit time, as a full disk or a dead
    # replica would: a trigger on SQLite, a constraint trigger on PostgreSQL.
    with rt.engine.begin() as conn:
        if rt.engine.dialect.name == "sqlite":
            conn.execute(
                text(
                    "CREATE TRIGGER audit_down BEFORE INSERT ON audit_events "
                    "BEGIN SELECT RAISE(ABORT, 'audit store down'); END"
                )
            )
        else:
            conn.execute(
                text(
                    "CREATE FUNCTION audit_down() RETURNS trigger LANGUAGE plpgsql "
                    "AS $$ BEGIN RAISE EXCEPTION 'audit store down'; END $$"
                )
            )
            conn.execute(
                text(
                    "CREATE CONSTRAINT TRIGGER audit_down AFTER INSERT ON "
                    "audit_events DEFERRABLE INITIALLY DEFERRED FOR EACH ROW "
                    "EXECUTE FUNCTION audit_down()"
                )
            )
    try:
        response = client.post(
            "/api/v1/searches", json=search_body(), headers=auth(tokens["officer"])
        )
        assert response.status_code == 503
        assert response.get_json()["error"]["code"] == "audit_unavailable"
        assert "results" not in response.get_json()
        assert "7ABC123" not in response.get_data(as_text=True)
        assert records(rt) == []
    finally:
        with rt.engine.begin() as conn:
            conn.execute(
                text(
                    "DROP TRIGGER audit_down"
                    if rt.engine.dialect.name == "sqlite"
                    else "DROP TRIGGER audit_down ON audit_events"
                )
            )
            if rt.engine.dialect.name != "sqlite":
                conn.execute(text("DROP FUNCTION audit_down()"))


def test_search_fails_closed_when_the_audit_lock_is_held_too_long(
    client: FlaskClient, tokens: dict[str, str], rt: Runtime
) -> None:
    ingest(client, tokens, read())
    blocker = rt.engine.connect()
    try:
        if rt.engine.dialect.name == "sqlite":
            blocker.exec_driver_sql(
                "INSERT INTO agencies (ori, name, kind, jurisdiction, "
                "vetted, created_at, updated_at) VALUES ('CAHOLD000', 'x', "
                "'local', 'CA', 0, '2026-01-01', '2026-01-01')"
            )
        else:
            blocker.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": 0x414C5052})
        response = client.post(
            "/api/v1/searches", json=search_body(), headers=auth(tokens["officer"])
        )
        assert response.status_code == 503
        assert response.get_json()["error"]["code"] == "audit_unavailable"
        assert "results" not in response.get_json()
    finally:
        blocker.rollback()
        blocker.close()
    assert records(rt) == []


def test_each_kind_of_search_record_is_bound_to_its_event(
    client: FlaskClient, tokens: dict[str, str], rt: Runtime
) -> None:
    """The record row (written through Core) reads back through the ORM with the content its
    event's MAC states, for an allowed, a refused and a malformed search."""
    ingest(client, tokens, read(), read(at="2026-11-18T09:30:00Z", camera="cam-b"))
    officer = auth(tokens["officer"])
    allowed = client.post(
        "/api/v1/searches", json=search_body(justification="car 7ABC123 stolen"), headers=officer
    )
    refused = client.post(
        "/api/v1/searches",
        json=search_body(justification="ICE asked us to find this car"),
        headers=officer,
    )
    malformed = client.post(
        "/api/v1/searches", json=search_body(**{"from": "yesterday"}), headers=officer
    )
    assert (allowed.status_code, refused.status_code, malformed.status_code) == (200, 403, 422)
    ids = [
        allowed.get_json()["search_id"],
        refused.get_json()["error"]["details"]["search_id"],
        malformed.get_json()["error"]["details"]["search_id"],
    ]
    by_id = {str(r.id): r for r in records(rt)}
    assert sorted(by_id) == sorted(ids)
    with rt.sessions() as session:
        for search_id in ids:
            record = by_id[search_id]
            event = session.get_one(AuditEvent, record.audit_seq)
            details = json.loads(event.details)
            assert event.subject == f"search:{search_id}"
            assert details["record_mac"] == search_mac(rt.keyring, record)
            assert details["outcome"] == record.outcome
            assert details["result_count"] == record.result_count
            assert details["justification"] == record.justification
            assert record.created_at.tzinfo is not None
            assert "7ABC123" not in record.justification
        assert by_id[ids[0]].result_count == 2
        assert by_id[ids[0]].matched is None
        assert by_id[ids[1]].reason_code is not None and by_id[ids[1]].matched is not None
        assert by_id[ids[2]].reason_code == "invalid_request" and by_id[ids[2]].window_from is None
        walked = verify_records(session, rt.keyring)
        assert walked.ok and walked.checked == 3
        assert verify_chain(session, rt.keyring).ok


def test_the_requester_is_screened_by_the_registry_as_it_stands_now(
    client: FlaskClient, tokens: dict[str, str], rt: Runtime
) -> None:
    """The requesting agency's facts are read on every search, never kept between requests."""
    ingest(client, tokens, read())
    partner = auth(tokens["officer@CA0190100"])
    assert client.post("/api/v1/searches", json=search_body(), headers=partner).status_code == 200
    with rt.sessions.begin() as session:
        session.execute(update(Agency).where(Agency.ori == "CA0190100").values(kind="federal"))
    response = client.post("/api/v1/searches", json=search_body(), headers=partner)
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "federal_agency"
    assert [r.outcome for r in records(rt)] == ["allowed", "refused"]
