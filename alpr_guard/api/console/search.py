"""Officers' search: the form the API's ``POST /searches`` takes, screened and recorded by the
same service. A refusal is shown in plain words with its reason code; results are a table and
a plot of where the plate was seen (inline SVG, no map tiles, nothing fetched).

The plate travels only in the POST body, never in a URL; the page is never cached.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from flask import render_template, request

from alpr_guard.api.console.auth import check_csrf, page, plate_reads_decision
from alpr_guard.api.console.blueprint import bp
from alpr_guard.api.console.charts import sightings_map
from alpr_guard.api.console.wording import plain
from alpr_guard.api.context import commit, principal, runtime, session
from alpr_guard.api.parsing import salvage_search_request
from alpr_guard.errors import Refused
from alpr_guard.policy.access import Exposure
from alpr_guard.services.principals import SEARCH_ROLES
from alpr_guard.services.search import search_attempt

FORM_FIELDS = ("plate", "from", "to", "purpose", "justification", "case_number")


def _purposes() -> list[tuple[str, str]]:
    return [(p.code, p.description) for p in runtime().settings.purposes if not p.prohibited]


def _form(values: dict[str, str] | None = None, **extra: object) -> str:
    return render_template(
        "console/search.html",
        purposes=_purposes(),
        values=values or {},
        **extra,
    )


@bp.get("/search")
@page(*SEARCH_ROLES, exposes=Exposure.PLATE_READS)
def search() -> str:
    # The guard lets every search role through to screening, so that a search by an agency
    # the sharing rules refuse is recorded as a refused search; the empty form has nothing to
    # record, and is refused here with the same code.
    decision = plate_reads_decision()
    if not decision.allowed:
        assert decision.reason is not None
        raise Refused(decision.reason.value, decision.reason.status, decision.message)
    return _form()


def _day_bound(raw: str, *, end: bool) -> str | None:
    """A date input as the ISO time the API takes (the end of a day, or now if that is later)."""
    try:
        day = date.fromisoformat(raw.strip())
    except ValueError:
        return None  # left out: the service names the missing field
    at = datetime.combine(day, time.min, tzinfo=UTC)
    if end:
        at = min(at + timedelta(days=1), runtime().clock.now())
    return at.isoformat()


@bp.post("/search")
@page(*SEARCH_ROLES, exposes=Exposure.PLATE_READS)
def run() -> tuple[str, int, dict[str, str]]:
    check_csrf()
    values = {name: request.form.get(name, "") for name in FORM_FIELDS}
    body: dict[str, object] = {
        "plate": values["plate"],
        "purpose": values["purpose"],
        "justification": values["justification"],
    }
    if values["case_number"].strip():
        body["case_number"] = values["case_number"].strip()
    for name, end in (("from", False), ("to", True)):
        bound = _day_bound(values[name], end=end)
        if bound is not None:
            body[name] = bound
    rt = runtime()
    parsed, fields = salvage_search_request(body, rt.settings.search.max_page_size)
    outcome = search_attempt(session(), rt, principal(), parsed, fields)
    commit()  # the access record is durable before a single result is shown
    points = [
        (r.latitude, r.longitude, f"{r.camera_id}, {r.observed_at:%Y-%m-%d %H:%M} UTC")
        for r in outcome.results
        if r.latitude is not None and r.longitude is not None
    ]
    # The plate is not echoed back into the form: a new search starts clean.
    values["plate"] = ""
    html = _form(
        values,
        outcome=outcome,
        plain=plain(outcome.decision.reason),
        map=sightings_map(points) if outcome.decision.allowed else None,
    )
    reason = outcome.decision.reason
    if reason is None:
        return html, 200, {}
    # A refusal answers with the API's status and code (the page says it in words).
    return html, reason.status, {"X-Error-Code": reason.value}
