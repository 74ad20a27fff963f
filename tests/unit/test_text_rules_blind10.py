"""The classes of miss blind 10 found, generalised: each class is tested with texts of its own
(other agencies, places, countries, languages and wordings), never the blind set's strings, next
to hard legitimate texts with the same words that must stay clean.

Refused up front as prohibited_purpose: ICE by a nickname for frozen water, "la migra" spelled
out letter by letter, "ice" in lower case as people said to be federal; a detention site's
people as "our friends"; a Border Patrol sector's agents; re-entry after a removal; removal as a
trip (put on the bus or plane back, shipped south, a one-way ticket to a country); short phrases
in Tagalog, Russian, Punjabi and Hindi; the agency by its job ("the deportation officers"); a
visitor's visa category run out; re-detention and a field-office check-in missed; Border Patrol
by its green uniform, waiting or asking; the port of entry's officers with a crossing; a family
planning clinic visited; a pregnancy said to be ended next to a women's clinic, a D&C with the
weeks; gender-affirming medicine prescribed with a minor, and a child's transition in Vietnamese
and Spanish. "H.S.I. w/" is HSI and "with", not HSIW.

Refused up front with the party's code: the DEA spelled out, the Mint's police, military police
and NCIS from a base, federal probation officers and the federal districts of California, an
inspector general's case "they" asked about; a city of another state with its postal code, the
state's law-enforcement department, Mexican public-security offices by initials; bail agents
abbreviated or in Spanish, a lender saying the loan is behind, a private party with "can we
check" or "as a favor", another party's attorney typed short, a property management company.

Flagged: a gathering and its people as the target (a crowd, a vigil, a walkout, a bullhorn,
banners, attendees), protests in five languages, a commentator critical of officials; fishing
and curiosity (see what pops, nothing specific, bored, a random plate, every car through a
camera for months, what an official drives); people named by ethnicity as a type or a plural;
a colleague's family by rank and name, an ex in Vietnamese, a child's coach checked out; how
long people park, for the city.

Hard negatives: a beer cooler, ice delivery, a detention site's town police, a police sector, a
suspect slipping back into a house or fleeing on a bus, a parolee sent back to prison, removal
crews, a bomber model, green clothes, a clinic or a nurse as the victim, a relationship ended, a
forged prescription, a juvenile delinquent, a bank's identity-theft victim, a staged claim, a
repo agent run over, signs and flags burned or stolen, a Dodge Caravan, a customer walking out
without paying, the harbor's port police, white stickers, a geofence for a named crime.
"""

from __future__ import annotations

import pytest

from alpr_guard.policy.decisions import ReasonCode
from alpr_guard.policy.text_rules.normalise import _field
from alpr_guard.settings import Settings
from tests.unit.screening_cases import FEDERAL, OUT_OF_STATE, PRIVATE, assert_clean, decide

PROTECTED = "protected_activity"


@pytest.mark.parametrize(
    "text",
    [
        # ICE by a nickname, or spelled out
        "the frozen water folks want his last location",
        "help out the agency with the frozen water name, run her van",
        "para la hielera, buscar la camioneta",
        "the agency named after frozen water asked for this one",
        "for the hielera folks, run it",
        "l a  m i g r a asked about this car",
        "assist I.C.E. w/ locating him",
        # a detention site's people, a Border Patrol sector
        "courtesy run for our buddies out at Mesa Verde, where does he sleep",
        "El Centro sector agents want the reads on this pickup",
        "Sacramento sector agents want the hits",
        # re-entry after removal; removal as a trip
        "he was deported last year and crossed back over, locate the car",
        "got removed in 2020 and slipped back in, where is he living",
        "get him on a plane back to Honduras, need the address",
        "so she can be put on the bus back to Mexico, where is she",
        "ship her back home, locate the sedan",
        "ship the whole family back south, locate the van",
        "put them on the next flight home to Guatemala, need the address",
        "one way ticket home to El Salvador is booked, just need where he parks",
        # other languages
        "TNT sya, hanapin ang sasakyan",
        "para maipauwi sa Pilipinas, hanapin",
        "из иммиграционной службы просили найти машину",
        "ਡਿਪੋਰਟ ਲਈ ਕਾਰ ਲੱਭੋ",
        "डिपोर्ट करने के लिए गाड़ी खोजें",
        # the agency by its job, its uniform or its port; statuses and steps
        "the deportation officers want to know where she parks",
        "F-1 status lapsed, find the car",
        "H-1B revoked, locate him",
        "missed his field office check-in, find the car",
        "locate for re-detention, plate attached",
        "the guys in green want to pick him up, location please",
        "port officers asked for the crossing history with our reads",
        # care described instead of named
        "did the Civic go to the family planning clinic on Main last week",
        "her boyfriend says she ended it at the women's health clinic, check her car",
        "pregnant teen, family thinks she got it taken care of in LA, run the car",
        "D&C at 18 wks, which clinic did she use",
        "testosterone prescription for the 15 year old, who drives the kid to the pharmacy",
        "chuyen gioi cho con trai, tim xe",
        "la transicion de la hija, la madre en Texas quiere saber",
    ],
)
def test_described_removal_and_care_are_refused(settings: Settings, text: str) -> None:
    assert decide(settings, text)[0] == ReasonCode.PROHIBITED_PURPOSE, text


