"""Retention of the access records and of the audit log itself (issue #3).

Every test runs on SQLite and PostgreSQL. Time comes from the FixedClock: records are made at
exact instants and the retention steps are run at ``cutoff + window``, never by sleeping.
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient
from sqlalchemy import func, select, text, update

from alpr_guard.audit import Actor, Anchor, VerifyResult, verify_chain
from alpr_guard.checkpoints import (
    load_anchors,
    rt_anchors,
    verify_with_checkpoints,
    write_checkpoint,
)
from alpr_guard.cli import cli
from alpr_guard.clock import FixedClock
from alpr_guard.db import new_id
from alpr_guard.errors import ConfigError, ValidationError
from alpr_guard.models import AuditEvent, Finding, SearchRecord, Share
from alpr_guard.policy.plates import Plate
from alpr_guard.runtime import Runtime
from alpr_guard.services import records_retention
from alpr_guard.services.principals import Principal, authenticate, issue_token
from alpr_guard.services.records_retention import (
    AccessRecordsExpiry,
    AuditChainBroken,
    AuditEventsExpiry,
    expire_access_records,
    expire_audit_events,
)
from alpr_guard.services.requests import SearchRequest
from alpr_guard.services.search import run_search
from tests.conftest import NOW, auth

WINDOW = timedelta(days=1095)  # retention.access_records and .audit_events in the profile
US = timedelta(microseconds=1)
CUTOFF = NOW + timedelta(days=3)  # after the fixtures' own events (agencies, users)
RUN_AT = CUTOFF + WINDOW
PLATE = "7ABC123"


# -- helpers ---------------------------------------------------------------------------------


def officer(rt: Runtime, tokens: dict[str, str]) -> Principal:
    with rt.sessions() as session:
        return authenticate(session, rt, tokens["officer"])


def search_at(rt: Runtime, clock: FixedClock, who: Principal, at: datetime) -> uuid.UUID:
    """A real search (its access record and audit event) made at ``at``."""
    clock.set(at)
    request = SearchRequest(
        plate=Plate(PLATE),
        window_from=at - timedelta(days=2),
        window_to=at,
        purpose="stolen_vehicle",
        justification=f"Vehicle {PLATE} reported stolen from Main St lot, report filed",
        case_number="26-004512",
    )
    with rt.sessions.begin() as session:
        return run_search(session, rt, who, request).search_id


def add_finding(rt: Runtime, search_id: uuid.UUID, rule: str, status: str) -> None:
    with rt.sessions.begin() as session:
        session.add(
            Finding(
                search_id=search_id,
                rule=rule,
                severity="medium",
                matched="x",
                status=status,
                verdict=None if status == "open" else "justified",
                note=None if status == "open" else "case on file",
                created_at=NOW,
                resolved_at=None if status == "open" else NOW,
                resolved_by=None if status == "open" else "t-auditor",
            )
        )


def add_share(rt: Runtime, who: Principal, at: datetime) -> uuid.UUID:
    share_id = new_id()
    with rt.sessions.begin() as session:
        session.add(
            Share(
                id=share_id,
                created_at=at,
                user_id=who.user_id,
                username=who.username,
                agency_ori=who.agency_ori,
                recipient_ori="CA0190100",
                purpose="stolen_vehicle",
                justification="Joint stolen-vehicle investigation with the county",
                case_number="26-004512",
                search_id=None,
                read_count=1,
                outcome="allowed",
                reason_code=None,
                rule=None,
                bundle_sha256="0" * 64,
                audit_seq=1,
            )
        )
    return share_id


def ids(rt: Runtime, model: type[SearchRecord] | type[Share]) -> set[uuid.UUID]:
    with rt.sessions() as session:
        return set(session.scalars(select(model.id)).all())


def finding_count(rt: Runtime) -> int:
    with rt.sessions() as session:
        return session.scalar(select(func.count()).select_from(Finding)) or 0


def expire_records(rt: Runtime, **options: Any) -> AccessRecordsExpiry:
    with rt.sessions.begin() as session:
        return expire_access_records(session, rt, RUN_AT, **options)


def append_at(rt: Runtime, clock: FixedClock, at: datetime, n: int = 1) -> list[int]:
    clock.set(at)
    with rt.sessions.begin() as session:
        return [
            rt.audit.append(session, "test.event", Actor("tester", None), details={"i": i}).seq
            for i in range(n)
        ]


def expire_events(rt: Runtime, **options: Any) -> AuditEventsExpiry:
    with rt.sessions.begin() as session:
        return expire_audit_events(session, rt, RUN_AT, **options)


def seqs(rt: Runtime) -> list[int]:
    with rt.sessions() as session:
        return list(session.scalars(select(AuditEvent.seq).order_by(AuditEvent.seq)))


def verified(rt: Runtime) -> VerifyResult:
    with rt.sessions() as session:
        return verify_with_checkpoints(session, rt)


def checkpoint_files(rt: Runtime, pattern: str = "checkpoint-*.json") -> list[Path]:
    directory = rt.settings.audit.checkpoint_dir
    assert directory is not None
    return sorted(directory.glob(pattern))


def old_chain(rt: Runtime, clock: FixedClock) -> tuple[list[int], list[int]]:
    """Events at and before the cutoff, then events from a microsecond after it."""
    old = append_at(rt, clock, CUTOFF - timedelta(days=1), 3) + append_at(rt, clock, CUTOFF)
    new = append_at(rt, clock, CUTOFF + US) + append_at(rt, clock, CUTOFF + timedelta(days=9), 2)
    clock.set(RUN_AT)
    return old, new


def without_checkpoint_dir(rt: Runtime) -> Runtime:
    audit = dataclasses.replace(rt.settings.audit, checkpoint_dir=None)
    return dataclasses.replace(rt, settings=dataclasses.replace(rt.settings, audit=audit))


# -- access records --------------------------------------------------------------------------


def test_access_records_go_exactly_at_the_cutoff_with_their_findings(
    rt: Runtime, tokens: dict[str, str], clock: FixedClock
) -> None:
    who = officer(rt, tokens)
    at_cutoff = search_at(rt, clock, who, CUTOFF)
    just_after = search_at(rt, clock, who, CUTOFF + US)
    add_finding(rt, at_cutoff, "vague_justification", "resolved")
    add_finding(rt, just_after, "vague_justification", "resolved")
    share_at_cutoff = add_share(rt, who, CUTOFF)
    share_after = add_share(rt, who, CUTOFF + US)

    result = expire_records(rt)

    assert result == AccessRecordsExpiry(
        cutoff=CUTOFF,
        searches_deleted=1,
        findings_deleted=1,
        shares_deleted=1,
        searches_kept_open_finding=0,
        more=False,
    )
    assert ids(rt, SearchRecord) == {just_after}
    assert ids(rt, Share) == {share_after}
    assert share_at_cutoff not in ids(rt, Share)
    assert finding_count(rt) == 1
    # Nothing more is due: a second call is a no-op.
    assert expire_records(rt).searches_deleted == 0


def test_a_search_with_an_open_finding_is_kept_until_it_is_resolved(
    rt: Runtime, tokens: dict[str, str], clock: FixedClock
) -> None:
    who = officer(rt, tokens)
    flagged = search_at(rt, clock, who, CUTOFF - timedelta(days=30))
    plain = search_at(rt, clock, who, CUTOFF - timedelta(days=30))
    add_finding(rt, flagged, "off_hours", "resolved")
    add_finding(rt, flagged, "protected_activity", "open")

    result = expire_records(rt)
    assert (result.searches_deleted, result.findings_deleted) == (1, 0)
    assert result.searches_kept_open_finding == 1 and not result.more
    assert ids(rt, SearchRecord) == {flagged}
    assert finding_count(rt) == 2  # the open finding and its resolved sibling both stay

    with rt.sessions.begin() as session:
        session.execute(update(Finding).values(status="resolved", verdict="misuse", note="IA"))
    after = expire_records(rt)
    assert (after.searches_deleted, after.findings_deleted) == (1, 2)
    assert after.searches_kept_open_finding == 0
    assert ids(rt, SearchRecord) == set() and finding_count(rt) == 0
    assert plain not in ids(rt, SearchRecord)


def test_access_records_go_in_bounded_batches_and_dry_run_counts_all(
    rt: Runtime, tokens: dict[str, str], clock: FixedClock
) -> None:
    who = officer(rt, tokens)
    for day in range(7):
        search_at(rt, clock, who, CUTOFF - timedelta(days=day))
    for day in range(5):
        add_share(rt, who, CUTOFF - timedelta(days=day))
    kept = search_at(rt, clock, who, CUTOFF + timedelta(seconds=1))

    dry = expire_records(rt, dry_run=True)
    assert (dry.searches_deleted, dry.shares_deleted, dry.more, dry.dry_run) == (7, 5, False, True)
    assert len(ids(rt, SearchRecord)) == 8 and len(ids(rt, Share)) == 5

    calls: list[AccessRecordsExpiry] = []
    while not calls or calls[-1].more:
        calls.append(expire_records(rt, batch=3))
        assert len(calls) < 10
    assert [c.searches_deleted for c in calls] == [3, 3, 1]
    assert [c.shares_deleted for c in calls] == [3, 2, 0]
    total = calls[0].merged(calls[1]).merged(calls[2])
    assert (total.searches_deleted, total.shares_deleted, total.more) == (7, 5, False)
    assert ids(rt, SearchRecord) == {kept} and ids(rt, Share) == set()


# -- the audit log ---------------------------------------------------------------------------


def test_audit_events_go_exactly_at_the_cutoff_and_the_chain_still_verifies(
    rt: Runtime, clock: FixedClock
) -> None:
    old, new = old_chain(rt, clock)
    first = seqs(rt)[0]

    result = expire_events(rt)

    anchor = old[-1]  # the event exactly at the cutoff goes; the one a microsecond later stays
    assert result.events_removed == anchor - first + 1
    assert (result.first_removed_seq, result.anchor_seq, result.more) == (first, anchor, False)
    assert result.checkpoint == checkpoint_files(rt, "*-retention.json")[0]
    assert result.checkpoint.name == f"checkpoint-{anchor:012d}-retention.json"
    assert seqs(rt) == [*new, new[-1] + 1]
    assert result.record_seq == new[-1] + 1

    check = verified(rt)
    assert check.ok, check.describe()
    assert (check.first_seq, check.checked) == (new[0], len(new) + 1)
    assert f"first seq {new[0]}" in check.describe()

    with rt.sessions() as session:
        record = session.get_one(AuditEvent, result.record_seq)
    assert record.kind == "audit.retention" and record.actor == "system:purge"
    assert json.loads(record.details) == {
        "removed": result.events_removed,
        "first_seq": first,
        "anchor_seq": anchor,
        "anchor_hash": json.loads(result.checkpoint.read_text())["checkpoint"]["hash"],
        "checkpoint": result.checkpoint.name,
        "cutoff": CUTOFF.isoformat(),
        "window_days": 1095,
    }
    body = json.loads(result.checkpoint.read_text())["checkpoint"]
    assert (body["kind"], body["seq"], body["first_seq"]) == ("retention", anchor, first)
    # Nothing more is due, and the head was never a candidate.
    assert expire_events(rt).events_removed == 0


@pytest.mark.usefixtures("tokens")
def test_verify_command_and_endpoint_pass_after_retention(
    rt: Runtime, clock: FixedClock, client: FlaskClient
) -> None:
    _old, new = old_chain(rt, clock)
    expire_events(rt)
    out = CliRunner().invoke(cli, ["--config", str(rt.settings.source), "audit", "verify"])
    assert out.exit_code == 0, out.output
    assert "audit chain verified" in out.output and f"first seq {new[0]}" in out.output
    with rt.sessions.begin() as session:  # the fixture's token expired three years ago
        token = issue_token(session, rt, username="t-auditor").token
    body = client.get("/api/v1/audit/verify", headers=auth(token)).get_json()
    assert (body["ok"], body["first_seq"], body["problem"]) == (True, new[0], None)


def test_ordinary_checkpoints_before_the_start_are_fine_and_after_it_must_match(
    rt: Runtime, clock: FixedClock
) -> None:
    append_at(rt, clock, CUTOFF - timedelta(days=2), 2)
    with rt.sessions.begin() as session:
        early = write_checkpoint(session, rt, Actor("tester", None))  # pins a removed event
    _old, new = old_chain(rt, clock)
    with rt.sessions.begin() as session:
        late = write_checkpoint(session, rt, Actor("tester", None))  # pins a kept event
    assert early is not None and late is not None
    expire_events(rt)
    assert early.seq < seqs(rt)[0] <= late.seq

    check = verified(rt)
    assert check.ok and check.checkpoints == 1, check.describe()

    # A kept event that no longer matches its checkpoint is still named.
    with rt.sessions() as session:
        anchors = [*rt_anchors(rt), Anchor(new[0], "f" * 64)]
        mismatch = verify_chain(session, rt.keyring, anchors)
    assert (mismatch.ok, mismatch.bad_seq, mismatch.problem) == (
        False,
        new[0],
        "checkpoint_mismatch",
    )
    with rt.engine.begin() as conn:
        conn.execute(
            text("UPDATE audit_events SET actor = 'mallory' WHERE seq = :s"), {"s": new[1]}
        )
    broken = verified(rt)
    assert (broken.ok, broken.bad_seq, broken.problem) == (False, new[1], "edited")


def test_deleting_old_events_without_a_retention_checkpoint_is_caught(
    rt: Runtime, clock: FixedClock
) -> None:
    old, _new = old_chain(rt, clock)
    with rt.sessions.begin() as session:
        write_checkpoint(session, rt, Actor("tester", None))
    with rt.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_events WHERE seq <= :s"), {"s": old[-1]})
    check = verified(rt)
    assert (check.ok, check.bad_seq, check.problem) == (False, 1, "deleted")


def test_deleting_past_the_retention_checkpoint_is_caught(rt: Runtime, clock: FixedClock) -> None:
    _old, new = old_chain(rt, clock)
    result = expire_events(rt)
    assert result.anchor_seq is not None
    with rt.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_events WHERE seq <= :s"), {"s": new[0]})
    check = verified(rt)
    assert (check.ok, check.bad_seq, check.problem) == (False, result.anchor_seq + 1, "deleted")


def test_a_forged_retention_checkpoint_is_rejected(rt: Runtime, clock: FixedClock) -> None:
    """Relabelling an ordinary checkpoint as a retention one would let anyone with file and
    database access delete old events; the signature covers the kind."""
    old_chain(rt, clock)
    with rt.sessions.begin() as session:
        ordinary = write_checkpoint(session, rt, Actor("tester", None))
    assert ordinary is not None
    document = json.loads(ordinary.path.read_text())
    document["checkpoint"]["kind"] = "retention"
    forged = ordinary.path.with_name(f"checkpoint-{ordinary.seq:012d}-retention.json")
    forged.write_text(json.dumps(document))
    with pytest.raises(ValidationError, match="signature does not verify"):
        verified(rt)
    with pytest.raises(ValidationError, match="signature does not verify"):
        expire_events(rt)
    assert seqs(rt)[0] == 1  # refused before anything went

    forged.unlink()
    result = expire_events(rt)
    assert result.checkpoint is not None
    tampered = json.loads(result.checkpoint.read_text())
    tampered["checkpoint"]["seq"] += 1
    result.checkpoint.write_text(json.dumps(tampered))
    directory = rt.settings.audit.checkpoint_dir
    with pytest.raises(ValidationError, match="signature does not verify"):
        load_anchors(directory, rt.keyring.public_key_raw(), rt.settings.instance.operating_agency)


def test_a_crash_between_the_checkpoint_and_the_delete_still_verifies(
    rt: Runtime, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    old, _new = old_chain(rt, clock)
    before = seqs(rt)
    real = records_retention.write_retention_checkpoint

    def write_then_crash(*args: Any, **kwargs: Any) -> Any:
        real(*args, **kwargs)
        raise SystemExit("power cut")

    monkeypatch.setattr(records_retention, "write_retention_checkpoint", write_then_crash)
    with pytest.raises(SystemExit):
        expire_events(rt)
    assert seqs(rt) == before
    assert len(checkpoint_files(rt, "*-retention.json")) == 1
    check = verified(rt)
    assert check.ok and check.checkpoints == 1 and check.first_seq == 1, check.describe()

    # A delete that rolls back (the commit never happened) is the same story.
    with rt.sessions() as session:
        monkeypatch.setattr(records_retention, "write_retention_checkpoint", real)
        expire_audit_events(session, rt, RUN_AT)
        session.rollback()
    assert seqs(rt) == before and verified(rt).ok

    # The next run finishes the job.
    result = expire_events(rt)
    assert result.anchor_seq == old[-1]
    check = verified(rt)
    assert check.ok and check.first_seq == old[-1] + 1, check.describe()


def test_the_head_always_stays_and_a_clock_step_back_leaves_no_gap(
    rt: Runtime, clock: FixedClock
) -> None:
    stepped = append_at(rt, clock, CUTOFF - timedelta(days=5), 2)
    stepped += append_at(rt, clock, CUTOFF + timedelta(hours=1))  # newer than the cutoff
    stepped += append_at(rt, clock, CUTOFF - timedelta(days=1))  # the clock stepped back
    clock.set(RUN_AT)
    result = expire_events(rt)
    assert result.anchor_seq == stepped[1]  # stops before the first event newer than the cutoff
    assert seqs(rt)[0] == stepped[2] and stepped[3] in seqs(rt)
    assert verified(rt).ok

    # Everything old: all but the head goes; the retention record then follows it.
    clock.set(RUN_AT + WINDOW)
    with rt.sessions.begin() as session:
        again = expire_audit_events(session, rt, RUN_AT + WINDOW * 2)
    head = again.record_seq
    assert head is not None and again.anchor_seq == head - 2
    assert seqs(rt) == [head - 1, head]
    assert verified(rt).ok


def test_audit_events_go_in_bounded_batches_each_with_its_checkpoint(
    rt: Runtime, clock: FixedClock
) -> None:
    old, new = old_chain(rt, clock)
    first = seqs(rt)[0]
    dry = expire_events(rt, dry_run=True)
    assert (dry.events_removed, dry.anchor_seq, dry.more) == (old[-1] - first + 1, old[-1], False)
    assert seqs(rt)[0] == first and checkpoint_files(rt, "*-retention.json") == []

    calls: list[AuditEventsExpiry] = []
    while not calls or calls[-1].more:
        calls.append(expire_events(rt, batch=2))
        assert verified(rt).ok  # between any two commits the chain verifies
        assert len(calls) < 20
    assert all(c.events_removed <= 2 for c in calls)
    total = calls[0]
    for call in calls[1:]:
        total = total.merged(call)
    assert (total.events_removed, total.first_removed_seq, total.anchor_seq) == (
        old[-1] - first + 1,
        first,
        old[-1],
    )
    assert len(checkpoint_files(rt, "*-retention.json")) == len(calls)
    assert seqs(rt)[0] == new[0]


def test_no_checkpoint_dir_means_no_removal(rt: Runtime, clock: FixedClock) -> None:
    bare = without_checkpoint_dir(rt)
    with rt.sessions.begin() as session:
        assert expire_audit_events(session, bare, NOW).events_removed == 0  # nothing due: fine
    old_chain(rt, clock)
    before = seqs(rt)
    for dry_run in (False, True):
        with (
            rt.sessions.begin() as session,
            pytest.raises(ConfigError, match=r"audit\.checkpoint_dir"),
        ):
            expire_audit_events(session, bare, RUN_AT, dry_run=dry_run)
    assert seqs(rt) == before


def test_a_chain_that_does_not_verify_is_not_purged_of_its_evidence(
    rt: Runtime, clock: FixedClock
) -> None:
    old, _new = old_chain(rt, clock)
    with rt.engine.begin() as conn:
        conn.execute(
            text("UPDATE audit_events SET actor = 'mallory' WHERE seq = :s"), {"s": old[1]}
        )
    before = seqs(rt)
    with pytest.raises(AuditChainBroken, match="edited"):
        expire_events(rt)
    assert seqs(rt) == before and checkpoint_files(rt, "*-retention.json") == []

    # Old events deleted behind the log's back: retention will not paper over the gap.
    with rt.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_events WHERE seq <= :s"), {"s": old[1]})
    with pytest.raises(AuditChainBroken, match="deleted"):
        expire_events(rt)
    assert checkpoint_files(rt, "*-retention.json") == []


def test_a_verify_racing_a_retention_run_reads_its_checkpoint(
    rt: Runtime, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Checkpoints read just before a retention run commits: the walk still verifies."""
    old_chain(rt, clock)
    stale = rt_anchors(rt)
    expire_events(rt)
    import alpr_guard.checkpoints as checkpoints

    real: Callable[..., list[Anchor]] = checkpoints.rt_anchors
    calls = iter([stale])

    def first_stale(r: Runtime, **kwargs: Any) -> list[Anchor]:
        return next(calls, None) or real(r, **kwargs)

    monkeypatch.setattr(checkpoints, "rt_anchors", first_stale)
    with rt.sessions() as session:
        assert not verify_chain(session, rt.keyring, stale).ok
        assert verify_with_checkpoints(session, rt).ok


def test_no_plate_in_what_retention_writes(
    rt: Runtime, tokens: dict[str, str], clock: FixedClock
) -> None:
    who = officer(rt, tokens)
    search_at(rt, clock, who, CUTOFF - timedelta(days=1))
    append_at(rt, clock, CUTOFF + timedelta(days=1))
    clock.set(RUN_AT)
    assert expire_records(rt).searches_deleted == 1
    events = expire_events(rt)
    assert events.events_removed > 0 and events.checkpoint is not None
    with rt.sessions() as session:
        rows = session.execute(
            select(AuditEvent.kind, AuditEvent.subject, AuditEvent.details)
        ).all()
    assert any(kind == "audit.retention" for kind, _s, _d in rows)
    for _kind, subject, details in rows:
        assert PLATE not in (subject or "") and PLATE not in details
    for path in checkpoint_files(rt):
        assert PLATE not in path.read_text()
