"""The product's words, declared once: audit event kinds, retention classes, outcomes and
statuses.

Each is a ``StrEnum``, so a member *is* its string: it compares equal to the text, hashes as
the text, and goes into a database column, a JSON document or a MAC input as exactly the bytes
the literal did (only ``repr`` differs, and nothing stored or hashed uses it). The columns stay
plain strings; the database's check constraints list the same values.

Pure (no web or database imports) and at the bottom of the layers, so policy, the audit log and
the services can all name the same members.
"""

from __future__ import annotations

from enum import StrEnum


class AuditKind(StrEnum):
    """The ``kind`` of an audit event (``audit.AuditLog.append``)."""

    ACCESS_REFUSED = "access.refused"
    AGENCY_CREATED = "agency.created"
    AGENCY_UPDATED = "agency.updated"
    AGENCY_VETTED = "agency.vetted"
    AGENCY_UNVETTED = "agency.unvetted"
    AUDIT_CHECKPOINT = "audit.checkpoint"
    AUDIT_RECEIPT_DOWNLOADED = "audit.receipt_downloaded"
    AUDIT_RECEIPTS_LISTED = "audit.receipts_listed"
    AUDIT_RETENTION = "audit.retention"
    AUDIT_VERIFIED = "audit.verified"
    AUTH_FAILED = "auth.failed"
    AUTH_LOCKED = "auth.locked"
    AUTH_REFUSED_BEARER = "auth.refused_bearer"
    AUTH_REFUSED_LOCKED = "auth.refused_locked"
    AUTH_UNLOCKED = "auth.unlocked"
    CAMERA_ADDED = "camera.added"
    CAMERA_DISABLED = "camera.disabled"
    CAMERA_REFUSED = "camera.refused"
    CAMERA_ROTATED = "camera.rotated"
    CONFIG_DRIFT = "config.drift"
    CONFIG_POLICY = "config.policy"
    CONSOLE_ADMIN_VIEWED = "console.admin_viewed"
    CONSOLE_ATTENTION_VIEWED = "console.attention_viewed"
    CSRF_REFUSED = "csrf.refused"
    HOLD_PLACED = "hold.placed"
    HOLD_APPROVED = "hold.approved"
    HOLD_RELEASED = "hold.released"
    KEYS_ROTATED = "keys.rotated"
    PURGE_COMPLETED = "purge.completed"
    READS_IMPORTED = "reads.imported"
    READS_INGESTED = "reads.ingested"
    RECORDS_EXPIRED = "records.expired"
    REPORT_ACCESS = "report.access"
    REPORT_ACCESS_FULL = "report.access_full"
    REPORT_SUMMARY = "report.summary"
    RETENTION_WINDOW_SHORTENED = "retention.window_shortened"
    RETENTION_WINDOW_LENGTHENED = "retention.window_lengthened"
    REVIEW_COMPLETED = "review.completed"
    REVIEW_FINDING_RESOLVED = "review.finding_resolved"
    REVIEW_FINDING_VIEWED = "review.finding_viewed"
    REVIEW_FINDINGS_LISTED = "review.findings_listed"
    REVIEW_FINDINGS_RECORDED = "review.findings_recorded"
    REVIEW_VAGUE_RATES_VIEWED = "review.vague_rates_viewed"
    SEARCH_ALLOWED = "search.allowed"
    SEARCH_REFUSED = "search.refused"
    SESSION_EXPIRED = "session.expired"
    SHARE_ALLOWED = "share.allowed"
    SHARE_REFUSED = "share.refused"
    SHARES_LISTED = "shares.listed"
    SIGNIN = "signin"
    SIGNOUT = "signout"
    TOKEN_ISSUED = "token.issued"  # noqa: S105 (event names, not secrets)
    TOKEN_MINTED = "token.minted"  # noqa: S105
    TOKEN_REVOKED = "token.revoked"  # noqa: S105
    USER_ACCESS_WITHDRAWN = "user.access_withdrawn"
    USER_CREATED = "user.created"
    USER_DISABLED_DORMANT = "user.disabled_dormant"
    USER_UPDATED = "user.updated"


class RetentionClass(StrEnum):
    """A read's ``retention_class``: how long it may be kept, and which key and partition hold
    it."""

    UNMATCHED = "unmatched"  # matched no hot list: a day key, kept for retention.unmatched
    HIT = "hit"  # matched a hot list: a month key, kept for retention.hit
    HELD = "held"  # under a legal hold: the hold's key, no expiry until it is released


class Outcome(StrEnum):
    """A search's or a share's ``outcome``: every attempt is recorded, allowed or refused."""

    ALLOWED = "allowed"
    REFUSED = "refused"


class FindingStatus(StrEnum):
    """An access-review finding's ``status``."""

    OPEN = "open"
    RESOLVED = "resolved"


class HoldStatus(StrEnum):
    """A legal hold's ``status``: pending a second approver (when one is required), active,
    then released."""

    PENDING = "pending"
    ACTIVE = "active"
    RELEASED = "released"


class PurgeStatus(StrEnum):
    """A purge run's ``status``, in the order a run passes through them."""

    DELETING = "deleting"
    SHREDDING = "shredding"
    COMPLETED = "completed"
