"""POST /api/v1/reads: cameras and vendor software deliver plate reads (role ``ingest``)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Blueprint, Flask, Response, current_app, jsonify

from alpr_guard import metrics
from alpr_guard.api.context import commit, json_body, principal, require, runtime, session
from alpr_guard.api.contract import route
from alpr_guard.api.models import IngestOut, ReadBatchIn
from alpr_guard.api.parsing import parse_read_batch
from alpr_guard.db import WRITE_WAIT_MS
from alpr_guard.errors import AuditUnavailable
from alpr_guard.policy.access import Exposure
from alpr_guard.services.ingest import record_reads

bp = Blueprint("reads", __name__, url_prefix="/api/v1")
GATE_KEY = "alpr_guard.ingest_gate"


def install_gate(app: Flask, sqlite: bool) -> None:
    """On SQLite a worker takes one batch at a time (PostgreSQL writes batches concurrently).

    SQLite has one writer, so batches that arrive together are stored one after another
    whatever happens. Without the gate each of them was read and parsed first and then waited
    for the writer holding its thousand reads: four concurrent 1,000-read posts took a worker
    about 30 MB above its idle size; taking them in turn, about 20 MB, at the same throughput
    and a third of the slowest batch's latency (bench/http_ingest.py).
    """
    app.extensions[GATE_KEY] = threading.BoundedSemaphore(1) if sqlite else None


@contextmanager
def _turn(wait_ms: int) -> Iterator[int]:
    """Wait for this worker's turn, before the body is read; yield what is left of the
    ``wait_ms`` a batch may wait in all (the turn and then the writer's lock)."""
    gate: threading.BoundedSemaphore | None = current_app.extensions.get(GATE_KEY)
    if gate is None:
        yield wait_ms
        return
    started = time.monotonic()
    if not gate.acquire(timeout=wait_ms / 1000):
        raise AuditUnavailable("the database is busy with other batches; send this one again")
    try:
        waited_ms = int((time.monotonic() - started) * 1000)
        yield max(1, wait_ms - waited_ms)
    finally:
        gate.release()


@route(
    bp,
    "POST",
    "/reads",
    "Ingest up to ingest.max_batch plate reads (role ingest); all or nothing",
    body=ReadBatchIn,
    responses={201: IngestOut},
    errors=(401, 403, 422, 503),
)
@require("ingest", exposes=Exposure.READS_WRITE)
def post_reads() -> tuple[Response, int]:
    rt = runtime()
    db = session()
    # Decoding and checking a 1,000-read body needs no database: end authentication's
    # transaction first (on PostgreSQL; SQLite's has ended already), so that no connection is
    # held in a transaction while this one parses. record_reads begins the write afresh.
    db.rollback()
    # On SQLite a batch waits for the single writer longer than a search does: under many
    # cameras it queues behind the other batches instead of failing (PostgreSQL ignores this).
    with _turn(rt.settings.ingest.write_wait_ms) as left_ms:
        reads = parse_read_batch(json_body(), rt.settings.ingest.max_batch)
        db.connection(execution_options={WRITE_WAIT_MS: left_ms})
        result = record_reads(db, rt, principal(), reads)
        commit()
        del reads  # the batch is stored: its memory is the next batch's
    metrics.READS_INGESTED.labels("stored").inc(result.accepted)
    metrics.READS_INGESTED.labels("replay").inc(result.duplicates)
    return jsonify(
        {
            "accepted": result.accepted,
            "duplicates": result.duplicates,
            "ids": [str(i) for i in result.ids],
        }
    ), 201
