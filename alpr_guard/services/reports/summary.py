"""The compliance summary: does the system keep its promises over a period? Reads in and out per
retention class, reads past their window still stored, searches, refusals, shares, findings,
legal holds, hit rates, silent cameras, how far back searches reached, and the audit chain."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.orm import Session

from alpr_guard.audit import Actor, verify_chain
from alpr_guard.checkpoints import rt_anchors
from alpr_guard.errors import AlprGuardError, ValidationError
from alpr_guard.models import AuditEvent, Finding, LegalHold, PlateRead, SearchRecord, Share
from alpr_guard.policy.hit_rates import RULE as HIT_RATE_RULE
from alpr_guard.services.cameras import silent_cameras
from alpr_guard.services.deps import Deps
from alpr_guard.services.hit_rates import camera_hit_rates
from alpr_guard.services.reports import queries
from alpr_guard.services.reports.model import (
    AGE_BUCKETS,
    OUTCOMES,
    ChainStatus,
    ComplianceSummary,
    Counts,
    FindingCounts,
    HoldCounts,
    RecipientShares,
)
from alpr_guard.services.reports.queries import keyset
from alpr_guard.services.windows import past_window
from alpr_guard.vocabulary import AuditKind, FindingStatus, HoldStatus, Outcome, RetentionClass


def _sorted_counts(pairs: Iterable[tuple[object, object]]) -> Counts:
    return tuple(sorted(((str(k), int(str(v))) for k, v in pairs), key=lambda kv: (-kv[1], kv[0])))


def _grouped(session: Session, column: Any, *where: ColumnElement[bool]) -> Counts:
    rows = session.execute(select(column, func.count()).where(*where).group_by(column)).all()
    return _sorted_counts((k if k is not None else "-", n) for k, n in rows)


def _events(session: Session, kind: AuditKind, since: datetime, until: datetime) -> Iterator[str]:
    after = 0
    while True:
        page = session.execute(
            select(AuditEvent.seq, AuditEvent.details)
            .where(
                AuditEvent.kind == kind,
                AuditEvent.occurred_at >= since,
                AuditEvent.occurred_at < until,
                AuditEvent.seq > after,
            )
            .order_by(AuditEvent.seq)
            .limit(queries.PAGE)
        ).all()
        for _seq, details in page:
            yield details
        if len(page) < queries.PAGE:
            return
        after = page[-1][0]


def _holds(session: Session, since: datetime, until: datetime, now: datetime) -> HoldCounts:
    def count(*where: ColumnElement[bool]) -> int:
        return int(session.scalar(select(func.count()).select_from(LegalHold).where(*where)) or 0)

    return HoldCounts(
        active=count(LegalHold.status == HoldStatus.ACTIVE),
        pending=count(LegalHold.status == HoldStatus.PENDING),
        overdue=count(LegalHold.status != HoldStatus.RELEASED, LegalHold.review_by <= now),
        reads_held=int(
            session.scalar(
                select(func.count())
                .select_from(PlateRead)
                .where(PlateRead.retention_class == RetentionClass.HELD)
            )
            or 0
        ),
        placed=count(LegalHold.created_at >= since, LegalHold.created_at < until),
        released=count(LegalHold.released_at >= since, LegalHold.released_at < until),
    )


def _class_order(counts: Mapping[str, int]) -> Counts:
    names = [
        RetentionClass.UNMATCHED,
        RetentionClass.HIT,
        *sorted(set(counts) - {RetentionClass.UNMATCHED, RetentionClass.HIT}),
    ]
    return tuple((name, int(counts.get(name, 0))) for name in names)


def _ingested(session: Session, since: datetime, until: datetime) -> Counts:
    """Reads ingested per retention class, from the ``reads.ingested`` audit events (they
    outlive the purge, unlike the reads). A batch reports its accepted reads and how many were
    hot-list hits; a replayed hit is counted as a hit at most once per accepted read."""
    totals: dict[str, int] = {RetentionClass.UNMATCHED: 0, RetentionClass.HIT: 0}
    for details in _events(session, AuditKind.READS_INGESTED, since, until):
        data = json.loads(details)
        accepted = int(data.get("accepted", 0))
        hits = min(int(data.get("hits", 0)), accepted)
        totals[RetentionClass.HIT] += hits
        totals[RetentionClass.UNMATCHED] += accepted - hits
    return _class_order(totals)


def _purged(session: Session, since: datetime, until: datetime) -> tuple[Counts, int]:
    """Reads purged per class, from ``purge.completed`` events (``deleted_by_class``); zeros
    until the retention purge exists."""
    totals: dict[str, int] = {RetentionClass.UNMATCHED: 0, RetentionClass.HIT: 0}
    runs = 0
    for details in _events(session, AuditKind.PURGE_COMPLETED, since, until):
        runs += 1
        by_class = json.loads(details).get("deleted_by_class") or {}
        if isinstance(by_class, dict):
            for name, n in by_class.items():
                totals[str(name)] = totals.get(str(name), 0) + int(n)
    return _class_order(totals), runs


def _data_age(session: Session, since: datetime, until: datetime) -> Counts:
    """Allowed searches by how far back their window reached: the oldest data the search could
    touch (no per-hit age is stored). Shows whether searches actually need old data, the
    State Auditor's test for retention based on need (report 2019-118)."""
    counts = dict.fromkeys((label for label, _ in AGE_BUCKETS), 0)
    after: tuple[datetime, uuid.UUID] | None = None
    base = select(SearchRecord.created_at, SearchRecord.id, SearchRecord.window_from).where(
        SearchRecord.created_at < until,
        SearchRecord.outcome == Outcome.ALLOWED,
        SearchRecord.window_from.is_not(None),
    )
    while True:
        stmt = base.where(*keyset(since, after))
        page = session.execute(
            stmt.order_by(SearchRecord.created_at, SearchRecord.id).limit(queries.PAGE)
        ).all()
        for created_at, _id, window_from in page:
            if window_from is None:
                continue
            days = max((created_at - window_from).days, 0)
            for label, upper in AGE_BUCKETS:
                if upper is None or days <= upper:
                    counts[label] += 1
                    break
        if len(page) < queries.PAGE:
            break
        after = (page[-1][0], page[-1][1])
    return tuple(counts.items())


