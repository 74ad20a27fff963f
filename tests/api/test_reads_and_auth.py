"""Ingest through HTTP, authentication and roles, the error shape, the API description."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from alpr_guard.clock import FixedClock
from alpr_guard.models import AuditEvent, PlateRead
from alpr_guard.runtime import Runtime
from alpr_guard.services.principals import revoke_tokens
from tests.conftest import auth, read, search_body


def count_reads(rt: Runtime) -> int:
    with rt.sessions() as session:
        return session.scalar(select(func.count()).select_from(PlateRead)) or 0


def test_ingest_stores_reads_and_answers_ids(
    client: FlaskClient, tokens: dict[str, str], rt: Runtime
) -> None:
    response = client.post(
        "/api/v1/reads",
        json={
            "reads": [
                read(client_read_id="r-1", hit=True, confidence=0.5),
                read(plate="8XYZ999", camera="cam-2", latitude=0.0, longitude=0.0),
            ]
        },
        headers=auth(tokens["ingest"]),
    )
    assert response.status_code == 201
    body = response.get_json()
    assert body["accepted"] == 2 and body["duplicates"] == 0 and len(body["ids"]) == 2
    with rt.sessions() as session:
        rows = {str(r.id): r for r in session.scalars(select(PlateRead))}
        first = rows[body["ids"][0]]
        assert (first.retention_class, first.hit, first.confidence) == ("hit", True, 0.5)
        assert first.expires_at - first.observed_at == timedelta(days=365)
        second = rows[body["ids"][1]]
        assert second.retention_class == "unmatched"
        assert second.expires_at - second.observed_at == timedelta(days=60)
        assert (
            session.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.kind == "reads.ingested")
            )
            == 1
        )


def test_replayed_client_read_id_is_stored_once(
    client: FlaskClient, tokens: dict[str, str], rt: Runtime
) -> None:
    batch = {
        "reads": [
            read(client_read_id="r-1"),
            read(client_read_id="r-2"),
            read(client_read_id="r-1"),
        ]
    }
    first = client.post("/api/v1/reads", json=batch, headers=auth(tokens["ingest"]))
    assert first.status_code == 201
    body = first.get_json()
    assert (body["accepted"], body["duplicates"]) == (2, 1)
    assert body["ids"][0] == body["ids"][2]
    again = client.post("/api/v1/reads", json=batch, headers=auth(tokens["ingest"])).get_json()
    assert (again["accepted"], again["duplicates"]) == (0, 3)
    assert again["ids"] == body["ids"]
    # The same client id from another camera is another read.
    other = client.post(
        "/api/v1/reads",
        json={"reads": [read(camera="cam-9", client_read_id="r-1")]},
        headers=auth(tokens["ingest"]),
    ).get_json()
    assert other["accepted"] == 1
    assert count_reads(rt) == 3


@pytest.mark.parametrize(
    ("bad", "path"),
    [
        ({"plate": "!!"}, "reads[1].plate"),
        ({"plate": "ABCDEFGHIJK"}, "reads[1].plate"),
        ({"observed_at": "2026-11-19T08:00:00"}, "reads[1].observed_at"),
        ({"observed_at": "yesterday"}, "reads[1].observed_at"),
        ({"observed_at": "2026-11-21T08:00:00Z"}, "reads[1].observed_at"),  # future
        ({"observed_at": "2026-08-01T08:00:00Z"}, "reads[1].observed_at"),  # past retention
        ({"latitude": 91, "longitude": 0}, "reads[1].latitude"),
        ({"latitude": 10, "longitude": -181}, "reads[1].longitude"),
        ({"latitude": 10}, "reads[1].latitude"),
        ({"confidence": 101}, "reads[1].confidence"),
        ({"confidence": True}, "reads[1].confidence"),
        ({"camera_id": ""}, "reads[1].camera_id"),
        ({"hit": "yes"}, "reads[1].hit"),
        ({"plate_state": "California"}, "reads[1].plate_state"),
        ({"retention_class": "hit"}, "reads[1].retention_class"),
        ({"agency_id": 2}, "reads[1].agency_id"),
        ({"id": "x"}, "reads[1].id"),
    ],
)
def test_one_bad_read_refuses_the_batch_and_names_index_and_field(
    client: FlaskClient, tokens: dict[str, str], rt: Runtime, bad: dict[str, Any], path: str
) -> None:
    response = client.post(
        "/api/v1/reads", json={"reads": [read(), {**read(), **bad}]}, headers=auth(tokens["ingest"])
    )
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "validation_error"
    assert path in error["details"]["fields"]
    assert path in error["message"]
    assert "7ABC123" not in response.get_data(as_text=True)
    assert count_reads(rt) == 0


@pytest.mark.parametrize(
    "body",
    [
        {"reads": []},
        {"reads": "x"},
        {"reads": [read()], "agency": "CA0190100"},
        [read()],
    ],
)
def test_malformed_batches(client: FlaskClient, tokens: dict[str, str], body: Any) -> None:
    response = client.post("/api/v1/reads", json=body, headers=auth(tokens["ingest"]))
    assert response.status_code == 422


def test_batch_limit(client: FlaskClient, tokens: dict[str, str], rt: Runtime) -> None:
    too_many = [read(client_read_id=str(i)) for i in range(rt.settings.ingest.max_batch + 1)]
    response = client.post(
        "/api/v1/reads", json={"reads": too_many}, headers=auth(tokens["ingest"])
    )
    assert response.status_code == 422
    assert "reads" in response.get_json()["error"]["details"]["fields"]


def test_body_must_be_json(client: FlaskClient, tokens: dict[str, str]) -> None:
    response = client.post("/api/v1/reads", data="reads=1", headers=auth(tokens["ingest"]))
    assert response.status_code == 422
    response = client.post(
        "/api/v1/reads",
        data="{not json",
        headers={**auth(tokens["ingest"]), "Content-Type": "application/json"},
    )
    assert response.status_code == 422


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer nope"},
        {"Authorization": "Basic abc"},
        {"Authorization": "Bearer alprg_" + "x" * 43},
    ],
)
def test_missing_or_bad_token_is_401(client: FlaskClient, headers: dict[str, str]) -> None:
    response = client.post("/api/v1/reads", json={"reads": [read()]}, headers=headers)
    assert response.status_code == 401
    error = response.get_json()["error"]
    assert set(error) == {"code", "message", "request_id"}
    assert error["code"] == "unauthorized"
    assert response.headers["X-Request-ID"] == error["request_id"]


@pytest.mark.parametrize("role", ["officer", "supervisor", "auditor", "admin"])
def test_only_ingest_may_post_reads(client: FlaskClient, tokens: dict[str, str], role: str) -> None:
    response = client.post("/api/v1/reads", json={"reads": [read()]}, headers=auth(tokens[role]))
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "forbidden"


def test_human_tokens_expire_and_ingest_tokens_do_not(
    client: FlaskClient, tokens: dict[str, str], clock: FixedClock
) -> None:
    clock.advance(timedelta(hours=12, seconds=1))
    response = client.post("/api/v1/searches", json=search_body(), headers=auth(tokens["officer"]))
    assert response.status_code == 401
    response = client.post(
        "/api/v1/reads",
        json={"reads": [read(at="2026-11-20T11:00:00Z")]},
        headers=auth(tokens["ingest"]),
    )
    assert response.status_code == 201


def test_revoked_token_is_401(client: FlaskClient, tokens: dict[str, str], rt: Runtime) -> None:
    with rt.sessions.begin() as session:
        assert revoke_tokens(session, rt, username="t-officer") == 1
    response = client.post("/api/v1/searches", json=search_body(), headers=auth(tokens["officer"]))
    assert response.status_code == 401


def test_healthz_and_openapi_cover_every_route(client: FlaskClient, app: Flask) -> None:
    assert client.get("/healthz").get_json() == {"status": "ok"}
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.endpoint.startswith("console."):
            continue  # the console's HTML pages are for people (docs/console.md), not the API
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        assert path in spec["paths"], f"{path} missing from openapi.json"
        for method in rule.methods or ():
            if method not in {"HEAD", "OPTIONS"}:
                assert method.lower() in spec["paths"][path], f"{method} {path} undocumented"


def test_unknown_route_uses_the_error_shape(client: FlaskClient) -> None:
    response = client.get("/api/v1/nope")
    assert response.status_code == 404
    assert set(response.get_json()["error"]) == {"code", "message", "request_id"}


def test_a_batch_with_integers_fractions_and_fields_absent_from_every_read_is_stored(
    client: FlaskClient, tokens: dict[str, str], rt: Runtime
) -> None:
    """PostgreSQL binds each column as one typed array: a column absent from every read goes as
    an all-NULL array, one absent from some reads as a partly NULL one. JSON integers and
    fractions share a column (parsing makes them all floats)."""
    reads = [
        read(latitude=37, longitude=-122, confidence=94),
        read(camera="cam-2", latitude=37.5, longitude=-122.25, confidence=0.5),
        read(camera="cam-3"),
    ]
    response = client.post("/api/v1/reads", json={"reads": reads}, headers=auth(tokens["ingest"]))
    assert response.status_code == 201, response.get_json()
    with rt.sessions() as session:
        stored = {
            r.camera_id: (r.latitude, r.longitude, r.confidence, r.plate_state, r.client_read_id)
            for r in session.scalars(select(PlateRead))
        }
    assert stored == {
        "cam-1": (37.0, -122.0, 0.94, None, None),
        "cam-2": (37.5, -122.25, 0.5, None, None),
        "cam-3": (None, None, None, None, None),
    }
