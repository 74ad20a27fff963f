"""Per-request plumbing for views: the runtime, the session, the caller, the JSON body."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

from flask import current_app, g, request
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from alpr_guard.errors import AuditUnavailable, Forbidden, Refused, ValidationError
from alpr_guard.policy.decisions import Decision
from alpr_guard.runtime import Runtime
from alpr_guard.services.principals import Principal, authenticate

EXTENSION_KEY = "alpr_guard"
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


def require(*roles: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Authenticate the bearer token (401) and check the role (403)."""

    def decorator(view: Callable[P, R]) -> Callable[P, R]:
        @wraps(view)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            header = request.headers.get("Authorization", "")
            token = header[7:].strip() if header[:7].lower() == "bearer " else None
            who = authenticate(session(), runtime(), token)
            if who.role not in roles:
                raise Forbidden(f"role {who.role} may not do this")
            g.principal = who
            return view(*args, **kwargs)

        return wrapper

    return decorator


def json_body() -> object:
    if not request.is_json:
        raise ValidationError({"body": "must be JSON (Content-Type: application/json)"})
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
