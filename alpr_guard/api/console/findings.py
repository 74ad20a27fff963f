"""The findings queue: filter, page, open one, resolve one or many with a verdict and a note.

The same services as ``api/review.py``: every listing is a ``review.findings_listed`` event,
every opened finding a ``review.finding_viewed``, every resolution a
``review.finding_resolved``. A bulk resolution is all or nothing: one finding that cannot be
resolved (already resolved, not this agency's) leaves every other one open.
"""

from __future__ import annotations

from typing import Any

from flask import redirect, render_template, request, url_for
from werkzeug.wrappers import Response as WerkzeugResponse

from alpr_guard.api.console.auth import check_csrf, page
from alpr_guard.api.console.blueprint import (
    PAGE_SIZE,
    bp,
    choice_arg,
    day_arg,
    page_args,
    page_number,
)
from alpr_guard.api.console.charts import BAD, column_chart
from alpr_guard.api.context import agency_scope, commit, principal, runtime, session
from alpr_guard.errors import ValidationError
from alpr_guard.policy.access import Exposure
from alpr_guard.services.review import (
    VERDICTS,
    FindingFilter,
    count_findings,
    finding_rules,
    get_finding,
    list_findings,
    resolve_finding,
)
from alpr_guard.vocabulary import FindingStatus

SEVERITIES = ("high", "medium", "low")
STATUSES = tuple(FindingStatus)
ORDERS = ("newest", "oldest")
MAX_FINDING_ID = 2**31 - 1
MAX_BULK = 500
# The listing's filters: what its pager and bulk-resolve form carry from the query string.
FILTERS = ("status", "rule", "severity", "user", "from", "to", "order")


@bp.get("/findings")
@page("auditor", exposes=Exposure.AGENCY_RECORDS)
def findings() -> str:
    number = page_number()
    since, until = day_arg("from"), day_arg("to", end=True)
    if since is not None and until is not None and since >= until:
        raise ValidationError({"to": "must not be before from"})
    user = request.args.get("user", "").strip().lower() or None
    rule = request.args.get("rule", "").strip() or None
    filters = FindingFilter(
        status=choice_arg("status", STATUSES, FindingStatus.OPEN),
        rule=rule,
        severity=choice_arg("severity", SEVERITIES, None),
        username=user,
        since=since,
        until=until,
        limit=PAGE_SIZE,
        offset=(number - 1) * PAGE_SIZE,
        agency=agency_scope(),
    )
    oldest = choice_arg("order", ORDERS, "newest") == "oldest"
    db, rt = session(), runtime()
    total = count_findings(db, filters)
    rows = list_findings(db, rt, principal(), filters, oldest_first=oldest)
    rules = finding_rules(db, agency=filters.agency)
    commit()
    first = filters.offset + 1 if rows else 0
    return render_template(
        "console/findings.html",
        rows=rows,
        total=total,
        first=first,
        last=filters.offset + len(rows),
        number=number,
        pages=max(1, -(-total // PAGE_SIZE)),
        args=page_args(FILTERS),
        rules=rules,
        severities=SEVERITIES,
        statuses=STATUSES,
        verdicts=VERDICTS,
        resolved=request.args.get("resolved", "").strip(),
    )


def _finding_id(finding_id: int) -> int:
    if not 1 <= finding_id <= MAX_FINDING_ID:
        raise ValidationError({"finding_id": f"must be an integer from 1 to {MAX_FINDING_ID}"})
    return finding_id


@bp.get("/findings/<int:finding_id>")
@page("auditor", exposes=Exposure.AGENCY_RECORDS)
def finding(finding_id: int) -> str:
    detail = get_finding(
        session(), runtime(), principal(), _finding_id(finding_id), agency=agency_scope()
    )
    commit()
    charts = {}
    if detail.history is not None:
        days = detail.history.days
        charts["searches"] = column_chart(
            f"Searches per day by {detail.history.username}",
            [(d.isoformat(), n) for d, n, _r in days],
        )
        charts["refused"] = column_chart(
            f"Refused searches per day by {detail.history.username}",
            [(d.isoformat(), r) for d, _n, r in days],
            color=BAD,
        )
        repeats = detail.history.repeated_targets[:30]
        charts["repeats"] = column_chart(
            "Searches per repeated target, largest first",
            [(f"target {k + 1}", n) for k, n in enumerate(repeats)],
        )
    return render_template(
        "console/finding.html",
        d=detail,
        f=detail.finding,
        charts=charts,
        verdicts=VERDICTS,
        resolved=request.args.get("resolved") == "1",
    )


def _form_text(name: str) -> str:
    value = request.form.get(name)
    if value is None:
        raise ValidationError({name: "is required"})
    return value


@bp.post("/findings/<int:finding_id>/resolve")
@page("auditor", exposes=Exposure.AGENCY_RECORDS)
def resolve(finding_id: int) -> WerkzeugResponse:
    check_csrf()
    resolve_finding(
        session(),
        runtime(),
        principal(),
        _finding_id(finding_id),
        verdict=_form_text("verdict"),
        note=_form_text("note"),
        agency=agency_scope(),
    )
    commit()
    return redirect(url_for("console.finding", finding_id=finding_id, resolved=1), code=303)


@bp.post("/findings/resolve")
@page("auditor", exposes=Exposure.AGENCY_RECORDS)
def resolve_many() -> WerkzeugResponse:
    check_csrf()
    raw = request.form.getlist("finding")
    if not raw:
        raise ValidationError({"finding": "tick at least one finding to resolve"})
    if len(raw) > MAX_BULK:
        raise ValidationError({"finding": f"at most {MAX_BULK} findings at once"})
    if not all(r.isdigit() and 1 <= int(r) <= MAX_FINDING_ID for r in raw):
        raise ValidationError({"finding": "must be finding numbers"})
    ids = sorted({int(r) for r in raw})
    verdict, note = _form_text("verdict"), _form_text("note")
    db, rt, who = session(), runtime(), principal()
    try:
        for finding_id in ids:
            resolve_finding(
                db, rt, who, finding_id, verdict=verdict, note=note, agency=agency_scope()
            )
    except Exception:
        db.rollback()  # all or nothing: no finding of the batch stays resolved
        raise
    commit()
    back: dict[str, Any] = page_args(FILTERS)
    return redirect(url_for("console.findings", resolved=len(ids), **back), code=303)
