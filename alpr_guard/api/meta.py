"""Unauthenticated endpoints: liveness, readiness and the API description."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify
from sqlalchemy import text

from alpr_guard import metrics
from alpr_guard.api import openapi
from alpr_guard.api.context import error_body, public, runtime, session
from alpr_guard.api.contract import route
from alpr_guard.api.models import ReadyOut, Spec, StatusOut
from alpr_guard.readiness import readiness

bp = Blueprint("meta", __name__)


@route(
    bp,
    "GET",
    "/healthz",
    "Liveness and database reachability",
    responses={200: StatusOut},
    errors=(503,),
)
@public
def healthz() -> tuple[Response, int]:
    session().execute(text("SELECT 1"))
    return jsonify({"status": "ok"}), 200


@route(
    bp,
    "GET",
    "/readyz",
    "Readiness: database, schema revision, key store, checkpoint age",
    responses={200: ReadyOut},
    errors=(503,),
)
@public
def readyz() -> tuple[Response, int]:
    """Fit to take traffic: database, schema at head, key store, checkpoint age (one line each).

    503 in the one error shape, ``details.checks`` saying which check failed and why; the
    Docker HEALTHCHECK and load balancers poll it. No secret is in any line.
    """
    rt = runtime()
    checks = readiness(rt.settings, rt.engine, rt.keyring, rt.clock.now())
    body = {c.name: c.as_json() for c in checks}
    failed = [c.name for c in checks if not c.ok]
    if failed:
        return error_body("not_ready", f"not ready: {', '.join(failed)}", 503, {"checks": body})
    return jsonify({"status": "ready", "checks": body}), 200


@route(
    bp,
    "GET",
    "/metrics",
    "Prometheus metrics (text format): aggregates only, for the internal network",
    responses={200: "Prometheus text exposition"},
    media={200: ("text/plain",)},
)
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


@route(bp, "GET", "/api/v1/openapi.json", "This document", responses={200: Spec})
@public
def openapi_json() -> Response:
    return jsonify(openapi.spec())