def _chain(session: Session, rt: Deps) -> ChainStatus:
    try:
        anchors = rt_anchors(rt)
    except AlprGuardError:
        # A checkpoint that does not verify is itself the finding: the chain cannot be vouched.
        result = verify_chain(session, rt.keyring)
        return ChainStatus(False, result.checked, result.last_seq, None, "checkpoint_invalid", 0)
    result = verify_chain(session, rt.keyring, anchors)
    return ChainStatus(
        result.ok,
        result.checked,
        result.last_seq,
        result.bad_seq,
        result.problem,
        result.checkpoints,
    )


def compliance_summary(
    session: Session, rt: Deps, since: datetime, until: datetime
) -> ComplianceSummary:
    """Does the system keep its promises over [since, until)?

    Reads past their window that are still stored are counted as of now (``rt.clock``), not for
    the period: any such read is a retention failure today, whatever period is asked about.
    """
    if since >= until:
        raise ValidationError({"to": "must be after from"})
    now = rt.clock.now()
    in_period = (SearchRecord.created_at >= since, SearchRecord.created_at < until)
    shares_in = (Share.created_at >= since, Share.created_at < until)
    purged, runs = _purged(session, since, until)

    by_recipient: dict[str, dict[str, int]] = {}
    for recipient, outcome, n in session.execute(
        select(Share.recipient_ori, Share.outcome, func.count())
        .where(*shares_in)
        .group_by(Share.recipient_ori, Share.outcome)
    ):
        by_recipient.setdefault(recipient, {})[outcome] = int(n)
    findings: dict[str, dict[str, int]] = {}
    for rule, status, n in session.execute(
        select(Finding.rule, Finding.status, func.count())
        .join(SearchRecord, SearchRecord.id == Finding.search_id)
        .where(*in_period)
        .group_by(Finding.rule, Finding.status)
    ):
        findings.setdefault(rule, {})[status] = int(n)

    return ComplianceSummary(
        since=since,
        until=until,
        generated_at=now,
        ingested_by_class=_ingested(session, since, until),
        purged_by_class=purged,
        purge_runs=runs,
        holds=_holds(session, since, until, now),
        hit_rate_by_camera=tuple(camera_hit_rates(session, since, until)),
        hit_rate_flagged=tuple(
            session.scalars(
                select(Finding.camera_id)
                .where(Finding.rule == HIT_RATE_RULE, Finding.status == FindingStatus.OPEN)
                .distinct()
                .order_by(Finding.camera_id)
            )
        ),
        stored_by_class=_class_order(dict(_grouped(session, PlateRead.retention_class))),
        # Past the window in force, not just the expiry stored at ingest: a window shortened
        # since then leaves reads to count until the purge applies it.
        past_window=int(
            session.scalar(
                select(func.count())
                .select_from(PlateRead)
                .where(past_window(PlateRead.__table__, rt.settings.retention, now))
            )
            or 0
        ),
        past_window_by_class=_class_order(
            dict(
                _grouped(
                    session,
                    PlateRead.retention_class,
                    past_window(PlateRead.__table__, rt.settings.retention, now),
                )
            )
        ),
        searches_by_outcome=_class_outcomes(_grouped(session, SearchRecord.outcome, *in_period)),
        searches_by_purpose=_grouped(session, SearchRecord.purpose, *in_period),
        searches_by_agency=_grouped(session, SearchRecord.agency_ori, *in_period),
        searches_by_user=_grouped(session, SearchRecord.username, *in_period),
        searches_on_behalf_of=_grouped(
            session, SearchRecord.on_behalf_of, *in_period, SearchRecord.on_behalf_of.is_not(None)
        ),
        refusals_by_reason=_grouped(
            session, SearchRecord.reason_code, *in_period, SearchRecord.outcome == Outcome.REFUSED
        ),
        shares_by_outcome=_class_outcomes(_grouped(session, Share.outcome, *shares_in)),
        shares_by_recipient=tuple(
            sorted(
                (
                    RecipientShares(ori, c.get(Outcome.ALLOWED, 0), c.get(Outcome.REFUSED, 0))
                    for ori, c in by_recipient.items()
                ),
                key=lambda r: (-(r.allowed + r.refused), r.recipient),
            )
        ),
        findings_by_rule=tuple(
            FindingCounts(rule, c.get(FindingStatus.OPEN, 0), c.get(FindingStatus.RESOLVED, 0))
            for rule, c in sorted(findings.items())
        ),
        data_age=_data_age(session, since, until),
        chain=_chain(session, rt),
        silent_cameras=tuple(silent_cameras(session, rt, now)),
    )


