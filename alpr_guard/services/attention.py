"""What needs an auditor's attention now: the console's home page, from the same tables and
rules as the API's reports. Counts and identifiers only; no plate, no free text.

Reads past their window are counted with the rule the compliance summary uses (the window in
force, not the expiry stored at ingest): anything but 0 is a retention failure. The chain status
is the last verification on record (running one walks the whole chain, which is the audit
chain page's job), with the age of the newest signed checkpoint on disk.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from alpr_guard.checkpoints import SignedFile, list_signed_files
from alpr_guard.models import AuditEvent, Finding, LegalHold, PlateRead, SearchRecord
from alpr_guard.services.deps import Deps
from alpr_guard.services.principals import Principal
from alpr_guard.services.retention import list_purges
from alpr_guard.services.windows import past_window
from alpr_guard.vocabulary import AuditKind, FindingStatus, HoldStatus, Outcome, PurgeStatus

SEVERITIES = ("high", "medium", "low")
REFUSAL_DAYS = 7


@dataclass(frozen=True)
class OverdueHold:
    id: uuid.UUID
    agency_ori: str
    status: str
    review_by: datetime


@dataclass(frozen=True)
class LastVerification:
    at: datetime
    by: str
    ok: bool
    checked: int
    problem: str | None
    seq: int


@dataclass(frozen=True)
class LastCheckpoint:
    at: datetime
    seq: int
    signature_ok: bool


@dataclass(frozen=True)
class Attention:
    now: datetime
    open_by_severity: tuple[tuple[str, int], ...]
    oldest_open_high: int | None  # the finding id to start with
    overdue_holds: tuple[OverdueHold, ...]
    past_window: int
    last_verification: LastVerification | None
    last_checkpoint: LastCheckpoint | None
    last_purge: dict[str, object] | None
    refusals_by_reason: tuple[tuple[str, int], ...]

    @property
    def refusals(self) -> int:
        return sum(n for _r, n in self.refusals_by_reason)

    @property
    def open_findings(self) -> int:
        return sum(n for _s, n in self.open_by_severity)


def _last_checkpoint(rt: Deps) -> LastCheckpoint | None:
    """The newest checkpoint in the first directory (the head file or a permanent one, by
    sequence number), its signature checked with the public key."""
    newest: SignedFile | None = None
    for found in list_signed_files(rt, limit=20):
        if found.kind == "purge_receipt" or found.seq is None or found.created_at is None:
            continue
        if newest is None or (found.seq, found.created_at) > (
            newest.seq or 0,
            newest.created_at or "",
        ):
            newest = found
    if newest is None or newest.seq is None or newest.created_at is None:
        return None
    try:
        at = datetime.fromisoformat(newest.created_at)
    except ValueError:
        return None
    return LastCheckpoint(at, newest.seq, newest.valid)


def last_verification(session: Session) -> LastVerification | None:
    """The newest chain verification's outcome, read without recording anything."""
    row = session.execute(
        select(AuditEvent.seq, AuditEvent.occurred_at, AuditEvent.actor, AuditEvent.details)
        .where(AuditEvent.kind == AuditKind.AUDIT_VERIFIED)
        .order_by(AuditEvent.seq.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    details = json.loads(row.details)
    return LastVerification(
        row.occurred_at,
        row.actor,
        bool(details.get("ok")),
        int(details.get("checked") or 0),
        details.get("problem"),
        row.seq,
    )


def attention(session: Session, rt: Deps, principal: Principal) -> Attention:
    """The home page's figures; the look is an audit event (``console.attention_viewed``)."""
    now = rt.clock.now()
    open_counts = dict(
        session.execute(
            select(Finding.severity, func.count())
            .where(Finding.status == FindingStatus.OPEN)
            .group_by(Finding.severity)
        ).all()
    )
    oldest_high = session.scalar(
        select(func.min(Finding.id)).where(
            Finding.status == FindingStatus.OPEN, Finding.severity == "high"
        )
    )
    overdue = session.execute(
        select(LegalHold.id, LegalHold.agency_ori, LegalHold.status, LegalHold.review_by)
        .where(LegalHold.status != HoldStatus.RELEASED, LegalHold.review_by <= now)
        .order_by(LegalHold.review_by)
    ).all()
    past = int(
        session.scalar(
            select(func.count())
            .select_from(PlateRead)
            .where(past_window(PlateRead.__table__, rt.settings.retention, now))
        )
        or 0
    )
    refusals = session.execute(
        select(SearchRecord.reason_code, func.count())
        .where(
            SearchRecord.outcome == Outcome.REFUSED,
            SearchRecord.created_at >= now - timedelta(days=REFUSAL_DAYS),
        )
        .group_by(SearchRecord.reason_code)
    ).all()
    purges = [p for p in list_purges(session, limit=20) if p["status"] == PurgeStatus.COMPLETED]
    result = Attention(
        now=now,
        open_by_severity=tuple((s, int(open_counts.get(s, 0))) for s in SEVERITIES),
        oldest_open_high=oldest_high,
        overdue_holds=tuple(OverdueHold(*row) for row in overdue),
        past_window=past,
        last_verification=last_verification(session),
        last_checkpoint=_last_checkpoint(rt),
        last_purge=purges[0] if purges else None,
        refusals_by_reason=tuple(
            sorted(((str(k or "-"), int(n)) for k, n in refusals), key=lambda kv: (-kv[1], kv[0]))
        ),
    )
    rt.audit.append(
        session,
        AuditKind.CONSOLE_ATTENTION_VIEWED,
        principal.actor,
        details={
            "open_findings": result.open_findings,
            "overdue_holds": len(result.overdue_holds),
            "past_window": past,
            "refusals_7d": result.refusals,
        },
    )
    return result
