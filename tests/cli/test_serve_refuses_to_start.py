"""``alpr-guard serve`` refuses to start, before any worker forks, with one line naming what is
wrong: a port in use, an address it cannot listen on, a database without the schema."""

from __future__ import annotations

import gc
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cli.conftest import AlprCli, only_line, sqlite_config
from tests.servers import free_port


@pytest.fixture(autouse=True)
def _unfreeze() -> Iterator[None]:
    """``serve`` freezes the collector's view of the heap for its workers: not for this process."""
    yield
    gc.unfreeze()


@pytest.fixture(autouse=True)
def started(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """gunicorn never starts here: a refusal that failed to refuse shows as a recorded start."""
    from alpr_guard import server

    options: dict[str, Any] = {}

    def run(settings: object, **given: Any) -> None:
        options.update(given)

    monkeypatch.setattr(server, "run", run)
    return options


def test_a_port_in_use_is_named(migrated: Path, alpr: AlprCli, started: dict[str, Any]) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        line = only_line(alpr(migrated, "serve", "--port", str(port)), 1)
    assert line == (
        f"error: port {port} on 127.0.0.1 is already in use: stop the process holding it, "
        "or choose another with --port (or ALPR_GUARD_PORT)"
    )
    assert started == {}


def test_an_address_not_on_this_machine_is_named(
    migrated: Path, alpr: AlprCli, started: dict[str, Any]
) -> None:
    line = only_line(alpr(migrated, "serve", "--host", "192.0.2.1", "--port", str(free_port())), 1)
    assert line.startswith("error: cannot listen on 192.0.2.1:") and line.endswith("(check --host)")
    assert started == {}


def test_an_unmigrated_database_stops_the_start(
    tmp_path: Path, alpr: AlprCli, started: dict[str, Any]
) -> None:
    config = sqlite_config(tmp_path)
    (tmp_path / "var").mkdir()
    (tmp_path / "var" / "alpr_guard.db").touch()
    line = only_line(alpr(config, "serve", "--port", str(free_port())), 1)
    assert line == "error: the database has no schema yet: run `alpr-guard db upgrade`"
    assert started == {}


def test_a_ready_instance_records_its_policy_then_serves(
    migrated: Path, alpr: AlprCli, started: dict[str, Any]
) -> None:
    port = free_port()
    result = alpr(migrated, "serve", "--port", str(port), "--threads", "3", "--log-format", "text")
    assert result.code == 0, result.err
    assert result.out.strip() == (
        f"alpr_guard serving on http://127.0.0.1:{port} with 1 worker(s) x 3 threads "
        f"(config {migrated})"
    )
    assert started == {
        "host": "127.0.0.1",
        "port": port,
        "workers": 1,
        "threads": 3,
        "trusted_proxy": None,
        "log_format": "text",
        "pin": None,
    }
    recorded = alpr(migrated, "config", "check", "--record")
    assert recorded.out.strip().endswith("unchanged, nothing recorded")
