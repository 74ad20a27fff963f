"""Running ``main`` in this process (its lines counted by coverage, unlike a subprocess's): a
config on SQLite, the command's exit code, standard output and standard error. (For what only a
real server shows, ``serve`` in a child process: tests/servers.py.)"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from alpr_guard.cli.common import current
from alpr_guard.cli.main import main
from tests.conftest import write_config


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def process_state() -> Iterator[None]:
    """``cli`` sets the umask, configures logging (``serve`` even the format of every handler)
    and remembers the running command: put all of it back so the tests after these see the
    process as it was."""
    umask = os.umask(0o022)
    os.umask(umask)
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    formatters = [(handler, handler.formatter) for handler in handlers]
    yield
    os.umask(umask)
    root.handlers[:] = handlers
    root.setLevel(level)
    for handler, formatter in formatters:
        handler.setFormatter(formatter)
    current.clear()


@pytest.fixture
def alpr(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], process_state: None
) -> AlprCli:
    monkeypatch.delenv("ALPR_GUARD_TRACEBACK", raising=False)
    return AlprCli(monkeypatch, capsys)


class AlprCli:
    def __init__(self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
        self.monkeypatch = monkeypatch
        self.capsys = capsys

    def __call__(self, config: Path | None, *args: str, operator: str = "ops.admin") -> Result:
        argv = ["alpr-guard"]
        if config is not None:
            argv += ["--config", str(config)]
        if operator:
            argv += ["--operator", operator]
        self.monkeypatch.setattr(sys, "argv", [*argv, *args])
        self.capsys.readouterr()
        code = 0
        try:
            main()
        except SystemExit as exc:
            code = int(exc.code or 0)
        captured = self.capsys.readouterr()
        return Result(code, captured.out, captured.err)


def sqlite_config(tmp_path: Path, extra: str = "") -> Path:
    return write_config(tmp_path, f"sqlite:///{tmp_path / 'var' / 'alpr_guard.db'}", extra)


@pytest.fixture
def migrated(tmp_path: Path, alpr: AlprCli) -> Path:
    config = sqlite_config(tmp_path)
    result = alpr(config, "db", "upgrade")
    assert result.code == 0, result.err
    assert "database at head" in result.out and "was empty" in result.out
    return config


def add_agency(
    alpr: AlprCli, config: Path, ori: str, name: str, *, kind: str = "local", vetted: bool = False
) -> Result:
    """``agencies add`` for a California agency (``--vetted`` when asked)."""
    args = ["agencies", "add", "--ori", ori, "--name", name, "--kind", kind]
    return alpr(config, *args, "--jurisdiction", "CA", *(["--vetted"] if vetted else []))


def only_line(result: Result, code: int) -> str:
    assert result.code == code, (result.out, result.err)
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    assert "Traceback" not in result.err
    return lines[0]
