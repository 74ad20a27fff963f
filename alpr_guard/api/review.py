"""Access review for auditors: list findings, resolve them with a verdict and a note."""

from __future__ import annotations

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
from alpr_guard.api.contract import query, route, validate
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
from alpr_guard.services.review import (
    FindingFilter,
    FindingView,
    count_findings,
    list_findings,
    resolve_finding,
    vague_rates,
)

bp = Blueprint("review", __name__, url_prefix="/api/v1/review")


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
    asked = query(FindingsQuery)
    filters = FindingFilter(
        status=asked.status,
        rule=asked.rule,
        severity=asked.severity,
        username=asked.user,
        since=asked.since,
        until=asked.until,
        limit=max(1, asked.limit),
        offset=asked.offset,
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
    validate(FindingPath, {"finding_id": finding_id})
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
    if request.args.get("from") is None or request.args.get("to") is None:
        raise ValidationError({"from": "from and to are required"})
    asked = query(VagueRatesQuery)
    by = asked.by
    rates = vague_rates(
        session(),
        runtime(),
        principal(),
        since=asked.since,
        until=asked.until,
        by=by,
        agency=agency_scope(),
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
