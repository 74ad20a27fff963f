"""The retention window in force governs reads already stored.

The reported case: ``retention.unmatched.days`` lowered from 60 to 30, and a read 45 days old.
Under the new configuration it is not searchable, not shareable, counted past its window by the
compliance summary, deleted by the purge (its day key shredded), and the change is an audit
event with the number of reads it expired. Lengthening the window again revives nothing.
Every test runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from alpr_guard import create_app
from alpr_guard.api import build_app
from alpr_guard.audit import Actor, verify_chain
from alpr_guard.clock import FixedClock
from alpr_guard.db import read_only_session
from alpr_guard.jobs.purge import purge_expired
from alpr_guard.models import AuditEvent, DataKeyRecord, PlateRead
from alpr_guard.runtime import Runtime, build_runtime
from alpr_guard.services.config_audit import record_policy
from alpr_guard.services.principals import issue_token
from alpr_guard.services.reports import compliance_summary
from alpr_guard.services.retention import plan_purge
from alpr_guard.settings import load_settings
from tests.conftest import OPERATING_ORI, auth, read, search_body, write_config

OBSERVED = datetime(2026, 10, 1, 8, 0, tzinfo=UTC)
DAY_KEY = "day-2026-10-01"
LATER = OBSERVED + timedelta(days=45)  # 45 days old: inside 60, past 30
STARTUP = Actor("system:startup", OPERATING_ORI)


@pytest.fixture
def reconfigure(rt: Runtime, clock: FixedClock, tokens: dict[str, str]) -> Iterator[Any]:
    """A runtime on the same database, keys and clock under another retention config."""
    made: list[Runtime] = []

    def make(unmatched_days: int | None) -> Runtime:
        extra = f"[retention.unmatched]\ndays = {unmatched_days}\n" if unmatched_days else ""
        config = write_config(rt.settings.source.parent, rt.settings.database.url, extra=extra)
        runtime = build_runtime(load_settings(config), clock=clock)
        made.append(runtime)
        return runtime

    yield make
    for runtime in made:
        runtime.dispose()


def _stored_45_days_ago(rt: Runtime, clock: FixedClock) -> str:
    """A read ingested under the 60-day window, then 45 days pass."""
    with rt.sessions.begin() as session:
        record_policy(session, rt, STARTUP)  # the 60-day policy is the one on record
    clock.set(OBSERVED + timedelta(minutes=5))
    client = build_app(rt).test_client()
    ingest = _tokens(rt)["ingest"]
    response = client.post(
        "/api/v1/reads",
        json={"reads": [read(at=OBSERVED.isoformat()), read(at=OBSERVED.isoformat(), camera="c2")]},
        headers=auth(ingest),
    )
    assert response.status_code == 201, response.get_json()
    clock.set(LATER)
    ids: list[str] = response.get_json()["ids"]
    return ids[0]


def _tokens(rt: Runtime) -> dict[str, str]:
    """Fresh tokens of the ``tokens`` fixture's users (human tokens last 12 hours)."""
    with rt.sessions.begin() as session:
        return {
            role: issue_token(session, rt, username=f"t-{role}").token
            for role in ("officer", "supervisor", "auditor", "ingest")
        }


def _search(client: FlaskClient, tokens: dict[str, str]) -> int:
    body = search_body(**{"from": "2026-09-28T00:00:00Z", "to": "2026-10-05T00:00:00Z"})
    response = client.post("/api/v1/searches", json=body, headers=auth(tokens["officer"]))
    assert response.status_code == 200, response.get_json()
    count: int = response.get_json()["result_count"]
    return count


def _share(client: FlaskClient, tokens: dict[str, str], read_id: str) -> int:
    response = client.post(
        "/api/v1/shares",
        json={
            "recipient": "CA0190100",
            "read_ids": [read_id],
            "purpose": "stolen_vehicle",
            "justification": "Stolen vehicle recovered in their county; case transfer",
            "case_number": "26-004512",
        },
        headers=auth(tokens["supervisor"]),
    )
    return response.status_code


def _summary_past_window(rt: Runtime) -> int:
    with read_only_session(rt.sessions) as session:
        summary = compliance_summary(session, rt, LATER - timedelta(days=1), LATER)
    return summary.past_window


