"""The audit chain: tampering with the database directly is detected and named; concurrent
writers on both databases still produce one chain that verifies."""

from __future__ import annotations

import dataclasses
import json
import threading
from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select, text

from alpr_guard.audit import Actor, Anchor, Appended, event_hash, verify_chain
from alpr_guard.checkpoints import rt_anchors, write_checkpoint
from alpr_guard.clock import FixedClock
from alpr_guard.errors import ValidationError
from alpr_guard.models import AuditEvent, SearchRecord
from alpr_guard.policy.plates import Plate
from alpr_guard.runtime import Runtime
from alpr_guard.services.config_audit import record_policy
from alpr_guard.services.ingest import record_reads
from alpr_guard.services.principals import Principal, authenticate
from alpr_guard.services.requests import ReadIn, SearchRequest
from alpr_guard.services.search import run_search
from alpr_guard.settings import Settings
from alpr_guard.vocabulary import AuditKind
from tests.conftest import NOW, auth


def append(rt: Runtime, n: int) -> None:
    with rt.sessions.begin() as session:
        for i in range(n):
            rt.audit.append(session, "test.event", Actor("tester", "CA0199900"), details={"i": i})


def verify(rt: Runtime) -> tuple[bool, int | None, str | None]:
    with rt.sessions() as session:
        result = verify_chain(session, rt.keyring)
    return result.ok, result.bad_seq, result.problem


def last_seq(rt: Runtime) -> int:
    with rt.sessions() as session:
        return session.scalar(select(func.max(AuditEvent.seq))) or 0


def test_untouched_chain_verifies(rt: Runtime) -> None:
    append(rt, 5)
    assert verify(rt) == (True, None, None)


def test_edited_event_is_named(rt: Runtime) -> None:
    append(rt, 5)
    target = last_seq(rt) - 2
    with rt.engine.begin() as conn:
        conn.execute(
            text("UPDATE audit_events SET details = :d WHERE seq = :s"),
            {"d": '{"i":99}', "s": target},
        )
    assert verify(rt) == (False, target, "edited")


def test_edit_with_recomputed_plain_hash_is_still_caught(rt: Runtime) -> None:
    """Someone with database access but not the master key cannot re-chain an edit."""
    append(rt, 3)
    target = last_seq(rt) - 1
    with rt.engine.begin() as conn:
        conn.execute(
            text("UPDATE audit_events SET actor = 'someone-else', hash = :h WHERE seq = :s"),
            {"h": "0" * 64, "s": target},
        )
    assert verify(rt) == (False, target, "edited")


def test_deleted_event_is_named(rt: Runtime) -> None:
    append(rt, 5)
    target = last_seq(rt) - 2
    with rt.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_events WHERE seq = :s"), {"s": target})
    assert verify(rt) == (False, target, "deleted")


def test_deleted_first_event_is_named(rt: Runtime) -> None:
    append(rt, 3)
    with rt.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_events WHERE seq = 1"))
    assert verify(rt) == (False, 1, "deleted")


def test_swapped_events_are_caught(rt: Runtime) -> None:
    append(rt, 5)
    a = last_seq(rt) - 3
    with rt.engine.begin() as conn:
        # Swap two events' contents while keeping their sequence numbers: a reordering.
        rows = conn.execute(
            text("SELECT seq, details FROM audit_events WHERE seq IN (:a, :b)"),
            {"a": a, "b": a + 1},
        ).all()
        for seq, details in rows:
            other = a + 1 if seq == a else a
            conn.execute(
                text("UPDATE audit_events SET details = :d WHERE seq = :s"),
                {"d": details, "s": other},
            )
    ok, bad, _problem = verify(rt)
    assert not ok and bad == a


def principal_for(rt: Runtime, token: str) -> Principal:
    with rt.sessions() as session:
        return authenticate(session, rt, token)


def test_eight_concurrent_searchers_leave_a_chain_that_verifies(
    rt: Runtime, tokens: dict[str, str]
) -> None:
    ingester = principal_for(rt, tokens["ingest"])
    with rt.sessions.begin() as session:
        record_reads(
            session,
            rt,
            ingester,
            [
                ReadIn(Plate(f"CC{i:03d}"), NOW - timedelta(hours=i + 1), f"cam-{i % 4}")
                for i in range(40)
            ],
        )
    officer = principal_for(rt, tokens["officer"])
    errors: list[BaseException] = []
    per_thread = 6

    def searcher(n: int) -> None:
        try:
            for j in range(per_thread):
                request = SearchRequest(
                    plate=Plate(f"CC{(n * per_thread + j) % 40:03d}"),
                    window_from=NOW - timedelta(days=3),
                    window_to=NOW,
                    purpose="stolen_vehicle",
                    justification="Reported stolen from Main St lot, owner report on file",
                    case_number=f"26-{n:03d}{j:03d}",
                )
                with rt.sessions.begin() as session:
                    outcome = run_search(session, rt, officer, request)
                    assert outcome.result_count == 1
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=searcher, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    with rt.sessions() as session:
        assert session.scalar(select(func.count()).select_from(SearchRecord)) == 8 * per_thread
        result = verify_chain(session, rt.keyring)
    assert result.ok, result.describe()
    assert result.checked == last_seq(rt)


def anchors(rt: Runtime) -> list[Anchor]:
    return rt_anchors(rt)


def verify_anchored(rt: Runtime) -> tuple[bool, int | None, str | None]:
    with rt.sessions() as session:
        result = verify_chain(session, rt.keyring, anchors(rt))
    return result.ok, result.bad_seq, result.problem


