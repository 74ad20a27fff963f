"""Per-camera ingest credentials: who may post reads, for which cameras, for which agency.

A credential belongs to one camera or one agent (which may serve several cameras) and names
the camera ids it may post reads for and the agency that operates them. A credential cannot
post a read for any other camera: the whole request is refused (``camera_not_bound``) and the
refusal is recorded. The secret is shown once; the database keeps its SHA-256 (the secret is
256 random bits, so a fast hash is the right tool and a lookup is one indexed equality) and,
for a credential that signs its bodies with HMAC, the secret sealed under the audit sealing key
(the server must recompute the signature). Rotation issues a new secret while the previous
one stays live, so an agent is re-configured without a gap; ``--finish`` retires the old one.

Authentication only reads: on SQLite it runs in a plain (non-locking) transaction, so a busy
writer never makes a camera's request wait to be authenticated.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeGuard

from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from alpr_guard.audit import Actor
from alpr_guard.db import DriverSelect, OneOf
from alpr_guard.errors import Conflict, NotFound, Refused, Unauthorized, ValidationError
from alpr_guard.models import Agency, Camera
from alpr_guard.policy.cameras import CAMERA_ID_RULE, CAMERA_RE
from alpr_guard.services.deps import Deps
from alpr_guard.services.principals import SYSTEM, Principal
from alpr_guard.vocabulary import AuditKind

CREDENTIAL_PREFIX = "alprc_"  # a public prefix that makes leaked credentials greppable
NAME_RE = re.compile(r"[a-z0-9][a-z0-9._-]{1,47}")
AUTH_MODES = ("token", "hmac")
MAX_CAMERA_IDS = 256
NOT_BOUND = "camera_not_bound"  # reason code: a read for a camera the credential does not name
_SEAL_AAD = b"alpr_guard/camera-secret/v1"


@dataclass(frozen=True)
class CameraPrincipal:
    """An authenticated camera credential."""

    camera_pk: int
    name: str
    agency_id: int
    agency_ori: str
    camera_ids: frozenset[str]
    # The SHA-256 (hex) of the secret the request presented (for a signed request, of the
    # secret whose signature matched): the group commit checks in its write transaction that
    # it is still one of the credential's live secrets (``live_credentials``).
    credential: str = field(repr=False, compare=False)

    @property
    def principal(self) -> Principal:
        """The ingest identity its reads are recorded under (user id 0: not a user)."""
        return Principal(
            user_id=0,
            username=f"camera:{self.name}",
            role="ingest",
            agency_id=self.agency_id,
            agency_ori=self.agency_ori,
        )


@dataclass(frozen=True)
class IssuedCredential:
    name: str
    auth: str
    secret: str

    def __repr__(self) -> str:
        return f"IssuedCredential({self.name!r}, auth={self.auth!r})"


@dataclass(frozen=True)
class CameraView:
    name: str
    agency_ori: str
    camera_ids: tuple[str, ...]
    auth: str
    created_at: datetime
    rotated_at: datetime | None
    rotation_pending: bool  # two live secrets
    disabled: bool
    last_seen_at: datetime | None

    def as_json(self) -> dict[str, object]:
        def iso(value: datetime | None) -> str | None:
            return value.isoformat() if value is not None else None

        return {
            "name": self.name,
            "agency": self.agency_ori,
            "camera_ids": list(self.camera_ids),
            "auth": self.auth,
            "created_at": iso(self.created_at),
            "rotated_at": iso(self.rotated_at),
            "rotation_pending": self.rotation_pending,
            "disabled": self.disabled,
            "last_seen_at": iso(self.last_seen_at),
        }


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _new_secret() -> str:
    return CREDENTIAL_PREFIX + secrets.token_urlsafe(32)


def _seal(rt: Deps, name: str, secret: str) -> bytes:
    return rt.keyring.seal(secret.encode(), _SEAL_AAD + b"|" + name.encode())


def _unseal(rt: Deps, name: str, sealed: bytes) -> bytes:
    return rt.keyring.unseal(sealed, _SEAL_AAD + b"|" + name.encode())


def _check_name(name: str) -> str:
    clean = name.strip().lower()
    if not NAME_RE.fullmatch(clean):
        raise ValidationError({"name": "must be 2-48 characters: a-z, 0-9, '.', '_', '-'"})
    return clean


def _check_camera_ids(camera_ids: Iterable[str]) -> list[str]:
    clean = sorted({c.strip() for c in camera_ids})
    if not clean:
        raise ValidationError({"camera_ids": "name at least one camera id"})
    if len(clean) > MAX_CAMERA_IDS:
        raise ValidationError({"camera_ids": f"at most {MAX_CAMERA_IDS} camera ids"})
    for i, camera in enumerate(clean):
        if not CAMERA_RE.fullmatch(camera):
            raise ValidationError({f"camera_ids[{i}]": CAMERA_ID_RULE})
    return clean


def add_camera(
    session: Session,
    rt: Deps,
    *,
    name: str,
    camera_ids: Sequence[str],
    agency_ori: str | None = None,
    auth: str = "token",
    actor: Actor = SYSTEM,
) -> IssuedCredential:
    """Register a credential; the secret is returned once and never stored."""
    name = _check_name(name)
    ids = _check_camera_ids(camera_ids)
    if auth not in AUTH_MODES:
        raise ValidationError({"auth": f"must be one of {', '.join(AUTH_MODES)}"})
    ori = (agency_ori or rt.settings.instance.operating_agency).strip().upper()
    agency = session.scalar(select(Agency).where(Agency.ori == ori))
    if agency is None:
        raise NotFound(f"agency {ori} is not in the registry")
    if ori != rt.settings.instance.operating_agency:
        # The operating agency runs the cameras whose reads this store keeps; a partner's
        # cameras would put another agency's collection under this agency's policy.
        raise Refused(
            "camera_agency_not_operating",
            403,
            f"cameras post for the operating agency {rt.settings.instance.operating_agency}",
        )
    if session.scalar(select(Camera.id).where(Camera.name == name)) is not None:
        raise Conflict(f"camera credential {name} already exists")
    # One live credential per camera: a second one would let whoever holds it post reads
    # "from" a camera someone else runs. Replacing a credential is a rotation, or disabling
    # the old one first.
    for other, bound in session.execute(
        select(Camera.name, Camera.camera_ids).where(Camera.disabled_at.is_(None))
    ):
        taken = sorted(set(ids) & set(json.loads(bound)))
        if taken:
            raise Conflict(
                f"camera id {taken[0]} is bound to credential {other}; rotate or disable it"
            )
    secret = _new_secret()
    now = rt.clock.now()
    session.add(
        Camera(
            name=name,
            agency_id=agency.id,
            camera_ids=json.dumps(ids),
            auth=auth,
            credential_hash=hash_secret(secret),
            secret_sealed=_seal(rt, name, secret) if auth == "hmac" else None,
            created_at=now,
        )
    )
    session.flush()
    rt.audit.append(
        session,
        AuditKind.CAMERA_ADDED,
        actor,
        subject=f"camera:{name}",
        details={"name": name, "agency": ori, "camera_ids": ids, "auth": auth},
    )
    return IssuedCredential(name, auth, secret)


def _camera(session: Session, name: str) -> Camera:
    camera = session.scalar(select(Camera).where(Camera.name == name.strip().lower()))
    if camera is None:
        raise NotFound(f"camera credential {name} does not exist")
    return camera


def rotate_camera(
    session: Session, rt: Deps, *, name: str, finish: bool = False, actor: Actor = SYSTEM
) -> IssuedCredential | None:
    """Issue a new secret; the current one stays live as the previous one. With ``finish``,
    retire the previous secret instead (once every agent uses the new one)."""
    camera = _camera(session, name)
    if camera.disabled_at is not None:
        raise Conflict(f"camera credential {camera.name} is disabled")
    now = rt.clock.now()
    issued = None
    if finish:
        retired = camera.previous_hash is not None
        camera.previous_hash = None
        camera.previous_sealed = None
        details: dict[str, object] = {"name": camera.name, "retired_previous": retired}
    else:
        secret = _new_secret()
        camera.previous_hash = camera.credential_hash
        camera.previous_sealed = camera.secret_sealed
        camera.credential_hash = hash_secret(secret)
        camera.secret_sealed = _seal(rt, camera.name, secret) if camera.auth == "hmac" else None
        camera.rotated_at = now
        issued = IssuedCredential(camera.name, camera.auth, secret)
        details = {"name": camera.name, "two_live": True}
    session.flush()
    rt.audit.append(
        session,
        AuditKind.CAMERA_ROTATED,
        actor,
        subject=f"camera:{camera.name}",
        details=details,
    )
    return issued


def disable_camera(session: Session, rt: Deps, *, name: str, actor: Actor = SYSTEM) -> None:
    """Disable a credential: both of its secrets stop working at once."""
    camera = _camera(session, name)
    camera.disabled_at = rt.clock.now()
    camera.previous_hash = None
    camera.previous_sealed = None
    session.flush()
    rt.audit.append(
        session,
        AuditKind.CAMERA_DISABLED,
        actor,
        subject=f"camera:{camera.name}",
        details={"name": camera.name},
    )


def list_cameras(session: Session) -> list[CameraView]:
    rows = session.execute(
        select(Camera, Agency.ori).join(Agency, Agency.id == Camera.agency_id).order_by(Camera.name)
    ).all()
    return [
        CameraView(
            name=c.name,
            agency_ori=ori,
            camera_ids=tuple(json.loads(c.camera_ids)),
            auth=c.auth,
            created_at=c.created_at,
            rotated_at=c.rotated_at,
            rotation_pending=c.previous_hash is not None,
            disabled=c.disabled_at is not None,
            last_seen_at=c.last_seen_at,
        )
        for c, ori in rows
    ]


# -- authentication (read-only) --------------------------------------------------------------

# Compiled once and run by the driver: authentication is on every camera request, and
# SQLAlchemy's per-call statement handling cost more than the lookup itself.
_BY_HASH = DriverSelect(
    select(
        Camera.id,
        Camera.name,
        Camera.agency_id,
        Agency.ori,
        Camera.camera_ids,
        Camera.auth,
        Camera.disabled_at,
    )
    .join(Agency, Agency.id == Camera.agency_id)
    .where(
        or_(
            Camera.credential_hash == bindparam("hash"),
            Camera.previous_hash == bindparam("hash"),
        )
    )
    .limit(1)
)
_BY_NAME = (
    select(
        Camera.id,
        Camera.name,
        Camera.agency_id,
        Agency.ori,
        Camera.camera_ids,
        Camera.auth,
        Camera.disabled_at,
        Camera.secret_sealed,
        Camera.previous_sealed,
    )
    .join(Agency, Agency.id == Camera.agency_id)
    .where(Camera.name == bindparam("name"))
)
_UNAUTHORIZED = "a valid camera credential is required"


def _principal(row: Any, credential: str) -> CameraPrincipal:
    return CameraPrincipal(
        camera_pk=row[0],
        name=row[1],
        agency_id=row[2],
        agency_ori=row[3],
        camera_ids=frozenset(json.loads(row[4])),
        credential=credential,
    )


def unauthorized() -> Unauthorized:
    """The one answer to every credential failure."""
    return Unauthorized(_UNAUTHORIZED)


def _well_formed(token: str | None) -> TypeGuard[str]:
    return token is not None and token.startswith(CREDENTIAL_PREFIX) and len(token) <= 200


CREDENTIAL_CACHE_SECONDS = 60.0


class CredentialCache:
    """Bearer credentials this process accepted in the last ``ttl`` seconds, by the SHA-256 of
    the presented secret (the value the database indexes), so a camera's every post does not
    open a connection to look its credential up again (a quarter of a one-read post's CPU).

    Only a secret the database has just accepted is added: a wrong or unknown secret never
    matches an entry, it is looked up (and refused) every time. An entry is only a fast path,
    never the last word: every group commit checks, in its own write transaction, that each
    request's secret is still live (``live_credentials``), so a secret retired by rotation or
    disabled, in this process or any other, stores no read from the moment that change is
    committed; and a cached request refused for any other reason re-checks the credential
    before it is answered (webhooks.camera_route), so it gets the same 401 as without the
    cache. What a credential is bound to (its cameras, its agency) never changes after it is
    added. ``ttl`` bounds how long an entry lives; ``forget`` drops one at once."""

    def __init__(
        self,
        ttl: float = CREDENTIAL_CACHE_SECONDS,
        max_entries: int = 4096,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl = ttl
        self._max = max_entries
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[float, CameraPrincipal]] = {}

    def lookup(self, token: str | None) -> CameraPrincipal | None:
        """The principal of a bearer secret accepted within ``ttl``, else None."""
        if not _well_formed(token):
            return None
        found = self._entries.get(hash_secret(token))
        if found is None:
            return None
        until, principal = found
        if self._clock() >= until:
            self.forget(principal.credential)
            return None
        return principal

    def add(self, principal: CameraPrincipal) -> None:
        now = self._clock()
        with self._lock:
            if len(self._entries) >= self._max:
                self._entries = {k: v for k, v in self._entries.items() if v[0] > now}
                if len(self._entries) >= self._max:
                    self._entries.clear()
            self._entries[principal.credential] = (now + self._ttl, principal)

    def forget(self, credential: str) -> None:
        with self._lock:
            self._entries.pop(credential, None)

    def __len__(self) -> int:
        return len(self._entries)


def authenticate_token(
    db: Session | Connection, token: str | None, cache: CredentialCache | None = None
) -> CameraPrincipal:
    """A bearer credential; every failure is the same 401, so credentials cannot be probed.
    A credential registered to sign (``hmac``) is refused as a bearer token: its secret never
    travels. An accepted one is added to ``cache``."""
    if not _well_formed(token):
        raise unauthorized()
    digest = hash_secret(token)
    rows = _BY_HASH.rows(db, {"hash": digest})
    # (id, name, agency_id, ori, camera_ids, auth, disabled_at)
    if not rows or rows[0][6] is not None or rows[0][5] != "token":
        raise unauthorized()
    found = _principal(rows[0], digest)
    if cache is not None:
        cache.add(found)
    return found


# The secrets each credential has live now: read in the transaction that stores its reads.
_LIVE = DriverSelect(
    select(Camera.id, Camera.credential_hash, Camera.previous_hash, Camera.disabled_at).where(
        OneOf(Camera.id, "pks")
    )
)


def live_credentials(
    db: Session | Connection, cameras: Iterable[CameraPrincipal]
) -> set[tuple[int, str]]:
    """Of the (credential, presented secret) pairs of ``cameras``, those still live: the
    credential is not disabled and the secret is its current or its previous one. One indexed
    SELECT for them all."""
    wanted = {(c.camera_pk, c.credential) for c in cameras}
    if not wanted:
        return set()
    live: set[tuple[int, str]] = set()
    for pk, current, previous, disabled_at in _LIVE.rows(
        db, {"pks": sorted({pk for pk, _ in wanted})}
    ):
        if disabled_at is not None:
            continue
        live.update((pk, digest) for digest in (current, previous) if digest is not None)
    return wanted & live


def signature(secret: bytes, timestamp: str, body: bytes) -> str:
    """The HMAC-SHA256 (hex) a signing camera sends: over ``<timestamp>.`` and the body."""
    return hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def authenticate_signed(
    db: Session | Connection,
    rt: Deps,
    name: str | None,
    timestamp: str | None,
    sent: str | None,
    body: bytes,
) -> CameraPrincipal:
    """A signed request: the credential's name, a Unix timestamp within the allowed skew, and
    the HMAC of ``<timestamp>.<body>`` under either live secret. A captured request replays
    only within the skew, and a replayed read is stored once anyway (its client read id)."""
    if not name or not timestamp or not sent or len(sent) > 128 or len(name) > 64:
        raise Unauthorized(_UNAUTHORIZED)
    if not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 12:
        raise Unauthorized(_UNAUTHORIZED)
    skew = abs(rt.clock.now().timestamp() - int(timestamp))
    if skew > rt.settings.ingest.signature_skew_seconds:
        raise Unauthorized(_UNAUTHORIZED)
    row = db.execute(_BY_NAME, {"name": name.strip().lower()}).first()
    if row is None or row.disabled_at is not None or row.auth != "hmac":
        raise Unauthorized(_UNAUTHORIZED)
    for sealed in (row.secret_sealed, row.previous_sealed):
        if sealed is None:
            continue
        secret = _unseal(rt, row.name, sealed)
        expected = signature(secret, timestamp, body)
        if hmac.compare_digest(expected, sent.strip().lower()):
            return _principal(row, hash_secret(secret.decode()))
    raise Unauthorized(_UNAUTHORIZED)


def unbound(camera: CameraPrincipal, camera_ids: Iterable[str]) -> int:
    """How many of ``camera_ids`` the credential does not name."""
    return sum(1 for c in camera_ids if c not in camera.camera_ids)


def record_refusal(
    session: Session, rt: Deps, camera: CameraPrincipal, route: str | None, reads: int
) -> None:
    """A credential posting for a camera it does not name is on the record (a count, never
    the ids it tried: a client-typed id may hold anything)."""
    rt.audit.append(
        session,
        AuditKind.CAMERA_REFUSED,
        camera.principal.actor,
        subject=f"camera:{camera.name}",
        details={"name": camera.name, "route": route, "reason_code": NOT_BOUND, "reads": reads},
    )


def touch(session: Session, camera_pks: Iterable[int], now: datetime) -> None:
    """Mark credentials as seen now (in the same transaction as their reads)."""
    pks = sorted(set(camera_pks))
    if pks:
        session.execute(
            update(Camera)
            .where(Camera.id.in_(pks))
            .values(last_seen_at=now)
            .execution_options(synchronize_session=False)
        )


@dataclass(frozen=True)
class SilentCamera:
    name: str
    camera_ids: tuple[str, ...]
    last_seen_at: datetime | None
    silent_minutes: int | None  # None: never posted

    def as_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "camera_ids": list(self.camera_ids),
            "last_seen_at": self.last_seen_at.isoformat() if self.last_seen_at else None,
            "silent_minutes": self.silent_minutes,
        }


def silent_cameras(session: Session, rt: Deps, now: datetime) -> list[SilentCamera]:
    """Enabled credentials that have posted nothing for ``ingest.camera_silence_minutes``
    (counted from their registration if they never posted)."""
    minutes = rt.settings.ingest.camera_silence_minutes
    if minutes <= 0:
        return []
    since = now - timedelta(minutes=minutes)
    out = []
    for c in session.scalars(
        select(Camera).where(Camera.disabled_at.is_(None)).order_by(Camera.name)
    ):
        seen = c.last_seen_at or c.created_at
        if seen <= since:
            out.append(
                SilentCamera(
                    c.name,
                    tuple(json.loads(c.camera_ids)),
                    c.last_seen_at,
                    int((now - c.last_seen_at).total_seconds() // 60)
                    if c.last_seen_at is not None
                    else None,
                )
            )
    return out
