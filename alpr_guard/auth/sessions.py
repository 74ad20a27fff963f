"""Server-side web sessions (CJIS AC-11, IA-5): an opaque id in a cookie, a SHA-256 of it in
the database, an idle limit and an absolute limit, and a CSRF token derived from the id.

The id is 256 random bits; only its hash is stored, so reading the table does not let anyone
take a session over. Signing in always starts a new session (the id is rotated) and ends the
one the browser held. The CSRF token is an HMAC of a fixed label under the session id: only
a page that can read the session's own responses can know it, and it dies with the session.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from alpr_guard.audit import Actor
from alpr_guard.auth.client import Client
from alpr_guard.models import Agency, User, WebSession
from alpr_guard.runtime import Runtime
from alpr_guard.services.principals import Principal
from alpr_guard.vocabulary import AuditKind

# The __Host- prefix makes browsers refuse the cookie unless it is Secure, for the whole site
# and set by this host itself: a sibling subdomain cannot plant or overwrite it.
SESSION_COOKIE = "__Host-alprg_session"
MAX_ID_CHARS = 100
# last_seen_at is written at most this often: the idle limit then starts up to this much
# earlier than the last request, never later, and a burst of requests costs one write.
TOUCH_EVERY = timedelta(seconds=60)
_CSRF_LABEL = b"alpr_guard csrf token v1"


@dataclass(frozen=True)
class StartedSession:
    session_id: str  # goes only into the cookie
    csrf_token: str
    expires_at: datetime

    def __repr__(self) -> str:
        return f"StartedSession(expires_at={self.expires_at.isoformat()})"


@dataclass(frozen=True)
class SessionCheck:
    """What a presented session id is worth: a principal, or why not (``expired`` names the
    limit that ended it now; None with no principal: unknown or already ended)."""

    principal: Principal | None
    row_id: int | None
    expired: str | None
    touch: bool
    # No session ever had this id: a forged or guessed cookie, counted as a failed attempt.
    # (A cookie outlives its session by at most its max-age, 12 hours, and ended sessions are
    # kept a day, so a browser's own stale cookie is never unknown.)
    unknown: bool = False


def hash_id(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def csrf_token(session_id: str) -> str:
    return hmac.new(session_id.encode(), _CSRF_LABEL, hashlib.sha256).hexdigest()


def csrf_ok(session_id: str, presented: str | None) -> bool:
    return bool(presented) and hmac.compare_digest(csrf_token(session_id), presented or "")


def start_session(
    db: Session, rt: Runtime, who: Principal, client: Client, *, replaces: str | None
) -> StartedSession:
    """A new session for ``who``; the one the browser presented (if any) ends now."""
    now = rt.clock.now()
    if replaces:
        db.execute(
            update(WebSession)
            .where(WebSession.id_hash == hash_id(replaces), WebSession.ended_at.is_(None))
            .values(ended_at=now, end_reason="rotated")
        )
    session_id = secrets.token_urlsafe(32)
    expires = now + timedelta(hours=rt.settings.auth.session_absolute_hours)
    db.add(
        WebSession(
            id_hash=hash_id(session_id),
            user_id=who.user_id,
            created_at=now,
            last_seen_at=now,
            expires_at=expires,
            source=client.source,
        )
    )
    db.flush()
    return StartedSession(session_id, csrf_token(session_id), expires)


def check_session(db: Session, rt: Runtime, session_id: str | None) -> SessionCheck:
    """Read-only: resolve a session id to its user, applying the idle and absolute limits."""
    none = SessionCheck(None, None, None, touch=False)
    if not session_id or len(session_id) > MAX_ID_CHARS:
        return SessionCheck(None, None, None, touch=False, unknown=True)
    row = db.execute(
        select(
            WebSession.id,
            WebSession.last_seen_at,
            WebSession.expires_at,
            WebSession.ended_at,
            User.id.label("user_id"),
            User.username,
            User.role,
            User.disabled_at,
            Agency.id.label("agency_id"),
            Agency.ori,
        )
        .join(User, User.id == WebSession.user_id)
        .join(Agency, Agency.id == User.agency_id)
        .where(WebSession.id_hash == hash_id(session_id))
    ).first()
    if row is None:
        return SessionCheck(None, None, None, touch=False, unknown=True)
    if row.ended_at is not None:
        return none
    now = rt.clock.now()
    idle = timedelta(minutes=rt.settings.auth.session_idle_minutes)
    if row.disabled_at is not None:
        return SessionCheck(None, row.id, "disabled", touch=False)
    if now >= row.expires_at:
        return SessionCheck(None, row.id, "absolute", touch=False)
    if now >= row.last_seen_at + idle:
        return SessionCheck(None, row.id, "idle", touch=False)
    who = Principal(
        user_id=row.user_id,
        username=row.username,
        role=row.role,
        agency_id=row.agency_id,
        agency_ori=row.ori,
        credential="session",
    )
    return SessionCheck(who, row.id, None, touch=now - row.last_seen_at >= TOUCH_EVERY)


def settle(db: Session, rt: Runtime, check: SessionCheck, client: Client) -> None:
    """The writes a check calls for: end an expired session (recorded), or note activity."""
    if check.row_id is None:
        return
    now = rt.clock.now()
    if check.expired is not None:
        ended = db.execute(
            update(WebSession)
            .where(WebSession.id == check.row_id, WebSession.ended_at.is_(None))
            .values(ended_at=now, end_reason=check.expired)
            .returning(WebSession.user_id)
        ).first()
        if ended is not None:
            user = db.get_one(User, ended[0])
            rt.audit.append(
                db,
                AuditKind.SESSION_EXPIRED,
                Actor(user.username, None),
                subject=f"user:{user.username}",
                details={"limit": check.expired, **client.details()},
            )
    elif check.touch:
        db.execute(update(WebSession).where(WebSession.id == check.row_id).values(last_seen_at=now))


def end_session(db: Session, rt: Runtime, session_id: str | None, client: Client) -> bool:
    """Sign out: the session ends now, whatever its limits; recorded. False if none was live."""
    if not session_id or len(session_id) > MAX_ID_CHARS:
        return False
    now = rt.clock.now()
    ended = db.execute(
        update(WebSession)
        .where(WebSession.id_hash == hash_id(session_id), WebSession.ended_at.is_(None))
        .values(ended_at=now, end_reason="logout")
        .returning(WebSession.user_id)
    ).first()
    if ended is None:
        return False
    row = db.execute(
        select(User.username, Agency.ori)
        .join(Agency, Agency.id == User.agency_id)
        .where(User.id == ended[0])
    ).one()
    rt.audit.append(
        db,
        AuditKind.SIGNOUT,
        Actor(row.username, row.ori),
        subject=f"user:{row.username}",
        details=client.details(),
    )
    return True


def prune_sessions(db: Session, rt: Runtime) -> int:
    """Sessions ended or past their absolute limit a day ago: nothing can use them, and their
    beginning and end are in the audit chain."""
    cutoff = rt.clock.now() - timedelta(days=1)
    result = db.execute(
        delete(WebSession).where(or_(WebSession.ended_at < cutoff, WebSession.expires_at < cutoff))
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
