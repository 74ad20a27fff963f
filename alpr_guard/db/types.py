"""Column types and ids every table shares: Base with its naming convention, UTC datetimes
stored the same on both databases, and time-ordered UUIDs."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    DateTime,
    Dialect,
    MetaData,
)
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def sqlite_utc_text(value: datetime | None) -> str | None:
    """What UTCDateTime + SQLite's DATETIME store: naive UTC text, microseconds always shown."""
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("naive datetime given to a UTCDateTime column")
    # isoformat is a single C call (strftime with %f is several times slower); [:26] drops the
    # "+00:00" that an aware UTC datetime renders.
    return value.astimezone(UTC).isoformat(" ", "microseconds")[:26]


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on both databases.

    PostgreSQL stores ``timestamptz``; SQLite stores naive UTC text that sorts correctly.
    Naive datetimes are refused on the way in: a read's time must never be guessed.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def bind_processor(self, dialect: Dialect) -> Callable[[datetime | None], Any] | None:
        if dialect.name == "sqlite":
            # The text process_bind_param + SQLite's DATETIME processor produce, in one C-level
            # isoformat instead of two Python steps: a search binds a couple of dozen of these.
            return sqlite_utc_text
        return super().bind_processor(dialect)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


# UUID version 7 layout: 48-bit Unix milliseconds, version 7, then 74 random bits around the
# RFC 4122 variant. Time-ordered, so B-tree inserts of new ids stay near the right edge.
_UUID7_FIXED = (0x7 << 76) | (0x2 << 62)
_UUID7_RANDOM = (0xFFF << 64) | ((1 << 62) - 1)
_UUID7_RANDOM_BYTES = 10


def new_ids(count: int) -> list[uuid.UUID]:
    """``count`` time-ordered UUIDs (version 7 layout) for one batch: one clock read and one
    ``os.urandom`` call for all of them."""
    head = ((time.time_ns() // 1_000_000) & ((1 << 48) - 1)) << 80 | _UUID7_FIXED
    step = _UUID7_RANDOM_BYTES
    raw = os.urandom(step * count)
    from_bytes, make = int.from_bytes, uuid.UUID
    return [
        make(int=head | (from_bytes(raw[at : at + step], "big") & _UUID7_RANDOM))
        for at in range(0, step * count, step)
    ]


def new_id() -> uuid.UUID:
    """A time-ordered UUID (version 7 layout): B-tree inserts stay near the right edge."""
    return new_ids(1)[0]


# SQLite page cache per connection, in KiB. It is per connection, so a pool of N connections
# can hold N times this. 16 MiB holds the upper levels of every plate_reads B-tree; the leaves
# a search touches are a few pages per day key, read from the OS page cache when not here.
# bench/search.py at 1M reads: p50/p99 of the data path the same within noise at 64, 16 and
# 8 MiB; bench/ingest.py: peak RSS 182 MB at 64 MiB, 123 MB at 16 MiB, same throughput.
