"""Data-key bookkeeping: the database records which day keys exist and which were destroyed;
the key store holds the material. A key the database marks destroyed is never recreated, so a
late-arriving read cannot undo crypto-shredding."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import cast

from sqlalchemy import Table, bindparam, select
from sqlalchemy.orm import Session

from alpr_guard.crypto import DataKey, day_key_id
from alpr_guard.db import execute_insert_ignore
from alpr_guard.models import DataKeyRecord
from alpr_guard.runtime import Runtime

log = logging.getLogger(__name__)


def day_of(instant: datetime) -> date:
    return instant.astimezone(UTC).date()


def day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def days_between(start: datetime, end: datetime) -> list[date]:
    """UTC days touched by the half-open window [start, end)."""
    first, last = day_of(start), day_of(end - timedelta(microseconds=1))
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def keys_for_ingest(
    session: Session, rt: Runtime, days: Iterable[date]
) -> tuple[dict[date, DataKey], set[date]]:
    """Day keys for new reads, created as needed; also the days whose key was destroyed."""
    # Sorted: two batches creating the same new days must take their row locks in one order.
    wanted = {day_key_id(d): d for d in sorted(days)}
    existing = {
        row[0]: row[1]
        for row in session.execute(
            select(DataKeyRecord.key_id, DataKeyRecord.destroyed_at).where(
                DataKeyRecord.key_id.in_(wanted)
            )
        )
    }
    destroyed = {wanted[k] for k, at in existing.items() if at is not None}
    now = rt.clock.now()
    missing = [
        {
            "key_id": k,
            "scope": "day",
            "epoch_start": day_start(d),
            "epoch_end": day_start(d + timedelta(days=1)),
            "created_at": now,
            "destroyed_at": None,
        }
        for k, d in wanted.items()
        if k not in existing
    ]
    execute_insert_ignore(session, cast(Table, DataKeyRecord.__table__), ["key_id"], missing)
    keys = {d: rt.keyring.data_key(k, create=True) for k, d in wanted.items() if d not in destroyed}
    return keys, destroyed


_LIVE_KEYS = select(DataKeyRecord.key_id).where(
    DataKeyRecord.key_id.in_(bindparam("wanted", expanding=True)),
    DataKeyRecord.destroyed_at.is_(None),
)


def keys_for_search(session: Session, rt: Runtime, days: Iterable[date]) -> list[DataKey]:
    """Live day keys for a window; destroyed or never-created days have nothing to find."""
    wanted = [day_key_id(d) for d in days]
    live = session.scalars(_LIVE_KEYS, {"wanted": wanted}).all()
    keys = []
    for key_id in live:
        if not rt.keyring.has_key(key_id):
            # Recorded live but absent from the store: its rows are unreadable anyway. Loud,
            # because it means the key store was damaged or restored from the wrong backup.
            log.error("data key %s is recorded live but missing from the key store", key_id)
            continue
        keys.append(rt.keyring.data_key(key_id))
    return keys
