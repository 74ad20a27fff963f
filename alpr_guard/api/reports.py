"""Auditors' reports over HTTP: the access-justification record and the compliance summary.

``GET /api/v1/audit/access-report`` streams one row per access record (Civil Code 1798.90.52(a))
as CSV, JSON or a printable HTML page; redacted unless ``full=true``. ``GET /api/v1/audit/summary``
answers whether the system keeps its promises for a period. Role ``auditor``. The auditor's own
access is an audit event, committed before the first byte of the report leaves (fail closed).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime

from flask import Blueprint, Response, jsonify, request, stream_with_context

from alpr_guard.api.context import commit, own_agency_only, principal, require, runtime, session
from alpr_guard.api.contract import route
from alpr_guard.api.models import AccessReportQuery, SummaryOut, SummaryQuery
from alpr_guard.errors import ValidationError
from alpr_guard.policy.access import Exposure
from alpr_guard.schemas import parse_datetime
from alpr_guard.services.reports import (
    ACCESS_FORMATS,
    SUMMARY_FORMATS,
    ReportFilter,
    access_media_type,
    compliance_summary,
    count_access_rows,
    csv_chunks,
    iter_access_rows,
    json_chunks,
    record_report_access,
    record_summary_access,
    render_access_html,
    render_summary_html,
    report_meta,
    summary_json,
)

bp = Blueprint("reports", __name__, url_prefix="/api/v1/audit")
log = logging.getLogger("alpr_guard.api.reports")
ACCESS_PARAMS = frozenset({"from", "to", "format", "user", "agency", "purpose", "outcome", "full"})
SUMMARY_PARAMS = frozenset({"from", "to", "format"})
# A printable page needs its inline styles and nothing else: no script, no fetch, no frame.
HTML_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'"


def _refuse_unknown(allowed: frozenset[str]) -> None:
    unknown = sorted(set(request.args) - allowed)
    if unknown:
        raise ValidationError(dict.fromkeys(unknown, "unknown query parameter"))


def _period() -> tuple[datetime, datetime]:
    errors: dict[str, str] = {}
    parsed: dict[str, datetime] = {}
    for name in ("from", "to"):
        raw = request.args.get(name)
        if raw is None:
            errors[name] = "is required (ISO 8601 with a timezone)"
            continue
        try:
            parsed[name] = parse_datetime(raw)
        except ValueError as exc:
            errors[name] = str(exc)
    if errors:
        raise ValidationError(errors)
    if parsed["from"] >= parsed["to"]:
        raise ValidationError({"to": "must be after from"})
    return parsed["from"], parsed["to"]


def _choice(name: str, choices: tuple[str, ...], default: str) -> str:
    value = request.args.get(name, default)
    if value not in choices:
        raise ValidationError({name: f"must be one of {', '.join(choices)}"})
    return value


def _stamp(at: datetime) -> str:
    return at.strftime("%Y%m%dT%H%M%SZ")


@route(
    bp,
    "GET",
    "/access-report",
    "Access-justification report (role auditor; Civil Code 1798.90.52(a)): one row per "
    "search, allowed or refused; redacted unless full=true; each pull is an audit event",
    query=AccessReportQuery,
    responses={200: "Streamed; oldest first"},
    media={200: ("text/csv", "application/json", "text/html")},
    errors=(401, 403, 422, 503),
)
@require("auditor", exposes=Exposure.AGENCY_RECORDS)
def get_access_report() -> Response:
    _refuse_unknown(ACCESS_PARAMS)
    since, until = _period()
    fmt = _choice("format", ACCESS_FORMATS, "json")
    full = _choice("full", ("true", "false"), "false") == "true"
    filters = ReportFilter(
        since=since,
        until=until,
        username=request.args.get("user"),
        agency=own_agency_only(request.args.get("agency")),
        purpose=request.args.get("purpose"),
        outcome=request.args.get("outcome"),
    )
    rt, db = runtime(), session()
    matching = count_access_rows(db, filters)
    record_report_access(db, rt, principal().actor, filters, full, fmt, matching=matching)
    commit()  # the auditor's access is durable before a single row leaves
    generated_at = rt.clock.now()
    rows = iter_access_rows(db, rt, filters, full=full, release_between_pages=True)
    if fmt == "csv":
        chunks = csv_chunks(rows, full=full)
    elif fmt == "json":
        chunks = json_chunks(
            rows, full=full, meta=report_meta(filters, full=full, generated_at=generated_at)
        )
    else:
        chunks = render_access_html(rows, filters, full=full, generated_at=generated_at)

    def generate() -> Iterator[str]:
        try:
            yield from chunks
        except Exception as exc:
            # Headers are gone; say so in the body. JSON is left unterminated (invalid) on
            # purpose, so a cut-off export cannot pass for a complete one.
            log.error("access report stream failed: %s", type(exc).__name__)
            if fmt != "json":
                yield "\n#ERROR: the export was interrupted; this file is incomplete\n"

    response = Response(stream_with_context(generate()), mimetype=None)
    response.headers["Content-Type"] = access_media_type(fmt)
    response.headers["X-Report-Matching-Records"] = str(matching)
    if fmt == "csv":
        response.headers["Content-Disposition"] = (
            f"attachment; filename=access-report-{_stamp(since)}-{_stamp(until)}.csv"
        )
    if fmt == "html":
        response.headers["Content-Security-Policy"] = HTML_CSP
    return response


@route(
    bp,
    "GET",
    "/summary",
    "Compliance summary for [from, to) (role auditor); an audit event",
    query=SummaryQuery,
    responses={200: SummaryOut},
    media={200: ("text/html",)},
    errors=(401, 403, 422, 503),
)
@require("auditor", exposes=Exposure.OPERATOR_RECORDS)
def get_summary() -> Response:
    _refuse_unknown(SUMMARY_PARAMS)
    since, until = _period()
    fmt = _choice("format", SUMMARY_FORMATS, "json")
    rt, db = runtime(), session()
    summary = compliance_summary(db, rt, since, until)
    record_summary_access(db, rt, principal().actor, since, until, fmt)
    commit()
    if fmt == "json":
        return jsonify(summary_json(summary))
    response = Response(render_summary_html(summary), mimetype="text/html")
    response.headers["Content-Security-Policy"] = HTML_CSP
    return response
