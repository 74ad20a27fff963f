"""Who sees what: every route, every role, every kind of agency, decided on every request.

The matrix is generated from the application's own route table, so a route added tomorrow is
in it the day it is added, and a route without a declaration fails the suite.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from alpr_guard.api.context import ACCESS_ATTRIBUTE, RouteAccess
from alpr_guard.clock import FixedClock
from alpr_guard.errors import Refused
from alpr_guard.jobs.review import review_access
from alpr_guard.models import AuditEvent, Finding, PlateRead, SearchRecord
from alpr_guard.policy.access import Exposure
from alpr_guard.runtime import Runtime
from alpr_guard.services.agencies import AgencyInput, set_vetted, upsert_agency
from alpr_guard.services.principals import SYSTEM, add_user, issue_token
from tests.conftest import OPERATING_ORI, auth, legacy_user, read, search_body

ROLES = ("ingest", "officer", "supervisor", "auditor", "admin")
PARTNER = "partner"
# Every kind of agency a user may belong to, and what the registry says about it. A code is the
# refusal every request of that agency's users gets, whatever the route and the role.
AGENCY_KINDS: dict[str, tuple[str, str | None]] = {
    "operating": (OPERATING_ORI, None),
    "vetted_local_partner": ("CA0190100", PARTNER),
    "vetted_state_partner": ("CA0000HP0", PARTNER),
    "unvetted_in_state": ("CA0190200", "agency_not_vetted"),
    "tribal": ("CATRB0001", "kind_not_allowed"),
    "federal": ("VTICE0900", "federal_agency"),
    "federal_ca_prefixed_ori": ("CAFBISF00", "federal_agency"),
    "out_of_state": ("NV0020000", "out_of_state_agency"),
    "private": ("CAREPO001", "private_entity"),
    "unvetted_after_account_made": ("CA0190300", "agency_not_vetted"),
}
# The only routes that answer without a token, and the only ones whose records a partner's
# auditor may see (cut to its own agency). A route joins either list only by editing this file.
PUBLIC_ROUTES = {
    "GET /healthz",
    "GET /readyz",
    "GET /metrics",
    "GET /api/v1/openapi.json",
    "GET /api/v1/signing-key",
    "GET /policy",
    "GET /transparency",
    "GET /transparency.json",
    "GET /transparency/receipts/<run_id>.json",  # counts and key ids only
    "GET /auth/login",
    "GET /auth/callback",
    "GET /console/console.css",
}
# Vendor webhooks take camera credentials only (tests/api/test_webhooks.py); user tokens get 403.
CAMERA_ONLY = frozenset({"camera"})
WEBHOOK_ROUTES = {
    "POST /api/v1/webhooks/rekor",
    "POST /api/v1/webhooks/platerecognizer",
    "POST /api/v1/webhooks/verkada",
}
AGENCY_RECORD_ROUTES = {
    "GET /api/v1/audit/access-report",
    "GET /api/v1/review/findings",
    "POST /api/v1/review/findings/<int:finding_id>/resolve",
    "GET /api/v1/review/vague-rates",
    # The console's pages over the same records, through the same services.
    "GET /console/findings",
    "GET /console/findings/<int:finding_id>",
    "POST /console/findings/<int:finding_id>/resolve",
    "POST /console/findings/resolve",
    "GET /console/access-report",
    "GET /console/access-report/download",
    "POST /console/access-report/full",
}
GATE_CODES = {
    "forbidden",
    "role_not_allowed_for_agency",
    *(code for _ori, code in AGENCY_KINDS.values() if code not in (None, PARTNER)),
}


@dataclass(frozen=True)
class Route:
    method: str
    rule: str
    access: RouteAccess | None

    @property
    def name(self) -> str:
        return f"{self.method} {self.rule}"

    def url(self) -> str:
        def value(match: re.Match[str]) -> str:
            return "1" if match.group(1) == "int" else str(uuid.uuid4())

        return re.sub(r"<(?:(\w+):)?\w+>", value, self.rule)


def routes(app: Flask) -> list[Route]:
    found = []
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            found.append(Route(method, rule.rule, getattr(view, ACCESS_ATTRIBUTE, None)))
    return found


def console_form(body: dict[str, object]) -> dict[str, str]:
    """A search body as the console's search form sends it (dates as date inputs)."""
    return {k: str(v)[:10] if k in ("from", "to") else str(v) for k, v in body.items()}


