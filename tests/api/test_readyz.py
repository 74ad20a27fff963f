"""GET /readyz: 200 when the instance can serve, 503 naming each failed check and the fix."""

from __future__ import annotations

import sqlite3
import time
from datetime import timedelta

from flask.testing import FlaskClient
from sqlalchemy import text

from alpr_guard.audit import Actor
from alpr_guard.checkpoints import write_checkpoint
from alpr_guard.clock import FixedClock
from alpr_guard.crypto import SIGNING_KEY_ID, wrap_under
from alpr_guard.keystore import generate_master_key
from alpr_guard.readiness import head_revision
from alpr_guard.runtime import Runtime


def _checks(client: FlaskClient, status: int) -> dict[str, dict[str, object]]:
    response = client.get("/readyz")
    assert response.status_code == status, response.json
    body = response.json
    assert body is not None
    if status == 200:
        assert body["status"] == "ready"
        checks: dict[str, dict[str, object]] = body["checks"]
        return checks
    error = body["error"]
    assert error["code"] == "not_ready" and error["request_id"]
    failed = [name for name, check in error["details"]["checks"].items() if not check["ok"]]
    assert error["message"] == f"not ready: {', '.join(failed)}"
    result: dict[str, dict[str, object]] = error["details"]["checks"]
    return result


def test_ready(client: FlaskClient, rt: Runtime) -> None:
    checks = _checks(client, 200)
    assert list(checks) == ["database", "schema", "keystore", "checkpoints"]
    assert checks["schema"]["detail"] == f"at head revision {head_revision()}"


def test_stale_checkpoint_is_not_ready_until_one_is_written(
    client: FlaskClient, rt: Runtime, clock: FixedClock
) -> None:
    with rt.sessions.begin() as session:
        rt.audit.append(session, "test.event", Actor("test", None))
    _checks(client, 200)
    # Hourly checkpoints: an event unpinned for more than two hours and five minutes is stale.
    clock.advance(timedelta(hours=2, minutes=6))
    checks = _checks(client, 503)
    assert [n for n, c in checks.items() if not c["ok"]] == ["checkpoints"]
    assert "is `alpr-guard scheduler` running" in str(checks["checkpoints"]["detail"])
    with rt.sessions.begin() as session:
        write_checkpoint(session, rt, Actor("test", None))
    _checks(client, 200)


def test_key_store_of_another_master_key_is_not_ready(client: FlaskClient, rt: Runtime) -> None:
    other = generate_master_key()
    rt.keyring.store.put_new(SIGNING_KEY_ID, wrap_under(other, SIGNING_KEY_ID, b"x" * 32))
    checks = _checks(client, 503)
    assert [n for n, c in checks.items() if not c["ok"]] == ["keystore"]
    assert "does not unwrap under the configured master key" in str(checks["keystore"]["detail"])


def test_schema_behind_head_says_run_db_upgrade(client: FlaskClient, rt: Runtime) -> None:
    with rt.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0005'"))
    try:
        checks = _checks(client, 503)
        assert [n for n, c in checks.items() if not c["ok"]] == ["schema", "checkpoints"]
        assert checks["schema"]["detail"] == (
            f"the schema is at revision 0005, this version needs {head_revision()}: "
            "run `alpr-guard db upgrade`"
        )
    finally:
        with rt.engine.begin() as conn:
            conn.execute(
                text("UPDATE alembic_version SET version_num = :v"), {"v": head_revision()}
            )


def test_ready_while_another_process_holds_the_sqlite_writer(
    client: FlaskClient, rt: Runtime
) -> None:
    """A probe only reads: it must answer while an ingest holds SQLite's write lock, not queue
    behind it and report the database unreachable."""
    if rt.engine.dialect.name != "sqlite":
        return  # PostgreSQL has no single writer lock to hold
    database = rt.engine.url.database
    assert database is not None
    writer = sqlite3.connect(database, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")
        started = time.monotonic()
        _checks(client, 200)
        assert time.monotonic() - started < rt.settings.database.audit_timeout_ms / 1000
    finally:
        writer.execute("ROLLBACK")
        writer.close()
