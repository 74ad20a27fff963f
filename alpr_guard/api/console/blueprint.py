"""The console's blueprint: HTML pages for people, beside the JSON API for programs.

Pages are rendered on the server (Jinja2, autoescaped), work without JavaScript, print, and
load nothing from elsewhere: the Content-Security-Policy allows this server's stylesheet and
inline SVG, and no script at all. Errors are pages too, with the API's codes and messages.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from datetime import UTC, date, datetime, time, timedelta
from time import perf_counter

from flask import Blueprint, Response, g, render_template, request
from sqlalchemy.exc import SQLAlchemyError

from alpr_guard.api.console.auth import (
    CSRF_FIELD,
    SIGN_IN_URL,
    SIGN_OUT_URL,
    can,
    csrf_token,
    current_principal,
    signed_in_by_session,
)
from alpr_guard.api.context import public, runtime
from alpr_guard.errors import AlprGuardError, ValidationError

bp = Blueprint("console", __name__, url_prefix="/console", template_folder="../../templates")
log = logging.getLogger("alpr_guard.console")

CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
PAGE_SIZE = 50
MAX_PAGE = 10**6

# The navigation, in order: (endpoint, label). Each link is shown only to a viewer who may
# open it (``auth.can``).
NAV = (
    ("console.home", "Home"),
    ("console.findings", "Findings"),
    ("console.access_report", "Access report"),
    ("console.summary", "Compliance summary"),
    ("console.chain", "Audit chain"),
    ("console.holds", "Holds"),
    ("console.shares", "Shares"),
    ("console.admin", "Administration"),
    ("console.search", "Search"),
)


@bp.context_processor
def _helpers() -> dict[str, object]:
    return {
        "can": can,
        "csrf_token": csrf_token,
        "csrf_field": CSRF_FIELD,
        "viewer": current_principal(),
        "nav": [(endpoint, label) for endpoint, label in NAV if can(endpoint)],
        "instance": runtime().settings.instance,
        "sign_in_url": SIGN_IN_URL,
        "sign_out_url": SIGN_OUT_URL,
        "by_session": signed_in_by_session(),
    }


@bp.app_template_filter("when")
def _when(value: datetime | None) -> str:
    """A UTC time to the minute, the same way on every page."""
    if value is None:
        return "-"
    return value.strftime("%Y-%m-%d %H:%M UTC")


@bp.app_template_filter("age")
def _age(value: datetime | None) -> str:
    """How long ago, in the largest whole unit."""
    if value is None:
        return "never"
    seconds = int((runtime().clock.now() - value).total_seconds())
    if seconds < 0:
        return "in the future"
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            n = seconds // size
            return f"{n} {unit}{'s' if n != 1 else ''} ago"
    return "just now"


@bp.after_request
def _headers(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CSP
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Frame-Options"] = "DENY"
    if "started" in g and g.get("principal") is not None and not response.is_streamed:
        # The server's own time for a signed-in viewer's page (a streamed page's work happens
        # after this); nothing for a refused request, so timing says nothing about credentials.
        spent = (perf_counter() - g.started) * 1000
        response.headers["Server-Timing"] = f"app;dur={spent:.1f}"
    return response


@bp.errorhandler(AlprGuardError)
def _error(exc: AlprGuardError) -> tuple[str, int, dict[str, str]]:
    # The page for people; the code in a header too, for scripts and tests that drive pages.
    return (
        render_template(
            "console/error.html",
            status=exc.status,
            code=exc.code,
            message=exc.message,
            details=exc.details or {},
            request_id=g.get("request_id", "-"),
        ),
        exc.status,
        {"X-Error-Code": exc.code},
    )


@bp.errorhandler(SQLAlchemyError)
def _db_error(exc: SQLAlchemyError) -> tuple[str, int, dict[str, str]]:
    log.error("database error request_id=%s: %s", g.get("request_id"), type(exc).__name__)
    return (
        render_template(
            "console/error.html",
            status=503,
            code="audit_unavailable",
            message="the database could not record this request; nothing was released",
            details={},
            request_id=g.get("request_id", "-"),
        ),
        503,
        {"X-Error-Code": "audit_unavailable"},
    )


@bp.get("/console.css")
@public
def stylesheet() -> Response:
    # One stylesheet for every page (no inline style: the policy forbids it).
    response = Response(render_template("console/console.css"), mimetype="text/css")
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


def page_args(filters: Collection[str]) -> dict[str, str]:
    """The listing's filters from the query string, for links to other pages of it and for its
    forms' addresses. Only the named filters: these are passed to ``url_for`` as keywords, and
    a key of the viewer's choosing there is an instruction to it (``_external``, ``_scheme``,
    ``_anchor``, ``_method``), or a clash with its own arguments (``endpoint``); a name that
    starts with an underscore is never a filter."""
    return {
        k: v
        for k, v in request.args.items()
        if k in filters and not k.startswith("_") and k != "page" and v
    }


def day_arg(name: str, *, end: bool = False) -> datetime | None:
    """A date field of the query or the form (YYYY-MM-DD, as a date input sends it) as the
    start of that UTC day, or of the next day for the end of a range (so "to 2026-11-20"
    includes the 20th)."""
    raw = request.values.get(name, "").strip()
    if not raw:
        return None
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        raise ValidationError({name: "must be a date, YYYY-MM-DD"}) from None
    start = datetime.combine(day, time.min, tzinfo=UTC)
    return start + timedelta(days=1) if end else start


def choice_arg(name: str, choices: tuple[str, ...], default: str | None) -> str | None:
    value = request.values.get(name, "").strip() or default
    if value is not None and value not in choices:
        raise ValidationError({name: f"must be one of {', '.join(choices)}"})
    return value


def page_number() -> int:
    raw = request.args.get("page", "1").strip() or "1"
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE:
        raise ValidationError({"page": f"must be a whole number from 1 to {MAX_PAGE}"})
    return int(raw)
