"""A read's plate crop and vehicle image: ALPR information like the plate, kept like it.

Each image is AES-GCM under its read's data key (the day key, the hit's month key, or a hold's
key) with associated data naming the read, the key and the kind of image: an image moved to
another read, or relabelled, no longer decrypts. Destroying the read's key makes the image
unreadable in every copy of the database (crypto-shredding); the purge also deletes the rows of
reads it deleted (``delete_orphans``). When a read moves to another key (a legal hold, its
release), its images move with it (``rekey_images``). Images are returned only to an allowed
search that asks for them, and their number is on that search's record. Nothing here logs an
image or a plate.

The store is the ``read_images`` table behind these few functions: another backend (a
directory, an object store) would keep the same sealing and replace the row operations.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, exists, insert, select, update
from sqlalchemy.orm import Session

from alpr_guard.crypto import DataKey, KeyRing
from alpr_guard.errors import KeyUnavailable
from alpr_guard.models import PlateRead, ReadImage
from alpr_guard.services.deps import Deps

IMAGES = cast(Table, ReadImage.__table__)
READS = cast(Table, PlateRead.__table__)
_AAD_VERSION = b"alpr_guard/image/v1"


def image_aad(read_id: uuid.UUID, key_id: str, kind: str) -> bytes:
    return b"|".join((_AAD_VERSION, read_id.bytes, key_id.encode(), kind.encode()))


def sealed_rows(
    key: DataKey, read_id: uuid.UUID, images: Mapping[str, tuple[str, bytes]]
) -> list[dict[str, Any]]:
    """The ``read_images`` rows of one read's images, encrypted under ``key``."""
    return [
        {
            "read_id": read_id,
            "kind": kind,
            "key_id": key.key_id,
            "content_type": content_type,
            "image_ct": KeyRing.encrypt(key, raw, image_aad(read_id, key.key_id, kind)),
        }
        for kind, (content_type, raw) in sorted(images.items())
    ]


def insert_images(session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
    if rows:
        session.execute(insert(IMAGES), list(rows))


@dataclass(frozen=True)
class ImageOut:
    kind: str
    content_type: str
    data: bytes

    def __repr__(self) -> str:
        return f"ImageOut({self.kind!r}, {self.content_type!r}, {len(self.data)} bytes)"


_FOR_READS = select(
    IMAGES.c.read_id, IMAGES.c.kind, IMAGES.c.key_id, IMAGES.c.content_type, IMAGES.c.image_ct
).where(IMAGES.c.read_id.in_(bindparam("ids", expanding=True)))


def images_for(
    session: Session, rt: Deps, read_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[ImageOut]]:
    """The images of these reads, decrypted; one that fails authentication (moved, altered,
    or its key destroyed) is left out, never returned."""
    found: dict[uuid.UUID, list[ImageOut]] = {}
    for start in range(0, len(read_ids), 500):
        chunk = list(read_ids[start : start + 500])
        for read_id, kind, key_id, content_type, blob in session.execute(
            _FOR_READS, {"ids": chunk}
        ):
            try:
                key = rt.keyring.data_key(key_id)
                raw = KeyRing.decrypt(key, blob, image_aad(read_id, key_id, kind))
            except KeyUnavailable:
                continue
            found.setdefault(read_id, []).append(ImageOut(kind, content_type, raw))
    for images in found.values():
        images.sort(key=lambda image: image.kind)
    return found


_REKEY = (
    update(IMAGES)
    .where(IMAGES.c.read_id == bindparam("b_read_id"), IMAGES.c.kind == bindparam("b_kind"))
    .values(key_id=bindparam("b_key_id"), image_ct=bindparam("b_image_ct"))
)


def rekey_images(session: Session, rt: Deps, moves: Iterable[tuple[uuid.UUID, DataKey]]) -> int:
    """Re-encrypt the images of reads that moved to another key; returns how many moved."""
    targets = dict(moves)
    if not targets:
        return 0
    params = []
    ids = list(targets)
    for start in range(0, len(ids), 500):
        rows = session.execute(_FOR_READS, {"ids": ids[start : start + 500]}).all()
        for read_id, kind, key_id, _content_type, blob in rows:
            new = targets[read_id]
            if key_id == new.key_id:
                continue
            old = rt.keyring.data_key(key_id)
            raw = KeyRing.decrypt(old, blob, image_aad(read_id, key_id, kind))
            params.append(
                {
                    "b_read_id": read_id,
                    "b_kind": kind,
                    "b_key_id": new.key_id,
                    "b_image_ct": KeyRing.encrypt(new, raw, image_aad(read_id, new.key_id, kind)),
                }
            )
    if params:
        session.execute(_REKEY, params)
    return len(params)


def delete_orphans(session: Session, limit: int) -> int:
    """Delete up to ``limit`` images whose read is gone (the purge deleted it, or dropped its
    partition); returns how many."""
    orphans = (
        select(IMAGES.c.read_id).where(~exists().where(READS.c.id == IMAGES.c.read_id)).limit(limit)
    )
    result = session.execute(
        delete(IMAGES)
        .where(IMAGES.c.read_id.in_(orphans))
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)
