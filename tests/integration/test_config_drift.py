"""The scheduler's daily check: the policy enforced, the config file and the record agree."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from alpr_guard import create_app
from alpr_guard.audit import Actor
from alpr_guard.db import read_only_session
from alpr_guard.jobs.scheduler import build_scheduler, run_config_drift
from alpr_guard.models import AuditEvent, Finding
from alpr_guard.record_chain import verify_records
from alpr_guard.runtime import Runtime
from alpr_guard.services.config_audit import DRIFT_KIND, DRIFT_RULE, check_drift, record_policy
from alpr_guard.services.policy_document import policy_sha256
from alpr_guard.services.principals import add_user
from alpr_guard.services.records_retention import expire_access_records
from alpr_guard.settings import load_settings
from tests.conftest import NOW, auth

ACTOR = Actor("system:config", None)


def _drift_events(rt: Runtime) -> list[dict[str, object]]:
    with rt.sessions() as session:
        rows = session.scalars(
            select(AuditEvent.details).where(AuditEvent.kind == DRIFT_KIND).order_by(AuditEvent.seq)
        ).all()
    return [json.loads(row) for row in rows]


def test_no_drift_appends_nothing(rt: Runtime) -> None:
    with rt.sessions.begin() as session:
        record_policy(session, rt, ACTOR)
    run_config_drift(rt)
    assert _drift_events(rt) == []


def test_a_file_edited_without_a_restart_is_drift_with_a_diff(rt: Runtime) -> None:
    with rt.sessions.begin() as session:
        record_policy(session, rt, ACTOR)
    source = rt.settings.source
    source.write_text(
        source.read_text().replace("[search]\n", "[search]\nmax_window_days = 3650\n", 1)
    )
    with rt.sessions.begin() as session:
        drift = check_drift(session, rt, ACTOR)
    assert drift.drifted and drift.on_disk != drift.running == drift.recorded
    (event,) = _drift_events(rt)
    assert event["severity"] == "high"
    assert event["diff"] == [{"key": "enforced.search.max_window_days", "from": 31, "to": 3650}]


def test_a_file_that_no_longer_loads_is_drift(rt: Runtime) -> None:
    with rt.sessions.begin() as session:
        record_policy(session, rt, ACTOR)
    source = rt.settings.source
    source.write_text(
        source.read_text().replace("[search]\n", "[search]\nmax_window_days = true\n", 1)
    )
    run_config_drift(rt)
    (event,) = _drift_events(rt)
    assert event["file_sha256"] is None
    assert "search.max_window_days" in str(event["file_error"])


def test_a_process_running_other_than_the_recorded_policy_is_drift(rt: Runtime) -> None:
    source = rt.settings.source
    other_file = source.with_name("other.toml")
    other_file.write_text(
        source.read_text().replace("[auth]\n", "[auth]\nhuman_token_hours = 168\n", 1)
    )
    other = dataclasses.replace(rt, settings=load_settings(other_file))
    with rt.sessions.begin() as session:
        record_policy(session, other, ACTOR)  # another process put its policy on the record
    with rt.sessions.begin() as session:
        drift = check_drift(session, rt, ACTOR)
    assert drift.drifted and drift.on_disk == drift.running != drift.recorded
    assert {"key": "enforced.auth.human_token_hours", "from": 168, "to": 12} in drift.diff


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def _drift_findings(client: FlaskClient, token: str, **filters: str) -> list[dict[str, Any]]:
    response = client.get(
        "/api/v1/review/findings", query_string={"rule": DRIFT_RULE, **filters}, headers=auth(token)
    )
    assert response.status_code == 200, response.get_json()
    found: list[dict[str, Any]] = response.get_json()["findings"]
    return found


def _resolve(client: FlaskClient, token: str, finding_id: int, verdict: str) -> None:
    response = client.post(
        f"/api/v1/review/findings/{finding_id}/resolve",
        json={"verdict": verdict, "note": "Checked with the custodian and the council minutes"},
        headers=auth(token),
    )
    assert response.status_code == 200, response.get_json()


def test_a_file_edited_on_disk_is_a_finding_in_the_auditors_queue_after_the_scheduled_job(
    rt: Runtime, client: FlaskClient, tokens: dict[str, str]
) -> None:
    with rt.sessions.begin() as session:
        partner_auditor = add_user(
            session, rt, username="auditor-ca0190100", role="auditor", agency_ori="CA0190100"
        ).token
    with rt.sessions.begin() as session:
        record_policy(session, rt, ACTOR)
    _edit(rt.settings.source, "[search]\n", "[search]\nmax_window_days = 3650\n")
    job = build_scheduler(rt).get_job("config_drift")
    assert job is not None and job.func is run_config_drift
    job.func(*job.args)  # the daily run, as the scheduler makes it

    (finding,) = _drift_findings(client, tokens["auditor"], status="open")
    running = policy_sha256(rt.settings)
    assert finding["severity"] == "high" and finding["status"] == "open"
    assert finding["config_ref"].startswith(f"{running}/")
    assert finding["search_id"] is None and finding["camera_id"] is None
    assert finding["username"] is None and finding["agency"] is None
    matched = finding["matched"]
    assert matched["reasons"] == ["file_differs_from_running"]
    assert matched["diff"] == [{"key": "enforced.search.max_window_days", "from": 31, "to": 3650}]
    assert matched["running_sha256"] == running != matched["file_sha256"]
    # The same drift the next day: another audit event, not another finding.
    job.func(*job.args)
    assert len(_drift_findings(client, tokens["auditor"])) == 1
    assert len(_drift_events(rt)) == 2
    # A partner agency's auditor sees none of the operating agency's configuration findings.
    assert _drift_findings(client, partner_auditor) == []
    denied = client.post(
        f"/api/v1/review/findings/{finding['id']}/resolve",
        json={"verdict": "justified", "note": "not ours to judge"},
        headers=auth(partner_auditor),
    )
    assert denied.status_code == 404
    # An officer never sees the queue.
    assert client.get("/api/v1/review/findings", headers=auth(tokens["officer"])).status_code == 403

    _resolve(client, tokens["auditor"], finding["id"], "needs_follow_up")
    (resolved,) = _drift_findings(client, tokens["auditor"], status="resolved")
    assert resolved["verdict"] == "needs_follow_up"
    # The finding and its resolution are bound into the chain like a search's.
    verified = client.get("/api/v1/audit/verify", headers=auth(tokens["auditor"])).get_json()
    assert verified["ok"] is True, verified


def test_a_finding_edited_in_the_database_fails_verification(
    rt: Runtime, client: FlaskClient, tokens: dict[str, str]
) -> None:
    with rt.sessions.begin() as session:
        record_policy(session, rt, ACTOR)
    _edit(rt.settings.source, "[auth]\n", "[auth]\nhuman_token_hours = 168\n")
    run_config_drift(rt)
    (finding,) = _drift_findings(client, tokens["auditor"])
    # An insider closes the question quietly, in the table rather than through the review.
    closed = "UPDATE review_findings SET status = 'resolved', verdict = 'justified' WHERE id = :i"
    with rt.engine.begin() as conn:
        conn.execute(text(closed), {"i": finding["id"]})
    verified = client.get("/api/v1/audit/verify", headers=auth(tokens["auditor"])).get_json()
    assert verified["ok"] is False
    assert any("config:" in line for line in verified["record_damage"]), verified


def test_a_restart_on_an_unapproved_policy_is_a_finding_until_an_auditor_approves_it(
    rt: Runtime, client: FlaskClient, tokens: dict[str, str]
) -> None:
    with rt.sessions.begin() as session:
        record_policy(session, rt, ACTOR)  # the policy the programme started with: approved
    original = rt.settings.source.read_text()
    # Someone raises the token lifetime and restarts: the change is recorded at start-up, so
    # file, record and running policy agree, but nobody approved it.
    _edit(rt.settings.source, "[auth]\n", "[auth]\nhuman_token_hours = 168\n")
    restarted = dataclasses.replace(rt, settings=load_settings(rt.settings.source))
    with rt.sessions.begin() as session:
        assert record_policy(session, restarted, ACTOR).changed
    run_config_drift(restarted)
    (finding,) = _drift_findings(client, tokens["auditor"], status="open")
    assert finding["matched"]["reasons"] == ["running_not_approved"]
    assert finding["matched"]["diff"] == [
        {"key": "enforced.auth.human_token_hours", "from": 12, "to": 168}
    ]
    # "Misuse" does not approve it: the policy stays unapproved (the same drift, no new finding).
    _resolve(client, tokens["auditor"], finding["id"], "misuse")
    with rt.sessions.begin() as session:
        assert check_drift(session, restarted, ACTOR).reasons == ("running_not_approved",)
    assert len(_drift_findings(client, tokens["auditor"])) == 1
    # A new drift state (the file edited again) is a new finding; approving it ("justified")
    # makes the policy running then the approved one.
    _edit(rt.settings.source, "[search]\n", "[search]\nmax_window_days = 60\n")
    run_config_drift(restarted)
    (second,) = _drift_findings(client, tokens["auditor"], status="open")
    assert set(second["matched"]["reasons"]) == {
        "file_differs_from_running",
        "running_not_approved",
    }
    _resolve(client, tokens["auditor"], second["id"], "justified")
    rt.settings.source.write_text(
        original.replace("[auth]\n", "[auth]\nhuman_token_hours = 168\n", 1)
    )
    with rt.sessions.begin() as session:
        assert not check_drift(session, restarted, ACTOR).drifted
    # Quietly going back to the old policy is itself a change nobody approved.
    with rt.sessions.begin() as session:
        rt.settings.source.write_text(original)
        assert record_policy(session, rt, ACTOR).changed
    run_config_drift(rt)
    (third,) = _drift_findings(client, tokens["auditor"], status="open")
    assert third["matched"]["reasons"] == ["running_not_approved"]
    assert third["matched"]["diff"] == [
        {"key": "enforced.auth.human_token_hours", "from": 168, "to": 12}
    ]


def test_a_policy_changed_and_changed_back_between_two_checks_is_still_a_finding(
    rt: Runtime, client: FlaskClient, tokens: dict[str, str]
) -> None:
    with rt.sessions.begin() as session:
        record_policy(session, rt, ACTOR)
    original = rt.settings.source.read_text()
    # The insider's way around a daily check: loosen, restart, use it, restore, restart.
    _edit(rt.settings.source, "[search]\n", "[search]\nmax_window_days = 3650\n")
    loosened = dataclasses.replace(rt, settings=load_settings(rt.settings.source))
    with rt.sessions.begin() as session:
        assert record_policy(session, loosened, ACTOR).changed
    rt.settings.source.write_text(original)
    with rt.sessions.begin() as session:
        assert record_policy(session, rt, ACTOR).changed
    with rt.sessions.begin() as session:
        drift = check_drift(session, rt, ACTOR)
    assert drift.reasons == () and drift.drifted and len(drift.interim_findings) == 1
    (finding,) = _drift_findings(client, tokens["auditor"], status="open")
    assert finding["config_ref"].startswith(f"{policy_sha256(loosened.settings)}/interim/")
    assert finding["matched"]["reasons"] == ["recorded_not_approved"]
    assert finding["matched"]["diff"] == [
        {"key": "enforced.search.max_window_days", "from": 31, "to": 3650}
    ]
    # Once raised, the next day's check raises it no more.
    with rt.sessions.begin() as session:
        assert not check_drift(session, rt, ACTOR).drifted
    assert len(_drift_findings(client, tokens["auditor"])) == 1
    # Explaining it ("justified") does not make the loosened policy the approved one: the
    # policy running now stays approved and nothing new is flagged.
    _resolve(client, tokens["auditor"], finding["id"], "justified")
    with rt.sessions.begin() as session:
        assert not check_drift(session, rt, ACTOR).drifted
    assert _drift_findings(client, tokens["auditor"], status="open") == []


def test_a_window_or_token_lifetime_raised_at_start_up_is_recorded_and_flagged(
    rt: Runtime, client: FlaskClient, tokens: dict[str, str]
) -> None:
    create_app(runtime=rt)  # what `alpr-guard serve` does at start-up
    _edit(rt.settings.source, "[search]\n", "[search]\nmax_window_days = 3650\n")
    _edit(rt.settings.source, "[auth]\n", "[auth]\nhuman_token_hours = 168\n")
    raised = dataclasses.replace(rt, settings=load_settings(rt.settings.source))
    create_app(runtime=raised)  # the restart
    with rt.sessions() as session:
        last = session.scalar(
            select(AuditEvent.details)
            .where(AuditEvent.kind == "config.policy")
            .order_by(AuditEvent.seq.desc())
            .limit(1)
        )
    assert last is not None
    change = json.loads(last)
    assert change["sha256"] == policy_sha256(raised.settings)
    assert change["previous_sha256"] == policy_sha256(rt.settings)
    assert change["diff"] == [
        {"key": "enforced.auth.human_token_hours", "from": 12, "to": 168},
        {"key": "enforced.search.max_window_days", "from": 31, "to": 3650},
    ]
    run_config_drift(raised)
    (finding,) = _drift_findings(client, tokens["auditor"], status="open")
    assert finding["matched"]["diff"] == change["diff"]


def _damage(rt: Runtime) -> list[str]:
    with read_only_session(rt.sessions) as session:
        result = verify_records(session, rt.keyring)
    return [d.describe().split(" (", 1)[0] for d in result.damage]


def test_a_configuration_finding_deleted_by_hand_is_named_and_one_retention_removes_is_not(
    rt: Runtime, client: FlaskClient, tokens: dict[str, str]
) -> None:
    with rt.sessions.begin() as session:
        record_policy(session, rt, ACTOR)
    _edit(rt.settings.source, "[search]\n", "[search]\nmax_window_days = 3650\n")
    run_config_drift(rt)
    (finding,) = _drift_findings(client, tokens["auditor"])
    key = f"config:{finding['config_ref']}/{DRIFT_RULE}"
    assert _damage(rt) == []
    # Deleted while open, before anyone explained it: named.
    with rt.sessions.begin() as session:
        row = session.get_one(Finding, finding["id"])
        kept = {c.name: getattr(row, c.key) for c in Finding.__table__.columns}
        session.delete(row)
    assert _damage(rt) == [f"review_findings {key}: deleted"]
    with rt.sessions.begin() as session:
        session.execute(Finding.__table__.insert().values(**kept))
    assert _damage(rt) == []
    # Open, it outlives the access records' window; resolved, it expires with them.
    later = NOW + timedelta(days=rt.settings.retention.access_records.days + 1)
    with rt.sessions.begin() as session:
        assert expire_access_records(session, rt, later).findings_deleted == 0
    _resolve(client, tokens["auditor"], finding["id"], "needs_follow_up")
    with rt.sessions.begin() as session:
        assert expire_access_records(session, rt, later + timedelta(days=1)).findings_deleted == 1
    assert _damage(rt) == []


def test_a_finding_names_exactly_one_subject(rt: Runtime) -> None:
    """The schema refuses a finding about a search and the configuration at once."""
    with rt.sessions.begin() as session:
        record_policy(session, rt, ACTOR)
    with pytest.raises(IntegrityError), rt.sessions.begin() as session:
        session.add(
            Finding(
                search_id=None,
                camera_id="cam-1",
                config_ref="a" * 64 + "/b/c/d",
                rule=DRIFT_RULE,
                severity="high",
                matched="{}",
                status="open",
                created_at=NOW,
            )
        )