def _events(rt: Runtime, kind: str) -> list[dict[str, Any]]:
    with read_only_session(rt.sessions) as session:
        return [
            json.loads(d)
            for d in session.scalars(
                select(AuditEvent.details).where(AuditEvent.kind == kind).order_by(AuditEvent.seq)
            )
        ]


def _stored(rt: Runtime) -> int:
    with read_only_session(rt.sessions) as session:
        return int(session.scalar(select(func.count()).select_from(PlateRead)) or 0)


def test_a_shortened_window_hides_a_stored_read_before_any_recompute(
    rt: Runtime, clock: FixedClock, reconfigure: Any
) -> None:
    read_id = _stored_45_days_ago(rt, clock)
    # Under the 60-day window the 45-day-old read is there (the control).
    old_client = build_app(rt).test_client()
    tokens = _tokens(rt)
    assert _search(old_client, tokens) == 2
    assert _summary_past_window(rt) == 0

    # The same database under 30 days, before anything has touched the stored expiries.
    shorter = reconfigure(30)
    client = build_app(shorter).test_client()
    assert _search(client, tokens) == 0
    assert _share(client, tokens, read_id) == 404  # no read of it is still within retention
    assert _summary_past_window(shorter) == 2
    with read_only_session(shorter.sessions) as session:
        assert dict(plan_purge(session, shorter).deleted_by_class)["unmatched"] == 2
    assert _events(shorter, "retention.window_shortened") == []  # nothing recomputed yet


def test_serve_start_up_applies_a_shortened_window_and_records_it(
    rt: Runtime, clock: FixedClock, reconfigure: Any
) -> None:
    _stored_45_days_ago(rt, clock)
    shorter = reconfigure(30)
    create_app(runtime=shorter)  # what `alpr-guard serve` does at start-up
    (event,) = _events(shorter, "retention.window_shortened")
    assert event == {
        "retention_class": "unmatched",
        "days": 30,
        "previous_days": 60,
        "reads_expired": 2,
        "reads_shortened": 2,
        "reads_extended": 0,
    }
    with read_only_session(shorter.sessions) as session:
        expiries = set(session.scalars(select(PlateRead.expires_at)))
        assert expiries == {OBSERVED + timedelta(days=30)}
        # The policy change itself is in the chain too, after the event it caused.
        policies = session.scalars(
            select(AuditEvent.kind).where(AuditEvent.kind.like("config.%")).order_by(AuditEvent.seq)
        ).all()
        assert len(policies) == 2
        assert verify_chain(session, shorter.keyring).ok
    # A second start-up under the same config records nothing more.
    create_app(runtime=reconfigure(30))
    assert len(_events(shorter, "retention.window_shortened")) == 1


def test_the_purge_applies_a_shortened_window_deletes_and_shreds(
    rt: Runtime, clock: FixedClock, reconfigure: Any
) -> None:
    """`alpr-guard purge` under the new config, with no serve start-up in between."""
    _stored_45_days_ago(rt, clock)
    shorter = reconfigure(30)
    receipt = purge_expired(shorter, trigger="cli")
    assert dict(receipt.deleted_by_class) == {"unmatched": 2, "hit": 0}
    assert DAY_KEY in receipt.keys_destroyed
    assert shorter.keyring.store.get(DAY_KEY) is None
    assert _stored(shorter) == 0
    assert _summary_past_window(shorter) == 0
    (event,) = _events(shorter, "retention.window_shortened")
    assert (event["previous_days"], event["days"], event["reads_expired"]) == (60, 30, 2)


def test_lengthening_the_window_again_revives_nothing(
    rt: Runtime, clock: FixedClock, reconfigure: Any
) -> None:
    read_id = _stored_45_days_ago(rt, clock)
    shorter = reconfigure(30)
    create_app(runtime=shorter)  # expiries brought to 30 days; no purge yet
    longer = reconfigure(None)  # back to the profile's 60
    create_app(runtime=longer)
    # The reads were past their (shortened) window: they stay gone, even unpurged.
    client = build_app(longer).test_client()
    tokens = _tokens(longer)
    assert _search(client, tokens) == 0
    assert _share(client, tokens, read_id) == 404
    assert _summary_past_window(longer) == 2
    (lengthened,) = _events(longer, "retention.window_lengthened")
    assert (lengthened["previous_days"], lengthened["days"]) == (30, 60)
    assert lengthened["reads_extended"] == 0
    receipt = purge_expired(longer, trigger="test")
    assert dict(receipt.deleted_by_class) == {"unmatched": 2, "hit": 0}
    assert _stored(longer) == 0


