"""The access review: flag misuse after the fact, the same day (docs/access-review.md).

Prohibited purposes are refused at search time; this is the fallback for everything else. A run
(``jobs.review.review_access``, which owns its transactions; this module does the work of
each) does three things over the access records since the last run:

* text rules (``policy.text_rules``, current config) over each justification and case number, so
  a tuned word list applies to recent history too;
* structured signals: a refused search that named a prohibited purpose, or a declared on-behalf-of
  agency the sharing rules refused, becomes a high finding;
* behavioural rules (``policy.behaviour``) over each user's own history.

Findings are unique per (search, rule), so a re-run is harmless. Every run, every listing by an
auditor and every resolution is an audit event.

A run makes one pass over the records in time order (one streamed query, plain Core rows) in a
read-only transaction, so on SQLite it never holds the write lock while it reads: ingest and
searches go on. Findings are written in short transactions as they accumulate, the last batch
with the run's audit event.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, String, Table, func, insert, select
from sqlalchemy import cast as sql_cast
from sqlalchemy.orm import Session

from alpr_guard.audit import Actor
from alpr_guard.db import execute_insert_ignore
from alpr_guard.errors import Conflict, KeyUnavailable, NotFound, ValidationError
from alpr_guard.models import AuditEvent, Finding, SearchRecord
from alpr_guard.policy.behaviour import UserReview, day_peer_medians
from alpr_guard.policy.decisions import ReasonCode
from alpr_guard.policy.hit_rates import RULE as HIT_RATE_RULE
from alpr_guard.policy.text_rules import TextMatch, TextRules, field_triggers, scan, scan_words
from alpr_guard.progress import SILENT, Progress
from alpr_guard.record_chain import finding_key, finding_mac, finding_mac_of
from alpr_guard.services.deps import Deps
from alpr_guard.services.free_text import display, note_aad
from alpr_guard.services.hit_rates import hit_rate_findings
from alpr_guard.services.principals import Principal
from alpr_guard.vocabulary import AuditKind, FindingStatus, Outcome

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
IN_CHUNK = 500  # ids per IN list: well under any SQLite's bound-parameter limit
_DIGIT_RUNS = re.compile(r"[0-9]+(?:-[0-9]+)*")
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
        .where(AuditEvent.kind == AuditKind.REVIEW_COMPLETED)
        .order_by(AuditEvent.seq.desc())
        .limit(200)
    ):
        run = json.loads(details)
        if run.get("continuous", True):
            return datetime.fromisoformat(run["until"])
    return None


# What the behavioural rules need of every record in the lookback; the text rules need the rest
# only from ``since`` on. The id comes as text (hex or the dashed form, as the database renders
# it): only the few records that get a finding need it as a UUID, and converting a million
# costs seconds.
BEHAVIOUR_COLUMNS = (
    sql_cast(SearchRecord.id, String),
    SearchRecord.created_at,
    SearchRecord.user_id,
    SearchRecord.terms_token,
    SearchRecord.case_number,
)
TEXT_COLUMNS = (
    SearchRecord.justification,
    SearchRecord.outcome,
    SearchRecord.reason_code,
    SearchRecord.rule,
    SearchRecord.matched,
    # The text as typed: the columns above hold display copies with plates masked.
    SearchRecord.terms_sealed,
    SearchRecord.purpose,
)


def _pages(
    session: Session, columns: Sequence[Any], since: datetime, until: datetime
) -> Iterator[Sequence[Any]]:
    """Pages of plain row tuples (Core, no ORM loading) for the access records in
    [since, until), oldest first, from one streamed query (a server-side cursor on PostgreSQL).

    One query rather than keyset pages: a page query's plan depends on the table's statistics,
    and with stale ones (a bulk load not yet analysed) PostgreSQL re-reads and re-sorts the
    rest of the range for every page, quadratic in the range. One ordered scan is linear
    whatever the plan.
    """
    stmt = (
        select(*columns)
        .where(SearchRecord.created_at >= since, SearchRecord.created_at < until)
        .order_by(SearchRecord.created_at, SearchRecord.id)
        .execution_options(yield_per=PAGE)
    )
    yield from session.connection().execute(stmt).partitions()


def _structured(
    outcome: str, reason_code: str | None, rule: str | None, matched: str | None
) -> tuple[str, str, dict[str, object]] | None:
    """A refusal recorded at search time is itself a finding: someone tried."""
    if outcome != Outcome.REFUSED or reason_code is None:
        return None
    if reason_code == ReasonCode.PROHIBITED_PURPOSE:
        words = json.loads(matched)[0]["matched"] if matched else []
        return "prohibited_purpose", "high", {"refused": True, "rule": rule, "matched": words}
    if reason_code in SHARING_CODES:
        return (
            "federal_or_out_of_state_proxy",
            "high",
            {"refused": True, "reason_code": reason_code},
        )
    return None


def _typed(rt: Deps, search_id: str, sealed: bytes | None) -> dict[str, Any] | None:
    """The search's sealed terms (plate and free text as typed); None for old records, whose
    stored text is then what is scanned."""
    if not sealed:
        return None
    try:
        value = json.loads(rt.keyring.unseal(sealed, uuid.UUID(search_id).bytes))
    except (KeyUnavailable, ValueError):
        return None
    if not isinstance(value, dict) or "justification" not in value:
        return None
    return value


def _insert_camera_findings(session: Session, rt: Deps, rows: list[dict[str, Any]]) -> None:
    """Insert findings about cameras and state them in the chain like any other finding: a
    camera's finding has no search to key it, so its key is its own id (``record_chain``)."""
    ids = session.scalars(
        insert(FINDINGS).returning(FINDINGS.c.id, sort_by_parameter_order=True), rows
    ).all()
    event = rt.audit.append(
        session,
        AuditKind.REVIEW_FINDINGS_RECORDED,
        SYSTEM_REVIEW,
        details={
            "findings": {
                finding_key(None, row["rule"], finding_id): finding_mac_of(
                    rt.keyring,
                    finding_key(None, row["rule"], finding_id),
                    _new_finding_values(row),
                )
                for finding_id, row in zip(ids, rows, strict=True)
            }
        },
    )
    session.execute(FINDINGS.update().where(FINDINGS.c.id.in_(ids)).values(audit_seq=event.seq))


