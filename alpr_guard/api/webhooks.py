"""Vendor webhooks: cameras and agents post their own bodies, with their own credentials.

``POST /api/v1/webhooks/rekor`` (Rekor Scout / OpenALPR agent: ``alpr_group``,
``alpr_results``, ``heartbeat``), ``/platerecognizer`` (Plate Recognizer Stream, JSON or the
multipart form with the frame), ``/verkada`` (``webhook_type: lpr``). Each is a thin mapping
(``alpr_guard.vendors``) onto the same ingest service as ``POST /api/v1/reads``.

Callers authenticate as a camera credential (``alpr-guard cameras add``), never as a user:
``Authorization: Bearer alprc_...``, or for a credential registered with ``--auth hmac`` the
headers ``X-Alprg-Camera`` (its name), ``X-Alprg-Timestamp`` (Unix seconds) and
``X-Alprg-Signature`` (hex HMAC-SHA256 of ``<timestamp>.<body>``). The credential is checked
in a read-only transaction of its own; a bearer secret accepted within the last minute is
taken from this process's ``CredentialCache`` instead, and the transaction that stores the
request's reads checks that its secret is still live (see ``services.cameras``). A read for a
camera the credential is not bound to refuses the whole request (403 ``camera_not_bound``),
and the refusal is recorded.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from functools import wraps
from typing import ParamSpec, TypeVar

from flask import Blueprint, Response, current_app, g, request
from sqlalchemy.engine import Connection

from alpr_guard.api import vendors
from alpr_guard.api.context import (
    ACCESS_ATTRIBUTE,
    MAX_JSON_DEPTH,
    RouteAccess,
    commit,
    json_body,
    json_depth,
    runtime,
    session,
)
from alpr_guard.api.contract import route
from alpr_guard.api.group_commit import GroupCommit, Submission, check, submit
from alpr_guard.api.models import WebhookOut
from alpr_guard.db import READ_ONLY
from alpr_guard.errors import Forbidden, Refused, Unauthorized, ValidationError
from alpr_guard.policy.access import Exposure
from alpr_guard.services.cameras import (
    NOT_BOUND,
    CameraPrincipal,
    CredentialCache,
    authenticate_signed,
    authenticate_token,
    live_credentials,
    record_refusal,
    unauthorized,
    unbound,
)
from alpr_guard.services.principals import TOKEN_PREFIX

bp = Blueprint("webhooks", __name__, url_prefix="/api/v1/webhooks")
P = ParamSpec("P")
R = TypeVar("R")
CAMERA_ROLE = "camera"
NOT_OPERATING = "camera_agency_not_operating"
_COMMITTER_KEY = "alpr_guard_group_commit"
_CREDENTIALS_KEY = "alpr_guard_camera_credentials"
_once_lock = threading.Lock()
_ANSWER = json.JSONEncoder(ensure_ascii=True, separators=(",", ":"))
T = TypeVar("T")


def _per_app(key: str, make: Callable[[], T]) -> T:
    """This app's one ``make()``, built on first use (under a lock: threads serve requests)."""
    found: T | None = current_app.extensions.get(key)
    if found is None:
        with _once_lock:
            found = current_app.extensions.get(key)
            if found is None:
                found = current_app.extensions[key] = make()
    return found


def committer() -> GroupCommit:
    """The process's group committer for this app (one per runtime)."""
    return _per_app(_COMMITTER_KEY, lambda: GroupCommit(runtime()))


def credential_cache() -> CredentialCache:
    """The process's cache of accepted bearer credentials for this app."""
    return _per_app(_CREDENTIALS_KEY, CredentialCache)


@contextmanager
def _credential_connection() -> Iterator[Connection]:
    """A Core connection of its own for a credential check, not the request's session: the
    check is one indexed SELECT, and the session's transaction bookkeeping around it cost more
    than the query (about a tenth of a camera's one-read post). Read-only: it never takes the
    write lock."""
    with runtime().engine.connect() as db:
        if db.dialect.name == "sqlite":
            db.execution_options(**{READ_ONLY: True})
        yield db


def _authenticate() -> CameraPrincipal:
    # From the WSGI environ: the same value as request.headers, without building the view.
    header = request.environ.get("HTTP_AUTHORIZATION", "")
    token = header[7:].strip() if header[:7].lower() == "bearer " else None
    if token is not None and token.startswith(TOKEN_PREFIX):
        # A user's ingest token is bound to no camera: it may not stand in for one here.
        raise Forbidden("webhooks take a camera credential (alpr-guard cameras add)")
    cache = credential_cache()
    if token is not None:
        cached = cache.lookup(token)
        if cached is not None:
            g.camera_cached = True
            return cached
    rt = runtime()
    with _credential_connection() as db:
        if token is not None:
            return authenticate_token(db, token, cache)
        return authenticate_signed(
            db,
            rt,
            request.headers.get("X-Alprg-Camera"),
            request.headers.get("X-Alprg-Timestamp"),
            request.headers.get("X-Alprg-Signature"),
            request.get_data(cache=True),
        )


