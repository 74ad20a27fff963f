"""The access report as CSV and JSON, streamed in chunks, and the compliance summary as JSON.
A released file says which form it is: its plate column is ``plate_token`` when redacted."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import IO

from alpr_guard.services.reports.model import AccessRow, ComplianceSummary, ReportFilter
from alpr_guard.vocabulary import FindingStatus, Outcome

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


def iso(value: datetime | None) -> str | None:
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
        iso(row.window_from) or "",
        iso(row.window_to) or "",
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
        "window_from": iso(row.window_from),
        "window_to": iso(row.window_to),
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
                r.recipient: {Outcome.ALLOWED: r.allowed, Outcome.REFUSED: r.refused}
                for r in s.shares_by_recipient
            },
        },
        "findings": {
            "by_rule": {
                f.rule: {FindingStatus.OPEN: f.open, FindingStatus.RESOLVED: f.resolved}
                for f in s.findings_by_rule
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


def access_media_type(fmt: str) -> str:
    return {
        "csv": "text/csv; charset=utf-8",
        "json": "application/json",
        "html": "text/html; charset=utf-8",
    }[fmt]
