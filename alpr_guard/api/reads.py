"""POST /api/v1/reads: cameras and vendor software deliver plate reads (role ``ingest``)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from alpr_guard.api.context import commit, json_body, principal, require, runtime, session
from alpr_guard.policy.access import Exposure
from alpr_guard.schemas import parse_read_batch
from alpr_guard.services.ingest import record_reads

bp = Blueprint("reads", __name__, url_prefix="/api/v1")


@bp.post("/reads")
@require("ingest", exposes=Exposure.READS_WRITE)
def post_reads() -> tuple[Response, int]:
    rt = runtime()
    db = session()
    # Authentication read the token in this session's transaction, which on SQLite holds the
    # database's write lock (BEGIN IMMEDIATE). Decoding and checking a 1,000-read body needs no
    # database: end that read-only transaction first, so that other requests can write while
    # this one parses. record_reads begins the write transaction afresh.
    db.rollback()
    reads = parse_read_batch(json_body(), rt.settings.ingest.max_batch)
    result = record_reads(db, rt, principal(), reads)
    commit()
    return jsonify(
        {
            "accepted": result.accepted,
            "duplicates": result.duplicates,
            "ids": [str(i) for i in result.ids],
        }
    ), 201
