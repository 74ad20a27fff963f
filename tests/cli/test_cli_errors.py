"""Each common mistake, through the real command: one line naming the problem and the fix, and a
non-zero exit code. No traceback, no password."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from alpr_guard.db import migrate as schema
from alpr_guard.readiness import head_revision
from tests.cli.test_cli import run
from tests.conftest import PG_URL, _pg_reachable, write_config

MIGRATIONS = Path(__file__).resolve().parents[2] / "alpr_guard" / "migrations" / "versions"


def one_line(result: subprocess.CompletedProcess[str], code: int) -> str:
    assert result.returncode == code, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


@pytest.fixture
def empty_pg() -> Iterator[str]:
    """A PostgreSQL database with nothing in it (never migrated)."""
    problem = _pg_reachable()
    if problem is not None:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL not reachable at {PG_URL} ({problem})")
        pytest.skip(f"PostgreSQL not reachable at {PG_URL} ({problem})")
    name = f"alpr_guard_empty_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def unmigrated(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    """A config whose database was never migrated (SQLite: not even created)."""
    if request.param == "sqlite":
        return write_config(tmp_path, f"sqlite:///{tmp_path / 'var' / 'alpr_guard.db'}")
    url: str = request.getfixturevalue("empty_pg")
    return write_config(tmp_path, url)


def test_version() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "alpr_guard", "--version"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == "alpr-guard, version 0.1.0"


def test_forgotten_db_upgrade(unmigrated: Path) -> None:
    missing_file = (
        f"error: SQLite file {unmigrated.parent / 'var' / 'alpr_guard.db'} does not exist"
    )
    for command in (("users", "list"), ("audit", "verify"), ("demo",)):
        line = one_line(run(unmigrated, *command), 1)
        assert line in (
            "error: the database has no schema yet: run `alpr-guard db upgrade`",
            f"{missing_file}: run `alpr-guard db upgrade` to create it",
        )
    checked = run(unmigrated, "config", "check")
    assert checked.returncode == 2
    assert "run `alpr-guard db upgrade`" in checked.stderr
    assert len(checked.stderr.strip().splitlines()) == 1


@pytest.mark.postgres
def test_schema_behind_this_version(empty_pg: str, tmp_path: Path) -> None:
    schema.upgrade(empty_pg, "0005")
    config = write_config(tmp_path, empty_pg)
    (tmp_path / "keystore").mkdir(mode=0o700)
    line = one_line(run(config, "config", "check"), 2)
    assert line == (
        f"schema: the schema is at revision 0005, this version needs {head_revision()}: "
        "run `alpr-guard db upgrade`"
    )


def test_unreachable_database_names_it_without_the_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Port 1 on localhost refuses at once; the password must never be printed.
    monkeypatch.setenv("TEST_DB_URL", "postgresql+psycopg://alpr:s3cret-pw@127.0.0.1:1/alpr")
    config = write_config(tmp_path, "sqlite:///unused.db")
    config.write_text(
        config.read_text().replace('url = "sqlite:///unused.db"', 'url_env = "TEST_DB_URL"')
    )
    for command in (("users", "list"), ("db", "upgrade")):
        line = one_line(run(config, *command), 1)
        assert line.startswith("error: PostgreSQL at 127.0.0.1:1/alpr is unreachable")
        assert "check that it is running" in line and "s3cret" not in line
    checked = run(config, "config", "check")
    assert checked.returncode == 2 and "s3cret" not in checked.stderr
    # config check says the same, as its "database" line (the key store exists by now).
    assert checked.stderr.strip().splitlines() == [f"database: {line.removeprefix('error: ')}"]


def test_report_into_a_missing_folder(tmp_path: Path) -> None:
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'db.sqlite'}")
    assert run(config, "db", "upgrade").returncode == 0
    out = tmp_path / "no" / "such" / "report.csv"
    for report in ("access", "summary"):
        args = ["--from", "2026-11-01T00:00:00Z", "--to", "2026-12-01T00:00:00Z"]
        line = one_line(run(config, "report", report, *args, "--out", str(out)), 2)
        assert f"the folder {out.parent} does not exist" in line
        assert "create it, or choose another path" in line
    verified = run(config, "audit", "verify")
    # Nothing was put on the record for a report that was never written.
    assert verified.returncode == 0 and "report" not in verified.stdout


def test_port_in_use(tmp_path: Path) -> None:
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'db.sqlite'}")
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        line = one_line(run(config, "serve", "--port", str(port)), 1)
    assert line == (
        f"error: port {port} on 127.0.0.1 is already in use: stop the process holding it, "
        "or choose another with --port (or ALPR_GUARD_PORT)"
    )


def test_bad_downgrade_revision(tmp_path: Path) -> None:
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'db.sqlite'}")
    assert run(config, "db", "upgrade").returncode == 0
    line = one_line(run(config, "db", "downgrade", "0042"), 1)
    assert line.startswith("error: cannot migrate to revision '0042': Can't locate revision")
    # Every revision there is, oldest first, ending with the head.
    listed = line.rsplit("(revisions: ", 1)[1].rstrip(")").split(", ")
    shipped = sorted(p.name[9:].split("_", 1)[0] for p in MIGRATIONS.glob("2026*_*.py"))
    assert listed == ["base", *shipped, "head"]
    assert shipped[-1] == head_revision()


def test_usage_error_is_one_line() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "alpr_guard", "users", "add", "--username", "x"],
        capture_output=True,
        text=True,
        check=False,
    )
    line = one_line(result, 2)
    assert line == (
        "error: Missing option '--role'. Choose from: ingest, officer, supervisor, auditor, "
        "admin (see `python -m alpr_guard users add --help`)"
    )


def test_config_check_reports_every_fault_in_one_run(tmp_path: Path) -> None:
    config = write_config(
        tmp_path,
        f"sqlite:///{tmp_path / 'db.sqlite'}",
        "[retention.unmatched]\ndays = 400\n[holds]\nmax_review_days = 0\n",
    )
    text_ = config.read_text()
    text_ = text_.replace('operating_agency = "', 'operating_agency = "X').replace(
        "[search]", "[search]\nmax_window_dayz = 3"
    )
    config.write_text(text_)
    result = run(config, "config", "check")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert [line.split(": ", 2)[2].split(":")[0] for line in lines] == [
        "instance.operating_agency",
        "search.max_window_dayz",
        "retention.unmatched.days",
        "holds.max_review_days",
    ]
    assert all(line.startswith(f"config error: {config}") for line in lines)


def test_config_without_audit_section_is_a_fault(tmp_path: Path) -> None:
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'db.sqlite'}")
    config.write_text(config.read_text().replace('[audit]\ncheckpoint_dir = "checkpoints"', ""))
    assert run(config, "db", "upgrade").returncode == 0
    line = one_line(run(config, "config", "check"), 2)
    assert line.startswith("checkpoints: audit.checkpoint_dirs is not set: add it under [audit]")
    # What config check warned about is what the command that needs it refuses.
    refused = one_line(run(config, "audit", "checkpoint"), 2)
    assert "audit.checkpoint_dirs: is not set" in refused


def test_config_check_names_a_missing_rules_file_once(tmp_path: Path) -> None:
    """The image's old failure: a production config copied beside a profile whose screening
    rules file (and model) are not there."""
    profile_dir = tmp_path / "etc"
    profile_dir.mkdir()
    repo_config = Path(__file__).resolve().parents[2] / "config"
    (profile_dir / "california.toml").write_text((repo_config / "california.toml").read_text())
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'db.sqlite'}")
    config.write_text(
        re.sub(
            r'profile = ".*"', f'profile = "{profile_dir / "california.toml"}"', config.read_text()
        )
    )
    result = run(config, "config", "check")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    # Each missing file once, in one run: the rules and the second opinion's model.
    assert result.stderr.strip().splitlines() == [
        f"config error: {profile_dir / 'rules.california.toml'}: file not found",
        f"config error: {config} (profile california.toml): second_opinion.model: "
        f"{profile_dir / 'screening-model.california.json'}: file not found",
    ]


def test_config_check_reports_four_kinds_of_fault_in_one_run(tmp_path: Path) -> None:
    """The registry file, the key store, the checkpoint directory and the database: each wrong
    at once, each named on its own line with its fix, in one run (no traceback, no stop at the
    first)."""
    config = write_config(
        tmp_path,
        f"sqlite:///{tmp_path / 'var' / 'db.sqlite'}",
        '[registry]\nfile = "missing-registry.toml"\n',
    )
    blocker = tmp_path / "afile"
    blocker.write_text("not a directory")
    blocker.chmod(0o600)
    config.write_text(
        config.read_text()
        .replace('keystore_dir = "keystore"', 'keystore_dir = "afile"')
        .replace('checkpoint_dir = "checkpoints"', 'checkpoint_dir = "afile/checkpoints"')
    )
    result = run(config, "config", "check")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        f"config error: {config}: registry.file: {tmp_path / 'missing-registry.toml'} "
        "does not exist",
        f"keystore: keys.keystore_dir ({blocker}) is not a directory",
        f"checkpoints: audit.checkpoint_dir ({blocker / 'checkpoints'}) does not exist and "
        "cannot be created here: create it, or mount its volume",
        f"database: SQLite file {tmp_path / 'var' / 'db.sqlite'} does not exist: run "
        "`alpr-guard db upgrade` to create it",
    ]


def test_first_user_before_the_registry_says_to_load_it(tmp_path: Path) -> None:
    """A fresh database: `users add` before `agencies import` names the fix, not a code."""
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'db.sqlite'}")
    assert run(config, "db", "upgrade").returncode == 0
    line = one_line(run(config, "users", "add", "--username", "admin", "--role", "admin"), 1)
    assert line.startswith(
        "error: agency CA0199900 is not in the registry: load it with `alpr-guard agencies import`"
    )
