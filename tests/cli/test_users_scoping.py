"""`alpr-guard users add` refuses accounts no route would accept, naming the reason."""

from __future__ import annotations

from pathlib import Path

from tests.cli.test_cli import config, run

__all__ = ["config"]  # the fixture, shared with the admin journey


def test_users_add_refuses_forbidden_agencies_and_partner_roles(config: Path) -> None:
    assert run(config, "keys", "init").returncode == 0
    assert run(config, "db", "upgrade").returncode == 0
    for ori, kind, state in (("VTICE0900", "federal", "VT"), ("CA0190100", "local", "CA")):
        added = run(
            config,
            "agencies",
            "add",
            "--ori",
            ori,
            "--name",
            "X",
            "--kind",
            kind,
            "--jurisdiction",
            state,
            "--vetted",
        )
        assert added.returncode == 0, added.stderr

    ice = run(
        config, "users", "add", "--username", "ice", "--role", "auditor", "--agency", "VTICE0900"
    )
    assert ice.returncode == 1
    assert "federal_agency" in ice.stderr and "VTICE0900" in ice.stderr
    assert "alprg_" not in ice.stdout

    supervisor = run(
        config, "users", "add", "--username", "sup", "--role", "supervisor", "--agency", "CA0190100"
    )
    assert supervisor.returncode == 1
    assert "role_not_allowed_for_agency" in supervisor.stderr

    auditor = run(
        config, "users", "add", "--username", "aud", "--role", "auditor", "--agency", "CA0190100"
    )
    assert auditor.returncode == 0, auditor.stderr
    assert run(config, "agencies", "unvet", "CA0190100").returncode == 0
    token = run(config, "users", "token", "--username", "aud")
    assert token.returncode == 1 and "agency_not_vetted" in token.stderr
    assert "ice" not in run(config, "users", "list").stdout.split()


def test_state_changing_commands_record_the_operator(config: Path) -> None:
    """The audit chain names the person behind a CLI action: --operator, else the OS user;
    a full (decrypted) access report needs a person named explicitly."""
    import getpass
    import sqlite3

    assert run(config, "keys", "init").returncode == 0
    assert run(config, "db", "upgrade").returncode == 0
    named = run(
        config,
        "--operator",
        "lt.okafor",
        "agencies",
        "add",
        "--ori",
        "CA0199900",
        "--name",
        "X",
        "--kind",
        "local",
        "--jurisdiction",
        "CA",
        "--vetted",
    )
    assert named.returncode == 0, named.stderr
    assert run(config, "users", "add", "--username", "ofc.lee", "--role", "officer").returncode == 0
    bad = run(config, "--operator", "two words", "users", "revoke", "--username", "ofc.lee")
    assert bad.returncode == 2 and "--operator" in bad.stderr
    full = run(
        config,
        "report",
        "access",
        "--from",
        "2026-01-01T00:00:00Z",
        "--to",
        "2026-02-01T00:00:00Z",
        "--full",
        "--out",
        str(config.parent / "full.csv"),
    )
    assert full.returncode == 2 and "--operator" in full.stderr
    assert not (config.parent / "full.csv").exists()
    db = sqlite3.connect(config.parent / "var" / "alpr_guard.db")
    try:
        actors = dict(
            db.execute(
                "SELECT kind, actor FROM audit_events WHERE kind IN "
                "('agency.created', 'agency.updated', 'user.created', 'report.access_full')"
            ).fetchall()
        )
    finally:
        db.close()
    assert actors.get("agency.created", actors.get("agency.updated")) == "cli:lt.okafor"
    assert actors["user.created"] == f"cli:{getpass.getuser()}"
    assert "report.access_full" not in actors
