"""Data-key bookkeeping: the database records which keys exist and which were destroyed; the key
store holds the material. A key the database marks destroyed is never recreated, so a
late-arriving read cannot undo crypto-shredding.

Three scopes, one per retention rule (unmatched reads, hits, held reads):

* ``day`` (``day-2026-11-20``): unmatched reads of one UTC day. Destroyed once every read it
  could hold is past the unmatched window and none remains.
* ``period`` (``hit-2026-11``): reads that matched a hot list, one key per UTC month, because
  their window (a year) outlives the day key. Destroyed once the month is past the hit window.
* ``hold`` (``hold-<hold id>``): reads under a legal hold. Destroyed once the hold is released
  and the purge has removed the last read under it.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import cast

from sqlalchemy import Table, bindparam, or_, select
from sqlalchemy.orm import Session

from alpr_guard.crypto import DataKey, day_key_id
from alpr_guard.db import DriverSelect, execute_insert_ignore
from alpr_guard.errors import KeyUnavailable
from alpr_guard.models import DataKeyRecord
from alpr_guard.services.deps import Deps
from alpr_guard.vocabulary import RetentionClass

log = logging.getLogger(__name__)


def day_of(instant: datetime) -> date:
    return instant.astimezone(UTC).date()


def day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def days_between(start: datetime, end: datetime) -> list[date]:
    """UTC days touched by the half-open window [start, end)."""
    first, last = day_of(start), day_of(end - timedelta(microseconds=1))
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def month_of(instant: datetime) -> date:
    return day_of(instant).replace(day=1)


def next_month(month: date) -> date:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1)


def period_key_id(month: date) -> str:
    return f"hit-{month:%Y-%m}"


def hold_key_id(hold_id: uuid.UUID) -> str:
    return f"hold-{hold_id.hex}"


def key_scope(key_id: str) -> tuple[str, datetime | None, datetime | None]:
    """(retention class, epoch start, epoch end) of the reads a key can hold: a day key holds
    unmatched reads of its day, a hit-period key hits of its month, a hold key held reads of
    any time (no epoch)."""
    if key_id.startswith("day-"):
        day = date.fromisoformat(key_id[4:])
        return RetentionClass.UNMATCHED, day_start(day), day_start(day + timedelta(days=1))
    if key_id.startswith("hit-"):
        month = date.fromisoformat(f"{key_id[4:]}-01")
        return RetentionClass.HIT, day_start(month), day_start(next_month(month))
    return RetentionClass.HELD, None, None


_SCOPES: dict[str, str] = {
    RetentionClass.UNMATCHED: "day",
    RetentionClass.HIT: "period",
    RetentionClass.HELD: "hold",
}


def _ensure_keys(
    session: Session, rt: Deps, wanted: Iterable[str]
) -> tuple[dict[str, DataKey], set[str]]:
    """Record the keys ``wanted`` that are new (scope and epoch from their ids; a hold key's
    epoch is its creation) and load them; also the ids the database marks destroyed, which
    are never recreated, so a late-arriving read cannot undo crypto-shredding."""
    # Sorted: two batches creating the same new keys must take their row locks in one order.
    ids = sorted(set(wanted))
    if not ids:
        return {}, set()
    found = _known_keys(len(ids)).rows(session, {f"k{i}": k for i, k in enumerate(ids)})
    # destroyed_at as the driver returns it: only whether it is set matters here.
    existing = {str(row[0]): row[1] for row in found}
    destroyed = {k for k, at in existing.items() if at is not None}
    now = rt.clock.now()
    missing = []
    for key_id in ids:
        if key_id not in existing:
            cls, start, end = key_scope(key_id)
            missing.append(
                {
                    "key_id": key_id,
                    "scope": _SCOPES[cls],
                    "epoch_start": start or now,
                    "epoch_end": end or now,
                    "created_at": now,
                    "destroyed_at": None,
                }
            )
    execute_insert_ignore(session, cast(Table, DataKeyRecord.__table__), ["key_id"], missing)
    keys = {k: rt.keyring.data_key(k, create=True) for k in ids if k not in destroyed}
    return keys, destroyed


def ensure_key(session: Session, rt: Deps, key_id: str) -> DataKey:
    """Record (if new) and load one key; refuses one the database marks destroyed."""
    keys, _destroyed = _ensure_keys(session, rt, [key_id])
    if key_id not in keys:
        raise KeyUnavailable(f"data key {key_id} has been destroyed")
    return keys[key_id]


def class_key(session: Session, rt: Deps, hit: bool, observed_at: datetime) -> DataKey:
    """The (live) class key of a read, created if need be: where a released read goes back."""
    key_id = period_key_id(month_of(observed_at)) if hit else day_key_id(day_of(observed_at))
    return ensure_key(session, rt, key_id)


def _keys_by_epoch(
    session: Session, rt: Deps, wanted: dict[str, date]
) -> tuple[dict[date, DataKey], set[date]]:
    keys, destroyed = _ensure_keys(session, rt, wanted)
    return {wanted[k]: key for k, key in keys.items()}, {wanted[k] for k in destroyed}


def keys_for_ingest(
    session: Session, rt: Deps, days: Iterable[date]
) -> tuple[dict[date, DataKey], set[date]]:
    """Day keys for new unmatched reads, created as needed; also the days whose key was
    destroyed."""
    return _keys_by_epoch(session, rt, {day_key_id(d): d for d in days})


def hit_keys_for_ingest(
    session: Session, rt: Deps, months: Iterable[date]
) -> tuple[dict[date, DataKey], set[date]]:
    """Period keys for new hit reads (one per UTC month), created as needed; also the months
    whose key was destroyed."""
    return _keys_by_epoch(session, rt, {period_key_id(m): m for m in months})


@lru_cache(maxsize=64)
def _known_keys(count: int) -> DriverSelect:
    """The recorded keys among ``count`` named ones, with when each was destroyed (every
    ingest transaction runs it: compiled once per size)."""
    return DriverSelect(
        select(DataKeyRecord.key_id, DataKeyRecord.destroyed_at).where(
            DataKeyRecord.key_id.in_([bindparam(f"k{i}") for i in range(count)])
        )
    )


@lru_cache(maxsize=64)
def _live_keys(wanted: int) -> DriverSelect:
    """Live keys among ``wanted`` named ones, and every live hold key (searches run it)."""
    return DriverSelect(
        select(DataKeyRecord.key_id).where(
            or_(
                DataKeyRecord.key_id.in_([bindparam(f"w{i}") for i in range(wanted)]),
                DataKeyRecord.scope == "hold",
            ),
            DataKeyRecord.destroyed_at.is_(None),
        )
    )


def search_key_ids(days: Iterable[date]) -> list[str]:
    """The day and hit-period key ids a search of ``days`` may need (hold keys aside): the
    day keys, then the hit-period keys of their months."""
    days = list(days)
    return [day_key_id(d) for d in days] + sorted({period_key_id(d.replace(day=1)) for d in days})


def usable_keys(rt: Deps, key_ids: Iterable[str]) -> list[DataKey]:
    """The data keys of live ``key_ids`` that the key store holds."""
    keys = []
    for key_id in key_ids:
        if not rt.keyring.has_key(key_id):
            # Recorded live but absent from the store: its rows are unreadable anyway. Loud,
            # because it means the key store was damaged or restored from the wrong backup.
            log.error("data key %s is recorded live but missing from the key store", key_id)
            continue
        keys.append(rt.keyring.data_key(key_id))
    return keys


def keys_for_search(session: Session, rt: Deps, days: Iterable[date]) -> list[DataKey]:
    """Live keys that may hold reads of the window's days: ``search_key_ids`` and every live
    hold key. Destroyed or never-created keys have nothing to find."""
    wanted = search_key_ids(days)
    live = _live_keys(len(wanted)).rows(session, {f"w{i}": w for i, w in enumerate(wanted)})
    return usable_keys(rt, [key_id for (key_id,) in live])
