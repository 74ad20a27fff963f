"""Retention of the access records and of the audit log itself.

Civil Code 1798.90.52 requires the access record of every search; the policy profile bounds how
long it is kept (``retention.access_records``, 3 years by default) and how long the audit chain
is kept (``retention.audit_events``, likewise). Both steps are called by the retention purge
(``jobs.purge``, through ``services.retention``), one bounded batch per call:

* Each call deletes at most ``batch`` rows of each table and flushes, never commits. The caller
  commits after each call and calls again while the result says ``more``: no single transaction
  holds SQLite's writer (or PostgreSQL's row locks) for long, and a crash between calls leaves
  only whole batches done, which the next run continues.
* ``dry_run=True`` writes nothing and reports the totals a full run would remove (``more`` is
  then always false, so a caller's loop ends).

What counts as expired: created (or, for audit events, occurred) at or before
``now - days``. An event or record exactly at that instant goes; one a microsecond later stays.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, cast

from sqlalchemy import CursorResult, delete, exists, func, select
from sqlalchemy.orm import Session, aliased

from alpr_guard.audit import Actor, verify_chain
from alpr_guard.checkpoints import rt_anchors, write_retention_checkpoint
from alpr_guard.clock import ensure_utc
from alpr_guard.errors import AlprGuardError, ConfigError
from alpr_guard.models import AuditEvent, Finding, SearchRecord, Share
from alpr_guard.services.deps import Deps
from alpr_guard.vocabulary import AuditKind, FindingStatus

BATCH = 5_000
RETENTION_ACTOR = Actor("system:purge", None)


class AuditChainBroken(AlprGuardError):
    """The events due for removal do not verify: removing them would destroy the evidence.

    The audit log's retention refuses rather than let a purge launder tampering (a deleted,
    edited or unvouched start of the chain would otherwise vanish behind a fresh checkpoint).
    """

    code = "audit_chain_broken"
    status = 409


def _rowcount(result: Any) -> int:
    return int(cast("CursorResult[Any]", result).rowcount)


def _cutoff(now: datetime, days: int) -> datetime:
    return ensure_utc(now, "now") - timedelta(days=days)


# -- access records --------------------------------------------------------------------------


@dataclass(frozen=True)
class AccessRecordsExpiry:
    """What one call of ``expire_access_records`` removed (or, dry run, would remove in all).

    ``searches_kept_open_finding`` is a current figure, not a per-batch count: the expired
    searches still kept because a review finding on them is open. ``merged`` adds up calls.
    """

    cutoff: datetime
    searches_deleted: int
    findings_deleted: int
    shares_deleted: int
    searches_kept_open_finding: int
    more: bool
    dry_run: bool = False

    def merged(self, later: AccessRecordsExpiry) -> AccessRecordsExpiry:
        """This call's counts plus a later call's (the later one's current figures win)."""
        return replace(
            later,
            searches_deleted=self.searches_deleted + later.searches_deleted,
            findings_deleted=self.findings_deleted + later.findings_deleted,
            shares_deleted=self.shares_deleted + later.shares_deleted,
        )


def expire_access_records(
    session: Session,
    rt: Deps,
    now: datetime,
    *,
    batch: int = BATCH,
    dry_run: bool = False,
) -> AccessRecordsExpiry:
    """Delete search records (``searches``) and share records (``shares``) created at or before
        ``now - retention.access_records.days``, with the review findings on those searches.

        A search with an *open* review finding is kept, finding and all, until an auditor resolves
        it: deleting it would close a misuse question unanswered. It is counted in
        ``searches_kept_open_finding`` and goes with the first purge after resolution. Resolved
        findings go with their search.

        Searches and shares are not linked by a foreign key (``shares.search_id`` is a plain id), so
        each table expires on its own clock. Counts only, no plates, are in the result; the caller
        records them in its purge record. A batch that removed records appends ``records.expired``
    (its cutoff and counts), which ``audit verify`` reads to tell retention from deletion.
    """
    if batch < 1:
        raise ValueError("batch must be at least 1")
    cutoff = _cutoff(now, rt.settings.retention.access_records.days)
    flag = aliased(Finding)
    open_finding = exists().where(
        flag.search_id == SearchRecord.id, flag.status == FindingStatus.OPEN
    )
    expired_search = (SearchRecord.created_at <= cutoff, ~open_finding)
    expired_share = Share.created_at <= cutoff
    # A finding about a camera (hit_rate_anomaly) or the configuration (config_drift) has no
    # search: once resolved, it expires when both its creation and its resolution are past the
    # cutoff (so the event stating it is too, which is how audit verify tells this removal from a
    # deletion); an open one is kept until an auditor resolves it.
    expired_camera_finding = (
        Finding.search_id.is_(None),
        Finding.status == FindingStatus.RESOLVED,
        Finding.created_at <= cutoff,
        Finding.resolved_at <= cutoff,
    )
    # From the findings side: open findings are few, expired searches may be millions.
    kept = int(
        session.scalar(
            select(func.count(func.distinct(Finding.search_id)))
            .join(SearchRecord, SearchRecord.id == Finding.search_id)
            .where(Finding.status == FindingStatus.OPEN, SearchRecord.created_at <= cutoff)
        )
        or 0
    )

    if dry_run:
        searches = session.scalar(
            select(func.count()).select_from(SearchRecord).where(*expired_search)
        )
        findings = session.scalar(
            select(func.count())
            .select_from(Finding)
            .join(SearchRecord, SearchRecord.id == Finding.search_id)
            .where(*expired_search)
        )
        shares = session.scalar(select(func.count()).select_from(Share).where(expired_share))
        findings = int(findings or 0) + int(
            session.scalar(select(func.count()).select_from(Finding).where(*expired_camera_finding))
            or 0
        )
        return AccessRecordsExpiry(
            cutoff, int(searches or 0), findings, int(shares or 0), kept, False, True
        )

    # Lock the batch (PostgreSQL; SQLite's BEGIN IMMEDIATE already excludes other writers), so
    # a finding cannot be added to one of these searches between the checks and the deletes.
    ids = session.scalars(
        select(SearchRecord.id)
        .where(*expired_search)
        .order_by(SearchRecord.created_at)
        .limit(batch)
        .with_for_update()
    ).all()
    findings_deleted = searches_deleted = 0
    if ids:
        # Re-checked in each statement: a finding committed after the batch was chosen but
        # before its rows were locked keeps its search (and the finding) after all.
        other = aliased(Finding)
        findings_deleted = _rowcount(
            session.execute(
                delete(Finding)
                .where(
                    Finding.search_id.in_(ids),
                    ~exists().where(
                        other.search_id == Finding.search_id, other.status == FindingStatus.OPEN
                    ),
                )
                .execution_options(synchronize_session=False)
            )
        )
        searches_deleted = _rowcount(
            session.execute(
                delete(SearchRecord)
                .where(SearchRecord.id.in_(ids), ~open_finding)
                .execution_options(synchronize_session=False)
            )
        )
    findings_deleted += _rowcount(
        session.execute(
            delete(Finding)
            .where(*expired_camera_finding)
            .execution_options(synchronize_session=False)
        )
    )
    share_ids = session.scalars(
        select(Share.id).where(expired_share).order_by(Share.created_at).limit(batch)
    ).all()
    shares_deleted = 0
    if share_ids:
        shares_deleted = _rowcount(
            session.execute(
                delete(Share)
                .where(Share.id.in_(share_ids))
                .execution_options(synchronize_session=False)
            )
        )
    if searches_deleted or shares_deleted or findings_deleted:
        # ``audit verify`` matches access records against the events stating them: this event
        # tells it which missing records retention removed (created at or before the cutoff).
        rt.audit.append(
            session,
            AuditKind.RECORDS_EXPIRED,
            RETENTION_ACTOR,
            details={
                "cutoff": cutoff.isoformat(),
                "searches": searches_deleted,
                "findings": findings_deleted,
                "shares": shares_deleted,
            },
        )
    session.flush()
    more = bool(
        session.scalar(select(exists().where(*expired_search)))
        or session.scalar(select(exists().where(expired_share)))
    )
    return AccessRecordsExpiry(
        cutoff, searches_deleted, findings_deleted, shares_deleted, kept, more
    )


# -- the audit log ---------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditEventsExpiry:
    """What one call of ``expire_audit_events`` removed (or, dry run, would remove in all).

    ``anchor_seq`` is the last removed event, vouched for by the retention ``checkpoint`` file;
    the chain now starts at ``anchor_seq + 1``. ``record_seq`` is the ``audit.retention`` event
    this call appended. All None when nothing was removed.
    """

    cutoff: datetime
    events_removed: int
    first_removed_seq: int | None
    anchor_seq: int | None
    checkpoint: Path | None
    record_seq: int | None
    more: bool
    dry_run: bool = False

    def merged(self, later: AuditEventsExpiry) -> AuditEventsExpiry:
        """This call's counts plus a later call's: one removed range, the later anchor."""
        if later.anchor_seq is None:
            return replace(self, more=later.more)
        if self.anchor_seq is None:
            return later
        return replace(
            later,
            events_removed=self.events_removed + later.events_removed,
            first_removed_seq=self.first_removed_seq,
        )


def expire_audit_events(
    session: Session,
    rt: Deps,
    now: datetime,
    *,
    batch: int = BATCH,
    dry_run: bool = False,
    actor: Actor = RETENTION_ACTOR,
) -> AuditEventsExpiry:
    """Remove the oldest audit events, those that occurred at or before
    ``now - retention.audit_events.days``, leaving a signed retention checkpoint so that
    ``alpr-guard audit verify`` still verifies what remains (house rule 9).

    Only a prefix of the chain goes, never the head and never a stretch in the middle: the
    removal stops before the first event newer than the cutoff, even if later events carry
    older times (a clock stepped back), and before the newest event.

    Order, for crash safety: (1) the events to remove, and the link into the first one kept,
    are verified against the chain's MACs and the existing retention checkpoints, and a chain
    that does not verify is refused (``AuditChainBroken``) rather than have its evidence
    removed; (2) the retention checkpoint of the last event to remove is written and fsynced to
    ``audit.checkpoint_dir``; (3) the events are deleted; (4) an ``audit.retention`` event (counts
    and the checkpoint's seq, no plates) is appended in the same transaction. A crash after (2)
    leaves the events and a checkpoint matching one of them, which verifies.

    Without ``audit.checkpoint_dir`` nothing is removed unverifiably: a ``ConfigError`` naming
    it is raised whenever events are due (also on a dry run, which says what a run would do).
    """
    if batch < 1:
        raise ValueError("batch must be at least 1")
    cutoff = _cutoff(now, rt.settings.retention.audit_events.days)
    span = session.execute(select(func.min(AuditEvent.seq), func.max(AuditEvent.seq))).one()
    first, head = span[0], span[1]
    nothing = AuditEventsExpiry(cutoff, 0, None, None, None, None, False, dry_run)
    if first is None or first >= head:
        return nothing  # empty, or the head alone: it always stays
    # Bounded look-ahead: only this call's batch is scanned (primary-key range).
    upto = head - 1 if dry_run else min(head - 1, first + batch - 1)
    newer = session.scalar(
        select(func.min(AuditEvent.seq)).where(
            AuditEvent.seq >= first, AuditEvent.seq <= upto, AuditEvent.occurred_at > cutoff
        )
    )
    last = upto if newer is None else newer - 1
    if last < first:
        return nothing
    if rt.settings.audit.checkpoint_dir is None:
        raise ConfigError(
            f"{rt.settings.source}: audit.checkpoint_dir: is not set; audit events past "
            "retention.audit_events cannot be removed without a signed retention checkpoint"
        )
    if dry_run:
        return AuditEventsExpiry(cutoff, last - first + 1, first, last, None, None, False, True)

    checked = verify_chain(
        session, rt.keyring, rt_anchors(rt, retention_only=True), through=last + 1
    )
    if not checked.ok or checked.last_seq != last + 1:
        why = checked.describe() if not checked.ok else f"seq {last + 1} is missing"
        raise AuditChainBroken(
            f"audit retention refused: the events due for removal do not verify ({why}); "
            "run `alpr-guard audit verify` and investigate before any event is removed",
            details={"bad_seq": checked.bad_seq, "problem": checked.problem},
        )
    digest = session.scalar(select(AuditEvent.hash).where(AuditEvent.seq == last))
    if digest is None:  # verified just above; only a concurrent deletion could get here
        raise AuditChainBroken(f"audit retention refused: seq {last} vanished")
    checkpoint = write_retention_checkpoint(
        rt, seq=last, digest=digest, first_seq=first, cutoff=cutoff
    )
    removed = _rowcount(
        session.execute(
            delete(AuditEvent)
            .where(AuditEvent.seq >= first, AuditEvent.seq <= last)
            .execution_options(synchronize_session=False)
        )
    )
    window = rt.settings.retention.audit_events.days
    record = rt.audit.append(
        session,
        AuditKind.AUDIT_RETENTION,
        actor,
        details={
            "removed": removed,
            "first_seq": first,
            "anchor_seq": last,
            "anchor_hash": digest,
            "checkpoint": checkpoint.path.name,
            "cutoff": cutoff.isoformat(),
            "window_days": window,
        },
    )
    # The event just appended is now the head, so the first event kept may be due in turn.
    after = session.scalar(select(AuditEvent.occurred_at).where(AuditEvent.seq == last + 1))
    more = after is not None and after <= cutoff
    return AuditEventsExpiry(cutoff, removed, first, last, checkpoint.path, record.seq, more)
