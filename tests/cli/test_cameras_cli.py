"""``alpr-guard cameras``: add, list, rotate (two live secrets until --finish), disable."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import OPERATING_ORI, write_config

Invoke = Callable[..., subprocess.CompletedProcess[str]]


def listing(invoke: Invoke) -> list[dict[str, object]]:
    return [json.loads(line) for line in invoke("cameras", "list", "--json").stdout.splitlines()]


@pytest.fixture
def run(tmp_path: Path) -> Invoke:
    config = write_config(tmp_path / "cfg", f"sqlite:///{tmp_path / 'cams.db'}")

    def invoke(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "alpr_guard", "--config", str(config), *args],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            env={**os.environ, "PYTHONWARNINGS": "error"},
        )

    assert invoke("db", "upgrade").returncode == 0
    added = invoke(
        "agencies", "add", "--ori", OPERATING_ORI, "--name", "Test City PD",
        "--kind", "local", "--jurisdiction", "CA", "--vetted",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    return invoke


def test_cameras_commands(run: Invoke) -> None:
    invoke = run
    added = invoke("cameras", "add", "gate-1", "--camera-id", "cam-a", "--camera-id", "cam-b")
    assert added.returncode == 0, added.stderr
    secret = added.stdout.strip().splitlines()[-1]
    assert secret.startswith("alprc_")

    again = invoke("cameras", "add", "gate-1", "--camera-id", "cam-c")
    assert again.returncode == 1 and "already exists" in again.stderr
    assert len(again.stderr.strip().splitlines()) == 1
    bad = invoke("cameras", "add", "Gate 2!", "--camera-id", "cam-c")
    assert bad.returncode != 0 and "name" in bad.stderr

    rotated = invoke("cameras", "rotate", "gate-1")
    assert rotated.returncode == 0
    new_secret = rotated.stdout.strip().splitlines()[-1]
    assert new_secret.startswith("alprc_") and new_secret != secret
    (listed,) = [
        json.loads(line) for line in invoke("cameras", "list", "--json").stdout.splitlines()
    ]
    assert listed["camera_ids"] == ["cam-a", "cam-b"] and listed["rotation_pending"] is True
    assert secret not in invoke("cameras", "list").stdout

    assert invoke("cameras", "rotate", "gate-1", "--finish").returncode == 0
    assert invoke("cameras", "disable", "gate-1").returncode == 0
    (listed,) = [
        json.loads(line) for line in invoke("cameras", "list", "--json").stdout.splitlines()
    ]
    assert (listed["rotation_pending"], listed["disabled"], listed["last_seen_at"]) == (
        False,
        True,
        None,
    )
    missing = invoke("cameras", "disable", "nobody")
    assert missing.returncode == 1 and "does not exist" in missing.stderr
