"""PostgreSQL time partitions of plate_reads: created ahead of time, dropped whole once expired.

Migration 0006 partitions ``plate_reads`` by class, then by UTC day (``unmatched``) or UTC month
(``hit``); ``held`` reads are not time-partitioned. This module keeps the time partitions:

* ``ensure_partitions`` creates the partitions of the coming days and months (and the recent
  past, for cameras that upload late). A read whose day has no partition is stored in its
  class's DEFAULT partition; when a partition is created for a range, rows already in the
  default for that range are moved into it in the same transaction.
* ``drop_expired_partitions`` detaches and drops every partition whose whole range is past
  its class's window and which holds no read with a later expiry (checked, not assumed, so
  that a window changed in the config never drops an unexpired read). Dropping a table writes
  a few WAL records instead of one per deleted row. The rows left after that (DEFAULT
  partitions, hits expiring day by day inside their month, released holds) go through the
  purge's ordinary row-level batches: the straggler sweep.

On SQLite every function here does nothing: the table is not partitioned there.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session

from alpr_guard.crypto import DataKey
from alpr_guard.db import DriverSelect, lock_partitions
from alpr_guard.services.deps import Deps
from alpr_guard.services.keys import (
    day_of,
    day_start,
    key_scope,
    keys_for_search,
    next_month,
    search_key_ids,
    usable_keys,
)
from alpr_guard.vocabulary import RetentionClass

AHEAD_DAYS = 7
BEHIND_DAYS = 2
AHEAD_MONTHS = 2
_NAME = re.compile(r"^plate_reads_(unmatched|hit)_p(\d{8}|\d{6})$")


@dataclass(frozen=True)
class Partition:
    name: str
    retention_class: str
    lower: datetime
    upper: datetime


def is_partitioned(session: Session) -> bool:
    if session.get_bind().dialect.name != "postgresql":
        return False
    kind = session.execute(
        text("SELECT relkind FROM pg_class WHERE relname = 'plate_reads' AND relkind = 'p'")
    ).scalar()
    return kind is not None


def _name(cls: str, start: date) -> str:
    return (
        f"plate_reads_{cls}_p{start:%Y%m%d}"
        if cls == RetentionClass.UNMATCHED
        else (f"plate_reads_{cls}_p{start:%Y%m}")
    )


def _parse(name: str) -> Partition | None:
    match = _NAME.match(name)
    if match is None:
        return None
    cls, stamp = match.groups()
    if cls == RetentionClass.UNMATCHED:
        day = date(int(stamp[:4]), int(stamp[4:6]), int(stamp[6:8]))
        return Partition(name, cls, day_start(day), day_start(day + timedelta(days=1)))
    month = date(int(stamp[:4]), int(stamp[4:6]), 1)
    return Partition(name, cls, day_start(month), day_start(next_month(month)))


def list_partitions(session: Session) -> list[Partition]:
    if not is_partitioned(session):
        return []
    names = session.scalars(
        text(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_class p ON p.oid = i.inhparent "
            "WHERE p.relname IN ('plate_reads_unmatched', 'plate_reads_hit') "
            "AND c.relkind = 'r'"
        )
    ).all()
    parts = [p for p in (_parse(n) for n in names) if p is not None]
    return sorted(parts, key=lambda p: (p.retention_class, p.lower))


# The live keys among :ids and every live hold key, as (key_id, NULL) rows, then which of the
# partitions :leaves exist, as (NULL, name) rows: keys.keys_for_search's lookup and the
# partition list in one statement. pg_class is read under the statement's own snapshot, taken
# after the partition lock was granted (to_regclass() could answer from a catalog cache that
# predates a DROP committed while this transaction waited for the lock).
_KEYS_AND_PARTITIONS = DriverSelect(
    text(
        "SELECT key_id, NULL FROM data_keys "
        "WHERE (key_id = ANY(CAST(:ids AS text[])) OR scope = 'hold') AND destroyed_at IS NULL "
        "UNION ALL SELECT NULL, relname FROM pg_class "
        "WHERE relname = ANY(CAST(:leaves AS text[])) AND relkind = 'r' AND relispartition "
        "AND relnamespace = (SELECT relnamespace FROM pg_class "
        "WHERE oid = CAST('plate_reads' AS regclass))"
    )
)


def keys_and_tables_for_search(
    session: Session, rt: Deps, days: Sequence[date]
) -> tuple[list[DataKey], dict[str, str]]:
    """The live keys a search of ``days`` needs (``keys.keys_for_search``) and, on
    PostgreSQL, the table each key's reads are in, for the search to read directly: a day or
    hit-period key's partition, or its class's DEFAULT partition when that day or month has
    none (a read stored before its partition existed is moved into it on creation, so a
    partition that exists holds all of its range); ``"held"`` maps to the held partition.

    PostgreSQL takes the partition lock shared first and lists keys and partitions after it,
    so what is chosen here stays true until the transaction ends (``db.lock_partitions``).
    SQLite: the keys and {} (one table)."""
    if session.get_bind().dialect.name != "postgresql":
        return keys_for_search(session, rt, days), {}
    candidates = search_key_ids(days)
    # key id -> (its partition, its class's DEFAULT partition)
    homes: dict[str, tuple[str, str]] = {}
    for key_id in candidates:
        cls, start, _ = key_scope(key_id)
        assert start is not None  # day and hit-period keys have an epoch
        homes[key_id] = (_name(cls, start.date()), f"plate_reads_{cls}_default")
    lock_partitions(session, shared=True, timeout_ms=rt.settings.database.audit_timeout_ms)
    rows = _KEYS_AND_PARTITIONS.rows(
        session, {"ids": candidates, "leaves": [homes[k][0] for k in candidates]}
    )
    live = [key_id for key_id, _ in rows if key_id is not None]
    existing = {name for _, name in rows if name is not None}
    tables: dict[str, str] = {RetentionClass.HELD: "plate_reads_held"}
    for key_id in live:
        if key_id in homes:
            leaf, default = homes[key_id]
            tables[key_id] = leaf if leaf in existing else default
    return usable_keys(rt, live), tables


def _create(session: Session, part: Partition) -> None:
    lock_partitions(session, shared=False)
    parent = f"plate_reads_{part.retention_class}"
    default = f"{parent}_default"
    bounds = {"lower": part.lower, "upper": part.upper}
    session.execute(
        text(f"CREATE TABLE {part.name} (LIKE {parent} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
    )
    # Rows stored in the default partition for this range move into the new partition, or
    # attaching it would violate the default's implicit constraint.
    session.execute(
        text(
            f"WITH moved AS (DELETE FROM {default} WHERE observed_at >= :lower "  # noqa: S608
            f"AND observed_at < :upper RETURNING *) INSERT INTO {part.name} SELECT * FROM moved"
        ),
        bounds,
    )
    lower = part.lower.isoformat()
    upper = part.upper.isoformat()
    session.execute(
        text(
            f"ALTER TABLE {parent} ATTACH PARTITION {part.name} "
            f"FOR VALUES FROM ('{lower}') TO ('{upper}')"
        )
    )


def ensure_partitions(session: Session, now: datetime) -> list[str]:
    """Create the missing partitions from a few days back to a week (months: two) ahead.
    Returns the names created. Idempotent."""
    if not is_partitioned(session):
        return []
    existing = {p.name for p in list_partitions(session)}
    wanted: list[Partition] = []
    today = day_of(now)
    for n in range(-BEHIND_DAYS, AHEAD_DAYS + 1):
        day = today + timedelta(days=n)
        wanted.append(
            Partition(
                _name(RetentionClass.UNMATCHED, day),
                RetentionClass.UNMATCHED,
                day_start(day),
                day_start(day + timedelta(days=1)),
            )
        )
    month = today.replace(day=1)
    previous = (month - timedelta(days=1)).replace(day=1)
    for start in [previous, month]:
        wanted.append(
            Partition(
                _name(RetentionClass.HIT, start),
                RetentionClass.HIT,
                day_start(start),
                day_start(next_month(start)),
            )
        )
    for _ in range(AHEAD_MONTHS):
        month = next_month(month)
        wanted.append(
            Partition(
                _name(RetentionClass.HIT, month),
                RetentionClass.HIT,
                day_start(month),
                day_start(next_month(month)),
            )
        )
    created = []
    for part in wanted:
        if part.name not in existing:
            _create(session, part)
            created.append(part.name)
    return created


def expired_partitions(session: Session, rt: Deps, cutoff: datetime) -> list[Partition]:
    """Partitions whose every possible read is past its class's window at ``cutoff``."""
    retention = rt.settings.retention
    windows: dict[str, timedelta] = {
        RetentionClass.UNMATCHED: timedelta(days=retention.unmatched.days),
        RetentionClass.HIT: timedelta(days=retention.hit.days),
    }
    return [p for p in list_partitions(session) if p.upper + windows[p.retention_class] <= cutoff]


def drop_partition(session: Session, part: Partition, cutoff: datetime) -> int | None:
    """Detach and drop ``part`` if nothing in it outlives ``cutoff``; the number of reads it
    held, or None if it was kept (a read in it expires later than its window says)."""
    lock_partitions(session, shared=False)
    survivor = session.execute(
        text(
            f"SELECT 1 FROM {part.name} WHERE expires_at IS NULL "  # noqa: S608
            "OR expires_at > :cutoff LIMIT 1"
        ),
        {"cutoff": cutoff},
    ).first()
    if survivor is not None:
        return None
    count = int(session.execute(text(f"SELECT count(*) FROM {part.name}")).scalar_one())  # noqa: S608
    session.execute(
        text(f"ALTER TABLE plate_reads_{part.retention_class} DETACH PARTITION {part.name}")
    )
    session.execute(text(f"DROP TABLE {part.name}"))
    return count