def checkpoint(rt: Runtime) -> int:
    with rt.sessions.begin() as session:
        written = write_checkpoint(session, rt, Actor("tester", None))
    assert written is not None
    return written.seq


def test_truncated_tail_past_the_last_checkpoint_is_named(rt: Runtime) -> None:
    append(rt, 5)
    pinned = checkpoint(rt)
    append(rt, 3)
    assert verify_anchored(rt) == (True, None, None)
    with rt.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_events WHERE seq >= :s"), {"s": pinned - 1})
    # Without the checkpoint the shortened chain would look whole.
    assert verify(rt) == (True, None, None)
    assert verify_anchored(rt) == (False, pinned, "truncated")


def test_rewritten_chain_disagrees_with_its_checkpoint(rt: Runtime) -> None:
    append(rt, 3)
    pinned = checkpoint(rt)
    with rt.engine.begin() as conn:
        conn.execute(
            text("UPDATE audit_events SET hash = :h WHERE seq = :s"), {"h": "f" * 64, "s": pinned}
        )
    ok, bad, problem = verify_anchored(rt)
    assert not ok and bad == pinned and problem == "edited"


def test_forged_checkpoint_is_refused(rt: Runtime) -> None:
    append(rt, 2)
    checkpoint(rt)
    directory = rt.settings.audit.checkpoint_dir
    assert directory is not None
    (path,) = directory.glob("checkpoint-*.json")
    document = json.loads(path.read_text())
    document["checkpoint"]["seq"] += 100
    path.write_text(json.dumps(document))
    with pytest.raises(ValidationError, match="signature does not verify"):
        anchors(rt)


def test_verify_endpoint_gives_the_same_answer(
    rt: Runtime, tokens: dict[str, str], client: FlaskClient
) -> None:
    checkpoint(rt)
    response = client.get("/api/v1/audit/verify", headers=auth(tokens["auditor"]))
    assert response.status_code == 200
    body = response.get_json()
    assert body["ok"] is True and body["checkpoints_matched"] == 1
    with rt.engine.begin() as conn:
        conn.execute(text("UPDATE audit_events SET actor = 'mallory' WHERE seq = 2"))
    broken = client.get("/api/v1/audit/verify", headers=auth(tokens["auditor"])).get_json()
    assert (broken["ok"], broken["bad_seq"], broken["problem"]) == (False, 2, "edited")
    assert client.get("/api/v1/audit/verify", headers=auth(tokens["officer"])).status_code == 403


def test_policy_changes_are_recorded_with_a_readable_diff(
    rt: Runtime, settings: Settings, clock: FixedClock
) -> None:
    with rt.sessions.begin() as session:
        first = record_policy(session, rt, Actor("system:startup", None))
        assert first.changed and first.previous is None
        assert not record_policy(session, rt, Actor("system:startup", None)).changed
    looser = dataclasses.replace(
        settings, policy_json=settings.policy_json.replace('"days":60', '"days":45')
    )
    changed_rt = dataclasses.replace(rt, settings=looser)
    with rt.sessions.begin() as session:
        change = record_policy(session, changed_rt, Actor("system:startup", None))
    assert change.changed and change.previous == first.digest
    assert {"key": "retention.unmatched.days", "from": 60, "to": 45} in change.diff
    with rt.sessions() as session:
        kinds = session.scalars(
            select(AuditEvent.kind).where(AuditEvent.kind == "config.policy")
        ).all()
        assert len(kinds) == 2
        assert verify_chain(session, rt.keyring).ok


def test_deleting_old_events_behind_an_ordinary_checkpoint_is_caught(rt: Runtime) -> None:
    append(rt, 4)
    pinned = checkpoint(rt)
    append(rt, 2)
    with rt.sessions() as session:
        pinned_hash = session.get_one(AuditEvent, pinned).hash
    with rt.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_events WHERE seq <= :s"), {"s": pinned})
    assert verify_anchored(rt) == (False, 1, "deleted")
    # Only a checkpoint left by the audit log's own retention purge may start the chain.
    with rt.sessions() as session:
        result = verify_chain(session, rt.keyring, [Anchor(pinned, pinned_hash, retention=True)])
    assert result.ok and result.checked == 3  # the checkpoint event and the two after it


def test_an_appended_row_reads_back_through_the_orm_with_its_mac(rt: Runtime) -> None:
    """The event written without the ORM reads back through it equal to what append_row
    returned, and its hash is the MAC event_hash computes from the ORM object."""
    with rt.sessions.begin() as session:
        first = rt.audit.append(session, "test.event", Actor("tester", None), details={"i": 1})
        row = rt.audit.append_row(
            session,
            AuditKind.SEARCH_REFUSED,
            Actor("tester", "CA0199900"),
            subject="search:x",
            details={"b": [1, "two"], "a": None},
            sealed=b"\x00sealed\xff",
        )
    assert row.seq == first.seq + 1
    assert row.prev_hash == first.hash
    with rt.sessions() as session:
        for written in (first, row):
            stored = session.get(AuditEvent, written.seq)
            assert stored is not None
            assert {name: getattr(stored, name) for name in Appended._fields} == {
                name: getattr(written, name) for name in Appended._fields
            }
            assert event_hash(rt.keyring, stored) == written.hash
    assert row.details == '{"a":null,"b":[1,"two"]}'
    assert verify(rt) == (True, None, None)
