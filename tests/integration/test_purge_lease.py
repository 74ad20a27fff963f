"""The purge lease proves its holder is alive.

* A holder on this host whose process is gone is dead at once (a kill -9 leaves no one to
  release the lease); a live one, or a reused pid, is told apart by the process's start time.
* A heartbeat renews the lease from a background thread while the run works, so a holder on
  another host is presumed dead only once it has been silent for ``purge.lease_seconds``.

The real kill -9 of a CLI purge, rerun within the minute, is in test_purge_crash.py.
"""

from __future__ import annotations

import subprocess
import threading
import time
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from alpr_guard.clock import FixedClock
from alpr_guard.db import read_only_session
from alpr_guard.errors import Conflict
from alpr_guard.jobs import purge as retention
from alpr_guard.jobs.purge import LEASE_NAME, purge_expired
from alpr_guard.jobs.runner import (
    _host_identity,
    _process_start,
    acquire_lease,
    default_holder,
    holder_is_dead,
)
from alpr_guard.models import Lease
from alpr_guard.progress import Progress
from alpr_guard.runtime import Runtime


def _hold(rt: Runtime, holder: str, ttl: timedelta) -> None:
    with rt.sessions.begin() as session:
        assert acquire_lease(session, LEASE_NAME, holder, rt.clock.now(), ttl)


def test_a_live_holder_on_this_host_blocks_and_its_death_frees_the_lease_at_once(
    rt: Runtime,
) -> None:
    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        holder = f"{_host_identity()}:{sleeper.pid}:{_process_start(sleeper.pid)}:0000abcd"
        _hold(rt, holder, timedelta(minutes=15))
        assert not holder_is_dead(holder)
        with pytest.raises(Conflict):
            purge_expired(rt, trigger="test")
    finally:
        sleeper.kill()
        sleeper.wait()
    # The clock has not moved: the lease has 15 minutes left, and its holder is gone.
    assert holder_is_dead(holder)
    assert purge_expired(rt, trigger="test").resumed == 0


def test_a_reused_pid_is_not_the_holder(rt: Runtime) -> None:
    """Our own pid is alive, but a holder recorded with another start time was another process
    that happened to get the same pid."""
    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        started = _process_start(sleeper.pid)
        assert started is not None
        assert not holder_is_dead(f"{_host_identity()}:{sleeper.pid}:{started}:0000abcd")
        stale = f"{_host_identity()}:{sleeper.pid}:{int(started) - 1}:0000abcd"
        assert holder_is_dead(stale)
        _hold(rt, stale, timedelta(minutes=15))
        assert purge_expired(rt, trigger="test").resumed == 0
    finally:
        sleeper.kill()
        sleeper.wait()


def test_a_holder_on_another_host_waits_for_its_lease_to_lapse(
    rt: Runtime, clock: FixedClock
) -> None:
    other = "another-host~1:1:1:0000abcd"
    assert not holder_is_dead(other)  # nothing can be known about another host's processes
    _hold(rt, other, timedelta(seconds=60))
    with pytest.raises(Conflict):
        purge_expired(rt, trigger="test")
    clock.advance(timedelta(seconds=61))
    assert purge_expired(rt, trigger="test").resumed == 0


def test_our_own_holder_name_names_this_process() -> None:
    holder = default_holder()
    host, pid, started, _ = holder.split(":")
    assert host == _host_identity()
    assert not holder_is_dead(holder)
    assert started == (_process_start(int(pid)) or "")


def test_the_heartbeat_renews_the_lease_while_a_step_runs_long(
    rt: Runtime, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    ttl = timedelta(seconds=rt.settings.purge.lease_seconds)
    monkeypatch.setattr(retention, "heartbeat_interval", lambda _seconds: 0.02)
    original = retention._expire_records
    renewed: list[bool] = []

    def slow_step(*args: Any) -> None:
        # A step that runs for most of the lease without renewing it itself.
        clock.advance(ttl - timedelta(seconds=1))
        want = clock.now() + ttl
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with read_only_session(rt.sessions) as session:
                until = session.scalar(select(Lease.expires_at).where(Lease.name == LEASE_NAME))
            if until == want:
                renewed.append(True)
                break
            time.sleep(0.02)
        original(*args)

    monkeypatch.setattr(retention, "_expire_records", slow_step)
    purge_expired(rt, trigger="test")
    assert renewed == [True]
    # The run released its lease at the end: a next run takes it at once.
    assert purge_expired(rt, trigger="test").resumed == 0


def test_the_heartbeat_stops_when_the_run_ends(rt: Runtime, clock: FixedClock) -> None:
    purge_expired(rt, trigger="test")
    with read_only_session(rt.sessions) as session:
        released = session.scalar(select(Lease.expires_at).where(Lease.name == LEASE_NAME))
    assert released == clock.now()
    assert not [t for t in threading.enumerate() if t.name == f"lease-{LEASE_NAME}"]


def test_a_run_that_lost_its_lease_stops(rt: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    """If another process took the lease (the holder was silent too long), the run stops at its
    next step instead of purging alongside it."""
    original = retention._delete_batches

    def stolen(rt_: Runtime, run_id: Any, holder: str, ttl: timedelta, progress: Progress) -> None:
        with rt.sessions.begin() as session:
            session.execute(
                Lease.__table__.update()  # type: ignore[attr-defined]
                .where(Lease.name == LEASE_NAME)
                .values(holder="another-host~1:1:1:0000abcd")
            )
        original(rt_, run_id, holder, ttl, progress)

    monkeypatch.setattr(retention, "_delete_batches", stolen)
    with pytest.raises(Conflict):
        purge_expired(rt, trigger="test")
