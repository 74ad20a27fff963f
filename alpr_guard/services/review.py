"""The access review: flag misuse after the fact, the same day (ACCESS_REVIEW.md).

Prohibited purposes are refused at search time; this is the fallback for everything else. A run
(``review_searches``) does three things over the access records since the last run:

* text rules (``policy.text_rules``, current config) over each justification and case number, so
  a tuned word list applies to recent history too;
* structured signals: a refused search that named a prohibited purpose, or a declared on-behalf-of
  agency the sharing rules refused, becomes a high finding;
* behavioural rules (``policy.behaviour``) over each user's own history.

Findings are unique per (search, rule), so a re-run is harmless. Every run, every listing by an
auditor and every resolution is an audit event.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, func, select
from sqlalchemy.orm import Session

from alpr_guard.audit import Actor
from alpr_guard.db import day_bucket, execute_insert_ignore
from alpr_guard.errors import Conflict, NotFound, ValidationError
from alpr_guard.models import AuditEvent, Finding, SearchRecord
from alpr_guard.policy.behaviour import AccessFact, peer_medians, review_user
from alpr_guard.policy.decisions import ReasonCode
from alpr_guard.policy.text_rules import TextMatch, scan
from alpr_guard.runtime import Runtime
from alpr_guard.services.principals import Principal

FINDINGS = cast(Table, Finding.__table__)
VERDICTS = ("justified", "misuse", "needs_follow_up")
SHARING_CODES = frozenset(
    {
        ReasonCode.UNKNOWN_AGENCY,
        ReasonCode.AGENCY_NOT_VETTED,
        ReasonCode.FEDERAL_AGENCY,
        ReasonCode.OUT_OF_STATE_AGENCY,
        ReasonCode.PRIVATE_ENTITY,
        ReasonCode.KIND_NOT_ALLOWED,
        ReasonCode.ATTESTATION_EXPIRED,
    }
)
PAGE = 5000
MEMO_LIMIT = 100_000
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# A search's record carries the time it started but commits a moment later. Reviewing only up
# to a settled point means no record can commit behind a run's back and be skipped for good.
SETTLE = timedelta(minutes=5)
SYSTEM_REVIEW = Actor("system:review", None)


@dataclass(frozen=True)
class ReviewResult:
    since: datetime
    until: datetime
    searches_scanned: int
    new_findings: int
    by_rule: dict[str, int]
    seconds: float


def _reviewed_through(session: Session) -> datetime | None:
    """Where the unbroken stretch of reviewed history ends.

    A run started with an explicit ``--since`` later than that point leaves a gap behind it;
    such a run does not move the point, so the next scheduled run still covers the gap.
    """
    for details in session.scalars(
        select(AuditEvent.details)
        .where(AuditEvent.kind == "review.completed")
        .order_by(AuditEvent.seq.desc())
        .limit(200)
    ):
        run = json.loads(details)
        if run.get("continuous", True):
            return datetime.fromisoformat(run["until"])
    return None


def _counts_by_rule(session: Session) -> dict[str, int]:
    rows = session.execute(select(Finding.rule, func.count()).group_by(Finding.rule)).all()
    return {rule: int(count) for rule, count in rows}


def _pages(session: Session, since: datetime, until: datetime) -> Iterator[Sequence[Any]]:
    """Keyset pages of the access records in [since, until), oldest first."""
    after: tuple[datetime, uuid.UUID] | None = None
    columns = (
        SearchRecord.id,
        SearchRecord.created_at,
        SearchRecord.justification,
        SearchRecord.case_number,
        SearchRecord.outcome,
        SearchRecord.reason_code,
        SearchRecord.rule,
        SearchRecord.matched,
    )
    while True:
        # One lower bound per page (SQLite's index range uses one): the cursor replaces since.
        lower = SearchRecord.created_at >= (since if after is None else after[0])
        stmt = select(*columns).where(lower, SearchRecord.created_at < until)
        if after is not None:
            stmt = stmt.where(
                (SearchRecord.created_at > after[0])
                | ((SearchRecord.created_at == after[0]) & (SearchRecord.id > after[1]))
            )
        page = session.execute(
            stmt.order_by(SearchRecord.created_at, SearchRecord.id).limit(PAGE)
        ).all()
        if not page:
            return
        yield page
        after = (page[-1].created_at, page[-1].id)


def _structured(row: Any) -> tuple[str, str, dict[str, object]] | None:
    """A refusal recorded at search time is itself a finding: someone tried."""
    if row.outcome != "refused" or row.reason_code is None:
        return None
    if row.reason_code == ReasonCode.PROHIBITED_PURPOSE:
        matched = json.loads(row.matched)[0]["matched"] if row.matched else []
        return "prohibited_purpose", "high", {"refused": True, "rule": row.rule, "matched": matched}
    if row.reason_code in SHARING_CODES:
        return (
            "federal_or_out_of_state_proxy",
            "high",
            {"refused": True, "reason_code": row.reason_code},
        )
    return None


def review_searches(
    session: Session, rt: Runtime, *, since: datetime | None = None, actor: Actor = SYSTEM_REVIEW
) -> ReviewResult:
    started = time.perf_counter()
    now = rt.clock.now()
    until = now - SETTLE
    reviewed = _reviewed_through(session) or EPOCH
    if since is None:
        since = reviewed
    continuous = since <= reviewed
    before = _counts_by_rule(session)
    rows: list[dict[str, Any]] = []
    scanned = 0

    def add(search_id: uuid.UUID, rule: str, severity: str, matched: object) -> None:
        rows.append(
            {
                "search_id": search_id,
                "rule": rule,
                "severity": severity,
                "matched": json.dumps(matched, sort_keys=True),
                "status": "open",
                "created_at": now,
            }
        )

    # Reasons repeat (UI boilerplate, copied text): the scan is pure, so each distinct
    # (justification, case number) is scanned once per run. Bounded, so memory stays flat.
    memo: dict[tuple[str, str | None], tuple[TextMatch, ...]] = {}

    def text_matches(justification: str, case_number: str | None) -> tuple[TextMatch, ...]:
        key = (justification, case_number)
        found = memo.get(key)
        if found is None:
            if len(memo) >= MEMO_LIMIT:
                memo.clear()
            found = memo[key] = scan(rt.settings.screening, justification, case_number)
        return found

    for page in _pages(session, since, until):
        for row in page:
            scanned += 1
            structured = _structured(row)
            if structured is not None:
                add(row.id, *structured)
            for match in text_matches(row.justification, row.case_number):
                if structured is not None and match.rule == structured[0]:
                    continue
                add(row.id, match.rule, match.severity, {"matched": list(match.matched)})
        _flush(session, rows)

    for finding in _behaviour(session, rt, since, until):
        add(finding.search_id, finding.rule, finding.severity, dict(finding.figures))
        if len(rows) >= PAGE:
            _flush(session, rows)
    _flush(session, rows)
    after = _counts_by_rule(session)
    by_rule = {
        rule: n - before.get(rule, 0) for rule, n in after.items() if n > before.get(rule, 0)
    }
    new = sum(by_rule.values())

    seconds = time.perf_counter() - started
    rt.audit.append(
        session,
        "review.completed",
        actor,
        details={
            "since": since.isoformat(),
            "until": until.isoformat(),
            "continuous": continuous,
            "searches": scanned,
            "new_findings": new,
            "by_rule": by_rule,
            "seconds": round(seconds, 3),
        },
    )
    return ReviewResult(since, until, scanned, new, by_rule, seconds)


def _flush(session: Session, rows: list[dict[str, Any]]) -> None:
    """Insert the pending findings; one already there for (search, rule) is left alone."""
    execute_insert_ignore(session, FINDINGS, ["search_id", "rule"], rows)
    rows.clear()


def _behaviour(session: Session, rt: Runtime, since: datetime, until: datetime) -> Iterator[Any]:
    rules = rt.settings.review.behaviour
    lookback = timedelta(days=max(rules.repeated_window_days, rules.spike_baseline_days, 90))
    start = max(since - lookback, EPOCH)
    bucket = day_bucket(session, SearchRecord.created_at)
    # Whole days, like each user's own counts: a run that starts mid-day still sees the peers'
    # full day so far.
    day_of_since = datetime.combine(since.date(), datetime.min.time(), tzinfo=UTC)
    daily = session.execute(
        select(bucket, SearchRecord.user_id, func.count())
        .where(SearchRecord.created_at >= day_of_since, SearchRecord.created_at < until)
        .group_by(bucket, SearchRecord.user_id)
    ).all()
    by_day: dict[date, dict[int, int]] = {}
    for day, user_id, count in daily:
        by_day.setdefault(_as_date(day), {})[user_id] = count
    users = session.scalars(
        select(SearchRecord.user_id)
        .where(SearchRecord.created_at >= since, SearchRecord.created_at < until)
        .distinct()
    ).all()
    for user_id in users:
        history = session.execute(
            select(
                SearchRecord.id,
                SearchRecord.created_at,
                SearchRecord.terms_token,
                SearchRecord.case_number,
            )
            .where(
                SearchRecord.user_id == user_id,
                SearchRecord.created_at >= start,
                SearchRecord.created_at < until,
            )
            .order_by(SearchRecord.created_at, SearchRecord.id)
        ).all()
        facts = (
            AccessFact(r.id, r.created_at, r.terms_token, bool(r.case_number)) for r in history
        )
        yield from review_user(
            facts, rules, since=since, peer_daily_median=peer_medians(by_day, user_id)
        )


def _as_date(value: object) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


# -- auditors ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class FindingView:
    id: int
    search_id: uuid.UUID
    rule: str
    severity: str
    matched: object
    status: str
    verdict: str | None
    note: str | None
    created_at: datetime
    resolved_at: datetime | None
    resolved_by: str | None
    username: str
    agency_ori: str
    searched_at: datetime
    purpose: str


@dataclass(frozen=True)
class FindingFilter:
    status: str | None = None
    rule: str | None = None
    severity: str | None = None
    username: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 100
    offset: int = 0


def _view(finding: Finding, record: SearchRecord) -> FindingView:
    return FindingView(
        finding.id,
        finding.search_id,
        finding.rule,
        finding.severity,
        json.loads(finding.matched),
        finding.status,
        finding.verdict,
        finding.note,
        finding.created_at,
        finding.resolved_at,
        finding.resolved_by,
        record.username,
        record.agency_ori,
        record.created_at,
        record.purpose,
    )


def list_findings(
    session: Session, rt: Runtime, principal: Principal, filters: FindingFilter
) -> list[FindingView]:
    stmt = select(Finding, SearchRecord).join(SearchRecord, SearchRecord.id == Finding.search_id)
    if filters.status:
        stmt = stmt.where(Finding.status == filters.status)
    if filters.rule:
        stmt = stmt.where(Finding.rule == filters.rule)
    if filters.severity:
        stmt = stmt.where(Finding.severity == filters.severity)
    if filters.username:
        stmt = stmt.where(SearchRecord.username == filters.username)
    if filters.since:
        stmt = stmt.where(SearchRecord.created_at >= filters.since)
    if filters.until:
        stmt = stmt.where(SearchRecord.created_at < filters.until)
    rows = session.execute(
        stmt.order_by(Finding.id.desc()).limit(filters.limit).offset(filters.offset)
    ).all()
    rt.audit.append(
        session,
        "review.findings_listed",
        principal.actor,
        details={
            "filters": {k: v for k, v in vars(filters).items() if v is not None},
            "returned": len(rows),
        },
    )
    return [_view(f, r) for f, r in rows]


def resolve_finding(
    session: Session, rt: Runtime, principal: Principal, finding_id: int, *, verdict: str, note: str
) -> FindingView:
    errors = {}
    if verdict not in VERDICTS:
        errors["verdict"] = f"must be one of {', '.join(VERDICTS)}"
    if not note.strip() or len(note) > 4000:
        errors["note"] = "must be 1-4000 characters: say why"
    if errors:
        raise ValidationError(errors)
    finding = session.get(Finding, finding_id, with_for_update=True)
    if finding is None:
        raise NotFound(f"finding {finding_id} does not exist")
    if finding.status == "resolved":
        raise Conflict(f"finding {finding_id} is already resolved")
    finding.status = "resolved"
    finding.verdict = verdict
    finding.note = note.strip()
    finding.resolved_at = rt.clock.now()
    finding.resolved_by = principal.username
    session.flush()
    rt.audit.append(
        session,
        "review.finding_resolved",
        principal.actor,
        subject=f"finding:{finding_id}",
        details={
            "finding_id": finding_id,
            "search_id": str(finding.search_id),
            "rule": finding.rule,
            "verdict": verdict,
            "note": finding.note,
        },
    )
    record = session.get_one(SearchRecord, finding.search_id)
    return _view(finding, record)


@dataclass(frozen=True)
class VagueRate:
    key: str  # a username or an agency ORI
    searches: int
    vague: int

    @property
    def rate(self) -> float:
        return self.vague / self.searches if self.searches else 0.0


def vague_rates(
    session: Session,
    rt: Runtime,
    principal: Principal,
    *,
    since: datetime,
    until: datetime,
    by: str = "user",
) -> list[VagueRate]:
    """Per-user or per-agency share of searches with a vague justification (refused as junk
    at search time, or flagged by the review), for the compliance summary."""
    key = SearchRecord.username if by == "user" else SearchRecord.agency_ori
    window = (SearchRecord.created_at >= since, SearchRecord.created_at < until)
    totals = dict(session.execute(select(key, func.count()).where(*window).group_by(key)).all())
    flagged_ids = select(Finding.search_id).where(Finding.rule == "vague_justification")
    vague_q = (
        select(key, func.count())
        .where(*window)
        .where(
            (SearchRecord.reason_code == ReasonCode.JUSTIFICATION_REQUIRED.value)
            | SearchRecord.id.in_(flagged_ids)
        )
        .group_by(key)
    )
    vague = dict(session.execute(vague_q).all())
    rt.audit.append(
        session,
        "review.vague_rates_viewed",
        principal.actor,
        details={"by": by, "from": since.isoformat(), "to": until.isoformat()},
    )
    return sorted(
        (VagueRate(str(k), int(n), int(vague.get(k, 0))) for k, n in totals.items()),
        key=lambda r: (-r.rate, r.key),
    )
