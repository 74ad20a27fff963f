"""The transaction runner: the one place a job opens, commits and rolls back transactions.

Services take a session and flush; a process that needs many transactions (the purge, the
access review) lives in ``jobs`` and runs each unit of its work through a runner:

* ``TransactionRunner.transaction()`` (or ``run(fn)``): one transaction, committed when the
  block ends, rolled back if it raises; ``reading()`` a read-only one (on SQLite it takes no
  write lock) that never commits.
* ``LeasedRunner``: the same, for work done under a database lease (``leases``): each
  transaction first renews the lease and raises ``Conflict`` if another process took it, so no
  unit of work commits after its holder lost the lease. ``LeaseHeartbeat`` renews it from a
  thread of its own between units, and ``holder_is_dead`` lets a holder on this host whose
  process is gone (kill -9) be taken over at once.

Nothing here retries: a unit that fails rolls back and raises; the purge's work is resumable
(its ``purge_runs`` row counts what committed), so the next run finishes it.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar, cast

from sqlalchemy import Engine, Table, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from alpr_guard.clock import Clock
from alpr_guard.db import execute_insert_ignore, read_only_session, session_scope
from alpr_guard.errors import Conflict
from alpr_guard.models import Lease as LeaseRow
from alpr_guard.runtime import Runtime

log = logging.getLogger(__name__)
T = TypeVar("T")


class TransactionRunner:
    """Owns the engine and the session factory; runs units of work, one transaction each."""

    def __init__(self, engine: Engine, sessions: sessionmaker[Session]) -> None:
        self.engine = engine
        self.sessions = sessions

    @classmethod
    def of(cls, rt: Runtime) -> TransactionRunner:
        return cls(rt.engine, rt.sessions)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One transaction: committed when the block ends, rolled back if it raises."""
        with session_scope(self.sessions) as session:
            yield session

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A read-only transaction (no write lock on SQLite); it never commits."""
        with read_only_session(self.sessions) as session:
            yield session

    def run(self, work: Callable[[Session], T]) -> T:
        """``work(session)`` in one transaction of its own; its result once committed."""
        with self.transaction() as session:
            return work(session)

    def leased(self, lease: Lease, clock: Clock) -> LeasedRunner:
        return LeasedRunner(self.engine, self.sessions, lease, clock)


@dataclass(frozen=True)
class Lease:
    """A named database lease as one holder holds it: ``ttl`` past each renewal."""

    name: str
    holder: str
    ttl: timedelta


class LeasedRunner(TransactionRunner):
    """A runner whose every transaction first renews ``lease`` (``Conflict`` if it was lost)."""

    def __init__(
        self, engine: Engine, sessions: sessionmaker[Session], lease: Lease, clock: Clock
    ) -> None:
        super().__init__(engine, sessions)
        self.lease = lease
        self.clock = clock

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        with session_scope(self.sessions) as session:
            lease = self.lease
            renew_lease(session, lease.name, lease.holder, self.clock.now(), lease.ttl)
            yield session

    def heartbeat(self, interval: float) -> LeaseHeartbeat:
        """Renew the lease every ``interval`` seconds while the ``with`` block runs."""
        return LeaseHeartbeat(
            TransactionRunner(self.engine, self.sessions), self.clock, self.lease, interval
        )


# -- leases ----------------------------------------------------------------------------------


def acquire_lease(session: Session, name: str, holder: str, now: datetime, ttl: timedelta) -> bool:
    """Take (or renew) the lease ``name`` unless another holder's is still live: not yet past
    its expiry, and not a process of this host that no longer exists."""
    execute_insert_ignore(
        session,
        cast(Table, LeaseRow.__table__),
        ["name"],
        [{"name": name, "holder": holder, "acquired_at": now, "expires_at": now}],
    )
    current = session.scalar(select(LeaseRow.holder).where(LeaseRow.name == name))
    free = or_(LeaseRow.expires_at <= now, LeaseRow.holder == holder)
    if current is not None and current != holder and holder_is_dead(current):
        # Compare-and-set on the dead holder's name: a third process taking it first wins.
        free = or_(free, LeaseRow.holder == current)
        log.warning("lease %r: holder %s is no longer running; taking over", name, current)
    taken = session.execute(
        update(LeaseRow)
        .where(LeaseRow.name == name, free)
        .values(holder=holder, acquired_at=now, expires_at=now + ttl)
        .execution_options(synchronize_session=False)
    )
    return cast(int, getattr(taken, "rowcount", 0)) == 1


def renew_lease(session: Session, name: str, holder: str, now: datetime, ttl: timedelta) -> None:
    renewed = session.execute(
        update(LeaseRow)
        .where(LeaseRow.name == name, LeaseRow.holder == holder)
        .values(expires_at=now + ttl)
        .execution_options(synchronize_session=False)
    )
    if cast(int, getattr(renewed, "rowcount", 0)) != 1:
        raise Conflict(f"lease {name!r} was lost to another process; stopping")


def release_lease(session: Session, name: str, holder: str, now: datetime) -> None:
    session.execute(
        update(LeaseRow)
        .where(LeaseRow.name == name, LeaseRow.holder == holder)
        .values(expires_at=now)
        .execution_options(synchronize_session=False)
    )


def _host_identity() -> str:
    """This host as a lease holder names it: the host name and, on Linux, the PID namespace,
    so that two containers given the same host name never judge each other's processes."""
    name = socket.gethostname()[:60].replace(":", "_")
    try:
        return f"{name}~{os.stat('/proc/self/ns/pid').st_ino}"
    except OSError:
        return name


