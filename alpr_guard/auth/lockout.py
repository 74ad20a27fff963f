"""Lockout after repeated failures (CJIS AC-7): ``auth.lockout_failures`` (at most 5) failed
authentications within ``auth.lockout_window_minutes`` (at least 15) from one source address,
or for one username, lock that source or username until an admin unlocks it
(``alpr-guard users unlock``). Counting lives in the database, so every worker and every
server sees the same count. Failures before an unlock do not count towards the next lock.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import and_, bindparam, delete, func, or_, select, update
from sqlalchemy.orm import Session

from alpr_guard.audit import Actor
from alpr_guard.auth.client import Client
from alpr_guard.errors import NotFound, ValidationError
from alpr_guard.models import AuthFailure, AuthLockout
from alpr_guard.runtime import Runtime
from alpr_guard.vocabulary import AuditKind

SOURCE = "source"
USERNAME = "username"
KINDS = (SOURCE, USERNAME)
ANONYMOUS = Actor("anonymous", None)


# Built once: every authenticated request asks this, so no statement is built per request.
# A missing source or username binds NULL, which equals nothing.
_LOCKED = (
    select(AuthLockout.kind)
    .where(
        AuthLockout.unlocked_at.is_(None),
        or_(
            and_(AuthLockout.kind == SOURCE, AuthLockout.key == bindparam("source")),
            and_(AuthLockout.kind == USERNAME, AuthLockout.key == bindparam("username")),
        ),
    )
    .order_by(AuthLockout.kind)  # "source" before "username"
    .limit(1)
)


def locked(db: Session, source: str | None, username: str | None) -> str | None:
    """Which of the two is locked now (``source`` first), or None."""
    if not source and not username:
        return None
    # Core on the session's connection: no ORM result machinery on the hot path.
    kind: str | None = (
        db.connection()
        .execute(_LOCKED, {"source": source or None, "username": username or None})
        .scalar()
    )
    return kind


def record_failure(
    db: Session, rt: Runtime, client: Client, *, reason: str, username: str | None = None
) -> str | None:
    """Record one failed authentication (counted and audited) and lock what reached the limit.
    Returns the kind that is locked now, if any."""
    now = rt.clock.now()
    settings = rt.settings.auth
    window_start = now - timedelta(minutes=settings.lockout_window_minutes)
    keys = [(k, v) for k, v in ((SOURCE, client.source), (USERNAME, username)) if v]
    for kind, key in keys:
        db.add(AuthFailure(kind=kind, key=key, occurred_at=now))
    db.flush()
    actor = Actor(username, None) if username else ANONYMOUS
    rt.audit.append(
        db,
        AuditKind.AUTH_FAILED,
        actor,
        subject=f"user:{username}" if username else None,
        details={"reason_code": reason, "username": username, **client.details()},
    )
    newly: str | None = None
    for kind, key in keys:
        last_unlock = db.scalar(
            select(func.max(AuthLockout.unlocked_at)).where(
                AuthLockout.kind == kind, AuthLockout.key == key
            )
        )
        since = max(window_start, last_unlock) if last_unlock is not None else window_start
        count = db.scalar(
            select(func.count()).where(
                AuthFailure.kind == kind, AuthFailure.key == key, AuthFailure.occurred_at > since
            )
        )
        if (count or 0) >= settings.lockout_failures and locked(
            db, key if kind == SOURCE else None, key if kind == USERNAME else None
        ) != kind:
            db.add(AuthLockout(kind=kind, key=key, locked_at=now))
            db.flush()
            rt.audit.append(
                db,
                AuditKind.AUTH_LOCKED,
                actor,
                subject=f"user:{key}" if kind == USERNAME else None,
                details={
                    "locked": kind,
                    "key": key,
                    "failures": count,
                    "window_minutes": settings.lockout_window_minutes,
                    **client.details(),
                },
            )
        if newly is None and locked(
            db, key if kind == SOURCE else None, key if kind == USERNAME else None
        ):
            newly = kind
    return newly


def record_locked_attempt(
    db: Session, rt: Runtime, client: Client, *, kind: str, username: str | None
) -> None:
    """An attempt while locked: refused without being checked, and recorded."""
    rt.audit.append(
        db,
        AuditKind.AUTH_REFUSED_LOCKED,
        Actor(username, None) if username else ANONYMOUS,
        subject=f"user:{username}" if username else None,
        details={"locked": kind, "username": username, **client.details()},
    )


def unlock(db: Session, rt: Runtime, *, kind: str, key: str, actor: Actor) -> int:
    """An admin lifts a lock; recorded with who did it. NotFound if nothing is locked."""
    if kind not in KINDS:
        raise ValidationError({"kind": f"must be one of {', '.join(KINDS)}"})
    key = key.strip().lower() if kind == USERNAME else key.strip()
    now = rt.clock.now()
    lifted = db.execute(
        update(AuthLockout)
        .where(AuthLockout.kind == kind, AuthLockout.key == key, AuthLockout.unlocked_at.is_(None))
        .values(unlocked_at=now, unlocked_by=actor.name)
    ).rowcount  # type: ignore[attr-defined]
    if not lifted:
        raise NotFound(f"no {kind} lock is in force for {key}")
    rt.audit.append(
        db,
        AuditKind.AUTH_UNLOCKED,
        actor,
        subject=f"user:{key}" if kind == USERNAME else None,
        details={"unlocked": kind, "key": key},
    )
    return int(lifted)


def list_locks(db: Session) -> list[AuthLockout]:
    return list(
        db.scalars(
            select(AuthLockout)
            .where(AuthLockout.unlocked_at.is_(None))
            .order_by(AuthLockout.locked_at)
        ).all()
    )


def prune_failures(db: Session, rt: Runtime) -> int:
    """Failures older than the lockout window can no longer lock anything: remove them (each
    is in the audit chain as its own event)."""
    cutoff = rt.clock.now() - timedelta(minutes=rt.settings.auth.lockout_window_minutes)
    result = db.execute(delete(AuthFailure).where(AuthFailure.occurred_at < cutoff))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
