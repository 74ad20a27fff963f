"""The retention windows in force govern every read already stored.

A read's ``expires_at`` is computed at ingest from the window of the day. The configuration may
shorten a window later (``retention.unmatched.days`` from 60 to 30): the law-facing promise is
the window published now, so

* every path that decides whether a read still exists (search, sharing, holds, the purge, the
  compliance summary) tests both the stored expiry and ``observed_at`` against the window in
  force (``live`` / ``past_window``), so none depends on a recompute having run;
* ``apply_windows`` brings the stored expiries to the windows in force (at start-up of serve,
  scheduler and the purge CLI, and at the start of every purge), so the purge's expiry index,
  PostgreSQL's partition drops and key shredding see them too. Shortening a window is an audit
  event with the number of reads it expired;
* lengthening a window extends only reads still live: a read already past its old window stays
  gone (its expiry is never moved forward), and a destroyed key is never recreated.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, and_, func, or_, select, update
from sqlalchemy.orm import Session

from alpr_guard.audit import Actor
from alpr_guard.db import plus_days
from alpr_guard.models import AuditEvent, PlateRead
from alpr_guard.services.deps import Deps
from alpr_guard.settings import RetentionSettings
from alpr_guard.vocabulary import AuditKind, RetentionClass

log = logging.getLogger(__name__)

READS = cast(Table, PlateRead.__table__)
CLASSES = (RetentionClass.UNMATCHED, RetentionClass.HIT)


def oldest_kept(retention: RetentionSettings, now: datetime) -> dict[str, datetime]:
    """Per class, the observation time at or before which a read is past its window now."""
    return {
        RetentionClass.UNMATCHED: now - timedelta(days=retention.unmatched.days),
        RetentionClass.HIT: now - timedelta(days=retention.hit.days),
    }


def live(reads: Any, retention: RetentionSettings, now: datetime) -> ColumnElement[bool]:
    """SQL: the read still exists now. Held (no expiry), or its stored expiry is ahead and it
    was observed within its class's window in force."""
    oldest = oldest_kept(retention, now)
    c = reads.c if hasattr(reads, "c") else reads
    return or_(
        c.expires_at.is_(None),
        and_(
            c.expires_at > now,
            or_(
                and_(
                    c.retention_class == RetentionClass.UNMATCHED,
                    c.observed_at > oldest[RetentionClass.UNMATCHED],
                ),
                and_(
                    c.retention_class == RetentionClass.HIT,
                    c.observed_at > oldest[RetentionClass.HIT],
                ),
            ),
        ),
    )


def past_window(reads: Any, retention: RetentionSettings, now: datetime) -> ColumnElement[bool]:
    """SQL: a stored, unheld read past its window in force (the purge's due rows)."""
    oldest = oldest_kept(retention, now)
    c = reads.c if hasattr(reads, "c") else reads
    return or_(
        c.expires_at <= now,
        and_(
            c.retention_class == RetentionClass.UNMATCHED,
            c.observed_at <= oldest[RetentionClass.UNMATCHED],
        ),
        and_(c.retention_class == RetentionClass.HIT, c.observed_at <= oldest[RetentionClass.HIT]),
    )


def is_live(
    retention_class: str,
    observed_at: datetime,
    expires_at: datetime | None,
    retention: RetentionSettings,
    now: datetime,
) -> bool:
    """The Python form of ``live`` for a row already loaded."""
    if expires_at is None:
        return True
    if expires_at <= now:
        return False
    if retention_class in CLASSES:
        return observed_at > oldest_kept(retention, now)[retention_class]
    return True


@dataclass(frozen=True)
class WindowChange:
    retention_class: str
    days: int
    previous_days: int | None
    reads_expired: int  # live before, past the window in force now
    reads_shortened: int  # stored expiries moved earlier
    reads_extended: int  # live reads whose expiry moved later


def previous_windows(session: Session) -> dict[str, int]:
    """The read windows of the last policy recorded in the audit chain ({} if none)."""
    last = session.scalar(
        select(AuditEvent.details)
        .where(AuditEvent.kind == AuditKind.CONFIG_POLICY)
        .order_by(AuditEvent.seq.desc())
        .limit(1)
    )
    return windows_of(json.loads(last).get("policy", {}) if last else {})


def windows_of(policy: Mapping[str, Any]) -> dict[str, int]:
    """The read windows named in a recorded policy (as config_audit stores it)."""
    retention = policy.get("retention")
    found: dict[str, int] = {}
    if isinstance(retention, Mapping):
        for cls in CLASSES:
            window = retention.get(cls)
            if isinstance(window, Mapping) and isinstance(window.get("days"), int):
                found[cls] = int(window["days"])
    return found


def apply_windows(
    session: Session,
    rt: Deps,
    actor: Actor,
    previous: Mapping[str, int] | None = None,
) -> list[WindowChange]:
    """Bring stored expiries to the windows in force; audit every shortening (and every
    extension). ``previous``: the windows of the last recorded policy (looked up if None).
    Flushes; the caller commits."""
    now = rt.clock.now()
    if previous is None:
        previous = previous_windows(session)
    retention = rt.settings.retention
    oldest = oldest_kept(retention, now)
    changes = []
    for cls in CLASSES:
        days = retention.read_window(cls == RetentionClass.HIT).days
        target = plus_days(session, READS.c.observed_at, days)
        of_class = READS.c.retention_class == cls
        expired = int(
            session.scalar(
                select(func.count())
                .select_from(READS)
                .where(of_class, READS.c.expires_at > now, READS.c.observed_at <= oldest[cls])
            )
            or 0
        )
        shortened = _rowcount(
            session.execute(
                update(READS).where(of_class, READS.c.expires_at > target).values(expires_at=target)
            )
        )
        # Only reads still live are extended: one already past its old window stays gone.
        extended = _rowcount(
            session.execute(
                update(READS)
                .where(
                    of_class,
                    READS.c.expires_at > now,
                    READS.c.observed_at > oldest[cls],
                    READS.c.expires_at < target,
                )
                .values(expires_at=target)
            )
        )
        before = previous.get(cls)
        change = WindowChange(cls, days, before, expired, shortened, extended)
        details = {
            "retention_class": cls,
            "days": days,
            "previous_days": before,
            "reads_expired": expired,
            "reads_shortened": shortened,
            "reads_extended": extended,
        }
        if shortened or expired or (before is not None and days < before):
            rt.audit.append(
                session,
                AuditKind.RETENTION_WINDOW_SHORTENED,
                actor,
                subject=f"retention:{cls}",
                details=details,
            )
            log.warning(
                "retention.%s.days is %d (was %s): %d stored reads now past their window, "
                "%d expiries shortened",
                cls,
                days,
                before,
                expired,
                shortened,
            )
            changes.append(change)
        elif extended or (before is not None and days > before):
            rt.audit.append(
                session,
                AuditKind.RETENTION_WINDOW_LENGTHENED,
                actor,
                subject=f"retention:{cls}",
                details=details,
            )
            changes.append(change)
    session.flush()
    return changes


def _rowcount(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)
