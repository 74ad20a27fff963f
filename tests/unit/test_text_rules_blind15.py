"""The classes of miss blind 15 found, generalised: each class is tested with texts of its own
(other places, crimes, agencies and wordings), never the blind set's strings, next to the words
that must still stay clean.

Refused as a proxy (blind 15 misses): a federal party by its people or what it runs (Treasury's
and the Air Force's criminal investigators, the FBI by its raid jackets, its academy, its Los
Angeles field office by where it is, a federal grand jury's case agent, the federal courthouse in
Los Angeles; the FBI in Korean and Russian); an officer of another state named by their city's
police, their precinct or agency in a town, "state troopers", the area code of the number they
gave, a warrant "out of" their state with us only assisting, their extradition file, or a
county's sheriff in Portuguese; their people and desks, what they will do once given the results
("they'll pick it up if we give them a location"), the results to go back to them; private parties
by role or trade (a mall's or card room's security people, a buy-here-pay-here lot, a rental car
company, a school's admissions office; a landlord in Haitian Creole and Chinese, a recovery or
insurance company in Arabic and Portuguese, an owner's company in Hindi), the results sent to
someone's employer, and a private person (an ex, an estranged spouse's friend) asking where
someone parks or lives.
"""

from __future__ import annotations

import pytest

from alpr_guard.policy.decisions import ReasonCode
from alpr_guard.settings import Settings, load_settings
from tests.unit.screening_cases import CONFIG, assert_clean, decide


@pytest.fixture(scope="module")
def settings() -> Settings:
    return load_settings(CONFIG)


@pytest.mark.parametrize(
    "text",
    [
        # an area code that is a Penal Code section or the suspect's number, a private person
        # asking as the stalking a victim reports, a party that is the victim or reports a crime
        "victim's ex-husband is the suspect; she says he keeps asking where she parks, stalking"
        " case",
        "suspect called the victim from a 702 number, threats, our case",
        "602 PC trespass at the warehouse, suspect in a white Ford, our case",
        "503 PC embezzlement by the store clerk, her car seen on video",
        "mall security guard reported a car break-in in the north lot, suspect on video",
        "used car lot burglarized overnight, two cars stolen, our report",
        "our detective in Seattle for training called, our case, run the Camry",
        "Treasury check fraud at the bank, suspect cashed stolen checks, our case",
        "the Roybal courthouse clerk reported her car stolen from the lot, our case",
        "HR at the hospital reported a nurse's car stolen from the staff lot, our case",
    ],
)
def test_hard_negatives_stay_clean(settings: Settings, text: str) -> None:
    assert_clean(settings, text)


