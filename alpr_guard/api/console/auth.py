"""Who is at the console, what they may open, and the CSRF token of their forms.

This module is the console's one door to authentication. Pages are guarded exactly as the API's
routes are (``api.context.require``): a signed-in session (the ``alprg_session`` cookie, idle
and absolute limits, lockout) or a bearer token; the agency decision from the registry as it
stands now; the role. A state-changing request made with the session cookie must carry the
session's CSRF token, which ``require`` checks before the view runs; forms carry it in a
hidden field. A bearer token needs none (another site cannot make a browser send one).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ParamSpec, TypeVar

from flask import current_app, g, request
from sqlalchemy.orm import Session

from alpr_guard.api.context import (
    ACCESS_ATTRIBUTE,
    CSRF_FIELD,
    CSRF_HEADER,
    RouteAccess,
    bearer_token,
    require,
    runtime,
    session,
)
from alpr_guard.auth.sessions import SESSION_COOKIE, csrf_ok
from alpr_guard.auth.sessions import csrf_token as session_csrf_token
from alpr_guard.db import READ_ONLY, is_sqlite
from alpr_guard.errors import AlprGuardError
from alpr_guard.policy.access import Exposure
from alpr_guard.policy.decisions import Decision
from alpr_guard.services.principals import Principal, decide_request

P = ParamSpec("P")
R = TypeVar("R")

__all__ = ["CSRF_FIELD", "can", "check_csrf", "csrf_token", "current_principal", "page"]

SIGN_IN_URL = "/auth/login"
SIGN_OUT_URL = "/auth/logout"


class CsrfFailed(AlprGuardError):
    code = "csrf_failed"
    status = 403


def page(*roles: str, exposes: Exposure) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Guard a console page as an API route is guarded (see the module's docstring)."""
    return require(*roles, exposes=exposes)


def current_principal() -> Principal | None:
    """The principal ``page`` authenticated for this request, or None (an unguarded page, or
    a request refused before it got that far)."""
    who: Principal | None = g.get("principal")
    return who


def _read(query: Callable[[Session], R]) -> R:
    """On SQLite, a read outside a transaction runs in a plain read transaction ended after it
    (no write lock); inside one, it joins the transaction under way."""
    db = session()
    if not is_sqlite(db) or db.in_transaction():
        return query(db)
    db.connection(execution_options={READ_ONLY: True})
    try:
        return query(db)
    finally:
        db.rollback()


def _decision(who: Principal, exposes: Exposure) -> Decision:
    cache: dict[Exposure, Decision] = g.setdefault("console_decisions", {})
    if exposes not in cache:
        cache[exposes] = _read(lambda db: decide_request(db, runtime(), who, exposes))[0]
    return cache[exposes]


def plate_reads_decision() -> Decision:
    """May the viewer's agency hold plate reads, as the registry stands now?"""
    who = current_principal()
    assert who is not None
    return _decision(who, Exposure.PLATE_READS)


def can(endpoint: str) -> bool:
    """May the viewer open ``endpoint``? Read from the declaration its guard checks (the role,
    and whether the viewer's agency may hold what it exposes), so a role never sees a link it
    cannot use."""
    view = current_app.view_functions.get(endpoint)
    access: RouteAccess | None = getattr(view, ACCESS_ATTRIBUTE, None)
    who = current_principal()
    if access is None or who is None or who.role not in access.roles:
        return False
    return _decision(who, access.exposes).allowed


def _cookie() -> str | None:
    """The session id the viewer was authenticated by, or None for a bearer token (which
    ``require`` prefers when a request carries both)."""
    if current_principal() is None or bearer_token() is not None:
        return None
    return request.cookies.get(SESSION_COOKIE)


def signed_in_by_session() -> bool:
    return _cookie() is not None


def csrf_token() -> str:
    """The token for the viewer's forms: the session's, or empty for a bearer token."""
    cookie = _cookie()
    return session_csrf_token(cookie) if cookie else ""


def check_csrf() -> None:
    """Checked again in each form's view, so a page never depends on the guard alone for it."""
    cookie = _cookie()
    if cookie is None:
        return
    presented = request.headers.get(CSRF_HEADER) or request.form.get(CSRF_FIELD)
    if not csrf_ok(cookie, presented):
        raise CsrfFailed("the form's security token is missing or stale; reload the page")
