"""Database plumbing: every difference between SQLite and PostgreSQL lives in this package.

SQLite (the embedded default) runs in WAL mode with ``synchronous=FULL`` so that a search that
was answered never loses its access record to a power cut, and every transaction starts with
``BEGIN IMMEDIATE``: almost every transaction here appends to the audit chain, and taking the
write lock up front turns would-be deadlocks into a bounded wait (``busy_timeout``).

PostgreSQL serialises appends to the audit chain with a transaction-scoped advisory lock; the
wait is bounded by ``lock_timeout`` so a stuck writer makes searches fail closed (503), not hang.

Rooms: ``types`` (Base, UTC datetimes, ids), ``engine`` (engines, sessions, SQLite pragmas),
``fastpaths`` (per-dialect bulk inserts and prepared selects), ``locks`` (advisory locks),
``maintenance`` (the purge's deletes, vacuum and WAL checkpoints), ``migrate`` (Alembic: the
migrations are the schema). The names below are the package's interface; import from here.
"""

from alpr_guard.db.engine import (
    READ_ONLY,
    SQLITE_CACHE_KIB,
    SQLITE_IDLE_CACHE_KIB,
    WRITE_WAIT_MS,
    is_sqlite,
    make_engine,
    make_session_factory,
    read_only_session,
    session_scope,
)
from alpr_guard.db.fastpaths import (
    DriverSelect,
    OneOf,
    RowInsert,
    day_bucket,
    execute_insert_ignore,
    from_driver_utc,
    from_driver_uuid,
    insert_ignore_returning,
    plus_days,
)
from alpr_guard.db.locks import AUDIT_CHAIN_LOCK, PARTITIONS_LOCK, lock_audit_chain, lock_partitions
from alpr_guard.db.maintenance import checkpoint_wal, delete_expired, reclaim_free_pages
from alpr_guard.db.types import (
    NAMING_CONVENTION,
    Base,
    UTCDateTime,
    new_id,
    new_ids,
    sqlite_utc_text,
)

__all__ = [
    "AUDIT_CHAIN_LOCK",
    "NAMING_CONVENTION",
    "PARTITIONS_LOCK",
    "READ_ONLY",
    "SQLITE_CACHE_KIB",
    "SQLITE_IDLE_CACHE_KIB",
    "WRITE_WAIT_MS",
    "Base",
    "DriverSelect",
    "OneOf",
    "RowInsert",
    "UTCDateTime",
    "checkpoint_wal",
    "day_bucket",
    "delete_expired",
    "execute_insert_ignore",
    "from_driver_utc",
    "from_driver_uuid",
    "insert_ignore_returning",
    "is_sqlite",
    "lock_audit_chain",
    "lock_partitions",
    "make_engine",
    "make_session_factory",
    "new_id",
    "new_ids",
    "plus_days",
    "read_only_session",
    "reclaim_free_pages",
    "session_scope",
    "sqlite_utc_text",
]
