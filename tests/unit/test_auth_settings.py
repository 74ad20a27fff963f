"""[auth] and [auth.oidc]: CJIS limits only tighten, the client secret never lives in TOML,
and every fault names its key."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alpr_guard.auth.oidc import SignInRefused, identity, load_client_secret, multi_factor
from alpr_guard.auth.reasons import AuthReason
from alpr_guard.errors import ConfigError
from alpr_guard.settings import ORI_RE, OidcSettings, load_settings
from tests.conftest import write_config

OIDC = """
[auth.oidc]
issuer = "https://login.example.gov/tenant/v2.0"
client_id = "alpr-guard"
client_secret_env = "ALPR_GUARD_OIDC_SECRET_UNIT"
redirect_uri = "https://alpr.example.gov/auth/callback"
{oidc_extra}

[auth.oidc.roles]
"alpr-officers" = "officer"
{roles_extra}
"""


def config(tmp_path: Path, *, auth: str = "", oidc_extra: str = "", roles_extra: str = "") -> Path:
    path = write_config(
        tmp_path,
        f"sqlite:///{tmp_path / 'db.sqlite'}",
        OIDC.format(oidc_extra=oidc_extra, roles_extra=roles_extra),
    )
    path.write_text(path.read_text().replace("\n[auth]\n", f"\n[auth]\n{auth}\n", 1))
    return path


@pytest.fixture(autouse=True)
def secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALPR_GUARD_OIDC_SECRET_UNIT", "s3cret-from-the-environment")


def test_defaults_are_the_cjis_limits(tmp_path: Path) -> None:
    auth = load_settings(config(tmp_path)).auth
    assert (auth.session_idle_minutes, auth.session_absolute_hours) == (30, 12)
    assert (auth.lockout_failures, auth.lockout_window_minutes) == (5, 15)
    assert auth.human_bearer_tokens is True
    assert auth.oidc is not None and auth.oidc.require_mfa is True


@pytest.mark.parametrize(
    ("auth", "key"),
    [
        ("session_idle_minutes = 31", "auth.session_idle_minutes"),
        ("session_absolute_hours = 13", "auth.session_absolute_hours"),
        ("lockout_failures = 6", "auth.lockout_failures"),
        ("lockout_window_minutes = 14", "auth.lockout_window_minutes"),
        ('rate_limit = "lots"', "auth.rate_limit"),
        ("human_bearer_tokens = 0", "auth.human_bearer_tokens"),
        ("personal_token_minutes = 100000", "auth.personal_token_minutes"),
    ],
)
def test_looser_than_cjis_or_malformed_is_refused_naming_the_key(
    tmp_path: Path, auth: str, key: str
) -> None:
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        load_settings(config(tmp_path, auth=auth))


def test_tighter_limits_are_accepted(tmp_path: Path) -> None:
    auth = load_settings(
        config(tmp_path, auth="session_idle_minutes = 15\nlockout_failures = 3")
    ).auth
    assert (auth.session_idle_minutes, auth.lockout_failures) == (15, 3)


@pytest.mark.parametrize("key", ["client_secret", "secret", "password"])
def test_a_secret_in_toml_is_refused_naming_the_field(tmp_path: Path, key: str) -> None:
    with pytest.raises(ConfigError, match=rf"auth\.oidc\.{key}: secrets never live in TOML"):
        load_settings(config(tmp_path, oidc_extra=f'{key} = "hunter2"'))


@pytest.mark.parametrize(
    ("oidc_extra", "key", "why"),
    [
        ('client_secret_file = "x"', "auth.oidc.client_secret_env", "exactly one"),
        ('issuer = "http://login.example.gov"', "auth.oidc.issuer", "https"),
        ('redirect_uri = "http://alpr.example.gov/cb"', "auth.oidc.redirect_uri", "https"),
        ('scopes = ["profile"]', "auth.oidc.scopes", "openid"),
        ("require_mfa = true\nmfa_amr = []", "auth.oidc.mfa_amr", "multi-factor"),
        ("unknown_thing = 1", "auth.oidc.unknown_thing", "unknown key"),
    ],
)
def test_oidc_faults_name_the_key(tmp_path: Path, oidc_extra: str, key: str, why: str) -> None:
    text = config(tmp_path, oidc_extra=oidc_extra).read_text()
    # A key given twice is a TOML error; replace the default issuer/redirect instead.
    for name in ("issuer", "redirect_uri"):
        if oidc_extra.startswith(f"{name} ="):
            text = "\n".join(
                line
                for line in text.splitlines()
                if not (line.startswith(f"{name} =") and "example.gov" in line and "https" in line)
            )
    path = tmp_path / "alpr_guard.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    assert key in info.value.message and why in info.value.message


def test_roles_map_only_to_human_roles(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"auth\.oidc\.roles\.cameras: must be one of"):
        load_settings(config(tmp_path, roles_extra='"cameras" = "ingest"'))


def test_agencies_map_to_oris(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"auth\.oidc\.agencies\.Demo: must be a 9-character"):
        load_settings(
            config(
                tmp_path,
                oidc_extra='agency_claim = "ori"\n[auth.oidc.agencies]\n"Demo" = "nope"',
            )
        )


def test_the_secret_comes_from_the_environment_or_a_file_never_the_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = load_settings(config(tmp_path))
    assert settings.auth.oidc is not None
    assert load_client_secret(settings.auth.oidc, "cfg") == "s3cret-from-the-environment"
    assert "s3cret" not in repr(settings) and "s3cret" not in settings.policy_json
    monkeypatch.delenv("ALPR_GUARD_OIDC_SECRET_UNIT")
    with pytest.raises(ConfigError, match=r"auth\.oidc\.client_secret_env: environment variable"):
        load_settings(config(tmp_path))
    secret_file = tmp_path / "oidc.secret"
    secret_file.write_text("from-a-file\n")
    text = (
        config(tmp_path)
        .read_text()
        .replace(
            'client_secret_env = "ALPR_GUARD_OIDC_SECRET_UNIT"',
            f'client_secret_file = "{secret_file}"',
        )
    )
    (tmp_path / "alpr_guard.toml").write_text(text)
    from_file = load_settings(tmp_path / "alpr_guard.toml")
    assert from_file.auth.oidc is not None
    assert load_client_secret(from_file.auth.oidc, "cfg") == "from-a-file"


def test_multi_factor_counts_only_the_configured_values(tmp_path: Path) -> None:
    oidc = load_settings(config(tmp_path, oidc_extra='mfa_acr = ["urn:gov:loa:3"]')).auth.oidc
    assert oidc is not None
    assert multi_factor(oidc, {"amr": ["pwd", "otp"]})
    assert multi_factor(oidc, {"amr": ["pwd"], "acr": "urn:gov:loa:3"})
    assert not multi_factor(oidc, {"amr": ["pwd"]})
    assert not multi_factor(oidc, {"amr": "pwd otp"})  # a string is one value, not a list
    assert not multi_factor(oidc, {"acr": "urn:gov:loa:1"})
    assert not multi_factor(oidc, {})


_CLAIM = st.one_of(
    st.none(),
    st.text(max_size=80),
    st.integers(),
    st.lists(st.one_of(st.text(max_size=30), st.integers()), max_size=5),
    st.sampled_from(["alpr-officers", "alpr-admins", "CA0199900", "otp", "mfa"]),
)


@settings(max_examples=300, deadline=None)
@given(
    username=_CLAIM,
    groups=_CLAIM,
    amr=_CLAIM,
    acr=_CLAIM,
    agency=_CLAIM,
)
def test_any_claims_map_to_a_known_role_and_a_clean_username_or_are_refused(
    username: object, groups: object, amr: object, acr: object, agency: object
) -> None:
    """Whatever a provider (or someone who controls a profile field there) puts in the
    claims, the result is a refusal with a reason code, or a role from the map, a username of
    the allowed characters, an ORI, and a multi-factor sign-in."""
    claims = {
        "sub": "s-1",
        "preferred_username": username,
        "groups": groups,
        "amr": amr,
        "acr": acr,
        "ori": agency,
    }
    try:
        ident = identity(PROPERTY_OIDC, claims, "CA0199900")
    except SignInRefused as exc:
        reason = exc.reason
    else:
        reason = None
    if reason is not None:
        assert reason in {r.value for r in AuthReason}
        return
    assert ident.role in {"officer", "admin"}
    assert set(ident.username) <= set("abcdefghijklmnopqrstuvwxyz0123456789._-")
    assert 2 <= len(ident.username) <= 64
    assert ORI_RE.match(ident.agency_ori)
    assert multi_factor(PROPERTY_OIDC, claims)


PROPERTY_OIDC = OidcSettings(
    issuer="https://idp.example.gov",
    client_id="c",
    client_secret_env="X",
    client_secret_file=None,
    redirect_uri="https://alpr.example.gov/auth/callback",
    scopes=("openid",),
    username_claim="preferred_username",
    name_claim="name",
    role_claim="groups",
    role_map=(("alpr-officers", "officer"), ("alpr-admins", "admin")),
    agency_claim="ori",
    agency_map=(),
    require_mfa=True,
    mfa_amr=("otp", "mfa"),
    mfa_acr=(),
)


def test_the_published_policy_states_the_sign_in_rules_in_force(tmp_path: Path) -> None:
    from alpr_guard.services.policy_document import _sign_in

    text = _sign_in(load_settings(config(tmp_path, auth="session_idle_minutes = 15")))
    assert "with a second factor" in text and "15 minutes without activity" in text
    assert "5 failed attempts within 15 minutes" in text


def test_turning_mfa_off_changes_the_recorded_policy(tmp_path: Path) -> None:
    """Hostile path: an administrator who switches MFA off (or lengthens nothing: the limits
    only tighten) changes the enforced-policy hash, which serve and config check record and
    the drift check flags."""
    on = load_settings(config(tmp_path / "on"))
    off = load_settings(config(tmp_path / "off", oidc_extra="require_mfa = false"))
    assert '"require_mfa":true' in on.policy_json
    assert '"require_mfa":false' in off.policy_json
    assert on.policy_json != off.policy_json
