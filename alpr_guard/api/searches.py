"""POST /api/v1/searches: a justified search, screened first and always recorded."""

from __future__ import annotations

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
from alpr_guard.policy.access import Exposure
from alpr_guard.schemas import parse_search_request
from alpr_guard.services.principals import SEARCH_ROLES
from alpr_guard.services.search import SearchOutcome, run_search

bp = Blueprint("searches", __name__, url_prefix="/api/v1")


def _serialise(outcome: SearchOutcome) -> dict[str, object]:
    return {
        "search_id": str(outcome.search_id),
        "result_count": outcome.result_count,
        "results": [r.as_json() for r in outcome.results],
        "next_cursor": outcome.next_cursor,
    }


@bp.post("/searches")
@require(*SEARCH_ROLES, exposes=Exposure.PLATE_READS)
def post_search() -> tuple[Response, int]:
    rt = runtime()
    request = parse_search_request(json_body(), rt.settings.search.max_page_size)
    outcome = run_search(session(), rt, principal(), request)
    commit()  # the access record is durable before a single result leaves
    raise_if_refused(outcome.decision, search_id=str(outcome.search_id))
    return jsonify(_serialise(outcome)), 200
