"""Other states as configuration only: each profile loads, cites its statute, enforces its
maxima at load, and changes what the real engine does (a rule that differs from California)."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from alpr_guard.api import build_app
from alpr_guard.clock import FixedClock
from alpr_guard.errors import ConfigError
from alpr_guard.keystore import write_master_key_file
from alpr_guard.policy.text_rules import scan
from alpr_guard.runtime import Runtime, build_runtime
from alpr_guard.services.agencies import AgencyInput, upsert_agency
from alpr_guard.services.policy_document import build_policy, render_policy
from alpr_guard.services.principals import SYSTEM, add_user
from alpr_guard.settings import Settings, load_settings
from tests.api.test_policy import POLICY
from tests.conftest import HIT_REF, NOW, REPO, Backend, auth

STATES = {
    # profile file: (home state, statute cited, unmatched-read window in days)
    "virginia.toml": ("VA", "Va. Code 2.2-5517", 21),
    "oregon.toml": ("OR", "Oregon SB 1516", 30),
    "minnesota.toml": ("MN", "Minn. Stat. 13.824", 60),
    "washington.toml": ("WA", "Washington SB 6002", 21),
    "maine.toml": ("ME", "29-A M.R.S. 2117-A", 21),
    "new-hampshire.toml": ("NH", "RSA 261:75-b", 1),
    "illinois.toml": ("IL", "625 ILCS 5/2-130", 30),
}
OPERATING = "XX0199900"  # replaced by the state's own two letters


def write_state_config(directory: Path, db_url: str, profile: str, extra: str = "") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    key = directory / "master.key"
    if not key.exists():
        write_master_key_file(key)
    home = STATES[profile][0] if profile in STATES else "CA"
    config = directory / f"{profile}.config.toml"
    config.write_text(f"""
profile = "{REPO / "config" / profile}"

[instance]
name = "test"
operating_agency = "{OPERATING.replace("XX", home)}"
operating_agency_name = "Test City Police Department"

[database]
url = "{db_url}"

[keys]
master_key_file = "master.key"
keystore_dir = "keystore-{profile}"

