"""Users, roles and bearer tokens.

Roles follow least privilege: ``ingest`` service accounts only write reads; ``officer`` and
``supervisor`` search (supervisors also manage holds and shares); ``auditor`` reads the record;
``admin`` manages users. Admins do not search: running the system is not a law-enforcement
purpose. Tokens of human roles expire (``auth.human_token_hours``, CJIS session limits); only
``ingest`` service accounts get long-lived tokens. Tokens are shown once and stored hashed.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, bindparam, select, update
from sqlalchemy.orm import Session

from alpr_guard.audit import Actor
from alpr_guard.db import DriverSelect, from_driver_utc
from alpr_guard.errors import Conflict, NotFound, Refused, Unauthorized, ValidationError
from alpr_guard.models import Agency, ApiToken, User, WebSession
from alpr_guard.policy.access import Exposure, decide_access, decide_account
from alpr_guard.policy.decisions import Decision
from alpr_guard.services.agencies import facts
from alpr_guard.services.deps import Deps
from alpr_guard.vocabulary import AuditKind

ROLES = ("ingest", "officer", "supervisor", "auditor", "admin")
SEARCH_ROLES = frozenset({"officer", "supervisor"})
TOKEN_PREFIX = "alprg_"  # noqa: S105 - a public prefix that makes leaked tokens greppable
USERNAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789._-")

SYSTEM = Actor("system", None)


@dataclass(frozen=True)
class Principal:
    user_id: int
    username: str
    role: str
    agency_id: int
    agency_ori: str
    # How the caller proved who they are: "token" (issued by an admin), "personal_token"
    # (minted from a signed-in session) or "session" (a signed-in browser).
    credential: str = "token"

    @property
    def actor(self) -> Actor:
        return Actor(self.username, self.agency_ori)


@dataclass(frozen=True)
class IssuedToken:
    username: str
    role: str
    agency_ori: str
    token: str
    expires_at: datetime | None

    def __repr__(self) -> str:
        return f"IssuedToken({self.username!r}, role={self.role!r})"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# Every request with a bearer token looks it up: one prepared lookup by the token's hash (a
# unique index), its values as the driver returns them.
_BY_TOKEN = DriverSelect(
    select(
        ApiToken.expires_at,
        ApiToken.revoked_at,
        ApiToken.minted_by,
        User.id,
        User.username,
        User.role,
        User.disabled_at,
        Agency.id,
        Agency.ori,
    )
    .join(User, User.id == ApiToken.user_id)
    .join(Agency, Agency.id == User.agency_id)
    .where(ApiToken.token_hash == bindparam("token_hash"))
)


def authenticate(session: Session, rt: Deps, token: str | None) -> Principal:
    """Resolve a bearer token; any failure is the same 401 so tokens cannot be probed."""
    if not token or not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        raise Unauthorized("a valid bearer token is required")
    rows = _BY_TOKEN.rows(session, {"token_hash": hash_token(token)})
    if not rows:
        raise Unauthorized("a valid bearer token is required")
    (
        expires_at,
        revoked_at,
        minted_by,
        user_id,
        username,
        role,
        disabled_at,
        agency_id,
        agency_ori,
    ) = rows[0]
    if (
        revoked_at is not None
        or disabled_at is not None
        or (expires_at is not None and from_driver_utc(expires_at) <= rt.clock.now())
    ):
        raise Unauthorized("a valid bearer token is required")
    return Principal(
        user_id=user_id,
        username=username,
        role=role,
        agency_id=agency_id,
        agency_ori=agency_ori,
        credential="token" if minted_by is None else "personal_token",
    )


def decide_request(
    session: Session, rt: Deps, principal: Principal, exposure: Exposure
) -> tuple[Decision, bool]:
    """May ``principal`` use a route exposing ``exposure``, by its agency as the registry stands
    now? Returns the decision and whether the caller belongs to the operating agency."""
    operating = principal.agency_ori == rt.settings.instance.operating_agency
    # The operating agency's own users need no registry lookup (decide_access allows them
    # before reading it): one query fewer on every ingest and search.
    agency = None if operating else session.get(Agency, principal.agency_id)
    decision = decide_access(
        facts(agency) if agency is not None else None,
        ori=principal.agency_ori,
        role=principal.role,
        operating=operating,
        exposure=exposure,
        rules=rt.settings.sharing,
        home_state=rt.settings.jurisdiction.home_state,
        now=rt.clock.now(),
    )
    return decision, operating


def check_account(rt: Deps, agency: Agency, role: str) -> None:
    """Refuse an account (new, or a new token) that no route would let act: any role outside
    the operating agency other than a partner's, or any role in an agency that may not
    receive plate data."""
    decision = decide_account(
        facts(agency),
        ori=agency.ori,
        role=role,
        operating=agency.ori == rt.settings.instance.operating_agency,
        rules=rt.settings.sharing,
        home_state=rt.settings.jurisdiction.home_state,
        now=rt.clock.now(),
    )
    if not decision.allowed:
        assert decision.reason is not None
        raise Refused(
            decision.reason.value,
            decision.reason.status,
            f"no {role} account for agency {agency.ori}: {decision.message}",
        )


def _validate_username(username: str) -> str:
    name = username.strip().lower()
    if not 2 <= len(name) <= 64 or not set(name) <= USERNAME_CHARS:
        raise ValidationError({"username": "must be 2-64 characters: a-z, 0-9, '.', '_', '-'"})
    return name


def _issue(session: Session, rt: Deps, user: User, agency_ori: str, actor: Actor) -> IssuedToken:
    now = rt.clock.now()
    expires = (
        None if user.role == "ingest" else now + timedelta(hours=rt.settings.auth.human_token_hours)
    )
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(
        ApiToken(user_id=user.id, token_hash=hash_token(token), created_at=now, expires_at=expires)
    )
    session.flush()
    rt.audit.append(
        session,
        AuditKind.TOKEN_ISSUED,
        actor,
        subject=f"user:{user.username}",
        details={
            "username": user.username,
            "role": user.role,
            "expires_at": expires.isoformat() if expires else None,
        },
    )
    return IssuedToken(user.username, user.role, agency_ori, token, expires)


def add_user(
    session: Session,
    rt: Deps,
    *,
    username: str,
    role: str,
    agency_ori: str,
    actor: Actor = SYSTEM,
) -> IssuedToken:
    if role not in ROLES:
        raise ValidationError({"role": f"must be one of {', '.join(ROLES)}"})
    name = _validate_username(username)
    agency = session.scalar(select(Agency).where(Agency.ori == agency_ori))
    if agency is None:
        raise NotFound(f"agency {agency_ori} is not in the registry")
    check_account(rt, agency, role)
    if session.scalar(select(User.id).where(User.username == name)) is not None:
        raise Conflict(f"user {name} already exists")
    user = User(username=name, agency_id=agency.id, role=role, created_at=rt.clock.now())
    session.add(user)
    session.flush()
    rt.audit.append(
        session,
        AuditKind.USER_CREATED,
        actor,
        subject=f"user:{name}",
        details={"username": name, "role": role, "agency": agency.ori},
    )
    return _issue(session, rt, user, agency.ori, actor)


def _user(session: Session, username: str) -> tuple[User, str]:
    row = session.execute(
        select(User, Agency.ori)
        .join(Agency, Agency.id == User.agency_id)
        .where(User.username == username.strip().lower())
    ).first()
    if row is None:
        raise NotFound(f"user {username} does not exist")
    return row[0], row[1]


def issue_token(session: Session, rt: Deps, *, username: str, actor: Actor = SYSTEM) -> IssuedToken:
    user, ori = _user(session, username)
    if user.disabled_at is not None:
        raise Conflict(f"user {user.username} is disabled")
    check_account(rt, session.get_one(Agency, user.agency_id), user.role)
    return _issue(session, rt, user, ori, actor)


def revoke_tokens(
    session: Session, rt: Deps, *, username: str, disable: bool = False, actor: Actor = SYSTEM
) -> int:
    """Revoke every live token of a user (and optionally disable the account)."""
    user, _ori = _user(session, username)
    now = rt.clock.now()
    result = cast(
        "CursorResult[Any]",
        session.execute(
            update(ApiToken)
            .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
            .values(revoked_at=now)
        ),
    )
    count = result.rowcount
    if disable:
        user.disabled_at = now
        # A disabled account's signed-in browsers end at once, not at their next limit.
        session.execute(
            update(WebSession)
            .where(WebSession.user_id == user.id, WebSession.ended_at.is_(None))
            .values(ended_at=now, end_reason="disabled")
        )
    session.flush()
    rt.audit.append(
        session,
        AuditKind.TOKEN_REVOKED,
        actor,
        subject=f"user:{user.username}",
        details={"username": user.username, "tokens": count, "disabled": disable},
    )
    return int(count or 0)


def mint_personal_token(session: Session, rt: Deps, who: Principal) -> IssuedToken:
    """A short-lived token a signed-in person mints for a script: it carries their account and
    role, expires after ``auth.personal_token_minutes``, and records who minted it."""
    user = session.get_one(User, who.user_id)
    if user.disabled_at is not None:
        raise Conflict(f"user {user.username} is disabled")
    now = rt.clock.now()
    expires = now + timedelta(minutes=rt.settings.auth.personal_token_minutes)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(
        ApiToken(
            user_id=user.id,
            token_hash=hash_token(token),
            created_at=now,
            expires_at=expires,
            minted_by=user.username,
        )
    )
    session.flush()
    rt.audit.append(
        session,
        AuditKind.TOKEN_MINTED,
        who.actor,
        subject=f"user:{user.username}",
        details={
            "username": user.username,
            "role": user.role,
            "minted_by": user.username,
            "expires_at": expires.isoformat(),
        },
    )
    return IssuedToken(user.username, user.role, who.agency_ori, token, expires)


def disable_dormant(session: Session, rt: Deps, *, actor: Actor = SYSTEM) -> list[str]:
    """Disable every person's account with no sign-in for ``auth.dormant_days`` (counted from
    its creation when it never signed in): its tokens are revoked and its sessions end.
    Service accounts (``ingest``) are not people and are left alone."""
    cutoff = rt.clock.now() - timedelta(days=rt.settings.auth.dormant_days)
    rows = session.execute(
        select(User.username, User.last_login_at, User.created_at)
        .where(User.role != "ingest", User.disabled_at.is_(None))
        .order_by(User.username)
    ).all()
    disabled = []
    for username, last_login, created in rows:
        last = last_login if last_login is not None else created
        if last >= cutoff:
            continue
        revoke_tokens(session, rt, username=username, disable=True, actor=actor)
        rt.audit.append(
            session,
            AuditKind.USER_DISABLED_DORMANT,
            actor,
            subject=f"user:{username}",
            details={
                "username": username,
                "last_sign_in": last_login.isoformat() if last_login else None,
                "dormant_days": rt.settings.auth.dormant_days,
            },
        )
        disabled.append(username)
    return disabled


@dataclass(frozen=True)
class UserView:
    username: str
    role: str
    agency_ori: str
    created_at: datetime
    disabled: bool


def list_users(session: Session) -> list[UserView]:
    rows = session.execute(
        select(User, Agency.ori).join(Agency, Agency.id == User.agency_id).order_by(User.username)
    ).all()
    return [
        UserView(u.username, u.role, ori, u.created_at, u.disabled_at is not None)
        for u, ori in rows
    ]
