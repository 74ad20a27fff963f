"""Search screening, pure: which reason wins, against the shipped California profile."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from alpr_guard.policy.decisions import ReasonCode
from alpr_guard.policy.screening import SearchFacts, ShareFacts, screen_search, screen_share
from alpr_guard.policy.sharing import AgencyFacts
from alpr_guard.settings import Settings, load_settings
from tests.conftest import REPO

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)
HOME = AgencyFacts("CA0199900", "Demo City PD", "local", "CA", True, None)
ICE = AgencyFacts("VTICE0900", "ICE LESC", "federal", "VT", True, None)
OK = SearchFacts(
    purpose="stolen_vehicle",
    justification="Vehicle reported stolen from Main St lot, report on file",
    case_number="26-004512",
    window_from=NOW - timedelta(days=7),
    window_to=NOW,
    requester=HOME,
    on_behalf_of=None,
    on_behalf_agency=None,
)


@pytest.fixture(scope="module")
def settings() -> Settings:
    return load_settings(REPO / "config" / "alpr_guard.toml")


def reason(settings: Settings, **changes: object) -> ReasonCode | None:
    return screen_search(replace(OK, **changes), settings, NOW).reason  # type: ignore[arg-type]


def test_a_proper_search_is_allowed(settings: Settings) -> None:
    decision = screen_search(OK, settings, NOW)
    assert decision.allowed and decision.reason is None and decision.flags == ()


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"purpose": "immigration_enforcement"}, ReasonCode.PROHIBITED_PURPOSE),
        ({"purpose": "gender_affirming_care_investigation"}, ReasonCode.PROHIBITED_PURPOSE),
        ({"justification": "ICE asked us to find this car"}, ReasonCode.PROHIBITED_PURPOSE),
        ({"justification": "assist I.C.E. with a detainer"}, ReasonCode.PROHIBITED_PURPOSE),
        ({"justification": "had an abortion, search for female"}, ReasonCode.PROHIBITED_PURPOSE),
        ({"purpose": "fishing"}, ReasonCode.UNKNOWN_PURPOSE),
        ({"justification": ""}, ReasonCode.JUSTIFICATION_REQUIRED),
        ({"justification": "?!"}, ReasonCode.JUSTIFICATION_REQUIRED),
        ({"justification": "0042"}, ReasonCode.JUSTIFICATION_REQUIRED),
        ({"window_to": NOW - timedelta(days=8)}, ReasonCode.INVALID_WINDOW),
        ({"window_from": NOW}, ReasonCode.INVALID_WINDOW),
        ({"window_from": NOW - timedelta(days=32)}, ReasonCode.WINDOW_TOO_LONG),
        ({"on_behalf_of": "VTICE0900", "on_behalf_agency": ICE}, ReasonCode.FEDERAL_AGENCY),
        ({"on_behalf_of": "CAZZZ0000"}, ReasonCode.UNKNOWN_AGENCY),
        (
            {"requester": replace(HOME, ori="NV0020000", jurisdiction="NV")},
            ReasonCode.OUT_OF_STATE_AGENCY,
        ),
    ],
)
def test_reason_codes(settings: Settings, changes: dict[str, object], code: ReasonCode) -> None:
    assert reason(settings, **changes) == code


def test_exactly_the_window_limit_is_allowed(settings: Settings) -> None:
    assert reason(settings, window_from=NOW - timedelta(days=31)) is None


def test_prohibited_purpose_is_named_before_anything_else(settings: Settings) -> None:
    assert (
        reason(
            settings,
            purpose="nonsense",
            justification="per HSI",
            window_from=NOW,
            on_behalf_of="VTICE0900",
            on_behalf_agency=ICE,
        )
        == ReasonCode.PROHIBITED_PURPOSE
    )


def test_the_ice_cream_van_is_allowed_and_inv_is_flagged_not_refused(settings: Settings) -> None:
    assert (
        reason(
            settings,
            purpose="criminal_investigation",
            justification="ice cream van broken into overnight",
        )
        is None
    )
    vague = screen_search(replace(OK, justification="inv"), settings, NOW)
    assert vague.allowed
    assert [f.rule for f in vague.flags] == ["vague_justification"]


def test_shares_follow_the_same_purpose_rules(settings: Settings) -> None:
    sheriff = AgencyFacts("CA0190100", "Sheriff", "local", "CA", True, None)
    facts = ShareFacts(
        HOME,
        "CA0190100",
        sheriff,
        "stolen_vehicle",
        "Recovered in their county, transfer of case",
        "26-1",
    )
    assert screen_share(facts, settings, NOW).allowed
    assert (
        screen_share(replace(facts, purpose="immigration_enforcement"), settings, NOW).reason
        == ReasonCode.PROHIBITED_PURPOSE
    )
    assert (
        screen_share(replace(facts, recipient_ori="VTICE0900", recipient=ICE), settings, NOW).reason
        == ReasonCode.FEDERAL_AGENCY
    )
    assert (
        screen_share(replace(facts, justification="-"), settings, NOW).reason
        == ReasonCode.JUSTIFICATION_REQUIRED
    )
    federal_user = AgencyFacts("VTICE0900", "ICE LESC", "federal", "VT", True, None)
    assert (
        screen_share(replace(facts, requester=federal_user), settings, NOW).reason
        == ReasonCode.FEDERAL_AGENCY
    )