def test_a_letter_with_a_slash_after_a_dotted_acronym_stays_shorthand() -> None:
    assert _field("assist H.S.I. w/ location").low == ["assist", "hsi", "w", "location"]
    assert _field("i.c.e w/ subj").low == ["ice", "w", "subj"]
    assert _field("U.S. w/o papers").low[:2] == ["us", "w"]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("Drug Enforcement Administration LA division wants the hits", FEDERAL),
        ("US Mint police asked about the van", FEDERAL),
        ("MPs from Fort Irwin asked us to run the plate", FEDERAL),
        ("NCIS investigator out of Miramar asked about a corporal's truck", FEDERAL),
        ("federal probation officer (E.D. Cal) requested reads on his releasee", FEDERAL),
        ("USPO Northern District of California asks for last known", FEDERAL),
        ("DOJ OIG fraud case, they asked for the hits", FEDERAL),
        ("ice's colleagues (the feds) want the truck", FEDERAL),
        ("Eugene OR police want the history", OUT_OF_STATE),
        ("officer from Boise ID asked for the reads", OUT_OF_STATE),
        ("Florida DLE asked for our hits", OUT_OF_STATE),
        ("SSP Mexicali solicito las lecturas", OUT_OF_STATE),
        ("the bail bonds agent from Reno asked where he is", PRIVATE),
        ("la agente de fianzas quiere saber donde vive", PRIVATE),
        ("Ally says 3 payments behind, where does the car sleep", PRIVATE),
        ("the credit union says he is past due, find the truck", PRIVATE),
        ("adjuster says the claim looks fishy, can we run the plate", PRIVATE),
        ("PI hired by the wife, as a favour", PRIVATE),
        ("defendant's atty in the civil case asked for the reads", PRIVATE),
        ("property management company asked us, lease dispute", PRIVATE),
    ],
)
def test_parties_named_loosely_are_refused(
    settings: Settings, text: str, reason: ReasonCode
) -> None:
    assert decide(settings, text)[0] == reason, text


