"""`alpr-guard purge [--dry-run]`: the same service as the scheduled job, under the lease."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, text

from tests.cli.test_cli import run
from tests.conftest import write_config


def test_purge_dry_run_then_real_run_then_lease_conflict(tmp_path: Path) -> None:
    db = tmp_path / "var" / "alpr_guard.db"
    config = write_config(tmp_path, f"sqlite:///{db}")
    assert run(config, "db", "upgrade").returncode == 0
    assert run(config, "demo").returncode == 0

    dry = run(config, "purge", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "dry run at" in dry.stdout and "unmatched: 0 reads" in dry.stdout
    assert "would destroy 0 keys" in dry.stdout

    real = run(config, "purge", "--json")
    assert real.returncode == 0, real.stderr
    receipt = json.loads(real.stdout)
    assert receipt["deleted_by_class"] == {"unmatched": 0, "hit": 0}
    assert receipt["audit_seq"] > 0
    verified = run(config, "audit", "verify")
    assert verified.returncode == 0, verified.stdout

    # Another process holds a live lease: the purge does nothing and says so.
    until = (datetime.now(UTC) + timedelta(minutes=10)).strftime("%Y-%m-%d %H:%M:%S.%f")
    engine = create_engine(f"sqlite:///{db}")
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE leases SET holder = 'other-host:42', expires_at = :until"),
            {"until": until},
        )
    engine.dispose()
    blocked = run(config, "purge")
    assert blocked.returncode == 3
    assert "another process is purging" in blocked.stderr
