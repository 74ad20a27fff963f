"""A stored read's sealed plate: its associated data, and opening it, in one place.

Ingest seals, search, sharing and re-keying open; each uses these functions, so that what binds
a ciphertext to its row (id, key, time, camera) is written once.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from alpr_guard.crypto import DataKey, KeyRing

_AAD_VERSION = b"alpr_guard/read/v2"


def read_aad(read_id: uuid.UUID, key_id: str, observed_at: datetime, camera_id: str) -> bytes:
    """Associated data: the ciphertext belongs to this row, under this key, seen at this time by
    this camera. Editing a read's time or camera in the database makes its plate undecryptable,
    so a read that still decrypts is evidence that where and when were not altered."""
    return b"|".join(
        (
            _AAD_VERSION,
            read_id.bytes,
            key_id.encode(),
            observed_at.astimezone(UTC).isoformat().encode(),
            camera_id.encode(),
        )
    )


_HIT_AAD_VERSION = b"alpr_guard/hit/v1"


def hit_aad(read_id: uuid.UUID, observed_at: datetime, camera_id: str) -> bytes:
    """Associated data of a hit's sealed reference: it opens only as this read's match."""
    return b"|".join(
        (
            _HIT_AAD_VERSION,
            read_id.bytes,
            observed_at.astimezone(UTC).isoformat().encode(),
            camera_id.encode(),
        )
    )


def seal_plate(
    key: DataKey, plate: bytes, read_id: uuid.UUID, observed_at: datetime, camera_id: str
) -> bytes:
    """The plate sealed for its row under ``key`` (ingest's hot loop inlines the same call)."""
    return KeyRing.encrypt(key, plate, read_aad(read_id, key.key_id, observed_at, camera_id))


def open_plate(
    key: DataKey, plate_ct: bytes, read_id: uuid.UUID, observed_at: datetime, camera_id: str
) -> bytes:
    """A stored read's plate; raises KeyUnavailable when the key is gone or the ciphertext was
    moved to another row, time or camera (the associated data no longer matches)."""
    return KeyRing.decrypt(key, plate_ct, read_aad(read_id, key.key_id, observed_at, camera_id))
