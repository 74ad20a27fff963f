"""No plaintext plate anywhere: database bytes, dumps, logs, audit rows, errors, reprs.

The plates used here are distinctive strings, so finding one anywhere means it leaked.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.engine import make_url

from alpr_guard.api.parsing import parse_read_batch, parse_search_request
from alpr_guard.models import AuditEvent, SearchRecord
from alpr_guard.runtime import Runtime
from tests.conftest import auth, read, search_body

PLATES = ["QZ7XK42", "ZZQ9PLT", "XQJ4WVZ"]


def forms(plate: str) -> list[bytes]:
    """The plate as text in the encodings a leak could use."""
    return [
        plate.encode(),
        plate.lower().encode(),
        plate.encode("utf-16-le"),
        plate.encode().hex().encode(),
    ]


def assert_absent(blob: bytes, where: str) -> None:
    for plate in PLATES:
        for form in forms(plate):
            assert form not in blob, f"plate found in {where}"


def exercise(client: FlaskClient, tokens: dict[str, str]) -> None:
    reads = [read(plate=p, camera=f"cam-{i}", client_read_id=f"r{i}") for i, p in enumerate(PLATES)]
    assert (
        client.post(
            "/api/v1/reads", json={"reads": reads}, headers=auth(tokens["ingest"])
        ).status_code
        == 201
    )
    ok = client.post(
        "/api/v1/searches", json=search_body(plate=PLATES[0]), headers=auth(tokens["officer"])
    )
    assert ok.status_code == 200 and ok.get_json()["results"][0]["plate"] == PLATES[0]
    refused = client.post(
        "/api/v1/searches",
        json=search_body(
            plate=PLATES[1],
            purpose="immigration_enforcement",
            justification=f"ICE request re {PLATES[1]}",
        ),
        headers=auth(tokens["officer"]),
    )
    assert refused.status_code == 403
    assert_absent(refused.get_data(), "a refusal body")
    bad = client.post(
        "/api/v1/reads",
        json={"reads": [read(plate=PLATES[2] + "#")]},
        headers=auth(tokens["ingest"]),
    )
    assert bad.status_code == 422
    assert_absent(bad.get_data(), "a validation error body")


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_sqlite_file_and_wal_hold_no_plate(
    client: FlaskClient,
    tokens: dict[str, str],
    rt: Runtime,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    exercise(client, tokens)
    db_path = Path(make_url(rt.settings.database.url).database or "")
    # Read the live file and its WAL before any checkpoint, and again after one.
    blobs = [p.read_bytes() for p in db_path.parent.glob(db_path.name + "*")]
    assert len(blobs) >= 2, "expected the database and its WAL"
    rt.engine.dispose()
    blobs.append(db_path.read_bytes())
    for blob in blobs:
        assert_absent(blob, "the SQLite file or WAL")
    assert_absent(caplog.text.encode(), "the logs")
    for path in rt.settings.keys.keystore_dir.iterdir():
        assert_absent(path.read_bytes(), "the key store")


@pytest.mark.parametrize(
    "backend", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
def test_postgres_dump_holds_no_plate(
    client: FlaskClient, tokens: dict[str, str], rt: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    pg_dump = shutil.which("pg_dump")
    assert pg_dump, "pg_dump is needed to check what a PostgreSQL backup holds"
    caplog.set_level(logging.DEBUG)
    exercise(client, tokens)
    url = make_url(rt.settings.database.url)
    dump = subprocess.run(
        [
            pg_dump,
            "-h",
            url.host or "127.0.0.1",
            "-p",
            str(url.port or 5432),
            "-U",
            url.username or "postgres",
            "--data-only",
            url.database or "",
        ],
        check=True,
        capture_output=True,
    ).stdout
    assert b"plate_reads" in dump and len(dump) > 1000
    assert_absent(dump, "pg_dump output")
    assert_absent(caplog.text.encode(), "the logs")


def test_audit_rows_and_records_hold_no_plate(
    client: FlaskClient, tokens: dict[str, str], rt: Runtime
) -> None:
    exercise(client, tokens)
    with rt.sessions() as session:
        for event in session.scalars(select(AuditEvent)):
            assert_absent(f"{event.details}{event.subject}{event.actor}".encode(), "an event")
            assert_absent(event.sealed or b"", "sealed terms")
        for record in session.scalars(select(SearchRecord)):
            assert_absent(f"{record.justification}{record.case_number}".encode(), "a record")


def test_reprs_of_inputs_hold_no_plate() -> None:
    (parsed,) = parse_read_batch({"reads": [read(plate=PLATES[0])]}, 10)
    request = parse_search_request(search_body(plate=PLATES[0]), 10)
    assert_absent(repr(parsed).encode(), "a ReadIn repr")
    assert_absent(repr(request).encode(), "a SearchRequest repr")


@pytest.mark.parametrize(
    "typed",
    ["QZ7XK42", "qz7 xk42", "QZ7-XK42", "QZ7\u2013XK42", "ＱＺ７ＸＫ４２", "q z 7 x k 4 2"],
)
def test_the_queried_plate_is_masked_however_it_was_typed(
    client: FlaskClient, tokens: dict[str, str], rt: Runtime, typed: str
) -> None:
    body = search_body(
        plate=PLATES[0],
        purpose=typed,
        justification=f"ICE wants {typed}",
        case_number=f"26-1 {typed}" if typed.isascii() else "26-1",
    )
    response = client.post("/api/v1/searches", json=body, headers=auth(tokens["officer"]))
    assert response.status_code == 403
    assert_absent(response.get_data(), "the refusal body")
    with rt.sessions() as session:
        for record in session.scalars(select(SearchRecord)):
            blob = f"{record.justification}{record.case_number}{record.purpose}{record.matched}"
            assert_absent(blob.encode(), "the search record")
        for event in session.scalars(select(AuditEvent)):
            assert_absent(event.details.encode(), "an audit event")
