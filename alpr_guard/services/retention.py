"""purge_expired: delete every read past its window, then crypto-shred fully expired keys.

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
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, and_, exists, func, or_, select, update
from sqlalchemy.orm import Session

from alpr_guard.audit import Actor
from alpr_guard.checkpoints import write_purge_receipt
from alpr_guard.db import (
    checkpoint_wal,
    delete_expired,
    execute_insert_ignore,
    reclaim_free_pages,
    session_scope,
)
from alpr_guard.errors import Conflict
from alpr_guard.models import DataKeyRecord, Lease, LegalHold, PlateRead, PurgeRun
from alpr_guard.progress import SILENT, Progress
from alpr_guard.runtime import Runtime
from alpr_guard.services import partitions
from alpr_guard.services.config_audit import record_policy
from alpr_guard.services.images import delete_orphans as delete_orphan_images
from alpr_guard.services.records_retention import expire_access_records, expire_audit_events
from alpr_guard.services.rekey import rekey_legacy_hits
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


def _expired(rt: Runtime, cutoff: datetime) -> Any:
    # Held reads have no expiry (NULL) and no class window, so this never selects them. The
    # window in force counts even where a stored expiry has not been brought to it yet.
    return past_window(READS, rt.settings.retention, cutoff)


def _kept_held(session: Session, rt: Runtime, cutoff: datetime) -> int:
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


def _shreddable(session: Session, rt: Runtime, cutoff: datetime) -> list[str]:
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


def plan_purge(session: Session, rt: Runtime) -> PurgePlan:
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


# -- the lease -------------------------------------------------------------------------------


def acquire_lease(session: Session, name: str, holder: str, now: datetime, ttl: timedelta) -> bool:
    """Take (or renew) the lease ``name`` unless another holder's is still live: not yet past
    its expiry, and not a process of this host that no longer exists."""
    execute_insert_ignore(
        session,
        cast(Table, Lease.__table__),
        ["name"],
        [{"name": name, "holder": holder, "acquired_at": now, "expires_at": now}],
    )
    current = session.scalar(select(Lease.holder).where(Lease.name == name))
    free = or_(Lease.expires_at <= now, Lease.holder == holder)
    if current is not None and current != holder and holder_is_dead(current):
        # Compare-and-set on the dead holder's name: a third process taking it first wins.
        free = or_(free, Lease.holder == current)
        log.warning("lease %r: holder %s is no longer running; taking over", name, current)
    taken = session.execute(
        update(Lease)
        .where(Lease.name == name, free)
        .values(holder=holder, acquired_at=now, expires_at=now + ttl)
        .execution_options(synchronize_session=False)
    )
    return cast(int, getattr(taken, "rowcount", 0)) == 1


def renew_lease(session: Session, name: str, holder: str, now: datetime, ttl: timedelta) -> None:
    renewed = session.execute(
        update(Lease)
        .where(Lease.name == name, Lease.holder == holder)
        .values(expires_at=now + ttl)
        .execution_options(synchronize_session=False)
    )
    if cast(int, getattr(renewed, "rowcount", 0)) != 1:
        raise Conflict(f"lease {name!r} was lost to another process; stopping")


def release_lease(session: Session, name: str, holder: str, now: datetime) -> None:
    session.execute(
        update(Lease)
        .where(Lease.name == name, Lease.holder == holder)
        .values(expires_at=now)
        .execution_options(synchronize_session=False)
    )


def _host_identity() -> str:
    """This host as a lease holder names it: the host name and, on Linux, the PID namespace,
    so that two containers given the same host name never judge each other's processes."""
    name = socket.gethostname()[:60].replace(":", "_")
    try:
        return f"{name}~{os.stat('/proc/self/ns/pid').st_ino}"
    except OSError:
        return name


