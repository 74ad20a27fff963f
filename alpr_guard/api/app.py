"""HTTP API wiring: blueprints, one error shape, a session per request, request ids.

Only ``api/`` (its console pages included) and ``alpr_guard/__init__.py`` import Flask; the
import contracts keep it out of policy, crypto and the services (docs/architecture.md).
"""

from __future__ import annotations

import logging
import time
import uuid
from functools import partial
from typing import Any, cast

from flask import Flask, Response, g, request
from flask_limiter import Limiter, RateLimitExceeded
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException

from alpr_guard import logs, metrics
from alpr_guard.api import (
    audit,
    holds,
    meta,
    public,
    reads,
    reports,
    review,
    searches,
    shares,
    signin,
    webhooks,
)
from alpr_guard.api.console import bp as console
from alpr_guard.api.context import EXTENSION_KEY, close_session, error_body
from alpr_guard.api.request_log import RequestLine, logged_path
from alpr_guard.auth.oidc import OidcClient, load_client_secret
from alpr_guard.auth.ratelimit import SCHEME as RATE_SCHEME
from alpr_guard.errors import AlprGuardError, AuditUnavailable
from alpr_guard.runtime import Runtime

log = logging.getLogger("alpr_guard.api")
MAX_BODY_BYTES = 4 * 1024 * 1024
RETRY_AFTER_SECONDS = 1


# Every route the server answers, by blueprint (console pages included).
BLUEPRINTS = (
    meta.bp,
    reads.bp,
    webhooks.bp,
    searches.bp,
    review.bp,
    shares.bp,
    holds.bp,
    audit.bp,
    reports.bp,
    public.bp,
    signin.bp,
    signin.account,
    console,
)


def _sign_in(app: Flask, runtime: Runtime) -> Limiter:
    """The identity provider's client (when configured) and the sign-in routes' flood limit."""
    oidc = runtime.settings.auth.oidc
    if oidc is not None:
        # The secret is read now, so a missing one stops the server at start, naming the key.
        secret = load_client_secret(oidc, str(runtime.settings.source))
        app.extensions[signin.OIDC_KEY] = OidcClient(oidc, secret)
    # The flood limit of the sign-in routes, per source address, counted in the database so
    # that every worker (and every server) shares one count.
    limiter = Limiter(
        lambda: request.remote_addr or "-",
        app=app,
        storage_uri=f"{RATE_SCHEME}://",
        storage_options={"engine": runtime.engine},  # type: ignore[dict-item]
        strategy="fixed-window",
        headers_enabled=True,
        key_prefix="signin",
    )
    limiter.limit(runtime.settings.auth.rate_limit)(signin.bp)
    _scope_hooks(app, limiter, signin.bp.name)
    return limiter


def _scope_hooks(app: Flask, limiter: Limiter, blueprint: str) -> None:
    """Run the limiter's request hooks for ``blueprint``'s routes only.

    Flask-Limiter hooks every request of the app (a check before, headers after, a context
    reset at teardown) even when, as here, only one blueprint has a limit; on a camera's
    one-read post that was about 5% of the request. Its hooks are moved to the blueprint's
    own hook lists, which Flask runs for that blueprint's requests. A hook not recognised (a
    later Flask-Limiter) stays app-wide: the limit still holds, only slower."""
    lists: tuple[Any, ...] = (
        app.before_request_funcs,
        app.after_request_funcs,
        app.teardown_request_funcs,
    )
    for hooks in cast(tuple[dict[str | None, list[Any]], ...], lists):
        app_wide = hooks.get(None, [])
        mine = [hook for hook in app_wide if _belongs_to(hook, limiter)]
        if mine:
            hooks[None] = [hook for hook in app_wide if hook not in mine]
            hooks.setdefault(blueprint, []).extend(mine)


def _belongs_to(hook: object, limiter: Limiter) -> bool:
    if getattr(hook, "__self__", None) is limiter:  # a bound method
        return True
    return isinstance(hook, partial) and limiter in hook.args


def build_app(runtime: Runtime) -> Flask:
    # No static files: every route is one of ours, and declares what it exposes.
    app = Flask(__name__, static_folder=None)
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions[EXTENSION_KEY] = runtime
    reads.install_gate(app, runtime.settings.database.url.startswith("sqlite"))
    limiter = _sign_in(app, runtime)

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
        seconds = time.perf_counter() - g.get("started", 0)
        metrics.observe_request(
            rule.rule if rule else None, request.method, response.status_code, seconds
        )
        fields = {
            "request_id": g.get("request_id", "-"),
            "method": request.method,
            "route": logged_path(rule.rule if rule else None, request.view_args),
            "status": response.status_code,
            "duration_ms": round(seconds * 1000, 1),
            "user": who.username if who else None,
            "agency": who.agency_ori if who else None,
            "role": who.role if who else None,
            "client": request.remote_addr,
        }
        # Text logs carry the fields as one JSON message; JSON logs at the line's top level.
        log.info("%s", RequestLine(fields), extra={logs.FIELDS: fields})
        return response

    @app.errorhandler(AlprGuardError)
    def _app_error(exc: AlprGuardError) -> tuple[Response, int]:
        if exc.status in (403, 422):  # a refusal, by its reason code (a bounded set)
            rule = request.url_rule
            metrics.REFUSALS.labels(
                metrics.route_label(rule.rule if rule else None), exc.code
            ).inc()
        return error_body(exc.code, exc.message, exc.status, exc.details)

    @app.errorhandler(RateLimitExceeded)
    def _rate_limited(exc: RateLimitExceeded) -> Response:
        log.warning(
            "rate limited request_id=%s client=%s", g.get("request_id"), request.remote_addr
        )
        response, status = error_body(
            "rate_limited", f"too many requests: at most {exc.description}; try again later", 429
        )
        response.status_code = status
        stats = limiter.current_limit
        retry = 1
        if stats is not None:
            retry = max(1, int(stats.reset_at - time.time()) + 1)
        response.headers["Retry-After"] = str(retry)
        return response

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
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    return app
