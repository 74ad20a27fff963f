"""Supervisors' pages: holds placed, approved by a second supervisor, released with a reason;
share decisions listed. Every change a CSRF-checked POST and an audit event."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from alpr_guard.models import AuditEvent, LegalHold, SearchRecord
from alpr_guard.runtime import Runtime
from alpr_guard.services.principals import add_user
from alpr_guard.settings import Settings, load_settings
from tests.conftest import Backend, write_config
from tests.console.conftest import PLATES, cookie_client
from tests.console.test_pages import assert_no_plate, events


@pytest.fixture
def settings(backend: Backend, tmp_path: Path) -> Settings:
    """Holds need a second supervisor's approval here."""
    extra = "[holds]\nrequire_second_approver = true\n"
    return load_settings(write_config(tmp_path / "cfg", backend.fresh_url(tmp_path), extra))


def test_a_hold_from_request_to_release(app: Flask, rt: Runtime, seeded: dict[str, str]) -> None:
    with rt.sessions.begin() as db:
        second = add_user(
            db, rt, username="t-supervisor-2", role="supervisor", agency_ori="CA0199900"
        ).token
        search_id = db.scalar(
            select(SearchRecord.id).where(SearchRecord.outcome == "allowed").limit(1)
        )
    first, csrf = cookie_client(app, rt, seeded["supervisor"])
    other, other_csrf = cookie_client(app, rt, second)
    form = {
        "search_id": str(search_id),
        "case_number": "26-004512",
        "review_by": "2027-01-15",
        "reason": f"Evidence in the burglary case, plate {PLATES[0]}",
    }
    assert first.post("/console/holds", data=form).status_code == 403  # no CSRF token
    placed = first.post("/console/holds", data={**form, "csrf_token": csrf})
    assert placed.status_code == 303, placed.get_data(as_text=True)
    with rt.sessions() as db:
        hold = db.scalars(select(LegalHold)).one()
    page = first.get("/console/holds").get_data(as_text=True)
    assert "26-004512" in page
    assert_no_plate(page)
    assert hold.status == "pending"
    # the requester gets no approve button, and cannot approve by posting; another supervisor can
    assert f"/console/holds/{hold.id}/approve" not in page
    other_page = other.get("/console/holds").get_data(as_text=True)
    assert f"/console/holds/{hold.id}/approve" in other_page
    refused = first.post(f"/console/holds/{hold.id}/approve", data={"csrf_token": csrf})
    assert refused.status_code == 403
    forged = other.post(f"/console/holds/{hold.id}/approve", data={"csrf_token": csrf})
    assert forged.status_code == 403  # the first supervisor's token is not the second's
    ok = other.post(f"/console/holds/{hold.id}/approve", data={"csrf_token": other_csrf})
    assert ok.status_code == 303
    assert len(events(rt, "hold.approved")) == 1
    assert "Evidence in the burglary case" in other.get("/console/holds").get_data(as_text=True)
    no_reason = first.post(
        f"/console/holds/{hold.id}/release", data={"csrf_token": csrf, "reason": " "}
    )
    assert no_reason.status_code == 422
    released = first.post(
        f"/console/holds/{hold.id}/release", data={"csrf_token": csrf, "reason": "Case closed"}
    )
    assert released.status_code == 303
    assert len(events(rt, "hold.released")) == 1
    assert "Case closed" in first.get("/console/holds?status=released").get_data(as_text=True)


def test_bad_hold_forms_name_the_field(app: Flask, rt: Runtime, seeded: dict[str, str]) -> None:
    browser, csrf = cookie_client(app, rt, seeded["supervisor"])
    r = browser.post(
        "/console/holds",
        data={"csrf_token": csrf, "search_id": "nope", "case_number": "", "reason": "x"},
    )
    assert r.status_code == 422
    body = r.get_data(as_text=True)
    for field in ("search_id", "case_number", "review_by"):
        assert f"<code>{field}</code>" in body


def test_share_decisions_are_listed_and_the_listing_recorded(
    app: Flask, rt: Runtime, seeded: dict[str, str]
) -> None:
    browser, _csrf = cookie_client(app, rt, seeded["supervisor"])
    r = browser.get("/console/shares")
    assert r.status_code == 200
    assert re.search(r"No share decision yet|<td>", r.get_data(as_text=True))
    assert len(events(rt, "shares.listed")) == 1
    auditor, _ = cookie_client(app, rt, seeded["auditor"])
    assert auditor.get("/console/shares").status_code == 403
    assert auditor.get("/console/holds").status_code == 403


def test_a_share_is_decided_recorded_and_its_bundle_verifies(
    app: Flask, rt: Runtime, seeded: dict[str, str]
) -> None:
    from alpr_guard.services.sharing import verify_bundle

    with rt.sessions() as db:
        search_id = db.scalar(
            select(SearchRecord.id).where(SearchRecord.outcome == "allowed").limit(1)
        )
    browser, csrf = cookie_client(app, rt, seeded["supervisor"])
    form = {
        "search_id": str(search_id),
        "purpose": "stolen_vehicle",
        "justification": "Stolen vehicle crossed into their county; their case 26-1188",
        "case_number": "26-004512",
    }
    assert (
        browser.post("/console/shares", data={**form, "recipient": "CA0190100"}).status_code == 403
    )
    refused = browser.post(
        "/console/shares", data={**form, "recipient": "CAFBISF00", "csrf_token": csrf}
    )
    assert refused.status_code == 403 and refused.headers["X-Error-Code"] == "federal_agency"
    body = refused.get_data(as_text=True)
    assert "nothing was sent" in body and "federal agencies" in body
    assert_no_plate(body)
    allowed = browser.post(
        "/console/shares", data={**form, "recipient": "CA0190100", "csrf_token": csrf}
    )
    assert allowed.status_code == 200
    assert allowed.headers["Content-Disposition"].startswith("attachment; filename=share-")
    document = allowed.get_json()
    ok, why = verify_bundle(document, rt.keyring.public_key_raw())
    assert ok, why
    listing = browser.get("/console/shares").get_data(as_text=True)
    assert "CAFBISF00" in listing and "CA0190100" in listing
    assert_no_plate(listing)
    with rt.sessions() as db:
        kinds = db.scalars(select(AuditEvent.kind).where(AuditEvent.kind.like("share.%"))).all()
    assert len(kinds) >= 2
