"""Service-level tests in a savepoint per test (PostgreSQL): the services flush and never
commit, so their work, run in a transaction the fixture rolls back, leaves nothing behind."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from alpr_guard.audit import verify_chain
from alpr_guard.clock import FixedClock
from alpr_guard.models import AuditEvent, PurgeRun
from alpr_guard.services import retention, review
from alpr_guard.services.deps import ServiceDeps
from alpr_guard.services.records_retention import expire_access_records
from alpr_guard.vocabulary import AuditKind, PurgeStatus

pytestmark = pytest.mark.postgres


def _count(session: Session, model: type[object]) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


@pytest.mark.parametrize("turn", ["first", "second"])
def test_each_test_starts_from_the_seeded_database(
    pg_session: Session, pg_deps: ServiceDeps, turn: str
) -> None:
    """Whichever of the two runs second sees nothing of the other's run or events."""
    assert _count(pg_session, PurgeRun) == 0
    assert not pg_session.scalar(
        select(func.count()).where(AuditEvent.kind == AuditKind.PURGE_COMPLETED)
    )
    run_id = retention.open_run(pg_session, f"test-{turn}", pg_deps.clock.now())
    retention.complete_run(pg_session, pg_deps, run_id, 0.0)
    assert _count(pg_session, PurgeRun) == 1


def test_the_purge_units_run_in_the_callers_transaction(
    pg_session: Session, pg_deps: ServiceDeps
) -> None:
    """The units the purge job commits one by one, here all in one uncommitted transaction."""
    retention.record_purge_policy(pg_session, pg_deps)
    run_id = retention.open_run(pg_session, "test", pg_deps.clock.now())
    assert retention.partitions_due(pg_session, pg_deps, run_id) == []  # not partitioned
    assert retention.delete_batch(pg_session, run_id, 500, 0.0) == 0  # nothing expired
    assert pg_session.get_one(PurgeRun, run_id).status == PurgeStatus.SHREDDING
    assert retention.delete_batch(pg_session, run_id, 500, 1.5) is None  # past deleting
    assert retention.mark_keys(pg_session, pg_deps, run_id)
    assert not retention.mark_keys(pg_session, pg_deps, run_id)  # once per run
    assert retention.marked_keys(pg_session) == set()
    assert not retention.expire_records_batch(pg_session, pg_deps, run_id, "access")
    assert not retention.expire_records_batch(pg_session, pg_deps, run_id, "audit")
    done = retention.complete_run(pg_session, pg_deps, run_id, 0.25)
    assert done.receipt.audit_seq is not None
    assert done.receipt.max_batch_ms == 1.5
    assert done.receipt.keys_destroyed == ()
    assert done.details["trigger"] == "test"
    assert verify_chain(pg_session, pg_deps.keyring).ok


def test_a_review_run_in_one_transaction(
    pg_session: Session, pg_deps: ServiceDeps, clock: FixedClock
) -> None:
    """The review's scan and its record, with pages of findings spilled into the same
    transaction instead of transactions of their own."""
    findings = review.Findings(pg_deps, clock.now(), spill=lambda work: work(pg_session))
    scan = review.scan_access(pg_session, pg_deps, findings)
    result = review.record_review(pg_session, pg_deps, scan, findings, 0.0)
    assert (result.searches_scanned, result.new_findings) == (0, 0)
    assert pg_session.scalar(
        select(func.count()).where(AuditEvent.kind == AuditKind.REVIEW_COMPLETED)
    )


def test_expiring_access_records_of_an_empty_history(
    pg_session: Session, pg_deps: ServiceDeps, clock: FixedClock
) -> None:
    expiry = expire_access_records(pg_session, pg_deps, clock.now())
    assert (expiry.searches_deleted, expiry.findings_deleted, expiry.more) == (0, 0, False)