def _class_outcomes(counts: Counts) -> Counts:
    found = dict(counts)
    return tuple((name, found.get(name, 0)) for name in OUTCOMES)


def record_summary_access(
    session: Session, rt: Deps, actor: Actor, since: datetime, until: datetime, fmt: str
) -> AuditEvent:
    """Pulling the compliance summary is an audit event too (``report.summary``)."""
    return rt.audit.append(
        session,
        AuditKind.REPORT_SUMMARY,
        actor,
        subject="report:summary",
        details={"from": since.isoformat(), "to": until.isoformat(), "format": fmt},
    )


def stored_reads_by_age(session: Session, now: datetime) -> Counts:
    """Reads stored now, by whole days since they were observed (``AGE_BUCKETS``): what the
    store actually keeps, in one pass (a CASE over ``observed_at``)."""
    bucket = case(
        *(
            (PlateRead.observed_at >= now - timedelta(days=upper + 1), label)
            for label, upper in AGE_BUCKETS
            if upper is not None
        ),
        else_=AGE_BUCKETS[-1][0],
    )
    found: dict[str, int] = dict(
        session.execute(select(bucket, func.count()).select_from(PlateRead).group_by(bucket)).all()
    )
    return tuple((label, int(found.get(label, 0))) for label, _upper in AGE_BUCKETS)
