"""POST /api/v1/reads: cameras and vendor software deliver plate reads (role ``ingest``)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from alpr_guard import metrics
from alpr_guard.api.context import commit, json_body, principal, require, runtime, session
from alpr_guard.api.contract import route
from alpr_guard.api.models import IngestOut, ReadBatchIn
from alpr_guard.api.parsing import parse_read_batch
from alpr_guard.db import WRITE_WAIT_MS
from alpr_guard.policy.access import Exposure
from alpr_guard.services.ingest import record_reads

bp = Blueprint("reads", __name__, url_prefix="/api/v1")


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
    reads = parse_read_batch(json_body(), rt.settings.ingest.max_batch)
    # On SQLite a batch waits for the single writer longer than a search does: under many
    # cameras it queues behind the other batches instead of failing (PostgreSQL ignores this).
    db.connection(execution_options={WRITE_WAIT_MS: rt.settings.ingest.write_wait_ms})
    result = record_reads(db, rt, principal(), reads)
    commit()
    metrics.READS_INGESTED.labels("stored").inc(result.accepted)
    metrics.READS_INGESTED.labels("replay").inc(result.duplicates)
    return jsonify(
        {
            "accepted": result.accepted,
            "duplicates": result.duplicates,
            "ids": [str(i) for i in result.ids],
        }
    ), 201