def _new_finding_values(row: dict[str, Any]) -> list[object]:
    """A new finding's content in ``record_chain.FINDING_COLUMNS`` order (open, no note)."""
    return [
        row["severity"],
        row["matched"],
        FindingStatus.OPEN,
        None,
        None,
        row["created_at"],
        None,
        None,
        None,
    ]


def _masked_words(rt: Deps, words: Sequence[str]) -> dict[str, object]:
    """Matched words come from text as typed: the finding keeps their display copies."""
    return {"matched": [display(rt, w) for w in words]}


class _TextScanner:
    """``scan(rules, justification, case_number)`` for each record, sharing the work between
    records that repeat (UI boilerplate, copied text, a case's number). Every answer is exactly
    what ``scan`` returns; the memos are bounded, so memory stays flat.

    Reasons repeat but case numbers mostly do not, so a memo keyed on the pair would miss on
    almost every record. ``scan`` uses the case number in two ways only: its words are scanned
    by the content rules, and a justification that is or contains the case number's words is
    judged without them (vagueness). When the case number triggers no rule on its own and its
    words do not occur in the justification, neither use can change anything, and the answer is
    the justification's own (``scan`` without a case number), computed once per distinct text.
    Otherwise the pair is scanned as is.
    """

    def __init__(self, rules: TextRules) -> None:
        self.rules = rules
        self.texts: dict[str, tuple[tuple[TextMatch, ...], tuple[str, ...]]] = {}
        self.cases: dict[str, tuple[tuple[str, ...], bool]] = {}
        self.pairs: dict[tuple[str, str], tuple[TextMatch, ...]] = {}

    def matches(self, justification: str, case_number: str | None) -> tuple[TextMatch, ...]:
        text = self.texts.get(justification)
        if text is None:
            text = self._remember(
                self.texts,
                justification,
                scan_words(self.rules, justification),
            )
        if not case_number:
            return text[0]
        words = self._plain_number(case_number)
        if words is not None:
            triggers_a_rule = False
        else:
            case = self.cases.get(case_number)
            if case is None:
                case = field_triggers(self.rules, case_number)
                self._remember(self.cases, case_number, case)
            words, triggers_a_rule = case
        if not triggers_a_rule and not _contains(text[1], words):
            return text[0]
        key = (justification, case_number)
        found = self.pairs.get(key)
        if found is None:
            found = self._remember(self.pairs, key, scan(self.rules, justification, case_number))
        return found

    def _plain_number(self, case_number: str) -> tuple[str, ...] | None:
        """The words of a case number made of digit runs joined by hyphens ("26-004512", most
        of them) if it certainly triggers no rule, else None.

        Such a number is its own normal form and its words are the runs. A scan finds
        nothing in a field where no word can start a phrase (``trie.starts``, the test it
        inlines) and no pattern matches, so neither is worth tokenising and scanning; a number
        that fails either test goes the long way.
        """
        if not _DIGIT_RUNS.fullmatch(case_number):
            return None
        words = tuple(case_number.split("-"))
        starts = self.rules.trie.starts
        if any(starts(word) for word in words):
            return None
        if any(pattern.search(case_number) for _, pattern in self.rules.patterns):
            return None
        return words

    @staticmethod
    def _remember(memo: dict[Any, Any], key: Any, value: Any) -> Any:
        if len(memo) >= MEMO_LIMIT:
            memo.clear()
        memo[key] = value
        return value


