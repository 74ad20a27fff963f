"""Retention (issue #3): exact expiry, purge and its receipt, legal holds, crypto-shredding.

Every test runs on SQLite and PostgreSQL. Time is a FixedClock moved by hand, so the exact
instant a read expires can be checked on both sides of the boundary.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from alpr_guard.audit import verify_chain
from alpr_guard.clock import FixedClock
from alpr_guard.crypto import day_key_id
from alpr_guard.db import read_only_session
from alpr_guard.errors import Conflict
from alpr_guard.jobs.purge import LEASE_NAME, purge_expired
from alpr_guard.jobs.runner import acquire_lease
from alpr_guard.models import AuditEvent, DataKeyRecord, PlateRead
from alpr_guard.runtime import Runtime
from alpr_guard.services.principals import issue_token
from alpr_guard.services.retention import plan_purge
from tests.conftest import NOW, auth, read, search_body

OBSERVED = datetime(2026, 11, 19, 8, 0, tzinfo=UTC)
EXPIRES = OBSERVED + timedelta(days=60)  # retention.unmatched.days in the California profile


def ingest(client: FlaskClient, tokens: dict[str, str], *reads: dict[str, Any]) -> list[str]:
    response = client.post(
        "/api/v1/reads", json={"reads": list(reads)}, headers=auth(tokens["ingest"])
    )
    assert response.status_code == 201, response.get_json()
    ids: list[str] = response.get_json()["ids"]
    return ids


def fresh(rt: Runtime, tokens: dict[str, str]) -> dict[str, str]:
    """Human tokens expire after 12 hours; tests move the clock by months."""
    with rt.sessions.begin() as session:
        for role in ("officer", "supervisor", "auditor"):
            tokens[role] = issue_token(session, rt, username=f"t-{role}").token
    return tokens


def found(client: FlaskClient, tokens: dict[str, str], plate: str = "7ABC123") -> list[str]:
    """Read ids a justified search for ``plate`` around OBSERVED returns now."""
    body = search_body(
        plate=plate, **{"from": "2026-11-13T00:00:00Z", "to": "2026-11-20T12:00:00Z"}
    )
    response = client.post("/api/v1/searches", json=body, headers=auth(tokens["officer"]))
    assert response.status_code == 200, response.get_json()
    return [r["id"] for r in response.get_json()["results"]]


def hold(
    client: FlaskClient, tokens: dict[str, str], read_ids: list[str], role: str = "supervisor"
) -> Any:
    return client.post(
        "/api/v1/holds",
        json={
            "case_number": "26-004512",
            "reason": "Evidence in a hit-and-run, preservation letter from the DA",
            "read_ids": read_ids,
            "review_by": (NOW + timedelta(days=90)).isoformat(),
        },
        headers=auth(tokens[role]),
    )


def row(rt: Runtime, read_id: str) -> Any:
    with read_only_session(rt.sessions) as session:
        return session.execute(
            select(PlateRead.key_id, PlateRead.retention_class, PlateRead.expires_at).where(
                PlateRead.id == __import__("uuid").UUID(read_id)
            )
        ).first()


def count_reads(rt: Runtime) -> int:
    with read_only_session(rt.sessions) as session:
        return int(session.scalar(select(func.count()).select_from(PlateRead)) or 0)


def live_keys(rt: Runtime) -> set[str]:
    with read_only_session(rt.sessions) as session:
        return set(
            session.scalars(
                select(DataKeyRecord.key_id).where(DataKeyRecord.destroyed_at.is_(None))
            )
        )


# -- classes and the exact instant -------------------------------------------------------------


def test_a_read_expires_at_the_exact_instant_its_window_ends(
    client: FlaskClient, tokens: dict[str, str], rt: Runtime, clock: FixedClock
) -> None:
    (read_id,) = ingest(client, tokens, read(at=OBSERVED.isoformat()))
    assert row(rt, read_id).expires_at == EXPIRES

    clock.set(EXPIRES - timedelta(microseconds=1))
    with read_only_session(rt.sessions) as session:
        assert dict(plan_purge(session, rt).deleted_by_class) == {"unmatched": 0, "hit": 0}
    assert found(client, fresh(rt, tokens)) == [read_id]
    assert purge_expired(rt, trigger="test").deleted_by_class["unmatched"] == 0
    assert count_reads(rt) == 1

    clock.set(EXPIRES)
    assert found(client, fresh(rt, tokens)) == []  # past its window it is gone, purge or not
    with read_only_session(rt.sessions) as session:
        assert dict(plan_purge(session, rt).deleted_by_class) == {"unmatched": 1, "hit": 0}
    assert purge_expired(rt, trigger="test").deleted_by_class["unmatched"] == 1
    assert count_reads(rt) == 0


def test_hits_live_under_a_month_key_and_outlast_the_day_key(
    client: FlaskClient, tokens: dict[str, str], rt: Runtime, clock: FixedClock
) -> None:
    hit_id, plain_id = ingest(
        client,
        tokens,
        read(at=OBSERVED.isoformat(), hit=True, camera="cam-1"),
        read(at=OBSERVED.isoformat(), camera="cam-2"),
    )
    assert row(rt, hit_id).key_id == "hit-2026-11"
    assert row(rt, hit_id).retention_class == "hit"
    assert row(rt, plain_id).key_id == "day-2026-11-19"

    # The day key goes once every read it could hold has expired: day end + 60 days.
    clock.set(datetime(2026, 11, 20, tzinfo=UTC) + timedelta(days=60))
    receipt = purge_expired(rt, trigger="test")
    assert dict(receipt.deleted_by_class) == {"unmatched": 1, "hit": 0}
    assert receipt.keys_destroyed == ("day-2026-11-19",)
    assert not rt.keyring.store.get("day-2026-11-19")
    assert found(client, fresh(rt, tokens)) == [hit_id]  # the hit is still readable

    clock.set(OBSERVED + timedelta(days=365))
    receipt = purge_expired(rt, trigger="test")
    assert dict(receipt.deleted_by_class) == {"unmatched": 0, "hit": 1}
    assert receipt.keys_destroyed == ()  # November's other hits could still be within window
    clock.set(datetime(2026, 12, 1, tzinfo=UTC) + timedelta(days=365))
    assert purge_expired(rt, trigger="test").keys_destroyed == ("hit-2026-11",)
    assert rt.keyring.store.get("hit-2026-11") is None


def test_dry_run_shows_exactly_what_the_run_deletes_and_the_receipt_is_chained(
    client: FlaskClient, tokens: dict[str, str], rt: Runtime, clock: FixedClock
) -> None:
    ingest(
        client,
        tokens,
        *[
            read(plate=f"7ABC{n:03d}", at=(OBSERVED + timedelta(hours=n)).isoformat())
            for n in range(28)
        ],
        read(plate="8HIT001", at=OBSERVED.isoformat(), hit=True),
    )
    clock.set(datetime(2026, 11, 21, tzinfo=UTC) + timedelta(days=60))
    with read_only_session(rt.sessions) as session:
        plan = plan_purge(session, rt)
    assert dict(plan.deleted_by_class) == {"unmatched": 28, "hit": 0}
    assert plan.keys == ("day-2026-11-19", "day-2026-11-20")
    assert count_reads(rt) == 29  # the dry run changed nothing

    receipt = purge_expired(rt, trigger="test")
    assert dict(receipt.deleted_by_class) == dict(plan.deleted_by_class)
    assert receipt.keys_destroyed == plan.keys
    assert count_reads(rt) == 1
    assert {"day-2026-11-19", "day-2026-11-20"}.isdisjoint(live_keys(rt))
    with read_only_session(rt.sessions) as session:
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.kind == "purge.completed")
        ).one()
        assert event.seq == receipt.audit_seq
        details = json.loads(event.details)
        assert details["deleted_by_class"] == {"unmatched": 28, "hit": 0}
        assert details["keys_destroyed"] == list(plan.keys)
        assert "7ABC" not in event.details
        assert verify_chain(session, rt.keyring).ok


def test_a_second_purge_is_refused_while_the_lease_is_held(rt: Runtime, clock: FixedClock) -> None:
    with rt.sessions.begin() as session:
        assert acquire_lease(
            session, LEASE_NAME, "other-host:1", clock.now(), timedelta(minutes=15)
        )
    with pytest.raises(Conflict):
        purge_expired(rt, trigger="test")
    # A holder that stopped renewing is presumed dead once its lease lapses.
    clock.advance(timedelta(minutes=16))
    assert purge_expired(rt, trigger="test").resumed == 0


# -- legal holds -------------------------------------------------------------------------------


def test_a_held_read_survives_its_window_and_follows_its_class_once_released(
    client: FlaskClient, tokens: dict[str, str], rt: Runtime, clock: FixedClock
) -> None:
    held_id, other_id = ingest(
        client, tokens, read(at=OBSERVED.isoformat()), read(at=OBSERVED.isoformat(), camera="cam-2")
    )
    response = hold(client, tokens, [held_id])
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["status"] == "active" and body["read_count"] == 1
    held = row(rt, held_id)
    assert held.retention_class == "held" and held.expires_at is None
    assert held.key_id == f"hold-{body['id'].replace('-', '')}"

    clock.set(EXPIRES + timedelta(days=5))
    receipt = purge_expired(rt, trigger="test")
    assert dict(receipt.deleted_by_class) == {"unmatched": 1, "hit": 0}
    assert receipt.kept_held == 1
    assert receipt.keys_destroyed == ("day-2026-11-19",)  # the held read no longer needs it
    assert found(client, fresh(rt, tokens)) == [held_id]  # still readable under the hold key

    released = client.post(
        f"/api/v1/holds/{body['id']}/release",
        json={"reason": "Case closed"},
        headers=auth(fresh(rt, tokens)["supervisor"]),
    )
    assert released.status_code == 200, released.get_json()
    assert released.get_json()["status"] == "released"
    back = row(rt, held_id)
    assert back.retention_class == "unmatched" and back.expires_at == EXPIRES
    assert found(client, fresh(rt, tokens)) == []  # back in its class, which has expired

    receipt = purge_expired(rt, trigger="test")
    assert dict(receipt.deleted_by_class) == {"unmatched": 1, "hit": 0}
    assert receipt.keys_destroyed == (held.key_id,)
    assert count_reads(rt) == 0
    assert other_id not in found(client, fresh(rt, tokens))


def test_released_before_expiry_a_read_returns_under_its_day_key(
    client: FlaskClient, tokens: dict[str, str], rt: Runtime, clock: FixedClock
) -> None:
    (read_id,) = ingest(client, tokens, read(at=OBSERVED.isoformat()))
    hold_id = hold(client, tokens, [read_id]).get_json()["id"]
    clock.advance(timedelta(days=3))
    response = client.post(
        f"/api/v1/holds/{hold_id}/release",
        json={"reason": "not needed"},
        headers=auth(fresh(rt, tokens)["supervisor"]),
    )
    assert response.status_code == 200
    back = row(rt, read_id)
    assert (back.key_id, back.retention_class, back.expires_at) == (
        day_key_id(OBSERVED.date()),
        "unmatched",
        EXPIRES,
    )
    assert found(client, fresh(rt, tokens)) == [read_id]
    again = client.post(
        f"/api/v1/holds/{hold_id}/release",
        json={"reason": "twice"},
        headers=auth(fresh(rt, tokens)["supervisor"]),
    )
    assert again.status_code == 409


def test_a_read_named_by_two_holds_stays_held_until_both_are_released(
    client: FlaskClient, tokens: dict[str, str], rt: Runtime, clock: FixedClock
) -> None:
    (read_id,) = ingest(client, tokens, read(at=OBSERVED.isoformat()))
    first = hold(client, tokens, [read_id]).get_json()["id"]
    second = hold(client, tokens, [read_id]).get_json()["id"]
    assert row(rt, read_id).key_id == f"hold-{first.replace('-', '')}"
    client.post(
        f"/api/v1/holds/{first}/release",
        json={"reason": "x"},
        headers=auth(fresh(rt, tokens)["supervisor"]),
    )
    moved = row(rt, read_id)
    assert moved.retention_class == "held"
    assert moved.key_id == f"hold-{second.replace('-', '')}"
    clock.set(EXPIRES + timedelta(days=1))
    assert found(client, fresh(rt, tokens)) == [read_id]
    receipt = purge_expired(rt, trigger="test")
    assert receipt.kept_held == 1
    assert receipt.keys_destroyed == ("day-2026-11-19", f"hold-{first.replace('-', '')}")


def test_a_hold_can_name_a_search_and_masks_the_plate_in_its_reason(
    client: FlaskClient, tokens: dict[str, str], rt: Runtime
) -> None:
    ids = ingest(
        client,
        tokens,
        read(at=OBSERVED.isoformat()),
        read(plate="9XYZ999", at=OBSERVED.isoformat()),
    )
    body = search_body(**{"from": "2026-11-13T00:00:00Z", "to": "2026-11-20T12:00:00Z"})
    search_id = client.post(
        "/api/v1/searches", json=body, headers=auth(fresh(rt, tokens)["officer"])
    ).get_json()["search_id"]
    response = client.post(
        "/api/v1/holds",
        json={
            "case_number": "26-0045 7abc123",
            "reason": "Preserve every read of 7ABC-123 for trial",
            "search_id": search_id,
            "review_by": (NOW + timedelta(days=30)).isoformat(),
        },
        headers=auth(fresh(rt, tokens)["supervisor"]),
    )
    assert response.status_code == 201, response.get_json()
    hold_body = response.get_json()
    assert hold_body["read_count"] == 1
    assert "7ABC" not in _without_digests(json.dumps(hold_body)).upper()
    assert row(rt, ids[0]).retention_class == "held"
    assert row(rt, ids[1]).retention_class == "unmatched"
    with read_only_session(rt.sessions) as session:
        details = " ".join(session.scalars(select(AuditEvent.details)))
    assert "7ABC" not in _without_digests(details).upper()


def _without_digests(text: str) -> str:
    """The text without hex digests and ids, for a case-blind search for a plate: a MAC or an
    id holds "7abc" by chance about once in a hundred runs, and no plate is 32 hex digits."""
    return re.sub(r"[0-9a-fA-F-]{32,}", "", text)


def test_second_approver_a_pending_hold_protects_nothing_until_another_supervisor_approves(
    client: FlaskClient, tokens: dict[str, str], rt: Runtime, tmp_path: Any
) -> None:
    import dataclasses

    from alpr_guard.api import build_app
    from alpr_guard.services.principals import add_user
    from alpr_guard.settings import HoldSettings

    strict = dataclasses.replace(
        rt.settings, holds=HoldSettings(require_second_approver=True, max_review_days=365)
    )
    strict_rt = dataclasses.replace(rt, settings=strict)
    strict_client = build_app(strict_rt).test_client()
    with rt.sessions.begin() as session:
        second = add_user(
            session, rt, username="t-supervisor-2", role="supervisor", agency_ori="CA0199900"
        ).token
    (read_id,) = ingest(strict_client, tokens, read(at=OBSERVED.isoformat()))
    pending = hold(strict_client, tokens, [read_id]).get_json()
    assert pending["status"] == "pending"
    assert row(rt, read_id).retention_class == "unmatched"

    own = strict_client.post(
        f"/api/v1/holds/{pending['id']}/approve", headers=auth(fresh(rt, tokens)["supervisor"])
    )
    assert own.status_code == 403
    approved = strict_client.post(f"/api/v1/holds/{pending['id']}/approve", headers=auth(second))
    assert approved.status_code == 200, approved.get_json()
    assert approved.get_json()["status"] == "active"
    assert approved.get_json()["approved_by"] == "t-supervisor-2"
    assert row(rt, read_id).retention_class == "held"
    again = strict_client.post(f"/api/v1/holds/{pending['id']}/approve", headers=auth(second))
    assert again.status_code == 409


def test_hold_api_roles_validation_and_overdue_listing(
    client: FlaskClient, tokens: dict[str, str], rt: Runtime, clock: FixedClock
) -> None:
    (read_id,) = ingest(client, tokens, read(at=OBSERVED.isoformat()))
    assert hold(client, tokens, [read_id], role="officer").status_code == 403
    assert client.post("/api/v1/holds", json={}).status_code == 401
    bad = client.post(
        "/api/v1/holds",
        json={
            "case_number": "",
            "reason": "x",
            "read_ids": ["nope"],
            "review_by": "tomorrow",
            "x": 1,
        },
        headers=auth(fresh(rt, tokens)["supervisor"]),
    ).get_json()["error"]
    assert bad["code"] == "validation_error"
    assert set(bad["details"]["fields"]) == {"case_number", "read_ids[0]", "review_by", "x"}
    unknown = hold(client, tokens, [str(__import__("uuid").uuid4())])
    assert unknown.status_code == 422
    assert "read_ids[0]" in unknown.get_json()["error"]["details"]["fields"]
    too_far = client.post(
        "/api/v1/holds",
        json={
            "case_number": "26-1",
            "reason": "x",
            "read_ids": [read_id],
            "review_by": (NOW + timedelta(days=400)).isoformat(),
        },
        headers=auth(fresh(rt, tokens)["supervisor"]),
    )
    assert too_far.get_json()["error"]["details"]["fields"]["review_by"].endswith(
        "(holds.max_review_days)"
    )

    hold_id = hold(client, tokens, [read_id]).get_json()["id"]
    listing = client.get(
        "/api/v1/holds?overdue=true", headers=auth(fresh(rt, tokens)["auditor"])
    ).get_json()
    assert listing == {"holds": []}
    clock.advance(timedelta(days=91))
    overdue = client.get(
        "/api/v1/holds?overdue=true", headers=auth(fresh(rt, tokens)["auditor"])
    ).get_json()["holds"]
    assert [h["id"] for h in overdue] == [hold_id]
    assert overdue[0]["overdue"] is True
    assert (
        client.get("/api/v1/holds", headers=auth(fresh(rt, tokens)["officer"])).status_code == 403
    )
    assert (
        client.get(
            f"/api/v1/holds/{hold_id}", headers=auth(fresh(rt, tokens)["auditor"])
        ).status_code
        == 200
    )


def test_purge_receipts_are_listed_for_auditors_only(
    client: FlaskClient, tokens: dict[str, str], rt: Runtime, clock: FixedClock
) -> None:
    ingest(client, tokens, read(at=OBSERVED.isoformat()))
    clock.set(EXPIRES)
    receipt = purge_expired(rt, trigger="test")
    assert (
        client.get("/api/v1/purges", headers=auth(fresh(rt, tokens)["officer"])).status_code == 403
    )
    runs = client.get("/api/v1/purges", headers=auth(fresh(rt, tokens)["auditor"])).get_json()[
        "purges"
    ]
    assert len(runs) == 1
    assert runs[0]["run_id"] == str(receipt.run_id)
    assert runs[0]["status"] == "completed"
    assert runs[0]["deleted_by_class"] == {"unmatched": 1, "hit": 0}
    assert runs[0]["audit_seq"] == receipt.audit_seq
    assert (
        client.get("/api/v1/purges?limit=0", headers=auth(fresh(rt, tokens)["auditor"])).status_code
        == 422
    )


def test_the_purge_also_expires_access_records_and_old_audit_events(
    client: FlaskClient, tokens: dict[str, str], rt: Runtime, clock: FixedClock
) -> None:
    from alpr_guard.checkpoints import verify_with_checkpoints

    ingest(client, tokens, read(at=OBSERVED.isoformat()))
    assert found(client, fresh(rt, tokens)) != []
    clock.set(NOW + timedelta(days=1096))  # past retention.access_records and audit_events
    with read_only_session(rt.sessions) as session:
        plan = plan_purge(session, rt)
    assert plan.records_expired["searches_deleted"] == 1
    receipt = purge_expired(rt, trigger="test")
    records = receipt.as_json()["records_expired"]
    assert isinstance(records, dict)
    assert records["searches_deleted"] == 1
    # The dry run keeps the chain's head; the real run appends its own retention event,
    # after which that old head may go too.
    assert records["audit_events_removed"] >= plan.records_expired["audit_events_removed"] > 0
    with read_only_session(rt.sessions) as session:
        result = verify_with_checkpoints(session, rt)
        assert result.ok, result.describe()
        # The enforced policy is on record again after its old event went.
        assert session.scalar(select(func.count()).where(AuditEvent.kind == "config.policy")) == 1


def test_hits_stored_under_a_day_key_by_earlier_versions_move_to_their_month_key(
    client: FlaskClient, tokens: dict[str, str], rt: Runtime, clock: FixedClock
) -> None:
    import uuid

    from alpr_guard.services.keys import class_key
    from alpr_guard.services.rekey import execute_rekey, plate_of, rekeyed, rows_by_id

    (hit_id,) = ingest(client, tokens, read(at=OBSERVED.isoformat(), hit=True))
    with rt.sessions.begin() as session:  # as version 0004 stored it: under the day key
        (legacy,) = rows_by_id(session, [uuid.UUID(hit_id)])
        day_key = class_key(session, rt, False, OBSERVED)
        execute_rekey(
            session,
            rt,
            [rekeyed(legacy, plate_of(rt, legacy), day_key, "hit", legacy.expires_at)],
        )
    assert row(rt, hit_id).key_id == "day-2026-11-19"

    clock.set(datetime(2026, 11, 20, tzinfo=UTC) + timedelta(days=60))
    receipt = purge_expired(rt, trigger="test")
    assert "day-2026-11-19" in receipt.keys_destroyed
    assert row(rt, hit_id).key_id == "hit-2026-11"
    assert found(client, fresh(rt, tokens)) == [hit_id]


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_sqlite_gives_the_purged_pages_back(
    client: FlaskClient, tokens: dict[str, str], rt: Runtime, clock: FixedClock
) -> None:
    from sqlalchemy import text

    for start in range(0, 3000, 1000):
        ingest(
            client,
            tokens,
            *[
                read(plate=f"P{n:05d}", at=OBSERVED.isoformat(), camera=f"c{n}")
                for n in range(start, start + 1000)
            ],
        )

    def pages() -> tuple[int, int]:
        with rt.engine.connect() as conn:
            count = conn.execute(text("PRAGMA page_count")).scalar_one()
            free = conn.execute(text("PRAGMA freelist_count")).scalar_one()
            return int(count), int(free)

    with rt.engine.connect() as conn:
        assert conn.execute(text("PRAGMA auto_vacuum")).scalar_one() == 2  # incremental
    before, _ = pages()
    clock.set(EXPIRES)
    assert purge_expired(rt, trigger="test").deleted_by_class["unmatched"] == 3000
    after, free = pages()
    assert free == 0
    assert after < before - 50
