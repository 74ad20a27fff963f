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
