"""Screening paths the California profile never takes: profiles whose sharing rules allow the
party a justification names, and partner agencies searching and sharing within the rules."""

from __future__ import annotations

from dataclasses import replace

import pytest

from alpr_guard.policy.decisions import ReasonCode
from alpr_guard.policy.screening import ShareFacts, screen_search, screen_share
from alpr_guard.policy.sharing import AgencyFacts
from alpr_guard.settings import Settings, load_settings
from tests.conftest import REPO
from tests.unit.test_screening import HOME, NOW, OK

SHERIFF = AgencyFacts("CA0190100", "Sheriff", "local", "CA", True, None)
HIGHWAY_PATROL = AgencyFacts("CA0000HP0", "Highway Patrol", "state", "CA", True, None)


@pytest.fixture(scope="module")
def settings() -> Settings:
    return load_settings(REPO / "config" / "alpr_guard.toml")


def allowing(settings: Settings, **sharing: object) -> Settings:
    return replace(settings, sharing=replace(settings.sharing, **sharing))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "code", "sharing"),
    [
        ("per FBI, locate vehicle", ReasonCode.FEDERAL_AGENCY, {"kind": "federal"}),
        ("repo company asked", ReasonCode.PRIVATE_ENTITY, {"kind": "private"}),
        ("Texas DPS request", ReasonCode.OUT_OF_STATE_AGENCY, {"home_state_only": False}),
    ],
)
def test_a_named_party_the_profile_allows_is_no_refusal(
    settings: Settings, text: str, code: ReasonCode, sharing: dict[str, object]
) -> None:
    facts = replace(OK, justification=text)
    assert screen_search(facts, settings, NOW).reason == code  # California: refused
    if "kind" in sharing:
        profile = allowing(
            settings, allowed_kinds=(*settings.sharing.allowed_kinds, sharing["kind"])
        )
    else:
        profile = allowing(settings, **sharing)
    decision = screen_search(facts, profile, NOW)
    # The text merely names a party this profile may share with: the search goes ahead.
    assert decision.allowed and decision.reason is None, decision


def test_a_partner_agency_may_search_within_the_rules(settings: Settings) -> None:
    decision = screen_search(replace(OK, requester=SHERIFF), settings, NOW)
    assert decision.allowed and decision.reason is None
    unvetted = screen_search(replace(OK, requester=replace(SHERIFF, vetted=False)), settings, NOW)
    assert unvetted.reason == ReasonCode.AGENCY_NOT_VETTED
    assert unvetted.message.startswith("requesting agency: ")


def test_a_partner_agency_may_pass_reads_on_within_the_rules(settings: Settings) -> None:
    facts = ShareFacts(
        SHERIFF,
        HIGHWAY_PATROL.ori,
        HIGHWAY_PATROL,
        "stolen_vehicle",
        "Vehicle reported stolen from Main St lot, report on file",
        "26-004512",
    )
    decision = screen_share(facts, settings, NOW)
    assert decision.allowed and decision.rule == "recipient_allowed"
    federal = replace(SHERIFF, kind="federal")
    refused = screen_share(replace(facts, requester=federal), settings, NOW)
    assert refused.reason == ReasonCode.FEDERAL_AGENCY
    assert refused.message.startswith("requesting agency: ")
    # The operating agency itself passes nothing through decide_recipient as a requester.
    assert screen_share(replace(facts, requester=HOME), settings, NOW).allowed
