"""record_reads: cameras' plate reads in, encrypted and indexed, in one transaction per batch.

Rules enforced here: the plate is normalised and encrypted under its UTC day's data key with
associated data binding it to its row id and key id (a ciphertext moved to another row no longer
decrypts); the blind index is that day's keyed token; the retention class and expiry are fixed
at ingest from the config (``retention.unmatched`` / ``retention.hit``); a hit must name the
hot list and entry it matched, which is stored sealed and bound to its read; a replayed
``client_read_id`` from the same camera is stored once. Rows go in through SQLAlchemy Core bulk
inserts. Nothing here writes a plate anywhere but the ciphertext column.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, bindparam, select
from sqlalchemy.orm import Session

from alpr_guard.crypto import KeyRing
from alpr_guard.db import (
    DriverSelect,
    OneOf,
    from_driver_utc,
    from_driver_uuid,
    insert_ignore_returning,
    new_ids,
)
from alpr_guard.errors import ValidationError
from alpr_guard.models import PlateRead
from alpr_guard.services.deps import Deps
from alpr_guard.services.images import insert_images, sealed_rows
from alpr_guard.services.keys import day_of, hit_keys_for_ingest, keys_for_ingest
from alpr_guard.services.principals import Principal
from alpr_guard.services.requests import ReadIn
from alpr_guard.services.sealed_reads import hit_aad, read_aad
from alpr_guard.settings import RetentionSettings
from alpr_guard.vocabulary import AuditKind, RetentionClass

READS = cast(Table, PlateRead.__table__)


@dataclass(frozen=True)
class IngestResult:
    accepted: int
    duplicates: int
    ids: tuple[uuid.UUID, ...]
    # Per read, in order: stored by this call (False: a replay, or repeated in the batch).
    stored: tuple[bool, ...] = ()
    images: int = 0  # images stored with the new reads


def seal_hit_ref(rt: Deps, read_id: uuid.UUID, read: ReadIn) -> bytes | None:
    """A hit's hot list and entry, sealed under the audit key (an entry may be a plate)."""
    if read.hit_ref is None:
        return None
    hot_list, entry = read.hit_ref
    payload = json.dumps({"list": hot_list, "entry": entry}, separators=(",", ":")).encode()
    return rt.keyring.seal(payload, hit_aad(read_id, read.observed_at, read.camera_id))


def open_hit_ref(
    rt: Deps, read_id: uuid.UUID, observed_at: datetime, camera_id: str, sealed: bytes
) -> dict[str, str]:
    """The hot list and entry a stored hit matched (raises KeyUnavailable if the sealed value
    was altered or moved to another read)."""
    opened = json.loads(rt.keyring.unseal(sealed, hit_aad(read_id, observed_at, camera_id)))
    return {"list": str(opened["list"]), "entry": str(opened["entry"])}


# The row tuple built in record_reads, in this order.
_COLUMNS = (
    "id",
    "agency_id",
    "camera_id",
    "observed_at",
    "plate_ct",
    "plate_index",
    "key_id",
    "plate_state",
    "latitude",
    "longitude",
    "confidence",
    "client_read_id",
    "retention_class",
    "hit",
    "expires_at",
    "ingested_at",
    "hit_ref",
)
_REPLAY_KEY = ("agency_id", "client_read_id", "camera_id", "retention_class", "observed_at")


Images = Mapping[str, tuple[str, bytes]]  # kind -> (content type, bytes)