def _process_start(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (Linux), which tells a reused pid
    from the original; None where /proc is not available."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            # The command name (field 2) may hold spaces and parentheses: split after it.
            fields = stat.read().rsplit(b")", 1)[1].split()
    except OSError:
        return None
    return fields[19].decode() if len(fields) > 19 else None


def _pid_alive(pid: int, started: str) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, owned by someone else
    now_started = _process_start(pid)
    # A different start time is a new process that reused the pid: the holder is gone.
    return not (started and now_started is not None and now_started != started)


def default_holder() -> str:
    """``host:pid:start:token``: enough for another run on this host to tell whether the
    holder's process still exists."""
    pid = os.getpid()
    return f"{_host_identity()}:{pid}:{_process_start(pid) or ''}:{uuid.uuid4().hex[:8]}"


def holder_is_dead(holder: str) -> bool:
    """True only when certain: the holder ran on this host and its process is gone. A holder
    on another host (or in an unknown format) is judged by its lease's expiry alone."""
    parts = holder.split(":")
    if len(parts) != 4 or parts[0] != _host_identity() or not parts[1].isdigit():
        return False
    pid = int(parts[1])
    if pid == os.getpid():
        return False  # this process: another thread of ours may hold it
    return not _pid_alive(pid, parts[2])


class LeaseHeartbeat:
    """Renews a lease every ``interval`` seconds in a transaction of its own, from a daemon
    thread, while the work it guards runs (``with LeaseHeartbeat(...):``). It stops quietly
    when the lease is lost: the work notices at its next transaction (``LeasedRunner``)."""

    def __init__(
        self, runner: TransactionRunner, clock: Clock, lease: Lease, interval: float
    ) -> None:
        self._runner, self._clock, self._lease = runner, clock, lease
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"lease-{lease.name}", daemon=True)

    def __enter__(self) -> LeaseHeartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        lease = self._lease
        while not self._stop.wait(self._interval):
            try:
                with self._runner.transaction() as session:
                    renew_lease(session, lease.name, lease.holder, self._clock.now(), lease.ttl)
            except Conflict:
                return
            except Exception:  # a busy database: try again at the next beat
                log.warning("lease %r: heartbeat failed; retrying", lease.name, exc_info=True)


def heartbeat_interval(lease_seconds: int) -> float:
    """A sixth of the lease, at most 5 s: several beats can fail before the lease lapses."""
    return min(5.0, lease_seconds / 6)
