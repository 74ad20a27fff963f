"""Public pages, no sign-in: the usage and privacy policy, the transparency figures and the
signed receipts of the purges they list.

None names a person or a plate: the policy is built from the configuration, the transparency
figures are aggregates, and a purge receipt holds counts and key ids only. All may be cached
briefly and answer conditional requests.
"""

from __future__ import annotations

import hashlib
import json
import uuid

from flask import Blueprint, Response, request

from alpr_guard.api.context import public, runtime
from alpr_guard.api.contract import route
from alpr_guard.api.models import Figures, PolicyQuery, ReceiptPath
from alpr_guard.checkpoints import purge_receipt_document
from alpr_guard.db import read_only_session
from alpr_guard.errors import ValidationError
from alpr_guard.services.policy_document import FORMATS, MEDIA_TYPES, build_policy, render_policy
from alpr_guard.services.rendering import render_template
from alpr_guard.services.transparency import build_transparency

bp = Blueprint("public", __name__)
MAX_AGE_SECONDS = 300


def cacheable(body: bytes, media_type: str) -> Response:
    """A short-lived public response with a strong ETag; a matching If-None-Match gets 304."""
    response = Response(body)
    response.headers["Content-Type"] = media_type
    response.set_etag(hashlib.sha256(body).hexdigest())
    response.headers["Cache-Control"] = f"public, max-age={MAX_AGE_SECONDS}"
    response.make_conditional(request)
    return response


@route(
    bp,
    "GET",
    "/policy",
    "The published usage and privacy policy, from the config in force",
    query=PolicyQuery,
    responses={200: "The policy, with its hash and effective date", 304: "Not modified"},
    media={200: ("text/html", "text/markdown", "application/pdf")},
    errors=(404, 422),
)
@public
def get_policy() -> Response:
    fmt = request.args.get("format", "html")
    if fmt not in FORMATS:
        raise ValidationError({"format": f"must be one of {', '.join(FORMATS)}"})
    rt = runtime()
    with read_only_session(rt.sessions) as reader:
        body = render_policy(build_policy(reader, rt), fmt)
    return cacheable(body, MEDIA_TYPES[fmt])


@route(
    bp,
    "GET",
    "/transparency",
    "Public transparency figures (HTML), aggregates only",
    responses={200: "HTML page", 304: "Not modified (If-None-Match)"},
    media={200: ("text/html",)},
)
@public
def get_transparency() -> Response:
    rt = runtime()
    with read_only_session(rt.sessions) as reader:
        figures = build_transparency(reader, rt)
    return cacheable(
        render_template("transparency.html", t=figures.data).encode(), "text/html; charset=utf-8"
    )


@route(
    bp,
    "GET",
    "/transparency.json",
    "Public transparency figures (JSON), aggregates only",
    responses={200: Figures, 304: "Not modified (If-None-Match)"},
)
@public
def get_transparency_json() -> Response:
    rt = runtime()
    with read_only_session(rt.sessions) as reader:
        figures = build_transparency(reader, rt)
    return cacheable(figures.json_bytes(), "application/json")


@route(
    bp,
    "GET",
    "/transparency/receipts/<run_id>.json",
    "A completed purge's signed receipt (counts and key ids only), checkable with the public "
    "key alone",
    params=ReceiptPath,
    responses={200: "The signed receipt document", 304: "Not modified (If-None-Match)"},
    media={200: ("application/json",)},
    errors=(404, 409, 422),
)
@public
def get_purge_receipt(run_id: str) -> Response:
    """A completed purge's receipt, signed with the instance's key, for anyone to check with
    the public key alone (``alpr-guard audit verify-receipt``). Signed again from its audit
    event, which must still verify: an edited receipt is refused (409), never signed."""
    try:
        run = uuid.UUID(run_id)
    except ValueError:
        raise ValidationError({"run_id": "must be a purge run id (a UUID)"}) from None
    rt = runtime()
    with read_only_session(rt.sessions) as reader:
        document = purge_receipt_document(reader, rt, run)
    response = cacheable(json.dumps(document, indent=2).encode(), "application/json")
    response.headers["Content-Disposition"] = f'attachment; filename="receipt-purge-{run}.json"'
    return response