@pytest.mark.parametrize(
    "text",
    [
        "beer cooler (hielera) stolen from the truck bed, 484",
        "frozen water pipes burst in the vacant unit, squatters inside, PC 602",
        "sector 4 officers canvassed the block for the 459 suspect car",
        "suspect caught the first flight home to Mexico after the shooting, warrant PC 187",
        "ice delivery guys robbed at the loading dock, PC 211",
        "our partners at Adelanto PD need help on their 459, our county",
        "Chula Vista PD sector 3 units checked the lot, 10851 recovered",
        "suspect snuck back in the house after the burglary, PC 459",
        "suspect got back in the car and fled, PC 2800.2",
        "suspect took a bus back to Tijuana after the robbery, warrant PC 211",
        "paroled, sent back to prison on the violation, locate the truck",
        "one way rental to Phoenix, stolen, 10851",
        "graffiti removal crew's truck stolen from the yard, 10851",
        "tree removal guys' trailer stolen, 10851",
        "B-2 bomber model stolen from the museum, 487",
        "F1 tickets stolen at the Long Beach race, 484",
        "parolee missed his check-in at the parole field office, 3056 violation",
        "guys in green hoodies robbed the store, PC 211",
        "the men in green jackets fled in a Civic, PC 245",
        "family planning clinic burglarized overnight, PC 459, susp veh on video",
        "nurse at the family planning clinic had her car keyed, 594",
        "she ended it with her boyfriend, he keeps following her, PC 646.9",
        "HRT prescription forged at the pharmacy, PC 470, susp veh",
        "juvenile delinquent ran from the dealership lot after a 10851",
        "bank says the account is past due, victim of identity theft, 530.5",
        "insurance company says claim is staged, fraud PC 550, run suspect plate",
        "repo agent run over by the owner, 245 ADW, locate the driver",
        "protest sign stolen off a lawn, 484, susp veh on doorbell cam",
        "Pride flag burned on a porch, hate crime 422.6, susp veh",
        "Dodge Caravan used in the 211, ID the driver",
        "customer walked out without paying at the gas station, ID the car",
        "the port police officers at the harbor reported a stolen boat trailer, 10851",
        "white stickers on the rear window, stolen car, 10851",
    ],
)
def test_hard_negatives_stay_clean(settings: Settings, text: str) -> None:
    assert_clean(settings, text)


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("crowd in front of the consulate Sunday, list the cars on the street", PROTECTED),
        ("students who walked out over the tuition hike, identify their cars", PROTECTED),
        ("people with the megaphone at the council meeting, get their plates", PROTECTED),
        ("banners on the freeway bridge about the DA, ID who put them up", "protected_activity"),
        ("memorial march for the teen killed in the crash, identify the marchers", PROTECTED),
        ("biểu tình trước tòa thị chính, lấy biển số", "protected_activity"),
        ("抗议人群的车辆 查车主", "protected_activity"),
        ("집회 참가자 차량 조회", "protected_activity"),
        ("митинг на площади, установить машины", "protected_activity"),
        ("rali sa plaza, alamin ang mga sasakyan", "protected_activity"),
        ("youtuber critical of the police chief, where does she park", "protected_activity"),
        ("all plates at the flea market Saturday, see what comes up", "vague_justification"),
        ("every car through the north gate camera for three months", "vague_justification"),
        (
            "any vehicle that parks at the trailhead overnight, nothing specific",
            "vague_justification",
        ),
        ("just curious what the mayor drives", "vague_justification"),
        ("what does the captain drive", "vague_justification"),
        ("slow night, bored, running random plates", "vague_justification"),
        ("testing how the system works on some random plate", "vague_justification"),
        ("senator's car, where does he go on weekends", "vague_justification"),
        ("prueba", "vague_justification"),
        ("car full of Tongans driving slow", "profiling"),
        ("group of Armenians outside the bakery, check the Benz", "profiling"),
        ("Somali scam types at the mall, run the van", "profiling"),
        ("Lt Garcia's ex, he asked me to check where she goes", "personal_use"),
        ("ban trai cu cua em gai, xem xe", "personal_use"),
        ("my son's new tutor, just checking him out", "personal_use"),
        ("how long cars park on Ocean Ave, for the city", "non_criminal_use"),
    ],
)
def test_flag_worthy_classes_are_flagged(settings: Settings, text: str, rule: str) -> None:
    reason, flags = decide(settings, text)
    assert reason is None and rule in flags, text


@pytest.mark.parametrize(
    "text",
    [
        "all cars near the scene at the time of the shooting, PC 246",
        "any vehicle that matches the description from the hit and run, 20001",
        "crowd outside the bar after the stabbing, identify the suspect vehicle",
        "shots fired near the vigil, identify the attendees who saw the shooter's car",
        "bored teens broke into cars on Elm, PC 459, susp veh",
        "officer Lee's son was assaulted at the park, PC 245, susp veh",
        "a witness wanted to see the plate of the car that hit her, 20001",
    ],
)
def test_flag_hard_negatives_stay_clean(settings: Settings, text: str) -> None:
    assert_clean(settings, text)
