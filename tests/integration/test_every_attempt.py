"""Every attempt is recorded: a malformed search or share is refused ``invalid_request`` (422,
``details.fields`` naming the bad fields, never their values), leaves an access record with what
could be parsed (free text sealed) and an audit event, and the review screens its text like any
other refused record, whatever the reason code."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from alpr_guard.clock import FixedClock
from alpr_guard.jobs.review import review_access
from alpr_guard.models import AuditEvent, Finding, SearchRecord, Share
from alpr_guard.policy.decisions import ReasonCode
from alpr_guard.runtime import Runtime
from alpr_guard.services.free_text import original, share_aad
from tests.conftest import auth, search_body


def _records(rt: Runtime) -> list[SearchRecord]:
    with rt.sessions() as session:
        return list(session.scalars(select(SearchRecord).order_by(SearchRecord.created_at)))


def test_a_malformed_ice_search_is_refused_recorded_and_flagged_by_the_review(
    client: FlaskClient, tokens: dict[str, str], rt: Runtime, clock: FixedClock
) -> None:
    body = search_body(
        justification="ICE asked us to find this car for 7ABC123",
        on_behalf_of="not an ORI at all",
    )
    response = client.post("/api/v1/searches", json=body, headers=auth(tokens["officer"]))
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == ReasonCode.INVALID_REQUEST == "invalid_request"
    assert list(error["details"]["fields"]) == ["on_behalf_of"]
    assert "not an ORI" not in response.get_data(as_text=True)
    assert "7ABC123" not in response.get_data(as_text=True)

    (record,) = _records(rt)
    assert (record.outcome, record.reason_code, record.rule) == (
        "refused",
        "invalid_request",
        "invalid_request",
    )
    assert str(record.id) == error["details"]["search_id"]
    assert record.on_behalf_of is None  # what did not parse is not kept
    assert record.window_from is not None  # what did is
    assert "7ABC123" not in record.justification and "[plate]" in record.justification
    terms = json.loads(rt.keyring.unseal(record.terms_sealed, record.id.bytes))
    assert terms["justification"] == body["justification"]  # sealed as typed
    with rt.sessions() as session:
        event = session.get_one(AuditEvent, record.audit_seq)
    assert event.kind == "search.refused"
    details = json.loads(event.details)
    assert details["reason_code"] == "invalid_request"
    assert details["fields"] == {"on_behalf_of": "must be a 9-character ORI"}
    assert "not an ORI" not in event.details

    clock.advance(timedelta(minutes=10))
    review_access(rt)
    with rt.sessions() as session:
        rules = set(
            session.scalars(select(Finding.rule).where(Finding.search_id == record.id)).all()
        )
    assert "prohibited_purpose" in rules


def test_a_body_that_is_not_json_is_still_an_attempt_on_record(
    client: FlaskClient, tokens: dict[str, str], rt: Runtime
) -> None:
    response = client.post(
        "/api/v1/searches",
        data="plate=7ABC123",
        headers={**auth(tokens["officer"]), "Content-Type": "text/plain"},
    )
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "invalid_request"
    assert "body" in response.get_json()["error"]["details"]["fields"]
    (record,) = _records(rt)
    assert record.reason_code == "invalid_request"
    assert record.window_from is None and record.purpose == ""


@pytest.mark.parametrize("purpose", ["ice_detainer", "immigration", "I.C.E.", "aborto"])
def test_an_unknown_purpose_code_is_screened_by_the_review(
    client: FlaskClient, tokens: dict[str, str], rt: Runtime, clock: FixedClock, purpose: str
) -> None:
    # The purpose is refused as unknown (422) before any text rule runs; the review still reads
    # it as free text, so a prohibited purpose typed as a code is a finding the same day.
    response = client.post(
        "/api/v1/searches",
        json=search_body(purpose=purpose, justification="Locating the registered owner"),
        headers=auth(tokens["officer"]),
    )
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "unknown_purpose"
    clock.advance(timedelta(minutes=10))
    review_access(rt)
    with rt.sessions() as session:
        rules = set(session.scalars(select(Finding.rule)).all())
    assert "prohibited_purpose" in rules


def test_a_malformed_share_is_refused_and_recorded_with_its_text_sealed(
    client: FlaskClient, tokens: dict[str, str], rt: Runtime
) -> None:
    body: dict[str, Any] = {
        "recipient": "ICE",
        "read_ids": ["not-a-uuid"],
        "purpose": "stolen_vehicle",
        "justification": "ICE asked us for 7ABC123 and 8XYZ999",
        "case_number": "7ABC123",
    }
    response = client.post("/api/v1/shares", json=body, headers=auth(tokens["supervisor"]))
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "invalid_request"
    assert set(error["details"]["fields"]) == {"recipient", "read_ids[0]"}
    with rt.sessions() as session:
        (share,) = session.scalars(select(Share)).all()
        event = session.get_one(AuditEvent, share.audit_seq)
    assert (share.outcome, share.reason_code) == ("refused", "invalid_request")
    assert str(share.id) == error["details"]["share_id"]
    assert "7ABC123" not in f"{share.justification}{share.case_number}{event.details}"
    assert "8XYZ999" not in f"{share.justification}{event.details}"
    assert (
        original(rt, share.text_sealed, share_aad(share.id.bytes), "justification", None)
        == body["justification"]
    )
    assert json.loads(event.details)["fields"]["recipient"] == "must be a 9-character ORI"
    listed = client.get("/api/v1/shares", headers=auth(tokens["supervisor"])).get_data()
    assert b"7ABC123" not in listed and b"8XYZ999" not in listed


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=8,
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    changes=st.dictionaries(
        st.sampled_from(
            [
                "plate",
                "from",
                "to",
                "purpose",
                "justification",
                "case_number",
                "on_behalf_of",
                "page_size",
                "cursor",
                "extra",
            ]
        ),
        _JSON,
        min_size=1,
        max_size=4,
    )
)
def test_every_malformed_search_leaves_exactly_one_record_and_never_a_500(
    client: FlaskClient, tokens: dict[str, str], rt: Runtime, changes: dict[str, Any]
) -> None:
    with rt.sessions() as session:
        before = session.scalar(select(func.count()).select_from(SearchRecord))
    response = client.post(
        "/api/v1/searches", json=search_body(**changes), headers=auth(tokens["officer"])
    )
    assert response.status_code < 500
    with rt.sessions() as session:
        after = session.scalar(select(func.count()).select_from(SearchRecord))
    assert after == (before or 0) + 1
    if response.status_code == 422 and response.get_json()["error"]["code"] == "invalid_request":
        assert response.get_json()["error"]["details"]["fields"]
