"""Auditors' reports: the access-justification record and the compliance summary.

Civil Code 1798.90.52(a) requires a record of every access to the ALPR system: date and time,
the plate or other data used to query, the username and the user's organisation, and the
purpose. ``iter_access_rows`` turns the stored access records (``searches``, allowed and refused)
back into that record, one row per search, with the justification, case number, on-behalf-of
agency, outcome, reason code, result count and the access review's findings (docs/access-review.md).

Two forms:

* **full** (``full=True``): the plate used to query is unsealed for the auditor. Pulling it is
  its own audit event kind (``report.access_full``) so a reviewer can see who opened plates.
* **redacted** (the default, meant for release: public-records requests, a city council): the
  plate is replaced by its keyed term token (stable across the report, so repeated look-ups of
  one plate still show) and personal data typed into the justification or case number (SSNs,
  dates of birth, driver's licence numbers, phone numbers, emails, card numbers) is masked.
  The redacted form never unseals a plate at all.

Rows stream in keyset pages of the index ``(created_at, id)``, never the whole period in memory
(bench/report_export.py: 1M records at a flat RSS). ``compliance_summary`` answers "does the
system keep its promises" for a period: reads in and out per retention class, reads past their
window still stored (must be 0), searches, refusals, shares, findings, how old the data reached
by searches could be, and whether the audit chain verifies. Every report pulled is an audit
event (``report.access``, ``report.access_full``, ``report.summary``): auditors' own reads are
audited too.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import IO, Any

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.orm import Session

from alpr_guard.audit import Actor, verify_chain
from alpr_guard.checkpoints import rt_anchors
from alpr_guard.errors import AlprGuardError, KeyUnavailable, ValidationError
from alpr_guard.models import AuditEvent, Finding, LegalHold, PlateRead, SearchRecord, Share
from alpr_guard.policy.hit_rates import RULE as HIT_RATE_RULE
from alpr_guard.policy.hit_rates import CameraHitRate
from alpr_guard.record_chain import check_search_rows
from alpr_guard.runtime import Runtime
from alpr_guard.services.cameras import SilentCamera, silent_cameras
from alpr_guard.services.hit_rates import camera_hit_rates
from alpr_guard.services.windows import past_window

PAGE = 2000
OUTCOMES = ("allowed", "refused")
ACCESS_FORMATS = ("csv", "json", "html")
SUMMARY_FORMATS = ("json", "html")
UNREADABLE = "[unreadable]"  # a sealed term that fails authentication: tampering, shown as such
AGE_BUCKETS: tuple[tuple[str, int | None], ...] = (
    ("0-7", 7),
    ("8-30", 30),
    ("31-60", 60),
    ("61-180", 180),
    ("181-365", 365),
    (">365", None),
)

# -- redaction ---------------------------------------------------------------------------------

_MONTH = r"(?i:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?"
_DATE = (
    r"(?:\d{1,2}[/.\-]\d{1,2}[/.\-](?:\d{4}|\d{2})"
    r"|(?:19|20)\d{2}[/.\-]\d{1,2}[/.\-]\d{1,2}"
    rf"|{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}"
    rf"|\d{{1,2}}\s+{_MONTH},?\s+\d{{4}})"
)
# Numbers that begin with a digit, in one pass that starts with "\d" so the regex engine skips
# straight from digit to digit. The first digit is consumed before the alternatives, which is
# why each of them asks for one digit less; "(?<!\w\d)" is the word boundary before it.
_NUMBERS = (
    r"\d(?<!\w\d)(?:"
    r"(?P<card>(?:[ \-]?\d){12,18}\b)"
    r"|(?P<ssn>\d{2}-?\d{2}-?\d{4}\b)"
    r"|(?P<phone>\d{2}[\s.\-]?\d{3}[\s.\-]?\d{4}\b)"
    r"|(?P<date>(?:\d?[/.\-]\d{1,2}[/.\-](?:\d{4}|\d{2})"
    r"|\d{3}[/.\-]\d{1,2}[/.\-]\d{1,2}"
    rf"|\d?\s+{_MONTH},?\s+\d{{4}})\b))"
)
_NUMBER_LABELS = {"card": "[card]", "ssn": "[ssn]", "phone": "[phone]", "date": "[date]"}
_TWO_DIGITS = re.compile(r"\d\d")
_FOUR_DIGITS = re.compile(r"\d{4}")
_SEVEN_DIGITS = re.compile(r"\d{7}")


def _mentions_birth(text: str) -> bool:
    low = text.lower()
    return "dob" in low or "birth" in low or "born" in low or "d.o.b" in low


def _dob(match: re.Match[str]) -> str:
    # Keep the word the officer typed: "DOB [dob]" still reads as what it was.
    return f"{match['kw']}{match['sep']}[dob]"


def _number(match: re.Match[str]) -> str:
    return _NUMBER_LABELS[match.lastgroup or "date"]


@dataclass(frozen=True)
class Redaction:
    """One kind of personal data: its pattern, what replaces it, and a cheap test that lets
    a text skip the pattern when it cannot match (a report redacts a million rows)."""

    name: str
    pattern: re.Pattern[str]
    replacement: str | Callable[[re.Match[str]], str]
    applies: Callable[[str], object]


# In this order: the most specific shapes first, so a looser later pattern never sees them
# (a date of birth before a bare date, a bracketed phone before the bare numbers). Over-masking
# is the safe failure for a document meant for release.
REDACTIONS: tuple[Redaction, ...] = (
    Redaction(
        "email",
        re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"),
        "[email]",
        lambda t: "@" in t,
    ),
    Redaction(
        "dob",
        re.compile(
            r"(?i:\b(?P<kw>DOB|D\.O\.B\.?|date\s+of\s+birth|birth\s*date|born(?:\s+on)?))"
            r"(?P<sep>\s*[:#=\-]?\s*)" + _DATE
        ),
        _dob,
        _mentions_birth,
    ),
    Redaction(
        "phone",
        re.compile(
            r"(?:\+?1[\s.\-]?)?\(\d{3}\)\s?\d{3}[\s.\-]?\d{4}\b"
            r"|\+1[\s.\-]?\d{3}[\s.\-]?\d{3}[\s.\-]?\d{4}\b"
        ),
        "[phone]",
        lambda t: "(" in t or "+" in t,
    ),
    Redaction("number", re.compile(_NUMBERS), _number, _TWO_DIGITS.search),
    Redaction(
        "date",
        # Month first ("March 3, 1975"); starts with a character class so the engine skips
        # to candidate letters, "(?<![A-Za-z][A-Za-z])" being the word boundary before it.
        re.compile(
            r"[JFMASONDjfmasond](?<![A-Za-z][A-Za-z])(?i:an|eb|ar|pr|ay|un|ul|ug|ep|ct|ov|ec)"
            r"[a-z]*\.?\s+\d{1,2}(?:st|nd|rd|th)?,?\s+\d{4}\b"
        ),
        "[date]",
        _FOUR_DIGITS.search,
    ),
    Redaction("dl", re.compile(r"\b[A-Za-z]\d{7}\b"), "[dl]", _SEVEN_DIGITS.search),
)
# Every pattern above needs a digit or an "@": text without either is returned untouched.
_SIGNAL = re.compile(r"[\d@]")


def redact_text(text: str) -> str:
    """Mask personal data an officer may have typed into free text (justification, case
    number) before a report is released: SSNs, dates of birth (and other dates), California
    driver's licence numbers, phone numbers, emails and card numbers."""
    if not _SIGNAL.search(text):
        return text
    for redaction in REDACTIONS:
        if redaction.applies(text):
            text = redaction.pattern.sub(redaction.replacement, text)
    return text


