"""The public transparency figures: what the engine holds and did, as aggregates only.

Modelled on what agencies publish through vendor portals, but counted from the tables the engine
itself enforces with. Nothing here names a person or a plate or repeats free text: users appear
only as counts, purposes only as configured codes (an unlisted code someone typed is "unlisted"),
recipients only by the registry's agency name, refusals only by reason code.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from alpr_guard.audit import event_hash
from alpr_guard.models import Agency, AuditEvent, PlateRead, PurgeRun, SearchRecord, Share
from alpr_guard.services.deps import Deps
from alpr_guard.services.policy_document import effective_at, policy_sha256
from alpr_guard.vocabulary import AuditKind, Outcome, PurgeStatus, RetentionClass

PERIOD_DAYS = 30
# Age bands of reads held now: (label, lower bound in days).
AGE_BANDS = (("under 1 day", 0), ("1-7 days", 1), ("8-30 days", 8), ("31-90 days", 31))
OVER_LAST_BAND = "over 90 days"
UNLISTED = "unlisted"
NOT_IN_REGISTRY = "not in the registry"
RECENT_PURGES = 20
# Public paths a reader of the figures follows: each purge's signed receipt, and the key that
# checks its signature.
RECEIPT_PATH = "/transparency/receipts/{run_id}.json"
SIGNING_KEY_PATH = "/api/v1/signing-key"


@dataclass(frozen=True)
class Transparency:
    data: dict[str, Any]

    def json_bytes(self) -> bytes:
        return json.dumps(self.data, indent=2).encode()


def receipt_path(run_id: uuid.UUID) -> str:
    return RECEIPT_PATH.format(run_id=run_id)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def build_transparency(session: Session, rt: Deps) -> Transparency:
    s = rt.settings
    now = rt.clock.now()
    since = now - timedelta(days=PERIOD_DAYS)
    return Transparency(
        {
            "agency": s.instance.operating_agency_name,
            "jurisdiction": s.jurisdiction.name,
            "generated_at": now.isoformat(),
            "period": {"from": since.isoformat(), "to": now.isoformat(), "days": PERIOD_DAYS},
            "policy": {
                "sha256": policy_sha256(s),
                "effective_at": _iso(effective_at(session, s)),
            },
            "retention_days": {
                name: getattr(s.retention, name).days
                for name in ("unmatched", "hit", "access_records", "audit_events")
            },
            "cameras": _cameras(session, rt, now),
            "reads_held": _reads_held(session, now),
            "searches": _searches(session, rt, since),
            "refusals": _refusals(session, since),
            "shares": _shares(session, since),
            "purges": _purges(session, rt),
            "audit_chain": _chain(session),
        }
    )


def _cameras(session: Session, rt: Deps, now: datetime) -> list[dict[str, Any]]:
    areas = rt.settings.policy.camera_areas if rt.settings.policy else ()
    held = dict(
        session.execute(
            select(PlateRead.camera_id, func.count())
            .where((PlateRead.expires_at.is_(None)) | (PlateRead.expires_at > now))
            .group_by(PlateRead.camera_id)
        ).all()
    )
    out = []
    placed: set[str] = set()
    for area, cameras in areas:
        placed.update(cameras)
        out.append(
            {
                "area": area,
                "cameras": len(cameras),
                "reads_held": sum(held.get(c, 0) for c in cameras),
            }
        )
    others = {c: n for c, n in held.items() if c not in placed}
    if others:
        # Cameras not (yet) listed under an area in the published configuration: counted, so
        # the totals add up, and visibly unassigned.
        out.append(
            {
                "area": "not assigned to an area",
                "cameras": len(others),
                "reads_held": sum(others.values()),
            }
        )
    return out


def _reads_held(session: Session, now: datetime) -> dict[str, Any]:
    live = (PlateRead.expires_at.is_(None)) | (PlateRead.expires_at > now)
    bounds = [*(days for _label, days in AGE_BANDS), 91]
    labels = [label for label, _ in AGE_BANDS] + [OVER_LAST_BAND]
    by_class: dict[str, dict[str, int]] = {
        cls: dict.fromkeys(labels, 0)
        for cls in (RetentionClass.UNMATCHED, RetentionClass.HIT, RetentionClass.HELD)
    }
    for n, label in enumerate(labels):
        # observed within (now - bounds[n+1], now - bounds[n]]; the last band is open-ended.
        where = [live, PlateRead.observed_at <= now - timedelta(days=bounds[n])]
        if n + 1 < len(bounds):
            where.append(PlateRead.observed_at > now - timedelta(days=bounds[n + 1]))
        for cls, count in session.execute(
            select(PlateRead.retention_class, func.count())
            .where(*where)
            .group_by(PlateRead.retention_class)
        ).all():
            by_class[cls][label] = count
    future = session.scalar(
        select(func.count()).select_from(PlateRead).where(live, PlateRead.observed_at > now)
    )
    awaiting = session.scalar(
        select(func.count()).select_from(PlateRead).where(PlateRead.expires_at <= now)
    )
    return {
        "by_class_and_age": by_class,
        "total": sum(sum(bands.values()) for bands in by_class.values()) + (future or 0),
        # Expired, so no longer searchable or shareable; deleted by the next purge.
        "expired_awaiting_purge": awaiting or 0,
    }


def _searches(session: Session, rt: Deps, since: datetime) -> dict[str, Any]:
    known = {p.code for p in rt.settings.purposes}
    rows = session.execute(
        select(SearchRecord.purpose, SearchRecord.outcome, func.count())
        .where(SearchRecord.created_at >= since)
        .group_by(SearchRecord.purpose, SearchRecord.outcome)
    ).all()
    by_purpose: dict[str, dict[str, int]] = {}
    for purpose, outcome, count in rows:
        key = purpose if purpose in known else UNLISTED
        slot = by_purpose.setdefault(key, {Outcome.ALLOWED: 0, Outcome.REFUSED: 0})
        slot[outcome] += count
    return {
        "by_purpose": dict(sorted(by_purpose.items())),
        "total": sum(sum(v.values()) for v in by_purpose.values()),
    }


def _refusals(session: Session, since: datetime) -> dict[str, dict[str, int]]:
    def counted(model: type[SearchRecord] | type[Share]) -> dict[str, int]:
        rows = session.execute(
            select(model.reason_code, func.count())
            .where(model.created_at >= since, model.outcome == Outcome.REFUSED)
            .group_by(model.reason_code)
        ).all()
        return {str(code or "unspecified"): count for code, count in sorted(rows, key=str)}

    return {"searches": counted(SearchRecord), "shares": counted(Share)}


def _shares(session: Session, since: datetime) -> list[dict[str, Any]]:
    rows = session.execute(
        select(Agency.name, Share.outcome, func.count(), func.sum(Share.read_count))
        .select_from(Share)
        .outerjoin(Agency, Agency.ori == Share.recipient_ori)
        .where(Share.created_at >= since)
        .group_by(Agency.name, Share.outcome)
    ).all()
    by_agency: dict[str, dict[str, int]] = {}
    for name, outcome, count, reads in rows:
        slot = by_agency.setdefault(
            name or NOT_IN_REGISTRY, {Outcome.ALLOWED: 0, Outcome.REFUSED: 0, "reads_shared": 0}
        )
        slot[outcome] += count
        if outcome == Outcome.ALLOWED:
            slot["reads_shared"] += int(reads or 0)
    return [{"recipient": name, **counts} for name, counts in sorted(by_agency.items())]


def _purges(session: Session, rt: Deps) -> list[dict[str, Any]]:
    """Recent purges, their figures read from each one's receipt event in the audit chain when
    that event still verifies: the ``purge_runs`` row is bookkeeping anyone with write access
    could edit, the event is chained and MACed. A receipt that no longer verifies is published
    as such (``verified: false``), with the row's figures, and is not offered for download."""
    runs = session.execute(
        select(PurgeRun, AuditEvent)
        .outerjoin(AuditEvent, AuditEvent.seq == PurgeRun.audit_seq)
        .where(PurgeRun.status == PurgeStatus.COMPLETED)
        .order_by(PurgeRun.finished_at.desc())
        .limit(RECENT_PURGES)
    ).all()
    out = []
    for run, event in runs:
        verified = (
            event is not None
            and event.kind == AuditKind.PURGE_COMPLETED
            and event.subject == f"purge:{run.id}"
            and event_hash(rt.keyring, event) == event.hash
        )
        if verified:
            stated = json.loads(event.details)
            deleted = stated.get("deleted_by_class", {})
            figures = {
                "cutoff": stated.get("cutoff"),
                "reads_deleted": {
                    RetentionClass.UNMATCHED: deleted.get(RetentionClass.UNMATCHED, 0),
                    RetentionClass.HIT: deleted.get(RetentionClass.HIT, 0),
                },
                "partitions_dropped": stated.get("partitions_dropped", 0),
                "keys_destroyed": len(stated.get("keys_destroyed", [])),
                "records_expired": stated.get("records_expired", {}),
            }
        else:
            figures = {
                "cutoff": run.cutoff.isoformat(),
                "reads_deleted": {
                    RetentionClass.UNMATCHED: run.deleted_unmatched,
                    RetentionClass.HIT: run.deleted_hit,
                },
                "partitions_dropped": run.partitions_dropped,
                "keys_destroyed": len(json.loads(run.keys_destroyed or "[]")),
                "records_expired": json.loads(run.records_expired or "{}"),
            }
        out.append(
            {
                "finished_at": _iso(run.finished_at),
                **figures,
                # The receipt is the purge.completed event in the audit chain: its sequence
                # number and chained hash let anyone holding a verified export check it, and
                # its signed copy (counts and key ids only) is public for anyone to download
                # and check with the instance's public key.
                "receipt": {
                    "run_id": str(run.id),
                    "audit_seq": run.audit_seq,
                    "hash": event.hash if event is not None else None,
                    "verified": verified,
                    "download": receipt_path(run.id) if verified else None,
                    "public_key": SIGNING_KEY_PATH,
                },
            }
        )
    return out


def _chain(session: Session) -> dict[str, Any]:
    def last(kind: AuditKind) -> AuditEvent | None:
        return session.scalar(
            select(AuditEvent)
            .where(AuditEvent.kind == kind)
            .order_by(AuditEvent.seq.desc())
            .limit(1)
        )

    verified = last(AuditKind.AUDIT_VERIFIED)
    checkpoint = last(AuditKind.AUDIT_CHECKPOINT)
    return {
        "last_verified_at": _iso(verified.occurred_at) if verified else None,
        "last_verification_ok": json.loads(verified.details).get("ok") if verified else None,
        "last_signed_checkpoint_at": _iso(checkpoint.occurred_at) if checkpoint else None,
        "events": session.scalar(select(func.count()).select_from(AuditEvent)) or 0,
    }
