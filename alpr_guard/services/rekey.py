"""Moving a read's plate (and its images) from one key to another: legal holds, their
release, and hits stored under day keys before hit-period keys existed.

The plate is decrypted under its current key and encrypted under the new one with associated
data naming the new key, and its blind-index token is recomputed under the new key; class and
expiry change in the same UPDATE. Core executemany, never ORM objects.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.orm import Session

from alpr_guard.crypto import DataKey, KeyRing
from alpr_guard.models import PlateRead
from alpr_guard.services.deps import Deps
from alpr_guard.services.images import rekey_images
from alpr_guard.services.keys import class_key
from alpr_guard.services.sealed_reads import open_plate, seal_plate
from alpr_guard.vocabulary import RetentionClass

READS = cast(Table, PlateRead.__table__)

# What re-keying a read needs: its plate's ciphertext and everything its associated data names.
_CIPHERTEXT = (
    PlateRead.id,
    PlateRead.key_id,
    PlateRead.plate_ct,
    PlateRead.observed_at,
    PlateRead.camera_id,
    PlateRead.expires_at,
)

READS_BY_ID = select(
    *_CIPHERTEXT, PlateRead.hit, PlateRead.retention_class, PlateRead.agency_id
).where(PlateRead.id.in_(bindparam("ids", expanding=True)))

# Core, not ORM: one executemany for the whole hold.
REKEY = (
    update(READS)
    .where(READS.c.id == bindparam("b_id"))
    .values(
        key_id=bindparam("b_key_id"),
        plate_ct=bindparam("b_plate_ct"),
        plate_index=bindparam("b_plate_index"),
        retention_class=bindparam("b_class"),
        expires_at=bindparam("b_expires_at"),
    )
)


def rows_by_id(session: Session, ids: Sequence[uuid.UUID]) -> list[Any]:
    rows: list[Any] = []
    for start in range(0, len(ids), 500):
        rows.extend(session.execute(READS_BY_ID, {"ids": list(ids[start : start + 500])}).all())
    return rows


def plate_of(rt: Deps, row: Any) -> bytes:
    key = rt.keyring.data_key(row.key_id)
    return open_plate(key, row.plate_ct, row.id, row.observed_at, row.camera_id)


def rekeyed(
    row: Any, plate: bytes, key: DataKey, cls: str, expires: datetime | None
) -> dict[str, Any]:
    return {
        "b_id": row.id,
        "b_key_id": key.key_id,
        "b_plate_ct": seal_plate(key, plate, row.id, row.observed_at, row.camera_id),
        "b_plate_index": KeyRing.blind_index(key, plate.decode()),
        "b_class": cls,
        "b_expires_at": expires,
    }


def execute_rekey(session: Session, rt: Deps, params: list[dict[str, Any]]) -> None:
    """Apply the moves; each read's images move to its new key with it."""
    if params:
        session.execute(REKEY, params)
        rekey_images(session, rt, ((p["b_id"], rt.keyring.data_key(p["b_key_id"])) for p in params))


LEGACY_BATCH = 2_000
_LEGACY_HITS = (
    select(*_CIPHERTEXT)
    .where(
        PlateRead.retention_class == RetentionClass.HIT,
        PlateRead.key_id.like("day-%"),
    )
    .limit(LEGACY_BATCH)
)


def rekey_legacy_hits(session: Session, rt: Deps) -> int:
    """Hits stored under a day key (before migration 0005 gave hits their month key) move to
    their month key, so that destroying the day key on schedule cannot take them with it and
    a search finds every hit under a month key. One batch per call; returns how many moved."""
    rows = session.execute(_LEGACY_HITS).all()
    params = [
        rekeyed(
            row,
            plate_of(rt, row),
            class_key(session, rt, True, row.observed_at),
            RetentionClass.HIT,
            row.expires_at,
        )
        for row in rows
    ]
    execute_rekey(session, rt, params)
    return len(params)
