"""Search screening, pure: which reason wins, against the shipped California profile."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from alpr_guard.policy.decisions import ReasonCode
from alpr_guard.policy.screening import ShareFacts, screen_search, screen_share
from alpr_guard.policy.sharing import AgencyFacts
from alpr_guard.settings import Settings, load_settings
from tests.conftest import REPO
from tests.unit.screening_cases import FACTS, HOME, NOW

ICE = AgencyFacts("VTICE0900", "ICE LESC", "federal", "VT", True, None)
OK = replace(
    FACTS,
    purpose="stolen_vehicle",
    justification="Vehicle reported stolen from Main St lot, report on file",
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


# --------------------------------------------------------------------------- who the text says


@pytest.mark.parametrize(
    "text",
    [
        "I-C-E",
        "lCE",
        "HSl",
        "BP",
        "customs",
        "Immigrations & Customs",
        "removal case",
        "alien",
        "foreign national, no status",
        "federal partner request re: removal",
        "went to planned parenthood",
        "female traveled to CA for procedure",
        "pregnant female left Texas",
    ],
)
def test_the_reported_variants_are_refused_as_prohibited(settings: Settings, text: str) -> None:
    decision = screen_search(
        replace(OK, purpose="criminal_investigation", justification=text), settings, NOW
    )
    assert decision.reason == ReasonCode.PROHIBITED_PURPOSE, (text, decision)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("per FBI", ReasonCode.FEDERAL_AGENCY),
        ("at the request of US Marshals", ReasonCode.FEDERAL_AGENCY),
        ("FBI task force request", ReasonCode.FEDERAL_AGENCY),
        ("Texas DPS request", ReasonCode.OUT_OF_STATE_AGENCY),
        ("for Arizona DPS", ReasonCode.OUT_OF_STATE_AGENCY),
        ("repo company asked", ReasonCode.PRIVATE_ENTITY),
        ("for the bail bondsman", ReasonCode.PRIVATE_ENTITY),
    ],
)
def test_a_justification_naming_who_the_search_is_for_gets_the_on_behalf_of_code(
    settings: Settings, text: str, code: ReasonCode
) -> None:
    decision = screen_search(replace(OK, justification=text), settings, NOW)
    assert decision.reason == code, (text, decision)
    assert decision.rule == "federal_or_out_of_state_proxy" and decision.matched
    # the same code an on_behalf_of naming such an agency gets
    assert code.status == 403


def test_a_justification_only_mentioning_a_federal_agency_is_flagged(settings: Settings) -> None:
    for text in (
        "FBI also investigating, our robbery case 26-1",
        "joint task force with FBI, our homicide",
    ):
        decision = screen_search(replace(OK, justification=text), settings, NOW)
        assert decision.allowed, (text, decision)
        assert "federal_or_out_of_state_proxy" in {f.rule for f in decision.flags}


def test_a_prohibited_purpose_wins_and_the_beneficiary_rides_along(settings: Settings) -> None:
    decision = screen_search(
        replace(OK, justification="Texas AG request re: trans care"), settings, NOW
    )
    assert decision.reason == ReasonCode.PROHIBITED_PURPOSE
    assert "federal_or_out_of_state_proxy" in {f.rule for f in decision.flags}
    unknown = screen_search(replace(OK, purpose="fishing", justification="per FBI"), settings, NOW)
    assert unknown.reason == ReasonCode.UNKNOWN_PURPOSE
    assert "federal_or_out_of_state_proxy" in {f.rule for f in unknown.flags}


def test_a_declared_in_state_agency_does_not_excuse_a_text_naming_the_fbi(
    settings: Settings,
) -> None:
    sheriff = AgencyFacts("CA0190100", "Sheriff", "local", "CA", True, None)
    decision = screen_search(
        replace(
            OK,
            justification="per FBI, locate vehicle",
            on_behalf_of="CA0190100",
            on_behalf_agency=sheriff,
        ),
        settings,
        NOW,
    )
    assert decision.reason == ReasonCode.FEDERAL_AGENCY


def test_shares_are_refused_when_the_text_names_a_forbidden_party(settings: Settings) -> None:
    sheriff = AgencyFacts("CA0190100", "Sheriff", "local", "CA", True, None)
    facts = ShareFacts(HOME, "CA0190100", sheriff, "stolen_vehicle", "for the DEA", "26-1")
    assert screen_share(facts, settings, NOW).reason == ReasonCode.FEDERAL_AGENCY


def test_an_attested_out_of_state_agency_declared_may_be_named_in_the_text(
    settings: Settings,
) -> None:
    # A profile that accepts out-of-state agencies with an attestation (the Illinois-style one)
    # checks the attestation of the agency declared in on_behalf_of; the text naming an
    # out-of-state agency is then that agency. Undeclared, nobody's attestation can be checked.
    attested = replace(
        settings, sharing=replace(settings.sharing, allow_out_of_state_with_attestation=True)
    )
    washoe = AgencyFacts("NV0020000", "Washoe", "local", "NV", True, NOW + timedelta(days=30))
    text = replace(OK, justification="Nevada sheriff request, armed robbery suspect")
    declared = replace(text, on_behalf_of="NV0020000", on_behalf_agency=washoe)
    assert screen_search(declared, attested, NOW).allowed
    assert screen_search(text, attested, NOW).reason == ReasonCode.OUT_OF_STATE_AGENCY
    # California: refused either way (the declared agency first)
    assert screen_search(declared, settings, NOW).reason == ReasonCode.OUT_OF_STATE_AGENCY
    assert screen_search(text, settings, NOW).reason == ReasonCode.OUT_OF_STATE_AGENCY