def _contains(words: tuple[str, ...], part: tuple[str, ...]) -> bool:
    """Is ``part`` a non-empty run of consecutive ``words``?"""
    if not part or part[0] not in words:
        return False
    size = len(part)
    return any(words[k : k + size] == part for k in range(len(words) - size + 1))


class Findings:
    """Pending findings; counts what was new. ``spill`` runs a unit of work in a transaction of
    its own (the caller's, e.g. ``TransactionRunner.run``): a full page of findings is written
    in one as the scan goes, so none waits for the end of a long run."""

    def __init__(
        self, rt: Deps, now: datetime, spill: Callable[[Callable[[Session], None]], object]
    ) -> None:
        self.rt = rt
        self.now = now
        self.spill = spill
        self.pending: dict[tuple[uuid.UUID, str], dict[str, Any]] = {}
        self.by_rule: dict[str, int] = {}

    def add(self, record_id: str, rule: str, severity: str, matched: object) -> None:
        search_id = uuid.UUID(record_id)
        key = (search_id, rule)
        if key not in self.pending:
            self.pending[key] = {
                "search_id": search_id,
                "rule": rule,
                "severity": severity,
                "matched": json.dumps(matched, sort_keys=True),
                "status": FindingStatus.OPEN,
                "created_at": self.now,
            }

    def flush_if_full(self) -> None:
        if len(self.pending) >= PAGE:
            self.spill(self.flush)

    def flush(self, session: Session) -> None:
        """Insert the pending findings; one already there for (search, rule) is left alone."""
        if not self.pending:
            return
        keys = list(self.pending)
        existing: set[tuple[uuid.UUID, str]] = set()
        ids = list({search_id for search_id, _ in keys})
        for n in range(0, len(ids), IN_CHUNK):
            found = session.execute(
                select(Finding.search_id, Finding.rule).where(
                    Finding.search_id.in_(ids[n : n + IN_CHUNK])
                )
            )
            existing.update((search_id, rule) for search_id, rule in found if search_id)
        rows = [self.pending[key] for key in keys if key not in existing]
        if rows:
            # Each new finding is stated in the chain (``record_chain``): its content's MAC.
            event = self.rt.audit.append(
                session,
                AuditKind.REVIEW_FINDINGS_RECORDED,
                SYSTEM_REVIEW,
                details={
                    "findings": {
                        finding_key(row["search_id"], row["rule"]): finding_mac_of(
                            self.rt.keyring,
                            finding_key(row["search_id"], row["rule"]),
                            _new_finding_values(row),
                        )
                        for row in rows
                    }
                },
            )
            for row in rows:
                row["audit_seq"] = event.seq
        # Still insert-or-ignore: on PostgreSQL a concurrent run may insert the same finding.
        execute_insert_ignore(session, FINDINGS, ["search_id", "rule"], rows)
        for row in rows:
            self.by_rule[row["rule"]] = self.by_rule.get(row["rule"], 0) + 1
        self.pending.clear()


@dataclass(frozen=True)
class ReviewScan:
    """What a run's read found: the stretch reviewed, the records scanned in it, and the
    camera findings (its search findings are pending in ``Findings``)."""

    since: datetime
    until: datetime
    continuous: bool
    scanned: int
    cameras: list[dict[str, Any]]


