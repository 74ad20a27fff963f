"""The jobs' transaction runner: a unit of work commits or rolls back as one, and under a
lease no unit commits once another process holds it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from alpr_guard.clock import FixedClock
from alpr_guard.errors import Conflict
from alpr_guard.jobs.runner import Lease, TransactionRunner, acquire_lease
from alpr_guard.models import Lease as LeaseRow
from alpr_guard.runtime import Runtime
from tests.conftest import NOW

TTL = timedelta(minutes=5)


def _lease_row(session: Session, name: str) -> LeaseRow:
    """Any row will do as a unit's work: a lease row, since it has no other rows to need."""
    session.add(LeaseRow(name=name, holder="h", acquired_at=NOW, expires_at=NOW))
    session.flush()
    return session.get_one(LeaseRow, name)


def _names(rt: Runtime) -> list[str]:
    with TransactionRunner.of(rt).reading() as session:
        return list(session.scalars(select(LeaseRow.name).order_by(LeaseRow.name)))


def test_a_unit_commits_when_it_returns_and_rolls_back_when_it_raises(rt: Runtime) -> None:
    runner = TransactionRunner.of(rt)
    assert runner.run(lambda session: _lease_row(session, "kept").name) == "kept"

    def failing(session: Session) -> None:
        _lease_row(session, "dropped")
        raise RuntimeError("the unit failed")

    with pytest.raises(RuntimeError):
        runner.run(failing)
    assert _names(rt) == ["kept"]


def test_a_leased_unit_renews_the_lease_and_stops_once_it_is_lost(
    rt: Runtime, clock: FixedClock
) -> None:
    runner = TransactionRunner.of(rt)
    assert runner.run(lambda session: acquire_lease(session, "job", "me", clock.now(), TTL))
    leased = runner.leased(Lease("job", "me", TTL), clock)
    clock.advance(timedelta(minutes=1))
    leased.run(lambda session: _lease_row(session, "work-1"))
    with runner.reading() as session:
        assert session.get_one(LeaseRow, "job").expires_at == clock.now() + TTL
    # Another process takes the lease: the next unit raises before its work commits.
    with runner.transaction() as session:
        session.get_one(LeaseRow, "job").holder = "another"
    with pytest.raises(Conflict):
        leased.run(lambda session: _lease_row(session, "work-2"))
    assert _names(rt) == ["job", "work-1"]