# -- the access report -------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportFilter:
    """Which access records a report covers: created in [since, until), optionally one user,
    one agency (the searching user's agency ORI), one purpose code, one outcome."""

    since: datetime
    until: datetime
    username: str | None = None
    agency: str | None = None
    purpose: str | None = None
    outcome: str | None = None

    def __post_init__(self) -> None:
        errors: dict[str, str] = {}
        if self.since.tzinfo is None or self.until.tzinfo is None:
            errors["from"] = "from and to must carry a timezone"
        elif self.since >= self.until:
            errors["to"] = "must be after from"
        if self.outcome is not None and self.outcome not in OUTCOMES:
            errors["outcome"] = "must be allowed or refused"
        for name in ("username", "agency", "purpose"):
            value = getattr(self, name)
            if value is not None and not 1 <= len(value) <= 64:
                errors[name] = "must be 1-64 characters"
        if errors:
            raise ValidationError(errors)

    def as_details(self) -> dict[str, object]:
        """For audit events: the filters only, never report content."""
        out: dict[str, object] = {"from": self.since.isoformat(), "to": self.until.isoformat()}
        for name in ("username", "agency", "purpose", "outcome"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        return out


@dataclass(frozen=True)
class AccessRow:
    """One access record as the statute lists it. ``plate`` holds the plate used to query in
    the full form and its keyed term token in the redacted form; it never appears in a repr."""

    search_id: uuid.UUID
    searched_at: datetime
    username: str
    agency: str
    on_behalf_of: str | None
    purpose: str
    justification: str = field(repr=False)
    case_number: str | None = field(repr=False)
    plate: str = field(repr=False)
    window_from: datetime | None
    window_to: datetime | None
    outcome: str
    reason_code: str | None
    rule: str | None
    result_count: int
    findings: tuple[str, ...]
    # The record against the audit event stating it (``record_chain``): "verified", "unbound"
    # (written before records were bound), or its damage ("edited", "flipped", "inserted").
    record_check: str = "verified"


def _bound_values(row: Sequence[Any]) -> list[object]:
    """A page row's values in ``record_chain.SEARCH_COLUMNS`` order."""
    (_, created_at, username, agency, on_behalf_of, purpose, justification, case_number) = row[:8]
    window_from, window_to, token, outcome, reason_code, rule, result_count, sealed = row[8:16]
    user_id, matched = row[16], row[17]
    return [
        created_at,
        user_id,
        username,
        agency,
        purpose,
        justification,
        case_number,
        on_behalf_of,
        window_from,
        window_to,
        sealed,
        token,
        outcome,
        reason_code,
        rule,
        matched,
        result_count,
    ]


def _keyset(since: datetime, after: tuple[datetime, uuid.UUID] | None) -> list[ColumnElement[bool]]:
    """Where the next page starts in (created_at, id) order. Past the first page the lower bound
    is the cursor alone, not ``since`` as well: SQLite ranges an index scan on one lower bound,
    and picking ``since`` would rescan the period from its start on every page (quadratic)."""
    if after is None:
        return [SearchRecord.created_at >= since]
    return [
        SearchRecord.created_at >= after[0],
        (SearchRecord.created_at > after[0])
        | ((SearchRecord.created_at == after[0]) & (SearchRecord.id > after[1])),
    ]


def _conditions(filters: ReportFilter, *, lower: bool = True) -> list[ColumnElement[bool]]:
    conditions = [SearchRecord.created_at < filters.until]
    if lower:
        conditions.append(SearchRecord.created_at >= filters.since)
    if filters.username is not None:
        conditions.append(SearchRecord.username == filters.username.strip().lower())
    if filters.agency is not None:
        conditions.append(SearchRecord.agency_ori == filters.agency.strip().upper())
    if filters.purpose is not None:
        conditions.append(SearchRecord.purpose == filters.purpose.strip())
    if filters.outcome is not None:
        conditions.append(SearchRecord.outcome == filters.outcome)
    return conditions


def count_access_rows(session: Session, filters: ReportFilter) -> int:
    """How many access records the filters match (the CLI's progress bar, the audit event)."""
    return int(
        session.scalar(select(func.count()).select_from(SearchRecord).where(*_conditions(filters)))
        or 0
    )


def _findings_of(session: Session, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[str]]:
    """Rule codes of the findings on one page's searches: one probe of the (search_id, rule)
    index per id (a join over the page's time range let SQLite scan every finding instead)."""
    found: dict[uuid.UUID, list[str]] = {}
    rows = (
        session.connection()
        .execute(select(Finding.search_id, Finding.rule).where(Finding.search_id.in_(ids)))
        .all()
    )
    for search_id, rule in rows:
        if search_id is not None:
            found.setdefault(search_id, []).append(rule)
    return found


def _pages(
    session: Session, filters: ReportFilter, *, full: bool, release_between_pages: bool
) -> Iterator[tuple[Sequence[Any], dict[uuid.UUID, list[str]]]]:
    columns: list[Any] = [
        SearchRecord.id,
        SearchRecord.created_at,
        SearchRecord.username,
        SearchRecord.agency_ori,
        SearchRecord.on_behalf_of,
        SearchRecord.purpose,
        SearchRecord.justification,
        SearchRecord.case_number,
        SearchRecord.window_from,
        SearchRecord.window_to,
        SearchRecord.terms_token,
        SearchRecord.outcome,
        SearchRecord.reason_code,
        SearchRecord.rule,
        SearchRecord.result_count,
        # The redacted form never unseals the terms; their bytes are fetched only to check the
        # record against the audit event that states it.
        SearchRecord.terms_sealed,
        SearchRecord.user_id,
        SearchRecord.matched,
        SearchRecord.audit_seq,
    ]
    base = select(*columns).where(*_conditions(filters, lower=False))
    after: tuple[datetime, uuid.UUID] | None = None
    while True:
        stmt = base.where(*_keyset(filters.since, after))
        # Core rows straight from the connection: no ORM machinery per row.
        page: Sequence[Any] = (
            session.connection()
            .execute(stmt.order_by(SearchRecord.created_at, SearchRecord.id).limit(PAGE))
            .all()
        )
        findings = _findings_of(session, [row[0] for row in page]) if page else {}
        if release_between_pages:
            # End the read transaction before handing rows out: on SQLite every transaction
            # takes the write lock, and an export must not hold searches and ingest off.
            session.rollback()
        if not page:
            return
        yield page, findings
        if len(page) < PAGE:
            return
        after = (page[-1][1], page[-1][0])


def iter_access_rows(
    session: Session,
    rt: Runtime,
    filters: ReportFilter,
    *,
    full: bool,
    release_between_pages: bool = False,
) -> Iterator[AccessRow]:
    """The access records matching ``filters``, oldest first, one keyset page at a time.

    ``full`` unseals the plate used to query; otherwise the row carries the term token and the
    free text is redacted (``redact_text``). With ``release_between_pages`` the session's
    transaction is rolled back after each page is read: pass it only for a session with nothing
    pending (record and commit the report's audit event first), as the API and CLI do.
    """
    unseal = rt.keyring.unseal
    loads = json.loads
    for page, findings in _pages(
        session, filters, full=full, release_between_pages=release_between_pages
    ):
        checks = check_search_rows(
            session, rt.keyring, [(row[0], row[-1], _bound_values(row)) for row in page]
        )
        if release_between_pages:
            session.rollback()
        for (
            search_id,
            created_at,
            username,
            agency_ori,
            on_behalf_of,
            stored_purpose,
            stored_justification,
            stored_case,
            window_from,
            window_to,
            terms_token,
            outcome,
            reason_code,
            rule,
            result_count,
            sealed,
            _user_id,
            _matched,
            _audit_seq,
        ) in page:
            justification, case_number = stored_justification, stored_case
            purpose = stored_purpose
            if full:
                try:
                    terms = loads(unseal(sealed, search_id.bytes))
                    plate = str(terms["plate"]) if terms["plate"] is not None else ""
                    # The free text as typed (older records hold only the plate there).
                    if "justification" in terms:
                        justification = str(terms["justification"])
                        case_number = terms.get("case_number")
                        purpose = str(terms.get("purpose") or stored_purpose)
                except (KeyUnavailable, ValueError, KeyError, TypeError):
                    plate = UNREADABLE
            else:
                plate = terms_token
                justification = redact_text(stored_justification)
                case_number = redact_text(stored_case) if stored_case else stored_case
            rules = findings.get(search_id)
            yield AccessRow(
                search_id,
                created_at,
                username,
                agency_ori,
                on_behalf_of,
                purpose,
                justification,
                case_number,
                plate,
                window_from,
                window_to,
                outcome,
                reason_code,
                rule,
                result_count,
                tuple(sorted(rules)) if rules else (),
                checks.get(search_id, "verified"),
            )


def record_report_access(
    session: Session,
    rt: Runtime,
    actor: Actor,
    filters: ReportFilter,
    full: bool,
    fmt: str,
    *,
    matching: int | None = None,
    reason: str | None = None,
) -> AuditEvent:
    """The auditor's own access is on the record (CJIS audit events):
    ``report.access_full`` when plates were unsealed, ``report.access`` for the redacted form.
    ``reason`` is the stated reason for a full export, recorded as given (callers pass its
    display copy). Callers commit it before the first row leaves."""
    details: dict[str, object] = {"filters": filters.as_details(), "format": fmt, "full": full}
    if matching is not None:
        details["matching_records"] = matching
    if reason is not None:
        details["reason"] = reason
    return rt.audit.append(
        session,
        "report.access_full" if full else "report.access",
        actor,
        subject="report:access",
        details=details,
    )


# -- writers -----------------------------------------------------------------------------------

FIELDS = (
    "searched_at",
    "search_id",
    "username",
    "agency",
    "on_behalf_of",
    "purpose",
    "justification",
    "case_number",
    "plate",
    "window_from",
    "window_to",
    "outcome",
    "reason_code",
    "rule",
    "result_count",
    "findings",
    "record_check",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def plate_field(full: bool) -> str:
    """The plate column says which form it is: a released file never looks like plates."""
    return "plate" if full else "plate_token"


def _header(full: bool) -> list[str]:
    return [plate_field(full) if name == "plate" else name for name in FIELDS]


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _cell(value: str | None) -> str:
    """Free text opened in a spreadsheet must not run as a formula (CSV injection): an officer
    controls the justification. A leading quote keeps the text and disarms it."""
    if not value:
        return ""
    return "'" + value if value.startswith(_FORMULA_START) else value


def _csv_record(row: AccessRow) -> list[object]:
    return [
        row.searched_at.isoformat(),
        str(row.search_id),
        _cell(row.username),
        row.agency,
        row.on_behalf_of or "",
        _cell(row.purpose),
        _cell(row.justification),
        _cell(row.case_number),
        row.plate,
        _iso(row.window_from) or "",
        _iso(row.window_to) or "",
        row.outcome,
        row.reason_code or "",
        row.rule or "",
        row.result_count,
        ";".join(row.findings),
        row.record_check,
    ]


def csv_chunks(rows: Iterable[AccessRow], *, full: bool, chunk_rows: int = 1000) -> Iterator[str]:
    """The CSV report as text chunks of ``chunk_rows`` rows (for a streamed HTTP response)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(_header(full))
    pending = 0
    for row in rows:
        writer.writerow(_csv_record(row))
        pending += 1
        if pending >= chunk_rows:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    yield buffer.getvalue()


def write_csv(rows: Iterable[AccessRow], out: IO[str], *, full: bool = False) -> int:
    """Stream the CSV report to a text stream (open files with ``newline=""``); rows written."""
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(_header(full))
    count = 0
    for row in rows:
        writer.writerow(_csv_record(row))
        count += 1
    return count


def row_json(row: AccessRow, *, full: bool) -> dict[str, object]:
    return {
        "searched_at": row.searched_at.isoformat(),
        "search_id": str(row.search_id),
        "username": row.username,
        "agency": row.agency,
        "on_behalf_of": row.on_behalf_of,
        "purpose": row.purpose,
        "justification": row.justification,
        "case_number": row.case_number,
        plate_field(full): row.plate,
        "window_from": _iso(row.window_from),
        "window_to": _iso(row.window_to),
        "outcome": row.outcome,
        "reason_code": row.reason_code,
        "rule": row.rule,
        "result_count": row.result_count,
        "findings": list(row.findings),
        "record_check": row.record_check,
    }


def report_meta(filters: ReportFilter, *, full: bool, generated_at: datetime) -> dict[str, object]:
    return {
        "report": "access",
        "statute": "Civil Code 1798.90.52(a)",
        "generated_at": generated_at.isoformat(),
        "filters": filters.as_details(),
        "redacted": not full,
    }


def json_chunks(
    rows: Iterable[AccessRow],
    *,
    full: bool,
    meta: Mapping[str, object] | None = None,
    chunk_rows: int = 1000,
) -> Iterator[str]:
    """``{...meta, "rows": [...]}`` written incrementally: the document is only valid JSON
    once complete, so a cut-off export can never pass for a whole one."""
    head = json.dumps(dict(meta or {}), ensure_ascii=False)[:-1]
    yield (head + ', "rows": [' if len(head) > 1 else '{"rows": [')
    parts: list[str] = []
    first = True
    dumps = json.dumps
    for row in rows:
        text = dumps(row_json(row, full=full), ensure_ascii=False)
        parts.append(("\n" if first else ",\n") + text)
        first = False
        if len(parts) >= chunk_rows:
            yield "".join(parts)
            parts.clear()
    parts.append("\n]}\n")
    yield "".join(parts)


def write_json(
    rows: Iterable[AccessRow],
    out: IO[str],
    *,
    full: bool = False,
    meta: Mapping[str, object] | None = None,
) -> None:
    """Stream ``{"rows": [...]}`` (after any ``meta`` keys) to a text stream."""
    for chunk in json_chunks(rows, full=full, meta=meta):
        out.write(chunk)


_PAGE_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Arial,sans-serif;margin:1.5rem;color:#111}
h1{font-size:1.3rem;margin:0 0 .3rem}h2{font-size:1.1rem;margin:1.4rem 0 .4rem}
p.meta{color:#444;margin:.15rem 0;font-size:.85rem}
table{border-collapse:collapse;width:100%;font-size:.78rem}
th,td{border:1px solid #bbb;padding:.2rem .35rem;text-align:left;vertical-align:top}
th{background:#eee}tr.refused td{background:#fff4f4}tr.tampered td{background:#ffd0d0}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.ok{color:#106b21;font-weight:600}.bad{color:#c00000;font-weight:700}
.note{font-size:.8rem;color:#444}
@media print{body{margin:0;font-size:9pt}thead{display:table-header-group}
tr{page-break-inside:avoid}a{color:inherit;text-decoration:none}h2{page-break-after:avoid}}
@page{size:landscape;margin:12mm}
"""


def _e(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _html_row(row: AccessRow) -> str:
    cells = (
        row.searched_at.isoformat(),
        row.username,
        row.agency,
        row.on_behalf_of,
        row.purpose,
        row.justification,
        row.case_number,
        row.plate,
        f"{_iso(row.window_from) or ''} - {_iso(row.window_to) or ''}",
        row.outcome,
        row.reason_code,
        row.result_count,
        ", ".join(row.findings),
        row.search_id,
        row.record_check,
    )
    klass = ' class="refused"' if row.outcome == "refused" else ""
    if row.record_check not in ("verified", "unbound"):
        klass = ' class="tampered"'  # fails verification against the audit chain
    body = "".join(
        f'<td class="num">{_e(c)}</td>' if isinstance(c, int) else f"<td>{_e(c)}</td>"
        for c in cells
    )
    return f"<tr{klass}>{body}</tr>\n"


def render_access_html(
    rows: Iterable[AccessRow],
    filters: ReportFilter,
    *,
    full: bool = False,
    generated_at: datetime | None = None,
    chunk_rows: int = 500,
) -> Iterator[str]:
    """A printable page (inline CSS, ``@media print``, no script, no external asset), every
    value escaped, streamed in chunks."""
    described = ", ".join(f"{k}={v}" for k, v in filters.as_details().items())
    plate_head = "Plate" if full else "Plate (keyed hash)"
    form = (
        "FULL form: plates decrypted. Not for release."
        if full
        else "Redacted form for release: plates shown as keyed hashes, personal data masked."
    )
    heads = (
        "Date and time (UTC)",
        "User",
        "Agency",
        "On behalf of",
        "Purpose",
        "Justification",
        "Case number",
        plate_head,
        "Window searched",
        "Outcome",
        "Reason code",
        "Results",
        "Review findings",
        "Search id",
        "Record check",
    )
    yield (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        "<title>Access-justification report</title>"
        f"<style>{_PAGE_CSS}</style></head><body>\n"
        "<h1>Access-justification report (Civil Code 1798.90.52)</h1>\n"
        f'<p class="meta">{_e(described)}</p>\n'
        + (
            f'<p class="meta">Generated {_e(generated_at.isoformat())}</p>\n'
            if generated_at
            else ""
        )
        + f'<p class="meta {"bad" if full else "ok"}">{_e(form)}</p>\n'
        "<table><thead><tr>" + "".join(f"<th>{_e(h)}</th>" for h in heads) + "</tr></thead>"
        "<tbody>\n"
    )
    parts: list[str] = []
    count = 0
    for row in rows:
        parts.append(_html_row(row))
        count += 1
        if len(parts) >= chunk_rows:
            yield "".join(parts)
            parts.clear()
    parts.append(
        f'</tbody></table>\n<p class="meta">{count} access record{"" if count == 1 else "s"}.'
        "</p>\n</body></html>\n"
    )
    yield "".join(parts)


# -- the compliance summary --------------------------------------------------------------------

Counts = tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class ChainStatus:
    ok: bool
    checked: int
    last_seq: int | None
    bad_seq: int | None
    problem: str | None
    checkpoints: int


@dataclass(frozen=True)
class RecipientShares:
    recipient: str
    allowed: int
    refused: int


@dataclass(frozen=True)
class FindingCounts:
    rule: str
    open: int
    resolved: int


@dataclass(frozen=True)
class HoldCounts:
    """Legal holds as of the report (``active``, ``pending``, ``overdue`` past their review-by
    date, ``reads_held``) and in the period (``placed``, ``released``)."""

    active: int
    pending: int
    overdue: int
    reads_held: int
    placed: int
    released: int


@dataclass(frozen=True)
class ComplianceSummary:
    """What an auditor needs to see at a glance for a period [since, until)."""

    since: datetime
    until: datetime
    generated_at: datetime
    ingested_by_class: Counts
    purged_by_class: Counts
    purge_runs: int
    stored_by_class: Counts
    past_window: int
    past_window_by_class: Counts
    searches_by_outcome: Counts
    searches_by_purpose: Counts
    searches_by_agency: Counts
    searches_by_user: Counts
    searches_on_behalf_of: Counts
    refusals_by_reason: Counts
    shares_by_outcome: Counts
    shares_by_recipient: tuple[RecipientShares, ...]
    findings_by_rule: tuple[FindingCounts, ...]
    data_age: Counts
    chain: ChainStatus
    holds: HoldCounts
    # Per camera, the stored reads observed in the period and how many were hot-list hits (a
    # hit is kept a year), with the cameras the review has an open hit_rate_anomaly for.
    hit_rate_by_camera: tuple[CameraHitRate, ...] = ()
    hit_rate_flagged: tuple[str, ...] = ()
    # Camera credentials that have posted nothing for ingest.camera_silence_minutes, as of now.
    silent_cameras: tuple[SilentCamera, ...] = ()

    @property
    def searches_total(self) -> int:
        return sum(n for _k, n in self.searches_by_outcome)


def _sorted_counts(pairs: Iterable[tuple[object, object]]) -> Counts:
    return tuple(sorted(((str(k), int(str(v))) for k, v in pairs), key=lambda kv: (-kv[1], kv[0])))


def _grouped(session: Session, column: Any, *where: ColumnElement[bool]) -> Counts:
    rows = session.execute(select(column, func.count()).where(*where).group_by(column)).all()
    return _sorted_counts((k if k is not None else "-", n) for k, n in rows)


def _events(session: Session, kind: str, since: datetime, until: datetime) -> Iterator[str]:
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
            .limit(PAGE)
        ).all()
        for _seq, details in page:
            yield details
        if len(page) < PAGE:
            return
        after = page[-1][0]


def _holds(session: Session, since: datetime, until: datetime, now: datetime) -> HoldCounts:
    def count(*where: ColumnElement[bool]) -> int:
        return int(session.scalar(select(func.count()).select_from(LegalHold).where(*where)) or 0)

    return HoldCounts(
        active=count(LegalHold.status == "active"),
        pending=count(LegalHold.status == "pending"),
        overdue=count(LegalHold.status != "released", LegalHold.review_by <= now),
        reads_held=int(
            session.scalar(
                select(func.count())
                .select_from(PlateRead)
                .where(PlateRead.retention_class == "held")
            )
            or 0
        ),
        placed=count(LegalHold.created_at >= since, LegalHold.created_at < until),
        released=count(LegalHold.released_at >= since, LegalHold.released_at < until),
    )


def _class_order(counts: Mapping[str, int]) -> Counts:
    names = ["unmatched", "hit", *sorted(set(counts) - {"unmatched", "hit"})]
    return tuple((name, int(counts.get(name, 0))) for name in names)


def _ingested(session: Session, since: datetime, until: datetime) -> Counts:
    """Reads ingested per retention class, from the ``reads.ingested`` audit events (they
    outlive the purge, unlike the reads). A batch reports its accepted reads and how many were
    hot-list hits; a replayed hit is counted as a hit at most once per accepted read."""
    totals = {"unmatched": 0, "hit": 0}
    for details in _events(session, "reads.ingested", since, until):
        data = json.loads(details)
        accepted = int(data.get("accepted", 0))
        hits = min(int(data.get("hits", 0)), accepted)
        totals["hit"] += hits
        totals["unmatched"] += accepted - hits
    return _class_order(totals)


def _purged(session: Session, since: datetime, until: datetime) -> tuple[Counts, int]:
    """Reads purged per class, from ``purge.completed`` events (``deleted_by_class``); zeros
    until the retention purge exists."""
    totals: dict[str, int] = {"unmatched": 0, "hit": 0}
    runs = 0
    for details in _events(session, "purge.completed", since, until):
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
        SearchRecord.outcome == "allowed",
        SearchRecord.window_from.is_not(None),
    )
    while True:
        stmt = base.where(*_keyset(since, after))
        page = session.execute(
            stmt.order_by(SearchRecord.created_at, SearchRecord.id).limit(PAGE)
        ).all()
        for created_at, _id, window_from in page:
            if window_from is None:
                continue
            days = max((created_at - window_from).days, 0)
            for label, upper in AGE_BUCKETS:
                if upper is None or days <= upper:
                    counts[label] += 1
                    break
        if len(page) < PAGE:
            break
        after = (page[-1][0], page[-1][1])
    return tuple(counts.items())


def _chain(session: Session, rt: Runtime) -> ChainStatus:
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
    session: Session, rt: Runtime, since: datetime, until: datetime
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
                .where(Finding.rule == HIT_RATE_RULE, Finding.status == "open")
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
            session, SearchRecord.reason_code, *in_period, SearchRecord.outcome == "refused"
        ),
        shares_by_outcome=_class_outcomes(_grouped(session, Share.outcome, *shares_in)),
        shares_by_recipient=tuple(
            sorted(
                (
                    RecipientShares(ori, c.get("allowed", 0), c.get("refused", 0))
                    for ori, c in by_recipient.items()
                ),
                key=lambda r: (-(r.allowed + r.refused), r.recipient),
            )
        ),
        findings_by_rule=tuple(
            FindingCounts(rule, c.get("open", 0), c.get("resolved", 0))
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
    session: Session, rt: Runtime, actor: Actor, since: datetime, until: datetime, fmt: str
) -> AuditEvent:
    """Pulling the compliance summary is an audit event too (``report.summary``)."""
    return rt.audit.append(
        session,
        "report.summary",
        actor,
        subject="report:summary",
        details={"from": since.isoformat(), "to": until.isoformat(), "format": fmt},
    )