def scan_access(
    reader: Session,
    rt: Deps,
    findings: Findings,
    *,
    since: datetime | None = None,
    progress: Progress = SILENT,
) -> ReviewScan:
    """Review the access records in [since, until) into ``findings``, reading through
    ``reader`` (a read-only transaction: on SQLite no write lock, so ingest and searches go
    on). ``since`` defaults to where the unbroken stretch of reviewed history ends."""
    now = findings.now
    until = now - SETTLE
    reviewed = _reviewed_through(reader) or EPOCH
    if since is None:
        since = reviewed
    continuous = since <= reviewed
    if progress is not SILENT:  # the count is an extra query: only when someone watches
        due = reader.scalar(
            select(func.count())
            .select_from(SearchRecord)
            .where(SearchRecord.created_at >= since, SearchRecord.created_at < until)
        )
        progress.start("review: access records", int(due or 0), "records")
    scanned = _review_records(reader, rt, since, until, findings, progress)
    progress.finish()
    cameras = hit_rate_findings(reader, rt.settings.review.hit_rate, until, now)
    return ReviewScan(since, until, continuous, scanned, cameras)


def record_review(
    session: Session,
    rt: Deps,
    scan: ReviewScan,
    findings: Findings,
    seconds: float,
    actor: Actor = SYSTEM_REVIEW,
) -> ReviewResult:
    """The run's last findings, its camera findings and its ``review.completed`` event."""
    findings.flush(session)
    if scan.cameras:  # findings about a camera, not a search (policy.hit_rates)
        _insert_camera_findings(session, rt, scan.cameras)
        findings.by_rule[HIT_RATE_RULE] = len(scan.cameras)
    by_rule = dict(sorted(findings.by_rule.items()))
    new = sum(by_rule.values())
    rt.audit.append(
        session,
        AuditKind.REVIEW_COMPLETED,
        actor,
        details={
            "since": scan.since.isoformat(),
            "until": scan.until.isoformat(),
            "continuous": scan.continuous,
            "searches": scan.scanned,
            "new_findings": new,
            "by_rule": by_rule,
            "seconds": round(seconds, 3),
        },
    )
    session.flush()
    return ReviewResult(scan.since, scan.until, scan.scanned, new, by_rule, seconds)


def _review_records(
    session: Session,
    rt: Deps,
    since: datetime,
    until: datetime,
    findings: Findings,
    progress: Progress = SILENT,
) -> int:
    """One pass over the records, oldest first: text rules and refusals on each record from
    ``since``; behavioural rules over each user's history from ``since`` less the lookback.

    The behavioural rules judge a day against the peers' counts for that whole day, so the
    records of one day are held back until the day is complete, then fed to their users.
    """
    rules = rt.settings.review.behaviour
    lookback = timedelta(days=max(rules.repeated_window_days, rules.spike_baseline_days, 90))
    start = max(since - lookback, EPOCH)
    texts = _TextScanner(rt.settings.screening)
    known_purposes = {p.code for p in rt.settings.purposes}
    users: dict[int, UserReview] = {}
    add = findings.add
    scanned = 0
    day: date | None = None
    held: list[tuple[str, datetime, int, str, bool]] = []

    def judge_day() -> None:
        counts: dict[int, int] = {}
        for record in held:
            counts[record[2]] = counts.get(record[2], 0) + 1
        peers = day_peer_medians(counts)
        for search_id, at, user_id, token, has_case in held:
            user = users.get(user_id)
            if user is None:
                user = users[user_id] = UserReview(rules, since)
            for rule, severity, figures in user.observe(at, token, has_case, peers[user_id]):
                add(search_id, rule, severity, figures)
        held.clear()
        findings.flush_if_full()

    # Only the behavioural columns for the lookback, every column from since on. (A since before
    # 1970 puts records ahead of the lookback's start: those get the text rules only.)
    for columns, lo, hi in (
        (BEHAVIOUR_COLUMNS, start, min(since, until)),
        ((*BEHAVIOUR_COLUMNS, *TEXT_COLUMNS), since, until),
    ):
        text_rules = len(columns) > len(BEHAVIOUR_COLUMNS)
        for page in _pages(session, columns, lo, hi):
            for row in page:
                search_id, at, user_id, token, case_number = row[:5]
                if at >= start:
                    if at.date() != day:
                        judge_day()
                        day = at.date()
                    held.append((search_id, at, user_id, token, bool(case_number)))
                if not text_rules:
                    continue
                scanned += 1
                justification, outcome, reason_code, rule, matched, sealed, purpose = row[5:]
                typed = _typed(rt, search_id, sealed)
                if typed is not None:
                    justification = str(typed.get("justification") or justification)
                    case_number = str(typed.get("case_number") or case_number or "") or None
                    purpose = str(typed.get("purpose") or purpose)
                structured = _structured(outcome, reason_code, rule, matched)
                if structured is not None:
                    add(search_id, *structured)
                found = list(texts.matches(justification, case_number))
                if outcome == Outcome.REFUSED and purpose not in known_purposes:
                    # A refused attempt whose purpose is no code of the policy (unknown, or a
                    # malformed request): the purpose text is screened as free text too.
                    found.extend(texts.matches(purpose, None))
                for match in found:
                    if structured is not None and match.rule == structured[0]:
                        continue
                    add(search_id, match.rule, match.severity, _masked_words(rt, match.matched))
            findings.flush_if_full()
            if text_rules:
                progress.advance(len(page))
    judge_day()
    return scanned


