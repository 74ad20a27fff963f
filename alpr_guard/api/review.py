"""Access review for auditors: list findings, resolve them with a verdict and a note."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, Response, jsonify, request

from alpr_guard.api.context import (
    agency_scope,
    commit,
    json_body,
    principal,
    require,
    runtime,
    session,
)
from alpr_guard.api.contract import route, validate
from alpr_guard.api.models import (
    FindingOut,
    FindingPath,
    FindingsOut,
    FindingsQuery,
    ResolveIn,
    VagueRatesOut,
    VagueRatesQuery,
)
from alpr_guard.errors import ValidationError
from alpr_guard.policy.access import Exposure
from alpr_guard.schemas import parse_datetime, query_int
from alpr_guard.services.review import (
    FindingFilter,
    FindingView,
    count_findings,
    list_findings,
    resolve_finding,
    vague_rates,
)

bp = Blueprint("review", __name__, url_prefix="/api/v1/review")
FILTERS = {"status", "rule", "severity", "user", "from", "to", "limit", "offset"}
MAX_FINDING_ID = 2**31 - 1  # review_findings.id is a 32-bit integer on PostgreSQL


def _serialise(f: FindingView) -> dict[str, object]:
    return {
        "id": f.id,
        "search_id": str(f.search_id) if f.search_id else None,
        "camera_id": f.camera_id,
        "config_ref": f.config_ref,
        "rule": f.rule,
        "severity": f.severity,
        "matched": f.matched,
        "status": f.status,
        "verdict": f.verdict,
        "note": f.note,
        "created_at": f.created_at.isoformat(),
        "resolved_at": f.resolved_at.isoformat() if f.resolved_at else None,
        "resolved_by": f.resolved_by,
        "username": f.username,
        "agency": f.agency_ori,
        "searched_at": f.searched_at.isoformat() if f.searched_at else None,
        "purpose": f.purpose,
    }


def _int_arg(name: str, default: int, hi: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    value = query_int(raw, 0, hi)
    if value is None:
        raise ValidationError({name: f"must be an integer from 0 to {hi}"})
    return value


def _time_arg(name: str) -> datetime | None:
    raw = request.args.get(name)
    if raw is None:
        return None
    try:
        return parse_datetime(raw)
    except ValueError as exc:
        raise ValidationError({name: str(exc)}) from None


@route(
    bp,
    "GET",
    "/findings",
    "Access-review findings (role auditor); the listing is audited",
    query=FindingsQuery,
    responses={200: FindingsOut},
    errors=(401, 403, 422, 503),
)
@require("auditor", exposes=Exposure.AGENCY_RECORDS)
def get_findings() -> Response:
    unknown = sorted(set(request.args) - FILTERS)
    if unknown:
        raise ValidationError(dict.fromkeys(unknown, "unknown query parameter"))
    status = request.args.get("status")
    if status not in {None, "open", "resolved"}:
        raise ValidationError({"status": "must be open or resolved"})
    severity = request.args.get("severity")
    if severity not in {None, "high", "medium", "low"}:
        raise ValidationError({"severity": "must be high, medium or low"})
    # PostgreSQL cannot compare text holding NUL: malformed input, not a database failure.
    nul = [name for name in ("rule", "user") if "\x00" in request.args.get(name, "")]
    if nul:
        raise ValidationError(dict.fromkeys(nul, "must not contain a NUL character"))
    filters = FindingFilter(
        status=status,
        rule=request.args.get("rule"),
        severity=severity,
        username=request.args.get("user"),
        since=_time_arg("from"),
        until=_time_arg("to"),
        limit=max(1, _int_arg("limit", 100, 1000)),
        offset=_int_arg("offset", 0, 10**9),
        agency=agency_scope(),
    )
    findings = list_findings(session(), runtime(), principal(), filters)
    total = count_findings(session(), filters)
    commit()
    return jsonify(
        {
            "findings": [_serialise(f) for f in findings],
            "total": total,
            "offset": filters.offset,
            "limit": filters.limit,
        }
    )


@route(
    bp,
    "POST",
    "/findings/<int:finding_id>/resolve",
    "Resolve a finding with a verdict and a note (role auditor)",
    params=FindingPath,
    body=ResolveIn,
    responses={200: FindingOut},
    errors=(401, 403, 404, 409, 422, 503),
)
@require("auditor", exposes=Exposure.AGENCY_RECORDS)
def post_resolve(finding_id: int) -> Response:
    if not 1 <= finding_id <= MAX_FINDING_ID:
        # The route takes any digits; an id the column cannot hold is malformed, not absent.
        raise ValidationError({"finding_id": f"must be an integer from 1 to {MAX_FINDING_ID}"})
    body = validate(ResolveIn, json_body())
    verdict, note = body.verdict, body.note
    finding = resolve_finding(
        session(),
        runtime(),
        principal(),
        finding_id,
        verdict=verdict,
        note=note,
        agency=agency_scope(),
    )
    commit()
    return jsonify(_serialise(finding))


@route(
    bp,
    "GET",
    "/vague-rates",
    "Per-user or per-agency rate of vague justifications (auditor)",
    query=VagueRatesQuery,
    responses={200: VagueRatesOut},
    errors=(401, 403, 422, 503),
)
@require("auditor", exposes=Exposure.AGENCY_RECORDS)
def get_vague_rates() -> Response:
    since, until = _time_arg("from"), _time_arg("to")
    if since is None or until is None:
        raise ValidationError({"from": "from and to are required"})
    by = request.args.get("by", "user")
    if by not in {"user", "agency"}:
        raise ValidationError({"by": "must be user or agency"})
    rates = vague_rates(
        session(), runtime(), principal(), since=since, until=until, by=by, agency=agency_scope()
    )
    commit()
    return jsonify(
        {
            "by": by,
            "rates": [
                {"key": r.key, "searches": r.searches, "vague": r.vague, "rate": round(r.rate, 4)}
                for r in rates
            ],
        }
    )
