"""The admin's command line: config check, keys, migrations, users, demo, audit verify."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import write_config


def run(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "alpr_guard", "--config", str(config), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "PYTHONWARNINGS": "error"},
    )


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = write_config(tmp_path, f"sqlite:///{tmp_path / 'var' / 'alpr_guard.db'}")
    (tmp_path / "master.key").unlink()
    return path


def test_full_admin_journey(config: Path, tmp_path: Path) -> None:
    result = run(config, "config", "check")
    assert result.returncode == 2
    # Every fault of a fresh install in one run, one line each: no key, no key store, no database.
    lines = result.stderr.strip().splitlines()
    assert "keys.master_key_file" in lines[0] and "alpr-guard keys init" in lines[0]
    assert [line.split(":")[0] for line in lines[1:]] == ["keystore", "database"]
    assert "run `alpr-guard db upgrade`" in lines[2]

    assert run(config, "keys", "init").returncode == 0
    assert stat.S_IMODE((tmp_path / "master.key").stat().st_mode) == 0o600
    again = run(config, "keys", "init")
    assert again.returncode == 2 and "refusing to overwrite" in again.stderr
    assert run(config, "keys", "init", "--if-missing").returncode == 0

    assert run(config, "db", "upgrade").returncode == 0
    checked = run(config, "config", "check")
    assert checked.returncode == 0, checked.stderr
    demo = run(config, "demo")
    assert demo.returncode == 0, demo.stderr
    assert demo.stdout.count("alprg_") == 5
    assert run(config, "demo", "--if-missing").returncode == 0

    added = run(config, "users", "add", "--username", "jdoe", "--role", "officer")
    assert added.returncode == 0, added.stderr
    token = added.stdout.strip().splitlines()[-1]
    assert token.startswith("alprg_") and len(token) > 40
    dup = run(config, "users", "add", "--username", "jdoe", "--role", "officer")
    assert dup.returncode == 1 and "already exists" in dup.stderr
    bad_agency = run(
        config, "users", "add", "--username", "x1", "--role", "officer", "--agency", "CA9999999"
    )
    assert bad_agency.returncode == 1 and "CA9999999" in bad_agency.stderr
    assert (
        run(config, "users", "token", "--username", "jdoe")
        .stdout.strip()
        .splitlines()[-1]
        .startswith("alprg_")
    )
    revoke = run(config, "users", "revoke", "--username", "jdoe")
    assert revoke.returncode == 0 and "revoked 2 token(s)" in revoke.stdout
    listing = run(config, "users", "list").stdout
    assert "jdoe\tofficer\tCA0199900\tactive" in listing

    verified = run(config, "audit", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "verified" in verified.stdout

    engine = create_engine(f"sqlite:///{tmp_path / 'var' / 'alpr_guard.db'}")
    with engine.begin() as conn:
        conn.execute(text("UPDATE audit_events SET actor = 'mallory' WHERE seq = 3"))
    engine.dispose()
    broken = run(config, "audit", "verify")
    assert broken.returncode == 1
    assert "seq 3" in broken.stdout and "edited" in broken.stdout


def test_bad_config_exits_2_naming_file_and_key(tmp_path: Path) -> None:
    config = write_config(tmp_path, "sqlite:///x.db", "[retention.unmatched]\ndays = 400")
    result = run(config, "config", "check")
    assert result.returncode == 2
    line = result.stderr.strip()
    assert str(config) in line and "retention.unmatched.days" in line
    assert len(line.splitlines()) == 1
