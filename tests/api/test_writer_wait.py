"""Under a busy writer: every 503 says when to come back, ingest waits longer than a search,
and authentication never waits for the writer at all."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from flask.testing import FlaskClient
from sqlalchemy import func, select, text

from alpr_guard.api.reads import GATE_KEY
from alpr_guard.models import PlateRead
from alpr_guard.runtime import Runtime
from tests.conftest import auth, read, search_body


@contextmanager
def writer_held(rt: Runtime, release_after: float | None = None) -> Iterator[None]:
    """Another connection holds the write lock (SQLite) or the audit chain's lock (PostgreSQL),
    released when the block ends or, with ``release_after``, that many seconds in."""
    blocker = rt.engine.connect()
    if rt.engine.dialect.name == "sqlite":
        blocker.exec_driver_sql(
            "INSERT INTO agencies (ori, name, kind, jurisdiction, vetted, created_at, "
            "updated_at) VALUES ('CAHOLD000', 'x', 'local', 'CA', 0, '2026-01-01', '2026-01-01')"
        )
    else:
        blocker.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": 0x414C5052})
    done = threading.Lock()

    def release() -> None:
        with done:
            if not blocker.closed:
                blocker.rollback()
                blocker.close()

    timer = threading.Timer(release_after, release) if release_after is not None else None
    if timer is not None:
        timer.start()
    try:
        yield
    finally:
        if timer is not None:
            timer.join()
        release()


def test_every_503_carries_retry_after(
    client: FlaskClient, tokens: dict[str, str], rt: Runtime
) -> None:
    with writer_held(rt):
        response = client.post(
            "/api/v1/searches", json=search_body(), headers=auth(tokens["officer"])
        )
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "audit_unavailable"
    assert response.headers["Retry-After"] == "1"


def test_ingest_waits_for_the_writer_longer_than_a_search(
    client: FlaskClient, tokens: dict[str, str], rt: Runtime
) -> None:
    # The test config's audit timeout is 1 s; the writer is busy for 1.8 s.
    assert rt.settings.database.audit_timeout_ms == 1000
    assert rt.settings.ingest.write_wait_ms > 1800
    with writer_held(rt, release_after=1.8):
        started = time.monotonic()
        search = client.post(
            "/api/v1/searches", json=search_body(), headers=auth(tokens["officer"])
        )
        assert search.status_code == 503 and search.headers["Retry-After"]
        assert time.monotonic() - started < 1.8
        ingest = client.post(
            "/api/v1/reads", json={"reads": [read()]}, headers=auth(tokens["ingest"])
        )
        waited = time.monotonic() - started
    assert ingest.status_code == 201, ingest.get_json()
    assert waited >= 1.7
    with rt.sessions() as db:
        assert db.scalar(select(func.count()).select_from(PlateRead)) == 1


def test_authentication_does_not_wait_for_the_writer(
    client: FlaskClient, tokens: dict[str, str], rt: Runtime
) -> None:
    # A listing reads only; with the writer busy well past the audit timeout it still answers.
    with writer_held(rt):
        started = time.monotonic()
        response = client.get("/api/v1/holds", headers=auth(tokens["auditor"]))
        assert response.status_code == 200, response.get_json()
        assert time.monotonic() - started < 0.9
        response = client.get("/api/v1/holds", headers=auth("agt_not-a-token"))
        assert response.status_code == 401


def test_only_sqlite_takes_ingest_batches_in_turn(client: FlaskClient, rt: Runtime) -> None:
    # SQLite has one writer: a worker holds one batch at a time (test_ingest_turns.py).
    # PostgreSQL writes batches concurrently, so it has no gate.
    gate = client.application.extensions[GATE_KEY]
    if rt.engine.dialect.name == "sqlite":
        assert isinstance(gate, threading.BoundedSemaphore)
    else:
        assert gate is None
