"""audit.checkpoint_dirs, its one-directory alias audit.checkpoint_dir, and the interval."""

from __future__ import annotations

from pathlib import Path

import pytest

from alpr_guard.errors import ConfigError
from alpr_guard.settings import load_settings
from tests.conftest import REPO, write_config


def config(tmp_path: Path, audit: str) -> Path:
    path = write_config(tmp_path, "sqlite:///x.db")
    path.write_text(path.read_text().replace('checkpoint_dir = "checkpoints"', audit))
    return path


def test_checkpoint_dir_still_loads_as_a_one_directory_list(tmp_path: Path) -> None:
    audit = load_settings(write_config(tmp_path, "sqlite:///x.db")).audit
    assert audit.checkpoint_dirs == (tmp_path / "checkpoints",)
    assert audit.checkpoint_dir == tmp_path / "checkpoints"
    assert audit.checkpoint_interval_seconds == 60
    assert audit.dir_key(0) == "audit.checkpoint_dir"


def test_shipped_configs_keep_their_checkpoints() -> None:
    dev = load_settings(REPO / "config" / "alpr_guard.toml").audit
    assert len(dev.checkpoint_dirs) >= 1 and dev.checkpoint_interval_seconds == 60


def test_several_directories_resolve_and_are_named_by_index(tmp_path: Path) -> None:
    audit = load_settings(
        config(
            tmp_path,
            'checkpoint_dirs = ["local", "/mnt/witness/alpr"]\ncheckpoint_interval_seconds = 15',
        )
    ).audit
    assert audit.checkpoint_dirs == (tmp_path / "local", Path("/mnt/witness/alpr"))
    assert audit.checkpoint_dir == tmp_path / "local"
    assert audit.checkpoint_interval_seconds == 15
    assert audit.dir_key(1) == "audit.checkpoint_dirs[1]"


def test_no_directory_means_no_checkpoints(tmp_path: Path) -> None:
    audit = load_settings(config(tmp_path, "")).audit
    assert audit.checkpoint_dirs == () and audit.checkpoint_dir is None


@pytest.mark.parametrize(
    ("audit", "key"),
    [
        ('checkpoint_dir = "a"\ncheckpoint_dirs = ["b"]', "audit.checkpoint_dirs"),
        ('checkpoint_dirs = "a"', "audit.checkpoint_dirs"),
        ('checkpoint_dirs = ["a", " "]', "audit.checkpoint_dirs"),
        ('checkpoint_dirs = ["a", "./a"]', "audit.checkpoint_dirs"),
        ('checkpoint_dir = ""', "audit.checkpoint_dir"),
        ("checkpoint_interval_seconds = 0", "audit.checkpoint_interval_seconds"),
        ('checkpoint_interval_seconds = "60"', "audit.checkpoint_interval_seconds"),
        ("checkpoint_interval_seconds = 86400", "audit.checkpoint_interval_seconds"),
    ],
)
def test_bad_audit_values_name_the_key(tmp_path: Path, audit: str, key: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(config(tmp_path, audit))
    assert f"{key}:" in info.value.message and str(tmp_path) in info.value.message