def camera_route(view: Callable[P, R]) -> Callable[P, R]:
    """Authenticate a camera credential (401), and refuse one whose agency is no longer the
    operating agency (403)."""

    @wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        camera = _authenticate()
        g.camera = camera
        g.principal = camera.principal
        try:
            if camera.agency_ori != runtime().settings.instance.operating_agency:
                raise Refused(
                    NOT_OPERATING, 403, "this credential's agency is not the operating agency"
                )
            return view(*args, **kwargs)
        except Unauthorized:
            credential_cache().forget(camera.credential)
            raise
        except Exception:
            # Refused for another reason on a cached credential: the answer is the one the
            # database would give now (a secret disabled or retired meanwhile is a 401).
            _confirm_cached(camera)
            raise

    setattr(wrapper, ACCESS_ATTRIBUTE, RouteAccess(frozenset({CAMERA_ROLE}), Exposure.READS_WRITE))
    return wrapper


def _confirm_cached(camera: CameraPrincipal) -> None:
    """For a credential taken from the cache: raise the 401 (and drop the entry) if its secret
    is no longer live."""
    if not g.get("camera_cached"):
        return
    with _credential_connection() as db:
        live = live_credentials(db, [camera])
    g.camera_cached = False
    if not live:
        credential_cache().forget(camera.credential)
        raise unauthorized()


# A camera credential: a bearer token, or an HMAC signature over the body with its time.
CAMERA_SECURITY: tuple[Mapping[str, tuple[str, ...]], ...] = (
    {"camera": ()},
    {"cameraSignature": (), "cameraName": (), "cameraTime": ()},
)


def _ingest(batch: vendors.VendorBatch) -> tuple[Response, int]:
    rt = runtime()
    camera: CameraPrincipal = g.camera
    limits = rt.settings.ingest
    items = vendors.to_reads(batch, limits.max_batch, limits.max_image_bytes)
    reads = [item.read for item in items]
    if unbound(camera, (read.camera_id for read in reads)):
        _confirm_cached(camera)  # a revoked secret's attempt is a 401, not a recorded refusal
        rule = request.url_rule.rule if request.url_rule is not None else None
        record_refusal(session(), rt, camera, rule, len(reads))
        commit()
        raise Refused(
            NOT_BOUND,
            403,
            "a read names a camera this credential is not bound to; nothing was stored",
        )
    try:
        check(rt, reads)
    except ValidationError as exc:
        # Named as the vendor's field (epoch_start), not the native one the camera never sent.
        raise ValidationError(vendors.vendor_fields(exc.fields, batch)) from None
    result = submit(
        rt,
        committer(),
        Submission(
            camera, reads, [item.images for item in items], batch.vendor, ignored=batch.ignored
        ),
    )
    answer = {
        "accepted": result.accepted,
        "duplicates": result.duplicates,
        "ids": [str(i) for i in result.ids],
        "images": result.images,
        "ignored_fields": batch.ignored,
    }
    # What jsonify writes for this answer (compact, keys in order, a final newline), without
    # its per-call provider lookups: every camera post ends here.
    body = _ANSWER.encode(answer) + "\n"
    return current_app.response_class(body, mimetype="application/json"), (201 if reads else 200)


@route(
    bp,
    "POST",
    "/rekor",
    "Rekor Scout / OpenALPR agent posts: alpr_group (one read), alpr_results (one read per "
    "plate), heartbeat (none); camera credential",
    foreign_body={"application/json": "The agent's own body, as it sends it"},
    responses={
        201: WebhookOut,
        200: WebhookOut,  # no read in the body (a heartbeat): the camera is seen
    },
    errors=(401, 403, 422, 503),
    security=CAMERA_SECURITY,
)
@camera_route
def rekor() -> tuple[Response, int]:
    return _ingest(vendors.rekor(json_body()))


@route(
    bp,
    "POST",
    "/platerecognizer",
    "Plate Recognizer Stream webhook (hook + data): one read per data.results entry; JSON, or "
    "multipart with the body in 'json' and the frame in 'upload'",
    foreign_body={
        "application/json": "The Stream webhook body, as it sends it",
        "multipart/form-data": "'json': the same body as text; 'upload': the frame (binary)",
    },
    responses={
        201: WebhookOut,
        200: WebhookOut,  # no read in the body (a heartbeat): the camera is seen
    },
    errors=(401, 403, 422, 503),
    security=CAMERA_SECURITY,
)
@camera_route
def plate_recognizer() -> tuple[Response, int]:
    if request.mimetype == "multipart/form-data":
        upload = request.files.get("upload")
        image = None
        if upload is not None:
            limit = runtime().settings.ingest.max_image_bytes
            image = upload.read(limit + 1)
            if len(image) > limit:
                raise ValidationError({"upload": f"must be at most {limit} bytes"})
        form_json = request.form.get("json")
        # The JSON body's depth rule (json_body) holds for the body sent as a form field too:
        # the parser recurses once per level, and a deeper document was a 500, not a 422.
        if form_json is not None and json_depth(form_json.encode()) > MAX_JSON_DEPTH:
            raise ValidationError({"json": f"must not nest deeper than {MAX_JSON_DEPTH} levels"})
        return _ingest(vendors.plate_recognizer_form(form_json, image))
    return _ingest(vendors.plate_recognizer(json_body()))


@route(
    bp,
    "POST",
    "/verkada",
    "Verkada-style LPR webhook (webhook_type: lpr): one read; camera credential",
    foreign_body={"application/json": "The webhook body, as it sends it"},
    responses={
        201: WebhookOut,
        200: WebhookOut,  # no read in the body (a heartbeat): the camera is seen
    },
    errors=(401, 403, 422, 503),
    security=CAMERA_SECURITY,
)
@camera_route
def verkada() -> tuple[Response, int]:
    return _ingest(vendors.verkada(json_body()))