# -- auditors ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class FindingView:
    id: int
    search_id: uuid.UUID | None  # None for a finding about a camera or the configuration
    rule: str
    severity: str
    matched: object
    status: str
    verdict: str | None
    note: str | None
    created_at: datetime
    resolved_at: datetime | None
    resolved_by: str | None
    username: str | None
    agency_ori: str | None
    searched_at: datetime | None
    purpose: str | None
    camera_id: str | None = None
    config_ref: str | None = None  # a finding about the configuration (config_drift)


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
    agency: str | None = None  # only searches by users of this agency (a partner's auditor)


def _view(finding: Finding, record: SearchRecord | None) -> FindingView:
    """A finding with its search's who/when/why, or none of them for a finding about a camera
    or the configuration."""
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
        record.username if record else None,
        record.agency_ori if record else None,
        record.created_at if record else None,
        record.purpose if record else None,
        finding.camera_id,
        finding.config_ref,
    )


def _finding_conditions(filters: FindingFilter) -> list[ColumnElement[bool]]:
    """The filters as conditions over findings outer-joined to their searches."""
    # A camera's or the configuration's finding has no search: its own creation time places
    # it in a period.
    at = func.coalesce(SearchRecord.created_at, Finding.created_at)
    conditions: list[ColumnElement[bool]] = []
    if filters.status:
        conditions.append(Finding.status == filters.status)
    if filters.rule:
        conditions.append(Finding.rule == filters.rule)
    if filters.severity:
        conditions.append(Finding.severity == filters.severity)
    if filters.username:
        conditions.append(SearchRecord.username == filters.username)
    if filters.agency:
        conditions.append(SearchRecord.agency_ori == filters.agency)
    if filters.since:
        conditions.append(at >= filters.since)
    if filters.until:
        conditions.append(at < filters.until)
    return conditions


def count_findings(session: Session, filters: FindingFilter) -> int:
    """How many findings the filters match, whatever the page (the console's "51-100 of 352").
    Counted as part of a listing, which records the look; never on its own."""
    stmt = (
        select(func.count())
        .select_from(Finding)
        .outerjoin(SearchRecord, SearchRecord.id == Finding.search_id)
        .where(*_finding_conditions(filters))
    )
    return int(session.scalar(stmt) or 0)


def finding_rules(session: Session, *, agency: str | None = None) -> list[str]:
    """The rule codes findings exist for (the console's filter choices); with ``agency``, only
    findings on searches by that agency's users (as ``list_findings`` scopes them): the rules
    another agency's users were flagged for are not a partner's to learn."""
    stmt = select(Finding.rule).distinct().order_by(Finding.rule)
    if agency is not None:
        stmt = stmt.join(SearchRecord, SearchRecord.id == Finding.search_id).where(
            SearchRecord.agency_ori == agency
        )
    return list(session.scalars(stmt))


def list_findings(
    session: Session,
    rt: Deps,
    principal: Principal,
    filters: FindingFilter,
    *,
    oldest_first: bool = False,
) -> list[FindingView]:
    stmt = (
        select(Finding, SearchRecord)
        .outerjoin(SearchRecord, SearchRecord.id == Finding.search_id)
        .where(*_finding_conditions(filters))
    )
    order = Finding.id.asc() if oldest_first else Finding.id.desc()
    rows = session.execute(stmt.order_by(order).limit(filters.limit).offset(filters.offset)).all()
    rt.audit.append(
        session,
        AuditKind.REVIEW_FINDINGS_LISTED,
        principal.actor,
        details={
            "filters": {k: v for k, v in vars(filters).items() if v is not None},
            "returned": len(rows),
            **({"order": "oldest_first"} if oldest_first else {}),
        },
    )
    return [_view(f, r) for f, r in rows]


