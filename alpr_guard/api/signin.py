"""Sign-in views: start a sign-in at the identity provider, finish it, show who is signed
in, mint a personal token, sign out. The work is in ``alpr_guard.auth``; these carry cookies
and redirects.

Cookies: the session id in ``__Host-alprg_session`` (Secure, HttpOnly, SameSite=Lax, whole
site), and while a sign-in is under way ``__Secure-alprg_login`` (the same flags, path /auth/)
binding it to the browser that started it.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, redirect, request
from sqlalchemy import select
from werkzeug.wrappers import Response as BaseResponse

from alpr_guard.api.context import (
    commit,
    principal,
    public,
    request_client,
    require,
    runtime,
    session,
)
from alpr_guard.api.contract import route
from alpr_guard.api.models import CallbackQuery, MeOut, PersonalTokenOut, SignedOutOut
from alpr_guard.auth.oidc import OidcClient, SignInRefused, begin_login
from alpr_guard.auth.reasons import AuthReason
from alpr_guard.auth.sessions import SESSION_COOKIE, csrf_token, end_session, hash_id
from alpr_guard.auth.signin import complete
from alpr_guard.errors import NotFound, Refused
from alpr_guard.models import User, WebSession
from alpr_guard.policy.access import Exposure
from alpr_guard.services.principals import mint_personal_token
from alpr_guard.services.rendering import render_template

# Sign-in proper (no credential yet): flood-limited per source address (api/__init__.py).
bp = Blueprint("signin", __name__)
# The signed-in account's own routes: authenticated, so lockout covers them instead.
account = Blueprint("account", __name__)
OIDC_KEY = "alpr_guard.oidc"
LOGIN_COOKIE = "__Secure-alprg_login"
HUMAN = ("officer", "supervisor", "auditor", "admin")


def _oidc() -> OidcClient:
    client: OidcClient | None = current_app.extensions.get(OIDC_KEY)
    if client is None:
        raise NotFound("sign-in is not configured here ([auth.oidc])")
    return client


def _set_cookie(response: BaseResponse, name: str, value: str, *, max_age: int, path: str) -> None:
    response.set_cookie(
        name, value, max_age=max_age, path=path, secure=True, httponly=True, samesite="Lax"
    )


@route(
    bp,
    "GET",
    "/auth/login",
    "Start a sign-in at the identity provider (authorization code with PKCE); 302 to the "
    "provider. 404 when [auth.oidc] is not configured",
    responses={302: "To the provider"},
    errors=(404, 429),
)
@public
def login() -> BaseResponse:
    """Send the browser to the identity provider with a fresh state, nonce and PKCE challenge."""
    rt, db = runtime(), session()
    pending = begin_login(db, rt, _oidc())
    commit()
    response = redirect(pending.url, 302)
    _set_cookie(response, LOGIN_COOKIE, pending.browser, max_age=600, path="/auth/")
    return response


@route(
    bp,
    "GET",
    "/auth/callback",
    "The provider returns here; 303 to /auth/me with the session cookie set, or a refusal "
    "(mfa_required, locked_source, ...) on the record",
    query=CallbackQuery,
    responses={303: "Signed in"},
    errors=(400, 403, 404, 429, 502),
)
@public
def callback() -> BaseResponse:
    """The provider sends the browser back here with a code (or an error)."""
    rt, db = runtime(), session()
    args = request.args
    try:
        signed = complete(
            db,
            rt,
            _oidc(),
            request_client(),
            state=args.get("state", ""),
            code=args.get("code"),
            error=args.get("error"),
            browser=request.cookies.get(LOGIN_COOKIE),
            replaces=request.cookies.get(SESSION_COOKIE),
        )
    except SignInRefused as exc:
        commit()  # the failure, the lock and the spent state are on the record
        known = {r.value: r for r in AuthReason}
        status = known[exc.reason].status if exc.reason in known else 403
        raise Refused(str(exc.reason), status, exc.message) from None
    commit()
    response = redirect("/auth/me", 303)
    max_age = rt.settings.auth.session_absolute_hours * 3600
    _set_cookie(response, SESSION_COOKIE, signed.session.session_id, max_age=max_age, path="/")
    response.delete_cookie(LOGIN_COOKIE, path="/auth/", secure=True, httponly=True, samesite="Lax")
    return response


@route(
    account,
    "GET",
    "/auth/me",
    "Who is signed in: name, role, agency (HTML page or JSON); the session's CSRF token for "
    "state-changing requests",
    responses={200: MeOut},
    media={200: ("text/html",)},
    errors=(401, 403),
)
@require(*HUMAN, exposes=Exposure.ACCOUNT)
def me() -> Response:
    """Who is signed in: an HTML page for a browser, JSON for a script (Accept)."""
    rt, db = runtime(), session()
    who = principal()
    user = db.get_one(User, who.user_id)
    cookie = request.cookies.get(SESSION_COOKIE)
    body = {
        "username": who.username,
        "name": user.display_name,
        "role": who.role,
        "agency": who.agency_ori,
        "credential": who.credential,
    }
    if who.credential == "session" and cookie:
        body["csrf_token"] = csrf_token(cookie)
    if request.accept_mimetypes.best_match(["text/html", "application/json"]) != "text/html":
        return jsonify(body)
    if who.credential != "session" or not cookie:
        return jsonify(body)
    expires = db.scalar(select(WebSession.expires_at).where(WebSession.id_hash == hash_id(cookie)))
    html = render_template(
        "signed_in.html",
        display_name=user.display_name or who.username,
        username=who.username,
        role=who.role,
        agency=who.agency_ori,
        csrf_token=body["csrf_token"],
        idle_minutes=rt.settings.auth.session_idle_minutes,
        token_minutes=rt.settings.auth.personal_token_minutes,
        expires_at=expires.strftime("%Y-%m-%d %H:%M") if expires else "-",
    )
    response = Response(html.encode(), 200, content_type="text/html; charset=utf-8")
    # The page holds the CSRF token and the buttons: never inside another site's frame.
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; form-action 'self'; frame-ancestors 'none'"
    )
    return response


@route(
    account,
    "POST",
    "/auth/tokens",
    "Mint a short-lived personal API token from a signed-in session (X-CSRF-Token); shown once",
    responses={201: PersonalTokenOut},
    errors=(401, 403, 429),
)
@require(*HUMAN, exposes=Exposure.ACCOUNT)
def mint() -> tuple[Response, int]:
    """A short-lived personal token for a script, minted from a signed-in session only (a
    token cannot mint a longer chain of tokens)."""
    who = principal()
    if who.credential != "session":
        raise Refused(
            "session_required", 403, "personal tokens are minted from a signed-in session"
        )
    issued = mint_personal_token(session(), runtime(), who)
    commit()
    assert issued.expires_at is not None
    return jsonify(
        {"token": issued.token, "expires_at": issued.expires_at.isoformat(), "role": who.role}
    ), 201


@route(
    account,
    "POST",
    "/auth/logout",
    "End the session now (X-CSRF-Token) and clear its cookie",
    responses={200: SignedOutOut},
    errors=(401, 403, 429),
)
@require(*HUMAN, exposes=Exposure.ACCOUNT)
def logout() -> tuple[Response, int]:
    """End the session now (its CSRF token was checked by ``require``) and clear the cookie."""
    who = principal()
    ended = False
    if who.credential == "session":
        ended = end_session(
            session(), runtime(), request.cookies.get(SESSION_COOKIE), request_client()
        )
        commit()
    response = jsonify({"signed_out": ended})
    response.delete_cookie(SESSION_COOKIE, path="/", secure=True, httponly=True, samesite="Lax")
    return response, 200