AGE_BASIS = (
    "age of the oldest data each allowed search could reach: its window start, counted back "
    "from the time of the search, in days (no per-hit age is stored)"
)


def summary_json(s: ComplianceSummary) -> dict[str, object]:
    return {
        "report": "compliance_summary",
        "period": {"from": s.since.isoformat(), "to": s.until.isoformat()},
        "generated_at": s.generated_at.isoformat(),
        "reads": {
            "ingested_by_class": dict(s.ingested_by_class),
            "purged_by_class": dict(s.purged_by_class),
            "purge_runs": s.purge_runs,
            "stored_by_class": dict(s.stored_by_class),
            "past_window_still_stored": s.past_window,
            "past_window_by_class": dict(s.past_window_by_class),
        },
        "searches": {
            "total": s.searches_total,
            "by_outcome": dict(s.searches_by_outcome),
            "by_purpose": dict(s.searches_by_purpose),
            "by_agency": dict(s.searches_by_agency),
            "by_user": dict(s.searches_by_user),
            "on_behalf_of": dict(s.searches_on_behalf_of),
            "refusals_by_reason": dict(s.refusals_by_reason),
        },
        "shares": {
            "by_outcome": dict(s.shares_by_outcome),
            "by_recipient": {
                r.recipient: {"allowed": r.allowed, "refused": r.refused}
                for r in s.shares_by_recipient
            },
        },
        "findings": {
            "by_rule": {
                f.rule: {"open": f.open, "resolved": f.resolved} for f in s.findings_by_rule
            }
        },
        "hit_rate_by_camera": {
            c.camera_id: {
                "reads": c.reads,
                "hits": c.hits,
                "rate": round(c.rate, 6),
                "flagged": c.camera_id in s.hit_rate_flagged,
            }
            for c in s.hit_rate_by_camera
        },
        "holds": {
            "active": s.holds.active,
            "pending": s.holds.pending,
            "overdue": s.holds.overdue,
            "reads_held": s.holds.reads_held,
            "placed_in_period": s.holds.placed,
            "released_in_period": s.holds.released,
        },
        "data_age_days": {"basis": AGE_BASIS, "buckets": dict(s.data_age)},
        "silent_cameras": [c.as_json() for c in s.silent_cameras],
        "chain": {
            "ok": s.chain.ok,
            "checked": s.chain.checked,
            "last_seq": s.chain.last_seq,
            "bad_seq": s.chain.bad_seq,
            "problem": s.chain.problem,
            "checkpoints_matched": s.chain.checkpoints,
        },
    }