def expected(route: Route, role: str, kind: str) -> str:
    """'pass' (past the gate: the view's own answer), 'forbidden' (the route does not take the
    role) or the refusal's reason code."""
    assert route.access is not None
    if route.access.exposes is Exposure.PUBLIC:
        return "pass"
    if route.access.roles == CAMERA_ONLY:
        return "forbidden"  # a user token of any role and agency: never a camera credential
    _ori, code = AGENCY_KINDS[kind]
    if code not in (None, PARTNER):
        return str(code)  # the agency may hold nothing: any route, any role
    if role not in route.access.roles:
        return "forbidden"
    if code is None or route.access.exposes is Exposure.ACCOUNT:
        return "pass"  # one's own account: any role a partner's account may hold
    partner_may = (route.access.exposes is Exposure.PLATE_READS and role == "officer") or (
        route.access.exposes is Exposure.AGENCY_RECORDS and role == "auditor"
    )
    return "pass" if partner_may else "role_not_allowed_for_agency"


def _add_agency(rt: Runtime, ori: str, vetted: bool = True) -> None:
    with rt.sessions.begin() as session:
        upsert_agency(session, rt, AgencyInput(ori, "Later City PD", "local", "CA", vetted), SYSTEM)


@pytest.fixture
def everyone(rt: Runtime) -> dict[tuple[str, str], str]:
    """A token per (agency kind, role). add_user makes those it accepts; the others are legacy
    rows. The last agency was vetted when its users were made, and is un-vetted since."""
    _add_agency(rt, "CA0190300")
    tokens: dict[tuple[str, str], str] = {}
    with rt.sessions.begin() as session:
        for kind, (ori, _code) in AGENCY_KINDS.items():
            for role in ROLES:
                username = f"{role}-{ori.lower()}"
                try:
                    tokens[kind, role] = add_user(
                        session, rt, username=username, role=role, agency_ori=ori
                    ).token
                except Refused:
                    tokens[kind, role] = legacy_user(
                        session, rt, username=username, role=role, agency_ori=ori
                    )
    with rt.sessions.begin() as session:
        set_vetted(session, rt, "CA0190300", False, SYSTEM)
    return tokens


def _count(rt: Runtime, kind: str) -> int:
    with rt.sessions() as session:
        return (
            session.scalar(
                select(func.count()).select_from(AuditEvent).where(AuditEvent.kind == kind)
            )
            or 0
        )


def test_every_route_declares_what_it_exposes(app: Flask) -> None:
    table = routes(app)
    assert len(table) >= 19
    undeclared = [r.name for r in table if r.access is None]
    assert not undeclared, f"routes without @require(..., exposes=...) or @public: {undeclared}"
    assert {r.name for r in table if r.access and r.access.exposes is Exposure.PUBLIC} == (
        PUBLIC_ROUTES
    )
    assert {
        r.name for r in table if r.access and r.access.exposes is Exposure.AGENCY_RECORDS
    } == AGENCY_RECORD_ROUTES
    writes = {r.name for r in table if r.access and r.access.exposes is Exposure.READS_WRITE}
    assert writes == {"POST /api/v1/reads", *WEBHOOK_ROUTES}
    for route in table:
        assert route.access is not None
        if route.access.exposes is Exposure.READS_WRITE:
            assert route.access.roles == (
                CAMERA_ONLY if route.name in WEBHOOK_ROUTES else {"ingest"}
            )
        else:
            assert route.access.roles != CAMERA_ONLY


