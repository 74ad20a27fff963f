"""record_reads: cameras' plate reads in, encrypted and indexed, in one transaction per batch.

Rules enforced here: the plate is normalised and encrypted under its UTC day's data key with
associated data binding it to its row id and key id (a ciphertext moved to another row no longer
decrypts); the blind index is that day's keyed token; the retention class and expiry are fixed
at ingest from the config (``retention.unmatched`` / ``retention.hit``); a replayed
``client_read_id`` from the same camera is stored once. Rows go in through SQLAlchemy Core bulk
inserts. Nothing here writes a plate anywhere but the ciphertext column.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from alpr_guard.crypto import KeyRing
from alpr_guard.db import insert_ignore_returning, new_id
from alpr_guard.errors import ValidationError
from alpr_guard.models import PlateRead
from alpr_guard.runtime import Runtime
from alpr_guard.schemas import ReadIn
from alpr_guard.services.keys import day_of, hit_keys_for_ingest, keys_for_ingest, month_of
from alpr_guard.services.principals import Principal

READS = cast(Table, PlateRead.__table__)


@dataclass(frozen=True)
class IngestResult:
    accepted: int
    duplicates: int
    ids: tuple[uuid.UUID, ...]


def read_aad(read_id: uuid.UUID, key_id: str, observed_at: datetime, camera_id: str) -> bytes:
    """Associated data: the ciphertext belongs to this row, under this key, seen at this time by
    this camera. Editing a read's time or camera in the database makes its plate undecryptable,
    so a read that still decrypts is evidence that where and when were not altered."""
    return b"|".join(
        (
            b"alpr_guard/read/v2",
            read_id.bytes,
            key_id.encode(),
            observed_at.astimezone(UTC).isoformat().encode(),
            camera_id.encode(),
        )
    )


def record_reads(
    session: Session, rt: Runtime, principal: Principal, reads: Sequence[ReadIn]
) -> IngestResult:
    now = rt.clock.now()
    retention = rt.settings.retention
    skew = timedelta(seconds=rt.settings.ingest.max_future_skew_seconds)
    errors: dict[str, str] = {}
    for i, read in enumerate(reads):
        if read.observed_at > now + skew:
            errors[f"reads[{i}].observed_at"] = "is in the future"
        elif read.observed_at + timedelta(days=retention.read_window(read.hit).days) <= now:
            window = retention.read_window(read.hit)
            errors[f"reads[{i}].observed_at"] = (
                f"is older than the {window.name} retention window ({window.days} days)"
            )
    if errors:
        raise ValidationError(errors)

    ids: list[uuid.UUID | None] = [None] * len(reads)
    duplicates, repeats = _resolve_replays(session, principal.agency_id, reads, ids)

    # Unmatched reads go under their day's key; hits under their month's period key, which
    # outlives the day key (issue #3), so a day can be crypto-shredded on schedule.
    fresh = [r for i, r in enumerate(reads) if ids[i] is None]
    keys, destroyed = keys_for_ingest(
        session, rt, {day_of(r.observed_at) for r in fresh if not r.hit}
    )
    hit_keys, destroyed_months = hit_keys_for_ingest(
        session, rt, {month_of(r.observed_at) for r in fresh if r.hit}
    )
    if destroyed or destroyed_months:
        bad = {
            f"reads[{i}].observed_at": "falls in a period whose data has been destroyed"
            for i, r in enumerate(reads)
            if ids[i] is None
            and (
                month_of(r.observed_at) in destroyed_months
                if r.hit
                else day_of(r.observed_at) in destroyed
            )
        }
        raise ValidationError(bad)

    rows: list[dict[str, Any]] = []
    positions: list[int] = []
    encrypt, blind_index = KeyRing.encrypt, KeyRing.blind_index
    unmatched_days = timedelta(days=retention.unmatched.days)
    hit_days = timedelta(days=retention.hit.days)
    for i, read in enumerate(reads):
        if ids[i] is not None or i in repeats:
            continue
        key = hit_keys[month_of(read.observed_at)] if read.hit else keys[day_of(read.observed_at)]
        read_id = new_id()
        plate = read.plate.value
        rows.append(
            {
                "id": read_id,
                "agency_id": principal.agency_id,
                "camera_id": read.camera_id,
                "observed_at": read.observed_at,
                "plate_ct": encrypt(
                    key,
                    plate.encode(),
                    read_aad(read_id, key.key_id, read.observed_at, read.camera_id),
                ),
                "plate_index": blind_index(key, plate),
                "key_id": key.key_id,
                "plate_state": read.plate_state,
                "latitude": read.latitude,
                "longitude": read.longitude,
                "confidence": read.confidence,
                "client_read_id": read.client_read_id,
                "retention_class": "hit" if read.hit else "unmatched",
                "hit": read.hit,
                "expires_at": read.observed_at + (hit_days if read.hit else unmatched_days),
                "ingested_at": now,
            }
        )
        positions.append(i)
        ids[i] = read_id
    for repeat, first in repeats.items():
        ids[repeat] = ids[first]

    inserted = insert_ignore_returning(
        session,
        READS,
        ["agency_id", "client_read_id", "camera_id", "retention_class", "observed_at"],
        rows,
        "id",
    )
    lost = [p for p, row in zip(positions, rows, strict=True) if row["id"] not in inserted]
    if lost:
        # A concurrent batch stored the same client_read_id first: report its row instead.
        for p in lost:
            ids[p] = None
        extra, _ = _resolve_replays(session, principal.agency_id, reads, ids)
        duplicates += extra
        for repeat, first in repeats.items():
            ids[repeat] = ids[first]

    accepted = len(reads) - duplicates
    rt.audit.append(
        session,
        "reads.ingested",
        principal.actor,
        details={
            "accepted": accepted,
            "duplicates": duplicates,
            "cameras": len({r.camera_id for r in reads}),
            "days": sorted({str(day_of(r.observed_at)) for r in reads}),
            "hits": sum(1 for r in reads if r.hit),
        },
    )
    return IngestResult(
        accepted=accepted, duplicates=duplicates, ids=tuple(i for i in ids if i is not None)
    )


def _resolve_replays(
    session: Session, agency_id: int, reads: Sequence[ReadIn], ids: list[uuid.UUID | None]
) -> tuple[int, dict[int, int]]:
    """Fill ``ids`` for reads already stored; map reads repeated within the batch to their
    first occurrence. Returns (duplicates, {repeat position: first position})."""
    wanted = {
        (r.camera_id, r.client_read_id)
        for i, r in enumerate(reads)
        if r.client_read_id is not None and ids[i] is None
    }
    if not wanted:
        return 0, {}
    found: dict[tuple[str, str], uuid.UUID] = {}
    pairs = sorted((camera, client) for camera, client in wanted if client is not None)
    for start in range(0, len(pairs), 500):
        chunk = pairs[start : start + 500]
        for read_id, camera, client_id in session.execute(
            select(PlateRead.id, PlateRead.camera_id, PlateRead.client_read_id).where(
                PlateRead.agency_id == agency_id,
                PlateRead.client_read_id.in_({client for _camera, client in chunk}),
            )
        ):
            if client_id is not None:
                found[(camera, client_id)] = read_id
    duplicates = 0
    seen: dict[tuple[str, str], int] = {}
    repeats: dict[int, int] = {}
    for i, read in enumerate(reads):
        client = read.client_read_id
        if client is None or ids[i] is not None:
            continue
        pair = (read.camera_id, client)
        if pair in found:
            ids[i] = found[pair]
            duplicates += 1
        elif pair in seen:
            repeats[i] = seen[pair]  # repeated inside the batch: only the first is stored
            duplicates += 1
        else:
            seen[pair] = i
    return duplicates, repeats
