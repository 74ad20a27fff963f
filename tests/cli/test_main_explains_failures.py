"""What ``main`` says about a failure no command caught: a file it cannot write, an interrupt,
a bug. One line, the documented exit code, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from alpr_guard.services import principals
from tests.cli.conftest import AlprCli, only_line


def test_a_missing_output_folder_is_named(migrated: Path, tmp_path: Path, alpr: AlprCli) -> None:
    example = (Path(__file__).resolve().parents[2] / "config" / "alpr_guard.toml").read_text()
    migrated.write_text(migrated.read_text() + example[example.index("\n[policy]\n") :])
    out = tmp_path / "no-such-folder" / "policy.html"
    line = only_line(alpr(migrated, "policy", "render", "--output", str(out)), 1)
    assert line == (
        f"error: cannot write {out}: the folder {out.parent} does not exist "
        "(create it, or choose another path)"
    )


def test_a_path_through_a_file_is_named(migrated: Path, tmp_path: Path, alpr: AlprCli) -> None:
    example = (Path(__file__).resolve().parents[2] / "config" / "alpr_guard.toml").read_text()
    migrated.write_text(migrated.read_text() + example[example.index("\n[policy]\n") :])
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    out = blocker / "policy.html"
    line = only_line(alpr(migrated, "policy", "render", "--output", str(out)), 1)
    assert line == f"error: {out}: Not a directory (check the path and its permissions)"


def test_an_interrupt_exits_130(
    migrated: Path, alpr: AlprCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(*_args: object) -> list[object]:
        raise KeyboardInterrupt

    monkeypatch.setattr(principals, "list_users", interrupted)
    result = alpr(migrated, "users", "list")
    assert result.code == 130
    assert "Traceback" not in result.err


def test_an_unexpected_error_asks_for_the_traceback(
    migrated: Path, alpr: AlprCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: object) -> list[object]:
        raise RuntimeError("plate 7ABC123 in a message that must not be shown")

    monkeypatch.setattr(principals, "list_users", broken)
    line = only_line(alpr(migrated, "users", "list"), 1)
    assert line == (
        "error: unexpected RuntimeError (a bug: run again with ALPR_GUARD_TRACEBACK=1 and "
        "report the traceback)"
    )
    assert "7ABC123" not in line


def test_the_traceback_on_request(
    migrated: Path, alpr: AlprCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: object) -> list[object]:
        raise RuntimeError("boom")

    monkeypatch.setattr(principals, "list_users", broken)
    monkeypatch.setenv("ALPR_GUARD_TRACEBACK", "1")
    with pytest.raises(RuntimeError, match="boom"):
        alpr(migrated, "users", "list")
