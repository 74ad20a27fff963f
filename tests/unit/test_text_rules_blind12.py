"""The classes of miss blind 12 found, generalised: each class is tested with texts of its own
(other agencies, places, crimes and wordings), never the blind set's strings, next to the words
that must still refuse or flag.

Refused (blind 12 misses): status and removal in plain words (not supposed to be here, without
status, a status that lapsed, "removable", "inadmissible", the next flight back, "no tiene
estatus"); terminations as someone's work, a pregnancy said to have ended, hormones for a minor;
a federal, private or out-of-state party and its asking with the routine story between them.
A job terminated, steroids sold at a gym, a statement ruled inadmissible, a party that is the
victim or only reports, and another state's plates stay clean.

Flagged (blind 12 misses): reasons that say nothing ("saw it", "see attached", "details to
follow", a fishing expedition); a city's, a county's or a court's administrative work (a school
district's residency question, a traffic study, an administrative citation, an HR matter over a
city car, jurors, a rent board, a registrar, a neighbour to be asked nicely); yelling at an
official at a meeting; "AA males".

Hard negatives (false positives on blind 12): a place of worship, a union hall, a rally or a
sticker as where a crime happened a few words away (arson, a car keyed, a pedestrian struck, a
hit and run typed with "&"), a car driven into the crowd or one suspect who fled from it, a child
lost there or an adult with dementia last seen there; an immigration agency's officer, employee
or contractor, or their family, as the victim (off duty, carjacked, "whose car was stolen"); a
car crashed into a clinic; a federal agency said to have no part in it, or impersonated a few
words away; the word "alien" quoted from a description.
"""

from __future__ import annotations

import pytest

from alpr_guard.policy.decisions import ReasonCode
from alpr_guard.settings import Settings
from tests.unit.screening_cases import assert_clean, decide


@pytest.mark.parametrize(
    "text",
    [
        # a crime at a place of worship, a hall or a gathering, a few words away
        "fire set overnight behind the Lutheran church lot, two parked cars burned, 451 PC",
        "someone keyed the car with the Pride sticker outside the cafe, suspect car on camera",
        "cyclist struck by a van near the teachers union office, driver fled, need the van",
        "hit & run in the synagogue lot, a member's parked car smashed, find the other car",
        "pickup drove into the crowd at the demonstration downtown, find the pickup, 245",
        "man stabbed at the vigil last night, suspect fled in a black Charger, our case",
        # a person lost or missing, last seen at the place or the gathering
        "boy separated from his mom at the rally, find her car so we can reunite them",
        "woman with Alzheimer's left the temple after services and has not come home, her Camry",
        # an immigration agency's people or their family as the victim
        "off-duty HSI agent had his motorcycle stolen from the gym, 10851, our report",
        "victim is a USCIS employee robbed at the ATM on 3rd, our 211, suspect car",
        "carjacking of a CBP officer's teenage son at a gas station, our case, find the car",
        "victim was a DHS contractor whose truck was broken into at the mall, 459, suspect car",
        # a car crashed into a clinic
        "drunk driver slammed into the abortion clinic's gate and fled, find the car",
        "car plowed into the Planned Parenthood sign overnight, hit and run, our report",
        # a federal agency with no part in it, or impersonated
        "our arson case, not ATF, suspect car seen leaving the warehouse",
        "extortion calls, the Secret Service is not involved, our case, find the caller's car",
        "callers pretending to be with the DEA took her savings, our elder fraud case",
        # the word quoted from a description
        "the word 'alien' is written on the suspect's hoodie in the video, 211 suspect",
        # a party next to its own crime or our case, a statement ruled out, a job terminated
        "Nevada plates on the stolen truck, the owner wants it back, 10851",
        "victim from Arizona was robbed at the rest stop, she wants the suspect found, 211",
        "the landlord's truck was stolen from his lot, he wants it found, 10851",
        "his confession was ruled inadmissible, our 211 case goes on, suspect car",
        "employee terminations at the plant led to threats, suspect car on camera, 422",
        "gym owner selling testosterone to teens, 11350, find his car",
        # the same words next to a crime
        "AA male suspect in the 211, fled in a grey Altima",
        "Nevada County deputies asked for our report on the crash, send them a copy",
        "HR investigation found the clerk embezzled funds, 503 PC, find her car",
    ],
)
def test_hard_negatives_stay_clean(settings: Settings, text: str) -> None:
    assert_clean(settings, text)


