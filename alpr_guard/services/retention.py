"""The purge's units of work: delete every read past its window, then crypto-shred fully
expired keys. The process that runs them, each in a transaction of its own under the purge
lease, is ``jobs.purge.purge_expired``; the dry run (``plan_purge``) is one read.

Issue #3; Civil Code 1798.90.51(b)/.53(b)(6) (the usage policy states how long data is kept,
and the system must keep it no longer); the State Auditor's 2019-118 finding that agencies
kept reads "just in case". The rules:

* A read's expiry is computed at ingest from its class (``retention.unmatched`` /
  ``retention.hit``), recomputed when a legal hold is placed or released, and brought to the
  windows in force when the configuration changes (``services.windows``; every purge starts
  with it). Held reads have none. Search and sharing already ignore a read past its window in
  force; the purge makes it gone.
* Deletion runs in batches sized so that no batch holds the SQLite writer longer than
  ``purge.max_batch_ms``; each batch commits its deletions *and* the run's counters together,
  so a run killed at any instant (kill -9 included) has a true count of what it deleted.
* Then, in one transaction, the keys whose every read is gone are marked destroyed (never to
  be recreated: ingest refuses their days) and, after that commit, removed from the key store.
  Every copy of their rows, including database backups taken before the purge, is unreadable.
  A crash between the two steps is finished by the next run, which destroys any key the
  database marks destroyed but the store still holds.
* Each run ends with a receipt in the audit chain (``purge.completed``): cutoff, rows deleted
  per class, rows kept because held, keys destroyed by id, duration. Counts only, no plates.
  A copy signed with the instance's Ed25519 key goes to every checkpoint directory.
* A lease row in the database (``leases``) makes sure two processes never purge at once. The
  holder proves it is alive: a background heartbeat renews the lease every few seconds, so a
  holder silent for ``purge.lease_seconds`` is dead; and a holder on this host whose process
  is gone (kill -9) is dead at once. The next run then resumes its unfinished ``purge_runs`` row.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, and_, exists, func, or_, select, update
from sqlalchemy.orm import Session

from alpr_guard.audit import Actor
from alpr_guard.db import (
    delete_expired,
)
from alpr_guard.models import DataKeyRecord, LegalHold, PlateRead, PurgeRun
from alpr_guard.services import partitions
from alpr_guard.services.config_audit import record_policy
from alpr_guard.services.deps import Deps
from alpr_guard.services.images import delete_orphans as delete_orphan_images
from alpr_guard.services.records_retention import expire_access_records, expire_audit_events
from alpr_guard.services.windows import live, past_window
from alpr_guard.vocabulary import AuditKind, HoldStatus, PurgeStatus, RetentionClass

log = logging.getLogger(__name__)

PURGE_ACTOR = Actor("system:purge", None)
LEASE_NAME = "purge"
READS = cast(Table, PlateRead.__table__)
FIRST_BATCH = 500  # grown from here by measurement: a cold first batch must stay short
MAX_BATCH = 50_000


@dataclass(frozen=True)
class PurgePlan:
    """What a purge at ``cutoff`` deletes and destroys (``alpr-guard purge --dry-run``)."""

    cutoff: datetime
    deleted_by_class: Mapping[str, int]
    kept_held: int
    keys: tuple[str, ...]
    records_expired: Mapping[str, int] = field(default_factory=dict)

    def as_json(self) -> dict[str, object]:
        return {
            "cutoff": self.cutoff.isoformat(),
            "deleted_by_class": dict(self.deleted_by_class),
            "kept_held": self.kept_held,
            "keys_destroyed": list(self.keys),
            "records_expired": dict(self.records_expired),
        }


@dataclass(frozen=True)
class PurgeReceipt:
    run_id: uuid.UUID
    cutoff: datetime
    deleted_by_class: Mapping[str, int]
    kept_held: int
    keys_destroyed: tuple[str, ...]
    batches: int
    max_batch_ms: float
    delete_ms: float
    duration_s: float
    resumed: int
    audit_seq: int | None
    partitions_dropped: int = 0
    records_expired: Mapping[str, int] = field(default_factory=dict)

    def as_json(self) -> dict[str, object]:
        return {
            "run_id": str(self.run_id),
            "cutoff": self.cutoff.isoformat(),
            "deleted_by_class": dict(self.deleted_by_class),
            "kept_held": self.kept_held,
            "keys_destroyed": list(self.keys_destroyed),
            "batches": self.batches,
            "partitions_dropped": self.partitions_dropped,
            "max_batch_ms": round(self.max_batch_ms, 3),
            "delete_ms": round(self.delete_ms, 3),
            "duration_s": round(self.duration_s, 3),
            "resumed": self.resumed,
            "audit_seq": self.audit_seq,
            "records_expired": dict(self.records_expired),
        }


# -- what is due -----------------------------------------------------------------------------


def _expired(rt: Deps, cutoff: datetime) -> Any:
    # Held reads have no expiry (NULL) and no class window, so this never selects them. The
    # window in force counts even where a stored expiry has not been brought to it yet.
    return past_window(READS, rt.settings.retention, cutoff)


def _kept_held(session: Session, rt: Deps, cutoff: datetime) -> int:
    """Held reads that their class would already have deleted."""
    retention = rt.settings.retention
    return int(
        session.scalar(
            select(func.count())
            .select_from(READS)
            .where(
                READS.c.retention_class == RetentionClass.HELD,
                or_(
                    and_(
                        READS.c.hit.is_(True),
                        READS.c.observed_at <= cutoff - timedelta(days=retention.hit.days),
                    ),
                    and_(
                        READS.c.hit.is_(False),
                        READS.c.observed_at <= cutoff - timedelta(days=retention.unmatched.days),
                    ),
                ),
            )
        )
        or 0
    )


def _shreddable(session: Session, rt: Deps, cutoff: datetime) -> list[str]:
    """Live keys no surviving read needs: their epoch is past the class window (so ingest
    refuses new reads for it and no released hold can return a read to it) and every read
    under them is expired; a hold key once its hold is released and its reads expired."""
    retention = rt.settings.retention
    keys = DataKeyRecord
    survivor = exists().where(
        READS.c.key_id == keys.key_id, live(READS, rt.settings.retention, cutoff)
    )
    released = select(LegalHold.key_id).where(LegalHold.status == HoldStatus.RELEASED)
    return list(
        session.scalars(
            select(keys.key_id)
            .where(
                keys.destroyed_at.is_(None),
                or_(
                    and_(
                        keys.scope == "day",
                        keys.epoch_end <= cutoff - timedelta(days=retention.unmatched.days),
                    ),
                    and_(
                        keys.scope == "period",
                        keys.epoch_end <= cutoff - timedelta(days=retention.hit.days),
                    ),
                    and_(keys.scope == "hold", keys.key_id.in_(released)),
                ),
                ~survivor,
            )
            .order_by(keys.key_id)
        )
    )


def plan_purge(session: Session, rt: Deps) -> PurgePlan:
    """The dry run: what a purge now would delete, keep and destroy. Changes nothing."""
    cutoff = rt.clock.now()
    counts: dict[str, int] = {RetentionClass.UNMATCHED: 0, RetentionClass.HIT: 0}
    for cls, n in session.execute(
        select(READS.c.retention_class, func.count())
        .where(_expired(rt, cutoff))
        .group_by(READS.c.retention_class)
    ):
        counts[cls] = int(n)
    access = expire_access_records(session, rt, cutoff, dry_run=True)
    events = expire_audit_events(session, rt, cutoff, dry_run=True)
    return PurgePlan(
        cutoff=cutoff,
        deleted_by_class=counts,
        kept_held=_kept_held(session, rt, cutoff),
        keys=tuple(_shreddable(session, rt, cutoff)),
        records_expired={
            "searches_deleted": access.searches_deleted,
            "findings_deleted": access.findings_deleted,
            "shares_deleted": access.shares_deleted,
            "searches_kept_open_finding": access.searches_kept_open_finding,
            "audit_events_removed": events.events_removed,
        },
    )


# -- a run's units of work ------------------------------------------------------------------
#
# Each function below is one unit of the purge: it takes a session and flushes; the purge
# process (``jobs.purge``) runs each in a transaction of its own under the purge lease, so each
# batch commits its deletions *and* the run's counters together.


def record_purge_policy(session: Session, rt: Deps) -> None:
    """The policy a run enforces goes on the record, and stored expiries follow its windows
    before anything is chosen for deletion, so the row sweep, partition drops and key
    shredding all see a shortened window (services.windows)."""
    record_policy(session, rt, PURGE_ACTOR)


def open_run(session: Session, trigger: str, now: datetime) -> uuid.UUID:
    """The unfinished run to resume (its cutoff moved to ``now``), or a new one."""
    run = session.scalars(
        select(PurgeRun)
        .where(PurgeRun.status != PurgeStatus.COMPLETED)
        .order_by(PurgeRun.started_at)
    ).first()
    if run is None:
        run = PurgeRun(
            id=uuid.uuid4(),
            started_at=now,
            cutoff=now,
            status=PurgeStatus.DELETING,
            trigger=trigger,
            deleted_unmatched=0,
            deleted_hit=0,
            batches=0,
            partitions_dropped=0,
            max_batch_ms=0.0,
            delete_ms=0.0,
            resumed=0,
        )
        session.add(run)
        session.flush()
    else:
        # A run that died (its lease lapsed): finish it, moving its cutoff to now.
        run.resumed += 1
        run.cutoff = now
        log.warning("resuming purge run %s left unfinished (%s)", run.id, run.status)
    return run.id


def partitions_due(session: Session, rt: Deps, run_id: uuid.UUID) -> list[partitions.Partition]:
    """PostgreSQL: create the coming partitions; then the wholly expired ones, if the run is
    still deleting (none where reads are not partitioned)."""
    if not partitions.is_partitioned(session):
        return []
    created = partitions.ensure_partitions(session, rt.clock.now())
    if created:
        log.info("created partitions %s", ", ".join(created))
    run = session.get_one(PurgeRun, run_id)
    if run.status != PurgeStatus.DELETING:
        return []
    return partitions.expired_partitions(session, rt, run.cutoff)


def drop_partition(session: Session, run_id: uuid.UUID, part: partitions.Partition) -> int | None:
    """Drop one expired partition and count its reads in the run (DDL is transactional on
    PostgreSQL, so a crash leaves either the partition and its count, or neither). None if
    something in it outlives its window: the row sweep handles it."""
    run = session.get_one(PurgeRun, run_id)
    dropped = partitions.drop_partition(session, part, run.cutoff)
    if dropped is None:
        return None
    if part.retention_class == RetentionClass.HIT:
        run.deleted_hit += dropped
    else:
        run.deleted_unmatched += dropped
    run.partitions_dropped += 1
    session.flush()
    return dropped


def note_batch_time(session: Session, run_id: uuid.UUID, elapsed_ms: float) -> None:
    run = session.get_one(PurgeRun, run_id)
    run.delete_ms += elapsed_ms
    run.max_batch_ms = max(run.max_batch_ms, elapsed_ms)
    session.flush()


def delete_batch(session: Session, run_id: uuid.UUID, size: int, last_ms: float) -> int | None:
    """Delete up to ``size`` expired reads and count them, with the previous batch's time
    (``last_ms``, its commit included). None once the run is past deleting; 0 when nothing
    was left, which moves the run on to shredding."""
    run = session.get_one(PurgeRun, run_id)
    run.max_batch_ms = max(run.max_batch_ms, last_ms)
    run.delete_ms += last_ms
    if run.status != PurgeStatus.DELETING:
        session.flush()
        return None
    classes = delete_expired(session, READS, run.cutoff, size)
    if not classes:
        run.status = PurgeStatus.SHREDDING
    else:
        hits = classes.count(RetentionClass.HIT)
        run.deleted_hit += hits
        run.deleted_unmatched += len(classes) - hits
        run.batches += 1
    session.flush()
    return len(classes)


def next_batch_size(size: int, last_ms: float, target_ms: float) -> int:
    """Grow or shrink the batch towards ``target_ms`` a batch, at most doubling."""
    if last_ms <= 0:
        return size
    return max(100, min(MAX_BATCH, 2 * size, int(size * target_ms / last_ms)))


IMAGE_BATCH = 2_000


def delete_images(session: Session) -> int:
    """Delete up to IMAGE_BATCH images of reads now gone (deleted, or their partition
    dropped); run before their keys are destroyed."""
    return delete_orphan_images(session, IMAGE_BATCH)


def mark_keys(session: Session, rt: Deps, run_id: uuid.UUID) -> bool:
    """Mark shreddable keys destroyed in the database, the step that makes shredding final.
    False (and nothing done) unless the run is shredding and has not marked them yet."""
    run = session.get_one(PurgeRun, run_id)
    if run.status != PurgeStatus.SHREDDING or run.keys_destroyed is not None:
        return False
    keys = _shreddable(session, rt, run.cutoff)
    if keys:
        session.execute(
            update(DataKeyRecord)
            .where(DataKeyRecord.key_id.in_(keys))
            .values(destroyed_at=rt.clock.now())
            .execution_options(synchronize_session=False)
        )
    run.keys_destroyed = json.dumps(keys)
    session.flush()
    return True


def marked_keys(session: Session) -> set[str]:
    """Every key the database marks destroyed (this run's, and any an earlier crash left)."""
    return set(
        session.scalars(select(DataKeyRecord.key_id).where(DataKeyRecord.destroyed_at.is_not(None)))
    )


def destroy_marked(rt: Deps, marked: set[str]) -> None:
    """Remove from the key store every key in ``marked`` it still holds, and from this
    process's memory. Idempotent; one listing of the store, not a look-up per key ever
    destroyed."""
    stored = set(rt.keyring.store.key_ids())
    for key_id in sorted(marked):
        if key_id in stored and rt.keyring.destroy(key_id):
            log.info("crypto-shredded data key %s", key_id)
        else:
            rt.keyring.forget(key_id)


RECORD_COUNTS = (
    "searches_deleted",
    "findings_deleted",
    "shares_deleted",
    "searches_kept_open_finding",
    "audit_events_removed",
)


def expire_records_batch(session: Session, rt: Deps, run_id: uuid.UUID, step: str) -> bool:
    """One bounded batch of the access records (``step`` "access": searches, shares, their
    findings) or of the audit log's own old events ("audit"), counted in the run. True if
    more are due."""
    run = session.get_one(PurgeRun, run_id)
    counts = _record_counts(run)
    if step == "access":
        access = expire_access_records(session, rt, run.cutoff)
        counts["searches_deleted"] += access.searches_deleted
        counts["findings_deleted"] += access.findings_deleted
        counts["shares_deleted"] += access.shares_deleted
        counts["searches_kept_open_finding"] = access.searches_kept_open_finding
        more = access.more
    else:
        events = expire_audit_events(session, rt, run.cutoff)
        counts["audit_events_removed"] += events.events_removed
        more = events.more
        if events.events_removed and not more:
            # The last config.policy event may have gone: record the policy again.
            record_policy(session, rt, PURGE_ACTOR)
    run.records_expired = json.dumps(counts, sort_keys=True)
    session.flush()
    return more


def _record_counts(run: PurgeRun) -> dict[str, int]:
    counts = dict.fromkeys(RECORD_COUNTS, 0)
    counts.update(json.loads(run.records_expired or "{}"))
    return counts


@dataclass(frozen=True)
class CompletedRun:
    """A run's receipt and its event in the chain (for the signed copy, after the commit)."""

    receipt: PurgeReceipt
    digest: str
    details: dict[str, Any]


def complete_run(session: Session, rt: Deps, run_id: uuid.UUID, duration_s: float) -> CompletedRun:
    """The receipt: the run's counts into a ``purge.completed`` event; the run completed."""
    run = session.get_one(PurgeRun, run_id)
    kept = _kept_held(session, rt, run.cutoff)
    receipt = PurgeReceipt(
        run_id=run.id,
        cutoff=run.cutoff,
        deleted_by_class={
            RetentionClass.UNMATCHED: run.deleted_unmatched,
            RetentionClass.HIT: run.deleted_hit,
        },
        kept_held=kept,
        keys_destroyed=tuple(json.loads(run.keys_destroyed or "[]")),
        batches=run.batches,
        max_batch_ms=run.max_batch_ms,
        delete_ms=run.delete_ms,
        duration_s=duration_s,
        partitions_dropped=run.partitions_dropped,
        resumed=run.resumed,
        audit_seq=None,
        records_expired=_record_counts(run),
    )
    event = rt.audit.append(
        session,
        AuditKind.PURGE_COMPLETED,
        PURGE_ACTOR,
        subject=f"purge:{run.id}",
        details={**receipt.as_json(), "trigger": run.trigger},
    )
    run.status = PurgeStatus.COMPLETED
    run.finished_at = rt.clock.now()
    run.audit_seq = event.seq
    session.flush()
    return CompletedRun(
        replace(receipt, audit_seq=event.seq), event.hash, json.loads(event.details)
    )


def list_purges(session: Session, limit: int = 100) -> list[dict[str, object]]:
    """Purge runs, newest first, as auditors see them (counts and key ids only)."""
    runs = session.scalars(select(PurgeRun).order_by(PurgeRun.started_at.desc()).limit(limit)).all()
    return [
        {
            "run_id": str(r.id),
            "status": r.status,
            "trigger": r.trigger,
            "started_at": r.started_at.isoformat(),
            "finished_at": r.finished_at.isoformat() if r.finished_at else None,
            "cutoff": r.cutoff.isoformat(),
            "deleted_by_class": {
                RetentionClass.UNMATCHED: r.deleted_unmatched,
                RetentionClass.HIT: r.deleted_hit,
            },
            "keys_destroyed": json.loads(r.keys_destroyed or "[]"),
            "records_expired": json.loads(r.records_expired or "{}"),
            "batches": r.batches,
            "partitions_dropped": r.partitions_dropped,
            "max_batch_ms": round(r.max_batch_ms, 3),
            "delete_ms": round(r.delete_ms, 3),
            "resumed": r.resumed,
            "audit_seq": r.audit_seq,
        }
        for r in runs
    ]
