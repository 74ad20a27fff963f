"""Shares to other agencies (in-state public agencies only) and the instance's public key."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from alpr_guard.api.context import (
    commit,
    json_body,
    principal,
    public,
    raise_if_refused,
    require,
    runtime,
    session,
)
from alpr_guard.errors import ValidationError
from alpr_guard.policy.access import Exposure
from alpr_guard.schemas import CASE_RE, ORI_RE, parse_read_selection, query_int
from alpr_guard.services.sharing import (
    ShareRequest,
    list_shares,
    request_share,
    signing_key_info,
)

bp = Blueprint("shares", __name__, url_prefix="/api/v1")
FIELDS = {"recipient", "read_ids", "search_id", "purpose", "justification", "case_number"}


def _parse(body: object) -> ShareRequest:
    if not isinstance(body, dict):
        raise ValidationError({"body": "must be a JSON object"})
    errors = dict.fromkeys(sorted(set(body) - FIELDS), "unknown field")
    recipient = body.get("recipient")
    if not isinstance(recipient, str) or not ORI_RE.fullmatch(recipient.strip().upper()):
        errors["recipient"] = "must be a 9-character ORI"
    for name, limit in (("purpose", 64), ("justification", 2000)):
        value = body.get(name)
        if not isinstance(value, str) or len(value) > limit:
            errors[name] = f"is required: a string of at most {limit} characters"
    case = body.get("case_number")
    if case is not None and (not isinstance(case, str) or not CASE_RE.fullmatch(case.strip())):
        errors["case_number"] = "must be 1-64 printable characters"
    read_ids, search_id = parse_read_selection(body, errors)
    if errors:
        raise ValidationError(errors)
    return ShareRequest(
        recipient_ori=str(recipient).strip().upper(),
        purpose=str(body["purpose"]),
        justification=str(body["justification"]),
        case_number=case.strip() if isinstance(case, str) else None,
        read_ids=tuple(dict.fromkeys(read_ids)),
        search_id=search_id,
    )


@bp.post("/shares")
@require("supervisor", exposes=Exposure.OPERATOR_RECORDS)
def post_share() -> tuple[Response, int]:
    outcome = request_share(session(), runtime(), principal(), _parse(json_body()))
    commit()  # the decision is on record before a bundle leaves
    raise_if_refused(outcome.decision, share_id=str(outcome.share_id))
    return jsonify({"share_id": str(outcome.share_id), **(outcome.bundle or {})}), 201


@bp.get("/shares")
@require("supervisor", "auditor", exposes=Exposure.OPERATOR_RECORDS)
def get_shares() -> Response:
    outcome = request.args.get("outcome")
    if outcome not in {None, "allowed", "refused"}:
        raise ValidationError({"outcome": "must be allowed or refused"})
    limit = query_int(request.args.get("limit", "100"), 1, 1000)
    if limit is None:
        raise ValidationError({"limit": "must be an integer from 1 to 1000"})
    shares = list_shares(session(), runtime(), principal(), limit=limit, outcome=outcome)
    commit()
    return jsonify(
        {
            "shares": [
                {
                    "id": str(s.id),
                    "created_at": s.created_at.isoformat(),
                    "username": s.username,
                    "recipient": s.recipient_ori,
                    "purpose": s.purpose,
                    "case_number": s.case_number,
                    "read_count": s.read_count,
                    "outcome": s.outcome,
                    "reason_code": s.reason_code,
                    "rule": s.rule,
                    "bundle_sha256": s.bundle_sha256,
                }
                for s in shares
            ]
        }
    )


@bp.get("/signing-key")
@public
def get_signing_key() -> Response:
    """Public: recipients need it to verify bundles."""
    return jsonify(signing_key_info(runtime()))
