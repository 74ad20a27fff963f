"""The classes of miss blind 13 found, generalised: each class is tested with texts of its own
(other places, crimes and wordings), never the blind set's strings, next to the words that must
still refuse or flag.

Hard negatives (false positives on blind 13): the people at a protest, a march, a rally or a
picket line as the victims (a counter-protester punched, the crowd driven into, their cars'
tires slashed), a few words or a sentence away from the gathering's name, and "March" the month
told by the words beside it; a reporter threatened or assaulted a few words before the word; a
custody order broken by taking the child, with the crime a sentence away; how a victim met a
suspect online; where a reporting party's quoted thing was taken from; a federal agent as the
victim of a crime here; an out-of-state car used in a crime; an immigration consultant's scam
told by its promise; a series of crimes at a business's premises.
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
        # the people at a gathering as the victims, and what was done to them
        "suspect shoved two counter-protesters to the ground at the rally and drove off in a blue"
        " Civic",
        "rally goers were pepper sprayed by a man who fled in a red truck, find the truck",
        "driver sped into the crowd at the rally, three marchers hurt, find the car",
        "the marchers' cars had their windows smashed while they were at the capitol, suspect van",
        "a delivery truck swerved through the picket line at the warehouse, one striker injured",
        # a sentence away from the march
        "during the march downtown a man in a white sedan sped up and drove through the crowd",
        # the month, told by the words beside it
        "stolen in March, suspect van on camera",
        "burglaries since early March, gray Civic seen each time",
        "the March 3 burglary suspect car",
        # a reporter as the victim
        "reporter for the local paper was assaulted in the parking lot after the meeting, find the"
        " attacker's car",
        "harassing calls and a threatening note left for a radio journalist, suspect in a Tacoma",
        # a custody order broken by taking the child is the crime
        "custody order was ignored and the father fled with the kids to Modesto, find his truck",
        "child taken by mom in violation of the custody order, locate her car",
        "grandmother took the toddler in violation of the custody order; felony warrant issued by"
        " the court this morning for 278.5",
        # how a victim met a suspect
        "15-year-old runaway believed to be with a 24-year-old man she met on a dating app, locate"
        " his car",
        "robbed at gunpoint by a man she met online when she came to buy his phone, suspect car",
        # a reporting party's words, quoted, and where the thing was taken from
        "victim says 'someone stole my bike out of my garage', 484 report",
        "RP advised 'my truck was taken from my driveway last night', 10851",
        # a federal agent as the victim here
        "victim is an off-duty US Marshal whose pickup was stolen from the gym, 10851",
        "off duty ATF agent robbed at the ATM, our 211, suspect car",
        # an out-of-state car used in a crime
        "Arizona rental used in the smash and grab at the jewelry store, our case",
        "out of state car used to flee the shooting on 5th, find it",
        # an immigration consultant's scam, told by its promise
        "man promised to fix their immigration status for $5,000 and vanished, theft by false"
        " pretenses, find his car",
        "fake immigration consultant took deposits from three families, claimed to expedite their"
        " green cards, find her van",
        # a series of crimes at a business's premises
        "string of copper wire thefts at the body shop over three weekends; video shows a pickup",
        "repeated vandalism at the car dealership lot, windows smashed, requesting reads of the"
        " suspect truck",
    ],
)
def test_hard_negatives_stay_clean(settings: Settings, text: str) -> None:
    assert_clean(settings, text)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        # the scam's words do not veto a search for the agency
        ("promised ICE we would get them the plate location", ReasonCode.PROHIBITED_PURPOSE),
        ("check his immigration papers for ICE", ReasonCode.PROHIBITED_PURPOSE),
        # a store following a shoplifter is still the store's own pursuit
        (
            "walmart asset protection wants to know where the shoplifter's car goes",
            ReasonCode.PRIVATE_ENTITY,
        ),
        (
            "car dealership wants to know where the buyer who stopped paying parks",
            ReasonCode.PRIVATE_ENTITY,
        ),
        ("FBI agent at the field office wants this plate run", ReasonCode.FEDERAL_AGENCY),
    ],
)
def test_the_same_words_still_refuse(settings: Settings, text: str, reason: ReasonCode) -> None:
    assert decide(settings, text)[0] == reason, text


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("need plates of everyone at the counter-protest rally", "protected_activity"),
        ("list the cars of the marchers at the union march", "protected_activity"),
        ("people in the march to city hall, run their cars", "protected_activity"),
        ("identify the marchers' cars from the union march", "protected_activity"),
        (
            "we have a journalist who keeps writing about the chief, find her car",
            "protected_activity",
        ),
        ("custody dispute, dad keeps kid past his weekend, no order violated", "non_criminal_use"),
        (
            "mom says the custody order gives him weekends, find where he takes them",
            "non_criminal_use",
        ),
        ("girl I met online, want to see if she's legit", "personal_use"),
        ("my tinder date last night, check if she's married", "personal_use"),
        ("my car was stolen from my driveway, run the plate for me", "personal_use"),
        ("wife said the same car followed her home to my house twice, who is it", "personal_use"),
        ("out of state plates hanging around the neighborhood, suspicious", "profiling"),
        ("FBI mentioned the off-ramp car in a briefing", "federal_or_out_of_state_proxy"),
    ],
)
def test_the_same_places_still_flag(settings: Settings, text: str, rule: str) -> None:
    assert rule in decide(settings, text)[1], text