def _process_start(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (Linux), which tells a reused pid
    from the original; None where /proc is not available."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            # The command name (field 2) may hold spaces and parentheses: split after it.
            fields = stat.read().rsplit(b")", 1)[1].split()
    except OSError:
        return None
    return fields[19].decode() if len(fields) > 19 else None


def _pid_alive(pid: int, started: str) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, owned by someone else
    now_started = _process_start(pid)
    # A different start time is a new process that reused the pid: the holder is gone.
    return not (started and now_started is not None and now_started != started)


def default_holder() -> str:
    """``host:pid:start:token``: enough for another run on this host to tell whether the
    holder's process still exists."""
    pid = os.getpid()
    return f"{_host_identity()}:{pid}:{_process_start(pid) or ''}:{uuid.uuid4().hex[:8]}"


def holder_is_dead(holder: str) -> bool:
    """True only when certain: the holder ran on this host and its process is gone. A holder
    on another host (or in an unknown format) is judged by its lease's expiry alone."""
    parts = holder.split(":")
    if len(parts) != 4 or parts[0] != _host_identity() or not parts[1].isdigit():
        return False
    pid = int(parts[1])
    if pid == os.getpid():
        return False  # this process: another thread of ours may hold it
    return not _pid_alive(pid, parts[2])


class LeaseHeartbeat:
    """Renews the lease every ``interval`` seconds from a background thread while the run
    works, so a live purge never looks silent, however long one step takes; a killed one
    stops renewing at once. If the lease is lost the beats stop, and the run's own renewal at
    its next step raises Conflict."""

    def __init__(
        self, rt: Runtime, name: str, holder: str, ttl: timedelta, interval: float
    ) -> None:
        self._rt, self._name, self._holder, self._ttl = rt, name, holder, ttl
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"lease-{name}", daemon=True)

    def __enter__(self) -> LeaseHeartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                with session_scope(self._rt.sessions) as session:
                    renew_lease(session, self._name, self._holder, self._rt.clock.now(), self._ttl)
            except Conflict:
                return
            except Exception:  # a busy database: try again at the next beat
                log.warning("lease %r: heartbeat failed; retrying", self._name, exc_info=True)


def heartbeat_interval(lease_seconds: int) -> float:
    """A sixth of the lease, at most 5 s: several beats can fail before the lease lapses."""
    return min(5.0, lease_seconds / 6)


# -- the run ---------------------------------------------------------------------------------


def purge_expired(
    rt: Runtime, *, trigger: str, holder: str | None = None, progress: Progress = SILENT
) -> PurgeReceipt:
    """Run (or resume) a purge under the lease and return its receipt. ``progress`` is told
    each partition's and each batch's deleted reads as they commit.

    Raises Conflict if another live process holds the purge lease.
    """
    holder = holder or default_holder()
    ttl = timedelta(seconds=rt.settings.purge.lease_seconds)
    started = time.monotonic()
    with session_scope(rt.sessions) as session:
        now = rt.clock.now()
        if not acquire_lease(session, LEASE_NAME, holder, now, ttl):
            raise Conflict("another process is purging (lease held); try again later")
        # The policy this run enforces is recorded, and stored expiries follow its windows
        # before anything is chosen for deletion, so the row sweep, partition drops and key
        # shredding all see a shortened window (services.windows).
        clock = time.perf_counter()
        record_policy(session, rt, PURGE_ACTOR)
        phases = {"policy": time.perf_counter() - clock}
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
        else:
            # A run that died (its lease lapsed): finish it, moving its cutoff to now.
            run.resumed += 1
            run.cutoff = now
            log.warning("resuming purge run %s left unfinished (%s)", run.id, run.status)
        run_id = run.id
    heartbeat = LeaseHeartbeat(
        rt, LEASE_NAME, holder, ttl, heartbeat_interval(rt.settings.purge.lease_seconds)
    )
    try:
        with heartbeat:
            # Each phase's time goes to the log, so a slow run says where its time went.
            clock = time.perf_counter()
            steps: list[tuple[str, Callable[[], object]]] = [
                ("rekey", lambda: _rekey_legacy_hits(rt, holder, ttl)),
                ("partitions", lambda: _drop_partitions(rt, run_id, holder, ttl, progress)),
                ("rows", lambda: _delete_batches(rt, run_id, holder, ttl, progress)),
                ("images", lambda: _delete_images(rt, holder, ttl)),
                ("mark_keys", lambda: _mark_keys(rt, run_id, holder, ttl)),
                ("shred", lambda: _destroy_marked(rt)),
                ("records", lambda: _expire_records(rt, run_id, holder, ttl)),
            ]
            for name, phase in steps:
                phase()
                phases[name] = time.perf_counter() - clock
                clock = time.perf_counter()
            freed = reclaim_free_pages(rt.engine)
            if freed:
                log.info("returned %d free pages to the file system", freed)
            receipt = _complete(rt, run_id, holder, started)
            phases["reclaim_and_receipt"] = time.perf_counter() - clock
    finally:
        with session_scope(rt.sessions) as session:
            release_lease(session, LEASE_NAME, holder, rt.clock.now())
    log.info(
        "purge %s: deleted %s, kept %d held, destroyed %d keys in %.2fs (%s)",
        receipt.run_id,
        dict(receipt.deleted_by_class),
        receipt.kept_held,
        len(receipt.keys_destroyed),
        receipt.duration_s,
        ", ".join(f"{name} {seconds:.2f}s" for name, seconds in phases.items()),
    )
    return receipt