def test_scoping_matrix_every_route_role_and_agency_kind(
    app: Flask, client: FlaskClient, rt: Runtime, everyone: dict[tuple[str, str], str]
) -> None:
    mismatches = []
    cases = 0
    for route in routes(app):
        assert route.access is not None, route.name
        body = search_body() if route.access.exposes is Exposure.PLATE_READS else {}
        for kind in AGENCY_KINDS:
            for role in ROLES:
                want = expected(route, role, kind)
                refusals_before = _count(rt, "access.refused")
                # The console's pages post forms; the API takes JSON.
                form = route.rule.startswith("/console/") and route.method == "POST"
                response = client.open(
                    route.url(),
                    method=route.method,
                    json=body if route.method == "POST" and not form else None,
                    data=console_form(body) if form else None,
                    headers=auth(everyone[kind, role]),
                )
                cases += 1
                error = (response.get_json(silent=True) or {}).get("error") or {}
                if not error and "X-Error-Code" in response.headers:
                    error = {"code": response.headers["X-Error-Code"]}  # a console page
                got = (
                    error.get("code", "?")
                    if response.status_code == 403 and error.get("code") in GATE_CODES
                    else "pass"
                    if response.status_code not in (401, 403)
                    # The view's own answer: personal tokens are minted from a session only.
                    or error.get("code") == "session_required"
                    else f"{response.status_code} {error.get('code')}"
                )
                recorded = _count(rt, "access.refused") - refusals_before
                # A refusal is on the record: an access.refused event, or for a search a
                # refused access record written by screening.
                want_recorded = int(
                    want not in ("pass", "forbidden")
                    and not (
                        route.access.exposes is Exposure.PLATE_READS
                        and role in route.access.roles
                        and want != "role_not_allowed_for_agency"
                    )
                )
                if got != want or recorded != want_recorded:
                    mismatches.append(
                        f"{route.name} {role}@{kind}: got {got} (recorded {recorded}), "
                        f"want {want} (recorded {want_recorded})"
                    )
    assert cases >= 19 * len(ROLES) * len(AGENCY_KINDS)
    assert not mismatches, "\n".join(mismatches)
    # Every search refused for its agency left a refused access record with that code.
    with rt.sessions() as session:
        refused = session.execute(
            select(SearchRecord.agency_ori, SearchRecord.reason_code).where(
                SearchRecord.outcome == "refused"
            )
        ).all()
    want_refused = {
        (ori, code) for ori, code in AGENCY_KINDS.values() if code not in (None, PARTNER)
    }
    assert set(refused) == want_refused
    # its officer's and its supervisor's, through each search route (the API's, the console's)
    searches = [
        r
        for r in routes(app)
        if r.method == "POST" and r.access is not None and r.access.exposes is Exposure.PLATE_READS
    ]
    assert len(refused) == 2 * len(searches) * len(want_refused)


def test_ice_auditor_is_refused_the_access_report_and_findings_and_it_is_recorded(
    client: FlaskClient, rt: Runtime, tokens: dict[str, str], clock: FixedClock
) -> None:
    # The finding as filed: "users add --agency VTICE0900 --role auditor" now refuses...
    with rt.sessions.begin() as session, pytest.raises(Refused) as refused:
        add_user(session, rt, username="ice-auditor", role="auditor", agency_ori="VTICE0900")
    assert refused.value.code == "federal_agency"
    # ...and an account that exists anyway (made before the rule, or forged) gets nothing.
    with rt.sessions.begin() as session:
        ice = legacy_user(
            session, rt, username="ice-auditor", role="auditor", agency_ori="VTICE0900"
        )
    body = search_body(justification="ICE asked us to find this car")
    assert (
        client.post("/api/v1/searches", json=body, headers=auth(tokens["officer"])).status_code
        == 403
    )
    clock.advance(timedelta(minutes=10))
    review_access(rt)
    with rt.sessions() as session:
        finding_id = session.scalars(select(Finding.id)).first()
    assert finding_id is not None

    report = client.get(
        "/api/v1/audit/access-report",
        query_string={
            "from": "2026-11-01T00:00:00Z",
            "to": "2026-12-01T00:00:00Z",
            "full": "true",
        },
        headers=auth(ice),
    )
    assert report.status_code == 403
    assert report.get_json()["error"]["code"] == "federal_agency"
    assert "7ABC123" not in report.get_data(as_text=True)
    resolve = client.post(
        f"/api/v1/review/findings/{finding_id}/resolve",
        json={"verdict": "justified", "note": "nothing to see"},
        headers=auth(ice),
    )
    assert resolve.status_code == 403
    assert resolve.get_json()["error"]["code"] == "federal_agency"
    with rt.sessions() as session:
        assert session.get_one(Finding, finding_id).status == "open"
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.kind == "access.refused").order_by(AuditEvent.seq)
        ).all()
        assert not session.scalars(select(AuditEvent).where(AuditEvent.kind.like("report.%"))).all()
    assert [(e.actor, e.actor_agency) for e in events] == [("ice-auditor", "VTICE0900")] * 2
    details = [json.loads(e.details) for e in events]
    assert [(d["route"], d["reason_code"], d["role"]) for d in details] == [
        ("/api/v1/audit/access-report", "federal_agency", "auditor"),
        ("/api/v1/review/findings/<int:finding_id>/resolve", "federal_agency", "auditor"),
    ]