def record_reads(
    session: Session,
    rt: Deps,
    principal: Principal,
    reads: Sequence[ReadIn],
    images: Sequence[Images] | None = None,
    *,
    source: str | None = None,
    ignored_fields: int | None = None,
) -> IngestResult:
    """Store ``reads`` (and, per read, its ``images``, sealed under the read's own key); a
    replayed read is answered with its stored id and its images are not stored again.
    ``source`` names the vendor mapping the reads came through, and ``ignored_fields`` how
    many fields of their bodies the vendor does not document, for the audit event."""
    now = rt.clock.now()
    check_times(reads, now, rt.settings.retention, rt.settings.ingest.max_future_skew_seconds)

    # Each read's UTC day, worked out once: the replay lookup, the keys, the hot loop and the
    # audit event all need it (it was computed four times per read).
    days = [day_of(r.observed_at) for r in reads]
    ids: list[uuid.UUID | None] = [None] * len(reads)
    duplicates, repeats = _resolve_replays(session, principal.agency_id, reads, ids, days)

    # Unmatched reads go under their day's key; hits under their month's period key, which
    # outlives the day key, so a day can be crypto-shredded on schedule.
    fresh = [i for i in range(len(reads)) if ids[i] is None]
    keys, destroyed = keys_for_ingest(session, rt, {days[i] for i in fresh if not reads[i].hit})
    hit_keys, destroyed_months = hit_keys_for_ingest(
        session, rt, {days[i].replace(day=1) for i in fresh if reads[i].hit}
    )
    if destroyed or destroyed_months:
        bad = {
            f"reads[{i}].observed_at": "falls in a period whose data has been destroyed"
            for i, r in enumerate(reads)
            if ids[i] is None
            and (days[i].replace(day=1) in destroyed_months if r.hit else days[i] in destroyed)
        }
        raise ValidationError(bad)

    # The hot loop: one tuple per stored read, values as Python objects; the database layer
    # converts them column by column for the driver (see db.insert_ignore_returning).
    positions = [i for i in range(len(reads)) if ids[i] is None and i not in repeats]
    new = new_ids(len(positions))
    rows: list[tuple[Any, ...]] = []
    image_rows: list[dict[str, Any]] = []
    append = rows.append
    agency_id = principal.agency_id
    encrypt, blind_index, aad = KeyRing.encrypt, KeyRing.blind_index, read_aad
    unmatched_days = timedelta(days=rt.settings.retention.unmatched.days)
    hit_days = timedelta(days=rt.settings.retention.hit.days)
    for i, read_id in zip(positions, new, strict=True):
        read = reads[i]
        key = hit_keys[days[i].replace(day=1)] if read.hit else keys[days[i]]
        plate = read.plate.value
        append(
            (
                read_id,
                agency_id,
                read.camera_id,
                read.observed_at,
                encrypt(
                    key, plate.encode(), aad(read_id, key.key_id, read.observed_at, read.camera_id)
                ),
                blind_index(key, plate),
                key.key_id,
                read.plate_state,
                read.latitude,
                read.longitude,
                read.confidence,
                read.client_read_id,
                RetentionClass.HIT if read.hit else RetentionClass.UNMATCHED,
                read.hit,
                read.observed_at + (hit_days if read.hit else unmatched_days),
                now,
                seal_hit_ref(rt, read_id, read) if read.hit else None,
            )
        )
        if images is not None and images[i]:
            image_rows.extend(sealed_rows(key, read_id, images[i]))
        ids[i] = read_id
    for repeat, first in repeats.items():
        ids[repeat] = ids[first]

    inserted = insert_ignore_returning(session, READS, _REPLAY_KEY, _COLUMNS, rows, "id")
    image_rows = [row for row in image_rows if row["read_id"] in inserted]
    insert_images(session, image_rows)
    stored = [False] * len(reads)
    for p, read_id in zip(positions, new, strict=True):
        stored[p] = read_id in inserted
    lost = [p for p, read_id in zip(positions, new, strict=True) if read_id not in inserted]
    if lost:
        # A concurrent batch stored the same client_read_id first: report its row instead.
        for p in lost:
            ids[p] = None
        extra, _ = _resolve_replays(session, principal.agency_id, reads, ids, days)
        duplicates += extra
        for repeat, first in repeats.items():
            ids[repeat] = ids[first]

    accepted = len(reads) - duplicates
    details: dict[str, object] = {
        "accepted": accepted,
        "duplicates": duplicates,
        "cameras": len({r.camera_id for r in reads}),
        "days": sorted(str(day) for day in set(days)),
        "hits": sum(1 for r in reads if r.hit),
    }
    if images is not None:
        details["images"] = len(image_rows)
    if source is not None:
        details["source"] = source
    if ignored_fields is not None:
        details["ignored_fields"] = ignored_fields
    rt.audit.append(session, AuditKind.READS_INGESTED, principal.actor, details=details)
    return IngestResult(
        accepted=accepted,
        duplicates=duplicates,
        ids=tuple(i for i in ids if i is not None),
        stored=tuple(stored),
        images=len(image_rows),
    )