@pytest.mark.parametrize(
    "text",
    [
        # a party that only holds the suspect, or that is the victim, is mentioned (at most a flag
        # for the review), not who the search is for
        "FBI took the bank robbery suspect into custody, our detective wants the getaway car",
        "bail bondsman reported his own car stolen, wants it found, our report",
        "DEA agent had his truck stolen from the gym, he wants it back, 10851",
    ],
)
def test_a_party_mentioned_is_not_refused(settings: Settings, text: str) -> None:
    assert decide(settings, text)[0] is None, text


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        # the same agencies, when the search serves them, still refuse
        ("ICE wants the victim's husband located, run the plate", ReasonCode.PROHIBITED_PURPOSE),
        ("HSI agent asked where the off-ramp car goes at night", ReasonCode.PROHIBITED_PURPOSE),
        (
            "her abortion was at the clinic on Elm, family in Texas wants to know",
            ReasonCode.PROHIBITED_PURPOSE,
        ),
        ("alien in the back seat, no papers, find the car", ReasonCode.PROHIBITED_PURPOSE),
        # (blind 12 misses) status and removal in plain words, buried in routine text
        (
            "neighbours say the whole family is not supposed to be here, find the minivan",
            ReasonCode.PROHIBITED_PURPOSE,
        ),
        (
            "workers w/o status at the car wash, where does the owner park",
            ReasonCode.PROHIBITED_PURPOSE,
        ),
        ("her DACA status lapsed last spring, locate her car", ReasonCode.PROHIBITED_PURPOSE),
        (
            "get him on the next bus back to Honduras, where is he staying",
            ReasonCode.PROHIBITED_PURPOSE,
        ),
        (
            "subject flagged removable at the port, need his last reads",
            ReasonCode.PROHIBITED_PURPOSE,
        ),
        ("el dueno no tiene papeles, necesitamos la ubicacion", ReasonCode.PROHIBITED_PURPOSE),
        # care by the medicine, the work or the pregnancy said the other way round
        (
            "the nurse practitioner who provides terminations at the clinic, where does she live",
            ReasonCode.PROHIBITED_PURPOSE,
        ),
        (
            "kid is 14 and on testosterone, his aunt wants to know where he goes",
            ReasonCode.PROHIBITED_PURPOSE,
        ),
        (
            "her pregnancy was terminated in August per her sister, was the car near the clinic",
            ReasonCode.PROHIBITED_PURPOSE,
        ),
        # a federal, private or out-of-state party, then its asking, with the story between
        (
            "ATF agent working a straw purchase thing out of Reno wants to see this truck's trips",
            ReasonCode.FEDERAL_AGENCY,
        ),
        ("need reads so the feds can pick her up before the weekend", ReasonCode.FEDERAL_AGENCY),
        (
            "bail bondsman from Main St called, his client missed court, he wants the car's spot",
            ReasonCode.PRIVATE_ENTITY,
        ),
        (
            "the property management company says the tenant is behind, they want to know where"
            " he parks",
            ReasonCode.PRIVATE_ENTITY,
        ),
        (
            "Utah narcotics detectives, no California case, asked for this car's history",
            ReasonCode.OUT_OF_STATE_AGENCY,
        ),
        (
            "for the Oregon state investigator from training, he's looking for his suspect here",
            ReasonCode.OUT_OF_STATE_AGENCY,
        ),
        ("the grower turned her in to the feds, locate the car", ReasonCode.PROHIBITED_PURPOSE),
        ("the tow lot contractor (private) wants the owners' addresses", ReasonCode.PRIVATE_ENTITY),
    ],
)
def test_the_same_words_still_refuse(settings: Settings, text: str, reason: ReasonCode) -> None:
    assert decide(settings, text)[0] == reason, text


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("who parks at the church on Sunday, list the plates", "protected_activity"),
        ("plates of everyone at the rally on Saturday", "protected_activity"),
        ("FBI mentioned this car in a briefing", "federal_or_out_of_state_proxy"),
        # (blind 12 misses) reasons that say nothing: something seen, a paper elsewhere, fishing
        ("saw it earlier", "vague_justification"),
        ("see attachment", "vague_justification"),
        ("details to follow", "vague_justification"),
        ("a fishing expedition on this one", "vague_justification"),
        # administrative work of a city, a county or a court
        ("pupil address check for the school district", "non_criminal_use"),
        ("traffic calming study on Elm, count the cars", "non_criminal_use"),
        ("parks worker driving the city truck home, HR issue", "non_criminal_use"),
        ("the rent board asks whether the landlord lives in the unit", "non_criminal_use"),
        ("jury commissioner needs a current address for a no-show juror", "non_criminal_use"),
        ("barking dog calls, want the owner so we can ask politely", "non_criminal_use"),
        # speech at a meeting; people by a group
        ("who was yelling at the mayor at the meeting, run the lot", "protected_activity"),
        ("two AA men in a Camry by the park, run it", "profiling"),
    ],
)
def test_the_same_places_still_flag(settings: Settings, text: str, rule: str) -> None:
    assert rule in decide(settings, text)[1], text
