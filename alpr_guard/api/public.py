"""Public pages, no sign-in: the usage and privacy policy and the transparency figures.

Neither names a person or a plate: the policy is built from the configuration, the
transparency figures are aggregates. Both may be cached briefly and answer conditional requests.
"""

from __future__ import annotations

import hashlib

from flask import Blueprint, Response, request

from alpr_guard.api.context import public, runtime
from alpr_guard.api.contract import query, route
from alpr_guard.api.models import Figures, PolicyQuery
from alpr_guard.db import read_only_session
from alpr_guard.services.policy_document import MEDIA_TYPES, build_policy, render_policy
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
    fmt = query(PolicyQuery).format
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
