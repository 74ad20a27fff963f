"""review_access: the nightly access review as a process of its own transactions.

The rules and the scan are ``services.review``'s; this runs them. Reads run in one read-only
transaction (on SQLite no write lock, so ingest and searches go on); findings are written in
short transactions of their own as they accumulate, and the last of them together with the
run's audit event. A run that fails half-way leaves some findings and no ``review.completed``
event: the next run covers the same records again, and findings are unique per (search, rule).
"""

from __future__ import annotations

import time
from datetime import datetime

from sqlalchemy.orm import Session

from alpr_guard.audit import Actor
from alpr_guard.jobs.runner import TransactionRunner
from alpr_guard.progress import SILENT, Progress
from alpr_guard.runtime import Runtime
from alpr_guard.services import review
from alpr_guard.services.deps import ServiceDeps
from alpr_guard.services.review import SYSTEM_REVIEW, ReviewResult


def review_access(
    rt: Runtime,
    *,
    since: datetime | None = None,
    actor: Actor = SYSTEM_REVIEW,
    progress: Progress = SILENT,
) -> ReviewResult:
    """Review the access records in [since, until) and write the findings."""
    deps = ServiceDeps.of(rt)
    runner = TransactionRunner.of(rt)
    started = time.perf_counter()
    findings = review.Findings(deps, deps.clock.now(), spill=runner.run)
    with runner.reading() as reader:
        scan = review.scan_access(reader, deps, findings, since=since, progress=progress)
    seconds = time.perf_counter() - started
    return runner.run(
        lambda session: review.record_review(session, deps, scan, findings, seconds, actor)
    )


def review_searches(
    session: Session, rt: Runtime, *, since: datetime | None = None, actor: Actor = SYSTEM_REVIEW
) -> ReviewResult:
    """The access review (``review_access``); ``session`` is not used.

    The review manages its own transactions so that it never holds the write lock for the
    length of a run; the parameter stays for callers written against the old signature, whose
    session, left untouched, commits nothing.
    """
    del session
    return review_access(rt, since=since, actor=actor)
