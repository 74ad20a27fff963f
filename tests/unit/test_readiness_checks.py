"""Each readiness check says what is wrong and what to do, one line per check: a key store or a
checkpoint directory that is missing, not a directory, or not writable; a database that is down
or empty; checkpoints that fell behind; an unparseable head file is not a crash."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from alpr_guard import readiness
from alpr_guard.settings import Settings, load_settings
from tests.conftest import write_config

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(
        write_config(tmp_path, f"sqlite:///{tmp_path / 'var' / 'alpr_guard.db'}"),
        compile_screening=False,
    )


def test_database_label_never_shows_a_password() -> None:
    label = readiness.database_label("postgresql+psycopg://alpr:Hunter2@db.example:5433/alpr")
    assert label == "PostgreSQL at db.example:5433/alpr"
    assert readiness.database_label("postgresql+psycopg://alpr@/alpr") == (
        "PostgreSQL at localhost/alpr"
    )
    assert readiness.database_label("not a url at all") == "the configured database"
    assert readiness.database_label("sqlite:////srv/a.db") == "SQLite file /srv/a.db"


def test_a_missing_sqlite_file_is_not_created_by_the_check(tmp_path: Path) -> None:
    path = tmp_path / "absent.db"
    url = f"sqlite:///{path}"
    check = readiness.check_database(create_engine(url), url)
    assert not check.ok
    assert check.detail == (
        f"SQLite file {path} does not exist: run `alpr-guard db upgrade` to create it"
    )
    assert not path.exists()


def test_an_unreachable_database_names_its_place_not_its_password() -> None:
    url = "postgresql+psycopg://alpr:Hunter2@127.0.0.1:1/alpr"
    engine = create_engine(url, connect_args={"connect_timeout": 2})
    check = readiness.check_database(engine, url)
    assert not check.ok
    assert check.detail.startswith("PostgreSQL at 127.0.0.1:1/alpr is unreachable (")
    assert "Hunter2" not in check.detail
    schema = readiness.check_schema(engine)
    assert schema == readiness.Check("schema", False, "could not read the schema revision")
    engine.dispose()


def test_an_empty_database_has_no_schema(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    assert readiness.current_revision(engine) is None
    check = readiness.check_schema(engine)
    assert check.detail == "the database has no schema yet: run `alpr-guard db upgrade`"
    engine.dispose()


def test_key_store_faults(settings: Settings, tmp_path: Path) -> None:
    store = settings.keys.keystore_dir
    missing = readiness.check_keystore(settings, None)
    assert not missing.ok and missing.detail.startswith(
        f"keys.keystore_dir ({store}) does not exist"
    )
    store.write_text("")
    not_dir = readiness.check_keystore(settings, None)
    assert not_dir.detail == f"keys.keystore_dir ({store}) is not a directory"
    store.unlink()
    store.mkdir()
    assert readiness.check_keystore(settings, None) == readiness.Check(
        "keystore", True, "0 keys readable"
    )


def test_checkpoints_need_a_directory(settings: Settings) -> None:
    none = replace(settings, audit=replace(settings.audit, checkpoint_dirs=()))
    check = readiness.check_checkpoints(none, None, NOW)
    assert not check.ok and check.detail.startswith("audit.checkpoint_dirs is not set")


def test_a_checkpoint_path_that_is_a_file(settings: Settings) -> None:
    directory = settings.audit.checkpoint_dirs[0]
    directory.parent.mkdir(parents=True, exist_ok=True)
    directory.write_text("")
    check = readiness.check_checkpoints(settings, None, NOW)
    assert not check.ok
    assert check.detail.startswith(f"audit.checkpoint_dir ({directory}) is not a directory")


def test_a_checkpoint_directory_that_cannot_be_created(settings: Settings, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    inside = blocker / "checkpoints"
    moved = replace(settings, audit=replace(settings.audit, checkpoint_dirs=(inside,)))
    check = readiness.check_checkpoints(moved, None, NOW)
    # The nearest existing parent is a file: nothing can be created under it.
    assert check == readiness.Check(
        "checkpoints",
        False,
        f"audit.checkpoint_dir ({inside}) does not exist and cannot be created here: "
        "create it, or mount its volume",
    )


def test_a_directory_yet_to_be_created_is_usable(settings: Settings) -> None:
    check = readiness.check_checkpoints(settings, None, NOW)
    assert check == readiness.Check(
        "checkpoints", True, f"{settings.audit.checkpoint_dirs[0]} usable"
    )


def test_newest_checkpoint_reads_names_and_the_head(tmp_path: Path) -> None:
    assert readiness.newest_checkpoint_seq(tmp_path) is None
    (tmp_path / "checkpoint-00000007.json").write_text("{}")
    (tmp_path / "checkpoint-00000012-retention.json").write_text("{}")
    (tmp_path / "checkpoint-notes.json").write_text("{}")
    assert readiness.newest_checkpoint_seq(tmp_path) == 12
    (tmp_path / "checkpoint-head.json").write_text("not json")
    assert readiness.newest_checkpoint_seq(tmp_path) == 12  # a torn head file is not a crash


def test_checkpoint_interval_follows_the_schedule() -> None:
    assert readiness.checkpoint_interval("0 * * * *", NOW) == timedelta(hours=1)
    assert readiness.checkpoint_interval("30 3 * * *", NOW) == timedelta(days=1)


def test_the_summary_is_json_by_check_name() -> None:
    checks = [readiness.Check("database", True, "up"), readiness.Check("schema", False, "old")]
    assert json.loads(readiness.summary(checks)) == {
        "database": {"ok": True, "detail": "up"},
        "schema": {"ok": False, "detail": "old"},
    }


def test_readiness_skips_what_a_down_database_cannot_answer(settings: Settings) -> None:
    engine = create_engine(settings.database.url)
    checks = readiness.readiness(settings, engine, None, NOW)
    assert [c.name for c in checks] == ["database", "schema", "keystore", "checkpoints"]
    assert checks[1].detail == "not checked: the database is unreachable"
    assert not checks[0].ok
    engine.dispose()


def test_readiness_of_an_unmigrated_database_skips_checkpoints(
    settings: Settings, tmp_path: Path
) -> None:
    path = Path(settings.database.url.removeprefix("sqlite:///"))
    path.parent.mkdir(parents=True)
    path.touch()
    engine = create_engine(settings.database.url)
    checks = readiness.readiness(settings, engine, None, NOW)
    assert checks[0].ok and not checks[1].ok
    assert checks[3] == readiness.Check(
        "checkpoints", False, "not checked: the schema is not at head"
    )
    engine.dispose()
