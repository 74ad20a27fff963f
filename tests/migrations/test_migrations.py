"""House rule 6: the migrations are the schema. Upgrade from empty, no drift, one head,
downgrade to base and upgrade again, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from alpr_guard.db import Base
from alpr_guard.db import migrate as schema
from tests.conftest import PG_URL, _pg_reachable


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    problem = _pg_reachable()
    if problem is not None:
        message = f"PostgreSQL not reachable at {PG_URL}: {problem}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message + " (set ALPR_GUARD_TEST_PG_URL or start PostgreSQL)")
    name = f"alpr_guard_mig_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def tables(url: str) -> set[str]:
    """Tables of the model; PostgreSQL's partitions of plate_reads are checked apart."""
    engine = create_engine(url)
    try:
        names = set(inspect(engine).get_table_names()) - {"alembic_version"}
        return {n for n in names if not n.startswith("plate_reads_")}
    finally:
        engine.dispose()


def partitions(url: str) -> dict[str, str]:
    """{partition: bound} of plate_reads, two levels deep (PostgreSQL only)."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i "
                    "JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent "
                    "WHERE p.relname LIKE 'plate_reads%' AND c.relkind IN ('r', 'p')"
                )
            ).all()
        return {row[0]: row[1] for row in rows}
    finally:
        engine.dispose()


def test_one_head() -> None:
    assert len(schema.heads("sqlite://")) == 1


def test_upgrade_check_downgrade_upgrade(empty_url: str) -> None:
    schema.upgrade(empty_url)
    assert tables(empty_url) == set(Base.metadata.tables)
    schema.check(empty_url)  # raises on any drift between models and migrations
    schema.downgrade(empty_url, "base")
    assert tables(empty_url) == set()
    schema.upgrade(empty_url)
    schema.check(empty_url)
    assert tables(empty_url) == set(Base.metadata.tables)
    if empty_url.startswith("postgresql"):
        assert partitions(empty_url) == {
            "plate_reads_unmatched": "FOR VALUES IN ('unmatched')",
            "plate_reads_hit": "FOR VALUES IN ('hit')",
            "plate_reads_held": "FOR VALUES IN ('held')",
            "plate_reads_unmatched_default": "DEFAULT",
            "plate_reads_hit_default": "DEFAULT",
        }
