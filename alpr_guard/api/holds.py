"""Legal holds (role supervisor to place, approve and release; auditors may list) and purge
receipts (role auditor)."""

from __future__ import annotations

import uuid

from flask import Blueprint, Response, jsonify, request

from alpr_guard.api.context import commit, json_body, principal, require, runtime, session
from alpr_guard.api.contract import route, validate
from alpr_guard.api.models import (
    HoldIn,
    HoldOut,
    HoldPath,
    HoldsOut,
    HoldsQuery,
    PurgesOut,
    PurgesQuery,
    ReleaseIn,
)
from alpr_guard.api.parsing import hold_request
from alpr_guard.db import read_only_session
from alpr_guard.errors import ValidationError
from alpr_guard.policy.access import Exposure
from alpr_guard.schemas import query_int
from alpr_guard.services.holds import (
    approve_hold,
    get_hold,
    list_holds,
    place_hold,
    release_hold,
)
from alpr_guard.services.retention import list_purges

bp = Blueprint("holds", __name__, url_prefix="/api/v1")
STATUSES = ("pending", "active", "released")


def _hold_id(raw: str) -> uuid.UUID:
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise ValidationError({"hold_id": "is not a hold id"}) from None


@route(
    bp,
    "POST",
    "/holds",
    "Place a legal hold on reads (read_ids and/or an allowed search's reads) (role "
    "supervisor). Pending until a second supervisor approves when "
    "holds.require_second_approver is set",
    body=HoldIn,
    responses={201: HoldOut},
    errors=(401, 403, 404, 422, 503),
)
@require("supervisor", exposes=Exposure.OPERATOR_RECORDS)
def post_hold() -> tuple[Response, int]:
    hold = place_hold(session(), runtime(), principal(), hold_request(json_body()))
    commit()
    return jsonify(hold.as_json()), 201


@route(
    bp,
    "POST",
    "/holds/<hold_id>/approve",
    "Approve a pending hold (a different supervisor)",
    params=HoldPath,
    responses={200: HoldOut},
    errors=(401, 403, 404, 409, 422, 503),
)
@require("supervisor", exposes=Exposure.OPERATOR_RECORDS)
def post_approve(hold_id: str) -> Response:
    hold = approve_hold(session(), runtime(), principal(), _hold_id(hold_id))
    commit()
    return jsonify(hold.as_json())


@route(
    bp,
    "POST",
    "/holds/<hold_id>/release",
    "Release a hold with a reason (role supervisor); its reads return to their retention class",
    params=HoldPath,
    body=ReleaseIn,
    responses={200: HoldOut},
    errors=(401, 403, 404, 409, 422, 503),
)
@require("supervisor", exposes=Exposure.OPERATOR_RECORDS)
def post_release(hold_id: str) -> Response:
    reason = validate(ReleaseIn, json_body()).reason
    hold = release_hold(session(), runtime(), principal(), _hold_id(hold_id), reason)
    commit()
    return jsonify(hold.as_json())


@route(
    bp,
    "GET",
    "/holds",
    "The agency's holds (supervisor, auditor, admin); overdue=true lists holds past their "
    "review-by date",
    query=HoldsQuery,
    responses={200: HoldsOut},
    errors=(401, 403, 422, 503),
)
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


@route(
    bp,
    "GET",
    "/holds/<hold_id>",
    "One hold (supervisor, auditor, admin)",
    params=HoldPath,
    responses={200: HoldOut},
    errors=(401, 403, 404, 422),
)
@require("supervisor", "auditor", "admin", exposes=Exposure.OPERATOR_RECORDS)
def get_one_hold(hold_id: str) -> Response:
    with read_only_session(runtime().sessions) as db:
        hold = get_hold(db, runtime(), principal(), _hold_id(hold_id))
    return jsonify(hold.as_json())


@route(
    bp,
    "GET",
    "/purges",
    "Purge runs and their receipts: cutoff, reads deleted per class, keys destroyed "
    "(auditor, admin)",
    query=PurgesQuery,
    responses={200: PurgesOut},
    errors=(401, 403, 422),
)
@require("auditor", "admin", exposes=Exposure.OPERATOR_RECORDS)
def get_purges() -> Response:
    limit = query_int(request.args.get("limit", "100"), 1, 1000)
    if limit is None:
        raise ValidationError({"limit": "must be an integer from 1 to 1000"})
    with read_only_session(runtime().sessions) as db:
        runs = list_purges(db, limit)
    return jsonify({"purges": runs})
