"""HTTP API wiring: blueprints, one error shape, a session per request, request ids.

Only ``api/`` and ``alpr_guard/__init__.py`` import Flask; the import contracts keep it out of
policy, crypto and the services (docs/architecture.md).
"""

from __future__ import annotations

import logging
import time
import uuid

from flask import Flask, Response, g, request
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException

from alpr_guard.api import audit, holds, meta, public, reads, reports, review, searches, shares
from alpr_guard.api.context import EXTENSION_KEY, close_session, error_body
from alpr_guard.api.request_log import logged_path, request_line
from alpr_guard.errors import AlprGuardError, AuditUnavailable
from alpr_guard.runtime import Runtime

log = logging.getLogger("alpr_guard.api")
MAX_BODY_BYTES = 4 * 1024 * 1024
RETRY_AFTER_SECONDS = 1


def build_app(runtime: Runtime) -> Flask:
    # No static files: every route is one of ours, and declares what it exposes.
    app = Flask(__name__, static_folder=None)
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions[EXTENSION_KEY] = runtime

    @app.before_request
    def _start() -> None:
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = (
            incoming if 8 <= len(incoming) <= 64 and incoming.isalnum() else uuid.uuid4().hex
        )
        g.started = time.perf_counter()

    @app.after_request
    def _finish(response: Response) -> Response:
        response.headers["X-Request-ID"] = g.get("request_id", "-")
        # Only the public pages say otherwise (short-lived, aggregate, no plate, no person).
        response.headers.setdefault("Cache-Control", "no-store")
        response.headers["X-Content-Type-Options"] = "nosniff"
        if response.status_code == 503 and "Retry-After" not in response.headers:
            # Every 503 is a momentary condition (the writer was busy): say when to come back.
            response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        # One JSON line (request_log): never a body, a query string, a token or the raw path.
        who = g.get("principal")
        rule = request.url_rule
        log.info(
            "%s",
            request_line(
                {
                    "request_id": g.get("request_id", "-"),
                    "method": request.method,
                    "route": logged_path(rule.rule if rule else None, request.view_args),
                    "status": response.status_code,
                    "duration_ms": round((time.perf_counter() - g.get("started", 0)) * 1000, 1),
                    "user": who.username if who else None,
                    "agency": who.agency_ori if who else None,
                    "role": who.role if who else None,
                    "client": request.remote_addr,
                }
            ),
        )
        return response

    @app.errorhandler(AlprGuardError)
    def _app_error(exc: AlprGuardError) -> tuple[Response, int]:
        return error_body(exc.code, exc.message, exc.status, exc.details)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> tuple[Response, int]:
        code = (exc.name or "error").lower().replace(" ", "_")
        return error_body(code, exc.description or exc.name or "error", exc.code or 500)

    @app.errorhandler(SQLAlchemyError)
    def _db_error(exc: SQLAlchemyError) -> tuple[Response, int]:
        # Every endpoint records what it does; a database that cannot take the record means
        # the request fails closed, with the same code whichever statement hit the problem.
        log.error("database error request_id=%s: %s", g.get("request_id"), type(exc).__name__)
        return error_body(
            AuditUnavailable.code,
            "the database could not record this request; nothing was released",
            AuditUnavailable.status,
        )

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> tuple[Response, int]:
        # The type only: an exception's text may quote input, and input may hold a plate.
        log.error("unhandled %s request_id=%s", type(exc).__name__, g.get("request_id"))
        return error_body("internal_error", "internal error", 500)

    app.teardown_appcontext(close_session)
    app.register_blueprint(meta.bp)
    app.register_blueprint(reads.bp)
    app.register_blueprint(searches.bp)
    app.register_blueprint(review.bp)
    app.register_blueprint(shares.bp)
    app.register_blueprint(holds.bp)
    app.register_blueprint(audit.bp)
    app.register_blueprint(reports.bp)
    app.register_blueprint(public.bp)
    return app
