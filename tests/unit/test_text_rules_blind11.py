"""The classes of miss blind 11 found, generalised: each class is tested with texts of its own
(other agencies, places, causes and wordings), never the blind set's strings, next to the words
that must still refuse.

Hard negatives (false positives on blind 11): a cause or a ceremony as where a crime happened or
who its victim is (a naturalization ceremony's parking lot, an immigrant or reproductive rights
fair, volunteer shift or group's van); a victim without papers, slow to report; an immigration or
federal agent, or a federal office's own car, as the victim of a crime here; a Toyota Tacoma, a
pickup and not the city in Washington; a protest or yard sign that "was" stolen.

Refused (blind 11 misses): removal to a region of Mexico; "undocu"; a Notice to Appear to be
served; retailers' loss-prevention or asset-protection investigators, private security and a
licensed PI as who asks; another state "helped out"; a Border Patrol sector by its station's
name with uniforms or asking; a detention site wanting its person back; a person or a family
put out of the country; Planned Parenthood cut short; gender dysphoria's clinic or patient; a
person transitioning, with the doctor sought. A traffic NTA, a police beat called a sector and a
child taken abroad against a custody order stay clean.

Flagged (blind 11 misses): a reason that is only a feeling, "awareness", a promise to explain
later or teaching the tool (vague); people named by a group as the reason (occupants said to be
of one, "male" before a plural, a nationality's "nationals" or truckers), a car's look or the
driving itself, a stop to be built (profiling); the Friday prayers, a local editor writing about
us (protected_activity); an old friend, a spouse in Vietnamese (personal_use); a pupil's
residence, a private loan, a lease or repair dispute, custody in Spanish, where a car is garaged
for fees (non_criminal_use).
"""

from __future__ import annotations

import pytest

from alpr_guard.policy.decisions import ReasonCode
from alpr_guard.settings import Settings
from tests.unit.screening_cases import assert_clean, decide


@pytest.mark.parametrize(
    "text",
    [
        # a ceremony or a cause as the place or the victim
        "catalytic converter cut off in the lot during the oath ceremony, 487 PC, suspect car",
        "suspect is a naturalized citizen, hit and run on Main, 20001 VC",
        "window smashed at the refugee rights booth, 594 PC, grey sedan seen leaving",
        "laptop taken during her reproductive justice volunteer shift, 459, suspect vehicle",
        "migrant aid nonprofit's truck stolen overnight, 10851 VC, our report",
        "wallet lifted at the immigrant resources fair downtown, 484 PC, suspect van",
        # the victim's own lack of papers
        "witness does not have status and waited a week to call, suspect car in the 211",
        "victim has no papers, afraid to come in, plate of the car that rammed her, 245",
        # a federal or immigration agent, or an office's own car, as the victim here
        "CBP officer was the victim of a carjacking in our city, our case 26-1188",
        "DEA agent's own truck stolen from his driveway, our 10851",
        "ATF field office reported its own fleet SUV stolen from the garage, our case",
        "the US Marshal's personal car was burglarized at the mall, our 459 report",
        # a Toyota Tacoma is a pickup
        "silver Tacoma seen leaving the burglary, partial plate 7AB",
        "Tacoma pickup with a ladder rack, copper wire theft, 487",
        # a traffic Notice to Appear
        "cited him on an NTA for 22350 VC last week, same car now in a hit and run",
        # a suspect trying to get a child out of the country
        "father trying to get her out of the country against the custody order, 278 PC",
        # a police beat called a sector
        "Chula Vista sector 3 units want the stolen Civic found, 10851, our case",
        # a sign stolen
        "campaign sign was stolen and a window broken, 594, run the car on camera",
    ],
)
def test_hard_negatives_stay_clean(settings: Settings, text: str) -> None:
    assert_clean(settings, text)


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("seems sketchy", "vague_justification"),
        ("looks off, will update later", "vague_justification"),
        ("showing my trainee how the tool works", "vague_justification"),
        ("for situational awareness", "vague_justification"),
        ("who parks at the mosque for jummah, list the plates", "protected_activity"),
        (
            "columnist at the local weekly keeps writing about the chief, where does he go",
            "protected_activity",
        ),
        ("my college buddy from way back, want to reconnect", "personal_use"),
        ("xe cua chong toi, toi muon biet anh ay o dau", "personal_use"),
        (
            "does the student actually live in the district, school wants to know",
            "non_criminal_use",
        ),
        ("he owes my neighbour 500 from a personal loan, find him", "non_criminal_use"),
        ("repair bill dispute with the mechanic, where is the truck", "non_criminal_use"),
        ("custodia de los hijos, el papa no los devuelve a tiempo", "non_criminal_use"),
        ("the riders appeared Hispanic, where has the van been", "profiling"),
        ("two female Somalis at the gas station, run it", "profiling"),
        ("Afghan nationals in a U-Haul, no tip, see travel", "profiling"),
        ("Indian truckers, lots of miles, check the rig", "profiling"),
        ("thug ride parked by the school, run it", "profiling"),
        ("drove too cautiously past the station, need a reason to stop it", "profiling"),
    ],
)
def test_flag_worthy_classes_are_flagged(settings: Settings, text: str, rule: str) -> None:
    assert rule in decide(settings, text)[1], text


