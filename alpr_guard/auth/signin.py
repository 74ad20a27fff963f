"""A sign-in from start to finish: the provider's answer, the lock checks, the account the
claims map to (created on first sign-in, brought in line with the provider at every later
one), the new session, and a record of every outcome in the audit chain."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from alpr_guard.audit import Actor
from alpr_guard.auth import lockout
from alpr_guard.auth.client import Client
from alpr_guard.auth.oidc import (
    Identity,
    OidcClient,
    SignInRefused,
    identity,
    subject_hash,
    take_login,
)
from alpr_guard.auth.reasons import AuthReason
from alpr_guard.auth.sessions import StartedSession, start_session
from alpr_guard.errors import Refused
from alpr_guard.models import Agency, ApiToken, User, WebSession
from alpr_guard.policy.decisions import ReasonCode
from alpr_guard.runtime import Runtime
from alpr_guard.services.principals import Principal, check_account
from alpr_guard.vocabulary import AuditKind


@dataclass(frozen=True)
class SignedIn:
    principal: Principal
    display_name: str | None
    session: StartedSession


def refuse_if_locked(db: Session, rt: Runtime, client: Client, username: str | None) -> None:
    """A locked source or username is refused before anything is checked; recorded."""
    kind = lockout.locked(db, client.source, username)
    if kind is None:
        return
    lockout.record_locked_attempt(db, rt, client, kind=kind, username=username)
    reason = AuthReason.LOCKED_SOURCE if kind == lockout.SOURCE else AuthReason.LOCKED_ACCOUNT
    raise SignInRefused(
        reason,
        f"too many failed attempts: this {'address' if kind == lockout.SOURCE else 'account'} "
        "is locked until an administrator unlocks it",
        username,
    )


def counted_as(db: Session, subject: str, claimed: str | None) -> str | None:
    """The username a sign-in's lock and failures count against: the account the provider's
    subject holds here, whatever username the provider now claims (a renamed account stays
    locked); with no account, the claimed name unless another account holds it (a person who
    claims someone else's name must not lock them out). None: the source alone counts."""
    held = db.scalar(select(User.username).where(User.subject_hash == subject))
    if held is not None or claimed is None:
        return held
    taken = db.scalar(select(User.id).where(User.username == claimed))
    return None if taken is not None else claimed


def provision(db: Session, rt: Runtime, ident: Identity) -> tuple[Principal, str | None]:
    """The account for this identity: found by the provider's subject, created at the first
    sign-in, its role and agency set from the provider's claims. Every check runs before
    anything is written, so a refused sign-in changes no account."""
    agency = db.scalar(select(Agency).where(Agency.ori == ident.agency_ori))
    if agency is None:
        raise SignInRefused(
            ReasonCode.UNKNOWN_AGENCY,
            f"agency {ident.agency_ori} is not in the registry",
            ident.username,
        )
    try:
        check_account(rt, agency, ident.role)
    except Refused as exc:
        raise SignInRefused(exc.code, exc.message, ident.username) from None
    now = rt.clock.now()
    user = db.scalar(select(User).where(User.subject_hash == ident.subject_hash))
    actor = Actor(ident.username, agency.ori)
    if user is None:
        taken = db.scalar(select(User.id).where(User.username == ident.username))
        if taken is not None:
            # The provider's username claim is not an identity: a person renamed at the
            # provider must not inherit an account that someone else (or the CLI) holds.
            raise SignInRefused(
                AuthReason.ACCOUNT_CONFLICT,
                f"the username {ident.username} belongs to another account",
                ident.username,
            )
        user = User(
            username=ident.username,
            agency_id=agency.id,
            role=ident.role,
            created_at=now,
            subject_hash=ident.subject_hash,
        )
        db.add(user)
        db.flush()
        rt.audit.append(
            db,
            AuditKind.USER_CREATED,
            actor,
            subject=f"user:{ident.username}",
            details={
                "username": ident.username,
                "role": ident.role,
                "agency": agency.ori,
                "via": "identity provider",
            },
        )
    else:
        if user.disabled_at is not None:
            raise SignInRefused(
                AuthReason.ACCOUNT_DISABLED,
                f"the account {user.username} is disabled",
                user.username,
            )
        old_ori = db.scalar(select(Agency.ori).where(Agency.id == user.agency_id))
        if user.role != ident.role or user.agency_id != agency.id:
            rt.audit.append(
                db,
                AuditKind.USER_UPDATED,
                Actor(user.username, agency.ori),
                subject=f"user:{user.username}",
                details={
                    "username": user.username,
                    "role": {"from": user.role, "to": ident.role},
                    "agency": {"from": old_ori, "to": agency.ori},
                    "via": "identity provider",
                },
            )
            user.role = ident.role
            user.agency_id = agency.id
    user.display_name = ident.display_name
    user.last_login_at = now
    db.flush()
    who = Principal(
        user_id=user.id,
        username=user.username,
        role=user.role,
        agency_id=agency.id,
        agency_ori=agency.ori,
        credential="session",
    )
    return who, user.display_name


# Refusals that say the provider (or the registry) no longer grants this person access here,
# as opposed to a sign-in that went wrong (no second factor, a stale state).
_WITHDRAWN = frozenset(
    {AuthReason.NO_ROLE.value, AuthReason.AMBIGUOUS_ROLE.value, AuthReason.NO_AGENCY.value}
    | {code.value for code in ReasonCode}
)


def _withdraw_if_revoked(db: Session, rt: Runtime, subject: str, exc: SignInRefused) -> None:
    """Removed from every ALPR group at the provider, or moved to an agency that may not hold
    the data: the account's live tokens (personal or hand-issued) and sessions end now, rather
    than at their own limits. The account itself stays, to be restored by a later sign-in."""
    if exc.reason not in _WITHDRAWN:
        return
    user = db.scalar(select(User).where(User.subject_hash == subject))
    if user is None or user.disabled_at is not None:
        return
    now = rt.clock.now()
    tokens = db.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now)
    ).rowcount  # type: ignore[attr-defined]
    sessions = db.execute(
        update(WebSession)
        .where(WebSession.user_id == user.id, WebSession.ended_at.is_(None))
        .values(ended_at=now, end_reason="withdrawn")
    ).rowcount  # type: ignore[attr-defined]
    rt.audit.append(
        db,
        AuditKind.USER_ACCESS_WITHDRAWN,
        Actor(user.username, None),
        subject=f"user:{user.username}",
        details={
            "username": user.username,
            "reason_code": exc.reason,
            "tokens_revoked": int(tokens or 0),
            "sessions_ended": int(sessions or 0),
        },
    )


