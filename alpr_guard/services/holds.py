"""Legal holds: reads a case needs outlive their retention window until the hold is released.

A supervisor places a hold naming reads (by id)
and/or an allowed search (its reads are found again from the sealed plate and window), with a
case number, a reason and a review-by date. With ``holds.require_second_approver`` the hold is
*pending* until a different supervisor approves it, and a pending hold protects nothing.

An active hold re-encrypts each of its reads under the hold's own key (``hold-<id>``) with a
fresh blind-index token, and gives it the class ``held`` with no expiry. The day key the read
came from can then be destroyed on schedule without losing it. Releasing the hold puts each
read back: under another active hold's key if one still names it, else under its class key
(day or hit period) with its class expiry recomputed. A read whose window passed while it was
held keeps the hold's key until the purge deletes it; the hold key is destroyed after that.

Every step is an audit event with counts and ids, never plates; the case number and reason
are stored with the held plates masked, as a search's justification is.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, select, update
from sqlalchemy.orm import Session

from alpr_guard.errors import Conflict, Forbidden, NotFound, ValidationError
from alpr_guard.models import HoldRead, LegalHold, PlateRead, SearchRecord
from alpr_guard.record_chain import hold_mac
from alpr_guard.services.deps import Deps
from alpr_guard.services.free_text import display, hold_aad, hold_release_aad, seal_texts
from alpr_guard.services.keys import class_key, ensure_key, hold_key_id
from alpr_guard.services.principals import Principal
from alpr_guard.services.rekey import execute_rekey, plate_of, rekeyed, rows_by_id
from alpr_guard.services.sharing import reads_of_search
from alpr_guard.services.windows import is_live
from alpr_guard.vocabulary import AuditKind, HoldStatus, Outcome, RetentionClass

MAX_READS = 10_000


@dataclass(frozen=True)
class HoldRequest:
    case_number: str
    reason: str
    review_by: datetime
    read_ids: tuple[uuid.UUID, ...] = ()
    search_id: uuid.UUID | None = None


@dataclass(frozen=True)
class HoldOut:
    id: uuid.UUID
    case_number: str
    reason: str
    status: str
    agency_ori: str
    requested_by: str
    created_at: datetime
    approved_by: str | None
    approved_at: datetime | None
    review_by: datetime
    search_id: uuid.UUID | None
    read_count: int
    released_by: str | None
    released_at: datetime | None
    release_reason: str | None
    overdue: bool

    def as_json(self) -> dict[str, object]:
        def iso(value: datetime | None) -> str | None:
            return value.isoformat() if value is not None else None

        return {
            "id": str(self.id),
            "case_number": self.case_number,
            "reason": self.reason,
            "status": self.status,
            "agency": self.agency_ori,
            "requested_by": self.requested_by,
            "created_at": self.created_at.isoformat(),
            "approved_by": self.approved_by,
            "approved_at": iso(self.approved_at),
            "review_by": self.review_by.isoformat(),
            "search_id": str(self.search_id) if self.search_id else None,
            "read_count": self.read_count,
            "released_by": self.released_by,
            "released_at": iso(self.released_at),
            "release_reason": self.release_reason,
            "overdue": self.overdue,
        }


def _out(hold: LegalHold, now: datetime) -> HoldOut:
    return HoldOut(
        id=hold.id,
        case_number=hold.case_number,
        reason=hold.reason,
        status=hold.status,
        agency_ori=hold.agency_ori,
        requested_by=hold.requested_by,
        created_at=hold.created_at,
        approved_by=hold.approved_by,
        approved_at=hold.approved_at,
        review_by=hold.review_by,
        search_id=hold.search_id,
        read_count=hold.read_count,
        released_by=hold.released_by,
        released_at=hold.released_at,
        release_reason=hold.release_reason,
        overdue=hold.status != HoldStatus.RELEASED and hold.review_by <= now,
    )


HOLD_READS = cast(Table, HoldRead.__table__)


def place_hold(session: Session, rt: Deps, principal: Principal, request: HoldRequest) -> HoldOut:
    """Place a hold (pending, or active at once when no second approver is required)."""
    now = rt.clock.now()
    _check_request(rt, request, now)
    ids = list(dict.fromkeys(request.read_ids))
    if request.search_id is not None:
        record = session.get(SearchRecord, request.search_id)
        if (
            record is None
            or record.outcome != Outcome.ALLOWED
            or record.agency_ori != principal.agency_ori
        ):
            raise NotFound(
                f"search {request.search_id} does not exist, was refused or is another agency's"
            )
        ids.extend(r.id for r in reads_of_search(session, rt, record) if r.id not in set(ids))
    ids = list(dict.fromkeys(ids))
    if not ids:
        raise ValidationError({"read_ids": "the hold names no read that still exists"})
    if len(ids) > MAX_READS:
        raise ValidationError({"read_ids": f"at most {MAX_READS} reads per hold"})

    rows = {row.id: row for row in rows_by_id(session, ids)}
    retention = rt.settings.retention
    errors: dict[str, str] = {}
    for i, read_id in enumerate(request.read_ids):
        row = rows.get(read_id)
        if row is None or row.agency_id != principal.agency_id:
            errors[f"read_ids[{i}]"] = "no such read (never stored, or purged)"
        elif not is_live(row.retention_class, row.observed_at, row.expires_at, retention, now):
            errors[f"read_ids[{i}]"] = "has passed its retention window"
    if errors:
        raise ValidationError(errors)
    live = [
        rows[i]
        for i in ids
        if i in rows
        and rows[i].agency_id == principal.agency_id
        and is_live(
            rows[i].retention_class, rows[i].observed_at, rows[i].expires_at, retention, now
        )
    ]

    plates = {plate_of(rt, row) for row in live}
    hold_id = uuid.uuid4()
    hold = LegalHold(
        id=hold_id,
        case_number=_masked(rt, request.case_number, plates)[:64],
        reason=_masked(rt, request.reason, plates),
        text_sealed=seal_texts(
            rt,
            {"case_number": request.case_number, "reason": request.reason},
            hold_aad(hold_id.bytes),
        ),
        status=HoldStatus.PENDING
        if rt.settings.holds.require_second_approver
        else HoldStatus.ACTIVE,
        agency_ori=principal.agency_ori,
        requested_by=principal.username,
        created_at=now,
        review_by=request.review_by,
        search_id=request.search_id,
        read_count=len(live),
        key_id="",
    )
    hold.key_id = hold_key_id(hold.id)
    session.add(hold)
    session.flush()
    session.execute(
        HOLD_READS.insert(),
        [{"hold_id": hold.id, "read_id": row.id} for row in live],
    )
    if hold.status == HoldStatus.ACTIVE:
        _activate(session, rt, hold, now)
    _state(
        session,
        rt,
        principal,
        hold,
        AuditKind.HOLD_PLACED,
        {
            "hold_id": str(hold.id),
            "case_number": hold.case_number,
            "status": hold.status,
            "read_count": hold.read_count,
            "search_id": str(request.search_id) if request.search_id else None,
            "review_by": hold.review_by.isoformat(),
        },
    )
    return _out(hold, now)


def _state(
    session: Session,
    rt: Deps,
    principal: Principal,
    hold: LegalHold,
    kind: AuditKind,
    details: dict[str, object],
) -> None:
    """The audit event stating the hold's content as it now is (``record_chain``)."""
    session.flush()
    details["record_mac"] = hold_mac(rt.keyring, hold)
    event = rt.audit.append(
        session, kind, principal.actor, subject=f"hold:{hold.id}", details=details
    )
    hold.audit_seq = event.seq
    session.flush()


