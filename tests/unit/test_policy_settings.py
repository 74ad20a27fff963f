"""The [policy] section: the published policy's own elements, validated like every section."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from alpr_guard.errors import ConfigError
from alpr_guard.settings import load_settings
from tests.api.test_policy import POLICY
from tests.conftest import REPO, write_config


def config(tmp_path: Path, policy: str) -> Path:
    return write_config(tmp_path, "sqlite:///x.db", policy)


def test_the_shipped_config_and_the_test_policy_load(tmp_path: Path) -> None:
    dev = load_settings(REPO / "config" / "alpr_guard.toml")
    assert dev.policy is not None
    assert {g.role for g in dev.policy.access} == {"officer", "supervisor", "auditor", "admin"}
    loaded = load_settings(config(tmp_path, POLICY))
    assert loaded.policy is not None
    assert loaded.policy.public_comment_date == date(2026, 3, 10)
    assert loaded.policy.camera_areas == (
        ("Downtown", ("cam-1", "cam-2")),
        ("Harbor district", ("cam-3",)),
    )


def test_policy_section_is_optional(tmp_path: Path) -> None:
    assert load_settings(config(tmp_path, "")).policy is None


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ('custodian_title = "Records Custodian <Records Unit>"\n', "", "policy.custodian_title"),
        ("date = 2026-03-10", "date = 2026-03-10T10:00:00Z", "policy.public_comment.date"),
        ("date = 2026-03-10", 'date = "March"', "policy.public_comment.date"),
        ('body = "Test City Council, regular meeting"', 'body = ""', "policy.public_comment.body"),
        ('role = "admin"', 'role = "ingest"', "policy.access[3].role"),
        ('role = "admin"', 'role = "officer"', "policy.access"),
        ('training = ["System administration"]', "training = []", "policy.access[3].training"),
        (
            'accuracy_measures = ["Officers',
            'accuracy_measures = [" ", "Officers',
            "policy.accuracy_measures",
        ),
        ('"Harbor district" = ["cam-3"]', '"Harbor district" = ["cam-1"]', "policy.camera_areas"),
        ("[policy]\n", "[policy]\nbogus = 1\n", "policy.bogus"),
        (
            '[[policy.access]]\njob_title = "Patrol',
            '[[policy.access]]\nbadge = 1\njob_title = "Patrol',
            "policy.access[0].badge",
        ),
    ],
)
def test_bad_policy_elements_name_the_key(tmp_path: Path, old: str, new: str, key: str) -> None:
    assert old in POLICY
    with pytest.raises(ConfigError) as err:
        load_settings(config(tmp_path, POLICY.replace(old, new, 1)))
    assert f": {key}" in err.value.message, err.value.message
    assert len(err.value.message.splitlines()) == 1


def test_no_access_table_is_refused(tmp_path: Path) -> None:
    head = POLICY.split("[[policy.access]]", 1)[0]
    with pytest.raises(ConfigError, match=r"policy\.access: must be one or more"):
        load_settings(config(tmp_path, head))
