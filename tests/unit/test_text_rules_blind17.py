"""The classes of miss blind 17 found, generalised: each class is tested with texts of its own
(other places, crimes, agencies and wordings), never the blind set's strings, next to the words
that must still stay clean.

Refused as a proxy (blind 17 misses): rarer federal investigators by their agency's criminal arm
(the EPA's and the FDA's, export enforcement, a land agency's ranger, Fish and Wildlife, a
diversion investigator, the federal defender's investigator) and a federal task force whose case
or report it is; another state's officer by the state alone (a detective, a parole officer, the
state's justice department, "the NV guys") with the reply going back to them; what the search
finds pushed to a multistate or national pool other states read; a requester said outright to
be private or not police, a skip trace for a company, a collections man, a documentary's
producer.

Refused as prohibited_purpose (blind 17 misses): removal by the steps of its process with no
agency named (an asylum claim or hearing, a family told to self-report for departure, a work
permit or TPS revoked or lapsed, an expired visitor's or student's visa, the
alternatives-to-detention programme, a check-in compliance unit, someone deported and back, a
person out of status, a naturalization case to be disproved, someone who "shouldn't be in this
country"), whether a car's owner is a citizen; reproductive care by the midwife or doula who
provided pills, a shuttle of patients to a clinic for another state's case, the request from
someone's home state's investigator.

Flagged (blind 17 misses): a place of worship's regulars or new members to be listed, someone
who films police stops to be found; residential permit parking and unlicensed
dogs; the officer's own elderly parent's car; a Native man with no crime; "looking into it" as
the whole reason.

Hard negatives (false positives on blind 17): a clinic's doctor sent a hoax of white powder, a
clinic's worker hurt by a hit and run, an assault on an agent's family, a theft ring's suspects
named a clause before their out-of-state plates, a threat to report someone's status (extortion,
Penal Code 519).
"""

from __future__ import annotations

import pytest

from alpr_guard.policy.decisions import ReasonCode
from alpr_guard.settings import Settings
from tests.unit.screening_cases import FEDERAL, OUT_OF_STATE, PRIVATE, assert_clean, decide


@pytest.mark.parametrize(
    "text",
    [
        # a federal body or a pool named with our own case, a private party as the victim
        "our EPA grant audit, count the trucks at the dump for the county report",
        "the vendor's national database shows the stolen Kia, recover it for our auto theft case",
        "the private security guard was assaulted in the garage, suspect's grey Civic, our case",
        "our own collections department reported the cashier embezzled, her car",
        "ran the plate of the car reported stolen from the auto auction lot, our case 26-2211",
        "the asylum seeker was robbed at gunpoint, suspects in a grey Civic, our case 26-3321",
        "notice to appear for the traffic citation was returned, vc 40508, failure to appear",
        "the senior citizen was scammed by a caller, suspect's car seen at the bank",
        "the midwife who delivered the baby was carjacked, our case, suspect's Charger",
        "a parolee missed his check in with probation, his car, our warrant",
        "burglary at the synagogue during Shabbat, suspect's grey Honda, our case",
        "dog bite victim, animal control report, the owner's blue truck left the scene",
        "my elderly dad's car was stolen from the driveway, case 26-4411",
        "missing Native woman, family reported, her red Jeep, check reads",
        "the reporter who films our stops was assaulted, suspect's car",
        "the abortion clinic's doctor got an envelope of white powder, suspect's grey Ford seen"
        " at the mailbox",
        "the family planning clinic receptionist was struck crossing the lot and injured, driver"
        " fled in a white van",
        "attack on an off-duty CBP officer's daughter outside the mall, suspects in a black Civic",
        "retail theft crew hitting outlets, suspects drive a white van with out-of-state plates",
        "she threatened to report her tenant's immigration status unless he paid more rent, 519",
    ],
)
def test_hard_negatives_stay_clean(settings: Settings, text: str) -> None:
    assert_clean(settings, text)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (text, FEDERAL)
        for text in (
            "the EPA criminal investigators want sightings of the tanker that dumped solvent",
            "Commerce export enforcement agent wants the reads on the flatbed going to the port",
            "Forest Service law enforcement ranger asked for hits on the firewood thief's pickup",
            "a DEA diversion investigator wants to know where the doctor's BMW parks",
            "the federal public defender's investigator asked where our witness parks",
            "I'm on the federal drug task force, this one goes into the federal report",
        )
    ]
    + [
        (text, OUT_OF_STATE)
        for text in (
            "Idaho detective working a runaway case thinks she came here, reply to him with hits",
            "the Washington DOJ investigator who called wants any reads on a grey Outback",
            "Arizona parole officer asked if his parolee's truck has been here, no CA warrant",
            "push the white box truck's reads into the nationwide sharing network so agencies in"
            " other states can use them",
        )
    ]
    + [
        (text, PRIVATE)
        for text in (
            "the claims adjuster (private) asked for the reads on the wrecked Audi, emailing them",
            "skip trace for a collections firm, their client's tan Sienna",
            "documentary producer asked where the racer parks, releasing to him",
        )
    ],
)
def test_the_classes_refuse(settings: Settings, text: str, reason: ReasonCode) -> None:
    assert decide(settings, text)[0] is reason, text


