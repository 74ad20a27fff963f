"""GET /api/v1/audit/verify: the same answer as `alpr-guard audit verify`, for auditors."""

from __future__ import annotations

import time

from flask import Blueprint, Response, jsonify

from alpr_guard import metrics
from alpr_guard.api.context import commit, principal, require, runtime, session
from alpr_guard.api.contract import route
from alpr_guard.api.models import VerifyOut
from alpr_guard.checkpoints import verify_with_checkpoints
from alpr_guard.db import read_only_session
from alpr_guard.policy.access import Exposure
from alpr_guard.vocabulary import AuditKind

bp = Blueprint("audit", __name__, url_prefix="/api/v1/audit")


@route(
    bp,
    "GET",
    "/verify",
    "Verify the audit chain against the signed checkpoints (auditor); names the first edited, "
    "deleted, reordered or truncated event, and each access record edited, flipped, deleted "
    "or inserted",
    responses={200: VerifyOut},
    errors=(401, 403, 503),
)
@require("auditor", exposes=Exposure.OPERATOR_RECORDS)
def get_verify() -> Response:
    rt = runtime()
    started = time.perf_counter()
    with read_only_session(rt.sessions) as reader:
        result = verify_with_checkpoints(reader, rt)
    metrics.VERIFY_SECONDS.labels("ok" if result.ok else "failed").observe(
        time.perf_counter() - started
    )
    # The auditor's own look is on the record too (after the walk, so it is not part of it).
    rt.audit.append(
        session(),
        AuditKind.AUDIT_VERIFIED,
        principal().actor,
        details={
            "ok": result.ok,
            "checked": result.checked,
            "first_seq": result.first_seq,
            "bad_seq": result.bad_seq,
            "problem": result.problem,
            "events_after_checkpoint": result.events_after_checkpoint,
            "record_damage": len(result.record_damage),
        },
    )
    commit()
    return jsonify(
        {
            "ok": result.ok,
            "checked": result.checked,
            "first_seq": result.first_seq,
            "last_seq": result.last_seq,
            "bad_seq": result.bad_seq,
            "problem": result.problem,
            "checkpoints_matched": result.checkpoints,
            "last_checkpoint_seq": result.last_checkpoint_seq,
            "events_after_checkpoint": result.events_after_checkpoint,
            "checkpoint_dir_problems": list(result.directory_problems),
            "records_checked": result.records_checked,
            "record_damage": list(result.record_damage),
            "message": result.describe(),
        }
    )
