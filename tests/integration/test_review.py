"""The access review end to end: refuse up front, flag after the fact, resolve, audit."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from alpr_guard.audit import Actor
from alpr_guard.clock import FixedClock
from alpr_guard.jobs.review import review_access, review_searches
from alpr_guard.models import AuditEvent, Finding
from alpr_guard.policy.plates import Plate
from alpr_guard.runtime import Runtime
from alpr_guard.services import review
from alpr_guard.services.principals import authenticate
from alpr_guard.services.requests import SearchRequest
from alpr_guard.services.search import run_search
from tests.conftest import auth, read, search_body


def post_search(client: FlaskClient, token: str, **extra: object) -> int:
    return client.post(
        "/api/v1/searches", json=search_body(**extra), headers=auth(token)
    ).status_code


def findings(rt: Runtime) -> dict[str, set[str]]:
    """rule -> set of justifications it fired on."""
    from alpr_guard.models import SearchRecord

    out: dict[str, set[str]] = {}
    with rt.sessions() as session:
        for finding, record in session.execute(
            select(Finding, SearchRecord).join(SearchRecord, SearchRecord.id == Finding.search_id)
        ):
            out.setdefault(finding.rule, set()).add(record.justification)
    return out


def test_done_means_journey(
    client: FlaskClient, tokens: dict[str, str], rt: Runtime, clock: FixedClock
) -> None:
    officer, auditor = tokens["officer"], tokens["auditor"]
    client.post("/api/v1/reads", json={"reads": [read()]}, headers=auth(tokens["ingest"]))
    assert post_search(client, officer, justification="ICE asked us to find this car") == 403
    assert (
        post_search(
            client,
            officer,
            purpose="criminal_investigation",
            justification="ice cream van broken into overnight",
        )
        == 200
    )
    assert post_search(client, officer, justification="inv") == 200
    assert (
        post_search(
            client,
            officer,
            purpose="criminal_investigation",
            justification="No Kings rally vehicles",
        )
        == 200
    )

    clock.advance(timedelta(minutes=10))
    with rt.sessions.begin() as session:
        result = review_searches(session, rt)
    assert result.searches_scanned == 4
    found = findings(rt)
    assert "ICE asked us to find this car" in found["prohibited_purpose"]
    assert "inv" in found["vague_justification"]
    assert "No Kings rally vehicles" in found["protected_activity"]
    flagged = set().union(*found.values())
    assert "ice cream van broken into overnight" not in flagged

    listing = client.get("/api/v1/review/findings?status=open", headers=auth(auditor))
    assert listing.status_code == 200
    open_findings = listing.get_json()["findings"]
    assert {f["rule"] for f in open_findings} >= {
        "prohibited_purpose",
        "vague_justification",
        "protected_activity",
    }
    target = next(f for f in open_findings if f["rule"] == "protected_activity")
    assert target["username"] == "t-officer" and target["status"] == "open"

    resolved = client.post(
        f"/api/v1/review/findings/{target['id']}/resolve",
        json={"verdict": "misuse", "note": "No case; referred to IA"},
        headers=auth(auditor),
    )
    assert resolved.status_code == 200, resolved.get_json()
    assert resolved.get_json()["status"] == "resolved"
    again = client.post(
        f"/api/v1/review/findings/{target['id']}/resolve",
        json={"verdict": "justified", "note": "x"},
        headers=auth(auditor),
    )
    assert again.status_code == 409
    with rt.sessions() as session:
        event = session.scalar(
            select(AuditEvent).where(AuditEvent.kind == "review.finding_resolved")
        )
        assert event is not None and event.actor == "t-auditor"
        assert json.loads(event.details)["verdict"] == "misuse"
        assert (
            session.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.kind == "review.findings_listed")
            )
            == 1
        )

    remaining = client.get(
        "/api/v1/review/findings?status=open&rule=protected_activity", headers=auth(auditor)
    ).get_json()["findings"]
    assert remaining == []


def test_rerun_is_idempotent_and_continues_where_it_stopped(
    client: FlaskClient, tokens: dict[str, str], rt: Runtime, clock: FixedClock
) -> None:
    assert post_search(client, tokens["officer"], justification="inv") == 200
    clock.advance(timedelta(minutes=10))
    with rt.sessions.begin() as session:
        first = review_searches(session, rt)
    assert first.new_findings >= 1
    clock.advance(timedelta(minutes=5))
    with rt.sessions.begin() as session:
        second = review_searches(session, rt)
        assert second.searches_scanned == 0 and second.new_findings == 0
        everything = review_searches(session, rt, since=datetime(2020, 1, 1, tzinfo=UTC))
        assert everything.searches_scanned == 1 and everything.new_findings == 0


def test_declared_proxy_refusal_becomes_a_high_finding(
    client: FlaskClient, tokens: dict[str, str], rt: Runtime, clock: FixedClock
) -> None:
    assert post_search(client, tokens["officer"], on_behalf_of="NV0020000") == 403
    clock.advance(timedelta(minutes=10))
    with rt.sessions.begin() as session:
        review_searches(session, rt)
    with rt.sessions() as session:
        finding = session.scalar(select(Finding))
        assert finding is not None
        assert (finding.rule, finding.severity) == ("federal_or_out_of_state_proxy", "high")


def test_behavioural_rules_fire_over_history(
    tokens: dict[str, str], rt: Runtime, clock: FixedClock
) -> None:
    with rt.sessions() as session:
        officer = authenticate(session, rt, tokens["officer"])
        colleague = authenticate(session, rt, tokens["supervisor"])
    start = clock.now()

    def search(who: object, plate: str, at: datetime, case: str | None) -> None:
        clock.set(at)
        request = SearchRequest(
            plate=Plate(plate),
            window_from=at - timedelta(days=7),
            window_to=at,
            purpose="criminal_investigation",
            justification="Follow-up on burglary series near 5th Ave",
            case_number=case,
        )
        with rt.sessions.begin() as session:
            run_search(session, rt, who, request)  # type: ignore[arg-type]

    # Usual hours 09:00-16:00 for 20 days, a handful a day, always with a case number.
    for day in range(20):
        for hour in range(9, 17):
            at = start + timedelta(days=day, hours=hour - start.hour)
            search(officer, f"AB{day:02d}{hour:02d}", at, f"26-{day:03d}")
            search(colleague, f"CD{day:02d}{hour:02d}", at + timedelta(minutes=1), "26-1")
    day21 = start + timedelta(days=21)
    review_from = day21 - timedelta(hours=day21.hour)
    # Day 21: the same plate three times without a case, one at 03:00, then a spike.
    for n, hour in enumerate((3, 10, 11)):
        search(officer, "EX1234", review_from + timedelta(hours=hour, minutes=n), None)
    for n in range(40):
        search(officer, f"SP{n:04d}", review_from + timedelta(hours=12, seconds=n * 30), "26-777")
    clock.set(review_from + timedelta(hours=23))
    with rt.sessions.begin() as session:
        result = review_searches(session, rt, since=review_from)
    assert result.by_rule.get("repeated_target_no_case", 0) == 1
    assert result.by_rule.get("volume_spike", 0) == 1
    assert result.by_rule.get("off_hours", 0) >= 1
    with rt.sessions() as session:
        spike = session.scalar(select(Finding).where(Finding.rule == "volume_spike"))
        assert spike is not None
        figures = json.loads(spike.matched)
        assert figures["searches_today"] > 3 * figures["own_daily_baseline"]
        # The colleague kept their usual pattern: no behavioural finding is theirs.
        assert result.new_findings == sum(result.by_rule.values())


def test_vague_rates_per_user(
    client: FlaskClient, tokens: dict[str, str], rt: Runtime, clock: FixedClock
) -> None:
    assert post_search(client, tokens["officer"], justification=".") == 422
    assert post_search(client, tokens["officer"]) == 200
    assert post_search(client, tokens["supervisor"]) == 200
    clock.advance(timedelta(minutes=10))
    with rt.sessions.begin() as session:
        review_searches(session, rt)
    response = client.get(
        "/api/v1/review/vague-rates?from=2026-11-01T00:00:00Z&to=2026-12-01T00:00:00Z",
        headers=auth(tokens["auditor"]),
    )
    assert response.status_code == 200
    rates = {r["key"]: r for r in response.get_json()["rates"]}
    assert rates["t-officer"]["searches"] == 2 and rates["t-officer"]["vague"] == 1
    assert rates["t-supervisor"]["vague"] == 0


def test_review_endpoints_need_the_auditor_role_and_valid_input(
    client: FlaskClient, tokens: dict[str, str]
) -> None:
    assert client.get("/api/v1/review/findings", headers=auth(tokens["officer"])).status_code == 403
    assert client.get("/api/v1/review/findings").status_code == 401
    bad = client.get("/api/v1/review/findings?status=maybe", headers=auth(tokens["auditor"]))
    assert bad.status_code == 422 and "status" in bad.get_json()["error"]["details"]["fields"]
    unknown = client.get("/api/v1/review/findings?colour=red", headers=auth(tokens["auditor"]))
    assert unknown.status_code == 422
    missing = client.post(
        "/api/v1/review/findings/999/resolve",
        json={"verdict": "misuse", "note": "x"},
        headers=auth(tokens["auditor"]),
    )
    assert missing.status_code == 404
    bad_verdict = client.post(
        "/api/v1/review/findings/999/resolve",
        json={"verdict": "meh", "note": ""},
        headers=auth(tokens["auditor"]),
    )
    assert bad_verdict.status_code == 422
    assert set(bad_verdict.get_json()["error"]["details"]["fields"]) == {"verdict", "note"}


def test_an_explicit_later_since_does_not_skip_history(
    client: FlaskClient, tokens: dict[str, str], rt: Runtime, clock: FixedClock
) -> None:
    assert post_search(client, tokens["officer"], justification="inv") == 200
    clock.advance(timedelta(hours=6))
    assert post_search(client, tokens["officer"], justification="check") == 200
    clock.advance(timedelta(minutes=10))
    with rt.sessions.begin() as session:
        partial = review_searches(session, rt, since=clock.now() - timedelta(hours=1))
    assert partial.searches_scanned == 1
    with rt.sessions.begin() as session:
        scheduled = review_searches(session, rt)
    assert scheduled.searches_scanned == 2  # started where the unbroken review ended
    assert scheduled.by_rule == {"vague_justification": 1}  # only the one not yet found


def test_small_pages_and_flushes_give_the_same_findings(
    client: FlaskClient,
    tokens: dict[str, str],
    rt: Runtime,
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # One record per page and per flush, all at the same instant (ordered by id within it).
    monkeypatch.setattr(review, "PAGE", 1)
    monkeypatch.setattr(review, "IN_CHUNK", 1)
    for text in ("inv", "check", "inv", "No Kings rally vehicles", "custody dispute"):
        assert post_search(client, tokens["officer"], justification=text) == 200
    assert post_search(client, tokens["officer"], justification="ICE asked us") == 403
    clock.advance(timedelta(minutes=10))
    result = review_access(rt)
    assert result.searches_scanned == 6
    assert result.by_rule == {
        "non_criminal_use": 1,
        "prohibited_purpose": 1,
        "protected_activity": 1,
        "vague_justification": 3,
    }
    with rt.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Finding)) == 6
        event = session.scalars(
            select(AuditEvent.details).where(AuditEvent.kind == "review.completed")
        ).one()
        assert json.loads(event)["new_findings"] == 6
    again = review_access(rt, since=datetime(2020, 1, 1, tzinfo=UTC))
    assert (again.searches_scanned, again.new_findings, again.by_rule) == (6, 0, {})


def test_review_leaves_the_database_writable_while_it_reads(
    client: FlaskClient,
    tokens: dict[str, str],
    rt: Runtime,
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Ingest and searches must not wait for a run: it reads without the write lock (SQLite's
    busy timeout would fail the write below after audit_timeout_ms otherwise)."""
    for _ in range(3):
        assert post_search(client, tokens["officer"], justification="inv") == 200
    clock.advance(timedelta(minutes=10))
    scan = review._TextScanner.matches
    written: list[bool] = []

    def matches_then_write(self: Any, justification: str, case_number: str | None) -> Any:
        if not written:
            with rt.sessions.begin() as session:
                rt.audit.append(session, "test.concurrent_write", Actor("t-other", None))
            written.append(True)
        return scan(self, justification, case_number)

    monkeypatch.setattr(review._TextScanner, "matches", matches_then_write)
    with rt.sessions.begin() as session:  # the old calling convention, too
        result = review_searches(session, rt)
    assert result.new_findings == 3
    assert written
    # Both events are in the chain, the review's last (after the event stating its findings).
    with rt.sessions() as session:
        kinds = session.scalars(select(AuditEvent.kind).order_by(AuditEvent.seq)).all()
    assert kinds[-3:] == ["test.concurrent_write", "review.findings_recorded", "review.completed"]