def approve_hold(session: Session, rt: Deps, principal: Principal, hold_id: uuid.UUID) -> HoldOut:
    """The second approver: a different supervisor of the same agency."""
    now = rt.clock.now()
    hold = _get(session, principal, hold_id, for_update=True)
    if hold.status != HoldStatus.PENDING:
        raise Conflict(f"hold {hold_id} is {hold.status}, not pending")
    if hold.requested_by == principal.username:
        raise Forbidden("a hold must be approved by a different supervisor than its requester")
    hold.status = HoldStatus.ACTIVE
    hold.approved_by = principal.username
    hold.approved_at = now
    moved = _activate(session, rt, hold, now)
    _state(
        session,
        rt,
        principal,
        hold,
        AuditKind.HOLD_APPROVED,
        {"hold_id": str(hold.id), "read_count": hold.read_count, "protected": moved},
    )
    return _out(hold, now)


def release_hold(
    session: Session, rt: Deps, principal: Principal, hold_id: uuid.UUID, reason: str
) -> HoldOut:
    """Release a hold: its reads go back to their class (or to another hold still naming
    them); a read whose window passed meanwhile is left for the purge."""
    now = rt.clock.now()
    if not reason.strip():
        raise ValidationError({"reason": "is required"})
    hold = _get(session, principal, hold_id, for_update=True)
    if hold.status == HoldStatus.RELEASED:
        raise Conflict(f"hold {hold_id} is already released")
    was_active = hold.status == HoldStatus.ACTIVE
    hold.status = HoldStatus.RELEASED
    hold.released_by = principal.username
    hold.released_at = now
    counts = {"returned": 0, "expired": 0, "still_held": 0}
    if was_active:
        counts = _deactivate(session, rt, hold, now)
    rows = rows_by_id(session, _hold_read_ids(session, hold.id))
    hold.release_reason = _masked(rt, reason, {plate_of(rt, r) for r in rows if _readable(rt, r)})
    hold.release_sealed = seal_texts(rt, {"reason": reason}, hold_release_aad(hold.id.bytes))
    _state(
        session,
        rt,
        principal,
        hold,
        AuditKind.HOLD_RELEASED,
        {"hold_id": str(hold.id), "was_active": was_active, **counts},
    )
    return _out(hold, now)


