"""``alpr-guard serve`` pins a lone worker to one CPU (its threads take turns on one interpreter
lock, and a hand-over to a thread on the other core wakes it there with cold caches); several
workers only when asked; ``--no-pin`` never."""

from __future__ import annotations

from pathlib import Path

import psutil
import pytest

from alpr_guard.server import allowed_cpus, cpu_for_worker, pinned_cpus
from tests.conftest import write_config
from tests.servers import migrate_in_child, served


def test_a_lone_worker_is_pinned_by_default_and_several_only_when_asked() -> None:
    assert pinned_cpus(1, None, {0, 1, 2, 3}) == [3, 2, 1, 0]
    assert pinned_cpus(4, None, {0, 1, 2, 3}) == []
    assert pinned_cpus(4, True, {0, 1}) == [1, 0]
    assert pinned_cpus(1, False, {0, 1}) == []
    # One CPU to run on: pinning would change nothing.
    assert pinned_cpus(1, True, {5}) == []
    assert pinned_cpus(1, None, set()) == []


def test_workers_take_the_pinned_cpus_in_turn() -> None:
    cpus = [3, 1]
    assert [cpu_for_worker(age, cpus) for age in (1, 2, 3, 4)] == [3, 1, 3, 1]


def _worker_affinity(config: Path, *extra: str) -> tuple[set[int], str]:
    """Start the server; the CPUs its worker's threads may run on, and the server's log."""
    with served(config, "--log-format", "text", *extra) as (server, _port, log_path):
        (worker,) = psutil.Process(server.pid).children()
        # Every thread of the worker, not only its main one.
        cpus = {
            cpu for thread in worker.threads() for cpu in psutil.Process(thread.id).cpu_affinity()
        }
    return cpus, log_path.read_text()


@pytest.fixture
def config(tmp_path: Path) -> Path:
    cfg = write_config(tmp_path / "cfg", f"sqlite:///{tmp_path / 'pin.db'}")
    migrate_in_child(cfg)
    return cfg


def test_the_sqlite_worker_runs_on_one_cpu(config: Path) -> None:
    allowed = allowed_cpus()
    cpus, log = _worker_affinity(config)
    if len(allowed) < 2:
        assert cpus == allowed  # nothing to choose between
        return
    assert cpus == {max(allowed)}
    assert f"pinned to CPU {max(allowed)}" in log


def test_no_pin_leaves_the_worker_free(config: Path) -> None:
    cpus, log = _worker_affinity(config, "--no-pin")
    assert cpus == allowed_cpus()
    assert "pinned to CPU" not in log
