"""Each mistake in a config file is refused with the file, the dotted key and the reason, so the
operator can fix it without reading code; a profile's law may be tightened, never loosened; a
database password never shows in the message that refuses it."""

from __future__ import annotations

from pathlib import Path

import pytest

from alpr_guard.errors import ConfigError
from alpr_guard.settings import config_faults, load_settings
from tests.conftest import REPO, write_config

EXAMPLE = (REPO / "config" / "alpr_guard.toml").read_text()
POLICY = EXAMPLE[EXAMPLE.index("\n[policy]\n") :]


def refusal(tmp_path: Path, extra: str = "", replace: tuple[str, str] | None = None) -> str:
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'var' / 'alpr_guard.db'}", extra)
    if replace is not None:
        text = config.read_text()
        assert replace[0] in text
        config.write_text(text.replace(replace[0], replace[1], 1))
    with pytest.raises(ConfigError) as refused:
        load_settings(config, compile_screening=False)
    message = refused.value.message
    assert message.startswith(str(config)), message
    return message


def test_the_test_config_itself_loads(tmp_path: Path) -> None:
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'x.db'}", POLICY)
    settings = load_settings(config, compile_screening=False)
    assert settings.policy is not None
    assert settings.audit.checkpoint_dirs_key == "audit.checkpoint_dir"


# The [audit] section is last in the test config: a line without a header lands in it.
REFUSALS = [
    pytest.param(
        'checkpoint_dirs = ["more"]',
        None,
        "audit.checkpoint_dirs: set either checkpoint_dir or checkpoint_dirs",
        id="audit-both-spellings",
    ),
    pytest.param(
        "",
        ('checkpoint_dir = "checkpoints"', 'checkpoint_dirs = ["a", "  "]'),
        "audit.checkpoint_dirs: must not contain an empty name",
        id="audit-empty-dir",
    ),
    pytest.param(
        "",
        ('checkpoint_dir = "checkpoints"', 'checkpoint_dirs = ["a", "./a"]'),
        "audit.checkpoint_dirs: names the same directory twice",
        id="audit-same-dir",
    ),
    pytest.param(
        'checkpoint_schedule = "hourly"',
        None,
        "audit.checkpoint_schedule: must be a five-field cron expression (UTC)",
        id="audit-cron",
    ),
    pytest.param(
        "checkpoint_interval_seconds = 0",
        None,
        "audit.checkpoint_interval_seconds: must be between 1 and 3600",
        id="audit-interval",
    ),
    pytest.param(
        '\n[purge]\nschedule = "* * *"',
        None,
        "purge.schedule: must be a five-field cron expression (UTC)",
        id="purge-cron",
    ),
    pytest.param(
        '\n[review]\nschedule = "nightly"',
        None,
        "review.schedule: must be a five-field cron expression (UTC)",
        id="review-cron",
    ),
    pytest.param(
        '\n[review.severity]\noff_hours = "urgent"',
        None,
        "review.severity.off_hours: must be one of high, medium, low",
        id="review-severity",
    ),
    pytest.param(
        '\n[review.severity]\nhit_rate_anomaly = "urgent"',
        None,
        "review.severity.hit_rate_anomaly: must be one of high, medium, low",
        id="review-hit-rate-severity",
    ),
    pytest.param(
        '\n[review]\nvolume_spike_factor = "3"',
        None,
        "review.volume_spike_factor: must be a number, not str",
        id="review-number-type",
    ),
    pytest.param(
        "\n[review]\noff_hours_max_share = 2.0",
        None,
        "review.off_hours_max_share: must be between 0 and 1",
        id="review-number-range",
    ),
    pytest.param(
        "\n[review]\nvolume_spike_factor = true",
        None,
        "review.volume_spike_factor: must be a number, not bool",
        id="review-number-bool",
    ),
    pytest.param(
        "\n[retention.hit]\ndays = 800",
        None,
        "retention.hit.days: 800 exceeds the profile's maximum of 730 days",
        id="retention-over-max",
    ),
    pytest.param(
        "\n[retention.hit]\nmax_days = 9999",
        None,
        "retention.hit.max_days: is a legal limit set by the profile and cannot be overridden",
        id="retention-max-override",
    ),
    pytest.param(
        '\n[jurisdiction]\nhome_state = "NV"',
        None,
        "jurisdiction: is set by the profile (the profile only allows tightening)",
        id="profile-jurisdiction",
    ),
    pytest.param(
        '\n[sharing]\nallowed_kinds = ["local", "federal"]',
        None,
        "sharing.allowed_kinds: may only remove kinds the profile allows",
        id="profile-kinds",
    ),
    pytest.param(
        "\n[sharing]\nhome_state_only = false",
        None,
        "sharing.home_state_only: cannot be switched off",
        id="profile-switch-off",
    ),
    pytest.param(
        "\n[sharing]\nallow_out_of_state_with_attestation = true",
        None,
        "sharing.allow_out_of_state_with_attestation: cannot be switched on",
        id="profile-switch-on",
    ),
    pytest.param(
        "\n[purposes.immigration_enforcement]\nprohibited = false",
        None,
        "purposes.immigration_enforcement.prohibited: a prohibited purpose stays prohibited",
        id="profile-prohibited",
    ),
    pytest.param(
        '\n[purposes.Parking]\ndescription = "Parking enforcement"',
        None,
        "purposes.Parking: purpose codes are lower_snake_case",
        id="purpose-code",
    ),
    pytest.param(
        "",
        ("[search]", "[search]\npage_size = 2000"),
        "search.page_size: must not exceed max_page_size",
        id="search-page-size",
    ),
    pytest.param(
        "",
        ("[search]", "[search]\ncase_number_pattern = '(['"),
        "search.case_number_pattern: must be a regular expression",
        id="search-pattern",
    ),
    pytest.param(
        "",
        ("[auth]", "[auth]\nrate_limit = 'lots'"),
        "auth.rate_limit: must be like '30 per minute'",
        id="auth-rate",
    ),
    pytest.param(
        "",
        ("[auth]", "[auth]\nhuman_bearer_tokens = 'yes'"),
        "auth.human_bearer_tokens: must be true or false, not str",
        id="auth-flag",
    ),
    pytest.param(
        "",
        ("[auth]", "[auth]\ndormant_days = true"),
        "auth.dormant_days: must be an integer, not bool",
        id="auth-integer-bool",
    ),
    pytest.param(
        "",
        ('operating_agency = "CA0199900"', 'operating_agency = "CA-199"'),
        "instance.operating_agency: must be a 9-character ORI such as CA0190000",
        id="instance-ori",
    ),
    pytest.param(
        "",
        ('name = "test"', 'name = "   "'),
        "instance.name: must not be empty",
        id="instance-empty",
    ),
    pytest.param(
        "",
        ("[ingest]", "[ingest]\nspeed = 1"),
        "ingest.speed: unknown key",
        id="unknown-key",
    ),
    pytest.param(
        "",
        ("[ingest]", "[ingest]\nspeed = 1\nfast = true"),
        "unknown keys ingest.fast, ingest.speed",
        id="unknown-keys",
    ),
    pytest.param(
        "",
        ("[keys]", '[keys]\nmaster_key = "c2VjcmV0"'),
        "keys.master_key: secrets never live in TOML; name a file or an environment variable",
        id="keys-inline-secret",
    ),
    pytest.param(
        "",
        ("[keys]", '[keys]\nmaster_key_env = "ALPR_GUARD_MASTER_KEY"'),
        "keys.master_key_file: set exactly one of master_key_file or master_key_env",
        id="keys-both",
    ),
    pytest.param(
        "",
        ("[database]", '[database]\nurl_env = "ALPR_GUARD_TEST_DB"'),
        "database.url: set exactly one of url (no password) or url_env",
        id="database-both",
    ),
    pytest.param(
        "\n[registry]\nfile = 7",
        None,
        "registry.file: must be a string, not int",
        id="registry-type",
    ),
    pytest.param(
        "\n[holds]\nmax_review_days = 0",
        None,
        "holds.max_review_days: must be between 1 and 3660",
        id="holds-range",
    ),
    pytest.param(
        "\n[holds]\nspeed = 1",
        None,
        "holds.speed: unknown key",
        id="holds-unknown",
    ),
    pytest.param(
        "\nholds = 3",
        None,
        "audit.holds: unknown key",
        id="audit-unknown",
    ),
]


