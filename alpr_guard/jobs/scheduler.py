"""Scheduler wiring: thin wrappers over services, one transaction per job run.

``alpr-guard scheduler`` runs these in their own process: the nightly access review, the
retention purge, the configuration drift check (at start and every 24 hours) and the
audit-chain checkpoints (the hourly permanent ones, and the head
checkpoint every ``audit.checkpoint_interval_seconds``, which ``serve`` also runs in a thread
of its own, see ``HeadCheckpointer``, and both write once more when they stop). The review and
checkpoints are idempotent (findings are unique per search and rule; a checkpoint of an
unchanged head says the same thing twice, and a head checkpoint of it is not written at all),
so a second scheduler by mistake duplicates work and a few audit events, never findings. The
purge takes the database lease (``jobs.purge``): a second scheduler's purge finds it
held and skips that run.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from alpr_guard.audit import Actor
from alpr_guard.auth.lockout import prune_failures
from alpr_guard.auth.sessions import prune_sessions
from alpr_guard.checkpoints import ensure_dirs, write_checkpoint, write_head_checkpoint
from alpr_guard.db import session_scope
from alpr_guard.errors import Conflict
from alpr_guard.jobs.purge import purge_expired
from alpr_guard.jobs.review import review_access
from alpr_guard.runtime import Runtime
from alpr_guard.services.config_audit import check_drift
from alpr_guard.services.principals import disable_dormant

log = logging.getLogger(__name__)
DRIFT_INTERVAL_HOURS = 24


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
    # The receipt goes to every checkpoint directory: a purge waits until they all take it.
    ensure_dirs(rt)
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


def run_head_checkpoint(rt: Runtime) -> None:
    """Pin the chain head in every checkpoint directory, if an event was written since."""
    with rt.sessions() as session:
        checkpoint = write_head_checkpoint(session, rt)
    if checkpoint is not None:
        log.info("audit head checkpoint at seq %d", checkpoint.seq)


class HeadCheckpointer:
    """``serve``'s own head checkpoints: a daemon thread every
    ``audit.checkpoint_interval_seconds``, and a last one from ``stop`` when the server exits,
    so at most one interval of events is ever unpinned, even with no scheduler running."""

    def __init__(self, rt: Runtime) -> None:
        self._rt = rt
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="audit-checkpointer", daemon=True)

    def start(self) -> HeadCheckpointer:
        if self._rt.settings.audit.checkpoint_dirs:
            self._thread.start()
        return self

    def _loop(self) -> None:
        interval = self._rt.settings.audit.checkpoint_interval_seconds
        while not self._stopping.wait(interval):
            try:
                run_head_checkpoint(self._rt)
            except Exception:
                # The server keeps serving; verify reports the growing unpinned tail.
                log.exception("audit head checkpoint failed")

    def stop(self) -> None:
        """Stop the thread, then write the final head (errors propagate: exit non-zero)."""
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join()
        if self._rt.settings.audit.checkpoint_dirs:
            run_head_checkpoint(self._rt)


def run_config_drift(rt: Runtime) -> None:
    with session_scope(rt.sessions) as session:
        drift = check_drift(session, rt, Actor("system:config", None))
    if drift.reasons:
        log.warning(
            "configuration drift (%s): %d values differ; %s",
            ", ".join(drift.reasons),
            len(drift.diff),
            f"finding {drift.finding_id} raised"
            if drift.finding_id is not None
            else "its finding is already in the review queue",
        )
    for finding_id in drift.interim_findings:
        log.warning(
            "a policy recorded since the last approval ran unapproved: finding %d raised",
            finding_id,
        )


def run_dormant_accounts(rt: Runtime) -> None:
    with session_scope(rt.sessions) as session:
        disabled = disable_dormant(session, rt, actor=Actor("system:dormant", None))
    if disabled:
        log.info("dormant accounts disabled: %d", len(disabled))


def run_auth_housekeeping(rt: Runtime) -> None:
    with session_scope(rt.sessions) as session:
        failures = prune_failures(session, rt)
        sessions = prune_sessions(session, rt)
    log.info("sign-in housekeeping: %d old failures, %d old sessions removed", failures, sessions)


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
    # Is the policy enforced still the one on file, on the record and approved? Once as the
    # scheduler starts (so a restart on an unapproved policy is flagged at once), then every
    # 24 hours: on a fixed interval rather than a schedule from the config, so that editing the
    # config (a review schedule that never fires) cannot switch the check off.
    scheduler.add_job(
        run_config_drift,
        IntervalTrigger(hours=DRIFT_INTERVAL_HOURS, timezone="UTC"),
        args=[rt],
        id="config_drift",
        max_instances=1,
        coalesce=True,
        misfire_grace_time=3600,
        next_run_time=rt.clock.now(),
    )
    _add_cron_job(
        scheduler, run_auth_housekeeping, rt.settings.review.schedule, rt, "auth_housekeeping"
    )
    if rt.settings.auth.oidc is not None:
        # Only where people sign in: without a provider nobody has a sign-in to count from.
        _add_cron_job(
            scheduler, run_dormant_accounts, rt.settings.review.schedule, rt, "dormant_accounts"
        )
    if rt.settings.audit.checkpoint_dirs:
        _add_cron_job(
            scheduler, run_checkpoint, rt.settings.audit.checkpoint_schedule, rt, "audit_checkpoint"
        )
        scheduler.add_job(
            run_head_checkpoint,
            IntervalTrigger(seconds=rt.settings.audit.checkpoint_interval_seconds, timezone="UTC"),
            args=[rt],
            id="audit_head_checkpoint",
            max_instances=1,
            coalesce=True,
            misfire_grace_time=rt.settings.audit.checkpoint_interval_seconds,
        )
    return scheduler