def test_lengthening_never_revives_a_destroyed_key(
    rt: Runtime, clock: FixedClock, reconfigure: Any
) -> None:
    _stored_45_days_ago(rt, clock)
    purge_expired(reconfigure(30), trigger="test")  # day key shredded under 30 days
    longer = reconfigure(None)
    create_app(runtime=longer)
    client = build_app(longer).test_client()
    tokens = _tokens(longer)
    # A late upload for the shredded day is within 60 days, but its key is gone for good.
    late = client.post(
        "/api/v1/reads",
        json={"reads": [read(at=(OBSERVED + timedelta(hours=1)).isoformat())]},
        headers=auth(tokens["ingest"]),
    )
    assert late.status_code == 422
    assert "reads[0].observed_at" in late.get_json()["error"]["details"]["fields"]
    with read_only_session(longer.sessions) as session:
        key = session.get_one(DataKeyRecord, DAY_KEY)
        assert key.destroyed_at is not None
    assert longer.keyring.store.get(DAY_KEY) is None
    assert _search(client, tokens) == 0


def test_lengthening_extends_reads_still_live(
    rt: Runtime, clock: FixedClock, reconfigure: Any
) -> None:
    """A read 20 days old under a 30-day window, which then becomes 60: it lives to day 60."""
    with rt.sessions.begin() as session:
        record_policy(session, rt, STARTUP)
    shorter = reconfigure(30)
    create_app(runtime=shorter)
    clock.set(OBSERVED + timedelta(minutes=5))
    client = build_app(shorter).test_client()
    tokens = _tokens(shorter)
    assert (
        client.post(
            "/api/v1/reads",
            json={"reads": [read(at=OBSERVED.isoformat())]},
            headers=auth(tokens["ingest"]),
        ).status_code
        == 201
    )
    clock.set(OBSERVED + timedelta(days=20))
    longer = reconfigure(None)
    create_app(runtime=longer)
    with read_only_session(longer.sessions) as session:
        assert session.scalar(select(PlateRead.expires_at)) == OBSERVED + timedelta(days=60)
    (event,) = _events(longer, "retention.window_lengthened")
    assert event["reads_extended"] == 1
    clock.set(OBSERVED + timedelta(days=45))
    assert _search(build_app(longer).test_client(), _tokens(longer)) == 1


def test_a_stored_expiry_pushed_out_in_the_database_does_not_outlive_the_window(
    rt: Runtime, clock: FixedClock, tokens: dict[str, str]
) -> None:
    """An insider pushes one read's expiry ten years out in the database. The purge's row
    sweep selects by stored expiry, so what deletes the read is that recording the policy
    (at every purge and start-up) brings every stored expiry back to the window in force,
    even when the windows did not change. Skipping that pass when the windows are unchanged
    (it is two full scans of the reads: most of a purge's time at 10M reads) would let this
    read outlive its window: this test fails if anyone tries it."""
    read_id = _stored_45_days_ago(rt, clock)
    with rt.sessions.begin() as session:
        session.execute(
            PlateRead.__table__.update()  # type: ignore[attr-defined]
            .where(PlateRead.id == uuid.UUID(read_id))
            .values(expires_at=OBSERVED + timedelta(days=3650))
        )
    with rt.sessions.begin() as session:
        assert not record_policy(session, rt, STARTUP).changed  # the 60-day policy, unchanged
    with rt.sessions() as session:
        restored = session.get_one(PlateRead, uuid.UUID(read_id)).expires_at
    assert restored == OBSERVED + timedelta(days=60)
    (event,) = _events(rt, "retention.window_shortened")  # the repair is on the record
    assert (event["days"], event["reads_shortened"]) == (60, 1)
    clock.set(OBSERVED + timedelta(days=61))
    receipt = purge_expired(rt, trigger="test")
    assert dict(receipt.deleted_by_class) == {"unmatched": 2, "hit": 0}
    assert _stored(rt) == 0
    assert DAY_KEY in receipt.keys_destroyed