def complete(
    db: Session,
    rt: Runtime,
    oidc: OidcClient,
    client: Client,
    *,
    state: str,
    code: str | None,
    error: str | None,
    browser: str | None,
    replaces: str | None,
) -> SignedIn:
    """Finish a sign-in in the caller's transaction. A refusal raises SignInRefused after the
    failure (or the locked attempt) is recorded; the caller commits in both cases."""
    try:
        refuse_if_locked(db, rt, client, None)
        login = take_login(db, rt, state, browser)
        if error is not None or not code:
            raise SignInRefused(
                AuthReason.PROVIDER_REFUSED, "the identity provider did not sign you in"
            )
        settings = rt.settings.auth.oidc
        assert settings is not None
        claims = oidc.exchange(code, login.code_verifier, login.nonce)
        subject = subject_hash(settings, claims)
        try:
            ident = identity(settings, claims, rt.settings.instance.operating_agency)
        except SignInRefused as exc:
            exc.username = counted_as(db, subject, exc.username)
            refuse_if_locked(db, rt, client, exc.username)
            _withdraw_if_revoked(db, rt, subject, exc)
            raise
        counted = counted_as(db, subject, ident.username)
        refuse_if_locked(db, rt, client, counted)
        try:
            who, name = provision(db, rt, ident)
        except SignInRefused as exc:
            exc.username = counted
            _withdraw_if_revoked(db, rt, ident.subject_hash, exc)
            raise
    except SignInRefused as exc:
        if exc.reason not in (AuthReason.LOCKED_SOURCE, AuthReason.LOCKED_ACCOUNT):
            lockout.record_failure(db, rt, client, reason=str(exc.reason), username=exc.username)
        raise
    started = start_session(db, rt, who, client, replaces=replaces)
    rt.audit.append(
        db,
        AuditKind.SIGNIN,
        who.actor,
        subject=f"user:{who.username}",
        details={
            "username": who.username,
            "role": who.role,
            "agency": who.agency_ori,
            "amr": list(ident.amr),
            "acr": ident.acr,
            **client.details(),
        },
    )
    return SignedIn(who, name, started)