[auth]
[search]
[ingest]
{extra}
{POLICY}
""")
    return config


@pytest.mark.parametrize("profile", sorted(STATES))
def test_profile_loads_cites_its_statute_and_documents_its_gaps(
    profile: str, tmp_path: Path
) -> None:
    home, statute, days = STATES[profile]
    settings = load_settings(write_state_config(tmp_path, "sqlite:///x.db", profile))
    assert settings.jurisdiction.home_state == home
    assert statute in settings.jurisdiction.statute
    assert "sketch" not in settings.jurisdiction.name.lower()
    assert settings.retention.unmatched.days == days
    assert any(not p.prohibited for p in settings.purposes)
    assert "vague_justification" in settings.screening.codes
    assert not settings.sharing.allowed_kinds or "federal" not in settings.sharing.allowed_kinds
    text = (REPO / "config" / profile).read_text()
    assert "cannot express yet" in text  # the gaps are written down, not dropped


@pytest.mark.parametrize("profile", sorted(STATES))
def test_profile_maxima_are_enforced_at_load(profile: str, tmp_path: Path) -> None:
    cap = load_settings(write_state_config(tmp_path, "sqlite:///x.db", profile)).retention
    for window in (cap.unmatched, cap.hit):
        longer = f"[retention.{window.name}]\ndays = {window.max_days + 1}\n"
        with pytest.raises(ConfigError, match=rf"retention\.{window.name}\.days: .*maximum"):
            load_settings(write_state_config(tmp_path, "sqlite:///x.db", profile, longer))
    longer = f"[retention.unmatched]\ndays = {cap.unmatched.max_days + 1}\n"
    with pytest.raises(ConfigError, match=r"retention\.unmatched\.days: .*maximum"):
        load_settings(write_state_config(tmp_path, "sqlite:///x.db", profile, longer))
    raise_cap = "[retention.unmatched]\nmax_days = 3650\n"
    with pytest.raises(ConfigError, match="legal limit set by the profile"):
        load_settings(write_state_config(tmp_path, "sqlite:///x.db", profile, raise_cap))


@pytest.mark.parametrize("profile", sorted(STATES))
def test_switching_profile_changes_the_rendered_policy(
    profile: str, tmp_path: Path, backend: Backend, clock: FixedClock
) -> None:
    _home, statute, days = STATES[profile]
    rt = build_runtime(
        load_settings(write_state_config(tmp_path, backend.fresh_url(tmp_path), profile)),
        clock=clock,
    )
    try:
        with rt.sessions() as session:
            text = render_policy(build_policy(session, rt), "md").decode().replace("\\", "")
    finally:
        rt.dispose()
    assert statute in text
    assert f"| Reads that matched no hot list | {days} day" in text
    assert "Civil Code 1798.90" not in text  # California's cites are California's


def _runtime(backend: Backend, tmp_path: Path, profile: str, clock: FixedClock) -> Runtime:
    settings = load_settings(
        write_state_config(tmp_path / profile, backend.fresh_url(tmp_path), profile)
    )
    rt = build_runtime(settings, clock=clock)
    home = settings.jurisdiction.home_state
    with rt.sessions.begin() as session:
        for ori, kind, where, attestation in (
            (settings.instance.operating_agency, "local", home, None),
            ("NV0020000", "local", "NV", NOW + timedelta(days=90)),  # declaration in force
            ("VTICE0900", "federal", "VT", None),
        ):
            upsert_agency(
                session,
                rt,
                AgencyInput(ori, f"Agency {ori}", kind, where, True, attestation),
                SYSTEM,
            )
    return rt


def _engine(
    backend: Backend, tmp_path: Path, clock: FixedClock, profile: str
) -> tuple[Runtime, FlaskClient, dict[str, str]]:
    rt = _runtime(backend, tmp_path, profile, clock)
    tokens = {}
    with rt.sessions.begin() as session:
        for role in ("ingest", "officer", "supervisor"):
            tokens[role] = add_user(
                session,
                rt,
                username=f"t-{role}",
                role=role,
                agency_ori=rt.settings.instance.operating_agency,
            ).token
    return rt, build_app(rt).test_client(), tokens


def _found(
    backend: Backend,
    tmp_path: Path,
    clock: FixedClock,
    profile: str,
    *,
    age: timedelta,
    hit: bool = False,
) -> int:
    """A read stored when it was 12 hours old, searched for when it is ``age`` old, under
    ``profile``: the number of results the search finds."""
    at = NOW - age
    clock.set(at + timedelta(hours=12))  # ingest refuses reads already past their window
    rt, client, tokens = _engine(backend, tmp_path, clock, profile)
    try:
        read: dict[str, object] = {
            "plate": "7ABC123",
            "observed_at": at.isoformat(),
            "camera_id": "cam-1",
            **({"hit": dict(HIT_REF)} if hit else {}),
        }
        posted = client.post(
            "/api/v1/reads", json={"reads": [read]}, headers=auth(tokens["ingest"])
        )
        assert posted.status_code == 201, posted.get_json()
        clock.set(NOW)
        with rt.sessions.begin() as session:
            officer = add_user(
                session,
                rt,
                username="t-officer-now",
                role="officer",
                agency_ori=rt.settings.instance.operating_agency,
            ).token
        purpose = next(p.code for p in rt.settings.purposes if not p.prohibited)
        body: dict[str, Any] = {
            "plate": "7ABC123",
            "from": (at - timedelta(days=1)).isoformat(),
            "to": (at + timedelta(days=1)).isoformat(),
            "purpose": purpose,
            "justification": "Vehicle seen leaving the burglary on Elm Street, witness statement",
            "case_number": "26-004512",
        }
        found = client.post("/api/v1/searches", json=body, headers=auth(officer))
        assert found.status_code == 200, found.get_json()
        count: int = found.get_json()["result_count"]
        return count
    finally:
        rt.dispose()


@pytest.mark.parametrize(
    ("profile", "age"),
    [
        ("virginia.toml", timedelta(days=25)),
        ("oregon.toml", timedelta(days=35)),
        ("washington.toml", timedelta(days=25)),
        ("maine.toml", timedelta(days=25)),
        ("new-hampshire.toml", timedelta(days=2)),
    ],
)
def test_a_read_past_the_states_window_is_gone_but_found_in_california(
    profile: str, age: timedelta, backend: Backend, tmp_path: Path, clock: FixedClock
) -> None:
    assert _found(backend, tmp_path, clock, profile, age=age) == 0
    assert _found(backend, tmp_path, clock, "california.toml", age=age) == 1


def test_minnesota_keeps_hits_60_days_where_california_keeps_them_365(
    backend: Backend, tmp_path: Path, clock: FixedClock
) -> None:
    age = timedelta(days=100)
    assert _found(backend, tmp_path, clock, "minnesota.toml", age=age, hit=True) == 0
    assert _found(backend, tmp_path, clock, "california.toml", age=age, hit=True) == 1


def test_illinois_shares_out_of_state_with_a_declaration_california_never(
    backend: Backend, tmp_path: Path, clock: FixedClock
) -> None:
    outcomes = {}
    for profile in ("illinois.toml", "california.toml"):
        rt, client, tokens = _engine(backend, tmp_path, clock, profile)
        try:
            posted = client.post(
                "/api/v1/reads",
                json={
                    "reads": [
                        {
                            "plate": "7ABC123",
                            "observed_at": (NOW - timedelta(days=1)).isoformat(),
                            "camera_id": "cam-1",
                        }
                    ]
                },
                headers=auth(tokens["ingest"]),
            )
            ids = posted.get_json()["ids"]
            share = {
                "recipient": "NV0020000",
                "read_ids": ids,
                "purpose": "stolen_vehicle",
                "justification": "Stolen vehicle recovered in their county; case transfer",
                "case_number": "26-004512",
            }
            response = client.post("/api/v1/shares", json=share, headers=auth(tokens["supervisor"]))
            outcomes[profile] = (
                response.status_code,
                (response.get_json().get("error") or {}).get("code"),
            )
            federal = client.post(
                "/api/v1/shares",
                json={**share, "recipient": "VTICE0900"},
                headers=auth(tokens["supervisor"]),
            )
            assert federal.get_json()["error"]["code"] == "federal_agency"
        finally:
            rt.dispose()
    assert outcomes["illinois.toml"] == (201, None)
    assert outcomes["california.toml"] == (403, "out_of_state_agency")


def test_illinois_word_lists_treat_illinois_agencies_as_in_state(tmp_path: Path) -> None:
    illinois = load_settings(write_state_config(tmp_path, "sqlite:///x.db", "illinois.toml"))
    california = load_settings(write_state_config(tmp_path, "sqlite:///x.db", "california.toml"))

    def rules(settings: Settings, text: str) -> set[str]:
        return {m.rule for m in scan(settings.screening, text)}

    isp = "Assisting Illinois State Police with a stolen vehicle, their case 26-1"
    assert "federal_or_out_of_state_proxy" not in rules(illinois, isp)
    assert "federal_or_out_of_state_proxy" in rules(california, isp)
    chp = "Assisting California Highway Patrol with a stolen vehicle, their case 26-1"
    assert "federal_or_out_of_state_proxy" in rules(illinois, chp)
    assert "prohibited_purpose" in rules(illinois, "ICE detainer pickup for the subject")
    assert "prohibited_purpose" in rules(illinois, "locate woman who travelled for an abortion")
    assert "prohibited_purpose" not in rules(illinois, "burglary at the Planned Parenthood clinic")


def test_washington_refuses_immigration_use_virginia_flags_it_as_federal(tmp_path: Path) -> None:
    washington = load_settings(write_state_config(tmp_path, "sqlite:///x.db", "washington.toml"))
    virginia = load_settings(write_state_config(tmp_path, "sqlite:///x.db", "virginia.toml"))
    text = "HSI asked us to locate this vehicle"
    (wa,) = [m for m in scan(washington.screening, text) if m.rule == "prohibited_purpose"]
    assert wa.action == "refuse"
    assert {m.rule for m in scan(virginia.screening, text)} == {"federal_or_out_of_state_proxy"}
    assert re.search("signature not confirmed", washington.jurisdiction.name)
