"""The audit chain: run a verification (the API's ``/audit/verify``) and show its result; the
signed checkpoints and purge receipts, each downloadable for a third party to check with the
instance's public key alone (``alpr-guard audit verify-receipt``).

A verification is a POST carrying the session's CSRF token: it does work and records an
``audit.verified`` event under the viewer's name, so another site must not be able to start one
by sending the auditor's browser to a link (the session cookie is SameSite=Lax, which a
top-level GET carries). A GET of the same address only shows the form and the last result; it
runs and records nothing. The verification page streams: the browser shows a progress bar while
the chain is walked, and the result replaces it when the walk ends, without any script. The
look at the listing, every verification and every download is an audit event.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator

from flask import Response, render_template, stream_template

from alpr_guard.api.console.auth import check_csrf, page
from alpr_guard.api.console.blueprint import bp
from alpr_guard.api.context import commit, principal, runtime, session
from alpr_guard.audit import VerifyResult
from alpr_guard.checkpoints import (
    list_signed_files,
    purge_receipt_document,
    signed_file_path,
    verification_receipt_document,
    verify_with_checkpoints,
)
from alpr_guard.crypto import key_fingerprint
from alpr_guard.db import read_only_session
from alpr_guard.errors import NotFound
from alpr_guard.policy.access import Exposure
from alpr_guard.services.attention import last_verification
from alpr_guard.services.retention import list_purges
from alpr_guard.vocabulary import AuditKind

PURGES_SHOWN = 50


def _public_key() -> tuple[str, str]:
    raw = runtime().keyring.public_key_raw()
    return base64.b64encode(raw).decode(), key_fingerprint(raw)


@bp.get("/chain")
@page("auditor", exposes=Exposure.OPERATOR_RECORDS)
def chain() -> str:
    rt, db = runtime(), session()
    files = list_signed_files(rt)
    purges = list_purges(db, limit=PURGES_SHOWN)
    rt.audit.append(
        db,
        AuditKind.AUDIT_RECEIPTS_LISTED,
        principal().actor,
        details={"files": len(files), "purges": len(purges)},
    )
    commit()
    public_key, fingerprint = _public_key()
    return render_template(
        "console/chain.html",
        files=files,
        purges=purges,
        public_key=public_key,
        fingerprint=fingerprint,
    )


def _verify() -> tuple[VerifyResult, int]:
    """The API's verification, recorded the same way; returns the result and its event's seq."""
    rt = runtime()
    with read_only_session(rt.sessions) as reader:
        result = verify_with_checkpoints(reader, rt)
    db = session()
    event = rt.audit.append(
        db,
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
    return result, event.seq


@bp.get("/chain/verify")
@page("auditor", exposes=Exposure.OPERATOR_RECORDS)
def verify_form() -> str:
    """The button that starts a verification, and the last one's outcome. Nothing is run or
    recorded here: a link from anywhere may land on this page."""
    return render_template("console/verify_form.html", last=last_verification(session()))


@bp.post("/chain/verify")
@page("auditor", exposes=Exposure.OPERATOR_RECORDS)
def verify() -> Response:
    check_csrf()

    def run() -> Iterator[dict[str, object]]:
        result, seq = _verify()
        yield {"result": result, "seq": seq, "message": result.describe()}

    response = Response(stream_template("console/verify.html", run=run), mimetype="text/html")
    # Proxies must pass the page on as it is written, or the progress bar never shows.
    response.headers["X-Accel-Buffering"] = "no"
    return response


def _download(document: dict[str, object], name: str) -> Response:
    response = Response(json.dumps(document, indent=2), mimetype="application/json")
    response.headers["Content-Disposition"] = f"attachment; filename={name}"
    return response


@bp.get("/chain/verifications/<int:seq>/receipt")
@page("auditor", exposes=Exposure.OPERATOR_RECORDS)
def verification_receipt(seq: int) -> Response:
    rt, db = runtime(), session()
    if not 1 <= seq <= 2**63 - 1:
        raise NotFound("no chain verification with that sequence number")
    document = verification_receipt_document(db, rt, seq)
    rt.audit.append(
        db,
        AuditKind.AUDIT_RECEIPT_DOWNLOADED,
        principal().actor,
        details={"kind": "verification", "seq": seq},
    )
    commit()
    return _download(document, f"verification-{seq:012d}.json")


@bp.get("/chain/files/<name>")
@page("auditor", exposes=Exposure.OPERATOR_RECORDS)
def signed_file(name: str) -> Response:
    rt, db = runtime(), session()
    path = signed_file_path(rt, name)
    rt.audit.append(
        db,
        AuditKind.AUDIT_RECEIPT_DOWNLOADED,
        principal().actor,
        details={"kind": "file", "file": name},
    )
    commit()
    return _download(json.loads(path.read_text("utf-8")), path.name)


@bp.get("/chain/purges/<uuid:run_id>/receipt")
@page("auditor", exposes=Exposure.OPERATOR_RECORDS)
def purge_receipt(run_id: uuid.UUID) -> Response:
    rt, db = runtime(), session()
    document = purge_receipt_document(db, rt, run_id)
    rt.audit.append(
        db,
        AuditKind.AUDIT_RECEIPT_DOWNLOADED,
        principal().actor,
        details={"kind": "purge_receipt", "run_id": str(run_id)},
    )
    commit()
    return _download(document, f"receipt-purge-{run_id}.json")
