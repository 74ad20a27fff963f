"""Per-request plumbing for views: the runtime, the session, the caller, the JSON body."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from itertools import accumulate
from typing import NoReturn, ParamSpec, TypeVar

from flask import Response, current_app, g, jsonify, request
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from alpr_guard.audit import Actor
from alpr_guard.auth import lockout
from alpr_guard.auth.client import Client, client
from alpr_guard.auth.reasons import AuthReason, refused
from alpr_guard.auth.sessions import SESSION_COOKIE, SessionCheck, check_session, csrf_ok, settle
from alpr_guard.db import READ_ONLY, is_sqlite
from alpr_guard.errors import (
    AuditUnavailable,
    Forbidden,
    Refused,
    Unauthorized,
    ValidationError,
)
from alpr_guard.policy.access import Exposure
from alpr_guard.policy.decisions import Decision, ReasonCode
from alpr_guard.runtime import Runtime
from alpr_guard.services.principals import Principal, authenticate, decide_request
from alpr_guard.vocabulary import AuditKind

log = logging.getLogger("alpr_guard.auth")
EXTENSION_KEY = "alpr_guard"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
HUMAN_ROLES = frozenset({"officer", "supervisor", "auditor", "admin"})
P = ParamSpec("P")
R = TypeVar("R")


def runtime() -> Runtime:
    rt: Runtime = current_app.extensions[EXTENSION_KEY]
    return rt


def session() -> Session:
    """One session per request (house rule 4), closed at app-context teardown."""
    if "db" not in g:
        g.db = runtime().sessions()
    db: Session = g.db
    return db


def close_session(_exc: BaseException | None) -> None:
    db: Session | None = g.pop("db", None)
    if db is not None:
        db.rollback()
        db.close()


def commit() -> None:
    """Commit before anything leaves: if the record cannot be written, nothing is answered."""
    db = session()
    try:
        db.commit()
    except SQLAlchemyError:
        db.rollback()
        raise AuditUnavailable(
            "the access record could not be written; no data was released"
        ) from None


def principal() -> Principal:
    who: Principal = g.principal
    return who


@dataclass(frozen=True)
class RouteAccess:
    """A route's declaration: which roles may call it and what it exposes."""

    roles: frozenset[str]
    exposes: Exposure


ACCESS_ATTRIBUTE = "route_access"


def public(view: Callable[P, R]) -> Callable[P, R]:
    """Declare a route that needs no token and exposes no plate data and no records."""
    setattr(view, ACCESS_ATTRIBUTE, RouteAccess(frozenset(), Exposure.PUBLIC))
    return view


def agency_scope() -> str | None:
    """The ORI whose records alone the caller may see, or None for the operating agency."""
    scope: str | None = g.agency_scope
    return scope


def own_agency_only(requested: str | None) -> str | None:
    """The agency filter of a listing of access records: a partner's auditor sees its own
    agency's records whatever it asks for; asking for another agency's is a refusal."""
    scope = agency_scope()
    if scope is None:
        return requested
    if requested is not None and requested.strip().upper() != scope:
        _refuse(
            runtime(),
            session(),
            principal(),
            g.route_access,
            Decision.refuse(
                ReasonCode.ROLE_NOT_ALLOWED_FOR_AGENCY,
                "own_agency_records",
                f"users of agency {scope} may only see the records of their own agency",
            ),
        )
    return scope


def request_client() -> Client:
    """The source address (after the trusted proxy) and user agent, as the audit records them."""
    return client(request.remote_addr, request.headers.get("User-Agent"))


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    return header[7:].strip() if header[:7].lower() == "bearer " else None


def check_csrf(session_id: str) -> None:
    """A state-changing request made with the session cookie must carry the session's CSRF
    token (header or form field): a page on another site can make the browser send the
    cookie, but cannot read the token."""
    presented = request.headers.get(CSRF_HEADER) or request.form.get(CSRF_FIELD)
    if csrf_ok(session_id, presented):
        return
    rt, db = runtime(), session()
    db.rollback()
    rt.audit.append(
        db,
        AuditKind.CSRF_REFUSED,
        Actor("anonymous", None),
        details={
            "method": request.method,
            "route": request.url_rule.rule if request.url_rule is not None else None,
            **request_client().details(),
        },
    )
    commit()
    raise refused(AuthReason.CSRF_FAILED, "the request lacks this session's CSRF token")


