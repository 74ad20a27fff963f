"""Legal holds (role supervisor to place, approve and release; auditors may list) and purge
receipts (role auditor)."""

from __future__ import annotations

import uuid

from flask import Blueprint, Response, jsonify, request

from alpr_guard.api.context import commit, json_body, principal, require, runtime, session
from alpr_guard.db import read_only_session
from alpr_guard.errors import ValidationError
from alpr_guard.policy.access import Exposure
from alpr_guard.schemas import CASE_RE, parse_datetime, parse_read_selection, query_int
from alpr_guard.services.holds import (
    HoldRequest,
    approve_hold,
    get_hold,
    list_holds,
    place_hold,
    release_hold,
)
from alpr_guard.services.retention import list_purges

bp = Blueprint("holds", __name__, url_prefix="/api/v1")
FIELDS = {"case_number", "reason", "read_ids", "search_id", "review_by"}
STATUSES = ("pending", "active", "released")


def _parse(body: object) -> HoldRequest:
    if not isinstance(body, dict):
        raise ValidationError({"body": "must be a JSON object"})
    errors = dict.fromkeys(sorted(set(body) - FIELDS), "unknown field")
    case = body.get("case_number")
    if not isinstance(case, str) or not CASE_RE.fullmatch(case.strip()):
        errors["case_number"] = "is required: 1-64 printable characters"
    reason = body.get("reason")
    if not isinstance(reason, str) or not reason.strip() or len(reason) > 2000:
        errors["reason"] = "is required: a string of at most 2000 characters"
    review_by = None
    try:
        review_by = parse_datetime(body.get("review_by"))
    except ValueError as exc:
        errors["review_by"] = str(exc)
    read_ids, search_id = parse_read_selection(body, errors)
    if errors:
        raise ValidationError(errors)
    assert review_by is not None
    assert isinstance(case, str)
    assert isinstance(reason, str)
    return HoldRequest(
        case_number=case.strip(),
        reason=reason,
        review_by=review_by,
        read_ids=read_ids,
        search_id=search_id,
    )


def _hold_id(raw: str) -> uuid.UUID:
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise ValidationError({"hold_id": "is not a hold id"}) from None


@bp.post("/holds")
@require("supervisor", exposes=Exposure.OPERATOR_RECORDS)
def post_hold() -> tuple[Response, int]:
    hold = place_hold(session(), runtime(), principal(), _parse(json_body()))
    commit()
    return jsonify(hold.as_json()), 201


@bp.post("/holds/<hold_id>/approve")
@require("supervisor", exposes=Exposure.OPERATOR_RECORDS)
def post_approve(hold_id: str) -> Response:
    hold = approve_hold(session(), runtime(), principal(), _hold_id(hold_id))
    commit()
    return jsonify(hold.as_json())


@bp.post("/holds/<hold_id>/release")
@require("supervisor", exposes=Exposure.OPERATOR_RECORDS)
def post_release(hold_id: str) -> Response:
    body = json_body()
    if not isinstance(body, dict):
        raise ValidationError({"body": "must be a JSON object"})
    unknown = dict.fromkeys(sorted(set(body) - {"reason"}), "unknown field")
    reason = body.get("reason")
    if not isinstance(reason, str) or not reason.strip() or len(reason) > 2000:
        unknown["reason"] = "is required: a string of at most 2000 characters"
    if unknown:
        raise ValidationError(unknown)
    assert isinstance(reason, str)
    hold = release_hold(session(), runtime(), principal(), _hold_id(hold_id), reason)
    commit()
    return jsonify(hold.as_json())


@bp.get("/holds")
@require("supervisor", "auditor", "admin", exposes=Exposure.OPERATOR_RECORDS)
def get_holds() -> Response:
    status = request.args.get("status")
    if status is not None and status not in STATUSES:
        raise ValidationError({"status": f"must be one of {', '.join(STATUSES)}"})
    overdue = request.args.get("overdue", "false").lower()
    if overdue not in ("true", "false"):
        raise ValidationError({"overdue": "must be true or false"})
    with read_only_session(runtime().sessions) as db:
        holds = list_holds(db, runtime(), principal(), status=status, overdue=overdue == "true")
    return jsonify({"holds": [h.as_json() for h in holds]})


@bp.get("/holds/<hold_id>")
@require("supervisor", "auditor", "admin", exposes=Exposure.OPERATOR_RECORDS)
def get_one_hold(hold_id: str) -> Response:
    with read_only_session(runtime().sessions) as db:
        hold = get_hold(db, runtime(), principal(), _hold_id(hold_id))
    return jsonify(hold.as_json())


@bp.get("/purges")
@require("auditor", "admin", exposes=Exposure.OPERATOR_RECORDS)
def get_purges() -> Response:
    limit = query_int(request.args.get("limit", "100"), 1, 1000)
    if limit is None:
        raise ValidationError({"limit": "must be an integer from 1 to 1000"})
    with read_only_session(runtime().sessions) as db:
        runs = list_purges(db, limit)
    return jsonify({"purges": runs})
