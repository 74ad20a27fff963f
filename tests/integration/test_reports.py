"""Auditors' reports: the access-justification record (Civil Code 1798.90.52(a)) and the
compliance summary, through HTTP, the services and the CLI, on SQLite and PostgreSQL.

The world below is built through the real API: reads ingested, five searches (allowed and
refused, two on behalf of other agencies, one by another agency's officer), two shares, and an
access-review run; the reports must tell exactly that story.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, text

from alpr_guard.api import reports as reports_api
from alpr_guard.audit import Actor
from alpr_guard.cli.common import State as _State
from alpr_guard.cli.report import report
from alpr_guard.clock import FixedClock
from alpr_guard.errors import ValidationError
from alpr_guard.jobs.review import review_searches
from alpr_guard.models import AuditEvent, Finding, PlateRead, SearchRecord, User
from alpr_guard.runtime import Runtime
from alpr_guard.services import reports
from alpr_guard.services.reports import (
    ReportFilter,
    compliance_summary,
    iter_access_rows,
    redact_text,
    render_summary_html,
    summary_json,
)
from alpr_guard.settings import Settings
from tests.conftest import NOW, OPERATING_ORI, auth, read, search_body

PERIOD = {"from": "2026-11-20T11:00:00Z", "to": "2026-11-20T13:00:00Z"}
PERSONAL = (
    "Owner called it in: SSN 123-45-6789, DOB 01/02/1980, DL B1234567, "
    "phone (415) 555-0142, mail jdoe@example.com"
)
HTML_JUSTIFICATION = "Assist Demo County: vehicle seen near <b>Main</b> St & Fifth after robbery"
PLATES = ("7ABC123", "9REF000", "5NVX001", "6OTH002")
ROLES_REFUSED = ("officer", "supervisor", "admin", "ingest")


@pytest.fixture
def rclient(app: Flask) -> FlaskClient:
    """The app with the reports blueprint (registered here until api/__init__ wires it)."""
    if "reports" not in app.blueprints:
        app.register_blueprint(reports_api.bp)
    return app.test_client()


@dataclass(frozen=True)
class World:
    search_ids: dict[str, str]  # label -> search id


def _search(client: FlaskClient, token: str, expect: int, **body: Any) -> str:
    response = client.post("/api/v1/searches", json=search_body(**body), headers=auth(token))
    assert response.status_code == expect, response.get_json()
    payload = response.get_json()
    search_id = payload["search_id"] if expect == 200 else payload["error"]["details"]["search_id"]
    return str(search_id)


@pytest.fixture
def world(rclient: FlaskClient, tokens: dict[str, str], rt: Runtime, clock: FixedClock) -> World:
    ingested = rclient.post(
        "/api/v1/reads",
        json={
            "reads": [
                read(at="2026-11-19T08:00:00Z"),
                read(plate="8HIT001", at="2026-11-19T09:00:00Z", hit=True),
                # 59 days old: one day left in the 60-day unmatched window.
                read(plate="6OLD003", at=(NOW - timedelta(days=59)).isoformat(), camera="cam-9"),
            ]
        },
        headers=auth(tokens["ingest"]),
    )
    assert ingested.status_code == 201, ingested.get_json()
    read_ids = ingested.get_json()["ids"]
    officer = tokens["officer"]
    ids = {
        "personal": _search(rclient, officer, 200, justification=PERSONAL),
        "prohibited": _search(
            rclient,
            officer,
            403,
            plate="9REF000",
            purpose="immigration_enforcement",
            justification="ERO asked us to locate this vehicle for removal",
        ),
    }
    clock.advance(timedelta(minutes=1))
    ids["behalf_ok"] = _search(
        rclient,
        officer,
        200,
        on_behalf_of="CA0190100",
        purpose="criminal_investigation",
        justification=HTML_JUSTIFICATION,
        case_number="26-1001",
        **{"from": "2026-11-01T00:00:00Z"},
    )
    clock.advance(timedelta(minutes=1))
    ids["behalf_refused"] = _search(
        rclient, officer, 403, plate="5NVX001", on_behalf_of="NV0020000"
    )
    clock.advance(timedelta(minutes=1))
    ids["other_agency"] = _search(
        rclient,
        tokens["officer@CA0190100"],
        200,
        plate="6OTH002",
        purpose="missing_person",
        justification="Endangered adult missing since Tuesday, family report filed",
    )
    clock.advance(timedelta(minutes=1))
    share_body = {
        "purpose": "stolen_vehicle",
        "justification": "Stolen vehicle recovered in their county; case transfer",
        "case_number": "26-004512",
        "read_ids": read_ids[:1],
    }
    for recipient, status in (("CA0190100", 201), ("CAFBISF00", 403)):
        shared = rclient.post(
            "/api/v1/shares",
            json={**share_body, "recipient": recipient},
            headers=auth(tokens["supervisor"]),
        )
        assert shared.status_code == status, shared.get_json()
    clock.set(NOW + timedelta(minutes=10))
    with rt.sessions.begin() as session:
        review_searches(session, rt)
    return World(ids)


def get(client: FlaskClient, token: str, path: str = "access-report", **params: str) -> Any:
    return client.get(f"/api/v1/audit/{path}", query_string=params, headers=auth(token))


def csv_rows(body: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(body)))


def kinds(rt: Runtime, prefix: str = "report.") -> list[tuple[str, str]]:
    with rt.sessions() as session:
        return [
            (kind, actor)
            for kind, actor in session.execute(
                select(AuditEvent.kind, AuditEvent.actor)
                .where(AuditEvent.kind.startswith(prefix))
                .order_by(AuditEvent.seq)
            )
        ]


def expected_findings(rt: Runtime) -> dict[str, str]:
    with rt.sessions() as session:
        out: dict[str, list[str]] = {}
        for search_id, rule in session.execute(select(Finding.search_id, Finding.rule)):
            out.setdefault(str(search_id), []).append(rule)
    return {k: ";".join(sorted(v)) for k, v in out.items()}


# -- the access report -------------------------------------------------------------------------


def test_redacted_csv_is_the_statutory_record_of_every_search(
    rclient: FlaskClient,
    tokens: dict[str, str],
    world: World,
    rt: Runtime,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """1798.90.52(a): date and time, query terms, username, organisation, purpose; refused
    searches included. Pages of 2 force the keyset across ties on created_at."""
    monkeypatch.setattr(reports.queries, "PAGE", 2)
    response = get(rclient, tokens["auditor"], format="csv", **PERIOD)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == (
        "attachment; filename=access-report-20261120T110000Z-20261120T130000Z.csv"
    )
    body = response.get_data(as_text=True)
    rows = csv_rows(body)
    assert {r["search_id"] for r in rows} == set(world.search_ids.values())
    assert len(rows) == 5
    assert [r["searched_at"] for r in rows] == sorted(r["searched_at"] for r in rows)
    by_id = {r["search_id"]: r for r in rows}

    personal = by_id[world.search_ids["personal"]]
    assert (personal["username"], personal["agency"], personal["purpose"]) == (
        "t-officer",
        OPERATING_ORI,
        "stolen_vehicle",
    )
    assert (personal["outcome"], personal["result_count"]) == ("allowed", "1")
    assert personal["case_number"] == "26-004512"  # a case number is not personal data
    assert personal["searched_at"] == NOW.isoformat()
    assert personal["window_from"] == "2026-11-13T00:00:00+00:00"

    prohibited = by_id[world.search_ids["prohibited"]]
    assert (prohibited["outcome"], prohibited["reason_code"]) == ("refused", "prohibited_purpose")
    refused_proxy = by_id[world.search_ids["behalf_refused"]]
    assert (refused_proxy["on_behalf_of"], refused_proxy["reason_code"]) == (
        "NV0020000",
        "out_of_state_agency",
    )
    assert by_id[world.search_ids["behalf_ok"]]["on_behalf_of"] == "CA0190100"
    other = by_id[world.search_ids["other_agency"]]
    assert (other["username"], other["agency"]) == ("officer-ca0190100", "CA0190100")

    # Redacted: keyed term tokens in place of plates, and no plate anywhere in the file.
    assert "plate" not in rows[0] and "plate_token" in rows[0]
    assert personal["plate_token"] == rt.keyring.term_token("7ABC123")
    assert other["plate_token"] == rt.keyring.term_token("6OTH002")
    for plate in PLATES:
        assert plate not in body

    # Findings of the access review travel with the rows.
    findings = expected_findings(rt)
    assert "prohibited_purpose" in findings[world.search_ids["prohibited"]]
    assert "federal_or_out_of_state_proxy" in findings[world.search_ids["behalf_refused"]]
    for row in rows:
        assert row["findings"] == findings.get(row["search_id"], "")

    assert kinds(rt) == [("report.access", "t-auditor")]
    with rt.sessions() as session:
        event = session.scalar(select(AuditEvent).where(AuditEvent.kind == "report.access"))
        assert event is not None
        details = json.loads(event.details)
        assert details["full"] is False and details["format"] == "csv"
        assert details["matching_records"] == 5
        assert details["filters"] == {
            "from": "2026-11-20T11:00:00+00:00",
            "to": "2026-11-20T13:00:00+00:00",
        }


def test_redacted_form_masks_personal_data_in_the_justification(
    rclient: FlaskClient, tokens: dict[str, str], world: World
) -> None:
    """Exports meant for release mask SSNs, dates of birth, licence numbers, phones, emails."""
    rows = csv_rows(get(rclient, tokens["auditor"], format="csv", **PERIOD).get_data(as_text=True))
    text_out = next(r for r in rows if r["search_id"] == world.search_ids["personal"])[
        "justification"
    ]
    for secret in ("123-45-6789", "01/02/1980", "B1234567", "555-0142", "jdoe@example.com"):
        assert secret not in text_out
    for label in ("[ssn]", "DOB [dob]", "[dl]", "[phone]", "[email]"):
        assert label in text_out
    assert text_out.startswith("Owner called it in: SSN")


def test_full_form_decrypts_plates_and_is_its_own_audit_event(
    rclient: FlaskClient, tokens: dict[str, str], world: World, rt: Runtime
) -> None:
    response = get(rclient, tokens["auditor"], format="json", full="true", **PERIOD)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    document = json.loads(response.get_data(as_text=True))
    assert document["redacted"] is False
    assert document["statute"] == "Civil Code 1798.90.52(a)"
    by_id = {r["search_id"]: r for r in document["rows"]}
    assert by_id[world.search_ids["personal"]]["plate"] == "7ABC123"
    assert by_id[world.search_ids["prohibited"]]["plate"] == "9REF000"  # refused: terms kept
    assert by_id[world.search_ids["behalf_refused"]]["plate"] == "5NVX001"
    assert by_id[world.search_ids["personal"]]["justification"] == PERSONAL
    assert kinds(rt) == [("report.access_full", "t-auditor")]

    redacted = json.loads(get(rclient, tokens["auditor"], format="json", **PERIOD).get_data())
    assert redacted["redacted"] is True
    assert "plate" not in redacted["rows"][0]
    assert kinds(rt) == [("report.access_full", "t-auditor"), ("report.access", "t-auditor")]


def test_filters_select_the_right_records(
    rclient: FlaskClient, tokens: dict[str, str], world: World
) -> None:
    def ids(**params: str) -> set[str]:
        response = get(rclient, tokens["auditor"], format="json", **{**PERIOD, **params})
        assert response.status_code == 200, response.get_data(as_text=True)
        return {r["search_id"] for r in response.get_json()["rows"]}

    w = world.search_ids
    assert ids(outcome="refused") == {w["prohibited"], w["behalf_refused"]}
    assert ids(outcome="allowed") == {w["personal"], w["behalf_ok"], w["other_agency"]}
    assert ids(agency="CA0190100") == {w["other_agency"]}
    assert ids(user="officer-ca0190100") == {w["other_agency"]}
    assert ids(user="t-officer") == set(w.values()) - {w["other_agency"]}
    assert ids(purpose="stolen_vehicle") == {w["personal"], w["behalf_refused"]}
    assert ids(purpose="stolen_vehicle", outcome="refused") == {w["behalf_refused"]}
    # The period is [from, to): the first two searches ran at 12:00:00 exactly.
    assert ids(**{"from": "2026-11-20T12:00:30Z"}) == set(w.values()) - {
        w["personal"],
        w["prohibited"],
    }
    assert ids(**{"to": "2026-11-20T12:00:00Z"}) == set()


def test_html_page_is_printable_escaped_and_self_contained(
    rclient: FlaskClient, tokens: dict[str, str], world: World
) -> None:
    response = get(rclient, tokens["auditor"], format="html", **PERIOD)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    page = response.get_data(as_text=True)
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert "@media print" in page
    assert "&lt;b&gt;Main&lt;/b&gt; St &amp; Fifth" in page and "<b>Main</b>" not in page
    assert "<script" not in page and "http://" not in page.replace("http://www.w3.org", "")
    assert page.count('<tr class="refused">') == 2
    assert "5 access records." in page
    for plate in PLATES:
        assert plate not in page
    full = get(rclient, tokens["auditor"], format="html", full="true", **PERIOD)
    assert "7ABC123" in full.get_data(as_text=True)


@pytest.mark.parametrize("role", ROLES_REFUSED)
def test_only_auditors_pull_reports(
    rclient: FlaskClient, tokens: dict[str, str], rt: Runtime, role: str
) -> None:
    for path in ("access-report", "summary"):
        response = get(rclient, tokens[role], path, **PERIOD)
        assert response.status_code == 403
        assert response.get_json()["error"]["code"] == "forbidden"
    assert get(rclient, "", **PERIOD).status_code == 401
    assert kinds(rt) == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({**PERIOD, "plate": "7ABC123"}, "plate"),
        ({**PERIOD, "limit": "5"}, "limit"),
        ({"to": PERIOD["to"]}, "from"),
        ({"from": PERIOD["from"]}, "to"),
        ({"from": "2026-11-20T11:00:00", "to": PERIOD["to"]}, "from"),
        ({"from": PERIOD["to"], "to": PERIOD["from"]}, "to"),
        ({**PERIOD, "format": "xlsx"}, "format"),
        ({**PERIOD, "outcome": "maybe"}, "outcome"),
        ({**PERIOD, "full": "yes"}, "full"),
    ],
)
def test_bad_parameters_are_422_and_nothing_is_recorded(
    rclient: FlaskClient, tokens: dict[str, str], rt: Runtime, params: dict[str, str], field: str
) -> None:
    response = get(rclient, tokens["auditor"], **params)
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert field in error["details"]["fields"]
    assert "7ABC123" not in response.get_data(as_text=True)
    assert get(rclient, tokens["auditor"], "summary", **{**PERIOD, "user": "x"}).status_code == 422
    assert kinds(rt) == []


def test_rows_never_show_plates_in_reprs_logs_or_audit_details(
    rclient: FlaskClient,
    tokens: dict[str, str],
    world: World,
    rt: Runtime,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    for full in ("true", "false"):
        for fmt in ("csv", "json", "html"):
            assert (
                get(rclient, tokens["auditor"], format=fmt, full=full, **PERIOD).status_code == 200
            )
    filters = ReportFilter(NOW - timedelta(hours=1), NOW + timedelta(hours=1))
    with rt.sessions() as session:
        rows = list(iter_access_rows(session, rt, filters, full=True))
        details = " ".join(session.scalars(select(AuditEvent.details)))
    assert "7ABC123" in {r.plate for r in rows}  # the full form does hold the plate...
    for plate in PLATES:
        assert plate not in " ".join(repr(r) for r in rows)  # ...but never in a repr
        assert plate not in caplog.text
        assert plate not in details


def test_export_does_not_hold_the_database_between_pages(
    rclient: FlaskClient,
    tokens: dict[str, str],
    world: World,
    rt: Runtime,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """On SQLite every transaction takes the write lock: an export that kept its transaction
    open for its whole length would make searches fail closed (503) until it ended."""
    monkeypatch.setattr(reports.queries, "PAGE", 2)
    filters = ReportFilter(NOW - timedelta(hours=1), NOW + timedelta(hours=1))
    with rt.sessions() as session:
        stream = iter_access_rows(session, rt, filters, full=False, release_between_pages=True)
        first = next(stream)
        # Mid-export, an officer searches: the write must go through at once.
        _search(
            rclient, tokens["officer"], 200, justification="Burglary suspect vehicle, report filed"
        )
        rest = list(stream)
    # Every record once, the one written mid-export included (it sorts after the cursor).
    assert len({first.search_id, *(r.search_id for r in rest)}) == 1 + len(rest) == 6


# -- the compliance summary --------------------------------------------------------------------


def test_summary_counts_what_was_done(
    rclient: FlaskClient, tokens: dict[str, str], world: World, rt: Runtime
) -> None:
    response = get(
        rclient,
        tokens["auditor"],
        "summary",
        **{"from": "2026-11-20T00:00:00Z", "to": "2026-11-21T00:00:00Z"},
    )
    assert response.status_code == 200, response.get_json()
    s = response.get_json()
    assert s["reads"]["ingested_by_class"] == {"unmatched": 2, "hit": 1}
    assert s["reads"]["purged_by_class"] == {"unmatched": 0, "hit": 0}
    assert s["reads"]["stored_by_class"] == {"unmatched": 2, "hit": 1}
    assert s["reads"]["past_window_still_stored"] == 0
    assert s["searches"]["total"] == 5
    assert s["searches"]["by_outcome"] == {"allowed": 3, "refused": 2}
    assert s["searches"]["by_purpose"] == {
        "stolen_vehicle": 2,
        "criminal_investigation": 1,
        "immigration_enforcement": 1,
        "missing_person": 1,
    }
    assert s["searches"]["by_agency"] == {OPERATING_ORI: 4, "CA0190100": 1}
    assert s["searches"]["by_user"] == {"t-officer": 4, "officer-ca0190100": 1}
    assert s["searches"]["on_behalf_of"] == {"CA0190100": 1, "NV0020000": 1}
    assert s["searches"]["refusals_by_reason"] == {
        "out_of_state_agency": 1,
        "prohibited_purpose": 1,
    }
    assert s["shares"]["by_outcome"] == {"allowed": 1, "refused": 1}
    assert s["shares"]["by_recipient"] == {
        "CA0190100": {"allowed": 1, "refused": 0},
        "CAFBISF00": {"allowed": 0, "refused": 1},
    }
    assert s["findings"]["by_rule"]["prohibited_purpose"]["open"] >= 1
    assert s["findings"]["by_rule"]["federal_or_out_of_state_proxy"] == {"open": 1, "resolved": 0}
    assert s["holds"] == {
        "active": 0,
        "pending": 0,
        "overdue": 0,
        "reads_held": 0,
        "placed_in_period": 0,
        "released_in_period": 0,
    }
    assert s["data_age_days"]["buckets"] == {
        "0-7": 2,
        "8-30": 1,
        "31-60": 0,
        "61-180": 0,
        "181-365": 0,
        ">365": 0,
    }
    assert s["chain"]["ok"] is True and s["chain"]["problem"] is None
    assert s["chain"]["checked"] > 10
    assert kinds(rt) == [("report.summary", "t-auditor")]

    # Another day: nothing happened then.
    empty = get(
        rclient,
        tokens["auditor"],
        "summary",
        **{"from": "2026-11-21T00:00:00Z", "to": "2026-11-22T00:00:00Z"},
    ).get_json()
    assert empty["searches"]["total"] == 0 and empty["reads"]["ingested_by_class"]["unmatched"] == 0

    page = get(rclient, tokens["auditor"], "summary", format="html", **PERIOD)
    assert page.status_code == 200 and page.mimetype == "text/html"
    html_text = page.get_data(as_text=True)
    assert "<svg" in html_text and "<h2>Legal holds</h2>" in html_text
    assert "not tracked" not in html_text
    assert re.search(r'id="past-window" class="big ok" style="color:#106b21">0<', html_text)


def test_past_window_reads_show_in_red_and_purges_are_counted(
    world: World, rt: Runtime, clock: FixedClock
) -> None:
    """A read still stored after its retention window is a broken promise: must be 0."""
    since, until = NOW - timedelta(days=1), NOW + timedelta(days=3)
    clock.set(NOW + timedelta(days=2))  # the 59-day-old read is now 61 days old
    with rt.sessions.begin() as session:
        rt.audit.append(
            session,
            "purge.completed",
            Actor("system:purge", None),
            details={"deleted_by_class": {"unmatched": 7, "hit": 2}},
        )
    with rt.sessions() as session:
        summary = compliance_summary(session, rt, since, until)
    assert summary.past_window == 1
    assert dict(summary.past_window_by_class) == {"unmatched": 1, "hit": 0}
    assert dict(summary.purged_by_class) == {"unmatched": 7, "hit": 2}
    assert summary.purge_runs == 1
    page = render_summary_html(summary)
    assert re.search(r'id="past-window" class="big bad" style="color:#c00000">1<', page)
    assert page.count("<svg") >= 6
    assert "oldest data the search could reach" in page


def test_summary_counts_real_purges_and_holds(world: World, rt: Runtime, clock: FixedClock) -> None:
    from alpr_guard.jobs.purge import purge_expired
    from alpr_guard.services.holds import HoldRequest, place_hold
    from alpr_guard.services.principals import Principal

    with rt.sessions.begin() as session:
        supervisor = session.execute(
            select(User.id, User.agency_id).where(User.username == "t-supervisor")
        ).one()
        held = session.scalars(
            select(PlateRead.id).where(PlateRead.hit.is_(False)).order_by(PlateRead.observed_at)
        ).first()
        assert held is not None
        place_hold(
            session,
            rt,
            Principal(
                supervisor.id, "t-supervisor", "supervisor", supervisor.agency_id, OPERATING_ORI
            ),
            HoldRequest("26-1", "evidence", NOW + timedelta(days=1), read_ids=(held,)),
        )
    clock.set(NOW + timedelta(days=70))
    receipt = purge_expired(rt, trigger="test")
    with rt.sessions() as session:
        summary = compliance_summary(session, rt, NOW - timedelta(days=1), NOW + timedelta(days=71))
    assert dict(summary.purged_by_class) == dict(receipt.deleted_by_class)
    assert sum(dict(summary.purged_by_class).values()) >= 1
    assert summary.purge_runs == 1
    assert summary.past_window == 0
    assert (summary.holds.active, summary.holds.overdue, summary.holds.reads_held) == (1, 1, 1)
    assert summary.holds.placed == 1 and summary.holds.released == 0


def test_summary_reports_a_broken_chain(world: World, rt: Runtime) -> None:
    with rt.sessions.begin() as session:
        session.execute(text("UPDATE audit_events SET actor = 'mallory' WHERE seq = 5"))
    with rt.sessions() as session:
        chain = summary_json(compliance_summary(session, rt, NOW, NOW + timedelta(hours=1)))[
            "chain"
        ]
    assert chain == {
        "ok": False,
        "checked": 4,
        "last_seq": 4,
        "bad_seq": 5,
        "problem": "edited",
        "checkpoints_matched": 0,
    }
    with rt.sessions() as session:
        page = render_summary_html(compliance_summary(session, rt, NOW, NOW + timedelta(hours=1)))
    assert '<p id="chain" class="bad">BROKEN at seq 5: edited' in page


# -- redaction rules ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("ssn 123-45-6789 given", "ssn [ssn] given"),
        ("ssn 123456789", "ssn [ssn]"),
        ("DOB: 1980-01-02", "DOB: [dob]"),
        ("born on March 3, 1975 in Fresno", "born on [dob] in Fresno"),
        ("date of birth 3/4/75", "date of birth [dob]"),
        ("seen 11/19/2026 at the lot", "seen [date] at the lot"),
        ("CDL b7654321 suspended", "CDL [dl] suspended"),
        ("call 415.555.0142 or +1 (510) 555-0199", "call [phone] or [phone]"),
        ("tip from a.b+c@mail.example.org", "tip from [email]"),
        ("card 4111 1111 1111 1111 used", "card [card] used"),
        ("case 26-004512, report 2026-0045", "case 26-004512, report 2026-0045"),
        (
            "Stolen from Main St lot, owner report filed",
            "Stolen from Main St lot, owner report filed",
        ),
    ],
)
def test_redaction_masks_personal_data_and_nothing_else(raw: str, masked: str) -> None:
    assert redact_text(raw) == masked


def test_report_filter_validates() -> None:
    with pytest.raises(ValidationError) as bad:
        ReportFilter(NOW, NOW - timedelta(seconds=1), outcome="maybe")
    assert set(bad.value.fields) == {"to", "outcome"}
    with pytest.raises(ValidationError):
        ReportFilter(datetime(2026, 1, 1), datetime(2026, 1, 2))  # naive: refused


# -- the CLI -----------------------------------------------------------------------------------


@pytest.fixture
def cli_run(settings: Settings) -> Callable[..., Any]:
    runner = CliRunner()

    def invoke(*args: str) -> Any:
        return runner.invoke(report, list(args), obj=_State(str(settings.source), "sgt.reyes"))

    return invoke


def test_cli_access_report_streams_to_a_file_and_is_audited(
    world: World, rt: Runtime, cli_run: Any, tmp_path: Any
) -> None:
    out = tmp_path / "access.csv"
    result = cli_run("access", "--from", PERIOD["from"], "--to", PERIOD["to"], "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "wrote 5 access records (redacted, csv)" in result.output
    rows = csv_rows(out.read_text("utf-8"))
    assert {r["search_id"] for r in rows} == set(world.search_ids.values())
    assert "7ABC123" not in out.read_text("utf-8")

    full = tmp_path / "full.json"
    result = cli_run(
        "access", "--from", PERIOD["from"], "--to", PERIOD["to"], "--format", "json",
        "--outcome", "refused", "--full", "--out", str(full),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    plates = {r["plate"] for r in json.loads(full.read_text("utf-8"))["rows"]}
    assert plates == {"9REF000", "5NVX001"}

    page = tmp_path / "access.html"
    assert cli_run(
        "access", "--from", PERIOD["from"], "--to", PERIOD["to"], "--format", "html",
        "--agency", "CA0190100", "--out", str(page),
    ).exit_code == 0  # fmt: skip
    assert "1 access record." in page.read_text("utf-8")

    with rt.sessions() as session:
        events = session.execute(
            select(AuditEvent.kind, AuditEvent.actor, AuditEvent.actor_agency, AuditEvent.details)
            .where(AuditEvent.kind.startswith("report."))
            .order_by(AuditEvent.seq)
        ).all()
    assert [(e.kind, e.actor, e.actor_agency) for e in events] == [
        ("report.access", "cli:sgt.reyes", OPERATING_ORI),
        ("report.access_full", "cli:sgt.reyes", OPERATING_ORI),
        ("report.access", "cli:sgt.reyes", OPERATING_ORI),
    ]
    assert json.loads(events[1].details)["filters"]["outcome"] == "refused"


def test_cli_summary_and_bad_input(world: World, cli_run: Any, tmp_path: Any, rt: Runtime) -> None:
    out = tmp_path / "summary.json"
    result = cli_run(
        "summary",
        "--from",
        "2026-11-20T00:00:00Z",
        "--to",
        "2026-11-21T00:00:00Z",
        "--out",
        str(out),
    )
    assert result.exit_code == 0, result.output
    written = json.loads(out.read_text("utf-8"))
    assert written["searches"]["by_outcome"] == {"allowed": 3, "refused": 2}
    # The CLI runs on the system clock, so "past window" depends on today's date.
    past = written["reads"]["past_window_still_stored"]
    assert f"5 searches, {past} reads past their window, audit chain ok" in result.output
    page = tmp_path / "summary.html"
    assert (
        cli_run(
            "summary",
            "--from",
            PERIOD["from"],
            "--to",
            PERIOD["to"],
            "--format",
            "html",
            "--out",
            str(page),
        ).exit_code
        == 0
    )
    assert "<svg" in page.read_text("utf-8")

    bad = cli_run("access", "--from", "yesterday", "--to", PERIOD["to"], "--out", str(out))
    assert bad.exit_code == 2 and "--from" in bad.output
    backwards = cli_run("access", "--from", PERIOD["to"], "--to", PERIOD["from"], "--out", str(out))
    assert isinstance(backwards.exception, ValidationError)
    with rt.sessions() as session:
        assert (
            session.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.kind.startswith("report."))
            )
            == 2
        )
        assert session.scalar(select(func.count()).select_from(SearchRecord)) == 5