@pytest.mark.parametrize(
    ("ori", "code"),
    [("CA0190100", "role_not_allowed_for_agency"), ("CAFBISF00", "federal_agency")],
)
def test_ingest_by_another_agency_is_refused_and_writes_nothing(
    client: FlaskClient, rt: Runtime, ori: str, code: str
) -> None:
    with rt.sessions.begin() as session, pytest.raises(Refused) as refused:
        add_user(session, rt, username="cam-x", role="ingest", agency_ori=ori)
    assert refused.value.code == code
    with rt.sessions.begin() as session:
        camera = legacy_user(session, rt, username="cam-x", role="ingest", agency_ori=ori)
    response = client.post("/api/v1/reads", json={"reads": [read()]}, headers=auth(camera))
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == code
    with rt.sessions() as session:
        assert session.scalar(select(func.count()).select_from(PlateRead)) == 0
    assert _count(rt, "access.refused") == 1


def test_unvetting_a_partner_cuts_its_live_tokens_off_on_the_next_request(
    client: FlaskClient, rt: Runtime, tokens: dict[str, str]
) -> None:
    with rt.sessions.begin() as session:
        auditor = add_user(
            session, rt, username="aud-ca0190100", role="auditor", agency_ori="CA0190100"
        ).token
    officer = tokens["officer@CA0190100"]
    period = {"from": "2026-11-01T00:00:00Z", "to": "2026-12-01T00:00:00Z"}
    assert client.post("/api/v1/searches", json=search_body(), headers=auth(officer)).status_code
    assert (
        client.get("/api/v1/audit/access-report", query_string=period, headers=auth(auditor))
    ).status_code == 200

    with rt.sessions.begin() as session:
        set_vetted(session, rt, "CA0190100", False, SYSTEM)

    search = client.post("/api/v1/searches", json=search_body(), headers=auth(officer))
    assert search.status_code == 403
    assert search.get_json()["error"]["code"] == "agency_not_vetted"
    report = client.get("/api/v1/audit/access-report", query_string=period, headers=auth(auditor))
    assert report.status_code == 403
    assert report.get_json()["error"]["code"] == "agency_not_vetted"
    with rt.sessions() as session:
        last = session.scalars(
            select(SearchRecord).order_by(SearchRecord.created_at.desc(), SearchRecord.id)
        ).all()
    assert {(r.outcome, r.reason_code) for r in last} == {
        ("allowed", None),
        ("refused", "agency_not_vetted"),
    }
    assert _count(rt, "access.refused") == 1
    # No new token either, until the agency is vetted again.
    with rt.sessions.begin() as session, pytest.raises(Refused) as refused:
        issue_token(session, rt, username="aud-ca0190100")
    assert refused.value.code == "agency_not_vetted"
    with rt.sessions.begin() as session:
        set_vetted(session, rt, "CA0190100", True, SYSTEM)
    assert (
        client.get("/api/v1/audit/access-report", query_string=period, headers=auth(auditor))
    ).status_code == 200