def _rekey_legacy_hits(rt: Runtime, holder: str, ttl: timedelta) -> None:
    """Hits stored under day keys by earlier versions move to their month key before any day
    key is destroyed (a no-op once done)."""
    moved = 1
    while moved:
        with session_scope(rt.sessions) as session:
            renew_lease(session, LEASE_NAME, holder, rt.clock.now(), ttl)
            moved = rekey_legacy_hits(session, rt)
        if moved:
            log.info("moved %d hit reads from day keys to their month keys", moved)


def _drop_partitions(
    rt: Runtime, run_id: uuid.UUID, holder: str, ttl: timedelta, progress: Progress
) -> None:
    """PostgreSQL: create the coming partitions, then drop each wholly expired one, one per
    transaction with the run's counters (DDL is transactional there, so a crash leaves either
    the partition and its count, or neither)."""
    with session_scope(rt.sessions) as session:
        if not partitions.is_partitioned(session):
            return
        created = partitions.ensure_partitions(session, rt.clock.now())
        if created:
            log.info("created partitions %s", ", ".join(created))
        run = session.get_one(PurgeRun, run_id)
        if run.status != PurgeStatus.DELETING:
            return
        due = partitions.expired_partitions(session, rt, run.cutoff)
    for part in due:
        t0 = time.perf_counter()
        with session_scope(rt.sessions) as session:
            run = session.get_one(PurgeRun, run_id)
            renew_lease(session, LEASE_NAME, holder, rt.clock.now(), ttl)
            dropped = partitions.drop_partition(session, part, run.cutoff)
            if dropped is None:
                continue  # something in it outlives its window: the row sweep handles it
            if part.retention_class == RetentionClass.HIT:
                run.deleted_hit += dropped
            else:
                run.deleted_unmatched += dropped
            run.partitions_dropped += 1
        progress.advance(dropped)
        with session_scope(rt.sessions) as session:
            run = session.get_one(PurgeRun, run_id)
            elapsed_ms = (time.perf_counter() - t0) * 1000
            run.delete_ms += elapsed_ms
            run.max_batch_ms = max(run.max_batch_ms, elapsed_ms)


def _delete_batches(
    rt: Runtime, run_id: uuid.UUID, holder: str, ttl: timedelta, progress: Progress
) -> None:
    # A quarter of the ceiling: room for a slow commit and for a batch that finds colder pages.
    target_ms = rt.settings.purge.max_batch_ms / 4
    size = FIRST_BATCH
    last_ms = 0.0  # the previous batch's whole transaction, commit included
    checkpoint_wal(rt.engine)
    while True:
        t0 = time.perf_counter()
        with session_scope(rt.sessions) as session:
            run = session.get_one(PurgeRun, run_id)
            run.max_batch_ms = max(run.max_batch_ms, last_ms)
            run.delete_ms += last_ms
            if run.status != PurgeStatus.DELETING:
                return
            renew_lease(session, LEASE_NAME, holder, rt.clock.now(), ttl)
            classes = delete_expired(session, READS, run.cutoff, size)
            if not classes:
                run.status = PurgeStatus.SHREDDING
                return
            hits = classes.count(RetentionClass.HIT)
            run.deleted_hit += hits
            run.deleted_unmatched += len(classes) - hits
            run.batches += 1
        progress.advance(len(classes))
        # The whole transaction, commit included, is what holds the writer.
        last_ms = (time.perf_counter() - t0) * 1000
        if last_ms > 0:
            size = max(100, min(MAX_BATCH, 2 * size, int(size * target_ms / last_ms)))


