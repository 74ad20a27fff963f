"""The access report (Civil Code 1798.90.52(a)) as a page, and its downloads.

Redacted by default: the page and its CSV/JSON downloads carry each search's keyed term token,
never the plate, and the free text with personal data masked. A full export unseals the plates
and the text as typed: it is a POST with the page's CSRF token and a stated reason, and the
reason is recorded with the ``report.access_full`` event before a row leaves. Each look, each
download is recorded (``report.access``) as the API records its own.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime, timedelta
from itertools import islice

from flask import Response, render_template, request, stream_with_context

from alpr_guard.api.console.auth import check_csrf, page
from alpr_guard.api.console.blueprint import bp, choice_arg, day_arg
from alpr_guard.api.context import commit, own_agency_only, principal, runtime, session
from alpr_guard.errors import ValidationError
from alpr_guard.policy.access import Exposure
from alpr_guard.services.free_text import display
from alpr_guard.services.reports import (
    OUTCOMES,
    ReportFilter,
    access_media_type,
    count_access_rows,
    csv_chunks,
    iter_access_rows,
    json_chunks,
    record_report_access,
    report_meta,
)

log = logging.getLogger("alpr_guard.console")
SHOWN = 100  # rows on the page; the downloads carry every row
DOWNLOADS = ("csv", "json")
MIN_REASON = 10
MAX_REASON = 500
DEFAULT_DAYS = 30


def _text(name: str) -> str | None:
    value = request.values.get(name, "").strip()
    return value or None


def _filters() -> ReportFilter:
    until = day_arg("to", end=True)
    since = day_arg("from")
    if until is None:
        now = runtime().clock.now()
        until = datetime.combine(now.date(), datetime.min.time(), tzinfo=now.tzinfo) + timedelta(
            days=1
        )
    if since is None:
        since = until - timedelta(days=DEFAULT_DAYS)
    if since >= until:
        raise ValidationError({"to": "must not be before from"})
    return ReportFilter(
        since=since,
        until=until,
        username=(_text("user") or "").lower() or None,
        agency=own_agency_only(_text("agency")),
        purpose=_text("purpose"),
        outcome=choice_arg("outcome", OUTCOMES, None),
    )


def _form_values(filters: ReportFilter) -> dict[str, str]:
    """The filters as the form's fields (dates as the date inputs show them)."""
    last_day = (filters.until - timedelta(days=1)).date()
    values = {"from": filters.since.date().isoformat(), "to": last_day.isoformat()}
    for name, value in (
        ("user", filters.username),
        ("agency", filters.agency),
        ("purpose", filters.purpose),
        ("outcome", filters.outcome),
    ):
        if value:
            values[name] = value
    return values


@bp.get("/access-report")
@page("auditor", exposes=Exposure.AGENCY_RECORDS)
def access_report() -> str:
    filters = _filters()
    rt, db = runtime(), session()
    matching = count_access_rows(db, filters)
    record_report_access(db, rt, principal().actor, filters, False, "console", matching=matching)
    commit()
    rows = list(islice(iter_access_rows(db, rt, filters, full=False), SHOWN))
    return render_template(
        "console/access_report.html",
        rows=rows,
        matching=matching,
        values=_form_values(filters),
        outcomes=OUTCOMES,
        min_reason=MIN_REASON,
        max_reason=MAX_REASON,
    )


def _stream(filters: ReportFilter, *, full: bool, fmt: str, reason: str | None) -> Response:
    rt, db = runtime(), session()
    matching = count_access_rows(db, filters)
    record_report_access(
        db, rt, principal().actor, filters, full, fmt, matching=matching, reason=reason
    )
    commit()  # the auditor's access is durable before a single row leaves
    rows = iter_access_rows(db, rt, filters, full=full, release_between_pages=True)
    meta = report_meta(filters, full=full, generated_at=rt.clock.now())
    chunks = (
        csv_chunks(rows, full=full) if fmt == "csv" else json_chunks(rows, full=full, meta=meta)
    )

    def generate() -> Iterator[str]:
        try:
            yield from chunks
        except Exception as exc:
            # Headers are gone; a cut-off CSV says so, a cut-off JSON is left invalid.
            log.error("access report download failed: %s", type(exc).__name__)
            if fmt == "csv":
                yield "\n#ERROR: the export was interrupted; this file is incomplete\n"

    response = Response(stream_with_context(generate()), mimetype=None)
    response.headers["Content-Type"] = access_media_type(fmt)
    response.headers["X-Report-Matching-Records"] = str(matching)
    kind = "full" if full else "redacted"
    stamp = f"{filters.since:%Y%m%d}-{filters.until:%Y%m%d}"
    response.headers["Content-Disposition"] = (
        f"attachment; filename=access-report-{kind}-{stamp}.{fmt}"
    )
    return response


@bp.get("/access-report/download")
@page("auditor", exposes=Exposure.AGENCY_RECORDS)
def access_report_download() -> Response:
    fmt = choice_arg("format", DOWNLOADS, "csv")
    assert fmt is not None
    return _stream(_filters(), full=False, fmt=fmt, reason=None)


@bp.post("/access-report/full")
@page("auditor", exposes=Exposure.AGENCY_RECORDS)
def access_report_full() -> Response:
    check_csrf()
    fmt = choice_arg("format", DOWNLOADS, "csv")
    assert fmt is not None
    filters = _filters()
    reason = request.form.get("reason", "").strip()
    if not MIN_REASON <= len(reason) <= MAX_REASON:
        raise ValidationError(
            {
                "reason": f"state why plates must be unmasked ({MIN_REASON}-{MAX_REASON} "
                "characters); it is recorded with the export"
            }
        )
    # Recorded as its display copy: a reason may itself name a plate.
    return _stream(filters, full=True, fmt=fmt, reason=display(runtime(), reason))
