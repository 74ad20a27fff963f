"""Shares to other agencies (in-state public agencies only) and the instance's public key."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from alpr_guard.api.context import (
    commit,
    principal,
    public,
    raise_if_refused,
    require,
    runtime,
    session,
)
from alpr_guard.api.contract import route
from alpr_guard.api.models import ShareIn, ShareOut, SharesOut, SharesQuery, SigningKeyOut
from alpr_guard.api.parsing import share_request_values
from alpr_guard.api.searches import attempt_body, raise_if_invalid
from alpr_guard.errors import ValidationError
from alpr_guard.policy.access import Exposure
from alpr_guard.schemas import query_int
from alpr_guard.services.sharing import list_shares, share_attempt, signing_key_info

bp = Blueprint("shares", __name__, url_prefix="/api/v1")


@route(
    bp,
    "POST",
    "/shares",
    "Share reads (read_ids or search_id) with another agency (role supervisor); refused unless "
    "the recipient is a vetted in-state public agency. Allowed: a bundle signed with Ed25519",
    body=ShareIn,
    responses={201: ShareOut},
    errors=(401, 403, 404, 422, 503),
)
@require("supervisor", exposes=Exposure.OPERATOR_RECORDS)
def post_share() -> tuple[Response, int]:
    body, body_errors = attempt_body()
    values, fields = share_request_values(body)
    outcome = share_attempt(session(), runtime(), principal(), values, {**fields, **body_errors})
    commit()  # the decision is on record before a bundle leaves
    raise_if_invalid(outcome.fields, share_id=str(outcome.share_id))
    raise_if_refused(outcome.decision, share_id=str(outcome.share_id))
    return jsonify({"share_id": str(outcome.share_id), **(outcome.bundle or {})}), 201


@route(
    bp,
    "GET",
    "/shares",
    "Every share decision with its outcome (supervisor, auditor)",
    query=SharesQuery,
    responses={200: SharesOut},
    errors=(401, 403, 422, 503),
)
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


@route(
    bp,
    "GET",
    "/signing-key",
    "The instance's Ed25519 public key (verifies share bundles, checkpoints and purge receipts)",
    responses={200: SigningKeyOut},
)
@public
def get_signing_key() -> Response:
    """Public: recipients need it to verify bundles."""
    return jsonify(signing_key_info(runtime()))
