"""purge_expired: the retention purge as a process of many short transactions.

What is purged and why is in ``services.retention``, whose functions are the purge's units of
work (each takes a session and flushes). This module runs them: it takes the purge lease,
runs each unit in a transaction of its own through a ``LeasedRunner`` (so each batch commits
its deletions and the run's counters together, and none commits after the lease was lost),
keeps the lease alive with a heartbeat while a long unit runs, and releases it at the end.

A lease row in the database (``leases``) makes sure two processes never purge at once. The
holder proves it is alive: the heartbeat renews the lease every few seconds, so a holder silent
for ``purge.lease_seconds`` is dead; and a holder on this host whose process is gone (kill -9)
is dead at once. The next run then resumes its unfinished ``purge_runs`` row.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from functools import partial

from alpr_guard.checkpoints import write_purge_receipt
from alpr_guard.db import checkpoint_wal, reclaim_free_pages
from alpr_guard.errors import Conflict
from alpr_guard.jobs.runner import (
    Lease,
    LeasedRunner,
    TransactionRunner,
    acquire_lease,
    default_holder,
    heartbeat_interval,
    release_lease,
)
from alpr_guard.progress import SILENT, Progress
from alpr_guard.runtime import Runtime
from alpr_guard.services import retention
from alpr_guard.services.deps import ServiceDeps
from alpr_guard.services.rekey import rekey_legacy_hits
from alpr_guard.services.retention import FIRST_BATCH, PurgeReceipt

log = logging.getLogger(__name__)

LEASE_NAME = "purge"


def purge_expired(
    rt: Runtime, *, trigger: str, holder: str | None = None, progress: Progress = SILENT
) -> PurgeReceipt:
    """Run (or resume) a purge under the lease and return its receipt. ``progress`` is told
    each partition's and each batch's deleted reads as they commit.

    Raises Conflict if another live process holds the purge lease.
    """
    holder = holder or default_holder()
    ttl = timedelta(seconds=rt.settings.purge.lease_seconds)
    deps = ServiceDeps.of(rt)
    runner = TransactionRunner.of(rt)
    started = time.monotonic()
    with runner.transaction() as session:
        now = deps.clock.now()
        if not acquire_lease(session, LEASE_NAME, holder, now, ttl):
            raise Conflict("another process is purging (lease held); try again later")
        clock = time.perf_counter()
        retention.record_purge_policy(session, deps)
        phases = {"policy": time.perf_counter() - clock}
        run_id = retention.open_run(session, trigger, now)
    leased = _leased(rt, holder, ttl)
    try:
        with leased.heartbeat(heartbeat_interval(rt.settings.purge.lease_seconds)):
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
            freed = reclaim_free_pages(runner.engine)
            if freed:
                log.info("returned %d free pages to the file system", freed)
            receipt = _complete(rt, run_id, started)
            phases["reclaim_and_receipt"] = time.perf_counter() - clock
    finally:
        with runner.transaction() as session:
            release_lease(session, LEASE_NAME, holder, deps.clock.now())
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


def _leased(rt: Runtime, holder: str, ttl: timedelta) -> LeasedRunner:
    """Transactions that each renew the purge lease first (Conflict once it is lost)."""
    return TransactionRunner.of(rt).leased(Lease(LEASE_NAME, holder, ttl), rt.clock)


def _rekey_legacy_hits(rt: Runtime, holder: str, ttl: timedelta) -> None:
    """Hits stored under day keys by earlier versions move to their month key before any day
    key is destroyed (a no-op once done)."""
    deps = ServiceDeps.of(rt)
    leased = _leased(rt, holder, ttl)
    moved = 1
    while moved:
        moved = leased.run(lambda session: rekey_legacy_hits(session, deps))
        if moved:
            log.info("moved %d hit reads from day keys to their month keys", moved)


def _drop_partitions(
    rt: Runtime, run_id: uuid.UUID, holder: str, ttl: timedelta, progress: Progress
) -> None:
    """PostgreSQL: create the coming partitions, then drop each wholly expired one, one per
    transaction with the run's counters."""
    deps = ServiceDeps.of(rt)
    runner = TransactionRunner.of(rt)
    leased = _leased(rt, holder, ttl)
    due = runner.run(lambda session: retention.partitions_due(session, deps, run_id))
    for part in due:
        t0 = time.perf_counter()
        dropped = leased.run(partial(retention.drop_partition, run_id=run_id, part=part))
        if dropped is None:
            continue  # something in it outlives its window: the row sweep handles it
        progress.advance(dropped)
        elapsed_ms = (time.perf_counter() - t0) * 1000
        runner.run(partial(retention.note_batch_time, run_id=run_id, elapsed_ms=elapsed_ms))


