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


def _policy_text(backend: Backend, tmp_path: Path, clock: FixedClock, profile: str) -> str:
    """The usage and privacy policy a deployment on ``profile`` publishes (Markdown)."""
    where = tmp_path / f"render-{profile}"
    where.mkdir(parents=True, exist_ok=True)
    rt = _runtime(backend, where, profile, clock)
    try:
        with rt.sessions() as session:
            return render_policy(build_policy(session, rt), "md").decode().replace("\\", "")
    finally:
        rt.dispose()


def _only_in(state: str, california: str, wanted: str) -> None:
    assert wanted in state and wanted not in california, wanted


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
    # ... and the published policy says so.
    days = STATES[profile][2]
    _only_in(
        _policy_text(backend, tmp_path, clock, profile),
        _policy_text(backend, tmp_path, clock, "california.toml"),
        f"| Reads that matched no hot list | {days} day{'s' if days > 1 else ''} |",
    )


def test_minnesota_keeps_hits_60_days_where_california_keeps_them_365(
    backend: Backend, tmp_path: Path, clock: FixedClock
) -> None:
    age = timedelta(days=100)
    assert _found(backend, tmp_path, clock, "minnesota.toml", age=age, hit=True) == 0
    assert _found(backend, tmp_path, clock, "california.toml", age=age, hit=True) == 1
    minnesota = _policy_text(backend, tmp_path, clock, "minnesota.toml")
    california = _policy_text(backend, tmp_path, clock, "california.toml")
    _only_in(minnesota, california, "| Reads that matched a hot list | 60 days | 60 days |")
    _only_in(california, minnesota, "| Reads that matched a hot list | 365 days | 730 days |")


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
    # The published policy states the declaration rule, and names the agency it makes eligible.
    illinois = _policy_text(backend, tmp_path, clock, "illinois.toml")
    california = _policy_text(backend, tmp_path, clock, "california.toml")
    _only_in(
        illinois,
        california,
        "An agency outside Illinois may receive data only while a signed written declaration",
    )
    eligible = re.compile(r"eligible today under the registry: ([^.]*)\.")
    il_match, ca_match = eligible.search(illinois), eligible.search(california)
    assert il_match is not None and ca_match is not None
    assert "Agency NV0020000" in il_match.group(1)
    assert "Agency NV0020000" not in ca_match.group(1)
    assert "VTICE0900" not in il_match.group(1)  # federal: never


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


def _search_status(
    backend: Backend, tmp_path: Path, clock: FixedClock, profile: str, purpose: str
) -> tuple[int, str | None]:
    """A justified search for ``purpose`` under ``profile``: (status, error code)."""
    clock.set(NOW)
    where = tmp_path / f"search-{profile}"
    where.mkdir(parents=True, exist_ok=True)
    rt, client, tokens = _engine(backend, where, clock, profile)
    try:
        body = {
            "plate": "7ABC123",
            "from": (NOW - timedelta(days=2)).isoformat(),
            "to": NOW.isoformat(),
            "purpose": purpose,
            "justification": "Vehicle seen leaving the burglary on Elm Street, witness statement",
            "case_number": "26-004512",
        }
        response = client.post("/api/v1/searches", json=body, headers=auth(tokens["officer"]))
        error = (response.get_json() or {}).get("error") or {}
        return response.status_code, error.get("code")
    finally:
        rt.dispose()


@pytest.mark.parametrize(
    ("profile", "purpose", "own_purpose"),
    [
        # Virginia's three uses: California's AMBER alert purpose is not one of them.
        ("virginia.toml", "amber_alert", "warrant_or_stolen_alert"),
        # Washington: felonies and gross misdemeanours, not any criminal investigation.
        ("washington.toml", "criminal_investigation", "felony_investigation"),
        # New Hampshire's listed purposes: no general criminal investigation.
        ("new-hampshire.toml", "criminal_investigation", "stolen_vehicle"),
    ],
)
def test_a_purpose_california_allows_is_refused_where_the_statute_lists_fewer(
    profile: str,
    purpose: str,
    own_purpose: str,
    backend: Backend,
    tmp_path: Path,
    clock: FixedClock,
) -> None:
    assert _search_status(backend, tmp_path, clock, profile, purpose) == (422, "unknown_purpose")
    assert _search_status(backend, tmp_path, clock, "california.toml", purpose) == (200, None)
    assert _search_status(backend, tmp_path, clock, profile, own_purpose) == (200, None)
    # The published policy lists the state's purposes, and only those.
    state = _policy_text(backend, tmp_path, clock, profile)
    california = _policy_text(backend, tmp_path, clock, "california.toml")
    _only_in(california, state, f"| {purpose} |")
    if own_purpose not in california:
        _only_in(state, california, f"| {own_purpose} |")
    _only_in(state, california, "These are the only purposes")


CLOSED = ("virginia.toml", "washington.toml", "new-hampshire.toml")


@pytest.mark.parametrize("profile", sorted(STATES))
def test_a_deployment_cannot_add_a_purpose_where_the_statute_lists_them(
    profile: str, tmp_path: Path
) -> None:
    added = '[purposes.general_patrol]\ndescription = "Routine patrol checks"\n'
    config = write_state_config(tmp_path, "sqlite:///x.db", profile, added)
    if profile in CLOSED:
        with pytest.raises(ConfigError, match=r"purposes\.general_patrol: the statute lists"):
            load_settings(config)
        # A new prohibited purpose only narrows the law: allowed.
        narrower = (
            '[purposes.protest_monitoring]\ndescription = "Monitoring protests"\n'
            "prohibited = true\n"
        )
        narrowed = load_settings(write_state_config(tmp_path, "sqlite:///x.db", profile, narrower))
        assert narrowed.purpose("protest_monitoring") is not None
    else:
        assert load_settings(config).purpose("general_patrol") is not None


