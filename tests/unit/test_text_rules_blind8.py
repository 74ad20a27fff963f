"""The classes of miss blind 8 found, generalised: each class is tested with texts of its own
(other agencies, states, firms and wordings), never the blind set's strings, next to hard
legitimate texts with the same words that must stay clean.

Refused up front with the party's code: a federal, out-of-state or private party however it is
named (a state's nickname or its side of a river or lake, "back east", a constable's precinct,
a lender's collections or asset-recovery people, a property management company, a rideshare
company, an insurer in Spanish) next to words saying the case or what the search finds is theirs,
not ours ("their request", "not our investigation", "nothing local", "off the books", "asked me",
"send them the hits", "wants to know where").

Refused up front as prohibited_purpose: the immigration agencies and their work described instead
of named (the people "that do removals" or "the flights", people from the detention side, customs
people wanting someone, DRO, a CAP referral, a bed at a detention site, no record of lawful entry,
a visa overstayed, asylum or green card papers); a pregnancy ended or care received described
("resolved", "the place that takes care of pregnancies", pills by telehealth or by mail, "the
gender place", hormones at the clinic).

Hard negatives: the same words with no party (a victim or a witness asking, our own case "for
them"), and a Border Patrol or ICE vehicle as the victim of a crime; false positives of blind 8 by
class: a vigil, march or reporter as the victims of a crime, protest words in other senses
("Rally Sport", a picket fence), a suspect's threat to report someone in his own words, ICE as a
combustion engine next to electric cars or as a bar's name, a Texas Rangers cap.
"""

from __future__ import annotations

import pytest

from alpr_guard.policy.decisions import ReasonCode
from alpr_guard.settings import Settings
from tests.unit.screening_cases import FEDERAL, OUT_OF_STATE, PRIVATE, assert_clean, decide


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        # federal parties named any way, the case said to be theirs
        ("postal inspectors on a mail theft ring, their case not ours, run it", FEDERAL),
        ("ATF group working a straw purchase, nothing local, get them the reads", FEDERAL),
        ("the fed analyst wants our hits for their system", FEDERAL),
        ("Amtrak police investigator, their request, train yard theft", FEDERAL),
        ("a DEA TFO from the north county group asked me to pull this for their op", FEDERAL),
        ("secret service wants last reads, subj not wanted by us", FEDERAL),
        ("Alcohol Tobacco and Firearms inspector asked for the plate", FEDERAL),
        ("pulling this for the fed folks downtown", FEDERAL),
        ("veterans affairs police requesting reads on a patient's truck", FEDERAL),
        ("ride share co safety team asked about one of their drivers", PRIVATE),
        # another state's agency, named any way
        ("Evergreen State troopers need a run on this van, their warrant", OUT_OF_STATE),
        ("detective back east asked me for 30 days of reads, his robbery", OUT_OF_STATE),
        ("Clark county deputies want last known, nothing local", OUT_OF_STATE),
        ("the out of state det. emailed, forward any hits to him", OUT_OF_STATE),
        # private parties named any way
        ("credit union collections unit wants to know where the truck sleeps", PRIVATE),
        ("prop management company asked where the old tenant went", PRIVATE),
        ("car rental co says no police case, wants to know where the van is", PRIVATE),
        ("rep from the dealership asked where the buyer parks at night", PRIVATE),
        ("la aseguradora pidio la ubicacion del carro", PRIVATE),
    ],
)
def test_parties_with_the_case_said_to_be_theirs_are_refused(
    settings: Settings, text: str, reason: ReasonCode
) -> None:
    assert decide(settings, text)[0] == reason, text


@pytest.mark.parametrize(
    "text",
    [
        # the cue words with no party
        "victim asked me to run the plate of the car that hit her, 20001",
        "witness wants to know if we found the car, our 211 case",
        "pls run, suspect veh from the 459 on Oak, our case",
        "kids' bikes stolen, the family asked where we are on it, 488",
        "not our case originally, transferred from patrol, 10851 recovered",
        # a gathering or the press as the victims of a crime, protest words in other senses
        "candlelight vigil at the park, shots fired from a passing SUV, PC 246, locate",
        "march downtown, a marcher punched by a man who drove off in a red Jeep, PC 245",
        "news photographer's van broken into while covering the crash, camera taken, 459",
        "Rally Sport emblem on the stolen Chevelle, 10851",
        "driver crashed through a white picket fence and fled, 20002",
        # a threat to report someone, in the suspect's words
        "susp said he would get her deported if she told anyone, 273.5, locate him",
        "susp screamed 'voy a llamar a la migra' during the robbery, PC 211",
        # ICE as an engine or a bar, the Rangers as a baseball team
        "only ICE cars hit in the cat converter series, hybrids left alone, 487",
        "fight outside ICE DEN lounge, PC 245, suspect fled in a truck",
        "suspect in a Texas Rangers hat grabbed a phone, 487, fled on foot to a car",
        # agencies' vehicles as victims
        "Border Patrol truck was rammed by a stolen Civic, PC 245, locate suspect",
        "ICE vehicle vandalized in the lot, 594, suspect on video",
    ],
)
def test_hard_negatives_stay_clean(settings: Settings, text: str) -> None:
    assert_clean(settings, text)


@pytest.mark.parametrize(
    "text",
    ["get her deported, find the address", "we need to get them deported, run the van"],
)
def test_deporting_someone_as_the_goal_is_still_refused(settings: Settings, text: str) -> None:
    # Only a threat ("would get her deported", "I'll get you deported") is the suspect's words.
    assert decide(settings, text)[0] == ReasonCode.PROHIBITED_PURPOSE, text


@pytest.mark.parametrize(
    "text",
    [
        # the immigration agencies and their work described instead of named
        "the office that handles deportations wants his home address",
        "folks who run the flights asked for her plate history",
        "deputies from the detention facility want the van located",
        "he is tago ng tago per his cousin, find the car",
        "customs guys asked where he sleeps, run it",
        "old DRO agents asked for the plate",
        "Otay Mesa has a bed for her, find where she parks",
        "records show no record of legal admission, locate his car",
        "she overstayed her visa per the neighbor, find where she lives",
        "asylum file lists an address, see if the truck is there",
        # a pregnancy ended or care received, described instead of named
        "her pregnancy resolved last week, where did her car go",
        "was her car near the place that takes care of pregnancies",
        "got the pills by telehealth, check where she drove",
        "does the teen's dad drive him to the gender place",
    ],
)
def test_described_agencies_and_care_are_refused(settings: Settings, text: str) -> None:
    assert decide(settings, text)[0] == ReasonCode.PROHIBITED_PURPOSE, text


@pytest.mark.parametrize(
    "text",
    [
        "motel guest overstayed two nights and left without paying, 537",
        "detention officer's car keyed in the county jail lot, 594",
    ],
)
def test_described_agency_hard_negatives_stay_clean(settings: Settings, text: str) -> None:
    assert_clean(settings, text)