@pytest.mark.parametrize(
    "text",
    [
        # another state's agency or warrant told about our own case: mentioned, not refused
        "suspect fled to Phoenix, Phoenix PD said he was seen there, our warrant",
        "warrant out of Texas confirmed through NCIC, he is in custody here",
    ],
)
def test_another_state_named_in_our_own_case_is_not_refused(settings: Settings, text: str) -> None:
    reason, flags = decide(settings, text)
    assert reason is None and flags == {"federal_or_out_of_state_proxy"}, text


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (
            "IRS criminal investigation agents need the owner's travel for the tax case",
            ReasonCode.FEDERAL_AGENCY,
        ),
        (
            "Treasury special agents asked for a month of hits on the contractor's van",
            ReasonCode.FEDERAL_AGENCY,
        ),
        (
            "so the guys in the raid jackets with the big yellow letters can grab him on their"
            " warrant",
            ReasonCode.FEDERAL_AGENCY,
        ),
        ("send the hits to Quantico, their lab wants them", ReasonCode.FEDERAL_AGENCY),
        (
            "Air Force OSI special agent wants the reads on the sergeant's Tacoma pickup, their"
            " case",
            ReasonCode.FEDERAL_AGENCY,
        ),
        (
            "special agent from the Wilshire field office asked us to pull it",
            ReasonCode.FEDERAL_AGENCY,
        ),
        (
            "federal grand jury subpoena coming; the case agent needs the locations first",
            ReasonCode.FEDERAL_AGENCY,
        ),
        (
            "the marshal's deputy from the Roybal courthouse will pick up the results tonight",
            ReasonCode.FEDERAL_AGENCY,
        ),
        (
            "callback 503-555-0199, the detective there wants anything we get",
            ReasonCode.OUT_OF_STATE_AGENCY,
        ),
        (
            "call the sergeant back at the 602 number with whatever comes back",
            ReasonCode.OUT_OF_STATE_AGENCY,
        ),
        (
            "Caller with a 907 area code says he's a trooper, wants every hit this month",
            ReasonCode.OUT_OF_STATE_AGENCY,
        ),
        (
            "208 detective asking for reads, his burglary case up there",
            ReasonCode.OUT_OF_STATE_AGENCY,
        ),
        (
            "Phoenix PD asked for the hits, their carjacking suspect drove west",
            ReasonCode.OUT_OF_STATE_AGENCY,
        ),
        ("Metro over in Reno wants it, their robbery", ReasonCode.OUT_OF_STATE_AGENCY),
        (
            "the precinct in the Bronx emailed, their homicide suspect may be here",
            ReasonCode.OUT_OF_STATE_AGENCY,
        ),
        ("Idaho State Troopers requested reads on the truck", ReasonCode.OUT_OF_STATE_AGENCY),
        (
            "Denver detective says their fugitive is in the area, run it and email him",
            ReasonCode.OUT_OF_STATE_AGENCY,
        ),
        (
            "requested by an analyst with the Oregon DA, results to him",
            ReasonCode.OUT_OF_STATE_AGENCY,
        ),
        (
            "warrant out of Texas, we are just assisting; send hits to their warrants desk",
            ReasonCode.OUT_OF_STATE_AGENCY,
        ),
        ("need it for the extradition paperwork from Nevada", ReasonCode.OUT_OF_STATE_AGENCY),
        (
            "A pedido do xerife do condado de Washoe: localizar o carro",
            ReasonCode.OUT_OF_STATE_AGENCY,
        ),
        (
            "Store security manager asked for reads for their internal shrink investigation",
            ReasonCode.PRIVATE_ENTITY,
        ),
        (
            "cardroom security wants to know where the banned player lives",
            ReasonCode.PRIVATE_ENTITY,
        ),
        (
            "used car lot called, their tracker stopped reporting, asked if we can find it",
            ReasonCode.PRIVATE_ENTITY,
        ),
        (
            "car rental agency's recovery crew: overdue car, they'll come get it if we give them"
            " the location",
            ReasonCode.PRIVATE_ENTITY,
        ),
        (
            "school admissions office asked us to confirm the family's address in district",
            ReasonCode.PRIVATE_ENTITY,
        ),
        ("Met kay la mande kote machin lokatè a ye", ReasonCode.PRIVATE_ENTITY),
        ("طلب من شركة التأمين: موقع السيارة", ReasonCode.PRIVATE_ENTITY),
        ("A pedido da seguradora, onde o carro dorme", ReasonCode.PRIVATE_ENTITY),
        ("보험회사 요청으로 차량 위치 조회", ReasonCode.PRIVATE_ENTITY),
        ("по запросу ФБР, все данные", ReasonCode.FEDERAL_AGENCY),
        ("业主要求查这辆车", ReasonCode.PRIVATE_ENTITY),
        ("boss ne kaha, driver ki gaadi check karo", ReasonCode.PRIVATE_ENTITY),
        (
            "send the results to his employer, they want to check his route",
            ReasonCode.PRIVATE_ENTITY,
        ),
        (
            "her ex-husband showed up at the lobby asking where she is staying now",
            ReasonCode.PRIVATE_ENTITY,
        ),
        (
            "estranged wife (civilian) asked where he's been parking, for the custody case",
            ReasonCode.PRIVATE_ENTITY,
        ),
    ],
)
def test_the_classes_refuse(settings: Settings, text: str, reason: ReasonCode) -> None:
    assert decide(settings, text)[0] is reason, text