@pytest.mark.parametrize("profile", sorted(STATES))
@pytest.mark.parametrize(
    ("loosening", "field"),
    [
        ('[sharing]\nallowed_kinds = ["state", "local", "federal"]', "sharing.allowed_kinds"),
        ("[sharing]\nhome_state_only = false", "sharing.home_state_only"),
        ("[sharing]\nrequire_vetted = false", "sharing.require_vetted"),
        ('[jurisdiction]\nstatute = "none"', "jurisdiction"),
        ("[retention.hit]\nmax_days = 36500", "retention.hit.max_days"),
    ],
)
def test_a_deployment_cannot_loosen_the_profiles_law(
    profile: str, loosening: str, field: str, tmp_path: Path
) -> None:
    """Each profile's limits are enforced at load: a config that widens sharing, replaces the
    statute or raises a legal maximum is refused with an error naming the field."""
    with pytest.raises(ConfigError, match=re.escape(field)):
        load_settings(write_state_config(tmp_path, "sqlite:///x.db", profile, loosening))


@pytest.mark.parametrize("profile", ["washington.toml", "illinois.toml"])
def test_a_prohibited_purpose_stays_prohibited(profile: str, tmp_path: Path) -> None:
    unprohibit = "[purposes.immigration_enforcement]\nprohibited = false\n"
    with pytest.raises(ConfigError, match=r"purposes\.immigration_enforcement\.prohibited"):
        load_settings(write_state_config(tmp_path, "sqlite:///x.db", profile, unprohibit))


@pytest.mark.parametrize("profile", sorted(STATES))
def test_every_profile_cites_its_statute_in_the_file_and_in_the_rendered_policy(
    profile: str, backend: Backend, tmp_path: Path, clock: FixedClock
) -> None:
    _home, statute, _days = STATES[profile]
    text = (REPO / "config" / profile).read_text()
    header = text[: text.index("[jurisdiction]")]
    # The file says which law it encodes, first ("Oregon SB 1516" is "SB 1516" there).
    assert statute.removeprefix("Oregon ").removeprefix("Washington ") in header
    assert "not legal advice" in header
    rendered = _policy_text(backend, tmp_path, clock, profile)
    assert f"Adopted under {statute}" in rendered
    # Each purpose the state's statute authorises cites it in the published table.
    settings = load_settings(write_state_config(tmp_path, "sqlite:///x.db", profile))
    for purpose in settings.purposes:
        if purpose.statute != "-":
            assert purpose.statute in rendered, purpose.code


@pytest.mark.parametrize("profile", sorted(STATES))
def test_sharing_follows_the_profiles_home_state_in_behaviour_and_in_the_policy(
    profile: str, backend: Backend, tmp_path: Path, clock: FixedClock
) -> None:
    """Switching the profile moves the sharing boundary with no code change: a vetted local
    agency of the profile's state may receive reads, a California one may not, and the
    published policy names the one and not the other."""
    home = STATES[profile][0]
    clock.set(NOW)
    where = tmp_path / "share"
    where.mkdir(parents=True, exist_ok=True)
    rt, client, tokens = _engine(backend, where, clock, profile)
    try:
        with rt.sessions.begin() as session:
            for ori, state in ((f"{home}0190100", home), ("CA0190100", "CA")):
                upsert_agency(
                    session,
                    rt,
                    AgencyInput(ori, f"{state} County Sheriff", "local", state, True, None),
                    SYSTEM,
                )
        posted = client.post(
            "/api/v1/reads",
            json={
                "reads": [
                    {
                        "plate": "7ABC123",
                        "observed_at": (NOW - timedelta(hours=6)).isoformat(),
                        "camera_id": "cam-1",
                    }
                ]
            },
            headers=auth(tokens["ingest"]),
        )
        assert posted.status_code == 201, posted.get_json()
        purpose = next(p.code for p in rt.settings.purposes if not p.prohibited)
        share = {
            "read_ids": posted.get_json()["ids"],
            "purpose": purpose,
            "justification": "Vehicle seen leaving the burglary on Elm Street, their case",
            "case_number": "26-004512",
        }
        supervisor = auth(tokens["supervisor"])
        in_state = client.post(
            "/api/v1/shares", json={**share, "recipient": f"{home}0190100"}, headers=supervisor
        )
        california = client.post(
            "/api/v1/shares", json={**share, "recipient": "CA0190100"}, headers=supervisor
        )
        with rt.sessions() as session:
            text = render_policy(build_policy(session, rt), "md").decode().replace("\\", "")
    finally:
        rt.dispose()
    assert in_state.status_code == 201, in_state.get_json()
    assert california.status_code == 403
    assert california.get_json()["error"]["code"] == "out_of_state_agency"
    eligible = re.search(r"eligible today under the registry: ([^.]*)\.", text)
    assert eligible is not None
    assert f"{home} County Sheriff" in eligible.group(1)
    assert "CA County Sheriff" not in eligible.group(1)
    assert f"local agencies in {rt.settings.jurisdiction.name}, listed in the agency" in text
