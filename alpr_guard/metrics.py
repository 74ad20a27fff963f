"""Prometheus metrics: what the server counts as it answers, and what the database says about
the jobs that run elsewhere (the scheduler's purge and review, the audit chain's head).

Counted in the serving process (``prometheus_client``):

* ``alpr_guard_http_requests_total{route,method,status}`` and
  ``alpr_guard_http_request_duration_seconds{route}`` (a histogram: search latency is its
  ``route="/api/v1/searches"`` series). ``route`` is the matched route template with its ids
  replaced (``/api/v1/holds/<int:hold_id>``), never the raw path, so no client-supplied text
  becomes a label: the label sets are bounded by the route table and the status codes.
* ``alpr_guard_reads_ingested_total{outcome}``: reads stored and replays recognised.
* ``alpr_guard_refusals_total{route,reason}``: every refusal (a search or share refused by
  screening or the sharing rule, a gate refusal, a malformed request) by its reason code.
* ``alpr_guard_audit_verify_seconds``: ``GET /api/v1/audit/verify`` walks.

Read from the database at each scrape (so figures of the scheduler process and the CLI show
here too): the chain head's seq and age, the newest purge run (duration, reads deleted, the
slowest transaction, age) and the newest review run (duration, searches reviewed, age), and
this worker's connection pool.

Under gunicorn several worker processes count: ``serve`` points ``PROMETHEUS_MULTIPROC_DIR``
at a fresh directory before the workers fork (``use_directory``), each worker writes its
counts there, and a scrape of any worker sums them all. Nothing here carries a plate, a user
or an agency: labels are route templates, status codes, reason codes and outcomes.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
    values,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine, select

from alpr_guard.models import AuditEvent, PurgeRun
from alpr_guard.vocabulary import AuditKind, PurgeStatus

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = CONTENT_TYPE_LATEST
# Seconds: from a cached lookup to a long report page.
_BUCKETS = (0.001, 0.002, 0.003, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)

# Every metric has labels, so that no value exists before the first request: the value class
# (in-process or multiprocess files) is chosen when a labelled child is first made, after
# ``use_directory`` has run in the serving process.
REQUESTS = Counter(
    "alpr_guard_http_requests",
    "HTTP requests by route template, method and status.",
    ("route", "method", "status"),
)
REQUEST_SECONDS = Histogram(
    "alpr_guard_http_request_duration_seconds",
    "HTTP request duration by route template (search latency: route=/api/v1/searches).",
    ("route",),
    buckets=_BUCKETS,
)
READS_INGESTED = Counter(
    "alpr_guard_reads_ingested",
    "Reads received by POST /api/v1/reads: stored, or recognised as a replay.",
    ("outcome",),
)
REFUSALS = Counter(
    "alpr_guard_refusals",
    "Requests refused, by route template and reason code.",
    ("route", "reason"),
)
VERIFY_SECONDS = Histogram(
    "alpr_guard_audit_verify_seconds",
    "Audit-chain verifications run through the API, by result.",
    ("result",),
    buckets=(0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0),
)


def use_directory(directory: Path) -> None:
    """Count in files under ``directory`` (one per process), summed at each scrape: call once
    in the serving process before its workers fork. The directory is emptied first, so counts
    of a previous run (whose process ids may be reused) are not added in."""
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    for stale in directory.glob("*.db"):
        stale.unlink()
    os.environ[MULTIPROC_ENV] = str(directory)
    values.ValueClass = values.get_value_class()  # type: ignore[no-untyped-call]


def worker_gone(pid: int) -> None:
    """A worker exited: its live gauges stop counting (counters and histograms stay summed)."""
    if os.environ.get(MULTIPROC_ENV):
        multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]


def route_label(rule: str | None) -> str:
    return rule if rule is not None else "unmatched"


# The labelled children each request counts into, by (route, method, status): looking a child up
# through ``labels`` (argument checks, a lock, a tuple key) on every request cost more than the
# counting. The children are the ones ``labels`` returns (it keeps them for good too).
_REQUEST_CHILDREN: dict[tuple[str | None, str, int], tuple[Counter, Histogram]] = {}


def observe_request(rule: str | None, method: str, status: int, seconds: float) -> None:
    children = _REQUEST_CHILDREN.get((rule, method, status))
    if children is None:
        route = route_label(rule)
        children = (REQUESTS.labels(route, method, str(status)), REQUEST_SECONDS.labels(route))
        _REQUEST_CHILDREN[(rule, method, status)] = children
    children[0].inc()
    children[1].observe(seconds)


class DatabaseFigures(Collector):
    """Gauges read at scrape time: the chain head, the newest purge and review runs, the pool."""

    def __init__(self, engine: Engine, now: datetime) -> None:
        self.engine = engine
        self.now = now

    def collect(self) -> Iterable[Metric]:
        yield from self._pool()
        with self.engine.connect() as conn:
            head = conn.execute(
                select(AuditEvent.seq, AuditEvent.occurred_at)
                .order_by(AuditEvent.seq.desc())
                .limit(1)
            ).first()
            purge = conn.execute(
                select(
                    PurgeRun.started_at,
                    PurgeRun.finished_at,
                    PurgeRun.deleted_unmatched,
                    PurgeRun.deleted_hit,
                    PurgeRun.max_batch_ms,
                )
                .where(PurgeRun.status == PurgeStatus.COMPLETED)
                .order_by(PurgeRun.finished_at.desc())
                .limit(1)
            ).first()
            review = conn.execute(
                select(AuditEvent.occurred_at, AuditEvent.details)
                .where(AuditEvent.kind == AuditKind.REVIEW_COMPLETED)
                .order_by(AuditEvent.seq.desc())
                .limit(1)
            ).first()
            conn.rollback()
        if head is not None:
            yield _gauge(
                "alpr_guard_audit_chain_head_seq", "Seq of the newest audit event.", head[0]
            )
            yield _gauge(
                "alpr_guard_audit_chain_head_age_seconds",
                "Seconds since the newest audit event was written.",
                self._age(head[1]),
            )
        if purge is not None:
            run = purge
            finished = run.finished_at or run.started_at
            yield _gauge(
                "alpr_guard_purge_last_duration_seconds",
                "Duration of the newest completed purge run.",
                (finished - run.started_at).total_seconds(),
            )
            yield _gauge(
                "alpr_guard_purge_last_deleted_reads",
                "Reads deleted by the newest completed purge run.",
                run.deleted_unmatched + run.deleted_hit,
            )
            yield _gauge(
                "alpr_guard_purge_last_max_batch_seconds",
                "Longest transaction of the newest completed purge run (writer held).",
                run.max_batch_ms / 1000,
            )
            yield _gauge(
                "alpr_guard_purge_last_age_seconds",
                "Seconds since the newest completed purge run finished.",
                self._age(finished),
            )
        if review is not None:
            details = json.loads(review[1])
            yield _gauge(
                "alpr_guard_review_last_duration_seconds",
                "Duration of the newest access-review run.",
                float(details.get("seconds", 0.0)),
            )
            yield _gauge(
                "alpr_guard_review_last_searches",
                "Access records scanned by the newest access-review run.",
                float(details.get("searches", 0)),
            )
            yield _gauge(
                "alpr_guard_review_last_age_seconds",
                "Seconds since the newest access-review run finished.",
                self._age(review[0]),
            )

    def _age(self, at: datetime) -> float:
        return max(0.0, (self.now - at).total_seconds())

    def _pool(self) -> Iterator[Metric]:
        pool = self.engine.pool
        size = getattr(pool, "size", None)
        checked_out = getattr(pool, "checkedout", None)
        if not callable(size) or not callable(checked_out):
            return
        pid = str(os.getpid())
        for name, doc, value in (
            ("alpr_guard_db_pool_size", "Connections this worker keeps open.", size()),
            ("alpr_guard_db_pool_checked_out", "Connections in use in this worker.", checked_out()),
        ):
            family = GaugeMetricFamily(name, doc, labels=("pid",))
            family.add_metric((pid,), float(value))
            yield family


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=float(value))


def exposition(engine: Engine, now: datetime) -> bytes:
    """The text exposition format: the counters (every worker's, summed, under gunicorn), then
    the figures read from the database now."""
    started = time.perf_counter()
    if os.environ.get(MULTIPROC_ENV):
        counted = CollectorRegistry()
        multiprocess.MultiProcessCollector(counted)  # type: ignore[no-untyped-call]
    else:
        counted = REGISTRY
    read = CollectorRegistry(auto_describe=False)
    read.register(DatabaseFigures(engine, now))
    body = generate_latest(counted) + generate_latest(read)
    scrape = (
        "# HELP alpr_guard_scrape_seconds Time taken to build this page.\n"
        "# TYPE alpr_guard_scrape_seconds gauge\n"
        f"alpr_guard_scrape_seconds {time.perf_counter() - started:.6f}\n"
    )
    return body + scrape.encode()
