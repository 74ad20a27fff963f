"""Unauthenticated endpoints: liveness, readiness and the API description."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify
from sqlalchemy import text

from alpr_guard import metrics
from alpr_guard.api import openapi
from alpr_guard.api.context import public, runtime, session

bp = Blueprint("meta", __name__)


@bp.get("/healthz")
@public
def healthz() -> tuple[Response, int]:
    session().execute(text("SELECT 1"))
    return jsonify({"status": "ok"}), 200


@bp.get("/readyz")
@public
def readyz() -> tuple[Response, int]:
    """Fit to take traffic: database, schema at head, key store, checkpoint age (one line each).

    503 in the one error shape, ``details.checks`` saying which check failed and why; the
    Docker HEALTHCHECK and load balancers poll it. No secret is in any line.
    """
    from alpr_guard.api import error_body
    from alpr_guard.readiness import readiness

    rt = runtime()
    checks = readiness(rt.settings, rt.engine, rt.keyring, rt.clock.now())
    body = {c.name: c.as_json() for c in checks}
    failed = [c.name for c in checks if not c.ok]
    if failed:
        return error_body("not_ready", f"not ready: {', '.join(failed)}", 503, {"checks": body})
    return jsonify({"status": "ready", "checks": body}), 200


@bp.get("/metrics")
@public
def metrics_page() -> Response:
    """Prometheus text format: counts by route, status and reason code, and the jobs' latest
    figures from the database. Aggregates only: no plate, user or agency. Keep it on the
    internal network (docs/deployment.md)."""
    rt = runtime()
    return Response(
        metrics.exposition(rt.engine, rt.clock.now()),
        mimetype=None,
        content_type=metrics.CONTENT_TYPE,
    )


@bp.get("/api/v1/openapi.json")
@public
def openapi_json() -> Response:
    return jsonify(openapi.spec())
