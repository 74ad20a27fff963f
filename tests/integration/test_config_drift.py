"""The scheduler's daily check: the policy enforced, the config file and the record agree."""

from __future__ import annotations

import dataclasses
import json

from sqlalchemy import select

from alpr_guard.audit import Actor
from alpr_guard.jobs import run_config_drift
from alpr_guard.models import AuditEvent
from alpr_guard.runtime import Runtime
from alpr_guard.services.config_audit import DRIFT_KIND, check_drift, record_policy
from alpr_guard.settings import load_settings

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