@dataclass(frozen=True)
class SearchContext:
    """The search a finding is about, as the access record shows it: display copies only (the
    free text with plates and personal data masked), never the plate or its token."""

    id: uuid.UUID
    searched_at: datetime
    username: str
    agency_ori: str
    on_behalf_of: str | None
    purpose: str
    justification: str
    case_number: str | None
    window_from: datetime | None
    window_to: datetime | None
    outcome: str
    reason_code: str | None
    result_count: int


@dataclass(frozen=True)
class UserHistory:
    """A user's searches over the ``days`` days up to ``until``: per day searches and refusals
    (oldest day first), and how often the same target was searched again (counts only)."""

    username: str
    since: datetime
    until: datetime
    days: tuple[tuple[date, int, int], ...]  # (day, searches, refused)
    repeated_targets: tuple[int, ...]  # searches per target searched more than once, largest first

    @property
    def searches(self) -> int:
        return sum(n for _d, n, _r in self.days)

    @property
    def refused(self) -> int:
        return sum(r for _d, _n, r in self.days)


@dataclass(frozen=True)
class FindingDetail:
    finding: FindingView
    search: SearchContext | None
    history: UserHistory | None


HISTORY_DAYS = 30


def user_history(
    session: Session, username: str, until: datetime, days: int = HISTORY_DAYS
) -> UserHistory:
    """Counts only: the history is read as part of an audited look at a finding."""
    end = datetime.combine(until.date(), datetime.min.time(), tzinfo=UTC) + timedelta(days=1)
    start = end - timedelta(days=days)
    rows = session.execute(
        select(SearchRecord.created_at, SearchRecord.outcome, SearchRecord.terms_token).where(
            SearchRecord.username == username,
            SearchRecord.created_at >= start,
            SearchRecord.created_at < end,
        )
    ).all()
    per_day: dict[date, list[int]] = {
        (start + timedelta(days=k)).date(): [0, 0] for k in range(days)
    }
    targets: dict[str, int] = {}
    for at, outcome, token in rows:
        counts = per_day.setdefault(at.astimezone(UTC).date(), [0, 0])
        counts[0] += 1
        if outcome == Outcome.REFUSED:
            counts[1] += 1
        if token:
            targets[token] = targets.get(token, 0) + 1
    return UserHistory(
        username,
        start,
        end,
        tuple((d, n, r) for d, (n, r) in sorted(per_day.items())),
        tuple(sorted((n for n in targets.values() if n > 1), reverse=True)),
    )


def get_finding(
    session: Session, rt: Deps, principal: Principal, finding_id: int, *, agency: str | None
) -> FindingDetail:
    """One finding with its search and the user's recent history; the look is an audit event
    (``review.finding_viewed``). With ``agency``, a finding on another agency's search is
    answered as if it did not exist, as ``resolve_finding`` does."""
    finding = session.get(Finding, finding_id)
    record = (
        session.get(SearchRecord, finding.search_id)
        if finding is not None and finding.search_id is not None
        else None
    )
    if finding is None or (agency is not None and (record is None or record.agency_ori != agency)):
        raise NotFound(f"finding {finding_id} does not exist")
    search = (
        SearchContext(
            record.id,
            record.created_at,
            record.username,
            record.agency_ori,
            record.on_behalf_of,
            record.purpose,
            record.justification,
            record.case_number,
            record.window_from,
            record.window_to,
            record.outcome,
            record.reason_code,
            record.result_count,
        )
        if record is not None
        else None
    )
    history = user_history(session, record.username, record.created_at) if record else None
    rt.audit.append(
        session,
        AuditKind.REVIEW_FINDING_VIEWED,
        principal.actor,
        subject=f"finding:{finding_id}",
        details={
            "finding_id": finding_id,
            "search_id": str(finding.search_id) if finding.search_id else None,
        },
    )
    return FindingDetail(_view(finding, record), search, history)


