"""ORM tables only. The Alembic migrations are the schema; these must match them
(``alembic check`` in the test suite fails on any drift).

No column holds a plaintext plate: ``plate_reads.plate_ct`` is AES-GCM ciphertext,
``plate_reads.plate_index`` a truncated keyed HMAC, ``searches.terms_sealed`` ciphertext under
the audit sealing key, ``searches.terms_token`` a keyed hash.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from alpr_guard.db import Base, UTCDateTime


class Agency(Base):
    """An agency known to this instance. ``kind`` and ``jurisdiction`` decide sharing, never
    the ORI's first two letters (a federal office in California has an ORI beginning "CA")."""

    __tablename__ = "agencies"
    __table_args__ = (
        CheckConstraint("kind IN ('state', 'local', 'tribal', 'federal', 'private')", name="kind"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ori: Mapped[str] = mapped_column(String(9), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    jurisdiction: Mapped[str] = mapped_column(String(2))
    vetted: Mapped[bool] = mapped_column(Boolean, default=False)
    attestation_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(
            "role IN ('ingest', 'officer', 'supervisor', 'auditor', 'admin')", name="role"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Accounts from the identity provider: SHA-256 of "issuer sub", the provider's stable id
    # (a username claim may be renamed or reassigned; the subject may not).
    subject_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(200))
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ApiToken(Base):
    """Bearer tokens, stored as SHA-256 of a 256-bit random secret (a fast hash is the right
    tool for high-entropy secrets; it is what lets a lookup be one indexed equality)."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Set on a personal token minted from a signed-in session: the user who minted it.
    minted_by: Mapped[str | None] = mapped_column(String(64))


class WebSession(Base):
    """A signed-in browser. Only a SHA-256 of the session id is stored: a copy of the table
    lets no one take over a session."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    id_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())  # the absolute limit
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    end_reason: Mapped[str | None] = mapped_column(String(16))
    source: Mapped[str | None] = mapped_column(String(64))


class OidcLogin(Base):
    """A sign-in under way at the identity provider: the state (hashed), the nonce and the
    PKCE verifier, bound to the browser that started it. Used once, then deleted."""

    __tablename__ = "oidc_logins"

    state_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    browser_hash: Mapped[str] = mapped_column(String(64))
    nonce: Mapped[str] = mapped_column(String(64))
    code_verifier: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class AuthFailure(Base):
    """One failed authentication, counted per source address and per username (AC-7)."""

    __tablename__ = "auth_failures"
    __table_args__ = (Index("ix_auth_failures_kind_key_at", "kind", "key", "occurred_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # "source" or "username"
    key: Mapped[str] = mapped_column(String(255))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AuthLockout(Base):
    """A source or a username locked after too many failures, until an admin unlocks it."""

    __tablename__ = "auth_lockouts"
    __table_args__ = (Index("ix_auth_lockouts_kind_key", "kind", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(255))
    locked_at: Mapped[datetime] = mapped_column(UTCDateTime())
    unlocked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    unlocked_by: Mapped[str | None] = mapped_column(String(64))


class RateCounter(Base):
    """Fixed-window request counters shared by every worker (the flood limit of sign-in)."""

    __tablename__ = "rate_counters"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    count: Mapped[int] = mapped_column(Integer)


class DataKeyRecord(Base):
    """Metadata of a data key. The key itself lives only in the key store."""

    __tablename__ = "data_keys"

    key_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    scope: Mapped[str] = mapped_column(String(16))
    epoch_start: Mapped[datetime] = mapped_column(UTCDateTime())
    epoch_end: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    destroyed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class PlateRead(Base):
    """One camera read. On PostgreSQL the table is partitioned (migration 0006): by class,
    then by UTC day (unmatched) or month (hit), with the primary key (id, retention_class,
    observed_at); the purge drops whole expired partitions."""

    __tablename__ = "plate_reads"
    __table_args__ = (
        # client_read_id before camera_id: a batch's replay lookup is then an index range. The
        # class and time are in the key because PostgreSQL partitions on them (a partitioned
        # table's unique keys must hold its partition key); a replay repeats both anyway.
        UniqueConstraint(
            "agency_id",
            "client_read_id",
            "camera_id",
            "retention_class",
            "observed_at",
            name="uq_plate_reads_replay",
        ),
        # Search is (key_id = day key AND plate_index = that day's token), an exact lookup;
        # the same index serves everything done per day key.
        Index("ix_plate_reads_key_id_plate_index", "key_id", "plate_index"),
        Index("ix_plate_reads_expires_at", "expires_at"),
        CheckConstraint("retention_class IN ('unmatched', 'hit', 'held')", name="retention_class"),
        # A held read has no expiry until its last hold is released; nothing else lacks one.
        CheckConstraint(
            "(retention_class = 'held') = (expires_at IS NULL)", name="held_has_no_expiry"
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    camera_id: Mapped[str] = mapped_column(String(64))
    observed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    plate_ct: Mapped[bytes] = mapped_column(LargeBinary)
    plate_index: Mapped[int] = mapped_column(BigInteger)
    key_id: Mapped[str] = mapped_column(ForeignKey("data_keys.key_id"))
    plate_state: Mapped[str | None] = mapped_column(String(3))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    confidence: Mapped[float | None] = mapped_column(Float)
    client_read_id: Mapped[str | None] = mapped_column(String(128))
    retention_class: Mapped[str] = mapped_column(String(16))
    hit: Mapped[bool] = mapped_column(Boolean)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ingested_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # A hit's hot list and entry, sealed under the audit key and bound to this read (NULL for
    # unmatched reads, and for hits stored before hits had to name their match).
    hit_ref: Mapped[bytes | None] = mapped_column(LargeBinary)


class SearchRecord(Base):
    """The access record Civil Code 1798.90.52 requires, one per search, allowed or refused."""

    __tablename__ = "searches"
    __table_args__ = (
        Index("ix_searches_created_at", "created_at"),
        Index("ix_searches_user_id_created_at", "user_id", "created_at"),
        Index("ix_searches_audit_seq", "audit_seq"),
        CheckConstraint("outcome IN ('allowed', 'refused')", name="outcome"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    username: Mapped[str] = mapped_column(String(64))
    agency_ori: Mapped[str] = mapped_column(String(9))
    purpose: Mapped[str] = mapped_column(String(64))
    justification: Mapped[str] = mapped_column(Text)
    case_number: Mapped[str | None] = mapped_column(String(64))
    on_behalf_of: Mapped[str | None] = mapped_column(String(9))
    window_from: Mapped[datetime | None] = mapped_column(UTCDateTime())
    window_to: Mapped[datetime | None] = mapped_column(UTCDateTime())
    terms_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    terms_token: Mapped[str] = mapped_column(String(32), index=True)
    outcome: Mapped[str] = mapped_column(String(16))
    reason_code: Mapped[str | None] = mapped_column(String(64))
    rule: Mapped[str | None] = mapped_column(String(64))
    matched: Mapped[str | None] = mapped_column(Text)
    result_count: Mapped[int] = mapped_column(Integer)
    audit_seq: Mapped[int] = mapped_column(BigInteger)


class AuditEvent(Base):
    """Append-only, hash-chained. ``hash`` = HMAC(audit key, canonical(event) + prev_hash)."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_kind_occurred_at", "kind", "occurred_at"),)

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    kind: Mapped[str] = mapped_column(String(64))
    actor: Mapped[str] = mapped_column(String(64))
    actor_agency: Mapped[str | None] = mapped_column(String(9))
    subject: Mapped[str | None] = mapped_column(String(80))
    details: Mapped[str] = mapped_column(Text)
    sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


# A finding is about exactly one subject: a search, a camera or the configuration.
ONE_SUBJECT = (
    "(CASE WHEN search_id IS NULL THEN 0 ELSE 1 END) + (CASE WHEN camera_id IS NULL THEN 0 ELSE 1 "
    "END) + (CASE WHEN config_ref IS NULL THEN 0 ELSE 1 END) = 1"
)


class Finding(Base):
    """A search, a camera or the configuration that a check flagged (rule codes:
    docs/access-review.md), for an auditor to resolve. One finding per (search, rule), so a
    re-run never duplicates; a camera's finding (``hit_rate_anomaly``) names the camera instead
    of a search, and a configuration's (``config_drift``) names the policy hashes it is about
    (``config_ref``), one finding per distinct drift."""

    __tablename__ = "review_findings"
    __table_args__ = (
        UniqueConstraint("search_id", "rule"),
        UniqueConstraint("config_ref", "rule"),
        Index("ix_review_findings_camera_id_rule", "camera_id", "rule"),
        CheckConstraint(ONE_SUBJECT, name="one_subject"),
        Index("ix_review_findings_status_severity", "status", "severity"),
        Index("ix_review_findings_created_at", "created_at"),
        CheckConstraint("status IN ('open', 'resolved')", name="status"),
        CheckConstraint("severity IN ('high', 'medium', 'low')", name="severity"),
        CheckConstraint(
            "verdict IS NULL OR verdict IN ('justified', 'misuse', 'needs_follow_up')",
            name="verdict",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    search_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("searches.id"))
    camera_id: Mapped[str | None] = mapped_column(String(64))
    # A configuration drift: the running policy's hash, then short forms of the file's, the
    # recorded and the approved policy's (services.config_audit)
    config_ref: Mapped[str | None] = mapped_column(String(200))
    rule: Mapped[str] = mapped_column(String(64))
    severity: Mapped[str] = mapped_column(String(8))
    matched: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    verdict: Mapped[str | None] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_by: Mapped[str | None] = mapped_column(String(64))
    # The resolution note as typed, sealed under the audit key; ``note`` is its display copy.
    note_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    # The latest audit event stating this finding's content (NULL: written before chaining).
    audit_seq: Mapped[int | None] = mapped_column(BigInteger, index=True)


class Share(Base):
    """Every decision to transfer reads to another agency, allowed or refused
    (Civil Code 1798.90.55(b)). An allowed share records the digest of the signed bundle;
    ``read_count`` is the reads shared when allowed and the reads asked for when refused. The
    read ids themselves are in the share's audit event."""

    __tablename__ = "shares"
    __table_args__ = (
        Index("ix_shares_created_at", "created_at"),
        Index("ix_shares_recipient_ori", "recipient_ori"),
        CheckConstraint("outcome IN ('allowed', 'refused')", name="outcome"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    username: Mapped[str] = mapped_column(String(64))
    agency_ori: Mapped[str] = mapped_column(String(9))
    recipient_ori: Mapped[str] = mapped_column(String(9))
    purpose: Mapped[str] = mapped_column(String(64))
    justification: Mapped[str] = mapped_column(Text)
    case_number: Mapped[str | None] = mapped_column(String(64))
    search_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    read_count: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(16))
    reason_code: Mapped[str | None] = mapped_column(String(64))
    rule: Mapped[str | None] = mapped_column(String(64))
    bundle_sha256: Mapped[str | None] = mapped_column(String(64))
    audit_seq: Mapped[int] = mapped_column(BigInteger, index=True)
    # Purpose, justification and case number as typed, sealed under the audit key; the
    # columns above hold display copies with plates masked.
    text_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)


class LegalHold(Base):
    """A legal hold: the reads it names outlive their class's window until it is released.

    Its reads are re-encrypted under the hold's own key (``key_id``), so the day keys they came
    from can be destroyed on schedule; releasing the hold puts each read back under its class
    key, or leaves it to the purge if its window has passed meanwhile."""

    __tablename__ = "legal_holds"
    __table_args__ = (
        Index("ix_legal_holds_status_review_by", "status", "review_by"),
        CheckConstraint("status IN ('pending', 'active', 'released')", name="status"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    case_number: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    agency_ori: Mapped[str] = mapped_column(String(9))
    requested_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    approved_by: Mapped[str | None] = mapped_column(String(64))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    review_by: Mapped[datetime] = mapped_column(UTCDateTime())
    search_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    read_count: Mapped[int] = mapped_column(Integer)
    key_id: Mapped[str] = mapped_column(String(80))
    released_by: Mapped[str | None] = mapped_column(String(64))
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    release_reason: Mapped[str | None] = mapped_column(Text)
    # Case number and reason (and the release reason) as typed, sealed under the audit key;
    # the columns above hold display copies with plates masked.
    text_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    release_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    # The latest audit event stating this hold's content (NULL: written before chaining).
    audit_seq: Mapped[int | None] = mapped_column(BigInteger, index=True)


class HoldRead(Base):
    """Which reads a hold names. Kept after release as the hold's record; a read id is not a
    plate. No foreign key to plate_reads: purged reads leave their ids here, and on PostgreSQL
    plate_reads is partitioned."""

    __tablename__ = "hold_reads"
    __table_args__ = (Index("ix_hold_reads_read_id", "read_id"),)

    hold_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("legal_holds.id"), primary_key=True)
    read_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)


class PurgeRun(Base):
    """One purge, with its progress committed batch by batch, so a run killed at any point is
    finished by the next one and its receipt still counts every row it deleted."""

    __tablename__ = "purge_runs"
    __table_args__ = (
        Index("ix_purge_runs_status", "status"),
        CheckConstraint("status IN ('deleting', 'shredding', 'completed')", name="status"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    cutoff: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16))
    trigger: Mapped[str] = mapped_column(String(64))
    deleted_unmatched: Mapped[int] = mapped_column(BigInteger)
    deleted_hit: Mapped[int] = mapped_column(BigInteger)
    batches: Mapped[int] = mapped_column(Integer)
    partitions_dropped: Mapped[int] = mapped_column(Integer)
    max_batch_ms: Mapped[float] = mapped_column(Float)
    delete_ms: Mapped[float] = mapped_column(Float)  # time spent in delete transactions
    keys_destroyed: Mapped[str | None] = mapped_column(Text)
    # Access records and audit events removed by this run (JSON counts), kept batch by batch.
    records_expired: Mapped[str | None] = mapped_column(Text)
    resumed: Mapped[int] = mapped_column(Integer)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    audit_seq: Mapped[int | None] = mapped_column(BigInteger)


class Lease(Base):
    """A named lease: at most one live holder (the purge's guarantee across processes)."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(128))
    acquired_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Camera(Base):
    """A camera's (or an agent's) ingest credential: bound to the camera ids it may post reads
    for and to the agency operating them. Only hashes of the secrets are kept, and, for a
    credential that signs its bodies (``auth = 'hmac'``), the secrets sealed under the audit
    sealing key; ``previous_hash`` keeps the secret before the last rotation live until the
    rotation is finished, so an agent is re-configured without a gap."""

    __tablename__ = "cameras"
    __table_args__ = (CheckConstraint("auth IN ('token', 'hmac')", name="auth"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    camera_ids: Mapped[str] = mapped_column(Text)  # a JSON list, sorted
    auth: Mapped[str] = mapped_column(String(8))
    credential_hash: Mapped[str] = mapped_column(String(64), unique=True)
    previous_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    secret_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    previous_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    rotated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ReadImage(Base):
    """A read's plate crop or vehicle image: AES-GCM under the read's data key, bound to the
    read, the key and the kind (``services.images``). Deleted with its read by the purge, and
    unreadable once the read's key is destroyed."""

    __tablename__ = "read_images"
    __table_args__ = (
        CheckConstraint("kind IN ('plate', 'vehicle')", name="kind"),
        Index("ix_read_images_key_id", "key_id"),
    )

    read_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    key_id: Mapped[str] = mapped_column(String(80))
    content_type: Mapped[str] = mapped_column(String(32))
    image_ct: Mapped[bytes] = mapped_column(LargeBinary)
