"""POST /api/v1/searches: a justified search, screened first and always recorded."""

from __future__ import annotations

import base64
from collections.abc import Mapping

from flask import Blueprint, Response, jsonify

from alpr_guard.api.context import (
    commit,
    json_body,
    principal,
    raise_if_refused,
    require,
    runtime,
    session,
)
from alpr_guard.api.contract import route
from alpr_guard.api.models import SearchIn, SearchOut
from alpr_guard.api.parsing import salvage_search_request
from alpr_guard.errors import Refused, ValidationError
from alpr_guard.policy.access import Exposure
from alpr_guard.services.principals import SEARCH_ROLES
from alpr_guard.services.search import SearchOutcome, invalid_request, search_attempt

bp = Blueprint("searches", __name__, url_prefix="/api/v1")


def _serialise(outcome: SearchOutcome) -> dict[str, object]:
    results = [r.as_json() for r in outcome.results]
    if outcome.images is not None:
        for read, out in zip(outcome.results, results, strict=True):
            out["images"] = [
                {
                    "kind": image.kind,
                    "content_type": image.content_type,
                    "data": base64.b64encode(image.data).decode(),
                }
                for image in outcome.images.get(read.id, ())
            ]
    return {
        "search_id": str(outcome.search_id),
        "result_count": outcome.result_count,
        "results": results,
        "next_cursor": outcome.next_cursor,
    }


def attempt_body() -> tuple[object, dict[str, str]]:
    """The JSON body, or (None, why) when there is none: the attempt is recorded either way."""
    try:
        return json_body(), {}
    except ValidationError as exc:
        return None, exc.fields


def raise_if_invalid(fields: Mapping[str, str] | None, **record_ids: str) -> None:
    """A malformed request (already recorded and committed): 422 ``invalid_request`` naming
    each bad field in ``details.fields``, never its value."""
    if fields:
        decision = invalid_request(fields)
        raise Refused("invalid_request", 422, decision.message, **record_ids, fields=dict(fields))


@route(
    bp,
    "POST",
    "/searches",
    "Justified search for one plate (roles officer, supervisor). Screened before any data is "
    "touched; every search is recorded, a malformed one included",
    body=SearchIn,
    responses={200: SearchOut},
    errors=(401, 403, 422, 503),
)
@require(*SEARCH_ROLES, exposes=Exposure.PLATE_READS)
def post_search() -> tuple[Response, int]:
    rt = runtime()
    body, body_errors = attempt_body()
    values, fields = salvage_search_request(body, rt.settings.search.max_page_size)
    outcome = search_attempt(session(), rt, principal(), values, {**fields, **body_errors})
    commit()  # the access record is durable before a single result leaves
    raise_if_invalid(outcome.fields, search_id=str(outcome.search_id))
    raise_if_refused(outcome.decision, search_id=str(outcome.search_id))
    return jsonify(_serialise(outcome)), 200
