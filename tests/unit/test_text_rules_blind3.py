"""The classes of miss blind 3 found, generalised: each class is tested with texts of its own
(other agencies, other wordings), never the blind set's strings, next to the hard legitimate
texts of the same words that must stay clean.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from alpr_guard.policy.decisions import ReasonCode
from alpr_guard.policy.screening import SearchFacts, screen_search
from alpr_guard.policy.sharing import AgencyFacts
from alpr_guard.settings import Settings, load_settings
from tests.conftest import REPO

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)
HOME = AgencyFacts("CA0199900", "Demo City PD", "local", "CA", True, None)
FACTS = SearchFacts(
    purpose="criminal_investigation",
    justification="",
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


def decide(settings: Settings, text: str) -> tuple[ReasonCode | None, set[str]]:
    d = screen_search(replace(FACTS, justification=text), settings, NOW)
    return d.reason, {f.rule for f in d.flags}


def assert_clean(settings: Settings, text: str) -> None:
    assert decide(settings, text) == (None, set()), text


# --------------------------------------------------------------------------- status and entry


@pytest.mark.parametrize(
    "text",
    [
        # a vehicle in the same reason is no reason to drop the status words
        "entry without inspection, find the truck",
        "foreign national, vehicle registered to him",
        "visa expired, car seen on Main",
        "final order, plate hits on his SUV",
        "illegally present in the US, locate van",
        # parole programmes by name
        "Chnv parolee, where is the car",
        "humanitarian parole ended, locate",
        "CBP One appointment missed, find him",
    ],
)
def test_status_phrases_are_refused_even_next_to_a_vehicle(settings: Settings, text: str) -> None:
    assert decide(settings, text)[0] == ReasonCode.PROHIBITED_PURPOSE, text


@pytest.mark.parametrize(
    "text",
    [
        "removal of abandoned vehicle, 22669 VC",
        "tow removal order for the van on 3rd",
        "final restraining order served, his car",
    ],
)
def test_removal_of_things_and_family_orders_stay_clean(settings: Settings, text: str) -> None:
    assert_clean(settings, text)


@pytest.mark.parametrize(
    "text",
    ["ICE target, possibly at mother's house", "ICE fugitive, poss staying with cousin"],
)
def test_possibly_is_no_drug_word(settings: Settings, text: str) -> None:
    assert decide(settings, text)[0] == ReasonCode.PROHIBITED_PURPOSE, text


@pytest.mark.parametrize(
    "text", ["poss of ICE, 11377 HS, grey Civic", "ICE (meth) sold from the car, 11378"]
)
def test_ice_the_drug_stays_clean(settings: Settings, text: str) -> None:
    assert_clean(settings, text)


# --------------------------------------------------------------------------- sub-units and acts


@pytest.mark.parametrize(
    "text",
    [
        "Temecula chk pt referral, car turned around",
        "Rainbow ckpt agents want the hits",
        "Campo Sta BPAs asked for plate history",
        "SBPA at El Cajon wants location",
        "I-247D hold, subject released, find him",
        "247 detainer lodged, jail released him",
        "UACs dropped near the canal, find the van",
        "OTMs in a box truck, plate hits",
        "gotaways on the east side, vehicle",
        "fugitive operations unit lead, where does he sleep",
        "worksite raid next week, employee vehicles",
        "I-9 audit at the packing house, worker plates",
        "brdr agent asked for hits",
        "border ptl case",
        "ship them back to Honduras, locate",
        "get him shipped back, address please",
        "300 N Los Angeles St asked for this",
        "880 Front Street office wants the plate",
    ],
)
def test_more_of_the_immigration_domain_is_refused(settings: Settings, text: str) -> None:
    assert decide(settings, text)[0] == ReasonCode.PROHIBITED_PURPOSE, text


@pytest.mark.parametrize(
    "text",
    [
        "suspect got away in a red Civic, 211 PC",
        "suspect fled back to Mexico, warrant for 187",
        "DUI checkpoint on Main, driver fled, 2800.2",
        "BPA-free bottles stolen from warehouse, 459",
        "stolen truck returned back to its owner",
        "front street burglary, 459 PC",
    ],
)
def test_the_same_words_in_police_work_stay_clean(settings: Settings, text: str) -> None:
    assert_clean(settings, text)


# --------------------------------------------------------------------------- care by paraphrase


@pytest.mark.parametrize(
    "text",
    [
        "8 weeks along, drove in from Arizona, locate",
        "second trimester female from Texas, clinic in Fresno",
        "expectant mother crossed from Nevada for an appt",
        "took her to California to get rid of the baby",
        "16 year old taken to Oakland for hormone treatment",
        "came from Utah for her blockers",
        "visited the PP clinic in Van Nuys, plate",
        "car parked outside P. P. on Tuesday",
        "PPFA patient vehicle",
        "plannd parenthood, whose car",
    ],
)
def test_care_described_without_its_name_is_refused(settings: Settings, text: str) -> None:
    assert decide(settings, text)[0] == ReasonCode.PROHIBITED_PURPOSE, text


@pytest.mark.parametrize(
    "text",
    [
        "pregnant woman carjacked at gas station, 215 PC",
        "woman 20 weeks along assaulted by boyfriend, 273.5",
        "missing 16 year old, traveled to LA, at risk",
        "suspect went to clinic for treatment of gunshot wound",
        "see pp 4 of the report, 459 PC",
        "arson at PP clinic, 451 PC, suspect truck",
    ],
)
def test_pregnant_victims_and_crimes_against_clinics_stay_clean(
    settings: Settings, text: str
) -> None:
    assert_clean(settings, text)