def list_holds(
    session: Session, rt: Deps, principal: Principal, *, status: str | None, overdue: bool
) -> list[HoldOut]:
    now = rt.clock.now()
    query = select(LegalHold).where(LegalHold.agency_ori == principal.agency_ori)
    if status is not None:
        query = query.where(LegalHold.status == status)
    if overdue:
        query = query.where(LegalHold.status != HoldStatus.RELEASED, LegalHold.review_by <= now)
    holds = session.scalars(query.order_by(LegalHold.created_at.desc())).all()
    return [_out(h, now) for h in holds]


def get_hold(session: Session, rt: Deps, principal: Principal, hold_id: uuid.UUID) -> HoldOut:
    return _out(_get(session, principal, hold_id), rt.clock.now())


# -- internals -------------------------------------------------------------------------------


def _check_request(rt: Deps, request: HoldRequest, now: datetime) -> None:
    errors: dict[str, str] = {}
    if not request.case_number.strip():
        errors["case_number"] = "is required"
    if not request.reason.strip():
        errors["reason"] = "is required"
    if not request.read_ids and request.search_id is None:
        errors["read_ids"] = "give read_ids, a search_id, or both"
    if len(request.read_ids) > MAX_READS:
        errors["read_ids"] = f"at most {MAX_READS} reads per hold"
    limit = rt.settings.holds.max_review_days
    if request.review_by <= now:
        errors["review_by"] = "must be in the future"
    elif request.review_by > now + timedelta(days=limit):
        errors["review_by"] = f"must be within {limit} days (holds.max_review_days)"
    if errors:
        raise ValidationError(errors)


def _masked(rt: Deps, text: str, plates: Iterable[bytes]) -> str:
    """The display copy: the held plates and every plate-shaped token masked."""
    return display(rt, text, [plate.decode() for plate in plates])


def _readable(rt: Deps, row: Any) -> bool:
    return bool(rt.keyring.has_key(row.key_id))


def _get(
    session: Session, principal: Principal, hold_id: uuid.UUID, *, for_update: bool = False
) -> LegalHold:
    query = select(LegalHold).where(LegalHold.id == hold_id)
    if for_update:
        query = query.with_for_update()
    hold = session.scalars(query).first()
    if hold is None or hold.agency_ori != principal.agency_ori:
        raise NotFound(f"hold {hold_id} does not exist or is another agency's")
    return hold


def _hold_read_ids(session: Session, hold_id: uuid.UUID) -> list[uuid.UUID]:
    return list(session.scalars(select(HoldRead.read_id).where(HoldRead.hold_id == hold_id)))


def _activate(session: Session, rt: Deps, hold: LegalHold, now: datetime) -> int:
    """Move the hold's readable, unexpired reads under the hold key; returns how many are
    now protected by this hold (reads already held by another hold stay under that key)."""
    key = ensure_key(session, rt, hold.key_id)
    params = []
    protected = 0
    for row in rows_by_id(session, _hold_read_ids(session, hold.id)):
        if not is_live(
            row.retention_class, row.observed_at, row.expires_at, rt.settings.retention, now
        ):
            continue  # expired while the hold was pending: gone, whatever the purge says
        protected += 1
        if row.retention_class == RetentionClass.HELD:
            continue  # already held: it stays under the first hold's key
        params.append(rekeyed(row, plate_of(rt, row), key, RetentionClass.HELD, None))
    execute_rekey(session, rt, params)
    hold.read_count = protected
    return protected


def _deactivate(session: Session, rt: Deps, hold: LegalHold, now: datetime) -> dict[str, int]:
    ids = _hold_read_ids(session, hold.id)
    others: dict[uuid.UUID, str] = {}
    for start in range(0, len(ids), 500):
        for read_id, key_id in session.execute(
            select(HoldRead.read_id, LegalHold.key_id)
            .join(LegalHold, LegalHold.id == HoldRead.hold_id)
            .where(
                HoldRead.read_id.in_(ids[start : start + 500]),
                LegalHold.status == HoldStatus.ACTIVE,
                LegalHold.id != hold.id,
            )
            .order_by(LegalHold.created_at)
        ):
            others.setdefault(read_id, key_id)
    counts = {"returned": 0, "expired": 0, "still_held": 0}
    params = []
    for row in rows_by_id(session, ids):
        if row.retention_class != RetentionClass.HELD:
            continue  # purged or never protected by this hold
        if row.id in others:
            counts["still_held"] += 1
            if row.key_id == hold.key_id:
                other = ensure_key(session, rt, others[row.id])
                params.append(rekeyed(row, plate_of(rt, row), other, RetentionClass.HELD, None))
            continue
        window = rt.settings.retention.read_window(row.hit)
        expires = row.observed_at + timedelta(days=window.days)
        cls = RetentionClass.HIT if row.hit else RetentionClass.UNMATCHED
        if expires > now:
            counts["returned"] += 1
            key = class_key(session, rt, row.hit, row.observed_at)
            params.append(rekeyed(row, plate_of(rt, row), key, cls, expires))
        else:
            # Past its window: it keeps the hold key (its class key may be gone) until the
            # purge deletes it, which the class and expiry now allow.
            counts["expired"] += 1
            session.execute(
                update(PlateRead)
                .where(PlateRead.id == row.id)
                .values(retention_class=cls, expires_at=expires)
            )
    execute_rekey(session, rt, params)
    return counts