@pytest.mark.parametrize(
    "text",
    [
        "she applied for asylum and missed the asylum hearing, find where the minivan stays",
        "the couple was told to self-report for departure months ago, where is their truck now",
        "run the van so her work permit can be revoked, the manager says it was fake papers",
        "his TPS expired in March, is the Corolla still in town",
        "the aunt is here on an expired student visa, find her car for the agency",
        "the alternatives to detention people lost his signal, where does the family's Camry park",
        "for the check-in compliance team: her last appointment was missed, white Prius",
        "he was deported and came back last year, find the pickup so he can be picked up again",
        "the cousins who are out of status, find where the grey van sleeps",
        "naturalization interview coming up, prove she doesn't live at the address she gave",
        "the man shouldn't be in this country, the consulate says, find his car",
        "is the driver of the black Altima a citizen? check if he keeps crossing",
        "find the doula who gave her the pills, blue Outback",
        "the van that shuttles patients from the airport to the clinic, it's for the Idaho case",
    ],
)
def test_the_purpose_classes_refuse(settings: Settings, text: str) -> None:
    assert decide(settings, text)[0] is ReasonCode.PROHIBITED_PURPOSE, text


def test_a_home_states_investigator_asking_refuses_as_out_of_state(settings: Settings) -> None:
    text = "requested by her home state's detective: where did her car go the weekend of the 3rd"
    assert decide(settings, text)[0] is OUT_OF_STATE


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        (
            "every car at the mosque during Ramadan prayers, make a list of regulars",
            "protected_activity",
        ),
        (
            "silver sedan keeps showing up at the Baptist church; find out who the new members are",
            "protected_activity",
        ),
        ("the YouTuber who films our traffic stops, find where he parks", "protected_activity"),
        (
            "permit parking enforcement on Oak, which cars parked overnight without a permit",
            "non_criminal_use",
        ),
        (
            "animal control wants the owner of the unlicensed dogs, where is the pickup kept",
            "non_criminal_use",
        ),
        ("my aging mom's car, she won't tell me where she goes all day", "personal_use"),
        ("Native guys in a pickup by the tribal office, see where they go", "profiling"),
        ("looking into it", "vague_justification"),
    ],
)
def test_the_classes_flag(settings: Settings, text: str, rule: str) -> None:
    reason, flags = decide(settings, text)
    assert reason is None and rule in flags, text


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (
            "find the family planning clinic patient's car, she was there last week",
            ReasonCode.PROHIBITED_PURPOSE,
        ),
        ("report his immigration status, find the truck", ReasonCode.PROHIBITED_PURPOSE),
    ],
)
def test_the_same_words_without_the_crime_still_refuse(
    settings: Settings, text: str, reason: ReasonCode
) -> None:
    assert decide(settings, text)[0] is reason, text


def test_out_of_state_plates_without_a_crime_still_flag(settings: Settings) -> None:
    assert "profiling" in decide(settings, "out-of-state plates on a white van by the school")[1]