@dataclass(frozen=True)
class _Seen:
    """What the read-only phase of authentication found."""

    who: Principal | None
    failure: Unauthorized | None
    session_check: SessionCheck | None
    locked: str | None


def _authenticate(db: Session, rt: Runtime, token: str | None, cookie: str | None) -> _Seen:
    """Read-only: a bearer token wins over a session cookie; a request with neither is a plain
    401 (no credential is not a failed attempt)."""
    source = request.remote_addr
    if token is None and cookie is None:
        if request.headers.get("Authorization"):
            failure = Unauthorized("a valid bearer token is required")
            return _Seen(None, failure, None, lockout.locked(db, source, None))
        raise Unauthorized("sign in, or send a bearer token")
    if token is not None or cookie is None:
        try:
            who = authenticate(db, rt, token)
        except Unauthorized as exc:
            return _Seen(None, exc, None, lockout.locked(db, source, None))
        return _Seen(who, None, None, lockout.locked(db, source, who.username))
    check = check_session(db, rt, cookie)
    if check.principal is None:
        unknown = Unauthorized("the session is unknown; sign in") if check.unknown else None
        return _Seen(None, unknown, check, lockout.locked(db, source, None))
    who = check.principal
    return _Seen(who, None, check, lockout.locked(db, source, who.username))


def _settle(db: Session, rt: Runtime, seen: _Seen, cookie: str | None) -> Principal:
    """The writes authentication calls for (failures, locked attempts, expiries, activity),
    committed before the view runs; then the principal, or the refusal."""
    who = seen.who
    cl = request_client()
    if seen.locked is not None:
        lockout.record_locked_attempt(
            db, rt, cl, kind=seen.locked, username=who.username if who else None
        )
        commit()
        reason = (
            AuthReason.LOCKED_SOURCE if seen.locked == lockout.SOURCE else AuthReason.LOCKED_ACCOUNT
        )
        raise refused(reason, "too many failed attempts: locked until an administrator unlocks")
    if seen.failure is not None:
        try:
            what = "bad_session" if seen.session_check is not None else "bad_token"
            lockout.record_failure(db, rt, cl, reason=what)
            commit()
        except (AuditUnavailable, SQLAlchemyError):
            # The writer is busy past the audit timeout: the bad token is refused all the
            # same (a 401, not a 503 that would tell a prober it reached the database), and
            # the miss is logged. A 256-bit token is not guessed in the attempts this loses.
            db.rollback()
            log.warning("a failed authentication could not be recorded (database busy)")
        raise seen.failure
    check = seen.session_check
    if check is not None:
        if check.principal is None:
            if check.expired is not None:
                settle(db, rt, check, cl)
                commit()
                raise refused(AuthReason.SESSION_EXPIRED, "the session has ended; sign in again")
            raise Unauthorized("the session has ended; sign in again")
        assert cookie is not None
        if request.method not in SAFE_METHODS:
            check_csrf(cookie)
        if check.touch:
            settle(db, rt, check, cl)
            commit()
    assert who is not None
    if (
        who.credential == "token"
        and who.role in HUMAN_ROLES
        and not rt.settings.auth.human_bearer_tokens
    ):
        rt.audit.append(
            db,
            AuditKind.AUTH_REFUSED_BEARER,
            who.actor,
            subject=f"user:{who.username}",
            details={"role": who.role, **cl.details()},
        )
        commit()
        raise refused(
            AuthReason.BEARER_NOT_ALLOWED,
            "people sign in here, or use a personal token minted from a signed-in session",
        )
    return who


