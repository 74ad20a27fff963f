"""On SQLite a worker takes ingest batches in turn: a batch waits for its turn before its body
is read, the turn and the writer's lock share one wait budget, and a batch that gets no turn
in time is a 503 that stores nothing."""

from __future__ import annotations

import threading
import time
from dataclasses import replace

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from alpr_guard.api import build_app
from alpr_guard.api.reads import GATE_KEY
from alpr_guard.models import PlateRead
from alpr_guard.runtime import Runtime
from tests.api.test_writer_wait import writer_held
from tests.conftest import Backend, auth, read


@pytest.fixture
def backend(sqlite_backend: Backend) -> Backend:
    # The turns are SQLite's (one writer); PostgreSQL has no gate (test_writer_wait.py).
    return sqlite_backend


def _client(rt: Runtime, wait_ms: int) -> FlaskClient:
    ingest = replace(rt.settings.ingest, write_wait_ms=wait_ms)
    return build_app(replace(rt, settings=replace(rt.settings, ingest=ingest))).test_client()


def _stored(rt: Runtime) -> int:
    with rt.sessions() as db:
        return db.scalar(select(func.count()).select_from(PlateRead)) or 0


def _gate(client: FlaskClient) -> threading.BoundedSemaphore:
    gate: threading.BoundedSemaphore = client.application.extensions[GATE_KEY]
    return gate


def _post(client: FlaskClient, token: str, body: object) -> tuple[TestResponse, float]:
    """The response to a batch, and how long it took."""
    started = time.monotonic()
    response = client.post("/api/v1/reads", json=body, headers=auth(token))
    return response, time.monotonic() - started


def _turn_is_free(gate: threading.BoundedSemaphore) -> bool:
    free = gate.acquire(blocking=False)
    if free:
        gate.release()
    return free


def test_a_batch_that_gets_no_turn_in_time_is_a_503_and_stores_nothing(
    rt: Runtime, tokens: dict[str, str]
) -> None:
    client = _client(rt, 400)
    gate = _gate(client)
    assert gate.acquire(blocking=False)  # another batch is being stored
    try:
        response, waited = _post(client, tokens["ingest"], {"reads": [read()]})
    finally:
        gate.release()
    assert response.status_code == 503
    error = response.get_json()["error"]
    assert error["code"] == "audit_unavailable"
    assert "busy with other batches" in error["message"]
    assert response.headers["Retry-After"]
    assert 0.35 <= waited < 2.0
    assert _stored(rt) == 0


def test_a_batch_waits_for_its_turn_and_is_stored(rt: Runtime, tokens: dict[str, str]) -> None:
    client = _client(rt, 3000)
    gate = _gate(client)
    assert gate.acquire(blocking=False)
    timer = threading.Timer(0.4, gate.release)
    timer.start()
    response, waited = _post(client, tokens["ingest"], {"reads": [read()]})
    timer.join()
    assert response.status_code == 201, response.get_json()
    assert waited >= 0.35
    assert _stored(rt) == 1
    assert _turn_is_free(gate)  # given back: the next batch goes straight in


def test_the_turn_and_the_writer_share_one_wait(rt: Runtime, tokens: dict[str, str]) -> None:
    # 1 s in all: 0.8 s for the turn leaves 0.2 s for the writer's lock, held for 2.5 s. Were
    # the budgets separate, the batch would wait 1.8 s before its 503.
    client = _client(rt, 1000)
    gate = _gate(client)
    assert gate.acquire(blocking=False)
    timer = threading.Timer(0.8, gate.release)
    with writer_held(rt, release_after=2.5):
        timer.start()
        response, waited = _post(client, tokens["ingest"], {"reads": [read()]})
        timer.join()
    assert response.status_code == 503
    assert 0.9 <= waited < 1.5
    assert _stored(rt) == 0


def test_a_refused_batch_gives_its_turn_back(rt: Runtime, tokens: dict[str, str]) -> None:
    client = _client(rt, 1000)
    response, _ = _post(client, tokens["ingest"], {"reads": [{"plate": ""}]})
    assert response.status_code == 422
    assert _turn_is_free(_gate(client))