def test_partner_auditor_sees_only_its_own_agencys_records(
    client: FlaskClient, rt: Runtime, tokens: dict[str, str], clock: FixedClock
) -> None:
    with rt.sessions.begin() as session:
        partner = add_user(
            session, rt, username="aud-ca0190100", role="auditor", agency_ori="CA0190100"
        ).token
    junk = search_body(justification="ICE asked us to find this car")
    for who in ("officer", "officer@CA0190100"):
        for body in (search_body(), junk):
            client.post("/api/v1/searches", json=body, headers=auth(tokens[who]))
    clock.advance(timedelta(minutes=10))
    review_access(rt)
    period = {"from": "2026-11-01T00:00:00Z", "to": "2026-12-01T00:00:00Z"}

    rows = client.get(
        "/api/v1/audit/access-report",
        query_string={**period, "full": "true"},
        headers=auth(partner),
    ).get_json()["rows"]
    assert len(rows) == 2 and {r["agency"] for r in rows} == {"CA0190100"}
    everyone = client.get(
        "/api/v1/audit/access-report", query_string=period, headers=auth(tokens["auditor"])
    ).get_json()["rows"]
    assert {r["agency"] for r in everyone} == {"CA0190100", OPERATING_ORI}
    theirs = client.get(
        "/api/v1/audit/access-report",
        query_string={**period, "agency": OPERATING_ORI},
        headers=auth(partner),
    )
    assert theirs.status_code == 403
    assert theirs.get_json()["error"]["code"] == "role_not_allowed_for_agency"
    assert _count(rt, "access.refused") == 1

    findings = client.get("/api/v1/review/findings", headers=auth(partner)).get_json()["findings"]
    assert findings and {f["agency"] for f in findings} == {"CA0190100"}
    all_findings = client.get("/api/v1/review/findings", headers=auth(tokens["auditor"]))
    other = [f for f in all_findings.get_json()["findings"] if f["agency"] == OPERATING_ORI]
    assert other
    verdict = {"verdict": "justified", "note": "checked with the officer"}
    foreign = client.post(
        f"/api/v1/review/findings/{other[0]['id']}/resolve", json=verdict, headers=auth(partner)
    )
    assert foreign.status_code == 404
    own = client.post(
        f"/api/v1/review/findings/{findings[0]['id']}/resolve", json=verdict, headers=auth(partner)
    )
    assert own.status_code == 200

    rates = client.get(
        "/api/v1/review/vague-rates",
        query_string={**period, "by": "agency"},
        headers=auth(partner),
    ).get_json()["rates"]
    assert [r["key"] for r in rates] == ["CA0190100"]
    for path in ("/api/v1/audit/summary", "/api/v1/audit/verify", "/api/v1/shares"):
        response = client.get(path, query_string=period, headers=auth(partner))
        assert response.status_code == 403, path
        assert response.get_json()["error"]["code"] == "role_not_allowed_for_agency"


def test_add_user_refuses_what_no_route_would_accept(rt: Runtime) -> None:
    _add_agency(rt, "CA0190300")
    refusals = {
        ("VTICE0900", "auditor"): "federal_agency",
        ("CAICE0100", "officer"): "federal_agency",
        ("NV0020000", "officer"): "out_of_state_agency",
        ("CAREPO001", "auditor"): "private_entity",
        ("CATRB0001", "officer"): "kind_not_allowed",
        ("CA0190200", "officer"): "agency_not_vetted",
        ("CA0190100", "supervisor"): "role_not_allowed_for_agency",
        ("CA0190100", "admin"): "role_not_allowed_for_agency",
        ("CA0190100", "ingest"): "role_not_allowed_for_agency",
    }
    for n, ((ori, role), code) in enumerate(refusals.items()):
        with rt.sessions.begin() as session, pytest.raises(Refused) as refused:
            add_user(session, rt, username=f"u{n}", role=role, agency_ori=ori)
        assert refused.value.code == code, (ori, role)
        assert ori in refused.value.message
    with rt.sessions.begin() as session:
        for n, (ori, role) in enumerate(
            [("CA0190100", "officer"), ("CA0000HP0", "auditor"), (OPERATING_ORI, "admin")]
        ):
            add_user(session, rt, username=f"ok{n}", role=role, agency_ori=ori)
