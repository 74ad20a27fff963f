"""Shared fixtures: every database test runs on SQLite and on a real PostgreSQL.

The schema is always built by ``alembic upgrade head`` (house rule 6), once per backend per test
session: SQLite tests copy a migrated template file, PostgreSQL tests truncate the tables of a
database created for this run. With ``CI`` set, PostgreSQL must be reachable (the tests fail, never
skip); elsewhere they skip with a message saying how to enable them.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from alpr_guard.api import build_app
from alpr_guard.audit import AuditLog
from alpr_guard.clock import FixedClock
from alpr_guard.crypto import KeyRing
from alpr_guard.db import migrate as schema
from alpr_guard.keystore import FileKeyStore, read_master_key, write_master_key_file
from alpr_guard.models import Agency, ApiToken, User
from alpr_guard.runtime import Runtime, build_runtime
from alpr_guard.services.agencies import AgencyInput, upsert_agency
from alpr_guard.services.deps import ServiceDeps
from alpr_guard.services.principals import SYSTEM, TOKEN_PREFIX, add_user, hash_token
from alpr_guard.settings import Settings, load_settings

# CI runs the whole suite under branch coverage on a shared machine: examples are drawn from a
# fixed seed per test there (a property's counterexample shows up in a developer's runs, not as a
# red CI that the next run turns green), and generation that coverage slows is not a failure.
# Elsewhere every run draws new examples.
hypothesis_settings.register_profile(
    "ci", derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")

REPO = Path(__file__).resolve().parents[1]
PROFILE = REPO / "config" / "california.toml"
PG_URL = os.environ.get(
    "ALPR_GUARD_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
OPERATING_ORI = "CA0199900"
HIT_REF = {"list": "SVS stolen vehicles", "entry": "NCIC-V-0001"}  # a read's hot-list match
TABLES = (
    "web_sessions",
    "oidc_logins",
    "auth_failures",
    "auth_lockouts",
    "rate_counters",
    "review_findings",
    "searches",
    "plate_reads",
    "data_keys",
    "api_tokens",
    "users",
    "agencies",
    "audit_events",
    "hold_reads",
    "legal_holds",
    "purge_runs",
    "leases",
    "cameras",
    "read_images",
)

REGISTRY = (
    # The cases docs/law.md cares about, the agency identifier trap included.
    ("CA0190100", "Demo County Sheriff", "local", "CA", True),
    ("CA0190200", "Unvetted City PD", "local", "CA", False),
    ("CA0000HP0", "California Highway Patrol", "state", "CA", True),
    ("CAFBISF00", "FBI San Francisco", "federal", "CA", True),
    ("CAICE0100", "ICE ERO San Francisco", "federal", "CA", True),
    ("VTICE0900", "ICE Law Enforcement Support Center", "federal", "VT", True),
    ("NV0020000", "Washoe County Sheriff", "local", "NV", True),
    ("CAREPO001", "Golden State Recovery LLC", "private", "CA", True),
    ("CATRB0001", "Tribal Police Department", "tribal", "CA", True),
)


def write_config(directory: Path, db_url: str, extra: str = "") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    key = directory / "master.key"
    if not key.exists():
        write_master_key_file(key)
    config = directory / "alpr_guard.toml"
    config.write_text(f"""
profile = "{PROFILE}"

[instance]
name = "test"
operating_agency = "{OPERATING_ORI}"
operating_agency_name = "Test City Police Department"

[database]
url = "{db_url}"
audit_timeout_ms = 1000

[keys]
master_key_file = "master.key"
keystore_dir = "keystore"

[auth]
[search]
[ingest]
[audit]
checkpoint_dir = "checkpoints"
{extra}
""")
    return config


def _pg_reachable() -> str | None:
    try:
        engine = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:
        return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    return None


@dataclass
class Backend:
    name: str
    template: str  # sqlite: template file path; postgresql: database URL

    def fresh_url(self, tmp_path: Path) -> str:
        if self.name == "sqlite":
            target = tmp_path / "alpr_guard.db"
            shutil.copyfile(self.template, target)
            return f"sqlite:///{target}"
        engine = create_engine(self.template)
        with engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))
            # Time partitions of plate_reads are created at run time; start from none.
            for (name,) in conn.execute(
                text(
                    "SELECT relname FROM pg_class WHERE relkind = 'r' "
                    "AND relname ~ '^plate_reads_(unmatched|hit)_p[0-9]+$'"
                )
            ).all():
                conn.execute(text(f'DROP TABLE "{name}"'))
        engine.dispose()
        return self.template


@pytest.fixture(scope="session")
def sqlite_backend(tmp_path_factory: pytest.TempPathFactory) -> Backend:
    path = tmp_path_factory.mktemp("template") / "template.db"
    schema.upgrade(f"sqlite:///{path}")
    return Backend("sqlite", str(path))


def _require_pg() -> None:
    problem = _pg_reachable()
    if problem is not None:
        message = (
            f"PostgreSQL not reachable at {PG_URL} ({problem}). Start it "
            "(pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start) "
            "or set ALPR_GUARD_TEST_PG_URL."
        )
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


@contextmanager
def _fresh_pg_database(prefix: str) -> Iterator[str]:
    """A new PostgreSQL database at the schema's head, dropped afterwards: its URL."""
    _require_pg()
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
        schema.upgrade(url)
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def pg_backend() -> Iterator[Backend]:
    with _fresh_pg_database("alpr_guard_test") as url:
        yield Backend("postgresql", url)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> Backend:
    name = "sqlite_backend" if request.param == "sqlite" else "pg_backend"
    result: Backend = request.getfixturevalue(name)
    return result


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def settings(backend: Backend, tmp_path: Path) -> Settings:
    return load_settings(write_config(tmp_path / "cfg", backend.fresh_url(tmp_path)))


