"""Who is at the console, what they may open, and the CSRF token of their forms.

This module is the console's one door to authentication: every page asks it for the signed-in
principal, every link asks it whether the viewer may follow it, every form gets and checks its
CSRF token here. Nothing else in ``web/`` reads credentials.

The credential is the bearer token the API accepts (``principals.authenticate``): a browser sends
it in the ``Authorization`` header (a reverse proxy that signs people in, or a header the
browser is configured with). There is deliberately no sign-in form here: sign-in at the agency's
identity provider, with server-side sessions, replaces ``_credential`` and the CSRF binding
below when it lands, and nothing else changes.

The CSRF token is bound to the credential: an HMAC, under a key derived from the master key, of
the credential's hash. A page from this server carries it in a hidden field; a form posted from
another site cannot know it.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

from flask import current_app, g, request
from sqlalchemy.orm import Session

from alpr_guard.api.context import ACCESS_ATTRIBUTE, RouteAccess, _refuse, runtime, session
from alpr_guard.db import READ_ONLY, is_sqlite
from alpr_guard.errors import AlprGuardError, Forbidden, Unauthorized
from alpr_guard.policy.access import Exposure
from alpr_guard.policy.decisions import Decision
from alpr_guard.services.principals import Principal, authenticate, decide_request

P = ParamSpec("P")
R = TypeVar("R")

CSRF_FIELD = "csrf_token"
_CSRF_LABEL = b"alpr_guard.console.csrf.v1\x00"


class CsrfFailed(AlprGuardError):
    code = "csrf_failed"
    status = 403


def _credential() -> str | None:
    header = request.headers.get("Authorization", "")
    return header[7:].strip() if header[:7].lower() == "bearer " else None


def current_principal() -> Principal | None:
    """The signed-in principal, or None; resolved once per request."""
    if "console_principal" in g:
        who: Principal | None = g.console_principal
        return who
    token = _credential()
    found: Principal | None = None
    if token:
        try:
            found = _read(lambda db: authenticate(db, runtime(), token))
        except Unauthorized:
            found = None
    g.console_principal = found
    return found


def _read(query: Callable[[Session], R]) -> R:
    """Run a read before the page's own work. On SQLite it runs in a plain read transaction,
    ended before the view, so a busy writer never makes a page wait for its credential check
    (as the API's ``require``); later in a request it joins the transaction under way."""
    db = session()
    if not is_sqlite(db) or db.in_transaction():
        return query(db)
    db.connection(execution_options={READ_ONLY: True})
    try:
        return query(db)
    finally:
        db.rollback()


def _decision(who: Principal, exposes: Exposure) -> tuple[Decision, bool]:
    cache: dict[Exposure, tuple[Decision, bool]] = g.setdefault("console_decisions", {})
    if exposes not in cache:
        cache[exposes] = _read(lambda db: decide_request(db, runtime(), who, exposes))
    return cache[exposes]


def can(endpoint: str) -> bool:
    """May the viewer open ``endpoint``? Its role is declared and its agency may hold what the
    page exposes, as the registry stands now. Read from the declaration the page itself checks
    (``page``), so a role never sees a link it cannot use."""
    view = current_app.view_functions.get(endpoint)
    access: RouteAccess | None = getattr(view, ACCESS_ATTRIBUTE, None)
    who = current_principal()
    if access is None or who is None or who.role not in access.roles:
        return False
    return _decision(who, access.exposes)[0].allowed


def page(*roles: str, exposes: Exposure) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Sign-in required (401), then the agency decision and the role (403), as the API's
    ``require`` decides them; an agency refusal is recorded before the 403 leaves."""
    declared = RouteAccess(frozenset(roles), exposes)

    def decorator(view: Callable[P, R]) -> Callable[P, R]:
        @wraps(view)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            who = current_principal()
            if who is None:
                raise Unauthorized("sign in to use the console")
            decision, operating = _decision(who, exposes)
            g.principal = who
            g.agency_scope = None if operating else who.agency_ori
            g.route_access = declared
            if who.role not in declared.roles:
                raise Forbidden(f"role {who.role} may not open this page")
            if not decision.allowed:
                _refuse(runtime(), session(), who, declared, decision)
            return view(*args, **kwargs)

        setattr(wrapper, ACCESS_ATTRIBUTE, declared)
        return wrapper

    return decorator


def csrf_token() -> str:
    """The token for the viewer's forms (empty when nobody is signed in)."""
    token = _credential()
    if not token or current_principal() is None:
        return ""
    digest = hashlib.sha256(token.encode()).digest()
    return runtime().keyring.audit_mac(_CSRF_LABEL + digest)


def check_csrf() -> None:
    """Refuse a state-changing form without this viewer's token (403, ``csrf_failed``)."""
    expected = csrf_token()
    given = request.form.get(CSRF_FIELD, "")
    if not expected or not hmac.compare_digest(expected.encode(), given.encode()):
        raise CsrfFailed("the form's security token is missing or stale; reload the page")