def require(*roles: str, exposes: Exposure) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Authenticate the caller (401): a bearer token or a signed-in session (whose
    state-changing requests need its CSRF token), unless the source or account is locked;
    then decide, from the registry as it stands now, whether the caller's agency may hold what
    the route exposes, then check the role (403).

    An agency refusal is an audit event, committed before the 403 leaves. One exception keeps
    the access record whole: a search by a user of an agency the sharing rules refuse goes on
    to screening, which takes the same decision and records it as a refused search."""
    declared = RouteAccess(frozenset(roles), exposes)

    def decorator(view: Callable[P, R]) -> Callable[P, R]:
        @wraps(view)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            token = bearer_token()
            cookie = request.cookies.get(SESSION_COOKIE) or None
            db = session()
            rt = runtime()
            decision: Decision | None = None
            operating = False
            if is_sqlite(db):
                # Reading the token and the registry needs no write lock: on SQLite a plain
                # BEGIN, ended before the view, so a busy writer never makes authentication
                # wait or fail.
                db.connection(execution_options={READ_ONLY: True})
                try:
                    seen = _authenticate(db, rt, token, cookie)
                    if seen.who is not None and seen.locked is None:
                        decision, operating = decide_request(db, rt, seen.who, exposes)
                finally:
                    db.rollback()
            else:
                seen = _authenticate(db, rt, token, cookie)
                if seen.who is not None and seen.locked is None:
                    decision, operating = decide_request(db, rt, seen.who, exposes)
            who = _settle(db, rt, seen, cookie)
            assert decision is not None
            role_declared = who.role in declared.roles
            g.principal = who
            g.agency_scope = None if operating else who.agency_ori
            g.route_access = declared
            if decision.allowed:
                if not role_declared:
                    raise Forbidden(f"role {who.role} may not do this")
            elif decision.reason == ReasonCode.ROLE_NOT_ALLOWED_FOR_AGENCY:
                if not role_declared:
                    raise Forbidden(f"role {who.role} may not do this")
                _refuse(rt, db, who, declared, decision)
            elif not (role_declared and exposes is Exposure.PLATE_READS):
                _refuse(rt, db, who, declared, decision)
            return view(*args, **kwargs)

        setattr(wrapper, ACCESS_ATTRIBUTE, declared)
        return wrapper

    return decorator


def _refuse(
    rt: Runtime, db: Session, who: Principal, declared: RouteAccess, decision: Decision
) -> NoReturn:
    """Denials are data: the refusal is on the record before the 403 leaves."""
    assert decision.reason is not None
    rt.audit.append(
        db,
        AuditKind.ACCESS_REFUSED,
        who.actor,
        subject=f"user:{who.username}",
        details={
            "method": request.method,
            # The route's pattern, not the requested path: nothing the client typed.
            "route": request.url_rule.rule if request.url_rule is not None else None,
            "role": who.role,
            "agency": who.agency_ori,
            "exposes": declared.exposes.value,
            "reason_code": decision.reason.value,
            "rule": decision.rule,
        },
    )
    commit()
    raise Refused(decision.reason.value, decision.reason.status, decision.message)


# No request body of this API nests deeper than a few levels; the JSON parser recurses once
# per level, so a deeper document is refused before it is parsed.
MAX_JSON_DEPTH = 32
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKET = bytes(b for b in range(256) if b not in b"[]{}")
_NOT_BRACKET_OR_QUOTE = bytes(b for b in range(256) if b not in b'[]{}"\\')
_DEPTH_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


def json_depth(raw: bytes) -> int:
    """The deepest nesting of arrays and objects in ``raw`` (brackets inside strings do not
    count), in C-speed passes: a 1,000-read batch costs a fraction of a millisecond."""
    shape = raw.translate(None, _NOT_BRACKET_OR_QUOTE)
    if b"\\" in shape:
        # An escaped quote may sit inside a string: strip whole strings from the body itself.
        brackets = _JSON_STRING.sub(b"", raw).translate(None, _NOT_BRACKET)
    else:
        # No escapes: quotes pair up, so strings are what lies between successive quotes.
        brackets = b"".join(shape.split(b'"')[::2])
    return max(accumulate(map(_DEPTH_STEP.__getitem__, brackets)), default=0)


def json_body() -> object:
    if not request.is_json:
        raise ValidationError({"body": "must be JSON (Content-Type: application/json)"})
    if json_depth(request.get_data(cache=True)) > MAX_JSON_DEPTH:
        raise ValidationError({"body": f"must not nest deeper than {MAX_JSON_DEPTH} levels"})
    body = request.get_json(silent=True)
    if body is None:
        raise ValidationError({"body": "is not valid JSON"})
    return body


def raise_if_refused(decision: Decision, **record_ids: str) -> None:
    """A refusal (already recorded and committed) becomes the error response with its code."""
    if decision.allowed:
        return
    assert decision.reason is not None
    raise Refused(
        decision.reason.value,
        decision.reason.status,
        decision.message,
        **record_ids,
        rule=decision.rule,
        matched=list(decision.matched),
    )


def error_body(
    code: str, message: str, status: int, details: dict[str, object] | None = None
) -> tuple[Response, int]:
    error: dict[str, object] = {
        "code": code,
        "message": message,
        "request_id": g.get("request_id", "-"),
    }
    if details:
        error["details"] = details
    return jsonify({"error": error}), status