def check_times(
    reads: Sequence[ReadIn], now: datetime, retention: RetentionSettings, skew_seconds: int
) -> None:
    """All or nothing: any read from the future or already past its class's retention window
    refuses the batch, naming each one."""
    latest = now + timedelta(seconds=skew_seconds)
    # observed_at + days <= now  <=>  observed_at <= now - days (exact: timedeltas are integers)
    too_old = {hit: now - timedelta(days=retention.read_window(hit).days) for hit in (False, True)}
    if all(too_old[r.hit] < r.observed_at <= latest for r in reads):
        return
    errors: dict[str, str] = {}
    for i, read in enumerate(reads):
        if read.observed_at > latest:
            errors[f"reads[{i}].observed_at"] = "is in the future"
        elif read.observed_at <= too_old[read.hit]:
            window = retention.read_window(read.hit)
            errors[f"reads[{i}].observed_at"] = (
                f"is older than the {window.name} retention window ({window.days} days)"
            )
    raise ValidationError(errors)


# A replay is the same camera, client read id and observation time. The lookup is made per UTC
# day of observation, bounded by that day's first and last read: PostgreSQL then prunes it to
# the partitions of that day, and each client id is probed only where its read can be. (One
# lookup bounded by the whole batch's span probed every client id in every partition of the
# span: a backfill scattered over 30 days cost 30 probes per read.)
#
# On SQLite the lookup runs through the driver (``DriverSelect``): SQLAlchemy's per-call
# expansion of the IN list and its result processing cost more than SQLite's index probes
# (a backfill makes one lookup per day per batch). PostgreSQL keeps the ordinary path, whose
# plan sees the day's bounds.
_REPLAYS = DriverSelect(
    select(
        PlateRead.id, PlateRead.camera_id, PlateRead.client_read_id, PlateRead.observed_at
    ).where(
        PlateRead.agency_id == bindparam("agency_id"),
        OneOf(PlateRead.client_read_id, "clients"),
        PlateRead.observed_at >= bindparam("first"),
        PlateRead.observed_at <= bindparam("last"),
    ),
    prepare=False,
)
_REPLAY_CHUNK = 500


def _resolve_replays(
    session: Session,
    agency_id: int,
    reads: Sequence[ReadIn],
    ids: list[uuid.UUID | None],
    days: Sequence[date],
) -> tuple[int, dict[int, int]]:
    """Fill ``ids`` for reads already stored; map reads repeated within the batch to their
    first occurrence. Returns (duplicates, {repeat position: first position})."""
    by_day: dict[date, list[ReadIn]] = {}
    for i, read in enumerate(reads):
        if read.client_read_id is not None and ids[i] is None:
            by_day.setdefault(days[i], []).append(read)
    if not by_day:
        return 0, {}
    found: dict[tuple[str, str, datetime], uuid.UUID] = {}
    for day_reads in by_day.values():
        clients = sorted({r.client_read_id for r in day_reads if r.client_read_id is not None})
        span = {
            "agency_id": agency_id,
            "first": min(r.observed_at for r in day_reads),
            "last": max(r.observed_at for r in day_reads),
        }
        for start in range(0, len(clients), _REPLAY_CHUNK):
            chunk = clients[start : start + _REPLAY_CHUNK]
            for read_id, camera, client_id, observed_at in _REPLAYS.rows(
                session, {**span, "clients": chunk}
            ):
                if client_id is not None:
                    found[(camera, client_id, from_driver_utc(observed_at))] = from_driver_uuid(
                        read_id
                    )
    duplicates = 0
    seen: dict[tuple[str, str, datetime], int] = {}
    repeats: dict[int, int] = {}
    for i, read in enumerate(reads):
        client = read.client_read_id
        if client is None or ids[i] is not None:
            continue
        pair = (read.camera_id, client, read.observed_at)
        if pair in found:
            ids[i] = found[pair]
            duplicates += 1
        elif pair in seen:
            repeats[i] = seen[pair]  # repeated inside the batch: only the first is stored
            duplicates += 1
        else:
            seen[pair] = i
    return duplicates, repeats
