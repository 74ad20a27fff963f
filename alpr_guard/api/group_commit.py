"""Reads from camera credentials, through the ingest service, with requests grouped per commit.

A camera sends one read per request. Committed one by one, each request would take the
writer, append its own audit event and wait for its own fsync: on SQLite, a few hundred reads
a second however many cameras post. Here the requests that arrive while a commit is under way
wait together, and the next commit takes all of them in one transaction: one
``record_reads`` call per credential and vendor (the same validation, normalisation,
encryption, replay rule and ``reads.ingested`` event as the native endpoint), the
credentials' ``last_seen_at``, one commit. The same transaction first checks that each
request's credential secret is still live (not disabled, not retired by a rotation): a request
whose secret is not is refused (401) and none of its reads is stored, however recently the
secret was accepted. No request is answered before the commit that
holds its reads has succeeded; if a group's transaction fails, each of its requests is tried
again on its own, so one request's problem (a day whose key was destroyed) is its own error.

Times are checked before a request joins a group (``check_times``), so a read from the future
never makes its neighbours wait for a retry.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from alpr_guard.db import WRITE_WAIT_MS
from alpr_guard.runtime import Runtime
from alpr_guard.services.cameras import (
    CameraPrincipal,
    live_credentials,
    touch,
    unauthorized,
)
from alpr_guard.services.ingest import Images, IngestResult, check_times, record_reads
from alpr_guard.services.requests import ReadIn

# At most this long a leader waits for the requests of the group answered before it to come
# back (about one fsync on the machine the figures come from: docs/cameras.md).
GATHER_WAIT_SECONDS = 0.004


class Answered:
    """Set when a submission's answer (or its turn to lead) is in; waited on by the request's
    own thread only. A lock held from creation and released by ``set``: an Event (a Python
    Condition and its lock) cost its set and wait calls several per cent of a one-read post's
    CPU, and every group sets one per request."""

    __slots__ = ("_lock",)

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._lock.acquire()

    def set(self) -> None:
        # Not contextlib.suppress: it costs an object per call, on a path taken per request.
        try:  # noqa: SIM105
            self._lock.release()
        except RuntimeError:  # already set (a leader's own submission): setting is idempotent
            pass

    def wait(self) -> None:
        self._lock.acquire()


@dataclass
class Submission:
    """One request's reads (possibly none: an agent's heartbeat still marks it seen)."""

    camera: CameraPrincipal
    reads: Sequence[ReadIn]
    images: Sequence[Images]
    source: str
    ignored: int = 0  # fields of the body the vendor does not document
    result: IngestResult | None = None
    error: BaseException | None = None
    done: Answered = field(default_factory=Answered)
    lead: bool = False
    handed: bool = True  # its lead, if it gets one, is handed over by the previous leader


def check(rt: Runtime, reads: Sequence[ReadIn]) -> None:
    """The checks that need no database, before a request joins a group."""
    s = rt.settings
    check_times(reads, rt.clock.now(), s.retention, s.ingest.max_future_skew_seconds)


def _write_session(rt: Runtime) -> Session:
    session = rt.sessions()
    session.connection(execution_options={WRITE_WAIT_MS: rt.settings.ingest.write_wait_ms})
    return session


def _record(
    session: Session, rt: Runtime, group: Sequence[Submission], seen: SeenCache | None = None
) -> None:
    """Every submission of ``group`` in ``session``: one ingest call per credential and
    vendor, results split back per submission (in submission order, read by read). A
    submission whose credential secret is no longer live gets its 401 and stores nothing."""
    live = live_credentials(session, (sub.camera for sub in group))
    for sub in group:
        if (sub.camera.camera_pk, sub.camera.credential) not in live:
            sub.result, sub.error = None, unauthorized()
    group = [sub for sub in group if sub.error is None]
    by_source: dict[tuple[int, str], list[Submission]] = {}
    for sub in group:
        by_source.setdefault((sub.camera.camera_pk, sub.source), []).append(sub)
    for (_pk, source), subs in by_source.items():
        reads = [read for sub in subs for read in sub.reads]
        if not reads:
            for sub in subs:
                sub.result = IngestResult(accepted=0, duplicates=0, ids=())
            continue
        images = [image for sub in subs for image in sub.images]
        merged = record_reads(
            session,
            rt,
            subs[0].camera.principal,
            reads,
            images,
            source=source,
            ignored_fields=sum(sub.ignored for sub in subs),
        )
        start = 0
        for sub in subs:
            end = start + len(sub.reads)
            stored = merged.stored[start:end]
            accepted = sum(stored)
            sub.result = IngestResult(
                accepted=accepted,
                duplicates=len(stored) - accepted,
                ids=merged.ids[start:end],
                stored=stored,
                images=sum(
                    len(image) for image, kept in zip(sub.images, stored, strict=True) if kept
                ),
            )
            start = end
    pks = {sub.camera.camera_pk for sub in group}
    touch(
        session, pks if seen is None else seen.due(pks, rt.clock.now().timestamp()), rt.clock.now()
    )


class SeenCache:
    """When this process last wrote each credential's ``last_seen_at``. Silence is measured
    in minutes: writing it once a minute per credential, not on every request, keeps an
    UPDATE off most groups. (A group whose commit fails may leave a credential unmarked for
    up to a minute: it is then written by the next group after that.)"""

    def __init__(self, every: float = 60.0) -> None:
        self._every = every
        self._at: dict[int, float] = {}
        self._lock = threading.Lock()

    def due(self, pks: set[int], now: float) -> list[int]:
        out = []
        with self._lock:
            for pk in sorted(pks):
                last = self._at.get(pk)
                if last is None or not 0 <= now - last < self._every:
                    self._at[pk] = now
                    out.append(pk)
        return out


def commit_alone(
    rt: Runtime, submissions: Sequence[Submission], seen: SeenCache | None = None
) -> None:
    """Each submission in its own transaction (the fallback, and the path without grouping)."""
    for sub in submissions:
        sub.result, sub.error = None, None
        session = _write_session(rt)
        try:
            _record(session, rt, [sub], seen)
            session.commit()
        except BaseException as exc:  # delivered to the request that owns it
            session.rollback()
            sub.result, sub.error = None, exc
        finally:
            session.close()


def commit_group(rt: Runtime, group: Sequence[Submission], seen: SeenCache | None = None) -> None:
    if len(group) == 1:
        commit_alone(rt, group, seen)
        return
    session = _write_session(rt)
    try:
        _record(session, rt, group, seen)
        session.commit()
    except Exception:
        session.rollback()
        commit_alone(rt, group, seen)
    finally:
        session.close()


class GroupCommit:
    """Requests that arrive while a commit runs share the next one.

    The first request to find no commit under way leads: it takes every waiting submission,
    commits them, answers them, then hands the lead to the oldest request that arrived
    meanwhile (so no request serves others for longer than one group).

    A leader waits, at most ``gather_wait`` seconds, for the requests of the group answered
    just before (within ``gather_wait`` x 5) to come back and join it: the cameras that post
    as soon as they are answered (PostgreSQL's ``commit_delay`` waits likewise, and only while
    other transactions are active). Otherwise such cameras settle into two half-size groups
    that take turns: each request waits for the other half's fsync and then its own, and each
    group's fixed cost (its statements, its audit event, its fsync) is shared by half of them.
    With 8 senders the groups were about 4 requests; an answered request comes back within a
    millisecond or two, before a 4 ms fsync would end. A lone camera's request (the group
    answered before it was its own) is committed at once.
    """

    def __init__(
        self, rt: Runtime, max_group: int = 256, gather_wait: float = GATHER_WAIT_SECONDS
    ) -> None:
        self._rt = rt
        self._lock = threading.Lock()
        self._queue: list[Submission] = []
        self._busy = False
        self._max_group = max_group
        self._seen = SeenCache()
        self._gather_wait = gather_wait
        self._answered = 0  # the size of the group answered last
        self._answered_at = 0.0  # when (time.monotonic)
        self._want = 0  # a leader waits for this many queued (0: no leader is waiting)
        self._joined = threading.Condition(self._lock)

    def waiting(self) -> int:
        """Requests queued behind the commit under way."""
        with self._lock:
            return len(self._queue)

    def submit(self, sub: Submission) -> IngestResult:
        with self._lock:
            self._queue.append(sub)
            if not self._busy:
                self._busy = True
                sub.lead = True
                sub.handed = False
            if self._want and len(self._queue) >= self._want:
                self._joined.notify()
        if not sub.lead:
            sub.done.wait()
        if sub.lead and sub.result is None and sub.error is None:
            self._lead(sub.handed)
        if sub.error is not None:
            raise sub.error
        assert sub.result is not None
        return sub.result

    def _gather(self, handed: bool) -> None:
        """With the lock held: wait, at most ``gather_wait``, for the requests of the group
        answered last to join the queue (when it was answered recently). A handed-over
        leader's group was answered after it queued; a leader that found no commit under way
        was usually one of that group itself."""
        now = time.monotonic()
        if self._gather_wait <= 0 or now - self._answered_at > 5 * self._gather_wait:
            return
        back = self._answered if handed else self._answered - 1
        want = min(self._max_group, len(self._queue) + back)
        if len(self._queue) >= want:
            return
        deadline = now + self._gather_wait
        self._want = want
        try:
            while len(self._queue) < want:
                left = deadline - time.monotonic()
                if left <= 0 or not self._joined.wait(left):
                    return
        finally:
            self._want = 0

    def _lead(self, handed: bool = False) -> None:
        with self._lock:
            self._gather(handed)
            group = self._queue[: self._max_group]
            del self._queue[: self._max_group]
        try:
            commit_group(self._rt, group, self._seen)
        except BaseException as exc:  # never leave a waiting request without an answer
            for sub in group:
                if sub.result is None and sub.error is None:
                    sub.error = exc
        with self._lock:
            successor = self._queue[0] if self._queue else None
            self._answered, self._answered_at = len(group), time.monotonic()
            if successor is None:
                self._busy = False
            else:
                successor.lead = True  # it wakes and commits the next group
        for sub in group:
            sub.done.set()
        if successor is not None:
            successor.done.set()


def submit(rt: Runtime, committer: GroupCommit | None, sub: Submission) -> IngestResult:
    """Commit ``sub``'s reads, grouped with concurrent requests when a committer is given."""
    if committer is None:
        commit_alone(rt, [sub])
        if sub.error is not None:
            raise sub.error
        assert sub.result is not None
        return sub.result
    return committer.submit(sub)
