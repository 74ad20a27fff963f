"""Config fails closed: one line naming the file and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from alpr_guard.errors import ConfigError
from alpr_guard.settings import POLICY_ROLES, load_settings
from tests.conftest import REPO, write_config


def config(tmp_path: Path, extra: str = "", db: str = "sqlite:///x.db") -> Path:
    return write_config(tmp_path, db, extra)


def test_shipped_configs_load(monkeypatch: pytest.MonkeyPatch) -> None:
    dev = load_settings(REPO / "config" / "alpr_guard.toml")
    assert dev.jurisdiction.home_state == "CA"
    assert dev.database.url.endswith("/var/alpr_guard.db")
    assert {p.code for p in dev.purposes if p.prohibited} >= {
        "immigration_enforcement",
        "reproductive_care_investigation",
    }
    assert {p.code for p in dev.purposes if not p.prohibited} >= {
        "criminal_investigation",
        "stolen_vehicle",
        "missing_person",
        "wanted_person",
        "amber_alert",
    }
    monkeypatch.setenv("ALPR_GUARD_DATABASE_URL", "postgresql+psycopg://u:p@db/alpr")
    prod = load_settings(REPO / "config" / "production.example.toml")
    assert prod.database.url.startswith("postgresql")
    assert prod.keys.master_key_env == "ALPR_GUARD_MASTER_KEY"
    # The production example publishes a complete policy: every role held by a job title with
    # its training, the custodian, accuracy measures, sharing purposes, camera areas and the
    # public-comment meeting.
    assert prod.policy is not None
    assert {grant.role for grant in prod.policy.access} == set(POLICY_ROLES)
    assert all(grant.training for grant in prod.policy.access)
    assert prod.policy.custodian_title and prod.policy.accuracy_measures
    assert prod.policy.sharing_purposes and prod.policy.camera_areas
    assert prod.policy.public_comment_body and prod.policy.public_comment_date
    assert '"policy":' in prod.policy_json  # the published elements are hashed with the rest


@pytest.mark.parametrize(
    ("extra", "key"),
    [
        ("[bogus]\nx = 1", "bogus"),
        ("[retention.unmatched]\ndays = 61", "retention.unmatched.days"),
        ("[retention.unmatched]\nmax_days = 365", "retention.unmatched.max_days"),
        ("[retention.hit]\ndays = true", "retention.hit.days"),
        ('[sharing]\nallowed_kinds = ["state", "local", "federal"]', "sharing.allowed_kinds"),
        ("[sharing]\nhome_state_only = false", "sharing.home_state_only"),
        (
            "[sharing]\nallow_out_of_state_with_attestation = true",
            "sharing.allow_out_of_state_with_attestation",
        ),
        (
            "[purposes.immigration_enforcement]\nprohibited = false",
            "purposes.immigration_enforcement.prohibited",
        ),
        ('[screening]\nfile = "/dev/null"', "screening"),
        ('[jurisdiction]\nhome_state = "NV"', "jurisdiction"),
        ('[sharing]\nallowed_kinds = ["federal", "nope"]', "sharing.allowed_kinds"),
        ("[sharing]\nrequire_vetted = false", "sharing.require_vetted"),
        ('[purposes.Bad-Code]\ndescription = "x"', "purposes.Bad-Code"),
        ('[purposes.x_y]\ndescription = "x"\ncolour = "red"', "purposes.x_y.colour"),
        ("[review]\nhit_rate_factor = 0.5", "review.hit_rate_factor"),
        ("[review]\nhit_rate_min_rate = 1.5", "review.hit_rate_min_rate"),
        ("[review]\nhit_rate_min_reads = 0", "review.hit_rate_min_reads"),
        ('[review.severity]\nhit_rate_anomaly = "urgent"', "review.severity.hit_rate_anomaly"),
        ("[purge]\nlease_seconds = 5", "purge.lease_seconds"),
    ],
)
def test_bad_values_name_the_key(tmp_path: Path, extra: str, key: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(config(tmp_path, extra))
    message = info.value.message
    assert str(tmp_path) in message
    assert key in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("replace", "with_", "key"),
    [
        (
            'operating_agency = "CA0199900"',
            'operating_agency = "CA01"',
            "instance.operating_agency",
        ),
        ("audit_timeout_ms = 1000", 'audit_timeout_ms = "fast"', "database.audit_timeout_ms"),
        ('master_key_file = "master.key"', 'master_key = "c2VjcmV0"', "keys.master_key"),
        ("[instance]", "[instancee]", "instance"),
    ],
)
def test_structural_errors(tmp_path: Path, replace: str, with_: str, key: str) -> None:
    path = config(tmp_path)
    path.write_text(path.read_text().replace(replace, with_))
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        load_settings(path)


def test_the_config_may_tighten_the_profile(tmp_path: Path) -> None:
    settings = load_settings(
        config(tmp_path, '[sharing]\nallowed_kinds = ["state"]\nrequire_attestation = true')
    )
    assert settings.sharing.allowed_kinds == ("state",)
    assert settings.sharing.require_attestation


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg://u:secret@db/alpr",
        "postgresql+psycopg2://alpr:hunter2@db/alpr",
        "postgresql://db/alpr?user=u&password=secret",
    ],
)
def test_password_in_url_is_refused(tmp_path: Path, url: str) -> None:
    with pytest.raises(ConfigError, match=r"database\.url: must not contain a password"):
        load_settings(config(tmp_path, db=url))


def test_missing_file_and_bad_toml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_settings(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[instance\n")
    with pytest.raises(ConfigError, match="invalid TOML"):
        load_settings(bad)


def test_relative_paths_resolve_against_the_config_file(tmp_path: Path) -> None:
    settings = load_settings(config(tmp_path))
    assert settings.database.url == f"sqlite:///{tmp_path / 'x.db'}"
    assert settings.keys.keystore_dir == tmp_path / "keystore"


def test_hit_rate_thresholds_come_from_the_profile_and_may_be_overridden(tmp_path: Path) -> None:
    shipped = load_settings(config(tmp_path)).review.hit_rate
    assert (
        shipped.window_days,
        shipped.min_reads,
        shipped.min_cameras,
        shipped.factor,
        shipped.min_rate,
        shipped.severity,
    ) == (7, 500, 3, 5.0, 0.05, "medium")
    tuned = load_settings(
        config(
            tmp_path / "t",
            "[review]\nhit_rate_min_reads = 50\nhit_rate_factor = 3.0\n"
            '[review.severity]\nhit_rate_anomaly = "high"\n',
        )
    ).review.hit_rate
    assert (tuned.min_reads, tuned.factor, tuned.severity) == (50, 3.0, "high")
    assert load_settings(config(tmp_path)).purge.lease_seconds == 60
