"""Input at the edge of what Python can represent answers 422 naming the field, never 500.

ISO 8601 strings whose UTC instant lies outside datetime's range (years 1-9999), ids beyond the
column's range and deeply nested JSON used to raise OverflowError or RecursionError inside the
request. Each case runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from flask.testing import FlaskClient
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from alpr_guard.api.context import MAX_JSON_DEPTH, json_depth
from alpr_guard.clock import ensure_utc
from alpr_guard.models import PlateRead, SearchRecord
from alpr_guard.runtime import Runtime
from alpr_guard.schemas import parse_datetime
from alpr_guard.services.requests import decode_cursor
from tests.conftest import auth, read, search_body

# Both are valid ISO 8601; their UTC instants are one offset past datetime.max / before .min.
EDGES = ("9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+00:01")
PERIOD = {"from": "2026-11-01T00:00:00Z", "to": "2026-11-20T00:00:00Z"}


def cursor_for(at: str) -> str:
    raw = json.dumps([at, "00000000-0000-0000-0000-000000000001"]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def assert_422_naming(response: Any, field: str) -> None:
    assert response.status_code == 422, (response.status_code, response.get_data()[:300])
    error = response.get_json()["error"]
    # A malformed search or share is still an attempt on record (invalid_request); every other
    # endpoint answers the plain validation_error. Both name the field, never its value.
    recorded = response.request.method == "POST" and response.request.path in {
        "/api/v1/searches",
        "/api/v1/shares",
    }
    assert error["code"] == ("invalid_request" if recorded else "validation_error")
    assert field in error["details"]["fields"], error


@pytest.mark.parametrize("value", EDGES)
def test_parse_datetime_refuses_instants_outside_the_range(value: str) -> None:
    with pytest.raises(ValueError, match="outside the supported range"):
        parse_datetime(value)
    with pytest.raises(ValueError, match="not a cursor"):
        decode_cursor(cursor_for(value))


def test_the_last_and_first_representable_instants_still_parse() -> None:
    assert parse_datetime("9999-12-31T23:59:59Z").year == 9999
    assert parse_datetime("0001-01-01T00:00:00Z").year == 1
    assert parse_datetime("9999-12-31T23:59:59+14:00").year == 9999


@given(st.datetimes(timezones=st.timezones()))
@settings(max_examples=300, deadline=None)
def test_ensure_utc_answers_a_utc_instant_or_a_value_error(value: Any) -> None:
    try:
        converted = ensure_utc(value)
    except ValueError:
        return
    assert converted.utcoffset() is not None and not converted.utcoffset()


@pytest.mark.parametrize("value", EDGES)
def test_edge_dates_in_bodies_answer_422(
    client: FlaskClient, tokens: dict[str, str], rt: Runtime, value: str
) -> None:
    response = client.post(
        "/api/v1/reads", json={"reads": [read(at=value)]}, headers=auth(tokens["ingest"])
    )
    assert_422_naming(response, "reads[0].observed_at")
    for field in ("from", "to"):
        response = client.post(
            "/api/v1/searches",
            json=search_body(**{field: value}),
            headers=auth(tokens["officer"]),
        )
        assert_422_naming(response, field)
    response = client.post(
        "/api/v1/searches",
        json=search_body(cursor=cursor_for(value)),
        headers=auth(tokens["officer"]),
    )
    assert_422_naming(response, "cursor")
    response = client.post(
        "/api/v1/holds",
        json={"case_number": "26-1", "reason": "r", "review_by": value, "read_ids": []},
        headers=auth(tokens["supervisor"]),
    )
    assert_422_naming(response, "review_by")
    with rt.sessions() as db:  # nothing half-written
        assert db.scalar(select(func.count()).select_from(PlateRead)) == 0


@pytest.mark.parametrize("value", EDGES)
@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/review/findings",
        "/api/v1/review/vague-rates",
        "/api/v1/audit/access-report",
        "/api/v1/audit/summary",
    ],
)
def test_edge_dates_in_query_strings_answer_422(
    client: FlaskClient, tokens: dict[str, str], path: str, value: str
) -> None:
    for field in ("from", "to"):
        response = client.get(
            path, query_string={**PERIOD, field: value}, headers=auth(tokens["auditor"])
        )
        assert_422_naming(response, field)


def test_a_finding_id_beyond_the_column_answers_422(
    client: FlaskClient, tokens: dict[str, str]
) -> None:
    for finding_id in (2**63 + 5, 2**31, 10**40):
        response = client.post(
            f"/api/v1/review/findings/{finding_id}/resolve",
            json={"verdict": "justified", "note": "checked"},
            headers=auth(tokens["auditor"]),
        )
        assert_422_naming(response, "finding_id")
    response = client.post(
        f"/api/v1/review/findings/{2**31 - 1}/resolve",
        json={"verdict": "justified", "note": "checked"},
        headers=auth(tokens["auditor"]),
    )
    assert response.status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        "[" * 100_000 + "]" * 100_000,
        '{"a":' * 100_000 + "1" + "}" * 100_000,
        "[" * 100_000,  # unterminated: the parser would recurse before it found out
        "[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1),
    ],
)
def test_deeply_nested_json_answers_422_before_parsing(
    client: FlaskClient, tokens: dict[str, str], rt: Runtime, body: str
) -> None:
    for path, role in (("/api/v1/reads", "ingest"), ("/api/v1/searches", "officer")):
        response = client.post(
            path, data=body, content_type="application/json", headers=auth(tokens[role])
        )
        assert_422_naming(response, "body")
        assert "nest" in response.get_json()["error"]["details"]["fields"]["body"]
    with rt.sessions() as db:
        assert db.scalar(select(func.count()).select_from(PlateRead)) == 0
        # The search is still an attempt on record: refused invalid_request, nothing parsed.
        refused = db.scalars(select(SearchRecord.reason_code)).all()
        assert refused == ["invalid_request"]


def test_nesting_at_the_limit_is_parsed_as_usual(
    client: FlaskClient, tokens: dict[str, str]
) -> None:
    # Depth MAX_JSON_DEPTH is allowed: the body reaches the parser and is refused for its shape.
    body = "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH
    response = client.post(
        "/api/v1/reads",
        data=body,
        content_type="application/json",
        headers=auth(tokens["ingest"]),
    )
    assert_422_naming(response, "body")
    assert "nest" not in response.get_json()["error"]["details"]["fields"]["body"]


JSON_TEXT = st.text(alphabet=st.sampled_from('[]{}"\\ab\n\u2028'), max_size=8)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | JSON_TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(JSON_TEXT, inner, max_size=3),
    max_leaves=20,
)


def reference_depth(value: object) -> int:
    if isinstance(value, list):
        return 1 + max(map(reference_depth, value), default=0)
    if isinstance(value, dict):
        return 1 + max(map(reference_depth, value.values()), default=0)
    return 0


@given(JSON_VALUES, st.booleans())
@settings(max_examples=400, deadline=None)
def test_json_depth_matches_the_parsed_structure(value: object, ascii_only: bool) -> None:
    # Brackets, quotes and backslashes inside strings never count, escaped or not.
    raw = json.dumps(value, ensure_ascii=ascii_only).encode()
    assert json_depth(raw) == reference_depth(value)


@pytest.mark.parametrize("field", ["latitude", "longitude", "confidence"])
def test_a_number_too_large_for_a_float_answers_422(
    client: FlaskClient, tokens: dict[str, str], rt: Runtime, field: str
) -> None:
    values = {"latitude": "1", "longitude": "1", field: "1" + "0" * 400}
    raw = ",".join(f'"{k}":{v}' for k, v in values.items())
    body = (
        '{"reads":[{"plate":"7ABC123","observed_at":"2026-11-19T08:00:00Z",'
        f'"camera_id":"cam-1",{raw}}}]}}'
    )
    response = client.post(
        "/api/v1/reads", data=body, content_type="application/json", headers=auth(tokens["ingest"])
    )
    assert_422_naming(response, f"reads[0].{field}")
    with rt.sessions() as db:
        assert db.scalar(select(func.count()).select_from(PlateRead)) == 0


@pytest.mark.parametrize("raw", ["9" * 5000, "\u00b2", "1\u0661", " 5", "+5", "-1"])
def test_query_string_integers_answer_422_for_anything_but_ascii_digits_in_range(
    client: FlaskClient, tokens: dict[str, str], raw: str
) -> None:
    for path, name in (
        ("/api/v1/review/findings", "offset"),
        ("/api/v1/review/findings", "limit"),
        ("/api/v1/shares", "limit"),
        ("/api/v1/purges", "limit"),
    ):
        response = client.get(path, query_string={name: raw}, headers=auth(tokens["auditor"]))
        assert_422_naming(response, name)


@pytest.mark.parametrize("field", ["purpose", "justification"])
def test_a_nul_character_in_free_text_answers_422_and_is_recorded(
    client: FlaskClient, tokens: dict[str, str], rt: Runtime, field: str
) -> None:
    """PostgreSQL text holds no NUL: one in a search's or share's free text is a malformed
    request (422 naming the field), still recorded as an attempt, never a 503."""
    body = search_body(**{field: "Stolen vehicle\x00 reported by owner"})
    response = client.post("/api/v1/searches", json=body, headers=auth(tokens["officer"]))
    assert_422_naming(response, field)
    share = {
        "recipient": "CA0190100",
        "read_ids": ["00000000-0000-0000-0000-000000000001"],
        "purpose": "stolen_vehicle",
        "justification": "Joint stolen vehicle case with the county",
        field: "Stolen vehicle\x00 case",
    }
    response = client.post("/api/v1/shares", json=share, headers=auth(tokens["supervisor"]))
    assert_422_naming(response, field)
    with rt.sessions() as db:
        assert db.scalars(select(SearchRecord.reason_code)).all() == ["invalid_request"]


def test_a_nul_character_in_a_hold_reason_or_note_is_never_a_5xx(
    client: FlaskClient, tokens: dict[str, str]
) -> None:
    response = client.post(
        "/api/v1/holds",
        json={
            "case_number": "26-004512",
            "reason": "Evidence\x00 in a homicide case",
            "review_by": "2027-01-20T00:00:00Z",
            "read_ids": ["00000000-0000-0000-0000-000000000001"],
        },
        headers=auth(tokens["supervisor"]),
    )
    assert response.status_code < 500, response.get_json()
