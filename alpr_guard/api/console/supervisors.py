"""Supervisors' pages: legal holds (place one on a search's reads, approve another supervisor's,
release with a reason, the overdue list) and share decisions. The same services as
``api/holds.py`` and ``api/shares.py``; every change is a CSRF-checked POST and an audit event
written by the service."""

from __future__ import annotations

import json
import uuid

from flask import Response, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as WerkzeugResponse

from alpr_guard.api.console.auth import check_csrf, page
from alpr_guard.api.console.blueprint import bp, choice_arg, day_arg
from alpr_guard.api.console.wording import plain
from alpr_guard.api.context import commit, principal, runtime, session
from alpr_guard.api.parsing import share_request_values
from alpr_guard.errors import ValidationError
from alpr_guard.policy.access import Exposure
from alpr_guard.schemas import CASE_RE
from alpr_guard.services.holds import (
    HoldRequest,
    approve_hold,
    list_holds,
    place_hold,
    release_hold,
)
from alpr_guard.services.sharing import list_shares, share_attempt
from alpr_guard.vocabulary import HoldStatus, Outcome

STATUSES = tuple(HoldStatus)
OUTCOMES = tuple(Outcome)
MAX_REASON = 2000
SHARES_SHOWN = 200


@bp.get("/holds")
@page("supervisor", exposes=Exposure.OPERATOR_RECORDS)
def holds() -> str:
    status = choice_arg("status", STATUSES, None)
    overdue = request.args.get("overdue") == "1"
    found = list_holds(session(), runtime(), principal(), status=status, overdue=overdue)
    commit()
    return render_template(
        "console/holds.html",
        holds=found,
        statuses=STATUSES,
        overdue=overdue,
        done=request.args.get("done", ""),
    )


def _hold_id(raw: str) -> uuid.UUID:
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise ValidationError({"hold_id": "is not a hold id"}) from None


def _reason() -> str:
    reason = request.form.get("reason", "")
    if not reason.strip() or len(reason) > MAX_REASON:
        raise ValidationError({"reason": f"is required: at most {MAX_REASON} characters"})
    return reason


@bp.post("/holds")
@page("supervisor", exposes=Exposure.OPERATOR_RECORDS)
def place() -> WerkzeugResponse:
    check_csrf()
    errors: dict[str, str] = {}
    case = request.form.get("case_number", "").strip()
    if not CASE_RE.fullmatch(case):
        errors["case_number"] = "is required: 1-64 printable characters"
    try:
        search_id = uuid.UUID(request.form.get("search_id", "").strip())
    except ValueError:
        errors["search_id"] = "must be the id of one of your agency's allowed searches"
    review_by = day_arg("review_by")
    if review_by is None:
        errors["review_by"] = "is required: the date the hold must be reviewed by"
    if errors:
        raise ValidationError(errors)
    assert review_by is not None
    hold = place_hold(
        session(),
        runtime(),
        principal(),
        HoldRequest(case_number=case, reason=_reason(), review_by=review_by, search_id=search_id),
    )
    commit()
    return redirect(url_for("console.holds", done=f"placed ({hold.status})"), code=303)


@bp.post("/holds/<hold_id>/approve")
@page("supervisor", exposes=Exposure.OPERATOR_RECORDS)
def approve(hold_id: str) -> WerkzeugResponse:
    check_csrf()
    approve_hold(session(), runtime(), principal(), _hold_id(hold_id))
    commit()
    return redirect(url_for("console.holds", done="approved"), code=303)


@bp.post("/holds/<hold_id>/release")
@page("supervisor", exposes=Exposure.OPERATOR_RECORDS)
def release(hold_id: str) -> WerkzeugResponse:
    check_csrf()
    release_hold(session(), runtime(), principal(), _hold_id(hold_id), _reason())
    commit()
    return redirect(url_for("console.holds", done="released"), code=303)


def _shares_page(**extra: object) -> str:
    outcome = choice_arg("outcome", OUTCOMES, None)
    found = list_shares(session(), runtime(), principal(), limit=SHARES_SHOWN, outcome=outcome)
    commit()
    purposes = [(p.code, p.description) for p in runtime().settings.purposes if not p.prohibited]
    return render_template(
        "console/shares.html", shares=found, outcomes=OUTCOMES, purposes=purposes, **extra
    )


@bp.get("/shares")
@page("supervisor", exposes=Exposure.OPERATOR_RECORDS)
def shares() -> str:
    return _shares_page()


@bp.post("/shares")
@page("supervisor", exposes=Exposure.OPERATOR_RECORDS)
def share() -> Response | tuple[str, int, dict[str, str]]:
    """Share a search's reads with another agency: decided by the sharing rules and recorded
    by the API's service. Allowed, the signed bundle downloads at once (the recipient checks
    it with the instance's public key); refused, the page says why with the rule's code."""
    check_csrf()
    body: dict[str, object] = {
        name: request.form.get(name, "").strip()
        for name in ("recipient", "purpose", "justification", "search_id")
    }
    if request.form.get("case_number", "").strip():
        body["case_number"] = request.form["case_number"].strip()
    values, fields = share_request_values(body)
    outcome = share_attempt(session(), runtime(), principal(), values, fields)
    commit()  # the decision is on record before a bundle leaves
    reason = outcome.decision.reason
    if reason is None and outcome.bundle is not None:
        response = Response(json.dumps(outcome.bundle, indent=2), mimetype="application/json")
        response.headers["Content-Disposition"] = (
            f"attachment; filename=share-{outcome.share_id}.json"
        )
        return response
    assert reason is not None
    html = _shares_page(
        refused=outcome.decision,
        fields=outcome.fields or {},
        plain=plain(reason),
        share_id=outcome.share_id,
    )
    return html, reason.status, {"X-Error-Code": reason.value}