# -- summary HTML ------------------------------------------------------------------------------

CHART_LIMIT = 25
_BAR = "#2f5d8a"
_BAD = "#c00000"


def bar_chart(title: str, counts: Counts, *, color: str = _BAR, limit: int = CHART_LIMIT) -> str:
    """A horizontal bar chart as inline SVG: no script, no external asset, prints as drawn."""
    shown = counts[:limit]
    label_w, bar_w, value_w, row_h = 190, 330, 70, 20
    width = label_w + bar_w + value_w
    height = max(len(shown), 1) * row_h + 8
    top = max((n for _k, n in shown), default=0)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">'
        f"<title>{_e(title)}</title>"
    ]
    if not shown:
        parts.append(f'<text x="4" y="{row_h - 4}" fill="#666">none in this period</text>')
    for i, (label, n) in enumerate(shown):
        y = 4 + i * row_h
        length = 0 if top == 0 else max(round(bar_w * n / top), 1 if n else 0)
        short = label if len(label) <= 28 else label[:27] + "\u2026"
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 13}" text-anchor="end">{_e(short)}</text>'
            f'<rect x="{label_w}" y="{y + 2}" width="{length}" height="{row_h - 6}" '
            f'fill="{color}"/>'
            f'<text x="{label_w + length + 4}" y="{y + 13}">{n}</text>'
        )
    parts.append("</svg>")
    more = len(counts) - len(shown)
    tail = f'<p class="note">and {more} more (all in the JSON form)</p>' if more > 0 else ""
    return "".join(parts) + tail