def resolve_finding(
    session: Session,
    rt: Deps,
    principal: Principal,
    finding_id: int,
    *,
    verdict: str,
    note: str,
    agency: str | None = None,
) -> FindingView:
    """Resolve a finding; with ``agency``, only one on a search by a user of that agency (any
    other is answered as if it did not exist)."""
    errors = {}
    if verdict not in VERDICTS:
        errors["verdict"] = f"must be one of {', '.join(VERDICTS)}"
    if not note.strip() or len(note) > 4000:
        errors["note"] = "must be 1-4000 characters: say why"
    if errors:
        raise ValidationError(errors)
    finding = session.get(Finding, finding_id, with_for_update=True)
    searched = (
        session.get(SearchRecord, finding.search_id)
        if finding is not None and finding.search_id is not None
        else None
    )
    # A partner's auditor resolves only findings on its own users' searches; a camera's or the
    # configuration's finding is the operating agency's.
    if finding is None or (
        agency is not None and (searched is None or searched.agency_ori != agency)
    ):
        raise NotFound(f"finding {finding_id} does not exist")
    if finding.status == FindingStatus.RESOLVED:
        raise Conflict(f"finding {finding_id} is already resolved")
    typed = _typed(rt, str(searched.id), searched.terms_sealed) if searched else None
    plates = [str(typed["plate"])] if typed and typed.get("plate") else []
    finding.status = FindingStatus.RESOLVED
    finding.verdict = verdict
    # The note as typed is sealed; the column holds its display copy (plates masked).
    finding.note = display(rt, note.strip(), plates)
    finding.note_sealed = rt.keyring.seal(
        json.dumps({"note": note.strip()}).encode(), note_aad(finding_id)
    )
    finding.resolved_at = rt.clock.now()
    finding.resolved_by = principal.username
    session.flush()
    event = rt.audit.append(
        session,
        AuditKind.REVIEW_FINDING_RESOLVED,
        principal.actor,
        subject=f"finding:{finding_id}",
        details={
            "finding_id": finding_id,
            "search_id": str(finding.search_id) if finding.search_id else None,
            **({"camera_id": finding.camera_id} if finding.camera_id else {}),
            **({"config_ref": finding.config_ref} if finding.config_ref else {}),
            "rule": finding.rule,
            "verdict": verdict,
            "note": finding.note,
            "record_mac": finding_mac(rt.keyring, finding),
        },
    )
    finding.audit_seq = event.seq
    session.flush()
    record = session.get(SearchRecord, finding.search_id) if finding.search_id else None
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
    rt: Deps,
    principal: Principal,
    *,
    since: datetime,
    until: datetime,
    by: str = "user",
    agency: str | None = None,
) -> list[VagueRate]:
    """Per-user or per-agency share of searches with a vague justification (refused as junk
    at search time, or flagged by the review), for the compliance summary; with ``agency``,
    only searches by users of that agency."""
    key = SearchRecord.username if by == "user" else SearchRecord.agency_ori
    window: tuple[ColumnElement[bool], ...] = (
        SearchRecord.created_at >= since,
        SearchRecord.created_at < until,
    )
    if agency is not None:
        window = (*window, SearchRecord.agency_ori == agency)
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
        AuditKind.REVIEW_VAGUE_RATES_VIEWED,
        principal.actor,
        details={
            "by": by,
            "from": since.isoformat(),
            "to": until.isoformat(),
            **({"agency": agency} if agency is not None else {}),
        },
    )
    return sorted(
        (VagueRate(str(k), int(n), int(vague.get(k, 0))) for k, n in totals.items()),
        key=lambda r: (-r.rate, r.key),
    )


def findings_per_day(
    session: Session, since: datetime, until: datetime, *, agency: str | None = None
) -> list[tuple[date, int]]:
    """Findings raised per UTC day in [since, until), every day listed (the console's chart of
    findings over time); counted in Python so the day is the same on every database."""
    stmt = (
        select(Finding.created_at)
        .outerjoin(SearchRecord, SearchRecord.id == Finding.search_id)
        .where(Finding.created_at >= since, Finding.created_at < until)
    )
    if agency is not None:
        stmt = stmt.where(SearchRecord.agency_ori == agency)
    counts: dict[date, int] = {}
    day = since.astimezone(UTC).date()
    last = (until - timedelta(microseconds=1)).astimezone(UTC).date()
    while day <= last:
        counts[day] = 0
        day += timedelta(days=1)
    for (at,) in session.execute(stmt):
        key = at.astimezone(UTC).date()
        counts[key] = counts.get(key, 0) + 1
    return sorted(counts.items())
