"""How an insider would try to get around the console, and what stops them."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from alpr_guard.clock import FixedClock
from alpr_guard.jobs.review import review_access
from alpr_guard.models import AuditEvent, Finding
from alpr_guard.runtime import Runtime
from alpr_guard.services.principals import add_user
from tests.conftest import auth, search_body
from tests.console.conftest import cookie_client
from tests.console.test_pages import events, open_ids


def partner_auditor(rt: Runtime) -> str:
    with rt.sessions.begin() as db:
        return add_user(
            db, rt, username="partner-auditor", role="auditor", agency_ori="CA0190100"
        ).token


def test_a_partner_auditor_cannot_resolve_or_export_another_agencys_records(
    app: Flask, rt: Runtime, seeded: dict[str, str]
) -> None:
    browser, csrf = cookie_client(app, rt, partner_auditor(rt))
    before = open_ids(rt)
    one = browser.post(
        f"/console/findings/{min(before)}/resolve",
        data={"verdict": "justified", "note": "nothing to see", "csrf_token": csrf},
    )
    assert one.status_code == 404
    bulk = browser.post(
        "/console/findings/resolve",
        data={
            "finding": [str(i) for i in before],
            "verdict": "justified",
            "note": "x",
            "csrf_token": csrf,
        },
    )
    assert bulk.status_code == 404
    assert open_ids(rt) == before
    full = browser.post(
        "/console/access-report/full",
        data={"agency": "CA0199900", "reason": "I would like to see them", "csrf_token": csrf},
    )
    assert full.status_code == 403
    assert events(rt, "report.access_full") == []
    assert events(rt, "access.refused")[-1]["reason_code"] == "role_not_allowed_for_agency"
    # its own agency's report is fine, and only its own rows are in it
    own = browser.get("/console/access-report/download?format=csv&from=2026-11-01&to=2026-11-20")
    assert own.status_code == 200
    assert "CA0199900" not in own.get_data(as_text=True)


def test_markup_typed_into_a_justification_is_shown_as_text(
    app: Flask, client: FlaskClient, rt: Runtime, seeded: dict[str, str], clock: FixedClock
) -> None:
    hostile = '<script>alert(1)</script><img src=x onerror=alert(2)> "quoted" inv'
    client.post(
        "/api/v1/searches",
        json=search_body(justification=hostile),
        headers=auth(seeded["officer"]),
    )
    clock.advance(timedelta(minutes=10))
    review_access(rt)
    browser, _csrf = cookie_client(app, rt, seeded["auditor"])
    report = browser.get("/console/access-report?from=2026-11-01&to=2026-11-21")
    page = report.get_data(as_text=True)
    assert "<script>alert(1)" not in page and "<img src=x" not in page
    assert "&lt;script&gt;" in page
    assert "script-src" not in report.headers["Content-Security-Policy"]  # no script at all
    with rt.sessions() as db:
        flagged = db.scalars(select(Finding.id).order_by(Finding.id.desc()).limit(5)).all()
    for finding_id in flagged:
        body = browser.get(f"/console/findings/{finding_id}").get_data(as_text=True)
        assert "<script>alert(1)" not in body


def test_a_signed_receipt_is_only_ever_of_a_verification(
    app: Flask, rt: Runtime, seeded: dict[str, str]
) -> None:
    """The instance's key signs only what the chain says a verification found: asking for a
    receipt of any other event (a search, a finding) gets nothing signed."""
    browser, _csrf = cookie_client(app, rt, seeded["auditor"])
    with rt.sessions() as db:
        other = db.scalar(
            select(AuditEvent.seq).where(AuditEvent.kind != "audit.verified").limit(1)
        )
    assert browser.get(f"/console/chain/verifications/{other}/receipt").status_code == 404
    assert browser.get("/console/chain/verifications/0/receipt").status_code == 404
    assert browser.get(f"/console/chain/verifications/{2**63}/receipt").status_code == 404
    assert events(rt, "audit.receipt_downloaded") == []


def test_an_edited_verification_event_gets_no_receipt(
    app: Flask, rt: Runtime, seeded: dict[str, str]
) -> None:
    browser, csrf = cookie_client(app, rt, seeded["auditor"])
    browser.post("/console/chain/verify", data={"csrf_token": csrf}).get_data()
    with rt.sessions.begin() as db:
        event = db.scalars(select(AuditEvent).where(AuditEvent.kind == "audit.verified")).one()
        event.details = event.details.replace('"ok":true', '"ok":false')
        seq = event.seq
    r = browser.get(f"/console/chain/verifications/{seq}/receipt")
    assert r.status_code == 409
    assert "receipt_unavailable" in r.get_data(as_text=True)


def test_pages_are_not_framed_cached_or_leaking_referrers(
    app: Flask, rt: Runtime, seeded: dict[str, str]
) -> None:
    browser, _csrf = cookie_client(app, rt, seeded["auditor"])
    for url in ("/console/home", "/console/findings", "/console/access-report"):
        r = browser.get(url)
        assert r.headers["Cache-Control"] == "no-store"
        assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]
        assert r.headers["X-Frame-Options"] == "DENY"
        assert r.headers["Referrer-Policy"] == "no-referrer"


def test_a_bearer_token_does_not_need_csrf_but_a_cookie_always_does(
    app: Flask, client: FlaskClient, rt: Runtime, seeded: dict[str, str]
) -> None:
    """Another site can make a browser send its cookie, never an Authorization header: a form
    posted with the cookie needs the token even when the request also carries a bad bearer."""
    browser, _csrf = cookie_client(app, rt, seeded["auditor"])
    target = min(open_ids(rt))
    forged = browser.post(
        f"/console/findings/{target}/resolve", data={"verdict": "misuse", "note": "x"}
    )
    assert forged.status_code == 403
    with_bad_bearer = browser.post(
        f"/console/findings/{target}/resolve",
        data={"verdict": "misuse", "note": "x"},
        headers={"Authorization": "Bearer alprg_not-a-token"},
    )
    assert with_bad_bearer.status_code == 401
    assert target in open_ids(rt)
    scripted = client.post(
        f"/console/findings/{target}/resolve",
        data={"verdict": "misuse", "note": "from a script"},
        headers=auth(seeded["auditor"]),
    )
    assert scripted.status_code == 303
    assert target not in open_ids(rt)