IMAGE_BATCH = 2_000


def _delete_images(rt: Runtime, holder: str, ttl: timedelta) -> int:
    """Delete the images of every read now gone (deleted above, or its partition dropped),
    in short transactions, before their keys are destroyed: the rows go, and with the key
    every copy of them becomes unreadable."""
    total = 0
    while True:
        with session_scope(rt.sessions) as session:
            renew_lease(session, LEASE_NAME, holder, rt.clock.now(), ttl)
            deleted = delete_orphan_images(session, IMAGE_BATCH)
        total += deleted
        if deleted < IMAGE_BATCH:
            break
    if total:
        log.info("deleted %d images of purged reads", total)
    return total


def _mark_keys(rt: Runtime, run_id: uuid.UUID, holder: str, ttl: timedelta) -> None:
    """Mark shreddable keys destroyed in the database, the step that makes shredding final."""
    with session_scope(rt.sessions) as session:
        run = session.get_one(PurgeRun, run_id)
        if run.status == PurgeStatus.SHREDDING and run.keys_destroyed is None:
            renew_lease(session, LEASE_NAME, holder, rt.clock.now(), ttl)
            keys = _shreddable(session, rt, run.cutoff)
            if keys:
                session.execute(
                    update(DataKeyRecord)
                    .where(DataKeyRecord.key_id.in_(keys))
                    .values(destroyed_at=rt.clock.now())
                    .execution_options(synchronize_session=False)
                )
            run.keys_destroyed = json.dumps(keys)


def _destroy_marked(rt: Runtime) -> None:
    """Remove from the key store every key the database marks destroyed (this run's, and any
    an earlier crash left behind), and from this process's memory. Idempotent; one listing
    of the store, not a look-up per key ever destroyed."""
    with session_scope(rt.sessions) as session:
        marked = set(
            session.scalars(
                select(DataKeyRecord.key_id).where(DataKeyRecord.destroyed_at.is_not(None))
            )
        )
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


def _expire_records(rt: Runtime, run_id: uuid.UUID, holder: str, ttl: timedelta) -> None:
    """Access records (searches, shares, their findings) and then the audit log's own old
    events, each in bounded batches, one transaction per batch with the run's counters."""
    for step in ("access", "audit"):
        more = True
        while more:
            with session_scope(rt.sessions) as session:
                run = session.get_one(PurgeRun, run_id)
                renew_lease(session, LEASE_NAME, holder, rt.clock.now(), ttl)
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


def _record_counts(run: PurgeRun) -> dict[str, int]:
    counts = dict.fromkeys(RECORD_COUNTS, 0)
    counts.update(json.loads(run.records_expired or "{}"))
    return counts


def _complete(rt: Runtime, run_id: uuid.UUID, holder: str, started: float) -> PurgeReceipt:
    with session_scope(rt.sessions) as session:
        run = session.get_one(PurgeRun, run_id)
        kept = _kept_held(session, rt, run.cutoff)
        duration = time.monotonic() - started
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
            duration_s=duration,
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
        seq, digest, details = event.seq, event.hash, json.loads(event.details)
    # After the commit: a signed copy in every checkpoint directory, checkable without the
    # master key (a directory that cannot take it fails the run loudly; the receipt is in the
    # chain already).
    write_purge_receipt(rt, run_id=str(run_id), seq=seq, digest=digest, receipt=details)
    return replace(receipt, audit_seq=seq)


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
