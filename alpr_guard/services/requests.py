"""What a service is asked to do: its input types, already parsed and checked.

The wire layer (``schemas``, the API's models) builds these from untrusted input; services take
them and never see a request body. The page cursor is the search service's own token, so its
format is kept here with the request it continues.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from alpr_guard.clock import ensure_utc
from alpr_guard.policy.plates import Plate


@dataclass(frozen=True)
class ReadIn:
    plate: Plate
    observed_at: datetime
    camera_id: str
    plate_state: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    confidence: float | None = None
    client_read_id: str | None = None
    hit: bool = False  # matched a hot list: picks the class, and is kept a year, so...
    # ...it must name what it matched: (hot list, entry). Sealed at rest; an entry may be a plate.
    hit_ref: tuple[str, str] | None = field(default=None, repr=False)


@dataclass(frozen=True)
class SearchRequest:
    plate: Plate
    window_from: datetime
    window_to: datetime
    purpose: str
    justification: str = field(repr=False)
    case_number: str | None = field(default=None, repr=False)  # officers type plates here too
    on_behalf_of: str | None = None
    page_size: int | None = None
    cursor: tuple[datetime, uuid.UUID] | None = None  # (observed_at, id) of the last read seen
    include_images: bool = False  # return each read's plate crop and vehicle image


def encode_cursor(observed_at: datetime, read_id: uuid.UUID) -> str:
    """An opaque page cursor: a read's time and id, never anything about the plate."""
    raw = json.dumps([observed_at.isoformat(), str(read_id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: object) -> tuple[datetime, uuid.UUID]:
    if not isinstance(cursor, str) or len(cursor) > 200:
        raise ValueError("is not a cursor this service issued")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        at, rid = json.loads(raw)
        return ensure_utc(datetime.fromisoformat(at), "cursor"), uuid.UUID(rid)
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError):
        raise ValueError("is not a cursor this service issued") from None