@pytest.mark.parametrize(("extra", "replace", "expected"), REFUSALS)
def test_a_mistake_names_the_key_and_the_reason(
    tmp_path: Path, extra: str, replace: tuple[str, str] | None, expected: str
) -> None:
    assert expected in refusal(tmp_path, extra, replace)


def test_a_section_that_is_not_a_table(tmp_path: Path) -> None:
    config = write_config(tmp_path, "sqlite:///x.db")
    text = (
        config.read_text()
        .replace("[ingest]\n", "")
        .replace("\n[instance]", "\ningest = 5\n[instance]")
    )
    config.write_text(text)
    with pytest.raises(ConfigError) as refused:
        load_settings(config, compile_screening=False)
    assert refused.value.message.endswith(": ingest: must be a table")


def test_a_database_password_is_refused_without_being_repeated(tmp_path: Path) -> None:
    url = "postgresql+psycopg://alpr:Hunter2Secret@db.example/alpr"
    message = refusal(tmp_path, "", (f"sqlite:///{tmp_path / 'var' / 'alpr_guard.db'}", url))
    assert "database.url: must not contain a password; use url_env" in message
    assert "Hunter2Secret" not in message


def test_a_password_in_the_query_string_is_refused_too(tmp_path: Path) -> None:
    url = "postgresql+psycopg://alpr@db.example/alpr?password=Hunter2Secret"
    message = refusal(tmp_path, "", (f"sqlite:///{tmp_path / 'var' / 'alpr_guard.db'}", url))
    assert "database.url: must not contain a password" in message
    assert "Hunter2Secret" not in message


