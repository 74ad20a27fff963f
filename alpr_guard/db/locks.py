"""Locks: the advisory lock that orders audit-chain appends, and the one that orders searches
against partition maintenance (PostgreSQL; SQLite's write lock already serialises both)."""

from __future__ import annotations

from sqlalchemy import (
    text,
)
from sqlalchemy.orm import Session

from alpr_guard.db.engine import WRITE_WAIT_MS, is_sqlite
from alpr_guard.db.fastpaths import run_prepared

# Any constant works; it names the one advisory lock that orders audit-chain appends.
AUDIT_CHAIN_LOCK = 0x41_4C_50_52  # "ALPR"
# The advisory lock that orders searches against partition maintenance (lock_partitions).
PARTITIONS_LOCK = 0x50_41_52_54  # "PART"


_LOCK_SQL = {
    True: "SELECT pg_advisory_xact_lock_shared(%(k)s)",
    False: "SELECT pg_advisory_xact_lock(%(k)s)",
}
_TRY_LOCK_SQL = {
    True: "SELECT pg_try_advisory_xact_lock_shared(%(k)s)",
    False: "SELECT pg_try_advisory_xact_lock(%(k)s)",
}


def lock_partitions(session: Session, *, shared: bool, timeout_ms: int | None = None) -> None:
    """PostgreSQL: order searches against partition changes until this transaction ends.

    A search picks the partitions it reads by name
    (``services.partitions.keys_and_tables_for_search``),
    so between that choice and its SELECT no partition may be dropped, created or filled from
    a DEFAULT partition. Searches hold this lock shared; partition maintenance holds it
    exclusively, waiting for running searches and holding new ones for the few milliseconds
    it takes. SQLite: nothing to do (not partitioned).

    ``timeout_ms`` bounds the wait (a search passes the audit timeout, so a search stuck behind
    maintenance fails closed like one stuck behind the audit chain; maintenance passes none,
    searches being short). A free lock is taken in one round trip either way; only a wait
    pays for setting the timeout."""
    if is_sqlite(session):
        return
    connection = session.connection()
    values = {"k": PARTITIONS_LOCK}
    if timeout_ms is None:
        run_prepared(connection, _LOCK_SQL[shared], values)
        return
    if run_prepared(connection, _TRY_LOCK_SQL[shared], values)[0][0]:
        return
    # The bound stays until the transaction ends: a search that waited here may not then wait
    # unbounded elsewhere (the audit chain sets its own).
    connection.exec_driver_sql(f"SET LOCAL lock_timeout = {int(timeout_ms)}")
    run_prepared(connection, _LOCK_SQL[shared], values)  # OperationalError after timeout_ms


def lock_audit_chain(session: Session, timeout_ms: int) -> None:
    """Serialise appends to the audit chain until this transaction ends.

    SQLite already holds the database write lock (BEGIN IMMEDIATE). PostgreSQL takes a
    transaction-scoped advisory lock, waiting at most ``timeout_ms``.
    """
    if is_sqlite(session):
        return
    # A transaction begun with WRITE_WAIT_MS (ingest) waits that long here too.
    timeout_ms = int(session.connection().get_execution_options().get(WRITE_WAIT_MS, timeout_ms))
    session.execute(text(f"SET LOCAL lock_timeout = {int(timeout_ms)}"))
    session.execute(text(f"SET LOCAL statement_timeout = {int(timeout_ms) * 2}"))
    session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": AUDIT_CHAIN_LOCK})