def _table(head: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    out = ["<table><thead><tr>", *(f"<th>{_e(h)}</th>" for h in head), "</tr></thead><tbody>"]
    for row in rows:
        out.append(
            "<tr>"
            + "".join(
                f'<td class="num">{_e(c)}</td>' if isinstance(c, int) else f"<td>{_e(c)}</td>"
                for c in row
            )
            + "</tr>"
        )
    out.append("</tbody></table>")
    return "".join(out)


def render_summary_html(s: ComplianceSummary) -> str:
    """The compliance summary as one printable page with inline SVG charts. Reads past their
    window still stored are shown in red when there are any: that count must be 0."""
    past_class = "bad" if s.past_window else "ok"
    past_style = f"color:{_BAD}" if s.past_window else "color:#106b21"
    chain = s.chain
    chain_text = (
        f"verified: {chain.checked} events, last seq {chain.last_seq}, "
        f"{chain.checkpoints} signed checkpoints matched"
        if chain.ok
        else f"BROKEN at seq {chain.bad_seq}: {chain.problem} ({chain.checked} events checked)"
    )
    sections = [
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>Compliance summary</title><style>{_PAGE_CSS}"
        "svg{display:block;margin:.2rem 0 .6rem}.big{font-size:1.6rem}"
        ".grid{display:flex;flex-wrap:wrap;gap:0 2rem}</style></head><body>",
        "<h1>Compliance summary</h1>",
        f'<p class="meta">Period {_e(s.since.isoformat())} to {_e(s.until.isoformat())} '
        f"(end exclusive); generated {_e(s.generated_at.isoformat())}</p>",
        "<h2>Retention</h2>",
        f'<p>Reads past their retention window still stored: <span id="past-window" '
        f'class="big {past_class}" style="{past_style}">{s.past_window}</span> '
        '<span class="note">(must be 0; counted as of the time of this report)</span></p>',
        _table(
            ("Class", "Ingested in period", "Purged in period", "Stored now", "Past window"),
            (
                (
                    name,
                    n,
                    dict(s.purged_by_class).get(name, 0),
                    dict(s.stored_by_class).get(name, 0),
                    dict(s.past_window_by_class).get(name, 0),
                )
                for name, n in s.ingested_by_class
            ),
        ),
        f'<p class="note">{s.purge_runs} purge run(s) recorded in the period; '
        f"{s.holds.reads_held} read(s) kept past their class by legal holds.</p>",
        "<h2>Searches</h2>",
        f"<p>{s.searches_total} access records in the period.</p>",
        '<div class="grid"><div><h3>By outcome</h3>'
        + bar_chart("Searches by outcome", s.searches_by_outcome)
        + "</div><div><h3>Refusals by reason code</h3>"
        + bar_chart("Refusals by reason code", s.refusals_by_reason, color=_BAD)
        + "</div></div>",
        "<h3>By purpose</h3>" + bar_chart("Searches by purpose", s.searches_by_purpose),
        "<h3>By agency</h3>" + bar_chart("Searches by agency", s.searches_by_agency),
        "<h3>By user</h3>" + bar_chart("Searches by user", s.searches_by_user),
        "<h3>Run on behalf of another agency</h3>"
        + bar_chart("Searches on behalf of", s.searches_on_behalf_of),
        "<h3>Age of data at search time</h3>"
        + bar_chart("Allowed searches by days back", s.data_age)
        + '<p class="note">Days between each allowed search and the start of its window: the '
        "oldest data the search could reach, not the age of the reads it found (no per-hit age "
        "is stored). Searches that never reach past the unmatched window suggest that window "
        "could be shorter.</p>",
        "<h2>Sharing</h2>",
        bar_chart("Shares by outcome", s.shares_by_outcome),
        _table(
            ("Recipient", "Allowed", "Refused"),
            ((r.recipient, r.allowed, r.refused) for r in s.shares_by_recipient),
        ),
        "<h2>Access review findings</h2>",
        _table(
            ("Rule", "Open", "Resolved"),
            ((f.rule, f.open, f.resolved) for f in s.findings_by_rule),
        )
        if s.findings_by_rule
        else "<p>No findings for searches in this period.</p>",
        "<h2>Hot-list hit rate per camera</h2>",
        _table(
            ("Camera", "Reads", "Hits", "Hit rate", "Flagged (hit_rate_anomaly)"),
            (
                (
                    c.camera_id,
                    c.reads,
                    c.hits,
                    f"{c.rate:.2%}",
                    "yes" if c.camera_id in s.hit_rate_flagged else "",
                )
                for c in s.hit_rate_by_camera
            ),
        )
        if s.hit_rate_by_camera
        else "<p>No reads stored for this period.</p>",
        "<h2>Silent cameras</h2>",
        _table(
            ("Credential", "Camera ids", "Last posted", "Silent for (minutes)"),
            (
                (
                    c.name,
                    ", ".join(c.camera_ids),
                    c.last_seen_at.isoformat() if c.last_seen_at else "never",
                    c.silent_minutes if c.silent_minutes is not None else "-",
                )
                for c in s.silent_cameras
            ),
        )
        if s.silent_cameras
        else "<p>Every camera credential has posted within the configured time.</p>",
        "<h2>Legal holds</h2>",
        _table(
            (
                "Active",
                "Pending approval",
                "Past review-by date",
                "Reads held",
                "Placed in period",
                "Released in period",
            ),
            [
                (
                    s.holds.active,
                    s.holds.pending,
                    s.holds.overdue,
                    s.holds.reads_held,
                    s.holds.placed,
                    s.holds.released,
                )
            ],
        ),
        "<h2>Audit chain</h2>",
        f'<p id="chain" class="{"ok" if chain.ok else "bad"}">{_e(chain_text)}</p>',
        "</body></html>\n",
    ]
    return "\n".join(sections)


def access_media_type(fmt: str) -> str:
    return {
        "csv": "text/csv; charset=utf-8",
        "json": "application/json",
        "html": "text/html; charset=utf-8",
    }[fmt]


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