def test_an_unset_url_variable_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ALPR_GUARD_TEST_NO_SUCH_URL", raising=False)
    message = refusal(
        tmp_path,
        "",
        (
            f'url = "sqlite:///{tmp_path / "var" / "alpr_guard.db"}"',
            'url_env = "ALPR_GUARD_TEST_NO_SUCH_URL"',
        ),
    )
    assert "database.url_env: environment variable ALPR_GUARD_TEST_NO_SUCH_URL is not set" in (
        message
    )


def test_a_url_from_the_environment_may_carry_its_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALPR_GUARD_TEST_URL", "postgresql+psycopg://alpr:pw@db.example/alpr")
    config = write_config(tmp_path, "unused")
    config.write_text(
        config.read_text().replace('url = "unused"', 'url_env = "ALPR_GUARD_TEST_URL"')
    )
    settings = load_settings(config, compile_screening=False)
    assert settings.database.url == "postgresql+psycopg://alpr:pw@db.example/alpr"


def test_the_profile_must_be_a_file_name(tmp_path: Path) -> None:
    config = write_config(tmp_path, "sqlite:///x.db")
    text = config.read_text()
    config.write_text("profile = 7\n" + text[text.index("[instance]") :])
    with pytest.raises(ConfigError) as refused:
        load_settings(config, compile_screening=False)
    assert refused.value.message == f"{config}: profile: must be a string (a file name)"


def test_a_config_that_is_not_toml(tmp_path: Path) -> None:
    config = tmp_path / "broken.toml"
    config.write_text("[instance\nname = ")
    with pytest.raises(ConfigError) as refused:
        load_settings(config, compile_screening=False)
    assert refused.value.message.startswith(f"{config}: invalid TOML: ")


def test_a_closed_statute_admits_no_new_purpose(tmp_path: Path) -> None:
    config = write_config(tmp_path, "sqlite:///x.db", '\n[purposes.parking]\ndescription = "x"')
    config.write_text(config.read_text().replace("california.toml", "virginia.toml"))
    with pytest.raises(ConfigError) as refused:
        load_settings(config, compile_screening=False)
    assert "purposes.parking: the statute lists the permitted purposes" in refused.value.message
    # A new prohibited purpose only narrows the law: allowed.
    config.write_text(config.read_text() + "prohibited = true\n")
    settings = load_settings(config, compile_screening=False)
    assert any(p.code == "parking" and p.prohibited for p in settings.purposes)


POLICY_REFUSALS = [
    pytest.param(
        ("[[policy.access]]", "[[policy.nothing]]"),
        "policy.access: must be one or more [[policy.access]] tables",
        id="no-access",
    ),
    pytest.param(
        ('role = "officer"', 'role = "dispatcher"'),
        "policy.access[0].role: must be one of officer, supervisor, auditor, admin",
        id="bad-role",
    ),
    pytest.param(
        ('role = "officer"', 'role = "supervisor"'),
        "policy.access: no job title is given the officer role",
        id="missing-role",
    ),
    pytest.param(
        ("date = 2026-03-10", "date = 2026-03-10T19:00:00"),
        "policy.public_comment.date: must be a date (YYYY-MM-DD), not a date and time",
        id="datetime",
    ),
    pytest.param(
        ("date = 2026-03-10", 'date = "March 10th"'),
        "policy.public_comment.date: must be a date (YYYY-MM-DD), not str",
        id="date-text",
    ),
    pytest.param(
        ('"North district" = ["cam-3"]', '"North district" = ["cam-3", "cam-1"]'),
        "policy.camera_areas.North district: a camera is also in 'Downtown'",
        id="camera-twice",
    ),
    pytest.param(
        ("sharing_purposes = [", 'sharing_purposes = ["  ", '),
        "policy.sharing_purposes: must be a non-empty list of non-empty strings",
        id="empty-purpose",
    ),
]


@pytest.mark.parametrize(("replace", "expected"), POLICY_REFUSALS)
def test_a_policy_mistake_names_the_key(
    tmp_path: Path, replace: tuple[str, str], expected: str
) -> None:
    assert replace[0] in POLICY
    assert expected in refusal(tmp_path, POLICY.replace(replace[0], replace[1]))


def test_config_check_collects_a_fault_from_every_section(tmp_path: Path) -> None:
    config = write_config(
        tmp_path, "sqlite:///x.db", '\n[purge]\nschedule = "never"\n\n[holds]\nmax_review_days = 0'
    )
    config.write_text(config.read_text().replace("[search]", "[search]\npage_size = 0"))
    settings, faults = config_faults(config)
    assert settings is None
    messages = [fault.message for fault in faults]
    assert len(messages) == 3, messages
    assert any("search.page_size: must be between 1 and 10000" in m for m in messages)
    assert any("purge.schedule: must be a five-field cron expression" in m for m in messages)
    assert any("holds.max_review_days: must be between 1 and 3660" in m for m in messages)


def test_config_check_of_a_missing_file_is_one_fault(tmp_path: Path) -> None:
    settings, faults = config_faults(tmp_path / "absent.toml")
    assert settings is None
    assert [f.message for f in faults] == [f"{tmp_path / 'absent.toml'}: file not found"]
