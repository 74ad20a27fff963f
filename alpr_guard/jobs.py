"""Scheduler wiring: thin wrappers over services, one transaction per job run.

``alpr-guard scheduler`` runs these in their own process: the nightly access review, the
retention purge and the audit-chain checkpoints. The review and checkpoints are idempotent
(findings are unique per search and rule; a checkpoint of an unchanged head says the same thing
twice), so a second scheduler by mistake duplicates work and a few audit events, never
findings. The purge takes the database lease (``services.retention``): a second scheduler's
purge finds it held and skips that run.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger

from alpr_guard.audit import Actor
from alpr_guard.checkpoints import write_checkpoint
from alpr_guard.db import session_scope
from alpr_guard.errors import Conflict
from alpr_guard.runtime import Runtime
from alpr_guard.services.retention import purge_expired
from alpr_guard.services.review import review_access

log = logging.getLogger(__name__)


def run_review(rt: Runtime) -> None:
    # The review runs its own short transactions: reads without the write lock, findings and
    # its audit event in small writes, so ingest and searches never wait for it.
    result = review_access(rt)
    log.info(
        "access review: %d searches, %d new findings, %.1fs",
        result.searches_scanned,
        result.new_findings,
        result.seconds,
    )


def run_purge(rt: Runtime) -> None:
    try:
        receipt = purge_expired(rt, trigger="scheduler")
    except Conflict as exc:
        log.warning("purge skipped: %s", exc.message)
        return
    log.info(
        "purge: deleted %s, destroyed %d keys (receipt at audit seq %s)",
        dict(receipt.deleted_by_class),
        len(receipt.keys_destroyed),
        receipt.audit_seq,
    )


def run_checkpoint(rt: Runtime) -> None:
    with session_scope(rt.sessions) as session:
        checkpoint = write_checkpoint(session, rt, Actor("system:checkpoint", None))
    if checkpoint is not None:
        log.info("audit checkpoint at seq %d written to %s", checkpoint.seq, checkpoint.path)


def run_config_drift(rt: Runtime) -> None:
    from alpr_guard.services.config_audit import check_drift

    with session_scope(rt.sessions) as session:
        drift = check_drift(session, rt, Actor("system:config", None))
    if drift.drifted:
        log.warning(
            "configuration drift: %d values differ (audit event config.drift)", len(drift.diff)
        )


def _add_cron_job(
    scheduler: BlockingScheduler,
    job: Callable[[Runtime], None],
    cron: str,
    rt: Runtime,
    job_id: str,
) -> None:
    # One at a time, missed runs coalesced: a late nightly review still runs once, not twice.
    scheduler.add_job(
        job,
        CronTrigger.from_crontab(cron, timezone="UTC"),
        args=[rt],
        id=job_id,
        max_instances=1,
        coalesce=True,
        misfire_grace_time=3600,
    )


def build_scheduler(rt: Runtime) -> BlockingScheduler:
    scheduler = BlockingScheduler(timezone="UTC")
    _add_cron_job(scheduler, run_review, rt.settings.review.schedule, rt, "access_review")
    _add_cron_job(scheduler, run_purge, rt.settings.purge.schedule, rt, "retention_purge")
    # Daily, with the review: is the policy enforced still the one on file and on the record?
    _add_cron_job(scheduler, run_config_drift, rt.settings.review.schedule, rt, "config_drift")
    if rt.settings.audit.checkpoint_dir is not None:
        _add_cron_job(
            scheduler, run_checkpoint, rt.settings.audit.checkpoint_schedule, rt, "audit_checkpoint"
        )
    return scheduler