@pytest.mark.parametrize(
    "text",
    [
        "suspect described as a Hispanic male, 30s, fled in a blue Civic after the 211",
        "victim is an Indian trucker robbed at the rest stop, suspect car on camera",
        "Chinese restaurant burglarized, 459, suspect van on the cameras",
        "the new officer will advise on the 10851 recovery, case 26-3310",
        "window smashed during Friday prayers at the mosque, 594 PC, suspect car on camera",
        "the reporter's car was stolen outside the newsroom, 10851, our case",
        "loan shark threatened the victim over a personal loan, 422 PC, suspect vehicle",
    ],
)
def test_flag_hard_negatives_stay_clean(settings: Settings, text: str) -> None:
    assert_clean(settings, text)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        # (blind 11 misses) removal to a region of Mexico, "undocu", the NTA to be served
        (
            "they want her sent back to Michoacan, where does she park",
            ReasonCode.PROHIBITED_PURPOSE,
        ),
        ("neighbours say the driver is undocu, run the pickup", ReasonCode.PROHIBITED_PURPOSE),
        (
            "need to serve her the notice to appear, where is the car at night",
            ReasonCode.PROHIBITED_PURPOSE,
        ),
        ("NTA service on the subject, find his job site", ReasonCode.PROHIBITED_PURPOSE),
        # a Border Patrol sector by its station, a detention site wanting its person back
        (
            "green uniforms out of Campo sector asked for the truck's hits",
            ReasonCode.PROHIBITED_PURPOSE,
        ),
        ("Otay Mesa wants her back, where is she staying", ReasonCode.PROHIBITED_PURPOSE),
        ("kick the whole family out of the country, find the SUV", ReasonCode.PROHIBITED_PURPOSE),
        # care: Planned Parenthood cut short, the diagnosis, a person transitioning and the doctor
        (
            "went to the Planned P on Main last month, her father wants to know",
            ReasonCode.PROHIBITED_PURPOSE,
        ),
        (
            "gender dysphoria patient, relatives in Idaho want her found",
            ReasonCode.PROHIBITED_PURPOSE,
        ),
        (
            "his daughter is transitioning, dad wants the doctor's office she drives to",
            ReasonCode.PROHIBITED_PURPOSE,
        ),
        # private parties: loss prevention, private guards, a licensed PI
        (
            "Target asset protection investigator asked for this car's hits",
            ReasonCode.PRIVATE_ENTITY,
        ),
        ("a licensed PI asked us to run it for his client", ReasonCode.PRIVATE_ENTITY),
        ("private security from the business park asked for reads", ReasonCode.PRIVATE_ENTITY),
        # another state helped out
        ("just helping out Oregon with their case, run it", ReasonCode.OUT_OF_STATE_AGENCY),
        # the same words, when the search serves the agency or the act, still refuse
        ("immigration wants her found, she has no papers, run it", ReasonCode.PROHIBITED_PURPOSE),
        ("CBP agent asked for the reads on this Tacoma", ReasonCode.PROHIBITED_PURPOSE),
        (
            "per ICE, where does the naturalized guy's brother park overnight",
            ReasonCode.PROHIBITED_PURPOSE,
        ),
        ("DEA agent asked us to run the Tacoma for their case", ReasonCode.FEDERAL_AGENCY),
        ("Tacoma PD asked for hits on this plate", ReasonCode.OUT_OF_STATE_AGENCY),
    ],
)
def test_the_same_words_still_refuse(settings: Settings, text: str, reason: ReasonCode) -> None:
    assert decide(settings, text)[0] == reason, text