def _delete_batches(
    rt: Runtime, run_id: uuid.UUID, holder: str, ttl: timedelta, progress: Progress
) -> None:
    # A quarter of the ceiling: room for a slow commit and for a batch that finds colder pages.
    target_ms = rt.settings.purge.max_batch_ms / 4
    leased = _leased(rt, holder, ttl)
    size = FIRST_BATCH
    last_ms = 0.0  # the previous batch's whole transaction, commit included
    checkpoint_wal(leased.engine)
    while True:
        t0 = time.perf_counter()
        deleted = leased.run(
            partial(retention.delete_batch, run_id=run_id, size=size, last_ms=last_ms)
        )
        if not deleted:  # past deleting (None), or nothing left (0): the run now shreds
            return
        progress.advance(deleted)
        # The whole transaction, commit included, is what holds the writer.
        last_ms = (time.perf_counter() - t0) * 1000
        size = retention.next_batch_size(size, last_ms, target_ms)


def _delete_images(rt: Runtime, holder: str, ttl: timedelta) -> int:
    """Delete the images of every read now gone (deleted above, or its partition dropped),
    in short transactions, before their keys are destroyed: the rows go, and with the key
    every copy of them becomes unreadable."""
    leased = _leased(rt, holder, ttl)
    total = 0
    while True:
        deleted = leased.run(retention.delete_images)
        total += deleted
        if deleted < retention.IMAGE_BATCH:
            break
    if total:
        log.info("deleted %d images of purged reads", total)
    return total


def _mark_keys(rt: Runtime, run_id: uuid.UUID, holder: str, ttl: timedelta) -> None:
    """Mark shreddable keys destroyed in the database, the step that makes shredding final."""
    deps = ServiceDeps.of(rt)
    _leased(rt, holder, ttl).run(lambda session: retention.mark_keys(session, deps, run_id))


def _destroy_marked(rt: Runtime) -> None:
    """Remove from the key store every key the database marks destroyed (this run's, and any
    an earlier crash left behind): after the commit that marked them."""
    marked = TransactionRunner.of(rt).run(retention.marked_keys)
    retention.destroy_marked(ServiceDeps.of(rt), marked)


def _expire_records(rt: Runtime, run_id: uuid.UUID, holder: str, ttl: timedelta) -> None:
    """Access records (searches, shares, their findings) and then the audit log's own old
    events, each in bounded batches, one transaction per batch with the run's counters."""
    deps = ServiceDeps.of(rt)
    leased = _leased(rt, holder, ttl)
    for step in ("access", "audit"):
        batch = partial(retention.expire_records_batch, rt=deps, run_id=run_id, step=step)
        while leased.run(batch):
            pass


def _complete(rt: Runtime, run_id: uuid.UUID, started: float) -> PurgeReceipt:
    deps = ServiceDeps.of(rt)
    done = TransactionRunner.of(rt).run(
        lambda session: retention.complete_run(session, deps, run_id, time.monotonic() - started)
    )
    # After the commit: a signed copy in every checkpoint directory, checkable without the
    # master key (a directory that cannot take it fails the run loudly; the receipt is in the
    # chain already).
    receipt = done.receipt
    assert receipt.audit_seq is not None
    write_purge_receipt(
        deps, run_id=str(run_id), seq=receipt.audit_seq, digest=done.digest, receipt=done.details
    )
    return receipt
