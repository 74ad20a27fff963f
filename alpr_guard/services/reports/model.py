"""What the reports are made of: the filters of an access report, its rows, and the compliance
summary's figures. Plain frozen dataclasses, so the writers and the HTML never touch the
database."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from alpr_guard.errors import ValidationError
from alpr_guard.policy.hit_rates import CameraHitRate
from alpr_guard.services.cameras import SilentCamera
from alpr_guard.vocabulary import Outcome

OUTCOMES = tuple(Outcome)
ACCESS_FORMATS = ("csv", "json", "html")
SUMMARY_FORMATS = ("json", "html")
UNREADABLE = "[unreadable]"  # a sealed term that fails authentication: tampering, shown as such
AGE_BUCKETS: tuple[tuple[str, int | None], ...] = (
    ("0-7", 7),
    ("8-30", 30),
    ("31-60", 60),
    ("61-180", 180),
    ("181-365", 365),
    (">365", None),
)


@dataclass(frozen=True)
class ReportFilter:
    """Which access records a report covers: created in [since, until), optionally one user,
    one agency (the searching user's agency ORI), one purpose code, one outcome."""

    since: datetime
    until: datetime
    username: str | None = None
    agency: str | None = None
    purpose: str | None = None
    outcome: str | None = None

    def __post_init__(self) -> None:
        errors: dict[str, str] = {}
        if self.since.tzinfo is None or self.until.tzinfo is None:
            errors["from"] = "from and to must carry a timezone"
        elif self.since >= self.until:
            errors["to"] = "must be after from"
        if self.outcome is not None and self.outcome not in OUTCOMES:
            errors["outcome"] = "must be allowed or refused"
        for name in ("username", "agency", "purpose"):
            value = getattr(self, name)
            if value is not None and not 1 <= len(value) <= 64:
                errors[name] = "must be 1-64 characters"
        if errors:
            raise ValidationError(errors)

    def as_details(self) -> dict[str, object]:
        """For audit events: the filters only, never report content."""
        out: dict[str, object] = {"from": self.since.isoformat(), "to": self.until.isoformat()}
        for name in ("username", "agency", "purpose", "outcome"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        return out


@dataclass(frozen=True)
class AccessRow:
    """One access record as the statute lists it. ``plate`` holds the plate used to query in
    the full form and its keyed term token in the redacted form; it never appears in a repr."""

    search_id: uuid.UUID
    searched_at: datetime
    username: str
    agency: str
    on_behalf_of: str | None
    purpose: str
    justification: str = field(repr=False)
    case_number: str | None = field(repr=False)
    plate: str = field(repr=False)
    window_from: datetime | None
    window_to: datetime | None
    outcome: str
    reason_code: str | None
    rule: str | None
    result_count: int
    findings: tuple[str, ...]
    # The record against the audit event stating it (``record_chain``): "verified", "unbound"
    # (written before records were bound), or its damage ("edited", "flipped", "inserted").
    record_check: str = "verified"


# -- the compliance summary --------------------------------------------------------------------

Counts = tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class ChainStatus:
    ok: bool
    checked: int
    last_seq: int | None
    bad_seq: int | None
    problem: str | None
    checkpoints: int


@dataclass(frozen=True)
class RecipientShares:
    recipient: str
    allowed: int
    refused: int


@dataclass(frozen=True)
class FindingCounts:
    rule: str
    open: int
    resolved: int


@dataclass(frozen=True)
class HoldCounts:
    """Legal holds as of the report (``active``, ``pending``, ``overdue`` past their review-by
    date, ``reads_held``) and in the period (``placed``, ``released``)."""

    active: int
    pending: int
    overdue: int
    reads_held: int
    placed: int
    released: int


@dataclass(frozen=True)
class ComplianceSummary:
    """What an auditor needs to see at a glance for a period [since, until)."""

    since: datetime
    until: datetime
    generated_at: datetime
    ingested_by_class: Counts
    purged_by_class: Counts
    purge_runs: int
    stored_by_class: Counts
    past_window: int
    past_window_by_class: Counts
    searches_by_outcome: Counts
    searches_by_purpose: Counts
    searches_by_agency: Counts
    searches_by_user: Counts
    searches_on_behalf_of: Counts
    refusals_by_reason: Counts
    shares_by_outcome: Counts
    shares_by_recipient: tuple[RecipientShares, ...]
    findings_by_rule: tuple[FindingCounts, ...]
    data_age: Counts
    chain: ChainStatus
    holds: HoldCounts
    # Per camera, the stored reads observed in the period and how many were hot-list hits (a
    # hit is kept a year), with the cameras the review has an open hit_rate_anomaly for.
    hit_rate_by_camera: tuple[CameraHitRate, ...] = ()
    hit_rate_flagged: tuple[str, ...] = ()
    # Camera credentials that have posted nothing for ingest.camera_silence_minutes, as of now.
    silent_cameras: tuple[SilentCamera, ...] = ()

    @property
    def searches_total(self) -> int:
        return sum(n for _k, n in self.searches_by_outcome)