def _seed_agencies(runtime: Runtime) -> None:
    with runtime.sessions.begin() as session:
        for ori, name, kind, jurisdiction, vetted in (
            (OPERATING_ORI, "Test City Police Department", "local", "CA", True),
            *REGISTRY,
        ):
            upsert_agency(
                session, runtime, AgencyInput(ori, name, kind, jurisdiction, vetted), SYSTEM
            )


@pytest.fixture
def rt(settings: Settings, clock: FixedClock) -> Iterator[Runtime]:
    runtime = build_runtime(settings, clock=clock)
    _seed_agencies(runtime)
    yield runtime
    runtime.dispose()


# -- a savepoint per test (PostgreSQL) -------------------------------------------------------
#
# A service flushes and never commits, so a test that needs only a session and the service's
# dependencies can run inside a transaction that is rolled back at teardown: no database per
# test and no truncation. One database, migrated and seeded with the agencies once per test
# session, serves every such test.


@pytest.fixture(scope="session")
def pg_savepoint_rt(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    with _fresh_pg_database("alpr_guard_sp") as url:
        settings = load_settings(write_config(tmp_path_factory.mktemp("pg-savepoint"), url))
        runtime = build_runtime(settings, clock=FixedClock(NOW))
        _seed_agencies(runtime)
        yield runtime
        runtime.dispose()


@pytest.fixture
def pg_session(pg_savepoint_rt: Runtime) -> Iterator[Session]:
    """A session in a transaction that is never committed: the connection begins one, the
    session joins it with a savepoint (so a service's own ``begin_nested`` or a rollback after
    an error stays inside it), and teardown rolls all of it back."""
    with pg_savepoint_rt.engine.connect() as connection:
        outer = connection.begin()
        session = Session(bind=connection, join_transaction_mode="create_savepoint")
        try:
            yield session
        finally:
            session.close()
            outer.rollback()


@pytest.fixture
def pg_deps(pg_savepoint_rt: Runtime, clock: FixedClock, tmp_path: Path) -> ServiceDeps:
    """The services' dependencies for a ``pg_session`` test: the shared database's settings,
    this test's clock, and a key store of its own (the store is files, which no rollback
    undoes), so keys one test creates are never another's."""
    settings = pg_savepoint_rt.settings
    master = read_master_key(
        settings.keys.master_key_file, settings.keys.master_key_env, str(settings.source)
    )
    store = FileKeyStore(tmp_path / "keystore")
    store.ensure()
    keyring = KeyRing(master, store)
    return ServiceDeps(
        settings, keyring, clock, AuditLog(keyring, clock, settings.database.audit_timeout_ms)
    )


@pytest.fixture
def tokens(rt: Runtime) -> dict[str, str]:
    """One user per role in the operating agency, plus officers of other agencies."""
    issued: dict[str, str] = {}
    with rt.sessions.begin() as session:
        for role in ("ingest", "officer", "supervisor", "auditor", "admin"):
            issued[role] = add_user(
                session, rt, username=f"t-{role}", role=role, agency_ori=OPERATING_ORI
            ).token
        issued["officer@CA0190100"] = add_user(
            session, rt, username="officer-ca0190100", role="officer", agency_ori="CA0190100"
        ).token
        # Accounts add_user refuses: what a database from before the rule, or a forged row,
        # may still hold. Requests must refuse them all the same.
        for ori in ("NV0020000", "CAFBISF00"):
            issued[f"officer@{ori}"] = legacy_user(
                session, rt, username=f"officer-{ori.lower()}", role="officer", agency_ori=ori
            )
    return issued


def legacy_user(session: Session, rt: Runtime, *, username: str, role: str, agency_ori: str) -> str:
    """A user row and a live token written straight into the tables, past add_user's checks
    (an account made before they existed, or forged); returns the token."""
    import secrets

    agency_id = session.scalar(select(Agency.id).where(Agency.ori == agency_ori))
    assert agency_id is not None, agency_ori
    user = User(username=username, agency_id=agency_id, role=role, created_at=rt.clock.now())
    session.add(user)
    session.flush()
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = rt.clock.now()
    expires = (
        None if role == "ingest" else now + timedelta(hours=rt.settings.auth.human_token_hours)
    )
    session.add(
        ApiToken(user_id=user.id, token_hash=hash_token(token), created_at=now, expires_at=expires)
    )
    session.flush()
    return token


@pytest.fixture
def app(rt: Runtime) -> Flask:
    return build_app(rt)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def read(
    plate: str = "7ABC123",
    at: str = "2026-11-19T08:00:00+00:00",
    camera: str = "cam-1",
    **extra: Any,
) -> dict[str, Any]:
    if extra.get("hit") is True:  # a hit names what it matched
        extra["hit"] = dict(HIT_REF)
    return {"plate": plate, "observed_at": at, "camera_id": camera, **extra}


def search_body(plate: str = "7ABC123", **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "plate": plate,
        "from": "2026-11-13T00:00:00Z",
        "to": "2026-11-20T12:00:00Z",
        "purpose": "stolen_vehicle",
        "justification": "Vehicle reported stolen from Main St lot, owner report filed",
        "case_number": "26-004512",
    }
    body.update(extra)
    return body
